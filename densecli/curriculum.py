"""Curricula on the run's one clock, and the sampler that draws every training sample.

Each curriculum is a pure function of the optimizer step: the sample pool (easy to hard),
the image side (low to high resolution) and the Dice weight (BCE first). The sampler is a
pure function of (seed, epoch) too, so a resumed run draws exactly what an uninterrupted
one would.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from omegaconf import DictConfig

from densecli.clock import Clock


def pace(progress: float, pacing: str) -> float:
    """How far the pool has grown, in [0, 1], after `progress` (in [0, 1]) of its ramp.

    linear: evenly; root: sqrt, fast at first (more time on the full data); step: four
    equal jumps, each held for a quarter of the ramp.
    """
    x = min(max(progress, 0.0), 1.0)
    if pacing == "root":
        return math.sqrt(x)
    if pacing == "step":
        return math.floor(x * 4) / 4
    return x


class SampleCurriculum:
    """The pool of samples that may be drawn at a step: the first `pool_size(step)` of a
    ranking (easiest first, hardest first, or a seeded random order as the control)."""

    def __init__(self, cfg: DictConfig, difficulty: np.ndarray, clock: Clock, seed: int):
        self.start_fraction, self.pacing = cfg.start_fraction, cfg.pacing
        self.full_at_step = clock.steps(fraction=cfg.full_at_fraction)
        n = len(difficulty)
        if cfg.order == "random":
            self.ranking = np.random.default_rng([seed, 7919]).permutation(n)
        else:
            # stable sort keeps ties in index order, so the ranking is reproducible
            order = np.argsort(difficulty, kind="stable")
            self.ranking = order if cfg.order == "easy_first" else order[::-1].copy()

    def pool_fraction(self, step: int) -> float:
        progress = 1.0 if self.full_at_step <= 0 else step / self.full_at_step
        return self.start_fraction + (1 - self.start_fraction) * pace(progress, self.pacing)

    def pool_size(self, step: int) -> int:
        return max(1, math.ceil(len(self.ranking) * self.pool_fraction(step) - 1e-9))


class CurriculumSampler:
    """Yields `(index, sample_seed)` pairs, `batch_size * batches_per_epoch` per epoch.

    Draws from a shuffled deck of the current pool: every pool member comes once before any
    comes twice, and members that join the pool are shuffled into what is left of the deck.
    Without a sample curriculum the pool is everything and an epoch is a permutation. The
    seed of each draw drives that sample's augmentation.
    """

    def __init__(
        self,
        num_samples: int,
        batch_size: int,
        clock: Clock,
        seed: int,
        curriculum: SampleCurriculum | None = None,
    ) -> None:
        self.num_samples, self.batch_size, self.clock = num_samples, batch_size, clock
        self.seed, self.curriculum, self.epoch = seed, curriculum, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.clock.batches_per_epoch * self.batch_size

    def _pool(self, step: int) -> np.ndarray:
        if self.curriculum is None:
            return np.arange(self.num_samples)
        return self.curriculum.ranking[: self.curriculum.pool_size(step)]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        deck: list[int] = []
        in_pool: set[int] = set()
        first_step = self.epoch * self.clock.steps_per_epoch
        for batch in range(self.clock.batches_per_epoch):
            step = first_step + batch // self.clock.accumulate_grad_batches
            pool = self._pool(step)
            joined = [int(i) for i in pool if int(i) not in in_pool]
            if joined:
                in_pool.update(joined)
                deck = list(rng.permutation(deck + joined))
            for _ in range(self.batch_size):
                if not deck:
                    deck = list(rng.permutation(pool))
                yield int(deck.pop()), int(rng.integers(2**31))


def resolution_at(stages: list, step: int, clock: Clock) -> int:
    """The image side of the stage that `step` falls in."""
    size = stages[0].image_size
    for stage in stages:
        if step >= clock.steps(fraction=stage.start_fraction):
            size = stage.image_size
    return int(size)


def dice_scale_at(cfg: DictConfig, step: int, clock: Clock) -> float:
    """Share of the configured Dice weight in force at `step`: 0 before the ramp, 1 after."""
    start = clock.steps(fraction=cfg.dice_start_fraction)
    full = clock.steps(fraction=cfg.dice_full_fraction)
    if step >= full:
        return 1.0
    if step < start:
        return 0.0
    return (step - start) / max(full - start, 1)


class Curriculum:
    """Every curriculum of a run, read off the clock in one call per optimizer step."""

    def __init__(self, cfg: DictConfig, clock: Clock, sample: SampleCurriculum | None) -> None:
        self.cfg, self.clock, self.sample = cfg, clock, sample

    def state(self, step: int) -> dict[str, float]:
        """The values in force at `step`, as logged under `curriculum/...`."""
        state: dict[str, float] = {}
        if self.sample is not None:
            state["pool_fraction"] = self.sample.pool_size(step) / len(self.sample.ranking)
        if self.cfg.resolution is not None:
            state["image_size"] = resolution_at(self.cfg.resolution.stages, step, self.clock)
        if self.cfg.loss is not None:
            state["dice_weight_scale"] = dice_scale_at(self.cfg.loss, step, self.clock)
        return state

    def image_size(self, step: int, default_size: int) -> int:
        if self.cfg.resolution is None:
            return default_size
        return resolution_at(self.cfg.resolution.stages, step, self.clock)

    def dice_scale(self, step: int) -> float:
        return 1.0 if self.cfg.loss is None else dice_scale_at(self.cfg.loss, step, self.clock)
