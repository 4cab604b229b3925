"""The model contract, censored demand, the rolling-origin backtest and selection."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from forecast.arima import CalendarARIMA
from forecast.backtest import rolling_origins, run_backtest
from forecast.base import ForecastModel, NotFittedError, clone
from forecast.calibration import log_residuals
from forecast.features import (
    design_grid,
    design_matrix,
    feature_context,
    feature_names,
    training_pairs,
)
from forecast.global_model import GlobalLightGBM
from forecast.naive import RecentMean, SeasonalNaive
from forecast.panel import Panel, PanelWarning, build_panel, fill_censored
from forecast.selection import Candidate, candidate_forecast, candidates, score_candidates, select
from forecast.statistical import CalendarETS
from forecast.theta import CalendarTheta
from forecast.toy_data import toy_dataset

FAST_LGBM = {"n_estimators": 25, "max_horizon": 7}


@pytest.fixture(scope="module")
def dataset():
    return toy_dataset(4, "2020-01-01", "2021-03-31", seed=3, new_products=1)


@pytest.fixture(scope="module")
def panel(dataset) -> Panel:
    return build_panel(dataset)


# ----------------------------------------------------------------------------- panel


def test_panel_holds_only_rows_up_to_the_as_of_day(dataset) -> None:
    panel = build_panel(dataset, "2020-06-30")
    assert panel.as_of == pd.Timestamp("2020-06-30")
    assert panel.market.index[-1] == pd.Timestamp("2020-06-30")
    # The product launched in 2021 is not there yet.
    assert "T0004" not in panel.product_ids


def test_a_product_whose_rows_stop_with_assets_is_named_with_its_last_row(dataset) -> None:
    # T0001's feed three days behind, T0002 fully redeemed before it stopped: the warning said
    # both "closed before the as-of day"; the one that still held assets is named with its
    # last row and aum (a feed not landed yet, left out of today's plan)
    flows = dataset.flows
    as_of = pd.Timestamp("2021-03-31")
    behind = (flows["product_id"] == "T0001") & (flows["date"] > as_of - pd.Timedelta(days=3))
    closing = (flows["product_id"] == "T0002") & (flows["date"] > as_of - pd.Timedelta(days=5))
    cut = flows.loc[~behind & ~closing].copy()
    last = (cut["product_id"] == "T0002") & (cut["date"] == as_of - pd.Timedelta(days=5))
    cut.loc[last, "aum"] = 0.0
    held = cut.loc[(cut["product_id"] == "T0001") & (cut["date"] == "2021-03-28"), "aum"]
    with pytest.warns(PanelWarning) as caught:
        panel = build_panel(dataclasses.replace(dataset, flows=cut), as_of)
    assert "T0001" not in panel.product_ids and "T0002" not in panel.product_ids
    (said,) = [str(w.message) for w in caught if issubclass(w.category, PanelWarning)]
    assert said.startswith("no flows on 2021-03-31 for 2 product(s) (T0001, T0002): they are not")
    assert f"T0001's last row 2021-03-28 has aum {float(held.iloc[0]):,.0f}: a feed" in said
    assert "T0002's" not in said
    # products that closed with nothing left keep the short warning
    only_closed = cut.loc[cut["product_id"] != "T0001"]
    with pytest.warns(PanelWarning, match="T0002\\): they closed before the as-of day and"):
        build_panel(dataclasses.replace(dataset, flows=only_closed), as_of)


def test_censored_days_are_where_subscriptions_reached_the_quota(dataset, panel) -> None:
    flows = dataset.flows.set_index(["date", "product_id"])
    capped = flows["quota"].notna() & (flows["subscriptions"] >= flows["quota"])
    assert capped.sum() > 0
    expected = capped.unstack("product_id").reindex(
        index=panel.dates, columns=list(panel.product_ids)
    )
    np.testing.assert_array_equal(panel.censored, expected.fillna(False).to_numpy(dtype=bool))
    # Capped days are not targets; uncapped days are.
    mask = panel.target_mask("subscriptions")
    assert not (mask & panel.censored).any()
    assert panel.target_mask("redemptions")[panel.censored].all()


def test_fill_censored_is_a_lower_bound_aware_past_only_estimate() -> None:
    days = 35
    subscriptions = np.full((days, 1), 100.0)
    censored = np.zeros((days, 1), dtype=bool)
    subscriptions[28, 0] = 60.0  # capped at 60 while the same weekday used to be 100
    censored[28, 0] = True
    subscriptions[21, 0] = 40.0  # capped at 40; only day 14 and 7, 0 are before it
    censored[21, 0] = True
    filled = fill_censored(subscriptions, censored)
    # Day 28 sees days 21 (censored, skipped), 14, 7 and 0: mean 100.
    assert filled[28, 0] == pytest.approx(100.0)
    assert filled[21, 0] == pytest.approx(100.0)
    # A capped day above its reference keeps the observation (it is a lower bound).
    subscriptions[28, 0] = 150.0
    assert fill_censored(subscriptions, censored)[28, 0] == pytest.approx(150.0)
    # Uncensored days are untouched and later days never change an earlier fill.
    assert (filled[~censored] == subscriptions[~censored]).all()
    assert fill_censored(subscriptions[:22], censored[:22])[21, 0] == pytest.approx(100.0)


def test_the_demand_column_is_never_read(dataset) -> None:
    scrambled = dataclasses.replace(
        dataset, flows=dataset.flows.assign(demand=dataset.flows["demand"] * 7.0 + 1.0)
    )
    dropped = dataclasses.replace(dataset, flows=dataset.flows.drop(columns="demand"))
    results = []
    for data in (dataset, scrambled, dropped):
        panel = build_panel(data)
        model = GlobalLightGBM(**FAST_LGBM).fit(panel)
        results.append(model.predict(7)["mean"].to_numpy())
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


# ----------------------------------------------------------------------------- features


def test_training_rows_leave_capped_days_out_and_origins_precede_targets(panel) -> None:
    rng = np.random.default_rng(0)
    product, origin, horizon = training_pairs(
        panel,
        "subscriptions",
        last_target=panel.n_days - 1,
        max_horizon=7,
        horizons_per_target=2,
        max_rows=10**6,
        rng=rng,
    )
    target = origin + horizon
    assert not panel.censored[target, product].any()
    assert (horizon >= 1).all() and (horizon <= 7).all()
    assert (origin >= panel.first_index[product] + 6).all()


def test_features_read_nothing_after_the_origin(panel) -> None:
    """Changing every flow after the origin leaves the forecast rows unchanged."""
    origin = panel.n_days - 40
    product = np.repeat(np.arange(panel.n_products), 7)
    horizon = np.tile(np.arange(1, 8), panel.n_products)
    origins = np.full(len(product), origin)
    before = design_matrix(
        feature_context(panel, 7), "subscriptions", product, origins, horizon, actual_exposure=False
    )[0]
    changed = {}
    for name in ("subscriptions", "redemptions", "aum", "exposure", "yield_7d", "income_rate"):
        values = getattr(panel, name).copy()
        values[origin + 1 :] *= 3.0
        changed[name] = values
    censored = panel.censored.copy()
    censored[origin + 1 :] = True
    market = panel.market.copy()
    market.iloc[origin + 1 :] = market.iloc[origin + 1 :] + 5.0
    altered = dataclasses.replace(
        panel,
        **changed,
        censored=censored,
        filled_subscriptions=fill_censored(changed["subscriptions"], censored),
        market=market,
    )
    after = design_matrix(
        feature_context(altered, 7),
        "subscriptions",
        product,
        origins,
        horizon,
        actual_exposure=False,
    )[0]
    np.testing.assert_array_equal(before, after)
    assert before.shape[1] == len(feature_names())


def test_horizons_beyond_a_year_never_read_past_the_origin(panel) -> None:
    """The year-ago feature of a target more than 52 weeks ahead is unknown, not a future day."""
    horizon = 400
    context = feature_context(panel, horizon)
    product = np.arange(panel.n_products)
    origin = np.full(panel.n_products, panel.n_days - 1)  # as-of day: later days are past the data
    grid, _ = design_grid(context, "subscriptions", product, origin, horizon)
    year_ago = grid[:, feature_names().index("year_ago")].reshape(len(product), horizon)
    assert np.isnan(year_ago[:, 364:]).all()  # steps 365.. (target - 364 days > origin)
    assert not np.isnan(year_ago[:, :364]).all()


def test_forecast_grid_rows_equal_the_general_rows(panel) -> None:
    context = feature_context(panel, 10)
    product = np.arange(panel.n_products)
    origin = np.array([200, 250, 300, panel.n_days - 1])
    grid, grid_scale = design_grid(context, "redemptions", product, origin, 10)
    rows, scale = design_matrix(
        context,
        "redemptions",
        np.repeat(product, 10),
        np.repeat(origin, 10),
        np.tile(np.arange(1, 11), len(product)),
        actual_exposure=False,
    )
    np.testing.assert_array_equal(grid, rows)
    np.testing.assert_array_equal(grid_scale, scale)


# ----------------------------------------------------------------------------- models


@pytest.mark.parametrize(
    "model",
    [
        SeasonalNaive(),
        RecentMean(),
        CalendarETS(),
        CalendarTheta(),
        CalendarARIMA(),
        GlobalLightGBM(**FAST_LGBM),
    ],
    ids=lambda m: m.name,
)
def test_model_contract(model: ForecastModel, panel) -> None:
    with pytest.raises(NotFittedError):
        clone(model).predict(7)
    fitted = clone(model).fit(panel, end=panel.n_days - 31)
    assert fitted.fitted_through_ == panel.dates[panel.n_days - 31]
    origins = np.array([panel.n_days - 31, panel.n_days - 8])
    forecasts = fitted.predict_at(panel, origins, 7)
    for variable in ("subscriptions", "redemptions"):
        values = forecasts[variable]
        assert values.shape == (2, panel.n_products, 7)
        known = ~np.isnan(values)
        assert (values[known] >= 0).all()
        # The new product (21 days of history at the end) has none at the first origin.
        assert np.isnan(values[0, -1]).all()
    state = {k: v for k, v in vars(fitted).items() if k.endswith("_") and k != "history_"}
    frame = fitted.predict(7, history=panel)
    assert list(frame.columns) == ["product_id", "date", "variable", "mean"]
    assert len(frame) == 2 * panel.n_products * 7
    assert frame["date"].min() == panel.as_of + pd.Timedelta(days=1)
    # Prediction never refits.
    assert {k: v for k, v in vars(fitted).items() if k in state}.keys() == state.keys()
    with pytest.raises(ValueError, match="origins"):
        fitted.predict_at(panel, np.array([panel.n_days - 40]), 7)


@pytest.mark.parametrize(
    "model",
    [CalendarETS(forms=("A,Ad,A",)), CalendarTheta(), CalendarARIMA()],
    ids=lambda m: m.name,
)
def test_later_origins_do_not_depend_on_later_rows(model: ForecastModel) -> None:
    """The per-product models (a damped trend for ``ets``): a forecast from day T is the same
    whether the panel ends on T or goes on, and the same whether the state was carried on from
    an earlier origin or started afresh; the state moves on with the new days."""
    data = toy_dataset(n_products=3, start="2020-01-01", end="2021-03-31", seed=1, with_quota=False)
    fitted = clone(model).fit(build_panel(data, "2020-12-31"))
    cut = build_panel(data, "2021-02-14")
    full = build_panel(data)
    origin = cut.n_days - 1
    from_cut = fitted.predict_at(cut, np.array([origin]), 21)
    from_full = fitted.predict_at(full, np.array([origin, origin + 14]), 21)
    fitted.predict_at(full, np.array([origin - 7]), 21)  # leaves a state to resume from
    resumed = fitted.predict_at(full, np.array([origin]), 21)
    for variable in ("subscriptions", "redemptions"):
        np.testing.assert_array_equal(from_cut[variable][0], from_full[variable][0])
        np.testing.assert_array_equal(resumed[variable][0], from_full[variable][0])
        assert not np.allclose(from_full[variable][0, :, 14:], from_full[variable][1, :, :7])


def test_seasonal_naive_repeats_the_last_same_weekday(panel) -> None:
    origin = panel.n_days - 20
    forecasts = SeasonalNaive().fit(panel, end=origin).predict_at(panel, np.array([origin]), 14)
    series = panel.series("redemptions")
    for h in range(1, 15):
        same_weekday = origin + h - 7 * int(np.ceil(h / 7))
        # The new product, launched days before the origin, has no forecast.
        np.testing.assert_allclose(forecasts["redemptions"][0, :3, h - 1], series[same_weekday, :3])
        assert np.isnan(forecasts["redemptions"][0, 3, h - 1])


def test_statistical_model_learns_a_weekly_pattern() -> None:
    data = toy_dataset(2, "2020-01-01", "2020-12-31", seed=1, with_quota=False)
    panel = build_panel(data)
    model = CalendarETS().fit(panel, end=panel.n_days - 15)
    forecast = model.predict_at(panel, np.array([panel.n_days - 15]), 14)["redemptions"][0]
    truth = panel.redemptions[panel.n_days - 14 :].T
    naive = SeasonalNaive().fit(panel, end=panel.n_days - 15)
    baseline = naive.predict_at(panel, np.array([panel.n_days - 15]), 14)["redemptions"][0]
    assert np.abs(forecast - truth).sum() < np.abs(baseline - truth).sum()


def test_global_model_is_deterministic(panel) -> None:
    one = GlobalLightGBM(**FAST_LGBM).fit(panel).predict(7)
    two = GlobalLightGBM(**FAST_LGBM).fit(panel).predict(7)
    pd.testing.assert_frame_equal(one, two)


def test_global_model_forecasts_a_new_product(panel) -> None:
    model = GlobalLightGBM(**FAST_LGBM).fit(panel)
    forecast = model.predict(7)
    new = forecast[forecast["product_id"] == "T0004"]
    assert new["mean"].notna().all() and (new["mean"] > 0).all()


# ----------------------------------------------------------------------------- backtest


class _Spy(SeasonalNaive):
    """Records the day it was fitted through and the origins it forecast."""

    calls: list[tuple[int, np.ndarray]] = []

    def _fit(self, history: Panel, end: int) -> None:
        self.end_seen_ = end

    def _predict_at(self, history, origins, horizon):
        _Spy.calls.append((self.end_seen_, origins.copy()))
        return super()._predict_at(history, origins, horizon)


def test_backtest_never_forecasts_from_before_the_fit(panel) -> None:
    origins = rolling_origins(panel, 7, window_days=120, step_days=7)
    assert len(origins) > 10 and (np.diff(origins) == 7).all()
    assert origins[-1] + 7 == panel.n_days - 1
    _Spy.calls = []
    run = run_backtest(panel, [_Spy()], origins, 7, refit_every_days=28)
    assert len(_Spy.calls) == int(np.ceil((origins[-1] - origins[0] + 1) / 28))
    for end, seen in _Spy.calls:
        assert (seen >= end).all()
    assert run.truth["redemptions"].shape == (len(origins), panel.n_products, 7)


def test_selection_picks_the_lowest_backtest_wape(panel) -> None:
    origins = rolling_origins(panel, 7, window_days=84)
    run = run_backtest(panel, [SeasonalNaive(), RecentMean()], origins, 7)
    scores = score_candidates(run, ["seasonal_naive", "recent_mean"])
    assert set(scores["candidate"]) == {
        "seasonal_naive",
        "recent_mean",
        "seasonal_naive+recent_mean",
    }
    chosen = select(scores)
    for variable, candidate in chosen.items():
        rows = scores[scores["variable"] == variable]
        assert candidate.name == rows.loc[rows["wape"].idxmin(), "candidate"]


def test_candidates_and_ensembles() -> None:
    names = [c.name for c in candidates(["a", "b", "c"])]
    assert names == ["a", "b", "c", "a+b", "a+c", "b+c", "a+b+c", "median(a+b+c)"]
    assert [c.name for c in candidates(["a", "b"])] == ["a", "b", "a+b"]
    for name in names:
        assert Candidate.parse(name).name == name
    forecasts = {"a": np.array([1.0, np.nan, np.nan]), "b": np.array([3.0, 5.0, np.nan])}
    mean = candidate_forecast(forecasts, Candidate(("a", "b")))
    np.testing.assert_allclose(mean, [2.0, 5.0, np.nan])


def test_the_median_ignores_the_model_gone_astray() -> None:
    """Worked by hand: of 100, 110 and 400 the median is 110 (the mean 203.3); a member
    without a forecast is skipped, so of two known values the median is their mean."""
    forecasts = {
        "a": np.array([100.0, 100.0, np.nan, 7.0]),
        "b": np.array([110.0, np.nan, np.nan, 9.0]),
        "c": np.array([400.0, 300.0, np.nan, 8.0]),
    }
    median = Candidate(("a", "b", "c"), "median")
    np.testing.assert_array_equal(
        candidate_forecast(forecasts, median), [110.0, 200.0, np.nan, 8.0]
    )
    assert Candidate.parse("median(a+b+c)") == median
    assert median.among({"a": 1, "c": 2}) == Candidate(("a", "c"), "median")
    with pytest.raises(ValueError, match="combine"):
        Candidate(("a",), "mode")


def test_censored_residuals_are_lifted_to_their_lower_bound() -> None:
    forecast = np.full((3, 1, 1), 100.0)
    truth = np.array([[[110.0]], [[90.0]], [[50.0]]])
    scale = np.full((3, 1), 100.0)
    censored = np.array([[[False]], [[False]], [[True]]])
    residuals = log_residuals(forecast, truth, scale, censored)
    median = np.median(np.log1p(truth[:2, 0, 0] / 100) - np.log1p(1.0))
    lower_bound = np.log1p(0.5) - np.log1p(1.0)
    assert residuals[2, 0, 0] == pytest.approx(max(median, lower_bound))
    assert residuals[0, 0, 0] == pytest.approx(np.log1p(1.1) - np.log1p(1.0))


def test_capped_days_are_not_learned_as_demand() -> None:
    """Half the products cap the pre-holiday rush; on capped days the forecast must aim at
    demand, above what a model that takes the capped subscriptions as demand forecasts."""
    data = toy_dataset(6, "2019-06-01", "2021-06-30", seed=11)
    panel = build_panel(data)
    blind = dataclasses.replace(
        panel,
        censored=np.zeros_like(panel.censored),
        filled_subscriptions=panel.subscriptions,
    )
    end = panel.n_days - 241
    origins = np.arange(end, panel.n_days - 8)
    days = origins[:, None] + np.arange(1, 8)
    capped = np.transpose(panel.censored[days], (0, 2, 1))
    observed = np.transpose(panel.subscriptions[days], (0, 2, 1))[capped]
    assert capped.sum() > 50
    means = {}
    for label, source, censoring in (
        ("impute", panel, "impute"),
        ("drop", panel, "drop"),
        ("blind", blind, "drop"),
    ):
        model = GlobalLightGBM(n_estimators=60, max_horizon=7, censoring=censoring)
        forecast = model.fit(source, end).predict_at(source, origins, 7)["subscriptions"]
        means[label] = forecast[capped].mean()
    assert means["impute"] > means["drop"] > means["blind"] > observed.mean()
    # The censoring flags never touch redemptions.
    unflagged = dataclasses.replace(panel, censored=np.zeros_like(panel.censored))
    with_flags = GlobalLightGBM(n_estimators=20, max_horizon=7).fit(panel, end)
    without = GlobalLightGBM(n_estimators=20, max_horizon=7).fit(unflagged, end)
    np.testing.assert_array_equal(
        with_flags.predict_at(panel, origins[:3], 7)["redemptions"],
        without.predict_at(unflagged, origins[:3], 7)["redemptions"],
    )


def test_lightgbm_on_a_history_capped_every_day_says_so() -> None:
    """A feed whose subscriptions equal the quota on every day has no uncapped day to learn
    demand from; LightGBM's refusal said 'history too short: need 8 days' on two years."""
    panel = build_panel(toy_dataset(2, "2020-01-01", "2021-06-30", seed=3))
    capped = dataclasses.replace(panel, censored=np.ones_like(panel.censored))
    for censoring in ("impute", "drop"):  # drop: the forecaster's backtest fits
        model = GlobalLightGBM(n_estimators=5, max_horizon=7, censoring=censoring)
        with pytest.raises(ValueError, match="every day's subscriptions equal the quota"):
            model.fit(capped, panel.n_days - 1)
    short = dataclasses.replace(panel, censored=np.zeros_like(panel.censored))
    with pytest.raises(ValueError, match="history too short: need 8 days"):
        GlobalLightGBM(n_estimators=5, max_horizon=7).fit(short, 4)


@pytest.mark.parametrize("n_days", [12, 16])
def test_lightgbm_with_one_training_row_is_a_short_history_not_a_crash(n_days) -> None:
    """One product with 12-16 days of history draws a single training row for a flow, and
    LightGBM's bagging of one row stopped `rainmaker forecast` (and plan, run) with exit 1,
    'LightGBMError: Check failed: (num_data) > (0)'; it is a history too short to fit on,
    which the forecaster's fallbacks handle."""
    end = pd.Timestamp("2021-01-01") + pd.Timedelta(days=n_days - 1)
    panel = build_panel(toy_dataset(1, "2021-01-01", f"{end:%Y-%m-%d}"))
    with pytest.raises(ValueError, match="history too short: 1 training row"):
        GlobalLightGBM(n_estimators=5, max_horizon=14).fit(panel, panel.n_days - 1)
