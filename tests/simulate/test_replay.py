"""Tests of simulate.replay: money conservation, the world's rules (demand, quotas, exposure,
redemptions, shortfall), the 7-day yield across the window's start, and no look-ahead."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rainmaker.dataset import Dataset, load_dataset
from rainmaker.errors import DataError, UsageError
from rainmaker.investment_mix import ManagedMix
from rainmaker.response import ExposureResponse, exposure_response
from simulate.backtest_metrics import backtest_metrics
from simulate.policies import (
    Decision,
    NoPolicy,
    Policy,
    ProductDecision,
    ReplayState,
    RulePolicy,
)
from simulate.portfolio import DEFAULT_MIX
from simulate.replay import DAILY_COLUMNS, ReplaySettings, replay, replay_first_day


def tiny_dataset(
    seed: int,
    n_products: int = 2,
    n_days: int = 40,
    start: str = "2021-09-01",
    flow_share: float = 0.03,
) -> Dataset:
    """An in-memory data set: random flows that roll AUM forward, demand, exposure and
    income_per_10k, and a market published on every calendar day."""
    rng = np.random.default_rng(seed)
    ids = [f"T{i + 1}" for i in range(n_products)]
    days = pd.date_range(start, periods=n_days, freq="D")
    rows = []
    for pid in ids:
        aum = float(rng.uniform(1e8, 1e9))
        for day in days:
            subs = round(aum * rng.uniform(0, flow_share), 2)
            reds = round(aum * rng.uniform(0, flow_share), 2)
            income = round(aum * 0.02 / 365, 2)
            aum = round(aum + subs - reds + income, 2)
            rows.append(
                {
                    "date": day,
                    "product_id": pid,
                    "subscriptions": subs,
                    "redemptions": reds,
                    "aum": aum,
                    "quota": np.nan,
                    "exposure": float(rng.integers(1_000, 5_000)),
                    "income_per_10k": round(float(rng.uniform(0.4, 0.7)), 4),
                    "demand": subs,
                }
            )
    flows = pd.DataFrame(rows).sort_values(["product_id", "date"], ignore_index=True)
    market_days = pd.date_range(days[0] - pd.Timedelta(days=120), days[-1], freq="D")
    on = 1.8 + np.cumsum(rng.normal(0, 0.02, len(market_days)))
    market = pd.DataFrame(
        {
            "date": market_days,
            "shibor_on": on,
            "shibor_1w": on + 0.2,
            "shibor_1m": on + 0.5,
            "shibor_3m": on + 0.7,
            "benchmark_yield_7d": on + 0.1,
        }
    )
    products = pd.DataFrame(
        {
            "product_id": ids,
            "issuer": "X",
            "product_type": "cash_management",
            "fee_bp": rng.uniform(15, 40, n_products).round(1),
        }
    )
    return Dataset(root=Path("."), products=products, flows=flows, market=market)


class FixedPolicy(Policy):
    """Returns the same decision for every product every day."""

    name = "fixed"

    def __init__(self, decision: ProductDecision) -> None:
        self.decision = decision

    def decide(self, state: ReplayState, day: pd.Timestamp) -> Decision:
        return Decision(dict.fromkeys(state.product_ids, self.decision))


class RandomQuotaPolicy(Policy):
    """Quotas drawn from what the policy may know: a seed and the day (no data)."""

    name = "random_quota"

    def __init__(self, seed: int, scale: float) -> None:
        self.seed = seed
        self.scale = scale

    def decide(self, state: ReplayState, day: pd.Timestamp) -> Decision:
        rng = np.random.default_rng([self.seed, day.toordinal()])
        return Decision(
            {
                pid: ProductDecision(
                    quota=float(rng.uniform(0, self.scale)) if rng.random() < 0.5 else math.inf,
                    buffer_target=float(rng.uniform(0, 0.3)) * state.portfolios[pid].aum,
                )
                for pid in state.product_ids
            }
        )


def check_conservation(dataset: Dataset, result_daily: pd.DataFrame) -> None:
    """aum(t) = aum(t−1) + subscriptions − redemptions paid + net income, from the data set's
    AUM of the eve of each product's first replayed day (warm-up included)."""
    flows = dataset.flows.set_index(["product_id", "date"])
    for pid, rows in result_daily.groupby("product_id"):
        eve = rows["date"].min() - pd.Timedelta(days=1)
        aum0 = flows.loc[(pid, eve), "aum"]
        previous = np.concatenate([[aum0], rows["aum"].to_numpy()[:-1]])
        expected = previous + rows["subscriptions"] - rows["redemptions"] + rows["net_income"]
        # every amount is a whole fen: conserved exactly, up to float representation
        np.testing.assert_allclose(rows["aum"].to_numpy(), expected.to_numpy(), rtol=0, atol=1e-4)


# ------------------------------------------------------------------------------- properties


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), scale=st.floats(1e5, 5e7), flow_share=st.floats(0.0, 0.2))
def test_money_is_conserved_exactly_on_random_flows_and_quotas(
    seed: int, scale: float, flow_share: float
) -> None:
    dataset = tiny_dataset(seed, n_days=30, flow_share=flow_share)
    start = "2021-09-10"
    result = replay(dataset, start, "2021-09-30", RandomQuotaPolicy(seed, scale))
    daily = result.daily
    check_conservation(dataset, daily)
    # what holders asked is paid that day or owed, and owed is paid later
    for _, rows in daily.groupby("product_id"):
        owed = np.concatenate([[0.0], rows["owed"].to_numpy()[:-1]])
        np.testing.assert_allclose(
            rows["owed"], owed + rows["requested"] - rows["redemptions"], atol=0.01
        )
    np.testing.assert_allclose(
        daily["shortfall"], daily["repo_funded"] + daily["sold_early"] + daily["unpaid"]
    )
    daily = result.window
    # accepted = min(demand, quota); lost demand is what the quotas refused
    capped = daily["quota"].fillna(np.inf)
    np.testing.assert_allclose(
        daily["subscriptions"], np.minimum(daily["demand"], capped), atol=0.01
    )
    assert (daily["subscriptions"] <= capped + 1e-9).all()
    assert result.metrics["total"]["lost_demand"] == pytest.approx(
        (daily["demand"] - daily["subscriptions"]).sum()
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), flow_share=st.floats(0.0, 0.3))
def test_yield_7d_is_the_compounded_formula_of_the_replayed_income(
    seed: int, flow_share: float
) -> None:
    dataset = tiny_dataset(seed, n_products=1, n_days=30, flow_share=flow_share)
    start = "2021-09-12"
    daily = replay(dataset, start, "2021-09-30", NoPolicy(), warmup_days=0).daily
    history = dataset.flows.set_index("date")["income_per_10k"]
    before = history.loc[pd.Timestamp(start) - pd.Timedelta(days=6) : start].iloc[:-1]
    r = np.concatenate([before.to_numpy(), daily["income_per_10k"].to_numpy()])
    for t in range(len(daily)):
        window = r[t : t + 7]  # the six days before day t and day t itself
        expected = (np.prod(1 + window / 10_000) ** (365 / 7) - 1) * 100
        assert daily["yield_7d"].iloc[t] == pytest.approx(expected, rel=1e-9, abs=1e-9)
    # 万份收益 is the day's net income per 10,000 earning units
    assert (daily["income_per_10k"].abs() < 5).all()


# --------------------------------------------------------------------------- the world's rules


def test_none_replays_history_demand_and_redemptions_and_writes_every_column() -> None:
    dataset = tiny_dataset(1)
    result = replay(dataset, "2021-09-15", "2021-10-10", NoPolicy(), warmup_days=0)
    daily = result.daily
    assert tuple(daily.columns) == DAILY_COLUMNS
    assert len(daily) == 2 * 26
    history = dataset.flows.set_index(["product_id", "date"])
    keyed = daily.set_index(["product_id", "date"])
    np.testing.assert_allclose(keyed["demand"], history.loc[keyed.index, "demand"])
    np.testing.assert_allclose(keyed["subscriptions"], keyed["demand"])
    assert result.metrics["total"]["lost_demand"] == 0.0
    # requests are history's, scaled by replayed AUM over history's AUM of the day before
    for pid, rows in daily.groupby("product_id"):
        hist = history.loc[pid]
        prev_hist = hist["aum"].shift(1).loc[rows["date"]].to_numpy()
        aum0 = hist["aum"].loc[pd.Timestamp("2021-09-14")]
        # the holders who may still ask: units less the redemptions owed to earlier requests
        held = rows["aum"].to_numpy() - rows["owed"].to_numpy()
        prev_replay = np.concatenate([[aum0], held[:-1]])
        expected = hist["redemptions"].loc[rows["date"]].to_numpy() * prev_replay / prev_hist
        np.testing.assert_allclose(rows["requested"], expected, atol=0.01)
    # benchmark is the market's of each day
    market = dataset.market.set_index("date")["benchmark_yield_7d"]
    np.testing.assert_allclose(keyed["benchmark_yield_7d"], market.loc[daily["date"]].to_numpy())


def test_replay_starts_from_the_aum_of_the_day_before_start() -> None:
    dataset = tiny_dataset(2)
    daily = replay(dataset, "2021-09-20", "2021-09-20", NoPolicy(), warmup_days=0).daily
    assert list(daily["date"].unique()) == [pd.Timestamp("2021-09-20")]
    check_conservation(dataset, daily)


def test_a_listed_product_without_flows_is_not_called_unknown() -> None:
    # T3 is in products.csv but has no flows: 'unknown product(s) T3' sent the reader to check
    # an id that is there; the message says what it lacks, and lists the first ids only
    dataset = tiny_dataset(3, n_products=3)
    idle = dataclasses.replace(
        dataset, flows=dataset.flows.loc[dataset.flows["product_id"] != "T3"]
    )
    with pytest.raises(UsageError) as caught:
        replay(idle, "2021-09-10", "2021-09-12", NoPolicy(), products=["T3", "NOPE"])
    assert str(caught.value) == (
        "unknown product(s) NOPE; product(s) T3 of products.csv have no flows; expected "
        "products with flows: T1, T2"
    )


def test_subset_of_products_and_bad_windows() -> None:
    dataset = tiny_dataset(3, n_products=3)
    daily = replay(dataset, "2021-09-10", "2021-09-12", NoPolicy(), products=["T2"]).daily
    assert set(daily["product_id"]) == {"T2"}
    with pytest.raises(UsageError, match="unknown product"):
        replay(dataset, "2021-09-10", "2021-09-12", NoPolicy(), products=["NOPE"])
    with pytest.raises(UsageError, match="precedes"):
        replay(dataset, "2021-09-12", "2021-09-10", NoPolicy())
    with pytest.raises(UsageError, match="first flows day"):
        replay(dataset, "2021-09-01", "2021-09-10", NoPolicy())
    with pytest.raises(UsageError, match="last flows day"):
        replay(dataset, "2021-09-10", "2022-01-01", NoPolicy())


def test_exposure_moves_demand_along_the_response_curve() -> None:
    dataset = tiny_dataset(4, n_products=1)
    curve = ExposureResponse(a=0.5, e0=2_000.0)
    policy = FixedPolicy(ProductDecision(exposure=10_000.0))
    world = ReplaySettings(response={"T1": curve})
    daily = replay(dataset, "2021-09-10", "2021-09-20", policy, settings=world).daily
    history = dataset.flows.set_index("date").loc[daily["date"]]
    factor = exposure_response(10_000.0, curve) / exposure_response(
        history["exposure"].to_numpy(), curve
    )
    np.testing.assert_allclose(daily["demand"], history["demand"] * factor, atol=0.01)
    assert (daily["exposure"] == 10_000.0).all()
    # without a curve the replay keeps history's demand and says so
    with pytest.warns(UserWarning, match="no exposure response"):
        plain = replay(
            dataset, "2021-09-10", "2021-09-20", policy, settings=ReplaySettings(response={})
        ).daily
    np.testing.assert_allclose(plain["demand"], history["demand"])


def test_exposure_response_table_of_the_data_set_is_used() -> None:
    dataset = tiny_dataset(4, n_products=1)
    table = pd.DataFrame({"product_id": ["T1"], "a": [0.5], "e0": [2_000.0]})
    dataset = dataclasses.replace(dataset, tables={"exposure_response": table})
    policy = FixedPolicy(ProductDecision(exposure=0.0))
    daily = replay(dataset, "2021-09-10", "2021-09-12", policy).daily
    history = dataset.flows.set_index("date").loc[daily["date"]]
    curve = ExposureResponse(0.5, 2_000.0)
    factor = 1.0 / exposure_response(history["exposure"].to_numpy(), curve)
    np.testing.assert_allclose(daily["demand"], history["demand"] * factor, atol=0.01)


def test_refused_demand_is_lost_or_partly_returns_on_the_next_working_day() -> None:
    dataset = tiny_dataset(5, n_products=1)
    # a zero quota on Friday 2021-09-10 only
    friday = pd.Timestamp("2021-09-10")

    class FridayClosed(Policy):
        name = "friday_closed"

        def decide(self, state: ReplayState, day: pd.Timestamp) -> Decision:
            quota = 0.0 if day == friday else math.inf
            return Decision({pid: ProductDecision(quota=quota) for pid in state.product_ids})

    lost = replay(dataset, "2021-09-09", "2021-09-14", FridayClosed()).daily.set_index("date")
    assert lost.loc[friday, "subscriptions"] == 0.0
    assert lost.loc[friday, "refused"] == pytest.approx(lost.loc[friday, "demand"])
    assert (lost["returning"] == 0).all()

    world = ReplaySettings(returning_share=0.5)
    back = replay(dataset, "2021-09-09", "2021-09-14", FridayClosed(), settings=world)
    rows = back.daily.set_index("date")
    monday = pd.Timestamp("2021-09-13")
    half = 0.5 * rows.loc[friday, "demand"]
    # nothing returns over the weekend; half of Friday's demand comes back on Monday
    assert rows.loc[pd.Timestamp("2021-09-11"), "returning"] == 0.0
    assert rows.loc[monday, "returning"] == pytest.approx(half, abs=0.01)
    assert rows.loc[monday, "subscriptions"] == pytest.approx(
        rows.loc[monday, "demand"] + half, abs=0.01
    )
    # demand counts fresh orders only, so lost demand nets out what came back
    assert back.metrics["total"]["lost_demand"] == pytest.approx(half, abs=0.02)


def test_a_redemption_run_forces_early_sales_counted_as_shortfall() -> None:
    dataset = tiny_dataset(6, n_products=1, flow_share=0.01)
    flows = dataset.flows.copy()
    day = pd.Timestamp("2021-09-15")
    row = flows.index[flows["date"] == day][0]
    flows.loc[row, "redemptions"] = 0.4 * flows.loc[row - 1, "aum"]
    dataset = dataclasses.replace(dataset, flows=flows)
    result = replay(dataset, "2021-09-10", "2021-09-20", NoPolicy())
    daily = result.daily.set_index("date")
    # 40 % of AUM on a Wednesday: cash, then repo up to 20 % of what is left, then sales
    assert daily.loc[day, "repo_funded"] > 0
    assert daily.loc[day, "sold_early"] > 0
    assert daily.loc[day, "realised_loss"] != 0
    assert daily.loc[day, "unpaid"] == 0
    assert daily.loc[day, "borrowed"] <= 0.2 * daily.loc[day, "aum"] + 0.01
    assert daily.loc[day, "shortfall"] == pytest.approx(
        daily.loc[day, ["repo_funded", "sold_early", "unpaid"]].sum()
    )
    window = result.window.set_index("date")
    # shortfall days count sales and unpaid redemptions, not repo within the cap (SPEC §4)
    hit = (window["sold_early"] + window["unpaid"]) > 0
    assert result.metrics["total"]["shortfall_days"] == hit.sum() >= 1
    assert result.metrics["total"]["sold_early"] == pytest.approx(window["sold_early"].sum())
    check_conservation(dataset, result.daily)


def test_a_product_closed_by_a_full_redemption_closes_in_the_replay() -> None:
    """History redeems every unit of T2 on a Wednesday (its AUM goes to 0, its last row): the
    replay redeems every unit too, past the one-day cap, and pays them by selling the book
    (half the product was left, with the day's income and a repo loan, when it dropped out)."""
    dataset = tiny_dataset(6, n_products=2, flow_share=0.01)
    flows = dataset.flows
    day = pd.Timestamp("2021-09-15")
    flows = flows.loc[(flows["product_id"] != "T2") | (flows["date"] <= day)].copy()
    row = flows.index[(flows["product_id"] == "T2") & (flows["date"] == day)][0]
    income = round(flows.loc[row - 1, "aum"] * 0.02 / 365, 2)
    flows.loc[row, ["subscriptions", "demand"]] = 0.0
    flows.loc[row, "redemptions"] = flows.loc[row - 1, "aum"] + income
    flows.loc[row, "aum"] = 0.0
    dataset = dataclasses.replace(dataset, flows=flows.reset_index(drop=True))
    result = replay(dataset, "2021-09-10", "2021-09-20", NoPolicy())
    t2 = result.daily.loc[result.daily["product_id"] == "T2"].set_index("date")
    assert t2.index.max() == day
    last = t2.loc[day]
    assert last["aum"] == 0.0 and last["borrowed"] == 0.0
    assert last["unpaid"] == 0.0 and last["owed"] == 0.0
    assert last["sold_early"] > 0
    assert last["redemptions"] == pytest.approx(t2["aum"].iloc[-2] + last["net_income"], abs=0.005)
    check_conservation(dataset, result.daily)


def test_a_product_that_holds_nothing_has_no_yield_not_a_yield_of_0() -> None:
    """History redeems every unit of T2 on 2021-09-15 and keeps sending its rows, at 0: from
    the next day it has no 万份收益 (nothing held, nothing earned), so no 7-day yield, and its
    figures cover the days it was open; a yield of 0 read as about −200 bp of excess."""
    dataset = tiny_dataset(6, n_products=2, flow_share=0.01)
    flows = dataset.flows.copy()
    day = pd.Timestamp("2021-09-15")
    t2 = flows["product_id"] == "T2"
    row = flows.index[t2 & (flows["date"] == day)][0]
    income = round(flows.loc[row - 1, "aum"] * 0.02 / 365, 2)
    flows.loc[row, ["subscriptions", "demand"]] = 0.0
    flows.loc[row, "redemptions"] = flows.loc[row - 1, "aum"] + income
    after = t2 & (flows["date"] >= day)
    flows.loc[after, "aum"] = 0.0
    flows.loc[after & (flows["date"] > day), ["subscriptions", "redemptions", "demand"]] = 0.0
    dataset = dataclasses.replace(dataset, flows=flows)
    result = replay(dataset, "2021-09-10", "2021-09-25", NoPolicy())
    rows = result.daily.loc[result.daily["product_id"] == "T2"].set_index("date")
    assert rows.loc[day, "aum"] == 0.0 and np.isfinite(rows.loc[day, "income_per_10k"])
    later = rows.loc[rows.index > day]
    assert len(later) == 10
    assert later["income_per_10k"].isna().all() and later["yield_7d"].isna().all()
    figures = result.metrics["products"]["T2"]
    assert figures["days"] == 6  # 10 to 15 September
    assert abs(figures["mean_excess_bp"]) < 100


def test_large_redemptions_are_deferred_to_the_next_working_day_when_the_world_says_so() -> None:
    dataset = tiny_dataset(6, n_products=1, flow_share=0.01)
    flows = dataset.flows.copy()
    day, after = pd.Timestamp("2021-09-15"), pd.Timestamp("2021-09-16")  # Wednesday, Thursday
    row = flows.index[flows["date"] == day][0]
    flows.loc[row, "redemptions"] = 0.25 * flows.loc[row - 1, "aum"]
    dataset = dataclasses.replace(dataset, flows=flows)
    off = replay(dataset, "2021-09-13", "2021-09-20", NoPolicy(), warmup_days=0)
    assert (off.daily["deferred"] == 0).all()
    world = ReplaySettings(large_redemption_deferral=True)
    on = replay(dataset, "2021-09-13", "2021-09-20", NoPolicy(), settings=world, warmup_days=0)
    rows = on.daily.set_index("date")
    units = rows.loc[day - pd.Timedelta(days=1), "aum"]
    # net redemptions above 10 % of the previous day's units wait for the next working day
    excess = rows.loc[day, "requested"] - rows.loc[day, "subscriptions"] - 0.10 * units
    assert rows.loc[day, "deferred"] == pytest.approx(excess, abs=0.01)
    assert rows.loc[day, "unpaid"] >= rows.loc[day, "deferred"]
    assert rows.loc[day, "redemptions"] == pytest.approx(
        rows.loc[day, "requested"] - rows.loc[day, "deferred"], abs=0.01
    )
    # ... and are paid first the next working day, with that day's own requests
    assert rows.loc[after, "redemptions"] == pytest.approx(
        rows.loc[after, "requested"] + rows.loc[day, "deferred"], abs=0.01
    )
    assert rows.loc[after, "owed"] == 0.0
    assert on.metrics["total"]["unpaid"] == pytest.approx(rows["unpaid"].sum())
    assert on.metrics["total"]["shortfall_days"] >= 1
    check_conservation(dataset, on.daily)


def test_world_settings_are_validated() -> None:
    with pytest.raises(UsageError, match="max_leverage"):
        ReplaySettings(max_leverage=0.9)
    with pytest.raises(UsageError, match="max_leverage"):
        ReplaySettings(max_leverage=2.5)
    with pytest.raises(UsageError, match="spread"):
        ReplaySettings(sale_spread_bp=-1.0)
    assert ReplaySettings().max_leverage == 1.2 and not ReplaySettings().large_redemption_deferral


def test_warmup_replays_days_before_start_and_the_figures_cover_the_window_only() -> None:
    dataset = tiny_dataset(10, n_days=60, start="2021-08-01")
    result = replay(dataset, "2021-09-10", "2021-09-25", NoPolicy(), warmup_days=20)
    daily = result.daily
    assert daily["date"].min() == pd.Timestamp("2021-08-21") == result.replay_start
    warm = daily.loc[daily["warmup"], "date"]
    assert warm.min() == pd.Timestamp("2021-08-21") and warm.max() == pd.Timestamp("2021-09-09")
    assert result.window["date"].min() == pd.Timestamp("2021-09-10")
    # every figure equals the one computed on the window's rows alone
    expected = backtest_metrics(daily.loc[daily["date"] >= "2021-09-10"])
    assert {k: v for k, v in result.metrics.items() if k in expected} == expected
    assert (result.metrics["start"], result.metrics["end"]) == ("2021-09-10", "2021-09-25")
    assert result.metrics["warmup_days"] == 20
    assert result.metrics["replay_start"] == "2021-08-21"
    check_conservation(dataset, daily)
    # more warm-up than data: clipped to the day after the first flows day
    long = replay(dataset, "2021-09-10", "2021-09-12", NoPolicy(), warmup_days=365)
    assert long.replay_start == pd.Timestamp("2021-08-02")
    assert long.metrics["warmup_days"] == 39
    assert replay_first_day(dataset, "2021-09-10", 0) == pd.Timestamp("2021-09-10")
    with pytest.raises(UsageError, match="warmup"):
        replay(dataset, "2021-09-10", "2021-09-12", NoPolicy(), warmup_days=-1)


def test_a_larger_buffer_holds_more_liquid_assets() -> None:
    dataset = tiny_dataset(7, n_products=1)
    small = replay(dataset, "2021-09-10", "2021-10-09", NoPolicy(buffer_share=0.0)).daily
    large = replay(dataset, "2021-09-10", "2021-10-09", NoPolicy(buffer_share=0.6)).daily
    assert (large["liquidity_buffer"] / large["aum"]).iloc[-10:].min() >= 0.59
    assert (large["liquidity_buffer"].mean()) > small["liquidity_buffer"].mean()


def test_product_launched_inside_the_window_starts_empty() -> None:
    dataset = tiny_dataset(8, n_products=2)
    flows = dataset.flows
    late = flows[(flows["product_id"] == "T2") & (flows["date"] >= "2021-09-20")].copy()
    first = late.index[0]
    late.loc[first, ["redemptions"]] = 0.0
    late["aum"] = late["aum"] - flows.loc[first - 1, "aum"]  # as if it had started from zero
    flows = pd.concat([flows[flows["product_id"] == "T1"], late], ignore_index=True)
    dataset = dataclasses.replace(dataset, flows=flows)
    daily = replay(dataset, "2021-09-15", "2021-09-30", NoPolicy()).daily
    t2 = daily[daily["product_id"] == "T2"]
    assert t2["date"].min() == pd.Timestamp("2021-09-20")
    assert t2["aum"].iloc[0] == pytest.approx(t2["subscriptions"].iloc[0])
    # no 万份收益 before its launch: its first six days have no 7-day yield
    assert t2["yield_7d"].iloc[:6].isna().all() and t2["yield_7d"].iloc[6:].notna().all()


def test_a_product_whose_history_begins_late_starts_from_its_book_not_from_nothing() -> None:
    """Its first row holds more than that day's flows: a book that existed before the data
    begin. It starts from the AUM before that day, pays that day's redemptions, and rolls
    forward as history does (it was replayed from nothing: the book and the day's
    redemptions dropped, a quarter of its AUM refused)."""
    dataset = tiny_dataset(8, n_products=2)
    flows = dataset.flows
    late = flows[(flows["product_id"] != "T2") | (flows["date"] >= "2021-09-20")]
    dataset = dataclasses.replace(dataset, flows=late.reset_index(drop=True))
    daily = replay(dataset, "2021-09-15", "2021-09-30", NoPolicy()).daily
    t2 = daily[daily["product_id"] == "T2"].set_index("date")
    truth = late[late["product_id"] == "T2"].set_index("date")
    first = pd.Timestamp("2021-09-20")
    assert t2.index.min() == first
    assert t2.loc[first, "redemptions"] == pytest.approx(truth.loc[first, "redemptions"])
    assert t2.loc[first, "aum"] == pytest.approx(truth.loc[first, "aum"], rel=1e-3)
    assert (t2["aum"] / truth["aum"].reindex(t2.index)).between(0.99, 1.01).all()
    rolled = t2["aum"].shift() + t2["subscriptions"] - t2["redemptions"] + t2["net_income"]
    np.testing.assert_allclose(t2["aum"].iloc[1:], rolled.iloc[1:], rtol=0, atol=1e-4)


def test_products_replayed_that_begin_after_the_data_set_clip_the_warm_up_to_their_flows() -> None:
    """T1 closes on 09-12 and its successor T2 begins on 09-20; a window from 09-25 replays T2
    alone. The warm-up was clipped to the data set's first day (09-01), not T2's, and every
    policy that reads the history stopped on the first morning with exit 2, 'as-of day
    2021-09-19 precedes the first flows date 2021-09-20'; ``--products T2`` did the same."""
    dataset = tiny_dataset(8, n_products=2)
    flows = dataset.flows
    kept = ((flows["product_id"] == "T1") & (flows["date"] <= "2021-09-12")) | (
        (flows["product_id"] == "T2") & (flows["date"] >= "2021-09-20")
    )
    successor = dataclasses.replace(dataset, flows=flows.loc[kept].reset_index(drop=True))
    result = replay(successor, "2021-09-25", "2021-09-30", RulePolicy(), warmup_days=10)
    assert result.replay_start == pd.Timestamp("2021-09-21")
    assert result.metrics["warmup_days"] == 4
    assert set(result.daily["product_id"]) == {"T2"}
    assert replay_first_day(successor, "2021-09-25", 10, ("T2",)) == pd.Timestamp("2021-09-21")
    alone = replay(dataset, "2021-09-25", "2021-09-30", RulePolicy(), products=["T2"])
    assert alone.replay_start == pd.Timestamp("2021-09-02")  # T2 has flows from the first day
    with pytest.raises(UsageError, match="--start 2021-09-20 must follow the first flows day"):
        replay(successor, "2021-09-20", "2021-09-30", RulePolicy(), products=["T2"])


# ----------------------------------------------------------------------------- no look-ahead


def perturbed_after(dataset: Dataset, day: pd.Timestamp, seed: int) -> Dataset:
    """Every flows and market row dated after ``day`` scrambled."""
    rng = np.random.default_rng(seed)
    flows = dataset.flows.copy()
    later = flows["date"] > day
    for column in ("subscriptions", "redemptions", "demand", "aum"):
        flows.loc[later, column] = flows.loc[later, column] * rng.uniform(0.2, 3.0, later.sum())
    flows.loc[later, "exposure"] = rng.uniform(0, 1e4, later.sum()).round()
    market = dataset.market.copy()
    later_m = market["date"] > day
    for column in ("shibor_on", "shibor_1w", "shibor_1m", "shibor_3m", "benchmark_yield_7d"):
        market.loc[later_m, column] = rng.uniform(0.5, 5.0, later_m.sum())
    return dataclasses.replace(dataset, flows=flows, market=market)


@pytest.mark.parametrize("policy", [NoPolicy(), RulePolicy()], ids=["none", "rule"])
def test_no_look_ahead_decisions_up_to_t_ignore_later_rows(policy: Policy) -> None:
    dataset = load_dataset(Path(__file__).resolve().parents[2] / "data" / "sample")
    products = ["P01", "P04", "P06"]
    start, t, end = "2021-09-24", pd.Timestamp("2021-10-08"), "2021-10-20"
    full = replay(dataset, start, end, policy, products=products)
    changed = replay(perturbed_after(dataset, t, 0), start, end, policy, products=products)
    cut = replay(dataset.up_to(t), start, t, policy, products=products)
    for other in (changed, cut):
        mine = full.decisions[full.decisions["date"] <= t].reset_index(drop=True)
        theirs = other.decisions[other.decisions["date"] <= t].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, theirs)
        pd.testing.assert_frame_equal(
            full.daily[full.daily["date"] <= t].reset_index(drop=True),
            other.daily[other.daily["date"] <= t].reset_index(drop=True),
        )
    # and the perturbation does reach the days after t (the test can fail)
    assert not full.daily[full.daily["date"] > t]["aum"].equals(
        changed.daily[changed.daily["date"] > t]["aum"]
    )


class FirstMorning(NoPolicy):
    """``none`` that keeps each product's bucket amounts on the first morning of the replay."""

    name = "first_morning"

    def decide(self, state: ReplayState, day: pd.Timestamp) -> Decision:
        if not hasattr(self, "_held"):
            self._held = {pid: p.bucket_amounts() for pid, p in state.portfolios.items()}
            self._managed = dict(state.managed)
        return super().decide(state, day)


def mix_table(rows: dict[str, dict[str, float]], cap_pct: float = 0.5) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"product_id": pid, "bucket": b, "share": s, "max_daily_purchase_pct": cap_pct}
            for pid, mix in rows.items()
            for b, s in mix.items()
        ]
    )


def test_each_product_starts_from_a_ladder_of_its_own_investment_mix() -> None:
    dataset = tiny_dataset(8, n_products=2)
    ladder = {"cash": 0.05, "repo_1d": 0.08, "repo_7d": 0.12, "ncd_1m": 0.3, "ncd_3m": 0.45}
    dataset = dataclasses.replace(dataset, tables={"investment_mix": mix_table({"T1": ladder})})
    policy = FirstMorning()
    daily = replay(dataset, "2021-09-10", "2021-09-11", policy, warmup_days=0).daily
    aum0 = dataset.flows.set_index(["product_id", "date"])["aum"]
    for pid, mix in (("T1", ladder), ("T2", dict(DEFAULT_MIX))):
        held = policy._held[pid]
        total = aum0[(pid, pd.Timestamp("2021-09-09"))]
        assert sum(held.values()) == pytest.approx(total, abs=0.05)
        for bucket, share in mix.items():
            assert held[bucket] == pytest.approx(share * total, rel=1e-6, abs=1.0), (pid, bucket)
    assert policy._managed["T1"].max_daily_purchase_pct == 0.5
    assert policy._managed["T2"] == ManagedMix()
    check_conservation(dataset, daily)
    # an explicit initial mix applies to every product and wins over the table
    policy = FirstMorning()
    settings = ReplaySettings(initial_mix={"cash": 1.0})
    replay(dataset, "2021-09-10", "2021-09-10", policy, settings=settings, warmup_days=0)
    assert policy._held["T1"]["cash"] == pytest.approx(aum0[("T1", pd.Timestamp("2021-09-09"))])


@pytest.mark.parametrize(
    ("rows", "column"),
    [
        ({"T1": {"cash": 0.5, "gold": 0.5}}, "bucket"),
        ({"T1": {"cash": 0.5, "ncd_3m": 0.4}}, "share"),
        ({"T1": {"cash": -0.5, "ncd_3m": 1.5}}, "share"),
    ],
)
def test_a_bad_investment_mix_table_is_a_data_error(
    rows: dict[str, dict[str, float]], column: str
) -> None:
    dataset = tiny_dataset(9, n_products=1)
    dataset = dataclasses.replace(dataset, tables={"investment_mix": mix_table(rows)})
    with pytest.raises(DataError) as caught:
        replay(dataset, "2021-09-10", "2021-09-11", NoPolicy())
    assert any(p.column == column and p.file == "investment_mix.csv" for p in caught.value.problems)
