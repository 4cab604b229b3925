"""Residual calibration: backtest errors by horizon, kept as whole multi-day trajectories.

A residual is measured on the scale the models work on, ``log1p(flow / scale)`` with ``scale``
the product's trailing 28-day mean at the origin:

    r(o, p, h) = log1p(actual / scale) − log1p(forecast / scale)

so it is unit-free, roughly symmetric, and transferable from one product to another. Residuals
come from rolling-origin backtests (a model never saw the days it is scored on), one trajectory
of ``horizon`` days per origin and product, and are kept *by horizon*: day 1 errors are narrow,
day 14 errors wide, and the day-to-day correlation of a trajectory stays intact. Sample paths
(:mod:`forecast.paths`) replay these trajectories, which is a split-conformal interval for each
horizon when read one day at a time, and coherent across days and variables when read whole.

Censored outcomes: a subscription day capped by a quota only tells that demand was at least the
observation. Its residual is a lower bound ``r_lb``; it is replaced by the larger of ``r_lb``
and the product's median residual at that horizon, so capped days neither count as demand nor
pull the intervals down.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["log_residuals"]


def log_residuals(
    forecast: np.ndarray,
    truth: np.ndarray,
    scale: np.ndarray,
    censored: np.ndarray | None = None,
) -> np.ndarray:
    """Residual trajectories on the log scale.

    Args:
        forecast: point forecasts (n_origins, n_products, horizon), CNY.
        truth: outcomes, same shape, CNY; NaN where unknown.
        scale: (n_origins, n_products) scale of each product at each origin, CNY.
        censored: where an outcome is only a lower bound (subscriptions at the quota).

    Returns:
        Residuals, same shape as ``forecast``; NaN where no forecast or no outcome.
    """
    s = scale[:, :, None]
    with np.errstate(invalid="ignore"):
        residual = np.log1p(np.maximum(truth, 0.0) / s) - np.log1p(np.maximum(forecast, 0.0) / s)
    if censored is None or not censored.any():
        return residual
    clean = np.where(censored, np.nan, residual)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: no median, keep the bound
        median = np.nanmedian(clean, axis=0, keepdims=True)
    lifted = np.fmax(residual, np.broadcast_to(median, residual.shape))
    return np.where(censored, lifted, residual)
