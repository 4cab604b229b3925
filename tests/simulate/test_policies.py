"""Tests of simulate.policies: the decision contract, the none and rule policies, and how the
replay's allocation carries a decision out (buffer, cash target, purchases, days off)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rainmaker.assets import BUCKETS
from rainmaker.china_calendar import Workdays
from rainmaker.investment_mix import ManagedMix
from simulate.policies import (
    DecisionAllocation,
    NoPolicy,
    ProductDecision,
    ReplayState,
    RulePolicy,
    holdings_snapshot,
)
from simulate.portfolio import DEFAULT_MIX, LIQUIDITY_DAYS, Portfolio
from tests.simulate.test_replay import tiny_dataset

RATES = {"cash": 0.0, "repo_1d": 1.9, "repo_7d": 2.1, "ncd_1m": 2.4, "ncd_3m": 2.6}


def state_on(day: str, seed: int = 0, aum: float = 1e9) -> ReplayState:
    """A state on ``day`` over a tiny data set whose flows end the day before."""
    start = pd.Timestamp(day) - pd.Timedelta(days=40)
    dataset = tiny_dataset(seed, n_products=2, n_days=40, start=f"{start:%Y-%m-%d}")
    portfolios = {pid: Portfolio(20.0, cash=aum) for pid in dataset.product_ids}
    return ReplayState(
        day=pd.Timestamp(day),
        product_ids=dataset.product_ids,
        portfolios=portfolios,
        observed=lambda: dataset,
        replayed=pd.DataFrame,
        workdays=Workdays(),
    )


def test_decision_rejects_impossible_values() -> None:
    with pytest.raises(ValueError, match="quota"):
        ProductDecision(quota=-1.0)
    with pytest.raises(ValueError, match="quota"):
        ProductDecision(quota=math.nan)
    with pytest.raises(ValueError, match="buffer_target"):
        ProductDecision(buffer_target=math.inf)
    with pytest.raises(ValueError, match="cash_target"):
        ProductDecision(cash_target=-5.0)
    with pytest.raises(ValueError, match="exposure"):
        ProductDecision(exposure=-1.0)


def test_none_accepts_everything_with_a_fixed_buffer() -> None:
    state = state_on("2021-11-10")
    decision = NoPolicy(buffer_share=0.1).decide(state, state.day)
    for pid in state.product_ids:
        d = decision.of(pid)
        assert d.quota == math.inf
        assert d.buffer_target == pytest.approx(0.1 * 1e9)
        assert math.isnan(d.exposure)
    assert decision.of("unknown") == ProductDecision()


@pytest.mark.parametrize(
    ("day", "capped"),
    [
        ("2021-09-28", False),  # three business days before National Day
        ("2021-09-29", True),
        ("2021-09-30", True),  # the last business day before 1-7 October
        ("2021-10-08", False),  # after it
        ("2021-11-12", False),  # an ordinary Friday: a weekend is not a long holiday
        ("2021-09-18", True),  # a make-up Saturday, the last business day before Mid-Autumn
    ],
)
def test_rule_caps_only_on_the_last_business_days_before_a_long_holiday(
    day: str, capped: bool
) -> None:
    state = state_on(day)
    decision = RulePolicy(cap_multiple=1.0).decide(state, state.day)
    flows = state.history.flows
    for pid in state.product_ids:
        quota = decision.of(pid).quota
        if not capped:
            assert quota == math.inf
            continue
        recent = flows[flows["product_id"] == pid].tail(28)
        working = [state.workdays.is_workday((d - pd.Timestamp(0)).days) for d in recent["date"]]
        assert quota == pytest.approx(np.median(recent.loc[working, "subscriptions"]))


def test_rule_buffer_and_cash_follow_recent_redemptions() -> None:
    friday = "2021-11-12"
    state = state_on(friday, aum=5e9)
    policy = RulePolicy(buffer_multiple=2.0, cash_multiple=1.5, min_buffer_share=0.0)
    decision = policy.decide(state, state.day)
    for pid in state.product_ids:
        reds = state.history.flows.query("product_id == @pid")["redemptions"].tail(28).to_numpy()
        worst = max(reds[i : i + LIQUIDITY_DAYS].sum() for i in range(len(reds) - 4))
        d = decision.of(pid)
        assert d.buffer_target == pytest.approx(2.0 * worst)
        # Saturday and Sunday are off: cash for two days of redemptions, with a margin
        assert d.cash_target == pytest.approx(max(1.5 * 2 * reds.mean(), 0.05 * 5e9))
    tuesday = RulePolicy(cash_multiple=1.5).decide(
        state_on("2021-11-16"), pd.Timestamp("2021-11-16")
    )
    assert all(tuesday.of(p).cash_target == pytest.approx(0.05 * 1e9) for p in ("T1", "T2"))


def portfolio_with(decision: ProductDecision, cash: float = 1e9) -> tuple[Portfolio, object]:
    allocation = DecisionAllocation()
    allocation.decision = decision
    portfolio = Portfolio(0.0, cash=cash, allocation=allocation)
    return portfolio, allocation


def test_allocation_keeps_the_buffer_target_liquid() -> None:
    # everything in 3-month NCDs, but 40 % of AUM must stay liquid
    mix = {"cash": 0.0, "ncd_3m": 1.0}
    portfolio, _ = portfolio_with(ProductDecision(buffer_target=4e8, mix=mix))
    day = portfolio.step("2021-11-10", 0.0, 0.0, RATES)  # a Wednesday
    assert day.liquidity_buffer >= 4e8 - 1.0
    held = portfolio.bucket_amounts()
    # TargetMix buys at most 2 % of AUM a day per bucket; the rest is lent overnight
    assert held["ncd_3m"] == pytest.approx(0.02 * 1e9, rel=1e-6)
    assert held["repo_1d"] == pytest.approx(0.98 * 1e9, rel=1e-6)


def test_allocation_carries_out_purchases_and_the_cash_target() -> None:
    decision = ProductDecision(
        purchases={"ncd_1m": 2e8, "repo_7d": 1e8, "cash": 5.0}, cash_target=3e8
    )
    portfolio, _ = portfolio_with(decision)
    portfolio.step("2021-11-10", 0.0, 0.0, RATES)
    held = portfolio.bucket_amounts()
    assert held["ncd_1m"] == pytest.approx(2e8)
    assert held["repo_7d"] == pytest.approx(1e8)
    assert held["cash"] == pytest.approx(3e8)
    assert held["repo_1d"] == pytest.approx(4e8)


def test_allocation_cuts_term_purchases_to_keep_the_buffer() -> None:
    decision = ProductDecision(purchases={"ncd_3m": 9e8, "repo_7d": 3e8}, buffer_target=8e8)
    portfolio, _ = portfolio_with(decision)
    portfolio.step("2021-11-10", 0.0, 0.0, RATES)
    held = portfolio.bucket_amounts()
    # 2e8 may leave the liquid assets; the shorter tenor is served first
    assert held["repo_7d"] == pytest.approx(2e8)
    assert held["ncd_3m"] == 0.0


def test_allocation_keeps_the_liquid_money_of_the_plan() -> None:
    decision = ProductDecision(purchases={"ncd_3m": 9e8}, cash_target=1e8, keep_liquid=3e8)
    portfolio, _ = portfolio_with(decision)
    portfolio.step("2021-11-12", 0.0, 0.0, RATES)
    held = portfolio.bucket_amounts()
    # 3e8 stays cash or overnight repo: the term purchase is cut to 7e8
    assert held["cash"] == pytest.approx(1e8)
    assert held["ncd_3m"] == pytest.approx(7e8)
    assert held["repo_1d"] == pytest.approx(2e8)
    with pytest.raises(ValueError, match="keep_liquid"):
        ProductDecision(keep_liquid=-1.0)


def test_allocation_buys_nothing_on_days_off() -> None:
    portfolio, _ = portfolio_with(ProductDecision(mix=dict(DEFAULT_MIX)))
    portfolio.step("2021-11-13", 0.0, 0.0, RATES)  # a Saturday
    assert portfolio.bucket_amounts()["cash"] == pytest.approx(1e9)


def test_holdings_snapshot_lists_every_position_at_the_eve() -> None:
    rates = pd.DataFrame(
        {b.name: 2.0 for b in BUCKETS}, index=pd.date_range("2021-08-01", "2021-11-09")
    )
    portfolio = Portfolio.from_ladder(1e9, 20.0, "2021-11-10", rates)
    snapshot = holdings_snapshot({"P1": portfolio}, pd.Timestamp("2021-11-10"))
    assert (snapshot["date"] == pd.Timestamp("2021-11-09")).all()
    assert snapshot["amount_cny"].sum() == pytest.approx(1e9)
    cash = snapshot[snapshot["bucket"] == "cash"]
    assert cash["maturity_date"].isna().all() and cash["rate_pct"].isna().all()
    lots = snapshot[snapshot["bucket"] != "cash"]
    assert (lots["maturity_date"] > pd.Timestamp("2021-11-09")).all()


def test_none_and_rule_invest_by_each_products_managed_rule() -> None:
    state = state_on("2021-11-10")
    overnight = ManagedMix(
        {"cash": 0.06, "repo_1d": 0.34, "repo_7d": 0.2, "ncd_1m": 0.25, "ncd_3m": 0.15}, 0.4
    )
    state.managed = {"T1": overnight}  # T2 has no rule: the default mix
    for policy in (NoPolicy(), RulePolicy()):
        decision = policy.decide(state, state.day)
        assert decision.of("T1").mix == overnight.weights, policy.name
        assert decision.of("T1").max_daily_purchase_pct == 0.4, policy.name
        assert decision.of("T2").mix == DEFAULT_MIX, policy.name
    # the rule keeps the product's own cash share on an ordinary Wednesday
    assert RulePolicy().decide(state, state.day).of("T1").cash_target == pytest.approx(0.06e9)
    # a mix given to the policy overrides every product's rule
    given = {"cash": 0.1, "ncd_1m": 0.9}
    decision = NoPolicy(mix=given).decide(state, state.day)
    assert decision.of("T1").mix == given and decision.of("T1").max_daily_purchase_pct is None


@pytest.mark.parametrize("cap_pct", [0.5, 3.0])
def test_allocation_caps_new_money_per_term_bucket_as_the_decision_says(cap_pct: float) -> None:
    mix = {"cash": 0.0, "ncd_1m": 0.5, "ncd_3m": 0.5}
    decision = ProductDecision(mix=mix, max_daily_purchase_pct=cap_pct)
    portfolio, _ = portfolio_with(decision)
    portfolio.step("2021-11-10", 0.0, 0.0, RATES)
    held = portfolio.bucket_amounts()
    assert held["ncd_1m"] == pytest.approx(cap_pct / 100 * 1e9, rel=1e-6)
    assert held["ncd_3m"] == pytest.approx(cap_pct / 100 * 1e9, rel=1e-6)
    assert held["repo_1d"] == pytest.approx((1 - 2 * cap_pct / 100) * 1e9, rel=1e-6)
    with pytest.raises(ValueError, match="max_daily_purchase_pct"):
        ProductDecision(max_daily_purchase_pct=0.0)
