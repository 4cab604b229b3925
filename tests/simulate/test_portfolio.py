"""Tests of simulate.portfolio: golden days worked by hand and the invariants of the daily step."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rainmaker.assets import BUCKETS
from rainmaker.china_calendar import day_number
from rainmaker.yields import yield_7d
from simulate.portfolio import DEFAULT_MIX, Lot, Portfolio, TargetMix

NO_INCOME = {b.name: 0.0 for b in BUCKETS}
RATES = {"cash": 1.0, "repo_1d": 1.9, "repo_7d": 2.1, "ncd_1m": 2.4, "ncd_3m": 2.6}


def test_golden_one_lot_one_day_one_fee() -> None:
    # 1,000,000 CNY at 3.65 % earns 100.00 CNY a day; 36.5 bp of fees cost 10.00 CNY a day.
    lot = Lot("ncd_1m", 1_000_000.0, 3.65, pd.Timestamp("2021-03-01"), pd.Timestamp("2021-03-31"))
    portfolio = Portfolio(36.5, lots=[lot])
    day = portfolio.step("2021-03-02", 0.0, 0.0, {"cash": 0.0}, purchases={})
    assert day.gross_income == pytest.approx(100.0)
    assert day.fees == pytest.approx(10.0)
    assert day.net_income == 90.0
    assert day.income_per_10k == pytest.approx(0.9)  # 90 / 1,000,000 × 10,000
    assert day.aum == 1_000_090.0
    assert day.cash == 90.0
    assert day.shortfall == 0.0
    # the lot matures in more than 5 trading days, so only the credited income is liquid
    assert day.liquidity_buffer == 90.0


def test_lot_earns_from_value_date_to_maturity_inclusive() -> None:
    lot = Lot("repo_7d", 365_000.0, 1.0, pd.Timestamp("2021-03-03"), pd.Timestamp("2021-03-04"))
    portfolio = Portfolio(0.0, lots=[lot])
    incomes = [
        portfolio.step(day, 0.0, 0.0, {"cash": 0.0}, purchases={}).gross_income
        for day in pd.date_range("2021-03-02", "2021-03-05")
    ]
    # 365,000 × 1 % / 365 = 10 CNY on the 3rd and the 4th (maturity day), none before or after
    assert incomes == pytest.approx([0.0, 10.0, 10.0, 0.0])
    assert portfolio.holdings().query("kind == 'lot'").empty


def test_new_money_before_a_weekend_earns_nothing_until_monday() -> None:
    portfolio = Portfolio(0.0, cash=1_000_000.0, allocation=TargetMix({"cash": 1.0}))
    rates = {"cash": 3.65, **{b.name: 3.65 for b in BUCKETS}}
    friday = portfolio.step("2021-03-05", 365_000.0, 0.0, rates)  # a Friday
    saturday = portfolio.step("2021-03-06", 0.0, 0.0, rates)
    sunday = portfolio.step("2021-03-07", 0.0, 0.0, rates)
    monday = portfolio.step("2021-03-08", 0.0, 0.0, rates)
    assert friday.earning_units == 1_000_000.0
    # Friday's subscriptions share no income over the weekend and bear no fee
    assert saturday.earning_units == pytest.approx(1_000_000.0 + friday.net_income)
    assert sunday.earning_units == pytest.approx(saturday.aum - 365_000.0)
    assert monday.earning_units == pytest.approx(sunday.aum)
    # ... and the money earns from Monday: 365,000 × 3.65 % / 365 = 36.50 CNY more
    assert monday.gross_income - sunday.gross_income == pytest.approx(36.5, abs=0.02)


def test_overnight_repo_rolled_daily_earns_every_day() -> None:
    # keep nothing in cash and nothing in term buckets: everything is lent overnight
    rule = TargetMix({"cash": 0.0, "repo_7d": 0.0, "ncd_1m": 0.0, "ncd_3m": 0.0})
    portfolio = Portfolio(0.0, cash=3_650_000.0, allocation=rule)
    rates = {"cash": 0.0, "repo_1d": 1.0, "repo_7d": 0.0, "ncd_1m": 0.0, "ncd_3m": 0.0}
    days = pd.date_range("2021-03-01", "2021-03-14")  # Monday to Sunday two weeks later
    incomes = [portfolio.step(day, 0.0, 0.0, rates).gross_income for day in days]
    # bought Monday, earning from Tuesday; 100 CNY a day (plus compounding) every day after,
    # weekends included: a Friday repo runs to Monday
    assert incomes[0] == 0.0
    assert all(99.99 < income < 100.1 for income in incomes[1:])


# A flat curve at 3.65 %: 90 days of it are worth 1 + 0.0365 × 90 / 365 = 1.009.
FLAT = {b.name: 3.65 for b in BUCKETS} | {"cash": 0.0}


def zero_rate_book(cash: float = 100.0, **options: float) -> Portfolio:
    """10,000 CNY of a 3-month NCD at 0 % maturing 2021-05-31, and some cash."""
    lot = Lot("ncd_3m", 10_000.0, 0.0, pd.Timestamp("2021-03-01"), pd.Timestamp("2021-05-31"))
    return Portfolio(0.0, cash=cash, lots=[lot], **options)


def test_early_sale_at_market_value_worked_by_hand() -> None:
    portfolio = zero_rate_book(max_leverage=1.0, sale_spread_bp=0.0)  # no borrowing
    day = portfolio.step("2021-03-02", 0.0, 1_100.0, FLAT, purchases={})  # a Tuesday
    # 100 from cash; 1,000 raised by selling s with s / 1.009 = 1,000 (90 days to maturity):
    # s = 1,009.00 of principal, a realised loss of 9.00
    assert day.sold_early == 1_009.0
    assert day.realised_loss == 9.0
    assert day.repo_funded == 0.0 and day.unpaid == 0.0
    assert day.shortfall == 1_009.0
    assert day.net_income == -9.0
    assert day.redemptions == 1_100.0
    assert day.aum == 10_100.0 - 1_100.0 - 9.0
    assert portfolio.holdings()["amount"].sum() == pytest.approx(day.aum)


def test_the_sale_spread_is_bp_of_yield_over_the_curve() -> None:
    wide = zero_rate_book(max_leverage=1.0, sale_spread_bp=100.0)
    day = wide.step("2021-03-02", 0.0, 1_100.0, FLAT, purchases={})
    # at 4.65 % for 90 days the price is 1 / (1 + 0.0465 × 90 / 365) = 1 / 1.011466 ...
    assert day.realised_loss == pytest.approx(1_000.0 * 0.0465 * 90 / 365, abs=0.011)


def test_repo_borrowing_pays_first_costs_interest_and_is_repaid_from_cash() -> None:
    portfolio = zero_rate_book()
    day = portfolio.step("2021-03-02", 0.0, 1_100.0, FLAT, purchases={})
    # within the cap of 20 % of the 9,000 net assets left: 1,000 borrowed, nothing sold
    assert day.repo_funded == 1_000.0 and day.sold_early == 0.0 and day.unpaid == 0.0
    assert day.borrowed == 1_000.0
    assert day.aum == 9_000.0
    assert portfolio.holdings()["amount"].sum() - portfolio.borrowed == pytest.approx(day.aum)
    # next day: a night's interest at 3.65 % on 1,000 is 0.10; new money repays the borrowing
    # before anything is invested
    day = portfolio.step("2021-03-03", 2_000.0, 0.0, FLAT, purchases={"repo_1d": 2_000.0})
    assert day.repo_interest == pytest.approx(0.10)
    assert day.net_income == -0.10
    assert day.borrowed == 0.0
    assert day.purchases == {"repo_1d": pytest.approx(999.90)}
    assert day.purchases_unfilled == pytest.approx(1_000.10)
    assert day.shortfall == 0.0


def test_borrowing_on_friday_holds_the_cash_the_weekend_needs() -> None:
    # 2021-03-05 is a Friday. The book has 100 of cash and a 3-month NCD: to hold 1,500 of
    # cash over the weekend the manager borrows 1,400 (within the cap of 20 % of 10,100 =
    # 2,020 and the policy's 1,600), and Saturday's 1,200 of redemptions are paid from it.
    portfolio = zero_rate_book()
    friday = portfolio.step(
        "2021-03-05", 0.0, 0.0, FLAT, purchases={}, hold_cash=1_500.0, borrow_up_to=1_600.0
    )
    assert friday.borrowed == 1_400.0
    assert friday.cash == 1_500.0
    assert friday.aum == 10_100.0  # borrowing is a liability: net assets do not move
    assert friday.repo_funded == 0.0  # not a shortfall: no redemption was due
    saturday = portfolio.step("2021-03-06", 0.0, 1_200.0, FLAT, purchases={})
    assert saturday.unpaid == 0.0 and saturday.shortfall == 0.0
    # a night's interest on 1,400 at 3.65 % is 0.14, and the balance is held over Sunday
    assert saturday.repo_interest == pytest.approx(0.14)
    assert saturday.borrowed == 1_400.0
    # nothing is borrowed on a day off, whatever the policy asks
    sunday = portfolio.step(
        "2021-03-07", 0.0, 0.0, FLAT, purchases={}, hold_cash=5_000.0, borrow_up_to=5_000.0
    )
    assert sunday.borrowed == 1_400.0


def test_borrowing_to_hold_cash_stops_at_the_cap_and_at_the_policy_bound() -> None:
    capped = zero_rate_book()
    day = capped.step(
        "2021-03-05", 0.0, 0.0, FLAT, purchases={}, hold_cash=9_000.0, borrow_up_to=9_000.0
    )
    assert day.borrowed == 2_020.0  # 20 % of 10,100 of net assets
    bounded = zero_rate_book()
    day = bounded.step(
        "2021-03-05", 0.0, 0.0, FLAT, purchases={}, hold_cash=9_000.0, borrow_up_to=300.0
    )
    assert day.borrowed == 300.0
    unlevered = zero_rate_book(max_leverage=1.0)
    day = unlevered.step(
        "2021-03-05", 0.0, 0.0, FLAT, purchases={}, hold_cash=9_000.0, borrow_up_to=9_000.0
    )
    assert day.borrowed == 0.0 and day.cash == 100.0


def test_before_days_off_what_the_cap_leaves_short_of_the_cash_is_sold() -> None:
    # Friday: to hold 3,100 of cash (3,500 wanted, 3,100 worth a sale) the manager borrows up
    # to the cap (20 % of 10,100 = 2,020) and sells the rest, 3,100 − 100 − 2,020 = 980, by
    # selling s with s / 1.0087 = 980 (87 days to maturity at 3.65 %): s = 988.53 of
    # principal, a realised loss of 8.53.
    portfolio = zero_rate_book(sale_spread_bp=0.0)
    friday = portfolio.step(
        "2021-03-05",
        0.0,
        0.0,
        FLAT,
        purchases={},
        hold_cash=3_500.0,
        borrow_up_to=math.inf,
        sell_to_hold=3_100.0,
    )
    assert friday.borrowed == 2_020.0
    assert friday.cash == 3_100.0
    assert friday.sold_early == 988.53 and friday.realised_loss == 8.53
    assert friday.net_income == -8.53 and friday.aum == 10_100.0 - 8.53
    assert portfolio.holdings()["amount"].sum() - portfolio.borrowed == pytest.approx(friday.aum)
    # the weekend's 3,000 are paid from it
    saturday = portfolio.step("2021-03-06", 0.0, 3_000.0, FLAT, purchases={})
    assert saturday.unpaid == 0.0
    # without sell_to_hold (any day but the last before days off) nothing is sold
    kept = zero_rate_book(sale_spread_bp=0.0)
    day = kept.step(
        "2021-03-05", 0.0, 0.0, FLAT, purchases={}, hold_cash=3_100.0, borrow_up_to=math.inf
    )
    assert day.sold_early == 0.0 and day.cash == 2_120.0


def test_borrowing_stops_at_the_leverage_cap_then_lots_are_sold() -> None:
    portfolio = zero_rate_book(sale_spread_bp=0.0)
    day = portfolio.step("2021-03-02", 0.0, 5_100.0, FLAT, purchases={})
    # net assets left 5,000, so at most 1,000 borrowed; 4,000 raised by selling 4,036.00
    assert day.repo_funded == 1_000.0
    assert day.sold_early == 4_036.0
    assert day.realised_loss == 36.0
    assert day.shortfall == 5_036.0
    assert day.borrowed == 1_000.0


def test_on_days_off_redemptions_beyond_cash_wait_for_the_next_working_day() -> None:
    portfolio = zero_rate_book()
    saturday = portfolio.step("2021-03-06", 0.0, 1_100.0, FLAT, purchases={})
    assert saturday.redemptions == 100.0  # only cash pays: the market is closed
    assert saturday.unpaid == 1_000.0 and saturday.owed == 1_000.0
    assert saturday.repo_funded == 0.0 and saturday.sold_early == 0.0
    assert saturday.aum == 10_000.0  # the unpaid holders keep their units
    sunday = portfolio.step("2021-03-07", 0.0, 0.0, FLAT, purchases={})
    assert sunday.unpaid == 0.0 and sunday.owed == 1_000.0  # counted once, on Saturday
    monday = portfolio.step("2021-03-08", 0.0, 0.0, FLAT, purchases={})
    assert monday.redemptions == 1_000.0 and monday.repo_funded == 1_000.0
    assert monday.owed == 0.0 and monday.aum == 9_000.0


def test_a_full_redemption_pays_the_last_holders_what_the_book_fetches() -> None:
    """Every unit redeemed on a working day: the book is sold and the sales' loss is the last
    holders' own (it was left 'unpaid' and 'owed' beside an AUM of 0: units no asset backed)."""
    portfolio = zero_rate_book(sale_spread_bp=0.0)
    day = portfolio.step("2021-03-02", 0.0, 10_100.0, FLAT, purchases={})  # a Tuesday
    assert day.sold_early == 10_000.0 and day.realised_loss > 0
    assert day.redemptions == pytest.approx(10_100.0 - day.realised_loss, abs=0.005)
    assert day.requested == day.redemptions
    assert day.unpaid == 0.0 and day.owed == 0.0 and day.borrowed == 0.0
    assert day.aum == 0.0 and portfolio.holdings()["amount"].sum() == 0.0


def test_redeem_all_closes_the_product_repaying_its_borrowing_or_waits_on_days_off() -> None:
    portfolio = zero_rate_book(sale_spread_bp=0.0)
    tuesday = portfolio.step("2021-03-02", 0.0, 1_100.0, FLAT, purchases={})
    assert tuesday.borrowed == 1_000.0
    # every unit, the day's income included (a night's repo interest here: negative)
    wednesday = portfolio.step("2021-03-03", 0.0, 0.0, FLAT, purchases={}, redeem_all=True)
    assert wednesday.repo_interest == pytest.approx(0.10)
    assert wednesday.borrowed == 0.0 and wednesday.aum == 0.0
    assert wednesday.unpaid == 0.0 and wednesday.owed == 0.0
    worth = tuesday.aum + wednesday.net_income  # the units once the loss is counted
    assert wednesday.redemptions == pytest.approx(worth, abs=0.005)
    # on a day off the market is closed: cash pays, the holders keep the rest of their units
    closed = zero_rate_book()
    saturday = closed.step("2021-03-06", 0.0, 0.0, FLAT, purchases={}, redeem_all=True)
    assert saturday.redemptions == 100.0 and saturday.sold_early == 0.0
    assert saturday.unpaid == 10_000.0 and saturday.owed == 10_000.0 and saturday.aum == 10_000.0
    with pytest.raises(ValueError, match="redeem_all"):
        zero_rate_book().step("2021-03-02", 0.0, 10.0, FLAT, redeem_all=True)


def test_deferred_redemptions_are_unpaid_today_and_paid_first_on_the_next_working_day() -> None:
    portfolio = Portfolio(0.0, cash=10_000.0)
    friday = portfolio.step("2021-03-05", 0.0, 1_500.0, NO_INCOME, purchases={}, deferred=500.0)
    assert friday.redemptions == 1_000.0
    assert friday.unpaid == 500.0 and friday.deferred == 500.0 and friday.owed == 500.0
    assert friday.shortfall == 500.0
    saturday = portfolio.step("2021-03-06", 0.0, 100.0, NO_INCOME, purchases={})
    assert saturday.redemptions == 100.0 and saturday.owed == 500.0  # waits for Monday
    portfolio.step("2021-03-07", 0.0, 0.0, NO_INCOME, purchases={})
    monday = portfolio.step("2021-03-08", 0.0, 0.0, NO_INCOME, purchases={})
    assert monday.redemptions == 500.0 and monday.owed == 0.0 and monday.unpaid == 0.0
    assert monday.aum == 10_000.0 - 1_600.0
    with pytest.raises(ValueError, match="deferred"):
        portfolio.step("2021-03-09", 0.0, 10.0, NO_INCOME, deferred=20.0)


def test_the_sample_generators_world_sells_at_a_flat_haircut_on_any_day() -> None:
    lot = Lot("ncd_3m", 10_000.0, 0.0, pd.Timestamp("2021-03-01"), pd.Timestamp("2021-05-31"))
    portfolio = Portfolio(0.0, cash=100.0, lots=[lot], early_sale_haircut_bp=10.0, max_leverage=1.0)
    day = portfolio.step("2021-03-06", 0.0, 1_100.0, NO_INCOME, purchases={})  # a Saturday
    # 1,000 raised by selling s with s·(1 − 10 bp) = 1,000: s = 1,001.00, a cost of 1.00
    assert day.sold_early == 1_000.0  # (this world reports the redemptions paid by sales)
    assert day.realised_loss == 1.0
    assert day.unpaid == 0.0 and day.borrowed == 0.0
    assert day.aum == 10_100.0 - 1_100.0 - 1.0


def test_bad_input_is_refused() -> None:
    portfolio = Portfolio(10.0, cash=1_000.0)
    with pytest.raises(ValueError, match="subscriptions"):
        portfolio.step("2021-03-01", -1.0, 0.0, RATES)
    portfolio.step("2021-03-01", 0.0, 0.0, RATES)
    with pytest.raises(ValueError, match="consecutive"):
        portfolio.step("2021-03-03", 0.0, 0.0, RATES)
    with pytest.raises(KeyError, match="unknown asset bucket"):
        portfolio.step("2021-03-02", 0.0, 0.0, RATES, purchases={"gold": 1.0})
    with pytest.raises(ValueError, match="redemptions exceed"):
        Portfolio(0.0, cash=10.0).step("2021-03-01", 0.0, 11.0, RATES)
    with pytest.raises(ValueError, match="max_leverage"):
        Portfolio(0.0, max_leverage=0.9)
    with pytest.raises(ValueError, match="sale_spread_bp"):
        Portfolio(0.0, sale_spread_bp=float("nan"))


def test_purchases_above_the_money_available_are_scaled_and_reported() -> None:
    portfolio = Portfolio(0.0, cash=1_000.0)
    day = portfolio.step(
        "2021-03-01", 0.0, 0.0, NO_INCOME, purchases={"ncd_1m": 1_500.0, "repo_7d": 500.0}
    )
    assert sum(day.purchases.values()) == pytest.approx(1_000.0)
    assert day.purchases_unfilled == pytest.approx(1_000.0)
    assert day.purchases["ncd_1m"] == pytest.approx(3 * day.purchases["repo_7d"])


def test_from_ladder_holds_the_mix_in_steady_state() -> None:
    history = pd.DataFrame(RATES, index=pd.date_range("2020-09-01", "2020-12-31"))
    portfolio = Portfolio.from_ladder(1e9, 20.0, "2021-01-01", history, DEFAULT_MIX)
    held = portfolio.bucket_amounts()
    assert portfolio.aum == 1e9
    for name, share in DEFAULT_MIX.items():
        assert held[name] == pytest.approx(share * 1e9, rel=1e-6)


flows_strategy = st.lists(
    st.tuples(
        st.floats(0, 5e6, allow_nan=False),  # subscriptions
        st.floats(0, 0.4),  # redemptions as a share of AUM
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flows=flows_strategy,
    fee_bp=st.floats(0, 80),
    start=st.dates(pd.Timestamp("2019-01-01").date(), pd.Timestamp("2022-12-01").date()),
    rate_shift=st.floats(-2.0, 2.0),
    max_leverage=st.sampled_from([1.0, 1.2, 1.5]),
    defer_share=st.floats(0.0, 1.0),
    spread_bp=st.floats(0.0, 200.0),
    curve_shift=st.floats(-1.5, 3.0),
    hold_share=st.one_of(st.just(0.0), st.floats(0.0, 0.6)),
)
def test_money_is_conserved_and_nothing_is_negative(
    flows: list[tuple[float, float]],
    fee_bp: float,
    start: object,
    rate_shift: float,
    max_leverage: float,
    defer_share: float,
    spread_bp: float,
    curve_shift: float,
    hold_share: float,
) -> None:
    rates = {k: max(v + rate_shift, 0.0) for k, v in RATES.items()}
    history = pd.DataFrame(rates, index=pd.date_range("2018-06-01", "2022-12-31"))
    # the day's market moves away from the rates the book was bought at: sales gain or lose
    day_rates = {k: max(v + curve_shift, 0.0) for k, v in rates.items()}
    day0 = pd.Timestamp(start)
    portfolio = Portfolio.from_ladder(
        1e7,
        fee_bp,
        day0,
        history.loc[:day0],
        DEFAULT_MIX,
        max_leverage=max_leverage,
        sale_spread_bp=spread_bp,
    )
    aum = portfolio.aum
    owed = 0.0
    for i, (subscriptions, redemption_share) in enumerate(flows):
        requested = round(redemption_share * (aum - owed), 2)
        deferred = round(defer_share * requested, 2)
        subscriptions = round(subscriptions, 2)
        # cash to hold tonight, borrowed up to the cap and the rest sold (the eve of days off)
        day = portfolio.step(
            day0 + pd.Timedelta(days=i),
            subscriptions,
            requested,
            day_rates,
            deferred=deferred,
            hold_cash=round(hold_share * aum, 2),
            borrow_up_to=math.inf,
            sell_to_hold=round(hold_share * aum / 2, 2),
        )
        # exact to the fen: aum(t) = aum(t−1) + subscriptions − redemptions paid + net income
        assert round((aum + subscriptions - day.redemptions + day.net_income) * 100) == round(
            day.aum * 100
        )
        assert day.net_income == pytest.approx(
            day.gross_income - day.fees - day.repo_interest - day.realised_loss, abs=0.01
        )
        # what was asked is paid today or owed; nothing is lost or paid twice
        assert day.owed == pytest.approx(owed + requested - day.redemptions, abs=0.005)
        assert day.unpaid >= day.deferred - 0.005
        assert day.shortfall == pytest.approx(day.repo_funded + day.sold_early + day.unpaid)
        holdings = portfolio.holdings()
        # net assets = assets − repo borrowing
        assert holdings["amount"].sum() - day.borrowed == pytest.approx(day.aum, abs=0.05)
        assert (holdings["amount"] >= 0).all()
        for value in (day.aum, day.cash, day.liquidity_buffer, day.cash_like, day.shortfall):
            assert value >= 0
        assert day.fees >= 0 and day.gross_income >= 0 and day.repo_interest >= 0
        assert day.borrowed >= 0 and day.owed >= 0
        if day.repo_funded > 0:  # new borrowing stays within the leverage cap
            assert (
                day.borrowed <= (max_leverage - 1) * (day.aum + max(day.realised_loss, 0.0)) + 0.02
            )
        if max_leverage == 1.0:
            assert day.repo_funded == 0.0
        if not portfolio.workdays.is_workday(day_number(day.date)):
            assert day.repo_funded == 0.0 and day.sold_early == 0.0
        assert day.liquidity_buffer <= day.aum + day.borrowed + 0.01
        aum, owed = day.aum, day.owed


@settings(max_examples=40, deadline=None)
@given(
    flows=st.lists(st.tuples(st.floats(0, 1e6), st.floats(0, 1.0)), min_size=1, max_size=30),
    start=st.dates(pd.Timestamp("2019-01-01").date(), pd.Timestamp("2022-12-01").date()),
)
def test_no_shortfall_when_cash_covers_redemptions(
    flows: list[tuple[float, float]], start: object
) -> None:
    portfolio = Portfolio(20.0, cash=5e6, allocation=TargetMix({"cash": 0.3}))
    day0 = pd.Timestamp(start)
    for i, (subscriptions, share) in enumerate(flows):
        # redeem at most the cash (settled and pending) held before the day
        redemptions = round(share * portfolio.bucket_amounts()["cash"], 2)
        day = portfolio.step(
            day0 + pd.Timedelta(days=i), round(subscriptions, 2), redemptions, RATES
        )
        assert day.shortfall == 0.0
        assert day.realised_loss == 0.0


@settings(max_examples=25, deadline=None)
@given(
    level=st.floats(0.5, 4.0),
    fee_bp=st.floats(0, 50),
    start=st.dates(pd.Timestamp("2019-01-01").date(), pd.Timestamp("2022-06-01").date()),
)
def test_constant_rates_and_no_flows_give_a_constant_yield(
    level: float, fee_bp: float, start: object
) -> None:
    rates = {"cash": level, "repo_1d": level, "repo_7d": level, "ncd_1m": level, "ncd_3m": level}
    history = pd.DataFrame(rates, index=pd.date_range("2018-06-01", "2022-12-31"))
    day0 = pd.Timestamp(start)
    portfolio = Portfolio.from_ladder(1e10, fee_bp, day0, history.loc[:day0], DEFAULT_MIX)
    r10k = np.array(
        [
            portfolio.step(day0 + pd.Timedelta(days=i), 0.0, 0.0, rates).income_per_10k
            for i in range(60)
        ]
    )
    expected = (level - fee_bp / 100) / 365 * 100  # CNY per 10,000 units a day
    assert r10k == pytest.approx(expected, abs=2e-6)
    y7 = yield_7d(r10k)[6:]
    assert np.ptp(y7) < 1e-4  # percent: constant to within 0.01 bp


def test_liquid_within_counts_cash_and_lots_maturing_in_trading_days() -> None:
    lots = [
        # 2021-09-30 is a Thursday before the National Day holiday (Oct 1-7)
        Lot("repo_7d", 100.0, 0.0, pd.Timestamp("2021-09-24"), pd.Timestamp("2021-10-08")),
        Lot("ncd_1m", 1_000.0, 0.0, pd.Timestamp("2021-09-24"), pd.Timestamp("2021-10-15")),
    ]
    portfolio = Portfolio(0.0, cash=10.0, lots=lots)
    portfolio.step("2021-09-30", 0.0, 0.0, NO_INCOME, purchases={})
    # the five trading days after Sep 30 are Oct 8, the make-up Saturday Oct 9 and Oct 11-13:
    # the repo (maturing Oct 8) is liquid, the NCD (Oct 15, the 7th) is not
    assert portfolio.liquid_within(5) == pytest.approx(110.0)
    assert portfolio.liquid_within(7) == pytest.approx(1_110.0)
    assert Portfolio(0.0, cash=5.0).liquid_within() == 5.0


def test_coarse_money_note_names_products_too_small_for_whole_fen():
    from simulate.portfolio import MIN_EXACT_AUM_CNY, coarse_money_note

    assert coarse_money_note({"A": 8.756e9, "B": MIN_EXACT_AUM_CNY}) is None
    note = coarse_money_note({"A": 87.56, "B": 5e9, "C": 999_999.0})
    assert note is not None and note.startswith("aum of 2 product(s) (A, C) below 1,000,000")
    # why: a day's income of CNY 87.56 at 2 % a year is under half a fen and rounds to nothing
    assert round(87.56 * 0.02 / 365 * 100) == 0
    # a product holding nothing (redeemed whole) has nothing to round: not taken for 亿元
    assert coarse_money_note({"A": 8.756e9, "B": 0.0}) is None
