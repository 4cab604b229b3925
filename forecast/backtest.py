"""Rolling-origin backtests of forecast models on one panel.

Origins are days of the panel, every ``step_days`` (weekly by default) over the last
``window_days`` whose whole horizon is observed. Models are refitted every ``refit_every_days``
on the days up to the refit day and forecast every origin until the next refit, so no forecast
ever comes from a model that saw its target days. The result holds every model's forecasts,
the observed outcomes and the scale of each product at each origin: what model selection
(:mod:`forecast.selection`) and residual calibration (:mod:`forecast.calibration`) need.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from forecast.base import ForecastFallbackWarning, ForecastModel, clone
from forecast.features import feature_context
from forecast.panel import MODELLED_VARIABLES, Panel

__all__ = ["BacktestRun", "rolling_origins", "run_backtest"]

# A backtest origin needs this much history in the panel (two months: enough for every model).
MIN_BACKTEST_HISTORY_DAYS = 63


@dataclass(frozen=True, eq=False)
class BacktestRun:
    """Forecasts of several models from the same origins, with what happened.

    Attributes:
        origins: origin positions in the panel, ascending.
        horizon: days forecast after each origin.
        forecasts: model name -> variable -> array (n_origins, n_products, horizon), CNY.
        truth: variable -> observed flows, same shape (subscriptions as accepted).
        censored: subscriptions capped by the quota on the target day, same shape.
        scale: variable -> each product's trailing 28-day mean at each origin,
            (n_origins, n_products), CNY.
        fit_seconds: model name -> total seconds spent fitting.
    """

    origins: np.ndarray
    horizon: int
    forecasts: dict[str, dict[str, np.ndarray]]
    truth: dict[str, np.ndarray]
    censored: np.ndarray
    scale: dict[str, np.ndarray]
    fit_seconds: dict[str, float]


def rolling_origins(
    panel: Panel, horizon: int, window_days: int = 364, step_days: int = 7
) -> np.ndarray:
    """Origin positions for a backtest ending on the panel's last day.

    The last origin is ``horizon`` days before the panel's end (its horizon is fully
    observed); earlier ones go back every ``step_days`` over ``window_days``, but never closer
    than :data:`MIN_BACKTEST_HISTORY_DAYS` to the panel's first day.

    Returns:
        Ascending int array, possibly empty for a short panel.
    """
    last = panel.n_days - 1 - horizon
    first = max(last - window_days + 1, MIN_BACKTEST_HISTORY_DAYS)
    if last < first:
        return np.array([], dtype=int)
    return np.arange(last, first - 1, -step_days)[::-1].copy()


def _gather(values: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """values[o + h, p] as (n_origins, n_products, horizon)."""
    days = origins[:, None] + np.arange(1, horizon + 1)[None, :]
    return np.transpose(values[days], (0, 2, 1))


def refit_folds(origins: np.ndarray, refit_every_days: int) -> int:
    """How many times :func:`run_backtest` fits each model over ``origins``."""
    origins = np.asarray(origins, dtype=int)
    if not origins.size:
        return 0
    return int(np.unique((origins - origins[0]) // refit_every_days).size)


def run_backtest(
    panel: Panel,
    models: Sequence[ForecastModel],
    origins: np.ndarray,
    horizon: int,
    refit_every_days: int = 91,
    on_fit: Callable[[], None] | None = None,
) -> BacktestRun:
    """Refit each model every ``refit_every_days`` and forecast from every origin.

    A model whose fit fails on a fold (e.g. too little history) gives NaN forecasts on that
    fold, with a :class:`~forecast.base.ForecastFallbackWarning`.

    Args:
        panel: the panel; every origin's horizon must lie inside it.
        models: unfitted model templates (cloned for each fold).
        origins: ascending origin positions.
        horizon: days forecast after each origin.
        refit_every_days: days between refits.
        on_fit: called after each fold of each model (fitted or not): progress counting.

    Returns:
        The :class:`BacktestRun`.
    """
    origins = np.asarray(origins, dtype=int)
    if origins.size and origins.max() + horizon >= panel.n_days:
        raise ValueError("run_backtest: an origin's horizon runs past the end of the panel")
    fold = (origins - origins[0]) // refit_every_days if origins.size else origins
    shape = (len(origins), panel.n_products, horizon)
    forecasts: dict[str, dict[str, np.ndarray]] = {}
    fit_seconds: dict[str, float] = {}
    for template in models:
        out = {variable: np.full(shape, np.nan) for variable in MODELLED_VARIABLES}
        spent = 0.0
        for k in np.unique(fold):
            members = np.flatnonzero(fold == k)
            cutoff = int(origins[members[0]])
            started = time.perf_counter()
            try:
                model = clone(template).fit(panel, end=cutoff)
            except ValueError as error:
                warnings.warn(
                    f"backtest: {template.name} could not be fitted up to "
                    f"{panel.dates[cutoff]:%Y-%m-%d} ({error}); no forecasts from it there",
                    ForecastFallbackWarning,
                    stacklevel=2,
                )
                if on_fit is not None:
                    on_fit()
                continue
            spent += time.perf_counter() - started
            predicted = model.predict_at(panel, origins[members], horizon)
            for variable in MODELLED_VARIABLES:
                out[variable][members] = predicted[variable]
            if on_fit is not None:
                on_fit()
        forecasts[template.name] = out
        fit_seconds[template.name] = spent
    context = feature_context(panel, horizon)
    return BacktestRun(
        origins=origins,
        horizon=horizon,
        forecasts=forecasts,
        truth={
            "subscriptions": _gather(panel.subscriptions, origins, horizon),
            "redemptions": _gather(panel.redemptions, origins, horizon),
        },
        censored=_gather(panel.censored, origins, horizon),
        scale={
            variable: context.states[variable].scale[origins] for variable in MODELLED_VARIABLES
        },
        fit_seconds=fit_seconds,
    )
