"""The optional holders table: the top-10 holders' share of each product's units.

``holders.csv`` (``date, product_id, top10_share``) says how concentrated a product's holders
are; above the thresholds of :data:`rainmaker.regulation.CONCENTRATION_TIERS` the rules tighten
WAM, WAL and the 5-day liquidity (:func:`rainmaker.rules.concentration_limits`). The stress
test reads it for the top-10 holders' scenario and the plan for its limits.

The share a product has on a day is its last row on or before that day, however old: a team may
update the table only at reporting dates, so a share weeks or months old is expected, not a fault.
:func:`latest_top10` keeps the row's date so that the plan's warning can say how old it is.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from rainmaker.dataset import Dataset
from rainmaker.errors import DataError, Problem, table_lines

__all__ = ["HOLDERS_TABLE", "HolderShare", "latest_top10", "top10_shares"]

HOLDERS_TABLE = "holders"


class HolderShare(NamedTuple):
    """One product's top-10 holders' share and the holders.csv row it comes from.

    Attributes:
        share: the top-10 holders' share of units, a fraction 0 ≤ x ≤ 1.
        date: the row's date (on or before the as-of day it was read for).
    """

    share: float
    date: pd.Timestamp

    def days_old(self, as_of: pd.Timestamp) -> int:
        """Calendar days from the row's date to ``as_of`` (0: a row of the as-of day)."""
        return int((pd.Timestamp(as_of).normalize() - self.date.normalize()).days)


def top10_shares(dataset: Dataset, as_of: pd.Timestamp) -> dict[str, float]:
    """The latest ``top10_share`` on or before ``as_of`` per product, from the optional
    ``holders.csv`` (``date, product_id, top10_share``; empty when the data set has none);
    :func:`latest_top10` without the rows' dates.

    Raises:
        DataError: as :func:`latest_top10`.
    """
    return {p: row.share for p, row in latest_top10(dataset, as_of).items()}


def latest_top10(dataset: Dataset, as_of: pd.Timestamp) -> dict[str, HolderShare]:
    """Per product, the last row of the optional ``holders.csv`` (``date, product_id,
    top10_share``) dated on or before ``as_of``, however old (empty when the data set has none).

    Raises:
        DataError: a missing column, a bad date, an unknown product, a share outside
            0 ≤ x ≤ 1 (1: the ten largest holders hold every unit) or two rows of a product
            on one day, with their lines.
    """
    table = dataset.tables.get(HOLDERS_TABLE)
    if table is None:
        return {}
    file = dataset.file_name(HOLDERS_TABLE)
    missing = [c for c in ("date", "product_id", "top10_share") if c not in table.columns]
    if missing:
        raise DataError(
            [
                Problem(file, c, "column is missing; expected date, product_id, top10_share")
                for c in missing
            ]
        )
    share = pd.to_numeric(table["top10_share"], errors="coerce")
    dates = pd.to_datetime(table["date"], errors="coerce")
    known = set(dataset.products["product_id"].astype(str))
    ids = table["product_id"].astype(str)
    twice = pd.DataFrame({"d": dates, "p": ids}).duplicated(keep=False) & dates.notna()
    problems = []
    for column, bad, expected in (
        ("date", dates.isna(), "expected an ISO date YYYY-MM-DD"),
        ("product_id", ~ids.isin(known), "unknown product"),
        ("top10_share", ~((share >= 0) & (share <= 1)), "expected a share 0 ≤ x ≤ 1"),
        ("date", twice, "duplicate (date, product_id); expected one share per product and day"),
    ):
        if bad.any():
            problems.append(Problem(file, column, expected, *table_lines(bad)))
    if problems:
        raise DataError(problems)
    frame = table.assign(date=dates, top10_share=share)
    frame = frame.loc[frame["date"] <= as_of].sort_values("date")
    last = frame.groupby(frame["product_id"].astype(str))[["top10_share", "date"]].last()
    return {
        str(k): HolderShare(float(row["top10_share"]), pd.Timestamp(row["date"]))
        for k, row in last.iterrows()
    }
