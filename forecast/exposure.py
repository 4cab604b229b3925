"""Each product's demand response to marketing exposure, for the optimizer.

The curve is the one of :mod:`rainmaker.response`: demand is multiplied by

    multiplier(e) = 1 + a · log(1 + e / e0)

(``a`` ≥ 0 the sensitivity, ``e0`` > 0 the exposure scale in the exposure's unit), concave in
``e``. For each product it is estimated on the last year of uncensored subscription days:

    log(subscriptions(t)) = weekday(t) + calendar(t)·β + level(4-week block of t)
                            + log(multiplier(exposure(t))) + noise,

a non-linear least-squares fit by variable projection (the linear terms are solved exactly for
each ``(a, e0)``), with standard errors of ``a`` and ``e0`` from the Jacobian of the full model
at the optimum. Capped days are left out (their subscriptions are a lower bound of demand), and
``demand`` is never read. When exposure barely moves, ``a`` and ``e0`` are poorly identified:
the standard errors say so, and the optimizer should trust the curve accordingly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from forecast.base import single_threaded_blas
from forecast.features import calendar_matrix
from forecast.panel import Panel
from forecast.statistical import calendar_regressors

__all__ = ["RESPONSE_COLUMNS", "fit_exposure_response"]

RESPONSE_COLUMNS = ("a", "e0", "a_se", "e0_se", "n_days", "status")
WINDOW_DAYS = 364
MIN_DAYS = 56
LEVEL_BLOCK_DAYS = 28
MAX_SENSITIVITY = 20.0
# e0 is searched within this factor of the product's median exposure.
E0_RANGE = 30.0
MAX_AUTOCORRELATION = 0.98
MIN_AUTOCORRELATION = 0.1  # below it, quasi-differencing is not worth the lost rows
PRIOR_A = 0.5
PRIOR_A_SD = 1.0
PRIOR_LOG_E0_SD = 1.5


def _design(start: int, end: int, calendar: np.ndarray) -> np.ndarray:
    days = np.arange(start, end + 1)
    weekday = (days[:, None] % 7 == np.arange(7)[None, :]).astype(float)
    block = (end - days) // LEVEL_BLOCK_DAYS
    levels = (block[:, None] == np.arange(1, block.max() + 1)[None, :]).astype(float)
    return np.hstack([weekday, calendar_regressors(calendar[start : end + 1]), levels])


def _log_multiplier(exposure: np.ndarray, a: float, e0: float) -> np.ndarray:
    return np.log1p(a * np.log1p(exposure / e0))


def _fit_transformed(
    y_star: np.ndarray,
    exposure_now: np.ndarray,
    exposure_before: np.ndarray,
    phi: float,
    design_star: np.ndarray,
    typical: float,
    noise_sd: float,
) -> tuple[float, float, float, float, np.ndarray]:
    """MAP fit of ``y* ≈ design*·β + c(t) − φ·c(t−1)`` with ``c`` the log multiplier.

    Rows are already quasi-differenced (``φ = 0``: plain rows). A weak prior keeps poorly
    identified curves (exposure that barely moved) near a plain shape instead of at the bounds:
    ``a ~ N(PRIOR_A, PRIOR_A_SD²)`` and ``log(e0 / typical) ~ N(0, PRIOR_LOG_E0_SD²)``,
    weighed against the data in units of the noise.

    Returns:
        (a, e0, se of a, se of e0, data residuals).
    """
    low = np.array([0.0, np.log(typical / E0_RANGE)])
    high = np.array([MAX_SENSITIVITY, np.log(typical * E0_RANGE)])
    basis = np.linalg.qr(design_star)[0]

    def project(values: np.ndarray) -> np.ndarray:
        # What the linear terms cannot explain (variable projection).
        return values - basis @ (basis.T @ values)

    def curve(a: float | np.ndarray, e0: float | np.ndarray) -> np.ndarray:
        # Exposure as a column, so that arrays of (a, e0) give one curve per column.
        value = _log_multiplier(exposure_now[:, None], a, e0)
        if phi:
            # (with φ = 0 the previous day's term is exactly 0 and is not computed)
            value = value - phi * _log_multiplier(exposure_before[:, None], a, e0)
        return value if np.ndim(a) else value[:, 0]

    def residual(theta: np.ndarray) -> np.ndarray:
        prior = noise_sd * np.array(
            [(theta[0] - PRIOR_A) / PRIOR_A_SD, (theta[1] - np.log(typical)) / PRIOR_LOG_E0_SD]
        )
        return np.concatenate([project(y_star - curve(theta[0], np.exp(theta[1]))), prior])

    def slopes(a: float, e0: float) -> np.ndarray:
        """d curve / d (a, log e0), rows × 2."""

        def one(e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            log_e = np.log1p(e / e0)
            denominator = 1.0 + a * log_e
            return log_e / denominator, -a * e / ((e0 + e) * denominator)

        a_now, e0_now = one(exposure_now)
        a_before, e0_before = one(exposure_before)
        return np.column_stack([a_now - phi * a_before, e0_now - phi * e0_before])

    prior_jacobian = noise_sd * np.diag([1.0 / PRIOR_A_SD, 1.0 / PRIOR_LOG_E0_SD])

    def jacobian_of_residual(theta: np.ndarray) -> np.ndarray:
        return np.vstack([-project(slopes(theta[0], np.exp(theta[1]))), prior_jacobian])

    # A coarse grid first (vectorised), then a local refinement from its best point.
    grid_a = np.linspace(0.0, 3.0, 16)
    grid_e0 = np.geomspace(typical / E0_RANGE, typical * E0_RANGE, 11)
    a_mesh, e0_mesh = (m.reshape(-1) for m in np.meshgrid(grid_a, grid_e0, indexing="ij"))

    def grid_multiplier(exposure: np.ndarray) -> np.ndarray:
        # _log_multiplier at every (a, e0) of the mesh, with log1p(e / e0) computed once per
        # e0 rather than once per point: the same numbers, a sixteenth of the logarithms.
        inner = np.log1p(exposure[:, None] / grid_e0[None, :])
        return np.log1p(a_mesh[None, :] * np.tile(inner, (1, len(grid_a))))

    curves = grid_multiplier(exposure_now)
    if phi:
        curves = curves - phi * grid_multiplier(exposure_before)
    sse = (project(y_star[:, None] - curves) ** 2).sum(axis=0)
    sse += noise_sd**2 * (
        ((a_mesh - PRIOR_A) / PRIOR_A_SD) ** 2
        + ((np.log(e0_mesh) - np.log(typical)) / PRIOR_LOG_E0_SD) ** 2
    )
    best = int(np.argmin(sse))
    start = np.clip(np.array([a_mesh[best], np.log(e0_mesh[best])]), low + 1e-9, high - 1e-9)
    fit = least_squares(residual, start, jac=jacobian_of_residual, bounds=(low, high), method="trf")
    a, e0 = float(fit.x[0]), float(np.exp(fit.x[1]))
    # Jacobian of the full model in (a, e0, β): d/de0 = (d/dlog e0) / e0.
    curve_slopes = slopes(a, e0) / np.array([1.0, e0])
    jacobian = np.column_stack([curve_slopes, design_star])
    data_residual = fit.fun[: len(y_star)]
    dof = len(y_star) - jacobian.shape[1]
    sigma2 = float(data_residual @ data_residual / dof) if dof > 0 else float("nan")
    # The prior's rows in the same units: its information adds to the data's.
    prior_rows = np.zeros((2, jacobian.shape[1]))
    prior_rows[0, 0] = noise_sd / PRIOR_A_SD
    prior_rows[1, 1] = noise_sd / (PRIOR_LOG_E0_SD * e0)  # d log(e0) / d e0 = 1 / e0
    augmented = np.vstack([jacobian, prior_rows])
    covariance = sigma2 * np.linalg.pinv(augmented.T @ augmented)
    se = np.sqrt(np.clip(np.diag(covariance)[:2], 0.0, None))
    return a, e0, float(se[0]), float(se[1]), data_residual


def _fit_one(
    log_y: np.ndarray, exposure: np.ndarray, design: np.ndarray, usable: np.ndarray
) -> tuple[float, float, float, float]:
    """(a, e0, se of a, se of e0) for one product's window of consecutive days.

    Flows come in waves lasting weeks, in which a campaign of a few days can hide; so the fit
    is on quasi-differences ``v(t) − φ·v(t−1)`` of consecutive usable days (Cochrane-Orcutt),
    with ``φ`` the lag-one autocorrelation of the residuals of the linear terms alone. The
    curve enters a quasi-difference through both days' exposure. With little autocorrelation
    (or too few consecutive days) the usable days are fitted as they are.
    """
    rows = np.flatnonzero(usable)
    typical = float(np.median(exposure[rows][exposure[rows] > 0]))
    basis = np.linalg.qr(design[rows])[0]
    pilot = np.full(len(log_y), np.nan)
    pilot[rows] = log_y[rows] - basis @ (basis.T @ log_y[rows])
    noise_sd = max(float(np.nanstd(pilot)), 1e-6)
    pairs = usable[1:] & usable[:-1]
    phi = 0.0
    if pairs.sum() >= MIN_DAYS:
        phi = float(np.corrcoef(pilot[1:][pairs], pilot[:-1][pairs])[0, 1])
        phi = min(max(phi, 0.0), MAX_AUTOCORRELATION)
    if phi < MIN_AUTOCORRELATION:
        zeros = np.zeros(len(rows))
        a, e0, a_se, e0_se, _ = _fit_transformed(
            log_y[rows], exposure[rows], zeros, 0.0, design[rows], typical, noise_sd
        )
        return a, e0, a_se, e0_se
    t = np.flatnonzero(pairs) + 1
    a, e0, a_se, e0_se, _ = _fit_transformed(
        log_y[t] - phi * log_y[t - 1],
        exposure[t],
        exposure[t - 1],
        phi,
        design[t] - phi * design[t - 1],
        typical,
        noise_sd * np.sqrt(1.0 - phi**2),
    )
    return a, e0, a_se, e0_se


def fit_exposure_response(panel: Panel, end: int | None = None) -> pd.DataFrame:
    """Estimate every product's exposure response curve from days up to ``end``.

    Args:
        panel: the panel (exposure and uncensored subscriptions are read).
        end: last day position used (default: the panel's last day).

    Returns:
        Frame indexed by ``product_id`` with ``a`` (dimensionless), ``e0`` (exposure unit),
        their standard errors ``a_se`` and ``e0_se``, ``n_days`` used, and ``status``
        (``ok``, ``no exposure data``, ``too little data``); NaN parameters unless ``ok``.
    """
    with single_threaded_blas():
        return _fit_all(panel, panel.n_days - 1 if end is None else int(end))


def _fit_all(panel: Panel, last: int) -> pd.DataFrame:
    calendar = calendar_matrix(panel.dates[0], panel.dates[last])
    # Every product with a full window has the same design, built once (read-only here: each
    # product keeps a copy of its own columns); a younger product's is its own.
    full_start = last - WINDOW_DAYS + 1
    full_design: np.ndarray | None = None
    rows = []
    for p, product in enumerate(panel.product_ids):
        start = max(int(panel.first_index[p]), full_start)
        y = panel.subscriptions[start : last + 1, p]
        exposure = panel.exposure[start : last + 1, p]
        with np.errstate(invalid="ignore"):
            usable = (
                (y > 0)
                & ~panel.censored[start : last + 1, p]
                & ~np.isnan(exposure)
                & (exposure >= 0)
            )
        row = {"product_id": product, "a": np.nan, "e0": np.nan, "a_se": np.nan, "e0_se": np.nan}
        if np.isnan(exposure).all() or not (exposure[~np.isnan(exposure)] > 0).any():
            rows.append({**row, "n_days": 0, "status": "no exposure data"})
            continue
        if usable.sum() < MIN_DAYS:
            rows.append({**row, "n_days": int(usable.sum()), "status": "too little data"})
            continue
        if start != full_start:
            design = _design(start, last, calendar)
        else:
            if full_design is None:
                full_design = _design(start, last, calendar)
            design = full_design
        design = design[:, design[usable].any(axis=0)]
        log_y = np.log(np.where(usable, y, 1.0))
        a, e0, a_se, e0_se = _fit_one(log_y, np.nan_to_num(exposure), design, usable)
        rows.append(
            {
                **row,
                "a": a,
                "e0": e0,
                "a_se": a_se,
                "e0_se": e0_se,
                "n_days": int(usable.sum()),
                "status": "ok",
            }
        )
    return pd.DataFrame(rows).set_index("product_id").loc[:, list(RESPONSE_COLUMNS)]
