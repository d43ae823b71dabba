"""Training and validation datasets of a run, and the collate function for uneven sizes.

An item is `(image, mask)`: image float32 (C, H, W), normalized; mask int64 (H, W) holding
0/1 (binary), class ids (multiclass) and `data.ignore_index` where a pixel is unlabeled or
padding. Both datasets expose `difficulty`, one score in [0, 1] per sample.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any, Protocol

import albumentations as A
import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch.utils.data import Dataset

from densecli.data.augment import Normalizer, build_train_transform
from densecli.data.masks import IGNORE

log = logging.getLogger(__name__)

# validation inputs are padded to a multiple of this, the largest stride of smp's encoders
VAL_SIZE_MULTIPLE = 32
Item = tuple[torch.Tensor, torch.Tensor]


class Source(Protocol):
    difficulty: np.ndarray

    def __len__(self) -> int: ...

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]: ...


def _mask_tensor(mask: np.ndarray, ignore_index: int) -> torch.Tensor:
    labels = torch.from_numpy(np.ascontiguousarray(mask)).long()  # (H, W)
    if ignore_index != IGNORE:
        labels[labels == IGNORE] = ignore_index
    return labels


class TrainDataset(Dataset):
    """Augmented training samples. `dataset[i]` draws a fresh augmentation; `dataset[(i,
    seed)]` gives the augmentation that `seed` picks, the same in any process, any time."""

    def __init__(
        self, source: Source, transform: A.Compose, normalizer: Normalizer, ignore_index: int
    ) -> None:
        self.source, self.transform = source, transform
        self.normalizer, self.ignore_index = normalizer, ignore_index

    @property
    def difficulty(self) -> np.ndarray:
        return self.source.difficulty

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, key: int | tuple[int, int]) -> Item:
        if isinstance(key, (tuple, list)):
            index, seed = int(key[0]), int(key[1])
        else:
            # torch's generator is seeded per worker by the DataLoader, numpy's is not
            index, seed = int(key), int(torch.randint(0, 2**62, ()).item())
        image, mask = self.source.load(index)
        # one generator shared by all transforms; Compose.set_random_seed would give each
        # transform its own copy of the same stream, so both flips would always agree
        seed &= 2**64 - 1
        self.transform.set_random_state(np.random.default_rng(seed), random.Random(seed))
        out = self.transform(image=image, mask=mask)
        return self.normalizer(out["image"]), _mask_tensor(out["mask"], self.ignore_index)


class ValDataset(Dataset):
    """Validation samples at their own size, padded at the bottom and right to a multiple
    of 32 with unlabeled pixels, so padding is never scored."""

    def __init__(self, source: Source, normalizer: Normalizer, ignore_index: int) -> None:
        self.source, self.normalizer, self.ignore_index = source, normalizer, ignore_index

    @property
    def difficulty(self) -> np.ndarray:
        return self.source.difficulty

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> Item:
        image, mask = self.source.load(int(index))
        height, width = mask.shape
        up = lambda side: -(-side // VAL_SIZE_MULTIPLE) * VAL_SIZE_MULTIPLE  # noqa: E731
        return pad_item(
            self.normalizer(image),
            _mask_tensor(mask, self.ignore_index),
            up(height),
            up(width),
            self.ignore_index,
        )


def pad_item(
    image: torch.Tensor, mask: torch.Tensor, height: int, width: int, ignore_index: int
) -> Item:
    """`image` (C, H, W) padded with 0 and `mask` (H, W) with `ignore_index` to (height,
    width), at the bottom and right so pixel coordinates stay put."""
    extra = (0, width - mask.shape[1], 0, height - mask.shape[0])
    if not any(extra):
        return image, mask
    return F.pad(image, extra, value=0.0), F.pad(mask, extra, value=ignore_index)


def pad_collate(batch: list[Item], ignore_index: int = IGNORE) -> Item:
    """Stack items of different sizes by padding each to the largest height and width."""
    height = max(mask.shape[0] for _, mask in batch)
    width = max(mask.shape[1] for _, mask in batch)
    padded = [pad_item(image, mask, height, width, ignore_index) for image, mask in batch]
    images = torch.stack([image for image, _ in padded])  # (B, C, H, W)
    masks = torch.stack([mask for _, mask in padded])  # (B, H, W)
    return images, masks


def build_sources(cfg: DictConfig) -> tuple[Any, Any]:
    """The raw (unaugmented) train and val samples of `cfg.data`."""
    data = cfg.data
    if data.name == "folder":
        from densecli.data.folder import build_sources as folder_sources

        return folder_sources(cfg)
    from densecli.data.shapes import ShapesSource

    kwargs = dict(
        size=data.image_size,
        seed=cfg.seed,
        num_classes=data.num_classes,
        channels=cfg.model.in_channels,
    )
    start = time.perf_counter()
    train = ShapesSource(data.num_train, stream=0, **kwargs)
    val = ShapesSource(data.num_val, stream=1, **kwargs)
    log.info(
        "shapes: %d + %d samples ready in %.2f s",
        len(train),
        len(val),
        time.perf_counter() - start,
    )
    return train, val


def build_datasets(cfg: DictConfig) -> tuple[TrainDataset, ValDataset]:
    """(train, val) datasets of the run `cfg`; bad data fails here, before any training."""
    train_source, val_source = build_sources(cfg)
    normalizer = Normalizer.from_config(cfg)
    ignore = cfg.data.ignore_index
    train = TrainDataset(train_source, build_train_transform(cfg), normalizer, ignore)
    return train, ValDataset(val_source, normalizer, ignore)
