"""The Theta method on log flows after a calendar regression (statsmodels ``ThetaModel``).

Each product and variable gets its own model on ``x = log(flow / scale + offset)`` over the last
year, as :class:`forecast.statistical.CalendarETS` (``scale`` the mean flow of that window, CNY;
``offset`` 0.1):

1. a ridge regression of ``x`` on weekday dummies and the Chinese-calendar regressors
   (:func:`forecast.statistical.deseasonalised_log_flow`) gives the weekly season and the
   calendar effects, beside a local level (:func:`forecast.statistical.level_basis`) that stays
   in ``z``;
   ``z`` is ``x`` minus the weekday and calendar effects (deseasonalised: additive on the log
   scale, i.e. multiplicative in CNY);
2. statsmodels' ``ThetaModel`` (``deseasonalize=False``, two-step estimation) fits ``z``: the
   drift ``b0`` is the slope of a straight line through it (per day), and ``alpha`` the smoothing
   weight of simple exponential smoothing (SES). With theta = 2 the forecast ``h`` days ahead
   is the SES level plus half the drift, ``½ b0 (h − 1 + 1/α − (1 − α)^n / α)``, ``n`` the days
   observed (Assimakopoulos & Nikolopoulos 2000; Hyndman & Billah 2003).

A forecast adds back the weekday and calendar effects of the target day. Predicting from a
later origin runs the SES recursion with the fitted ``alpha`` over the new days (a state
update, not a refit; ``b0`` is kept), vectorised over products, so a year of weekly origins is
cheap; a day without data leaves the level unchanged.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from statsmodels.tsa.forecasting.theta import ThetaModel

from forecast.base import ForecastModel
from forecast.panel import MODELLED_VARIABLES, Panel
from forecast.statistical import (
    CALENDAR_RIDGE,
    LOG_OFFSET,
    WINDOW_DAYS,
    deseasonalised_log_flow,
    fit_window,
    fitted_rows,
    product_params,
    weekday_calendar_design,
)

__all__ = ["CalendarTheta"]


class CalendarTheta(ForecastModel):
    """Theta (theta = 2) on deseasonalised log flows, after a calendar regression.

    Args:
        window_days: days of history each product's model is fitted on (the most recent).
        ridge: penalty of the calendar regression (on the 0/1 calendar dummies; the weekday
            means are not penalised).
        offset: the model works on ``log(flow / scale + offset)``, ``scale`` the product's mean
            flow (CNY) over the window.
        theta: the theta coefficient (≥ 1); the drift enters with weight ``1 − 1/theta``.
    """

    name = "theta"
    min_history_days = 56

    def __init__(
        self,
        window_days: int = WINDOW_DAYS,
        ridge: float = CALENDAR_RIDGE,
        offset: float = LOG_OFFSET,
        theta: float = 2.0,
    ) -> None:
        self.window_days = window_days
        self.ridge = ridge
        self.offset = offset
        self.theta = theta

    def _fit(self, history: Panel, end: int) -> None:
        if self.theta < 1:
            raise ValueError(f"theta must be >= 1, got {self.theta}")
        design = weekday_calendar_design(history.dates[0], history.dates[end])
        n, k = history.n_products, design.shape[1]
        fit_window(self, history, end, self.window_days)
        self.params_: dict[str, dict[str, np.ndarray]] = {}
        for variable in MODELLED_VARIABLES:
            series = history.series(variable)
            params = {
                "scale": np.full(n, np.nan),
                "alpha": np.full(n, np.nan),
                "b0": np.full(n, np.nan),
                "initial": np.full(n, np.nan),
                "coef": np.full((n, k), np.nan),
            }
            for p in range(n):
                start = int(self.start_[p])
                if end - start + 1 < self.min_history_days:
                    continue
                # The effects are estimated beside a local level (see level_basis), which is
                # left in z for the theta model: not against the window's mean level.
                scale, coef, z = deseasonalised_log_flow(
                    series[start : end + 1, p], design[start : end + 1], self.offset, self.ridge
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = ThetaModel(z, deseasonalize=False).fit(use_mle=False)
                params["scale"][p] = scale
                params["coef"][p] = coef
                params["alpha"][p] = float(np.clip(result.params["alpha"], 1e-4, 1.0))
                params["b0"][p] = float(result.params["b0"])
                params["initial"][p] = float(z[0])
            self.params_[variable] = params

    def _predict_at(
        self, history: Panel, origins: np.ndarray, horizon: int
    ) -> dict[str, np.ndarray]:
        n_origins, n = len(origins), history.n_products
        shift, fitted, has, start, last_target = fitted_rows(self, history, origins, horizon)
        # Weekday dummies follow the fitted panel's day positions.
        design = weekday_calendar_design(history.dates[0] + pd.Timedelta(days=shift), last_target)
        offset_rows = -shift  # row of design for panel day d is d + offset_rows
        weight = 1.0 - 1.0 / self.theta
        steps = np.arange(1, horizon + 1, dtype=float)
        out = {}
        for variable in MODELLED_VARIABLES:
            params, ok = product_params(self.params_[variable], fitted, has)
            series = history.series(variable)
            coef = np.where(ok[:, None], params["coef"], 0.0)
            scale = np.where(ok, params["scale"], 1.0)
            alpha = np.where(ok, params["alpha"], 1.0)
            b0 = np.where(ok, params["b0"], 0.0)
            level = np.where(ok, params["initial"], 0.0)
            result = np.full((n_origins, n, horizon), np.nan)
            first = int(start[ok].min()) if ok.any() else 0
            day = first
            for index in np.argsort(origins):
                origin = int(origins[index])
                while day <= origin:
                    active = ok & (day > start)  # the first day is the initial level
                    if active.any():
                        y = np.maximum(series[day], 0.0)
                        z = np.log(y / scale + self.offset) - design[day + offset_rows] @ coef.T
                        z = np.where(np.isnan(z), level, z)
                        level = np.where(active, alpha * z + (1 - alpha) * level, level)
                    day += 1
                observed = np.maximum(origin - start + 1, 1).astype(float)
                drift = steps[None, :] - 1 + 1 / alpha[:, None]
                drift = drift - ((1 - alpha) ** observed / alpha)[:, None]
                z_hat = level[:, None] + weight * b0[:, None] * drift
                targets = origin + np.arange(1, horizon + 1) + offset_rows
                effects = (design[targets] @ coef.T).T
                values = scale[:, None] * (np.exp(z_hat + effects) - self.offset)
                values[~ok] = np.nan
                result[index] = values
            out[variable] = result
        return out
