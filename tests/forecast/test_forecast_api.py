"""The forecaster as other stages use it: results, coherent paths, fallbacks, refit cadence."""

from __future__ import annotations

import dataclasses
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecast import Forecaster, ForecastFallbackWarning, run_forecast
from forecast.api import EXPOSURE_THREAD, _recorded_warnings
from forecast.paths import (
    DORMANT_DAYS,
    aum_paths,
    closed_since,
    dormant,
    flow_paths,
    path_quantiles,
    quantile_label,
)
from forecast.selection import Candidate
from forecast.toy_data import toy_dataset
from rainmaker.dataset import load_dataset
from rainmaker.errors import UsageError

FAST = {
    "models": ("seasonal_naive", "ets", "lightgbm"),
    "horizon": 7,
    "backtest_days": 84,
    "refit_every_days": 42,
    "n_paths": 100,
    "model_params": {"lightgbm": {"n_estimators": 25}},
}


@pytest.fixture(scope="module")
def dataset():
    return toy_dataset(4, "2020-01-01", "2021-03-31", seed=5, new_products=1)


@pytest.fixture(scope="module")
def forecaster(dataset) -> Forecaster:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        return Forecaster(**FAST).fit(dataset, "2021-03-20")


def test_result_follows_the_interface(forecaster, dataset) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        result = forecaster.predict(dataset, "2021-03-20")
    table = result.table
    assert list(table.columns) == ["product_id", "date", "variable", "mean"] + [
        quantile_label(q) for q in (0.05, 0.1, 0.5, 0.9, 0.95)
    ]
    assert len(table) == len(result.product_ids) * 7 * 4
    assert set(table["variable"]) == {"subscriptions", "redemptions", "net_flow", "aum"}
    assert table["date"].min() == pd.Timestamp("2021-03-21")
    assert table["date"].max() == pd.Timestamp("2021-03-27")
    assert not table.duplicated(["product_id", "date", "variable"]).any()
    assert table.drop(columns=["product_id", "date", "variable"]).notna().all().all()
    # Quantiles are ordered on every row.
    levels = table[["p05", "p10", "p50", "p90", "p95"]].to_numpy()
    assert (np.diff(levels, axis=1) >= 0).all()
    flows = table[table["variable"].isin(["subscriptions", "redemptions"])]
    assert (flows["p05"] >= 0).all()
    for variable, paths in result.paths.items():
        assert paths.shape == (len(result.product_ids), 100, 7), variable
    q90 = result.quantile("redemptions", 0.9)
    assert q90.shape == (7, len(result.product_ids))
    column = table[(table["variable"] == "redemptions") & (table["product_id"] == "T0001")]
    np.testing.assert_allclose(q90["T0001"].to_numpy(), column["p90"].to_numpy())
    assert result.baseline_exposure.shape == (7, len(result.product_ids))
    assert {"a", "e0", "a_se", "e0_se"} <= set(result.exposure_response.columns)
    assert result.model_name.startswith("auto(")
    assert result.horizon == 7 and result.as_of == pd.Timestamp("2021-03-20")


def test_net_flow_and_aum_are_coherent_with_the_flows(forecaster, dataset) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        result = forecaster.predict(dataset, "2021-03-20")
    means = result.table.pivot_table(
        index=["product_id", "date"], columns="variable", values="mean"
    )
    np.testing.assert_allclose(
        means["net_flow"], means["subscriptions"] - means["redemptions"], rtol=1e-9, atol=1e-3
    )
    paths = result.paths
    np.testing.assert_allclose(paths["net_flow"], paths["subscriptions"] - paths["redemptions"])
    flows = dataset.flows.set_index(["date", "product_id"])
    aum0 = flows.loc[pd.Timestamp("2021-03-20")]["aum"].reindex(result.product_ids).to_numpy()
    # Day one's AUM is the as-of AUM plus that day's net flow and a little income.
    first = paths["aum"][:, :, 0] - paths["net_flow"][:, :, 0] - aum0[:, None]
    assert (np.abs(first) <= 1e-3 * aum0[:, None]).all()


def test_too_little_history_falls_back_with_a_warning(dataset) -> None:
    # On 2021-03-20 the new product has 10 days: too few for the ETS model.
    with pytest.warns(ForecastFallbackWarning, match="T0004"):
        fitted = Forecaster(**{**FAST, "models": ("ets",)}).fit(dataset, "2021-03-20")
        result = fitted.predict(dataset, "2021-03-20")
    new = result.table[result.table["product_id"] == "T0004"]
    assert new["mean"].notna().all()
    assert any("T0004" in w for w in result.warnings)


def test_a_short_data_set_still_gets_a_forecast(make_dataset, tmp_path) -> None:
    folder = make_dataset(tmp_path / "short", n_products=2, n_days=30)
    short = load_dataset(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        result = run_forecast(short, horizon=7, model="lightgbm", n_paths=50)
    assert len(result.table) == 2 * 7 * 4
    assert result.table["mean"].notna().all()
    assert any("too few" in w for w in result.warnings)


@pytest.mark.parametrize("n_days", [1, 3, 6])
def test_less_than_a_week_of_history_gets_a_forecast(make_dataset, tmp_path, n_days) -> None:
    """Under a week the panel has not seen every weekday: such a day's baseline exposure is
    the as-of day's (its position used to run below the panel's start: an IndexError, or a
    later day's value read by a wrapped index)."""
    short = load_dataset(make_dataset(tmp_path / "days", n_products=2, n_days=n_days))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        result = run_forecast(short, horizon=7, n_paths=50)
    assert result.table["mean"].notna().all()
    exposure = short.flows.pivot(index="date", columns="product_id", values="exposure")
    seen = pd.DatetimeIndex(exposure.index).day_of_week
    for day, row in result.baseline_exposure.iterrows():
        same = seen == day.day_of_week
        wanted = exposure.loc[same].mean() if same.any() else exposure.iloc[-1]
        np.testing.assert_allclose(row.to_numpy(), wanted.to_numpy())


def test_a_model_the_fit_could_not_fit_says_why(make_dataset, tmp_path) -> None:
    """Five days are too few for LightGBM: asking for it names the reason (it used to read as
    a model this forecaster never had), and the chosen candidate's fallback still forecasts."""
    short = load_dataset(make_dataset(tmp_path / "five", n_products=2, n_days=5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        fitted = Forecaster(models=("seasonal_naive", "lightgbm"), horizon=7, n_paths=20)
        fitted.fit(short)
        with pytest.raises(UsageError, match="lightgbm could not be fitted .* need 8 days"):
            fitted.predict(model="lightgbm")
        assert fitted.predict().table["mean"].notna().all()
    assert "need 8 days" in (fitted.unfitted_reason("lightgbm") or "")
    assert "need 8 days" in (fitted.unfitted_reason("seasonal_naive+lightgbm") or "")
    assert fitted.unfitted_reason("seasonal_naive") is None
    assert fitted.unfitted_reason("ets") is None  # never asked of it: unknown, not failed


def test_intervals_that_collapse_onto_the_point_forecast_say_so(make_dataset, tmp_path) -> None:
    """Under 7 + H days the intervals cannot be estimated: p10 = p90. The note saying so was made
    while the residuals were built, after predict had copied the notes, so it reached neither
    the log nor run.json nor the report: a forecast of certainty without a word."""
    short = load_dataset(make_dataset(tmp_path / "five", n_products=2, n_days=5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        result = Forecaster(models=("seasonal_naive",), horizon=3, n_paths=20).fit(short).predict()
    table = result.table
    assert (table["p10"] == table["p90"]).all()  # the collapse the note is about
    said = [note for note in result.warnings if "collapse onto the point forecast" in note]
    assert said == [
        "fewer than 10 days of history: the intervals cannot be estimated and collapse onto the "
        "point forecast"
    ]


def test_fit_once_then_predict_and_refit_from_later_days(forecaster, dataset) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        later = forecaster.predict(dataset, "2021-03-24", horizon=5)
        assert later.dates[0] == pd.Timestamp("2021-03-25") and later.horizon == 5
        # Same as predicting from a data set cut at that day (no look-ahead).
        again = forecaster.predict(dataset.up_to("2021-03-24"), "2021-03-24", horizon=5)
        pd.testing.assert_frame_equal(later.table, again.table)
        with pytest.raises(UsageError, match="precedes"):
            forecaster.predict(dataset, "2021-03-10")
        with pytest.raises(UsageError, match="horizon"):
            forecaster.predict(dataset, "2021-03-24", horizon=30)
        with pytest.raises(UsageError, match="not fitted"):
            forecaster.predict(dataset, "2021-03-24", model="recent_mean+nope")
        single = forecaster.predict(dataset, "2021-03-24", model="ets")
        assert single.model_name == "ets"
        name = "median(seasonal_naive+ets+lightgbm)"
        median = forecaster.predict(dataset, "2021-03-24", horizon=5, model=name)
        assert median.model_name == name and median.table["mean"].notna().all()


def test_the_median_candidate_forecasts_the_middle_model(forecaster, dataset) -> None:
    """Where every member forecasts a product, the median candidate's point forecast is the
    middle one; where one cannot (the young product), the mean of the other two."""
    panel = forecaster._panel_at(dataset, "2021-03-24")
    members = ("seasonal_naive", "ets", "lightgbm")
    last = np.array([panel.n_days - 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        stack = np.stack(
            [forecaster.models_[m].predict_at(panel, last, 5)["redemptions"][0] for m in members]
        )
        median = forecaster._point_forecasts(
            panel, {"redemptions": Candidate(members, "median")}, 5, []
        )["redemptions"]
    every = ~np.isnan(stack).any(axis=(0, 2))
    assert every.sum() >= 3 and not every.all()
    np.testing.assert_array_equal(median[every], np.median(stack, axis=0)[every])
    np.testing.assert_allclose(median[~every], np.nanmean(stack, axis=0)[~every], rtol=1e-12)


def test_predict_on_the_fit_s_data_and_day_reuses_its_panel_with_the_same_result(
    forecaster, dataset
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        reused = forecaster.predict(dataset, "2021-03-20")
        assert forecaster._panel_at(dataset, "2021-03-20") is forecaster.panel_
        # Another data set object with the same rows: its panel is built anew.
        same_rows = dataset.up_to("2021-03-31")
        assert forecaster._panel_at(same_rows, "2021-03-20") is not forecaster.panel_
        rebuilt = forecaster.predict(same_rows, "2021-03-20")
    pd.testing.assert_frame_equal(reused.table, rebuilt.table, check_exact=True)
    for variable, paths in reused.paths.items():
        np.testing.assert_array_equal(paths, rebuilt.paths[variable])


def test_backtest_records_its_own_warnings_not_the_exposure_thread_s() -> None:
    def exposure_thread_warns() -> None:
        warnings.warn("from the exposure thread", UserWarning, stacklevel=1)

    with warnings.catch_warnings(record=True) as outside:
        warnings.simplefilter("always")
        with _recorded_warnings() as caught:
            warnings.warn("from the backtest", UserWarning, stacklevel=1)
            with ThreadPoolExecutor(1, thread_name_prefix=EXPOSURE_THREAD) as pool:
                pool.submit(exposure_thread_warns).result()
    assert caught == ["from the backtest"]
    # raised again after the block, as it would have been without it
    assert [str(w.message) for w in outside] == ["from the exposure thread"]


def test_refit_keeps_selection_and_moves_the_as_of_day(dataset) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        fitted = Forecaster(**FAST).fit(dataset, "2021-03-10")
        chosen = dict(fitted.selection_)
        fitted.refit(dataset, "2021-03-17")
        assert fitted.as_of_ == pd.Timestamp("2021-03-17")
        assert fitted.selection_ == chosen
        with pytest.raises(UsageError):
            fitted.predict(dataset, "2021-03-12")


def test_a_product_launched_after_the_fit_keeps_everyone_s_residuals_aligned(dataset) -> None:
    # T0004 launches on 2021-03-11: absent at the fit, present after the refit.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        fitted = Forecaster(**FAST).fit(dataset, "2021-03-05")
        candidate = fitted.selection_["redemptions"]
        before = fitted.residuals(candidate, "redemptions")
        assert fitted.calibration_panel_.product_ids == ("T0001", "T0002", "T0003")
        fitted.refit(dataset, "2021-03-25")
        ids = ("T0004", "T0003", "T0001")
        after = fitted.residuals(candidate, "redemptions", ids)
        np.testing.assert_array_equal(after[:, 1], before[:, 2])
        np.testing.assert_array_equal(after[:, 2], before[:, 0])
        assert np.isnan(after[:, 0]).all()
        result = fitted.predict(dataset, "2021-03-25")
    assert "T0004" in result.product_ids
    assert result.table["mean"].notna().all()


def test_bad_settings_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown forecast model"):
        Forecaster(models=("prophet",))
    with pytest.raises(UsageError, match="horizon"):
        Forecaster(horizon=0)
    with pytest.raises(UsageError, match="quantile"):
        Forecaster(quantiles=(0.5, 1.0))


# ----------------------------------------------------------------------------- paths


@st.composite
def path_inputs(draw):
    n_products = draw(st.integers(1, 4))
    horizon = draw(st.integers(1, 6))
    n_origins = draw(st.integers(0, 5))
    positive = st.floats(0.0, 1e9, allow_nan=False)
    point = {
        v: draw(arrays(float, (n_products, horizon), elements=positive))
        for v in ("subscriptions", "redemptions")
    }
    scale = {
        v: draw(arrays(float, (n_products,), elements=st.floats(1.0, 1e9)))
        for v in ("subscriptions", "redemptions")
    }
    residual = st.one_of(st.floats(-3.0, 3.0), st.just(np.nan))
    residuals = {
        v: draw(arrays(float, (n_origins, n_products, horizon), elements=residual))
        for v in ("subscriptions", "redemptions")
    }
    aum0 = draw(arrays(float, (n_products,), elements=st.floats(0.0, 1e11)))
    rate = draw(arrays(float, (n_products,), elements=st.floats(0.0, 1e-4)))
    return point, scale, residuals, aum0, rate


def test_a_path_pays_no_more_than_the_product_holds() -> None:
    # AUM 100, income 1 % a day, subscriptions 10 a day; redemptions 50, 80, 30: day 1 holds
    # 100·1.01 + 10 = 111 and pays 50 (61 left); day 2 holds 61.61 + 10 = 71.61 and pays it
    # all (80 asked); day 3 holds 0 + 10 = 10 and pays 10 of 30.
    subs = np.full((1, 1, 3), 10.0)
    reds = np.array([[[50.0, 80.0, 30.0]]])
    paid, aum = aum_paths(np.array([100.0]), np.array([0.01]), subs, reds)
    np.testing.assert_allclose(paid[0, 0], [50.0, 71.61, 10.0])
    np.testing.assert_allclose(aum[0, 0], [61.0, 0.0, 0.0], atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(path_inputs(), st.integers(0, 2**16))
def test_paths_are_coherent_and_quantiles_ordered(inputs, seed) -> None:
    point, scale, residuals, aum0, rate = inputs
    paths = flow_paths(point, scale, residuals, 40, np.random.default_rng(seed))
    again = flow_paths(point, scale, residuals, 40, np.random.default_rng(seed))
    for variable in ("subscriptions", "redemptions"):
        assert (paths[variable] >= 0).all()
        np.testing.assert_array_equal(paths[variable], again[variable])
    paid, aum = aum_paths(aum0, rate, paths["subscriptions"], paths["redemptions"])
    net = paths["subscriptions"] - paid
    # AUM rolls forward path by path, aum(t) = aum(t-1)·(1 + rate) + net(t), never below 0;
    # redemptions are paid in full but where they would take it there
    previous = np.concatenate([np.repeat(aum0[:, None], 40, axis=1)[:, :, None], aum], axis=2)
    held = previous[:, :, :-1] * (1 + rate[:, None, None]) + paths["subscriptions"]
    np.testing.assert_allclose(aum, held - paid, rtol=1e-9, atol=1e-3)
    assert (aum >= 0).all()
    assert (paid <= paths["redemptions"]).all()
    cut = paid < paths["redemptions"]
    np.testing.assert_allclose(aum[cut], 0.0, atol=1e-3)
    levels = np.quantile(aum, [0.05, 0.1, 0.5, 0.9, 0.95], axis=1)
    assert (np.diff(levels, axis=0) >= -1e-6 * (1 + np.abs(levels[:-1]))).all()
    np.testing.assert_allclose(
        net.mean(axis=1),
        paths["subscriptions"].mean(axis=1) - paid.mean(axis=1),
        rtol=1e-9,
        atol=1e-3,
    )


def test_paths_without_residuals_collapse_onto_the_point_forecast() -> None:
    point = {"subscriptions": np.array([[5.0, 6.0]]), "redemptions": np.array([[1.0, 2.0]])}
    scale = {"subscriptions": np.array([5.0]), "redemptions": np.array([1.0])}
    empty = {v: np.zeros((0, 1, 2)) for v in point}
    paths = flow_paths(point, scale, empty, 10, np.random.default_rng(0))
    np.testing.assert_allclose(paths["subscriptions"][0], np.tile([5.0, 6.0], (10, 1)))


def test_a_product_without_residuals_borrows_another_products_trajectory() -> None:
    point = {v: np.full((2, 3), 100.0) for v in ("subscriptions", "redemptions")}
    scale = {v: np.full(2, 100.0) for v in point}
    residuals = {v: np.full((4, 2, 3), np.nan) for v in point}
    for v in point:
        residuals[v][:, 0, :] = np.arange(4)[:, None] * 0.1  # product 0 has them, 1 does not
    paths = flow_paths(point, scale, residuals, 30, np.random.default_rng(1))
    # Product 1 replays product 0's trajectories at the same origins.
    np.testing.assert_allclose(paths["subscriptions"][1], paths["subscriptions"][0])


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        float,
        st.tuples(st.integers(1, 3), st.integers(1, 30), st.integers(1, 4)),
        elements=st.floats(-1e9, 1e9),
    ),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6),
)
def test_path_quantiles_match_numpy(paths, levels) -> None:
    np.testing.assert_allclose(
        path_quantiles(paths, levels), np.quantile(paths, levels, axis=1), rtol=1e-9, atol=1e-3
    )


def test_theta_in_the_selection_has_no_look_ahead(dataset) -> None:
    """Fitted and forecast with theta among the candidates, as of a day: the same table
    whether the data set ends on that day or goes on (the backtest, selection, widened
    residuals and paths read nothing later)."""
    settings = {**FAST, "models": ("seasonal_naive", "ets", "theta")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        full = Forecaster(**settings).fit(dataset, "2021-03-10")
        cut = Forecaster(**settings).fit(dataset.up_to("2021-03-10"), "2021-03-10")
        for day in ("2021-03-10", "2021-03-17"):
            expected = cut.predict(dataset.up_to(day), day).table
            pd.testing.assert_frame_equal(full.predict(dataset, day).table, expected)
            theta = full.predict(dataset, day, model="theta")
            assert theta.model_name == "theta" and theta.table["mean"].notna().all()


def test_days_off_of_a_flow_booked_on_working_days_are_forecast_zero() -> None:
    """A feed of T+1 confirmations books a weekend's orders on Monday: exactly 0 on days off.
    Forecast bands around 0 there left 0 outside [p10, p90] on 14-34 % of those days (the
    total of two products: 46 %); now every path is 0 on them, and the working days keep
    theirs."""
    from rainmaker.china_calendar import workday_flags

    dataset = toy_dataset(2, "2020-01-01", "2021-03-31", seed=5)
    shut, other = dataset.product_ids
    flows = dataset.flows.copy()
    work = workday_flags(flows["date"].min(), flows["date"].max())
    off = ~flows["date"].map(work).astype(bool) & (flows["product_id"] == shut)
    flows.loc[off, ["subscriptions", "redemptions", "demand"]] = 0.0
    result = run_forecast(
        dataclasses.replace(dataset, flows=flows), horizon=14, model="seasonal_naive"
    )
    table = result.table.assign(off=~result.table["date"].map(work_ahead(result)).astype(bool))
    flows_only = table["variable"].isin(["subscriptions", "redemptions"])
    mine = table[flows_only & (table["product_id"] == shut)]
    # 2021-04-01..14: two weekends and Qingming's Monday (04-05)
    assert len(mine) == 2 * 14 and mine["off"].sum() == 2 * 5
    quantiles = [c for c in table.columns if c[0] == "p" and c[1:].isdigit()]
    assert (mine.loc[mine["off"], ["mean", *quantiles]] == 0).all().all()
    assert (mine.loc[~mine["off"], "mean"] > 0).all()
    theirs = table[flows_only & (table["product_id"] == other) & table["off"]]
    assert len(theirs) == 2 * 5 and (theirs["mean"] > 0).all()
    assert any("forecast 0 on days off" in w for w in result.warnings)


def test_a_dormant_flow_is_found_by_hand() -> None:
    n = 3 * DORMANT_DAYS
    active = np.full(n, 5.0)
    quiet = active.copy()
    quiet[-DORMANT_DAYS:] = 0.0  # none in the last four weeks
    short = active.copy()
    short[-DORMANT_DAYS + 1 :] = 0.0  # a day short of them
    came_back = quiet.copy()
    came_back[: DORMANT_DAYS + 1] = 0.0  # an earlier gap as long, then flows again
    capped = quiet.copy()
    censored = np.zeros((n, 5), dtype=bool)
    censored[-3, 4] = True  # a quota of 0 one day: demand unknown that day
    young = np.full(n, np.nan)
    young[-DORMANT_DAYS:] = 0.0  # nothing before: a launch with no flow yet, 0 all along
    history = np.column_stack([quiet, short, came_back, active, capped, young])
    censored = np.column_stack([censored, np.zeros(n, dtype=bool)])
    np.testing.assert_array_equal(
        dormant(history, censored), [True, False, False, False, False, True]
    )


def test_a_dormant_product_is_forecast_at_zero_with_zero_quantiles() -> None:
    """No flow in its last eight weeks (20 m a day of subscriptions before): it was forecast
    at a mean of 1.3 m a day and a p90 of 4.8 m (the residuals of its active past, on the
    scale of its whole history); now 0 in every path, its AUM growing by its income alone."""
    dataset = toy_dataset(2, "2020-01-01", "2021-03-31", seed=5)
    quiet, other = dataset.product_ids
    flows = dataset.flows.copy()
    since = flows["product_id"].eq(quiet) & (flows["date"] >= "2021-02-01")
    flows.loc[since, ["subscriptions", "redemptions", "demand"]] = 0.0
    flows.loc[since, "quota"] = np.nan  # no cap: the zeros are demand, not a quota's
    result = run_forecast(
        dataclasses.replace(dataset, flows=flows), horizon=14, model="seasonal_naive"
    )
    table = result.table.set_index(["product_id", "variable"])
    numbers = ["mean", *[c for c in table.columns if c[0] == "p" and c[1:].isdigit()]]
    for variable in ("subscriptions", "redemptions", "net_flow"):
        assert (table.loc[(quiet, variable), numbers] == 0).all().all(), variable
    aum = table.loc[(quiet, "aum")]
    assert (aum["p05"] == aum["p95"]).all() and aum["mean"].is_monotonic_increasing
    assert any("dormant" in w and quiet in w for w in result.warnings)
    assert (table.loc[(other, "subscriptions"), "mean"] > 0).all()  # the active one is not


def test_a_closed_product_is_found_by_hand() -> None:
    """Nil AUM and no subscription on each day of a run that reaches the as-of day: closed
    since the run's first day, which may be the day the last holders left."""
    nan = np.nan
    products = {  # (aum, subscriptions) of five days, the as-of day last; closed since
        "emptied on day 2": ([90, 50, 0, 0, 0], [1, 1, 0, 0, 0], 2),
        "money back on the as-of day": ([90, 0, 0, 0, 5], [1, 0, 0, 0, 5], -1),
        "money back, redeemed the same day": ([90, 0, 0, 0, 0], [1, 0, 0, 0, 3], -1),
        "nil, a quota of 0 on the as-of day": ([90, 0, 0, 0, 0], [1, 0, 0, 0, 0], -1),
        "launched on day 2 and never subscribed": ([nan, nan, 0, 0, 0], [nan, nan, 0, 0, 0], 2),
        "emptied on the as-of day": ([90, 80, 70, 60, 0], [1, 1, 1, 1, 0], 4),
        "a fen left": ([90, 0, 0, 0, 0.01], [1, 0, 0, 0, 0], -1),
    }
    aum = np.array([a for a, _, _ in products.values()], dtype=float).T
    subscriptions = np.array([s for _, s, _ in products.values()], dtype=float).T
    censored = np.zeros_like(aum, dtype=bool)
    censored[-1, 3] = True  # a quota of 0 says nothing of demand
    expected = [since for _, _, since in products.values()]
    np.testing.assert_array_equal(closed_since(aum, subscriptions, censored), expected)
    # without the quota that one is closed since day 1
    assert closed_since(aum, subscriptions)[3] == 1


def test_a_product_emptied_is_forecast_at_zero_until_subscriptions_come_back() -> None:
    """Fully redeemed on 2021-03-01 (AUM 0, no flow after): as of 03-14 its subscriptions
    were forecast at millions a day (the dormant rule waits 28 days) and its redemptions with
    them, a plan's buffer for a product with nothing in it. Now both are 0 on every path and
    the AUM stays 0; the day money comes back the models forecast it again; a forecast never
    reads the rows after its day."""
    dataset = toy_dataset(2, "2020-01-01", "2021-03-31", seed=5)
    gone, other = dataset.product_ids
    flows = dataset.flows.copy()
    mine = flows["product_id"].eq(gone)
    before = float(flows.loc[mine & flows["date"].eq("2021-02-28"), "aum"].iloc[0])
    emptied = mine & flows["date"].between("2021-03-01", "2021-03-19")
    flows.loc[emptied, ["subscriptions", "redemptions", "aum", "demand"]] = 0.0
    flows.loc[emptied, "quota"] = np.nan
    flows.loc[mine & flows["date"].eq("2021-03-01"), "redemptions"] = before
    back = mine & flows["date"].eq("2021-03-20")  # a holder comes back
    flows.loc[back, ["subscriptions", "demand", "aum"]] = 5e6
    flows.loc[back, "redemptions"] = 0.0
    data = dataclasses.replace(dataset, flows=flows)

    result = run_forecast(data, "2021-03-14", horizon=14, model="seasonal_naive")
    table = result.table.set_index(["product_id", "variable"])
    numbers = ["mean", *[c for c in table.columns if c[0] == "p" and c[1:].isdigit()]]
    for variable in ("subscriptions", "redemptions", "net_flow", "aum"):
        assert (table.loc[(gone, variable), numbers] == 0).all().all(), variable
    for variable, paths in result.paths.items():
        assert (paths[result.product_ids.index(gone)] == 0).all(), variable
    assert (result.point["redemptions"][result.product_ids.index(gone)] == 0).all()
    assert any("closed" in w and f"{gone} since 2021-03-01" in w for w in result.warnings)
    assert (table.loc[(other, "subscriptions"), "mean"] > 0).all()  # the open one is not
    # no look-ahead: the same forecast without the rows after the day (money back on 03-20)
    cut = run_forecast(data.up_to("2021-03-14"), "2021-03-14", horizon=14, model="seasonal_naive")
    pd.testing.assert_frame_equal(result.table, cut.table)
    # the day a subscription comes back the product is open again
    again = run_forecast(data, "2021-03-20", horizon=7, model="seasonal_naive").table
    assert again.query("product_id == @gone and variable == 'subscriptions'")["mean"].gt(0).all()


def work_ahead(result) -> pd.Series:
    from rainmaker.china_calendar import workday_flags

    return workday_flags(result.dates[0], result.dates[-1])
