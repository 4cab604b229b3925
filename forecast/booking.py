"""Flows booked on working days only: a feed of T+1 confirmations.

Many banks' feeds carry a day's orders on the day they are confirmed: the orders of a weekend or
a holiday land on the next working day, whose flow is then the sum of every day since the last
working day, and the flow of a day off is exactly 0 (:func:`shut_on_days_off` finds such a
flow). The models learn a booked series well where it repeats every week (weekends 0, Mondays
heavy), but the first working day after a holiday carries as many days of orders as the holiday
was long, and a short history has seen only a few holidays of each length: from the models, the
first working day after a week off looks like a Monday, or like a day after one holiday.

What a working day books is its own orders and those of the days off before it. A day off has
fewer orders than a working day (small businesses rest too), a share ``w`` of them; so a
working day after ``k`` days off books ``(1 + k·w)`` working days' orders, and an ordinary
Monday ``1 + 2w``. :func:`holiday_shares` reads ``w`` from the product's own booked history, from
the days after its holidays of the last year; :func:`book_days_off` sets the forecast of the
working day after a holiday to ``(1 + k·w)`` times the forecast's own level of an ordinary
working day, ``w`` their median, and each path to the same with the share of one past holiday
drawn for it (each path keeps its error relative to the point forecast). A working day after a
*single* day off (a make-up Sunday after the Saturday, a Monday after a make-up Saturday) books
``1 + w`` with a weekend day's share, read the same way from the product's Mondays
(:func:`weekend_shares`): the models know such a day as a Sunday or a Monday, neither of which
books one day off's orders.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "DAYS_OFF_LOOKBACK",
    "DAYS_OFF_MIN",
    "HOLIDAY_MIN_DAYS",
    "WEIGHT_LOOKBACK_DAYS",
    "WEIGHT_MIN_EVENTS",
    "book_days_off",
    "borrow_weekday_error",
    "days_off_before",
    "holiday_shares",
    "shut_on_days_off",
    "weekend_shares",
]

# A flow that was exactly 0 on every one of a product's days off in the last DAYS_OFF_LOOKBACK
# days (at least DAYS_OFF_MIN of them) is booked on working days only: 13 weeks, the span over
# which a weekly pattern is clear, and eight days off, four weekends.
DAYS_OFF_LOOKBACK = 91
DAYS_OFF_MIN = 8
# A holiday: a stretch of at least this many days off. The models learn the working day after
# an ordinary weekend from every week; a holiday's comes a few times a year, each of its own
# length. The share of a working day's orders a holiday's day has is read from the holidays of
# the last year (seven in China), at least WEIGHT_MIN_EVENTS of them: a weekend's share says
# little of it (in the sample a Monday books about twice a working day, the day after National
# Day three and a half times and the day after the Spring Festival under three).
HOLIDAY_MIN_DAYS = 3
WEIGHT_LOOKBACK_DAYS = 365
WEIGHT_MIN_EVENTS = 3
# An ordinary working day's level is the mean of the ordinary working days (after a working
# day) within this many days on either side.
LEVEL_HALF_WINDOW_DAYS = 7


def shut_on_days_off(history: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Which products' flow is booked on working days only.

    Args:
        history: the flow, days × products (CNY; NaN before a product's first day), up to the
            as-of day.
        off: whether each of those days is a day off (weekend or holiday), (days,).

    Returns:
        (products,) True where the flow was exactly 0 on each of the product's known days off
        of the last :data:`DAYS_OFF_LOOKBACK` days, at least :data:`DAYS_OFF_MIN` of them,
        and not 0 on every working day (a dormant product is not this).
    """
    recent = np.asarray(history, dtype=float)[-DAYS_OFF_LOOKBACK:]
    days_off = np.asarray(off, dtype=bool)[-DAYS_OFF_LOOKBACK:, None]
    known = np.isfinite(recent)
    n_off = (known & days_off).sum(axis=0)
    zero_off = (known & days_off & (recent == 0)).sum(axis=0)
    live = (known & ~days_off & (recent != 0)).any(axis=0)
    return (n_off >= DAYS_OFF_MIN) & (zero_off == n_off) & live


def days_off_before(off: np.ndarray, already: int = 0) -> np.ndarray:
    """How many days off run up to each day, not counting it (days,).

    Args:
        off: whether each day is a day off, (days,).
        already: days off just before the first day (the end of the history before a horizon).

    Returns:
        For each day, the length of the run of days off that ends the day before it (0 after a
        working day).
    """
    off = np.asarray(off, dtype=bool)
    before = np.zeros(len(off), dtype=int)
    run = int(already)
    for day, is_off in enumerate(off):
        before[day] = run
        run = run + 1 if is_off else 0
    return before


def holiday_shares(history: np.ndarray, off: np.ndarray) -> list[np.ndarray]:
    """The orders of a holiday's day as a share of a working day's, per product and holiday,
    from a booked flow.

    Each working day after a holiday of ``k`` days (at least :data:`HOLIDAY_MIN_DAYS`) in the
    last :data:`WEIGHT_LOOKBACK_DAYS` days books ``(1 + k·w)`` times the level of the ordinary
    working days around it (the mean of those after a working day within
    :data:`LEVEL_HALF_WINDOW_DAYS` days), so gives ``w = (flow / level − 1) / k``, not below 0
    (fewer orders than an ordinary day say nothing of the holiday's).

    Args:
        history: the booked flow, days × products (CNY; NaN where unknown), up to the as-of day.
        off: whether each of those days is a day off, (days,).

    Returns:
        Per product, the shares of its holidays in date order; empty where fewer than
        :data:`WEIGHT_MIN_EVENTS` working days after a holiday have a level to compare with.
    """
    return _stretch_shares(history, off, lambda before: before >= HOLIDAY_MIN_DAYS)


def weekend_shares(history: np.ndarray, off: np.ndarray) -> list[np.ndarray]:
    """The orders of a weekend day as a share of a working day's, per product and weekend,
    from a booked flow: :func:`holiday_shares` read on the working days after two days off
    (the Mondays, which book ``1 + 2w``).

    What a working day after a single day off books (a make-up Sunday after the Saturday, a
    Monday after a make-up Saturday): the day off is a weekend day, and the models, which know
    such a day as a Sunday or a Monday, do not know it carries one day of orders, not none or
    two.
    """
    return _stretch_shares(history, off, lambda before: before == 2)


def _stretch_shares(
    history: np.ndarray, off: np.ndarray, after: Callable[[np.ndarray], np.ndarray]
) -> list[np.ndarray]:
    """The shares of :func:`holiday_shares` read on the working days whose count of days off
    before them (:func:`days_off_before`) ``after`` selects."""
    values = np.asarray(history, dtype=float)[-WEIGHT_LOOKBACK_DAYS:]
    days_off = np.asarray(off, dtype=bool)[-WEIGHT_LOOKBACK_DAYS:]
    before = days_off_before(days_off)
    ordinary = (~days_off & (before == 0))[:, None] & np.isfinite(values)
    # the level around each day: sums over a centred window by cumulative sums
    width = LEVEL_HALF_WINDOW_DAYS
    padded = np.zeros((values.shape[0] + 1, values.shape[1]))
    counts = np.zeros_like(padded)
    padded[1:] = np.cumsum(np.where(ordinary, values, 0.0), axis=0)
    counts[1:] = np.cumsum(ordinary, axis=0)
    days = np.arange(values.shape[0])
    lo = np.maximum(days - width, 0)
    hi = np.minimum(days + width + 1, values.shape[0])
    total = padded[hi] - padded[lo]
    count = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        level = np.where(count > 0, total / count, np.nan)
        after_stretch = (~days_off & after(before))[:, None]
        event = after_stretch & np.isfinite(values) & (level > 0)
        share = np.where(event, (values / level - 1.0) / np.maximum(before, 1)[:, None], np.nan)
    enough = event.sum(axis=0) >= WEIGHT_MIN_EVENTS
    return [
        np.maximum(share[event[:, p], p], 0.0) if enough[p] else np.zeros(0)
        for p in range(values.shape[1])
    ]


def borrow_weekday_error(
    point: np.ndarray,
    paths: np.ndarray,
    ahead_off: np.ndarray,
    weekend: np.ndarray,
    booked: np.ndarray,
) -> np.ndarray:
    """Give a make-up working day of a booked flow the band of a working weekday.

    A weekend day worked (调休) is a working day of the calendar, but the models' errors on
    the weekday it falls on come from the weekends of their backtest, where a booked flow is 0
    and was forecast 0: errors of 0, a band of no width (on the sample's T+1 copy a make-up
    Saturday of CNY 244 m had a band of 236-246 m). Each path of such a day takes the relative
    error (path / point) of the nearest working weekday of the horizon, the earlier on a tie.

    Args:
        point: the point forecast of the flow, products × horizon (CNY).
        paths: its sample paths, products × paths × horizon (CNY).
        ahead_off: whether each day of the horizon is a day off, (horizon,).
        weekend: whether each day of the horizon is a Saturday or a Sunday, (horizon,).
        booked: (products,) the products whose flow is booked on working days only.

    Returns:
        New paths; other products, and products without a positive point forecast on both
        days, keep theirs.
    """
    paths = np.array(paths, dtype=float, copy=True)
    working = ~np.asarray(ahead_off, dtype=bool)
    weekend = np.asarray(weekend, dtype=bool)
    weekdays = np.flatnonzero(working & ~weekend)
    rows = np.flatnonzero(np.asarray(booked, dtype=bool))
    if not weekdays.size or not rows.size:
        return paths
    for day in np.flatnonzero(working & weekend):
        ref = int(weekdays[np.argmin(np.abs(weekdays - day))])
        ok = rows[(point[rows, day] > 0) & (point[rows, ref] > 0)]
        paths[ok, :, day] = point[ok, day, None] * paths[ok, :, ref] / point[ok, ref, None]
    return paths


def book_days_off(
    point: np.ndarray,
    paths: np.ndarray,
    before: np.ndarray,
    ahead_off: np.ndarray,
    shares: list[np.ndarray],
    rng: np.random.Generator,
    single_day_shares: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Book on the working day after a holiday its ``k`` days' orders (and, given
    ``single_day_shares``, on the working day after a single day off that day's).

    On each working day of the horizon after ``k ≥`` :data:`HOLIDAY_MIN_DAYS` days off, the
    point forecast becomes ``(1 + k·w)`` times the level of the horizon's ordinary working days
    (the mean of the point forecast on the working days after a working day), ``w`` the median
    of the product's holiday shares; each path is scaled as the point, but with the share of
    one of the product's past holidays drawn at random for it (one draw a path for the whole
    horizon), so the band holds how holidays differ as well as the models' error.

    Args:
        point: the point forecast of a booked flow, products × horizon (CNY).
        paths: its sample paths, products × paths × horizon (CNY).
        before: days off before each day of the horizon (:func:`days_off_before`), (horizon,).
        ahead_off: whether each day of the horizon is a day off, (horizon,).
        shares: per product, the shares of :func:`holiday_shares`; an empty one leaves the
            product as it is.
        rng: the draws of the holidays (seeded by the caller: the same forecast every run).
        single_day_shares: per product, the shares of :func:`weekend_shares`: on a working
            day after a single day off the same is done with ``k = 1`` and these (drawn after
            the holidays', so a horizon without such a day draws as before); ``None``: left
            to the models.

    Returns:
        New ``(point, paths)``; a product without an ordinary working day in the horizon, or
        without a positive forecast on the day, keeps its own.
    """
    point = np.array(point, dtype=float, copy=True)
    paths = np.array(paths, dtype=float, copy=True)
    before = np.asarray(before, dtype=int)
    working = ~np.asarray(ahead_off, dtype=bool)
    ordinary = working & (before == 0)
    if not ordinary.any():
        return point, paths
    # the level before any day is booked: a single day off's working day is not ordinary
    level = point[:, ordinary].mean(axis=1)
    events = [(np.flatnonzero(working & (before >= HOLIDAY_MIN_DAYS)), shares)]
    if single_day_shares is not None:
        events.append((np.flatnonzero(working & (before == 1)), single_day_shares))
    for days, per_product in events:
        if not days.size:
            continue
        for p, held in enumerate(per_product):
            if not held.size or not level[p] > 0:
                continue
            drawn = held[rng.integers(held.size, size=paths.shape[1])]
            for day in days:
                if not point[p, day] > 0:
                    continue
                k = before[day]
                paths[p, :, day] *= level[p] * (1.0 + k * drawn) / point[p, day]
                point[p, day] = level[p] * (1.0 + k * float(np.median(held)))
    return point, paths
