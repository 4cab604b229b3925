"""Flows booked on working days only (forecast/booking.py): found, unbooked, booked again."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from forecast import Forecaster, ForecastFallbackWarning, run_forecast
from forecast.booking import (
    book_days_off,
    borrow_weekday_error,
    days_off_before,
    holiday_shares,
    shut_on_days_off,
    weekend_shares,
)
from forecast.toy_data import toy_dataset
from rainmaker.china_calendar import workday_flags
from rainmaker.dataset import Dataset


def test_a_flow_booked_on_working_days_only_is_found_by_hand() -> None:
    # four weeks, Monday 2021-03-01 to Sunday 03-28: eight weekend days
    off = np.array([d.weekday() >= 5 for d in pd.date_range("2021-03-01", "2021-03-28")])
    on = np.where(off, 0.0, 5.0)
    once = on.copy()
    once[np.flatnonzero(off)[3]] = 1.0  # one weekend day with a flow
    young = on.copy()
    young[:10] = np.nan  # six known weekend days: too few to tell
    history = np.column_stack([on, once, np.zeros(28), young])
    np.testing.assert_array_equal(
        shut_on_days_off(history, off), [True, False, False, False]
    )  # the third is dormant, not booked on working days


def test_days_off_before_each_day_by_hand() -> None:
    off = np.array([0, 1, 1, 0, 0, 1, 0, 1], dtype=bool)
    np.testing.assert_array_equal(days_off_before(off), [0, 0, 1, 2, 0, 0, 1, 0])
    # the history ended on two days off
    np.testing.assert_array_equal(days_off_before(off[3:], already=2), [2, 0, 0, 1, 0])


def test_the_share_of_a_holidays_day_is_read_from_the_days_after_holidays_by_hand() -> None:
    # a year from Monday 2021-03-01 with three holidays: Wednesday to Friday of week 10, the
    # week 30 (Monday to Friday: with its weekends nine days off) and Thursday-Friday of week 40
    # (four days off). Working days book 10 (after a working day), a holiday's day has 3 of a
    # working day's 10, a weekend's day 5: a Monday books 10 + 2 x 5 = 20, the Monday after
    # the first holiday 10 + 5 x 3 = 25
    off = np.array([d.weekday() >= 5 for d in pd.date_range("2021-03-01", periods=364)])
    for first, last in ((7 * 10 + 2, 7 * 10 + 4), (7 * 30, 7 * 30 + 4), (7 * 40 + 3, 7 * 40 + 4)):
        off[first : last + 1] = True
    before = days_off_before(off)
    share = np.where(before >= 3, 0.3, 0.5)
    booked = np.where(off, 0.0, 10.0 * (1.0 + share * before))
    noisy = booked.copy()
    noisy[np.flatnonzero(~off & (before >= 3))[0]] = 60.0  # one heavy day: the median holds
    young = booked.copy()
    young[: 7 * 35] = np.nan  # one holiday in its history: too few
    nothing = np.where(off, 0.0, 10.0)  # the day after a holiday like any day
    nothing[~off & (before >= 3)] = 8.0
    shares = holiday_shares(np.column_stack([booked, noisy, young, nothing]), off)
    np.testing.assert_allclose(shares[0], [0.3, 0.3, 0.3])
    assert shares[1][0] == pytest.approx((60 / 10 - 1) / 5) and np.median(
        shares[1]
    ) == pytest.approx(0.3)
    assert shares[2].size == 0
    np.testing.assert_array_equal(shares[3], [0, 0, 0])  # fewer orders: not negative ones


def test_the_working_day_after_a_holiday_books_its_days_by_hand() -> None:
    # horizon Mon Tue Wed(off) Thu(off) Fri(off) Sat Sun Mon Tue, after a weekend
    ahead_off = np.array([0, 0, 1, 1, 1, 1, 1, 0, 0], dtype=bool)
    before = days_off_before(ahead_off, already=2)
    np.testing.assert_array_equal(before, [2, 0, 0, 1, 2, 3, 4, 5, 0])
    point = np.array([[18.0, 10, 0, 0, 0, 0, 0, 18, 12], [5, 5, 5, 5, 5, 5, 5, 5, 5]])
    paths = np.stack([point, 2 * point], axis=1)
    shares = [np.array([0.2, 0.4, 0.6]), np.zeros(0)]
    rng = np.random.default_rng(0)
    new_point, new_paths = book_days_off(point, paths, before, ahead_off, shares, rng)
    # the Monday after the weekend keeps the model's 18; the Monday after five days off books
    # the ordinary level (10 + 12) / 2 = 11 times 1 + 5 x 0.4 (the median share)
    np.testing.assert_allclose(new_point[0], [18, 10, 0, 0, 0, 0, 0, 33, 12])
    # each path draws one past holiday's share: 11 x (1 + 5 x share) x its own error (1, 2)
    drawn = (new_paths[0, :, 7] / 11 / np.array([1, 2]) - 1) / 5
    assert set(np.round(drawn, 9)) <= {0.2, 0.4, 0.6}
    np.testing.assert_allclose(new_paths[0][:, :7], paths[0][:, :7])
    np.testing.assert_array_equal(new_point[1], point[1])  # no share: as it was
    np.testing.assert_array_equal(new_paths[1], paths[1])


def test_the_share_of_a_weekend_day_is_read_from_the_mondays_by_hand() -> None:
    # the year of the test above: a weekend's day has 5 of a working day's 10, so each Monday
    # (two days off before it) books 10 + 2 x 5 = 20: w = (20 / 10 - 1) / 2 = 0.5, one a week
    # (the 51 Mondays after the first day, less the one inside the week off and the three after
    # a holiday: 47); a flow whose Mondays book as a working day gives 0
    off = np.array([d.weekday() >= 5 for d in pd.date_range("2021-03-01", periods=364)])
    for first, last in ((7 * 10 + 2, 7 * 10 + 4), (7 * 30, 7 * 30 + 4), (7 * 40 + 3, 7 * 40 + 4)):
        off[first : last + 1] = True
    before = days_off_before(off)
    booked = np.where(off, 0.0, 10.0 * (1.0 + np.where(before >= 3, 0.3, 0.5) * before))
    flat = np.where(off, 0.0, 10.0)
    shares = weekend_shares(np.column_stack([booked, flat]), off)
    mondays = int((~off & (before == 2)).sum())
    assert mondays == 47
    np.testing.assert_allclose(shares[0], np.full(mondays, 0.5))
    np.testing.assert_array_equal(shares[1], np.zeros(mondays))


def test_the_working_day_after_a_single_day_off_books_it_by_hand() -> None:
    # horizon Fri Sat(worked) Sun(off) Mon Tue Wed: Monday follows one day off (the make-up
    # Saturday was worked), so it books its own orders and Sunday's, 1 + 1 x w working days'
    ahead_off = np.array([0, 0, 1, 0, 0, 0], dtype=bool)
    before = days_off_before(ahead_off)
    np.testing.assert_array_equal(before, [0, 0, 0, 1, 0, 0])
    point = np.array([[10.0, 10.0, 0.0, 19.0, 12.0, 8.0]])
    paths = np.stack([point, 2 * point], axis=1)
    holidays = [np.array([0.3, 0.3, 0.3])]  # no holiday in the horizon: not used
    weekends = [np.array([0.4, 0.5, 0.6])]
    rng = np.random.default_rng(0)
    new_point, new_paths = book_days_off(point, paths, before, ahead_off, holidays, rng, weekends)
    # the ordinary level is (10 + 10 + 12 + 8) / 4 = 10, the Monday books 10 x (1 + 0.5): the
    # models' 19 (a Monday after two days off) was 4 too many
    np.testing.assert_allclose(new_point[0], [10, 10, 0, 15, 12, 8])
    drawn = new_paths[0, :, 3] / 10 / np.array([1, 2]) - 1
    assert set(np.round(drawn, 9)) <= {0.4, 0.5, 0.6}
    np.testing.assert_array_equal(np.delete(new_paths[0], 3, axis=1), np.delete(paths[0], 3, 1))
    # without the weekend shares the day is left to the models, as before
    same_point, same_paths = book_days_off(point, paths, before, ahead_off, holidays, rng)
    np.testing.assert_array_equal(same_point, point)
    np.testing.assert_array_equal(same_paths, paths)


def test_a_make_up_weekend_day_borrows_the_band_of_the_nearest_working_weekday() -> None:
    # horizon Fri Sat(worked) Sun(off) Mon Tue; the models' paths on the Saturday have no
    # spread (a booked feed's Saturdays were 0 and forecast 0 in their backtest)
    ahead_off = np.array([0, 0, 1, 0, 0], dtype=bool)
    weekend = np.array([0, 1, 1, 0, 0], dtype=bool)
    point = np.array([[10.0, 4.0, 0.0, 12.0, 10.0], [10.0, 4.0, 0.0, 12.0, 10.0]])
    paths = np.stack([point * 0.5, point * 1.0, point * 2.0], axis=1)
    paths[:, :, 1] = 4.0
    out = borrow_weekday_error(point, paths, ahead_off, weekend, np.array([True, False]))
    # Friday (one day away, before Monday's three) lends its relative errors 0.5, 1, 2
    np.testing.assert_allclose(out[0, :, 1], [2.0, 4.0, 8.0])
    np.testing.assert_array_equal(np.delete(out[0], 1, axis=1), np.delete(paths[0], 1, axis=1))
    np.testing.assert_array_equal(out[1], paths[1])  # booked every day: its own band


def _booked_on_workdays(dataset: Dataset, product: str) -> Dataset:
    """``dataset`` with ``product``'s days off moved to the next working day (CNY)."""
    flows = dataset.flows.sort_values(["product_id", "date"], ignore_index=True)
    work = workday_flags(flows["date"].min(), flows["date"].max())
    mine = flows["product_id"] == product
    rows = flows.loc[mine]
    off = ~rows["date"].map(work).to_numpy(dtype=bool)
    booking = np.searchsorted(np.flatnonzero(~off), np.arange(len(rows)))
    keep = booking < (~off).sum()
    for column in ("subscriptions", "redemptions", "demand"):
        values = rows[column].to_numpy(dtype=float)
        moved = np.zeros_like(values)
        np.add.at(moved, np.flatnonzero(~off)[booking[keep]], values[keep])
        moved[~keep] = values[~keep]
        flows.loc[mine, column] = moved
    return dataclasses.replace(dataset, flows=flows)


def test_the_first_working_day_after_a_long_holiday_carries_its_orders() -> None:
    """National Day 2020 (1-8 October, eight days off): a feed of T+1 confirmations books its
    orders on Friday 9 October. Forecast from Wednesday 30 September, the product's days off are
    0 and the 9th carries the holiday's orders: its median is within 10 % of what was booked
    (CNY 9.9 m, about three ordinary days' worth) and its band holds it, where the models
    alone put it at 6.4 m, p90 8.8 m."""
    dataset = _booked_on_workdays(toy_dataset(2, "2019-06-01", "2020-12-31", seed=5), "T0001")
    result = run_forecast(dataset, as_of="2020-09-30", horizon=14, model="ets")
    table = result.table

    def flow(product: str) -> pd.DataFrame:
        mine = (table["product_id"] == product) & (table["variable"] == "subscriptions")
        return table.loc[mine].set_index("date")

    subs = flow("T0001")
    assert (subs.loc["2020-10-01":"2020-10-08", ["mean", "p10", "p90"]] == 0).all().all()
    flows = dataset.flows
    booked = flows.loc[
        (flows["product_id"] == "T0001") & (flows["date"] == "2020-10-09"), "subscriptions"
    ].item()
    assert subs.loc["2020-10-09", "p10"] <= booked <= subs.loc["2020-10-09", "p90"]
    assert abs(subs.loc["2020-10-09", "p50"] / booked - 1) < 0.1
    # the other product books every day: its days off are forecast as days
    theirs = flow("T0002")
    assert (theirs.loc["2020-10-01":"2020-10-08", "mean"] > 0).all()
    assert any("the working day after a holiday books its orders" in w for w in result.warnings)


def test_a_booked_flow_forecast_before_a_holiday_uses_no_later_row() -> None:
    """The share of a day off is read from rows up to the as-of day only: forecasts from a
    Wednesday and from the Saturday that begins Qingming 2021 (3 to 5 April off, booked on
    Tuesday 6) are the same with the later rows present."""
    dataset = _booked_on_workdays(toy_dataset(2, "2020-01-01", "2021-05-31", seed=5), "T0001")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        full = Forecaster(horizon=14, models=("seasonal_naive", "ets"), seed=0).fit(
            dataset, "2021-03-27"
        )
        cut = Forecaster(horizon=14, models=("seasonal_naive", "ets"), seed=0).fit(
            dataset.up_to("2021-03-27"), "2021-03-27"
        )
        for day in ("2021-03-31", "2021-04-03"):
            expected = cut.predict(dataset.up_to(day), day).table
            pd.testing.assert_frame_equal(full.predict(dataset, day).table, expected)
