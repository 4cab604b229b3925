"""What the report holds each plan row's liquidity buffer against (CNY).

:func:`buffer_requirement` is the report's requirement column: the plan's own when it has one
(``required_buffer``, :func:`optimize.results.plan_frame`), else a fallback for plans without it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rainmaker.app.report.formats import level
from rainmaker.quantiles import quantile_columns
from rainmaker.regulation import LIQUID_WORKDAYS, MIN_LIQUID_RATIO

__all__ = ["BUFFER_DAYS", "LIQUID_FLOOR", "buffer_requirement", "floor_ratios"]

# Regulation (DOMAIN.md): ≥ 10 % of net assets in cash and assets maturing within 5 trading days.
LIQUID_FLOOR = MIN_LIQUID_RATIO
# Trading days of redemptions the buffer must cover (the 5-day liquidity rule).
BUFFER_DAYS = LIQUID_WORKDAYS
# the plan's own requirement: optimize.results.plan_frame names it required_buffer
_REQUIREMENT_COLUMNS = ("required_buffer", "liquidity_requirement", "buffer_requirement")


def buffer_requirement(
    plan: pd.DataFrame,
    forecast: pd.DataFrame,
    products: pd.DataFrame,
    confidence: float,
) -> pd.Series:
    """The liquidity each plan row must hold (CNY), aligned with ``plan``'s index.

    The plan's own requirement column is used when it has one. Otherwise the requirement is the
    larger of the regulatory floor (``min_liquid_ratio`` of the product, default 10 %, times
    the expected AUM) and the redemptions the buffer must meet over the next ``BUFFER_DAYS``
    days of the horizon, each taken at the forecast quantile nearest to ``confidence``
    (summing quantiles over days is prudent: it is at least the quantile of the sum for
    positively related days).

    Args:
        plan: plan rows (product_id, date, expected_aum, ...).
        forecast: SPEC §3 forecast rows.
        products: products table.
        confidence: probability to cover (e.g. 0.95).
    """
    for column in _REQUIREMENT_COLUMNS:
        if column in plan.columns:
            need = plan[column].astype(float)
            if "regulatory_floor" in plan.columns:
                # the optimiser holds the buffer above both the quantile and the floor
                need = np.maximum(need, plan["regulatory_floor"].astype(float))
            return need
    quantile = nearest_quantile(forecast, confidence)
    redemptions = forecast[forecast["variable"] == "redemptions"].pivot_table(
        index="date", columns="product_id", values=quantile, aggfunc="first"
    )
    ahead = redemptions[::-1].rolling(BUFFER_DAYS, min_periods=1).sum()[::-1]
    floor = floor_ratios(products)
    values = []
    for row in plan.itertuples(index=False):
        ratio = floor.get(row.product_id, LIQUID_FLOOR)
        need = ratio * float(row.expected_aum)
        if row.product_id in ahead.columns and row.date in ahead.index:
            need = max(need, float(ahead.at[row.date, row.product_id]))
        values.append(need)
    return pd.Series(values, index=plan.index, dtype=float)


def nearest_quantile(forecast: pd.DataFrame, probability: float) -> str:
    """The forecast's quantile column nearest to ``probability`` (``mean`` when it has none)."""
    columns = quantile_columns(forecast.columns)
    if not columns:
        return "mean"
    return min(columns, key=lambda c: abs(level(c) - probability))


def floor_ratios(products: pd.DataFrame) -> dict[str, float]:
    """Per product, the liquid-asset floor as a fraction of net assets (default 10 %)."""
    if "min_liquid_ratio" not in products.columns:
        return {}
    ratios = {}
    for product, value in zip(products["product_id"], products["min_liquid_ratio"], strict=True):
        if pd.notna(value):
            # the column is a fraction; a value above 1 can only be a percent
            ratios[str(product)] = float(value) / 100 if float(value) > 1 else float(value)
    return ratios
