"""The report's view model of today: what the plan does on its first day, the flow bridge that
makes the headline cards add up, and where each product stands against its liquidity need.

Everything here is read from the plan (plan.csv's columns, :func:`optimize.results.plan_frame`)
and the forecast; nothing is re-optimised and no requirement is recomputed with a formula of
the report's own (the requirement column is the one :func:`rainmaker.app.report.requirement.
buffer_requirement` takes from the plan). Amounts are CNY, exposures in the plan's exposure
units, ratios fractions.

The flow bridge, per product and in total, over the plan horizon::

    start AUM (actual, as-of day) + planned net flow + income and other = planned end AUM

where *planned net flow* is the subscriptions the plan accepts less the redemptions it expects,
*income and other* is what the plan's AUM adds besides flows (net income, and any cash the plan
raises by slack), and the *forecast* net flow (baseline exposure, no quota) is shown beside it
with the difference split into exposure steering (``demand − baseline_demand``), quota refusals
(``−refused_demand``) and the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rainmaker.contracts import PURCHASE_PREFIX, RATIO_TOLERANCE

__all__ = [
    "Bridge",
    "FirstDay",
    "Standing",
    "first_day",
    "flow_bridge",
    "liquidity_standing",
    "worst_standing",
]

# Purchases below this are solver round-off, not an order for the desk (CNY).
MIN_ORDER_CNY = 1.0


@dataclass(frozen=True)
class FirstDay:
    """What the plan does for one product on its first day.

    Attributes:
        product_id: the product.
        date: the first plan day.
        quota: subscription cap (CNY); NaN = no cap, 0 = closed.
        forecast_demand: forecast mean subscriptions at the baseline exposure (CNY).
        planned_demand: demand at the plan's exposure (plan ``demand``; else the forecast), CNY.
        accepted: subscriptions the plan accepts (``expected_subscriptions``), CNY.
        exposure: marketing exposure the plan sets (NaN when the plan has none).
        baseline_exposure: exposure the forecast assumes (NaN when unknown).
        purchases: bucket -> CNY bought that day (only orders of at least ``MIN_ORDER_CNY``).
        borrowing: pledged repo borrowing outstanding at the end of the day (CNY; 0 if none).
        liquid: cash and overnight repo held tonight (``keep_liquid``; NaN when absent), CNY.
        buffer: the plan's liquidity buffer (CNY).
        requirement: what the buffer must cover that day (CNY).
    """

    product_id: str
    date: pd.Timestamp
    quota: float
    forecast_demand: float
    planned_demand: float
    accepted: float
    exposure: float
    baseline_exposure: float
    purchases: dict[str, float]
    borrowing: float
    liquid: float
    buffer: float
    requirement: float

    @property
    def exposure_ratio(self) -> float:
        """Planned exposure as a multiple of the baseline (NaN when either is unknown or 0)."""
        if not (math.isfinite(self.exposure) and math.isfinite(self.baseline_exposure)):
            return math.nan
        return self.exposure / self.baseline_exposure if self.baseline_exposure > 0 else math.nan

    @property
    def buffer_ratio(self) -> float:
        """Buffer / requirement (NaN without a positive requirement)."""
        return self.buffer / self.requirement if self.requirement > 0 else math.nan


@dataclass(frozen=True)
class Bridge:
    """Start AUM to planned end AUM over the horizon, with the forecast beside it (CNY).

    ``start + plan_net_flow + income_other == end`` holds by construction.

    Attributes:
        product_id: the product ("" for the portfolio total).
        start: AUM on the as-of day (actual).
        plan_net_flow: accepted subscriptions − expected redemptions, summed (plan).
        income_other: end − start − plan_net_flow: net income and anything else the plan adds.
        end: expected AUM on the last plan day (plan).
        forecast_net_flow: forecast mean net flow, summed (forecast: baseline exposure, no cap).
        exposure_steering: demand the plan adds by moving exposure (``demand −
            baseline_demand``, summed; 0 when the plan has no exposure columns).
        quota_refusals: demand the plan's quotas turn away, as a negative amount.
    """

    product_id: str
    start: float
    plan_net_flow: float
    income_other: float
    end: float
    forecast_net_flow: float
    exposure_steering: float
    quota_refusals: float

    @property
    def plan_vs_forecast(self) -> float:
        """Planned − forecast net flow (CNY): what the plan counts on steering, and the rest."""
        return self.plan_net_flow - self.forecast_net_flow

    @property
    def other_difference(self) -> float:
        """The part of :attr:`plan_vs_forecast` neither exposure nor quotas explain (CNY)."""
        return self.plan_vs_forecast - self.exposure_steering - self.quota_refusals


@dataclass(frozen=True)
class Standing:
    """One product's buffer against its requirement over the horizon.

    Attributes:
        product_id: the product.
        lowest_ratio: lowest buffer / requirement (NaN without a positive requirement).
        lowest_date: the day of it.
        days_below: days the buffer is below the requirement.
        days: plan days.
        below_dates: those days.
    """

    product_id: str
    lowest_ratio: float
    lowest_date: pd.Timestamp | None
    days_below: int
    days: int
    below_dates: tuple[pd.Timestamp, ...] = field(default=())


def _column(rows: pd.DataFrame, name: str, default: float = math.nan) -> pd.Series:
    if name in rows.columns:
        return rows[name].astype(float)
    return pd.Series(default, index=rows.index, dtype=float)


def _forecast_mean(forecast: pd.DataFrame, variable: str) -> pd.DataFrame:
    rows = forecast[forecast["variable"] == variable]
    table = rows.pivot_table(index="date", columns="product_id", values="mean", aggfunc="first")
    table.index = pd.to_datetime(table.index)
    return table


def first_day(
    plan: pd.DataFrame, forecast: pd.DataFrame, product_ids: Sequence[str]
) -> list[FirstDay]:
    """Per product, the plan's first day (``plan`` sorted by product and date, with the
    ``requirement`` column of the report)."""
    demand = _forecast_mean(forecast, "subscriptions")
    buckets = [c for c in plan.columns if c.startswith(PURCHASE_PREFIX)]
    out = []
    for product in product_ids:
        rows = plan[plan["product_id"] == product]
        if rows.empty:
            continue
        row = rows.iloc[0]
        day = pd.Timestamp(row["date"])
        forecast_demand = (
            float(demand.at[day, product])
            if product in demand.columns and day in demand.index
            else math.nan
        )
        planned = float(row["demand"]) if "demand" in rows.columns else forecast_demand
        purchases = {
            c.removeprefix(PURCHASE_PREFIX): float(row[c])
            for c in buckets
            if pd.notna(row[c]) and float(row[c]) >= MIN_ORDER_CNY
        }
        out.append(
            FirstDay(
                product_id=str(product),
                date=day,
                quota=float(row["quota"]) if pd.notna(row["quota"]) else math.nan,
                forecast_demand=forecast_demand,
                planned_demand=planned,
                accepted=float(row["expected_subscriptions"]),
                exposure=float(row["exposure"]) if "exposure" in rows.columns else math.nan,
                baseline_exposure=float(row["baseline_exposure"])
                if "baseline_exposure" in rows.columns
                else math.nan,
                purchases=purchases,
                borrowing=max(float(row.get("repo_borrowing", 0.0) or 0.0), 0.0),
                liquid=float(row["keep_liquid"]) if "keep_liquid" in rows.columns else math.nan,
                buffer=float(row["liquidity_buffer"]),
                requirement=float(row["requirement"]),
            )
        )
    return out


def flow_bridge(
    plan: pd.DataFrame,
    forecast: pd.DataFrame,
    aum_now: pd.Series,
    product_ids: Sequence[str],
) -> tuple[list[Bridge], Bridge]:
    """The flow bridge per product and its portfolio total (the sum of the products').

    Args:
        plan: plan rows sorted by product and date.
        forecast: SPEC §3 forecast rows.
        aum_now: AUM on the as-of day by product (CNY).
        product_ids: the products, in the report's order.
    """
    net = _forecast_mean(forecast, "net_flow")
    rows_out = []
    for product in product_ids:
        rows = plan[plan["product_id"] == product]
        if rows.empty:
            continue
        start = float(aum_now.get(product, math.nan))
        flow = float((rows["expected_subscriptions"] - rows["expected_redemptions"]).sum())
        end = float(rows["expected_aum"].iloc[-1])
        steering = 0.0
        if {"demand", "baseline_demand"} <= set(rows.columns):
            steering = float((rows["demand"] - rows["baseline_demand"]).sum())
        if "refused_demand" in rows.columns:
            refused = float(rows["refused_demand"].clip(lower=0).sum())
        elif "demand" in rows.columns:
            refused = float((rows["demand"] - rows["expected_subscriptions"]).clip(lower=0).sum())
        else:
            refused = 0.0
        days = pd.DatetimeIndex(rows["date"])
        forecast_flow = (
            float(net[product].reindex(days).sum()) if product in net.columns else math.nan
        )
        rows_out.append(
            Bridge(
                product_id=str(product),
                start=start,
                plan_net_flow=flow,
                income_other=end - start - flow,
                end=end,
                forecast_net_flow=forecast_flow,
                exposure_steering=steering,
                quota_refusals=-refused,
            )
        )
    total = Bridge(
        product_id="",
        start=sum(b.start for b in rows_out),
        plan_net_flow=sum(b.plan_net_flow for b in rows_out),
        income_other=sum(b.income_other for b in rows_out),
        end=sum(b.end for b in rows_out),
        forecast_net_flow=sum(b.forecast_net_flow for b in rows_out),
        exposure_steering=sum(b.exposure_steering for b in rows_out),
        quota_refusals=sum(b.quota_refusals for b in rows_out),
    )
    return rows_out, total


def liquidity_standing(plan: pd.DataFrame, product_ids: Sequence[str]) -> list[Standing]:
    """Per product, the lowest buffer / requirement over the horizon and the days below it."""
    out = []
    for product in product_ids:
        rows = plan[plan["product_id"] == product]
        if rows.empty:
            continue
        need = rows["requirement"].astype(float)
        ratio = rows["liquidity_buffer"].astype(float) / need.where(need > 0)
        below = rows[rows["liquidity_buffer"] < need * (1 - RATIO_TOLERANCE)]
        if ratio.dropna().empty:
            lowest, when = math.nan, None
        else:
            at = ratio.idxmin()
            lowest, when = float(ratio[at]), pd.Timestamp(rows.at[at, "date"])
        out.append(
            Standing(
                product_id=str(product),
                lowest_ratio=lowest,
                lowest_date=when,
                days_below=len(below),
                days=len(rows),
                below_dates=tuple(pd.Timestamp(d) for d in below["date"]),
            )
        )
    return out


def worst_standing(standings: Sequence[Standing]) -> Standing | None:
    """The product furthest below (or closest to) its requirement: most days below, then the
    lowest ratio; None when no product has a requirement."""
    known = [s for s in standings if math.isfinite(s.lowest_ratio)]
    if not known:
        return None
    return min(known, key=lambda s: (-s.days_below, s.lowest_ratio))


def display_sum(values: Sequence[float], divisor: float, digits: int = 2) -> list[float]:
    """``values`` in display units rounded to ``digits``, the last one replaced by the rounded
    sum of the others so that the shown figures add up exactly (start + flow + other = end).

    ``values`` are the parts, then the total; the part absorbed is the second to last (the
    residual ``income_other``), so the total and the main parts keep their own rounding.
    """
    shown = [round(v / divisor, digits) for v in values]
    if len(shown) >= 3 and all(np.isfinite(shown)):
        parts = shown[:-1]
        parts[-1] = round(shown[-1] - sum(parts[:-1]), digits)
        shown = [*parts, shown[-1]]
    return shown
