"""The market forecast: paths of Shibor (overnight to 6 months) and of the benchmark 7-day yield
for the days after an as-of day, from market rows dated on or before it only.

The plan prices today's purchases at today's rates; a purchase on a later day of its horizon
is made at that day's rate, which in China's money market is neither today's nor a random
draw: the short tenors jump before every quarter end, month end and the Spring Festival and
fall back after, and every rate drifts back towards where it has stood for the last months
after a squeeze (June 2013, December 2016). The model, per series, on calendar days (the
latest publication carried forward, as :meth:`rainmaker.dataset.Dataset.market_daily`):

1. **Seasonality** (short tenors, :data:`SEASONAL_SERIES`): x = log(rate) (x = rate, percent,
   for a series with a zero or negative rate in its history: in levels). Each calendar day
   falls in one class of :data:`SEASON_CLASSES` (from :func:`rainmaker.china_calendar.
   calendar_features`, the one home of the calendar facts): the last days of a quarter, the
   days before them, the last days of another month, the first days of a quarter, the days
   before the Spring Festival, or none. A class's effect is the mean, over the last
   :data:`SEASON_DAYS` days, of x less its median over the :data:`SEASON_BASE_DAYS` days
   before, minus the same mean on days of no class, shrunk towards 0 by n / (n +
   :data:`SEASON_SHRINK_DAYS`) (a class seen on few days says little).
2. **Mean reversion**: u = x − season. The anchor a is the mean of u over the last
   :data:`ANCHOR_DAYS` days (a slowly moving level, not a long-run constant: China's rates
   moved between regimes); z = u − a follows an AR(1), z(t+1) = φ z(t) + ε, φ fitted by least
   squares over the last :data:`FIT_DAYS` days and kept within [:data:`MIN_PHI`, 1] (a daily
   φ below that reverts a squeeze within days, which the history does not support; 1 is the
   random walk).
3. **Median path**: exp(a + φ^h z(T) + season(T + h)) (without the exp in levels) for h = 1..H
   days after T, on working days; a day off carries the last working day's value (nothing is
   published then, and market.csv's reading carries the last publication forward: a model that
   moved the rate over a weekend lost a sixth of its day-1 accuracy to the random walk).
4. **Sample paths and quantiles**: the AR(1) run forward with residuals ε drawn from the fit
   window's own (their fat tails, not a normal's), :data:`N_PATHS` paths from a fixed seed
   (the same answer every time); quantiles at :data:`MARKET_QUANTILES` over the paths,
   recentred on the median path.

Everything is in percent per annum, as market.csv. :func:`market_forecast` is the entry point;
:class:`MarketForecast` its typed result. Accuracy against a random walk (today's value held
flat) is measured by :func:`score_market_forecast` (``rainmaker evaluate-forecast``) and by
``benchmarks/market_forecast.py`` on the real Shibor since 2006 (docs/forecast.md, "Market
forecast").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.metrics import inside
from rainmaker.assets import SHIBOR_COLUMNS
from rainmaker.china_calendar import SPRING_FESTIVAL, calendar_features, workday_flags
from rainmaker.errors import UsageError
from rainmaker.quantiles import DEFAULT_QUANTILES, path_quantiles, quantile_label

__all__ = [
    "ANCHOR_DAYS",
    "MARKET_SCORE_KEYS",
    "FIT_DAYS",
    "MARKET_QUANTILES",
    "MARKET_SERIES",
    "RANDOM_WALK_SERIES",
    "SEASONAL_SERIES",
    "SEASON_CLASSES",
    "MarketForecast",
    "daily_rates",
    "market_forecast",
    "market_score_path",
    "market_score_table",
    "score_market_forecast",
    "season_classes",
]

# The series forecast, in this order, where market.csv has them (shibor_on and shibor_1w and
# benchmark_yield_7d always: SPEC §1).
MARKET_SERIES = (*SHIBOR_COLUMNS[: SHIBOR_COLUMNS.index("shibor_6m") + 1], "benchmark_yield_7d")
# The tenors whose level jumps with the calendar (the money is needed over the period end);
# the 1-month tenor's jumps are smaller and its seasonal forecast lost to the random walk at
# 1-7 days on the real Shibor of 2008-2022 (benchmarks/market_forecast.py); the 3- and 6-month
# tenors and the benchmark (a 7-day average of peers' yields) barely move with the calendar.
SEASONAL_SERIES = ("shibor_on", "shibor_1w", "shibor_2w")
# The tenors held flat (the random walk): the 3- and 6-month rates trend with policy for
# months, and reverting them to their last months lost 3 % of MAE at every horizon on
# 2008-2022; the median path is today's value, the paths spread with their own residuals.
RANDOM_WALK_SERIES = ("shibor_3m", "shibor_6m")
# Calendar classes of a day (code = position; 0 is an ordinary day).
SEASON_CLASSES = (
    "ordinary",
    "quarter_end_last",  # the last QUARTER_END_LAST_DAYS days of March, June, September, December
    "quarter_end_before",  # the days before those, within the quarter-end window
    "month_end",  # the last MONTH_END_DAYS days of any other month
    "quarter_start",  # the first QUARTER_START_DAYS days of a quarter
    "before_spring_festival",  # 1..SPRING_FESTIVAL_DAYS calendar days before its holiday
)
QUARTER_END_LAST_DAYS = 4
MONTH_END_DAYS = 4
QUARTER_START_DAYS = 3
SPRING_FESTIVAL_DAYS = 10

ANCHOR_DAYS = 120
FIT_DAYS = 365
MIN_PHI = 0.97
SEASON_DAYS = 3 * 365
SEASON_BASE_DAYS = 30
SEASON_SHRINK_DAYS = 10.0
N_PATHS = 200
SEED = 20_130_620  # the day of June 2013's squeeze: any fixed number would do
# The levels the market forecast reports: those of the flow forecast.
MARKET_QUANTILES = DEFAULT_QUANTILES
# History needed: the anchor, the fit window and one day to difference.
MIN_HISTORY_DAYS = 30
# An outcome within this of its interval's ends is inside (float rounding of the paths' quantiles
# is ~1e-15 percent), percent: 0.0001 bp, a hundredth of the 4th decimal rates are published to.
RATE_TOLERANCE_PCT = 1e-6


@dataclass(frozen=True, eq=False)
class MarketForecast:
    """The market forecast made on ``as_of`` for the ``horizon`` days after it.

    Attributes:
        as_of: the last day whose rates are known.
        dates: the H calendar days forecast (the days after ``as_of``).
        series: the rate columns forecast, in array order (a subset of :data:`MARKET_SERIES`).
        today_pct: each series' value on ``as_of`` (the latest publication), percent p.a. (S,).
        median_pct: the median path, percent p.a. (S, H).
        quantiles_pct: quantile level → path of that quantile, percent p.a. (S, H).
        paths_pct: sample paths, percent p.a. (S, N, H).
        phi: the fitted daily AR(1) coefficient per series (S,).
        anchor_pct: the level each series reverts to (seasonality removed), percent (S,).
        season_bp: per series, the effect of each class of :data:`SEASON_CLASSES` on the
            rate today, bp (S, C) (0 for a series without seasonality).
    """

    as_of: pd.Timestamp
    dates: pd.DatetimeIndex
    series: tuple[str, ...]
    today_pct: np.ndarray
    median_pct: np.ndarray
    quantiles_pct: Mapping[float, np.ndarray]
    paths_pct: np.ndarray
    phi: np.ndarray
    anchor_pct: np.ndarray
    season_bp: np.ndarray

    def __repr__(self) -> str:
        return (
            f"MarketForecast(as of {self.as_of:%Y-%m-%d}, {len(self.series)} series × "
            f"{len(self.dates)} days)"
        )

    @property
    def horizon(self) -> int:
        """H, the number of days forecast."""
        return len(self.dates)

    def median_frame(self) -> pd.DataFrame:
        """The median paths as a frame indexed by date, one column per series, percent p.a."""
        return pd.DataFrame(self.median_pct.T, index=self.dates, columns=list(self.series))

    def table(self) -> pd.DataFrame:
        """A long table: ``date``, ``series``, ``today``, ``median`` and one column per
        quantile level (``p05`` …), percent p.a."""
        s, h = self.median_pct.shape
        out = pd.DataFrame(
            {
                "date": np.tile(self.dates, s),
                "series": np.repeat(list(self.series), h),
                "today": np.repeat(self.today_pct, h),
                "median": self.median_pct.ravel(),
            }
        )
        for level, values in sorted(self.quantiles_pct.items()):
            out[quantile_label(level)] = np.asarray(values).ravel()
        return out

    def flat(self) -> MarketForecast:
        """The random walk: every path today's value (what the plan assumed before)."""
        s, h = self.median_pct.shape
        held = np.repeat(self.today_pct[:, None], h, axis=1)
        return MarketForecast(
            as_of=self.as_of,
            dates=self.dates,
            series=self.series,
            today_pct=self.today_pct,
            median_pct=held,
            quantiles_pct={q: held for q in self.quantiles_pct},
            paths_pct=np.repeat(held[:, None, :], self.paths_pct.shape[1], axis=1),
            phi=np.ones(s),
            anchor_pct=self.today_pct,
            season_bp=np.zeros_like(self.season_bp),
        )


def daily_rates(market: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The market rows dated on or before ``as_of`` on every calendar day up to it, the
    latest publication carried forward, one column per series of :data:`MARKET_SERIES` present,
    percent p.a.

    Args:
        market: market.csv rows (``date`` and rate columns), any order.
        as_of: the last day known.

    Raises:
        UsageError: no publication on or before ``as_of``.
    """
    dates = pd.to_datetime(market["date"])
    known = market.loc[dates <= as_of].assign(date=dates[dates <= as_of])
    if known.empty:
        raise UsageError(f"market forecast: no market rows on or before {as_of:%Y-%m-%d}")
    columns = [c for c in MARKET_SERIES if c in known.columns]
    frame = known.sort_values("date").drop_duplicates("date", keep="last").set_index("date")
    index = pd.date_range(frame.index[0], as_of, freq="D")
    return frame[columns].astype(float).reindex(index).ffill()


def season_classes(days: pd.DatetimeIndex) -> np.ndarray:
    """The class of :data:`SEASON_CLASSES` of every calendar day (codes, int)."""
    calendar = calendar_features(days[0], days[-1])
    to_end = calendar["days_to_month_end"].to_numpy()
    month = calendar["month"].to_numpy()
    day = calendar["day_of_month"].to_numpy()
    quarter_month = month % 3 == 0
    out = np.zeros(len(days), dtype=np.int64)
    out[(~quarter_month) & (to_end < MONTH_END_DAYS)] = 3
    out[(month % 3 == 1) & (day <= QUARTER_START_DAYS)] = 4
    quarter_window = calendar["is_quarter_end_window"].to_numpy(dtype=bool)
    out[quarter_window & (to_end >= QUARTER_END_LAST_DAYS)] = 2
    out[quarter_window & (to_end < QUARTER_END_LAST_DAYS)] = 1
    # the Spring Festival: the days before the first day of its holiday stretch
    festival = calendar["holiday_name"].to_numpy() == SPRING_FESTIVAL
    in_stretch = calendar["in_holiday"].to_numpy(dtype=bool)
    to_holiday = calendar["days_to_holiday"].to_numpy(dtype=float)
    # the stretch a day looks forward to is the Spring Festival when the day that many days
    # ahead is one of its holidays
    ahead = np.arange(len(days)) + np.nan_to_num(to_holiday, nan=-1).astype(np.int64)
    valid = (to_holiday >= 1) & (to_holiday <= SPRING_FESTIVAL_DAYS) & (ahead < len(days))
    target = np.where(valid, ahead, 0)
    before = valid & ~in_stretch & _stretch_is_festival(festival, in_stretch, target)
    out[before] = 5
    return out


def _stretch_is_festival(
    festival: np.ndarray, in_stretch: np.ndarray, start: np.ndarray
) -> np.ndarray:
    """Whether the holiday stretch starting at each index of ``start`` holds a Spring
    Festival day (its first days can be an ordinary weekend joined to it)."""
    n = len(festival)
    # for every day, whether a Spring Festival day lies in its stretch at or after it
    ahead = np.zeros(n, dtype=bool)
    running = False
    for i in range(n - 1, -1, -1):
        running = in_stretch[i] and (festival[i] or running)
        ahead[i] = running
    return ahead[start]


_CLASS_CACHE: dict[tuple[pd.Timestamp, pd.Timestamp], np.ndarray] = {}


def _classes(first: pd.Timestamp, last: pd.Timestamp) -> np.ndarray:
    """:func:`season_classes` over [first, last], from a wide span computed once (the replay
    asks every day for a span one day longer)."""
    for (lo, hi), codes in _CLASS_CACHE.items():
        if lo <= first and last <= hi:
            start = (first - lo).days
            return codes[start : start + (last - first).days + 1]
    lo = first - pd.Timedelta(days=366)
    hi = last + pd.Timedelta(days=3 * 366)
    codes = season_classes(pd.date_range(lo, hi, freq="D"))
    _CLASS_CACHE.clear()
    _CLASS_CACHE[(lo, hi)] = codes
    start = (first - lo).days
    return codes[start : start + (last - first).days + 1]


def _season_effects(x: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Effect of each class on log rates (C,), 0 for ordinary days (see the module's step 1)."""
    n = len(x)
    effects = np.zeros(len(SEASON_CLASSES))
    if n <= SEASON_BASE_DAYS + 1:
        return effects
    windows = np.lib.stride_tricks.sliding_window_view(x[:-1], SEASON_BASE_DAYS)
    base = np.median(windows, axis=1)  # base[i] = median of x[i .. i+B-1], used for day i+B
    deviation = x[SEASON_BASE_DAYS:] - base
    day_codes = codes[SEASON_BASE_DAYS:]
    ordinary = deviation[day_codes == 0]
    # medians, not means: one squeeze (June 2013) would otherwise set a class's effect for years
    centre = float(np.median(ordinary)) if len(ordinary) else 0.0
    for c in range(1, len(SEASON_CLASSES)):
        seen = deviation[day_codes == c]
        if len(seen):
            shrink = len(seen) / (len(seen) + SEASON_SHRINK_DAYS)
            effects[c] = (float(np.median(seen)) - centre) * shrink
    return effects


def _fit_ar1(u: np.ndarray, walk: bool) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Anchor, φ, residuals of the fit window and the last deviation of a deseasonalised
    log series; ``walk``: φ = 1 (the random walk, residuals its daily changes)."""
    anchor = float(u[-ANCHOR_DAYS:].mean())
    window = u[-(FIT_DAYS + 1) :]
    # each day's deviation from its own trailing anchor, so that a level that moved within the
    # fit window does not read as a slow reversion
    csum = np.concatenate([[0.0], np.cumsum(u)])
    idx = np.arange(len(u) - len(window), len(u))
    lo = np.maximum(idx - ANCHOR_DAYS + 1, 0)
    trailing = (csum[idx + 1] - csum[lo]) / (idx + 1 - lo)
    z = window - trailing
    prev, now = z[:-1], z[1:]
    denom = float(prev @ prev)
    phi = float(prev @ now) / denom if denom > 1e-12 else 1.0
    phi = 1.0 if walk else min(max(phi, MIN_PHI), 1.0)
    residuals = now - phi * prev
    return anchor, phi, residuals, np.asarray(u[-1] - anchor)


def market_forecast(
    market: pd.DataFrame,
    as_of: str | pd.Timestamp,
    horizon: int,
    *,
    n_paths: int = N_PATHS,
    series: Sequence[str] | None = None,
) -> MarketForecast:
    """Forecast the market rates for the ``horizon`` calendar days after ``as_of``.

    Reads only the rows of ``market`` dated on or before ``as_of``: the answer is the same
    whether or not later rows are present.

    Args:
        market: market.csv rows (``date`` and rate columns, percent p.a.).
        as_of: the last day known.
        horizon: H, calendar days, ≥ 1.
        n_paths: sample paths drawn, ≥ 1.
        series: the columns to forecast (default: those of :data:`MARKET_SERIES` present).

    Returns:
        The forecast (:class:`MarketForecast`).

    Raises:
        UsageError: a bad horizon, no known rows, fewer than :data:`MIN_HISTORY_DAYS` days of
            history, or a series asked for that the rows lack.
    """
    today = pd.Timestamp(as_of).normalize()
    if horizon < 1 or n_paths < 1:
        raise UsageError(f"market forecast: horizon {horizon} and paths {n_paths} must be >= 1")
    rates = daily_rates(market, today)
    names = tuple(series) if series is not None else tuple(rates.columns)
    missing = [n for n in names if n not in rates.columns]
    if missing:
        raise UsageError(f"market forecast: market rows lack {', '.join(missing)}")
    history = rates.iloc[-(SEASON_DAYS + SEASON_BASE_DAYS + 1) :]
    if len(history) < MIN_HISTORY_DAYS:
        raise UsageError(
            f"market forecast: {len(history)} days of market history up to {today:%Y-%m-%d}; "
            f"expected at least {MIN_HISTORY_DAYS}"
        )
    dates = pd.date_range(today + pd.Timedelta(days=1), periods=horizon, freq="D")
    codes = _classes(history.index[0], dates[-1])
    past, future = codes[: len(history)], codes[len(history) :]
    steps = np.arange(1, horizon + 1, dtype=float)
    # the day whose value each forecast day carries: itself on working days, else the last
    # working day before it (-1: today's publication)
    work = workday_flags(dates[0], dates[-1]).to_numpy(dtype=bool)
    source = np.where(work, np.arange(horizon), -1)
    source = np.maximum.accumulate(source)
    rng = np.random.default_rng(SEED)
    s = len(names)
    today_pct = np.zeros(s)
    median = np.zeros((s, horizon))
    paths = np.zeros((s, n_paths, horizon))
    phis = np.ones(s)
    anchors = np.zeros(s)
    season = np.zeros((s, len(SEASON_CLASSES)))
    for i, name in enumerate(names):
        values = history[name].to_numpy(dtype=float)
        known = np.isfinite(values)
        values = values[known.argmax() :] if known.any() else values
        if len(values) < MIN_HISTORY_DAYS or not np.isfinite(values).all():
            raise UsageError(
                f"market forecast: {name} has fewer than {MIN_HISTORY_DAYS} known days up to "
                f"{today:%Y-%m-%d}"
            )
        # in logs (effects are ratios, paths stay positive) where every rate is positive; a
        # series with a zero or negative rate in its history (market.csv allows -100 to 100) in
        # percent: the log of a floor of 0.01 % forecast a rate of -0.5 % at +0.01 %
        logs = bool((values > 0).all())
        x = np.log(values) if logs else values
        day_codes = past[len(past) - len(x) :]
        effects = (
            _season_effects(x, day_codes)
            if name in SEASONAL_SERIES
            else np.zeros(len(SEASON_CLASSES))
        )
        u = x - effects[day_codes]
        anchor, phi, residuals, z_today = _fit_ar1(u, name in RANDOM_WALK_SERIES)
        ahead = effects[future]
        median_log = anchor + phi**steps * float(z_today) + ahead
        # the paths: z run forward with residuals drawn from the fit window
        draws = (
            rng.choice(residuals, size=(n_paths, horizon))
            if len(residuals)
            else np.zeros((n_paths, horizon))
        )
        z = np.empty((n_paths, horizon))
        level = np.full(n_paths, float(z_today))
        for h in range(horizon):
            level = phi * level + draws[:, h]
            z[:, h] = level
        path_log = anchor + z + ahead[None, :]
        # recentred on the median path: the draws' own median is noise around it
        path_log += median_log[None, :] - np.median(path_log, axis=0)[None, :]
        # days off carry the last working day's value (today's before the first)
        x_today = float(x[-1])
        median_log = np.where(source >= 0, median_log[np.maximum(source, 0)], x_today)
        path_log = np.where(source[None, :] >= 0, path_log[:, np.maximum(source, 0)], x_today)
        today_pct[i] = values[-1]
        median[i] = np.exp(median_log) if logs else median_log
        paths[i] = np.exp(path_log) if logs else path_log
        phis[i] = phi
        anchors[i] = np.exp(anchor) if logs else anchor
        season[i] = ((np.exp(anchor + effects) - np.exp(anchor)) if logs else effects) * 100.0
    quantiles = dict(zip(MARKET_QUANTILES, path_quantiles(paths, MARKET_QUANTILES), strict=True))
    quantiles[0.5] = median
    return MarketForecast(
        as_of=today,
        dates=dates,
        series=names,
        today_pct=today_pct,
        median_pct=median,
        quantiles_pct=quantiles,
        paths_pct=paths,
        phi=phis,
        anchor_pct=anchors,
        season_bp=season,
    )


# The columns the written score starts with: how an earlier one is recognised.
MARKET_SCORE_KEYS = ("series", "band")
# Horizon bands of the score, calendar days (inclusive).
HORIZON_BANDS = ((1, 1), (2, 7), (8, 14), (15, 30))


def score_market_forecast(
    market: pd.DataFrame,
    origins: Sequence[pd.Timestamp],
    horizon: int,
    *,
    series: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Accuracy of the market forecast against a random walk over the same origins.

    From every origin the forecast of the next ``horizon`` days is compared with the rate
    published then (carried forward over days without publication), for the model's median
    and for today's value held flat (the random walk).

    Args:
        market: market.csv rows.
        origins: the as-of days; those with fewer than :data:`MIN_HISTORY_DAYS` days of
            market history are left out.
        horizon: H, calendar days.
        series: the columns scored (default: those of :data:`MARKET_SERIES` present).

    Returns:
        One row per series and horizon band (``band``, e.g. ``2-7``, of
        :data:`HORIZON_BANDS` cut at H): ``n`` forecasts scored, ``mae_bp`` of the median,
        ``mae_rw_bp`` of the random walk, ``skill`` = 1 − mae / mae_rw (> 0: better than the
        random walk; NaN where the random walk made no error and the median did),
        ``coverage_80`` the share of outcomes within [p10, p90] (ends included,
        within :data:`RATE_TOLERANCE_PCT`).
    """
    dates = pd.to_datetime(market["date"])
    truth = daily_rates(market, dates.max())
    first = dates.min() + pd.Timedelta(days=MIN_HISTORY_DAYS - 1)
    rows = []
    for origin in (pd.Timestamp(o) for o in origins if pd.Timestamp(o) >= first):
        fc = market_forecast(market, origin, horizon, series=series, n_paths=N_PATHS)
        actual = truth.reindex(fc.dates)[list(fc.series)].to_numpy(dtype=float).T
        for i, name in enumerate(fc.series):
            for h in range(horizon):
                if np.isfinite(actual[i, h]):
                    rows.append(
                        (
                            name,
                            h + 1,
                            abs(fc.median_pct[i, h] - actual[i, h]) * 100.0,
                            abs(fc.today_pct[i] - actual[i, h]) * 100.0,
                            bool(
                                inside(
                                    actual[i, h],
                                    fc.quantiles_pct[0.1][i, h],
                                    fc.quantiles_pct[0.9][i, h],
                                    atol=RATE_TOLERANCE_PCT,
                                    rtol=0.0,
                                )
                            ),
                        )
                    )
    frame = pd.DataFrame(rows, columns=["series", "h", "err", "err_rw", "inside"])
    out = []
    for lo, hi in HORIZON_BANDS:
        if lo > horizon:
            break
        top = min(hi, horizon)
        band = frame.loc[(frame["h"] >= lo) & (frame["h"] <= top)]
        label = f"{lo}" if lo == top else f"{lo}-{top}"
        for name, group in band.groupby("series", sort=False):
            mae, mae_rw = float(group["err"].mean()), float(group["err_rw"].mean())
            out.append(
                {
                    "series": name,
                    "band": label,
                    "n": len(group),
                    "mae_bp": mae,
                    "mae_rw_bp": mae_rw,
                    "skill": _skill(mae, mae_rw),
                    "coverage_80": float(group["inside"].mean()),
                }
            )
    return pd.DataFrame(
        out, columns=["series", "band", "n", "mae_bp", "mae_rw_bp", "skill", "coverage_80"]
    )


def _skill(mae: float, mae_rw: float) -> float:
    """1 − mae / mae_rw; where the random walk made no error (rates flat over the origins'
    horizons), 0 when the median made none either, else undefined (NaN: an empty cell, printed
    ``n/a``): 0 there read as "as good as the random walk" for a median that moved flat
    rates, and −inf would be written ``-inf``, which a spreadsheet reads as a formula."""
    if mae_rw > 0:
        return 1.0 - mae / mae_rw
    return 0.0 if mae == 0 else math.nan


def market_score_table(score: pd.DataFrame) -> str:
    """A printable table of :func:`score_market_forecast`: per series and horizon band, the
    median's MAE against the random walk's, bp, the skill and the p10-p90 coverage."""
    if score.empty:
        return "market forecast: nothing to score"
    cells = score.assign(
        cell=[
            f"{r.mae_bp:6.1f} /{r.mae_rw_bp:6.1f} "
            f"{'  n/a' if math.isnan(r.skill) else format(r.skill, '+5.0%')} {r.coverage_80:4.0%}"
            for r in score.itertuples(index=False)
        ]
    )
    wide = cells.pivot(index="series", columns="band", values="cell")
    wide = wide.reindex(
        index=list(dict.fromkeys(score["series"])), columns=list(dict.fromkeys(score["band"]))
    )
    wide.columns = [f"days {band}" for band in wide.columns]
    return (
        "market forecast against the random walk (today's rate held flat), per horizon band: "
        "MAE of the median / of the random walk in bp, skill (1 - ratio: > 0 beats it), "
        "p10-p90 coverage\n" + wide.to_string()
    )


def market_score_path(out: Path) -> Path:
    """Where ``evaluate-forecast --out FILE`` writes the market score: ``FILE``'s stem with
    ``_market`` beside it (``metrics.csv`` → ``metrics_market.csv``)."""
    return out.with_name(f"{out.stem}_market{out.suffix or '.csv'}")
