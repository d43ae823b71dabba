"""DataLoaders for training and validation, seeded so a run's data stream can be replayed."""

from __future__ import annotations

import functools
import random

import numpy as np
import torch
from omegaconf import DictConfig
from torch.utils.data import DataLoader, Dataset, Sampler

from densecli.data.build import pad_collate


def seed_worker(worker_id: int) -> None:
    """Seed numpy and random in a worker from the seed torch gave it (base seed + worker
    id), so workers draw different numbers and a rerun draws the same ones."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def build_loader(
    dataset: Dataset,
    cfg: DictConfig,
    *,
    train: bool,
    sampler: Sampler | None = None,
    device_type: str = "cpu",
) -> DataLoader:
    """The loader of `dataset` with `cfg.data`'s batch size and workers.

    Args:
        train: drop the last incomplete batch and visit samples in `sampler`'s order, or
            shuffled by a generator seeded from `cfg.seed` when no sampler is given.
        sampler: yields indices or (index, seed) pairs; see `TrainDataset.__getitem__`.
        device_type: "cuda" pins host memory for faster copies; other devices do not.
    """
    workers = cfg.data.num_workers
    # the generator also fixes the base seed of the workers
    generator = torch.Generator().manual_seed(cfg.seed)
    common = dict(
        batch_size=cfg.data.batch_size,
        num_workers=workers,
        pin_memory=device_type == "cuda",
        persistent_workers=workers > 0,
        worker_init_fn=seed_worker if workers > 0 else None,
        generator=generator,
    )
    if train:
        return DataLoader(
            dataset, sampler=sampler, shuffle=sampler is None, drop_last=True, **common
        )
    # folder validation images keep their own sizes; a batch is padded to its largest
    collate = functools.partial(pad_collate, ignore_index=cfg.data.ignore_index)
    return DataLoader(dataset, shuffle=False, drop_last=False, collate_fn=collate, **common)
