"""Policies a backtest replays: what a manager decides each morning, behind one contract.

Every morning of a replay (:mod:`simulate.replay`) a policy sees a :class:`ReplayState` (the
data set as it was known at the end of the previous day, with the replayed days in place of the
historical ones, and every product's portfolio at the end of that day) and returns a
:class:`Decision`: one :class:`ProductDecision` per product with

- ``quota``: the cap on the day's accepted subscriptions, CNY (``inf`` = uncapped);
- ``buffer_target``: liquid assets (cash, pending subscriptions and assets maturing within 5
  trading days) to keep after the day's purchases, CNY;
- ``mix`` (target share of AUM per asset bucket) or ``purchases`` (CNY per term bucket): how the
  day's free cash is invested (see :class:`DecisionAllocation`);
- ``cash_target`` and ``keep_liquid``: cash kept uninvested, and the cash and overnight repo
  that must stay liquid at the end of the day (term purchases are cut to keep it);
- ``exposure``: the day's marketing exposure (NaN keeps what history shows).

The policies of SPEC §2, from doing nothing to perfect foresight:

- :class:`NoPolicy` (``none``): accept every subscription, keep investing as the product was
  managed (its own mix and daily purchase cap, :attr:`ReplayState.managed`) and keep a fixed
  buffer of 10 % of AUM (the regulatory liquidity floor);
- :class:`RulePolicy` (``rule``): a manager's heuristic, capping subscriptions on the business
  days before a holiday and sizing the buffer as a multiple of recent redemptions;
- ``optimizer`` and ``oracle`` (:mod:`simulate.planning_policies`): the forecast and the
  optimiser re-planned every day, without and with knowledge of the future.

A policy other than the oracle must decide from ``state.history`` and ``state.portfolios`` only;
the replay hands the full data set to policies whose :attr:`Policy.sees_future` is True.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from rainmaker.assets import BUCKETS
from rainmaker.china_calendar import Workdays, day_number
from rainmaker.investment_mix import ManagedMix
from rainmaker.regulation import MIN_LIQUID_RATIO
from rainmaker.response import ExposureResponse
from simulate.portfolio import DEFAULT_MIX, LIQUIDITY_DAYS, Portfolio, TargetMix

if TYPE_CHECKING:
    from rainmaker.dataset import Dataset

__all__ = [
    "TERM_BUCKETS",
    "Decision",
    "DecisionAllocation",
    "NoPolicy",
    "Policy",
    "ProductDecision",
    "ReplayState",
    "RulePolicy",
    "holdings_snapshot",
]

# The regulatory floor of cash and assets maturing within 5 trading days, share of net assets.
MIN_LIQUID_SHARE = MIN_LIQUID_RATIO
TERM_BUCKETS = tuple(b.name for b in BUCKETS if b.tenor_days > 1)


@dataclass(frozen=True)
class ProductDecision:
    """What a policy sets for one product on one day.

    Attributes:
        quota: cap on the day's accepted subscriptions, CNY; ``math.inf`` = no cap.
        buffer_target: liquid assets (cash, pending subscriptions, assets maturing within 5
            trading days) to keep after the day's purchases, CNY; term purchases that would
            leave less are cut back.
        mix: target share of AUM per bucket name for :class:`~simulate.portfolio.TargetMix`
            (``None`` = :data:`~simulate.portfolio.DEFAULT_MIX`); ignored when ``purchases``
            is given.
        purchases: CNY to buy per term bucket (tenor > 1 day) today; entries of other
            buckets are ignored (what is left above the cash target is lent overnight).
        cash_target: cash to keep uninvested at the end of the day, CNY (the rest of the free
            cash is lent overnight); ``None`` keeps ``mix["cash"]`` × AUM. Cash, unlike
            overnight repo bought before a day off, pays redemptions on the days off.
        keep_liquid: cash and overnight repo to hold at the end of the day, CNY (``None``: no
            such rule): a plan's liquid money, which term purchases never eat into (see
            :class:`DecisionAllocation`).
        exposure: the day's marketing exposure in the data set's unit; NaN keeps history's.
        max_daily_purchase_pct: with ``mix``, the most new money put into one term bucket
            today beyond rolling over its maturities, percent of AUM (``None``: the
            :class:`~simulate.portfolio.TargetMix` default).
        borrow: pledged repo borrowing the policy may take today to hold its cash target, CNY
            (a plan's ``repo_borrowing``, E28): on a working day, when money on hand after the
            day's purchases is below ``cash_target``, the world borrows the gap, at most this
            and within the leverage cap (:meth:`simulate.portfolio.Portfolio.step`); 0 = none,
            ``math.inf`` = as far as the leverage cap allows.
        surprise_above, expected_redemptions: the day's redemptions (CNY) above which the cash
            target no longer holds (default ``math.inf``: never; a plan's eve of days off sets
            its expectation), and what the policy expected of them (CNY); past it,
            :meth:`cash_to_hold` scales the cash target by how far they ran above the
            expectation.
        days_off_redemptions: the redemptions the policy expects over the days off right
            after today, CNY (0: none, or today is no eve of days off); what borrowing within
            the leverage cap leaves short of them (:meth:`cash_to_sell_for`) is raised by
            early sales at market value tonight: nothing else can pay the days off.
        defence: the policy reads a redemption run at this product (a plan's ``defence``,
            :mod:`optimize.regime`): then the days off's expected redemptions a sale may raise
            grow with the day's pace too, and tonight's cash is at least them
            (:meth:`cash_to_hold`, :meth:`cash_to_sell_for`).
    """

    quota: float = math.inf
    buffer_target: float = 0.0
    mix: Mapping[str, float] | None = None
    purchases: Mapping[str, float] | None = None
    cash_target: float | None = None
    keep_liquid: float | None = None
    exposure: float = math.nan
    max_daily_purchase_pct: float | None = None
    borrow: float = 0.0
    surprise_above: float = math.inf
    expected_redemptions: float = 0.0
    days_off_redemptions: float = 0.0
    defence: bool = False

    def __post_init__(self) -> None:
        if math.isnan(self.quota) or self.quota < 0:
            raise ValueError(f"quota must be >= 0 CNY or inf, got {self.quota!r}")
        if not (self.buffer_target >= 0 and math.isfinite(self.buffer_target)):
            raise ValueError(
                f"buffer_target must be a finite amount >= 0 CNY, got {self.buffer_target!r}"
            )
        if self.cash_target is not None and not (
            self.cash_target >= 0 and math.isfinite(self.cash_target)
        ):
            raise ValueError(
                f"cash_target must be a finite amount >= 0 CNY, got {self.cash_target!r}"
            )
        if self.keep_liquid is not None and not (
            self.keep_liquid >= 0 and math.isfinite(self.keep_liquid)
        ):
            raise ValueError(
                f"keep_liquid must be a finite amount >= 0 CNY, got {self.keep_liquid!r}"
            )
        if not self.borrow >= 0:  # NaN fails too
            raise ValueError(f"borrow must be an amount >= 0 CNY or inf, got {self.borrow!r}")
        if not math.isnan(self.exposure) and self.exposure < 0:
            raise ValueError(f"exposure must be >= 0 or NaN, got {self.exposure!r}")
        if self.max_daily_purchase_pct is not None and not self.max_daily_purchase_pct > 0:
            raise ValueError(
                f"max_daily_purchase_pct must be > 0 percent, got {self.max_daily_purchase_pct!r}"
            )
        if not self.surprise_above >= 0:
            raise ValueError(
                f"surprise_above must be an amount >= 0 CNY or inf, got {self.surprise_above!r}"
            )
        for name in ("expected_redemptions", "days_off_redemptions"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a finite amount >= 0 CNY, got {value!r}")

    def cash_to_hold(self, redemptions: float) -> float:
        """Cash to hold tonight once the day's redemptions (CNY) are known, CNY.

        The cash target, or, when the redemptions ran above ``surprise_above``, the cash
        target × redemptions / ``expected_redemptions``: a day heavier than the policy
        expected says the days after it will be too (a run persists), and the cash target
        was sized for the expected pace.

        In ``defence``, at least the days off's expected redemptions at the day's pace: a run
        dries up the days off's subscriptions (the plan counts none for them), and a plan never
        sells today for a need, so at the leverage cap its cash target is only what it holds
        without a sale (P09 of the sample drawn with seed 53, ``plateau45``, Friday
        2021-03-26: CNY 144 m held for a weekend the plan expected to ask 352 m; it asked 267 m
        and 80 m went unpaid).
        """
        pace = self._pace(redemptions)
        held = (self.cash_target or 0.0) * pace
        return max(held, self.days_off_redemptions * pace) if self.defence else held

    def cash_to_sell_for(self, redemptions: float) -> float:
        """Cash that early sales may raise tonight once borrowing is exhausted, CNY: the days
        off's expected redemptions, and never more than :meth:`cash_to_hold` (which nets the
        days off's subscriptions where the plan counts them, and which borrowing fills first,
        so that nothing is sold while the leverage cap has room).

        In calm, the plan's expectation, not the cash target's high quantile nor the day's
        pace: a sale is a shortfall for certain, an unpaid day off beyond the expectation only
        a chance (selling to the pace sold CNY 0.5 bn on a Friday of the sample's y2020 whose
        weekend the borrowed cash paid anyway). In ``defence`` the expectation grows with the
        day's pace, as tonight's cash does: in a run the days off follow the day's pace,
        and the morning's expectation, made before the day, is the run's lagging view (a run
        peaking on the eve of Dragon Boat 2020 left CNY 1.5 bn unpaid over the holiday with
        the leverage cap reached and the expectation sold; docs/backtest.md).
        """
        expected = self.days_off_redemptions * (self._pace(redemptions) if self.defence else 1.0)
        # in defence cash_to_hold is at least this: the plan's cash target does not cap it
        return min(expected, self.cash_to_hold(redemptions))

    def _pace(self, redemptions: float) -> float:
        """How far the day's redemptions ran above the expectation once past
        ``surprise_above`` (≥ 1), else 1."""
        if redemptions <= self.surprise_above or self.expected_redemptions <= 0:
            return 1.0
        return max(redemptions / self.expected_redemptions, 1.0)


@dataclass(frozen=True)
class Decision:
    """A policy's decisions for one day.

    Attributes:
        products: one decision per product replayed that day; a product left out gets
            ``ProductDecision()`` (no cap, no buffer beyond the mix, history's exposure).
    """

    products: Mapping[str, ProductDecision] = field(default_factory=dict)

    def of(self, product_id: str) -> ProductDecision:
        """The decision of ``product_id`` (the default one when the policy gave none)."""
        return self.products.get(product_id, _DEFAULT_DECISION)


_DEFAULT_DECISION = ProductDecision()
_DEFAULT_MANAGED = ManagedMix()


class ReplayState:
    """What a policy may look at on the morning of ``day``.

    Attributes:
        day: the day being decided.
        product_ids: products replayed that day (their first flows day is on or before it).
        portfolios: each product's portfolio at the end of the previous day; read-only.
        workdays: the working-day calendar.
        future: the data set with every row (history beyond ``day``); ``None`` except for
            policies that see the future (the oracle).
        managed: each product's investment rule before the replay (its mix and daily purchase
            cap, :mod:`rainmaker.investment_mix`), which its starting portfolio was built from.
        world_response: the exposure response curve of every product in the replayed world
            (the one the replay moves demand with), found on first call; ``None`` except for
            policies that see the future (the oracle plans for the very world it will meet).
    """

    def __init__(
        self,
        day: pd.Timestamp,
        product_ids: tuple[str, ...],
        portfolios: Mapping[str, Portfolio],
        observed: Callable[[], Dataset],
        replayed: Callable[[], pd.DataFrame],
        workdays: Workdays,
        future: Dataset | None = None,
        managed: Mapping[str, ManagedMix] | None = None,
        world_response: Callable[[], Mapping[str, ExposureResponse]] | None = None,
    ) -> None:
        self.day = day
        self.world_response = world_response
        self.product_ids = product_ids
        self.portfolios = portfolios
        self.workdays = workdays
        self.future = future
        self.managed: Mapping[str, ManagedMix] = managed if managed is not None else {}
        self._observed = observed
        self._replayed = replayed

    @property
    def as_of(self) -> pd.Timestamp:
        """The last day whose information the policy may use (the day before :attr:`day`)."""
        return self.day - pd.Timedelta(days=1)

    @cached_property
    def history(self) -> Dataset:
        """The data set known at the end of :attr:`as_of`: historical rows before the replay,
        the replay's rows (accepted subscriptions, quotas, exposure, AUM, 万份收益, 7-day
        yield) from its first day."""
        return self._observed().up_to(self.as_of)

    @cached_property
    def holdings(self) -> pd.DataFrame:
        """The portfolios at the end of :attr:`as_of` as a ``holdings`` table (see
        :func:`holdings_snapshot`)."""
        return holdings_snapshot(self.portfolios, self.day)

    @property
    def borrowed(self) -> dict[str, float]:
        """Repo borrowing outstanding per product at the end of :attr:`as_of`, CNY."""
        return {pid: portfolio.borrowed for pid, portfolio in self.portfolios.items()}

    @cached_property
    def replayed(self) -> pd.DataFrame:
        """The replay's own rows before :attr:`day` (columns of ``daily.csv``, with shortfall
        and liquidity buffer)."""
        return self._replayed()

    def managed_of(self, product_id: str) -> ManagedMix:
        """The investment rule of ``product_id`` (the default mix when none is known)."""
        return self.managed.get(product_id, _DEFAULT_MANAGED)

    @cached_property
    def recent_flows(self) -> dict[str, pd.DataFrame]:
        """Per product, the known flows rows (date, subscriptions, redemptions, aum, ...)
        sorted by date, the last one dated :attr:`as_of`."""
        flows = self.history.flows
        return {str(pid): rows for pid, rows in flows.groupby("product_id", sort=False)}


def holdings_snapshot(portfolios: Mapping[str, Portfolio], day: pd.Timestamp) -> pd.DataFrame:
    """Every product's positions at the end of the day before ``day``, as a ``holdings`` table.

    The optimizer reads this table (``optimize.portfolio.read_holdings``, rows dated on its
    as-of day) instead of assuming a default ladder, so a re-plan starts from the replay's actual
    portfolio. Pending subscriptions are cash rows with their value date. Redemptions still
    owed (paid first on the next working day) are netted into the settled cash row, which may
    then be negative: the plan sees that money as already spent and plans to find it, instead
    of investing it. Repo borrowing outstanding is not netted: the plan carries it as a
    liability of its own (:attr:`ReplayState.borrowed`, ``make_plan(borrowed=...)``, E28), so
    that cash borrowed on Friday for the weekend is seen as cash on Saturday.

    Returns:
        Frame with ``date`` (the day before ``day``), ``product_id``, ``bucket``,
        ``amount_cny``, ``rate_pct`` (NaN for cash: the cash bucket's rate), ``value_date`` and
        ``maturity_date`` (NaT for cash).
    """
    as_of = day - pd.Timedelta(days=1)
    columns = ["date", "product_id", "bucket", "amount_cny", "rate_pct", "value_date"]
    if not portfolios:
        return pd.DataFrame(columns=[*columns, "maturity_date"])
    # One frame for every product, from the portfolios' arrays (a frame per product, then a
    # concat, cost more than the portfolios themselves).
    helds = [portfolio.positions() for portfolio in portfolios.values()]
    sizes = [len(held["amount"]) for held in helds]
    amounts = np.concatenate([held["amount"] for held in helds])
    # each product's first row is its settled cash (Portfolio.positions): net what it owes
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    owed = np.array([p.owed for p in portfolios.values()], dtype=float)
    amounts[starts] -= owed
    return pd.DataFrame(
        {
            "date": as_of,
            "product_id": np.repeat(np.asarray(list(portfolios), dtype=object), sizes),
            **{
                name: np.concatenate([held[name] for held in helds])
                for name in ("bucket", "rate_pct", "value_date", "maturity_date")
            },
            "amount_cny": amounts,
        },
        columns=[*columns, "maturity_date"],
    )


class Policy(ABC):
    """The contract of a backtest policy.

    Hyper-parameters are set in ``__init__`` and kept; :meth:`decide` is called once per day,
    in date order, and may keep state between days (a fitted model, the last plan).

    Attributes:
        name: the key used on the command line and in output files.
        sees_future: the replay hands it the full data set (only the oracle).
    """

    name: ClassVar[str] = ""
    sees_future: ClassVar[bool] = False

    @abstractmethod
    def decide(self, state: ReplayState, day: pd.Timestamp) -> Decision:
        """The decisions for ``day`` from what ``state`` shows (information up to the day
        before)."""

    def params(self) -> dict[str, object]:
        """Hyper-parameters, for the run record (MLflow parameters)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def timings(self) -> dict[str, float]:
        """Seconds spent deciding, by step, for the run record (empty when not measured)."""
        return {}

    def close(self) -> None:
        """Release what the policy started for its days (a worker process); called once,
        when the replay ends or fails. The default holds nothing."""
        return None


class NoPolicy(Policy):
    """``none``: accept every subscription; keep investing as the product was managed, with a
    fixed buffer.

    Args:
        buffer_share: liquid assets to keep, share of the previous day's AUM (default: the 10 %
            regulatory floor).
        mix: bucket shares of AUM for every product; ``None`` (default) keeps each product's own
            rule (:attr:`ReplayState.managed`: its mix and daily purchase cap, the
            :data:`~simulate.portfolio.DEFAULT_MIX` when the data set does not say).
    """

    name = "none"

    def __init__(
        self, buffer_share: float = MIN_LIQUID_SHARE, mix: Mapping[str, float] | None = None
    ) -> None:
        self.buffer_share = float(buffer_share)
        self.mix = dict(mix) if mix is not None else None

    def decide(self, state: ReplayState, day: pd.Timestamp) -> Decision:
        out = {}
        for pid in state.product_ids:
            mix, cap = _investment_rule(self.mix, state, pid)
            out[pid] = ProductDecision(
                buffer_target=self.buffer_share * state.portfolios[pid].aum,
                mix=mix,
                max_daily_purchase_pct=cap,
            )
        return Decision(out)


def _investment_rule(
    mix: Mapping[str, float] | None, state: ReplayState, product_id: str
) -> tuple[Mapping[str, float], float | None]:
    """The mix and daily purchase cap (percent of AUM) a policy invests ``product_id`` by: its
    own ``mix`` with TargetMix's default cap when set, else the product's managed rule."""
    if mix is not None:
        return mix, None
    managed = state.managed_of(product_id)
    return managed.weights, managed.max_daily_purchase_pct


class RulePolicy(Policy):
    """``rule``: what a careful manager does without a model.

    - Before a holiday stretch of at least ``min_holiday_days`` days, on its last
      ``pre_holiday_days`` business days, subscriptions are capped at ``cap_multiple`` × the
      median accepted subscriptions of the last ``lookback_days`` working days: the pre-holiday
      rush is money that would earn nothing over the holiday and leave right after.
    - The buffer is ``buffer_multiple`` × the redemptions of the worst ``LIQUIDITY_DAYS``
      consecutive days of the last ``lookback_days`` calendar days, and never below
      ``min_buffer_share`` of AUM.
    - On the last working day before days off, enough cash stays uninvested to pay
      ``cash_multiple`` × the mean daily redemptions of the last ``lookback_days`` days for
      each day off: overnight repo bought that day only matures on the next working day.
    - Everything else is invested as the product was managed (its own mix and daily purchase
      cap, :attr:`ReplayState.managed`), like ``none``.

    Args:
        cap_multiple: pre-holiday cap, multiple of the typical working day's subscriptions.
        pre_holiday_days: business days before a holiday that get the cap.
        min_holiday_days: shortest holiday stretch (calendar days) that triggers the cap.
        buffer_multiple: buffer, multiple of the worst recent 5-day redemptions.
        cash_multiple: cash kept before days off, multiple of the mean daily redemptions per
            day off.
        lookback_days: calendar days of history the rule looks at.
        min_buffer_share: floor of the buffer, share of AUM.
        mix: bucket shares of AUM for every product; ``None`` (default) keeps each product's
            own rule, as :class:`NoPolicy` does.
    """

    name = "rule"

    def __init__(
        self,
        cap_multiple: float = 1.0,
        pre_holiday_days: int = 2,
        min_holiday_days: int = 3,
        buffer_multiple: float = 1.0,
        cash_multiple: float = 1.5,
        lookback_days: int = 28,
        min_buffer_share: float = MIN_LIQUID_SHARE,
        mix: Mapping[str, float] | None = None,
    ) -> None:
        self.cap_multiple = float(cap_multiple)
        self.pre_holiday_days = int(pre_holiday_days)
        self.min_holiday_days = int(min_holiday_days)
        self.buffer_multiple = float(buffer_multiple)
        self.cash_multiple = float(cash_multiple)
        self.lookback_days = int(lookback_days)
        self.min_buffer_share = float(min_buffer_share)
        self.mix = dict(mix) if mix is not None else None

    def decide(self, state: ReplayState, day: pd.Timestamp) -> Decision:
        capped = self._before_long_holiday(state.workdays, day)
        today = day_number(day)
        days_off = (
            state.workdays.next_workday(today) - today - 1
            if state.workdays.is_workday(today)
            else 0
        )
        out: dict[str, ProductDecision] = {}
        for pid in state.product_ids:
            rows = state.recent_flows.get(pid)
            aum = state.portfolios[pid].aum
            mix, max_buy = _investment_rule(self.mix, state, pid)
            quota, buffer = math.inf, self.min_buffer_share * aum
            cash_keep = mix.get("cash", 0.0) * aum
            if rows is not None and len(rows):
                # flows rows are one per calendar day, so the tail is the lookback window
                recent = rows.iloc[-self.lookback_days :]
                redemptions = recent["redemptions"].to_numpy(dtype=float)
                window = min(LIQUIDITY_DAYS, len(redemptions))
                worst = np.convolve(redemptions, np.ones(window), mode="valid").max()
                buffer = max(buffer, self.buffer_multiple * float(worst))
                cash_keep = max(
                    cash_keep, self.cash_multiple * days_off * float(redemptions.mean())
                )
                if capped:
                    working = np.array(
                        [state.workdays.is_workday(day_number(d)) for d in recent["date"]],
                        dtype=bool,
                    )
                    typical = recent["subscriptions"].to_numpy(dtype=float)[working]
                    if len(typical):
                        quota = self.cap_multiple * float(np.median(typical))
            out[pid] = ProductDecision(
                quota=quota,
                buffer_target=min(buffer, aum),
                mix=mix,
                cash_target=min(cash_keep, aum),
                max_daily_purchase_pct=max_buy,
            )
        return Decision(out)

    def _before_long_holiday(self, workdays: Workdays, day: pd.Timestamp) -> bool:
        """``day`` is one of the last business days before a long enough holiday stretch."""
        today = day_number(day)
        if not workdays.is_workday(today):
            return False
        d = today
        for _ in range(self.pre_holiday_days):
            following = d + 1
            off = 0
            while not workdays.is_workday(following + off):
                off += 1
            if off >= self.min_holiday_days:
                return True
            d = workdays.next_workday(d)
        return False


class DecisionAllocation:
    """The portfolio's step-5 rule during a replay: carry out the day's decision.

    On a day off the interbank market is closed and nothing is bought. On a working day:

    1. term purchases: the decision's ``purchases`` when given, else what
       :class:`~simulate.portfolio.TargetMix` with the decision's ``mix`` and
       ``max_daily_purchase_pct`` wants;
    2. they are cut back (longest tenor first) so that liquid assets stay at or above the
       decision's ``buffer_target`` (term lots are counted as not liquid), cash stays at or
       above the cash target, and cash plus overnight repo at or above ``keep_liquid``;
    3. cash above the cash target (``cash_target``, else ``mix["cash"]`` × AUM) is lent
       overnight (``repo_1d``), so that a buffer is held in overnight repo rather than idle.

    Set :attr:`decision` before each :meth:`Portfolio.step`.
    """

    def __init__(self) -> None:
        self.decision: ProductDecision = _DEFAULT_DECISION

    def __call__(
        self, portfolio: Portfolio, date: pd.Timestamp, rates_pct: Mapping[str, float]
    ) -> dict[str, float]:
        today = day_number(date)
        if not portfolio.workdays.is_workday(today):
            return {}
        decision = self.decision
        mix = dict(decision.mix) if decision.mix is not None else dict(DEFAULT_MIX)
        aum = portfolio.aum
        cash = portfolio.bucket_amounts()["cash"]
        if decision.purchases is not None:
            term = {
                k: float(v) for k, v in decision.purchases.items() if k in TERM_BUCKETS and v > 0
            }
        else:
            rule = (
                TargetMix(mix)
                if decision.max_daily_purchase_pct is None
                else TargetMix(mix, max_daily_purchase_pct=decision.max_daily_purchase_pct)
            )
            wanted = rule(portfolio, date, rates_pct)
            term = {k: v for k, v in wanted.items() if k in TERM_BUCKETS and v > 0}
        cash_keep = (
            decision.cash_target if decision.cash_target is not None else mix.get("cash", 0.0) * aum
        )
        budget = portfolio.liquid_within(LIQUIDITY_DAYS) - decision.buffer_target
        if decision.keep_liquid is not None:
            budget = min(budget, cash - decision.keep_liquid)
        budget = max(0.0, min(budget, cash - cash_keep))
        out: dict[str, float] = {}
        # Shorter tenors first: when the budget is short, the longest purchases wait.
        for name in sorted(term, key=lambda n: TERM_BUCKETS.index(n)):
            amount = min(term[name], budget)
            if amount > 0:
                out[name] = amount
                budget -= amount
        overnight = cash - cash_keep - sum(out.values())
        if overnight > 0:
            out["repo_1d"] = overnight
        return out
