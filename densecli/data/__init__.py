"""Datasets, augmentation and loaders.

`build_datasets(cfg)` imports torch and albumentations; `count_train_samples(cfg)` does not,
so commands that only plan a run (`densecli schedules`) stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from omegaconf import DictConfig

if TYPE_CHECKING:
    from torch.utils.data import Dataset


def build_datasets(cfg: DictConfig) -> tuple[Dataset, Dataset]:
    """The training and validation datasets of the run `cfg` (the whole composed config)."""
    from densecli.data.build import build_datasets as _build

    return _build(cfg)


def count_train_samples(cfg: DictConfig) -> int:
    """How many samples the training set of `cfg` holds, without loading an image."""
    if cfg.data.name == "shapes":
        return int(cfg.data.num_train)
    from densecli.data.folder_index import index_folder

    train_pairs, _ = index_folder(cfg)
    return len(train_pairs)


__all__ = ["build_datasets", "count_train_samples"]
