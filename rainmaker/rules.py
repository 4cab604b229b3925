"""The rules of DOMAIN.md ("Regulation") as checks on a product's book.

:func:`check_book` takes the figures of one book on one day (ratios in percent of net assets,
maturities in days) and returns one :class:`RuleCheck` per rule, each citing its line of
``DOMAIN.md``. The numbers come from :mod:`rainmaker.regulation` (their one home); products.csv
may tighten or loosen the two floors (``min_cash_ratio``, ``min_liquid_ratio``, SPEC §1) and
tighten the WAM cap (``max_wam_days``, a team extension: the lower of it and the regulation's).

Checked here: the 5 % floor on cash, government bonds, central-bank bills and policy-bank bonds
(overnight repo does not count), the 10 % floor including assets maturing within 5 trading days,
WAM ≤ 120 and WAL ≤ 240 days, leverage ≤ 120 %, the holder-concentration tiers (when the top-10
holders' share is known), the shadow-price deviation actions, and the T+0 fast-redemption cap
(``t0_limit`` of products.csv: the cap a product offers per investor per day, which the rules
limit to 10,000 CNY). Not checked (docs/stress.md says why): restricted assets, issuer and rating
limits and the amortised-cost scale cap — the books have no issuer, rating or restricted flag.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rainmaker.regulation import (
    CONCENTRATION_TIERS,
    DEVIATION_ACTION_PCT,
    DEVIATION_NEGATIVE_ACTION_PCT,
    MAX_LEVERAGE,
    MAX_T0_REDEMPTION_CNY,
    MAX_WAL_DAYS,
    MAX_WAM_DAYS,
    MIN_CASH_RATIO,
    MIN_LIQUID_RATIO,
)

__all__ = ["DOMAIN_LINES", "RuleCheck", "check_book", "concentration_limits"]

# The line of DOMAIN.md each rule is written on.
DOMAIN_LINES = {
    "cash_floor": 45,
    "liquid_floor": 46,
    "wam": 44,
    "wal": 44,
    "concentration": 47,
    "deviation": 54,
    "leverage": 58,
    "t0_limit": 64,
}
_EPS = 1e-9


@dataclass(frozen=True)
class RuleCheck:
    """One rule checked on one book.

    Attributes:
        rule: key of :data:`DOMAIN_LINES`.
        value: the book's figure (percent, days or CNY as ``unit`` says); NaN when unknown.
        limit: the limit it is held to.
        unit: ``pct``, ``days`` or ``cny``.
        ok: within the rule (True when the figure is unknown: nothing to break).
        domain_line: the line of DOMAIN.md.
        note: what the figure is or why it is not checked.
    """

    rule: str
    value: float
    limit: float
    unit: str
    ok: bool
    domain_line: int
    note: str = ""


def concentration_limits(top10_share: float) -> tuple[float, float, float]:
    """(max WAM days, max WAL days, min 5-day liquid share) for a top-10 holders' share
    (NaN: unknown, the untightened limits)."""
    wam, wal, liquid = float(MAX_WAM_DAYS), float(MAX_WAL_DAYS), MIN_LIQUID_RATIO
    for threshold, tier_wam, tier_wal, tier_liquid in CONCENTRATION_TIERS:
        if not math.isnan(top10_share) and top10_share > threshold:
            wam, wal, liquid = tier_wam, tier_wal, tier_liquid
    return wam, wal, liquid


def _at_least(rule: str, value: float, limit: float, unit: str, note: str = "") -> RuleCheck:
    ok = math.isnan(value) or value >= limit - _EPS
    return RuleCheck(rule, value, limit, unit, ok, DOMAIN_LINES[rule], note)


def _at_most(rule: str, value: float, limit: float, unit: str, note: str = "") -> RuleCheck:
    ok = math.isnan(value) or value <= limit + _EPS
    return RuleCheck(rule, value, limit, unit, ok, DOMAIN_LINES[rule], note)


def check_book(
    *,
    cash_ratio_pct: float,
    liquid_ratio_pct: float,
    wam_days: float,
    wal_days: float,
    leverage_pct: float,
    deviation_pct: float,
    t0_limit_cny: float = math.nan,
    top10_share: float = math.nan,
    min_cash_ratio: float = math.nan,
    min_liquid_ratio: float = math.nan,
    max_wam_days: float = math.nan,
) -> list[RuleCheck]:
    """Every rule of the module docstring on one book.

    Args:
        cash_ratio_pct: cash, government bonds, central-bank bills and policy-bank bonds,
            percent of net assets.
        liquid_ratio_pct: the same plus assets maturing within 5 trading days, percent.
        wam_days, wal_days: weighted average maturity and life, days.
        leverage_pct: total assets / net assets, percent.
        deviation_pct: shadow-price deviation, percent of net assets.
        t0_limit_cny: the product's T+0 cap per investor per day (NaN: none given).
        top10_share: top-10 holders' share of units (NaN: unknown).
        min_cash_ratio, min_liquid_ratio: products.csv overrides of the floors, fractions
            (NaN: the regulation's).
        max_wam_days: products.csv cap on WAM, days (NaN: none); the check holds the book to
            the lower of it and the regulation's (holder-concentration tiers included).
    """
    cash_floor = MIN_CASH_RATIO if math.isnan(min_cash_ratio) else min_cash_ratio
    max_wam, max_wal, tier_liquid = concentration_limits(top10_share)
    liquid_floor = MIN_LIQUID_RATIO if math.isnan(min_liquid_ratio) else min_liquid_ratio
    liquid_floor = max(liquid_floor, tier_liquid)
    tiered = "" if max_wal == MAX_WAL_DAYS else f"tightened: top-10 holders {top10_share:.0%}"
    wam_note = tiered
    # a product's own cap (products.csv, e.g. 60 days for a product sold to a few large
    # holders) binds where it is stricter than the law; it never loosens the law
    if not math.isnan(max_wam_days) and max_wam_days < max_wam:
        max_wam, wam_note = max_wam_days, "products.csv max_wam_days"
    checks = [
        _at_least("cash_floor", cash_ratio_pct, 100 * cash_floor, "pct", "overnight repo excluded"),
        _at_least("liquid_floor", liquid_ratio_pct, 100 * liquid_floor, "pct", tiered),
        _at_most("wam", wam_days, max_wam, "days", wam_note),
        _at_most("wal", wal_days, max_wal, "days", tiered),
        _at_most("leverage", leverage_pct, 100 * MAX_LEVERAGE, "pct"),
        RuleCheck(
            "deviation",
            deviation_pct,
            DEVIATION_NEGATIVE_ACTION_PCT if deviation_pct < 0 else DEVIATION_ACTION_PCT,
            "pct",
            math.isnan(deviation_pct)
            or -DEVIATION_NEGATIVE_ACTION_PCT + _EPS < deviation_pct < DEVIATION_ACTION_PCT - _EPS,
            DOMAIN_LINES["deviation"],
            "negative limit 0.25 %, positive 0.5 %",
        ),
        _at_most(
            "t0_limit",
            t0_limit_cny,
            MAX_T0_REDEMPTION_CNY,
            "cny",
            "not given in products.csv" if math.isnan(t0_limit_cny) else "per investor per day",
        ),
    ]
    if math.isnan(top10_share):
        checks.append(
            RuleCheck(
                "concentration", math.nan, 0.20, "share", True, 47, "no holders.csv: not known"
            )
        )
    else:
        checks.append(
            RuleCheck(
                "concentration", top10_share, 0.20, "share", True, 47, tiered or "not concentrated"
            )
        )
    return checks
