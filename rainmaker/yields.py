"""Yield accounting of cash-management products and the headline figures of SPEC §4.

A cash-management product has a fixed NAV of 1 CNY per unit and credits income daily, so units
equal net assets (CNY). For a day t:

- 万份收益 ``R(t)`` = net income of the day (CNY, after fees) / units × 10,000, in CNY per
  10,000 units;
- 七日年化 (daily carry-over) ``Y(t) = ((Π_{i=t-6..t} (1 + R(i)/10,000)) ^ (365/7) − 1) × 100``,
  in percent, over the last seven *calendar* days;
- monthly carry-over variant ``Y(t) = (Σ_{i=t-6..t} R(i) / 7) × 365 / 10,000 × 100``.

The headline figures compare a product's 7-day yield Y with the market benchmark B over the days
of a backtest window, all in basis points (1 bp = 0.01 percentage point): see
:func:`headline_figures`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "DAYS_PER_YEAR",
    "HeadlineFigures",
    "MIN_VOLATILITY_DAYS",
    "daily_fee",
    "headline_figures",
    "income_per_10k",
    "weighted_figures",
    "yield_7d",
    "yield_7d_series",
]

DAYS_PER_YEAR = 365
WINDOW_DAYS = 7
BP_PER_PERCENT = 100.0
# A sample standard deviation (ddof = 1, SPEC §4) needs two values: the least days of a window
# (and of a product in it) with volatility figures. The mean excess yield is defined on one.
MIN_VOLATILITY_DAYS = 2

ArrayLike = npt.ArrayLike


def income_per_10k(net_income: ArrayLike, units: ArrayLike) -> np.ndarray:
    """万份收益: net income per 10,000 units, CNY.

    Args:
        net_income: the day's net income after fees, CNY.
        units: units outstanding that earn the income (CNY at a NAV of 1); must be > 0.

    Returns:
        CNY per 10,000 units, same shape as the inputs.
    """
    income = np.asarray(net_income, dtype=float)
    u = np.asarray(units, dtype=float)
    if np.any(u <= 0):
        raise ValueError("income_per_10k: units must be positive")
    return income / u * 10_000.0


def daily_fee(aum: ArrayLike, fee_bp: ArrayLike) -> np.ndarray:
    """One day's fees, CNY: ``aum × fee_bp / 10,000 / 365``.

    Args:
        aum: net assets, CNY.
        fee_bp: total annual fee rate, basis points of net assets.
    """
    return np.asarray(aum, dtype=float) * np.asarray(fee_bp, dtype=float) / 10_000.0 / DAYS_PER_YEAR


def yield_7d(r_per_10k: ArrayLike, *, carry: str = "daily") -> np.ndarray:
    """七日年化 from a contiguous daily series of 万份收益, percent per annum.

    Args:
        r_per_10k: 万份收益 for consecutive calendar days (CNY per 10,000 units), oldest first.
        carry: ``"daily"`` (compounded, the usual case) or ``"monthly"`` (simple average).

    Returns:
        Array of the same length; the first six entries are NaN because a seven-day window is not
        yet complete, and any window touching a NaN is NaN.
    """
    r = np.asarray(r_per_10k, dtype=float)
    if r.ndim != 1:
        raise ValueError("yield_7d: expects a one-dimensional daily series")
    out = np.full(r.shape, np.nan)
    if len(r) < WINDOW_DAYS:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(r, WINDOW_DAYS)
    if carry == "daily":
        # log1p/expm1 keep precision for the tiny daily rates (about 1e-4).
        growth = np.log1p(windows / 10_000.0).sum(axis=1)
        out[WINDOW_DAYS - 1 :] = np.expm1(growth * DAYS_PER_YEAR / WINDOW_DAYS) * 100.0
    elif carry == "monthly":
        out[WINDOW_DAYS - 1 :] = windows.mean(axis=1) * DAYS_PER_YEAR / 10_000.0 * 100.0
    else:
        raise ValueError(f"yield_7d: carry must be 'daily' or 'monthly', not {carry!r}")
    return out


class HeadlineFigures(TypedDict):
    """SPEC §4 figures of one product (or the AUM-weighted total), basis points."""

    yield_vol_bp: float
    benchmark_vol_bp: float
    relative_vol_bp: float
    tracking_bp: float
    mean_excess_bp: float


def headline_figures(yield_pct: ArrayLike, benchmark_pct: ArrayLike) -> HeadlineFigures:
    """The yield figures of SPEC §4 for one product over a window, in basis points.

    Args:
        yield_pct: the product's 7-day annualised yield Y(t), percent, one value per day.
        benchmark_pct: the benchmark B(t), percent, on the same days.

    Returns:
        ``yield_vol_bp`` = 100·std(Y), ``benchmark_vol_bp`` = 100·std(B), ``relative_vol_bp`` =
        their difference, ``tracking_bp`` = 100·std(Y − B), ``mean_excess_bp`` = 100·mean(Y − B);
        standard deviations are sample ones (ddof = 1).

    Raises:
        ValueError: when the series differ in length, hold NaN, or have fewer than two days.
    """
    y = np.asarray(yield_pct, dtype=float)
    b = np.asarray(benchmark_pct, dtype=float)
    if y.shape != b.shape or y.ndim != 1:
        raise ValueError("headline_figures: yield and benchmark must be 1-D series of one length")
    if len(y) < MIN_VOLATILITY_DAYS:
        raise ValueError(f"headline_figures: needs at least {MIN_VOLATILITY_DAYS} days")
    if np.isnan(y).any() or np.isnan(b).any():
        raise ValueError("headline_figures: yield or benchmark holds NaN; trim the warm-up days")
    yield_vol = BP_PER_PERCENT * float(np.std(y, ddof=1))
    bench_vol = BP_PER_PERCENT * float(np.std(b, ddof=1))
    diff = y - b
    return HeadlineFigures(
        yield_vol_bp=yield_vol,
        benchmark_vol_bp=bench_vol,
        relative_vol_bp=yield_vol - bench_vol,
        tracking_bp=BP_PER_PERCENT * float(np.std(diff, ddof=1)),
        mean_excess_bp=BP_PER_PERCENT * float(np.mean(diff)),
    )


def weighted_figures(
    figures: Sequence[HeadlineFigures], weights: Sequence[float]
) -> HeadlineFigures:
    """AUM-weighted average of per-product figures (SPEC §3 ``"total"``).

    Args:
        figures: one set of figures per product.
        weights: the products' weights, e.g. average AUM over the window (CNY); need not sum to 1.
    """
    w = np.asarray(weights, dtype=float)
    if len(figures) != len(w) or len(w) == 0 or w.sum() <= 0:
        raise ValueError("weighted_figures: needs one positive weight per product")
    w = w / w.sum()
    keys = HeadlineFigures.__annotations__
    rows = [cast(Mapping[str, float], f) for f in figures]
    return cast(HeadlineFigures, {k: float(np.dot(w, [row[k] for row in rows])) for k in keys})


def yield_7d_series(r_per_10k: pd.Series, *, carry: str = "daily") -> pd.Series:
    """:func:`yield_7d` for a Series indexed by consecutive calendar days.

    Raises:
        ValueError: when the index skips or repeats a day (the window is over calendar days).
    """
    index = pd.DatetimeIndex(r_per_10k.index)
    if len(index) > 1 and not (np.diff(index.to_numpy()) == np.timedelta64(1, "D")).all():
        raise ValueError("yield_7d_series: the index must be consecutive calendar days")
    return pd.Series(
        yield_7d(r_per_10k.to_numpy(), carry=carry), index=r_per_10k.index, name="yield_7d"
    )
