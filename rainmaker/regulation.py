"""Regulatory limits of cash-management products that the engine enforces (DOMAIN.md).

These are the commonly cited numbers of the 2021 rules for cash-management wealth products
(money-market funds are similar); a bank should check the official text before relying on them.
Each number has this one home; the replay's world, the plan and the report read it from here.
"""

from __future__ import annotations

__all__ = [
    "LARGE_REDEMPTION_SHARE",
    "LIQUID_WORKDAYS",
    "MAX_LEVERAGE",
    "MIN_CASH_RATIO",
    "MIN_LIQUID_RATIO",
]

# Liquidity: cash plus assets maturing within LIQUID_WORKDAYS trading (working) days at least
# MIN_LIQUID_RATIO of net assets; cash-like assets (cash, overnight repo) at least MIN_CASH_RATIO.
# The optimizer's defaults (optimize/defaults.toml [liquidity], tested equal), the replay's
# portfolio, the none and rule policies and the report read them from here.
MIN_LIQUID_RATIO = 0.10
LIQUID_WORKDAYS = 5
MIN_CASH_RATIO = 0.05

# Leverage: total assets ≤ 120 % of net assets, so pledged repo borrowing outstanding is at most
# (MAX_LEVERAGE − 1) × net assets.
MAX_LEVERAGE = 1.2
# Large redemption (巨额赎回): net redemptions of one day above this share of the units
# outstanding at the end of the day before; the manager may defer the excess.
LARGE_REDEMPTION_SHARE = 0.10
