"""`densecli <command>`: a thin dispatcher; each command's module is imported only when run,
so commands that compose or plot configs never import torch."""

from __future__ import annotations

import difflib
import importlib
import logging
import sys

from densecli import __version__
from densecli.errors import DensecliError

# command -> (module under densecli.commands, one-line summary)
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("train", "train a model (a Hydra app: overrides, -m sweeps, --cfg job, --help)"),
    "resume": ("resume", "continue a run in its own directory from its last checkpoint"),
    "schedules": ("schedules", "plot learning-rate schedules over a run's optimizer steps (PNG)"),
    "preview": ("preview", "draw augmented training samples with their masks (PNG)"),
    "compare": ("compare", "compare the runs of a sweep: table (CSV, Markdown) and plots"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [
        "usage: densecli <command> [args]   (also: python -m densecli)",
        "",
        "Training strategy for segmentation models, as configuration.",
        "",
        "commands:",
        *(f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()),
        "",
        "`densecli <command> --help` tells more;",
        "`densecli train --help` lists every config group and its options.",
    ]
    return "\n".join(lines)


def fail(command: str, message: str) -> None:
    """Report a user mistake as one line and exit with status 2."""
    print(f"densecli {command}: error: {message}", file=sys.stderr)
    sys.exit(2)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        sys.exit(0 if argv else 2)
    if argv[0] == "--version":
        print(f"densecli {__version__}")
        return
    name, args = argv[0], argv[1:]
    if name not in COMMANDS:
        close = difflib.get_close_matches(name, COMMANDS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        fail(name, f"unknown command '{name}'; commands: {', '.join(COMMANDS)}{hint}")
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    module = importlib.import_module(f"densecli.commands.{COMMANDS[name][0]}")
    try:
        code = module.run(args)
    except DensecliError as err:
        fail(name, str(err))
    sys.exit(code or 0)
