"""Your own images and masks (data=folder): every pair is checked once before training.

A run should not die in epoch 7 on a truncated file, so `build_sources` opens every image
(verifies it, or decodes it where the format has no cheaper check), reads and decodes every
mask, and compares their sizes. All problems found are reported in one `DataError` line.
How files become arrays: `densecli.data.images` (images), `densecli.data.masks` (masks).
"""

from __future__ import annotations

import csv
import logging
import time
from pathlib import Path

import numpy as np
from omegaconf import DictConfig
from PIL import Image

from densecli.data.folder_index import Pair, index_folder, natural_key
from densecli.data.images import read_image
from densecli.data.masks import decode_mask, difficulty_from_features, mask_features, read_raw_mask
from densecli.errors import DataError

log = logging.getLogger(__name__)

# checked without decoding: PNG's verify() checks every chunk's checksum, JPEG's reads the
# header and the file must end in the end-of-image marker; other formats are decoded
VERIFIABLE = ("PNG", "JPEG")
READ_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


class FolderSource:
    """Image/mask pairs on disk; `load(i)` gives ((H, W, channels) uint8, (H, W) uint8)."""

    def __init__(
        self,
        pairs: list[Pair],
        difficulty: np.ndarray,
        *,
        channels: int,
        num_classes: int,
        ignore_index: int,
    ) -> None:
        self.pairs, self.difficulty = pairs, difficulty
        self.channels, self.num_classes, self.ignore_index = channels, num_classes, ignore_index

    def __len__(self) -> int:
        return len(self.pairs)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        image_path, mask_path = self.pairs[index]
        raw, mode = read_raw_mask(mask_path)
        mask = decode_mask(raw, mode, mask_path, self.num_classes, self.ignore_index)
        return read_image(image_path, self.channels), mask


def build_sources(cfg: DictConfig) -> tuple[FolderSource, FolderSource]:
    """Train and val sources of `cfg.data` (data=folder), after checking every pair."""
    data = cfg.data
    train_pairs, val_pairs = index_folder(cfg)
    pairs = train_pairs + val_pairs
    start = time.perf_counter()
    features = check_pairs(pairs, data.num_classes, data.ignore_index)
    log.info("checked %d image/mask pairs in %.1f s", len(pairs), time.perf_counter() - start)
    if data.difficulty_csv is not None:
        difficulty = read_difficulty_csv(Path(data.difficulty_csv), [p[0].stem for p in pairs])
    else:
        difficulty = difficulty_from_features(features)
    kwargs = dict(
        channels=cfg.model.in_channels,
        num_classes=data.num_classes,
        ignore_index=data.ignore_index,
    )
    cut = len(train_pairs)
    return (
        FolderSource(train_pairs, difficulty[:cut], **kwargs),
        FolderSource(val_pairs, difficulty[cut:], **kwargs),
    )


def check_pairs(pairs: list[Pair], num_classes: int, ignore_index: int) -> np.ndarray:
    """(N, 3) mask features of `pairs`, or one DataError naming every bad pair."""
    features, problems = [], []
    for image_path, mask_path in pairs:
        try:
            features.append(check_pair(image_path, mask_path, num_classes, ignore_index))
        except DataError as err:
            problems.append((image_path.stem, str(err)))
    if problems:
        problems.sort(key=lambda problem: natural_key(problem[0]))
        first = problems[0][1]
        if len(problems) > 1:
            others = ", ".join(stem for stem, _ in problems[1:6])
            more = ", ..." if len(problems) > 6 else ""
            first += f" ({len(problems) - 1} more bad pair(s): {others}{more})"
        raise DataError(first)
    return np.array(features, dtype=np.float64).reshape(len(pairs), 3)


def check_pair(
    image_path: Path, mask_path: Path, num_classes: int, ignore_index: int
) -> tuple[float, float, float]:
    """The mask's difficulty features, once the pair has proved usable."""
    size = _check_image(image_path)
    try:
        raw, mode = read_raw_mask(mask_path)
    except READ_ERRORS as err:
        raise DataError(
            f"{mask_path}: cannot read the mask ({err}); re-export it or remove the pair"
        ) from None
    if raw.shape[::-1] != size:
        raise DataError(
            f"{mask_path}: mask is {raw.shape[1]}x{raw.shape[0]} but its image "
            f"{image_path.name} is {size[0]}x{size[1]} (width x height); allowed: equal sizes; "
            "re-export the mask at the image's size"
        )
    return mask_features(decode_mask(raw, mode, mask_path, num_classes, ignore_index))


def _check_image(path: Path) -> tuple[int, int]:
    try:
        with Image.open(path) as image:
            size, kind = image.size, image.format
            if kind in VERIFIABLE:
                image.verify()
            else:
                image.load()
        if kind == "JPEG" and not _has_jpeg_end(path):
            raise OSError("image file is truncated (no end-of-image marker)")
    except READ_ERRORS as err:
        raise DataError(
            f"{path}: cannot read the image ({err}); re-export it or remove it and its mask"
        ) from None
    return size


def _has_jpeg_end(path: Path) -> bool:
    # JPEG's verify() reads only the header; a cut file lacks the end marker FF D9
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 1024))
        return b"\xff\xd9" in handle.read()


def read_difficulty_csv(path: Path, stems: list[str]) -> np.ndarray:
    """Scores for `stems` from a CSV of `stem,difficulty` rows (a header row is allowed)."""
    if not path.is_file():
        raise DataError(
            f"data.difficulty_csv: file '{path}' does not exist; set it to a CSV of "
            "stem,difficulty rows or to null to score masks"
        )
    scores: dict[str, float] = {}
    with path.open(newline="") as handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            if not row or (line == 1 and not _is_number(row[-1])):
                continue
            value = float(row[1]) if len(row) == 2 and _is_number(row[1]) else None
            if value is None or not 0 <= value <= 1:
                raise DataError(
                    f"data.difficulty_csv: '{path}' line {line} is {','.join(row)!r}; allowed: "
                    "stem,difficulty with difficulty in [0, 1]; fix that row"
                )
            scores[row[0].strip()] = value
    missing = sorted((stem for stem in stems if stem not in scores), key=natural_key)
    if missing:
        raise DataError(
            f"data.difficulty_csv: '{path}' has no row for {len(missing)} sample(s) "
            f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}); add a "
            "stem,difficulty row for each image"
        )
    return np.array([scores[stem] for stem in stems], dtype=np.float32)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
