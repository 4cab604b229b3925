"""Tests of the Chinese business calendar against official holiday arrangements."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from rainmaker import china_calendar
from rainmaker.china_calendar import (
    CalendarCoverageWarning,
    calendar_features,
    covered_years,
    is_workday,
    next_workday,
)


@pytest.fixture(scope="module")
def autumn_2021() -> pd.DataFrame:
    return calendar_features("2021-09-01", "2021-10-31")


def test_national_day_2021_is_a_seven_day_stretch(autumn_2021: pd.DataFrame) -> None:
    golden_week = autumn_2021.loc["2021-10-01":"2021-10-07"]
    assert golden_week["in_holiday"].all()
    assert not golden_week["is_workday"].any()
    assert (golden_week["holiday_length"] == 7).all()
    assert (golden_week["holiday_name"] == "National Day").all()
    assert autumn_2021.loc["2021-10-08", "is_workday"]


def test_make_up_working_days(autumn_2021: pd.DataFrame) -> None:
    # Sunday 26 September and Saturday 9 October 2021 were working days (调休).
    for day in ("2021-09-26", "2021-10-09"):
        assert autumn_2021.loc[day, "is_makeup_workday"]
        assert autumn_2021.loc[day, "is_workday"]
    assert is_workday("2021-09-26")
    assert not is_workday("2021-10-02")


def test_pre_holiday_business_days(autumn_2021: pd.DataFrame) -> None:
    # Thursday 30 September is the last working day before National Day, Wednesday the one before.
    assert autumn_2021.loc["2021-09-30", "business_days_to_holiday"] == 1
    assert autumn_2021.loc["2021-09-29", "business_days_to_holiday"] == 2
    assert autumn_2021.loc["2021-09-30", "days_to_holiday"] == 1
    # Money subscribed on 30 September starts earning on 8 October.
    assert autumn_2021.loc["2021-09-30", "days_to_next_workday"] == 8
    assert next_workday("2021-09-30") == pd.Timestamp("2021-10-08")
    assert autumn_2021.loc["2021-10-08", "business_days_after_holiday"] == 1
    assert autumn_2021.loc["2021-10-08", "days_since_holiday"] == 1


def test_ordinary_weekend_is_not_a_holiday_stretch(autumn_2021: pd.DataFrame) -> None:
    assert not autumn_2021.loc["2021-10-16", "in_holiday"]
    assert autumn_2021.loc["2021-10-15", "days_to_next_workday"] == 3


def test_spring_festival_2021() -> None:
    cal = calendar_features("2021-02-01", "2021-02-28")
    stretch = cal[cal["in_holiday"]]
    assert stretch.index.min() == pd.Timestamp("2021-02-11")
    assert stretch.index.max() == pd.Timestamp("2021-02-17")
    assert (stretch["holiday_name"] == "Spring Festival").all()


def test_period_end_windows_and_paydays() -> None:
    cal = calendar_features("2021-03-01", "2021-04-30")
    assert cal.loc["2021-03-31", "days_to_month_end"] == 0
    assert cal.loc["2021-03-25", "is_quarter_end_window"]
    assert not cal.loc["2021-04-25", "is_quarter_end_window"]
    assert cal.loc["2021-04-01", "is_quarter_start_window"]
    assert cal.loc["2021-03-31", "is_month_end_window"]
    # 10 April 2021 was a Saturday: the payday moves back to Friday 9 April.
    assert cal.loc["2021-04-09", "is_payday"] and not cal.loc["2021-04-10", "is_payday"]
    assert cal.loc["2021-04-15", "is_payday"] and cal.loc["2021-04-15", "is_tax_deadline"]


def test_features_do_not_depend_on_the_window_asked_for() -> None:
    wide = calendar_features("2020-01-01", "2022-12-31")
    narrow = calendar_features("2021-09-20", "2021-10-10")
    pd.testing.assert_frame_equal(wide.loc[narrow.index], narrow)


def test_uncovered_year_falls_back_to_weekends_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(china_calendar, "_warned_sides", set())
    year = covered_years().stop + 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cal = calendar_features(f"{year}-01-01", f"{year}-12-31")
    assert any(issubclass(w.category, CalendarCoverageWarning) for w in caught)
    assert not cal["is_public_holiday"].any()
    assert (cal["is_workday"] == (cal.index.day_of_week < 5)).all()


def test_years_past_the_coverage_warn_once_per_side(monkeypatch: pytest.MonkeyPatch) -> None:
    # a replay far past the coverage asks year after year: one warning for all of them, and
    # one for the years before the coverage
    monkeypatch.setattr(china_calendar, "_warned_sides", set())
    span = covered_years()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for year in range(span.stop, span.stop + 30):
            calendar_features(f"{year}-01-01", f"{year}-12-31")
            is_workday(f"{year}-06-01")
        calendar_features(f"{span.start - 2}-01-01", f"{span.start}-12-31")
        calendar_features(f"{span.start - 5}-01-01", f"{span.start - 5}-12-31")
    messages = [str(w.message) for w in caught if issubclass(w.category, CalendarCoverageWarning)]
    assert len(messages) == 2
    assert f"for {span.stop} and later" in messages[0]
    assert f"for the years before {span.start}" in messages[1]


def test_covered_years_include_the_sample_period() -> None:
    years = covered_years()
    assert 2019 in years and 2022 in years


def test_one_working_day_service_answers_alike() -> None:
    """rainmaker.china_calendar is the one working-day service: the flags the optimizer plans
    with, the day arithmetic the simulator uses and the one-at-a-time questions agree, over
    National Day 2021 (make-up Saturday 09-18 and Sunday 09-26, 10-09) and an uncovered year."""
    from rainmaker.china_calendar import (
        Workdays,
        day_number,
        is_workday,
        next_workday,
        to_timestamp,
        workday_flags,
    )

    workdays = Workdays()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for start, end in (("2021-09-15", "2021-10-15"), ("2031-12-20", "2032-01-10")):
            flags = workday_flags(pd.Timestamp(start), pd.Timestamp(end))
            for day, flag in flags.items():
                n = day_number(day)
                assert workdays.is_workday(n) == bool(flag) == is_workday(day), day
                assert to_timestamp(workdays.next_workday(n)) == next_workday(day), day
    assert is_workday("2021-09-26") and not is_workday("2021-10-04")
