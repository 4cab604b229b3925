"""Tests of the optimizer's inputs: the forecast adapter, today's portfolio, sales plans and the
derived model parameters (calendar, lots, quantiles)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimize import load_settings
from optimize.inputs import (
    PlanInputs,
    carry_references,
    compounded_to_simple_pct,
    days_off_after_first_day,
    inputs_from_forecast,
    laddered_rates,
    target_yield_path,
    worst_days_off_outflow,
    worst_net_outflow,
)
from optimize.parameters import model_parameters, nice_floor, required_quantile
from optimize.portfolio import default_ladder
from optimize.synthetic import synthetic_inputs
from rainmaker.contracts import ForecastResult
from rainmaker.dataset import load_dataset
from rainmaker.errors import DataError, UsageError
from rainmaker.quantiles import quantile_level
from simulate.portfolio import Portfolio
from tests.conftest import write_dataset

Z = {"p05": -1.645, "p10": -1.2816, "p50": 0.0, "p90": 1.2816, "p95": 1.645, "p97.5": 1.96}


def fake_forecast(
    dataset, as_of: str, horizon: int = 7, levels=("p05", "p10", "p50", "p90", "p95")
) -> ForecastResult:
    """Flat forecast from the last 14 days' means, quantiles ±30 % around them (no look-ahead)."""
    today = pd.Timestamp(as_of)
    flows = dataset.up_to(today).flows
    recent = flows[flows["date"] > today - pd.Timedelta(days=14)]
    means = recent.groupby("product_id")[["subscriptions", "redemptions", "exposure"]].mean()
    ids = tuple(sorted(means.index))
    dates = pd.date_range(today + pd.Timedelta(days=1), periods=horizon, freq="D")
    rows = []
    for pid in ids:
        for variable in ("subscriptions", "redemptions"):
            mean = float(means.loc[pid, variable])
            for day in dates:
                row = {"product_id": pid, "date": day, "variable": variable, "mean": mean}
                row.update({c: mean * (1 + 0.3 * Z[c]) for c in levels})
                rows.append(row)
    exposure = pd.DataFrame(
        {pid: np.full(horizon, means.loc[pid, "exposure"]) for pid in ids}, index=dates
    )
    response = pd.DataFrame({"a": 0.5, "e0": 2000.0}, index=pd.Index(ids, name="product_id"))
    return ForecastResult(
        table=pd.DataFrame(rows),
        paths={},
        product_ids=ids,
        baseline_exposure=exposure,
        exposure_response=response,
        model_name="flat-fake",
        as_of=today,
        horizon=horizon,
        quantiles=tuple(q for q in map(quantile_level, levels) if q is not None),
    )


@pytest.fixture
def small_dataset(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "data", n_products=3, n_days=60, seed=4)


def test_inputs_read_only_the_past(small_dataset: Path) -> None:
    dataset = load_dataset(small_dataset)
    as_of = "2021-04-10"
    forecast = fake_forecast(dataset, as_of)
    settings = load_settings()
    full, _ = inputs_from_forecast(dataset, as_of, forecast, settings)
    cut, _ = inputs_from_forecast(dataset.up_to(as_of), as_of, forecast, settings)
    for name in (
        "demand",
        "aum_today",
        "target_yield_pct",
        "recent_income_per_10k",
        "baseline_exposure",
        "open_today",
    ):
        np.testing.assert_array_equal(getattr(full, name), getattr(cut, name))
    pd.testing.assert_frame_equal(full.holdings, cut.holdings)
    assert full.rates_pct == cut.rates_pct
    # The as-of day's AUM is the portfolio's (a default ladder of exactly that AUM).
    today = dataset.flows[dataset.flows["date"] == pd.Timestamp(as_of)]
    np.testing.assert_allclose(full.aum_today, today.sort_values("product_id")["aum"], rtol=1e-9)
    assert full.redemption_quantiles.keys() == {0.5, 0.9, 0.95}


def test_a_product_holding_nothing_has_no_recent_income(small_dataset: Path) -> None:
    # P002 fully redeemed long ago, no 万份收益 given: its six recent days earned nothing (the
    # empty book's yield less the fee gave it -fee_bp: an expected 7-day yield of -0.33 %)
    flows = pd.read_csv(small_dataset / "flows.csv", dtype=str, keep_default_na=False)
    empty = flows["product_id"] == "P002"
    flows.loc[empty, ["subscriptions", "redemptions", "aum", "quota"]] = ["0", "0", "0", ""]
    flows.to_csv(small_dataset / "flows.csv", index=False)
    dataset = load_dataset(small_dataset)
    inputs, _ = inputs_from_forecast(
        dataset, "2021-04-10", fake_forecast(dataset, "2021-04-10"), load_settings()
    )
    recent = dict(zip(inputs.product_ids, inputs.recent_income_per_10k, strict=True))
    assert (recent["P002"] == 0.0).all()
    assert (recent["P001"] > 0).all() and (recent["P003"] > 0).all()


def test_a_day_with_a_zero_quota_is_closed(small_dataset: Path) -> None:
    flows = pd.read_csv(small_dataset / "flows.csv")
    as_of = "2021-04-10"
    flows.loc[
        (flows["date"] == as_of) & (flows["product_id"] == "P002"), ["quota", "subscriptions"]
    ] = 0.0
    flows.to_csv(small_dataset / "flows.csv", index=False)
    dataset = load_dataset(small_dataset)
    inputs, _ = inputs_from_forecast(dataset, as_of, fake_forecast(dataset, as_of), load_settings())
    assert inputs.open_today.tolist() == [True, False, True]


def test_confidence_above_the_forecast_quantiles_is_a_usage_error(small_dataset: Path) -> None:
    dataset = load_dataset(small_dataset)
    forecast = fake_forecast(dataset, "2021-04-10", levels=("p10", "p50", "p90"))
    with pytest.raises(UsageError, match="quantile"):
        inputs_from_forecast(dataset, "2021-04-10", forecast, load_settings())


def test_a_p97_5_quantile_reaches_the_plan(small_dataset: Path) -> None:
    """The forecast labels 0.975 ``p97.5`` (rainmaker.quantiles); the optimizer reads it back
    (it used to parse digits only, ignore the column and refuse the plan)."""
    dataset = load_dataset(small_dataset)
    forecast = fake_forecast(dataset, "2021-04-10", levels=("p50", "p90", "p97.5"))
    settings = load_settings(overrides={"liquidity": {"confidence": 0.975}})
    inputs, _ = inputs_from_forecast(dataset, "2021-04-10", forecast, settings)
    assert sorted(inputs.redemption_quantiles) == [0.5, 0.9, 0.975]
    table = forecast.table
    wanted = table.loc[table["variable"] == "redemptions"].pivot(
        index="product_id", columns="date", values="p97.5"
    )
    np.testing.assert_allclose(inputs.redemption_quantiles[0.975], wanted.to_numpy())


def test_holdings_table_is_the_starting_portfolio(small_dataset: Path) -> None:
    pd.DataFrame(
        {
            "product_id": ["P001", "P001", "P001"],
            "bucket": ["cash", "repo_7d", "ncd_3m"],
            "amount_cny": [1e7, 5e7, 2e8],
            "rate_pct": ["", "2.1", "2.6"],
            "maturity_date": ["", "2021-04-14", "2021-06-30"],
        }
    ).to_csv(small_dataset / "holdings.csv", index=False)
    dataset = load_dataset(small_dataset)
    inputs, warnings = inputs_from_forecast(
        dataset, "2021-04-10", fake_forecast(dataset, "2021-04-10"), load_settings()
    )
    held = inputs.holdings[inputs.holdings["product_id"] == "P001"]
    assert held["amount_cny"].sum() == pytest.approx(2.6e8)
    assert inputs.aum_today[0] == pytest.approx(2.6e8)
    assert any("P002" in w and "default ladder" in w for w in warnings)
    assert any("P001" in w and "holdings" in w for w in warnings)  # differs from flows' AUM
    parameters = model_parameters(inputs, load_settings())
    # the 7-day repo matures on day 4 (2021-04-14), inside the 5-working-day window
    assert parameters.held_maturing[0, 3] * parameters.scale == pytest.approx(5e7)
    assert parameters.held_liquid[0, 0] * parameters.scale == pytest.approx(5e7)


def test_bad_holdings_name_file_column_and_lines(small_dataset: Path) -> None:
    pd.DataFrame(
        {
            "product_id": ["P001", "P002", "P003"],
            "bucket": ["ncd_3m", "gold", "repo_7d"],
            "amount_cny": [-5.0, 1e6, 1e6],
            "rate_pct": [2.5, 2.0, 2.1],
            "maturity_date": ["2021-06-30", "2021-05-01", "2021-04-01"],
        }
    ).to_csv(small_dataset / "holdings.csv", index=False)
    caught = _plan_inputs_refused(small_dataset)
    problems = {(p.file, p.column): p.rows for p in caught.problems}
    assert problems[("holdings.csv", "amount_cny")] == (2,)
    assert problems[("holdings.csv", "bucket")] == (3,)
    assert problems[("holdings.csv", "maturity_date")] == (4,)
    # the buckets as written, comma-separated like every other message, not a Python list
    bucket = next(p.message for p in caught.problems if p.column == "bucket")
    assert bucket.endswith("expected one of cash, ncd_1m, ncd_3m, ncd_6m, repo_1d, repo_7d")


def test_holdings_value_date_after_maturity_is_refused(small_dataset: Path) -> None:
    # a lot that starts earning after it matures never earns: a swapped or mistyped date, which
    # the plan and stress read as a lot earning its rate to maturity without a word; a value
    # date on the maturity day is a 1-day lot's (Portfolio.from_ladder) and stays accepted
    pd.DataFrame(
        {
            "product_id": ["P001", "P001", "P001", "P001"],
            "bucket": ["cash", "ncd_1m", "ncd_1m", "ncd_3m"],
            "amount_cny": [1e7, 5e7, 5e7, 2e8],
            "rate_pct": ["", "2.1", "2.1", "2.6"],
            "maturity_date": ["", "2021-05-10", "2021-05-10", "2021-06-30"],
            "value_date": ["", "2021-05-20", "2021-05-10", "2021-04-12"],
        }
    ).to_csv(small_dataset / "holdings.csv", index=False)
    problems = {(p.file, p.column): p.rows for p in _plan_inputs_refused(small_dataset).problems}
    assert problems == {("holdings.csv", "value_date"): (3,)}


def _plan_inputs_refused(data: Path) -> DataError:
    """The error the plan's inputs of 2021-04-10 raise on the data set at ``data``."""
    dataset = load_dataset(data)
    with pytest.raises(DataError) as caught:
        inputs_from_forecast(
            dataset, "2021-04-10", fake_forecast(dataset, "2021-04-10"), load_settings()
        )
    return caught.value


def test_sales_plan_requirement_is_pro_rata_of_what_is_left(small_dataset: Path) -> None:
    products = pd.read_csv(small_dataset / "products.csv")
    products["channel"] = ["app", "app", "branch"]
    products.to_csv(small_dataset / "products.csv", index=False)
    pd.DataFrame(
        {"channel": ["app"], "start": ["2021-04-01"], "end": ["2021-04-30"], "target_cny": [5e9]}
    ).to_csv(small_dataset / "sales_plan.csv", index=False)
    dataset = load_dataset(small_dataset)
    inputs, _ = inputs_from_forecast(
        dataset, "2021-04-10", fake_forecast(dataset, "2021-04-10"), load_settings()
    )
    flows = dataset.flows
    raised = flows[
        flows["product_id"].isin(["P001", "P002"])
        & flows["date"].between("2021-04-01", "2021-04-10")
    ]["subscriptions"].sum()
    row = inputs.sales.iloc[0]
    assert row["achieved_cny"] == pytest.approx(raised)
    # 20 days left in the period (11th to 30th), 7 of them in the horizon
    assert row["need_cny"] == pytest.approx((5e9 - raised) * 7 / 20)
    assert inputs.channels == ("app", "app", "branch")


def test_unknown_sales_channel_is_a_data_error(small_dataset: Path) -> None:
    pd.DataFrame(
        {"channel": ["web"], "start": ["2021-04-01"], "end": ["2021-04-30"], "target_cny": [1e9]}
    ).to_csv(small_dataset / "sales_plan.csv", index=False)
    dataset = load_dataset(small_dataset)
    with pytest.raises(DataError, match="channel"):
        inputs_from_forecast(
            dataset, "2021-04-10", fake_forecast(dataset, "2021-04-10"), load_settings()
        )


def test_default_ladder_is_the_simulators_ladder() -> None:
    as_of = pd.Timestamp("2021-09-24")
    days = pd.date_range(as_of - pd.Timedelta(days=100), as_of, freq="D")
    rates = pd.DataFrame(
        {"cash": 1.3, "repo_1d": 2.0, "repo_7d": 2.2, "ncd_1m": 2.45, "ncd_3m": 2.6}, index=days
    )
    settings = load_settings()
    inputs = synthetic_inputs(1, 5, 0, as_of, settings)
    ladder = default_ladder(
        ("P",),
        np.array([1e9]),
        settings.portfolio,
        rates,
        as_of,
        inputs.workday.reindex(
            pd.date_range(as_of - pd.Timedelta(days=100), as_of + pd.Timedelta(days=200)),
            fill_value=True,
        ),
    )
    simulated = Portfolio.from_ladder(
        1e9, 20.0, as_of + pd.Timedelta(days=1), rates, mix=settings.portfolio
    ).holdings()
    ours = ladder.groupby("bucket")["amount_cny"].sum()
    theirs = simulated.groupby("bucket")["amount"].sum()
    np.testing.assert_allclose(ours.sort_index(), theirs.sort_index(), rtol=1e-6)
    lots = simulated[simulated["kind"] == "lot"].sort_values(["bucket", "maturity_date"])
    mine = ladder[ladder["bucket"] != "cash"].sort_values(["bucket", "maturity_date"])
    assert list(lots["maturity_date"]) == list(mine["maturity_date"])


def test_yield_conversions_and_target_path() -> None:
    # 七日年化 2 % compounds a daily income of 1.02^(1/365) − 1 = 5.4255e-5: simple 1.98032 %.
    assert compounded_to_simple_pct(np.array([2.0]))[0] == pytest.approx(1.98032, abs=1e-5)
    path = target_yield_path(np.array([2.0]), np.array([1.0]), 3, time_constant_days=10.0)
    np.testing.assert_allclose(path[0], 1.0 + np.exp(-np.arange(1, 4) / 10.0))


def test_laddered_rates_average_each_bucket_over_its_tenor() -> None:
    # 200 days: every bucket's rate is the day number (1..200), so a mean over the last n days
    # is 200 − (n − 1) / 2. Cash and the repos are averaged over min_days = 30 (185.5), the
    # 1-month NCD over its 30 days (185.5), the 3-month over 91 (155.0), the 6-month over 182
    # (109.5): a steady ladder earns what it bought over its tenor.
    days = pd.date_range("2022-01-01", periods=200, freq="D")
    names = ["cash", "repo_1d", "repo_7d", "ncd_1m", "ncd_3m", "ncd_6m"]
    history = pd.DataFrame({n: np.arange(1.0, 201.0) for n in names}, index=days)
    rates = laddered_rates(history, min_days=30)
    assert rates.to_dict() == pytest.approx(
        {
            "cash": 185.5,
            "repo_1d": 185.5,
            "repo_7d": 185.5,
            "ncd_1m": 185.5,
            "ncd_3m": 155.0,
            "ncd_6m": 109.5,
        }
    )
    # A history shorter than a tenor averages what there is (no look-back past the data).
    assert laddered_rates(history.iloc[:10], min_days=30)["ncd_6m"] == pytest.approx(5.5)
    # Term carry (E25) is measured against the overnight rate over the same spans: rolling
    # overnight for a 6-month NCD's life is judged by the last 182 days of overnight rates.
    assert carry_references(history, min_days=30) == pytest.approx(
        {"repo_7d": 185.5, "ncd_1m": 185.5, "ncd_3m": 155.0, "ncd_6m": 109.5}
    )


def test_nice_floor_and_quantile_interpolation() -> None:
    assert [nice_floor(x) for x in (7.3, 19.9, 20.0, 0.0042, 5e7)] == [5.0, 10.0, 20.0, 0.002, 5e7]
    quantiles = {0.9: np.array([10.0]), 0.95: np.array([20.0])}
    assert required_quantile(quantiles, 0.925)[0] == pytest.approx(15.0)
    assert required_quantile(quantiles, 0.95)[0] == 20.0
    with pytest.raises(ValueError):
        required_quantile(quantiles, 0.99)


def test_calendar_of_purchases_and_liquidity() -> None:
    settings = load_settings()
    # As of Friday 2021-09-24: day 0 is Saturday 25th; Sunday 26th is a make-up working day
    # before the National Day week (1st to 7th October).
    parameters = model_parameters(synthetic_inputs(1, 10, 0, "2021-09-24", settings), settings)
    dates = parameters.inputs.dates
    assert not parameters.workday[0] and parameters.workday[1]
    repo_1d = [b.name for b in parameters.buckets].index("repo_1d")
    # overnight repo bought on Thursday 30th September matures on Friday 8th October
    thursday = dates.get_loc(pd.Timestamp("2021-09-30"))
    assert dates[0] + pd.Timedelta(
        days=int(parameters.maturity[repo_1d, thursday])
    ) == pd.Timestamp("2021-10-08")
    # five working days after Thursday 30th: 8th, 9th (make-up Saturday), 11th, 12th, 13th
    assert dates[0] + pd.Timedelta(days=int(parameters.liquid_until[thursday])) == pd.Timestamp(
        "2021-10-13"
    )


def _plan_with_holders(
    folder: Path, dates: list[str], products: list[str], shares: list[float]
) -> tuple[PlanInputs, list[str]]:
    """The plan inputs (and warnings) as of 2021-04-10 of the data set in ``folder`` with a
    holders.csv of these rows."""
    pd.DataFrame({"date": dates, "product_id": products, "top10_share": shares}).to_csv(
        folder / "holders.csv", index=False
    )
    dataset = load_dataset(folder)
    return inputs_from_forecast(
        dataset, "2021-04-10", fake_forecast(dataset, "2021-04-10"), load_settings()
    )


def test_holder_concentration_tightens_the_plan(small_dataset: Path) -> None:
    """DOMAIN.md "Regulation": when the top-10 holders own more than 20 % of a product's units
    its WAM cap and 5-day liquidity floor tighten (rainmaker.rules.concentration_limits): 21 %
    tightens the plan, 19 % does not, and a share dated after the as-of day is not read."""
    inputs, warnings = _plan_with_holders(
        small_dataset,
        ["2021-04-01", "2021-04-01", "2021-04-20"],
        ["P001", "P002", "P002"],
        [0.21, 0.19, 0.60],
    )
    assert inputs.max_wam_days.tolist() == [90.0, 120.0, 120.0]
    assert inputs.min_liquid_ratio.tolist() == pytest.approx([0.20, 0.10, 0.10])
    assert any("P001" in w and "top-10 holders own 21%" in w for w in warnings)
    assert not any("P002" in w and "top-10" in w for w in warnings)


def test_a_stale_holders_share_is_named_with_its_date_and_age(small_dataset: Path) -> None:
    """The plan carries a product's last holders.csv share forward however old; the warning
    names the row used and its age. By hand: P001's rows are 2020-12-01 (0.60) and
    2021-01-24 (0.35); as of 2021-04-10 the later one applies (90 days cap: 0.35 is above
    20 %, not 50 %), and 2021-01-24 -> 2021-04-10 is 7 + 28 + 31 + 10 = 76 days. P002's row
    of the as-of day itself is said so, with no age."""
    inputs, warnings = _plan_with_holders(
        small_dataset,
        ["2020-12-01", "2021-01-24", "2021-04-10"],
        ["P001", "P001", "P002"],
        [0.60, 0.35, 0.25],
    )
    assert inputs.max_wam_days.tolist() == [90.0, 90.0, 120.0]
    p001 = [w for w in warnings if w.startswith("P001: holders.csv")]
    assert p001 == [
        "P001: holders.csv share from 2021-01-24 (76 days before the as-of day) carried "
        "forward: top-10 holders own 35% of its units: WAM at most 90 days, 5-day liquidity "
        "at least 20%"
    ]
    p002 = "P002: holders.csv share of the as-of day 2021-04-10: top-10 holders own 25%"
    assert any(w.startswith(p002) for w in warnings)


def test_the_wam_cap_follows_the_managed_book_when_asked(small_dataset: Path) -> None:
    from rainmaker.investment_mix import ladder_wam_days

    dataset = load_dataset(small_dataset)
    as_of = "2021-04-10"
    forecast = fake_forecast(dataset, as_of)
    short = {"cash": 0.1, "repo_1d": 0.5, "repo_7d": 0.2, "ncd_1m": 0.2}
    long = {"cash": 0.05, "repo_1d": 0.15, "ncd_3m": 0.8}
    books = {"P001": short, "P002": long, "P003": long}
    regulatory = load_settings().liquidity.max_wam_days
    off, _ = inputs_from_forecast(dataset, as_of, forecast, load_settings(), managed=books)
    assert off.max_wam_days.tolist() == [regulatory] * 3
    on = load_settings(overrides={"purchases": {"max_wam_vs_book": 1.5}})
    capped, _ = inputs_from_forecast(dataset, as_of, forecast, on, managed=books)
    expected = [min(regulatory, 1.5 * ladder_wam_days(books[p])) for p in ("P001", "P002", "P003")]
    np.testing.assert_allclose(capped.max_wam_days, expected)
    assert capped.max_wam_days[0] < capped.max_wam_days[1]


def test_worst_net_outflow_worked_by_hand() -> None:
    """A's net outflows 10, 30, 10, 0, 50 (CNY) over five days; over two days they sum to 40,
    40, 10 and 50 against the AUM of the day before those two (100, 70, 60): the worst is
    50 / 60. B only grows (0), C has no rows (0); a lookback of 0 turns it off."""
    days = pd.date_range("2021-03-01", periods=5)
    flows = pd.DataFrame(
        {
            "date": list(days) * 2,
            "product_id": ["A"] * 5 + ["B"] * 5,
            "redemptions": [10.0, 30.0, 20.0, 0.0, 50.0] + [1.0] * 5,
            "subscriptions": [0.0, 0.0, 10.0, 0.0, 0.0] + [5.0] * 5,
            "aum": [100.0, 70.0, 60.0, 60.0, 10.0] + [50.0] * 5,
        }
    )
    worst = worst_net_outflow(flows, days[-1], ("A", "B", "C"), 2, 10)
    np.testing.assert_allclose(worst, [50.0 / 60.0, 0.0, 0.0])
    assert worst_net_outflow(flows, days[-1], ("A",), 2, 0).tolist() == [0.0]


def test_worst_days_off_outflow_worked_by_hand() -> None:
    """Two weekends of March 2021 (no holiday): A's first, after Friday's AUM of 100, redeems
    10 and 20 with 5 subscribed on the Saturday (it pays the Sunday): 25 / 100; its second, after
    50, redeems 30 and 10 with 20 subscribed: 20 / 50, the worst. B's subscriptions outrun its
    redemptions (0); C has no rows (0). Rows after the as-of day change nothing."""
    days = pd.date_range("2021-03-01", "2021-03-14")  # Monday to Sunday two weeks later
    a_red = {"2021-03-06": 10.0, "2021-03-07": 20.0, "2021-03-13": 30.0, "2021-03-14": 10.0}
    a_sub = {"2021-03-06": 5.0, "2021-03-07": 99.0, "2021-03-13": 20.0}
    a_aum = {"2021-03-05": 100.0, "2021-03-12": 50.0}
    flows = pd.DataFrame(
        {
            "date": list(days) * 2,
            "product_id": ["A"] * len(days) + ["B"] * len(days),
            "redemptions": [a_red.get(f"{d:%Y-%m-%d}", 1.0) for d in days] + [1.0] * len(days),
            "subscriptions": [a_sub.get(f"{d:%Y-%m-%d}", 0.0) for d in days] + [5.0] * len(days),
            "aum": [a_aum.get(f"{d:%Y-%m-%d}", 80.0) for d in days] + [50.0] * len(days),
        }
    )
    today = days[-1]
    worst = worst_days_off_outflow(flows, today, ("A", "B", "C"), 2, 30)
    np.testing.assert_allclose(worst, [20.0 / 50.0, 0.0, 0.0])
    # one day off: the Saturdays alone, 10 / 100 and 30 / 50
    np.testing.assert_allclose(worst_days_off_outflow(flows, today, ("A",), 1, 30), [0.6])
    # no run of three days off in March 2021; no days off ahead; lookback off; a history
    # shorter than the days off ahead (Spring Festival's seven after two days)
    for days_off, lookback in ((3, 30), (0, 30), (2, 0), (7, 2)):
        assert worst_days_off_outflow(flows, today, ("A",), days_off, lookback).tolist() == [0.0]
    # the first weekend alone within a lookback of 8 days back from the first Sunday
    first = worst_days_off_outflow(flows, pd.Timestamp("2021-03-07"), ("A",), 2, 8)
    later = pd.concat([flows, flows.assign(date=flows["date"] + pd.Timedelta(days=14))])
    np.testing.assert_allclose(first, [0.25])
    np.testing.assert_allclose(
        worst_days_off_outflow(later, pd.Timestamp("2021-03-07"), ("A",), 2, 8), first
    )


def test_days_off_after_the_first_day() -> None:
    # flags from the as-of day: Thursday, Friday (the first day), a weekend, Monday
    assert days_off_after_first_day(np.array([1, 1, 0, 0, 1], dtype=bool)) == 2
    assert days_off_after_first_day(np.array([1, 1, 1, 0, 0], dtype=bool)) == 0
    assert days_off_after_first_day(np.array([1, 0, 0, 1], dtype=bool)) == 0  # first day off
    assert days_off_after_first_day(np.array([1, 1, 0, 0, 0], dtype=bool)) == 3  # past the end
    assert days_off_after_first_day(np.array([1], dtype=bool)) == 0


def test_a_market_without_term_rates_prices_them_at_a_week_and_says_so(
    small_dataset: Path,
) -> None:
    """SPEC §1 requires only shibor_on and shibor_1w: the NCDs are then priced off 1-week
    Shibor plus their spreads, and the plan's warnings name the missing columns."""
    dataset = load_dataset(small_dataset)
    as_of = "2021-04-10"
    forecast = fake_forecast(dataset, as_of)
    settings = load_settings()
    full, said = inputs_from_forecast(dataset, as_of, forecast, settings)
    # this market has 1- and 3-month Shibor, not 6-month
    assert [w[:35] for w in said if "market.csv has no" in w] == [
        "market.csv has no shibor_6m: ncd_6m"
    ]

    market = pd.read_csv(small_dataset / "market.csv").drop(columns=["shibor_1m", "shibor_3m"])
    market.to_csv(small_dataset / "market.csv", index=False)
    short = load_dataset(small_dataset)
    inputs, said = inputs_from_forecast(short, as_of, fake_forecast(short, as_of), settings)
    (warning,) = [w for w in said if "market.csv has no" in w]
    assert "shibor_1m, shibor_3m, shibor_6m" in warning and "ncd_1m, ncd_3m, ncd_6m" in warning
    week = inputs.rates_pct["repo_7d"] - 0.05  # repo_7d is 1-week Shibor + 5 bp
    assert inputs.rates_pct["ncd_1m"] == pytest.approx(week + 0.12)
    assert inputs.rates_pct["ncd_3m"] == pytest.approx(week + 0.18)
    assert full.rates_pct["ncd_3m"] != pytest.approx(inputs.rates_pct["ncd_3m"])


def test_an_unbounded_exposure_multiple_gives_max_slots() -> None:
    """max_multiple = 1e300 means "no cap but max_slots": its slot count was a float beyond
    int64, cast to a negative number and clipped to 1 slot (with a RuntimeWarning)."""
    import warnings

    def slots(multiple: float) -> np.ndarray:
        settings = load_settings(overrides={"exposure": {"max_multiple": multiple}})
        inputs = synthetic_inputs(3, 7, 5, settings=settings)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return model_parameters(inputs, settings).slots

    unbounded = slots(1e300)
    assert (unbounded == slots(1e6)).all()
    assert unbounded.max() == load_settings().exposure.max_slots


def test_the_term_rate_guess_names_the_market_file_read(small_dataset: Path) -> None:
    # a market.parquet without shibor_6m: the warning named market.csv, a file the
    # data set does not have (Parquet wins, SPEC §1)
    pd.read_csv(small_dataset / "market.csv").to_parquet(small_dataset / "market.parquet")
    (small_dataset / "market.csv").unlink()
    dataset = load_dataset(small_dataset)
    _, warnings = inputs_from_forecast(
        dataset, "2021-04-10", fake_forecast(dataset, "2021-04-10"), load_settings()
    )
    guessed = [w for w in warnings if "no term premium" in w]
    assert len(guessed) == 1, warnings
    assert guessed[0].startswith("market.parquet has no shibor_6m"), guessed


def test_holdings_dated_before_the_as_of_day_are_said_to_be_set_aside(small_dataset: Path) -> None:
    # a holdings feed one day behind the flows: its rows of the day before are not read (a
    # snapshot is read on its own day) and every product gets a default ladder; the warning
    # said only "no holdings for 3 product(s)", not that holdings.csv had been set aside
    pd.DataFrame(
        {
            "date": ["2021-04-08", "2021-04-09", "2021-04-11"],
            "product_id": ["P001", "P001", "P001"],
            "bucket": ["cash", "cash", "cash"],
            "amount_cny": [1e7, 1e7, 1e7],
            "rate_pct": ["", "", ""],
            "maturity_date": ["", "", ""],
        }
    ).to_csv(small_dataset / "holdings.csv", index=False)
    dataset = load_dataset(small_dataset)
    _, warnings = inputs_from_forecast(
        dataset, "2021-04-10", fake_forecast(dataset, "2021-04-10"), load_settings()
    )
    (stale,) = [w for w in warnings if w.startswith("holdings.csv, column 'date'")]
    assert "no holdings dated on the as-of day 2021-04-10 (the latest 2021-04-09)" in stale
    assert "2021-04-11" not in stale  # no look-ahead
    # a snapshot on the as-of day is read, without the warning
    _, warnings = inputs_from_forecast(
        dataset, "2021-04-09", fake_forecast(dataset, "2021-04-09"), load_settings()
    )
    assert not [w for w in warnings if "column 'date'" in w]


def test_a_book_worth_nil_to_float_noise_is_nil_not_below_zero(small_dataset: Path) -> None:
    # a backtest's product fully redeemed: its redemptions owed, netted into cash, and its repo
    # borrowing leave a book worth nil that sums in floats to -1e-6 CNY; the plan refused it
    # (aum_today below zero, or "positions sum to less than zero", exit 2 on no file at all)
    lots = [1353978283.72, 1958262988.44, 2368282819.9, 290640164.45]
    borrowed = 111338990.61
    cash = borrowed - lots[0] - lots[1] - lots[2] - lots[3]
    holdings = pd.DataFrame(
        {
            "product_id": "P001",
            "bucket": ["cash", "ncd_1m", "ncd_3m", "ncd_3m", "repo_7d"],
            "amount_cny": [cash, *lots],
            "rate_pct": [np.nan, 2.3, 2.5, 2.5, 2.1],
            "maturity_date": pd.to_datetime(
                [None, "2021-05-05", "2021-06-30", "2021-07-01", "2021-04-14"]
            ),
        }
    )
    residue = holdings.groupby("product_id")["amount_cny"].sum().iloc[0] - borrowed
    assert -1e-5 < residue < 0  # the residue this test is about
    dataset = load_dataset(small_dataset)
    forecast = fake_forecast(dataset, "2021-04-10")
    inputs, _ = inputs_from_forecast(
        dataset,
        "2021-04-10",
        forecast,
        load_settings(),
        holdings=holdings,
        borrowed={"P001": borrowed},
    )
    assert inputs.aum_today[0] == 0.0
    # a book short by one yuan is no float noise: still refused
    holdings.loc[0, "amount_cny"] = cash - borrowed - 1.0
    with pytest.raises(DataError, match="positions sum to less than zero"):
        inputs_from_forecast(dataset, "2021-04-10", forecast, load_settings(), holdings=holdings)
