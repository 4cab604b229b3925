"""The Chinese business calendar: public holidays, make-up working days (调休) and the
calendar windows that move money (pre-holiday business days, month and quarter end, paydays).

Holidays come from the maintained ``chinesecalendar`` package, which follows the State
Council's yearly announcements. The years right after its coverage can be given by a data set's
``calendar.csv`` (:mod:`rainmaker.calendar_file`, registered with :func:`use_arrangement` when the
data set is loaded): the State Council announces a year's arrangement in the November before,
often before a package release has it. For a year neither covers, the calendar falls
back to *weekends only* (Saturday and Sunday off, no public holidays, no make-up days) and emits a
:class:`CalendarCoverageWarning` (once per process for the years after the coverage, once for
those before it), so forecasts still run but a reader is told that holiday effects are missing
for those days.

A *holiday stretch* is a maximal run of consecutive non-working days that contains at least one
public holiday (e.g. the seven days of National Day). Ordinary weekends are not stretches.

This module is the one working-day service of the project: :func:`workday_flags` (flags by
calendar day, what the optimizer plans with), :class:`Workdays` (day-number arithmetic fast
enough for a replay that asks tens of thousands of times, what the simulator uses),
:func:`is_workday` and :func:`next_workday` (one question at a time). All read the same
calendar (:func:`calendar_features`).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar
import numpy as np
import pandas as pd

__all__ = [
    "CalendarCoverageWarning",
    "Workdays",
    "calendar_features",
    "covered_years",
    "day_number",
    "is_workday",
    "next_workday",
    "on_arrangement_change",
    "package_years",
    "to_timestamp",
    "use_arrangement",
    "workday_flags",
]

# Paydays: most employers pay on the 10th or the 15th, moved to the last working day before it
# when it falls on a day off. Individual income tax is filed by the 15th, moved later when the
# 15th is a day off.
PAYDAYS_OF_MONTH = (10, 15)
TAX_DEADLINE_DAY = 15
# Calendar-day windows in which corporate cash leaves before the period end and comes back after.
MONTH_END_WINDOW_DAYS = 5
QUARTER_END_WINDOW_DAYS = 10
QUARTER_START_WINDOW_DAYS = 7
SPRING_FESTIVAL = "Spring Festival"  # holiday_name of its public holidays


class CalendarCoverageWarning(UserWarning):
    """A year outside the holiday package's coverage: weekends-only fallback in use."""


def package_years() -> range:
    """Years for which the holiday package has the official holiday arrangement."""
    years = sorted({d.year for d in chinese_calendar.holidays})
    return range(years[0], years[-1] + 1)


# The arrangement of the years right after the package's coverage, from a data set's
# calendar.csv (use_arrangement): public holidays and make-up working days, each with the name of
# its holiday, as the package keeps them.
_extra_holidays: dict[dt.date, str] = {}
_extra_workdays: dict[dt.date, str] = {}
_extra_years: range = range(0)
# How many times the arrangement changed: a Workdays reads its flags again when it has moved.
_generation = 0
# What holds a copy of the calendar outside this module (forecast.features' matrices): told to
# drop it when the arrangement changes.
_listeners: list[Callable[[], None]] = []


def covered_years() -> range:
    """Years with an official holiday arrangement: the package's, then those a data set's
    ``calendar.csv`` adds right after them (:func:`use_arrangement`)."""
    span = package_years()
    return range(span.start, max(span.stop, _extra_years.stop))


def use_arrangement(holidays: Mapping[dt.date, str], workdays: Mapping[dt.date, str]) -> None:
    """Add the official arrangement of the years right after the package's coverage.

    Every later question to this module (and to the forecast's calendar features) reads it; the
    years it holds count as covered (no :class:`CalendarCoverageWarning`). A year is taken
    whole: a year with rows is the year's arrangement, its other days ordinary (Saturday and
    Sunday off). Registering the same arrangement again changes nothing; another one replaces
    it, and the empty one removes it.

    Args:
        holidays: public holidays (days off, weekends inside a holiday stretch included) ->
            the holiday's name as the package spells it (e.g. ``"Spring Festival"``).
        workdays: make-up working days (a Saturday or Sunday worked) -> the holiday they make
            up for.

    Raises:
        ValueError: a day in a year the package covers or before it, years that do not follow
            the package's coverage without a gap, or a make-up day that is not a weekend day
            (:mod:`rainmaker.calendar_file` reports these per line first).
    """
    global _extra_holidays, _extra_workdays, _extra_years, _generation
    span = package_years()
    years = sorted({d.year for d in (*holidays, *workdays)})
    if years and (years[0] != span.stop or years != list(range(years[0], years[-1] + 1))):
        raise ValueError(
            f"a calendar arrangement must give the years right after the holiday package's "
            f"coverage ({span.start}-{span.stop - 1}) without a gap, from {span.stop}; got "
            f"{', '.join(map(str, years))}"
        )
    weekdays = sorted(d for d in workdays if d.weekday() < 5)
    if weekdays:
        raise ValueError(f"make-up working days must be a Saturday or Sunday; got {weekdays[0]}")
    new_holidays, new_workdays = dict(holidays), dict(workdays)
    if new_holidays == _extra_holidays and new_workdays == _extra_workdays:
        return
    _extra_holidays, _extra_workdays = new_holidays, new_workdays
    _extra_years = range(years[0], years[-1] + 1) if years else range(0)
    # every cache of the calendar was computed with the old arrangement
    _day_flags.cache_clear()
    _WIDE.wide = None
    _generation += 1
    for listener in _listeners:
        listener()


def on_arrangement_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` (no arguments) whenever :func:`use_arrangement` changes the calendar:
    for a module that keeps calendar features of its own."""
    _listeners.append(listener)


# The sides of the package's coverage already warned about in this process: "before" its first
# year, "after" its last. One warning per side, for all its years, so that a replay stepping
# through decades past the coverage says so once, not once a year.
_warned_sides: set[str] = set()


def _warn_uncovered(years: set[int]) -> None:
    """Warn once per process for the years before, and once for the years after, the holiday
    package's coverage, which fall back to weekends only."""
    span = covered_years()
    labels = {
        "before": f"the years before {span.start}" if any(y < span.start for y in years) else "",
        "after": f"{span.stop} and later" if any(y >= span.stop for y in years) else "",
    }
    for side, label in labels.items():
        if not label or side in _warned_sides:
            continue
        _warned_sides.add(side)
        warnings.warn(
            f"the Chinese holiday calendar covers {span.start}-{span.stop - 1}; for "
            f"{label} rainmaker assumes weekends only (no public holidays, no make-up working "
            "days), so holiday effects are missing for those days",
            CalendarCoverageWarning,
            stacklevel=3,
        )


@lru_cache(maxsize=64)
def _day_flags(start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per calendar day: working day, public holiday, make-up day and holiday name."""
    dates = pd.date_range(start, end, freq="D")
    span = covered_years()
    # the package's years and the arrangement's do not overlap (use_arrangement)
    holidays = ChainMap(chinese_calendar.holidays, _extra_holidays)
    makeup = ChainMap(chinese_calendar.workdays, _extra_workdays)
    weekday = dates.day_of_week.to_numpy()
    is_weekend = weekday >= 5
    is_public_holiday = np.zeros(len(dates), dtype=bool)
    is_makeup = np.zeros(len(dates), dtype=bool)
    names = np.full(len(dates), "", dtype=object)
    for i, ts in enumerate(dates):
        day = ts.date()
        if day.year not in span:
            continue
        if day in holidays:
            is_public_holiday[i] = True
            names[i] = holidays[day]
        elif day in makeup and is_weekend[i]:
            is_makeup[i] = True
            names[i] = makeup[day]
    is_workday_ = (~is_weekend | is_makeup) & ~is_public_holiday
    return pd.DataFrame(
        {
            "is_workday": is_workday_,
            "is_weekend": is_weekend,
            "is_public_holiday": is_public_holiday,
            "is_makeup_workday": is_makeup,
            "holiday_name": names,
        },
        index=pd.DatetimeIndex(dates, name="date"),
    )


def _stretches(flags: pd.DataFrame) -> list[tuple[int, int]]:
    """(first, last) positions of every holiday stretch in ``flags``."""
    off = ~flags["is_workday"].to_numpy()
    public = flags["is_public_holiday"].to_numpy()
    out: list[tuple[int, int]] = []
    i, n = 0, len(off)
    while i < n:
        if not off[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and off[j + 1]:
            j += 1
        if public[i : j + 1].any():
            out.append((i, j))
        i = j + 1
    return out


def _adjusted_day_of_month(flags: pd.DataFrame, day: int, *, backward: bool) -> np.ndarray:
    """Mark, in each month, the working day nearest to ``day`` (on or before it when
    ``backward``, else on or after it)."""
    index = flags.index
    workday = flags["is_workday"].to_numpy()
    mark = np.zeros(len(index), dtype=bool)
    positions = np.flatnonzero(index.day == day)
    for pos in positions:
        step = -1 if backward else 1
        p = pos
        while 0 <= p < len(index) and not workday[p]:
            p += step
        if 0 <= p < len(index) and index[p].month == index[pos].month:
            mark[p] = True
    return mark


def calendar_features(
    start: str | dt.date | pd.Timestamp, end: str | dt.date | pd.Timestamp
) -> pd.DataFrame:
    """Calendar features for every calendar day from ``start`` to ``end`` inclusive.

    A margin of 180 days is computed on both sides so that features near the edges (days to the
    next holiday, pre-holiday business days) are right; only [start, end] is returned.

    Returns:
        Frame indexed by ``date`` (daily ``DatetimeIndex``) with columns:

        - ``is_workday``, ``is_weekend``, ``is_public_holiday``, ``is_makeup_workday`` (bool);
        - ``holiday_name`` (str, ``""`` on ordinary days; on a make-up day, the holiday it
          makes up for);
        - ``in_holiday`` (bool): the day is inside a holiday stretch;
        - (the counts below are NaN where no stretch lies within 180 days, which happens only
          in fallback years without holiday data)
        - ``days_to_holiday`` (calendar days to the first day of the next stretch; 0 inside one),
          ``days_since_holiday`` (calendar days since the last day of the previous stretch;
          0 inside one), ``holiday_length`` (days in the next or current stretch);
        - ``business_days_to_holiday``: working days from this day (inclusive) to the next
          stretch, so the last working day before a holiday is 1 and a day inside one is 0;
        - ``business_days_after_holiday``: working days since the last stretch ended, counting
          this day, so the first working day after a holiday is 1;
        - ``days_to_next_workday``: calendar days until the next working day (1 on a Monday to
          Thursday without holiday; 3 on an ordinary Friday). Money subscribed today starts
          earning on that day, so ``days_to_next_workday - 1`` days of income are lost;
        - ``day_of_week`` (0 = Monday), ``day_of_month``, ``month``, ``quarter``;
        - ``days_to_month_end`` (0 on the last day), ``is_month_end_window`` (last
          ``MONTH_END_WINDOW_DAYS`` days), ``is_quarter_end_window`` (last
          ``QUARTER_END_WINDOW_DAYS`` days of March, June, September, December),
          ``is_quarter_start_window`` (first ``QUARTER_START_WINDOW_DAYS`` days of a quarter);
        - ``is_payday`` (the working day on or before the 10th and the 15th),
          ``is_tax_deadline`` (the 15th, moved to the next working day).
    """
    start_ts = pd.Timestamp(start).normalize()
    end_ts = pd.Timestamp(end).normalize()
    if end_ts < start_ts:
        raise ValueError(
            f"calendar_features: end {end_ts.date()} is before start {start_ts.date()}"
        )
    _warn_uncovered(set(range(start_ts.year, end_ts.year + 1)) - set(covered_years()))
    cut = _WIDE.cut(start_ts, end_ts)
    if cut is not None:
        return cut
    return _features(start_ts - _MARGIN, end_ts + _MARGIN).frame.loc[start_ts:end_ts].copy()


@dataclass(frozen=True)
class _Computed:
    """The features of every day of a window, with the window's holiday stretches (first and
    last days)."""

    frame: pd.DataFrame
    firsts: pd.DatetimeIndex
    lasts: pd.DatetimeIndex


class _WideWindow:
    """The features of a wide window, computed once and cut for every later request.

    :func:`calendar_features` looks :data:`_MARGIN` days beyond the days asked for, so a day's
    features could in principle depend on the window asked for: a count to a holiday stretch
    more than the margin away is NaN in a narrow window and a number in a wide one, and a
    stretch cut by the window's edge is shorter. A cut of the wide window is therefore handed
    out only when the stretches every day of it refers to (the next one after the last day, the
    previous one before the first day) lie strictly inside the narrow window: then every column
    equals what the narrow window gives, day by day. Otherwise (years without holiday data, a
    window that the wide one does not hold) the narrow window is computed as before.
    """

    def __init__(self) -> None:
        self.wide: _Computed | None = None

    def cut(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame | None:
        wide = self.holding(start, end)
        return None if wide is None else wide.loc[start:end].copy()

    def holding(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame | None:
        """The wide window's frame (not a copy) when its cut [start, end] is exact, else None."""
        first, last = start - _MARGIN, end + _MARGIN
        wide = self.wide
        if wide is None or first < wide.frame.index[0] or last > wide.frame.index[-1]:
            lo, hi = first - _WIDE_EXTRA, last + _WIDE_EXTRA
            if wide is not None:
                lo, hi = min(lo, wide.frame.index[0]), max(hi, wide.frame.index[-1])
            if (hi - lo).days > _WIDE_MAX_DAYS:
                return None
            wide = self.wide = _features(lo, hi)
        # The stretch of (or next after) the last day, and the one before the first day.
        upcoming = int(wide.lasts.searchsorted(end, side="left"))
        previous = int(wide.lasts.searchsorted(start, side="left")) - 1
        if upcoming >= len(wide.lasts) or not wide.lasts[upcoming] < last:
            return None
        if previous < 0 or not wide.firsts[previous] > first:
            return None
        return wide.frame


def _features(first_day: pd.Timestamp, last_day: pd.Timestamp) -> _Computed:
    """The features of every day of [first_day, last_day], looking no further (see
    :func:`calendar_features`)."""
    flags = _day_flags(first_day.date(), last_day.date()).copy()
    n = len(flags)
    index = flags.index
    workday = flags["is_workday"].to_numpy()

    stretches = _stretches(flags)
    firsts = np.array([f for f, _ in stretches], dtype=float)
    lasts = np.array([last for _, last in stretches], dtype=float)
    positions = np.arange(n)
    in_holiday = np.zeros(n, dtype=bool)
    for first, last in stretches:
        in_holiday[first : last + 1] = True
    # The stretch holding day i or the next one after it: the first whose last day is >= i.
    upcoming = np.searchsorted(lasts, positions, side="left")
    has_next = upcoming < len(stretches)
    nxt = np.minimum(upcoming, max(len(stretches) - 1, 0))
    days_to = np.where(
        has_next, np.maximum(firsts[nxt] - positions, 0) if stretches else np.nan, np.nan
    )
    length = np.where(has_next, lasts[nxt] - firsts[nxt] + 1 if stretches else np.nan, np.nan)
    # The last stretch that ended before day i.
    previous = upcoming - 1
    has_prev = previous >= 0
    prv = np.maximum(previous, 0)
    days_since = np.where(has_prev, positions - lasts[prv] if stretches else np.nan, np.nan)
    days_since[in_holiday] = 0

    # Working-day counts to the next stretch and since the last one.
    bdays_to = np.full(n, np.nan)
    count: float = np.nan
    for i in range(n - 1, -1, -1):
        if in_holiday[i]:
            count = 0
            bdays_to[i] = 0
            continue
        if not np.isnan(count) and workday[i]:
            count += 1
        bdays_to[i] = count
    bdays_after = np.full(n, np.nan)
    count = np.nan
    for i in range(n):
        if in_holiday[i]:
            count = 0
            bdays_after[i] = 0
            continue
        if not np.isnan(count) and workday[i]:
            count += 1
        bdays_after[i] = count

    to_next_workday = np.full(n, np.nan)
    next_workday: int | None = None
    for i in range(n - 1, -1, -1):
        if next_workday is not None:
            to_next_workday[i] = next_workday - i
        if workday[i]:
            next_workday = i

    month_end = index + pd.offsets.MonthEnd(0)
    days_to_month_end = (month_end - index).days.to_numpy()
    is_quarter_end_month = np.isin(index.month, (3, 6, 9, 12))
    is_quarter_start_month = np.isin(index.month, (1, 4, 7, 10))
    is_payday = np.zeros(n, dtype=bool)
    for day in PAYDAYS_OF_MONTH:
        is_payday |= _adjusted_day_of_month(flags, day, backward=True)

    flags["in_holiday"] = in_holiday
    flags["days_to_holiday"] = days_to
    flags["days_since_holiday"] = days_since
    flags["holiday_length"] = length
    flags["business_days_to_holiday"] = bdays_to
    flags["business_days_after_holiday"] = bdays_after
    flags["days_to_next_workday"] = to_next_workday
    flags["day_of_week"] = index.day_of_week
    flags["day_of_month"] = index.day
    flags["month"] = index.month
    flags["quarter"] = index.quarter
    flags["days_to_month_end"] = days_to_month_end
    flags["is_month_end_window"] = days_to_month_end < MONTH_END_WINDOW_DAYS
    flags["is_quarter_end_window"] = is_quarter_end_month & (
        days_to_month_end < QUARTER_END_WINDOW_DAYS
    )
    flags["is_quarter_start_window"] = is_quarter_start_month & (
        index.day <= QUARTER_START_WINDOW_DAYS
    )
    flags["is_payday"] = is_payday
    flags["is_tax_deadline"] = _adjusted_day_of_month(flags, TAX_DEADLINE_DAY, backward=False)
    return _Computed(
        flags,
        pd.DatetimeIndex(index[[f for f, _ in stretches]]),
        pd.DatetimeIndex(index[[last for _, last in stretches]]),
    )


_MARGIN = pd.Timedelta(days=180)
# The wide window reaches this far beyond the first request, and grows up to this many days.
_WIDE_EXTRA = pd.Timedelta(days=2 * 366)
_WIDE_MAX_DAYS = 40 * 366
_WIDE = _WideWindow()


def wide_calendar(
    start: str | dt.date | pd.Timestamp, end: str | dt.date | pd.Timestamp
) -> pd.DataFrame | None:
    """A frame of :func:`calendar_features` over a window holding [start, end] whose rows
    [start, end] are exactly ``calendar_features(start, end)``, or None when there is none
    (then call :func:`calendar_features`). The frame is shared: do not modify it."""
    start_ts = pd.Timestamp(start).normalize()
    end_ts = pd.Timestamp(end).normalize()
    if end_ts < start_ts:
        return None
    _warn_uncovered(set(range(start_ts.year, end_ts.year + 1)) - set(covered_years()))
    return _WIDE.holding(start_ts, end_ts)


def is_workday(day: str | dt.date | pd.Timestamp) -> bool:
    """Whether ``day`` is a Chinese working day (make-up days count, holidays do not)."""
    d = pd.Timestamp(day).date()
    _warn_uncovered({d.year} - set(covered_years()))
    return bool(_day_flags(d, d)["is_workday"].iloc[0])


def next_workday(day: str | dt.date | pd.Timestamp) -> pd.Timestamp:
    """The first working day strictly after ``day``."""
    d = pd.Timestamp(day).normalize()
    flags = _day_flags((d + pd.Timedelta(days=1)).date(), (d + pd.Timedelta(days=40)).date())
    return pd.Timestamp(flags.index[flags["is_workday"].to_numpy()][0])


def workday_flags(start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Chinese working days (make-up days count) by calendar day, from ``start`` to ``end``.

    These are the days the interbank market trades and the days counted by "maturing within 5
    trading days", as in :mod:`simulate.portfolio` (which counts them with :class:`Workdays`).
    """
    start_ts, end_ts = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    covered = set(range(start_ts.year, end_ts.year + 1)) <= set(covered_years())
    wide = _WIDE.holding(start_ts, end_ts) if covered and start_ts <= end_ts else None
    if wide is not None:
        # the one column of the wide window's cut (what calendar_features would copy whole
        # first): the plan asks for these flags every morning of a backtest
        return wide["is_workday"].loc[start_ts:end_ts].astype(bool)
    features = calendar_features(start, end)
    return features["is_workday"].astype(bool)


# ---------------------------------------------------------------------- fast day arithmetic
# calendar_features answers one span at a time and builds a frame per call, too slow for a replay
# that asks "what is the next working day?" tens of thousands of times. Workdays reads the same
# calendar once per span of years into a boolean array indexed by day number (days since
# 1970-01-01) and answers from it; outside the holiday package's coverage it falls back to
# weekends only, as calendar_features does.

_EPOCH = np.datetime64("1970-01-01", "D")
# The calendar is loaded in blocks this many days wide around the days asked for.
_BLOCK_DAYS = 3 * 366


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def day_number(day: str | dt.date | pd.Timestamp | np.datetime64) -> int:
    """Calendar day as an integer: days since 1970-01-01 (the time of day is ignored)."""
    return pd.Timestamp(day).toordinal() - _EPOCH_ORDINAL


@lru_cache(maxsize=1 << 16)
def to_timestamp(number: int) -> pd.Timestamp:
    """Inverse of :func:`day_number` (cached: the replay converts the same few hundred days
    hundreds of thousands of times)."""
    return pd.Timestamp(_EPOCH + np.timedelta64(int(number), "D"))


class Workdays:
    """Chinese working days (make-up days count, public holidays and weekends do not).

    Days are integers from :func:`day_number`; the calendar grows on demand.
    """

    def __init__(self) -> None:
        self._first = 0
        self._flags = np.zeros(0, dtype=bool)
        self._generation = _generation

    def _ensure(self, first: int, last: int) -> None:
        """Load the calendar so that days ``first`` .. ``last`` are covered."""
        if self._generation != _generation:
            # the arrangement changed since these flags were read (use_arrangement)
            self._flags = np.zeros(0, dtype=bool)
            self._generation = _generation
        have_last = self._first + len(self._flags) - 1
        if len(self._flags) and self._first <= first and last <= have_last:
            return
        lo = min(first, self._first) if len(self._flags) else first
        hi = max(last, have_last) if len(self._flags) else last
        lo -= _BLOCK_DAYS // 3
        # Read ahead, but not past the holiday package's coverage: the calendar warns about
        # uncovered years, and should only do so when such a day is really asked for.
        covered_end = day_number(f"{covered_years().stop - 1}-12-31")
        hi = max(hi, min(hi + _BLOCK_DAYS, covered_end))
        features = calendar_features(to_timestamp(lo), to_timestamp(hi))
        self._first = lo
        self._flags = features["is_workday"].to_numpy(dtype=bool)

    def is_workday(self, day: int) -> bool:
        """Whether day number ``day`` is a working day."""
        self._ensure(day, day)
        return bool(self._flags[day - self._first])

    def on_or_after(self, day: int) -> int:
        """The first working day on or after ``day``."""
        d = day
        while not self.is_workday(d):
            d += 1
        return d

    def next_workday(self, day: int) -> int:
        """The first working day strictly after ``day``."""
        return self.on_or_after(day + 1)

    def before_days_off(self, day: int) -> bool:
        """Whether ``day`` is the last working day before days off (a Friday, the eve of a
        holiday): what is held that night pays the days off, when the interbank market is
        closed."""
        return self.is_workday(day) and not self.is_workday(day + 1)

    def add_workdays(self, day: int, n: int) -> int:
        """The ``n``-th working day after ``day`` (``n`` ≥ 1); ``day`` itself is not counted."""
        d = day
        for _ in range(n):
            d = self.next_workday(d)
        return d
