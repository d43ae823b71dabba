"""Folder datasets: pairing, splitting, every PIL mode and mask encoding, and bad data refused
before training with one line that names the file."""

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from densecli.data.build import build_datasets
from densecli.data.folder import FolderSource
from densecli.data.folder_index import index_folder
from densecli.data.images import LUMA
from densecli.data.masks import IGNORE
from densecli.errors import DataError

from .datafiles import folder_config, labels_for, mask_in_encoding

MEMBRANE = (Path(__file__).parents[2] / "../shared/data/membrane").resolve()
IMAGE_MODES = ("1", "L", "LA", "RGB", "RGBA", "P", "I;16", "I", "F")
BINARY_MASKS = ("0/1", "0/255", "antialiased", "bool", "rgb_gray", "rgba_gray", "i16", "palette")


def source_of(root: Path, *overrides: str) -> FolderSource:
    train, _ = build_datasets(folder_config(root, *overrides))
    return train.source


# --- pairing and splitting -------------------------------------------------------------


def test_index_folder_pairs_by_stem_across_extensions(make_folder):
    root = make_folder(count=3)
    image = Image.open(root / "images" / "s0.png")
    (root / "images" / "s0.png").unlink()
    image.convert("RGB").save(root / "images" / "s0.JPEG")
    (root / "images" / ".hidden.png").write_bytes(b"")
    (root / "images" / "notes.txt").write_text("not an image")
    train, val = index_folder(folder_config(root))
    pairs = sorted(train + val)
    assert [(i.name, m.name) for i, m in pairs] == [
        ("s0.JPEG", "s0.png"),
        ("s1.png", "s1.png"),
        ("s2.png", "s2.png"),
    ]


def test_index_folder_split_is_seeded_and_keeps_one_of_each(make_folder):
    root = make_folder(count=10)
    first = index_folder(folder_config(root, "seed=1"))
    assert first == index_folder(folder_config(root, "seed=1"))
    assert first != index_folder(folder_config(root, "seed=2"))
    train, val = first
    assert len(val) == 2 and len(train) == 8 and not set(train) & set(val)
    tiny_train, tiny_val = index_folder(folder_config(make_folder(count=2, name="two")))
    assert len(tiny_train) == 1 and len(tiny_val) == 1


def test_index_folder_uses_val_root(make_folder):
    root, val_root = make_folder(count=4), make_folder(count=2, name="val")
    train, val = index_folder(folder_config(root, f"data.val_root={val_root}"))
    assert len(train) == 4 and [i.parent.parent for i, _ in val] == [val_root, val_root]


def test_index_folder_imports_no_torch():
    code = (
        "import sys, densecli.data.folder_index, densecli.data\n"
        "assert 'torch' not in sys.modules and 'albumentations' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --- modes and encodings -----------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("mode", IMAGE_MODES)
def test_folder_image_modes_become_model_channels(make_folder, mode, channels):
    data = source_of(make_folder(count=2, image_mode=mode), f"model.in_channels={channels}")
    image, mask = data.load(0)
    assert image.shape == (32, 40, channels) and image.dtype == np.uint8
    # drawn from the mask: bright exactly where the mask says foreground
    light = image.astype(np.float32) @ LUMA if channels == 3 else image[:, :, 0]
    assert np.array_equal(light > 128, mask == 1)


def test_folder_gray_is_replicated_and_rgb_becomes_luminance(make_folder):
    gray = source_of(make_folder(count=2, image_mode="L"), "model.in_channels=3").load(0)[0]
    assert np.array_equal(gray[:, :, 0], gray[:, :, 2])
    data = source_of(make_folder(count=2, name="rgb"), "model.in_channels=1")
    rgb = np.asarray(Image.open(data.pairs[0][0]), dtype=np.float32)
    assert np.abs(data.load(0)[0][:, :, 0] - (rgb @ LUMA).round()).max() <= 1


@pytest.mark.parametrize("encoding", BINARY_MASKS)
def test_folder_binary_mask_encodings_decode_to_zero_one(make_folder, encoding):
    data = source_of(make_folder(count=2, mask=encoding))
    for index, (image_path, _) in enumerate(data.pairs):
        expected = labels_for(int(image_path.stem[1:]))
        assert np.array_equal(data.load(index)[1], expected), encoding


@pytest.mark.parametrize("encoding", ["index", "palette"])
def test_folder_multiclass_masks_keep_class_ids_and_ignore(make_folder, encoding):
    root = make_folder(count=2, mask=encoding, num_classes=3)
    labels = labels_for(0, num_classes=3)
    labels[0, :5] = 255  # unlabeled strip
    (root / "masks" / "s0.png").unlink()
    mask_in_encoding(labels, encoding).save(root / "masks" / "s0.png")
    train, val = build_datasets(folder_config(root, "data.num_classes=3", "data.val_fraction=0.5"))
    source = train.source if train.source.pairs[0][0].stem == "s0" else val.source
    decoded = source.load(0)[1]
    assert set(np.unique(decoded).tolist()) == {0, 1, 2, IGNORE}
    assert np.array_equal(decoded, labels)


def test_folder_difficulty_from_masks_ranks_cluttered_masks_hardest(make_folder):
    root = make_folder(count=6)
    dots = np.zeros((32, 40), dtype=np.uint8)
    dots[2::6, 3::6] = 255  # many one-pixel objects: small, cluttered, all boundary
    Image.fromarray(dots).save(root / "masks" / "s3.png")
    train, val = build_datasets(folder_config(root))
    scores = dict(zip([i.stem for i, _ in train.source.pairs + val.source.pairs],
                      np.concatenate([train.difficulty, val.difficulty])))  # fmt: skip
    assert all(0 <= score <= 1 for score in scores.values())
    assert scores["s3"] == max(scores.values()) > min(scores.values())


def test_folder_difficulty_read_from_csv(make_folder, tmp_path):
    root = make_folder(count=4)
    csv = tmp_path / "difficulty.csv"
    csv.write_text("stem,difficulty\ns0,0.1\ns1,0.2\ns2,0.3\ns3,0.9\n")
    train, val = build_datasets(folder_config(root, f"data.difficulty_csv={csv}"))
    for dataset in (train, val):
        stems = [int(image.stem[1:]) for image, _ in dataset.source.pairs]
        assert dataset.difficulty.tolist() == pytest.approx(
            [(0.1, 0.2, 0.3, 0.9)[s] for s in stems]
        )


# --- bad data: one line naming the file, raised by build_datasets ------------------------


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _jpeg_cut(root: Path) -> None:
    path = root / "images" / "s1.png"
    Image.open(path).convert("RGB").save(root / "images" / "s1.jpg", quality=90)
    path.unlink()
    _truncate(root / "images" / "s1.jpg")


def _resize_mask(root: Path) -> None:
    Image.open(root / "masks" / "s2.png").resize((20, 16)).save(root / "masks" / "s2.png")


def _write_mask(stem: str, values: np.ndarray, mode: str | None = None):
    def write(root: Path) -> None:
        Image.fromarray(values, mode=mode).save(root / "masks" / f"{stem}.png")

    return write


INDEX_MASK = np.tile(np.arange(4, dtype=np.uint8), (32, 10))  # values 0..3, 32 x 40
COLOR_MASK = np.zeros((32, 40, 3), dtype=np.uint8)
COLOR_MASK[4:10, 4:10] = (255, 0, 0)
BAD_DATA = {
    "missing-root": (lambda root: None, ["data.root=/no/such/folder"],
                     r"^data\.root: folder '/no/such/folder' does not exist; .*set data\.root="),
    "missing-image-dir": (lambda root: None, ["data.image_dir=imgs"],
                          r"^data\.image_dir: folder '.*imgs' does not exist \(folders there: "
                          r"images, masks\); set data\.image_dir"),
    "images-without-masks": (lambda root: [(root / "masks" / f"s{i}.png").unlink()
                                           for i in (4, 5)], [],
                             r"2 image\(s\) without a mask in '.*masks' \(s4\.png, s5\.png\);"
                             r" images and masks pair by file stem"),
    "masks-without-images": (lambda root: (root / "images" / "s1.png").unlink(), [],
                             r"1 mask\(s\) without an image in '.*images' \(s1\.png\)"),
    "empty": (lambda root: [p.unlink() for p in (root / "images").iterdir()], [],
              r"^data\.root: no images in '.*images' \(looked for \.png, \.jpg"),
    "one-pair-no-split": (lambda root: [(root / d / f"s{i}.png").unlink() for i in range(1, 6)
                                        for d in ("images", "masks")], [],
                          r"holds 1 image/mask pair; a train/val split needs at least 2"),
    "duplicate-stem": (lambda root: (root / "images" / "s0.bmp").write_bytes(b"x"), [],
                       r"'s0\.(png|bmp)' and 's0\.(png|bmp)' in '.*images' share the stem"),
    "unreadable-image": (lambda root: (root / "images" / "s3.png").write_bytes(b"not a png"), [],
                         r"s3\.png: cannot read the image \(.*\); re-export it or remove it"),
    "truncated-png": (lambda root: _truncate(root / "images" / "s2.png"), [],
                      r"images/s2\.png: cannot read the image"),
    "truncated-jpeg": (_jpeg_cut, [], r"images/s1\.jpg: cannot read the image \((?i:.*truncated)"),
    "truncated-mask": (lambda root: _truncate(root / "masks" / "s0.png"), [],
                       r"masks/s0\.png: cannot read the mask"),
    "size-mismatch": (_resize_mask, [],
                      r"masks/s2\.png: mask is 20x16 but its image s2\.png is 40x32 "
                      r"\(width x height\); allowed: equal sizes"),
    "index-mask-for-binary": (_write_mask("s1", INDEX_MASK), [],
                              r"masks/s1\.png: mask values \{0, 1, 2, 3\} fit no binary encoding;"
                              r" .*set data\.num_classes=4$"),
    "values-above-classes": (_write_mask("s1", INDEX_MASK * 2), ["data.num_classes=3"],
                             r"masks/s1\.png: mask values \{4, 6\} are not class ids; allowed: "
                             r"0\.\.2 and data\.ignore_index=255; set data\.num_classes=7"),
    "colored-mask": (_write_mask("s0", COLOR_MASK), [],
                     r"masks/s0\.png: mask is colored \(RGB with R, G, B differing\)"),
    "several-bad-pairs": (lambda root: [_truncate(root / "images" / f"s{i}.png")
                                        for i in (1, 3, 4)], [],
                          r"s1\.png: cannot read the image .* \(2 more bad pair\(s\): s3, s4\)$"),
    "csv-missing-rows": (lambda root: (root / "d.csv").write_text("s0,0.5\n"),
                         ["data.difficulty_csv=@root/d.csv"],
                         r"data\.difficulty_csv: '.*d\.csv' has no row for 5 sample\(s\) "
                         r"\(s1, s2, s3, \.\.\.\); add a stem,difficulty row"),
    "csv-bad-value": (lambda root: (root / "d.csv").write_text("stem,difficulty\ns0,1.5\n"),
                      ["data.difficulty_csv=@root/d.csv"],
                      r"'.*d\.csv' line 2 is 's0,1\.5'; allowed: stem,difficulty with "
                      r"difficulty in \[0, 1\]"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_DATA), ids=list(BAD_DATA))
def test_folder_bad_data_refused_by_build_datasets(make_folder, case):
    spoil, overrides, message = BAD_DATA[case]
    root = make_folder(count=6)
    spoil(root)
    overrides = [o.replace("@root", str(root)) for o in overrides]
    with pytest.raises(DataError, match=message) as info:
        build_datasets(folder_config(root, *overrides))
    assert "\n" not in str(info.value)


# --- the real dataset --------------------------------------------------------------------


@pytest.mark.skipif(not MEMBRANE.is_dir(), reason=f"membrane dataset absent at {MEMBRANE}")
def test_folder_membrane_dataset_checks_and_loads():
    cfg = folder_config(MEMBRANE, "data.image_dir=image", "data.mask_dir=label",
                        "data.image_size=256")  # fmt: skip
    start = time.perf_counter()
    train, val = build_datasets(cfg)
    assert time.perf_counter() - start < 20  # 30 pairs; about 0.1 s when the CPU is free
    assert (len(train), len(val)) == (24, 6)
    image, mask = train[(0, 1)]
    assert image.shape == (3, 256, 256) and mask.shape == (256, 256)
    assert set(mask.unique().tolist()) <= {0, 1, 255}
    image, mask = val[0]
    assert image.shape == (3, 512, 512) and set(mask.unique().tolist()) == {0, 1}
