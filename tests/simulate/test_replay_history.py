"""The replay's world against history: with history's accepted flows and each product's own
investment rule (``data/sample/investment_mix.csv``), the ``none`` replay must publish nearly
the 7-day yield the sample generator published. This validates that the replay's portfolio
model, market rates, fees and accounting are the world the sample was drawn from."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from rainmaker.dataset import load_dataset
from simulate.policies import NoPolicy
from simulate.replay import ReplaySettings, replay

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
START, END = "2021-06-16", "2022-06-15"
WARM_UP_DAYS = 92  # a 3-month NCD ladder has rolled over once
PRODUCTS = [f"P{i:02d}" for i in range(1, 16)]  # every product with a full year


def yield_gap_bp(daily: pd.DataFrame, flows: pd.DataFrame) -> pd.Series:
    """|replayed − published 7-day yield| per (product, day) after the warm-up, bp."""
    replayed = daily.set_index(["product_id", "date"])["yield_7d"]
    published = flows.set_index(["product_id", "date"])["yield_7d"].reindex(replayed.index)
    gap = ((replayed - published).abs() * 100).dropna()
    days = gap.index.get_level_values("date")
    return gap[days >= pd.Timestamp(START) + pd.Timedelta(days=WARM_UP_DAYS)]


@pytest.fixture(scope="module")
def censored():
    """The sample with history's accepted subscriptions as the demand: ``none`` then takes
    exactly what history took, also on the days a quota refused money."""
    dataset = load_dataset(SAMPLE)
    flows = dataset.flows.assign(demand=dataset.flows["subscriptions"])
    return dataclasses.replace(dataset, flows=flows)


def test_none_with_each_products_own_rule_reproduces_the_published_yield(censored) -> None:
    result = replay(censored, START, END, NoPolicy(), products=PRODUCTS)
    gap = yield_gap_bp(result.daily, censored.flows)
    # the residual: the generator's lots of 2021-06-15 were bought in waves (and rolled over in
    # waves since), the replay starts from an even ladder of the same mix
    assert gap.mean() < 1.0
    assert gap.groupby(level="product_id").mean().max() < 2.0
    # AUM follows history's, less the redemptions still owed: the generator sold lots on days
    # off, the replay's world pays what cash cannot on the next working day (the holders keep
    # their units until then)
    daily = result.daily.set_index(["product_id", "date"])
    aum = daily["aum"] - daily["owed"]
    history = censored.flows.set_index(["product_id", "date"])["aum"].reindex(aum.index)
    assert ((aum - history).abs() / history).max() < 1e-3


def test_the_default_mix_does_not_reproduce_overnight_heavy_products(censored) -> None:
    products = ["P05", "P10", "P11"]  # overnight-heavy: 34 % in overnight repo
    default = ReplaySettings(
        initial_mix={"cash": 0.05, "repo_1d": 0.15, "repo_7d": 0.2, "ncd_1m": 0.25, "ncd_3m": 0.35}
    )
    own = replay(censored, START, END, NoPolicy(), products=products)
    other = replay(censored, START, END, NoPolicy(), products=products, settings=default)
    own_gap = yield_gap_bp(own.daily, censored.flows).mean()
    other_gap = yield_gap_bp(other.daily, censored.flows).mean()
    assert other_gap > 3 * own_gap
