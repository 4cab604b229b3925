"""The regression with calendar regressors and ARIMA errors: statsmodels' forecast with the same
parameters at the fit, inside it and at later origins, the order chosen by AICc, and the
products it cannot or need not model (no look-ahead: tests/forecast/test_forecast_models.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.arima.model import ARIMA

from forecast.arima import (
    DEFAULT_ORDERS,
    CalendarARIMA,
    choose_order,
    css_fit,
    kpss_differences,
)
from forecast.panel import build_panel
from forecast.statistical import weekday_calendar_design
from forecast.toy_data import toy_dataset

HORIZON = 14


@pytest.fixture(scope="module")
def data():
    return toy_dataset(n_products=3, start="2020-01-01", end="2021-03-31", seed=1, with_quota=False)


@pytest.fixture(scope="module")
def fitted(data):
    panel = build_panel(data, "2020-12-31")
    return panel, CalendarARIMA().fit(panel)


def _statsmodels(model: CalendarARIMA, panel, variable: str, p: int, origin: int, exog=False):
    """statsmodels' ARIMA with the model's fitted order and parameters (nothing re-estimated),
    filtered over the product's series from its window's start through ``origin``: its
    forecast in CNY, and the result.

    The series is ``z``, the log flows less the weekday and calendar effects; with ``exog``,
    the log flows ``x`` with the dummies as regressors and the effects as their coefficients:
    the textbook regression with ARIMA errors, the same model."""
    params = model.params_[variable]
    order = tuple(int(v) for v in model.orders_[variable][p].split(","))
    ar, ma = params["ar"][p, : order[0]], params["ma"][p, : order[2]]
    design = weekday_calendar_design(panel.dates[0], panel.dates[origin] + pd.Timedelta(days=99))
    start = int(model.start_[p])
    y = np.maximum(panel.series(variable)[start : origin + 1, p], 0.0)
    x = np.log(y / params["scale"][p] + model.offset)
    rows, after = design[start : origin + 1], design[origin + 1 : origin + 1 + HORIZON]
    with_mean = order[1] == 0
    mean = [params["mean"][p]] if with_mean else []
    trend = "c" if with_mean else "n"
    if exog:
        oracle = ARIMA(x, exog=rows, order=order, trend=trend)
        result = oracle.filter(
            np.concatenate([mean, params["coef"][p], ar, ma, [params["sigma2"][p]]])
        )
        x_hat = np.asarray(result.forecast(HORIZON, exog=after))
    else:
        oracle = ARIMA(x - rows @ params["coef"][p], order=order, trend=trend)
        result = oracle.filter(np.concatenate([mean, ar, ma, [params["sigma2"][p]]]))
        x_hat = np.asarray(result.forecast(HORIZON)) + after @ params["coef"][p]
    return params["scale"][p] * (np.exp(x_hat) - model.offset), result


def test_the_forecast_at_the_fit_is_statsmodels_regression_with_arima_errors(fitted) -> None:
    panel, model = fitted
    end = panel.n_days - 1
    forecast = model.predict_at(panel, np.array([end]), HORIZON)
    for variable in ("subscriptions", "redemptions"):
        for p in range(panel.n_products):
            expected, _ = _statsmodels(model, panel, variable, p, end)
            np.testing.assert_allclose(forecast[variable][0, p], expected, rtol=1e-9)
            # Written as the regression on x, statsmodels agrees to its own precision: its
            # approximately diffuse start (variance 1e6) for the differenced state magnifies
            # the last bits of x − dummies · effects, computed apart (up to 1e-7 here).
            textbook, _ = _statsmodels(model, panel, variable, p, end, exog=True)
            np.testing.assert_allclose(forecast[variable][0, p], textbook, rtol=1e-6)


def test_later_origins_run_the_filter_on_as_statsmodels_does(data, fitted) -> None:
    """From later origins the Kalman filter runs on over the new days with the fitted
    parameters (no refit): statsmodels' filter extended with the same days
    (``append(refit=False)``) forecasts the same."""
    panel, model = fitted
    full = build_panel(data)
    end = panel.n_days - 1
    origins = np.array([end + 20, end + 45])
    forecast = model.predict_at(full, origins, HORIZON)
    for variable in ("subscriptions", "redemptions"):
        for p in range(panel.n_products):
            _, at_fit = _statsmodels(model, panel, variable, p, end)
            for index, origin in enumerate(origins):
                expected, _ = _statsmodels(model, full, variable, p, int(origin))
                np.testing.assert_allclose(forecast[variable][index, p], expected, rtol=1e-9)
            # the same as appending the new days to the fit's filter
            params = model.params_[variable]
            design = weekday_calendar_design(full.dates[0], full.dates[-1])
            new = slice(end + 1, int(origins[-1]) + 1)
            y_new = np.maximum(full.series(variable)[new, p], 0.0)
            z_new = (
                np.log(y_new / params["scale"][p] + model.offset) - design[new] @ params["coef"][p]
            )
            appended = at_fit.append(z_new, refit=False)
            after = design[int(origins[-1]) + 1 : int(origins[-1]) + 1 + HORIZON]
            x_hat = np.asarray(appended.forecast(HORIZON)) + after @ params["coef"][p]
            np.testing.assert_allclose(
                forecast[variable][-1, p],
                params["scale"][p] * (np.exp(x_hat) - model.offset),
                rtol=1e-9,
            )


def test_in_sample_origins_use_the_filtered_state_of_that_day(fitted) -> None:
    panel, model = fitted
    origins = np.array([200, 300])
    forecast = model.in_sample_at(panel, origins, HORIZON)
    for variable in ("subscriptions", "redemptions"):
        for p in range(panel.n_products):
            for index, origin in enumerate(origins):
                expected, _ = _statsmodels(model, panel, variable, p, int(origin))
                np.testing.assert_allclose(forecast[variable][index, p], expected, rtol=1e-9)


def test_aicc_chooses_the_order_after_kpss_chooses_the_differences() -> None:
    rng = np.random.default_rng(0)
    n = 364
    noise = rng.normal(0.0, 0.2, n + 1)
    # ARIMA(0,1,1), θ = −0.6: a local level, as the flows' level after the calendar effects
    wandering = np.cumsum(noise[1:] - 0.6 * noise[:-1])
    # a stationary AR(1), φ = 0.7, around a mean of 2
    stationary = np.zeros(n)
    for t in range(1, n):
        stationary[t] = 0.7 * stationary[t - 1] + noise[t]
    stationary += 2.0
    for series, d in ((wandering, 1), (stationary, 0)):
        assert kpss_differences(series) == d
        chosen = choose_order(series)
        assert chosen is not None and chosen.order[1] == d
        fits = [css_fit(series, (p, d, q), 2) for p, q in DEFAULT_ORDERS]
        aicc = [fit.aicc for fit in fits if fit is not None]
        assert chosen.aicc == min(aicc)
    chosen = choose_order(wandering)
    assert chosen is not None and chosen.order[2] >= 1  # the MA term is found
    assert choose_order(stationary).order[0] >= 1  # type: ignore[union-attr]


def test_css_recovers_the_parameters_and_its_residuals_are_the_recursion() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    e = rng.normal(0.0, 0.3, n)
    z = np.zeros(n)
    for t in range(2, n):
        z[t] = 0.5 * z[t - 1] + e[t] + 0.4 * e[t - 1]
    fit = css_fit(z + 1.0, (1, 0, 1), 2)
    assert fit is not None
    assert abs(fit.ar[0] - 0.5) < 0.05 and abs(fit.ma[0] - 0.4) < 0.05
    assert abs(fit.mean - 1.0) < 0.05 and abs(fit.sigma2 - 0.09) < 0.01
    # the innovations written out day by day, those before the second day taken as 0
    v = z + 1.0 - fit.mean
    innovations = np.zeros(n)
    for t in range(2, n):
        innovations[t] = v[t] - fit.ar[0] * v[t - 1] - fit.ma[0] * innovations[t - 1]
    assert np.isclose(fit.sigma2, np.mean(innovations[2:] ** 2), rtol=1e-12)
    # an explosive AR is left out (auto.arima's root check)
    explosive = np.zeros(200)
    for t in range(1, 200):
        explosive[t] = 1.05 * explosive[t - 1] + e[t]
    assert css_fit(explosive, (1, 0, 0), 2) is None


def test_a_refit_keeps_each_products_order(data, fitted) -> None:
    panel, model = fitted
    chosen = model.chosen_forms()
    pid = panel.product_ids[0]
    other = "0,1,0" if chosen["redemptions"][pid] != "0,1,0" else "0,1,1"
    forced = {**chosen, "redemptions": {**chosen["redemptions"], pid: other}}
    kept = CalendarARIMA(chosen=forced).fit(build_panel(data, "2021-01-31"))
    assert kept.orders_["redemptions"][0] == other
    assert kept.chosen_forms()["subscriptions"] == chosen["subscriptions"]


def test_the_forecasters_refit_keeps_the_arima_orders(data) -> None:
    from forecast import Forecaster

    forecaster = Forecaster(
        models=("seasonal_naive", "arima"), horizon=7, n_jobs=1, estimate_exposure_response=False
    )
    forecaster.fit(data, "2021-01-31")
    before = forecaster.models_["arima"].chosen_forms()
    forecaster.refit(data, "2021-02-28")
    arima = forecaster.models_["arima"]
    assert arima.chosen == before and arima.chosen_forms() == before


def test_a_product_with_too_little_history_is_left_to_the_fallback(data) -> None:
    panel = build_panel(data, "2020-02-15")  # 46 days
    model = CalendarARIMA().fit(panel)
    forecast = model.predict_at(panel, np.array([panel.n_days - 1]), HORIZON)
    assert all(np.isnan(values).all() for values in forecast.values())
    assert all((orders == "").all() for orders in model.orders_.values())


def test_a_product_closed_to_new_money_is_forecast_at_zero(data) -> None:
    # Subscriptions 0 every day: the calendar regression leaves a constant series, whose
    # innovations' variance is floored; the fit does not fail and the forecast is 0.
    closed = data.flows["product_id"] == data.products["product_id"].iloc[0]
    flows = data.flows.assign(subscriptions=data.flows["subscriptions"].where(~closed, 0.0))
    panel = build_panel(type(data)(**{**data.__dict__, "flows": flows}), "2020-12-31")
    model = CalendarARIMA().fit(panel)
    assert model.orders_["subscriptions"][0] == "0,0,0"
    forecast = model.predict_at(panel, np.array([panel.n_days - 1]), HORIZON)
    np.testing.assert_allclose(forecast["subscriptions"][0, 0], 0.0, atol=1e-6)
    assert (forecast["subscriptions"][0, 1:] > 0).all()


def test_orders_past_two_are_refused(data) -> None:
    with pytest.raises(ValueError, match="orders"):
        CalendarARIMA(orders=((3, 0),)).fit(build_panel(data, "2020-12-31"))
