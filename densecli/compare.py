"""Read finished runs back from their TensorBoard event files and summarise them per arm.

A run is a directory holding `events.out.tfevents.*` files; an arm is the set of runs whose
Hydra overrides are equal once `seed=...` is removed. Only TensorBoard's event reader is
used, so this module never imports torch.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from densecli.runs import Run, Series, find_runs, read_run

log = logging.getLogger(__name__)

EARLY_MIN_POINTS = 5
TAIL_FRACTION = 0.1
EXPECTED_TAGS = ("train/loss", "train/grad_norm", "train/lr", "val/loss", "val/dice")


@dataclass
class Arm:
    name: str
    runs: list[Run]
    seeds: list[str]
    stats: dict[str, tuple[float, float]]  # metric -> (mean, std over seeds with n-1)


# metric key -> (column header, format spec, definition for the report notes)
METRICS: dict[str, tuple[str, str, str]] = {
    "val_dice_final": ("dice final", ".3f", "val/dice at the last validation"),
    "val_dice_best": ("dice best", ".3f", "highest val/dice of the run"),
    "train_loss_final": (
        "train loss",
        ".3f",
        "mean train/loss over the last 10% of its logged points (at least the last one)",
    ),
    "val_loss_final": ("val loss", ".3f", "val/loss at the last validation"),
    "gap": ("val-train gap", "+.3f", "final val loss minus final train loss"),
    "loss_jitter_early": (
        "early loss jitter",
        ".3g",
        "root mean square of the step-to-step change of train/loss over the early window "
        "(a steady decline scores low, spikes and oscillation high)",
    ),
    "grad_norm_peak_early": (
        "early max grad",
        ".3g",
        "highest train/grad_norm over the early window after its first point (the first "
        "gradient is taken at initialization, the same for every arm of a seed)",
    ),
    "steps_per_sec": (
        "steps/s",
        ".2f",
        "mean of perf/steps_per_sec, else train/loss steps over their wall time",
    ),
    "wall_time_s": ("wall s", ".0f", "last minus first event wall time, summed over event files"),
}


def early_window_note(fraction: float) -> str:
    return (
        f"early window: the train/loss points logged at optimizer steps <= {fraction:g} x the "
        f"last logged train/loss step, widened to the first {EARLY_MIN_POINTS} points when "
        "it holds fewer"
    )


def load_run(run_dir: Path, early_fraction: float) -> Run:
    """Read one run directory and compute its metrics."""
    run = read_run(run_dir)
    run.metrics = run_metrics(run, early_fraction)
    missing = [tag for tag in EXPECTED_TAGS if tag not in run.scalars]
    if missing:
        log.warning("%s: no %s logged; those cells stay blank", run_dir, ", ".join(missing))
    return run


def early_window_end(steps: np.ndarray, fraction: float) -> float:
    """Last optimizer step of the early window (see `early_window_note`)."""
    if len(steps) == 0:
        return math.nan
    widened = steps[min(len(steps), EARLY_MIN_POINTS) - 1]
    return float(max(fraction * steps[-1], widened))


def tail_mean(series: Series | None, fraction: float = TAIL_FRACTION) -> float:
    if series is None or len(series.values) == 0:
        return math.nan
    count = max(1, math.ceil(fraction * len(series.values)))
    return float(series.values[-count:].mean())


def last(series: Series | None) -> float:
    return float(series.values[-1]) if series is not None else math.nan


def throughput(run: Run) -> float:
    """Optimizer steps per second: the logged rate, else train/loss steps over wall time."""
    logged = run.scalars.get("perf/steps_per_sec")
    if logged is not None:
        return float(logged.values.mean())
    # per event file, so the pause between a crash and its resume is not counted
    spans = [
        p.scalars["train/loss"] for p in run.pieces if len(p.scalars.get("train/loss", ())) > 1
    ]
    steps = sum(float(s.steps[-1] - s.steps[0]) for s in spans)
    seconds = sum(float(s.walls[-1] - s.walls[0]) for s in spans)
    return steps / seconds if seconds > 0 else math.nan


def wall_time(run: Run) -> float:
    """Last minus first scalar event's wall time, summed over the run's event files."""
    walls = [
        np.concatenate([s.walls for s in p.scalars.values()]) for p in run.pieces if p.scalars
    ]
    return sum(float(w.max() - w.min()) for w in walls) if walls else math.nan


def rms_change(values: np.ndarray) -> float:
    """Root mean square of the step-to-step changes; NaN under two points."""
    if len(values) < 2:
        return math.nan
    return float(np.sqrt(np.mean(np.diff(values) ** 2)))


def run_metrics(run: Run, early_fraction: float) -> dict[str, float]:
    """The per-run numbers of the report; a tag the run did not log gives NaN.

    The early window holds the train/loss points logged at optimizer steps up to
    `early_fraction` x the last logged train/loss step, or the first 5 points when that is
    fewer; train/grad_norm is read up to the same step. `loss_jitter_early` is the
    root mean square of train/loss's step-to-step change in the window (NaN under 2 points)
    and `grad_norm_peak_early` the highest train/grad_norm in it after the first point.
    `train_loss_final` is the mean of
    the last 10% of the train/loss points (at least the last one); `gap` is the last
    val/loss minus it.
    """
    scalars = run.scalars
    loss, grad, dice = (scalars.get(t) for t in ("train/loss", "train/grad_norm", "val/dice"))
    clock = loss if loss is not None else grad
    end = early_window_end(clock.steps, early_fraction) if clock is not None else math.nan
    early_loss = loss.values[loss.steps <= end] if loss is not None else np.array([])
    early_grad = grad.values[grad.steps <= end] if grad is not None else np.array([])
    metrics = {
        "val_dice_final": last(dice),
        "val_dice_best": float(dice.values.max()) if dice is not None else math.nan,
        "train_loss_final": tail_mean(loss),
        "val_loss_final": last(scalars.get("val/loss")),
        "loss_jitter_early": rms_change(early_loss),
        "grad_norm_peak_early": float(early_grad[1:].max()) if len(early_grad) > 1 else math.nan,
        "steps_per_sec": throughput(run),
        "wall_time_s": wall_time(run),
    }
    metrics["gap"] = metrics["val_loss_final"] - metrics["train_loss_final"]
    return metrics


def split_seed(overrides: list[str]) -> tuple[tuple[str, ...], str | None]:
    """The overrides without `seed=...` (sorted, as the arm's key), and the seed if given."""
    rest, seed = [], None
    for item in overrides:
        key, _, value = item.partition("=")
        if key.lstrip("+~") == "seed":
            seed = value
        else:
            rest.append(item)
    return tuple(sorted(rest)), seed


def group_arms(runs: list[Run]) -> list[Arm]:
    """Group runs that differ only in their seed; arms sorted by name."""
    groups: dict[tuple[str, ...], list[Run]] = {}
    for run in runs:
        groups.setdefault(split_seed(run.overrides)[0], []).append(run)
    # overrides every arm shares (experiment=...) say nothing about the difference
    shared = set.intersection(*(set(key) for key in groups)) if len(groups) > 1 else set()
    arms = []
    for key, members in groups.items():
        if key:
            name = ",".join(item for item in key if item not in shared) or ",".join(key)
        else:
            name = members[0].path.name if len(members) == 1 else "default"
        members.sort(key=lambda r: natural_key(split_seed(r.overrides)[1] or "", r.path.name))
        seeds = [split_seed(r.overrides)[1] or "-" for r in members]
        arms.append(Arm(name, members, seeds, arm_stats(members)))
    return sorted(arms, key=lambda arm: arm.name)


def natural_key(*texts: str) -> tuple:
    """Sort key that orders digits by value: seed=2 before seed=10."""
    return tuple(
        [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)] for text in texts
    )


def arm_stats(runs: list[Run]) -> dict[str, tuple[float, float]]:
    """Mean and sample std (n-1) of each metric over the runs that have it; NaN when none."""
    stats = {}
    for key in METRICS:
        values = np.array([r.metrics[key] for r in runs], dtype=float)
        values = values[~np.isnan(values)]
        mean = float(values.mean()) if len(values) else math.nan
        std = float(values.std(ddof=1)) if len(values) > 1 else math.nan
        stats[key] = (mean, std)
    return stats


def compare(root: Path, early_fraction: float = 0.1) -> list[Arm]:
    """Load every run under `root` and group them into arms; [] when there are none."""
    runs = [load_run(path, early_fraction) for path in find_runs(root)]
    return group_arms(runs)
