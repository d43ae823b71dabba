"""Few-step training runs on tiny images: what a run writes, and what it must get right."""

import csv
import math

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

from densecli import trainer as trainer_module
from densecli.compose import compose_config
from densecli.errors import CheckpointError
from densecli.plan import plan_run
from densecli.train import train


def scalars(run_dir, tag):
    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    events.Reload()
    return [(e.step, e.value) for e in events.Scalars(tag)]


def summary_tags(run_dir):
    tags = set()
    for path in run_dir.glob("events.out.tfevents.*"):
        for event in EventFileLoader(str(path)).Load():
            tags.update(v.tag for v in event.summary.value)
    return tags


def test_train_writes_one_lr_per_optimizer_step_following_the_schedule(tmp_path, tiny_run):
    overrides = [
        *tiny_run,
        "trainer.accumulate_grad_batches=2",
        "trainer.max_epochs=4",
        "scheduler.warmup_fraction=0.25",
    ]
    cfg = compose_config(overrides)
    best = train(cfg, run_dir=tmp_path)

    clock, schedule = plan_run(cfg)
    assert clock.total_steps == 8  # 4 batches per epoch, 2 per step, 4 epochs
    lrs = scalars(tmp_path, "train/lr")
    assert [step for step, _ in lrs] == list(range(clock.total_steps))
    expected = [cfg.optimizer.lr * schedule(t) for t in range(clock.total_steps)]
    assert [lr for _, lr in lrs] == pytest.approx(expected, rel=1e-5)
    peak = max(range(len(lrs)), key=lambda i: lrs[i][1])
    assert lrs[peak][1] == pytest.approx(cfg.optimizer.lr, rel=1e-5)
    assert 0 < peak < len(lrs) - 1, "warms up, then decays"
    assert all(a[1] < b[1] for a, b in zip(lrs[:peak], lrs[1 : peak + 1]))
    assert all(a[1] >= b[1] for a, b in zip(lrs[peak:], lrs[peak + 1 :]))

    tags = summary_tags(tmp_path)
    for tag in (
        "train/loss",
        "train/loss_bce",
        "train/loss_dice",
        "train/grad_norm",
        "val/loss",
        "val/dice",
        "val/iou",
        "val/sample_0",
        "val/sample_1",
    ):
        assert tag in tags, tag
    assert {"_hparams_/experiment", "_hparams_/session_start_info"} <= tags
    assert 0 <= best <= 1
    for name in ("last.pt", "best.pt"):
        state = torch.load(tmp_path / "checkpoints" / name, weights_only=True)
        assert state["step"] >= 1 and "optimizer" in state and "rng" in state
    with (tmp_path / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert float(rows[-1]["val/dice"]) == pytest.approx(scalars(tmp_path, "val/dice")[-1][1])


def test_train_refuses_to_overwrite_a_run(tmp_path, tiny_run):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.pt").write_bytes(b"earlier run")
    with pytest.raises(CheckpointError, match="already holds a run.*densecli resume"):
        train(compose_config(tiny_run), run_dir=tmp_path)
    assert (tmp_path / "checkpoints" / "last.pt").read_bytes() == b"earlier run"


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs."""


def test_train_killed_and_resumed_equals_uninterrupted(tmp_path, tiny_run, monkeypatch):
    overrides = [
        *tiny_run,
        "trainer.max_epochs=3",
        "trainer.deterministic=true",
        "trainer.accumulate_grad_batches=3",
    ]
    train(compose_config(overrides), run_dir=tmp_path / "whole")

    save = trainer_module.Trainer._validate_and_save

    def save_then_die(self, train_loss):
        save(self, train_loss)
        # die halfway through the next epoch's batches
        loader = self.p.train_loader
        for i, _ in enumerate(loader):
            if i == 2:
                raise Killed

    monkeypatch.setattr(trainer_module.Trainer, "_validate_and_save", save_then_die)
    with pytest.raises(Killed):
        train(compose_config(overrides), run_dir=tmp_path / "split")
    monkeypatch.setattr(trainer_module.Trainer, "_validate_and_save", save)
    train(compose_config(overrides), run_dir=tmp_path / "split", resume=True)

    whole = torch.load(tmp_path / "whole/checkpoints/last.pt", weights_only=True)
    split = torch.load(tmp_path / "split/checkpoints/last.pt", weights_only=True)
    assert whole["step"] == split["step"] == 6
    for key, value in whole["model"].items():
        assert torch.equal(value, split["model"][key]), key
    # the resumed run appends to the same TensorBoard run, one point per step
    steps = [step for step, _ in scalars(tmp_path / "split", "train/loss")]
    assert steps == list(range(6))
    assert [s for s, _ in scalars(tmp_path / "split", "val/dice")] == [1, 3, 5]


def test_train_accumulation_matches_one_large_batch(tmp_path, tiny_run, monkeypatch):
    # a model without batch norm, plain SGD and BCE: the update depends only on the gradient
    def conv_net(cfg):
        torch.manual_seed(0)
        net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 1, 1)
        )
        net.encoder = type("Stride", (), {"output_stride": 1})()
        return net

    monkeypatch.setattr("densecli.train.build_model", conv_net)
    common = [
        *tiny_run,
        "trainer.max_epochs=1",
        "optimizer=sgd",
        "optimizer.momentum=0",
        "optimizer.weight_decay=0",
        "optimizer.nesterov=false",
        "scheduler=constant",
        "loss=bce",
        "augmentation=none",
        "trainer.gradient_clip_val=null",
    ]
    train(
        compose_config([*common, "data.batch_size=2", "trainer.accumulate_grad_batches=4"]),
        run_dir=tmp_path / "accumulated",
    )
    train(
        compose_config([*common, "data.batch_size=8", "trainer.accumulate_grad_batches=1"]),
        run_dir=tmp_path / "large",
    )

    small = torch.load(tmp_path / "accumulated/checkpoints/last.pt", weights_only=True)
    large = torch.load(tmp_path / "large/checkpoints/last.pt", weights_only=True)
    assert small["step"] == large["step"] == 2
    for key, value in large["model"].items():
        torch.testing.assert_close(small["model"][key], value, rtol=1e-5, atol=1e-7)


def test_train_skips_nonfinite_steps_then_stops(tmp_path, tiny_run, monkeypatch):
    from densecli.losses import SegmentationLoss

    forward = SegmentationLoss.forward
    calls = {"n": 0}

    def poisoned(self, logits, mask, dice_scale=1.0):
        total, terms = forward(self, logits, mask, dice_scale)
        calls["n"] += 1
        if torch.is_grad_enabled() and calls["n"] >= 3:  # training steps only
            total = total * math.nan
        return total, terms

    monkeypatch.setattr(SegmentationLoss, "forward", poisoned)
    cfg = compose_config([*tiny_run, "trainer.max_nonfinite_steps=3"])
    with pytest.raises(trainer_module.TrainingError, match=r"3 optimizer steps in a row"):
        train(cfg, run_dir=tmp_path)
    counts = scalars(tmp_path, "train/nonfinite_steps")
    assert [v for _, v in counts] == [0, 0, 1, 2]  # steps 2 and 3 skipped, step 4 stops it
    best = torch.load(tmp_path / "checkpoints/best.pt", weights_only=True)
    assert best["step"] == 4 and best["nonfinite_total"] == 2
    assert all(torch.isfinite(w).all() for w in best["model"].values())


def test_train_init_from_loads_weights_only(tmp_path, tiny_run):
    train(compose_config([*tiny_run, "trainer.max_epochs=1"]), run_dir=tmp_path / "first")
    source = tmp_path / "first/checkpoints/last.pt"
    cfg = compose_config([*tiny_run, "trainer.max_epochs=1", f"model.init_from={source}"])
    train(cfg, run_dir=tmp_path / "tuned")
    lrs = scalars(tmp_path / "tuned", "train/lr")
    assert lrs[0][0] == 0, "the schedule starts from step 0"


def test_train_init_from_a_missing_file_is_one_line(tmp_path, tiny_run):
    cfg = compose_config([*tiny_run, f"model.init_from={tmp_path / 'nope.pt'}"])
    with pytest.raises(CheckpointError, match=r"nope.pt: no such checkpoint file"):
        train(cfg, run_dir=tmp_path / "run")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_train_fp16_on_cuda_uses_a_scaler(tmp_path, tiny_run):
    best = train(compose_config([*tiny_run, "trainer.amp=fp16"]), run_dir=tmp_path)
    assert math.isfinite(best)
    state = torch.load(tmp_path / "checkpoints/last.pt", weights_only=True)
    assert state["scaler"]["scale"] > 0
