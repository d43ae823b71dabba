"""Range checks: the values of a schema-typed config that no type can rule out.

Every failure is a `ConfigError` naming the key, the value, what is allowed and a fix.
Lengths that need the run's clock (a warmup longer than training) are checked when the
schedule is built, in `densecli.schedules.build_lr_schedule`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, NamedTuple

from omegaconf import DictConfig, OmegaConf

from densecli.errors import ConfigError
from densecli.schema import AMP_MODES, MONITORS, PACINGS, SAMPLE_ORDERS, SIZE_DIVISORS


class Check(NamedTuple):
    test: Callable[[Any], bool]
    allowed: str
    options: tuple = ()  # for a choice: what "did you mean" picks from


def _at_least(low: int) -> Check:
    return Check(lambda v: v >= low, f"allowed: an integer >= {low}")


def _share(low_open: bool = False, high_open: bool = False) -> Check:
    low, high = "(" if low_open else "[", ")" if high_open else "]"
    return Check(
        lambda v: (v > 0 if low_open else v >= 0) and (v < 1 if high_open else v <= 1),
        f"allowed: a share in {low}0, 1{high}",
    )


def _one_of(options: tuple) -> Check:
    return Check(lambda v: v in options, f"allowed: {', '.join(map(str, options))}", options)


POSITIVE = Check(lambda v: v > 0, "allowed: a number > 0")
# key -> (check, fix); a key the chosen option does not have is skipped
RULES: dict[str, tuple[Check, str]] = {
    "optimizer.lr": (POSITIVE, "try optimizer.lr=3e-4"),
    "optimizer.weight_decay": (
        Check(lambda v: v >= 0, "allowed: a number >= 0"),
        "use 0 for none",
    ),
    "optimizer.momentum": (_share(high_open=True), "try optimizer.momentum=0.9"),
    "trainer.max_epochs": (_at_least(1), "set trainer.max_epochs=1 or more"),
    "trainer.accumulate_grad_batches": (_at_least(1), "use 1 to step every batch"),
    "trainer.log_every_n_steps": (_at_least(1), "use 1 to log every optimizer step"),
    "trainer.val_every_n_epochs": (_at_least(1), "use 1 to validate every epoch"),
    "trainer.max_nonfinite_steps": (_at_least(1), "try trainer.max_nonfinite_steps=5"),
    "trainer.num_val_images": (_at_least(0), "use 0 to log no images"),
    "trainer.amp": (_one_of(AMP_MODES), "try trainer.amp=auto"),
    "trainer.channels_last": (_one_of(("auto", True, False)), "try trainer.channels_last=auto"),
    "trainer.monitor": (_one_of(MONITORS), "try trainer.monitor=val/dice"),
    "model.in_channels": (_at_least(1), "use 3 for RGB, 1 for grayscale"),
    "data.batch_size": (_at_least(1), "set data.batch_size to a positive integer"),
    "data.image_size": (_at_least(1), "set data.image_size to a positive integer"),
    "data.num_train": (_at_least(1), "set data.num_train to a positive integer"),
    "data.num_val": (_at_least(1), "set data.num_val to a positive integer"),
    "data.num_classes": (_at_least(2), "set data.num_classes=2 for binary"),
    "data.min_samples_per_epoch": (_at_least(0), "use 0 to draw each sample once an epoch"),
    "data.num_workers": (_at_least(0), "use 0 to load in the main process"),
    "scheduler.warmup_fraction": (_share(high_open=True), "try scheduler.warmup_fraction=0.05"),
    "scheduler.step_fraction": (_share(low_open=True), "try scheduler.step_fraction=0.4"),
    "scheduler.pct_start": (_share(), "try scheduler.pct_start=0.3"),
    "scheduler.min_lr_ratio": (_share(), "try scheduler.min_lr_ratio=0.01"),
    "scheduler.gamma": (_share(low_open=True), "try scheduler.gamma=0.1"),
    "scheduler.power": (POSITIVE, "try scheduler.power=0.9"),
    "curriculum.sample.order": (_one_of(SAMPLE_ORDERS), "try curriculum=sample"),
    "curriculum.sample.pacing": (_one_of(PACINGS), "try curriculum.sample.pacing=linear"),
    "curriculum.sample.start_fraction": (_share(low_open=True), "try 0.3"),
    "curriculum.sample.full_at_fraction": (_share(), "try 0.5"),
}


def did_you_mean(key: str, value: Any, options: Any, plain: bool = False) -> str:
    close = difflib.get_close_matches(str(value), [str(o) for o in options], n=1, cutoff=0.6)
    if not close:
        return f"Use one of: {', '.join(map(str, options))}" if not plain else "check the spelling"
    return f"Did you mean {close[0]}?" if plain else f"Did you mean {key}={close[0]}?"


def _require(ok: bool, key: str, value: Any, allowed: str, fix: str) -> None:
    if not ok:
        raise ConfigError(key, value, allowed, fix)


def check_ranges(cfg: DictConfig) -> None:
    """Every value of `cfg` that its type allows but densecli cannot use."""
    for key, (check, fix) in RULES.items():
        parent, _, leaf = key.rpartition(".")
        node = OmegaConf.select(cfg, parent)
        if node is None or leaf not in node:
            continue
        value = node[leaf]
        if not check.test(value):
            close = difflib.get_close_matches(str(value), map(str, check.options), n=1)
            raise ConfigError(
                key, value, check.allowed, f"did you mean {key}={close[0]}?" if close else fix
            )
    _check_optimizer(cfg.optimizer)
    _check_trainer(cfg.trainer)
    _check_data(cfg)
    _check_image_sizes(cfg)
    _check_schedule(cfg.scheduler)
    _check_curriculum(cfg)


def _check_optimizer(opt: DictConfig) -> None:
    if "betas" in opt:
        betas = list(opt.betas)
        ok = len(betas) == 2 and all(0 <= b < 1 for b in betas)
        _require(
            ok,
            "optimizer.betas",
            betas,
            "allowed: two numbers in [0, 1)",
            "try optimizer.betas=[0.9,0.999]",
        )


def _check_trainer(tr: DictConfig) -> None:
    clip = tr.gradient_clip_val
    _require(
        clip is None or clip > 0,
        "trainer.gradient_clip_val",
        clip,
        "allowed: null or a number > 0",
        "use null to disable clipping",
    )
    device_ok = tr.device == "auto" or tr.device.split(":")[0] in ("cpu", "cuda", "mps")
    _require(
        device_ok,
        "trainer.device",
        tr.device,
        "allowed: auto, cpu, cuda, cuda:N, mps",
        "try trainer.device=auto",
    )


def _check_data(cfg: DictConfig) -> None:
    data, channels = cfg.data, cfg.model.in_channels
    # masks travel as uint8 label maps with 255 kept for unlabeled pixels
    _require(
        data.num_classes <= 255,
        "data.num_classes",
        data.num_classes,
        "allowed: at most 255 classes",
        "merge classes to 255 or fewer",
    )
    _require(
        not 0 <= data.ignore_index < data.num_classes,
        "data.ignore_index",
        data.ignore_index,
        f"allowed: a value outside the class ids 0..{data.num_classes - 1}",
        "use data.ignore_index=255",
    )
    for key in ("mean", "std"):
        _require(
            len(data[key]) in (1, 3, channels),
            f"data.{key}",
            list(data[key]),
            f"allowed: 1 or {channels} values (model.in_channels)",
            f"give one value per channel, e.g. data.{key}=[0.5]",
        )
    _require(
        all(s > 0 for s in data.std),
        "data.std",
        list(data.std),
        "allowed: values > 0",
        "try data.std=[0.229,0.224,0.225]",
    )
    if data.name == "folder":
        _require(
            not OmegaConf.is_missing(data, "root"),
            "data.root",
            "???",
            "required with data=folder",
            "set data.root=/path/to/dataset",
        )
        _require(
            0 < data.val_fraction < 1 or data.val_root is not None,
            "data.val_fraction",
            data.val_fraction,
            "allowed: a number in (0, 1) when data.val_root is null",
            "try data.val_fraction=0.2 or set data.val_root",
        )
    w = cfg.loss.weights
    _require(
        w.bce >= 0 and w.dice >= 0 and w.bce + w.dice > 0,
        "loss.weights",
        OmegaConf.to_container(w),
        "allowed: weights >= 0, not all zero",
        "try loss=bce_dice",
    )


def _check_image_sizes(cfg: DictConfig) -> None:
    """Sides the encoder cannot take, refused before anything is built; the model build
    checks again against the real encoder."""
    divisor = SIZE_DIVISORS.get(cfg.model.arch, 32)
    sizes = {"data.image_size": cfg.data.image_size}
    for i, stage in enumerate((cfg.curriculum.resolution or {}).get("stages", [])):
        sizes[f"curriculum.resolution.stages.{i}.image_size"] = stage.image_size
    for key, size in sizes.items():
        require_multiple(key, size, divisor, f"model={cfg.model.arch}")


def require_multiple(key: str, size: int, divisor: int, owner: str) -> None:
    """Refuse a side that is not a multiple of `divisor`, naming the nearest ones that are."""
    if size % divisor == 0:
        return
    lower = max(divisor, size // divisor * divisor)
    upper = lower + divisor
    nearest, other = (lower, upper) if size - lower <= upper - size else (upper, lower)
    raise ConfigError(
        key,
        size,
        f"must be a multiple of {divisor} for {owner}",
        f"use {key}={nearest} (or {other})",
    )


def _check_schedule(sched: DictConfig) -> None:
    for key in ("warmup_epochs", "step_epochs"):
        if sched.get(key) is not None:
            _require(
                sched[key] >= 0,
                f"scheduler.{key}",
                sched[key],
                "allowed: >= 0 epochs",
                f"use scheduler.{key}=null to use the fraction instead",
            )


def _check_curriculum(cfg: DictConfig) -> None:
    cur = cfg.curriculum
    if cur.resolution is not None:
        stages = cur.resolution.stages
        starts = [st.start_fraction for st in stages]
        rising = bool(starts) and starts[0] == 0 and starts == sorted(starts) and starts[-1] < 1
        _require(
            rising,
            "curriculum.resolution.stages",
            starts,
            "allowed: start_fraction rising from 0, each < 1",
            "start the first stage at 0.0 and list later stages in order",
        )
    if cur.loss is not None:
        lc = cur.loss
        ramp = [lc.dice_start_fraction, lc.dice_full_fraction]
        _require(
            0 <= ramp[0] <= ramp[1] <= 1,
            "curriculum.loss",
            ramp,
            "allowed: 0 <= dice_start_fraction <= dice_full_fraction <= 1",
            "try dice_start_fraction=0.2 dice_full_fraction=0.5",
        )
        _require(
            cfg.loss.weights.dice > 0,
            "loss.weights.dice",
            cfg.loss.weights.dice,
            "allowed: > 0 with curriculum=loss (it ramps Dice in)",
            "use loss=bce_dice",
        )
