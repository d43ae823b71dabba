"""The run's one clock: the optimizer step (one update, after gradient accumulation).

Every schedule of a run (learning rate, loss weights, resolution stage, sample pool) is a
function of it. Lengths given in epochs or fractions become optimizer steps here, once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from omegaconf import DictConfig

from densecli.errors import ConfigError


@dataclass(frozen=True)
class Clock:
    batches_per_epoch: int  # micro-batches the training loader yields per epoch
    accumulate_grad_batches: int
    max_epochs: int

    @property
    def steps_per_epoch(self) -> int:
        # the last, partial group of an epoch still makes one optimizer step
        return math.ceil(self.batches_per_epoch / self.accumulate_grad_batches)

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.max_epochs

    def steps(self, *, epochs: float | None = None, fraction: float | None = None) -> int:
        """Optimizer steps in `epochs` epochs, or in `fraction` of the whole run."""
        if epochs is not None:
            return round(epochs * self.steps_per_epoch)
        return round((fraction or 0.0) * self.total_steps)

    def describe(self) -> str:
        return (
            f"{self.max_epochs} epochs x {self.steps_per_epoch} optimizer steps of "
            f"{self.accumulate_grad_batches} micro-batch(es)"
        )


def batches_per_epoch(num_train: int, batch_size: int) -> int:
    """Micro-batches per epoch; the training loader drops the last incomplete batch."""
    if num_train < batch_size:
        raise ConfigError(
            "data.batch_size",
            batch_size,
            f"must not exceed the {num_train} training samples",
            f"lower data.batch_size to {max(num_train, 1)} or add training data",
        )
    return num_train // batch_size


def samples_per_epoch(cfg: DictConfig, num_train: int) -> int:
    """Samples drawn per epoch: the training set, cycled up to `data.min_samples_per_epoch`."""
    return max(num_train, cfg.data.min_samples_per_epoch)


def clock_for(cfg: DictConfig, num_train: int) -> Clock:
    """The clock of the run that `cfg` describes, with `num_train` training samples."""
    return Clock(
        batches_per_epoch=batches_per_epoch(
            samples_per_epoch(cfg, num_train), cfg.data.batch_size
        ),
        accumulate_grad_batches=cfg.trainer.accumulate_grad_batches,
        max_epochs=cfg.trainer.max_epochs,
    )
