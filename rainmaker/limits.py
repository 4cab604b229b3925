"""The engine's own limits on what it is asked to plan (regulation: :mod:`rainmaker.regulation`).

Each number has this one home, below every stage: the optimizer's settings
(:mod:`optimize.settings`), the daily job's settings file (:mod:`rainmaker.app.config`) and the
command line check against it. No imports, so the command line reads it without loading pandas.
"""

from __future__ import annotations

__all__ = ["MAX_HORIZON_DAYS", "MAX_OBJECTIVE_PRICE", "MIN_CONFIDENCE"]

# The optimizer plans at most this many days after the as-of day (optimize's [horizon] days, the
# job's `horizon`, `rainmaker backtest --horizon`). The forecast alone may look further
# (forecast.MAX_HORIZON_DAYS, a year).
MAX_HORIZON_DAYS = 60
# The redemption buffer may be sized at a higher confidence than p90, never a lower one (issue
# contract): optimize's [liquidity] confidence and the job's `confidence`.
MIN_CONFIDENCE = 0.90
# The largest objective weight or slack penalty, per bp·day (optimize's [weights] and
# [penalties], the job's [weights]); the defaults are at most 1000. HiGHS reads a cost of 1e20
# as infinite and returned no plan (exit 1, the message blaming the data), and the model
# multiplies some weights by ~100 before the solver sees them.
MAX_OBJECTIVE_PRICE = 1e6
