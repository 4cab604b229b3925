"""What the report holds each plan row's liquidity buffer against (CNY): the plan's own figure.

The optimizer writes what the buffer must cover in plan.csv's ``required_buffer``
(:func:`optimize.results.plan_frame`, E15); its violations (``buffer_covers_redemptions``), its
summary's days below the requirement and the workbook's buffer / requirement read the same
column, so the report reads it too and computes none of its own. The regulatory floor is a
separate rule with its own alert (:mod:`rainmaker.app.report.alerts`).
"""

from __future__ import annotations

import math

import pandas as pd

from rainmaker.regulation import MIN_LIQUID_RATIO

__all__ = ["LIQUID_FLOOR", "REQUIREMENT_COLUMN", "buffer_requirement", "floor_ratios"]

# Regulation (DOMAIN.md): ≥ 10 % of net assets in cash and assets maturing within 5 trading days.
LIQUID_FLOOR = MIN_LIQUID_RATIO
# The plan's requirement column (optimize.results.plan_frame writes it).
REQUIREMENT_COLUMN = "required_buffer"


def buffer_requirement(plan: pd.DataFrame) -> pd.Series:
    """The liquidity each plan row must hold (CNY), aligned with ``plan``'s index: the plan's
    ``required_buffer``, or NaN (no requirement known, no buffer alert) for a plan without it.

    Args:
        plan: plan rows (product_id, date, liquidity_buffer, required_buffer, ...).
    """
    if REQUIREMENT_COLUMN not in plan.columns:
        return pd.Series(math.nan, index=plan.index, dtype=float)
    return plan[REQUIREMENT_COLUMN].astype(float)


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
