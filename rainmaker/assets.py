"""The asset buckets a cash-management portfolio is made of, and what each earns.

Every bucket is priced off a money-market rate *published on the day of purchase* plus a fixed
spread, and is held to maturity (amortised cost): a purchase on day t at rate r earns
``amount × r / 100 / 365`` CNY per calendar day from its value date until it matures. The
optimizer (``optimize``) and the replay (``simulate``) use this one table so that a plan and its
backtest price assets identically.

Spreads are typical of 2019–2022 in China's interbank market: reverse repo a few bp over Shibor,
AAA bank NCDs 10–20 bp over Shibor of the same tenor, and cash at banks (demand and call deposits)
well below overnight Shibor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["BUCKETS", "MAX_TENOR_DAYS", "SHIBOR_COLUMNS", "AssetBucket", "bucket", "bucket_rates"]

# The Shibor tenors a market.csv may carry (SPEC §1: shibor_on and shibor_1w always), shortest
# first: what the sample's market is drawn with and what the market forecast reads.
SHIBOR_COLUMNS = (
    "shibor_on",
    "shibor_1w",
    "shibor_2w",
    "shibor_1m",
    "shibor_3m",
    "shibor_6m",
    "shibor_9m",
    "shibor_1y",
)


@dataclass(frozen=True)
class AssetBucket:
    """One kind of asset.

    Attributes:
        name: short key used in tables, e.g. ``repo_7d``.
        tenor_days: calendar days from value date to maturity; 0 for cash (no maturity).
        rate_column: the market.csv column the purchase rate is priced off (percent p.a.).
        spread_bp: added to that rate, basis points (negative for cash).
        cash_like: counts towards the 5 % floor of cash and near-cash assets (cash at banks and
            overnight reverse repo against government bonds).
    """

    name: str
    tenor_days: int
    rate_column: str
    spread_bp: float
    cash_like: bool

    def rate_pct(
        self, market_rate_pct: float | np.ndarray | pd.Series
    ) -> float | np.ndarray | pd.Series:
        """Annual rate earned by a purchase, percent, floored at zero."""
        return np.maximum(market_rate_pct + self.spread_bp / 100.0, 0.0)


BUCKETS: tuple[AssetBucket, ...] = (
    AssetBucket("cash", 0, "shibor_on", -60.0, cash_like=True),
    AssetBucket("repo_1d", 1, "shibor_on", 5.0, cash_like=True),
    AssetBucket("repo_7d", 7, "shibor_1w", 5.0, cash_like=False),
    AssetBucket("ncd_1m", 30, "shibor_1m", 12.0, cash_like=False),
    AssetBucket("ncd_3m", 91, "shibor_3m", 18.0, cash_like=False),
    AssetBucket("ncd_6m", 182, "shibor_6m", 20.0, cash_like=False),
)
# The longest tenor: how far past a plan's horizon its calendar must reach, and how far back a
# steady-state ladder of purchases goes.
MAX_TENOR_DAYS = max(b.tenor_days for b in BUCKETS)


def bucket(name: str) -> AssetBucket:
    """The bucket called ``name``; raises ``KeyError`` naming the known ones."""
    for b in BUCKETS:
        if b.name == name:
            return b
    raise KeyError(f"unknown asset bucket {name!r}; known: {', '.join(b.name for b in BUCKETS)}")


def bucket_rates(market: pd.DataFrame, buckets: tuple[AssetBucket, ...] = BUCKETS) -> pd.DataFrame:
    """Purchase rate of every bucket on every day of ``market``, percent p.a.

    Args:
        market: daily market frame indexed by date with the rate columns the buckets name
            (``shibor_1m``, ``shibor_3m`` and ``shibor_6m`` fall back to ``shibor_1w`` when
            absent, since the contract requires only ``shibor_on`` and ``shibor_1w``; the
            longer NCDs are then priced no better than a week's money, so plans do not buy
            them on rates they cannot see).
        buckets: the buckets to price.

    Returns:
        Frame indexed like ``market`` with one column per bucket name.
    """
    out = {}
    for b in buckets:
        column = b.rate_column
        if column not in market.columns:
            column = "shibor_1w"
        out[b.name] = b.rate_pct(market[column].astype(float))
    return pd.DataFrame(out, index=market.index)
