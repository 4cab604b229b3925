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
``none`` and ``rule`` policies keep investing by it.

**Without the table** (a bank's data has flows and the published 7-day yield / 万份收益, not
its holdings) each product's mix is inferred from its published yields (:func:`infer_mix`):
on day t a steady ladder of a bucket of tenor n earns the mean of the bucket's purchase rate
over the n days before t (:func:`ladder_yields`); non-negative shares summing to 1 are fitted
(:func:`scipy.optimize.nnls`, the sum as a heavily weighted row) so that
``Σ share × ladder yield − fee`` matches the published net yield (万份收益 × 365 / 100, else the
7-day yield made simple and compared with the 7-day mean of the ladders) over the
:data:`INFER_LOOKBACK_DAYS` days before the replay's first day, with a small pull
(:data:`INFER_PRIOR_WEIGHT`) towards :data:`simulate.portfolio.DEFAULT_MIX` so that buckets
whose ladder yields move alike share the weight as the default does. Only data dated before
the replay's first day is read (no look-ahead). A product with fewer than
:data:`MIN_FIT_DAYS` days of published yields gets :data:`~simulate.portfolio.DEFAULT_MIX`.
The daily purchase cap is not identifiable from yields and stays the default.
On the sample without its table, the ``none`` replay of 2021-06-16..2022-06-15 (P01–P12, 60 days
of warm-up) publishes the sample's 7-day yield to within 1.85 bp on average (0.71 bp with the
table's true rules): ``benchmarks/inferred_mix_bench.py``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rainmaker.assets import BUCKETS, bucket
from rainmaker.errors import DataError, Problem, table_lines

__all__ = [
    "DEFAULT_MAX_DAILY_PURCHASE_PCT",
    "DEFAULT_MIX",
    "INFER_LOOKBACK_DAYS",
    "SHARE_TOLERANCE",
    "TABLE",
    "ManagedMix",
    "infer_mix",
    "inferred_mixes",
    "investment_mix_frame",
    "ladder_wam_days",
    "ladder_yields",
    "managed_mixes",
    "longest_tenor_days",
    "maturing_share",
    "read_investment_mix",
]

TABLE = "investment_mix"
# Target share of AUM per bucket of a product whose data set does not say: a 5 % cash buffer,
# a ladder of repo and NCDs bought at tenors of about 40 days on average (held as a steady
# ladder, a weighted average remaining maturity of about 21 days: ladder_wam_days), typical of
# a cash-management product.
DEFAULT_MIX: Mapping[str, float] = {
    "cash": 0.05,
    "repo_1d": 0.15,
    "repo_7d": 0.20,
    "ncd_1m": 0.25,
    "ncd_3m": 0.35,
}
# The most new money put into one term bucket in a day, percent of AUM: a cap that a normal
# day's inflow (≈ 3 % of AUM) seldom reaches.
DEFAULT_MAX_DAILY_PURCHASE_PCT = 2.0
SHARE_TOLERANCE = 1e-6  # |Σ shares − 1| accepted (shares are written to 4 decimals)
DAYS_PER_YEAR = 365
# Inferring a book from published yields (infer_mix): the days of yields fitted (a 3-month
# ladder turns over once, and the rates move enough to tell the buckets apart), the fewest
# days a fit needs, the pull towards the default mix and the weight of the Σ shares = 1 row.
# Lookback and pull were chosen on the sample without its table (benchmarks/
# inferred_mix_bench.py, none replay, P01–P12): 90/120/180 days × pull 0/1e-4/1e-3 gave mean
# gaps of 1.71–2.53 bp in 2021-06-16..2022-06-15 and 5.0–7.3 bp in the year of the November 2020
# wave (3.7 bp there with the true rules); 120 days and 1e-3 are good in both.
INFER_LOOKBACK_DAYS = 120
MIN_FIT_DAYS = 30
INFER_PRIOR_WEIGHT = 1e-3
# The smallest share of a book, with everything longer, that says how far out it is managed
# (longest_tenor_days): below it an inferred mix's fitting noise.
BOOK_TAIL_SHARE = 0.05
SUM_WEIGHT = 1e3


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


def read_investment_mix(
    tables: Mapping[str, pd.DataFrame],
    file: str = f"{TABLE}.csv",
    known: Collection[str] | None = None,
) -> dict[str, ManagedMix]:
    """Every product's investment rule from a data set's ``investment_mix`` table.

    Args:
        tables: the data set's extra tables by file stem (``Dataset.tables``).
        file: the file name used in error messages.
        known: the data set's product ids; a row of another product is a problem (a typo
            or a stray space would otherwise leave the product on an inferred mix unseen).

    Returns:
        ``{product_id: ManagedMix}``; empty when there is no such table.

    Raises:
        DataError: a column is missing (``product_id``, ``bucket``, ``share``), a bucket is
            unknown or repeated for a product, a product is not in ``known``, a share is not a
            fraction in [0, 1], a product's
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
            shown, n = table_lines(mask)
            problems.append(Problem(file, column, message, shown, n))

    if known is not None:
        flag(
            ~np.isin(pid, [str(k) for k in known]),
            "product_id",
            "unknown product; expected a product_id of products.csv (spelling, spaces)",
        )
    names = [b.name for b in BUCKETS]
    flag(~np.isin(bucket, names), "bucket", f"unknown bucket; expected one of {', '.join(names)}")
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


# ----------------------------------------------------------------------------- inferred book


def ladder_yields(rates_pct: pd.DataFrame) -> pd.DataFrame:
    """Gross yield of a steady ladder of each bucket on each day, percent p.a.

    A bucket of tenor ``n`` days bought evenly every day holds on day ``t`` the lots bought on
    the ``n`` days before ``t``, so it earns the mean of its purchase rate over those days;
    cash earns the day's cash rate.

    Args:
        rates_pct: purchase rate per bucket on every calendar day
            (:func:`rainmaker.assets.bucket_rates` of the daily market), percent p.a.

    Returns:
        Frame like ``rates_pct``; a bucket's first ``n`` days are NaN.
    """
    out = {}
    for b in BUCKETS:
        if b.name not in rates_pct.columns:
            continue
        rate = rates_pct[b.name].astype(float)
        out[b.name] = rate if b.tenor_days == 0 else rate.rolling(b.tenor_days).mean().shift(1)
    return pd.DataFrame(out, index=rates_pct.index)


def _published_net_yield(rows: pd.DataFrame) -> tuple[pd.Series, bool]:
    """The product's published net yield per day as a simple annual rate, percent, and whether
    it is a daily figure (万份收益 × 365 / 100) or a 7-day one (七日年化 turned from compounded
    to simple: ((1 + Y/100)^(1/365) − 1) × 365 × 100)."""
    if "income_per_10k" in rows.columns:
        daily = pd.to_numeric(rows["income_per_10k"], errors="coerce") * DAYS_PER_YEAR / 100.0
        if daily.notna().sum() >= MIN_FIT_DAYS:
            return daily, True
    if "yield_7d" in rows.columns:
        y7 = pd.to_numeric(rows["yield_7d"], errors="coerce")
        return ((1.0 + y7 / 100.0) ** (1.0 / DAYS_PER_YEAR) - 1.0) * DAYS_PER_YEAR * 100.0, False
    return pd.Series(np.nan, index=rows.index), True


def infer_mix(
    rows: pd.DataFrame,
    fee_bp: float,
    rates_pct: pd.DataFrame,
    before: pd.Timestamp,
    *,
    lookback_days: int = INFER_LOOKBACK_DAYS,
    prior: Mapping[str, float] = DEFAULT_MIX,
    prior_weight: float = INFER_PRIOR_WEIGHT,
) -> ManagedMix | None:
    """A product's investment mix inferred from its published yields before ``before``.

    Fits non-negative bucket shares ``s`` summing to 1 so that the steady-ladder net yield
    ``Σ s_k × L_k(t) − fee`` (:func:`ladder_yields`, fee in percent) matches the published
    yield over the last ``lookback_days`` days before ``before`` (万份收益 annualised where
    published, else the 7-day yield and the 7-day mean of the ladder yields), in the least
    squares sense, with a small pull ``prior_weight`` towards ``prior`` so that buckets whose
    ladder yields move alike share the weight as the prior does instead of at random.

    Args:
        rows: the product's flows rows (``date``, ``income_per_10k`` and/or ``yield_7d``).
        fee_bp: the product's annual fees, bp.
        rates_pct: bucket purchase rates on every calendar day up to at least the day before
            ``before``, percent p.a.
        before: the first day not to look at (the replay's first day): only rows and rates
            dated before it are used (no look-ahead).
        lookback_days: calendar days of published yields fitted.
        prior: the shares the fit is pulled towards (fractions summing to 1).
        prior_weight: strength of the pull, in squared percent of yield per unit of share
            squared (0 turns it off).

    Returns:
        The inferred :class:`ManagedMix` (default daily purchase cap), or ``None`` when fewer
        than :data:`MIN_FIT_DAYS` days have a published yield and the ladder yields.
    """
    from scipy.optimize import nnls

    first = before - pd.Timedelta(days=lookback_days)
    known = rows.loc[(rows["date"] >= first) & (rows["date"] < before)].set_index("date")
    target, daily = _published_net_yield(known)
    ladders = ladder_yields(rates_pct.loc[: before - pd.Timedelta(days=1)])
    names = [b.name for b in BUCKETS if b.name in ladders.columns]
    design = ladders[names].reindex(target.index)
    if not daily:  # a 7-day yield averages the seven days' income
        design = ladders[names].rolling(7).mean().reindex(target.index)
    gross = target + fee_bp / 100.0
    usable = gross.notna() & design.notna().all(axis=1)
    if usable.sum() < MIN_FIT_DAYS:
        return None
    a = design.loc[usable].to_numpy(dtype=float)
    b = gross.loc[usable].to_numpy(dtype=float)
    n = len(b)
    # Σ s = 1 as a heavily weighted row; the prior as rows √λ·I = √λ·s0, scaled by the days so
    # that its pull does not depend on the lookback
    s0 = np.array([float(prior.get(name, 0.0)) for name in names])
    rows_prior = math.sqrt(prior_weight * n)
    a_aug = np.vstack([a, SUM_WEIGHT * np.ones(len(names)), rows_prior * np.eye(len(names))])
    b_aug = np.concatenate([b, [SUM_WEIGHT], rows_prior * s0])
    shares, _ = nnls(a_aug, b_aug)
    total = shares.sum()
    if not total > 0:
        return None
    shares = shares / total
    # four decimals, as the investment_mix table writes them; rounding off goes to cash
    rounded = {name: round(float(s), 4) for name, s in zip(names, shares, strict=True)}
    rounded["cash"] = round(rounded.get("cash", 0.0) + 1.0 - sum(rounded.values()), 4)
    return ManagedMix({k: v for k, v in rounded.items() if v > 0})


def inferred_mixes(
    flows: pd.DataFrame,
    fee_bp: Mapping[str, float],
    rates_pct: pd.DataFrame,
    before: pd.Timestamp,
    product_ids: Sequence[str],
    default: ManagedMix | None = None,
    known: Collection[str] | None = None,
) -> dict[str, ManagedMix]:
    """:func:`infer_mix` of every product of ``product_ids``, falling back to ``default`` (the
    default :class:`ManagedMix`, :data:`DEFAULT_MIX`, when None) for a product without enough
    published yields before ``before``."""
    fallback = default if default is not None else ManagedMix()
    out: dict[str, ManagedMix] = {}
    by_product = {str(pid): rows for pid, rows in flows.groupby("product_id", sort=False)}
    for pid in product_ids:
        rows = by_product.get(pid)
        mix = infer_mix(rows, float(fee_bp[pid]), rates_pct, before) if rows is not None else None
        out[pid] = mix if mix is not None else fallback
    return out


def managed_mixes(
    tables: Mapping[str, pd.DataFrame],
    files: Mapping[str, str],
    flows: pd.DataFrame,
    fee_bp: Mapping[str, float],
    rates_pct: pd.DataFrame,
    before: pd.Timestamp,
    product_ids: Sequence[str],
    default: ManagedMix | None = None,
    known: Collection[str] | None = None,
) -> dict[str, ManagedMix]:
    """How each product is managed: its rows of the ``investment_mix`` table, else the mix
    inferred from its published yields before ``before`` (:func:`infer_mix`), else
    ``default`` (:data:`DEFAULT_MIX` when None).

    Args:
        tables, files: the data set's extra tables and their file names.
        flows: the flows rows (only those dated before ``before`` are read).
        fee_bp: annual fees per product, bp.
        rates_pct: bucket purchase rates per calendar day, percent p.a.
        before: the first day not looked at.
        product_ids: the products wanted.
        default: the mix of a product neither the table nor its yields tell about.
        known: the data set's product ids (:func:`read_investment_mix`).

    Raises:
        DataError: an invalid ``investment_mix`` table (:func:`read_investment_mix`).
    """
    table = read_investment_mix(tables, files.get(TABLE, f"{TABLE}.csv"), known)
    lacking = [pid for pid in product_ids if pid not in table]
    inferred = inferred_mixes(flows, fee_bp, rates_pct, before, lacking, default)
    return {pid: table[pid] if pid in table else inferred[pid] for pid in product_ids}


def maturing_share(weights: Mapping[str, float], days: float) -> float:
    """Share of AUM a steady ladder of ``weights`` gets back within ``days`` calendar days.

    A bucket of tenor ``n`` bought evenly every day returns ``min(1, days / n)`` of itself within
    ``days``; cash is always there. E.g. the default mix within 7 days (5 working days):
    0.05 + 0.15 + 0.20 + 0.25 × 7/30 + 0.35 × 7/91 ≈ 0.485.

    Args:
        weights: share of AUM per bucket name (fractions).
        days: the window, calendar days (≥ 0).
    """
    total = 0.0
    for name, share in weights.items():
        tenor = bucket(name).tenor_days
        total += float(share) * (1.0 if tenor <= days else days / tenor)
    return total


def ladder_wam_days(weights: Mapping[str, float]) -> float:
    """Weighted average maturity of a steady ladder of ``weights``, calendar days.

    A bucket of tenor ``n`` bought evenly every day holds lots with 1..n days left, (n + 1) / 2
    on average; cash counts 0 days (as in the plan's WAM row, E19). E.g. the default mix:
    0.15 × 1 + 0.20 × 4 + 0.25 × 15.5 + 0.35 × 46 ≈ 20.9 days.

    Args:
        weights: share of AUM per bucket name (fractions).
    """
    total = 0.0
    for name, share in weights.items():
        tenor = bucket(name).tenor_days
        if tenor > 0:
            total += float(share) * (tenor + 1) / 2.0
    return total


def longest_tenor_days(weights: Mapping[str, float], min_share: float = BOOK_TAIL_SHARE) -> int:
    """How far out the product is managed: the tenor of the longest bucket that, with every
    longer one, holds at least ``min_share`` of the book, calendar days (0 for cash alone).

    A tail below ``min_share`` is not how the book is run: a mix inferred from published
    yields (:func:`infer_mix`) spreads its fitting noise over buckets, 1-4 % in 6-month NCDs
    from one month to the next for products of the sample that hold none.

    Args:
        weights: share of AUM per bucket name (fractions summing to 1).
        min_share: the smallest tail that counts, fraction of the book.
    """
    tail = 0.0
    for name, share in sorted(weights.items(), key=lambda item: -bucket(item[0]).tenor_days):
        tail += float(share)
        if tail >= min_share:
            return bucket(name).tenor_days
    return 0
