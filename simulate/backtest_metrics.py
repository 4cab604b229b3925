"""The headline figures of a backtest (SPEC §4) and the comparison of policies.

A replay writes one row per (date, product_id) (see :mod:`simulate.replay`); this module turns
those rows into the figures of SPEC §4, per product and AUM-weighted over products, and compares
policies with the SPEC §4 rule: a policy is better than another only when it lowers
``relative_vol_bp`` without lowering ``mean_excess_bp`` by more than 1 bp, without more shortfall
days and without refusing more than 5 % of demand; in a stressed window (a redemption run or a
rate shock) it must also realise no larger loss on early sales and leave no redemption unpaid.

A shortfall day is a day with early sales or unpaid redemptions (``sold_early + unpaid > 0``):
repo borrowing within the leverage cap is an ordinary tool, not a shortfall. Rows written before
that split (no ``sold_early`` / ``unpaid`` columns) count ``shortfall > 0``.

All yield figures are in basis points (1 bp = 0.01 percentage point); amounts are CNY.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rainmaker.yields import (
    BP_PER_PERCENT,
    MIN_VOLATILITY_DAYS,
    HeadlineFigures,
    headline_figures,
    weighted_figures,
)

__all__ = [
    "LIQUIDITY_TOTALS",
    "MAX_REFUSED_SHARE",
    "MEAN_EXCESS_TOLERANCE_BP",
    "backtest_metrics",
    "compare_policies",
    "is_better",
    "metrics_table",
    "product_metrics",
    "shortfall_mask",
]

# SPEC §4: the tolerance on mean excess yield and the ceiling on refused demand.
MEAN_EXCESS_TOLERANCE_BP = 1.0
MAX_REFUSED_SHARE = 0.05

REQUIRED_DAILY = (
    "date",
    "product_id",
    "demand",
    "subscriptions",
    "aum",
    "yield_7d",
    "benchmark_yield_7d",
    "shortfall",
)
# How the redemptions liquid assets could not cover were paid (CNY, summed over the window):
# by repo borrowing, by early sales (principal sold, and the loss realised on them; negative for
# a gain), or not at all.
LIQUIDITY_TOTALS = ("repo_funded", "sold_early", "realised_loss", "unpaid")


def shortfall_mask(rows: pd.DataFrame) -> pd.Series:
    """Rows of a shortfall day (SPEC §4): early sales or unpaid redemptions; ``shortfall > 0``
    for rows without that split."""
    if "sold_early" in rows.columns and "unpaid" in rows.columns:
        return (rows["sold_early"] + rows["unpaid"]) > 0
    return rows["shortfall"] > 0


def _liquidity_totals(rows: pd.DataFrame) -> dict[str, float]:
    return {k: float(rows[k].sum()) if k in rows.columns else math.nan for k in LIQUIDITY_TOTALS}


def _max_abs_deviation(rows: pd.DataFrame) -> float:
    """Largest |shadow-price deviation| over the rows, percent of net assets (NaN without the
    ``deviation_pct`` column or a value)."""
    if "deviation_pct" not in rows.columns:
        return math.nan
    values = rows["deviation_pct"].to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    return float(np.abs(values).max()) if len(values) else math.nan


def product_metrics(rows: pd.DataFrame, window_days: int | None = None) -> dict[str, float]:
    """SPEC §4 figures of one product over a backtest window.

    Args:
        rows: the replay's daily rows of one product (columns of ``daily.csv``), one per day.
        window_days: the number of days of the window (None: the product's own rows). A
            product that exists for part of the window has ``mean_aum`` = its AUM summed over
            its days / the window's days: its weight in the total is its AUM over the window.

    Returns:
        The five yield figures (bp) plus ``shortfall_days`` (days with early sales or unpaid
        redemptions, :func:`shortfall_mask`), ``repo_funded``, ``sold_early``,
        ``realised_loss`` and ``unpaid`` (CNY over the window),
        ``lost_demand`` (Σ demand − subscriptions, CNY), ``demand`` (Σ demand, CNY),
        ``refused_share`` (lost_demand / demand, 0..1), ``mean_aum`` (CNY, its average AUM over
        the window's days, 0 on days it does not exist: the product's weight in the total),
        ``days`` (days with a 7-day yield, the days the yield figures cover) and
        ``max_abs_deviation_pct`` (largest |shadow-price deviation|, percent of net assets).

        When fewer than two days have both a 7-day yield and a benchmark, the four standard
        deviations are NaN (a sample standard deviation of one value is undefined) and
        ``mean_excess_bp`` is that one day's (NaN on none).
    """
    rows = rows.sort_values("date")
    y = rows["yield_7d"].to_numpy(dtype=float)
    b = rows["benchmark_yield_7d"].to_numpy(dtype=float)
    # The first six days of a replay without earlier 万份收益 have no 7-day yield: they are left
    # out of the yield figures, and every other figure still covers the whole window.
    known = ~(np.isnan(y) | np.isnan(b))
    if known.sum() >= MIN_VOLATILITY_DAYS:
        figures: dict[str, float] = dict(headline_figures(y[known], b[known]))
    else:  # e.g. a product launched the day before the end: no volatility, but flows count
        figures = dict.fromkeys(HeadlineFigures.__annotations__, math.nan)
        if known.any():  # the mean excess of one day is that day's excess
            figures["mean_excess_bp"] = BP_PER_PERCENT * float(np.mean(y[known] - b[known]))
    demand = float(rows["demand"].sum())
    lost = float((rows["demand"] - rows["subscriptions"]).sum())
    figures.update(
        shortfall_days=int(shortfall_mask(rows).sum()),
        **_liquidity_totals(rows),
        lost_demand=lost,
        demand=demand,
        refused_share=lost / demand if demand > 0 else 0.0,
        mean_aum=float(rows["aum"].sum()) / max(window_days or len(rows), 1),
        days=int(known.sum()),
        max_abs_deviation_pct=_max_abs_deviation(rows),
    )
    return figures


def backtest_metrics(daily: pd.DataFrame) -> dict[str, Any]:
    """``metrics.json`` of a backtest: figures per product and AUM-weighted in total.

    Args:
        daily: the replay's rows (``daily.csv``): at least date, product_id, demand,
            subscriptions, aum, yield_7d, benchmark_yield_7d and shortfall.

    Returns:
        ``{"start", "end", "products": {product_id: figures}, "total": figures}``. The total's
        yield figures are the per-product figures weighted by average AUM over the window
        (:func:`rainmaker.yields.weighted_figures`, over the products that have yield
        figures): a product's AUM summed over its days / the window's days, so a product that
        exists for part of the window weighs by its AUM over the window, not as one present
        throughout; ``mean_aum`` is the sum of those weights (the average total AUM per day of
        the window); ``shortfall_days`` counts calendar days on
        which at least one product sold early or left redemptions unpaid
        (``shortfall_product_days`` counts product-days); ``repo_funded``, ``sold_early``,
        ``realised_loss``, ``unpaid``, ``lost_demand`` and ``demand`` are sums (CNY) and
        ``refused_share`` is the ratio of the last two; ``max_abs_deviation_pct`` is the largest
        over every product and day.
    """
    missing = [c for c in REQUIRED_DAILY if c not in daily.columns]
    if missing:
        raise ValueError(f"backtest_metrics: daily rows lack columns {', '.join(missing)}")
    products: dict[str, dict[str, float]] = {}
    window_days = int(pd.DatetimeIndex(daily["date"]).nunique())
    for product_id, rows in daily.groupby("product_id", sort=True):
        products[str(product_id)] = product_metrics(rows, window_days)
    # products without yield figures (too few days) weigh nothing in the total's
    scored = [f for f in products.values() if not math.isnan(f["yield_vol_bp"])]
    if scored and sum(f["mean_aum"] for f in scored) > 0:
        total: dict[str, float] = dict(
            weighted_figures([_headline(f) for f in scored], [f["mean_aum"] for f in scored])
        )
    else:
        total = dict.fromkeys(HeadlineFigures.__annotations__, math.nan)
    weights = [f["mean_aum"] for f in products.values()]
    demand = float(sum(f["demand"] for f in products.values()))
    lost = float(sum(f["lost_demand"] for f in products.values()))
    short_days = daily.loc[shortfall_mask(daily), "date"]
    total.update(
        shortfall_days=int(short_days.nunique()),
        shortfall_product_days=int(sum(f["shortfall_days"] for f in products.values())),
        **_liquidity_totals(daily),
        lost_demand=lost,
        demand=demand,
        refused_share=lost / demand if demand > 0 else 0.0,
        mean_aum=float(sum(weights)),
        max_abs_deviation_pct=_max_abs_deviation(daily),
    )
    dates = pd.DatetimeIndex(daily["date"])
    return {
        "start": f"{dates.min():%Y-%m-%d}",
        "end": f"{dates.max():%Y-%m-%d}",
        "products": products,
        "total": total,
    }


def _headline(figures: Mapping[str, float]) -> HeadlineFigures:
    keys = HeadlineFigures.__annotations__
    return HeadlineFigures(**{k: float(figures[k]) for k in keys})  # type: ignore[typeddict-item]


def is_better(
    candidate: Mapping[str, float], baseline: Mapping[str, float], *, stressed: bool = False
) -> bool:
    """The SPEC §4 rule: is ``candidate`` better than ``baseline``?

    Args:
        candidate, baseline: ``"total"`` (or one product's) figures of two backtests over the
            same window, as returned by :func:`backtest_metrics`.
        stressed: the window is a stressed one (a redemption run or a rate shock).

    Returns:
        True only when the candidate lowers ``relative_vol_bp``, keeps ``mean_excess_bp`` within
        1 bp of the baseline's or above, has no more shortfall days, and refuses at most 5 % of
        demand; in a stressed window also only when it realises no larger loss on early sales
        (``realised_loss``, CNY; a baseline's net gain counts as a loss of 0) and leaves no
        redemption unpaid (``unpaid`` = 0). Figures
        without the liquidity split (NaN) do not fail the stressed conditions.
    """
    better = (
        candidate["relative_vol_bp"] < baseline["relative_vol_bp"]
        and candidate["mean_excess_bp"] >= baseline["mean_excess_bp"] - MEAN_EXCESS_TOLERANCE_BP
        and candidate["shortfall_days"] <= baseline["shortfall_days"]
        and candidate["refused_share"] <= MAX_REFUSED_SHARE
    )
    if not (better and stressed):
        return better
    loss, base_loss = candidate.get("realised_loss", math.nan), baseline.get("realised_loss", 0.0)
    unpaid = candidate.get("unpaid", math.nan)
    # a net gain is no loss: a policy that sells nothing, or sells at no loss, never realises a
    # larger loss than one whose sales happened to gain (the rule guards against fire sales)
    allowed = max(base_loss, 0.0) if not math.isnan(base_loss) else base_loss
    # a comparison with NaN is False: figures without the split pass
    return not (loss > allowed) and not (unpaid > 0)


def compare_policies(
    metrics: Mapping[str, Mapping[str, Any]],
    baseline: str = "none",
    bound: str = "oracle",
    *,
    stressed: bool = False,
) -> pd.DataFrame:
    """One row per policy: the total figures and how each compares with the baseline.

    Args:
        metrics: ``{policy: backtest_metrics(...)}`` over the same window and products.
        baseline: the policy others are compared with (doing nothing).
        bound: the perfect-foresight policy whose improvement is the most any policy can get.
        stressed: the window is a stressed one: the verdict also asks for no larger realised
            loss on early sales and no unpaid redemption (SPEC §4; default off).

    Returns:
        Frame indexed by policy with the total's yield figures (bp), ``shortfall_days``,
        ``repo_funded``, ``sold_early``, ``realised_loss``, ``unpaid`` (CNY),
        ``lost_demand`` (CNY), ``refused_pct`` (percent of demand), ``relative_vol_change_bp``
        (against the baseline; negative is better), ``mean_excess_change_bp``,
        ``share_of_bound_pct`` (the policy's fall in relative_vol_bp as a percentage of the
        bound's; NaN when the bound or baseline is missing or the bound does not improve) and
        ``better_than_baseline`` (the SPEC §4 rule).
    """
    rows = []
    for policy, doc in metrics.items():
        total = doc["total"]
        rows.append(
            {
                "policy": policy,
                "yield_vol_bp": total["yield_vol_bp"],
                "benchmark_vol_bp": total["benchmark_vol_bp"],
                "relative_vol_bp": total["relative_vol_bp"],
                "tracking_bp": total["tracking_bp"],
                "mean_excess_bp": total["mean_excess_bp"],
                "shortfall_days": total["shortfall_days"],
                **{k: total.get(k, math.nan) for k in LIQUIDITY_TOTALS},
                "lost_demand": total["lost_demand"],
                "refused_pct": 100.0 * total["refused_share"],
            }
        )
    table = pd.DataFrame(rows).set_index("policy")
    if baseline in metrics:
        base = metrics[baseline]["total"]
        table["relative_vol_change_bp"] = table["relative_vol_bp"] - base["relative_vol_bp"]
        table["mean_excess_change_bp"] = table["mean_excess_bp"] - base["mean_excess_bp"]
        table["better_than_baseline"] = [
            is_better(metrics[p]["total"], base, stressed=stressed) for p in table.index
        ]
        bound_gain = -table.loc[bound, "relative_vol_change_bp"] if bound in table.index else np.nan
        if np.isfinite(bound_gain) and bound_gain > 0:
            # + 0.0 turns the baseline's -0.0 into 0.0
            table["share_of_bound_pct"] = (
                -100.0 * table["relative_vol_change_bp"] / bound_gain + 0.0
            )
        else:
            table["share_of_bound_pct"] = np.nan
    return table


def metrics_table(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """The figures of :func:`backtest_metrics` as a frame: one row per product, then ``total``.

    Args:
        metrics: a ``metrics.json`` document (``products`` and ``total``).

    Returns:
        Frame indexed by ``product_id`` (the AUM-weighted figures last, as ``total``): the SPEC
        §4 figures in bp, ``shortfall_days``, amounts in CNY, ``refused_share`` (0..1).
    """
    rows = {str(k): dict(v) for k, v in metrics.get("products", {}).items()}
    rows["total"] = dict(metrics.get("total", {}))
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "product_id"
    return frame.apply(pd.to_numeric, errors="coerce")
