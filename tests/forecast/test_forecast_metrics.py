"""Golden tests of the forecast accuracy measures (computed by hand) and of their scoring."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from forecast.evaluation import score
from forecast.metrics import (
    coverage,
    inside,
    mase,
    pinball_loss,
    scaled_pinball_loss,
    seasonal_naive_mae,
    wape,
)


def test_wape_by_hand() -> None:
    # |100-90| + |200-230| + |50-50| = 40 over 350
    assert wape([100, 200, 50], [90, 230, 50]) == pytest.approx(40 / 350)


def test_wape_skips_missing_and_is_nan_without_outcomes() -> None:
    assert wape([100, np.nan, 50], [90, 1e9, 60]) == pytest.approx(20 / 150)
    assert math.isnan(wape([0.0, 0.0], [1.0, 2.0]))
    assert math.isnan(wape([], []))


def test_seasonal_naive_mae_by_hand() -> None:
    # Two weeks: differences at lag 7 are 1, 2, 3, 4, 5, 6, 7 -> mean 4.
    week = np.array([10, 20, 30, 40, 50, 60, 70], dtype=float)
    series = np.concatenate([week, week + np.arange(1, 8)])
    assert seasonal_naive_mae(series) == pytest.approx(4.0)
    assert math.isnan(seasonal_naive_mae(week))


def test_mase_by_hand() -> None:
    # Errors 2 and 6 scaled by 4 and 2: (0.5 + 3) / 2.
    assert mase([10, 20], [12, 14], [4, 2]) == pytest.approx(1.75)
    # A zero scale is skipped rather than dividing by zero.
    assert mase([10, 20], [12, 14], [4, 0]) == pytest.approx(0.5)


def test_pinball_by_hand() -> None:
    # q = 0.9: under-forecast by 10 costs 9, over-forecast by 10 costs 1.
    assert pinball_loss([100], [90], 0.9) == pytest.approx(9.0)
    assert pinball_loss([100], [110], 0.9) == pytest.approx(1.0)
    assert pinball_loss([100, 100], [90, 110], 0.9) == pytest.approx(5.0)
    # The median's pinball loss is half the absolute error.
    assert pinball_loss([3, 7], [5, 5], 0.5) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="quantile"):
        pinball_loss([1], [1], 1.0)


def test_scaled_pinball_by_hand() -> None:
    actual = [100.0, 100.0]
    forecasts = {0.1: [90.0, 90.0], 0.9: [110.0, 110.0]}
    # q=0.1: over-forecast by 10 never happens; actual above 90 -> 0.1*10 = 1 per row.
    # q=0.9: actual below 110 -> 0.1*10 = 1 per row. Mean 1, divided by mean |actual| 100.
    assert scaled_pinball_loss(actual, forecasts) == pytest.approx(0.01)


def test_coverage_by_hand() -> None:
    actual = [1, 5, 10, 20]
    assert coverage(actual, [0, 5, 11, 0], [2, 6, 12, 19]) == pytest.approx(0.5)
    assert coverage([1, np.nan], [0, 0], [2, 2]) == pytest.approx(1.0)


def test_an_outcome_on_an_end_is_inside_despite_float_rounding() -> None:
    # 0.1 + 0.2 = 0.30000000000000004: an interval [0.3, 0.3] computed one way and the outcome
    # another are the same number; a flat series' every outcome counted outside before
    assert coverage([0.1 + 0.2, 0.3], [0.3, 0.3], [0.3, 0.3]) == 1.0
    # amounts in any unit: 1e-9 of the interval's size, so CNY 1e11 within 100 fen, and a
    # real miss of a millionth stays outside
    assert coverage([1e11 + 50.0, 1e11 * (1 + 1e-6)], [1e11, 1e11], [1e11, 1e11]) == 0.5
    assert coverage([0.0], [0.0], [0.0]) == 1.0
    # an absolute tolerance in the outcome's unit (rates, percent)
    assert inside(3.2750001, 3.275, 3.275, atol=1e-6, rtol=0.0)
    assert not inside(3.27501, 3.275, 3.275, atol=1e-6, rtol=0.0)
    assert not inside(np.nan, 0.0, 1.0)


def test_score_table_by_hand() -> None:
    rows = pd.DataFrame(
        {
            "model": "m",
            "variable": "subscriptions",
            "horizon": [1, 1, 2],
            "actual": [100.0, 50.0, 80.0],
            "p10": [80.0, 60.0, 70.0],
            "p50": [90.0, 70.0, 80.0],
            "p90": [110.0, 80.0, 90.0],
            "mase_scale": [10.0, 10.0, 20.0],
        }
    )
    table = score(rows, (0.1, 0.5, 0.9)).set_index("horizon")
    assert table.loc[1, "wape"] == pytest.approx((10 + 20) / 150)
    assert table.loc[1, "mase"] == pytest.approx((10 / 10 + 20 / 10) / 2)
    assert table.loc[1, "coverage_80"] == pytest.approx(0.5)
    assert table.loc[2, "wape"] == pytest.approx(0.0)
    assert table.loc[1, "n"] == 2
