"""Each product's own investment rule: the ``investment_mix`` team table.

A team may add ``investment_mix.csv`` to a data set to say how each product's manager invests:
one row per product and asset bucket,

- ``product_id``;
- ``bucket``: a name of :data:`rainmaker.assets.BUCKETS` (``cash``, ``repo_1d``, ``repo_7d``,
  ``ncd_1m``, ``ncd_3m``);
- ``share``: the bucket's target share of net assets (a fraction; a product's shares sum to 1);
- ``max_daily_purchase_pct`` (optional): the most new money put into one term bucket in a day,
  percent of net assets (the same on every row of a product; default 2 %).

It is the rule of :class:`simulate.portfolio.TargetMix`: term buckets are topped up to their
share, longest first, at most ``max_daily_purchase_pct`` of AUM a day beyond rolling over what
matured; the cash share stays in cash and the rest is lent overnight. The sample generator
(:mod:`simulate.synthetic`) writes the rule each product was simulated with; the backtest
(:mod:`simulate.replay`) starts each product's portfolio from a ladder of its mix and lets the
``none`` and ``rule`` policies keep investing by it. Without the table every product gets
:data:`simulate.portfolio.DEFAULT_MIX`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rainmaker.assets import BUCKETS
from rainmaker.errors import DataError, Problem
from simulate.portfolio import DEFAULT_MIX, TargetMix

__all__ = [
    "DEFAULT_MAX_DAILY_PURCHASE_PCT",
    "SHARE_TOLERANCE",
    "TABLE",
    "ManagedMix",
    "investment_mix_frame",
    "read_investment_mix",
]

TABLE = "investment_mix"
# TargetMix's own default: a cap that a normal day's inflow (≈ 3 % of AUM) seldom reaches.
DEFAULT_MAX_DAILY_PURCHASE_PCT = TargetMix.max_daily_purchase_pct
SHARE_TOLERANCE = 1e-6  # |Σ shares − 1| accepted (shares are written to 4 decimals)
MAX_ROWS_SHOWN = 5


@dataclass(frozen=True)
class ManagedMix:
    """How one product's manager invests.

    Attributes:
        weights: target share of net assets per bucket name (fractions summing to 1).
        max_daily_purchase_pct: cap on one day's new money into one term bucket, percent of
            net assets.
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    max_daily_purchase_pct: float = DEFAULT_MAX_DAILY_PURCHASE_PCT

    def rule(self) -> TargetMix:
        """The :class:`~simulate.portfolio.TargetMix` that carries it out."""
        return TargetMix(dict(self.weights), max_daily_purchase_pct=self.max_daily_purchase_pct)


def investment_mix_frame(rules: Mapping[str, ManagedMix]) -> pd.DataFrame:
    """The ``investment_mix`` table of ``rules``: one row per product and bucket (every bucket of
    :data:`rainmaker.assets.BUCKETS`, in their order, zero shares included).

    Returns:
        Frame with ``product_id``, ``bucket``, ``share`` (fraction) and
        ``max_daily_purchase_pct`` (percent of AUM).
    """
    rows = [
        {
            "product_id": pid,
            "bucket": b.name,
            "share": float(rule.weights.get(b.name, 0.0)),
            "max_daily_purchase_pct": float(rule.max_daily_purchase_pct),
        }
        for pid, rule in rules.items()
        for b in BUCKETS
    ]
    return pd.DataFrame(rows, columns=["product_id", "bucket", "share", "max_daily_purchase_pct"])


def _lines(mask: np.ndarray) -> tuple[tuple[int, ...], int]:
    # the header is line 1, so row i of the table is line i + 2
    where = np.flatnonzero(mask)
    return tuple(int(i) + 2 for i in where[:MAX_ROWS_SHOWN]), len(where)


def read_investment_mix(
    tables: Mapping[str, pd.DataFrame], file: str = f"{TABLE}.csv"
) -> dict[str, ManagedMix]:
    """Every product's investment rule from a data set's ``investment_mix`` table.

    Args:
        tables: the data set's extra tables by file stem (``Dataset.tables``).
        file: the file name used in error messages.

    Returns:
        ``{product_id: ManagedMix}``; empty when there is no such table.

    Raises:
        DataError: a column is missing (``product_id``, ``bucket``, ``share``), a bucket is
            unknown or repeated for a product, a share is not a fraction in [0, 1], a product's
            shares do not sum to 1, or ``max_daily_purchase_pct`` is not a positive percentage
            (or differs between a product's rows).
    """
    table = tables.get(TABLE)
    if table is None:
        return {}
    missing = [c for c in ("product_id", "bucket", "share") if c not in table.columns]
    if missing:
        raise DataError(
            [
                Problem(
                    file,
                    c,
                    "column is missing; expected product_id, bucket, share "
                    "(and optionally max_daily_purchase_pct)",
                )
                for c in missing
            ]
        )
    frame = table.reset_index(drop=True)
    pid = frame["product_id"].astype(str).to_numpy()
    bucket = frame["bucket"].astype(str).str.strip().to_numpy()
    share = pd.to_numeric(frame["share"], errors="coerce").to_numpy(dtype=float)
    has_cap = "max_daily_purchase_pct" in frame.columns
    cap = (
        pd.to_numeric(frame["max_daily_purchase_pct"], errors="coerce").to_numpy(dtype=float)
        if has_cap
        else np.full(len(frame), DEFAULT_MAX_DAILY_PURCHASE_PCT)
    )
    problems: list[Problem] = []

    def flag(mask: np.ndarray, column: str, message: str) -> None:
        if mask.any():
            shown, n = _lines(mask)
            problems.append(Problem(file, column, message, shown, n))

    names = [b.name for b in BUCKETS]
    flag(~np.isin(bucket, names), "bucket", f"unknown bucket; expected one of {names}")
    flag(
        pd.DataFrame({"p": pid, "b": bucket}).duplicated().to_numpy(),
        "bucket",
        "bucket repeated for a product; expected one row per product and bucket",
    )
    flag(~((share >= 0) & (share <= 1)), "share", "expected a fraction of AUM in [0, 1]")
    flag(
        ~((cap > 0) & np.isfinite(cap)),
        "max_daily_purchase_pct",
        "expected a percentage of AUM > 0",
    )
    sums = pd.Series(np.nan_to_num(share)).groupby(pid).transform("sum").to_numpy()
    flag(
        np.abs(sums - 1.0) > SHARE_TOLERANCE,
        "share",
        "a product's shares must sum to 1 (fractions of AUM)",
    )
    caps = pd.Series(cap).groupby(pid).transform(lambda s: s.nunique(dropna=False)).to_numpy()
    flag(
        caps > 1,
        "max_daily_purchase_pct",
        "expected the same value on every row of a product",
    )
    if problems:
        raise DataError(problems)
    out: dict[str, ManagedMix] = {}
    for product in dict.fromkeys(pid):
        rows = pid == product
        weights = {b: float(s) for b, s in zip(bucket[rows], share[rows], strict=True) if s > 0}
        out[str(product)] = ManagedMix(weights, max_daily_purchase_pct=float(cap[rows][0]))
    return out
