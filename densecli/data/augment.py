"""Training augmentation from `cfg.augmentation.train`, and the one place images are normalized.

Each list entry names an albumentations class (`name`) and its keyword arguments. Spatial
(dual) transforms move image and mask together and resample masks with nearest neighbour,
so a mask never gains a label value; photometric (image-only) transforms leave masks alone.
Every recipe ends with a deterministic pad + center crop to `data.image_size`, a no-op when
the recipe already ends at that size.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from typing import Any

import albumentations as A
import cv2
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from densecli.data.masks import IGNORE
from densecli.errors import ConfigError


@functools.cache
def transform_names() -> tuple[str, ...]:
    """Every albumentations class a recipe entry can name."""
    return tuple(
        sorted(
            name
            for name, obj in vars(A).items()
            if inspect.isclass(obj)
            and issubclass(obj, (A.BasicTransform, A.BaseCompose))
            and not name.startswith("Base")
            and name not in ("BasicTransform", "DualTransform", "ImageOnlyTransform")
        )
    )


def build_train_transform(cfg: DictConfig, image_size: int | None = None) -> A.Compose:
    """The recipe of `cfg.augmentation`, finished at `image_size` (default data.image_size)."""
    size = image_size or cfg.data.image_size
    entries = OmegaConf.to_container(cfg.augmentation.train, resolve=True)
    transforms = build_transforms(entries, "augmentation.train")
    # padding here is not data, so it is unlabeled: losses and metrics skip it
    transforms += [
        A.PadIfNeeded(size, size, border_mode=cv2.BORDER_CONSTANT, fill=0, fill_mask=IGNORE),
        A.CenterCrop(size, size),
    ]
    return A.Compose(transforms, mask_interpolation=cv2.INTER_NEAREST)


def build_transforms(entries: Any, key: str) -> list:
    """Transforms of a recipe list; OneOf/SomeOf/Sequential take a nested `transforms` list."""
    if not isinstance(entries, list):
        raise ConfigError(
            key,
            entries,
            "expected a list of {name: ..., <argument>: ...}",
            f"write {key} as a YAML list, or [] for none",
        )
    return [_build_one(entry, f"{key}.{i}") for i, entry in enumerate(entries)]


def _build_one(entry: Any, key: str) -> Any:
    if not isinstance(entry, dict) or "name" not in entry:
        raise ConfigError(
            key,
            entry,
            "expected a mapping with a `name` key",
            "write it as {name: HorizontalFlip, p: 0.5}",
        )
    kwargs = dict(entry)
    name = kwargs.pop("name")
    cls = getattr(A, str(name), None) if str(name) in transform_names() else None
    if cls is None:
        close = difflib.get_close_matches(str(name), transform_names(), n=1, cutoff=0.5)
        fix = f"did you mean {close[0]}?" if close else "use an albumentations transform class"
        raise ConfigError(f"{key}.name", name, "not an albumentations transform", fix)
    if issubclass(cls, A.BaseCompose):
        kwargs["transforms"] = build_transforms(kwargs.get("transforms"), f"{key}.transforms")
    _check_arguments(cls, kwargs, key)
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as err:
        raise _argument_error(err, key, name) from None


def _check_arguments(cls: type, kwargs: dict, key: str) -> None:
    # albumentations only warns about unknown arguments; a typo would silently do nothing
    params = inspect.signature(cls.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    known = [p for p in params if p not in ("self", "strict")]
    for arg in kwargs:
        if arg not in known:
            close = difflib.get_close_matches(arg, known, n=1)
            fix = f"did you mean {key}.{close[0]}?" if close else f"arguments: {', '.join(known)}"
            raise ConfigError(
                f"{key}.{arg}", kwargs[arg], f"{cls.__name__} takes no such argument", fix
            )


def _argument_error(err: Exception, key: str, name: str) -> ConfigError:
    cause = err.__cause__
    if cause is not None and hasattr(cause, "errors"):  # pydantic's ValidationError
        first = cause.errors()[0]
        arg = next((str(part) for part in first["loc"] if isinstance(part, str)), "")
        where = f"{key}.{arg}" if arg else key
        return ConfigError(
            where, first.get("input"), first["msg"].rstrip("."), f"fix the argument of {name}"
        )
    message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return ConfigError(key, name, message.rstrip("."), f"check the arguments of {name}")


def channel_stats(values: Any, channels: int) -> np.ndarray:
    """Per-channel mean or std from 1, 3 or `channels` values: one value is broadcast, and
    three values for a model with another channel count are averaged (ImageNet's RGB
    statistics for a gray model)."""
    values = np.asarray(list(values), dtype=np.float32)
    if values.size == channels:
        return values
    return np.full(channels, values.mean(), dtype=np.float32)


class Normalizer:
    """uint8 (H, W, C) images to normalized float tensors (C, H, W), and back for display."""

    def __init__(self, mean: Any, std: Any, channels: int) -> None:
        self.mean = channel_stats(mean, channels)
        self.std = channel_stats(std, channels)
        # one multiply-add per pixel: (x / 255 - mean) / std
        self._scale = 1.0 / (255.0 * self.std)
        self._shift = -self.mean / self.std

    @classmethod
    def from_config(cls, cfg: DictConfig) -> Normalizer:
        return cls(cfg.data.mean, cfg.data.std, cfg.model.in_channels)

    def __call__(self, image: np.ndarray) -> torch.Tensor:
        scaled = image.astype(np.float32) * self._scale + self._shift  # (H, W, C)
        return torch.from_numpy(np.ascontiguousarray(scaled.transpose(2, 0, 1)))  # (C, H, W)

    def denormalize(self, image: torch.Tensor) -> np.ndarray:
        """A normalized (C, H, W) tensor as a (H, W, C) float array in 0..1."""
        array = image.detach().cpu().numpy().transpose(1, 2, 0)  # (H, W, C)
        return np.clip(array * self.std + self.mean, 0.0, 1.0)
