"""What a run will do, worked out before anything heavy is imported: its clock and its
learning-rate schedule. The CLI's preflight, `densecli schedules` and the trainer share it."""

from __future__ import annotations

from omegaconf import DictConfig

from densecli.clock import Clock, clock_for
from densecli.data import count_train_samples
from densecli.schedules import LRSchedule, build_lr_schedule


def plan_run(cfg: DictConfig, num_train: int | None = None) -> tuple[Clock, LRSchedule]:
    """The run's clock and lr schedule; `num_train` is the training set's size when the
    trainer has built it, else the samples are counted without loading them."""
    if num_train is None:
        num_train = count_train_samples(cfg)
    clock = clock_for(cfg, num_train)
    return clock, build_lr_schedule(cfg.scheduler, clock)
