"""Regulatory limits of cash-management products that the engine enforces (DOMAIN.md).

These are the commonly cited numbers of the 2021 rules for cash-management wealth products
(money-market funds are similar); a bank should check the official text before relying on them.
Each number has this one home; the replay's world, the plan and the report read it from here.
"""

from __future__ import annotations

__all__ = [
    "CONCENTRATION_TIERS",
    "DEVIATION_ACTION_PCT",
    "DEVIATION_FAIR_VALUE_WORKDAYS",
    "DEVIATION_NEGATIVE_ACTION_PCT",
    "DEVIATION_RESTORE_WORKDAYS",
    "FLOOR_ASSET_BUCKETS",
    "LARGE_REDEMPTION_SHARE",
    "LIQUID_WORKDAYS",
    "MAX_LEVERAGE",
    "MAX_T0_REDEMPTION_CNY",
    "MAX_WAL_DAYS",
    "MAX_WAM_DAYS",
    "MIN_CASH_RATIO",
    "MIN_LIQUID_RATIO",
]

# Leverage: total assets ≤ 120 % of net assets, so pledged repo borrowing outstanding is at most
# (MAX_LEVERAGE − 1) × net assets.
MAX_LEVERAGE = 1.2
# Large redemption (巨额赎回): net redemptions of one day above this share of the units
# outstanding at the end of the day before; the manager may defer the excess.
LARGE_REDEMPTION_SHARE = 0.10

# Liquidity floors (DOMAIN.md "Regulation"): at least MIN_CASH_RATIO of net assets in cash,
# government bonds, central-bank bills and policy-bank bonds (FLOOR_ASSET_BUCKETS: of the buckets
# of rainmaker.assets only cash qualifies; overnight reverse repo does not), and at least
# MIN_LIQUID_RATIO including assets maturing within LIQUID_WORKDAYS trading (working) days.
# The optimizer's defaults (optimize/defaults.toml [liquidity], tested equal), the replay's
# portfolio, the none and rule policies, the stress test and the report read them from here.
MIN_CASH_RATIO = 0.05
MIN_LIQUID_RATIO = 0.10
LIQUID_WORKDAYS = 5
FLOOR_ASSET_BUCKETS: frozenset[str] = frozenset({"cash"})
# Weighted average maturity and weighted average life of the book, calendar days.
MAX_WAM_DAYS = 120
MAX_WAL_DAYS = 240
# Shadow pricing (影子定价): deviation = (market value − amortised cost) / net assets, percent.
# Negative beyond DEVIATION_NEGATIVE_ACTION_PCT: bring it back within 5 trading days; beyond
# DEVIATION_ACTION_PCT either way: positive stops subscriptions, negative is covered from the
# risk reserve (two trading days running: fair value or wind up).
DEVIATION_NEGATIVE_ACTION_PCT = 0.25
DEVIATION_ACTION_PCT = 0.5
# ... and the trading days these actions allow (DOMAIN.md lines 54-57): a deviation beyond a
# threshold is brought back within DEVIATION_RESTORE_WORKDAYS; a negative one beyond
# DEVIATION_ACTION_PCT for DEVIATION_FAIR_VALUE_WORKDAYS running moves the product to fair value
# or winds it up. The engine does not count these days; the report's wording quotes them.
DEVIATION_RESTORE_WORKDAYS = 5
DEVIATION_FAIR_VALUE_WORKDAYS = 2
# T+0 fast redemption: at most this much per investor per day, CNY.
MAX_T0_REDEMPTION_CNY = 10_000.0
# Holder concentration (top-10 holders' share of units above the threshold): tighter WAM (days),
# WAL (days) and 5-day liquidity (share of net assets), loosest tier first.
CONCENTRATION_TIERS: tuple[tuple[float, float, float, float], ...] = (
    (0.20, 90.0, 180.0, 0.20),
    (0.50, 60.0, 120.0, 0.30),
)
