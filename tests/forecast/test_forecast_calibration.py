"""Calibration that adapts: recency weights, weighted medians, centred residuals, the
level-shift acceptance on a seeded single series, and the intervals of a product launched
weeks ago (stand-in errors sized to the candidate's)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecast import Forecaster, ForecastFallbackWarning
from forecast.calibration import (
    DEFAULT_HALF_LIFE_DAYS,
    MAX_CONFORMAL_SCALE,
    MIN_RATIO_ERRORS,
    centre_residuals,
    conformal_scale,
    error_ratio,
    origin_weights,
    recent_error_factor,
    weighted_median,
    weighted_quantile,
    widen_residuals,
)
from forecast.features import calendar_matrix
from forecast.naive import SeasonalNaive
from forecast.panel import build_panel
from forecast.paths import flow_paths, path_quantiles
from forecast.statistical import CalendarETS, calendar_regressors
from forecast.toy_data import single_series_dataset

finite = st.floats(-5, 5, allow_nan=False)


@given(arrays(float, st.integers(1, 30), elements=finite))
def test_weighted_median_with_equal_weights_is_a_median(values: np.ndarray) -> None:
    got = weighted_median(values, np.ones(len(values)))
    ordered = np.sort(values)
    # The lower median: the smallest value with at least half the weight at or below it.
    assert got == ordered[(len(values) - 1) // 2]


def test_weighted_median_skips_nan_and_follows_the_weights() -> None:
    values = np.array([1.0, np.nan, 10.0, 3.0])
    assert weighted_median(values, np.array([1.0, 5.0, 1.0, 1.0])) == 3.0
    assert weighted_median(values, np.array([0.1, 5.0, 5.0, 0.1])) == 10.0
    assert np.isnan(weighted_median(np.array([np.nan]), np.ones(1)))


def test_origin_weights_halve_every_half_life() -> None:
    w = origin_weights(np.array([0, 91, 182]), 91.0)
    assert np.isclose(w.sum(), 1.0)
    assert np.allclose(w[1:] / w[:-1], 2.0)
    assert np.allclose(origin_weights(np.arange(5), None), 0.2)


@settings(max_examples=30, deadline=None)
@given(arrays(float, (12, 3, 4), elements=finite), st.floats(7, 365))
def test_centred_residuals_have_weighted_median_zero(values: np.ndarray, half_life: float) -> None:
    weights = origin_weights(np.arange(0, 84, 7), half_life)
    centred = centre_residuals(values, weights)
    assert np.allclose(weighted_median(centred, weights, axis=0), 0.0)
    # Centring shifts each trajectory column; it does not reorder or rescale it.
    assert np.allclose(np.diff(centred, axis=0), np.diff(values, axis=0))


@pytest.mark.slow
def test_median_does_not_carry_an_old_fall_after_the_level_steadies() -> None:
    """Issue 13, item 3: a product whose level fell for five months and steadied on the first
    origin. Over forecasts made in the four weeks after it steadies (weekly origins, 28 days
    each, three seeds): over both flows the medians are within 5 % of the outcomes
    (Σ p50 / Σ actual − 1) and nearer than the seasonal naive's, and the 80 % band covers
    75-85 %. Per flow, three seeds can show only looser bounds (one seed's level estimate alone
    is off by about ±7 %): medians within 10 %, coverage 70-90 %; the benchmark's eight and
    eight more seeds show the issue's ±5 % and 75-85 % per flow (docs/forecast.md)."""
    p50: dict[str, list[float]] = {"subscriptions": [], "redemptions": []}
    naive_p50: dict[str, list[float]] = {"subscriptions": [], "redemptions": []}
    actuals: dict[str, list[float]] = {"subscriptions": [], "redemptions": []}
    inside: dict[str, list[bool]] = {"subscriptions": [], "redemptions": []}
    for seed in (0, 1, 4):
        series = single_series_dataset("level_shift", seed, days_after=49)
        flows = series.dataset.flows.set_index("date")
        for week in range(4):
            origin = series.origin + np.timedelta64(7 * week, "D")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ForecastFallbackWarning)
                forecaster = Forecaster(horizon=28).fit(series.dataset, origin)
                table = forecaster.predict(series.dataset, origin).table
                naive = forecaster.predict(series.dataset, origin, model="seasonal_naive").table
            for variable in p50:
                rows = table[table["variable"] == variable]
                actual = flows.loc[rows["date"], variable].to_numpy()
                inside[variable].extend(
                    (actual >= rows["p10"].to_numpy()) & (actual <= rows["p90"].to_numpy())
                )
                p50[variable].extend(rows["p50"])
                naive_p50[variable].extend(naive.loc[naive["variable"] == variable, "p50"])
                actuals[variable].extend(actual)

    def bias(values: dict[str, list[float]], *variables: str) -> float:
        forecast = sum(float(np.sum(values[v])) for v in variables)
        return forecast / sum(float(np.sum(actuals[v])) for v in variables) - 1.0

    both = tuple(p50)
    assert abs(bias(p50, *both)) <= 0.05, bias(p50, *both)
    assert abs(bias(p50, *both)) <= abs(bias(naive_p50, *both))
    assert 0.75 <= float(np.mean(inside["subscriptions"] + inside["redemptions"])) <= 0.85
    for variable in both:
        assert abs(bias(p50, variable)) <= 0.10, (variable, bias(p50, variable))
        assert 0.70 <= float(np.mean(inside[variable])) <= 0.90, variable


def test_calendar_effects_are_measured_against_the_local_level() -> None:
    """A level that falls by 60 % over the last five months of the window must not leak into
    the calendar effects: without the local level they came out up to 0.106 off on the log
    scale; with it (a quarterly piecewise-linear level approximating a smooth fall) within
    0.04."""
    days = 364
    first = pd.Timestamp("2020-12-01")
    regressors = calendar_regressors(calendar_matrix(first, first + pd.Timedelta(days=days - 1)))
    rng = np.random.default_rng(3)
    truth = rng.uniform(-0.5, 0.5, regressors.shape[1])
    u = np.clip((np.arange(days) - 214) / 150, 0.0, 1.0)
    level = np.log(0.4) * u * u * (3.0 - 2.0 * u)
    weekday = np.array([0.0, 0.05, 0.0, 0.02, 0.1, -0.5, -0.55])[np.arange(days) % 7]
    x = level + weekday + regressors @ truth + rng.normal(0.0, 0.02, days)
    estimated = CalendarETS(ridge=1e-6)._calendar_effects(x, regressors, 0)
    used = regressors.any(axis=0)
    assert np.allclose(estimated[used], truth[used], atol=0.05)


def test_conformal_scale_shrinks_to_one_with_many_residuals() -> None:
    factors = conformal_scale(np.array([1.0, 5.0, 10.0, 37.0, 100.0, 1e6]))
    assert np.all(np.diff(factors) <= 0)
    assert factors[0] == MAX_CONFORMAL_SCALE
    assert 1.05 < factors[3] < 1.15  # 52 weekly origins at a 91-day half-life
    assert factors[-1] == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("n", [12, 37])
def test_widened_band_covers_eighty_percent_of_a_new_outcome(n: int) -> None:
    """n exchangeable residuals: the p10-p90 band of the raw residuals covers a new draw
    0.8 (n-1)/(n+1) of the time; widened, 0.8 within Monte Carlo noise."""
    rng = np.random.default_rng(7)
    trials = 4000
    residuals = rng.standard_t(8, size=(n, trials, 1))
    new = rng.standard_t(8, size=trials)
    weights = np.full(n, 1.0 / n)
    for values, expected in (
        (residuals, 0.8 * (n - 1) / (n + 1)),
        (widen_residuals(residuals, weights), 0.8),
    ):
        low, high = np.quantile(values[:, :, 0], [0.1, 0.9], axis=0)
        inside = float(np.mean((new >= low) & (new <= high)))
        assert inside == pytest.approx(expected, abs=0.025)


def _path_band_coverage(
    origins: np.ndarray, residuals: np.ndarray, new: np.ndarray, n_paths: int, seed: int
) -> float:
    """Share of ``new`` (n_products,) inside the p10-p90 band the sample paths read from
    ``residuals`` (n_origins, n_products, 1), drawn by the default recency weights."""
    n_products = residuals.shape[1]
    point = np.full((n_products, 1), np.expm1(20.0))  # far from 0: nothing is cut at 0
    scale = np.ones(n_products)
    flows = ("subscriptions", "redemptions")
    paths = flow_paths(
        dict.fromkeys(flows, point),
        dict.fromkeys(flows, scale),
        dict.fromkeys(flows, residuals),
        n_paths,
        np.random.default_rng(seed),
        origin_weights(origins, DEFAULT_HALF_LIFE_DAYS),
    )["subscriptions"]
    low, high = path_quantiles(np.log1p(paths), [0.1, 0.9])
    outcome = 20.0 + new[:, None]
    return float(np.mean((outcome >= low) & (outcome <= high)))


@pytest.mark.parametrize(
    "origins",
    [np.arange(22), np.arange(0, 364, 7)],
    ids=["22 daily origins (a young product's stand-in)", "52 weekly origins (a backtest)"],
)
def test_the_paths_band_covers_what_their_finite_samples_say(origins: np.ndarray) -> None:
    """Issue 13, why bands over-cover: exchangeable residuals read as forecasts read them
    (200 paths drawing origins by their recency weights, the paths' interpolated p10 and p90).
    The raw band covers a new outcome 0.8 (N-1)/(N+1) n/(n+1) of the time (n effective
    origins, N paths), not the 0.8 (n-1)/(n+1) of a band interpolated between the residuals
    that :func:`conformal_scale` corrects for; so the widened band covers about
    0.8 n/(n-1) (N-1)/(N+1): 82-83 %, not 80 % (docs/forecast.md, "Why some bands cover more
    than 85 %"). A correction for the paths' reading must change this test."""
    rng = np.random.default_rng(13)
    weights = origin_weights(origins, DEFAULT_HALF_LIFE_DAYS)
    n = 1.0 / float((weights**2).sum())
    n_paths = 200
    paths_share = (n_paths - 1) / (n_paths + 1)
    raw, widened = [], []
    for rep in range(10):
        residuals = rng.standard_t(8, size=(len(origins), 2000, 1))
        new = rng.standard_t(8, size=2000)
        raw.append(_path_band_coverage(origins, residuals, new, n_paths, rep))
        wider = widen_residuals(residuals, weights)
        widened.append(_path_band_coverage(origins, wider, new, n_paths, rep))
    assert np.mean(raw) == pytest.approx(0.8 * paths_share * n / (n + 1), abs=0.012)
    assert np.mean(raw) > 0.8 * (n - 1) / (n + 1) + 0.01
    assert np.mean(widened) == pytest.approx(0.8 * paths_share * n / (n - 1), abs=0.015)
    assert np.mean(widened) > 0.81


def test_widening_scales_every_product_by_the_draws_effective_number() -> None:
    residuals = np.array([[[1.0], [np.nan]], [[-1.0], [2.0]], [[0.5], [-2.0]]])
    weights = np.array([0.2, 0.3, 0.5])
    widened = widen_residuals(residuals, weights)
    assert np.isnan(widened[0, 1, 0])
    factor = float(conformal_scale(1.0 / (weights**2).sum()))
    assert np.allclose(widened[1:], residuals[1:] * factor)
    assert widened[0, 0, 0] == factor


def test_error_ratio_compares_the_spread_of_paired_errors() -> None:
    rng = np.random.default_rng(5)
    reference = rng.normal(0.3, 1.0, size=(40, 3))
    own = np.column_stack([0.5 * reference[:, 0], reference[:, 1] + 2.0, 2.0 * reference[:, 2]])
    own[:5, 1] = np.nan  # only paired days count
    ratio = error_ratio(own, reference)
    # spread around the median: a shift does not count, a scale does
    assert ratio == pytest.approx([0.5, 1.0, 2.0])
    few = error_ratio(own[: MIN_RATIO_ERRORS - 1], reference[: MIN_RATIO_ERRORS - 1])
    assert np.all(few == 1.0)


def _young_product_forecasts(seed: int, dataset_up_to_origin: bool = False) -> list[pd.DataFrame]:
    series = single_series_dataset("new", seed, days_after=49)
    tables = []
    for week in range(4):
        origin = series.origin + pd.Timedelta(days=7 * week)
        data = series.dataset.up_to(origin) if dataset_up_to_origin else series.dataset
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ForecastFallbackWarning)
            forecaster = Forecaster(
                models=("seasonal_naive", "ets"), horizon=28, estimate_exposure_response=False
            ).fit(data, origin)
            tables.append(forecaster.predict(data, origin).table)
    return tables


def test_a_young_product_alone_gets_an_eighty_percent_band() -> None:
    """Issue 13: a product launched 8 weeks before, alone (no backtest: the seasonal naive's
    errors inside its panel stand in). Sized to the candidate's errors (their one-day-ahead
    errors against the naive's on the same days) and widened for their finite number, the
    p10-p90 band covers 75-85 % per flow over four weekly origins, 28 days each, seeds 0-3
    (without the sizing and widening: subscriptions 90.9 %, redemptions 84.2 %)."""
    inside: dict[str, list[bool]] = {"subscriptions": [], "redemptions": []}
    for seed in range(4):
        flows = single_series_dataset("new", seed, days_after=49).dataset.flows.set_index("date")
        for table in _young_product_forecasts(seed):
            for variable, hits in inside.items():
                rows = table[table["variable"] == variable]
                actual = flows.loc[rows["date"], variable].to_numpy()
                hits.extend((actual >= rows["p10"].to_numpy()) & (actual <= rows["p90"].to_numpy()))
    for variable, hits in inside.items():
        assert 0.75 <= float(np.mean(hits)) <= 0.85, (variable, float(np.mean(hits)))


def test_a_young_product_s_intervals_read_nothing_after_the_as_of_day() -> None:
    """The stand-in errors and their sizing (in-sample one-day-ahead errors of the fitted
    models) use rows up to the as-of day only: the same tables from the data set cut there."""
    for full, cut in zip(
        _young_product_forecasts(0),
        _young_product_forecasts(0, dataset_up_to_origin=True),
        strict=True,
    ):
        pd.testing.assert_frame_equal(full, cut)


def test_in_sample_forecasts_end_by_the_last_fitted_day() -> None:
    series = single_series_dataset("new", 0, days_after=7)
    panel = build_panel(series.dataset, series.origin)
    last = panel.n_days - 1
    naive = SeasonalNaive().fit(panel)
    ets = CalendarETS().fit(panel)
    got = naive.in_sample_at(panel, np.array([last - 1]), 1)["redemptions"][0, 0, 0]
    assert got == panel.redemptions[last - 7, 0]  # the same weekday a week before
    # no minimum history at an in-sample origin: ets forecasts from the product's 8th day
    assert np.isfinite(ets.in_sample_at(panel, np.array([7]), 7)["subscriptions"]).all()
    with pytest.raises(ValueError, match="last fitted day"):
        ets.in_sample_at(panel, np.array([last - 1]), 2)


def test_weighted_quantile_is_the_smallest_value_reaching_the_level() -> None:
    values = np.array([5.0, 1.0, 4.0, np.nan, 2.0, 3.0])
    equal = np.ones(len(values))
    assert [float(weighted_quantile(values, equal, q)) for q in (0.2, 0.21, 0.4, 0.9, 1.0)] == [
        1.0,
        2.0,
        2.0,
        5.0,
        5.0,
    ]
    # weights: 1 carries half of the weight, so it is every quantile up to the median
    weights = np.array([1.0, 4.0, 1.0, 1.0, 1.0, 1.0])
    assert float(weighted_quantile(values, weights, 0.5)) == 1.0
    assert float(weighted_quantile(values, weights, 0.51)) == 2.0
    assert float(weighted_median(values, weights)) == 1.0


def _trajectories(sizes: np.ndarray, k: int = 7) -> np.ndarray:
    """(n_origins, 1, k) residuals of absolute size ``sizes[o]`` on every day, signs alternating."""
    signs = np.where(np.arange(k) % 2 == 0, 1.0, -1.0)
    return (sizes[:, None] * signs[None, :])[:, None, :]


def test_recent_errors_widen_a_band_only_past_the_backtest_s_usual_range() -> None:
    """Worked by hand: 20 origins of equal weight with trajectories of size 0.10, 0.11, ...,
    0.29 (mean 0.195); their ratios to the mean run from 0.51 to 1.49, the 0.9 quantile (the
    18th of 20) is 0.27 / 0.195 = 1.385. A last week of errors of size 0.39 (ratio 2.0) scales
    the residuals by 2 and one of 0.28 by 1.436; one of 0.27 (not above) leaves them; so does
    one of 0.39 with four of its seven days unknown, or a product with only five origins."""
    sizes = 0.10 + 0.01 * np.arange(20)
    residuals = _trajectories(sizes)
    weights = np.full(20, 1 / 20)
    week = np.full((1, 7), 0.39)
    assert recent_error_factor(week, residuals, weights) == pytest.approx([2.0])
    assert recent_error_factor(-week, residuals, weights) == pytest.approx([2.0])
    assert recent_error_factor(np.full((1, 7), 0.28), residuals, weights) == pytest.approx(
        [0.28 / 0.195]
    )
    assert recent_error_factor(np.full((1, 7), 0.27), residuals, weights) == pytest.approx([1.0])
    half_known = np.where(np.arange(7) < 4, np.nan, 0.39)[None, :]
    assert recent_error_factor(half_known, residuals, weights) == pytest.approx([1.0])
    with_infinite = np.where(np.arange(7) < 4, np.inf, 0.39)[None, :]
    assert recent_error_factor(with_infinite, residuals, weights) == pytest.approx([1.0])
    young = residuals[:5]
    assert recent_error_factor(week, young, np.full(5, 0.2)) == pytest.approx([1.0])
    # horizons past the last week's k days are not read
    longer = np.concatenate([residuals, np.full((20, 1, 7), 9.0)], axis=2)
    assert recent_error_factor(week, longer, weights) == pytest.approx([2.0])


def _jumped_forecast(adapt: bool, cut: bool = False) -> pd.DataFrame:
    """A steady product whose redemptions tripled over the week before the origin."""
    series = single_series_dataset("steady", 0, days_after=14)
    flows = series.dataset.flows.copy()
    last_week = (flows["date"] > series.origin - pd.Timedelta(days=7)) & (
        flows["date"] <= series.origin
    )
    flows.loc[last_week, "redemptions"] *= 3.0
    data = dataclasses.replace(series.dataset, flows=flows)
    if cut:
        data = data.up_to(series.origin)
    forecaster = Forecaster(
        models=("seasonal_naive", "ets"), horizon=14, estimate_exposure_response=False, adapt=adapt
    ).fit(data, series.origin)
    result = forecaster.predict(data, series.origin)
    return result.table.assign(warned=" ".join(result.warnings))


def test_a_week_of_large_errors_widens_the_band_and_says_so() -> None:
    plain, adapted = _jumped_forecast(adapt=False), _jumped_forecast(adapt=True)

    def width(table: pd.DataFrame) -> float:
        rows = table[table["variable"] == "redemptions"]
        return float(np.log(rows["p90"] / rows["p10"]).mean())

    assert width(adapted) > 1.5 * width(plain)
    assert "redemptions: bands widened for 1 product(s)" in adapted["warned"].iloc[0]
    assert "bands widened" not in plain["warned"].iloc[0]
    # subscriptions, whose last week was as usual, keep their band
    subscriptions = plain["variable"] == "subscriptions"
    pd.testing.assert_frame_equal(
        plain.loc[subscriptions, ["p10", "p90"]], adapted.loc[subscriptions, ["p10", "p90"]]
    )


def test_bands_that_follow_the_last_week_read_nothing_after_the_as_of_day() -> None:
    pd.testing.assert_frame_equal(
        _jumped_forecast(adapt=True), _jumped_forecast(adapt=True, cut=True)
    )
