"""The curves figure of `densecli compare`: one panel per tag, one line per arm."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from densecli.compare import Arm
from densecli.runs import Series

SMOOTHING = 0.6  # weight of TensorBoard-style exponential smoothing for train/loss
# tag -> panel title
PANELS = {
    "val/dice": "val/dice",
    "train/loss": f"train/loss (exponentially smoothed, weight {SMOOTHING})",
    "val/loss": "val/loss",
    "train/lr": "train/lr",
}


def smooth(values: np.ndarray, weight: float = SMOOTHING) -> np.ndarray:
    """Exponential moving average, debiased so the first points are not pulled to zero."""
    out = np.empty(len(values))
    running = 0.0
    for i, value in enumerate(values):
        running = weight * running + (1 - weight) * value
        out[i] = running / (1 - weight ** (i + 1))
    return out


def seed_band(curves: list[Series], smoothed: bool) -> tuple[np.ndarray, np.ndarray]:
    """The seeds' values on one step grid: the union of their steps where they all overlap.

    Returns the grid and a (seeds, steps) array; the grid is empty when the seeds share
    no range of steps.
    """
    start = max(int(c.steps[0]) for c in curves)
    stop = min(int(c.steps[-1]) for c in curves)
    grid = np.unique(np.concatenate([c.steps for c in curves]))
    grid = grid[(grid >= start) & (grid <= stop)]
    values = [smooth(c.values) if smoothed else c.values for c in curves]
    stacked = np.array([np.interp(grid, c.steps, v) for c, v in zip(curves, values)])
    return grid, stacked


def draw_arm(ax, arm: Arm, tag: str, color) -> None:
    curves = [run.scalars[tag] for run in arm.runs if len(run.scalars.get(tag, ())) > 0]
    if not curves:
        return
    smoothed = tag == "train/loss"
    label = f"{arm.name} ({len(arm.runs)} seeds)" if len(arm.runs) > 1 else arm.name
    grid, stacked = seed_band(curves, smoothed)
    if len(curves) > 1 and len(grid) > 0:
        ax.plot(grid, stacked.mean(axis=0), color=color, linewidth=1.6, label=label)
        ax.fill_between(grid, stacked.min(axis=0), stacked.max(axis=0), color=color, alpha=0.2)
        return
    # one seed, or seeds without a common range of steps: each run on its own
    for i, curve in enumerate(curves):
        values = smooth(curve.values) if smoothed else curve.values
        ax.plot(curve.steps, values, color=color, linewidth=1.2, label=label if i == 0 else None)


def plot_arms(arms: list[Arm], out: Path) -> Path:
    """Write a 2x2 figure of the arms' curves against the optimizer step and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8), layout="constrained")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (tag, title) in zip(axes.flat, PANELS.items()):
        for i, arm in enumerate(arms):
            draw_arm(ax, arm, tag, colors[i % len(colors)])
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("optimizer step")
        ax.grid(alpha=0.3)
    # one legend for the figure: an arm missing from one panel may still be in another
    legend = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    if legend:
        fig.legend(legend.values(), legend.keys(), loc="outside lower center", ncol=3)
    fig.suptitle("arms compared: mean over seeds, shaded band = min to max over seeds")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out.resolve()
