"""Golden and property tests of yield accounting and the SPEC §4 headline figures."""

from __future__ import annotations

import math
from decimal import Decimal, getcontext

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rainmaker.yields import (
    daily_fee,
    headline_figures,
    income_per_10k,
    weighted_figures,
    yield_7d,
    yield_7d_series,
)


def exact_constant_yield(r: float) -> float:
    """((1 + r/10,000)^365 − 1) × 100 in 50-digit decimal arithmetic."""
    getcontext().prec = 50
    return float(((1 + Decimal(r) / 10_000) ** 365 - 1) * 100)


def test_income_per_10k_worked_by_hand() -> None:
    # 1,000,000 CNY earned on 2,000,000,000 units: 0.0005 CNY per unit, 5 CNY per 10,000 units.
    assert income_per_10k(1_000_000.0, 2_000_000_000.0) == pytest.approx(5.0)


def test_income_per_10k_rejects_zero_units() -> None:
    with pytest.raises(ValueError, match="units"):
        income_per_10k([1.0], [0.0])


def test_daily_fee_worked_by_hand() -> None:
    # 36.5 bn CNY at 30 bp a year: 36.5e9 × 0.003 / 365 = 300,000 CNY a day.
    assert daily_fee(36.5e9, 30.0) == pytest.approx(300_000.0)


def test_yield_7d_constant_by_hand() -> None:
    # R = 0.5 every day: Y = (1.00005^7)^(365/7) − 1 = 1.00005^365 − 1.
    y = yield_7d([0.5] * 9)
    assert np.isnan(y[:6]).all()
    assert y[6] == pytest.approx(exact_constant_yield(0.5), rel=1e-12)
    assert y[6] == pytest.approx(1.841708, abs=1e-6)


def test_yield_7d_uses_exactly_the_last_seven_days() -> None:
    r = [9.0, 0.4, 0.4, 0.4, 0.4, 0.4, 1.0, 1.0]
    getcontext().prec = 50
    growth = math.prod(1 + Decimal(x) / 10_000 for x in r[1:])
    expected = float((growth.ln() * Decimal(365) / 7).exp() * 100 - 100)
    assert yield_7d(r)[7] == pytest.approx(expected, rel=1e-12)


def test_yield_7d_monthly_carry_by_hand() -> None:
    # Σ R = 4.0 over seven days: 4.0 / 7 × 365 / 10,000 × 100 = 2.085714… percent.
    r = [0.4, 0.4, 0.4, 0.4, 0.4, 1.0, 1.0]
    assert yield_7d(r, carry="monthly")[6] == pytest.approx(4.0 / 7 * 365 / 100)
    assert yield_7d([0.5] * 7, carry="monthly")[6] == pytest.approx(1.825)


def test_yield_7d_nan_propagates_and_bad_carry_fails() -> None:
    y = yield_7d([0.5, 0.5, np.nan, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    assert np.isnan(y[6:9]).all() and not np.isnan(y[9])
    with pytest.raises(ValueError, match="carry"):
        yield_7d([0.5] * 7, carry="weekly")


def test_yield_7d_series_requires_calendar_days() -> None:
    days = pd.date_range("2021-01-01", periods=8, freq="D")
    s = yield_7d_series(pd.Series(0.5, index=days))
    assert s.iloc[-1] == pytest.approx(1.841708, abs=1e-6)
    with pytest.raises(ValueError, match="consecutive"):
        yield_7d_series(pd.Series(0.5, index=days.delete(3)))


def test_headline_figures_by_hand() -> None:
    figures = headline_figures([2.0, 2.2, 2.4], [2.0, 2.0, 2.0])
    assert figures["yield_vol_bp"] == pytest.approx(20.0)  # std(ddof=1) = 0.2 percent
    assert figures["benchmark_vol_bp"] == pytest.approx(0.0)
    assert figures["relative_vol_bp"] == pytest.approx(20.0)
    assert figures["tracking_bp"] == pytest.approx(20.0)
    assert figures["mean_excess_bp"] == pytest.approx(20.0)


def test_headline_figures_reject_nan_and_short_series() -> None:
    with pytest.raises(ValueError, match="NaN"):
        headline_figures([2.0, np.nan], [2.0, 2.0])
    with pytest.raises(ValueError, match="at least 2 days"):
        headline_figures([2.0], [2.0])


def test_weighted_figures_weighs_by_aum() -> None:
    a = headline_figures([2.0, 2.2, 2.4], [2.0, 2.0, 2.0])
    b = headline_figures([2.0, 2.0, 2.0], [2.0, 2.0, 2.0])
    total = weighted_figures([a, b], [3e9, 1e9])
    assert total["yield_vol_bp"] == pytest.approx(15.0)


rates = st.floats(min_value=-0.5, max_value=3.0, allow_nan=False)
percent_series = st.lists(
    st.floats(min_value=0.0, max_value=6.0, allow_nan=False), min_size=2, max_size=40
)


@given(r=rates, n=st.integers(min_value=7, max_value=60))
def test_constant_income_gives_constant_yield(r: float, n: int) -> None:
    y = yield_7d([r] * n)[6:]
    assert np.allclose(y, y[0], rtol=0, atol=1e-12)
    assert y[0] == pytest.approx(exact_constant_yield(r), rel=1e-9, abs=1e-12)


@settings(max_examples=60)
@given(y=percent_series, shift=st.floats(min_value=-2.0, max_value=2.0, allow_nan=False))
def test_volatility_is_translation_invariant(y: list[float], shift: float) -> None:
    b = list(reversed(y))
    base = headline_figures(y, b)
    moved = headline_figures([v + shift for v in y], [v + shift for v in b])
    for key in (
        "yield_vol_bp",
        "benchmark_vol_bp",
        "relative_vol_bp",
        "tracking_bp",
        "mean_excess_bp",
    ):
        assert moved[key] == pytest.approx(base[key], abs=1e-7)
    only_y = headline_figures([v + shift for v in y], b)
    assert only_y["mean_excess_bp"] == pytest.approx(base["mean_excess_bp"] + 100 * shift, abs=1e-7)


@settings(max_examples=60)
@given(y=percent_series)
def test_figures_are_in_basis_points(y: list[float]) -> None:
    b = [0.0] * len(y)
    figures = headline_figures(y, b)
    assert figures["yield_vol_bp"] == pytest.approx(100 * float(np.std(y, ddof=1)), abs=1e-9)
    assert figures["mean_excess_bp"] == pytest.approx(100 * float(np.mean(y)), abs=1e-9)
