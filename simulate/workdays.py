"""Fast working-day arithmetic for the day-by-day simulation.

:mod:`rainmaker.china_calendar` answers one question at a time and builds a small frame per call,
which is too slow for a replay that asks "what is the next working day?" tens of thousands of
times. :class:`Workdays` reads the same calendar once per span of years into a boolean array
indexed by day number (days since 1970-01-01) and answers from it. Outside the holiday package's
coverage the calendar falls back to weekends only, exactly as :mod:`rainmaker.china_calendar` does.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import pandas as pd

from rainmaker.china_calendar import calendar_features, covered_years

__all__ = ["Workdays", "day_number", "to_timestamp"]

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

    def _ensure(self, first: int, last: int) -> None:
        """Load the calendar so that days ``first`` .. ``last`` are covered."""
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

    def add_workdays(self, day: int, n: int) -> int:
        """The ``n``-th working day after ``day`` (``n`` ≥ 1); ``day`` itself is not counted."""
        d = day
        for _ in range(n):
            d = self.next_workday(d)
        return d
