"""Charts of a backtest: the replayed 7-day yield against the market benchmark.

One PNG per policy shows the AUM-weighted 7-day yield of the replayed products (percent) against
the benchmark, with the SPEC §4 figures in the title; one more overlays every policy so that a
reader sees at a glance which one tracks the market more smoothly. The charts are drawn on
:class:`matplotlib.figure.Figure` objects and saved with ``Figure.savefig`` (no pyplot, no global
backend switch: a notebook that imports this module keeps its own backend and charts);
matplotlib is imported lazily so that loading this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_policy", "plot_policy_comparison", "weighted_yield", "yield_figure"]


def weighted_yield(daily: pd.DataFrame) -> pd.DataFrame:
    """AUM-weighted 7-day yield of all products on each day, and the benchmark.

    Args:
        daily: the replay's rows (``daily.csv``).

    Returns:
        Frame indexed by date with ``yield_7d`` (percent, products weighted by that day's AUM,
        days without a yield skipped) and ``benchmark_yield_7d`` (percent).
    """
    rows = daily.dropna(subset=["yield_7d"])
    weight = rows["aum"].to_numpy(dtype=float)
    frame = pd.DataFrame(
        {
            "date": rows["date"].to_numpy(),
            "weighted": rows["yield_7d"].to_numpy(dtype=float) * weight,
            "weight": weight,
            "benchmark_yield_7d": rows["benchmark_yield_7d"].to_numpy(dtype=float),
        }
    )
    by_day = frame.groupby("date").agg(
        weighted=("weighted", "sum"),
        weight=("weight", "sum"),
        benchmark_yield_7d=("benchmark_yield_7d", "first"),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        by_day["yield_7d"] = by_day["weighted"] / by_day["weight"]
    return by_day[["yield_7d", "benchmark_yield_7d"]]


def _figure() -> tuple[Any, Any]:
    """A new figure and its axes, detached from pyplot (garbage-collected, never shown)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.5), dpi=110)
    return fig, fig.add_subplot()


def _save(fig: Any, ax: Any, path: str | Path) -> Path:
    """Grid, legend and date labels of a yield chart, written to ``path`` (PNG)."""
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    return out


def plot_policy(
    daily: pd.DataFrame, metrics: Mapping[str, Any], policy: str, path: str | Path
) -> Path:
    """PNG of one policy's AUM-weighted 7-day yield against the benchmark.

    Args:
        daily: the policy's replay rows.
        metrics: its :func:`simulate.backtest_metrics.backtest_metrics` document.
        policy: the policy's name, for the title.
        path: the PNG file to write.

    Returns:
        The path written.
    """
    series = weighted_yield(daily)
    total = metrics["total"]
    fig, ax = _figure()
    ax.plot(series.index, series["yield_7d"], label=f"replayed products ({policy})", lw=1.4)
    ax.plot(series.index, series["benchmark_yield_7d"], label="benchmark", lw=1.2, color="0.35")
    ax.set_ylabel("7-day annualised yield, %")
    ax.set_title(
        f"{policy}: relative vol {total['relative_vol_bp']:+.1f} bp, "
        f"tracking {total['tracking_bp']:.1f} bp, excess {total['mean_excess_bp']:+.1f} bp, "
        f"shortfall days {total['shortfall_days']}, refused {100 * total['refused_share']:.1f} %",
        fontsize=9,
    )
    return _save(fig, ax, path)


def plot_policy_comparison(dailies: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """PNG overlaying every policy's AUM-weighted 7-day yield and the benchmark.

    Args:
        dailies: ``{policy: replay rows}`` over the same window and products.
        path: the PNG file to write.

    Returns:
        The path written.
    """
    fig, ax = _figure()
    benchmark = None
    for policy, daily in dailies.items():
        series = weighted_yield(daily)
        ax.plot(series.index, series["yield_7d"], label=policy, lw=1.1)
        benchmark = series["benchmark_yield_7d"]
    if benchmark is not None:
        ax.plot(benchmark.index, benchmark, label="benchmark", lw=1.4, color="black", ls="--")
    ax.set_ylabel("7-day annualised yield, %")
    ax.set_title("AUM-weighted 7-day yield by policy against the benchmark", fontsize=10)
    return _save(fig, ax, path)


def yield_figure(dailies: Mapping[str, pd.DataFrame]) -> Any:
    """A notebook figure of replays: AUM-weighted 7-day yield against the benchmark (percent)
    and the gap between them (bp), one line per policy.

    Args:
        dailies: ``{policy: replay rows}`` (e.g. ``ReplayResult.window``), same window.

    Returns:
        A :class:`matplotlib.figure.Figure` (no pyplot: a notebook shows it once, as returned).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    benchmark = None
    for policy, daily in dailies.items():
        series = weighted_yield(daily)
        left.plot(series.index, series["yield_7d"], label=policy, lw=1.2)
        gap = 100 * (series["yield_7d"] - series["benchmark_yield_7d"])
        right.plot(gap.index, gap, label=policy, lw=1.2)
        benchmark = series["benchmark_yield_7d"]
    if benchmark is not None:
        left.plot(benchmark.index, benchmark, label="benchmark", color="black", ls="--", lw=1.2)
    right.axhline(0, color="0.3", lw=0.8)
    left.set_title("AUM-weighted 7-day yield, %", fontsize=11)
    right.set_title("7-day yield minus benchmark, bp", fontsize=11)
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.tick_params(axis="x", labelrotation=30, labelsize=9)
    return fig
