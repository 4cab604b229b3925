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

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "BUCKETS",
    "FALLBACK_RATE_COLUMN",
    "MAX_TENOR_DAYS",
    "SHIBOR_COLUMNS",
    "AssetBucket",
    "bucket",
    "bucket_rates",
    "rate_fallback_note",
    "rate_fallbacks",
]

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
# The rate a bucket is priced off when the market lacks its own column: the longest tenor the
# contract requires (SPEC §1).
FALLBACK_RATE_COLUMN = "shibor_1w"


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
            (a column the frame lacks falls back to :data:`FALLBACK_RATE_COLUMN`, see
            :func:`rate_fallbacks`).
        buckets: the buckets to price.

    Returns:
        Frame indexed like ``market`` with one column per bucket name.
    """
    fallbacks = rate_fallbacks(market.columns, buckets)
    # each rate column read once, priced with numpy: the same sums as on Series, without a
    # Series built per bucket (the plan prices its rate history every morning of a backtest)
    columns: dict[str, np.ndarray] = {}
    out = {}
    for b in buckets:
        column = fallbacks.get(b.name, b.rate_column)
        if column not in columns:
            columns[column] = market[column].astype(float).to_numpy()
        out[b.name] = b.rate_pct(columns[column])
    return pd.DataFrame(out, index=market.index)


def rate_fallbacks(
    columns: Iterable[str], buckets: tuple[AssetBucket, ...] = BUCKETS
) -> dict[str, str]:
    """The buckets whose rate column is not among ``columns``, each with the column it is
    priced off instead (:data:`FALLBACK_RATE_COLUMN`).

    The contract requires only ``shibor_on`` and ``shibor_1w`` (SPEC §1), so a market without
    ``shibor_1m``, ``shibor_3m`` or ``shibor_6m`` prices those NCDs at a week's money plus
    their own spreads: a term purchase then earns its spread over 7-day repo's and no term
    premium, a guess the plan's users should be told of (:func:`optimize.make_plan` warns).
    """
    present = set(columns)
    return {
        b.name: FALLBACK_RATE_COLUMN
        for b in buckets
        if b.rate_column not in present and b.rate_column != FALLBACK_RATE_COLUMN
    }


def rate_fallback_note(
    columns: Iterable[str], wanted: Iterable[str] | None = None, file: str = "market.csv"
) -> str | None:
    """The warning for the buckets (of ``wanted``, default all) priced off another tenor's
    rate (:func:`rate_fallbacks`), or None when every one has its own column: what plan,
    run, backtest and stress tell their users, naming ``file``, the market table read
    (``market.parquet`` where the data set has it: :attr:`rainmaker.dataset.Dataset.files`)."""
    chosen = None if wanted is None else set(wanted)
    guessed = [name for name in rate_fallbacks(columns) if chosen is None or name in chosen]
    if not guessed:
        return None
    missing = sorted({bucket(name).rate_column for name in guessed})
    return (
        f"{file} has no {', '.join(missing)}: {', '.join(guessed)} are priced at "
        f"{FALLBACK_RATE_COLUMN} plus their spreads, with no term premium (add the "
        "columns for plans that weigh term purchases on their own rates)"
    )
