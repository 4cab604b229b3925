"""The Theta model: statsmodels' forecast on the deseasonalised log series, the state update
from later origins (no look-ahead: tests/forecast/test_forecast_models.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.forecasting.theta import ThetaModel

from forecast.panel import build_panel
from forecast.statistical import weekday_calendar_design
from forecast.theta import CalendarTheta
from forecast.toy_data import toy_dataset


@pytest.fixture(scope="module")
def data():
    return toy_dataset(n_products=3, start="2020-01-01", end="2021-03-31", seed=1, with_quota=False)


def test_forecast_at_the_fit_is_statsmodels_theta(data) -> None:
    panel = build_panel(data, "2021-02-28")
    model = CalendarTheta().fit(panel)
    end = panel.n_days - 1
    forecast = model.predict_at(panel, np.array([end]), 14)
    for variable in ("subscriptions", "redemptions"):
        params = model.params_[variable]
        design = weekday_calendar_design(panel.dates[0], panel.dates[-1] + pd.Timedelta(days=14))
        for p in range(panel.n_products):
            start = int(model.start_[p])
            y = np.maximum(panel.series(variable)[start : end + 1, p], 0.0)
            x = np.log(y / params["scale"][p] + model.offset)
            z = x - design[start : end + 1] @ params["coef"][p]
            expected_z = np.asarray(
                ThetaModel(z, deseasonalize=False).fit(use_mle=False).forecast(14)
            )
            effects = design[end + 1 : end + 15] @ params["coef"][p]
            expected = params["scale"][p] * (np.exp(expected_z + effects) - model.offset)
            np.testing.assert_allclose(forecast[variable][0, p], expected, rtol=1e-9)


def test_theta_one_is_simple_exponential_smoothing_without_drift(data) -> None:
    panel = build_panel(data)
    end = panel.n_days - 1
    flat_model = CalendarTheta(theta=1.0).fit(panel)
    flat = flat_model.predict_at(panel, np.array([end]), 21)
    theta_model = CalendarTheta().fit(panel)
    theta = theta_model.predict_at(panel, np.array([end]), 21)
    # Days 14 and 21 after the end (2021-04-14 and 04-21) are ordinary Wednesdays: the same
    # weekday and calendar rows, so only the drift can tell their forecasts apart.
    design = weekday_calendar_design(panel.dates[0], panel.dates[-1] + pd.Timedelta(days=21))
    np.testing.assert_array_equal(design[end + 14], design[end + 21])
    for variable in ("subscriptions", "redemptions"):
        np.testing.assert_allclose(flat[variable][0, :, 20], flat[variable][0, :, 13], rtol=1e-12)
        drift = theta_model.params_[variable]["b0"]
        later = theta[variable][0, :, 20] > theta[variable][0, :, 13]
        assert (later == (drift > 0)).all()
    with pytest.raises(ValueError, match="theta"):
        CalendarTheta(theta=0.5).fit(panel)
