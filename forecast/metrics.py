"""Forecast accuracy measures: WAPE, MASE, pinball loss and interval coverage.

Every function takes arrays of the same shape and ignores positions where any input is NaN
(a product not yet launched, a day without a usable outcome), so a whole backtest can be scored
in one call. Amounts are in the data set's unit (CNY); the ratios are unit-free.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rainmaker.outcomes import wape  # re-exported: the one WAPE, shared with the run history

__all__ = [
    "AMOUNT_RTOL",
    "coverage",
    "inside",
    "mase",
    "pinball_loss",
    "scaled_pinball_loss",
    "seasonal_naive_mae",
    "wape",
]

Array = npt.ArrayLike

# An interval's ends are computed (quantiles of sample paths, sums of them, exp of logs) and
# miss an outcome they equal by float rounding, about 1e-15 of its size: on a flat series whose
# p10 = p90 = the outcome, a strict test counted every outcome outside. Amounts (in any unit,
# SPEC §1) are inside within this share of the interval's size; rates (percent) within
# forecast.market.RATE_TOLERANCE_PCT.
AMOUNT_RTOL = 1e-9


def inside(
    actual: Array, lower: Array, upper: Array, *, atol: float = 0.0, rtol: float = AMOUNT_RTOL
) -> np.ndarray:
    """Is each outcome inside [lower, upper], both ends included, within ``atol`` (in the
    outcome's unit) plus ``rtol`` of the larger end's size? (NaN anywhere: False.)"""
    a, lo, hi = (np.asarray(x, dtype=float) for x in (actual, lower, upper))
    tol = atol + rtol * np.maximum(np.abs(lo), np.abs(hi))
    return np.asarray((a >= lo - tol) & (a <= hi + tol))


def _finite(*arrays: Array) -> tuple[np.ndarray, ...]:
    values = [np.asarray(a, dtype=float) for a in arrays]
    values = list(np.broadcast_arrays(*values))
    ok = np.ones(values[0].shape, dtype=bool)
    for v in values:
        ok &= np.isfinite(v)
    return tuple(v[ok] for v in values)


def seasonal_naive_mae(series: Array, season_days: int = 7) -> float:
    """Mean absolute error of the seasonal naive forecast inside ``series``: mean of
    |y(t) − y(t − season_days)| (CNY), the denominator of MASE. NaN when undefined."""
    y = np.asarray(series, dtype=float)
    if y.size <= season_days:
        return float("nan")
    a, b = _finite(y[season_days:], y[:-season_days])
    return float(np.abs(a - b).mean()) if a.size else float("nan")


def mase(actual: Array, forecast: Array, scale: Array) -> float:
    """Mean absolute scaled error: mean of |actual − forecast| / scale.

    Args:
        actual: outcomes.
        forecast: point forecasts, same shape.
        scale: in-sample seasonal naive MAE of the product at the origin (see
            :func:`seasonal_naive_mae`), broadcast against ``actual``; positions where it is 0
            are skipped.

    Returns:
        The mean (1 = as good as the in-sample seasonal naive); NaN when nothing is scored.
    """
    a, f, s = _finite(actual, forecast, scale)
    keep = s > 0
    return float(np.mean(np.abs(a - f)[keep] / s[keep])) if keep.any() else float("nan")


def pinball_loss(actual: Array, quantile_forecast: Array, q: float) -> float:
    """Mean pinball (quantile) loss of the ``q`` quantile forecast (CNY).

    Loss of one outcome y with forecast f: q·(y − f) when y ≥ f, else (1 − q)·(f − y).
    """
    if not 0 < q < 1:
        raise ValueError(f"quantile level must lie in (0, 1), got {q}")
    a, f = _finite(actual, quantile_forecast)
    if not a.size:
        return float("nan")
    diff = a - f
    return float(np.mean(np.maximum(q * diff, (q - 1) * diff)))


def scaled_pinball_loss(actual: Array, quantile_forecasts: dict[float, Array]) -> float:
    """Pinball loss averaged over quantile levels, divided by the mean |actual| of the same
    outcomes (unit-free, comparable across products and variables like WAPE).

    Args:
        actual: outcomes.
        quantile_forecasts: quantile level -> forecast of that quantile, each like ``actual``.
    """
    levels = list(quantile_forecasts)
    if not levels:
        return float("nan")
    values = _finite(actual, *(quantile_forecasts[q] for q in levels))
    a = values[0]
    denominator = np.abs(a).mean() if a.size else 0.0
    if denominator == 0:
        return float("nan")
    losses = [pinball_loss(a, f, q) for q, f in zip(levels, values[1:], strict=True)]
    return float(np.mean(losses) / denominator)


def coverage(actual: Array, lower: Array, upper: Array) -> float:
    """Share of outcomes inside [lower, upper] (both ends included, within float rounding:
    :func:`inside`); NaN when none."""
    a, lo, hi = _finite(actual, lower, upper)
    return float(np.mean(inside(a, lo, hi))) if a.size else float("nan")
