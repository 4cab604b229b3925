"""One valuation of lots at market: the day's money-market curve and what a lot sells for.

A cash-management product books its lots at amortised cost (interest credited daily, so the
book value of a lot is its principal). What the lot would fetch if sold today depends on the
day's market: a buyer pays the principal plus the interest the lot still carries to maturity,
discounted at the yield the market asks for that remaining term. The replay sells lots early at
this price (:mod:`simulate.portfolio`); the plan and the report use the same functions for the
shadow price of a book.

**The curve.** On each day the buckets of :mod:`rainmaker.assets` have a purchase rate (the
Shibor of their tenor plus their spread, :func:`rainmaker.assets.bucket_rates`). The curve yield
for a remaining term of ``d`` days is interpolated linearly in days between the term buckets'
rates of that day (``repo_1d`` at 1 day, ``repo_7d`` at 7, ``ncd_1m`` at 30, ``ncd_3m`` at 91,
``ncd_6m`` at 182) and flat beyond the ends. Cash (tenor 0) is not a point of the curve: it is a
deposit rate, not a market yield.

**The price.** A lot of principal ``A`` earning ``r`` percent p.a., ``d`` days from maturity,
sold into a market asking the curve yield ``y`` plus a sale spread ``s`` (the bid side: a seller
in a hurry gives up ``s`` bp of yield) is worth::

    MV = A × (1 + r·d/365) / (1 + (y + s)·d/365)        (r, y, s as fractions p.a.)

so MV = A when ``y + s = r`` (the market asks what the lot earns), MV < A when rates have risen
above the lot's rate, and MV > A (a gain) when they have fallen. Amounts are CNY, rates percent
p.a., spreads basis points of yield.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from rainmaker.assets import BUCKETS, AssetBucket

__all__ = [
    "DAYS_PER_YEAR",
    "DEFAULT_SALE_SPREAD_BP",
    "Curve",
    "curve_yield_pct",
    "market_value",
    "price_per_principal",
]

DAYS_PER_YEAR = 365  # money-market convention: simple interest on an ACT/365 basis
# The yield a seller gives up over the curve to sell a lot before maturity, bp of yield: AAA
# NCDs trade a few bp wide of their primary level, more when the seller must sell today.
DEFAULT_SALE_SPREAD_BP = 10.0

FloatArray = npt.NDArray[np.float64]
ArrayLike = float | npt.ArrayLike


def _term_buckets(rates_pct: Mapping[str, float] | pd.DataFrame) -> list[AssetBucket]:
    """The term buckets (tenor ≥ 1 day) priced in ``rates_pct``, shortest first."""
    names = rates_pct.columns if isinstance(rates_pct, pd.DataFrame) else rates_pct.keys()
    present = [b for b in BUCKETS if b.tenor_days > 0 and b.name in names]
    if not present:
        raise KeyError(
            "the curve needs the rate of at least one term bucket; known: "
            + ", ".join(b.name for b in BUCKETS if b.tenor_days > 0)
        )
    return sorted(present, key=lambda b: b.tenor_days)


@dataclass(frozen=True)
class Curve:
    """One day's money-market curve: yield (percent p.a.) by remaining term (calendar days).

    Attributes:
        tenors_days: the points' terms, increasing, days.
        yields_pct: the yield at each point, percent p.a.
    """

    tenors_days: tuple[int, ...]
    yields_pct: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.tenors_days) != len(self.yields_pct) or not self.tenors_days:
            raise ValueError("Curve: one yield per tenor, at least one point")
        if any(b <= a for a, b in zip(self.tenors_days, self.tenors_days[1:], strict=False)):
            raise ValueError(f"Curve: tenors must increase, got {self.tenors_days}")
        if not all(np.isfinite(self.yields_pct)):
            raise ValueError(f"Curve: yields must be finite, got {self.yields_pct}")

    @classmethod
    def from_rates(cls, rates_pct: Mapping[str, float]) -> Curve:
        """The curve of one day from the buckets' purchase rates of that day.

        Args:
            rates_pct: purchase rate per bucket name, percent p.a. (a row of
                :func:`rainmaker.assets.bucket_rates`); buckets missing from it are left out of
                the curve, ``cash`` is never a point.

        Raises:
            KeyError: no term bucket is priced.
        """
        buckets = _term_buckets(rates_pct)
        return cls(
            tuple(b.tenor_days for b in buckets),
            tuple(float(rates_pct[b.name]) for b in buckets),
        )

    def yield_pct(self, days: ArrayLike) -> FloatArray:
        """Curve yield for remaining terms ``days`` (calendar days), percent p.a.: linear in
        days between the points, flat beyond the first and the last."""
        return np.interp(
            np.asarray(days, dtype=float),
            np.asarray(self.tenors_days, dtype=float),
            np.asarray(self.yields_pct, dtype=float),
        )


def curve_yield_pct(rates_pct: Mapping[str, float] | pd.DataFrame, days: ArrayLike) -> FloatArray:
    """Curve yield for remaining terms ``days``, percent p.a., on one day or on many.

    Args:
        rates_pct: one day's purchase rate per bucket (a mapping), or many days' (the frame of
            :func:`rainmaker.assets.bucket_rates`, one row per day).
        days: remaining terms, calendar days: a scalar or an array (for a frame, one term per
            row or one term for every row).

    Returns:
        Percent p.a.: the shape of ``days`` for a mapping; one value per row for a frame.
    """
    if not isinstance(rates_pct, pd.DataFrame):
        return Curve.from_rates(rates_pct).yield_pct(days)
    buckets = _term_buckets(rates_pct)
    tenors = np.array([b.tenor_days for b in buckets], dtype=float)
    grid = rates_pct[[b.name for b in buckets]].to_numpy(dtype=float)
    d = np.broadcast_to(np.asarray(days, dtype=float), (len(grid),))
    # the segment each term falls in, then the same linear interpolation as np.interp, per row
    clipped = np.clip(d, tenors[0], tenors[-1])
    right = np.clip(np.searchsorted(tenors, clipped, side="left"), 1, max(len(tenors) - 1, 1))
    if len(tenors) == 1:
        return grid[:, 0].copy()
    left = right - 1
    rows = np.arange(len(grid))
    span = tenors[right] - tenors[left]
    weight = (clipped - tenors[left]) / span
    return grid[rows, left] + weight * (grid[rows, right] - grid[rows, left])


def price_per_principal(
    rate_pct: ArrayLike, days: ArrayLike, yield_pct: ArrayLike, spread_bp: ArrayLike = 0.0
) -> FloatArray:
    """Market value of 1 CNY of principal of a lot, CNY (see the module docstring).

    Args:
        rate_pct: the lot's rate, percent p.a.
        days: calendar days the lot still earns until maturity (≥ 0).
        yield_pct: the market's yield for that term, percent p.a.
        spread_bp: sale spread added to the yield, bp of yield.

    Returns:
        ``(1 + r·d/365) / (1 + (y + s)·d/365)``, broadcast over the arguments.
    """
    d = np.asarray(days, dtype=float)
    if np.any(d < 0):
        raise ValueError("price_per_principal: remaining days must be >= 0")
    carry = 1.0 + np.asarray(rate_pct, dtype=float) / 100.0 * d / DAYS_PER_YEAR
    ask = np.asarray(yield_pct, dtype=float) + np.asarray(spread_bp, dtype=float) / 100.0
    discount = 1.0 + ask / 100.0 * d / DAYS_PER_YEAR
    return carry / discount


def market_value(
    amount: ArrayLike,
    rate_pct: ArrayLike,
    days: ArrayLike,
    yield_pct: ArrayLike,
    spread_bp: ArrayLike = 0.0,
) -> FloatArray:
    """Market value of lots whose interest is credited daily (amortised cost = principal), CNY.

    Args:
        amount: principal outstanding, CNY.
        rate_pct: the lot's rate, percent p.a.
        days: calendar days to maturity (the days it still earns).
        yield_pct: the market's yield for that term, percent p.a. (e.g. from
            :func:`curve_yield_pct`).
        spread_bp: sale spread over the yield, bp of yield (0 for a mark, the sale spread for
            a sale).

    Returns:
        ``amount × (1 + r·d/365) / (1 + (y + s)·d/365)``, broadcast over the arguments.
    """
    return np.asarray(amount, dtype=float) * price_per_principal(
        rate_pct, days, yield_pct, spread_bp
    )
