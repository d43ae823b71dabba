"""`densecli resume RUN_DIR`: continue a run in its own directory from its last checkpoint,
with its saved config, appending to its TensorBoard run and metrics.csv."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from omegaconf import OmegaConf

from densecli.errors import CheckpointError


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="densecli resume", description=__doc__.split("\n")[0])
    parser.add_argument(
        "run_dir", type=Path, help="a run directory (runs/DATE/TIME or a sweep job)"
    )
    args = parser.parse_args(argv)

    run_dir = args.run_dir.resolve()
    config = run_dir / ".hydra" / "config.yaml"
    last = run_dir / "checkpoints" / "last.pt"
    if not config.is_file():
        raise CheckpointError(
            f"{run_dir}: not a densecli run directory (no .hydra/config.yaml); pass the "
            "directory `densecli train` printed, e.g. runs/2026-01-31/12-00-00-000000"
        )
    if not last.is_file():
        raise CheckpointError(
            f"{last}: missing; the run was stopped before its first checkpoint (end of its "
            "first validation), so start it again with `densecli train`"
        )
    _log_to(run_dir / "train.log")

    from densecli.train import train

    train(OmegaConf.load(config), run_dir=run_dir, resume=True)
    return 0


def _log_to(path: Path) -> None:
    """Append to the run's log as Hydra did for the first part of the run."""
    handler = logging.FileHandler(path, mode="a")
    handler.setFormatter(logging.Formatter("[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
