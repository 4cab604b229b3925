"""Shadow pricing (影子定价): the amortised-cost book compared with its market value every day.

A cash-management product books its lots at amortised cost (the principal: interest is credited
daily). The rules (DOMAIN.md, "Regulation", shadow pricing) ask for the daily comparison with the
market value of the same lots::

    deviation (偏离度) = (market value − amortised cost) / net assets          (percent here)

Market values come from :mod:`rainmaker.valuation` — the one valuation the replay's early sales
use — at the day's curve with no sale spread (a mark, not a sale). Cash, pending money and repo
borrowing are at par on both sides, so only the term lots move the deviation.

The actions of DOMAIN.md, by :func:`deviation_action` (thresholds in :mod:`rainmaker.regulation`):

- negative deviation of 0.25 % or more: bring it back within 5 trading days (``restore``);
- positive deviation of 0.5 % or more: stop subscriptions and bring it back
  (``stop_subscriptions``);
- negative deviation of 0.5 % or more: cover the loss from the risk reserve or own funds
  (``cover_loss``; two trading days running: move to fair value or wind up).

The LP duals of the plan ("shadow prices" in optimisation) have nothing to do with this: the
report calls those the marginal cost of constraints.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from rainmaker.regulation import DEVIATION_ACTION_PCT, DEVIATION_NEGATIVE_ACTION_PCT
from rainmaker.valuation import curve_yield_pct, market_value

__all__ = [
    "ACTIONS",
    "book_gap",
    "deviation_action",
    "deviation_pct",
    "holdings_deviation",
    "lot_gaps",
]

# What a deviation asks of the manager, mildest first (keys of the report's texts).
ACTIONS = ("none", "restore", "stop_subscriptions", "cover_loss")
# A deviation is compared with the thresholds after rounding off float noise (a millionth of a
# percentage point), so that exactly −0.25 % acts.
_EPS_PCT = 1e-9


def book_gap(
    amount_cny: npt.ArrayLike,
    rate_pct: npt.ArrayLike,
    days_to_maturity: npt.ArrayLike,
    rates_pct: Mapping[str, float],
) -> float:
    """Market value − amortised cost of term lots on one day, CNY.

    Args:
        amount_cny: principal of each lot (its amortised cost), CNY.
        rate_pct: each lot's rate, percent p.a.
        days_to_maturity: calendar days each lot still earns (≥ 0).
        rates_pct: the day's purchase rate per bucket (a row of
            :func:`rainmaker.assets.bucket_rates`, shocked or not): the curve.

    Returns:
        Σ (market value − principal), CNY: negative when rates have risen above the lots' rates.
    """
    amount = np.asarray(amount_cny, dtype=float)
    if amount.size == 0:
        return 0.0
    days = np.asarray(days_to_maturity, dtype=float)
    value = market_value(amount, rate_pct, days, curve_yield_pct(rates_pct, days))
    return float(np.sum(value - amount))


def deviation_pct(gap_cny: float, net_assets_cny: float) -> float:
    """Shadow-price deviation, percent of net assets: ``100 × gap / net assets``.

    NaN when there are no net assets (nothing to compare with).
    """
    if not net_assets_cny > 0:
        return float("nan")
    return 100.0 * gap_cny / net_assets_cny


def deviation_action(deviation: float) -> str:
    """The action DOMAIN.md asks for at a deviation (percent): one of :data:`ACTIONS`.

    >>> deviation_action(-0.1), deviation_action(-0.25), deviation_action(0.3)
    ('none', 'restore', 'none')
    >>> deviation_action(0.5), deviation_action(-0.6)
    ('stop_subscriptions', 'cover_loss')
    """
    if not np.isfinite(deviation):
        return "none"
    if deviation <= -DEVIATION_ACTION_PCT + _EPS_PCT:
        return "cover_loss"
    if deviation >= DEVIATION_ACTION_PCT - _EPS_PCT:
        return "stop_subscriptions"
    if deviation <= -DEVIATION_NEGATIVE_ACTION_PCT + _EPS_PCT:
        return "restore"
    return "none"


def lot_gaps(
    holdings: pd.DataFrame, rates_pct: Mapping[str, float], as_of: pd.Timestamp
) -> pd.Series:
    """Market value − amortised cost of each product's term lots at the end of ``as_of``, CNY,
    indexed by product id (products without lots left out; cash is at par).

    Args:
        holdings: positions (:data:`optimize.portfolio.HOLDING_COLUMNS`).
        rates_pct: the day's purchase rate per bucket, percent p.a.
        as_of: the day.
    """
    # every lot valued at once, then summed per product (a loop of per-product valuations
    # cost 18 ms a plan on 2,000 lots, 8 s of a year's backtest)
    ids = holdings["product_id"].astype(str).to_numpy()
    is_lot = (holdings["bucket"] != "cash").to_numpy()
    amount = holdings["amount_cny"].to_numpy(dtype=float)
    days = _days_left(holdings["maturity_date"][is_lot], as_of)
    lot_amount = amount[is_lot]
    value = market_value(
        lot_amount,
        holdings["rate_pct"].to_numpy(dtype=float)[is_lot],
        days,
        curve_yield_pct(rates_pct, days),
    )
    return pd.Series(value - lot_amount).groupby(ids[is_lot]).sum()


def _days_left(maturity: pd.Series, as_of: pd.Timestamp) -> np.ndarray:
    """Whole days from ``as_of`` to each maturity (``Timedelta.days``: floored), at least 0;
    NaN where a maturity is missing."""
    as_of = pd.Timestamp(as_of)
    if maturity.dtype != np.dtype("datetime64[ns]") or as_of.tzinfo is not None:
        return (pd.to_datetime(maturity) - as_of).dt.days.clip(lower=0).to_numpy(dtype=float)
    # the same floored days on the nanoseconds, without a Series of Timedeltas (the plan
    # values its thousand lots every morning of a backtest)
    delta = maturity.to_numpy() - np.datetime64(as_of.to_datetime64(), "ns")
    known = ~np.isnat(delta)
    days = np.full(len(delta), np.nan)
    days[known] = delta[known] // np.timedelta64(1, "D")
    return np.maximum(days, 0.0)


def holdings_deviation(
    holdings: pd.DataFrame, rates_pct: Mapping[str, float], as_of: pd.Timestamp
) -> pd.DataFrame:
    """Each product's deviation at the end of ``as_of`` from a holdings frame.

    Args:
        holdings: positions (:data:`optimize.portfolio.HOLDING_COLUMNS`: ``product_id``,
            ``bucket``, ``amount_cny``, ``rate_pct``, ``maturity_date``); cash rows are at par
            (a negative cash row is borrowing, a liability at par).
        rates_pct: the day's purchase rate per bucket, percent p.a.
        as_of: the day.

    Returns:
        One row per product: ``product_id``, ``net_assets`` (Σ amount, CNY), ``gap_cny``
        (market value − amortised cost), ``deviation_pct`` and ``action`` (:data:`ACTIONS`).
    """
    ids = holdings["product_id"].astype(str).to_numpy()
    amount = holdings["amount_cny"].to_numpy(dtype=float)
    gaps = lot_gaps(holdings, rates_pct, as_of)
    nets = pd.Series(amount).groupby(ids).sum()
    rows = []
    for pid, net in nets.sort_index().items():
        gap = float(gaps.get(pid, 0.0))
        deviation = deviation_pct(gap, float(net))
        rows.append(
            {
                "product_id": str(pid),
                "net_assets": float(net),
                "gap_cny": gap,
                "deviation_pct": deviation,
                "action": deviation_action(deviation),
            }
        )
    return pd.DataFrame(
        rows, columns=["product_id", "net_assets", "gap_cny", "deviation_pct", "action"]
    )
