"""A regression with calendar regressors and ARIMA errors, on log flows.

Each product and variable gets its own model on ``x = log(flow / scale + offset)`` over the last
year, as :class:`forecast.statistical.CalendarETS` (``scale`` the mean flow of that window, CNY;
``offset`` 0.1): ``x_t = w_t' β + z_t``, ``w_t`` the weekday dummies and the Chinese-calendar
regressors of the day (holiday on a weekday, make-up working day, the days before and after a
holiday stretch, month-end, quarter-end and quarter-start windows, paydays), ``z_t`` an
ARIMA(p, d, q) process, chosen per product and flow as Hyndman & Khandakar's ``auto.arima``
chooses:

1. ``β`` by the ridge regression of ``x`` on ``w`` beside a local level
   (:func:`forecast.statistical.deseasonalised_log_flow`, the regression of ``theta``): the
   effects of a few days a year need the ridge's shrinkage, and measured against the months
   around them they are not confounded with a level that moved; the level stays in ``z``;
2. ``d`` (0 or 1) by the KPSS test of ``z`` at 5 % (``auto.arima``'s ``ndiffs``, short lags
   ``⌊4 (n/100)^¼⌋``); at most one difference, as ``ets`` offers no undamped trend: on a log
   scale a second difference's drift compounds over a month;
3. ``p, q ≤ 2`` (:data:`DEFAULT_ORDERS`, with a mean when ``d`` = 0) by the lowest AICc of the
   conditional-sum-of-squares (CSS) fits, a model whose AR or MA polynomial has a root inside
   1.01 left out; this is ``auto.arima``'s search on a series longer than 150 days
   (``approximation = TRUE``), over the whole grid rather than stepwise;
4. the chosen model's Kalman filter with the CSS parameters (statsmodels ``SARIMAX.filter``)
   gives the state at every day of the window.

Why two steps and CSS rather than a joint maximum-likelihood fit (statsmodels ``SARIMAX(x,
exog=w)``, the textbook estimate): measured on the sample, a joint (1,1,1) fit took 2.3–7 s per
product and flow, and maximum likelihood of the error model alone 0.1–11 s per order, where
``evaluate-forecast`` fits every product-flow about 65 times (with its backtests); the whole
fit here, nine CSS orders and one filter, takes 31–37 ms per product and flow (docs/forecast.md,
"The ARIMA model"). The ridge's ordinary least squares ignore the errors' autocorrelation, which
costs efficiency, not consistency.

A forecast is ``x̂ = w' β + ẑ``, ``ẑ`` the ARIMA forecast from the Kalman filter's state. From an
origin inside the fitted days the filtered state of that day is used (``in_sample_at``); from a
later origin the filter runs on with the fitted parameters over the new days (a state update,
not a refit), vectorised over products, so a year of weekly origins is cheap; a day without
data is a prediction step. The forecast equals statsmodels' with the same parameters (at the
fit and, extended with the new days, at later origins; tested to 1e-9).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.signal import lfilter
from statsmodels.tsa.statespace.sarimax import SARIMAX
from statsmodels.tsa.stattools import kpss

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

__all__ = [
    "DEFAULT_ORDERS",
    "ArimaFit",
    "CalendarARIMA",
    "choose_order",
    "css_fit",
    "kpss_differences",
    "order_label",
]

# The (p, q) pairs chosen among by AICc, once d is set: every order up to 2, the grid
# auto.arima searches stepwise from (2, d, 2), (0, d, 0), (1, d, 0), (0, d, 1).
DEFAULT_ORDERS: tuple[tuple[int, int], ...] = tuple((p, q) for p in range(3) for q in range(3))

# At most one difference: a second one's drift compounds on the log scale (see the docstring).
MAX_DIFFERENCES = 1
# Level of the KPSS test deciding d (auto.arima's ndiffs).
KPSS_ALPHA_LABEL = "5%"
# A model whose AR or MA polynomial has a root this close to the unit circle is left out, as
# auto.arima leaves it out (near non-stationary or non-invertible: its forecasts or filter
# misbehave).
ROOT_MARGIN = 1.01
# Variance on the log scale below which a series is flat (a closed product: a constant
# log(0.1)); the CSS variance is floored there, so that the likelihood stays finite.
NOISE_FLOOR = 1e-12
# State dimension of the largest order: d + max(p, q + 1).
_MAX_STATES = MAX_DIFFERENCES + max(max(p, q + 1) for p, q in DEFAULT_ORDERS)


@dataclass(frozen=True)
class ArimaFit:
    """One ARIMA(p, d, q) fitted by CSS on the calendar regression's residual ``z``.

    Attributes:
        order: (p, d, q).
        mean: the mean of ``z`` when ``d`` = 0 (log scale), else 0.
        ar: AR coefficients φ (p,), ``z_t = φ1 z_{t-1} + … + e_t + θ1 e_{t-1} + …``.
        ma: MA coefficients θ (q,).
        sigma2: variance of the one-day innovations ``e`` (log scale, ≥ :data:`NOISE_FLOOR`).
        aicc: AICc of the conditional likelihood.
    """

    order: tuple[int, int, int]
    mean: float
    ar: np.ndarray
    ma: np.ndarray
    sigma2: float
    aicc: float


def order_label(order: tuple[int, int, int]) -> str:
    """``"p,d,q"``: how :attr:`CalendarARIMA.orders_` names an order."""
    return ",".join(str(value) for value in order)


def kpss_differences(z: np.ndarray) -> int:
    """Differences the KPSS test asks of ``z`` (0 or 1): 1 when level stationarity is rejected
    at 5 %, with ``⌊4 (n/100)^¼⌋`` lags; 0 for a flat series."""
    if np.var(z) < NOISE_FLOOR:
        return 0
    lags = int(4 * (len(z) / 100) ** 0.25)
    with warnings.catch_warnings():
        # the p-value is interpolated in a table and clipped (unused: the 5 % critical value is)
        warnings.simplefilter("ignore")
        statistic, _, _, critical = kpss(z, regression="c", nlags=lags)
    return min(int(statistic > critical[KPSS_ALPHA_LABEL]), MAX_DIFFERENCES)


def _css_residuals(w: np.ndarray, params: np.ndarray, p: int, q: int, ncond: int) -> np.ndarray:
    """Innovations of an ARMA(p, q) with mean ``params[0]`` over ``w[ncond:]``, the
    innovations before ``ncond`` set to 0 (conditional sum of squares)."""
    mean, ar, ma = params[0], params[1 : 1 + p], params[1 + p : 1 + p + q]
    v = w - mean
    u = v[ncond:].copy()
    for lag in range(1, p + 1):
        u -= ar[lag - 1] * v[ncond - lag : len(v) - lag]
    # e_t + θ1 e_{t-1} + … = u_t
    return np.asarray(lfilter([1.0], np.concatenate([[1.0], ma]), u))


def _roots_outside(coefficients: np.ndarray) -> bool:
    """All roots of ``1 + c1 B + c2 B² …`` lie outside :data:`ROOT_MARGIN`."""
    if not np.any(coefficients):
        return True
    roots = np.polynomial.polynomial.polyroots(np.concatenate([[1.0], coefficients]))
    return bool(np.all(np.abs(roots) > ROOT_MARGIN))


def css_fit(z: np.ndarray, order: tuple[int, int, int], ncond: int) -> ArimaFit | None:
    """ARIMA ``order`` fitted to ``z`` by conditional sum of squares (BFGS from zero
    coefficients and the mean of ``z``).

    Args:
        z: the series (log scale).
        order: (p, d, q), d 0 (with a mean) or 1 (without).
        ncond: differenced days conditioned on (≥ p): the same for every order compared, so
            their sums of squares cover the same days.

    Returns:
        The fit, or ``None`` where a root of the AR or MA polynomial lies inside
        :data:`ROOT_MARGIN`.
    """
    p, d, q = order
    w = np.diff(z, n=d) if d else z
    with_mean = d == 0
    n = len(w) - ncond

    def full(free: np.ndarray) -> np.ndarray:
        return free if with_mean else np.concatenate([[0.0], free])

    def objective(free: np.ndarray) -> float:
        # a step into a non-invertible MA makes the innovations explode: a bad value, no more
        with np.errstate(over="ignore", invalid="ignore"):
            e = _css_residuals(w, full(free), p, q, ncond)
            mse = float(e @ e) / n
        return float(np.log(max(mse, NOISE_FLOOR))) if np.isfinite(mse) else 1e10

    start = np.concatenate([[float(w.mean())] if with_mean else [], np.zeros(p + q)])
    free = minimize(objective, start, method="BFGS").x if start.size else start
    params = full(np.asarray(free, dtype=float))
    ar, ma = params[1 : 1 + p], params[1 + p :]
    if not (_roots_outside(-ar) and _roots_outside(ma)):
        return None
    e = _css_residuals(w, params, p, q, ncond)
    sigma2 = max(float(e @ e) / n, NOISE_FLOOR)
    k = p + q + int(with_mean) + 1  # with the innovations' variance
    aicc = n * (np.log(2 * np.pi * sigma2) + 1) + 2 * k + 2 * k * (k + 1) / (n - k - 1)
    return ArimaFit(order, float(params[0]), ar.copy(), ma.copy(), sigma2, float(aicc))


def choose_order(
    z: np.ndarray, orders: Sequence[tuple[int, int]] = DEFAULT_ORDERS, kept: str = ""
) -> ArimaFit | None:
    """The ARIMA model of ``z``: ``d`` by :func:`kpss_differences`, then the (p, q) of
    ``orders`` with the lowest CSS AICc (ties: the earlier). ``kept``, an order already chosen
    (``"p,d,q"``), is fitted alone, unless a root of its fit now lies inside
    :data:`ROOT_MARGIN` (then chosen again).

    Returns:
        The fit, ``None`` when no order could be fitted.
    """
    ncond = max(p for p, _ in orders)
    if kept:
        p, d, q = (int(value) for value in kept.split(","))
        fit = css_fit(z, (p, d, q), max(ncond, p))
        if fit is not None:
            return fit
    d = kpss_differences(z)
    best: ArimaFit | None = None
    for p, q in orders:
        fit = css_fit(z, (p, d, q), ncond)
        if fit is not None and np.isfinite(fit.aicc) and (best is None or fit.aicc < best.aicc):
            best = fit
    return best


def _state_space(z: np.ndarray, fit: ArimaFit) -> dict[str, np.ndarray]:
    """statsmodels' state space of ``fit`` (``SARIMAX`` on ``z`` less the mean) filtered with
    its parameters: the predicted state of every day (days + 1, m), the last one's covariance,
    the system matrices, the state padded with zeros to :data:`_MAX_STATES`, and whether the
    filter reached its steady state (``steady``: its covariance no longer changes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SARIMAX(z - fit.mean, order=fit.order, trend="n")
        result = model.filter(np.concatenate([fit.ar, fit.ma, [fit.sigma2]]))
    m = model.k_states
    pad = _MAX_STATES
    selection = model.ssm["selection"]
    noise = selection @ model.ssm["state_cov"] @ selection.T
    out = {
        "states": np.zeros((len(z) + 1, pad)),
        "cov": np.zeros((pad, pad)),
        "transition": np.zeros((pad, pad)),
        "design": np.zeros(pad),
        "noise": np.zeros((pad, pad)),
        # statsmodels keeps the covariance fixed once it converged (steady state)
        "steady": np.array(bool(result.filter_results.converged)),
    }
    out["states"][:, :m] = result.predicted_state.T
    out["cov"][:m, :m] = result.predicted_state_cov[:, :, -1]
    out["transition"][:m, :m] = model.ssm["transition"]
    out["design"][:m] = model.ssm["design"][0]
    out["noise"][:m, :m] = noise
    return out


class CalendarARIMA(ForecastModel):
    """A regression on weekday and calendar dummies with ARIMA errors, on log flows.

    Args:
        window_days: days of history each product's model is fitted on (the most recent).
        ridge: penalty of the calendar regression (on the 0/1 calendar dummies; the weekday
            means are not penalised).
        offset: the model works on ``log(flow / scale + offset)``, ``scale`` the product's mean
            flow (CNY) over the window.
        orders: the (p, q) pairs chosen among by AICc (default :data:`DEFAULT_ORDERS`).
        chosen: per variable, product_id → an order already chosen (``"p,d,q"``, e.g. by the
            last full fit, :meth:`chosen_forms`): such a product is fitted in that order alone.
            ``None``: every product chooses.

    Attributes (after fitting):
        orders_: per variable, each product's order ``"p,d,q"`` ("" where the product has too
            little history to be fitted).
        params_: per variable, per product: ``scale`` (CNY), ``coef`` (the weekday and calendar
            effects, log scale), ``mean``, ``ar`` and ``ma`` (NaN past the order), ``sigma2``,
            and the Kalman filter's predicted ``states`` over the window, the last one's
            ``cov`` and the system matrices (``transition``, ``design``, ``noise``).
    """

    name = "arima"
    min_history_days = 56

    def __init__(
        self,
        window_days: int = WINDOW_DAYS,
        ridge: float = CALENDAR_RIDGE,
        offset: float = LOG_OFFSET,
        orders: tuple[tuple[int, int], ...] = DEFAULT_ORDERS,
        chosen: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.window_days = window_days
        self.ridge = ridge
        self.offset = offset
        self.orders = orders
        self.chosen = chosen

    def _fit(self, history: Panel, end: int) -> None:
        if not self.orders or any(not (0 <= p <= 2 and 0 <= q <= 2) for p, q in self.orders):
            raise ValueError(f"arima: orders must be (p, q) pairs up to 2, got {self.orders}")
        design = weekday_calendar_design(history.dates[0], history.dates[end])
        n, k = history.n_products, design.shape[1]
        fit_window(self, history, end, self.window_days)
        self.end_ = end
        days = end - int(self.start_.min()) + 1
        self.params_: dict[str, dict[str, np.ndarray]] = {}
        self.orders_: dict[str, np.ndarray] = {}
        for variable in MODELLED_VARIABLES:
            series = history.series(variable)
            params = {
                "scale": np.full(n, np.nan),
                "coef": np.full((n, k), np.nan),
                "mean": np.full(n, np.nan),
                "ar": np.full((n, 2), np.nan),
                "ma": np.full((n, 2), np.nan),
                "sigma2": np.full(n, np.nan),
                "states": np.zeros((n, max(days, 0) + 1, _MAX_STATES)),
                "cov": np.zeros((n, _MAX_STATES, _MAX_STATES)),
                "transition": np.zeros((n, _MAX_STATES, _MAX_STATES)),
                "design": np.zeros((n, _MAX_STATES)),
                "noise": np.zeros((n, _MAX_STATES, _MAX_STATES)),
                "steady": np.zeros(n, dtype=bool),
            }
            orders = np.full(n, "", dtype=object)
            for p in range(n):
                start = int(self.start_[p])
                if end - start + 1 < self.min_history_days:
                    continue
                scale, coef, z = deseasonalised_log_flow(
                    series[start : end + 1, p], design[start : end + 1], self.offset, self.ridge
                )
                kept = (self.chosen or {}).get(variable, {}).get(history.product_ids[p], "")
                fit = choose_order(z, self.orders, kept)
                if fit is None:
                    continue
                space = _state_space(z, fit)
                orders[p] = order_label(fit.order)
                params["scale"][p] = scale
                params["coef"][p] = coef
                params["mean"][p] = fit.mean
                params["ar"][p, : len(fit.ar)] = fit.ar
                params["ma"][p, : len(fit.ma)] = fit.ma
                params["sigma2"][p] = fit.sigma2
                params["states"][p, : len(z) + 1] = space["states"]
                for name in ("cov", "transition", "design", "noise", "steady"):
                    params[name][p] = space[name]
            self.params_[variable] = params
            self.orders_[variable] = orders

    def chosen_forms(self) -> dict[str, dict[str, str]]:
        """Per variable, product_id → the order ``"p,d,q"`` this fit chose (products fitted
        only), for a later refit to keep (``chosen``), as :meth:`CalendarETS.chosen_forms`."""
        self._check_fitted()
        return {
            variable: {pid: str(orders[i]) for pid, i in self.product_index_.items() if orders[i]}
            for variable, orders in self.orders_.items()
        }

    def _predict_at(
        self, history: Panel, origins: np.ndarray, horizon: int
    ) -> dict[str, np.ndarray]:
        n_origins, n = len(origins), history.n_products
        shift, fitted, has, start, last_target = fitted_rows(self, history, origins, horizon)
        # Weekday dummies follow the fitted panel's day positions.
        design = weekday_calendar_design(history.dates[0] + pd.Timedelta(days=shift), last_target)
        offset_rows = -shift  # row of design for panel day d is d + offset_rows
        end = self.end_ + shift  # the last fitted day in history's positions
        columns = np.arange(n)
        out = {}
        for variable in MODELLED_VARIABLES:
            params, ok = product_params(self.params_[variable], fitted, has, key="mean")
            series = history.series(variable)
            coef = np.where(ok[:, None], params["coef"], 0.0)
            scale = np.where(ok, params["scale"], 1.0)
            mean = np.where(ok, params["mean"], 0.0)
            transition, design_row = params["transition"], params["design"]
            noise, steady = params["noise"], params["steady"]
            # the filter's state after the last fitted day, run on over later days
            state = params["states"][columns, np.where(ok, end - start + 1, 0)]
            cov = params["cov"].copy()
            day = end + 1
            result = np.full((n_origins, n, horizon), np.nan)
            for index in np.argsort(origins):
                origin = int(origins[index])
                if origin < end:
                    # inside the fitted days (in-sample): the filtered state of that day
                    position = np.clip(origin - start + 1, 0, end - start + 1)
                    at = params["states"][columns, np.where(ok, position, 0)]
                else:
                    while day <= origin:
                        y = np.maximum(series[day], 0.0)
                        z = np.log(y / scale + self.offset) - design[day + offset_rows] @ coef.T
                        state, cov = _kalman_step(
                            state, cov, z - mean, ok, steady, transition, design_row, noise
                        )
                        day += 1
                    at = state
                z_hat = np.empty((n, horizon))
                ahead = at
                for h in range(horizon):
                    z_hat[:, h] = np.einsum("nm,nm->n", design_row, ahead) + mean
                    ahead = np.einsum("nij,nj->ni", transition, ahead)
                targets = origin + np.arange(1, horizon + 1) + offset_rows
                effects = (design[targets] @ coef.T).T
                values = scale[:, None] * (np.exp(z_hat + effects) - self.offset)
                values[~ok] = np.nan
                result[index] = values
            out[variable] = result
        return out


def _kalman_step(
    state: np.ndarray,
    cov: np.ndarray,
    observed: np.ndarray,
    active: np.ndarray,
    steady: np.ndarray,
    transition: np.ndarray,
    design: np.ndarray,
    noise: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One day of the Kalman filter for every product at once: from the predicted state
    ``a_t`` (n, m) and its covariance ``P_t`` (n, m, m), the predicted ``a_{t+1}``,
    ``P_{t+1}`` after observing ``observed`` (n,; the series less its mean). Where the
    observation is NaN or the product not ``active`` it is a prediction step alone. Where the
    filter is ``steady`` the covariance stays as it is, as statsmodels keeps it once converged
    (recomputed, it would move by rounding, about 1e-10)."""
    predicted = np.einsum("nij,nj->ni", transition, state)
    spread = np.einsum("nij,nkj->nik", np.einsum("nij,njk->nik", transition, cov), transition)
    spread = spread + noise
    seen = active & np.isfinite(observed)
    cov_design = np.einsum("nij,nj->ni", cov, design)
    variance = np.einsum("ni,ni->n", design, cov_design)
    seen &= variance > 0
    safe = np.where(seen, variance, 1.0)
    gain = np.einsum("nij,nj->ni", transition, cov_design) / safe[:, None]
    surprise = np.where(seen, observed - np.einsum("ni,ni->n", design, state), 0.0)
    updated = predicted + gain * surprise[:, None]
    updated_cov = spread - safe[:, None, None] * gain[:, :, None] * gain[:, None, :]
    state = np.where(seen[:, None], updated, np.where(active[:, None], predicted, state))
    moved = np.where(seen[:, None, None], updated_cov, spread)
    cov = np.where((active & ~steady)[:, None, None], moved, cov)
    return state, cov
