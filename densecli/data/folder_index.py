"""Pairs of image and mask files in a dataset folder, and the train/val split; reads no pixels.

Layout: `data.root/data.image_dir/<stem>.<ext>` pairs with `data.root/data.mask_dir/<stem>.*`
(the extensions may differ: `a.jpg` pairs with `a.png`). Validation comes from
`data.val_root` (same layout) or from a share `data.val_fraction` of root, split by `seed`.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from omegaconf import DictConfig

from densecli.errors import DataError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
Pair = tuple[Path, Path]


def index_folder(cfg: DictConfig) -> tuple[list[Pair], list[Pair]]:
    """(train pairs, val pairs) of (image path, mask path) for `cfg.data` (data=folder)."""
    data = cfg.data
    pairs = list_pairs(_folder(data.root, "data.root"), data.image_dir, data.mask_dir)
    if data.val_root is not None:
        val_root = _folder(data.val_root, "data.val_root")
        return pairs, list_pairs(val_root, data.image_dir, data.mask_dir, "data.val_root")
    if len(pairs) < 2:
        raise DataError(
            f"data.root: folder '{data.root}' holds {len(pairs)} image/mask pair; a train/val "
            "split needs at least 2; add images or set data.val_root to a validation folder"
        )
    # seeded, and independent of the order the file system lists files in
    shuffled = sorted(pairs, key=lambda pair: natural_key(pair[0].stem))
    random.Random(cfg.seed).shuffle(shuffled)
    num_val = min(max(1, round(len(pairs) * data.val_fraction)), len(pairs) - 1)
    val, train = shuffled[:num_val], shuffled[num_val:]
    return _sorted(train), _sorted(val)


def natural_key(stem: str) -> list:
    # "2" before "10", as a person lists files
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", stem)]


def _sorted(pairs: list[Pair]) -> list[Pair]:
    return sorted(pairs, key=lambda pair: natural_key(pair[0].stem))


def _folder(value: str, key: str) -> Path:
    path = Path(str(value)).expanduser()
    if not path.is_dir():
        what = "is not a folder" if path.exists() else "does not exist"
        raise DataError(
            f"{key}: folder '{path}' {what}; allowed: a folder holding the image and mask "
            f"folders; set {key}=/path/to/dataset"
        )
    return path


def _subfolder(root: Path, name: str, key: str) -> Path:
    path = root / name
    if path.is_dir():
        return path
    present = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    hint = f"folders there: {', '.join(present)}" if present else f"'{root}' has no subfolders"
    raise DataError(
        f"{key}: folder '{path}' does not exist ({hint}); set {key} to the subfolder of "
        "data.root that holds them"
    )


def _by_stem(folder: Path, key: str) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for path in folder.iterdir():
        if path.name.startswith(".") or path.suffix.lower() not in EXTENSIONS:
            continue
        if path.stem in files:
            raise DataError(
                f"{key}: '{files[path.stem].name}' and '{path.name}' in '{folder}' share the "
                "stem that pairs images with masks; keep one of them"
            )
        files[path.stem] = path
    return files


def _some(stems: set[str], files: dict[str, Path], limit: int = 3) -> str:
    names = [files[s].name for s in sorted(stems, key=natural_key)[:limit]]
    return ", ".join(names) + (", ..." if len(stems) > limit else "")


def list_pairs(root: Path, image_dir: str, mask_dir: str, key: str = "data.root") -> list[Pair]:
    """Image/mask pairs under `root` (the folder `key` names), matched by file stem."""
    images = _by_stem(_subfolder(root, image_dir, "data.image_dir"), "data.image_dir")
    masks = _by_stem(_subfolder(root, mask_dir, "data.mask_dir"), "data.mask_dir")
    if not images:
        raise DataError(
            f"{key}: no images in '{root / image_dir}' (looked for "
            f"{', '.join(EXTENSIONS)}, any case); put the images there or fix data.image_dir"
        )
    lonely_images, lonely_masks = images.keys() - masks.keys(), masks.keys() - images.keys()
    if lonely_images or lonely_masks:
        parts = []
        if lonely_images:
            parts.append(
                f"{len(lonely_images)} image(s) without a mask in '{root / mask_dir}' "
                f"({_some(lonely_images, images)})"
            )
        if lonely_masks:
            parts.append(
                f"{len(lonely_masks)} mask(s) without an image in '{root / image_dir}' "
                f"({_some(lonely_masks, masks)})"
            )
        raise DataError(
            f"{key}: {'; '.join(parts)}; images and masks pair by file stem: add the missing "
            "files or remove the extra ones"
        )
    return _sorted([(images[stem], masks[stem]) for stem in images])
