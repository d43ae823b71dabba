"""`densecli schedules`: plot learning-rate schedules over a run's real optimizer steps.

Without overrides it compares the scheduler options on the default run; with overrides
(sweeps allowed: scheduler=cosine,one_cycle) it plots the schedules those runs would follow.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from densecli.compose import compose_config, sweep_jobs
from densecli.plan import plan_run

log = logging.getLogger(__name__)
COMPARED = ("step", "cosine", "one_cycle", "warmup", "cosine_warmup", "poly", "constant")


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="densecli schedules", description=__doc__.split("\n")[0])
    parser.add_argument("overrides", nargs="*", help="config overrides, as for `densecli train`")
    parser.add_argument(
        "--out", default="schedules.png", help="PNG to write (default: %(default)s)"
    )
    args = parser.parse_args(argv)

    if args.overrides:
        jobs = sweep_jobs(args.overrides)
        labels = [" ".join(job) or "default" for job in jobs]
    else:
        jobs = [[f"scheduler={name}"] for name in COMPARED]
        labels = list(COMPARED)
    curves = []
    for label, job in zip(labels, jobs):
        cfg = compose_config(job)
        clock, schedule = plan_run(cfg)
        points = schedule.points(cfg.optimizer.lr)
        curves.append((label, points))
        print(
            f"{label}: {clock.total_steps} optimizer steps ({clock.describe()}), "
            f"warmup {schedule.warmup_steps}, lr {points[0].lr:.3g} -> peak "
            f"{max(p.lr for p in points):.3g} -> {points[-1].lr:.3g}"
        )
    out = plot(curves, Path(args.out))
    print(out)
    return 0


def plot(curves: list, out: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5))
    for label, points in curves:
        ax.plot([p.step for p in points], [p.lr for p in points], label=label, linewidth=1.6)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("learning rate")
    ax.set_title("learning-rate schedules (one value per optimizer step)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out.resolve()
