"""Small, fast stand-ins for ``forecast.run_forecast`` and ``optimize.make_plan`` in tests.

The daily job's own behaviour (revisions, idempotency, the lock, killed runs, the report's
layout) does not depend on how good the forecast or the plan is, so most tests of the daily
job (through :class:`rainmaker.app.pipeline.Steps`) and :mod:`rainmaker.app.report` inject
these: they honour the same contracts (the forecast is a real
:class:`rainmaker.contracts.ForecastResult`; the plan a :class:`rainmaker.contracts.PlanOutcome`:
``plan``, ``status``, ``objective``, ``violations``, ``explanations``, ``timings``,
``warnings``) and take milliseconds. End-to-end tests run the real ones.

The fake forecast is a bootstrap of the last four weeks' flows (seeded, so it is deterministic);
the fake plan caps subscriptions before public holidays and holds the larger of 12 % of AUM and
five days of 95 % redemptions as buffer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rainmaker.china_calendar import calendar_features
from rainmaker.contracts import ForecastResult
from rainmaker.quantiles import DEFAULT_QUANTILES, quantile_label

QUANTILES = DEFAULT_QUANTILES
# Settings lines that turn the operations checks off: the test data sets are years old and the
# stand-in plan may raise alerts, while the tests that use this are about revisions, locks and
# recovery (the checks are tested in tests/app/test_ops.py).
NO_OPS_CHECKS = 'max_data_age_days = 0\nfail_on = "none"\n'
N_PATHS = 200


@dataclass(frozen=True)
class FakeExplanations:
    """The plan's sentences, the same in both languages."""

    text: tuple[str, ...] = ()

    def sentences(self, lang: str = "en") -> tuple[str, ...]:
        return self.text


@dataclass
class FakePlan:
    plan: pd.DataFrame
    status: str = "optimal"
    objective: float = 0.0
    violations: pd.DataFrame = field(default_factory=pd.DataFrame)
    explanations: FakeExplanations = field(default_factory=FakeExplanations)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    inputs: None = None  # no books: the report leaves the shadow-price section out


def fake_run_forecast(
    dataset: Any,
    as_of: Any,
    horizon: int = 14,
    quantiles: tuple[float, ...] = QUANTILES,
    model: str = "auto",
    products: tuple[str, ...] | None = None,
) -> ForecastResult:
    """Bootstrap forecast of every product (or ``products``) for ``horizon`` days after as_of."""
    as_of = pd.Timestamp(as_of)
    flows = dataset.flows[dataset.flows["date"] <= as_of]
    ids = tuple(products) if products else tuple(sorted(flows["product_id"].unique()))
    rng = np.random.default_rng(7)
    dates = pd.date_range(as_of + pd.Timedelta(days=1), periods=horizon, freq="D")
    paths = {v: np.zeros((len(ids), N_PATHS, horizon)) for v in ("subscriptions", "redemptions")}
    last_aum = np.zeros(len(ids))
    for i, product in enumerate(ids):
        rows = flows[flows["product_id"] == product].tail(28)
        last_aum[i] = float(rows["aum"].iloc[-1])
        for variable in ("subscriptions", "redemptions"):
            draws = rng.choice(rows[variable].to_numpy(dtype=float), size=(N_PATHS, horizon))
            paths[variable][i] = draws
    paths["net_flow"] = paths["subscriptions"] - paths["redemptions"]
    paths["aum"] = last_aum[:, None, None] + np.cumsum(paths["net_flow"], axis=2)
    frames = []
    for variable, values in paths.items():
        for i, product in enumerate(ids):
            frame = pd.DataFrame(
                {
                    "product_id": product,
                    "date": dates,
                    "variable": variable,
                    "mean": values[i].mean(0),
                }
            )
            for q in quantiles:
                frame[quantile_label(q)] = np.quantile(values[i], q, axis=0)
            frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    return ForecastResult(
        table=table,
        paths=paths,
        product_ids=ids,
        baseline_exposure=pd.DataFrame(),
        exposure_response=pd.DataFrame(),
        model_name="bootstrap-fake",
        as_of=as_of,
        horizon=horizon,
        quantiles=tuple(quantiles),
    )


def fake_make_plan(
    dataset: Any, as_of: Any, forecast: ForecastResult, settings: Any = None
) -> FakePlan:
    """A plan that caps demand before holidays and holds a prudent buffer."""
    table = forecast.table
    dates = sorted(table["date"].unique())
    cal = calendar_features(dates[0], dates[-1])
    pre_holiday = cal["business_days_to_holiday"].between(1, 2).to_numpy()
    market = dataset.market_daily(as_of, as_of)
    benchmark = float(market["benchmark_yield_7d"].iloc[-1])
    rows = []
    for product in forecast.product_ids:
        part = table[table["product_id"] == product].pivot(
            index="date", columns="variable", values="mean"
        )
        p95 = table[(table["product_id"] == product) & (table["variable"] == "redemptions")]
        reds = p95["p95"].to_numpy()
        ahead = np.array([reds[i : i + 5].sum() for i in range(len(reds))])
        for k, day in enumerate(part.index):
            demand = float(part.at[day, "subscriptions"])
            quota = 0.8 * demand if pre_holiday[k] else np.nan
            aum = float(part.at[day, "aum"])
            rows.append(
                {
                    "product_id": product,
                    "date": pd.Timestamp(day),
                    "quota": quota,
                    "expected_subscriptions": demand if np.isnan(quota) else quota,
                    "expected_redemptions": float(part.at[day, "redemptions"]),
                    "liquidity_buffer": max(0.12 * aum, float(ahead[k])),
                    # the stand-in's requirement: five days of p95 redemptions, at least 10 %
                    "required_buffer": max(0.10 * aum, float(ahead[k])),
                    "expected_aum": aum,
                    "expected_yield_7d": benchmark + 0.1 + 0.01 * k,
                }
            )
    explanations = FakeExplanations(("Holding 1 more CNY of buffer costs 0.2 bp of yield.",))
    return FakePlan(plan=pd.DataFrame(rows), objective=12.5, explanations=explanations)


def fake_report_inputs(dataset: Any, as_of: Any = None, horizon: int = 14, **changes: Any) -> Any:
    """``ReportInputs`` of a data set from the fake forecast and plan (for report tests)."""
    from rainmaker.app.report import ReportInputs

    as_of = pd.Timestamp(as_of if as_of is not None else dataset.last_date)
    used = dataset.up_to(as_of)
    forecast = fake_run_forecast(used, as_of, horizon)
    plan = fake_make_plan(used, as_of, forecast)
    fields = {
        "as_of": as_of,
        "run_id": "20210928-r1-test",
        "products": used.products,
        "flows": used.flows,
        "benchmark": used.market_daily(used.market["date"].min(), as_of)["benchmark_yield_7d"],
        "forecast": forecast.table,
        "plan": plan.plan,
        "paths": forecast.paths,
        "path_product_ids": forecast.product_ids,
        "model_name": forecast.model_name,
        "solver_status": plan.status,
        "objective": plan.objective,
        "explanations": list(plan.explanations.sentences("en")),
        "data_fingerprint": dataset.fingerprint,
        "market_last": pd.Timestamp(used.market["date"].max()),
        "version": "test",
    }
    fields.update(changes)
    return ReportInputs(**fields)
