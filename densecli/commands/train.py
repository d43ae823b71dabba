"""`densecli train`: the Hydra app. Every job's config is composed and validated before
the first one starts, so a typo in the last arm of a sweep costs no compute."""

from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig

from densecli.compose import compose_config, config_dir, sweep_jobs
from densecli.errors import DensecliError
from densecli.plan import plan_run

log = logging.getLogger(__name__)


def preflight(overrides: list[str], multirun: bool) -> None:
    """Compose, validate and plan every job the command line asks for."""
    for job in sweep_jobs(overrides) if multirun else [overrides]:
        plan_run(compose_config(job))


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")
def hydra_app(cfg: DictConfig) -> float | None:
    from densecli.train import train

    try:
        return train(cfg)
    except DensecliError as err:
        # a job of a sweep can still meet bad data; one line, no traceback
        log.error("densecli train: error: %s", err)
        sys.exit(2)


def run(argv: list[str]) -> int:
    from hydra._internal.utils import get_args_parser

    args = get_args_parser().parse_args(argv)
    if not (args.help or args.hydra_help or args.info or args.shell_completion):
        preflight(args.overrides, args.multirun)
    sys.argv = ["densecli train", *argv]
    hydra_app()
    return 0
