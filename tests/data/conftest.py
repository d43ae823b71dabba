"""Fixtures for the data tests: tiny folder datasets written into tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .datafiles import image_from_labels, image_in_mode, labels_for, mask_in_encoding, write_pair


@pytest.fixture
def make_folder(tmp_path: Path) -> Callable[..., Path]:
    """Factory: a folder dataset of `count` pairs, images in `image_mode`, masks in `mask`."""

    def make(
        count: int = 6,
        image_mode: str = "RGB",
        mask: str = "0/255",
        num_classes: int = 2,
        name: str = "ds",
        size: tuple[int, int] = (32, 40),
    ) -> Path:
        root = tmp_path / name
        for i in range(count):
            labels = labels_for(i, *size, num_classes=num_classes)
            image = image_in_mode(image_from_labels(labels), image_mode)
            ext = ".tif" if image_mode in ("I", "F") else ".png"  # PNG holds neither
            write_pair(root, f"s{i}", image, mask_in_encoding(labels, mask), ext)
        return root

    return make
