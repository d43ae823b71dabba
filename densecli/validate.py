"""Checks a composed config against the schema, then the values no type can express.

Every failure is a `ConfigError` naming the key, the value, what is allowed and a fix.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from densecli.errors import ConfigError
from densecli.ranges import check_ranges, did_you_mean
from densecli.schema import FIXED_SCHEMAS, GROUP_SCHEMAS


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
    check_ranges(checked)
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
                did_you_mean(f"{group}.{name_key}", name, options),
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
    hint = did_you_mean(key, key, known, plain=True)
    raise ConfigError(key, "(unknown key)", "no such key in the config", hint)


def _first_line(text: str) -> str:
    return str(text).strip().splitlines()[0] if str(text).strip() else "invalid value"


def _typed(key: str, value: Any, kind: type) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ConfigError(key, value, f"expected {kind.__name__}", f"set {key}=<{kind.__name__}>")
    return value
