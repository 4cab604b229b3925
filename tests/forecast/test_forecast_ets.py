"""The ETS model's form chosen by AICc (trend none or damped, weekly season), its state update
from later origins against statsmodels (no look-ahead: tests/forecast/test_forecast_models.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from forecast.panel import build_panel
from forecast.statistical import (
    DAMPING_BOUNDS,
    ETS_FORMS,
    SEASON_DAYS,
    CalendarETS,
    holt_winters_options,
)
from forecast.toy_data import toy_dataset

DAYS = 364
WEEK = np.tile([0.3, 0.2, 0.1, 0.0, -0.1, -0.2, -0.3], DAYS // 7)


@pytest.fixture(scope="module")
def data():
    return toy_dataset(n_products=3, start="2020-01-01", end="2021-03-31", seed=1, with_quota=False)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_aicc_picks_a_damped_trend_only_where_the_level_decays(seed: int) -> None:
    rng = np.random.default_rng(seed)
    decaying = 2.0 * np.exp(-np.arange(DAYS) / 120.0) + WEEK + rng.normal(0, 0.05, DAYS)
    # a level that wanders a little (a slow random walk), no trend
    flat = WEEK + np.cumsum(rng.normal(0, 0.03, DAYS)) + rng.normal(0, 0.1, DAYS)
    form, params = CalendarETS._holt_winters(decaying)
    assert form == "A,Ad,A"
    assert params["trend"] < 0 and DAMPING_BOUNDS[0] <= params["phi"] <= DAMPING_BOUNDS[1]
    form, params = CalendarETS._holt_winters(flat)
    assert form == "A,N,A"
    assert params["phi"] == params["trend"] == params["trend_smoothing"] == 0.0
    # Offered a season of none too, the weekly pattern still wins.
    assert CalendarETS._holt_winters(flat, ETS_FORMS)[0] == "A,N,A"
    # A series without a weekly pattern (a decaying level alone) gets none.
    no_week = 2.0 * np.exp(-np.arange(DAYS) / 120.0) + rng.normal(0, 0.05, DAYS)
    assert CalendarETS._holt_winters(no_week, ETS_FORMS)[0] == "A,Ad,N"


def _statsmodels_states(model: CalendarETS, panel, variable: str, p: int, end: int):
    """statsmodels run with the fitted form and parameters (nothing re-estimated) over the
    product's adjusted log series through ``end``: the result and the calendar effects."""
    params = model.params_[variable]
    design = model._regressors(panel.dates[0], panel.dates[end] + pd.Timedelta(days=14))
    start = int(model.start_[p])
    y = np.maximum(panel.series(variable)[start : end + 1, p], 0.0)
    x = np.log(y / params["scale"][p] + model.offset)
    z = x - design[start : end + 1] @ params["beta"][p]
    options = holt_winters_options(model.forms_[variable][p])
    damped, seasonal = options["damped_trend"], options["seasonal"] is not None
    initial = {"initial_level": params["level"][p]}
    fixed = {"smoothing_level": params["alpha"][p]}
    if damped:
        initial["initial_trend"] = params["trend"][p]
        fixed |= {"smoothing_trend": params["trend_smoothing"][p]}
        fixed |= {"damping_trend": params["phi"][p]}
    if seasonal:
        initial["initial_seasonal"] = params["season"][p]
        fixed["smoothing_seasonal"] = params["gamma"][p]
    result = ExponentialSmoothing(z, **options, initialization_method="known", **initial).fit(
        **fixed, optimized=False
    )
    effects = design[end + 1 : end + 15] @ params["beta"][p]
    return result, effects, params["scale"][p]


@pytest.mark.parametrize(
    "forms", [("A,Ad,A",), ("A,Ad,N",), None], ids=["damped", "noseason", "aicc"]
)
def test_later_origins_follow_the_chosen_form_as_statsmodels_does(data, forms) -> None:
    fit_panel = build_panel(data, "2020-12-31")
    model = CalendarETS(**({} if forms is None else {"forms": forms})).fit(fit_panel)
    panel = build_panel(data, "2021-02-28")
    end = panel.n_days - 1
    forecast = model.predict_at(panel, np.array([end]), 14)
    h = np.arange(1, 15)
    for variable in ("subscriptions", "redemptions"):
        assert set(model.forms_[variable]) <= set(forms or ETS_FORMS)
        for p in range(panel.n_products):
            result, effects, scale = _statsmodels_states(model, panel, variable, p, end)
            # Hyndman's forecast from the final states, l + (φ + … + φ^h)·b + s.
            phi = model.params_[variable]["phi"][p]
            damping = np.cumsum(phi**h)
            trend = 0.0 if result.trend is None else np.asarray(result.trend)[-1]
            season = np.zeros(SEASON_DAYS)
            if result.season is not None:
                season = np.asarray(result.season)[-SEASON_DAYS:]
            # the last seven seasonal states are those of days end − 6 … end
            states = np.asarray(result.level)[-1] + damping * trend + season[(h - 1) % SEASON_DAYS]
            expected = scale * (np.exp(states + effects) - model.offset)
            np.testing.assert_allclose(forecast[variable][0, p], expected, rtol=1e-9)
            # statsmodels' own forecast agrees except a whole number of weeks ahead, where it
            # uses the seasonal state before the last observation (statsmodels issue #9538).
            direct = scale * (np.exp(np.asarray(result.forecast(14)) + effects) - model.offset)
            weeks = h % SEASON_DAYS == 0
            np.testing.assert_allclose(forecast[variable][0, p][~weeks], direct[~weeks], rtol=1e-9)


def test_a_product_closed_to_new_money_is_forecast_at_zero(data) -> None:
    # Subscriptions 0 every day (a product closed to new money, which validates): the
    # calendar regression leaves a constant series, which Holt-Winters fits exactly. The
    # product is forecast at 0 and the fit does not fail (a failure would drop ets for every
    # product of the panel).
    closed = data.flows["product_id"] == data.products["product_id"].iloc[0]
    flows = data.flows.assign(subscriptions=data.flows["subscriptions"].where(~closed, 0.0))
    panel = build_panel(type(data)(**{**data.__dict__, "flows": flows}), "2020-12-31")
    model = CalendarETS().fit(panel)
    forecast = model.predict_at(panel, np.array([panel.n_days - 1]), 14)
    np.testing.assert_allclose(forecast["subscriptions"][0, 0], 0.0, atol=1e-6)
    assert (forecast["subscriptions"][0, 1:] > 0).all()


def test_unknown_forms_are_refused(data) -> None:
    with pytest.raises(ValueError, match="forms"):
        CalendarETS(forms=("M,A,M",)).fit(build_panel(data, "2020-12-31"))


def test_a_refit_keeps_each_products_chosen_form(data) -> None:
    """The form is chosen with the fit's backtest, like the candidate: a refit re-estimates each
    product's chosen form alone (one Holt-Winters fit, not one per form)."""
    panel = build_panel(data, "2021-01-31")
    first = CalendarETS().fit(panel)
    chosen = first.chosen_forms()
    pid = panel.product_ids[0]
    # force the other form on one product: a model given it fits that form, whatever AICc says
    other = {"A,N,A": "A,Ad,A", "A,Ad,A": "A,N,A"}[chosen["redemptions"][pid]]
    forced = {**chosen, "redemptions": {**chosen["redemptions"], pid: other}}
    kept = CalendarETS(chosen=forced).fit(build_panel(data, "2021-02-28"))
    assert kept.forms_["redemptions"][0] == other
    assert kept.chosen_forms()["subscriptions"] == chosen["subscriptions"]


def test_the_forecasters_refit_keeps_the_ets_forms(data) -> None:
    from forecast import Forecaster

    forecaster = Forecaster(models=("seasonal_naive", "ets"), horizon=7, n_jobs=1)
    forecaster.fit(data, "2021-01-31")
    before = forecaster.models_["ets"].chosen_forms()
    forecaster.refit(data, "2021-02-28")
    ets = forecaster.models_["ets"]
    assert ets.chosen == before and ets.chosen_forms() == before
