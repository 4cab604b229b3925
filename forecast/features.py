"""Features of the global model: one row per (product, origin day, horizon).

A row forecasts the flow of day ``t = origin + h`` with what was known at the end of the origin
day: lags, rolling means and the same weekday of recent weeks are read at the origin (never
after it), market rates are those of the origin day (carried forward, as SPEC §2 requires), and
the calendar of the target day is known in advance. Because every feature is computed from the
origin, one model serves every horizon ``h`` (a feature) and training rows can be drawn as
(target, horizon) pairs with the origin at ``t − h``: the direct multi-horizon strategy.

Amounts enter as ``log1p(amount / scale)`` with ``scale`` the product's trailing 28-day mean at
the origin, so products of very different sizes share one model; the model's target is
``log1p(flow(t) / scale)`` in the same units.

Exposure. Training rows use the exposure the target day actually had; forecast rows use the
*baseline plan*: the mean exposure of the last four same weekdays up to the origin. The forecast
is therefore "demand if marketing continues as in the last four weeks".
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from forecast.panel import MODELLED_VARIABLES, Panel
from rainmaker.china_calendar import calendar_features, on_arrangement_change, wide_calendar

__all__ = [
    "CALENDAR_COLUMNS",
    "FeatureContext",
    "calendar_matrix",
    "design_grid",
    "design_matrix",
    "feature_context",
    "feature_names",
    "training_pairs",
]

CALENDAR_COLUMNS = (
    "is_workday",
    "is_public_holiday",
    "is_makeup_workday",
    "in_holiday",
    "days_to_holiday",
    "days_since_holiday",
    "holiday_length",
    "business_days_to_holiday",
    "business_days_after_holiday",
    "days_to_next_workday",
    "day_of_week",
    "day_of_month",
    "month",
    "days_to_month_end",
    "is_month_end_window",
    "is_quarter_end_window",
    "is_quarter_start_window",
    "is_payday",
    "is_tax_deadline",
)
# Counts far from a holiday carry no information; clipping keeps tree splits on the near days.
CALENDAR_CLIP_DAYS = 30.0
MAX_AGE_DAYS = 1000.0
LAGS = tuple(range(7))
SAME_WEEKDAY_WEEKS = 4
YEAR_LAG_DAYS = 364  # 52 weeks: the same weekday one year earlier
SCALE_WINDOW_DAYS = 28
# At least this many days of history at the origin before a row is used or a forecast made.
MIN_ORIGIN_HISTORY_DAYS = 7


def calendar_matrix(start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """Calendar features of every day from ``start`` to ``end`` (rows), float32, in the order of
    :data:`CALENDAR_COLUMNS`; day counts clipped at 30 days. Read-only (shared between calls).

    Every forecast asks for a window one day longer than the day before: the rows are cut from
    the matrix of a wide window (:func:`rainmaker.china_calendar.wide_calendar`) when that gives
    exactly the same features, instead of being computed again."""
    wide = wide_calendar(start, end)
    if wide is None:
        return _calendar_matrix(start, end)
    global _wide_matrix
    if _wide_matrix is None or _wide_matrix[0] is not wide:
        _wide_matrix = (wide, _matrix_of(wide))
    index = wide.index
    first = index.get_loc(pd.Timestamp(start).normalize())
    last = index.get_loc(pd.Timestamp(end).normalize())
    return _wide_matrix[1][first : last + 1]


_wide_matrix: tuple[pd.DataFrame, np.ndarray] | None = None


@lru_cache(maxsize=16)
def _calendar_matrix(start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    return _matrix_of(calendar_features(start, end))


def _forget_calendar() -> None:
    """Drop the matrices above: a data set's calendar.csv changed the arrangement."""
    global _wide_matrix
    _wide_matrix = None
    _calendar_matrix.cache_clear()


on_arrangement_change(_forget_calendar)


def _matrix_of(frame: pd.DataFrame) -> np.ndarray:
    out = frame.loc[:, list(CALENDAR_COLUMNS)].astype(float)
    for column in (
        "days_to_holiday",
        "days_since_holiday",
        "business_days_to_holiday",
        "business_days_after_holiday",
    ):
        out[column] = out[column].clip(upper=CALENDAR_CLIP_DAYS)
    matrix = out.to_numpy(dtype=np.float32)
    matrix.flags.writeable = False
    return matrix


def _rolling_sums(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum and count of the known values of the last ``window`` days (days × products)."""
    known = ~np.isnan(values)
    zero = np.zeros((1, values.shape[1]))
    total = np.concatenate([zero, np.cumsum(np.where(known, values, 0.0), axis=0)])
    count = np.concatenate([zero, np.cumsum(known, axis=0, dtype=float)])
    stop = np.arange(1, len(values) + 1)
    start = np.maximum(stop - window, 0)
    return total[stop] - total[start], count[stop] - count[start]


def _rolling_mean(values: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """Mean of the known values of the last ``window`` days (NaN with fewer than
    ``min_periods`` of them); prefix sums, so a day's value never depends on later days."""
    total, count = _rolling_sums(values, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count >= min_periods, total / np.maximum(count, 1), np.nan)


def _rolling_std(values: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """Sample standard deviation (ddof 1) of the known values of the last ``window`` days."""
    total, count = _rolling_sums(values, window)
    squares, _ = _rolling_sums(values * values, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = (squares - total * total / np.maximum(count, 1)) / np.maximum(count - 1, 1)
    return np.where(count >= max(min_periods, 2), np.sqrt(np.maximum(variance, 0.0)), np.nan)


def _shift(values: np.ndarray, lag: int) -> np.ndarray:
    """``values`` moved ``lag`` days later (row t holds row t − lag), NaN where unknown."""
    out = np.full_like(values, np.nan, dtype=float)
    if lag < len(values):
        out[lag:] = values[: len(values) - lag]
    return out


def _same_weekday_mean(values: np.ndarray, weeks: int) -> np.ndarray:
    """Mean of the day and the same weekday of the ``weeks − 1`` previous weeks (NaN-aware)."""
    total = np.zeros_like(values, dtype=float)
    count = np.zeros_like(values, dtype=float)
    for week in range(weeks):
        past = _shift(values, 7 * week)
        ok = ~np.isnan(past)
        total += np.where(ok, past, 0.0)
        count += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


@dataclass(frozen=True, eq=False)
class _VariableState:
    """Per-variable arrays (days × products) read at the origin."""

    y: np.ndarray
    scale: np.ndarray
    mean_7: np.ndarray
    mean_91: np.ndarray
    std_28: np.ndarray
    same_weekday_4: np.ndarray


@dataclass(frozen=True, eq=False)
class FeatureContext:
    """Everything needed to build feature rows of one panel, computed once.

    Attributes:
        panel: the panel the arrays come from.
        calendar: calendar matrix from the panel's first day to ``last_calendar_day``.
        states: per modelled variable, the arrays read at the origin.
        market: per-origin market features (days × products × k).
        exposure_raw: exposure, days × products (NaN when unknown).
        exposure_baseline: mean exposure of the last four same weekdays, days × products.
        exposure_mean_28: trailing 28-day mean exposure, days × products.
    """

    panel: Panel
    calendar: np.ndarray
    states: dict[str, _VariableState]
    market: np.ndarray
    exposure_raw: np.ndarray
    exposure_baseline: np.ndarray
    exposure_mean_28: np.ndarray
    aum_log_growth_28: np.ndarray


def _state(panel: Panel, variable: str) -> _VariableState:
    y = panel.series(variable)
    mean_28 = _rolling_mean(y, SCALE_WINDOW_DAYS, 1)
    expanding = _rolling_mean(y, len(y), 1)
    scale = np.where(mean_28 > 0, mean_28, expanding)
    scale = np.where(scale > 0, scale, 1.0)
    return _VariableState(
        y=y,
        scale=scale,
        mean_7=_rolling_mean(y, 7, 1),
        mean_91=_rolling_mean(y, 91, 7),
        std_28=_rolling_std(y, 28, 3),
        same_weekday_4=_same_weekday_mean(y, SAME_WEEKDAY_WEEKS),
    )


def _market_features(panel: Panel) -> np.ndarray:
    """Per origin and product: rates, their moves and the product's yield spread and rank."""
    market = panel.market
    n_days, n_products = panel.n_days, panel.n_products
    shibor_on = market["shibor_on"].to_numpy(dtype=float)
    shibor_1w = market["shibor_1w"].to_numpy(dtype=float)
    benchmark = market["benchmark_yield_7d"].to_numpy(dtype=float)
    # A product's yield: the published 7-day yield, else its income rate annualised.
    income_yield = _rolling_mean(panel.income_rate, 7, 1) * 365.0 * 100.0
    yield_pct = np.where(np.isnan(panel.yield_7d), income_yield, panel.yield_7d)
    spread = yield_pct - benchmark[:, None]
    rank = pd.DataFrame(yield_pct).rank(axis=1, pct=True).to_numpy(dtype=float)

    def each_product(column: np.ndarray) -> np.ndarray:
        return np.broadcast_to(column[:, None], (n_days, n_products))

    columns = [
        each_product(shibor_on),
        each_product(shibor_1w),
        each_product(shibor_1w - _shift(shibor_1w[:, None], 7)[:, 0]),
        each_product(shibor_1w - _shift(shibor_1w[:, None], 28)[:, 0]),
        each_product(benchmark - _shift(benchmark[:, None], 28)[:, 0]),
        spread,
        spread - _shift(spread, 7),
        rank,
    ]
    return np.stack(columns, axis=2).astype(np.float32)


MARKET_FEATURES = (
    "shibor_on",
    "shibor_1w",
    "shibor_1w_change_7d",
    "shibor_1w_change_28d",
    "benchmark_change_28d",
    "yield_spread_pct",
    "yield_spread_change_7d",
    "yield_rank",
)
ORIGIN_FEATURES = (
    *(f"lag_{k}" for k in LAGS),
    "mean_7",
    "mean_7_week_before",
    "mean_91",
    "std_28",
    "other_flow_mean_7",
    "aum_to_scale",
    "aum_growth_28d",
    "age_days",
    "product_type",
    "fee_bp",
    "channel",
    "exposure_mean_28",
    *MARKET_FEATURES,
)
PAIR_FEATURES = (
    "horizon",
    "same_weekday_last",
    "same_weekday_mean_4",
    "same_weekday_last_is_workday",
    "same_weekday_last_in_holiday",
    "year_ago",
    "exposure",
    "exposure_vs_baseline",
    "exposure_previous_day_vs_baseline",
    *CALENDAR_COLUMNS,
)


def feature_names() -> tuple[str, ...]:
    """Column names of a design matrix, in order."""
    return (*ORIGIN_FEATURES, *PAIR_FEATURES)


_CONTEXTS: weakref.WeakKeyDictionary[Panel, dict[int, FeatureContext]] = weakref.WeakKeyDictionary()


def feature_context(panel: Panel, max_horizon: int) -> FeatureContext:
    """The :class:`FeatureContext` of ``panel`` with the calendar ``max_horizon`` days past its
    end (computed once per panel and cached while the panel lives)."""
    cached = _CONTEXTS.setdefault(panel, {})
    for horizon, context in cached.items():
        if horizon >= max_horizon:
            return context
    calendar = calendar_matrix(panel.dates[0], panel.as_of + pd.Timedelta(days=max_horizon))
    exposure = panel.exposure
    aum = np.where(panel.aum > 0, panel.aum, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        aum_growth = np.log(aum) - np.log(_shift(aum, 28))
    context = FeatureContext(
        panel=panel,
        calendar=calendar,
        states={variable: _state(panel, variable) for variable in MODELLED_VARIABLES},
        market=_market_features(panel),
        exposure_raw=exposure,
        exposure_baseline=_same_weekday_mean(exposure, SAME_WEEKDAY_WEEKS),
        exposure_mean_28=_rolling_mean(exposure, 28, 1),
        aum_log_growth_28=aum_growth,
    )
    cached[max_horizon] = context
    return context


def _log_ratio(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.log1p(np.maximum(values, 0.0) / scale)


def _origin_columns(
    context: FeatureContext, variable: str, p: np.ndarray, o: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The :data:`ORIGIN_FEATURES` of (product, origin) pairs, and each pair's scale (CNY)."""
    state = context.states[variable]
    other = context.states["redemptions" if variable == "subscriptions" else "subscriptions"]
    panel = context.panel
    scale = state.scale[o, p]
    first = panel.first_index[p]
    out = np.empty((len(p), len(ORIGIN_FEATURES)), dtype=np.float32)
    for j, lag in enumerate(LAGS):
        value = np.where(o - lag >= first, state.y[np.maximum(o - lag, 0), p], np.nan)
        out[:, j] = _log_ratio(value, scale)
    j = len(LAGS)
    week_before = np.where(o - 7 >= first, state.mean_7[np.maximum(o - 7, 0), p], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        aum_to_scale = np.log(np.maximum(panel.aum[o, p], 0.0) / scale)
    columns = [
        _log_ratio(state.mean_7[o, p], scale),
        _log_ratio(week_before, scale),
        _log_ratio(state.mean_91[o, p], scale),
        state.std_28[o, p] / scale,
        _log_ratio(other.mean_7[o, p], other.scale[o, p]),
        aum_to_scale,
        context.aum_log_growth_28[o, p],
        np.minimum(o - first, MAX_AGE_DAYS),
        panel.product_type[p],
        panel.fee_bp[p],
        panel.channel[p],
        np.log1p(context.exposure_mean_28[o, p]),
    ]
    for column in columns:
        out[:, j] = column
        j += 1
    out[:, j:] = context.market[o, p, :]
    return out, scale


def _pair_columns(
    context: FeatureContext,
    variable: str,
    p: np.ndarray,
    o: np.ndarray,
    h: np.ndarray,
    scale: np.ndarray,
    actual_exposure: bool,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The :data:`PAIR_FEATURES` of (product, origin, horizon) rows, written into ``out``
    (rows × len(PAIR_FEATURES), float32, e.g. the columns of the full design) when given."""
    state = context.states[variable]
    panel = context.panel
    target = o + h
    first = panel.first_index[p]
    # The latest day at or before the origin on the target's weekday (and the day before's).
    same_day = o - (7 - h % 7) % 7
    same_ok = same_day >= first
    same_day = np.maximum(same_day, 0)
    previous_same = np.maximum(o - (7 - (h - 1) % 7) % 7, 0)
    year_ago = target - YEAR_LAG_DAYS
    # known only when it is on or before the origin: for a horizon beyond 52 weeks the day a
    # year before the target is itself in the future (it would also lie past the data)
    year_ok = (year_ago >= first) & (year_ago <= o)
    year_ago = np.minimum(year_ago, o)
    baseline = context.exposure_baseline[same_day, p]
    previous_baseline = context.exposure_baseline[previous_same, p]
    if actual_exposure:
        exposure = context.exposure_raw[target, p]
        previous = context.exposure_raw[target - 1, p]
    else:
        exposure = baseline
        # The previous day is the origin itself when h = 1 (known), else a planned day.
        previous = np.where(h == 1, context.exposure_raw[o, p], previous_baseline)
    if out is None:
        out = np.empty((len(p), len(PAIR_FEATURES)), dtype=np.float32)
    columns = [
        h,
        _log_ratio(np.where(same_ok, state.y[same_day, p], np.nan), scale),
        _log_ratio(np.where(same_ok, state.same_weekday_4[same_day, p], np.nan), scale),
        context.calendar[same_day, 0],
        context.calendar[same_day, 3],
        _log_ratio(np.where(year_ok, state.y[np.maximum(year_ago, 0), p], np.nan), scale),
        np.log1p(exposure),
        np.log1p(exposure) - np.log1p(baseline),
        np.log1p(previous) - np.log1p(previous_baseline),
    ]
    for j, column in enumerate(columns):
        out[:, j] = column
    out[:, len(columns) :] = context.calendar[target]
    return out


def design_matrix(
    context: FeatureContext,
    variable: str,
    product: np.ndarray,
    origin: np.ndarray,
    horizon: np.ndarray,
    *,
    actual_exposure: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows for (product, origin, horizon) triples.

    Args:
        context: the panel's feature context.
        variable: ``subscriptions`` or ``redemptions``.
        product: product positions (columns of the panel), int array.
        origin: origin day positions; every feature reads days ≤ origin only, except the
            calendar of the target day and, when ``actual_exposure``, its exposure.
        horizon: days ahead, ≥ 1.
        actual_exposure: training rows (True) use the exposure the target day had; forecast
            rows (False) use the baseline plan known at the origin.

    Returns:
        ``(X, scale)``: float32 matrix with :func:`feature_names` columns, and the scale (CNY)
        of each row, the product's trailing 28-day mean at the origin.
    """
    at_origin, scale = _origin_columns(context, variable, product, origin)
    # One matrix filled in place (no stacked copies: at 1,000 products a backtest fold's grid
    # is hundreds of MB).
    n_origin = at_origin.shape[1]
    features = np.empty((len(product), n_origin + len(PAIR_FEATURES)), dtype=np.float32)
    features[:, :n_origin] = at_origin
    _pair_columns(
        context, variable, product, origin, horizon, scale, actual_exposure, features[:, n_origin:]
    )
    return features, scale


def design_grid(
    context: FeatureContext,
    variable: str,
    product: np.ndarray,
    origin: np.ndarray,
    horizon: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Forecast rows for every horizon 1..``horizon`` of each (product, origin) pair, ordered
    pair by pair; same as :func:`design_matrix` with the baseline exposure plan, but the
    origin features are computed once per pair rather than once per row.

    Returns:
        ``(X, scale)`` with ``len(product) * horizon`` rows.
    """
    at_origin, scale = _origin_columns(context, variable, product, origin)
    steps = np.tile(np.arange(1, horizon + 1), len(product))
    p, o = np.repeat(product, horizon), np.repeat(origin, horizon)
    scale = np.repeat(scale, horizon)
    n_origin = at_origin.shape[1]
    features = np.empty((len(p), n_origin + len(PAIR_FEATURES)), dtype=np.float32)
    # each pair's origin features on its ``horizon`` rows, broadcast in place
    features.reshape(len(product), horizon, -1)[:, :, :n_origin] = at_origin[:, None, :]
    _pair_columns(context, variable, p, o, steps, scale, False, features[:, n_origin:])
    return features, scale


def training_pairs(
    panel: Panel,
    variable: str,
    *,
    last_target: int,
    max_horizon: int,
    horizons_per_target: int,
    max_rows: int,
    rng: np.random.Generator,
    include_censored: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training rows as (product, origin, horizon) with target day ``origin + horizon``.

    Every known target day up to ``last_target`` (uncensored only, unless
    ``include_censored``) gets ``horizons_per_target``
    horizons drawn uniformly from 1..``max_horizon``; rows whose origin has fewer than
    :data:`MIN_ORIGIN_HISTORY_DAYS` days of history are dropped; if more than ``max_rows``
    remain, a uniform sample of ``max_rows`` is kept (every season stays represented).

    Returns:
        ``(product, origin, horizon)`` int arrays of equal length.
    """
    if include_censored:
        mask = ~np.isnan(panel.series(variable)[: last_target + 1])
    else:
        mask = panel.target_mask(variable)[: last_target + 1]
    day, product = np.nonzero(mask)
    day = np.repeat(day, horizons_per_target)
    product = np.repeat(product, horizons_per_target)
    horizon = rng.integers(1, max_horizon + 1, size=len(day))
    origin = day - horizon
    keep = origin >= panel.first_index[product] + MIN_ORIGIN_HISTORY_DAYS - 1
    product, origin, horizon = product[keep], origin[keep], horizon[keep]
    if len(origin) > max_rows:
        chosen = np.sort(rng.choice(len(origin), size=max_rows, replace=False))
        product, origin, horizon = product[chosen], origin[chosen], horizon[chosen]
    return product, origin, horizon
