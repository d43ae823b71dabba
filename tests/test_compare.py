import math
import subprocess
import sys
from pathlib import Path

import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.scalar.summary_v2 import scalar_pb
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from densecli.commands.compare import cell, load_arms
from densecli.commands.compare import run as compare_command
from densecli.compare import compare, early_window_end, group_arms, load_run
from densecli.errors import ConfigError, DataError
from densecli.runs import find_runs, read_run


def write_events(
    run_dir: Path, scalars: dict, overrides: list[str] | None = None, restart: int | None = None
) -> None:
    """One event file in `run_dir` holding `{tag: [(step, value, wall_time), ...]}`; with
    `restart`, it opens with the marker torch's `SummaryWriter(purge_step=restart)` writes."""
    writer = EventFileWriter(str(run_dir))
    if restart is not None:
        start = event_pb2.SessionLog(status=event_pb2.SessionLog.START)
        writer.add_event(event_pb2.Event(step=restart, session_log=start))
    for tag, points in scalars.items():
        for step, value, wall in points:
            value_pb = summary_pb2.Summary.Value(tag=tag, simple_value=value)
            summary = summary_pb2.Summary(value=[value_pb])
            writer.add_event(event_pb2.Event(wall_time=wall, step=step, summary=summary))
    writer.close()
    if overrides is not None:
        (run_dir / ".hydra").mkdir(exist_ok=True)
        lines = "".join(f"- {item}\n" for item in overrides)
        (run_dir / ".hydra" / "overrides.yaml").write_text(lines or "[]\n")


def sweep_run(run_dir: Path, overrides: list[str], dice: float, speed: float) -> None:
    """A short run whose final val/dice and logged steps/s are `dice` and `speed`."""
    steps = range(1, 21)
    write_events(
        run_dir,
        {
            "train/loss": [(s, 1.0 / s, 100.0 + s) for s in steps],
            "train/lr": [(s, 1e-3, 100.0 + s) for s in steps],
            "train/grad_norm": [(s, 2.0, 100.0 + s) for s in steps],
            "perf/steps_per_sec": [(s, speed, 100.0 + s) for s in steps],
            "val/loss": [(10, 0.5, 110.0), (20, 0.4, 120.0)],
            "val/dice": [(10, dice / 2, 110.0), (20, dice, 120.0)],
        },
        overrides,
    )


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    """2 arms x 2 seeds, laid out as a Hydra sweep with jobs named after their overrides."""
    root = tmp_path / "multirun" / "2024-01-01" / "12-00-00"
    values = {
        "constant": ((1, 0.5, 10.0), (2, 0.7, 12.0)),
        "cosine": ((1, 0.8, 20.0), (2, 0.9, 20.0)),
    }
    for scheduler, seeds in values.items():
        for seed, dice, speed in seeds:
            overrides = [f"scheduler={scheduler}", f"seed={seed}"]
            job = root / ",".join(overrides)
            job.mkdir(parents=True)
            sweep_run(job, overrides, dice, speed)
    (root / "multirun.yaml").write_text("hydra: {}\n")
    return root


def test_compare_arm_means_and_stds_over_seeds(sweep: Path) -> None:
    arms = compare(sweep.parent.parent)  # a folder of sweeps finds the same runs
    assert [arm.name for arm in arms] == ["scheduler=constant", "scheduler=cosine"]
    constant, cosine = arms
    assert constant.seeds == ["1", "2"] and len(cosine.runs) == 2
    assert constant.stats["val_dice_final"] == pytest.approx((0.6, math.sqrt(0.02)))
    assert cosine.stats["val_dice_final"] == pytest.approx((0.85, math.sqrt(0.005)))
    assert constant.stats["steps_per_sec"] == pytest.approx((11.0, math.sqrt(2.0)))
    assert cosine.stats["steps_per_sec"] == pytest.approx((20.0, 0.0))
    assert constant.stats["val_dice_best"] == pytest.approx((0.6, math.sqrt(0.02)))
    # train/loss over its last 10% of points: steps 19 and 20
    assert constant.stats["train_loss_final"][0] == pytest.approx((1 / 19 + 1 / 20) / 2)
    assert constant.stats["wall_time_s"] == pytest.approx((19.0, 0.0))


def test_group_arms_ignores_seed_and_override_order(tmp_path: Path) -> None:
    runs = {
        "a": ["optimizer=sgd", "seed=1", "scheduler=poly"],
        "b": ["seed=2", "scheduler=poly", "optimizer=sgd"],
        "c": ["scheduler=poly"],
        "solo": [],
    }
    for name, overrides in runs.items():
        (tmp_path / name).mkdir()
        write_events(tmp_path / name, {"train/loss": [(1, 1.0, 1.0)]}, overrides)
    arms = group_arms([load_run(path, 0.1) for path in find_runs(tmp_path)])
    assert [(arm.name, arm.seeds) for arm in arms] == [
        ("optimizer=sgd,scheduler=poly", ["1", "2"]),
        ("scheduler=poly", ["-"]),
        ("solo", ["-"]),
    ]


def test_group_arms_names_several_runs_without_overrides_default(tmp_path: Path) -> None:
    for name in ("x", "y"):
        (tmp_path / name).mkdir()
        write_events(tmp_path / name, {"train/loss": [(1, 1.0, 1.0)]}, [f"seed={name}"])
    assert [arm.name for arm in compare(tmp_path)] == ["default"]


def test_run_metrics_closed_form(tmp_path: Path) -> None:
    # loss alternates 1, 3 over steps 1..10 (every change is 2), holds at 2, ends 0.1..1.0
    loss = [(s, 1.0 if s % 2 else 3.0) for s in range(1, 11)]
    loss += [(s, 2.0) for s in range(11, 91)] + [(s, (s - 90) / 10) for s in range(91, 101)]
    # the first gradient (at initialization) does not count; step 50 is not early
    peaks = {1: 50.0, 7: 9.0, 50: 100.0}
    grad = [(s, peaks.get(s, 1.0)) for s in range(1, 101)]
    write_events(
        tmp_path,
        {
            "train/loss": [(s, v, 1000.0 + s / 2) for s, v in loss],
            "train/grad_norm": [(s, v, 1000.0 + s / 2) for s, v in grad],
            "val/loss": [(50, 0.9, 1025.0), (100, 0.8, 1050.0)],
            "val/dice": [(50, 0.7, 1025.0), (100, 0.6, 1050.0)],
        },
    )
    metrics = load_run(tmp_path, early_fraction=0.1).metrics
    assert metrics["loss_jitter_early"] == pytest.approx(2.0)
    assert metrics["grad_norm_peak_early"] == pytest.approx(9.0)
    assert metrics["train_loss_final"] == pytest.approx(0.55)
    assert metrics["gap"] == pytest.approx(0.8 - 0.55)
    assert (metrics["val_dice_final"], metrics["val_dice_best"]) == pytest.approx((0.6, 0.7))
    assert metrics["steps_per_sec"] == pytest.approx(99 / 49.5)  # from wall times: 2 steps/s
    assert metrics["wall_time_s"] == pytest.approx(1050.0 - 1000.5)


def test_early_window_end_widens_to_first_five_points() -> None:
    assert early_window_end([*range(10, 210, 10)], 0.1) == 50  # 0.1 x 200 = 20: 2 points
    assert early_window_end([*range(1, 101)], 0.1) == 10.0
    assert early_window_end([3, 4], 0.1) == 4


def test_load_run_merges_resumed_event_files_later_write_wins(tmp_path: Path) -> None:
    # the first run logged up to step 6 and stopped; the resume restarted at step 5
    write_events(tmp_path, {"train/loss": [(s, 10.0 + s, float(s)) for s in range(1, 7)]})
    write_events(tmp_path, {"train/loss": [(s, 20.0 + s, 100.0 + s) for s in range(5, 9)]})
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 2
    run = load_run(tmp_path, 0.1)
    assert run.scalars["train/loss"].steps.tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    assert run.scalars["train/loss"].values.tolist() == [11, 12, 13, 14, 25, 26, 27, 28]
    assert run.metrics["wall_time_s"] == pytest.approx(5.0 + 3.0)  # the pause is not counted
    assert run.metrics["steps_per_sec"] == pytest.approx((5 + 3) / (5.0 + 3.0))


def test_load_run_drops_steps_a_restart_marker_purges(tmp_path: Path) -> None:
    # killed after validating at step 7, resumed from the checkpoint of step 4
    first = {"train/loss": [(s, 1.0, float(s)) for s in range(1, 9)], "val/dice": [(7, 0.5, 7.0)]}
    write_events(tmp_path, first)
    write_events(tmp_path, {"train/loss": [(s, 2.0, 100.0 + s) for s in (6, 8)]}, restart=5)
    run = load_run(tmp_path, 0.1)
    assert run.scalars["train/loss"].steps.tolist() == [1, 2, 3, 4, 6, 8]
    assert run.scalars["train/loss"].values.tolist() == [1, 1, 1, 1, 2, 2]
    assert "val/dice" not in run.scalars


def test_read_run_reads_scalars_stored_as_tensors(tmp_path: Path) -> None:
    writer = EventFileWriter(str(tmp_path))
    writer.add_event(event_pb2.Event(wall_time=5.0, step=3, summary=scalar_pb("val/dice", 0.25)))
    writer.close()
    series = read_run(tmp_path).scalars["val/dice"]
    assert (series.steps.tolist(), series.values.tolist()) == ([3], [0.25])


def test_find_runs_skips_checkpoints_and_folders_inside_runs(tmp_path: Path) -> None:
    write_events(tmp_path / "run", {"train/loss": [(1, 1.0, 1.0)]})
    write_events(tmp_path / "run" / "1700000000.0", {"hparam/dice": [(0, 1.0, 1.0)]})
    write_events(tmp_path / "other" / "checkpoints", {"train/loss": [(1, 1.0, 1.0)]})
    assert find_runs(tmp_path) == [tmp_path / "run"]


def test_compare_command_missing_tags_leave_blank_cells(tmp_path: Path, capsys) -> None:
    write_events(tmp_path, {"train/loss": [(1, 2.0, 1.0), (2, 1.0, 2.0)]}, ["seed=3"])
    assert compare_command([str(tmp_path)]) == 0
    metrics = compare(tmp_path)[0].runs[0].metrics
    assert math.isnan(metrics["val_dice_final"]) and math.isnan(metrics["gap"])
    csv_row = (tmp_path / "compare.csv").read_text().splitlines()[1]
    assert csv_row.startswith(f"{tmp_path.name},1,3,,,")


def test_cell_shows_std_only_for_several_seeds() -> None:
    assert cell(0.5, math.nan, ".4f") == "0.5000"
    assert cell(0.5, 0.25, "+.4f") == "+0.5000 ± 0.2500"
    assert cell(math.nan, math.nan, ".4f") == "-"


def test_compare_command_writes_outputs_and_prints_paths_last(sweep: Path, capsys) -> None:
    out = sweep / "report"
    assert compare_command([str(sweep), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = ["compare.csv", "compare.md", "compare.png"]
    assert lines[-3:] == [str((out / name).resolve()) for name in names]
    assert all((out / name).stat().st_size > 0 for name in names)
    assert "| 0.600 ± 0.141 |" in (out / "compare.md").read_text()
    assert any(line.startswith("scheduler=cosine ") for line in lines)


@pytest.mark.parametrize(
    "folder, fraction, error, match",
    [
        ("missing", 0.1, DataError, r"missing: no such directory; expected a run directory"),
        (".", 1.5, ConfigError, r"--early-fraction: got 1.5; allowed: .* \(0, 1\]"),
    ],
    ids=["missing-dir", "fraction-above-one"],
)
def test_load_arms_rejects_bad_arguments(tmp_path: Path, folder, fraction, error, match) -> None:
    with pytest.raises(error, match=match):
        load_arms(tmp_path / folder, fraction)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    code = (
        "import sys\nfrom densecli.cli import main\n"
        "try:\n    main(sys.argv[1:])\nfinally:\n"
        "    print('torch imported:', 'torch' in sys.modules)\n"
    )
    command = [sys.executable, "-c", code, "compare", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_compare_cli_empty_dir_exits_2_with_one_line(tmp_path: Path) -> None:
    done = run_cli(str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"densecli compare: error: {tmp_path}: no runs found inside; expected a run directory "
        "with TensorBoard event files (events.out.tfevents.*) or a folder above such runs, "
        "e.g. runs/<date>/<time> or multirun/<date>/<time>"
    ]


def test_compare_cli_does_not_import_torch(sweep: Path) -> None:
    done = run_cli(str(sweep))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "torch imported: False"
