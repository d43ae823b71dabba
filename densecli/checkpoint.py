"""Checkpoints: written atomically, holding only tensors and plain values, so a kill never
leaves a broken file and every file loads with `torch.load(..., weights_only=True)`."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from densecli.errors import CheckpointError

FORMAT_VERSION = 1


def save_atomic(state: dict[str, Any], path: Path) -> None:
    """Write `state` to a temporary file beside `path`, flush it to disk, then rename it
    over `path`: readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format": FORMAT_VERSION, **state}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def promote(src: Path, dst: Path) -> None:
    """Make `dst` a copy of the just-written `src` (best.pt from last.pt), atomically. A hard
    link costs no time or space; `src` is later replaced, never changed in place."""
    tmp = dst.with_name(f".{dst.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:  # a filesystem without hard links
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def load(path: str | Path) -> dict[str, Any]:
    """A checkpoint's state, loaded safely (no code runs while unpickling)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file; look in RUN_DIR/checkpoints/")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path}: not a readable densecli checkpoint ({first})") from None
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"{path}: holds no model weights; pass a densecli checkpoint")
    return state


def load_weights(model: torch.nn.Module, path: str | Path) -> None:
    """Start `model` from a checkpoint's weights only (fine-tuning: no optimizer, no clock)."""
    weights = load(path)["model"]
    try:
        model.load_state_dict(weights)
    except RuntimeError as err:
        detail = str(err).strip().splitlines()[-1].strip()
        raise CheckpointError(
            f"model.init_from={path}: weights do not fit this model ({detail}); "
            "use a checkpoint of the same model.arch, encoder and number of classes"
        ) from None
