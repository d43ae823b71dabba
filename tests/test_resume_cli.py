"""`densecli resume` after a real SIGKILL, through the command line as a user would."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import TINY_RUN

ENV = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "MPLBACKEND": "Agg"}
RUN = [*TINY_RUN, "trainer.max_epochs=4", "trainer.deterministic=true", "data.num_train=32"]


def densecli(*args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "densecli", *args],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


@pytest.mark.slow
def test_resume_after_sigkill_equals_uninterrupted(tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert densecli("train", *RUN, f"hydra.run.dir={whole}").wait(timeout=600) == 0

    proc = densecli("train", *RUN, f"hydra.run.dir={split}")
    last = split / "checkpoints" / "last.pt"
    deadline = time.monotonic() + 600
    while not last.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # into the second epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = torch.load(last, weights_only=True)["step"]
    assert killed_at < 32, "killed before the end"

    resumed = densecli("resume", str(split))
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read()
    a = torch.load(whole / "checkpoints/last.pt", weights_only=True)
    b = torch.load(last, weights_only=True)
    assert a["step"] == b["step"] == 32  # 8 batches of 4, 4 epochs
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key


def test_resume_of_a_folder_without_a_run_is_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "densecli", "resume", str(tmp_path)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "not a densecli run directory" in result.stderr
