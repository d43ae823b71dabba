"""Builds the smp model of a run and checks, up front, the image sizes it can take."""

from __future__ import annotations

import logging

import segmentation_models_pytorch as smp
import torch
from omegaconf import DictConfig

from densecli.errors import ConfigError
from densecli.ranges import require_multiple

log = logging.getLogger(__name__)

ARCHITECTURES = {
    "unet": smp.Unet,
    "fpn": smp.FPN,
    "linknet": smp.Linknet,
    "deeplabv3plus": smp.DeepLabV3Plus,
    "unetplusplus": smp.UnetPlusPlus,
}
# the keyword each architecture uses for the decoder width
DECODER_KEYWORD = {
    "unet": "decoder_channels",
    "unetplusplus": "decoder_channels",
    "fpn": "decoder_pyramid_channels",
    "deeplabv3plus": "decoder_channels",
}


def num_outputs(num_classes: int) -> int:
    """Output channels: one logit for binary segmentation, one per class otherwise."""
    return 1 if num_classes == 2 else num_classes


def build_model(cfg: DictConfig) -> torch.nn.Module:
    """The smp model of `cfg.model` with as many outputs as `cfg.data` has classes."""
    m = cfg.model
    kwargs = {
        "encoder_name": m.encoder_name,
        "encoder_weights": m.encoder_weights,
        "in_channels": m.in_channels,
        "classes": num_outputs(cfg.data.num_classes),
    }
    if m.decoder_channels is not None and m.arch in DECODER_KEYWORD:
        width = m.decoder_channels
        kwargs[DECODER_KEYWORD[m.arch]] = list(width) if not isinstance(width, int) else width
    try:
        model = ARCHITECTURES[m.arch](**kwargs)
    except KeyError as err:  # smp's registry raises KeyError for an unknown encoder
        encoders = ", ".join(sorted(smp.encoders.get_encoder_names())[:12])
        raise ConfigError(
            "model.encoder_name",
            m.encoder_name,
            f"not an smp encoder ({err})",
            f"try resnet18, resnet34, efficientnet-b0 (some of: {encoders}, ...)",
        ) from None
    except (ValueError, TypeError) as err:
        raise ConfigError("model", m.arch, str(err).splitlines()[0], "check model.*") from None
    if m.encoder_weights:
        log.info("encoder %s starts from %s weights", m.encoder_name, m.encoder_weights)
    return model


def size_divisor(model: torch.nn.Module) -> int:
    """The factor every input side must be a multiple of."""
    return int(getattr(model.encoder, "output_stride", 32))


def check_image_size(model: torch.nn.Module, size: int, key: str = "data.image_size") -> None:
    """Refuse a side the encoder cannot take, naming the nearest one it can."""
    require_multiple(key, size, size_divisor(model), "this encoder")
