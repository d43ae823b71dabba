"""What a run will do, worked out before anything heavy is imported: its clock and its
learning-rate schedule. The CLI's preflight, `densecli schedules` and the trainer share it."""

from __future__ import annotations

from omegaconf import DictConfig

from densecli.clock import Clock, clock_for
from densecli.data import count_train_samples
from densecli.schedules import LRSchedule, build_lr_schedule


def plan_run(cfg: DictConfig, batches_per_epoch: int | None = None) -> tuple[Clock, LRSchedule]:
    """The run's clock and lr schedule; `batches_per_epoch` comes from the real loader when
    the trainer has one, else from counting the training samples."""
    if batches_per_epoch is None:
        clock = clock_for(cfg, count_train_samples(cfg))
    else:
        clock = Clock(
            batches_per_epoch, cfg.trainer.accumulate_grad_batches, cfg.trainer.max_epochs
        )
    return clock, build_lr_schedule(cfg.scheduler, clock)
