"""The layers contract (pyproject.toml, checked by ``lint-imports`` in ``make test``) names
every module of the ground, so a new module in rainmaker/ cannot slip past it."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _contract(contract_id: str) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["id"] == contract_id)


def test_the_ground_layer_lists_every_module_directly_in_rainmaker() -> None:
    layers = _contract("layers")["layers"]
    ground = {name.strip().strip("()") for name in layers[-1].split(":")}
    modules = {
        f"rainmaker.{path.stem}"
        for path in (ROOT / "rainmaker").glob("*.py")
        if path.stem not in ("__init__", "cli")
    }
    assert ground == modules


def test_the_layers_are_ground_stages_application_command_line() -> None:
    layers = _contract("layers")["layers"]
    assert layers[:5] == ["rainmaker.cli", "rainmaker.app", "simulate", "optimize", "forecast"]
