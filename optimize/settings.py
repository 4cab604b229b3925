"""Settings of the optimizer: horizon, liquidity rules, integer structure, exposure, objective
weights, elastic penalties and solver options.

The defaults live in ``optimize/defaults.toml`` (read with :mod:`tomllib`), one table per
section; :func:`load_settings` overlays a user TOML file and then a mapping of overrides (for
example the ``[weights]`` of the daily job's configuration) on top of them. Each section is a
frozen dataclass whose fields declare their default and the values they accept
(:func:`rainmaker.settings_core.setting`); the one settings loader of rainmaker
(:func:`rainmaker.settings_core.read_settings`, shared with the daily job's file) checks every
key: an unknown key, a wrong type or a value out of range raises
:class:`~rainmaker.settings_core.SettingsError` (a :class:`~rainmaker.errors.UsageError`, exit
status 2) naming the source, the key path (``liquidity.confidence``) and what is expected,
because a typo in a scheduled job's settings must not be silently ignored. :class:`PlanSettings`
is immutable; :meth:`PlanSettings.with_overrides` returns a changed copy.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rainmaker.assets import BUCKETS
from rainmaker.errors import UsageError
from rainmaker.investment_mix import DEFAULT_MIX
from rainmaker.limits import MAX_HORIZON_DAYS, MAX_OBJECTIVE_PRICE, MIN_CONFIDENCE
from rainmaker.regulation import (
    DEVIATION_NEGATIVE_ACTION_PCT,
    LIQUID_WORKDAYS,
    MAX_LEVERAGE,
    MIN_CASH_RATIO,
    MIN_LIQUID_RATIO,
)
from rainmaker.settings_core import Settings, internal, require, setting, update_settings

__all__ = [
    "DEFAULTS_FILE",
    "MAX_HORIZON_DAYS",
    "MIN_CONFIDENCE",
    "WINDOWS",
    "ExposureSettings",
    "HorizonSettings",
    "LiquiditySettings",
    "MarketSettings",
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
BACKENDS = ("auto", "highspy", "pyomo")
# What the redemption buffer is sized on: one day's redemptions or the liquid window's.
WINDOWS = ("day", "5d")
_TERM_BUCKETS = tuple(b.name for b in BUCKETS if b.tenor_days > 0)  # what a plan may buy


def _within(low: float, high: float) -> Callable[[float], bool]:
    return lambda v: low <= v <= high


def _share(default: float, what: str = "a share from 0 to 1") -> Any:
    return setting(default, expected=what, check=_within(0, 1))


def _weight(default: float) -> Any:
    return setting(
        default,
        expected=f"a number from 0 to {MAX_OBJECTIVE_PRICE:g} (per bp·day)",
        check=_within(0, MAX_OBJECTIVE_PRICE),
    )


def _penalty(default: float) -> Any:
    return setting(
        default,
        expected=f"a number > 0, at most {MAX_OBJECTIVE_PRICE:g} (per bp·day)",
        check=lambda v: 0 < v <= MAX_OBJECTIVE_PRICE,
    )


def _probability(default: float) -> Any:
    return setting(
        default,
        expected=f"a probability from {MIN_CONFIDENCE} (p90) up to but excluding 1",
        check=lambda v: MIN_CONFIDENCE <= v < 1.0,
    )


@dataclass(frozen=True)
class HorizonSettings(Settings):
    """Attributes:
    days: days planned after the as-of day (1 to 60).
    """

    days: int = setting(
        14,
        expected=f"an integer from 1 to {MAX_HORIZON_DAYS} days",
        check=_within(1, MAX_HORIZON_DAYS),
    )


@dataclass(frozen=True)
class LiquiditySettings(Settings):
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
    days_off_lookback_days: the days off right after the plan's first day keep at least the
        largest net outflow of as many days off (after a working day) seen in this many days of
        the product's history, share of AUM on their eve (E27; 0 = off): a forecast's 0.99
        quantile of one weekend is passed about once in a hundred, and a product whose holders
        once took 8 % over a weekend keeps 8 % for the next.
    next_days_confidence: quantile of the cumulative net redemptions through the next working
        day that what today leaves in cash and overnight repo must pay (E27): no later plan can
        change those days, so they are sized above ``confidence`` (at least it).
    needs_margin: multiple of the forecast's redemptions counted in the cumulative needs
        (E27): redemptions drift with AUM between the morning's plan and the days they fall on.
    stress_multiple: through the next working day the needs (E27) are at least this multiple
        of the mean daily redemptions of the last ``stress_lookback_days`` days, for each
        day: a forecast's tail misses the odd weekend on which a product loses twice its
        usual money.
    stress_lookback_days: days of known redemptions the stress floor averages (in defence
        the mean of the last ``regime.pressure_days`` days or the last known day's
        redemptions when higher).
    stress_weekends_in_full: the days of an ordinary weekend (days off outside a public
        holiday's stretch) count in the stress floor as a full day of that mean; the days of
        a holiday's stretch count as the forecast's day shape says (a third of a day over
        National Day). The floor is there for what the forecast misses, and a weekend as
        heavy as the week is what it missed (docs/backtest.md). false: weekends too count as
        the forecast's day shape says.
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

    confidence: float = _probability(0.95)
    min_liquid_ratio: float = _share(MIN_LIQUID_RATIO)
    min_cash_ratio: float = _share(MIN_CASH_RATIO)
    max_wam_days: float = setting(120.0, expected="a number of days > 0", check=lambda v: v > 0)
    liquid_workdays: int = setting(
        LIQUID_WORKDAYS, expected="an integer from 1 to 20", check=_within(1, 20)
    )
    window: str = setting("5d", expected="'day' or '5d'", check=lambda v: v in WINDOWS)
    ladder_days: int = setting(30, expected="an integer from 1 to 366 days", check=_within(1, 366))
    min_ladder_ratio: float = _share(0.30)
    ladder_lookback_days: int = setting(
        365, expected="an integer from 0 (off) to 3660 days", check=_within(0, 3660)
    )
    days_off_lookback_days: int = setting(
        365, expected="an integer from 0 (off) to 3660 days", check=_within(0, 3660)
    )
    managed_floor: float = setting(1.0, expected="0 (off) to 2", check=_within(0, 2))
    managed_overnight_floor: float = setting(0.9, expected="0 (off) to 2", check=_within(0, 2))
    managed_ladder_floor: float = setting(0.9, expected="0 (off) to 2", check=_within(0, 2))
    next_days_confidence: float = _probability(0.99)
    needs_margin: float = setting(1.05, expected="a number from 1 to 3", check=_within(1, 3))
    stress_multiple: float = setting(1.5, expected="a number from 0 to 10", check=_within(0, 10))
    stress_lookback_days: int = setting(
        28, expected="an integer from 1 to 366 days", check=_within(1, 366)
    )
    stress_weekends_in_full: bool = True
    credit_days_off: bool = True
    max_leverage: float = setting(
        MAX_LEVERAGE,
        expected=f"1 (no borrowing) to {MAX_LEVERAGE} (the regulatory cap)",
        check=_within(1.0, MAX_LEVERAGE),
    )
    # what it says: from 1 bp (1e-300 passed a check of > 0 and the deviation's coefficients,
    # per bp of the shock, reached 1e303: no plan, exit 1)
    shock_bp: float = setting(100.0, expected="1 to 1000 bp", check=_within(1, 1000))
    max_shock_deviation_pct: float = setting(
        DEVIATION_NEGATIVE_ACTION_PCT, expected="0 (off) to 5 percent", check=_within(0, 5)
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            self.confidence <= self.next_days_confidence,
            "next_days_confidence",
            # said with confidence's value: a user who raised only that key meets this one
            f"a probability from liquidity.confidence ({self.confidence!r}) up to but "
            "excluding 1: the needs through the next working day are held at least as surely "
            "as the rest (to raise liquidity.confidence above it, set "
            "liquidity.next_days_confidence at least as high in the optimiser settings file)",
            self.next_days_confidence,
        )


@dataclass(frozen=True)
class RegimeSettings(Settings):
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
    peer_z: ... puts every product whose own z over those days is at least this into defence
        (0: every product redeeming at least its usual share that day; a run at half the
        market reaches the rest within days, and P07, at a one-day z under 1.5 on the first
        Thursday of the sample's November 2020 wave, went into its weekend in calm).
    peer_days: days the peers' signal takes the median over (1: a market-wide run shows at
        many products on the same day, and the plan of the next morning should see it).
    rate_rise_bp: 1-week Shibor's 5-day mean above its 60-day mean by this many bp puts
        every product into defence (a money-market squeeze); 0 (the default) switches this
        signal off: a rate spike without redemptions is no run, and the plan that defended
        through one stopped buying term at the spike's rates (docs/optimize.md, "Defence").
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
    pressure_days: int = setting(5, expected="an integer from 1 to 30 days", check=_within(1, 30))
    lookback_days: int = setting(
        120, expected="an integer from 20 to 730 days", check=_within(20, 730)
    )
    enter_z: float = setting(3.0, expected="a z-score > 0", check=lambda v: v > 0)
    persist_days: int = setting(2, expected="an integer from 1 to 10 days", check=_within(1, 10))
    exit_z: float = 1.0
    calm_days: int = setting(5, expected="an integer from 1 to 60 days", check=_within(1, 60))
    peer_share: float = setting(0.5, expected="a share in (0, 1]", check=lambda v: 0 < v <= 1)
    peer_z: float = 0.0
    peer_days: int = setting(1, expected="an integer from 1 to 30 days", check=_within(1, 30))
    rate_rise_bp: float = setting(0.0, expected="bp >= 0 (0 = off)", check=lambda v: v >= 0)
    memory_days: int = setting(60, expected="an integer up to 366 days", check=lambda v: v <= 366)
    max_tenor_days: int = setting(31, expected="an integer >= 1 (days)", check=lambda v: v >= 1)
    min_ladder_ratio: float = _share(0.5)
    min_liquid_ratio: float = _share(0.2)
    confidence: float = _probability(0.99)

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.exit_z < self.enter_z, "exit_z", "a z-score below enter_z", self.exit_z)
        require(self.peer_z <= self.enter_z, "peer_z", "a z-score up to enter_z", self.peer_z)
        require(
            self.calm_days < self.memory_days,
            "memory_days",
            "calm_days + 1 to 366 days",
            self.memory_days,
        )


@dataclass(frozen=True)
class QuotaSettings(Settings):
    """Attributes:
    lot_share: quota lot as a share of the product's mean daily forecast demand (the lot is
        rounded down to a 1-2-5 number of CNY), at least 0.001: a day's quota is a whole
        number of lots, and a lot of 1e-16 of a day's demand (1e16 lots a day) left the solver
        with coefficients it cannot work with (status 'Empty', exit 1).
    min_run_days: minimum number of consecutive days subscriptions stay open, or closed.
    """

    lot_share: float = setting(
        0.10, expected="a share from 0.001 to 1", check=lambda v: 0.001 <= v <= 1
    )
    min_run_days: int = setting(2, expected="an integer from 1 to 10 days", check=_within(1, 10))


@dataclass(frozen=True)
class PurchaseSettings(Settings):
    """Attributes:
    lot_share: purchase lot as a share of today's AUM (rounded down to a 1-2-5 number of CNY).
    integer: buy whole lots (a MILP); ``False`` buys continuous amounts.
    buckets: names of the asset buckets the plan may buy (cash is always held).
    within_book: buy no bucket longer than the longest the product's managed book holds (its
        investment mix, else the mix inferred from its published yields, else the default
        ladder): the plan times and sizes purchases, it does not lengthen the book beyond how
        the product is managed (a 6-month NCD in a book of at most 3 months' paper made the
        yield lag the market by months: docs/backtest.md, "The panel").
    max_wam_vs_book: the book's weighted average maturity (E19) stays at most this multiple of
        the managed book's held as a steady ladder (:func:`rainmaker.investment_mix.
        ladder_wam_days`), on top of the regulatory cap; 0 = off.
    """

    lot_share: float = setting(0.002, expected="a share in (0, 0.5]", check=lambda v: 0 < v <= 0.5)
    integer: bool = True
    buckets: tuple[str, ...] = setting(
        ("repo_1d", "repo_7d", "ncd_1m", "ncd_3m", "ncd_6m"),
        expected=f"a list of distinct names among {', '.join(_TERM_BUCKETS)}",
        check=lambda v: len(v) == len(set(v)) and set(v) <= set(_TERM_BUCKETS),
    )
    within_book: bool = True
    max_wam_vs_book: float = setting(
        0.0,
        expected="0 (off) or a multiple from 0.5 to 10",
        check=lambda v: v == 0 or 0.5 <= v <= 10,
    )


@dataclass(frozen=True)
class ExposureSettings(Settings):
    """Attributes:
    enabled: reallocate the daily marketing exposure budget across products.
    slots_per_product: the slot size is the mean baseline exposure divided by this.
    max_multiple: a product may get at most this multiple of its largest baseline exposure.
    max_slots: and at most this many slots a day.
    budget_factor: the day's budget is this multiple of the day's total baseline exposure.
    """

    enabled: bool = True
    slots_per_product: int = setting(3, expected="an integer from 1 to 50", check=_within(1, 50))
    max_multiple: float = setting(2.0, expected="a multiple >= 1", check=lambda v: v >= 1)
    max_slots: int = setting(6, expected="an integer from 1 to 50", check=_within(1, 50))
    # at most 100: far beyond what max_slots lets the products use, and a day's budget in slots
    # stays an int64 (1e300 was cast to -9.2e18 slots and the solve never ended)
    budget_factor: float = setting(1.0, expected="a factor from 0 to 100", check=_within(0, 100))


@dataclass(frozen=True)
class TargetSettings(Settings):
    """Attributes:
    yield_time_constant_days: the target yield path moves from today's 7-day yield towards
        the goal with this time constant, days.
    goal_rate_days: the goal is the net yield of the product's managed book as it rolls: each
        bucket's rate averaged over its tenor and over at least this many days up to today
        (a steady ladder earns what it bought over its tenor; a rate spike of days is no place
        to steer the yield to); also the shortest span term carry (E25) is measured against.
    aum_band_pct: half-width of the AUM band around the target AUM, percent.
    """

    yield_time_constant_days: float = setting(10.0, expected="days > 0", check=lambda v: v > 0)
    goal_rate_days: int = setting(
        30, expected="an integer from 1 to 180 days", check=_within(1, 180)
    )
    aum_band_pct: float = setting(10.0, expected="0 to 100 percent", check=_within(0, 100))


@dataclass(frozen=True)
class MarketSettings(Settings):
    """Attributes:
    forecast: price each planned day's purchases at the market forecast's median rate for that
        day (:mod:`forecast.market`: mean reversion and calendar seasonality of Shibor) and
        move the yield goal by what the forecast adds to the rolled book's rates; ``False``
        prices every day's purchases at today's rates (docs/optimize.md, "Market forecast").
    """

    forecast: bool = False


@dataclass(frozen=True)
class Weights(Settings):
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

    yield_deviation: float = _weight(1.0)
    yield_overshoot: float = _weight(0.2)
    yield_overshoot_calm: float = _weight(0.2)
    income: float = _weight(0.1)
    liquidity: float = _weight(0.0001)
    aum_band: float = _weight(0.01)
    cash_drag: float = _weight(0.5)
    refused_demand: float = _weight(0.05)
    term_value: float = _weight(0.1)

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            self.income < min(self.yield_deviation, self.yield_overshoot, self.yield_overshoot_calm)
            or self.income == 0,
            "income",
            "a reward smaller than yield_deviation and yield_overshoot (else it outweighs "
            "tracking the target)",
            self.income,
        )


@dataclass(frozen=True)
class Penalties(Settings):
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

    overdraft: float = _penalty(1000.0)
    buffer: float = _penalty(100.0)
    liquidity_floor: float = _penalty(100.0)
    ladder: float = _penalty(100.0)
    needs: float = _penalty(500.0)
    cash_floor: float = _penalty(100.0)
    wam: float = _penalty(10.0)
    sales_plan: float = _penalty(1.0)
    borrowing: float = _penalty(1.0)
    deviation: float = _penalty(100.0)


@dataclass(frozen=True)
class SolverSettings(Settings):
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

    backend: str = setting(
        "auto", expected="'auto', 'highspy' or 'pyomo'", check=lambda v: v in BACKENDS
    )
    pyomo_max_columns: int = setting(0, expected="an integer >= 0", check=lambda v: v >= 0)
    time_limit_s: float = setting(10.0, expected="seconds > 0", check=lambda v: v > 0)
    mip_rel_gap: float = setting(0.005, expected="a gap in [0, 1)", check=lambda v: 0 <= v < 1)
    mip_abs_gap_per_product_day: float = setting(
        0.25, expected="a gap >= 0 (bp·day per product-day)", check=lambda v: v >= 0
    )
    threads: int = setting(1, expected="an integer from 1 to 64", check=_within(1, 64))
    random_seed: int = setting(
        12345, expected="an integer from 0 to 2**31 - 1", check=lambda v: 0 <= v < 2**31
    )
    mip_start: bool = True
    search_max_integers: int = setting(1000, expected="an integer >= 0", check=lambda v: v >= 0)
    decompose_above_products: int = setting(30, expected="an integer >= 1", check=lambda v: v >= 1)
    workers: int = setting(1, expected="an integer from 1 to 64", check=_within(1, 64))
    explain: bool = True


def _default_ladder() -> dict[str, float]:
    # the default managed book has one home (defaults.toml repeats it, tested equal)
    return dict(DEFAULT_MIX)


_BUCKET_NAMES = sorted(b.name for b in BUCKETS)


@dataclass(frozen=True)
class PlanSettings(Settings):
    """Everything that shapes a plan besides its inputs.

    Attributes:
        horizon, liquidity, regime, quota, purchases, exposure, targets, market, weights,
            penalties, solver: the sections of ``defaults.toml``.
        portfolio: default ladder, share of AUM per bucket name (sums to 1), used for products
            without rows in ``holdings.csv`` and for the target yield. A file or overrides
            that set ``[portfolio]`` replace the whole ladder.
        source: the files the settings were read from (defaults first).
    """

    horizon: HorizonSettings = field(default_factory=HorizonSettings)
    liquidity: LiquiditySettings = field(default_factory=LiquiditySettings)
    regime: RegimeSettings = field(default_factory=RegimeSettings)
    quota: QuotaSettings = field(default_factory=QuotaSettings)
    purchases: PurchaseSettings = field(default_factory=PurchaseSettings)
    exposure: ExposureSettings = field(default_factory=ExposureSettings)
    targets: TargetSettings = field(default_factory=TargetSettings)
    market: MarketSettings = field(default_factory=MarketSettings)
    weights: Weights = field(default_factory=Weights)
    penalties: Penalties = field(default_factory=Penalties)
    solver: SolverSettings = field(default_factory=SolverSettings)
    portfolio: Mapping[str, float] = setting(
        expected=f"a table of bucket = share >= 0, buckets among {', '.join(_BUCKET_NAMES)}, "
        "shares that sum to 1",
        each=lambda v: v >= 0,
        check=lambda v: set(v) <= set(_BUCKET_NAMES) and abs(sum(v.values()) - 1.0) < 1e-6,
        default_factory=_default_ladder,
    )
    source: tuple[str, ...] = internal(())

    def with_overrides(
        self, overrides: Mapping[str, Any], source: str = "optimizer overrides"
    ) -> PlanSettings:
        """A copy with some keys changed, given as ``{"section": {"key": value}}``.

        Raises:
            UsageError: unknown section or key, wrong type or value out of range.
        """
        return _apply(self, overrides, source)


def _apply(settings: PlanSettings, raw: Mapping[str, Any], source: str) -> PlanSettings:
    """``raw``'s keys on top of ``settings`` (a table changes only the keys it names)."""
    extra = {"source": (*settings.source, source)}
    return update_settings(settings, raw, source=source, extra=extra)


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
        settings = _apply(settings, overrides, "optimizer overrides")
    return settings
