"""Tests of rainmaker.valuation: the day's curve and the market value of lots, worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rainmaker.valuation import Curve, curve_yield_pct, market_value, price_per_principal

RATES = {"cash": 1.2, "repo_1d": 1.8, "repo_7d": 2.0, "ncd_1m": 2.3, "ncd_3m": 2.6, "ncd_6m": 2.8}


def test_curve_is_linear_in_days_between_the_buckets_and_flat_beyond() -> None:
    curve = Curve.from_rates(RATES)
    assert curve.tenors_days == (1, 7, 30, 91, 182)  # cash is not a point
    # 4 days: halfway from 1 to 7 days, 1.8 + 0.5 × 0.2; 60.5 days: halfway from 30 to 91
    assert curve.yield_pct([0, 1, 4, 7, 60.5, 182, 300]) == pytest.approx(
        [1.8, 1.8, 1.9, 2.0, 2.45, 2.8, 2.8]
    )
    # without the 6-month NCD the curve is flat beyond 3 months
    short = {k: v for k, v in RATES.items() if k != "ncd_6m"}
    assert curve_yield_pct(short, 150) == pytest.approx(2.6)
    with pytest.raises(KeyError, match="term bucket"):
        Curve.from_rates({"cash": 1.0})


def test_curve_of_many_days_matches_one_day_at_a_time() -> None:
    frame = pd.DataFrame([RATES, {k: v + 0.5 for k, v in RATES.items()}])
    days = np.array([4.0, 120.0])
    by_row = curve_yield_pct(frame, days)
    assert by_row[0] == pytest.approx(1.9)
    assert by_row[1] == pytest.approx(curve_yield_pct(frame.iloc[1].to_dict(), 120.0))
    assert curve_yield_pct(frame, 500) == pytest.approx([2.8, 3.3])


def test_market_value_worked_by_hand() -> None:
    # 1,000,000 CNY at 2.0 %, 73 days left, curve 2.5 % plus a 10 bp sale spread:
    # 1,000,000 × (1 + 0.020 × 73/365) / (1 + 0.026 × 73/365) = 1,000,000 × 1.004 / 1.0052
    assert market_value(1e6, 2.0, 73, 2.5, 10.0) == pytest.approx(998_806.208, abs=1e-3)
    # rates have fallen: a gain
    assert market_value(1e6, 2.0, 73, 1.5) == pytest.approx(1e6 * 1.004 / 1.003)
    # a lot at maturity is worth its principal whatever the market
    assert market_value(5.0, 3.0, 0, 9.0, 50.0) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="remaining days"):
        price_per_principal(2.0, -1, 2.0)


@given(
    amount=st.floats(1.0, 1e10),
    rate=st.floats(0.0, 8.0),
    days=st.integers(1, 400),
    spread=st.floats(0.0, 100.0),
)
def test_market_value_is_par_when_the_market_asks_the_lots_rate(
    amount: float, rate: float, days: int, spread: float
) -> None:
    yield_pct = rate - spread / 100.0
    assert market_value(amount, rate, days, yield_pct, spread) == pytest.approx(amount, rel=1e-12)


@given(
    rate=st.floats(0.0, 8.0),
    days=st.integers(1, 400),
    low=st.floats(-1.0, 8.0),
    step=st.floats(0.001, 5.0),
    spread=st.floats(0.0, 100.0),
)
def test_market_value_falls_as_the_yield_rises(
    rate: float, days: int, low: float, step: float, spread: float
) -> None:
    cheap = market_value(1e6, rate, days, low + step, spread)
    dear = market_value(1e6, rate, days, low, spread)
    assert cheap < dear
