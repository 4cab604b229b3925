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

Adapting to change (:func:`origin_weights`, :func:`centre_residuals`). The backtest covers a
year; what happened a year ago says less about the next weeks than what happened last month, so
origins are weighted by recency (exponential decay, half-life
:data:`DEFAULT_HALF_LIFE_DAYS`) and sample paths draw origins with these weights (a weighted
split-conformal interval). And the residuals are *centred*: from each product's trajectories at
horizon h, their weighted median at h is subtracted, on the log scale. Without it, a year in
which the level fell for months leaves mostly negative residuals (the model lagged behind the
fall), and their median would pull every later forecast down as if the fall were still going
on; after centring, the median of the paths is the point forecast on the models' scale (which
tracks the level), and the mean gets the retransformation correction of the log scale from the
paths themselves (the mean of ``expm1(x + r)`` exceeds ``expm1(x)``).

Finite-sample width (:func:`conformal_scale`, :func:`widen_residuals`). A band read off ``n``
exchangeable residuals between their interpolated 10 % and 90 % quantiles covers a new outcome
with probability ``0.8 · (n − 1) / (n + 1)`` on average, not 0.8: with weekly origins weighted
by recency (about 33 effective of 52) that is 75 %, and single products came out at 70–74 % per
horizon. Split conformal prediction corrects this by reading the band at wider levels; here the
centred residuals are scaled by the ratio of normal quantiles ``z(q') / z(q)``, ``q'`` the
level whose interpolated band has expected coverage 0.8 with the effective number of origins
the paths draw from, ``n_eff = (Σw)² / Σw²`` (Kish). A scaled trajectory stays one
trajectory, so paths remain coherent across days and variables, and its median stays 0.

Known to over-widen (issue 13; docs/forecast.md, "Why some bands cover more than 85 %"): the
forecasts do not read the band between the residuals' interpolated quantiles but from ``N``
sample paths drawn among them, whose quantiles are those of the residuals' empirical
distribution (rank ``0.1 n + 1/2`` on average, not ``1 + 0.1 (n − 1)``) interpolated between
the paths: before widening that band covers ``0.8 · (N − 1)/(N + 1) · n/(n + 1)`` (76.9 % at
``n_eff`` 33 and 200 paths), so the correction makes it ``0.8 · n/(n − 1) · (N − 1)/(N + 1)``,
81–83 % of exchangeable outcomes, the more the smaller ``n``. Correcting for the paths' reading
(``q' = ½ + 0.8 · (N + 1)/(N − 1) · (n + 1)/(2n)``) centres that on 80 % but takes the young
single product's redemption bands below 75 % and the sample's day-1 net flow and AUM bands to
78 %, so it is not applied.

Too short for a backtest (:func:`error_ratio`). A product launched weeks ago has no
rolling-origin backtest (the models need about two months before an origin and the horizon
after it); the seasonal naive's errors from every day of its panel stand in. They are those of a
worse model and include the launch ramp and any holiday, so they are sized to the candidate's
errors first: multiplied, per product and flow, by the ratio of the candidate's one-day-ahead
errors to the naive's on the same days of the panel (mean absolute deviations from their
medians; in-sample for the candidate, whose fitted parameters saw those days, but nothing after
the as-of day). The trajectories keep the naive's shape over the horizon and the link between
products and flows; the finite-sample widening then applies as to a backtest's residuals.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import norm

__all__ = [
    "DEFAULT_HALF_LIFE_DAYS",
    "centre_residuals",
    "conformal_scale",
    "error_ratio",
    "log_residuals",
    "origin_weights",
    "recent_error_factor",
    "weighted_median",
    "weighted_quantile",
    "widen_residuals",
]

# Half-life of the recency weights of backtest origins, days: a quarter. With weekly origins
# over a year this leaves about 33 effective trajectories (of 52), enough for a 10–90 % band.
DEFAULT_HALF_LIFE_DAYS = 91.0
# A product needs this many residuals at a horizon to be centred on its own median; with fewer
# (launched recently) it is centred on the median of all products at that horizon.
MIN_OWN_RESIDUALS = 8
# The central band the finite-sample correction aims at (p10-p90), and the widest scaling it
# may apply (the band read at 1 % and 99 % instead of 10 % and 90 %).
TARGET_COVERAGE = 0.8
MAX_CONFORMAL_SCALE = 1.815
# Adapting the band to the last days (:func:`recent_error_factor`): the errors of the forecast
# made this many days before the as-of day, compared with the backtest's at the same horizons;
# a trajectory of errors larger than this quantile of the backtest's widens the band.
RECENT_ERROR_DAYS = 7
RECENT_ERROR_LEVEL = 0.9
# error_ratio needs this many paired errors of a product (days) to measure it; with fewer the
# ratio is 1 (the stand-in is left as it is).
MIN_RATIO_ERRORS = 14


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


def origin_weights(origins: np.ndarray, half_life_days: float | None) -> np.ndarray:
    """Recency weights of backtest origins, summing to 1.

    Args:
        origins: origin positions (days), ascending.
        half_life_days: the weight halves every this many days back from the latest origin;
            ``None`` or ``inf`` gives equal weights.

    Returns:
        Weights (n_origins,), ≥ 0, sum 1 (empty for no origin).
    """
    origins = np.asarray(origins, dtype=float)
    if origins.size == 0:
        return np.zeros(0)
    if half_life_days is None or not np.isfinite(half_life_days):
        weights = np.ones(origins.size)
    else:
        if half_life_days <= 0:
            raise ValueError(f"half_life_days must be positive, got {half_life_days}")
        weights = 0.5 ** ((origins.max() - origins) / half_life_days)
    return weights / weights.sum()


def weighted_median(values: np.ndarray, weights: np.ndarray, axis: int = 0) -> np.ndarray:
    """Weighted median along ``axis`` (lower median), skipping NaN; NaN where nothing is known.

    Args:
        values: any shape.
        weights: one weight ≥ 0 per position along ``axis``.
        axis: the axis reduced.
    """
    return weighted_quantile(values, weights, 0.5, axis)


def weighted_quantile(
    values: np.ndarray, weights: np.ndarray, level: float, axis: int = 0
) -> np.ndarray:
    """Weighted quantile at ``level`` along ``axis`` (the lower one: the smallest value whose
    cumulative weight reaches ``level`` of the total), skipping NaN; NaN where nothing is known.

    Args:
        values: any shape.
        weights: one weight ≥ 0 per position along ``axis``.
        level: in (0, 1].
        axis: the axis reduced.
    """
    moved = np.moveaxis(np.asarray(values, dtype=float), axis, -1)
    order = np.argsort(moved, axis=-1)  # NaN sort last
    ordered = np.take_along_axis(moved, order, axis=-1)
    w = np.broadcast_to(np.asarray(weights, dtype=float), moved.shape)
    w = np.where(np.isnan(moved), 0.0, w)
    w = np.take_along_axis(w, order, axis=-1)
    cumulative = np.cumsum(w, axis=-1)
    total = cumulative[..., -1:]
    index = np.argmax(cumulative >= level * total, axis=-1)[..., None]
    out = np.take_along_axis(ordered, index, axis=-1)[..., 0]
    return np.where(total[..., 0] > 0, out, np.nan)


def centre_residuals(residuals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Subtract each product's weighted median residual at each horizon.

    Args:
        residuals: (n_origins, n_products, horizon) on the log scale, NaN where unknown.
        weights: (n_origins,) origin weights (:func:`origin_weights`).

    Returns:
        Residuals of the same shape whose weighted median is 0 per product and horizon (a
        product with fewer than :data:`MIN_OWN_RESIDUALS` at a horizon is centred on the
        pooled median of all products there).
    """
    if residuals.size == 0:
        return residuals
    own = weighted_median(residuals, weights, axis=0)  # (n_products, horizon)
    n_origins, n_products, horizon = residuals.shape
    pooled_values = np.transpose(residuals, (1, 0, 2)).reshape(n_products * n_origins, horizon)
    pooled = weighted_median(pooled_values, np.tile(weights, n_products), axis=0)  # (horizon,)
    enough = (~np.isnan(residuals)).sum(axis=0) >= MIN_OWN_RESIDUALS
    centre = np.where(enough, own, pooled[None, :])
    return residuals - np.nan_to_num(centre, nan=0.0)[None, :, :]


def conformal_scale(
    n_effective: np.ndarray | float, coverage: float = TARGET_COVERAGE
) -> np.ndarray:
    """Factor by which to widen centred residuals so that a band read between their
    interpolated quantiles ``(1 ± coverage) / 2`` has expected coverage ``coverage``.

    With ``n`` exchangeable residuals the band between the interpolated quantiles at levels
    ``a`` and ``1 − a`` covers a new outcome with probability ``(1 − 2a)(n − 1)/(n + 1)`` on
    average; the level ``q'`` that makes this ``coverage`` is
    ``1/2 + coverage (n + 1) / (2 (n − 1))``, and the factor is ``z(q') / z((1 + coverage)/2)``
    with ``z`` the standard normal quantile (the residuals' shape assumed normal between the
    two levels), at most :data:`MAX_CONFORMAL_SCALE`.

    Args:
        n_effective: effective number of residuals (any shape), e.g. Kish's ``(Σw)²/Σw²``.
        coverage: target coverage of the central band, in (0, 1).

    Returns:
        Factors ≥ 1, same shape; :data:`MAX_CONFORMAL_SCALE` where ``n_effective`` ≤ 1 or NaN.
    """
    n = np.asarray(n_effective, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = 0.5 * coverage * (n + 1.0) / (n - 1.0)
    level = np.where(np.isfinite(half) & (n > 1.0), 0.5 + half, 1.0)
    level = np.minimum(level, 0.99)
    factor = norm.ppf(level) / norm.ppf(0.5 + 0.5 * coverage)
    return np.clip(factor, 1.0, MAX_CONFORMAL_SCALE)


def error_ratio(
    own: np.ndarray, reference: np.ndarray, min_errors: int = MIN_RATIO_ERRORS
) -> np.ndarray:
    """How large one model's errors are against another's on the same days, per product.

    The ratio of the mean absolute deviations from their medians of two sets of paired
    log-scale errors, counted only where both are known. Used to size the seasonal naive's
    errors that stand in for a panel too short for a backtest to the errors of the candidate
    actually forecast with (see :class:`forecast.api.Forecaster`).

    Args:
        own: (n_days, n_products) errors of the model the intervals are for (log scale, NaN
            where unknown).
        reference: errors of the stand-in model on the same days, same shape.
        min_errors: paired errors a product needs; with fewer its ratio is 1.

    Returns:
        Ratios (n_products,), > 0; 1 where too few pairs or the reference never errs.
    """
    own = np.asarray(own, dtype=float)
    reference = np.asarray(reference, dtype=float)
    both = ~(np.isnan(own) | np.isnan(reference))
    ratio = np.ones(own.shape[1])
    for p in np.flatnonzero(both.sum(axis=0) >= min_errors):
        a, b = own[both[:, p], p], reference[both[:, p], p]
        spread_own = np.mean(np.abs(a - np.median(a)))
        spread_reference = np.mean(np.abs(b - np.median(b)))
        if spread_own > 0 and spread_reference > 0:
            ratio[p] = spread_own / spread_reference
    return ratio


def recent_error_factor(
    recent: np.ndarray,
    residuals: np.ndarray,
    weights: np.ndarray,
    level: float = RECENT_ERROR_LEVEL,
) -> np.ndarray:
    """Per product, how much wider than usual the last days' errors say the band must be.

    ``recent`` holds the errors of the forecast made ``k`` days before the as-of day, at
    horizons 1..k (all known by the as-of day). The residual trajectories of the backtest say
    how large such a trajectory's errors usually are: each origin's mean absolute residual over
    the same horizons, against their weighted mean ``s``. The last trajectory's mean absolute
    error over ``s`` (its ratio) is compared with the ``level`` quantile of the origins' own
    ratios: at or below it the band stays as it is (factor 1), as it does for nine backtest
    trajectories in ten; above it every residual of the product is scaled by the ratio, so that
    the band is as wide as errors of that size ask. A wave that the calm origins never saw
    shows in the last week's errors days before it shows in any whole backtest trajectory (the
    latest ends a horizon before the as-of day).

    Args:
        recent: (n_products, k) log-scale errors, NaN where unknown (censored days included).
        residuals: (n_origins, n_products, ≥ k) the calibration residuals, centred.
        weights: (n_origins,) their origin weights.
        level: the quantile of the origins' ratios that counts as usual.

    Returns:
        Factors ≥ 1 (n_products,); 1 where fewer than :data:`MIN_OWN_RESIDUALS` origins or
        fewer than half the ``k`` recent errors are known.
    """
    recent = np.asarray(recent, dtype=float)
    recent = np.where(np.isfinite(recent), recent, np.nan)  # an error on a zero scale says nothing
    n_products, k = recent.shape
    factor = np.ones(n_products)
    if residuals.size == 0 or k == 0 or residuals.shape[2] < k:
        return factor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN trajectories: no size
        size = np.nanmean(np.abs(residuals[:, :, :k]), axis=2)  # (n_origins, n_products)
        last = np.nanmean(np.abs(recent), axis=1)
    w = np.asarray(weights, dtype=float)
    for p in range(n_products):
        known = np.isfinite(size[:, p]) & (w > 0)
        if known.sum() < MIN_OWN_RESIDUALS or np.isfinite(recent[p]).sum() < (k + 1) // 2:
            continue
        usual = float(np.average(size[known, p], weights=w[known]))
        if not usual > 0:
            continue
        ratios = size[known, p] / usual
        threshold = float(weighted_quantile(ratios, w[known], level))
        ratio = float(last[p]) / usual
        factor[p] = max(1.0, ratio) if ratio > threshold else 1.0
    return factor


def widen_residuals(
    residuals: np.ndarray, weights: np.ndarray, coverage: float = TARGET_COVERAGE
) -> np.ndarray:
    """Scale centred residuals by :func:`conformal_scale` of the effective number of origins.

    The effective number is that of the origin weights, ``(Σw)² / Σw²`` (Kish), the same for
    every product and horizon: sample paths draw an origin by these weights for all products
    at once, and a product without a residual at the drawn origin (launched later) borrows
    another product's trajectory, so each product's band is read from draws over all origins.

    Args:
        residuals: (n_origins, n_products, horizon), centred (:func:`centre_residuals`), on the
            log scale; NaN where unknown (stays NaN).
        weights: (n_origins,) origin weights (the draw probabilities of the sample paths).
        coverage: target coverage of the central band.

    Returns:
        Residuals of the same shape, scaled by one factor ≥ 1.
    """
    w = np.asarray(weights, dtype=float)
    if residuals.size == 0 or w.size == 0 or not (w * w).sum() > 0:
        return residuals
    n_effective = w.sum() ** 2 / (w * w).sum()
    return residuals * float(conformal_scale(n_effective, coverage))
