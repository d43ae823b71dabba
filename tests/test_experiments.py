"""Every mini-exercise composes, runs as a tiny multirun, and `compare` reports its arms."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import TINY_RUN

from densecli.compose import compose_config, config_dir, sweep_jobs
from densecli.plan import plan_run
from densecli.runs import find_runs, read_run

EXPERIMENTS = sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml"))
ENV = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "MPLBACKEND": "Agg"}
TINY_SWEEP = [*TINY_RUN, "trainer.max_epochs=2", "trainer.val_every_n_epochs=1"]


def test_experiments_are_the_course_exercises():
    assert set(EXPERIMENTS) == {
        "fixed_vs_cosine",
        "augmentation_overfit",
        "warmup_vs_none",
        "resolution_curriculum",
        "one_cycle_vs_cosine",
        "sample_curriculum",
        "loss_curriculum",
    }


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_arms_compose_and_plan(name):
    jobs = sweep_jobs([f"experiment={name}"])
    assert len(jobs) >= 2
    for job in jobs:
        plan_run(compose_config(job))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_runs_a_tiny_sweep_and_compares(name, tmp_path):
    sweep_dir = tmp_path / name
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "densecli",
            "train",
            "-m",
            f"experiment={name}",
            *TINY_SWEEP,
            f"hydra.sweep.dir={sweep_dir}",
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    arms = sweep_jobs([f"experiment={name}"])
    runs = find_runs(sweep_dir)
    assert len(runs) == len(arms)
    for run_dir in runs:
        scalars = read_run(run_dir).scalars
        assert "val/dice" in scalars, run_dir
        overrides = yaml.safe_load((run_dir / ".hydra/overrides.yaml").read_text())
        curriculum = next((o for o in overrides if o.startswith("curriculum=")), "")
        if curriculum and curriculum != "curriculum=none":
            assert any(tag.startswith("curriculum/") for tag in scalars), run_dir
        assert "experiment=" not in run_dir.name, "job directories name only the arm"

    report = subprocess.run(
        [sys.executable, "-m", "densecli", "compare", str(sweep_dir)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    assert report.returncode == 0, report.stderr
    for arm in arms:
        assert arm[-1] in report.stdout, arm
    outputs = [Path(line) for line in report.stdout.strip().splitlines()[-3:]]
    assert {p.suffix for p in outputs} == {".csv", ".md", ".png"}
    assert all(p.is_file() for p in outputs)
