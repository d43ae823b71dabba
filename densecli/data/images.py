"""Reading images in any PIL mode as uint8 arrays with exactly `model.in_channels` channels.

How modes become channels:
- gray (1, L, LA) is replicated to every channel; RGB with 1 channel becomes luminance
  (ITU-R BT.601 weights); RGB with a count other than 1 or 3 becomes luminance replicated.
- alpha (LA, RGBA, PA) is dropped without compositing; palette (P) images take their colors.
- 16- and 32-bit (I;16, I) and float (F) images are stretched from their own minimum and
  maximum to 0..255.
- other modes (CMYK, YCbCr, ...) are converted to RGB by PIL first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# BT.601 luminance weights, also used by the synthetic dataset so gray keeps its contrast
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
GRAY_MODES = ("1", "L", "LA")
WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def to_channels(array: np.ndarray, channels: int) -> np.ndarray:
    """`array` (H, W) gray or (H, W, 3) RGB uint8 as (H, W, channels) uint8."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 3 and channels != 3:
        array = np.clip(array.astype(np.float32) @ LUMA + 0.5, 0, 255).astype(np.uint8)
    if array.ndim == 2:
        return np.repeat(array[:, :, None], channels, axis=2)  # (H, W, C)
    return np.ascontiguousarray(array)


def stretch(array: np.ndarray) -> np.ndarray:
    """Wide-range values to 0..255 from the array's own range; a flat image becomes 0.

    NOTE: per image, because a 16-bit file rarely says how many bits hold data (12-bit
    microscopy is common); the cost is that brightness is not comparable across images."""
    values = array.astype(np.float32)
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    return ((values - low) * (255.0 / (high - low)) + 0.5).astype(np.uint8)


def pil_to_array(image: Image.Image) -> np.ndarray:
    """A PIL image as (H, W) gray or (H, W, 3) RGB uint8, following the rules above."""
    mode = image.mode
    if mode in GRAY_MODES:
        return np.asarray(image.convert("L"))
    if mode in WIDE_MODES:
        return stretch(np.asarray(image))
    if mode == "RGB":
        return np.asarray(image)
    if mode in ("P", "PA"):
        image = image.convert("RGBA")  # keeps PIL quiet about palette transparency
    return np.asarray(image.convert("RGB"))


def read_image(path: Path, channels: int) -> np.ndarray:
    """The image at `path` as (H, W, channels) uint8."""
    with Image.open(path) as image:
        return to_channels(pil_to_array(image), channels)
