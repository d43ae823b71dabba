"""Helpers that write tiny folder datasets in the PIL modes and mask encodings users have.

Every image is drawn from its mask (foreground bright, background dark, plus a gradient),
so a test can tell from the pixels alone whether image and mask still line up.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import numpy as np
from omegaconf import DictConfig
from PIL import Image

from densecli.compose import compose_config

IMAGE_MODES = ("1", "L", "LA", "RGB", "RGBA", "P", "I;16", "I", "F")
BINARY_MASKS = ("0/1", "0/255", "antialiased", "bool", "rgb_gray", "rgba_gray", "i16")


def labels_for(index: int, height: int = 32, width: int = 40, num_classes: int = 2) -> np.ndarray:
    """A label map with a rectangle and a disc that move with `index`."""
    labels = np.zeros((height, width), dtype=np.uint8)
    top, left = 3 + index % 5, 4 + index % 7
    labels[top : top + 10, left : left + 14] = 1
    y, x = np.mgrid[0:height, 0:width]
    disc = (y - height * 0.65) ** 2 + (x - width * 0.7) ** 2 <= (height / 5) ** 2
    labels[disc] = 2 if num_classes > 2 else 1
    return labels


def image_from_labels(labels: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8: foreground 200 + structure, background 40 + a gentle gradient."""
    height, width = labels.shape
    ramp = np.linspace(0, 30, width, dtype=np.float32)[None, :].repeat(height, 0)
    gray = np.where(labels > 0, 200.0 + 0.5 * ramp, 40.0 + ramp)
    rgb = np.stack([gray, gray * 0.9, gray * 0.8], axis=2)
    return rgb.astype(np.uint8)


def image_in_mode(rgb: np.ndarray, mode: str) -> Image.Image:
    gray = Image.fromarray(rgb).convert("L")
    if mode == "1":  # thresholded: PIL's own conversion would dither the background
        return Image.fromarray(np.asarray(gray) > 128)
    if mode in ("L", "LA", "RGB", "RGBA"):
        return Image.fromarray(rgb).convert(mode)
    if mode == "P":
        return Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    values = np.asarray(gray)
    if mode == "I;16":
        return Image.fromarray(values.astype(np.uint16) * 257)
    if mode == "I":
        return Image.fromarray(values.astype(np.int32) * 1000)
    return Image.fromarray(values.astype(np.float32) / 255.0)  # mode F


def mask_in_encoding(labels: np.ndarray, kind: str) -> Image.Image:
    """`labels` (0/1, or class ids for "index"/"palette") stored the way `kind` names."""
    if kind == "0/1":
        return Image.fromarray(labels)
    if kind == "0/255":
        return Image.fromarray(labels * 255)
    if kind == "antialiased":  # soft edges: a ring of gray on either side of the border
        fg = labels > 0
        grown, shrunk = fg.copy(), fg.copy()
        for axis in (0, 1):
            for shift in (-1, 1):
                grown |= np.roll(fg, shift, axis)
                shrunk &= np.roll(fg, shift, axis)
        soft = np.where(fg, 255, 0).astype(np.uint8)
        soft[grown & ~fg], soft[fg & ~shrunk] = 90, 170
        return Image.fromarray(soft)
    if kind == "bool":
        return Image.fromarray(labels * 255).convert("1")
    if kind in ("rgb_gray", "rgba_gray"):
        return Image.fromarray(labels * 255).convert("RGB" if kind == "rgb_gray" else "RGBA")
    if kind == "i16":
        return Image.fromarray(labels.astype(np.uint16) * 65535)
    if kind == "index":
        return Image.fromarray(labels)
    if kind == "palette":
        mask = Image.fromarray(labels, mode="P")
        mask.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [255] * (3 * 252))
        return mask
    raise ValueError(kind)


def write_pair(root: Path, stem: str, image: Image.Image, mask: Image.Image, ext: str = ".png"):
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    image.save(root / "images" / f"{stem}{ext}")
    mask.save(root / "masks" / f"{stem}.png")


@functools.lru_cache(maxsize=64)
def _composed(overrides: tuple[str, ...]) -> DictConfig:
    return compose_config(list(overrides))


def folder_config(root: Path, *overrides: str) -> DictConfig:
    """The validated run config for a folder dataset at `root`, with tiny crops.

    Hydra's compose takes about half a second, so configs are composed once per set of
    overrides and `root` is filled into a copy."""
    base = ("data=folder", "data.root=/placeholder", "data.image_size=32", "data.batch_size=2")
    cfg = copy.deepcopy(_composed((*base, "data.num_workers=0", *overrides)))
    if not any(o.startswith("data.root=") for o in overrides):
        cfg.data.root = str(root)
    return cfg
