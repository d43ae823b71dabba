"""Find run directories and read their scalars back with TensorBoard's own event reader.

A run is a directory holding `events.out.tfevents.*` files. A resumed run appends a new
event file to the same directory; merging follows TensorBoard: files in the order they were
started, a restart marker (torch's `SummaryWriter(purge_step=...)`) drops what the killed run
logged from that step on, and of two writes of one step the later wins. Nothing here
imports torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from densecli.errors import DataError

EVENTS_GLOB = "events.out.tfevents.*"
# run subfolders that never hold runs of their own
SKIP_DIRS = {"checkpoints", ".hydra"}
# a writer announces a restart among its first events, before any data
RESTART_SCAN_EVENTS = 4


@dataclass
class Series:
    """One scalar tag of a run, sorted by optimizer step."""

    steps: np.ndarray
    values: np.ndarray
    walls: np.ndarray  # seconds since the epoch, as TensorBoard stores them

    def __len__(self) -> int:
        return len(self.steps)


@dataclass
class Piece:
    """The scalars of one event file."""

    started: float  # wall time of the file's first event; orders the files of a run
    restart_step: int | None  # the step a resumed writer purges from, if it set one
    scalars: dict[str, Series]


@dataclass
class Run:
    path: Path
    overrides: list[str]
    scalars: dict[str, Series]  # every event file merged, as TensorBoard shows them
    pieces: list[Piece]  # one per event file, oldest first
    metrics: dict[str, float] = field(default_factory=dict)


def find_runs(root: Path) -> list[Path]:
    """Run directories under `root` (itself, a sweep, or a folder of sweeps), sorted.

    A directory with event files is a run and is not searched further: a subfolder with
    event files inside a run (such as the one torch's `add_hparams` writes) belongs to it.
    """
    runs: list[Path] = []
    seen: set[Path] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        # symlinked folders may point back up; visit each real folder once
        real = folder.resolve()
        if real in seen:
            continue
        seen.add(real)
        if any(folder.glob(EVENTS_GLOB)):
            runs.append(folder)
            continue
        children = [p for p in folder.iterdir() if p.is_dir() and p.name not in SKIP_DIRS]
        stack.extend(sorted(children, reverse=True))
    return sorted(runs)


def read_event_file(path: Path) -> Piece:
    """Every scalar of one event file, every point kept."""
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.util import tensor_util

    # 0 keeps every point; the kinds this report does not read are kept to a minimum
    guidance = {ea.SCALARS: 0, ea.TENSORS: 0, ea.IMAGES: 1, ea.HISTOGRAMS: 1, ea.AUDIO: 1}
    acc = ea.EventAccumulator(str(path), size_guidance=guidance)
    acc.Reload()
    tags = acc.Tags()
    points = {
        tag: [(e.step, e.value, e.wall_time) for e in acc.Scalars(tag)] for tag in tags["scalars"]
    }
    # writers of TensorBoard's newer format store scalars as 0-d tensors
    for tag in tags["tensors"]:
        if acc.SummaryMetadata(tag).plugin_data.plugin_name == "scalars":
            points[tag] = [
                (e.step, float(tensor_util.make_ndarray(e.tensor_proto)), e.wall_time)
                for e in acc.Tensors(tag)
            ]
    try:
        started = acc.FirstEventTimestamp()
    except ValueError:  # an empty file
        started = math.inf
    scalars = {tag: to_series(pts) for tag, pts in points.items() if pts}
    return Piece(started, restart_step(path), scalars)


def restart_step(path: Path) -> int | None:
    """The step of the file's restart marker (a SessionLog START event), if it has one."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.compat.proto.event_pb2 import SessionLog

    for i, event in enumerate(EventFileLoader(str(path)).Load()):
        if event.HasField("session_log") and event.session_log.status == SessionLog.START:
            return int(event.step)
        if i + 1 >= RESTART_SCAN_EVENTS or event.HasField("summary"):
            return None
    return None


def to_series(points: list[tuple[int, float, float]]) -> Series:
    """Sort points by step; a step written twice keeps its later write."""
    by_step = {int(step): (value, wall) for step, value, wall in points}
    steps = sorted(by_step)
    return Series(
        steps=np.array(steps, dtype=np.int64),
        values=np.array([by_step[s][0] for s in steps], dtype=float),
        walls=np.array([by_step[s][1] for s in steps], dtype=float),
    )


def merge(pieces: list[Piece]) -> dict[str, Series]:
    """The scalars of a run's event files, oldest first, merged as TensorBoard does."""
    points: dict[str, list[tuple[int, float, float]]] = {}
    for piece in pieces:
        if piece.restart_step is not None:
            cut = piece.restart_step
            points = {tag: [p for p in pts if p[0] < cut] for tag, pts in points.items()}
        for tag, series in piece.scalars.items():
            points.setdefault(tag, []).extend(zip(series.steps, series.values, series.walls))
    return {tag: to_series(pts) for tag, pts in points.items() if pts}


def read_overrides(run_dir: Path) -> list[str]:
    """The run's Hydra overrides (`.hydra/overrides.yaml`); none when the file is missing."""
    path = run_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return []
    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        loaded = err
    if not isinstance(loaded, (list, type(None))):
        raise DataError(
            f"{path}: expected a YAML list of overrides such as [seed=2], got "
            f"{type(loaded).__name__}; restore the file Hydra wrote or delete it"
        )
    return [str(item) for item in loaded or []]


def read_run(run_dir: Path) -> Run:
    """One run directory: its overrides and its scalars from all of its event files."""
    # in the order the writers started; names (they begin with the second) break ties
    pieces = [read_event_file(p) for p in sorted(run_dir.glob(EVENTS_GLOB))]
    pieces.sort(key=lambda piece: piece.started)
    return Run(run_dir, read_overrides(run_dir), merge(pieces), pieces)
