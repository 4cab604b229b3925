"""Settings of the optimizer: horizon, liquidity rules, integer structure, exposure, objective
weights, elastic penalties and solver options.

The defaults live in ``optimize/defaults.toml`` (read with :mod:`tomllib`), one table per
section; :func:`load_settings` overlays a user TOML file and then a mapping of overrides (for
example the ``[weights]`` of the daily job's configuration) on top of them. Every key is checked:
an unknown key, a wrong type or a value out of range raises :class:`~rainmaker.errors.UsageError`
naming the source and the key, because a typo in a scheduled job's settings must not be silently
ignored. :class:`PlanSettings` is immutable; :meth:`PlanSettings.with_overrides` returns a
changed copy.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rainmaker.assets import BUCKETS
from rainmaker.errors import UsageError
from rainmaker.investment_mix import DEFAULT_MIX
from rainmaker.regulation import (
    DEVIATION_NEGATIVE_ACTION_PCT,
    LIQUID_WORKDAYS,
    MAX_LEVERAGE,
    MIN_CASH_RATIO,
    MIN_LIQUID_RATIO,
)

__all__ = [
    "DEFAULTS_FILE",
    "MAX_HORIZON_DAYS",
    "MIN_CONFIDENCE",
    "WINDOWS",
    "ExposureSettings",
    "HorizonSettings",
    "LiquiditySettings",
    "Penalties",
    "PlanSettings",
    "PurchaseSettings",
    "QuotaSettings",
    "RegimeSettings",
    "SolverSettings",
    "TargetSettings",
    "Weights",
    "load_settings",
]

DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")
MAX_HORIZON_DAYS = 60
# The buffer may be sized at a higher confidence than p90, never a lower one (issue contract).
MIN_CONFIDENCE = 0.90
BACKENDS = ("auto", "highspy", "pyomo")
# What the redemption buffer is sized on: one day's redemptions or the liquid window's.
WINDOWS = ("day", "5d")


def _require(ok: bool, key: str, expected: str) -> None:
    if not ok:
        raise UsageError(f"optimizer setting {key}: expected {expected}")


@dataclass(frozen=True)
class HorizonSettings:
    """Attributes:
    days: days planned after the as-of day (1 to 60).
    """

    days: int = 14

    def __post_init__(self) -> None:
        _require(1 <= self.days <= MAX_HORIZON_DAYS, "horizon.days", "1 to 60 days")


@dataclass(frozen=True)
class LiquiditySettings:
    """Attributes:
    confidence: quantile of each day's redemptions the buffer must cover (0.90 to 0.999).
    min_liquid_ratio: floor of cash plus assets maturing within ``liquid_workdays`` working
        days, share of AUM (regulation: 0.10); products.csv ``min_liquid_ratio`` overrides it.
    min_cash_ratio: floor of cash-like assets, share of AUM (regulation: 0.05); products.csv
        ``min_cash_ratio`` overrides it.
    max_wam_days: cap on the weighted average maturity, days (regulation: 120); products.csv
        ``max_wam_days`` overrides it.
    liquid_workdays: working days within which a maturing asset counts as liquid.
    window: what the redemption buffer (E15) is sized on. ``"day"``: the quantile of the
        day's redemptions; ``"5d"``: the quantile of the redemptions summed over the
        ``liquid_workdays`` working days after the day (the calendar days up to the last of
        them), from the forecast's sample paths, and never below the day's quantile — the
        buffer is the stock that pays the next 5 trading days' redemptions
        (docs/optimize.md, "Sizing the buffer").
    ladder_days: the maturity ladder's window, calendar days (E26).
    min_ladder_ratio: floor of cash plus assets maturing within ``ladder_days`` days, share of
        AUM (E26): what a redemption wave longer than the horizon is paid from.
    managed_floor: the plan keeps at least this multiple of what the product's managed book
        (its investment mix held as a steady ladder) holds liquid within 5 working days (E16)
        and in cash over the days off right after the first day (E27); 0 = off. The plan may
        invest the rest longer, never with less liquidity than the product's own management,
        so a redemption run finds it no weaker than doing nothing.
    managed_overnight_floor: ... at least this multiple of its cash and overnight repo on hand
        on the next working day (E27); 0 = off.
    managed_ladder_floor: ... at least this multiple of its share maturing within
        ``ladder_days`` (E26); 0 = off.
    ladder_lookback_days: ... and never below the largest net outflow over ``ladder_days``
        days seen in this many days of the product's history, share of AUM (0 = off): a
        product whose holders once took 40 % in a month keeps 40 % maturing within a month.
    next_days_confidence: quantile of the cumulative net redemptions through the next working
        day that what today leaves in cash and overnight repo must pay (E27): no later plan can
        change those days, so they are sized above ``confidence`` (at least it).
    needs_margin: multiple of the forecast's redemptions counted in the cumulative needs
        (E27): redemptions drift with AUM between the morning's plan and the days they fall on.
    stress_multiple: through the next working day the needs (E27) are at least this multiple
        of the mean daily redemptions of the last ``stress_lookback_days`` days, for each
        day: a forecast's tail misses the odd weekend on which a product loses twice its
        usual money.
    stress_lookback_days: days of known redemptions the stress floor averages.
    credit_days_off: in calm (not in defence) the subscriptions of days off are credited
        against their redemptions (E24, E27), as they settle: money subscribed on a holiday
        pays the holiday's redemptions. In the sample's history the net outflow over a long
        holiday never passed 1.8 × a day's mean redemptions while the gross reached 4.9 ×, so
        counting the gross held a quarter of AUM idle over Spring Festival. In defence (a run
        dries subscriptions up) the days off stay paid from cash alone. false = never credit.
    shock_bp: the parallel rise of the curve the shadow-price deviation is tested under (E29),
        bp.
    max_shock_deviation_pct: the plan keeps the deviation (market − amortised cost) / net
        assets that a ``shock_bp`` rise would leave at or above minus this, percent (E29):
        0.25 is the line where DOMAIN.md asks for action; 0 = off.
    max_leverage: total assets / net assets the plan's pledged repo borrowing may reach (E28):
        1 turns borrowing off; at most the regulatory cap
        (:data:`rainmaker.regulation.MAX_LEVERAGE`, 1.2).
    """

    confidence: float = 0.95
    min_liquid_ratio: float = MIN_LIQUID_RATIO
    min_cash_ratio: float = MIN_CASH_RATIO
    max_wam_days: float = 120.0
    liquid_workdays: int = LIQUID_WORKDAYS
    window: str = "5d"
    ladder_days: int = 30
    min_ladder_ratio: float = 0.30
    ladder_lookback_days: int = 365
    managed_floor: float = 1.0
    managed_overnight_floor: float = 0.9
    managed_ladder_floor: float = 0.9
    next_days_confidence: float = 0.99
    needs_margin: float = 1.05
    stress_multiple: float = 1.5
    stress_lookback_days: int = 28
    credit_days_off: bool = True
    max_leverage: float = MAX_LEVERAGE
    shock_bp: float = 100.0
    max_shock_deviation_pct: float = DEVIATION_NEGATIVE_ACTION_PCT

    def __post_init__(self) -> None:
        _require(self.window in WINDOWS, "liquidity.window", "'day' or '5d'")
        _require(
            self.confidence <= self.next_days_confidence < 1.0,
            "liquidity.next_days_confidence",
            "a probability from liquidity.confidence up to but excluding 1",
        )
        _require(1.0 <= self.needs_margin <= 3.0, "liquidity.needs_margin", "1 to 3")
        _require(0.0 <= self.stress_multiple <= 10.0, "liquidity.stress_multiple", "0 to 10")
        _require(
            1 <= self.stress_lookback_days <= 366, "liquidity.stress_lookback_days", "1 to 366"
        )
        _require(
            MIN_CONFIDENCE <= self.confidence < 1.0,
            "liquidity.confidence",
            f"a probability from {MIN_CONFIDENCE} (p90) up to but excluding 1",
        )
        _require(0 <= self.min_liquid_ratio <= 1, "liquidity.min_liquid_ratio", "0 to 1")
        _require(0 <= self.min_cash_ratio <= 1, "liquidity.min_cash_ratio", "0 to 1")
        _require(self.max_wam_days > 0, "liquidity.max_wam_days", "a number of days > 0")
        _require(1 <= self.liquid_workdays <= 20, "liquidity.liquid_workdays", "1 to 20")
        _require(1 <= self.ladder_days <= 366, "liquidity.ladder_days", "1 to 366 days")
        _require(0 <= self.min_ladder_ratio <= 1, "liquidity.min_ladder_ratio", "0 to 1")
        for name in ("managed_floor", "managed_overnight_floor", "managed_ladder_floor"):
            _require(0 <= getattr(self, name) <= 2, f"liquidity.{name}", "0 (off) to 2")
        _require(0 < self.shock_bp <= 1000, "liquidity.shock_bp", "1 to 1000 bp")
        _require(
            0 <= self.max_shock_deviation_pct <= 5,
            "liquidity.max_shock_deviation_pct",
            "0 (off) to 5 percent",
        )
        _require(
            1.0 <= self.max_leverage <= MAX_LEVERAGE,
            "liquidity.max_leverage",
            f"1 (no borrowing) to {MAX_LEVERAGE} (the regulatory cap)",
        )
        _require(
            0 <= self.ladder_lookback_days <= 3660,
            "liquidity.ladder_lookback_days",
            "0 (off) to 3660 days",
        )


@dataclass(frozen=True)
class RegimeSettings:
    """When a product plans in defence, and what defence means (:mod:`optimize.regime`).

    Attributes:
    enabled: read the redemption regime (false: every product is always calm).
    pressure_days: the own-pressure signal sums the redemptions of this many days, as a share
        of AUM ...
    lookback_days: ... and scores them against the same statistic over this many days before.
    enter_z: a robust z-score at or above this ...
    persist_days: ... on this many days running puts the product into defence.
    exit_z: a day counts as calm when no signal fires and z is below this.
    calm_days: calm days in a row after which defence ends.
    peer_share: a run at this share of the data set's products (z over ``peer_days`` days
        >= enter_z) ...
    peer_z: ... puts every product whose own z over those days is at least this into defence.
    peer_days: days the peers' signal takes the median over (1: a market-wide run shows at
        many products on the same day, and the plan of the next morning should see it).
    rate_rise_bp: 1-week Shibor's 5-day mean above its 60-day mean by this many bp puts
        every product into defence (a money-market squeeze).
    memory_days: days of signals replayed every morning to rebuild the state.
    max_tenor_days: in defence the plan buys no bucket with a longer tenor (days).
    min_ladder_ratio: in defence, floor of cash plus assets maturing within ``ladder_days``
        (E26), share of AUM (the larger of this and the calm floor).
    min_liquid_ratio: in defence, floor of cash plus assets maturing within 5 working days
        (E16), share of AUM (the larger of this and the product's floor).
    confidence: in defence, the quantile of the cumulative needs (E27) after the next working
        day and of the buffer (E15) (the larger of this and the calm one).
    """

    enabled: bool = True
    pressure_days: int = 5
    lookback_days: int = 120
    enter_z: float = 3.0
    persist_days: int = 2
    exit_z: float = 1.0
    calm_days: int = 5
    peer_share: float = 0.5
    peer_z: float = 1.5
    peer_days: int = 1
    rate_rise_bp: float = 50.0
    memory_days: int = 60
    max_tenor_days: int = 31
    min_ladder_ratio: float = 0.5
    min_liquid_ratio: float = 0.2
    confidence: float = 0.99

    def __post_init__(self) -> None:
        _require(1 <= self.pressure_days <= 30, "regime.pressure_days", "1 to 30 days")
        _require(20 <= self.lookback_days <= 730, "regime.lookback_days", "20 to 730 days")
        _require(self.enter_z > 0, "regime.enter_z", "a z-score > 0")
        _require(1 <= self.persist_days <= 10, "regime.persist_days", "1 to 10 days")
        _require(self.exit_z < self.enter_z, "regime.exit_z", "a z-score below enter_z")
        _require(1 <= self.calm_days <= 60, "regime.calm_days", "1 to 60 days")
        _require(0 < self.peer_share <= 1, "regime.peer_share", "a share in (0, 1]")
        _require(self.peer_z <= self.enter_z, "regime.peer_z", "a z-score up to enter_z")
        _require(1 <= self.peer_days <= 30, "regime.peer_days", "1 to 30 days")
        _require(self.rate_rise_bp > 0, "regime.rate_rise_bp", "bp > 0")
        _require(
            self.calm_days < self.memory_days <= 366, "regime.memory_days", "calm_days+1 to 366"
        )
        _require(self.max_tenor_days >= 1, "regime.max_tenor_days", "days >= 1")
        _require(0 <= self.min_ladder_ratio <= 1, "regime.min_ladder_ratio", "0 to 1")
        _require(0 <= self.min_liquid_ratio <= 1, "regime.min_liquid_ratio", "0 to 1")
        _require(
            MIN_CONFIDENCE <= self.confidence < 1.0,
            "regime.confidence",
            f"a probability from {MIN_CONFIDENCE} up to but excluding 1",
        )


@dataclass(frozen=True)
class QuotaSettings:
    """Attributes:
    lot_share: quota lot as a share of the product's mean daily forecast demand (the lot is
        rounded down to a 1-2-5 number of CNY).
    min_run_days: minimum number of consecutive days subscriptions stay open, or closed.
    """

    lot_share: float = 0.10
    min_run_days: int = 2

    def __post_init__(self) -> None:
        _require(0 < self.lot_share <= 1, "quota.lot_share", "a share in (0, 1]")
        _require(1 <= self.min_run_days <= 10, "quota.min_run_days", "1 to 10 days")


@dataclass(frozen=True)
class PurchaseSettings:
    """Attributes:
    lot_share: purchase lot as a share of today's AUM (rounded down to a 1-2-5 number of CNY).
    integer: buy whole lots (a MILP); ``False`` buys continuous amounts.
    buckets: names of the asset buckets the plan may buy (cash is always held).
    """

    lot_share: float = 0.002
    integer: bool = True
    buckets: tuple[str, ...] = ("repo_1d", "repo_7d", "ncd_1m", "ncd_3m", "ncd_6m")

    def __post_init__(self) -> None:
        _require(0 < self.lot_share <= 0.5, "purchases.lot_share", "a share in (0, 0.5]")
        known = [b.name for b in BUCKETS if b.tenor_days > 0]
        _require(
            len(self.buckets) == len(set(self.buckets)) and set(self.buckets) <= set(known),
            "purchases.buckets",
            f"distinct names among {', '.join(known)}",
        )


@dataclass(frozen=True)
class ExposureSettings:
    """Attributes:
    enabled: reallocate the daily marketing exposure budget across products.
    slots_per_product: the slot size is the mean baseline exposure divided by this.
    max_multiple: a product may get at most this multiple of its largest baseline exposure.
    max_slots: and at most this many slots a day.
    budget_factor: the day's budget is this multiple of the day's total baseline exposure.
    """

    enabled: bool = True
    slots_per_product: int = 3
    max_multiple: float = 2.0
    max_slots: int = 6
    budget_factor: float = 1.0

    def __post_init__(self) -> None:
        _require(1 <= self.slots_per_product <= 50, "exposure.slots_per_product", "1 to 50")
        _require(self.max_multiple >= 1, "exposure.max_multiple", "a multiple >= 1")
        _require(1 <= self.max_slots <= 50, "exposure.max_slots", "1 to 50")
        _require(self.budget_factor >= 0, "exposure.budget_factor", "a factor >= 0")


@dataclass(frozen=True)
class TargetSettings:
    """Attributes:
    yield_time_constant_days: the target yield path moves from today's 7-day yield towards
        the goal with this time constant, days.
    goal_rate_days: the goal is the net yield of the product's managed book as it rolls: each
        bucket's rate averaged over its tenor and over at least this many days up to today
        (a steady ladder earns what it bought over its tenor; a rate spike of days is no place
        to steer the yield to); also the shortest span term carry (E25) is measured against.
    aum_band_pct: half-width of the AUM band around the target AUM, percent.
    """

    yield_time_constant_days: float = 10.0
    goal_rate_days: int = 30
    aum_band_pct: float = 10.0

    def __post_init__(self) -> None:
        _require(self.yield_time_constant_days > 0, "targets.yield_time_constant_days", "days > 0")
        _require(0 <= self.aum_band_pct <= 100, "targets.aum_band_pct", "0 to 100 percent")
        _require(1 <= self.goal_rate_days <= 180, "targets.goal_rate_days", "1 to 180 days")


@dataclass(frozen=True)
class Weights:
    """Objective weights, per bp·day (see docs/optimize.md, "Objective").

    Attributes:
        yield_deviation: per bp·day of net yield below the target path.
        yield_overshoot: per bp·day of net yield above the target path, for a product in
            defence (:mod:`optimize.regime`) ...
        yield_overshoot_calm: ... and for a calm one.
        income: reward per bp·day of net yield (a tie-break towards earning more).
        liquidity: reward per bp of reference AUM·day of liquidity buffer (a tie-break
            towards the more liquid of equally good plans).
        aum_band: per bp of reference AUM·day outside the AUM band.
        cash_drag: per bp·day of yield lost by holding cash instead of overnight repo.
        refused_demand: per bp of reference AUM of demand refused by a quota.
        term_value: reward per bp·day of carry a term purchase locks in over its whole life
            (its rate less overnight repo's, × its tenor), scaled by the share of the horizon
            still ahead of the purchase day (E25).
    """

    yield_deviation: float = 1.0
    yield_overshoot: float = 0.2
    yield_overshoot_calm: float = 0.2
    income: float = 0.1
    liquidity: float = 0.0001
    aum_band: float = 0.01
    cash_drag: float = 0.5
    refused_demand: float = 0.05
    term_value: float = 0.1

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            _require(math.isfinite(value) and value >= 0, f"weights.{f.name}", "a number >= 0")
        _require(
            self.income < min(self.yield_deviation, self.yield_overshoot, self.yield_overshoot_calm)
            or self.income == 0,
            "weights.income",
            "a reward smaller than yield_deviation and yield_overshoot (else it outweighs "
            "tracking the target)",
        )


@dataclass(frozen=True)
class Penalties:
    """Prices of the elastic slacks, per bp·day (see docs/optimize.md, "Always a plan").

    Attributes:
        overdraft: per bp of reference AUM of cash below zero (an early sale or borrowing).
        buffer: per bp of reference AUM of buffer below the redemption quantile.
        liquidity_floor: per bp of reference AUM of buffer below the liquidity floor.
        ladder: per bp of reference AUM of the maturity ladder below its floor (E26).
        needs: per bp of reference AUM of the cumulative liquidity needs left uncovered
            (E27), spread over the horizon's days (a CNY short on one day is short on every
            later day): dearer than the buffer, cheaper than an overdraft, so the plan never
            sells today to cover what may be needed later.
        cash_floor: per bp of reference AUM of cash-like assets below the cash floor.
        wam: per day of weighted average maturity above the cap.
        sales_plan: per bp of the period's requirement missed by a channel.
        deviation: per bp of reference AUM of shadow-price deviation under the shock beyond
            its limit (E29).
        borrowing: per bp of reference AUM of repo borrowing outstanding at the end of a day
            (E28), on top of its interest: small beside every liquidity slack, so the plan
            borrows before it leaves a need uncovered, and far above the carry a term purchase
            earns, so it never borrows to buy longer assets.
    """

    overdraft: float = 1000.0
    buffer: float = 100.0
    liquidity_floor: float = 100.0
    ladder: float = 100.0
    needs: float = 500.0
    cash_floor: float = 100.0
    wam: float = 10.0
    sales_plan: float = 1.0
    borrowing: float = 1.0
    deviation: float = 100.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            _require(math.isfinite(value) and value > 0, f"penalties.{f.name}", "a number > 0")


@dataclass(frozen=True)
class SolverSettings:
    """Attributes:
    backend: ``"highspy"`` (matrices handed to HiGHS directly), ``"pyomo"`` (the Pyomo
        model solved through ``appsi_highs``) or ``"auto"``.
    pyomo_max_columns: ``"auto"`` uses Pyomo up to this many columns, highspy above.
    time_limit_s: wall-clock limit of one MILP solve, seconds.
    mip_rel_gap: relative MIP gap at which the search stops.
    mip_abs_gap_per_product_day: absolute MIP gap at which the search also stops, bp·day per
        product and day of the horizon (the objective's units): a plan within it of the
        optimum is as good for every practical purpose.
    threads: HiGHS threads (fixed for determinism).
    random_seed: HiGHS random seed (fixed for determinism).
    mip_start: hand HiGHS the rounded LP relaxation (a feasible plan) to start from.
    search_max_integers: run HiGHS's branch and bound from the rounded plan (when that plan is
        not already within the gaps) only for models with at most this many integer
        variables; above it HiGHS's root node alone outlasts a daily plan's budget without
        improving on the rounding (docs/optimize.md, "Solving").
    decompose_above_products: above this many products the relaxation is solved product by
        product (:mod:`optimize.decompose`) and the rounded plan is the result.
    workers: threads solving product LPs side by side when decomposed (does not change
        results).
    explain: re-solve the LP with the yes/no decisions fixed and report shadow prices.
    """

    backend: str = "auto"
    pyomo_max_columns: int = 0
    time_limit_s: float = 10.0
    mip_rel_gap: float = 0.005
    mip_abs_gap_per_product_day: float = 0.25
    threads: int = 1
    random_seed: int = 12345
    mip_start: bool = True
    search_max_integers: int = 1000
    decompose_above_products: int = 30
    workers: int = 1
    explain: bool = True

    def __post_init__(self) -> None:
        _require(self.backend in BACKENDS, "solver.backend", "'auto', 'highspy' or 'pyomo'")
        _require(self.pyomo_max_columns >= 0, "solver.pyomo_max_columns", "an integer >= 0")
        _require(self.time_limit_s > 0, "solver.time_limit_s", "seconds > 0")
        _require(0 <= self.mip_rel_gap < 1, "solver.mip_rel_gap", "a gap in [0, 1)")
        _require(
            self.mip_abs_gap_per_product_day >= 0,
            "solver.mip_abs_gap_per_product_day",
            "a gap >= 0 (bp·day per product-day)",
        )
        _require(1 <= self.threads <= 64, "solver.threads", "1 to 64")
        _require(self.search_max_integers >= 0, "solver.search_max_integers", "an integer >= 0")
        _require(
            self.decompose_above_products >= 1, "solver.decompose_above_products", "an integer >= 1"
        )
        _require(1 <= self.workers <= 64, "solver.workers", "1 to 64")
        _require(0 <= self.random_seed < 2**31, "solver.random_seed", "0 to 2**31 - 1")


def _default_ladder() -> dict[str, float]:
    # the default managed book has one home (defaults.toml repeats it, tested equal)
    return dict(DEFAULT_MIX)


@dataclass(frozen=True)
class PlanSettings:
    """Everything that shapes a plan besides its inputs.

    Attributes:
        horizon, liquidity, regime, quota, purchases, exposure, targets, weights, penalties,
            solver: the sections of ``defaults.toml``.
        portfolio: default ladder, share of AUM per bucket name (sums to 1), used for products
            without rows in ``holdings.csv`` and for the target yield.
        source: the files the settings were read from (defaults first).
    """

    horizon: HorizonSettings = field(default_factory=HorizonSettings)
    liquidity: LiquiditySettings = field(default_factory=LiquiditySettings)
    regime: RegimeSettings = field(default_factory=RegimeSettings)
    quota: QuotaSettings = field(default_factory=QuotaSettings)
    purchases: PurchaseSettings = field(default_factory=PurchaseSettings)
    exposure: ExposureSettings = field(default_factory=ExposureSettings)
    targets: TargetSettings = field(default_factory=TargetSettings)
    weights: Weights = field(default_factory=Weights)
    penalties: Penalties = field(default_factory=Penalties)
    solver: SolverSettings = field(default_factory=SolverSettings)
    portfolio: Mapping[str, float] = field(default_factory=_default_ladder)
    source: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = {b.name for b in BUCKETS}
        ladder = dict(self.portfolio)
        _require(
            set(ladder) <= names and all(v >= 0 for v in ladder.values()),
            "portfolio",
            f"shares >= 0 of buckets among {', '.join(sorted(names))}",
        )
        _require(abs(sum(ladder.values()) - 1.0) < 1e-6, "portfolio", "shares that sum to 1")

    def with_overrides(
        self, overrides: Mapping[str, Any], source: str = "overrides"
    ) -> PlanSettings:
        """A copy with some keys changed, given as ``{"section": {"key": value}}``.

        Raises:
            UsageError: unknown section or key, wrong type or value out of range.
        """
        return _apply(self, overrides, source)


_SECTIONS: dict[str, type] = {
    "horizon": HorizonSettings,
    "liquidity": LiquiditySettings,
    "regime": RegimeSettings,
    "quota": QuotaSettings,
    "purchases": PurchaseSettings,
    "exposure": ExposureSettings,
    "targets": TargetSettings,
    "weights": Weights,
    "penalties": Penalties,
    "solver": SolverSettings,
}


def _coerce(value: Any, default: Any, where: str) -> Any:
    """Check ``value`` against the type of the default; ints are accepted for floats."""
    if isinstance(default, bool):
        _require(isinstance(value, bool), where, "true or false")
        return value
    if isinstance(default, int):
        _require(isinstance(value, int) and not isinstance(value, bool), where, "an integer")
        return value
    if isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        _require(ok and math.isfinite(float(value)), where, "a number")
        return float(value)
    if isinstance(default, str):
        _require(isinstance(value, str), where, "a string")
        return value
    if isinstance(default, tuple):
        _require(
            isinstance(value, list | tuple) and all(isinstance(v, str) for v in value),
            where,
            "a list of strings",
        )
        return tuple(value)
    raise TypeError(f"no coercion for {where}")  # pragma: no cover - a programming error


def _apply(settings: PlanSettings, raw: Mapping[str, Any], source: str) -> PlanSettings:
    changes: dict[str, Any] = {}
    for section, table in raw.items():
        where = f"{source}: [{section}]"
        if section == "portfolio":
            _require(isinstance(table, Mapping), where, "a table of bucket = share")
            ladder = {}
            for name, share in table.items():
                ladder[str(name)] = _coerce(share, 0.0, f"{where} {name}")
            changes["portfolio"] = ladder
            continue
        if section not in _SECTIONS:
            known = ", ".join([*_SECTIONS, "portfolio"])
            raise UsageError(f"{where}: unknown section; expected one of {known}")
        _require(isinstance(table, Mapping), where, "a table of key = value")
        current = getattr(settings, section)
        fields = {f.name: getattr(current, f.name) for f in dataclasses.fields(current)}
        updated = {}
        for key, value in table.items():
            if key not in fields:
                raise UsageError(
                    f"{where}: unknown key {key!r}; expected one of {', '.join(fields)}"
                )
            updated[key] = _coerce(value, fields[key], f"{where} {key}")
        try:
            changes[section] = dataclasses.replace(current, **updated)
        except UsageError as error:
            raise UsageError(f"{source}: {error}") from error
    changes["source"] = (*settings.source, source)
    try:
        return dataclasses.replace(settings, **changes)
    except UsageError as error:
        raise UsageError(f"{source}: {error}") from error


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UsageError(f"optimizer settings file {path} does not exist; expected a TOML file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML ({exc})") from exc


def load_settings(
    path: str | Path | None = None, overrides: Mapping[str, Any] | None = None
) -> PlanSettings:
    """The optimizer's settings: ``defaults.toml``, then a user file, then overrides.

    Args:
        path: a user TOML file with any subset of the sections and keys of ``defaults.toml``.
        overrides: ``{"section": {"key": value}}`` applied last (e.g. from the daily job's
            configuration).

    Returns:
        The validated settings.

    Raises:
        UsageError: missing or invalid file, unknown section or key, wrong type or range.
    """
    settings = _apply(PlanSettings(source=()), _read_toml(DEFAULTS_FILE), str(DEFAULTS_FILE))
    if path is not None:
        settings = _apply(settings, _read_toml(Path(path)), str(path))
    if overrides:
        settings = _apply(settings, overrides, "overrides")
    return settings
