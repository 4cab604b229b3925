"""benchmarks/panel.py: the settings it reads and the sweep's verdicts (the replays themselves
are the backtest's, tested in tests/simulate)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "panel.py"


@pytest.fixture(scope="module")
def panel():
    spec = importlib.util.spec_from_file_location("panel_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def _metrics(relative_vol: float, excess: float, days: int = 0, unpaid: float = 0.0) -> dict:
    return {
        "total": {
            "yield_vol_bp": relative_vol + 10.0,
            "benchmark_vol_bp": 10.0,
            "relative_vol_bp": relative_vol,
            "tracking_bp": 3.0,
            "mean_excess_bp": excess,
            "shortfall_days": days,
            "repo_funded": 0.0,
            "sold_early": 0.0,
            "realised_loss": 0.0,
            "unpaid": unpaid,
            "lost_demand": 0.0,
            "refused_share": 0.0,
        }
    }


def test_settings_are_read_as_toml_values(panel) -> None:
    assert panel.parse_setting("weights.term_value=0.05") == ("weights", "term_value", 0.05)
    assert panel.parse_setting("market.forecast=true") == ("market", "forecast", True)
    assert panel.parse_sweep('liquidity.window="day","5d"') == (
        "liquidity",
        "window",
        ["day", "5d"],
    )
    for bad in ("weights.term_value", "term_value=0.1", "weights.=1", "weights.income="):
        with pytest.raises(ValueError, match="SECTION.KEY=VALUE"):
            panel.parse_setting(bad)


def test_a_sweep_value_goes_on_top_of_the_fixed_settings(panel) -> None:
    fixed = {"weights": {"income": 0.05}, "market": {"forecast": True}}
    values = panel.sweep_overrides(fixed, ("weights", "term_value", [0.0, 0.1]))
    assert values == [
        {"weights": {"income": 0.05, "term_value": 0.0}, "market": {"forecast": True}},
        {"weights": {"income": 0.05, "term_value": 0.1}, "market": {"forecast": True}},
    ]
    assert fixed == {"weights": {"income": 0.05}, "market": {"forecast": True}}


def test_the_sweep_judges_every_value_against_one_replay_of_none(panel) -> None:
    calm = panel.Window("calm", "sample", "a", "b", "a", "b", False, "")
    run = panel.Window("run", "sample", "a", "b", "a", "b", True, "")
    baseline = {"calm": {"none": _metrics(2.0, -7.0)}, "run": {"none": _metrics(3.0, -2.0, 4)}}
    runs = {
        # value 0: smoother, 1.5 bp less yield in calm (not better); safe in the run
        (0, "calm"): {"optimizer": _metrics(1.5, -8.5)},
        (0, "run"): {"optimizer": _metrics(1.0, -3.0)},
        # value 1: smoother and within 1 bp in calm; a redemption unpaid in the run
        (1, "calm"): {"optimizer": _metrics(1.9, -7.5)},
        (1, "run"): {"optimizer": _metrics(1.0, -2.0, 1, unpaid=5e6)},
    }
    table = panel.sweep_table([calm, run], ("weights", "term_value", [0.0, 0.1]), baseline, runs)
    assert list(table["value"]) == ["—", 0.0, "—", 0.0, 0.1, 0.1]
    assert list(table["policy"]) == ["none", "optimizer"] * 2 + ["optimizer"] * 2
    judged = table[table["policy"] == "optimizer"].set_index(["value", "window"])["verdict"]
    assert judged.to_dict() == {
        (0.0, "calm"): False,
        (0.0, "run"): True,
        (0.1, "calm"): True,
        (0.1, "run"): False,
    }
    assert table.loc[5, "unpaid_m"] == pytest.approx(5.0)


def test_a_sweep_without_none_prints_figures_without_a_verdict(panel) -> None:
    # `--policies optimizer`: the figures of every value, nothing to judge them against
    calm = panel.Window("calm", "sample", "a", "b", "a", "b", False, "")
    runs = {
        (0, "calm"): {"optimizer": _metrics(1.5, -8.5)},
        (1, "calm"): {"optimizer": _metrics(1.9, -7.5)},
    }
    table = panel.sweep_table([calm], ("weights", "term_value", [0.0, 0.1]), {}, runs)
    assert list(table["value"]) == [0.0, 0.1]
    assert list(table["relative_vol_bp"]) == [1.5, 1.9]
    assert table["verdict"].isna().all()


@pytest.mark.parametrize(
    "argv",
    [
        ["--sweep", "weights.income=0.1,0.5"],  # 0.5 outweighs tracking the target
        ["--sweep", "weights.income"],
        ["--set", "term_value=0.1"],
        ["--sweep", "weights.term_value=0,0.1", "--policies", "none"],  # nothing to sweep
    ],
)
def test_a_bad_setting_exits_2_before_any_replay(panel, argv, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        panel.main(["--windows", "rates2013", *argv])
    assert stop.value.code == 2
    assert "panel.py:" in capsys.readouterr().err
