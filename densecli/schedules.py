"""Learning-rate schedules as pure functions of the optimizer step.

One source of truth: `densecli schedules` plots these functions and the trainer drives
`torch.optim` with them, so the plot is what a run does. No torch here.

Two forms over the same curves:
- the course's generators (`step_decay`, `cosine_annealing`, `one_cycle`, `warmup_linear`,
  `constant`, `polynomial`) return `SchedulePoint(step, lr)` lists in absolute lr;
- `LRSchedule` is the trainer's form: an lr multiplier of the optimizer step, built once
  from the scheduler config and the run's total number of optimizer steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from omegaconf import DictConfig

from densecli.clock import Clock
from densecli.errors import ConfigError


class SchedulePoint(NamedTuple):
    step: int
    lr: float


# shapes: lr at step t of `total` steps, going from `hi` to `lo`; the last step reaches lo
def _constant_lr(t: int, total: int, hi: float, lo: float) -> float:
    return hi


def _step_lr(t: int, total: int, hi: float, gamma: float, step_size: int) -> float:
    return hi * gamma ** (t // max(step_size, 1))


def _cosine_lr(t: int, total: int, hi: float, lo: float) -> float:
    if total <= 1:
        return hi
    return lo + (hi - lo) * 0.5 * (1 + math.cos(math.pi * min(t, total - 1) / (total - 1)))


def _poly_lr(t: int, total: int, hi: float, lo: float, power: float) -> float:
    if total <= 1:
        return hi
    return lo + (hi - lo) * (1 - min(t, total - 1) / (total - 1)) ** power


def _one_cycle_lr(t: int, total: int, hi: float, lo: float, pct_start: float) -> float:
    # linear rise from lo to hi until the peak step, then a linear fall back to lo
    peak = int(pct_start * total)
    if t <= peak:
        return hi if peak == 0 else lo + (hi - lo) * t / peak
    return hi - (hi - lo) * min(t - peak, total - 1 - peak) / max(total - 1 - peak, 1)


def _with_warmup(shape: Callable[[int, int], float], warmup_steps: int, hi: float):
    """Ramp linearly to `hi` over `warmup_steps`, then run `shape` over the steps left."""

    def lr(t: int, total: int) -> float:
        if t < warmup_steps:
            return hi * (t + 1) / warmup_steps
        return shape(t - warmup_steps, total - warmup_steps)

    return lr


def _points(lr: Callable[[int, int], float], total_steps: int) -> list[SchedulePoint]:
    return [SchedulePoint(t, lr(t, total_steps)) for t in range(total_steps)]


def constant(lr: float, total_steps: int) -> list[SchedulePoint]:
    """`lr` at every step."""
    return _points(lambda t, n: _constant_lr(t, n, lr, lr), total_steps)


def step_decay(
    base_lr: float, gamma: float, step_size: int, total_steps: int
) -> list[SchedulePoint]:
    """`base_lr`, multiplied by `gamma` every `step_size` steps."""
    return _points(lambda t, n: _step_lr(t, n, base_lr, gamma, step_size), total_steps)


def cosine_annealing(base_lr: float, min_lr: float, total_steps: int) -> list[SchedulePoint]:
    """Half a cosine from `base_lr` at step 0 to `min_lr` at the last step."""
    return _points(lambda t, n: _cosine_lr(t, n, base_lr, min_lr), total_steps)


def one_cycle(
    max_lr: float, min_lr: float, total_steps: int, pct_start: float = 0.3
) -> list[SchedulePoint]:
    """Linear rise from `min_lr` to `max_lr` over `pct_start` of the steps, then back down."""
    return _points(lambda t, n: _one_cycle_lr(t, n, max_lr, min_lr, pct_start), total_steps)


def polynomial(
    base_lr: float, total_steps: int, power: float = 0.9, min_lr: float = 0.0
) -> list[SchedulePoint]:
    """`min_lr + (base_lr - min_lr) * (1 - t / (total - 1)) ** power`."""
    return _points(lambda t, n: _poly_lr(t, n, base_lr, min_lr, power), total_steps)


def warmup_linear(base_lr: float, warmup_steps: int, total_steps: int) -> list[SchedulePoint]:
    """Linear warmup to `base_lr` over `warmup_steps` (reached at the last of them), then flat."""
    flat = _with_warmup(lambda t, n: base_lr, warmup_steps, base_lr)
    return _points(flat, total_steps)


class LRSchedule:
    """The trainer's schedule: `schedule(step)` is the lr multiplier at an optimizer step.

    Plugs into `torch.optim.lr_scheduler.LambdaLR`; its state is plain numbers, so it
    travels in a checkpoint. Build it with `build_lr_schedule`.
    """

    def __init__(
        self,
        name: str,
        total_steps: int,
        warmup_steps: int = 0,
        min_lr_ratio: float = 0.0,
        gamma: float = 0.1,
        step_size: int = 1,
        power: float = 0.9,
        pct_start: float = 0.3,
    ) -> None:
        self.name, self.total_steps, self.warmup_steps = name, total_steps, warmup_steps
        self.min_lr_ratio, self.gamma, self.step_size = min_lr_ratio, gamma, step_size
        self.power, self.pct_start = power, pct_start

    def _shape(self, t: int, total: int) -> float:
        lo = self.min_lr_ratio
        if self.name == "step":
            return _step_lr(t, total, 1.0, self.gamma, self.step_size)
        if self.name == "cosine":
            return _cosine_lr(t, total, 1.0, lo)
        if self.name == "one_cycle":
            return _one_cycle_lr(t, total, 1.0, lo, self.pct_start)
        if self.name == "poly":
            return _poly_lr(t, total, 1.0, lo, self.power)
        return _constant_lr(t, total, 1.0, lo)

    def __call__(self, step: int) -> float:
        return _with_warmup(self._shape, self.warmup_steps, 1.0)(step, self.total_steps)

    def points(self, base_lr: float) -> list[SchedulePoint]:
        """The lr at every optimizer step of the run."""
        return [SchedulePoint(t, base_lr * self(t)) for t in range(self.total_steps)]


def build_lr_schedule(sched: DictConfig, clock: Clock) -> LRSchedule:
    """Turn the `scheduler` config into optimizer steps, once, on the run's clock."""
    total = clock.total_steps
    if sched.get("warmup_epochs") is not None:
        warmup, warmup_key = clock.steps(epochs=sched.warmup_epochs), "warmup_epochs"
    else:
        warmup, warmup_key = clock.steps(fraction=sched.warmup_fraction), "warmup_fraction"
    if warmup >= total:
        raise ConfigError(
            f"scheduler.{warmup_key}",
            sched[warmup_key],
            f"warmup of {warmup} optimizer steps must be shorter than training "
            f"({total} steps: {clock.describe()})",
            "shorten the warmup or raise trainer.max_epochs",
        )
    step_size = 1
    if sched.name == "step":
        if sched.get("step_epochs") is not None:
            step_size = clock.steps(epochs=sched.step_epochs)
        else:
            step_size = clock.steps(fraction=sched.step_fraction)
        step_size = max(step_size, 1)
    return LRSchedule(
        name=sched.name,
        total_steps=total,
        warmup_steps=warmup,
        min_lr_ratio=sched.get("min_lr_ratio", 0.0),
        gamma=sched.get("gamma", 0.1),
        step_size=step_size,
        power=sched.get("power", 0.9),
        pct_start=sched.get("pct_start", 0.3),
    )
