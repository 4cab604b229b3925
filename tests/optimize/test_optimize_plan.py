"""The plan for the sample data set, end to end: forecast → make_plan → plan.csv columns and the
checks of the issue (buffer ≥ p90 redemptions, ≥ 10 % of AUM, subscriptions ≤ quota), the 7-day
yield arithmetic and the absence of look-ahead."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from forecast import run_forecast
from optimize import make_plan
from optimize.results import PLAN_COLUMNS
from rainmaker.dataset import load_dataset
from rainmaker.yields import yield_7d
from tests.conftest import SAMPLE_DIR
from tests.optimize.test_optimize_model import check_hard_constraints

pytestmark = pytest.mark.skipif(
    not (SAMPLE_DIR / "flows.csv").exists(), reason="data/sample not generated"
)


def _forecast(dataset, as_of):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_forecast(dataset, as_of, horizon=14, model="seasonal_naive")


@pytest.fixture(scope="module")
def sample():
    dataset = load_dataset(SAMPLE_DIR)
    forecast = _forecast(dataset, dataset.last_date)
    return dataset, forecast, make_plan(dataset, dataset.last_date, forecast)


def test_sample_plan_meets_buffer_floor_and_quota_every_day(sample) -> None:
    dataset, forecast, result = sample
    plan = result.plan
    p90 = forecast.table.query("variable == 'redemptions'")[["product_id", "date", "p90"]]
    joined = plan.merge(p90, on=["product_id", "date"], how="left", validate="one_to_one")
    assert joined["p90"].notna().all()
    assert (joined["liquidity_buffer"] >= joined["p90"]).all()
    assert (plan["liquidity_buffer"] >= 0.10 * plan["expected_aum"]).all()
    assert (plan["expected_subscriptions"] <= plan["quota"].fillna(np.inf)).all()
    assert (plan["cash_like"] >= 0.05 * plan["expected_aum"] - 1.0).all()
    # The 5-working-day buffer may be out of reach on the first day, when today's positions
    # mature too late: only such violations are allowed, each with that reason.
    # So may the cumulative needs (E27) of such a product: its book returns too little too late.
    violations = result.violations
    # The plan starts from each product's managed book, which is exactly at the ladder's
    # managed floor (E26): a lot whose maturity a day off pushes out may leave it a hair short.
    ladder = violations.loc[violations["constraint"] == "maturity_ladder"]
    assert (ladder["shortfall_pct_of_aum"] < 0.5).all()
    violations = violations.loc[violations["constraint"] != "maturity_ladder"]
    # P16, launched eight weeks before the end, has no backtest residuals of its own: the
    # seasonal-naive p99 of its next day's redemptions is 19 times their median, more than its
    # whole book can pay; the plan says so on its liquidity rows (an overdraft may no longer
    # be bought as liquidity for the days after) instead of hiding it. Its paths pay no more
    # than it holds (forecast.paths.aum_paths), so its expected AUM, and the liquid floor
    # that scales with it, stay above what today's book can free in the first days.
    young = violations["product_id"] == "P16"
    assert set(violations.loc[young, "constraint"]) <= {
        "buffer_covers_redemptions",
        "cash_balance",
        "cumulative_needs",
        "days_off_cover",
        "liquidity_floor",
    }
    floor = violations.loc[young & (violations["constraint"] == "liquidity_floor")]
    assert (floor["shortfall_pct_of_aum"] < 0.5).all()
    violations = violations.loc[~young]
    assert set(violations["constraint"]) <= {"buffer_covers_redemptions", "cumulative_needs"}
    buffer = violations.loc[violations["constraint"] == "buffer_covers_redemptions"]
    needs = violations.loc[violations["constraint"] == "cumulative_needs"]
    assert set(needs["product_id"]) <= set(buffer["product_id"])
    assert buffer["reason"].str.contains("above all the plan can hold liquid").all()
    assert (buffer["date"] == plan["date"].min()).all()
    assert result.status in ("optimal", "feasible")
    check_hard_constraints(result)


def test_plan_has_the_spec_columns_for_every_product_and_day(sample) -> None:
    dataset, forecast, result = sample
    plan = result.plan
    assert tuple(plan.columns[: len(PLAN_COLUMNS)]) == PLAN_COLUMNS
    days = pd.date_range(dataset.last_date + pd.Timedelta(days=1), periods=14, freq="D")
    assert set(plan["product_id"]) == set(forecast.product_ids)
    assert (
        plan.groupby("product_id")["date"].apply(list).map(list)
        == [list(days)] * len(forecast.product_ids)
    ).all()
    assert not plan[list(PLAN_COLUMNS[3:])].isna().any().any()
    assert plan["expected_yield_7d"].between(0.5, 5.0).all()


def test_expected_yield_7d_continues_the_published_series(sample) -> None:
    dataset, _, result = sample
    flows = dataset.flows
    product = result.plan["product_id"].iloc[0]
    realised = flows[
        (flows["product_id"] == product)
        & (flows["date"] > dataset.last_date - pd.Timedelta(days=6))
    ]["income_per_10k"].to_numpy()
    planned = result.plan.loc[result.plan["product_id"] == product, "income_per_10k"].to_numpy()
    expected = yield_7d(np.r_[realised, planned])[6:]
    got = result.plan.loc[result.plan["product_id"] == product, "expected_yield_7d"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # the first planned day's yield is close to the last published one
    published = flows[(flows["product_id"] == product) & (flows["date"] == dataset.last_date)]
    assert got[0] == pytest.approx(float(published["yield_7d"].iloc[0]), abs=0.05)


def test_plan_does_not_look_ahead() -> None:
    dataset = load_dataset(SAMPLE_DIR)
    as_of = pd.Timestamp("2022-05-20")
    forecast = _forecast(dataset.up_to(as_of), as_of)
    full = make_plan(dataset, as_of, forecast)
    cut = make_plan(dataset.up_to(as_of), as_of, forecast)
    pd.testing.assert_frame_equal(full.plan, cut.plan)
    assert full.objective == cut.objective


def test_explanations_speak_in_bp(sample) -> None:
    _, _, result = sample
    assert result.explanations.text
    assert all("bp" in sentence for sentence in result.explanations.text)
    summary = result.explanations.summary
    assert {"constraint", "product_id", "binding_days", "mean_cost_bp_day"} <= set(summary.columns)
    assert set(result.timings) >= {"inputs", "build", "solve", "explain", "total"}


def test_redemptions_of_days_off_are_cash_on_the_working_day_before() -> None:
    # The backtest's shortfall: Sunday 2022-05-08 follows the make-up Saturday 2022-05-07, so
    # Sunday's redemptions must be cash at the end of Saturday (nothing matures on Sunday).
    dataset = load_dataset(SAMPLE_DIR)
    as_of = pd.Timestamp("2022-05-05")
    result = make_plan(dataset, as_of, _forecast(dataset.up_to(as_of), as_of))
    plan = result.plan.set_index(["product_id", "date"])
    saturday, sunday = pd.Timestamp("2022-05-07"), pd.Timestamp("2022-05-08")
    for product in ("P01", "P08"):
        need = plan.loc[(product, sunday), "days_off_required_cash"]
        assert need > 0
        assert plan.loc[(product, saturday), "cash"] >= need - 1.0
        assert plan.loc[(product, saturday), "days_off_required_cash"] == 0.0


def test_the_report_shows_the_liquidity_the_backtest_carries_out(sample) -> None:
    from rainmaker.app.report import ReportInputs, render_report
    from rainmaker.app.report.render import _View
    from rainmaker.china_calendar import Workdays
    from simulate.planning_policies import plan_decision
    from simulate.policies import ReplayState
    from simulate.portfolio import Portfolio

    dataset, forecast, result = sample
    plan = result.plan
    first = plan["date"].min()
    state = ReplayState(
        day=first,
        product_ids=tuple(plan["product_id"].unique()),
        portfolios={p: Portfolio(0.0, cash=1e12) for p in plan["product_id"].unique()},
        observed=lambda: None,
        replayed=pd.DataFrame,
        workdays=Workdays(),
    )
    executed = plan_decision(plan, first, state)
    as_of = dataset.last_date
    inputs = ReportInputs(
        as_of=as_of,
        run_id="test",
        products=dataset.products,
        flows=dataset.flows,
        benchmark=dataset.market_daily(dataset.market["date"].min(), as_of)["benchmark_yield_7d"],
        forecast=forecast.table,
        plan=plan,
        solver_status=result.status,
    )
    view = _View.build(inputs, "en")
    rows = {r["id"]: r for r in view.liquidity_rows()}
    assert set(rows) == set(plan["product_id"])
    for pid, row in rows.items():
        assert row["held"] == view.amount(executed.of(pid).keep_liquid)
    html = render_report(inputs, "en").html
    assert 'id="liquidity"' in html and "Tonight" in html
    # the real plan on the sample: today's purchases are the plan's, and the cards add up
    today = {r["id"]: r for r in view.today()["rows"]}
    for pid, row in today.items():
        first_row = plan[plan["product_id"] == pid].sort_values("date").iloc[0]
        assert view.amount(float(first_row["purchase_repo_1d"])) in row["purchases"]
    start, flow, other, end = (
        float(c["value"].replace(",", "")) for c in view.summary()["cards"][:4]
    )
    assert round(start + flow + other, 2) == end
    assert end == pytest.approx(
        plan.groupby("product_id")["expected_aum"].last().sum() / view.divisor, abs=0.006
    )
    # the report reads the plan's keep_liquid column, it has no formula of its own (it used to
    # add cash and overnight repo itself): a plan that says otherwise is shown as it says
    doubled = plan.assign(keep_liquid=plan["keep_liquid"] * 2 + 1e9)
    view = _View.build(replace(inputs, plan=doubled), "en")
    for row in view.liquidity_rows():
        first_row = doubled[doubled["product_id"] == row["id"]].iloc[0]
        assert row["held"] == view.amount(float(first_row["keep_liquid"]))
    # repo borrowing the plan takes before days off (E28) is carried out and said
    borrowing = plan.assign(repo_borrowing=np.where(plan["date"] == first, 1e8, 0.0))
    executed = plan_decision(borrowing, first, state)
    assert {executed.of(p).borrow for p in rows} == {1e8}
    view = _View.build(replace(inputs, plan=borrowing), "en")
    assert all("borrowed by pledged repo" in r["borrowed"] for r in view.liquidity_rows())
    assert all(r["borrowed"] == "" for r in _View.build(inputs, "en").liquidity_rows())
    # the afternoon before days off: the report states the rule the backtest carries out
    # (the cash target scaled past the plan's expectation of the day's redemptions)
    friday = pd.Timestamp("2021-11-12")
    on_friday = plan.assign(date=pd.to_datetime(plan["date"]) + (friday - pd.Timestamp(first)))
    executed = plan_decision(on_friday, friday, state)
    view = _View.build(replace(inputs, plan=on_friday), "en")
    for row in view.liquidity_rows():
        first_row = on_friday[on_friday["product_id"] == row["id"]].iloc[0]
        decision = executed.of(row["id"])
        assert decision.surprise_above == float(first_row["expected_redemptions"])
        assert view.amount(decision.surprise_above) in row["afternoon"]
        assert view.amount(float(first_row["cash"])) in row["afternoon"]
        assert view.amount(decision.expected_redemptions) in row["afternoon"]
    assert all(r["afternoon"] == "" for r in _View.build(inputs, "en").liquidity_rows())
    # in defence a sale may raise the days off's expectation scaled like tonight's cash, and
    # the report says so
    assert not any("(defence)" in r["afternoon"] for r in view.liquidity_rows())
    defending = on_friday.assign(defence=True)
    assert all(d.defence for d in plan_decision(defending, friday, state).products.values())
    for lang, word in (("en", "(defence)"), ("zh", "防御")):
        rows_said = _View.build(replace(inputs, plan=defending), lang).liquidity_rows()
        assert rows_said and all(word in r["afternoon"] for r in rows_said)
    # the worst days off of the last year, where they set a floor under tonight's cash, are
    # said with the plan's own figure
    assert all(r["worst_days_off"] == "" for r in _View.build(inputs, "en").liquidity_rows())
    floored = plan.assign(worst_days_off_cash=np.where(plan["date"] == first, 3.5e8, 0.0))
    for row in _View.build(replace(inputs, plan=floored), "en").liquidity_rows():
        assert "worst such days of the last year" in row["worst_days_off"]
        assert view.amount(3.5e8) in row["worst_days_off"]
    # the need through the next working day is named by what sets it: the forecast's quantile
    # (p99) or the floor that lifted it, never a quantile where a floor set it
    rows = _View.build(inputs, "en").liquidity_rows()
    for row in rows:
        near = plan[(plan["product_id"] == row["id"]) & plan["next_working_day"]]
        basis = near["liquidity_need_basis"].iloc[0] if len(near) else "quantile"
        assert row["near"].startswith("p99") == (basis == "quantile"), (row["near"], basis)
    stressed = plan.assign(liquidity_need_basis="stress")
    for lang, words in (("en", "stress floor"), ("zh", "压力下限")):
        for row in _View.build(replace(inputs, plan=stressed), lang).liquidity_rows():
            assert row["near"].startswith(words) and "p99" not in row["near"]


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (0.01, "well within the 10 s time limit (a longer one will not help)"),
        (10.0, "retry with a longer solver.time_limit_s"),
    ],
)
def test_a_solver_failure_says_what_it_knows(monkeypatch, seconds: float, expected: str) -> None:
    import optimize.plan as plan_module
    from optimize import load_settings, plan_from_inputs
    from optimize.highs import Solution
    from optimize.synthetic import synthetic_inputs
    from rainmaker.errors import RainmakerError

    def failed(model, options, backend):
        n = model.compiled().n_cols
        nan = np.full(n, np.nan)
        return Solution("failed", "Empty", np.nan, np.nan, 0.0, nan, None, seconds, "highspy")

    monkeypatch.setattr(plan_module, "solve_plan", failed)
    settings = load_settings(overrides={"solver": {"time_limit_s": 10.0}})
    inputs = synthetic_inputs(2, 5, 0, settings=settings)
    with pytest.raises(RainmakerError) as caught:
        plan_from_inputs(inputs, settings)
    message = str(caught.value)
    assert "status 'Empty'" in message and expected in message
    if seconds < 10:  # not a time-out: the message points at the numbers instead
        assert "largest coefficient" in message and "extreme amounts" in message
