"""The command line as a user meets it: help, one-line errors, no torch on fast paths."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ENV = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "MPLBACKEND": "Agg"}


def densecli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "densecli", *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
        timeout=300,
    )


def test_cli_help_lists_commands():
    result = densecli("--help")
    assert result.returncode == 0
    for command in ("train", "resume", "schedules", "preview", "compare"):
        assert f"  {command} " in result.stdout


def test_cli_unknown_command_suggests():
    result = densecli("trian")
    assert result.returncode == 2
    assert "did you mean 'train'" in result.stderr


def test_cli_train_help_lists_groups_and_options():
    result = densecli("train", "--help")
    assert result.returncode == 0
    assert "scheduler: constant, cosine, cosine_warmup, one_cycle, poly, step, warmup" in (
        result.stdout
    )
    for group in (
        "model",
        "data",
        "augmentation",
        "optimizer",
        "loss",
        "curriculum",
        "trainer",
        "experiment",
    ):
        assert f"{group}: " in result.stdout


def test_cli_train_cfg_job_prints_composed_config():
    result = densecli("train", "optimizer=sgd", "optimizer.lr=0.05", "--cfg", "job")
    assert result.returncode == 0, result.stderr
    assert "name: sgd" in result.stdout and "lr: 0.05" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["optimizer.lr=0"], "optimizer.lr: got 0.0; allowed: a number > 0"),
        (["scheduler=cosinus"], "Did you mean scheduler=cosine?"),
        (["trainer.accumulate_grad_batches=0"], "trainer.accumulate_grad_batches: got 0"),
        (["-m", "scheduler=cosine,nope"], "scheduler: got 'nope'"),
    ],
    ids=["zero-lr", "unknown-scheduler", "zero-accumulation", "bad-arm-of-a-sweep"],
)
def test_cli_train_bad_config_exits_2_with_one_line(args, message, tmp_path):
    result = densecli("train", *args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir()), "a refused run must write nothing"


def test_cli_schedules_writes_png_without_torch(tmp_path):
    out = tmp_path / "lr.png"
    code = (
        "import sys\n"
        "from densecli.cli import main\n"
        f"try:\n    main(['schedules', 'scheduler=one_cycle', 'trainer.max_epochs=30', "
        f"'--out', {str(out)!r}])\n"
        "except SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "print('torch imported:', 'torch' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=300
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "torch imported: False"
    assert lines[-2] == str(out.resolve()) and out.stat().st_size > 10_000
    assert "30 epochs" in lines[0]


def test_cli_schedules_compares_options(tmp_path):
    result = densecli("schedules", "--out", "all.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert Path(lines[-1]) == (tmp_path / "all.png").resolve()
    labels = [line.split(":")[0] for line in lines[:-1]]
    assert labels == ["step", "cosine", "one_cycle", "warmup", "cosine_warmup", "poly", "constant"]
