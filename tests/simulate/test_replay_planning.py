"""Tests of simulate.planning_policies with the real forecast and optimiser on small cases: how a
plan becomes a decision, the oracle's perfect forecast, and no look-ahead of the optimizer."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rainmaker.china_calendar import Workdays, day_number
from rainmaker.dataset import load_dataset
from rainmaker.response import ExposureResponse
from simulate.planning_policies import (
    OptimizerPolicy,
    OraclePolicy,
    perfect_forecast,
    plan_decision,
)
from simulate.policies import (
    Decision,
    DecisionAllocation,
    NoPolicy,
    ProductDecision,
    ReplayState,
)
from simulate.portfolio import Portfolio
from simulate.replay import ReplaySettings, replay
from tests.simulate.test_replay import perturbed_after

RATES = {"cash": 0.35, "repo_1d": 1.8, "repo_7d": 2.0, "ncd_1m": 2.3, "ncd_3m": 2.5, "ncd_6m": 2.6}
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
PRODUCTS = ["P01", "P06"]


@pytest.fixture(scope="module")
def sample():
    return load_dataset(SAMPLE)


def small_policy(cls):
    # the real forecaster and optimiser, on a short horizon with the cheapest model
    return cls(horizon_days=5, forecast_models=("seasonal_naive",))


def one_product_state(day: pd.Timestamp, portfolio: Portfolio) -> ReplayState:
    """The morning of ``day`` for one product "A" held in ``portfolio``."""
    return ReplayState(
        day=day,
        product_ids=("A",),
        portfolios={"A": portfolio},
        observed=lambda: None,
        replayed=pd.DataFrame,
        workdays=Workdays(),
    )


def one_row_plan(day: pd.Timestamp, **columns: object) -> pd.DataFrame:
    """The first day of a plan for one product "A": uncapped, exposure not steered, and
    ``columns`` (CNY amounts, the regime) as given."""
    base = {
        "product_id": "A",
        "date": day,
        "quota": np.nan,
        "exposure": 0.0,
        "baseline_exposure": 0.0,
        "exposure_slots": 0,
    }
    return pd.DataFrame({name: [value] for name, value in {**base, **columns}.items()})


def test_plan_rows_become_the_days_decisions() -> None:
    friday = pd.Timestamp("2021-11-12")
    dates = pd.date_range(friday, periods=4)
    plan = pd.DataFrame(
        {
            "product_id": ["A"] * 4 + ["B"] * 4,
            "date": list(dates) * 2,
            "quota": [np.nan, 1.0, 2.0, 3.0, 5e6, 1.0, 2.0, 3.0],
            "exposure": [100.0, 0, 0, 0, 70.0, 0, 0, 0],
            "baseline_exposure": [100.0, 0, 0, 0, 50.0, 0, 0, 0],
            "exposure_slots": [0, 0, 0, 0, 0, 0, 0, 0],
            "cash": [1e6, 0, 0, 0, 9e6, 0, 0, 0],
            "purchase_repo_1d": [7e8] * 8,
            "purchase_ncd_1m": [2e8, 0, 0, 0, -0.0, 0, 0, 0],
            "purchase_ncd_3m": [0.0] * 8,
            "keep_liquid": [7.01e8, 7e8, 7e8, 7e8, 7.09e8, 7e8, 7e8, 7e8],
        }
    )
    state = ReplayState(
        day=friday,
        product_ids=("A", "B"),
        portfolios={"A": Portfolio(0.0, cash=1e9), "B": Portfolio(0.0, cash=1e9)},
        observed=lambda: None,
        replayed=pd.DataFrame,
        workdays=Workdays(),
    )
    decision = plan_decision(plan, friday, state)
    a, b = decision.of("A"), decision.of("B")
    assert a.quota == math.inf and b.quota == 5e6
    # A's exposure is the baseline (not steered): history's is kept; B's was moved
    assert math.isnan(a.exposure) and b.exposure == 70.0
    assert a.purchases == {"ncd_1m": 2e8, "ncd_3m": 0.0}  # overnight repo is the residual
    assert a.cash_target == 1e6 and b.cash_target == 9e6
    # the plan's liquid money: its closing cash and overnight repo; no rule of the executor's
    assert a.keep_liquid == 7.01e8 and b.keep_liquid == 7.09e8
    assert a.buffer_target == 0.0


def test_the_executed_day_is_the_plans_first_day() -> None:
    # Money as the plan expected it: the executor buys exactly the plan's first day.
    friday = pd.Timestamp("2021-11-12")
    plan = one_row_plan(
        friday,
        cash=1e8,
        purchase_repo_1d=3e8,
        purchase_repo_7d=2e8,
        purchase_ncd_1m=1e8,
        purchase_ncd_6m=3e8,
        keep_liquid=4e8,
    )
    portfolio = Portfolio(0.0, cash=1e9, allocation=DecisionAllocation())
    state = one_product_state(friday, portfolio)
    portfolio.allocation.decision = plan_decision(plan, friday, state).of("A")
    day = portfolio.step(friday, 0.0, 0.0, RATES)
    # (the day's income on cash, 9.6 k, is lent overnight too)
    assert day.purchases == pytest.approx(
        {"repo_1d": 3e8, "repo_7d": 2e8, "ncd_1m": 1e8, "ncd_6m": 3e8}, rel=1e-4
    )
    assert portfolio.bucket_amounts()["cash"] == pytest.approx(1e8)
    # 150 m of redemptions the plan did not expect: the term purchases give way (longest
    # first), the plan's liquid money (cash 100 m + overnight 300 m) does not
    portfolio = Portfolio(0.0, cash=1e9, allocation=DecisionAllocation())
    portfolio.allocation.decision = plan_decision(plan, friday, state).of("A")
    day = portfolio.step(friday, 0.0, 1.5e8, RATES)
    assert day.purchases == pytest.approx(
        {"repo_1d": 3e8, "repo_7d": 2e8, "ncd_1m": 1e8, "ncd_6m": 1.5e8}, rel=1e-4
    )


def test_before_days_off_a_heavy_day_is_borrowed_back_to_tonights_cash() -> None:
    # The plan keeps CNY 800 m of cash tonight and borrows nothing; the day redeems 300 m of a
    # book that has 1,000 m of cash. Thursday: the cash is short by 100 m tonight and Friday
    # morning's repo pays what Friday asks. Friday: the weekend can only be paid from
    # tonight's cash, so the world borrows it back, grown by the day's pace above the plan's
    # expectation, within the 1.2 leverage cap.
    def one_day(day: pd.Timestamp) -> tuple[float, float, float, float]:
        # the plan's first day and the two after it (the weekend, seen from Friday)
        plan = pd.DataFrame(
            {
                "product_id": ["A"] * 3,
                "date": pd.date_range(day, periods=3),
                "quota": [np.nan] * 3,
                "exposure": [0.0] * 3,
                "baseline_exposure": [0.0] * 3,
                "exposure_slots": [0] * 3,
                "cash": [8e8, 7e8, 6e8],
                "purchase_repo_1d": [0.0] * 3,
                "purchase_ncd_1m": [0.0] * 3,
                "keep_liquid": [8e8, 7e8, 6e8],
                "repo_borrowing": [0.0] * 3,
                "expected_redemptions": [2.5e8, 1e8, 1.5e8],
                "redemption_quantile": [4e8, 2e8, 3e8],
            }
        )
        portfolio = Portfolio(0.0, cash=1e9, allocation=DecisionAllocation())
        state = one_product_state(day, portfolio)
        decision = plan_decision(plan, day, state).of("A")
        portfolio.allocation.decision = decision
        # 300 m is 1.2 × the plan's 250 m expectation (inside its 400 m quantile): on the eve
        # of days off tonight's cash grows with the pace, 800 m × 1.2; on other days the
        # plan's cash stands (Friday morning's repo pays what Friday asks)
        hold = decision.cash_to_hold(3e8)
        eve = state.workdays.before_days_off(day_number(day))
        assert hold == pytest.approx(9.6e8 if eve else 8e8)
        result = portfolio.step(day, 0.0, 3e8, RATES, hold_cash=hold, borrow_up_to=decision.borrow)
        return (
            decision.borrow,
            decision.surprise_above,
            decision.days_off_redemptions,
            result.borrowed,
        )

    thursday, friday = pd.Timestamp("2021-11-11"), pd.Timestamp("2021-11-12")
    assert one_day(thursday) == (0.0, math.inf, 0.0, 0.0)
    # the plan's regime reaches the executor (what a sale may raise in defence)
    for defence in (False, True):
        plan = one_row_plan(friday, cash=8e8, keep_liquid=8e8, defence=defence)
        state = one_product_state(friday, Portfolio(0.0, cash=1e9))
        assert plan_decision(plan, friday, state).of("A").defence is defence
    allowed, surprise_above, days_off, borrowed = one_day(friday)
    # Saturday's and Sunday's expected redemptions are what a sale may raise tonight
    assert allowed == math.inf and surprise_above == 2.5e8 and days_off == 2.5e8
    # 1 bn of cash less 300 m redeemed leaves 700 m, 260 m short of tonight's 960 m: the
    # leverage cap lends 0.2 × the 700 m of net assets left (and the day's income)
    assert 1.4e8 < borrowed < 1.401e8
    # the leverage cap bounds it: 500 m redeemed leaves 500 m of net assets, 100 m of room
    # (500 m is 2 × the plan's 250 m expectation: tonight's cash would be 800 m × 2)
    portfolio = Portfolio(0.0, cash=1e9)
    result = portfolio.step(friday, 0.0, 5e8, RATES, hold_cash=16e8, borrow_up_to=math.inf)
    assert result.borrowed == pytest.approx(0.2 * result.aum, rel=1e-6)


def test_a_day_past_the_plans_expectation_scales_tonights_cash() -> None:
    # The plan keeps 800 m tonight expecting 200 m of redemptions, and scales from 250 m
    # (``surprise_above``; a plan's eve sets it to its expectation, see the test above): up
    # to it the cash target holds; 300 m redeemed say the pace is 1.5 times the expected one,
    # so tonight's cash is 1,200 m.
    # Sales may raise only the days off's expected redemptions (500 m), not scaled.
    decision = ProductDecision(
        cash_target=8e8,
        surprise_above=2.5e8,
        expected_redemptions=2e8,
        days_off_redemptions=5e8,
    )
    assert decision.cash_to_hold(2.5e8) == 8e8
    assert decision.cash_to_sell_for(2.5e8) == 5e8
    assert decision.cash_to_hold(3e8) == pytest.approx(12e8)
    assert decision.cash_to_sell_for(3e8) == 5e8
    # never more than the cash to hold: the plan nets the days off's subscriptions there, and
    # borrowing fills it first (a holiday week's gross redemptions sold CNY 2 bn on the eve of
    # National Day 2020 with the leverage cap untouched)
    holiday = replace(decision, days_off_redemptions=30e8)
    assert holiday.cash_to_sell_for(2e8) == 8e8
    assert holiday.cash_to_sell_for(3e8) == pytest.approx(12e8)
    assert replace(decision, days_off_redemptions=10e8).cash_to_sell_for(3e8) == 10e8
    # in defence (a run) the days off follow the day's pace: 500 m × 1.5; up to
    # surprise_above, or with no expectation, nothing is scaled
    run = replace(decision, defence=True)
    assert run.cash_to_sell_for(3e8) == pytest.approx(7.5e8)
    assert run.cash_to_sell_for(2.5e8) == 5e8
    assert replace(run, expected_redemptions=0.0).cash_to_sell_for(3e8) == 5e8
    # ... and tonight's cash is at least that: the plan counts no subscription for a run's
    # days off, and its cash target is what it holds without a sale (3 bn × 1.5, not 1.2 bn)
    holiday_run = replace(run, days_off_redemptions=30e8)
    assert holiday_run.cash_to_hold(3e8) == pytest.approx(45e8)
    assert holiday_run.cash_to_sell_for(3e8) == pytest.approx(45e8)
    assert holiday_run.cash_to_hold(2e8) == 30e8
    # no threshold (every day but the last before days off), or nothing expected: as planned
    assert ProductDecision(cash_target=8e8).cash_to_hold(1e12) == 8e8
    no_expectation = ProductDecision(cash_target=8e8, surprise_above=2.5e8)
    assert no_expectation.cash_to_hold(3e8) == 8e8
    assert ProductDecision().cash_to_hold(3e8) == 0.0
    with pytest.raises(ValueError, match="surprise_above"):
        ProductDecision(surprise_above=math.nan)


class Capture(NoPolicy):
    """``none``, keeping the state of one morning (handed the future, as the oracle is)."""

    sees_future = True

    def __init__(self, day: pd.Timestamp) -> None:
        super().__init__()
        self.day = day
        self.state: ReplayState | None = None

    def decide(self, state: ReplayState, day: pd.Timestamp):
        if day == self.day:
            self.state = state
        return super().decide(state, day)


def test_oracle_forecast_is_the_future_the_replay_meets(sample) -> None:
    day = pd.Timestamp("2022-03-04")
    capture = Capture(day)
    replay(sample, "2022-03-01", day, capture, products=PRODUCTS, warmup_days=0)
    state = capture.state
    history = state.history
    response = pd.DataFrame({"a": [0.3, 0.4], "e0": [1e4, 2e4]}, index=PRODUCTS)
    forecast = perfect_forecast(state, history, 5, response)
    assert forecast.product_ids == tuple(PRODUCTS)
    assert list(forecast.dates) == list(pd.date_range("2022-03-04", periods=5))
    flows = sample.flows.set_index(["product_id", "date"])
    as_of = pd.Timestamp("2022-03-03")
    for i, pid in enumerate(PRODUCTS):
        truth = flows.loc[pid].loc[forecast.dates]
        np.testing.assert_allclose(forecast.point["subscriptions"][i], truth["demand"])
        replayed = history.flows.query("product_id == @pid and date == @as_of")["aum"].iloc[0]
        ratio = replayed / flows.loc[(pid, as_of), "aum"]
        np.testing.assert_allclose(forecast.point["redemptions"][i], truth["redemptions"] * ratio)
        np.testing.assert_allclose(
            forecast.baseline_exposure[pid].to_numpy(), truth["exposure"].to_numpy()
        )
    table = forecast.table
    demand = table[table["variable"] == "subscriptions"]
    assert (demand["p05"] == demand["mean"]).all() and (demand["p95"] == demand["mean"]).all()
    assert forecast.exposure_response.loc["P06", "e0"] == 2e4


class OracleForecastOnly(OraclePolicy):
    """The oracle's forecast of every morning, kept; no plan made (the world runs ``none``)."""

    def __init__(self) -> None:
        super().__init__(horizon_days=3)
        self.forecasts: list = []

    def decide(self, state: ReplayState, day: pd.Timestamp) -> Decision:
        self.forecasts.append(self.forecast(state, state.history))
        return Decision({})


def test_oracle_plans_for_the_world_the_replay_moves_demand_with(sample) -> None:
    """Custom curves in the replay's settings are the world's; the oracle's forecast carries the
    same curves (it used to rebuild them from the data set's table: another world)."""
    custom = {"P01": ExposureResponse(0.9, 3000.0), "P06": ExposureResponse(0.05, 7.0)}
    policy = OracleForecastOnly()
    replay(
        sample,
        "2022-03-01",
        "2022-03-02",
        policy,
        products=PRODUCTS,
        warmup_days=0,
        settings=ReplaySettings(response=custom),
    )
    assert len(policy.forecasts) == 2
    for forecast in policy.forecasts:
        curves = forecast.exposure_response
        for pid, curve in custom.items():
            assert (curves.loc[pid, "a"], curves.loc[pid, "e0"]) == (curve.a, curve.e0)


def test_oracle_replays_without_shortfall(sample) -> None:
    policy = small_policy(OraclePolicy)
    result = replay(sample, "2022-03-01", "2022-03-07", policy, products=PRODUCTS, warmup_days=0)
    assert result.metrics["total"]["shortfall_days"] == 0
    assert len(policy.plan_seconds) == 7 and all(s > 0 for s in policy.plan_seconds)
    assert result.decisions["buy_ncd_1m"].notna().all()


@pytest.mark.slow
def test_optimizer_does_not_look_ahead_but_the_oracle_does(sample) -> None:
    start, t, end = "2022-03-01", pd.Timestamp("2022-03-03"), "2022-03-06"
    changed_data = perturbed_after(sample, t, 1)
    full = replay(
        sample, start, end, small_policy(OptimizerPolicy), products=PRODUCTS, warmup_days=0
    )
    changed = replay(
        changed_data, start, end, small_policy(OptimizerPolicy), products=PRODUCTS, warmup_days=0
    )
    mine = full.decisions[full.decisions["date"] <= t].reset_index(drop=True)
    theirs = changed.decisions[changed.decisions["date"] <= t].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs)
    assert len(mine) == 2 * 3

    oracle = replay(sample, start, t, small_policy(OraclePolicy), products=PRODUCTS, warmup_days=0)
    oracle_changed = replay(
        changed_data, start, t, small_policy(OraclePolicy), products=PRODUCTS, warmup_days=0
    )
    # the oracle's plan of day t uses days after t: scrambling them changes its decisions
    assert not oracle.decisions.equals(oracle_changed.decisions)


def test_a_calm_eve_heavier_than_expected_but_inside_the_quantile_borrows_for_its_pace() -> None:
    # P03 of the sample, combined2020, Friday 2020-05-29 (calm): the plan held CNY 1,182 m
    # for a weekend it expected to ask 778 m, expecting 548 m on the Friday (868 m at its
    # quantile). Friday redeemed 807 m and the weekend 1,389 m: scaled only past the
    # quantile, tonight's cash stayed 1,182 m and 57 m went unpaid on the Sunday.
    def decision_on(day: pd.Timestamp) -> ProductDecision:
        plan = one_row_plan(
            day,
            cash=1.182e9,
            keep_liquid=1.182e9,
            expected_redemptions=5.48e8,
            redemption_quantile=8.68e8,
            defence=False,
        )
        return plan_decision(plan, day, one_product_state(day, Portfolio(0.0, cash=2e9))).of("A")

    friday = decision_on(pd.Timestamp("2020-05-29"))
    assert friday.surprise_above == 5.48e8
    assert friday.cash_to_hold(8.07e8) == pytest.approx(1.182e9 * 8.07 / 5.48)  # 1,741 m
    assert friday.cash_to_hold(5.48e8) == 1.182e9  # as expected: as planned
    # a Thursday is no eve: nothing scales
    assert decision_on(pd.Timestamp("2020-05-28")).cash_to_hold(8.07e8) == 1.182e9


def test_in_defence_the_eve_holds_the_days_offs_expectation_beyond_the_plans_cash() -> None:
    # P09 of the sample drawn with seed 53 (plateau45, Friday 2021-03-26), in defence at the
    # leverage cap: the plan held CNY 144 m, what it could without a sale, for a weekend it
    # expected to ask 352 m; Friday redeemed 257 m against 219 m expected, past the quantile
    run = ProductDecision(
        cash_target=1.44e8,
        surprise_above=2.5e8,
        expected_redemptions=2.19e8,
        days_off_redemptions=3.52e8,
        defence=True,
    )
    pace = 2.57e8 / 2.19e8
    assert run.cash_to_hold(2.57e8) == pytest.approx(3.52e8 * pace)  # 413 m, not 169 m
    assert run.cash_to_sell_for(2.57e8) == pytest.approx(3.52e8 * pace)
    # calm: the plan's cash target, as before (it nets the days off's subscriptions)
    calm = replace(run, defence=False)
    assert calm.cash_to_hold(2.57e8) == pytest.approx(1.44e8 * pace)
    assert calm.cash_to_sell_for(2.57e8) == pytest.approx(1.44e8 * pace)
