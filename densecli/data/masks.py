"""Reading label masks from files and scoring how hard a mask is.

Inside the pipeline a mask is a (H, W) uint8 label map: class ids 0..num_classes-1 and
`IGNORE` (255) for unlabeled pixels; the dataset swaps in `data.ignore_index` at the end.

How file values become labels:
- binary (data.num_classes=2): 0/1 masks are taken as they are (with data.ignore_index
  kept as unlabeled); anything else is thresholded at half the mode's range, so 0/255 and
  anti-aliased gray masks give foreground where value >= 128 (>= 32768 for 16-bit values
  above 255, >= 0.5 for float masks within 0..1).
- multiclass: values are class ids (L, P palette index, I;16, I, or integral F);
  data.ignore_index marks unlabeled pixels; any other value >= data.num_classes is refused.
- RGB and RGBA masks must be gray (R = G = B); color-coded masks are refused.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from densecli.errors import DataError

IGNORE = 255  # unlabeled, inside the pipeline; class ids stay below it (validate.py)


def read_raw_mask(path: Path) -> tuple[np.ndarray, str]:
    """The stored values of the mask at `path` as (H, W) and the PIL mode they came from."""
    with Image.open(path) as image:
        mode = image.mode
        if mode == "1":
            return np.asarray(image, dtype=np.uint8), mode
        if mode in ("LA", "PA"):
            return np.asarray(image)[:, :, 0], mode
        if mode in ("RGB", "RGBA"):
            rgb = np.asarray(image)[:, :, :3]
            if not (
                np.array_equal(rgb[:, :, 0], rgb[:, :, 1])
                and np.array_equal(rgb[:, :, 0], rgb[:, :, 2])
            ):
                raise DataError(
                    f"{path}: mask is colored ({mode} with R, G, B differing); allowed: gray or "
                    "index masks (L, P, I;16); save it as a palette (P) or gray (L) image of "
                    "class ids"
                )
            return rgb[:, :, 0], mode
        if mode in ("L", "P") or mode.startswith("I") or mode == "F":
            return np.asarray(image), mode
        return np.asarray(image.convert("L")), mode


def unique_values(raw: np.ndarray) -> np.ndarray:
    if raw.dtype == np.uint8:  # counting beats sorting for bytes
        return np.flatnonzero(np.bincount(raw.ravel(), minlength=256))
    return np.unique(raw)


def full_range(mode: str, peak: float) -> float:
    """The top of the value range a binary mask of `mode` is thresholded against."""
    if mode == "F":
        return 1.0 if peak <= 1.0 else 255.0
    if mode.startswith("I") and peak > 255:
        return 65535.0
    return 255.0


def decode_mask(
    raw: np.ndarray, mode: str, path: Path, num_classes: int, ignore_index: int
) -> np.ndarray:
    """File values to the (H, W) uint8 label map (see the module docstring for the rules)."""
    values = unique_values(raw)
    if num_classes == 2:
        return _decode_binary(raw, mode, values, path, ignore_index)
    if not np.all(np.mod(values, 1) == 0):
        raise DataError(
            f"{path}: mask holds fractional values (e.g. {_show(values[np.mod(values, 1) != 0])})"
            f"; allowed with data.num_classes={num_classes}: integer class ids; save the mask "
            "as an index (L or P) image"
        )
    bad = values[((values < 0) | (values >= num_classes)) & (values != ignore_index)]
    if bad.size:
        raise DataError(
            f"{path}: mask values {_show(bad)} are not class ids; allowed: 0..{num_classes - 1} "
            f"and data.ignore_index={ignore_index}; set data.num_classes={int(bad.max()) + 1} "
            "or data.ignore_index to the unlabeled value"
        )
    labels = raw.astype(np.uint8)
    labels[raw == ignore_index] = IGNORE
    return labels


def _decode_binary(
    raw: np.ndarray, mode: str, values: np.ndarray, path: Path, ignore_index: int
) -> np.ndarray:
    present = set(values.tolist())
    if present <= {0, 1} or (1 in present and present <= {0, 1, ignore_index}):
        labels = raw.astype(np.uint8)
        labels[raw == ignore_index] = IGNORE
        return labels
    top = full_range(mode, float(values.max()))
    if values.max() < top / 2:
        hint = "rescale it so foreground is >= half the range"
        if np.all(np.mod(values, 1) == 0) and values.min() >= 0:
            hint = f"an index mask with {int(values.max()) + 1} classes? set "
            hint += f"data.num_classes={int(values.max()) + 1}"
        raise DataError(
            f"{path}: mask values {_show(values)} fit no binary encoding; allowed with "
            f"data.num_classes=2: 0/1, 0/255 or gray with foreground >= {top / 2:g}; {hint}"
        )
    return (raw >= top / 2).astype(np.uint8)


def _show(values: np.ndarray, limit: int = 6) -> str:
    shown = ", ".join(f"{v:g}" for v in values[:limit].tolist())
    return "{" + shown + (", ..." if values.size > limit else "") + "}"


def mask_features(labels: np.ndarray) -> tuple[float, float, float]:
    """(minority share, boundary density, object count) of a label map; each grows as the
    mask gets harder to segment."""
    valid = labels != IGNORE
    total = max(int(valid.sum()), 1)
    foreground = (labels > 0) & valid
    share = float(foreground.sum()) / total
    minority = min(share, 1.0 - share)
    # a boundary pixel differs from its right or lower neighbour, both labeled
    right = (labels[:, 1:] != labels[:, :-1]) & valid[:, 1:] & valid[:, :-1]
    down = (labels[1:] != labels[:-1]) & valid[1:] & valid[:-1]
    boundary = float(right.sum() + down.sum()) / total
    objects = cv2.connectedComponents(foreground.astype(np.uint8), connectivity=8)[0] - 1
    return -minority, boundary, float(objects)


def difficulty_from_features(features: np.ndarray) -> np.ndarray:
    """Per-sample scores in [0, 1] from (N, 3) features: the mean of each feature's rank.

    Ranks, not raw values, so one huge object count cannot squash everyone else to 0."""
    count = features.shape[0]
    if count < 2:
        return np.full(count, 0.5, dtype=np.float32)
    ranks = np.stack([_ranks(features[:, j]) for j in range(features.shape[1])], axis=1)
    return (ranks.mean(axis=1) / (count - 1)).astype(np.float32)


def _ranks(column: np.ndarray) -> np.ndarray:
    # ties share their mean rank
    _, inverse = np.unique(column, return_inverse=True)
    order = np.argsort(column, kind="stable")
    ranks = np.empty(column.size, dtype=np.float64)
    ranks[order] = np.arange(column.size)
    return (np.bincount(inverse, ranks) / np.bincount(inverse))[inverse]
