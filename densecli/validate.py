"""Checks a composed config against the schema, then the values no type can express.

Every failure is a `ConfigError` naming the key, the value, what is allowed and a fix.
"""

from __future__ import annotations

import copy
import difflib
import re
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from densecli.errors import ConfigError
from densecli.schema import (
    AMP_MODES,
    FIXED_SCHEMAS,
    GROUP_SCHEMAS,
    MONITORS,
    PACINGS,
    SAMPLE_ORDERS,
    SIZE_DIVISORS,
)


def validate(cfg: DictConfig) -> DictConfig:
    """Return `cfg` checked against the schema, with defaults filled in for missing keys
    and interpolations resolved (a saved config resolves the same way later)."""
    cfg = copy.deepcopy(cfg)
    try:
        OmegaConf.resolve(cfg)
    except OmegaConfBaseException as err:
        key = err.full_key or "config"
        raise ConfigError(
            key, "(interpolation)", _first_line(err.msg), "fix the ${...} reference"
        ) from None
    checked = OmegaConf.create({"seed": _typed("seed", cfg.get("seed"), int)})
    unknown = set(cfg.keys()) - {"seed", *GROUP_SCHEMAS, *FIXED_SCHEMAS}
    if unknown:
        key = sorted(unknown)[0]
        _unknown_key(key, list(GROUP_SCHEMAS) + list(FIXED_SCHEMAS) + ["seed"])
    for group in (*GROUP_SCHEMAS, *FIXED_SCHEMAS):
        checked[group] = _merge_schema(group, cfg.get(group))
    _check_ranges(checked)
    return checked


def _merge_schema(group: str, node: Any) -> DictConfig:
    if not isinstance(node, DictConfig):
        raise ConfigError(group, node, "expected a config node", f"choose an option: {group}=...")
    schema = FIXED_SCHEMAS.get(group)
    if schema is None:
        name_key, options = GROUP_SCHEMAS[group]
        name = node.get(name_key)
        if name not in options:
            raise ConfigError(
                f"{group}.{name_key}",
                name,
                f"allowed: {', '.join(options)}",
                _did_you_mean(f"{group}.{name_key}", name, options),
            )
        schema = options[name]
    try:
        return OmegaConf.merge(OmegaConf.structured(schema), node)
    except ConfigKeyError as err:
        _unknown_key(f"{group}.{err.key}", [f"{group}.{k}" for k in schema.__dataclass_fields__])
    except OmegaConfBaseException as err:
        key = f"{group}.{err.full_key}" if err.full_key else group
        expected = re.search(r"converted to (\w+)", str(err.msg))
        if expected:
            kind = expected.group(1).lower()
            fix = f"give {key} a {kind} value"
            raise ConfigError(key, err.value, f"expected {kind}", fix) from None
        raise ConfigError(key, err.value, _first_line(err.msg), "fix its value") from None


def _unknown_key(key: str, known: list[str]) -> None:
    hint = _did_you_mean(key, key, known, plain=True)
    raise ConfigError(key, "(unknown key)", "no such key in the config", hint)


def _did_you_mean(key: str, value: Any, options: Any, plain: bool = False) -> str:
    close = difflib.get_close_matches(str(value), [str(o) for o in options], n=1, cutoff=0.6)
    if not close:
        return f"Use one of: {', '.join(map(str, options))}" if not plain else "check the spelling"
    return f"Did you mean {close[0]}?" if plain else f"Did you mean {key}={close[0]}?"


def _first_line(text: str) -> str:
    return str(text).strip().splitlines()[0] if str(text).strip() else "invalid value"


def _typed(key: str, value: Any, kind: type) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ConfigError(key, value, f"expected {kind.__name__}", f"set {key}=<{kind.__name__}>")
    return value


def _require(ok: bool, key: str, value: Any, allowed: str, fix: str) -> None:
    if not ok:
        raise ConfigError(key, value, allowed, fix)


def _check_ranges(cfg: DictConfig) -> None:
    """Values that type checks cannot rule out; lengths that need the run's clock are
    checked when the schedule is built (`densecli.schedules.build_lr_schedule`)."""
    opt, tr = cfg.optimizer, cfg.trainer
    _require(opt.lr > 0, "optimizer.lr", opt.lr, "allowed: a number > 0", "try optimizer.lr=3e-4")
    _require(
        opt.weight_decay >= 0,
        "optimizer.weight_decay",
        opt.weight_decay,
        "allowed: a number >= 0",
        "use 0 to disable weight decay",
    )
    if "betas" in opt:
        _require(
            len(opt.betas) == 2 and all(0 <= b < 1 for b in opt.betas),
            "optimizer.betas",
            list(opt.betas),
            "allowed: two numbers in [0, 1)",
            "try optimizer.betas=[0.9,0.999]",
        )
    if "momentum" in opt:
        _require(
            0 <= opt.momentum < 1,
            "optimizer.momentum",
            opt.momentum,
            "allowed: [0, 1)",
            "try optimizer.momentum=0.9",
        )

    for key in (
        "max_epochs",
        "accumulate_grad_batches",
        "log_every_n_steps",
        "val_every_n_epochs",
        "max_nonfinite_steps",
    ):
        _require(
            tr[key] >= 1,
            f"trainer.{key}",
            tr[key],
            "allowed: an integer >= 1",
            f"set trainer.{key}=1 or more",
        )
    _require(
        tr.num_val_images >= 0,
        "trainer.num_val_images",
        tr.num_val_images,
        "allowed: an integer >= 0",
        "use 0 to log no images",
    )
    _require(
        tr.amp in AMP_MODES,
        "trainer.amp",
        tr.amp,
        f"allowed: {', '.join(AMP_MODES)}",
        _did_you_mean("trainer.amp", tr.amp, AMP_MODES),
    )
    _require(
        tr.gradient_clip_val is None or tr.gradient_clip_val > 0,
        "trainer.gradient_clip_val",
        tr.gradient_clip_val,
        "allowed: null or a number > 0",
        "use null to disable clipping",
    )
    _require(
        tr.channels_last in ("auto", True, False),
        "trainer.channels_last",
        tr.channels_last,
        "allowed: auto, true, false",
        "try trainer.channels_last=auto",
    )
    _require(
        tr.monitor in MONITORS,
        "trainer.monitor",
        tr.monitor,
        f"allowed: {', '.join(MONITORS)}",
        "try trainer.monitor=val/dice",
    )
    _require(
        tr.device == "auto" or tr.device.split(":")[0] in ("cpu", "cuda", "mps"),
        "trainer.device",
        tr.device,
        "allowed: auto, cpu, cuda, cuda:N, mps",
        "try trainer.device=auto",
    )

    _check_data(cfg)
    _check_image_sizes(cfg)
    _check_schedule_lengths(cfg.scheduler)
    _check_curriculum(cfg)
    w = cfg.loss.weights
    _require(
        w.bce >= 0 and w.dice >= 0 and w.bce + w.dice > 0,
        "loss.weights",
        OmegaConf.to_container(w),
        "allowed: weights >= 0, not all zero",
        "try loss=bce_dice",
    )


def _check_data(cfg: DictConfig) -> None:
    data, channels = cfg.data, cfg.model.in_channels
    _require(
        channels >= 1,
        "model.in_channels",
        channels,
        "allowed: an integer >= 1",
        "use 3 for RGB, 1 for grayscale",
    )
    counts = (
        "batch_size",
        "image_size",
        *(("num_train", "num_val") if "num_train" in data else ()),
    )
    for key in counts:
        _require(
            data[key] >= 1,
            f"data.{key}",
            data[key],
            "allowed: an integer >= 1",
            f"set data.{key} to a positive integer",
        )
    _require(
        data.min_samples_per_epoch >= 0,
        "data.min_samples_per_epoch",
        data.min_samples_per_epoch,
        "allowed: an integer >= 0",
        "use 0 to draw each training sample once per epoch",
    )
    _require(
        data.num_workers >= 0,
        "data.num_workers",
        data.num_workers,
        "allowed: an integer >= 0",
        "use 0 to load in the main process",
    )
    _require(
        data.num_classes >= 2,
        "data.num_classes",
        data.num_classes,
        "allowed: 2 (binary) or more (multiclass)",
        "set data.num_classes=2 for binary",
    )
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


def _check_image_sizes(cfg: DictConfig) -> None:
    """Sides the encoder cannot take, refused before anything is built; the model build
    checks again against the real encoder."""
    divisor = SIZE_DIVISORS.get(cfg.model.arch, 32)
    sizes = {"data.image_size": cfg.data.image_size}
    for i, stage in enumerate((cfg.curriculum.resolution or {}).get("stages", [])):
        sizes[f"curriculum.resolution.stages.{i}.image_size"] = stage.image_size
    for key, size in sizes.items():
        if size % divisor:
            lower = max(divisor, size // divisor * divisor)
            nearest = lower if size - lower <= lower + divisor - size else lower + divisor
            raise ConfigError(
                key,
                size,
                f"must be a multiple of {divisor} for model={cfg.model.arch}",
                f"use {key}={nearest}",
            )


def _check_schedule_lengths(sched: DictConfig) -> None:
    for key in ("warmup_fraction", "step_fraction", "pct_start"):
        if key in sched:
            upper = 1 if key == "warmup_fraction" else 1 + 1e-9
            _require(
                0 <= sched[key] < upper,
                f"scheduler.{key}",
                sched[key],
                "allowed: a share of training in [0, 1)",
                f"try scheduler.{key}=0.1",
            )
    for key in ("warmup_epochs", "step_epochs"):
        if sched.get(key) is not None:
            _require(
                sched[key] >= 0,
                f"scheduler.{key}",
                sched[key],
                "allowed: >= 0 epochs",
                f"use scheduler.{key}=null to use the fraction instead",
            )
    if "min_lr_ratio" in sched:
        _require(
            0 <= sched.min_lr_ratio <= 1,
            "scheduler.min_lr_ratio",
            sched.min_lr_ratio,
            "allowed: [0, 1]",
            "try scheduler.min_lr_ratio=0.01",
        )
    if "gamma" in sched:
        _require(
            0 < sched.gamma <= 1,
            "scheduler.gamma",
            sched.gamma,
            "allowed: (0, 1]",
            "try scheduler.gamma=0.1",
        )
    if "power" in sched:
        _require(
            sched.power > 0,
            "scheduler.power",
            sched.power,
            "allowed: > 0",
            "try scheduler.power=0.9",
        )


def _check_curriculum(cfg: DictConfig) -> None:
    cur = cfg.curriculum
    if cur.sample is not None:
        s = cur.sample
        _require(
            s.order in SAMPLE_ORDERS,
            "curriculum.sample.order",
            s.order,
            f"allowed: {', '.join(SAMPLE_ORDERS)}",
            _did_you_mean("curriculum.sample.order", s.order, SAMPLE_ORDERS),
        )
        _require(
            s.pacing in PACINGS,
            "curriculum.sample.pacing",
            s.pacing,
            f"allowed: {', '.join(PACINGS)}",
            _did_you_mean("curriculum.sample.pacing", s.pacing, PACINGS),
        )
        _require(
            0 < s.start_fraction <= 1,
            "curriculum.sample.start_fraction",
            s.start_fraction,
            "allowed: (0, 1]",
            "try 0.3",
        )
        _require(
            0 <= s.full_at_fraction <= 1,
            "curriculum.sample.full_at_fraction",
            s.full_at_fraction,
            "allowed: [0, 1]",
            "try 0.5",
        )
    if cur.resolution is not None:
        stages = cur.resolution.stages
        starts = [st.start_fraction for st in stages]
        _require(
            len(stages) >= 1 and starts[0] == 0 and starts == sorted(starts) and starts[-1] < 1,
            "curriculum.resolution.stages",
            starts,
            "allowed: start_fraction rising from 0, each < 1",
            "start the first stage at 0.0 and list later stages in order",
        )
        for i, st in enumerate(stages):
            _require(
                st.image_size >= 1,
                f"curriculum.resolution.stages.{i}.image_size",
                st.image_size,
                "allowed: an integer >= 1",
                "try 64",
            )
    if cur.loss is not None:
        lc = cur.loss
        _require(
            0 <= lc.dice_start_fraction <= lc.dice_full_fraction <= 1,
            "curriculum.loss",
            [lc.dice_start_fraction, lc.dice_full_fraction],
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
