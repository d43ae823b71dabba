"""The config schema: one structured config per group option.

`densecli.validate` merges each composed group node onto the dataclass chosen by its
`name` (or `arch`), so a misspelled key or a wrong type fails before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ModelConfig:
    arch: str = "unet"
    encoder_name: str = "resnet18"
    encoder_weights: str | None = None
    in_channels: int = 3
    decoder_channels: Any = None
    init_from: str | None = None


@dataclass
class DataCommon:
    name: str = "shapes"
    image_size: int = 96
    num_classes: int = 2
    ignore_index: int = 255
    batch_size: int = 8
    min_samples_per_epoch: int = 0
    num_workers: int = 0
    mean: list[float] = field(default_factory=lambda: [0.485, 0.456, 0.406])
    std: list[float] = field(default_factory=lambda: [0.229, 0.224, 0.225])


@dataclass
class ShapesDataConfig(DataCommon):
    num_train: int = 512
    num_val: int = 128


@dataclass
class FolderDataConfig(DataCommon):
    root: str = "???"
    image_dir: str = "images"
    mask_dir: str = "masks"
    val_root: str | None = None
    val_fraction: float = 0.2
    difficulty_csv: str | None = None


@dataclass
class AugmentationConfig:
    name: str = "basic"
    train: list[Any] = field(default_factory=list)


@dataclass
class AdamConfig:
    name: str = "adamw"
    lr: float = 3e-4
    weight_decay: float = 1e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    eps: float = 1e-8


@dataclass
class SGDConfig:
    name: str = "sgd"
    lr: float = 0.01
    weight_decay: float = 1e-4
    momentum: float = 0.9
    nesterov: bool = True


@dataclass
class ConstantScheduleConfig:
    name: str = "constant"
    warmup_fraction: float = 0.0
    warmup_epochs: float | None = None


@dataclass
class StepScheduleConfig(ConstantScheduleConfig):
    step_fraction: float = 0.4
    step_epochs: float | None = None
    gamma: float = 0.1


@dataclass
class CosineScheduleConfig(ConstantScheduleConfig):
    min_lr_ratio: float = 0.01


@dataclass
class OneCycleScheduleConfig(ConstantScheduleConfig):
    pct_start: float = 0.3
    min_lr_ratio: float = 0.01


@dataclass
class PolyScheduleConfig(ConstantScheduleConfig):
    power: float = 0.9
    min_lr_ratio: float = 0.0


@dataclass
class LossWeights:
    bce: float = 1.0
    dice: float = 1.0


@dataclass
class LossConfig:
    name: str = "bce_dice"
    weights: LossWeights = field(default_factory=LossWeights)


@dataclass
class SampleCurriculum:
    order: str = "easy_first"
    start_fraction: float = 0.3
    full_at_fraction: float = 0.5
    pacing: str = "linear"


@dataclass
class ResolutionStage:
    start_fraction: float = 0.0
    image_size: int = 64


@dataclass
class ResolutionCurriculum:
    stages: list[ResolutionStage] = field(default_factory=list)


@dataclass
class LossCurriculum:
    dice_start_fraction: float = 0.2
    dice_full_fraction: float = 0.5


@dataclass
class CurriculumConfig:
    sample: SampleCurriculum | None = None
    resolution: ResolutionCurriculum | None = None
    loss: LossCurriculum | None = None


@dataclass
class TrainerConfig:
    max_epochs: int = 8
    accumulate_grad_batches: int = 1
    amp: str = "auto"
    gradient_clip_val: float | None = 1.0
    max_nonfinite_steps: int = 5
    log_every_n_steps: int = 1
    val_every_n_epochs: int = 1
    num_val_images: int = 4
    deterministic: bool = False
    device: str = "auto"
    channels_last: Any = "auto"
    compile: bool = False
    progress_bar: bool = True
    monitor: str = "val/dice"


# group -> (key naming the implementation, {implementation: schema})
# input sides must be multiples of the encoder's output stride: 32, or 16 where the
# architecture dilates the last stage
SIZE_DIVISORS = {"deeplabv3plus": 16}
ARCHS = ("unet", "fpn", "linknet", "deeplabv3plus", "unetplusplus")
GROUP_SCHEMAS: dict[str, tuple[str, dict[str, type]]] = {
    "model": ("arch", dict.fromkeys(ARCHS, ModelConfig)),
    "data": ("name", {"shapes": ShapesDataConfig, "folder": FolderDataConfig}),
    "optimizer": ("name", {"adamw": AdamConfig, "adam": AdamConfig, "sgd": SGDConfig}),
    "scheduler": (
        "name",
        {
            "constant": ConstantScheduleConfig,
            "step": StepScheduleConfig,
            "cosine": CosineScheduleConfig,
            "one_cycle": OneCycleScheduleConfig,
            "poly": PolyScheduleConfig,
        },
    ),
}
FIXED_SCHEMAS: dict[str, type] = {
    "augmentation": AugmentationConfig,
    "loss": LossConfig,
    "curriculum": CurriculumConfig,
    "trainer": TrainerConfig,
}
AMP_MODES = ("auto", "fp16", "bf16", "off")
MONITORS = ("val/dice", "val/iou")
SAMPLE_ORDERS = ("easy_first", "hard_first", "random")
PACINGS = ("linear", "root", "step")
