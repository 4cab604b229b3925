"""Tests of a data set's calendar.csv: the holiday arrangement of the years after the holiday
package's coverage (rainmaker.calendar_file, rainmaker.china_calendar.use_arrangement).

The arrangement used here is made up for the tests (a nine-day Spring Festival from Saturday
6 February of the first uncovered year's calendar, a make-up Saturday after it); it is not an
announcement.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pandas as pd
import pytest

from rainmaker import china_calendar
from rainmaker.calendar_file import arrangement_of, arrangement_problems
from rainmaker.china_calendar import (
    CalendarCoverageWarning,
    Workdays,
    calendar_features,
    covered_years,
    day_number,
    package_years,
    use_arrangement,
    workday_flags,
)
from rainmaker.dataset import load_dataset
from rainmaker.errors import DataError
from tests.conftest import write_dataset

YEAR = package_years().stop  # the first year the package does not cover


def _day(month: int, day: int) -> dt.date:
    return dt.date(YEAR, month, day)


def _festival() -> tuple[dict[dt.date, str], dict[dt.date, str]]:
    """Nine days off from 6 February, and the Saturday after the next one worked."""
    first = _day(2, 6)
    days_off = {first + dt.timedelta(days=i): "Spring Festival" for i in range(9)}
    saturday = _day(2, 20) + dt.timedelta(days=(5 - _day(2, 20).weekday()) % 7)
    return days_off, {saturday: "Spring Festival"}


def test_an_arrangement_makes_its_holidays_days_off_and_its_make_up_day_worked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(china_calendar, "_warned_sides", set())
    holidays, workdays = _festival()
    (saturday,) = workdays
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = calendar_features(_day(2, 1), _day(2, 28))
    assert any(issubclass(w.category, CalendarCoverageWarning) for w in caught)
    assert not before["in_holiday"].any()

    use_arrangement(holidays, workdays)
    assert covered_years().stop == YEAR + 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        after = calendar_features(_day(2, 1), _day(2, 28))
    assert not any(issubclass(w.category, CalendarCoverageWarning) for w in caught)
    stretch = after.loc[pd.Timestamp(_day(2, 6)) : pd.Timestamp(_day(2, 14))]
    assert stretch["in_holiday"].all() and not stretch["is_workday"].any()
    assert (stretch["holiday_length"] == 9).all()
    assert (stretch["holiday_name"] == "Spring Festival").all()
    # the last working day before the stretch, and the make-up Saturday
    assert after.loc[pd.Timestamp(_day(2, 5)), "business_days_to_holiday"] == 1
    assert after.loc[pd.Timestamp(saturday), "is_makeup_workday"]
    assert after.loc[pd.Timestamp(saturday), "is_workday"]


def test_the_calendars_read_before_an_arrangement_are_read_again() -> None:
    # the replay keeps a Workdays for the whole run and the forecast keeps its feature
    # matrices: both were read with weekends only and must follow the arrangement
    from forecast.features import CALENDAR_COLUMNS, calendar_matrix

    start, end = pd.Timestamp(_day(2, 1)), pd.Timestamp(_day(2, 28))
    days = Workdays()
    monday = day_number(_day(2, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalendarCoverageWarning)
        assert days.is_workday(monday)
        assert workday_flags(start, end).loc[pd.Timestamp(_day(2, 8))]
        column = CALENDAR_COLUMNS.index("in_holiday")
        assert calendar_matrix(start, end)[7, column] == 0.0
        use_arrangement(*_festival())
        assert not days.is_workday(monday)
        assert days.next_workday(monday) == day_number(_day(2, 15))
        assert not workday_flags(start, end).loc[pd.Timestamp(_day(2, 8))]
        assert calendar_matrix(start, end)[7, column] == 1.0
        use_arrangement({}, {})
        assert days.is_workday(monday)


def test_use_arrangement_refuses_a_covered_year_a_gap_and_a_weekday_make_up_day() -> None:
    covered = dt.date(YEAR - 1, 10, 1)
    with pytest.raises(ValueError, match="right after the holiday package's coverage"):
        use_arrangement({covered: "National Day"}, {})
    with pytest.raises(ValueError, match="without a gap"):
        use_arrangement({_day(1, 1): "New Year's Day", dt.date(YEAR + 2, 1, 1): "x"}, {})
    monday = _day(3, 1) + dt.timedelta(days=(0 - _day(3, 1).weekday()) % 7)
    with pytest.raises(ValueError, match="Saturday or Sunday"):
        use_arrangement({}, {monday: "Spring Festival"})
    assert covered_years() == package_years()


def _table(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["date", "kind", "holiday"])
    return frame.assign(date=pd.to_datetime(frame["date"], errors="coerce"))


def test_every_problem_of_a_calendar_file_names_its_column_and_lines() -> None:
    sunday = _day(1, 3) + dt.timedelta(days=(6 - _day(1, 3).weekday()) % 7)
    tuesday = sunday + dt.timedelta(days=2)
    table = _table(
        [
            (f"{YEAR - 1}-10-01", "holiday", "National Day"),  # line 2: covered by the package
            (sunday.isoformat(), "day off", "Spring Festival"),  # 3: unknown kind
            (tuesday.isoformat(), "holiday", "Chinese New Year"),  # 4: unknown name
            (tuesday.isoformat(), "workday", "Spring Festival"),  # 5: weekday, and twice
            ("", "holiday", "Spring Festival"),  # 6: empty date
            (f"{YEAR + 2}-01-01", "holiday", "New Year's Day"),  # 7: a year after a gap
        ]
    )
    problems = {
        (p.column, p.message.split(";")[0], p.rows) for p in arrangement_problems(table, "c")
    }
    assert problems == {
        (
            "date",
            f"a year the holiday package already covers ({package_years().start}-"
            f"{YEAR - 1}) or before it",
            (2,),
        ),
        ("kind", "expected holiday or workday", (3,)),
        ("holiday", "unknown holiday", (4,)),
        ("date", "a make-up working day on a weekday", (5,)),
        ("date", "the day is listed twice", (4, 5)),
        ("date", "empty cell", (6,)),
        ("date", "a year after a year the file does not give", (7,)),
    }
    missing = arrangement_problems(table.drop(columns="kind"), "c")
    assert [(p.column, p.message) for p in missing] == [
        ("kind", "column is missing; expected date, kind, holiday")
    ]
    with pytest.raises(DataError):
        arrangement_of(table, "c")


def test_a_data_set_with_a_calendar_file_plans_with_it(tmp_path: Path) -> None:
    holidays, workdays = _festival()
    rows = [(d, "holiday", n) for d, n in holidays.items()]
    rows += [(d, "workday", n) for d, n in workdays.items()]
    folder = write_dataset(tmp_path / "data", n_products=2, n_days=30)
    pd.DataFrame(rows, columns=["date", "kind", "holiday"]).to_csv(
        folder / "calendar.csv", index=False
    )
    assert china_calendar.is_workday(_day(2, 8)) is True
    load_dataset(folder)
    assert china_calendar.is_workday(_day(2, 8)) is False
    assert arrangement_of(_table([(str(d), k, n) for d, k, n in rows]), "c") == (
        holidays,
        workdays,
    )
    # a bad file stops the load with its lines, before anything reads the calendar
    pd.DataFrame([(f"{YEAR}-02-09", "workday", "Spring Festival")]).to_csv(
        folder / "calendar.csv", index=False, header=["date", "kind", "holiday"]
    )
    with pytest.raises(DataError, match=r"calendar\.csv, column 'date'.*line 2"):
        load_dataset(folder)
