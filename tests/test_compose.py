import pytest

from densecli.compose import compose_config, group_options, sweep_jobs
from densecli.errors import ConfigError
from densecli.plan import plan_run

EXPECTED_GROUPS = {
    "model": {"unet", "fpn"},
    "data": {"shapes", "folder"},
    "augmentation": {"none", "basic", "strong", "elastic"},
    "optimizer": {"adamw", "adam", "sgd"},
    "scheduler": {"constant", "step", "cosine", "cosine_warmup", "one_cycle", "warmup", "poly"},
    "loss": {"bce", "dice", "bce_dice"},
    "curriculum": {"none"},
    "trainer": {"default"},
}


def test_group_options_lists_every_group():
    options = group_options()
    for group, expected in EXPECTED_GROUPS.items():
        assert expected <= set(options[group]), group
    assert "experiment" in options


def test_compose_default_recipe():
    cfg = compose_config()
    assert cfg.optimizer.name == "adamw" and cfg.optimizer.lr == pytest.approx(3e-4)
    assert cfg.scheduler.name == "cosine" and cfg.scheduler.warmup_fraction > 0
    assert cfg.loss.weights.bce > 0 and cfg.loss.weights.dice > 0
    assert cfg.augmentation.name == "basic"
    assert cfg.trainer.amp == "auto"
    assert cfg.model.encoder_weights is None
    for key in (
        "seed",
        "trainer.max_epochs",
        "trainer.accumulate_grad_batches",
        "trainer.log_every_n_steps",
        "trainer.deterministic",
        "data.batch_size",
        "data.image_size",
        "data.num_workers",
        "model.encoder_name",
        "model.in_channels",
    ):
        assert cfg is not None and _select(cfg, key) is not None, key


def _select(cfg, key):
    node = cfg
    for part in key.split("."):
        node = node[part]
    return node


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["scheduler=cosin"],
            r"^scheduler: got 'cosin'; available options: .*cosine.*"
            r"Did you mean scheduler=cosine\?$",
        ),
        (
            ["trainer.max_epoch=3"],
            r"^trainer.max_epoch: .*no such key.*"
            r"Did you mean trainer.max_epochs\?$",
        ),
        (["optimizer.lr=-1"], r"^optimizer.lr: got -1.0; allowed: a number > 0"),
        (["optimizer.lr=fast"], r"^optimizer.lr: got 'fast'; expected float"),
        (["trainer.accumulate_grad_batches=0"], r"trainer.accumulate_grad_batches: got 0"),
        (["trainer.amp=fp32"], r"trainer.amp: got 'fp32'; allowed: auto, fp16, bf16, off"),
        (["data=folder"], r"data.root: got '\?\?\?'; required with data=folder"),
        (["curriculum=[sample,resolutoin]"], r"curriculum: got 'resolutoin'.*resolution"),
    ],
    ids=[
        "unknown-option",
        "misspelled-key",
        "negative-lr",
        "lr-not-a-number",
        "accumulation-zero",
        "unknown-amp",
        "folder-without-root",
        "unknown-curriculum",
    ],
)
def test_compose_bad_values_raise_one_line(overrides, message):
    with pytest.raises(ConfigError, match=message) as info:
        compose_config(overrides)
    assert "\n" not in str(info.value)


def test_plan_refuses_warmup_longer_than_training():
    cfg = compose_config(["trainer.max_epochs=2", "scheduler.warmup_epochs=3"])
    with pytest.raises(ConfigError, match=r"scheduler.warmup_epochs: got 3.0; warmup of"):
        plan_run(cfg)


def test_plan_converts_epochs_to_optimizer_steps():
    cfg = compose_config(
        [
            "data.num_train=100",
            "data.batch_size=8",
            "trainer.accumulate_grad_batches=5",
            "trainer.max_epochs=3",
        ]
    )
    clock, schedule = plan_run(cfg)
    assert clock.batches_per_epoch == 12 and clock.steps_per_epoch == 3
    assert schedule.total_steps == 9


def test_sweep_jobs_expands_command_line_sweeps():
    jobs = sweep_jobs(["scheduler=cosine,constant", "seed=1,2", "trainer.max_epochs=2"])
    assert len(jobs) == 4
    assert all("trainer.max_epochs=2" in job for job in jobs)
    assert ["trainer.max_epochs=2", "scheduler=constant", "seed=2"] in jobs


def test_plan_cycles_a_small_training_set_up_to_min_samples_per_epoch():
    cfg = compose_config(
        [
            "data.num_train=10",
            "data.batch_size=4",
            "data.min_samples_per_epoch=64",
            "trainer.max_epochs=2",
        ]
    )
    clock, _ = plan_run(cfg)
    assert clock.batches_per_epoch == 16 and clock.total_steps == 32
