"""The market forecast (forecast/market.py): no look-ahead, shapes and units, seasonality,
the random walk it is scored against."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.market import (
    MARKET_QUANTILES,
    SEASON_CLASSES,
    market_forecast,
    market_score_table,
    score_market_forecast,
    season_classes,
)
from rainmaker.errors import UsageError

SAMPLE_MARKET = Path(__file__).resolve().parents[2] / "data" / "sample" / "market.csv"


@pytest.fixture(scope="module")
def market() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_MARKET)


def test_no_look_ahead(market: pd.DataFrame) -> None:
    as_of = pd.Timestamp("2020-06-10")
    full = market_forecast(market, as_of, 21)
    cut = market_forecast(market.loc[pd.to_datetime(market["date"]) <= as_of], as_of, 21)
    np.testing.assert_array_equal(full.median_pct, cut.median_pct)
    np.testing.assert_array_equal(full.paths_pct, cut.paths_pct)
    assert full.series == cut.series


def test_shapes_units_and_quantiles(market: pd.DataFrame) -> None:
    fc = market_forecast(market, "2021-03-01", 30, n_paths=50)
    s = len(fc.series)
    assert fc.series[0] == "shibor_on" and "benchmark_yield_7d" in fc.series
    assert fc.median_pct.shape == (s, 30) and fc.paths_pct.shape == (s, 50, 30)
    assert fc.dates[0] == pd.Timestamp("2021-03-02")
    assert set(MARKET_QUANTILES) <= set(fc.quantiles_pct)
    # percent p.a., near today's level, quantiles ordered
    assert (np.abs(fc.median_pct - fc.today_pct[:, None]) < 2.0).all()
    assert (fc.quantiles_pct[0.1] <= fc.median_pct + 1e-9).all()
    assert (fc.median_pct <= fc.quantiles_pct[0.9] + 1e-9).all()
    table = fc.table()
    assert list(table.columns[:4]) == ["date", "series", "today", "median"]
    assert len(table) == s * 30
    # the same answer every time
    again = market_forecast(market, "2021-03-01", 30, n_paths=50)
    np.testing.assert_array_equal(fc.paths_pct, again.paths_pct)


def test_flat_is_todays_value(market: pd.DataFrame) -> None:
    fc = market_forecast(market, "2021-03-01", 10).flat()
    np.testing.assert_array_equal(fc.median_pct, np.repeat(fc.today_pct[:, None], 10, axis=1))


def test_season_classes_name_the_calendar() -> None:
    days = pd.date_range("2021-01-01", "2021-12-31", freq="D")
    codes = pd.Series(season_classes(days), index=days).map(dict(enumerate(SEASON_CLASSES)))
    assert codes["2021-06-30"] == "quarter_end_last"
    assert codes["2021-06-22"] == "quarter_end_before"
    assert codes["2021-05-30"] == "month_end"
    assert codes["2021-07-02"] == "quarter_start"
    assert codes["2021-05-15"] == "ordinary"
    # the Spring Festival holiday of 2021 began on 11 February
    assert codes["2021-02-05"] == "before_spring_festival"
    assert codes["2021-02-12"] != "before_spring_festival"


def test_score_against_random_walk(market: pd.DataFrame) -> None:
    origins = pd.date_range("2021-01-04", periods=6, freq="14D")
    score = score_market_forecast(market, origins, 14, series=["shibor_on", "shibor_1w"])
    assert list(score["band"].unique()) == ["1", "2-7", "8-14"]
    assert (score["mae_rw_bp"] >= 0).all() and score["coverage_80"].between(0, 1).all()
    assert (score.loc[score["band"] == "1", "n"] == 6).all()


@pytest.mark.parametrize("level", [3.275, 2.35, 1.0])
def test_flat_rates_are_covered_by_their_flat_interval(market: pd.DataFrame, level: float) -> None:
    # every rate held at one level: p10 = p90 = the outcome up to float rounding (3.275's quantile
    # comes out 5e-15 off); each outcome is inside (coverage was 33 % for shibor_6m at 3.275)
    flat = market.assign(**{c: level for c in market.columns if c != "date"})
    origins = pd.date_range("2022-04-01", periods=6, freq="7D")
    score = score_market_forecast(flat, origins, 7)
    assert (score["coverage_80"] == 1.0).all() and (score["mae_bp"] < 1e-9).all()


def test_bad_requests(market: pd.DataFrame) -> None:
    with pytest.raises(UsageError, match="horizon"):
        market_forecast(market, "2021-03-01", 0)
    with pytest.raises(UsageError, match="no market rows"):
        market_forecast(market, "2000-01-01", 5)
    with pytest.raises(UsageError, match="lack shibor_9x"):
        market_forecast(market, "2021-03-01", 5, series=["shibor_9x"])


def test_days_off_carry_the_last_working_day(market: pd.DataFrame) -> None:
    # as of Thursday 2021-03-04: Friday is forecast, Saturday and Sunday carry Friday's value
    fc = market_forecast(market, "2021-03-04", 4, n_paths=20)
    np.testing.assert_array_equal(fc.median_pct[:, 1], fc.median_pct[:, 0])
    np.testing.assert_array_equal(fc.median_pct[:, 2], fc.median_pct[:, 0])
    np.testing.assert_array_equal(fc.paths_pct[:, :, 2], fc.paths_pct[:, :, 0])
    # as of a Friday, the weekend is today's publication
    friday = market_forecast(market, "2021-03-05", 2)
    np.testing.assert_allclose(friday.median_pct, np.repeat(friday.today_pct[:, None], 2, 1))


@pytest.mark.parametrize("shift", [-3.0, "zero"])
def test_rates_at_or_below_zero_are_forecast_in_percent(
    market: pd.DataFrame, shift: float | str
) -> None:
    # market.csv allows rates from -100 to 100: a series with a zero or negative rate in its
    # history is modelled in percent, not in logs, whose floor of 0.01 % forecast -0.5 % at
    # +0.01 % (MAE 164 bp against the random walk's 4 on the sample's Shibor less 3 points)
    rates = [c for c in market.columns if c != "date"]
    low = (
        market.assign(**{c: 0.0 for c in rates})
        if shift == "zero"
        else market.assign(**{c: market[c] + shift for c in rates})
    )
    fc = market_forecast(low, "2022-04-29", 7)
    assert (fc.today_pct < 0.01).any()
    np.testing.assert_allclose(fc.median_pct[:, 0], fc.today_pct, atol=0.2)
    assert (fc.quantiles_pct[0.1][:, 0] <= fc.today_pct + 0.2).all()
    origins = pd.date_range("2022-04-01", periods=4, freq="7D")
    score = score_market_forecast(low, origins, 7)
    assert (score["mae_bp"] <= 3 * score["mae_rw_bp"] + 1e-9).all()
    if shift == "zero":
        assert (score["mae_bp"] == 0).all() and (score["coverage_80"] == 1.0).all()


def test_skill_is_undefined_where_only_the_random_walk_is_exact(market: pd.DataFrame) -> None:
    # every rate flat at 2 % from January: the overnight median moves by its month-end effect,
    # the random walk makes no error; skill read 0 ("as good as the random walk")
    flat = market.copy()
    late = flat["date"] >= "2022-01-01"
    for column in flat.columns[1:]:
        flat.loc[late, column] = 2.0
    origins = pd.date_range("2022-05-16", periods=3, freq="7D")
    score = score_market_forecast(flat, origins, 14, series=["shibor_on", "shibor_3m"])
    moved = score.loc[score["series"] == "shibor_on"]
    assert (moved["mae_bp"] > 0).all() and (moved["mae_rw_bp"] == 0).all()
    assert moved["skill"].isna().all()
    held = score.loc[score["series"] == "shibor_3m"]
    assert (held["mae_bp"] == 0).all() and (held["skill"] == 0).all()
    assert "  n/a 100%" in market_score_table(score)
