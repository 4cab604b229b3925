"""Tests of simulate.synthetic and the committed sample in data/sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rainmaker.china_calendar import calendar_features
from rainmaker.investment_mix import read_investment_mix
from rainmaker.yields import yield_7d
from simulate.market import load_shibor
from simulate.sample import generate_sample
from simulate.synthetic import (
    MIX_STYLES,
    SampleConfig,
    simulate_sample,
    yield_figures,
)

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
FILES = (
    "products.csv",
    "flows.csv",
    "market.csv",
    "exposure_response.csv",
    "investment_mix.csv",
    "README.md",
)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_sample(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="module")
def flows() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "flows.csv", parse_dates=["date"])


@pytest.fixture(scope="module")
def products() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "products.csv")


@pytest.fixture(scope="module")
def market() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "market.csv", parse_dates=["date"])


@pytest.mark.slow
@pytest.mark.parametrize("name", FILES)
def test_regeneration_is_byte_identical_to_the_committed_sample(
    regenerated: Path, name: str
) -> None:
    assert (regenerated / name).read_bytes() == (SAMPLE / name).read_bytes()


def test_sample_passes_the_validator() -> None:
    validation = pytest.importorskip("rainmaker.validation")
    report = validation.validate_dataset(SAMPLE)
    assert report.ok, [str(p) for p in report.problems]
    assert not report.warnings, [str(w) for w in report.warnings]


def test_sample_is_small() -> None:
    assert sum((SAMPLE / name).stat().st_size for name in FILES) < 4e6


def test_products_cover_issuers_types_and_a_new_product(
    products: pd.DataFrame, flows: pd.DataFrame
) -> None:
    assert len(products) >= 14
    assert products["issuer"].nunique() >= 4
    assert 1 <= (products["product_type"] == "fixed_income").sum() <= 2
    assert 2 <= products["channel"].nunique() <= 3
    first = flows.groupby("product_id")["date"].min()
    end = flows["date"].max()
    assert flows["date"].min() == pd.Timestamp("2019-01-01") and end == pd.Timestamp("2022-06-15")
    new = first[first > flows["date"].min()]
    assert len(new) == 1
    assert pd.Timedelta(weeks=6) <= end - new.iloc[0] <= pd.Timedelta(weeks=10)
    launch = products.set_index("product_id").loc[new.index[0], "launch_date"]
    assert pd.Timestamp(launch) == new.iloc[0]
    mean_aum = flows.groupby("product_id")["aum"].mean()
    assert mean_aum.drop(new.index).between(1e9, 80e9).all()
    assert mean_aum.max() > 20e9 and mean_aum.min() < 5e9


def test_exposure_response_table_names_every_product(products: pd.DataFrame) -> None:
    response = pd.read_csv(SAMPLE / "exposure_response.csv")
    assert list(response["product_id"]) == list(products["product_id"])
    assert (response["a"] > 0).all() and (response["e0"] > 0).all()


def test_investment_mix_table_is_each_products_simulated_rule(products: pd.DataFrame) -> None:
    table = pd.read_csv(SAMPLE / "investment_mix.csv", dtype={"product_id": str})
    rules = read_investment_mix({"investment_mix": table})
    assert list(rules) == list(products["product_id"])
    styles = {tuple(sorted(m.items())) for m in MIX_STYLES.values()}
    kinds = products.set_index("product_id")["product_type"]
    for pid, rule in rules.items():
        assert tuple(sorted(rule.weights.items())) in styles, pid
        assert 0.3 <= rule.max_daily_purchase_pct <= 1.0, pid
        assert (rule.weights == MIX_STYLES["term"]) == (kinds[pid] == "fixed_income"), pid
    # both the overnight-heavy and the long-ladder styles are present among the products
    assert any(r.weights == MIX_STYLES["overnight"] for r in rules.values())
    assert any(r.weights == MIX_STYLES["ladder"] for r in rules.values())


def test_every_product_has_every_calendar_day(flows: pd.DataFrame) -> None:
    for _, group in flows.groupby("product_id"):
        assert (group["date"].diff().dropna() == pd.Timedelta(days=1)).all()
    assert not flows.duplicated(["date", "product_id"]).any()


def test_aum_rolls_forward_with_flows_and_income(flows: pd.DataFrame) -> None:
    calendar = calendar_features(flows["date"].min(), flows["date"].max())["is_workday"]
    for _, group in flows.groupby("product_id"):
        g = group.set_index("date")
        previous = g["aum"].shift(1)
        income = (g["aum"] - previous - g["subscriptions"] + g["redemptions"]).iloc[1:]
        # whole fen: aum(t) = aum(t−1) + subscriptions − redemptions + net income, exactly
        fen = income.to_numpy() * 100
        assert np.abs(fen - np.round(fen)).max() < 1e-3
        # on a working day after a working day every unit earns, so the income is 万份收益 ×
        # aum(t−1) / 10,000, up to the 4-decimal rounding of 万份收益
        workday = calendar.reindex(g.index).to_numpy()
        both = np.r_[False, workday[1:] & workday[:-1]][1:]
        implied = (g["income_per_10k"] * previous / 10_000).iloc[1:]
        tolerance = previous.iloc[1:] * 0.5e-4 / 10_000 + 0.01
        assert (np.abs(income - implied)[both] <= tolerance[both]).all()
        # daily income is a tiny share of AUM (at most 0.05 %, i.e. about 18 % a year)
        assert (np.abs(income) <= 5e-4 * previous.iloc[1:] + 1).all()


def test_censored_days_hold_subscriptions_at_the_quota(flows: pd.DataFrame) -> None:
    capped = flows["quota"].notna()
    censored = capped & (flows["demand"] > flows["quota"])
    assert censored.sum() >= 50
    assert (flows.loc[censored, "subscriptions"] == flows.loc[censored, "quota"]).all()
    assert (flows.loc[censored, "quota"] < flows.loc[censored, "demand"]).all()
    assert (flows.loc[~censored, "subscriptions"] == flows.loc[~censored, "demand"]).all()
    previous = flows.groupby("product_id")["aum"].shift(1)
    assert (flows["redemptions"][previous.notna()] <= previous[previous.notna()]).all()


def test_yield_columns_are_the_7_day_yield_of_the_published_income(flows: pd.DataFrame) -> None:
    for _, group in flows.groupby("product_id"):
        expected = yield_7d(group["income_per_10k"].to_numpy())
        actual = group["yield_7d"].to_numpy()
        assert np.array_equal(np.isnan(expected), np.isnan(actual))
        valid = ~np.isnan(expected)
        assert np.abs(expected[valid] - actual[valid]).max() <= 0.5e-4 + 1e-9


def _relative_flows(flows: pd.DataFrame) -> pd.DataFrame:
    """Flows as a share of the previous day's AUM, with calendar features."""
    out = flows.copy()
    previous = out.groupby("product_id")["aum"].shift(1)
    out["sub_share"] = out["demand"] / previous
    out["red_share"] = out["redemptions"] / previous
    features = calendar_features(flows["date"].min(), flows["date"].max())
    out = out.join(features, on="date").dropna(subset=["sub_share"])
    return out[out["aum"] > 1e9]


def test_weekday_effect_is_visible(flows: pd.DataFrame) -> None:
    rel = _relative_flows(flows)
    ordinary = ~rel["in_holiday"] & ~rel["is_quarter_end_window"]
    weekend = rel[ordinary & rel["is_weekend"] & ~rel["is_workday"]]
    weekday = rel[ordinary & rel["is_workday"] & ~rel["is_makeup_workday"]]
    sub_ratio = weekend["sub_share"].median() / weekday["sub_share"].median()
    red_ratio = weekend["red_share"].median() / weekday["red_share"].median()
    assert 0.5 < sub_ratio < 0.75  # about 37 % below weekdays
    assert 0.5 < red_ratio < 0.8  # about 35 % below


def test_pre_holiday_peak_and_holiday_collapse_are_visible(flows: pd.DataFrame) -> None:
    rel = _relative_flows(flows)
    workday = rel[rel["is_workday"]]
    two_before = workday[
        (workday["business_days_to_holiday"] == 2) & (workday["holiday_length"] >= 3)
    ]
    ordinary = workday[workday["business_days_to_holiday"] > 5]
    assert two_before["sub_share"].median() > 1.3 * ordinary["sub_share"].median()
    holiday = rel[rel["in_holiday"]]
    assert holiday["sub_share"].median() < 0.5 * ordinary["sub_share"].median()


def test_quarter_end_outflows_and_return_are_visible(flows: pd.DataFrame) -> None:
    rel = _relative_flows(flows)
    workday = rel[rel["is_workday"] & (rel["business_days_to_holiday"] > 2)]
    last_week = workday[workday["is_quarter_end_window"] & (workday["days_to_month_end"] < 7)]
    other = workday[~workday["is_quarter_end_window"] & ~workday["is_month_end_window"]]
    assert last_week["red_share"].mean() > 1.15 * other["red_share"].mean()
    # Q1's quarter end is the largest, Q4's the smallest
    by_quarter = last_week.groupby("quarter")["red_share"].mean()
    assert by_quarter[1] > by_quarter[4]


def test_market_is_the_real_shibor_with_a_benchmark(
    market: pd.DataFrame, flows: pd.DataFrame
) -> None:
    shibor = load_shibor()
    assert market["date"].min() <= flows["date"].min() - pd.Timedelta(days=28)
    assert market["date"].max() == flows["date"].max()
    real = shibor.loc[market["date"].min() : market["date"].max()]
    assert list(market["date"]) == list(real.index)
    for column in real.columns:
        assert np.allclose(market[column].to_numpy(), real[column].to_numpy(), atol=1e-9)
    benchmark = market["benchmark_yield_7d"]
    assert benchmark.notna().all() and benchmark.between(1.0, 3.5).all()
    # the peer lags the market: smoother than 1-week Shibor
    assert benchmark.diff().std() < 0.4 * market["shibor_1w"].diff().std()


def test_products_yields_are_more_volatile_than_the_benchmark(
    flows: pd.DataFrame, market: pd.DataFrame
) -> None:
    figures = yield_figures(flows, market).set_index("product_id")
    established = figures[figures["days"] >= 300]
    assert len(established) >= 13
    assert established["yield_vol_bp"].median() > established["benchmark_vol_bp"].median()
    assert established["tracking_bp"].median() > 2.0
    # the README reports the figures of these very files
    readme = (SAMPLE / "README.md").read_text(encoding="utf-8")
    for product_id, row in established.iterrows():
        assert f"| {product_id} | {int(row['days'])} | {row['yield_vol_bp']:.2f} |" in readme


def test_big_inflows_dilute_the_yield(flows: pd.DataFrame, market: pd.DataFrame) -> None:
    published = market.set_index("date")["benchmark_yield_7d"]
    days = pd.date_range(flows["date"].min(), flows["date"].max())
    benchmark = published.reindex(published.index.union(days)).ffill().loc[days]
    parts = []
    for _, group in flows.groupby("product_id"):
        g = group.set_index("date")
        week_inflow = (g["subscriptions"] - g["redemptions"]).rolling(7).sum() / g["aum"].shift(7)
        excess = g["yield_7d"] - benchmark.reindex(g.index)
        parts.append(pd.DataFrame({"inflow": week_inflow, "change": excess.shift(-7) - excess}))
    both = pd.concat(parts).dropna()
    deciles = both.groupby(pd.qcut(both["inflow"], 10), observed=True)["change"].mean()
    # after the weeks of largest net inflows the yield falls against the market, after the
    # largest outflows it rises
    assert deciles.iloc[-1] < 0 < deciles.iloc[0]


def test_same_seed_same_data_other_seed_other_data() -> None:
    config = SampleConfig(n_products=4, start="2021-01-01", end="2021-03-31")
    first = simulate_sample(config).flows
    again = simulate_sample(config).flows
    other = simulate_sample(
        SampleConfig(seed=1, n_products=4, start="2021-01-01", end="2021-03-31")
    ).flows
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["subscriptions"], other["subscriptions"])
