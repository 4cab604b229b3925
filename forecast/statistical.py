"""A per-product statistical baseline: Holt-Winters (ETS) with calendar regressors.

Each product and variable gets its own model on ``x = log(flow / scale + offset)`` over the last
year (``scale`` the mean flow of that year, fixed at fit time; ``offset`` 0.1 keeps a day without
flows finite). The scale is nearly multiplicative: a calendar effect is a ratio whatever the
level. (``log1p``, i.e. ``offset`` 1, was used before: after the level of a product fell to
half its yearly mean, the effects learned at the old level came out almost twice as large in
CNY, e.g. a quarter-end lift of 1.5 became 1.9.)

1. a ridge regression of ``x`` on weekday dummies and Chinese-calendar regressors (holiday on
   a weekday, make-up working day, the three business days before a holiday stretch, the two
   after it, month-end, quarter-end and quarter-start windows, paydays) estimates the calendar
   effects that a weekly seasonal cannot represent, beside a piecewise-linear local level
   (:func:`level_basis`, knots every four weeks) so that an effect is a ratio to the weeks
   around it, not to the year's mean level (which a level that fell for months confounds);
2. statsmodels' additive Holt-Winters (``ExponentialSmoothing``) is fitted to ``x`` minus
   those calendar effects, in each of the model's forms (by default :data:`DEFAULT_FORMS`:
   trend none or additive damped, weekly season; a season of none is among :data:`ETS_FORMS`),
   and the form with the lowest AICc is kept per product and variable
   (:attr:`CalendarETS.forms_`). The error is additive on ``x``, i.e. nearly
   multiplicative on the flow in CNY: a day's surprise is a ratio of the expected flow.

A forecast is level + damped trend + season + the calendar effects of the target day. Predicting
from a later origin re-runs the chosen form's recursion (level, trend with its damping ``phi``,
season) with the fitted smoothing parameters over the new days (a state update, not a refit),
vectorised over products so a year of weekly origins is cheap.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from forecast.base import ForecastModel
from forecast.features import CALENDAR_COLUMNS, calendar_matrix
from forecast.panel import MODELLED_VARIABLES, Panel

__all__ = [
    "CALENDAR_RIDGE",
    "DAMPING_BOUNDS",
    "DEFAULT_FORMS",
    "ETS_FORMS",
    "LEVEL_KNOT_DAYS",
    "LOG_OFFSET",
    "WINDOW_DAYS",
    "CalendarETS",
    "calendar_regressors",
    "deseasonalised_log_flow",
    "fit_window",
    "fitted_rows",
    "holt_winters_options",
    "level_basis",
    "product_params",
    "weekday_calendar_design",
    "weekday_calendar_effects",
]

SEASON_DAYS = 7
# The defaults every per-product model on log flows shares (``ets``, ``theta``, ``arima``): a
# year of history, the ridge of the calendar regression, and the offset of
# ``log(flow / scale + offset)`` that keeps a day without flows finite.
WINDOW_DAYS = 364
CALENDAR_RIDGE = 1.0
LOG_OFFSET = 0.1

# The Holt-Winters forms CalendarETS chooses among by AICc, in ETS notation (error, trend,
# season; error always additive on the log scale): "N" none, "Ad" additive damped, "A" additive
# weekly. A linear (undamped) trend is left out: on a log scale it compounds without bound over
# a 28-day horizon, and a flow's level does not grow at a constant rate for long.
ETS_FORMS: tuple[str, ...] = ("A,N,A", "A,Ad,A", "A,N,N", "A,Ad,N")

# The forms chosen among by default: the weekly season always on. Offered, a season of none
# never won by AICc on the sample (four fit dates) nor on the single series (four seeds × four
# origins): the weekday pattern of flows is structural, and the two extra fits per product and
# variable add about 70 % to the fit time (docs/forecast.md, "The Holt-Winters form").
DEFAULT_FORMS: tuple[str, ...] = ("A,N,A", "A,Ad,A")

# Bounds of the damping parameter phi, those of Hyndman's ``forecast::ets`` (statsmodels allows
# up to 0.995, where a damped trend is almost a linear one over a month).
DAMPING_BOUNDS = (0.8, 0.98)

_COLUMN = {name: i for i, name in enumerate(CALENDAR_COLUMNS)}


def holt_winters_options(form: str) -> dict[str, Any]:
    """statsmodels ``ExponentialSmoothing``'s trend and season arguments for a form of
    :data:`ETS_FORMS` (``"A,Ad,A"``: additive error, additive damped trend, additive weekly
    season)."""
    _, trend, season = form.split(",")
    damped, seasonal = trend == "Ad", season == "A"
    return {
        "trend": "add" if damped else None,
        "damped_trend": damped,
        "seasonal": "add" if seasonal else None,
        "seasonal_periods": SEASON_DAYS if seasonal else None,
    }


# Knot spacing of the local level the calendar effects are estimated beside, days: a level that
# moves within a month is left to the exponential smoothing; over months it is taken out of the
# calendar regression (see level_basis).
LEVEL_KNOT_DAYS = 91


def level_basis(n_days: int, knot_days: int = LEVEL_KNOT_DAYS) -> np.ndarray:
    """A piecewise-linear local level for the calendar regression: hat functions with knots
    every ``knot_days`` (evenly spread over the window), without the first one (the weekday
    dummies already span a constant, and the hats sum to one).

    Why: regressed on calendar dummies and weekday means alone, a calendar effect is measured
    against the *window's mean* level. When the level fell over the year, the events of the
    high months (Spring Festival, the June quarter end) look larger than they are and those of
    the low months smaller; at the new level the forecast then carried the old level's share
    (the shifted single series: medians of the next four weeks +6 % on both flows, measured
    against the true median). With the local level beside them, each effect is measured
    against the weeks around it.

    Args:
        n_days: days of the window.
        knot_days: spacing of the knots, days.

    Returns:
        Array (n_days, k), ``k ≥ 1``: values in [0, 1], unpenalised columns of the regression.
    """
    n_knots = max(2, round((n_days - 1) / knot_days) + 1)
    knots = np.linspace(0.0, n_days - 1.0, n_knots)
    t = np.arange(n_days, dtype=float)[:, None]
    hats = np.clip(1.0 - np.abs(t - knots[None, :]) / (knots[1] - knots[0]), 0.0, None)
    return hats[:, 1:]


def calendar_regressors(calendar: np.ndarray) -> np.ndarray:
    """Calendar dummies (days × 12) from a :func:`forecast.features.calendar_matrix`."""
    workday = calendar[:, _COLUMN["is_workday"]] > 0
    weekday = calendar[:, _COLUMN["day_of_week"]] < 5
    to_holiday = calendar[:, _COLUMN["business_days_to_holiday"]]
    after_holiday = calendar[:, _COLUMN["business_days_after_holiday"]]
    columns = [
        weekday & ~workday,
        calendar[:, _COLUMN["is_makeup_workday"]] > 0,
        workday & (to_holiday == 1),
        workday & (to_holiday == 2),
        workday & (to_holiday == 3),
        workday & (after_holiday == 1),
        workday & (after_holiday == 2),
        calendar[:, _COLUMN["in_holiday"]] > 0,
        calendar[:, _COLUMN["is_month_end_window"]] > 0,
        calendar[:, _COLUMN["is_quarter_end_window"]] > 0,
        calendar[:, _COLUMN["is_quarter_start_window"]] > 0,
        calendar[:, _COLUMN["is_payday"]] > 0,
    ]
    return np.column_stack(columns).astype(float)


def fitted_rows(
    model: ForecastModel, history: Panel, origins: np.ndarray, horizon: int
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, pd.Timestamp]:
    """Where a per-product model fitted on one panel (``first_date_``, ``product_index_``,
    ``start_``) stands in ``history``: the day shift between the panels, each product's row
    in the fit (-1: not fitted), which are fitted, the first day of each fitted product in
    ``history``'s day positions (max int elsewhere) and the last day any forecast reaches."""
    shift = int((model.first_date_ - history.dates[0]).days)
    fitted = np.array([model.product_index_.get(pid, -1) for pid in history.product_ids])
    has = fitted >= 0
    start = np.where(has, model.start_[np.maximum(fitted, 0)] + shift, np.iinfo(int).max)
    last_target = history.dates[0] + pd.Timedelta(days=int(origins.max()) + horizon)
    return shift, fitted, has, start, last_target


def fit_window(model: ForecastModel, history: Panel, end: int, window_days: int) -> None:
    """Record on a per-product model the panel and window it is fitted on, as
    :func:`fitted_rows` reads them: ``first_date_`` (the panel's first day), ``product_index_``
    (product id → row) and ``start_`` (each product's first fitted day: its first day, or
    ``window_days`` before ``end``)."""
    model.first_date_ = pd.Timestamp(history.dates[0])
    model.product_index_ = {pid: i for i, pid in enumerate(history.product_ids)}
    model.start_ = np.maximum(history.first_index, end - window_days + 1)


def product_params(
    params: dict[str, np.ndarray], fitted: np.ndarray, has: np.ndarray, key: str = "alpha"
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One variable's fitted parameters in ``history``'s product order (see
    :func:`fitted_rows`), and which products have a usable fit (fitted, ``params[key]`` not
    NaN: a parameter every fitted product has)."""
    rows = {name: value[np.maximum(fitted, 0)] for name, value in params.items()}
    return rows, has & ~np.isnan(rows[key])


def weekday_calendar_design(first_day: pd.Timestamp, last_day: pd.Timestamp) -> np.ndarray:
    """Weekday dummies and calendar regressors from ``first_day`` to ``last_day``, days × 19:
    seven 0/1 weekday columns by the day's position from ``first_day`` (column ``i`` is the
    weekday of ``first_day + i`` days), then :func:`calendar_regressors`. The weekly season of
    the models that keep it fixed (``theta``, ``arima``): a model predicting from another
    panel passes its fitted panel's first day, so the columns keep their weekdays."""
    regressors = calendar_regressors(calendar_matrix(first_day, last_day))
    weekday = np.arange(len(regressors)) % SEASON_DAYS
    dummies = (weekday[:, None] == np.arange(SEASON_DAYS)[None, :]).astype(float)
    return np.hstack([dummies, regressors])


def deseasonalised_log_flow(
    values: np.ndarray, rows: np.ndarray, offset: float, ridge: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """One product's flow over its window on the log scale, less its weekday and calendar
    effects: what ``theta`` and ``arima`` fit their model to.

    Args:
        values: the flow over the window (days,), CNY; NaN and negatives count as 0.
        rows: the window's rows of :func:`weekday_calendar_design` (days × k).
        offset: the log scale is ``log(flow / scale + offset)``.
        ridge: penalty of :func:`weekday_calendar_effects`.

    Returns:
        ``(scale, coef, z)``: the window's mean flow (CNY, 1 when it is 0), the weekday and
        calendar effects (k,), and ``z = x − rows @ coef`` (days,), the local level kept in it.
    """
    y = np.maximum(np.nan_to_num(values, nan=0.0), 0.0)
    scale = float(y.mean()) if y.mean() > 0 else 1.0
    x = np.log(y / scale + offset)
    coef = weekday_calendar_effects(x, rows, ridge)
    return scale, coef, x - rows @ coef


def weekday_calendar_effects(x: np.ndarray, rows: np.ndarray, ridge: float) -> np.ndarray:
    """Coefficients of a ridge regression of ``x`` on ``rows`` (a slice of
    :func:`weekday_calendar_design`) beside a local level (:func:`level_basis`), which is not
    returned: what the weekday and calendar effects leave, ``x − rows @ coef``, keeps the
    level for the model fitted to it.

    Args:
        x: the log-scale series (days,).
        rows: its design rows (days × k), the first :data:`SEASON_DAYS` the weekday dummies.
        ridge: penalty on the calendar columns (the weekday means and the level are not
            penalised).

    Returns:
        ``coef`` (k,).
    """
    k = rows.shape[1]
    full = np.hstack([rows, level_basis(len(x))])
    penalty = np.concatenate(
        [np.zeros(SEASON_DAYS), np.full(k - SEASON_DAYS, ridge), np.zeros(full.shape[1] - k)]
    )
    gram = full.T @ full + np.diag(penalty)
    return np.linalg.lstsq(gram, full.T @ x, rcond=None)[0][:k]


class CalendarETS(ForecastModel):
    """Holt-Winters chosen by AICc on log flows, after a calendar regression.

    Args:
        window_days: days of history each product's model is fitted on (the most recent).
        ridge: penalty of the calendar regression (on 0/1 dummies; the weekday means are not
            penalised).
        offset: the model works on ``log(flow / scale + offset)``, ``scale`` the product's mean
            flow over the window; small enough to be close to a log (effects are ratios), large
            enough that a day without flows is not an extreme outlier.
        forms: the Holt-Winters forms chosen among by AICc (a subset of :data:`ETS_FORMS`,
            default :data:`DEFAULT_FORMS`; ``("A,N,A",)`` is the fixed level + weekly season
            model of before).
        chosen: per variable, product_id → a form already chosen (e.g. by the last full fit's
            AICc, :meth:`chosen_forms`): such a product is fitted in that form alone, not
            chosen again; others choose among ``forms``. ``None``: every product chooses.

    Attributes (after fitting):
        forms_: per variable, each product's chosen form (an :data:`ETS_FORMS` label; "" where
            the product has too little history to be fitted).
    """

    name = "ets"
    min_history_days = 56

    def __init__(
        self,
        window_days: int = WINDOW_DAYS,
        ridge: float = CALENDAR_RIDGE,
        offset: float = LOG_OFFSET,
        forms: tuple[str, ...] = DEFAULT_FORMS,
        chosen: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.window_days = window_days
        self.ridge = ridge
        self.offset = offset
        self.forms = forms
        self.chosen = chosen

    def _regressors(self, first_day: pd.Timestamp, last_day: pd.Timestamp) -> np.ndarray:
        return calendar_regressors(calendar_matrix(first_day, last_day))

    def _fit(self, history: Panel, end: int) -> None:
        unknown = sorted(set(self.forms) - set(ETS_FORMS))
        if not self.forms or unknown:
            raise ValueError(f"ets: forms must be among {ETS_FORMS}, got {self.forms}")
        regressors = self._regressors(history.dates[0], history.dates[end])
        n = history.n_products
        k = regressors.shape[1]
        fit_window(self, history, end, self.window_days)
        self.params_: dict[str, dict[str, np.ndarray]] = {}
        self.forms_: dict[str, np.ndarray] = {}
        self.recursion_ = {}
        for variable in MODELLED_VARIABLES:
            series = history.series(variable)
            params = {
                "scale": np.full(n, np.nan),
                "alpha": np.full(n, np.nan),
                "trend_smoothing": np.full(n, np.nan),
                "phi": np.full(n, np.nan),
                "gamma": np.full(n, np.nan),
                "level": np.full(n, np.nan),
                "trend": np.full(n, np.nan),
                "season": np.full((n, SEASON_DAYS), np.nan),
                "beta": np.full((n, k), np.nan),
            }
            forms = np.full(n, "", dtype=object)
            for p in range(n):
                start = int(self.start_[p])
                if end - start + 1 < self.min_history_days:
                    continue
                y = np.maximum(series[start : end + 1, p], 0.0)
                scale = float(y.mean()) if y.mean() > 0 else 1.0
                x = np.log(y / scale + self.offset)
                beta = self._calendar_effects(x, regressors[start : end + 1], start)
                z = x - regressors[start : end + 1] @ beta
                kept = (self.chosen or {}).get(variable, {}).get(history.product_ids[p], "")
                forms[p], fitted = self._holt_winters(z, (kept,) if kept else self.forms)
                params["scale"][p] = scale
                params["beta"][p] = beta
                for name, value in fitted.items():
                    params[name][p] = value
            self.params_[variable] = params
            self.forms_[variable] = forms

    def chosen_forms(self) -> dict[str, dict[str, str]]:
        """Per variable, product_id → the form this fit chose (products fitted only), for a
        later refit to keep (``chosen``)."""
        self._check_fitted()
        return {
            variable: {pid: str(forms[i]) for pid, i in self.product_index_.items() if forms[i]}
            for variable, forms in self.forms_.items()
        }

    def _calendar_effects(self, x: np.ndarray, regressors: np.ndarray, start: int) -> np.ndarray:
        weekday = (np.arange(len(x)) + start) % SEASON_DAYS
        dummies = (weekday[:, None] == np.arange(SEASON_DAYS)[None, :]).astype(float)
        trend = level_basis(len(x))
        design = np.hstack([dummies, trend, regressors])
        free = SEASON_DAYS + trend.shape[1]
        penalty = np.diag([0.0] * free + [self.ridge] * regressors.shape[1])
        gram = design.T @ design + penalty
        coef = np.linalg.lstsq(gram, design.T @ x, rcond=None)[0]
        return coef[free:]

    @staticmethod
    def _holt_winters(
        z: np.ndarray, forms: tuple[str, ...] = DEFAULT_FORMS
    ) -> tuple[str, dict[str, np.ndarray | float]]:
        """The form of ``forms`` with the lowest AICc on ``z`` (ties: the earlier one) and its
        parameters in the recursion's terms: a form without trend has ``phi`` = trend = 0
        (and smoothing 0), one without season ``gamma`` = 0 and a season of zeros, so one
        recursion runs every form."""
        best: tuple[float, str, dict[str, np.ndarray | float]] | None = None
        for form in forms:
            options = holt_winters_options(form)
            damped = options["damped_trend"]
            seasonal = options["seasonal"] is not None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                # Heuristic initial states and no brute-force start: half the time of the
                # default, the same backtest accuracy on the sample data.
                model = ExponentialSmoothing(
                    z,
                    **options,
                    initialization_method="heuristic",
                    bounds={"damping_trend": DAMPING_BOUNDS} if damped else None,
                )
                result = model.fit(use_brute=False)
            aicc = float(result.aicc)
            if not np.isfinite(aicc) or (best is not None and aicc >= best[0]):
                continue
            params = result.params
            best = (
                aicc,
                form,
                {
                    "alpha": float(params["smoothing_level"]),
                    "trend_smoothing": float(params["smoothing_trend"]) if damped else 0.0,
                    "phi": float(params["damping_trend"]) if damped else 0.0,
                    "gamma": float(params["smoothing_seasonal"]) if seasonal else 0.0,
                    "level": float(params["initial_level"]),
                    "trend": float(params["initial_trend"]) if damped else 0.0,
                    "season": (
                        np.asarray(params["initial_seasons"], dtype=float)
                        if seasonal
                        else np.zeros(SEASON_DAYS)
                    ),
                },
            )
        if best is None:
            raise ValueError("ets: no Holt-Winters form could be fitted (AICc not finite)")
        return best[1], best[2]

    def _predict_at(
        self, history: Panel, origins: np.ndarray, horizon: int
    ) -> dict[str, np.ndarray]:
        n_origins, n = len(origins), history.n_products
        shift, fitted, has, start, last_target = fitted_rows(self, history, origins, horizon)
        regressors = self._regressors(history.dates[0], last_target)
        out = {}
        for variable in MODELLED_VARIABLES:
            params, ok = product_params(self.params_[variable], fitted, has)
            series = history.series(variable)
            beta = np.where(ok[:, None], params["beta"], 0.0)
            scale = np.where(ok, params["scale"], 1.0)
            alpha = np.where(ok, params["alpha"], 0.0)
            smoothing = np.where(ok, params["trend_smoothing"], 0.0)
            phi = np.where(ok, params["phi"], 0.0)
            gamma = np.where(ok, params["gamma"], 0.0)
            level = np.where(ok, params["level"], 0.0)
            trend = np.where(ok, params["trend"], 0.0)
            season = np.where(ok[:, None], params["season"], 0.0).copy()
            # Σ_{i=1..h} phi^i: the damped trend's share of the forecast h days ahead.
            damping = np.cumsum(phi[:, None] ** np.arange(1, horizon + 1)[None, :], axis=1)
            result = np.full((n_origins, n, horizon), np.nan)
            order = np.argsort(origins)
            first = int(start[ok].min()) if ok.any() else 0
            day = first
            columns = np.arange(n)
            key = (pd.Timestamp(history.dates[0]), tuple(history.product_ids), first)
            resumed = self._resume(variable, key, start, series, regressors, int(origins.min()))
            if resumed is not None:
                day, level, trend, season = resumed
            for index in order:
                origin = int(origins[index])
                # Run the recursion through the origin day (state after observing it).
                while day <= origin:
                    active = ok & (day >= start)
                    if active.any():
                        slot = (day - start) % SEASON_DAYS
                        y = np.maximum(series[day], 0.0)
                        z = np.log(y / scale + self.offset) - regressors[day] @ beta.T
                        s_now = season[columns, np.where(active, slot, 0)]
                        expected = level + phi * trend
                        z = np.where(np.isnan(z), expected + s_now, z)
                        new_level = alpha * (z - s_now) + (1 - alpha) * expected
                        new_trend = smoothing * (new_level - level) + (1 - smoothing) * phi * trend
                        new_season = gamma * (z - expected) + (1 - gamma) * s_now
                        level = np.where(active, new_level, level)
                        trend = np.where(active, new_trend, trend)
                        season[columns[active], slot[active]] = new_season[active]
                    day += 1
                targets = origin + np.arange(1, horizon + 1)
                slots = (targets[None, :] - start[:, None]) % SEASON_DAYS
                seasonal = np.take_along_axis(season, np.where(ok[:, None], slots, 0), axis=1)
                effects = (regressors[targets] @ beta.T).T
                x_hat = level[:, None] + damping * trend[:, None] + seasonal + effects
                values = scale[:, None] * (np.exp(x_hat) - self.offset)
                values[~ok] = np.nan
                result[index] = values
            self._keep(variable, key, start, series, regressors, day, level, trend, season)
            out[variable] = result
        return out

    # The recursion's state after the last origin forecast from, per variable: a forecast from
    # a later origin of a panel that agrees on every day read so far goes on from there instead
    # of re-running the year (the same operations on the same numbers, so the same result).

    def _keep(
        self,
        variable: str,
        key: tuple,
        start: np.ndarray,
        series: np.ndarray,
        regressors: np.ndarray,
        day: int,
        level: np.ndarray,
        trend: np.ndarray,
        season: np.ndarray,
    ) -> None:
        first = key[2]
        if not hasattr(self, "recursion_"):
            self.recursion_: dict[str, tuple] = {}
        self.recursion_[variable] = (
            key,
            start.copy(),
            series[first:day].copy(),
            regressors[first:day].copy(),
            day,
            level.copy(),
            trend.copy(),
            season.copy(),
        )

    def _resume(
        self,
        variable: str,
        key: tuple,
        start: np.ndarray,
        series: np.ndarray,
        regressors: np.ndarray,
        earliest: int,
    ) -> tuple[int, np.ndarray, np.ndarray, np.ndarray] | None:
        kept = getattr(self, "recursion_", {}).get(variable)
        if kept is None:
            return None
        kept_key, kept_start, kept_series, kept_regressors, day, level, trend, season = kept
        first = key[2]
        if (
            kept_key != key
            or day > earliest + 1
            or day > len(series)
            or not np.array_equal(kept_start, start)
            # bit for bit (NaN where NaN, the sign of zeros)
            or kept_series.tobytes() != series[first:day].tobytes()
            or kept_regressors.tobytes() != regressors[first:day].tobytes()
        ):
            return None
        return day, level.copy(), trend.copy(), season.copy()
