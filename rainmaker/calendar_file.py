"""A data set's optional ``calendar.csv``: the official holiday arrangement of the years right
after the holiday package's coverage.

The State Council announces a year's public holidays and make-up working days (调休) in the
November before; the ``chinesecalendar`` package (:mod:`rainmaker.china_calendar`) has them only
from its next release. Until then a team writes the announcement into its data set, and every
command that loads the data set plans, forecasts and replays with it
(:func:`rainmaker.china_calendar.use_arrangement`) instead of assuming weekends only.

Columns (one row per day that is not an ordinary day):

- ``date``: ISO date, in a year after the package's coverage (the years the file gives follow
  it without a gap; a year with rows is the whole year's arrangement);
- ``kind``: ``holiday`` (a day off of a public holiday's stretch, the weekend days inside it
  included, as the announcement lists them) or ``workday`` (a make-up working day: a Saturday or
  Sunday worked);
- ``holiday``: the holiday's name as the package spells it (:data:`HOLIDAY_NAMES`, e.g. ``Spring
  Festival``); for a make-up day, the holiday it makes up for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import chinese_calendar
import numpy as np
import pandas as pd

from rainmaker.china_calendar import package_years, use_arrangement
from rainmaker.errors import DataError, Problem, table_lines

__all__ = [
    "CALENDAR_COLUMNS",
    "CALENDAR_TABLE",
    "HOLIDAY_NAMES",
    "KINDS",
    "arrangement_of",
    "arrangement_problems",
    "use_calendar_of",
]

CALENDAR_TABLE = "calendar"
CALENDAR_COLUMNS = ("date", "kind", "holiday")
KINDS = ("holiday", "workday")
# The names the package gives its holidays; the forecast's features read some of them by name
# (the Spring Festival's stretch), so another spelling would be an ordinary holiday to them.
HOLIDAY_NAMES = tuple(str(h.value) for h in chinese_calendar.Holiday)


def arrangement_problems(
    table: pd.DataFrame, file: str, reported: np.ndarray | None = None
) -> list[Problem]:
    """Every problem of a ``calendar.csv`` read as stored (dates parsed), with its lines.

    Args:
        table: the table, ``date`` as datetime64 (NaT where not a date), rows in file order.
        file: its file name, for the messages.
        reported: rows whose date is not a date and was reported already (by the check of
            every table's dates, :mod:`rainmaker.validation`), so not again here.

    Returns:
        The problems (empty when the file can be used): a missing column, an empty or bad date,
        a day in a year the package covers or before it, years with a gap after the coverage, an
        unknown kind or holiday name, a make-up working day on a weekday, a day listed twice.
    """
    missing = [c for c in CALENDAR_COLUMNS if c not in table.columns]
    if missing:
        return [
            Problem(file, c, f"column is missing; expected {', '.join(CALENDAR_COLUMNS)}")
            for c in missing
        ]
    span = package_years()
    dates = pd.to_datetime(table["date"], errors="coerce")
    kind = table["kind"].astype("string").str.strip()
    name = table["holiday"].astype("string").str.strip()
    known = dates.notna().to_numpy()
    years = dates.dt.year.to_numpy(dtype=float, na_value=np.nan)
    given = sorted({int(y) for y in years[known]})
    gap = [y for y in given if y > span.stop and y - 1 not in given]
    weekday = dates.dt.day_of_week.to_numpy(dtype=float, na_value=np.nan)
    unreported = np.ones(len(table), dtype=bool) if reported is None else ~reported
    checks = (
        ("date", ~known & unreported, "empty cell; expected an ISO date YYYY-MM-DD"),
        (
            "date",
            known & (years < span.stop),
            f"a year the holiday package already covers ({span.start}-{span.stop - 1}) or "
            f"before it; expected {span.stop} or later",
        ),
        (
            "date",
            known & np.isin(years, gap),
            f"a year after a year the file does not give; expected the years from {span.stop} "
            "without a gap",
        ),
        ("kind", ~kind.isin(KINDS).fillna(False).to_numpy(), f"expected {' or '.join(KINDS)}"),
        (
            "holiday",
            ~name.isin(HOLIDAY_NAMES).fillna(False).to_numpy(),
            f"unknown holiday; expected one of {', '.join(HOLIDAY_NAMES)}",
        ),
        (
            "date",
            (kind == "workday").fillna(False).to_numpy() & known & (weekday < 5),
            "a make-up working day on a weekday; expected a Saturday or Sunday",
        ),
        (
            "date",
            known & dates.duplicated(keep=False).to_numpy(),
            "the day is listed twice; expected one row per day",
        ),
    )
    return [
        Problem(file, column, expected, *table_lines(bad))
        for column, bad, expected in checks
        if np.any(bad)
    ]


def arrangement_of(table: pd.DataFrame, file: str) -> tuple[dict[dt.date, str], dict[dt.date, str]]:
    """The public holidays and the make-up working days of a ``calendar.csv``, each day with
    its holiday's name, as :func:`rainmaker.china_calendar.use_arrangement` takes them.

    Raises:
        DataError: the problems of :func:`arrangement_problems`.
    """
    problems = arrangement_problems(table, file)
    if problems:
        raise DataError(problems)
    days = pd.to_datetime(table["date"]).dt.date
    kind = table["kind"].astype(str).str.strip()
    name = table["holiday"].astype(str).str.strip()
    off = (kind == "holiday").to_numpy()
    holidays = dict(zip(days[off], name[off], strict=True))
    workdays = dict(zip(days[~off], name[~off], strict=True))
    return holidays, workdays


def use_calendar_of(
    tables: Mapping[str, pd.DataFrame], file: str = f"{CALENDAR_TABLE}.csv"
) -> None:
    """Plan with the arrangement of a data set's ``calendar.csv`` from now on in this process
    (:func:`rainmaker.china_calendar.use_arrangement`); nothing when ``tables`` (a data set's
    optional tables by stem) has none. Loading a data set does it; so must a process handed a
    data set another process loaded (a spawned worker has the package's calendar alone).

    Raises:
        DataError: the problems of :func:`arrangement_problems`.
    """
    table = tables.get(CALENDAR_TABLE)
    if table is not None:
        use_arrangement(*arrangement_of(table, file))
