"""Tests of simulate.planning_policies with the real forecast and optimiser on small cases: how a
plan becomes a decision, the oracle's perfect forecast, and no look-ahead of the optimizer."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rainmaker.dataset import load_dataset
from simulate.planning_policies import (
    FlowPaths,
    OptimizerPolicy,
    OraclePolicy,
    perfect_forecast,
    plan_decision,
)
from simulate.policies import NoPolicy, ReplayState
from simulate.portfolio import Portfolio
from simulate.replay import replay
from simulate.workdays import Workdays
from tests.test_replay import perturbed_after

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
PRODUCTS = ["P01", "P06"]


@pytest.fixture(scope="module")
def sample():
    return load_dataset(SAMPLE)


def small_policy(cls):
    # the real forecaster and optimiser, on a short horizon with the cheapest model
    return cls(horizon_days=5, forecast_models=("seasonal_naive",))


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
            "required_buffer": [1e7, 2e7, 3e7, 4e7, 1e6, 1e6, 1e6, 1e6],
            "regulatory_floor": [5e7] * 8,
            "cash": [1e6, 0, 0, 0, 9e6, 0, 0, 0],
            "expected_subscriptions": [0.0] * 4 + [1e6] * 4,
            "baseline_demand": [0.0] * 4 + [4e5] * 4,
            "purchase_repo_1d": [7e8] * 8,
            "purchase_ncd_1m": [2e8, 0, 0, 0, -0.0, 0, 0, 0],
            "purchase_ncd_3m": [0.0] * 8,
        }
    )
    state = ReplayState(
        day=friday,
        product_ids=("A", "B"),
        portfolios={"A": Portfolio(0.0, cash=1e9), "B": Portfolio(0.0, cash=1e9)},
        observed=lambda: Known({"A": 0.0, "B": 0.0}, friday),  # no stress floor
        replayed=pd.DataFrame,
        workdays=Workdays(),
    )
    decision = plan_decision(plan, friday, state)
    a, b = decision.of("A"), decision.of("B")
    assert a.quota == math.inf and b.quota == 5e6
    # A's exposure is the baseline (not steered): history's is kept; B's was moved
    assert math.isnan(a.exposure) and b.exposure == 70.0
    assert a.purchases == {"ncd_1m": 2e8, "ncd_3m": 0.0}  # overnight repo is the residual
    assert a.buffer_target == 5e7  # the regulatory floor is above the required buffer
    assert a.cash_target == 1e6 and b.cash_target == 9e6
    # cumulative needs through Saturday, Sunday, Monday: quantiles with a 5 % margin, less the
    # subscriptions expected on the days before from Monday on (the weekend is paid from cash);
    # B expects 1e6 a day but its baseline demand is 4e5
    days = list(dates[1:])
    assert [d for d, _ in a.liquidity_needs] == days
    np.testing.assert_allclose([n for _, n in a.liquidity_needs], [2.1e7, 5.25e7, 9.45e7])
    np.testing.assert_allclose([n for _, n in b.liquidity_needs], [1.05e6, 2.1e6, 2.35e6])


class Known:
    """The data set known on a morning: only its flows (28 days of redemptions a product)."""

    def __init__(self, daily_redemptions: dict[str, float], day: pd.Timestamp) -> None:
        days = pd.date_range(end=day - pd.Timedelta(days=1), periods=28)
        self.flows = pd.DataFrame(
            [
                {"product_id": pid, "date": d, "redemptions": amount}
                for pid, amount in daily_redemptions.items()
                for d in days
            ]
        )

    def up_to(self, day: pd.Timestamp) -> Known:
        return self


def test_liquidity_needs_from_sample_paths_worked_by_hand() -> None:
    friday = pd.Timestamp("2021-11-12")
    dates = pd.date_range(friday, periods=5)  # Fri (today), Sat, Sun, Mon, Tue
    plan = pd.DataFrame(
        {
            "product_id": ["A"] * 5 + ["B"] * 5,
            "date": list(dates) * 2,
            "quota": [np.nan] * 10,
            "exposure": [0.0] * 10,
            "baseline_exposure": [0.0] * 10,
            "exposure_slots": [0] * 10,
            "required_buffer": [0.0] * 10,
            "redemption_quantile": [0.0] * 10,
            "regulatory_floor": [0.0] * 10,
            "cash": [0.0] * 10,
            "expected_subscriptions": [4e6] * 10,
            "baseline_demand": [9e6] * 10,
            "purchase_ncd_1m": [0.0] * 10,
        }
    )
    # A redeemed 2 m a day over the last 28 days, B 20 m: 1.5 × that a day is B's floor
    state = ReplayState(
        day=friday,
        product_ids=("A", "B"),
        portfolios={"A": Portfolio(0.0, cash=1e9), "B": Portfolio(0.0, cash=1e9)},
        observed=lambda: Known({"A": 2e6, "B": 20e6}, friday),
        replayed=pd.DataFrame,
        workdays=Workdays(),
    )
    # two paths for each product: one redeems 10 m a day and brings 5 m of demand, the other
    # 20 m and 1 m
    redeemed = np.array([[0, 10, 10, 10, 10], [0, 20, 20, 20, 20]], dtype=float) * 1e6
    demand = np.array([[0, 5, 5, 5, 5], [0, 1, 1, 1, 1]], dtype=float) * 1e6
    paths = FlowPaths(
        product_ids=("A", "B"),
        first_day=friday,
        redemptions=np.stack([redeemed, redeemed]),
        subscriptions=np.stack([demand, demand]),
    )
    decision = plan_decision(plan, friday, state, paths=paths, confidence=0.95)
    needs = decision.of("A")
    # redemptions × 1.05, cumulative: path 1 10.5, 21, 31.5, 42; path 2 21, 42, 63, 84.
    # Credit = min(demand, 4 m expected): 4 m (path 1), 1 m (path 2) a day, settled before the
    # day, none on the weekend's own needs: Mon 31.5 − 8 = 23.5 and 63 − 2 = 61; Tue 42 − 12
    # = 30 and 84 − 3 = 81. Through Monday (the next working day) at 0.99, Tuesday at 0.95,
    # between two paths: low + q (high − low).
    expected = [
        10.5 + 0.99 * 10.5,
        21 + 0.99 * 21,
        23.5 + 0.99 * 37.5,
        30 + 0.95 * 51,
    ]
    assert [d for d, _ in needs.liquidity_needs] == list(dates[1:])
    np.testing.assert_allclose([n / 1e6 for _, n in needs.liquidity_needs], expected)
    # B's floor through Monday: 30 m a day, less the 4 m a day expected to settle before
    # Monday (none for the weekend's own needs): 30, 60, 90 − 8; Tuesday keeps its quantile
    stressed = [n / 1e6 for _, n in decision.of("B").liquidity_needs]
    np.testing.assert_allclose(stressed, [30.0, 60.0, 82.0, expected[3]])


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


def test_oracle_replays_without_shortfall(sample) -> None:
    policy = small_policy(OraclePolicy)
    result = replay(sample, "2022-03-01", "2022-03-07", policy, products=PRODUCTS, warmup_days=0)
    assert result.metrics["total"]["shortfall_days"] == 0
    assert len(policy.plan_seconds) == 7 and all(s > 0 for s in policy.plan_seconds)
    assert result.decisions["buy_ncd_1m"].notna().all()


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
