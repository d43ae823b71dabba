"""`densecli preview` as a user runs it: a PNG path last on stdout, or one error line."""

import os
import subprocess
import sys
from pathlib import Path

ENV = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "MPLBACKEND": "Agg"}


def densecli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "densecli", *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )


def test_preview_prints_png_path_last(make_folder, tmp_path):
    root = make_folder(count=6, mask="palette", num_classes=3)
    out = tmp_path / "grid" / "preview.png"
    result = densecli(
        "preview", "data=folder", f"data.root={root}", "data.image_size=32",
        "data.num_classes=3", "--num", "4", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    last = Path(result.stdout.strip().splitlines()[-1])
    assert last.is_absolute() and last == out.resolve()
    assert last.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_preview_bad_dataset_exits_2_with_one_line(make_folder):
    root = make_folder(count=6)
    mask = root / "masks" / "s2.png"
    mask.write_bytes(mask.read_bytes()[:40])
    result = densecli("preview", "data=folder", f"data.root={root}", "data.image_size=32")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("densecli preview: error: ")
    assert "masks/s2.png: cannot read the mask" in lines[0]
    assert result.stdout == ""
