"""Market inputs of the synthetic sample: real Shibor and a peer benchmark built from it.

Shibor comes from the copy of the public series kept inside the package
(``simulate/data/shibor.csv``, see ``simulate/data/README.md``), read through
:mod:`importlib.resources`; the project never reads the shared folder at run time.

The benchmark is the 7-day yield of a *peer* cash-management portfolio: a stable fund (no flows)
rolled day by day with :class:`simulate.portfolio.Portfolio`, holding a ladder of repo and NCDs
(:data:`PEER_MIX`) bought at each day's Shibor-based bucket rates, net of :data:`PEER_FEE_BP`.
Because it reinvests only what matures, its yield lags Shibor by the average age of its holdings,
about 27 days, the way the average of peer money funds lags the market.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources

import numpy as np
import pandas as pd

from rainmaker.assets import SHIBOR_COLUMNS, bucket_rates
from rainmaker.yields import yield_7d
from simulate.portfolio import Portfolio, TargetMix

__all__ = [
    "PEER_FEE_BP",
    "PEER_MIX",
    "SHIBOR_COLUMNS",
    "daily_market",
    "load_shibor",
    "peer_benchmark",
]

# A typical peer book: little overnight money and a long NCD ladder (weighted average age of the
# holdings ≈ 0.10·3.5 + 0.25·15 + 0.50·45 ≈ 27 days), fees of 30 bp a year.
PEER_MIX: Mapping[str, float] = {
    "cash": 0.05,
    "repo_1d": 0.10,
    "repo_7d": 0.10,
    "ncd_1m": 0.25,
    "ncd_3m": 0.50,
}
PEER_FEE_BP = 30.0
PEER_AUM_CNY = 100e9


def load_shibor() -> pd.DataFrame:
    """The packaged Shibor rows: publication days, percent p.a., indexed by ``date``."""
    source = resources.files("simulate").joinpath("data/shibor.csv")
    with source.open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle, parse_dates=["date"], index_col="date")
    return frame[list(SHIBOR_COLUMNS)].astype(float)


def daily_market(
    shibor: pd.DataFrame, start: str | pd.Timestamp, end: str | pd.Timestamp
) -> pd.DataFrame:
    """Every calendar day from ``start`` to ``end`` with the last published rates carried forward.

    Raises:
        ValueError: when no rate is published on or before ``start``.
    """
    days = pd.date_range(start, end, freq="D", name="date")
    if shibor.index.min() > days[0]:
        raise ValueError(f"daily_market: no Shibor on or before {days[0].date()}")
    return shibor.reindex(shibor.index.union(days)).ffill().loc[days]


def peer_benchmark(
    market: pd.DataFrame,
    start: str | pd.Timestamp,
    *,
    mix: Mapping[str, float] = PEER_MIX,
    fee_bp: float = PEER_FEE_BP,
) -> pd.Series:
    """7-day yield of the peer portfolio for every day of ``market`` from ``start`` on, percent.

    Args:
        market: daily market frame (:func:`daily_market`), starting at least 91 days before
            ``start`` so that the peer's starting ladder is bought at the rates of its days.
        start: first day the peer is rolled; its first six 7-day yields are NaN.
        mix: the peer's bucket mix (also its allocation rule's targets).
        fee_bp: the peer's annual fees, bp.

    Returns:
        Series indexed by the calendar days from ``start`` to the end of ``market``.
    """
    rates = bucket_rates(market)
    start_ts = pd.Timestamp(start)
    peer = Portfolio.from_ladder(
        PEER_AUM_CNY, fee_bp, start_ts, rates.loc[:start_ts], mix, allocation=TargetMix(dict(mix))
    )
    days = rates.loc[start_ts:]
    records = days.to_dict("records")
    r10k = np.empty(len(days))
    for i, (day, day_rates) in enumerate(zip(days.index, records, strict=True)):
        r10k[i] = peer.step(day, 0.0, 0.0, day_rates).income_per_10k
    return pd.Series(yield_7d(r10k), index=days.index, name="benchmark_yield_7d")
