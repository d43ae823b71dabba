"""The installed package carries every subpackage and the whole conf/ tree."""

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def listed_packages() -> set[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return {line.strip() for line in cfg["options"]["packages"].splitlines() if line.strip()}


def test_packaging_lists_every_subpackage():
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "densecli").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found | {"densecli.conf"} == listed_packages()


def test_packaging_ships_the_conf_tree():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert cfg["options"]["package_dir"].split() == ["densecli.conf", "=", "conf"]
    patterns = cfg["options.package_data"]["densecli.conf"]
    assert "**/*.yaml" in patterns and "*.yaml" in patterns
    assert (ROOT / "conf" / "train.yaml").is_file()
