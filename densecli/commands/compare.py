"""`densecli compare`: one table (text, CSV, Markdown) and one figure of a sweep's runs.

Runs whose overrides differ only in `seed=` form one arm; each cell is the mean over the
arm's seeds, ± the sample standard deviation when there are several. Reads the runs'
TensorBoard event files only, so it never imports torch.
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
from pathlib import Path

from densecli.compare import METRICS, Arm, compare, early_window_note
from densecli.errors import ConfigError, DataError

log = logging.getLogger(__name__)
LOOKS_FOR = (
    "expected a run directory with TensorBoard event files (events.out.tfevents.*) or a "
    "folder above such runs, e.g. runs/<date>/<time> or multirun/<date>/<time>"
)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="densecli compare", description=__doc__.split("\n")[0])
    parser.add_argument(
        "dir", type=Path, metavar="DIR", help="a run, a sweep, or a folder of sweeps"
    )
    parser.add_argument(
        "--out", type=Path, metavar="OUT", help="folder for compare.csv/.md/.png (default: DIR)"
    )
    parser.add_argument(
        "--early-fraction",
        type=float,
        default=0.1,
        help="share of a run's optimizer steps that counts as early training, for the early "
        "loss std and grad-norm peak (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    arms = load_arms(args.dir, args.early_fraction)

    # the table first, then what its columns mean, then the files: paths come last
    print("\n".join(table_lines(arms)))
    print()
    print("\n".join(notes(args.early_fraction)))
    out = (args.out or args.dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    written = [
        write_csv(arms, out / "compare.csv"),
        write_markdown(arms, args.early_fraction, out / "compare.md"),
    ]
    from densecli.compare_plot import plot_arms

    written.append(plot_arms(arms, out / "compare.png"))
    print()
    print("\n".join(str(path) for path in written))
    return 0


def load_arms(root: Path, early_fraction: float) -> list[Arm]:
    """Check the arguments, then load every run under `root`, grouped into arms."""
    if not 0 < early_fraction <= 1:
        raise ConfigError(
            "--early-fraction",
            early_fraction,
            "allowed: a share of the run's optimizer steps in (0, 1]",
            "pass e.g. --early-fraction 0.1",
        )
    if not root.is_dir():
        raise DataError(f"{root}: no such directory; {LOOKS_FOR}")
    arms = compare(root, early_fraction)
    if not arms:
        raise DataError(f"{root}: no runs found inside; {LOOKS_FOR}")
    runs = sum(len(arm.runs) for arm in arms)
    log.info("compare: %d runs in %d arms under %s", runs, len(arms), root)
    return arms


def cell(mean: float, std: float, spec: str) -> str:
    """`mean ± std` in the metric's format; `-` for a metric no run logged."""
    if math.isnan(mean):
        return "-"
    text = format(mean, spec)
    if not math.isnan(std):
        text += " ± " + format(std, spec.lstrip("+"))
    return text


def rows(arms: list[Arm]) -> tuple[list[str], list[list[str]]]:
    """Header and formatted cells shared by the text and Markdown tables."""
    header = ["arm", "seeds", *(header for header, _, _ in METRICS.values())]
    body = []
    for arm in arms:
        stats = [cell(*arm.stats[key], spec) for key, (_, spec, _) in METRICS.items()]
        body.append([arm.name, str(len(arm.runs)), *stats])
    return header, body


def table_lines(arms: list[Arm]) -> list[str]:
    """A fixed-width table: arm names left-aligned, numbers right-aligned."""
    header, body = rows(arms)
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        cells = [row[0].ljust(widths[0])]
        cells += [text.rjust(width) for text, width in zip(row[1:], widths[1:])]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return [line(header), rule, *(line(row) for row in body)]


def notes(early_fraction: float) -> list[str]:
    """What each column means; the same text closes the Markdown report."""
    lines = [
        "cells: mean over an arm's seeds ± sample std (n-1); one seed shows its value alone",
        early_window_note(early_fraction),
    ]
    lines += [f"{header}: {meaning}" for header, _, meaning in METRICS.values()]
    return lines


def write_markdown(arms: list[Arm], early_fraction: float, path: Path) -> Path:
    header, body = rows(arms)

    def line(row: list[str]) -> str:
        return "| " + " | ".join(text.replace("|", "\\|") for text in row) + " |"

    lines = ["# Run comparison", "", line(header)]
    lines.append("|" + "|".join([":---", *["---:"] * (len(header) - 1)]) + "|")
    lines += [line(row) for row in body]
    lines += ["", *(f"- {note}" for note in notes(early_fraction)), ""]
    path.write_text("\n".join(lines))
    return path


def write_csv(arms: list[Arm], path: Path) -> Path:
    """One row per arm, means and stds to 8 digits; a blank cell where no run has the value."""
    fields = ["arm", "n_seeds", "seeds"]
    fields += [f"{key}_{stat}" for key in METRICS for stat in ("mean", "std")]
    fields.append("runs")
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        for arm in arms:
            values = [v for key in METRICS for v in arm.stats[key]]
            paths = ";".join(str(run.path) for run in arm.runs)
            # 8 digits: TensorBoard stores float32, more would only show rounding noise
            cells = ["" if math.isnan(v) else f"{v:.8g}" for v in values]
            writer.writerow([arm.name, len(arm.runs), " ".join(arm.seeds), *cells, paths])
    return path
