"""Tests of optimize.settings: defaults.toml, user files, overrides and their validation."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from optimize.settings import MIN_CONFIDENCE, PlanSettings, load_settings
from rainmaker.errors import UsageError


def test_defaults_file_matches_the_dataclass_defaults() -> None:
    # The TOML file is the documented source of the defaults; the dataclass defaults must agree
    # with it, or code that builds PlanSettings() directly would plan differently.
    from_file = load_settings()
    assert dataclasses.replace(from_file, source=()) == PlanSettings()
    assert from_file.liquidity.confidence == 0.95
    assert from_file.horizon.days == 14


def test_the_regulatory_numbers_have_one_home() -> None:
    """The 10 % liquid floor, the 5-working-day window and the 5 % cash floor are
    rainmaker.regulation's: the optimizer's defaults file, the replay's portfolio, the none and
    rule policies and the report all say the same."""
    from rainmaker.app.report import render
    from rainmaker.regulation import LIQUID_WORKDAYS, MIN_CASH_RATIO, MIN_LIQUID_RATIO
    from simulate import policies, portfolio

    liquidity = load_settings().liquidity
    assert liquidity.min_liquid_ratio == MIN_LIQUID_RATIO == 0.10
    assert liquidity.min_cash_ratio == MIN_CASH_RATIO == 0.05
    assert liquidity.liquid_workdays == LIQUID_WORKDAYS == 5
    assert portfolio.LIQUIDITY_DAYS == LIQUID_WORKDAYS
    assert policies.MIN_LIQUID_SHARE == render.LIQUID_FLOOR == MIN_LIQUID_RATIO


def test_user_file_overrides_only_its_keys(tmp_path: Path) -> None:
    user = tmp_path / "plan.toml"
    user.write_text("[weights]\nyield_deviation = 2\n[liquidity]\nconfidence = 0.975\n")
    settings = load_settings(user)
    assert settings.weights.yield_deviation == 2.0
    assert settings.liquidity.confidence == 0.975
    assert settings.weights.cash_drag == PlanSettings().weights.cash_drag
    assert str(user) in settings.source


def test_overrides_apply_last(tmp_path: Path) -> None:
    user = tmp_path / "plan.toml"
    user.write_text("[solver]\ntime_limit_s = 3\n")
    settings = load_settings(user, overrides={"solver": {"time_limit_s": 7.5}})
    assert settings.solver.time_limit_s == 7.5


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"liquidity": {"confidence": 0.85}}, "liquidity.confidence"),
        ({"weights": {"yield_deviaton": 1.0}}, "yield_deviaton"),
        ({"weigths": {"income": 0.0}}, "weigths"),
        ({"horizon": {"days": 61}}, "horizon.days"),
        ({"solver": {"threads": "two"}}, "threads"),
        ({"purchases": {"buckets": ["cash"]}}, "purchases.buckets"),
        ({"portfolio": {"cash": 0.5}}, "portfolio"),
        ({"liquidity": {"next_days_confidence": 0.9}}, "liquidity.next_days_confidence"),
        ({"liquidity": {"needs_margin": 0.5}}, "liquidity.needs_margin"),
        ({"liquidity": {"stress_multiple": -1}}, "liquidity.stress_multiple"),
        ({"liquidity": {"managed_floor": 3}}, "liquidity.managed_floor"),
        ({"liquidity": {"ladder_lookback_days": -1}}, "liquidity.ladder_lookback_days"),
        ({"liquidity": {"days_off_lookback_days": 1.5}}, "liquidity.days_off_lookback_days"),
        ({"liquidity": {"days_off_lookback_days": -7}}, "liquidity.days_off_lookback_days"),
        ({"regime": {"exit_z": 5.0}}, "regime.exit_z"),
        ({"regime": {"peer_share": 0}}, "regime.peer_share"),
        ({"regime": {"confidence": 1.0}}, "regime.confidence"),
        ({"regime": {"enabled": "yes"}}, "enabled"),
        ({"regime": {"persist": 2}}, "persist"),
        ({"penalties": {"needs": 0}}, "penalties.needs"),
        ({"penalties": {"borrowing": -1.0}}, "penalties.borrowing"),
        ({"liquidity": {"max_leverage": 1.5}}, "liquidity.max_leverage"),
        ({"liquidity": {"max_leverage": 0.9}}, "liquidity.max_leverage"),
        ({"purchases": {"max_wam_vs_book": 0.3}}, "purchases.max_wam_vs_book"),
        # a quota lot of 1e-16 of a day's demand passed and the solver failed ('Empty', exit 1)
        ({"quota": {"lot_share": 1e-16}}, "quota.lot_share"),
        # HiGHS reads a cost of 1e20 as infinite: no plan (exit 1, the message blaming the data)
        ({"weights": {"yield_deviation": 1e20}}, "weights.yield_deviation"),
        ({"weights": {"liquidity": 1e7}}, "weights.liquidity"),
        ({"penalties": {"needs": 1e20}}, "penalties.needs"),
        # "1 to 1000 bp" accepted 1e-300: coefficients of 1e303, no plan (exit 1)
        ({"liquidity": {"shock_bp": 1e-300}}, "liquidity.shock_bp"),
        ({"liquidity": {"shock_bp": 0.5}}, "liquidity.shock_bp"),
        # 1e300: a day's budget of -9.2e18 slots once cast to int64, and a solve without end
        ({"exposure": {"budget_factor": 1e300}}, "exposure.budget_factor"),
    ],
)
def test_bad_settings_name_the_key(overrides: dict, named: str) -> None:
    with pytest.raises(UsageError, match=named.replace(".", r"\.")):
        load_settings(overrides=overrides)


def test_a_confidence_above_the_next_days_one_says_both() -> None:
    # the user raised liquidity.confidence alone: the message names it with its value, and
    # how to go on, not only the key it did not set
    with pytest.raises(UsageError) as caught:
        load_settings(overrides={"liquidity": {"confidence": 0.999}})
    message = str(caught.value)
    assert "liquidity.next_days_confidence" in message and "liquidity.confidence (0.999)" in message
    both = {"confidence": 0.999, "next_days_confidence": 0.999}
    assert load_settings(overrides={"liquidity": both}).liquidity.confidence == 0.999


def test_confidence_is_never_below_p90() -> None:
    assert MIN_CONFIDENCE == 0.90
    assert load_settings(overrides={"liquidity": {"confidence": 0.9}}).liquidity.confidence == 0.9


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[weights\n")
    with pytest.raises(UsageError, match="not valid TOML"):
        load_settings(broken)
