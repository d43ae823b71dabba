"""Compose and validate a run's config from `conf/` and command-line overrides, torch-free.

Hydra reports composition problems as multi-line text; here each becomes one
`ConfigError` line naming the key, the value, what is allowed and a fix.
"""

from __future__ import annotations

import difflib
import itertools
import re
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from densecli.errors import ConfigError
from densecli.validate import validate

PRIMARY_CONFIG = "train"
# sweep combinations checked before a multirun starts; past this, each value alone
MAX_PREFLIGHT_JOBS = 64


def config_dir() -> Path:
    """The `conf/` tree: inside the installed package, or at the top of a source checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "conf", package.parent / "conf"):
        if (candidate / f"{PRIMARY_CONFIG}.yaml").is_file():
            return candidate
    raise FileNotFoundError(f"densecli's config tree is missing next to {package}")


def _job_dirname(override_dirname: str, job_num: int) -> str:
    # a value with a path in it must not nest the job directory
    name = override_dirname.replace("/", "_").replace("\\", "_")
    return name or f"job{job_num}"


OmegaConf.register_new_resolver("densecli_job_dirname", _job_dirname, replace=True)


def group_options() -> dict[str, list[str]]:
    """Every config group and its options, as `densecli train --help` lists them."""
    root = config_dir()
    return {
        group.name: sorted(p.stem for p in group.glob("*.yaml"))
        for group in sorted(root.iterdir())
        if group.is_dir() and group.name != "hydra"
    }


def _check_group_choices(overrides: list[str]) -> None:
    groups = group_options()
    for line in overrides:
        match = re.fullmatch(r"[+~]*([\w/]+)(@[\w.]+)?=(.*)", line.strip())
        if not match or match.group(1) not in groups:
            continue
        group, value = match.group(1), match.group(3)
        choices = [v.strip() for v in value.strip("[]").split(",") if v.strip()]
        for choice in choices:
            if choice in groups[group] or choice == "null":
                continue
            close = difflib.get_close_matches(choice, groups[group], n=1)
            fix = f"Did you mean {group}={close[0]}?" if close else ""
            available = ", ".join(groups[group]) or "(none)"
            raise ConfigError(group, choice, f"available options: {available}", fix)


def _translate(err: Exception) -> ConfigError:
    """One line from Hydra's or OmegaConf's message about a bad override."""
    text = str(err)
    bad = re.search(r"Could not override '([^']+)'", text)
    if bad and ("not in struct" in text or "To append to your config" in text):
        key = bad.group(1)
        parent, _, leaf = key.rpartition(".")
        return ConfigError(
            key, "(unknown key)", "no such key in the config", _key_hint(parent, leaf)
        )
    if bad:
        reason = text.split("\n")[-1].strip() or "the value does not fit"
        return ConfigError(bad.group(1), "(override)", reason.rstrip("."), "check the value")
    first = text.strip().splitlines()[0] if text.strip() else type(err).__name__
    return ConfigError("overrides", "(command line)", first.rstrip("."), "check the overrides")


def _key_hint(parent: str, leaf: str) -> str:
    try:
        node = OmegaConf.select(compose_raw([]), parent) if parent else compose_raw([])
    except Exception:  # the hint is best effort; the error itself stands
        return "check the spelling"
    known = list(node.keys()) if isinstance(node, DictConfig) else []
    close = difflib.get_close_matches(leaf, known, n=1)
    prefix = f"{parent}." if parent else ""
    if close:
        return f"Did you mean {prefix}{close[0]}?"
    return f"Keys there: {', '.join(map(str, known))}" if known else "check the spelling"


def compose_raw(overrides: list[str], with_hydra: bool = False) -> DictConfig:
    """Hydra's composition of `conf/train.yaml` with `overrides`, not yet validated."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    _check_group_choices(overrides)
    try:
        with initialize_config_dir(str(config_dir()), version_base="1.3"):
            return compose(PRIMARY_CONFIG, overrides=overrides, return_hydra_config=with_hydra)
    except (HydraException, OmegaConfBaseException, ValueError) as err:
        raise _translate(err) from None


def compose_config(overrides: list[str] | None = None) -> DictConfig:
    """The validated config of one run: `conf/train.yaml` composed with `overrides`."""
    overrides = [o for o in overrides or [] if not o.lstrip("+~").startswith("hydra")]
    cfg = compose_raw(overrides)
    try:
        OmegaConf.resolve(cfg)
    except Exception as err:
        raise _translate(err) from None
    return validate(cfg)


def sweep_jobs(overrides: list[str]) -> list[list[str]]:
    """The override lists of the jobs a multirun would launch (command line and the
    experiment's `hydra.sweeper.params`), or each swept value alone when there are many."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    base = [o for o in parser.parse_overrides(overrides) if not o.is_sweep_override()]
    swept = [o for o in parser.parse_overrides(overrides) if o.is_sweep_override()]
    params = compose_raw([o.input_line for o in base], with_hydra=True).hydra.sweeper.get("params")
    for key, value in (params or {}).items():
        if key not in {o.key_or_group for o in swept}:
            swept += parser.parse_overrides([f"{key}={value}"])
    fixed = [o.input_line for o in base]
    axes = []
    for o in swept:
        try:
            values = list(o.sweep_string_iterator())
        except Exception:  # interval() and the like: only a sweeper plugin can sample them
            continue
        axes.append([f"{o.get_key_element()}={v}" for v in values])
    if not axes:
        return [fixed]
    if _product_size(axes) <= MAX_PREFLIGHT_JOBS:
        return [fixed + list(combo) for combo in itertools.product(*axes)]
    return [fixed + [value] for axis in axes for value in axis]


def _product_size(axes: list[list[str]]) -> int:
    size = 1
    for axis in axes:
        size *= len(axis)
    return size
