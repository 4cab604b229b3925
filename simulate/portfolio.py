"""One cash-management product's portfolio, rolled forward one calendar day at a time.

The portfolio holds *cash* (settled money at banks), *pending subscriptions* (money that arrived
but does not earn yet) and *lots*: purchases of one asset bucket of :mod:`rainmaker.assets` with
an amount (CNY), a rate (percent p.a., fixed at purchase: amortised cost), a value date and a
maturity date. NAV is fixed at 1 CNY per unit, so units equal net assets (AUM).

Money is kept in integer fen (0.01 CNY) inside, so that it is conserved exactly:
``aum(t) = aum(t−1) + subscriptions − redemptions + net_income``, every amount a whole fen.

Daily step for calendar day t (:meth:`Portfolio.step`), in this order:

1. **Maturities and settlement.** Lots whose maturity date is t return their principal to cash;
   pending subscriptions whose value date is t become cash.
2. **Income.** Every lot with value date ≤ t ≤ maturity date earns
   ``amount × rate / 100 / 365`` (a lot earns on its maturity day too: its principal is back in
   cash from that morning, but the day's interest is the lot's, not the cash bucket's); cash at
   the start of the day (yesterday's cash plus subscriptions settling today, not principal
   returned today) earns the ``cash`` bucket rate. Fees are
   :func:`rainmaker.yields.daily_fee` of the *earning units* (units whose money has reached its
   value date; units bought on a day whose money earns nothing yet bear no fee either) at
   ``fee_bp``. Net income = gross income − fees, rounded to the fen, is credited to cash as new
   units (daily carry-over); 万份收益 = net income / earning units × 10,000.
3. **Redemptions** due today — what is still owed from earlier days first (on a working day),
   then the day's requests less the part the world defers (巨额赎回, ``deferred``) — are paid
   from money on hand (settled cash, then pending subscriptions), then, on a working day:

   a. by **pledged repo borrowing** at the day's overnight repo rate (the ``repo_1d`` bucket
      rate), within the leverage cap: borrowing outstanding ≤ (``max_leverage`` − 1) × the net
      assets left once the day's redemptions are paid (total assets ≤ ``max_leverage`` × net
      assets, :data:`rainmaker.regulation.MAX_LEVERAGE`). Borrowing is a liability
      (AUM = assets − borrowing), is rolled overnight, costs a day's interest at the rate it
      was rolled at on each following day (part of the day's net income, like fees), and is
      repaid from money on hand on every working day before anything is invested;
   b. by **early sales at market value**, lots nearest maturity first, at the price the day's
      curve implies for the lot's remaining term plus the sale spread ``sale_spread_bp``
      (:func:`rainmaker.valuation.price_per_principal`); the realised loss (amortised cost −
      proceeds; negative for a gain) is part of the day's net income.

   What is still not paid is **unpaid**: the holders keep their units (they earn the day's
   income) and are paid first on the next working day. **Days off:** the interbank market is
   closed, so nothing is borrowed or sold; redemptions beyond the money on hand wait for the
   next working day, as unpaid (cash kept before days off is what pays them). The day's
   ``shortfall`` — the redemptions liquid assets could not cover — is
   ``repo_funded + sold_early + unpaid``. A negative cash balance after step 2 (fees and
   interest above income) is covered from pending money, then borrowed (any day, outside the
   cap: it is a day's accrual, not a redemption).

   **Closing** (``redeem_all``, or a request of every unit outstanding: every holder
   leaves, the product's AUM goes to 0): the request is every unit outstanding once the day's
   income is credited, not an amount fixed the day before. On a working day the book is
   liquidated: every lot is sold at market value, repo borrowing is repaid, and the last
   holders are paid all that is left, the sales' realised loss (or gain) included: they are
   the only holders left to bear it, so it is not owed to them as ``unpaid`` (a request fixed
   in units beside a loss that shrinks the units left an ``unpaid`` no asset could pay, or
   AUM below zero). On a day off only money on hand pays; the rest is unpaid, as any day
   off's.

   The sample generator (:mod:`simulate.synthetic`) keeps the world the committed sample was
   drawn in: ``early_sale_haircut_bp`` set sells at a flat haircut of the principal on any
   day, with no borrowing (``max_leverage`` 1) and nothing unpaid.
4. **Subscriptions** arrive as pending money with value date = the next working day
   (:mod:`rainmaker.china_calendar`): money that arrives before a weekend or holiday earns
   nothing over it, and its units share no income until then.
5. **Investment.** On a working day repo borrowing outstanding is first repaid from settled
   cash, then pending subscriptions (what is left is rolled overnight at the day's repo rate).
   Then the manager buys buckets at that day's rates: either the ``purchases`` given to
   :meth:`Portfolio.step` (the backtest's policy decision, CNY per bucket) or, when ``None``,
   what the portfolio's ``allocation`` rule returns (default :class:`TargetMix`). Purchases are
   paid from settled cash first (value date t + 1 if t is a working day: a trade on Friday earns
   over the weekend), then from pending subscriptions (value date = their value date, the next
   working day). The interbank market is closed on days off, so anything bought on a day off has
   the next working day as value date. A lot of tenor n days matures on the first working day on
   or after ``value date + n − 1``, so it earns n days (more when its maturity is pushed over a
   day off), and a lot rolled every day earns every day. Purchases above the money available are
   scaled down proportionally and the part not bought is reported as ``purchases_unfilled``.
   Last, on a working day, cash the policy wants held tonight (``hold_cash``) and money on
   hand lacks is borrowed by pledged repo within the leverage cap (``borrow_up_to``), and
   what that leaves short of ``sell_to_hold`` is raised by early sales at market value, as in
   3b (the eve of days off, which only tonight's cash can pay).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from rainmaker.assets import BUCKETS, AssetBucket, bucket
from rainmaker.china_calendar import Workdays, day_number, to_timestamp
from rainmaker.errors import first_few
from rainmaker.investment_mix import DEFAULT_MAX_DAILY_PURCHASE_PCT, DEFAULT_MIX
from rainmaker.regulation import LIQUID_WORKDAYS, MAX_LEVERAGE
from rainmaker.valuation import DEFAULT_SALE_SPREAD_BP, Curve, price_per_principal
from rainmaker.yields import daily_fee, income_per_10k

__all__ = [
    "DEFAULT_MIX",
    "LIQUIDITY_DAYS",
    "AllocationRule",
    "DayResult",
    "Lot",
    "Portfolio",
    "TargetMix",
    "coarse_money_note",
]

DAYS_PER_YEAR = 365
# Money is kept in whole fen, which assumes amounts in CNY. Below this AUM a day's income (about
# 0.005 % of it) is under about 5,000 fen and its rounding moves the 7-day yield by more than
# 0.02 bp; a data set in 亿元 (AUM 87.56 for CNY 8.756 bn) earns under one fen a day, so its
# income rounds to 0 and its figures are nonsense (mean excess −44 bp for −11 bp in CNY).
MIN_EXACT_AUM_CNY = 1_000_000.0
LIQUIDITY_DAYS = LIQUID_WORKDAYS  # the regulatory "assets maturing within 5 trading days"
# DEFAULT_MIX (rainmaker.investment_mix) is re-exported here for TargetMix's readers: its
# ``repo_1d`` takes whatever the term buckets cannot absorb on a day, so that weight is a floor.

_SHARED_WORKDAYS = Workdays()


def coarse_money_note(aum_by_product: Mapping[str, float]) -> str | None:
    """A warning when a product's AUM is below :data:`MIN_EXACT_AUM_CNY`, else None.

    Args:
        aum_by_product: a typical AUM of each product (e.g. its median over the days replayed
            on which it holds assets), in the data set's unit. A product holding nothing (0)
            has no income to round and is not named: it was redeemed whole, not written in
            another unit.
    """
    small = sorted(p for p, aum in aum_by_product.items() if 0 < aum < MIN_EXACT_AUM_CNY)
    if not small:
        return None
    return (
        f"aum of {len(small)} product(s) ({first_few(small)}) below {MIN_EXACT_AUM_CNY:,.0f}: the "
        "portfolio keeps money in whole fen (0.01 CNY), so their daily income rounds by more "
        "than 0.02 bp of yield (to nothing at all below about 100) and their yields and "
        "figures are distorted; expected amounts in CNY, not in 万元 or 亿元"
    )


def _to_fen(amount: float, what: str) -> int:
    """CNY → whole fen; rejects negative and non-finite amounts."""
    if not math.isfinite(amount) or amount < 0:
        raise ValueError(f"{what} must be a finite amount >= 0 CNY, got {amount!r}")
    return round(amount * 100)


@dataclass(frozen=True)
class Lot:
    """One purchase of an asset bucket, held to maturity.

    Attributes:
        bucket: bucket name of :data:`rainmaker.assets.BUCKETS` (not ``cash``).
        amount: principal outstanding, CNY.
        rate_pct: annual rate fixed at purchase, percent.
        value_date: first day the lot earns.
        maturity_date: day its principal returns to cash (it earns that day too).
    """

    bucket: str
    amount: float
    rate_pct: float
    value_date: pd.Timestamp
    maturity_date: pd.Timestamp


@dataclass(slots=True)
class _Holding:
    """A lot as kept inside the portfolio: fen and day numbers."""

    bucket: str
    amount_fen: int
    rate_pct: float
    value_day: int
    maturity_day: int
    cash_like: bool


@dataclass(slots=True)
class _Paying:
    """How one day's redemptions were paid, fen."""

    paid: int = 0  # redemptions paid, from every source
    repo: int = 0  # ... of which by repo borrowing
    sold: int = 0  # principal sold early
    loss: int = 0  # amortised cost − proceeds of the sales
    unpaid: int = 0  # the day's requests left unpaid (deferred included)


@dataclass(frozen=True)
class DayResult:
    """What one day did to the portfolio. Amounts in CNY, rates in percent.

    Attributes:
        date: the day.
        subscriptions: subscriptions booked that day.
        redemptions: redemptions paid that day (units redeemed): what was owed from earlier
            days and paid today, plus the part of today's requests paid today.
        gross_income: income of lots and cash before fees.
        fees: the day's fees.
        repo_interest: interest on last night's repo borrowing (≥ 0).
        realised_loss: amortised cost − proceeds of the lots sold early (negative for a gain).
        net_income: gross_income − fees − repo_interest − realised_loss, credited as new units.
        income_per_10k: 万份收益, CNY per 10,000 earning units (0 when no unit earns).
        earning_units: units that shared the day's income.
        units: units outstanding at the end of the day (= aum at NAV 1).
        aum: net assets at the end of the day (assets − borrowing).
        cash: settled cash plus pending subscriptions at the end of the day.
        cash_like: cash plus lots of ``cash_like`` buckets.
        liquidity_buffer: cash plus lots maturing within 5 trading days.
        requested: redemptions requested that day.
        repo_funded: redemptions paid by new repo borrowing.
        sold_early: principal of lots sold before maturity.
        unpaid: the part of the day's requests not paid that day (``deferred`` included), paid
            first on the next working day.
        deferred: the part of the day's requests deferred by the large-redemption rule.
        owed: redemptions still owed at the end of the day (units not yet redeemed).
        borrowed: repo borrowing outstanding at the end of the day.
        purchases: CNY bought per bucket at step 5.
        purchases_unfilled: CNY of requested purchases that the money available could not fund.
    """

    date: pd.Timestamp
    subscriptions: float
    redemptions: float
    gross_income: float
    fees: float
    repo_interest: float
    realised_loss: float
    net_income: float
    income_per_10k: float
    earning_units: float
    units: float
    aum: float
    cash: float
    cash_like: float
    liquidity_buffer: float
    requested: float = 0.0
    repo_funded: float = 0.0
    sold_early: float = 0.0
    unpaid: float = 0.0
    deferred: float = 0.0
    owed: float = 0.0
    borrowed: float = 0.0
    purchases: dict[str, float] = field(default_factory=dict)
    purchases_unfilled: float = 0.0

    @property
    def shortfall(self) -> float:
        """Redemptions the liquid assets could not cover: repo_funded + sold_early + unpaid."""
        return self.repo_funded + self.sold_early + self.unpaid


class AllocationRule(Protocol):
    """The manager's investment decision of step 5 (the ``decide`` hook).

    Called after the day's flows with the portfolio as it stands; returns CNY to buy per bucket
    name (missing buckets buy nothing; ``cash`` means keep it in cash).
    """

    def __call__(
        self, portfolio: Portfolio, date: pd.Timestamp, rates_pct: Mapping[str, float]
    ) -> Mapping[str, float]: ...


@dataclass(frozen=True)
class TargetMix:
    """Default allocation: keep a fixed mix of buckets, with a cash buffer.

    On a working day the rule tops each term bucket (tenor > 1 day) up to ``weights[name] × AUM``,
    longest tenor first, keeps ``weights["cash"] × AUM`` in cash and lends everything else
    overnight (``repo_1d``). What matured today in a bucket can always be rolled over into it, but
    new money goes into a term bucket at most ``max_daily_purchase_pct`` of AUM a day: the NCD
    primary market does not absorb a product's whole inflow at once, so a wave of new money waits
    in overnight repo and dilutes the yield. On days off it buys nothing.

    Attributes:
        weights: share of AUM per bucket name (fractions).
        max_daily_purchase_pct: cap on one day's purchase of one term bucket beyond rolling over
            its maturities, percent of AUM.
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    max_daily_purchase_pct: float = DEFAULT_MAX_DAILY_PURCHASE_PCT

    def __call__(
        self, portfolio: Portfolio, date: pd.Timestamp, rates_pct: Mapping[str, float]
    ) -> dict[str, float]:
        if not portfolio.workdays.is_workday(day_number(date)):
            return {}
        aum = portfolio.aum
        held = portfolio.bucket_amounts()
        rolled = portfolio.matured_today()
        investable = held.get("cash", 0.0) - self.weights.get("cash", 0.0) * aum
        out: dict[str, float] = {}
        term = sorted((b for b in BUCKETS if b.tenor_days > 1), key=lambda b: -b.tenor_days)
        for b in term:
            want = self.weights.get(b.name, 0.0) * aum - held.get(b.name, 0.0)
            cap = self.max_daily_purchase_pct / 100.0 * aum + rolled.get(b.name, 0.0)
            want = min(want, cap, investable)
            if want > 0:
                out[b.name] = want
                investable -= want
        if investable > 0:
            out["repo_1d"] = investable
        return out


def _dates(days: Sequence[int]) -> np.ndarray:
    """Day numbers (:func:`rainmaker.china_calendar.day_number`: days since 1970-01-01) as
    ``datetime64[s]``."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[s]")


class Portfolio:
    """A product's holdings, rolled forward one calendar day per :meth:`step`.

    Args:
        fee_bp: total annual fees, basis points of net assets.
        cash: settled cash at the start, CNY.
        lots: lots held at the start.
        allocation: the step-5 rule used when :meth:`step` gets no ``purchases``.
        sale_spread_bp: yield over the day's curve at which lots are sold early, bp of yield
            (default :data:`rainmaker.valuation.DEFAULT_SALE_SPREAD_BP`).
        max_leverage: total assets / net assets allowed by repo borrowing (≥ 1; 1 turns
            borrowing off; default :data:`rainmaker.regulation.MAX_LEVERAGE`).
        early_sale_haircut_bp: ``None`` (default) sells at market value; a number selects the
            sample generator's world instead (a flat haircut of the principal sold, bp, on any
            day; see the module docstring).
        workdays: working-day calendar (shared default).
    """

    def __init__(
        self,
        fee_bp: float,
        *,
        cash: float = 0.0,
        lots: Iterable[Lot] = (),
        allocation: AllocationRule | None = None,
        sale_spread_bp: float = DEFAULT_SALE_SPREAD_BP,
        max_leverage: float = MAX_LEVERAGE,
        early_sale_haircut_bp: float | None = None,
        workdays: Workdays | None = None,
    ) -> None:
        if not fee_bp >= 0:
            raise ValueError(f"fee_bp must be >= 0, got {fee_bp!r}")
        if not (math.isfinite(sale_spread_bp) and 0 <= sale_spread_bp < 10_000):
            raise ValueError(f"sale_spread_bp must be in [0, 10000) bp, got {sale_spread_bp!r}")
        if not (math.isfinite(max_leverage) and max_leverage >= 1):
            raise ValueError(f"max_leverage must be a finite ratio >= 1, got {max_leverage!r}")
        if early_sale_haircut_bp is not None and not 0 <= early_sale_haircut_bp < 10_000:
            raise ValueError(
                f"early_sale_haircut_bp must be in [0, 10000), got {early_sale_haircut_bp!r}"
            )
        self.fee_bp = float(fee_bp)
        self.sale_spread_bp = float(sale_spread_bp)
        self.max_leverage = float(max_leverage)
        self.early_sale_haircut_bp = (
            None if early_sale_haircut_bp is None else float(early_sale_haircut_bp)
        )
        self.allocation: AllocationRule = allocation if allocation is not None else TargetMix()
        self.workdays = workdays if workdays is not None else _SHARED_WORKDAYS
        self._cash_fen = _to_fen(cash, "cash")
        self._pending: list[list[int]] = []  # [value_day, fen], oldest first
        self._lots: list[_Holding] = []
        for lot in lots:
            b = bucket(lot.bucket)
            if b.tenor_days == 0:
                raise ValueError("a lot cannot be of the cash bucket; pass it as cash")
            self._lots.append(
                _Holding(
                    b.name,
                    _to_fen(lot.amount, "lot amount"),
                    float(lot.rate_pct),
                    day_number(lot.value_date),
                    day_number(lot.maturity_date),
                    b.cash_like,
                )
            )
        self._aum_fen = self._cash_fen + sum(h.amount_fen for h in self._lots)
        self._borrowed_fen = 0  # repo borrowing outstanding (a liability)
        self._borrow_rate_pct = 0.0  # the rate it was last rolled at, percent p.a.
        self._owed_fen = 0  # redemptions not yet paid (their units are still outstanding)
        self._day: int | None = None  # the last day stepped
        self._matured_today: dict[str, int] = {}  # fen per bucket returned on the last day

    # ----------------------------------------------------------------- construction helpers
    @classmethod
    def from_ladder(
        cls,
        aum: float,
        fee_bp: float,
        start: str | pd.Timestamp,
        rate_history: pd.DataFrame,
        mix: Mapping[str, float] = DEFAULT_MIX,
        *,
        allocation: AllocationRule | None = None,
        sale_spread_bp: float = DEFAULT_SALE_SPREAD_BP,
        max_leverage: float = MAX_LEVERAGE,
        early_sale_haircut_bp: float | None = None,
        workdays: Workdays | None = None,
    ) -> Portfolio:
        """A portfolio in steady state on the eve of ``start``: every term bucket held as a
        ladder bought evenly over its tenor before ``start`` at the rates of those days.

        Args:
            aum: net assets, CNY.
            fee_bp: annual fees, bp.
            start: the first day the portfolio will be stepped.
            rate_history: bucket purchase rates (percent), one column per bucket, indexed by
                date; days missing before ``start`` take the last known rate (the first one
                when none is known).
            mix: share of AUM per bucket; ``cash`` and ``repo_1d`` are held as cash and a
                one-day lot, the rest of AUM goes to cash.
            allocation, sale_spread_bp, max_leverage, early_sale_haircut_bp, workdays: as for
                the constructor.
        """
        calendar = workdays if workdays is not None else _SHARED_WORKDAYS
        start_day = day_number(start)
        history = rate_history.sort_index()
        days = np.array([day_number(d) for d in history.index])
        lots: list[Lot] = []
        invested_fen = 0
        for b in BUCKETS:
            share = float(mix.get(b.name, 0.0))
            if b.tenor_days == 0 or share <= 0:
                continue
            per_lot_fen = round(aum * share * 100) // b.tenor_days
            for j in range(1, b.tenor_days + 1):
                bought = start_day - j
                row = max(int(np.searchsorted(days, bought, side="right")) - 1, 0)
                rate = float(history[b.name].iloc[row])
                value_day = bought + 1
                maturity = calendar.on_or_after(value_day + b.tenor_days - 1)
                lots.append(
                    Lot(
                        b.name,
                        per_lot_fen / 100,
                        rate,
                        to_timestamp(value_day),
                        to_timestamp(maturity),
                    )
                )
                invested_fen += per_lot_fen
        cash_fen = round(aum * 100) - invested_fen
        if cash_fen < 0:
            raise ValueError("from_ladder: the mix sums to more than 1")
        return cls(
            fee_bp,
            cash=cash_fen / 100,
            lots=lots,
            allocation=allocation,
            sale_spread_bp=sale_spread_bp,
            max_leverage=max_leverage,
            early_sale_haircut_bp=early_sale_haircut_bp,
            workdays=calendar,
        )

    # ----------------------------------------------------------------------------- queries
    @property
    def aum(self) -> float:
        """Net assets, CNY (units at NAV 1)."""
        return self._aum_fen / 100

    @property
    def units(self) -> float:
        """Units outstanding (NAV 1, so equal to :attr:`aum`)."""
        return self.aum

    @property
    def borrowed(self) -> float:
        """Repo borrowing outstanding, CNY (a liability: :attr:`aum` = assets − borrowing)."""
        return self._borrowed_fen / 100

    @property
    def owed(self) -> float:
        """Redemptions requested but not paid yet, CNY (paid first on the next working day)."""
        return self._owed_fen / 100

    @property
    def last_date(self) -> pd.Timestamp | None:
        """The last day stepped, ``None`` before the first step."""
        return None if self._day is None else to_timestamp(self._day)

    def bucket_amounts(self) -> dict[str, float]:
        """CNY held per bucket; ``cash`` includes pending subscriptions."""
        out = {b.name: 0.0 for b in BUCKETS}
        out["cash"] = self._money_fen() / 100
        for h in self._lots:
            out[h.bucket] += h.amount_fen / 100
        return out

    def matured_today(self) -> dict[str, float]:
        """CNY per bucket whose lots matured on the last day stepped (what can be rolled over)."""
        return {name: fen / 100 for name, fen in self._matured_today.items()}

    def lot_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
        """Every lot held, as arrays in one order: principal (CNY, its amortised cost), rate
        (percent p.a.), maturity day (:func:`rainmaker.china_calendar.day_number`) and bucket name.
        Cheaper than :meth:`holdings` for a valuation every day (shadow pricing, stress)."""
        amount = np.fromiter((h.amount_fen for h in self._lots), float, len(self._lots)) / 100
        rate = np.fromiter((h.rate_pct for h in self._lots), float, len(self._lots))
        maturity = np.fromiter((h.maturity_day for h in self._lots), np.int64, len(self._lots))
        return amount, rate, maturity, tuple(h.bucket for h in self._lots)

    def liquid_within(self, days: int = LIQUIDITY_DAYS) -> float:
        """Cash, pending subscriptions and lots maturing within ``days`` trading days of the
        last day stepped, CNY. Before the first step, days count from the eve of the earliest
        value date of the lots held."""
        money_fen = self._money_fen()
        today = self._day
        if today is None:
            if not self._lots:
                return money_fen / 100
            today = min(h.value_day for h in self._lots) - 1
        horizon = self.workdays.add_workdays(today, days) if days > 0 else today
        fen = money_fen + sum(h.amount_fen for h in self._lots if h.maturity_day <= horizon)
        return fen / 100

    def holdings(self) -> pd.DataFrame:
        """Every asset held, one row per position: ``kind`` (cash, pending, lot), ``bucket``,
        ``amount`` (CNY), ``rate_pct``, ``value_date``, ``maturity_date``. Repo borrowing is a
        liability, not a position: net assets = Σ amount − :attr:`borrowed`."""
        return pd.DataFrame(self.positions())

    def positions(self) -> dict[str, np.ndarray]:
        """:meth:`holdings` as arrays by column (dates ``datetime64[s]``, NaT where none):
        the replay reads every product's positions every morning, and a frame per product
        cost more than the rest of the reading."""
        lots = self._lots
        n_pending, n_lots = len(self._pending), len(lots)
        fen = [self._cash_fen, *(f for _, f in self._pending), *(h.amount_fen for h in lots)]
        value_days = [*(d for d, _ in self._pending), *(h.value_day for h in lots)]
        rates = np.full(1 + n_pending + n_lots, np.nan)
        rates[1 + n_pending :] = [h.rate_pct for h in lots]
        value_date = np.full(1 + n_pending + n_lots, np.datetime64("NaT"), "datetime64[s]")
        value_date[1:] = _dates(value_days)
        maturity_date = np.full(1 + n_pending + n_lots, np.datetime64("NaT"), "datetime64[s]")
        maturity_date[1 + n_pending :] = _dates([h.maturity_day for h in lots])
        return {
            "kind": np.array(["cash", *["pending"] * n_pending, *["lot"] * n_lots], dtype=object),
            "bucket": np.array(["cash", *["cash"] * n_pending, *(h.bucket for h in lots)], object),
            "amount": np.asarray(fen, dtype=float) / 100,
            "rate_pct": rates,
            "value_date": value_date,
            "maturity_date": maturity_date,
        }

    # -------------------------------------------------------------------------------- step
    def step(
        self,
        date: str | pd.Timestamp,
        subscriptions: float,
        redemptions: float,
        rates_pct: Mapping[str, float],
        purchases: Mapping[str, float] | None = None,
        deferred: float = 0.0,
        hold_cash: float = 0.0,
        borrow_up_to: float = 0.0,
        sell_to_hold: float = 0.0,
        redeem_all: bool = False,
    ) -> DayResult:
        """Roll the portfolio over calendar day ``date`` (see the module docstring).

        Args:
            date: the day; each call must be the day after the previous one.
            subscriptions: money subscribed that day, CNY ≥ 0.
            redemptions: redemptions requested that day, CNY ≥ 0 (with what is still owed from
                earlier days, at most the units outstanding).
            rates_pct: the day's purchase rate per bucket name, percent p.a.; ``cash`` is the
                rate cash earns, ``repo_1d`` the rate repo borrowing pays, the term buckets make
                the curve early sales are priced on, and every bucket bought that day needs a
                rate.
            purchases: CNY to buy per bucket at step 5; ``None`` asks :attr:`allocation`.
            deferred: the part of ``redemptions`` deferred to the next working day (巨额赎回,
                decided by the replay's world), CNY, 0 ≤ deferred ≤ redemptions.
            hold_cash, borrow_up_to: on a working day, when money on hand after the day's
                purchases is below ``hold_cash`` (CNY), pledged repo borrowing of at most
                ``borrow_up_to`` (CNY; ``math.inf``: as far as the cap allows) and within the
                leverage cap makes up the gap (step 5):
                the manager borrows on Friday what the weekend's redemptions need and the book
                cannot return in time. It is repaid, like all borrowing, from money on hand on
                the next working day.
            sell_to_hold: on a working day, what money on hand still lacks of this (CNY)
                after the borrowing above is raised by early sales at market value (as in
                step 3b, counted in the day's ``sold_early`` and ``realised_loss``): the last
                working day before days off, whose redemptions nothing else can pay once the
                leverage cap is reached.
            redeem_all: every holder leaves (the product closes): the day's request is every
                unit outstanding once the day's income is credited, paid on a working day by
                liquidating the book (see "Closing" in the module docstring); ``redemptions``
                and ``deferred`` must then be 0.

        Raises:
            ValueError: a day skipped or repeated, a negative or non-finite amount, deferred
                above the redemptions, redemptions above the units outstanding, or
                ``redeem_all`` with redemptions or deferred given, or in the sample
                generator's world.
            KeyError: an unknown bucket or a missing rate.
        """
        t = day_number(date)
        if self._day is not None and t != self._day + 1:
            raise ValueError(
                f"step: days must be consecutive; got {to_timestamp(t).date()} after "
                f"{to_timestamp(self._day).date()}"
            )
        subs_fen = _to_fen(float(subscriptions), "subscriptions")
        reds_fen = _to_fen(float(redemptions), "redemptions")
        defer_fen = _to_fen(float(deferred), "deferred redemptions")
        if defer_fen > reds_fen:
            raise ValueError(
                f"step: deferred redemptions {deferred!r} exceed the day's redemptions "
                f"{redemptions!r}"
            )
        if redeem_all and (reds_fen or defer_fen or self.early_sale_haircut_bp is not None):
            raise ValueError(
                "step: redeem_all asks for every unit itself: redemptions and deferred must be 0, "
                "and it needs the market-value world (early_sale_haircut_bp None)"
            )
        aum_start = self._aum_fen
        workday = self.workdays.is_workday(t)

        # (1) maturities and settlement; (2) income, accrued on the same pass over the lots.
        gross = 0.0  # fen·percent
        returned_fen = 0
        self._matured_today = {}
        kept: list[_Holding] = []
        for h in self._lots:
            if h.value_day <= t:
                gross += h.amount_fen * h.rate_pct
            if h.maturity_day <= t:
                returned_fen += h.amount_fen
                self._matured_today[h.bucket] = self._matured_today.get(h.bucket, 0) + h.amount_fen
            else:
                kept.append(h)
        self._lots = kept
        not_earning_fen = 0
        still_pending: list[list[int]] = []
        for p in self._pending:
            if p[0] <= t:
                self._cash_fen += p[1]
            else:
                not_earning_fen += p[1]
                still_pending.append(p)
        self._pending = still_pending
        cash_rate = float(rates_pct["cash"])
        gross += max(self._cash_fen, 0) * cash_rate
        self._cash_fen += returned_fen
        gross_fen = gross / 100.0 / DAYS_PER_YEAR
        # last night's repo borrowing costs a day's interest at the rate it was rolled at
        interest_fen = self._borrowed_fen * self._borrow_rate_pct / 100.0 / DAYS_PER_YEAR
        earning_fen = aum_start - not_earning_fen
        fee_fen = float(daily_fee(max(earning_fen, 0), self.fee_bp))
        net_before_sales = round(gross_fen - fee_fen - interest_fen)
        self._cash_fen += net_before_sales
        units_fen = aum_start + net_before_sales  # income is credited as units first
        if redeem_all:  # every unit not asked for already, the day's income included
            reds_fen = max(units_fen - self._owed_fen, 0)
        if reds_fen + self._owed_fen > units_fen:
            raise ValueError(
                "step: redemptions exceed the units outstanding "
                f"({(reds_fen + self._owed_fen) / 100:.2f} CNY asked, {units_fen / 100:.2f} held)"
            )

        # (3) redemptions.
        paying = _Paying()
        if self.early_sale_haircut_bp is not None:  # the sample generator's world
            if self._cash_fen < 0:
                deficit = -self._cash_fen
                self._cash_fen = 0
                sold, cost = self._sell_at_haircut(deficit)
                paying.sold += sold
                paying.loss += cost
            sold, cost = self._sell_at_haircut(reds_fen)
            paying.sold += sold
            paying.loss += cost
            paid_fen = reds_fen
        else:
            if self._cash_fen < 0:  # fees and interest above income: an overdraft, borrowed
                deficit = -self._cash_fen
                self._cash_fen = 0
                self._borrow(deficit - self._take_pending(deficit), rates_pct, t)
            owed_fen = self._owed_fen if workday else 0  # what is owed is paid first
            # a request of every unit outstanding closes the product as redeem_all does
            closing = redeem_all or (
                reds_fen > 0 and defer_fen == 0 and reds_fen + self._owed_fen == units_fen
            )
            if closing and workday:
                # the last holders are paid what the book fetches: its sales' loss is theirs
                reds_fen = max(self._liquidate(units_fen, t, rates_pct, paying) - owed_fen, 0)
            payable_fen = reds_fen - defer_fen
            due_fen = owed_fen + payable_fen
            if not (closing and workday):
                # the leverage cap on net assets once today's redemptions are paid
                after_fen = units_fen - due_fen
                # (a millionth of a fen keeps 0.2 × 500,000 fen at 100,000, not 99,999)
                cap_fen = math.floor((self.max_leverage - 1.0) * max(after_fen, 0) + 1e-6)
                room_fen = cap_fen - self._borrowed_fen
                self._pay(due_fen, t, rates_pct, workday, room_fen, paying)
            paid_owed = min(paying.paid, owed_fen)
            paid_new = paying.paid - paid_owed
            self._owed_fen += reds_fen - paid_owed - paid_new
            paid_fen = paying.paid
            paying.unpaid = reds_fen - paid_new
        net_fen = net_before_sales - paying.loss

        # (4) subscriptions wait for their value date.
        if subs_fen:
            self._pending.append([self.workdays.next_workday(t), subs_fen])
        self._aum_fen = aum_start + subs_fen - paid_fen + net_fen
        self._day = t

        # (5) borrowing is repaid from money on hand before anything is invested; what is
        # left is rolled overnight at today's repo rate (the market is closed on days off).
        if workday and self._borrowed_fen:
            self._borrowed_fen -= self._from_money(self._borrowed_fen)
            if self._borrowed_fen:
                self._borrow_rate_pct = float(rates_pct["repo_1d"])
        stamp = to_timestamp(t)
        wanted = purchases if purchases is not None else self.allocation(self, stamp, rates_pct)
        bought, unfilled_fen = self._buy(t, wanted, rates_pct)
        if workday and borrow_up_to > 0 and hold_cash > 0:
            self._borrow_to_hold(
                _to_fen(float(hold_cash), "hold_cash"),
                None if borrow_up_to == math.inf else _to_fen(float(borrow_up_to), "borrow_up_to"),
                rates_pct,
                t,
            )
        if workday and sell_to_hold > 0 and self.early_sale_haircut_bp is None:
            short_fen = _to_fen(float(sell_to_hold), "sell_to_hold") - self._money_fen()
            if short_fen > 0:
                sold_fen, proceeds_fen, loss_fen = self._sell_lots(short_fen, t, rates_pct)
                self._cash_fen += proceeds_fen
                paying.sold += sold_fen
                paying.loss += loss_fen
                net_fen -= loss_fen
                self._aum_fen -= loss_fen

        horizon = self.workdays.add_workdays(t, LIQUIDITY_DAYS)
        money_fen = self._money_fen()
        buffer_fen = money_fen
        cash_like_fen = money_fen
        for h in self._lots:
            if h.maturity_day <= horizon:
                buffer_fen += h.amount_fen
            if h.cash_like:
                cash_like_fen += h.amount_fen
        r10k = float(income_per_10k(net_fen, earning_fen)) if earning_fen > 0 else 0.0
        return DayResult(
            date=stamp,
            subscriptions=subs_fen / 100,
            redemptions=paid_fen / 100,
            gross_income=gross_fen / 100,
            fees=fee_fen / 100,
            repo_interest=interest_fen / 100,
            realised_loss=paying.loss / 100,
            net_income=net_fen / 100,
            income_per_10k=r10k,
            earning_units=earning_fen / 100,
            units=self._aum_fen / 100,
            aum=self._aum_fen / 100,
            cash=money_fen / 100,
            cash_like=cash_like_fen / 100,
            liquidity_buffer=buffer_fen / 100,
            requested=reds_fen / 100,
            repo_funded=paying.repo / 100,
            sold_early=paying.sold / 100,
            unpaid=paying.unpaid / 100,
            deferred=defer_fen / 100,
            owed=self._owed_fen / 100,
            borrowed=self._borrowed_fen / 100,
            purchases={k: v / 100 for k, v in bought.items()},
            purchases_unfilled=unfilled_fen / 100,
        )

    # ------------------------------------------------------------------------- internals
    def _money_fen(self) -> int:
        """Money on hand: settled cash and pending subscriptions, fen."""
        return self._cash_fen + sum(p[1] for p in self._pending)

    def _from_money(self, need_fen: int) -> int:
        """Take up to ``need_fen`` from settled cash, then pending subscriptions (oldest
        first); return what was taken."""
        take = min(max(self._cash_fen, 0), need_fen)
        self._cash_fen -= take
        return take + self._take_pending(need_fen - take)

    def _take_pending(self, need_fen: int) -> int:
        taken = 0
        while need_fen > taken and self._pending:
            p = self._pending[0]
            take = min(p[1], need_fen - taken)
            p[1] -= take
            taken += take
            if p[1] == 0:
                self._pending.pop(0)
        return taken

    def _borrow_to_hold(
        self, hold_fen: int, up_to_fen: int | None, rates_pct: Mapping[str, float], t: int
    ) -> None:
        """Borrow what money on hand lacks of ``hold_fen``, at most ``up_to_fen`` (``None``:
        no limit of its own) and within the leverage cap on today's net assets; the borrowed
        money is held as cash."""
        money_fen = self._money_fen()
        cap_fen = math.floor((self.max_leverage - 1.0) * max(self._aum_fen, 0) + 1e-6)
        room_fen = cap_fen - self._borrowed_fen
        take = min(hold_fen - money_fen, room_fen if up_to_fen is None else up_to_fen, room_fen)
        if take > 0:
            self._borrow(take, rates_pct, t)
            self._cash_fen += take

    def _borrow(self, fen: int, rates_pct: Mapping[str, float], t: int) -> None:
        """Add ``fen`` of overnight repo borrowing (its cash is already spent by the caller);
        the whole balance then pays today's repo rate, or on a day off (market closed) the
        average of the rate it was rolled at and today's."""
        if fen <= 0:
            return
        rate = float(rates_pct["repo_1d"])
        if self.workdays.is_workday(t) or not self._borrowed_fen:
            self._borrow_rate_pct = rate
        else:
            total = self._borrowed_fen + fen
            self._borrow_rate_pct = (
                self._borrowed_fen * self._borrow_rate_pct + fen * rate
            ) / total
        self._borrowed_fen += fen

    def _liquidate(
        self, units_fen: int, t: int, rates_pct: Mapping[str, float], paying: _Paying
    ) -> int:
        """Closing on a working day: sell every lot at market value, repay repo borrowing and
        pay the holders of ``units_fen`` (every unit) what is left; record it in ``paying`` and
        return what the units were worth once the sales' realised loss is counted, fen."""
        sold, proceeds, loss = self._sell_lots(None, t, rates_pct)
        self._cash_fen += proceeds
        paying.sold += sold
        paying.loss += loss
        self._borrowed_fen -= self._from_money(self._borrowed_fen)
        worth_fen = units_fen - loss
        # all of it when the book covers its debt; less only when it does not (the rest owed)
        paying.paid = self._from_money(max(worth_fen, 0))
        return worth_fen

    def _pay(
        self,
        need_fen: int,
        t: int,
        rates_pct: Mapping[str, float],
        workday: bool,
        room_fen: int,
        paying: _Paying,
    ) -> None:
        """Pay ``need_fen`` of redemptions: money on hand, then (on working days) repo
        borrowing within ``room_fen`` and early sales at market value; record it in
        ``paying``."""
        paying.paid = self._from_money(need_fen)
        need_fen -= paying.paid
        if need_fen == 0 or not workday:
            return
        repo = min(need_fen, max(room_fen, 0))
        if repo > 0:
            self._borrow(repo, rates_pct, t)
            paying.repo = repo
            paying.paid += repo
            need_fen -= repo
        if need_fen == 0:
            return
        sold, proceeds, loss = self._sell_lots(need_fen, t, rates_pct)
        paying.sold += sold
        paying.loss += loss
        paying.paid += proceeds

    def _sell_lots(
        self, need_fen: int | None, t: int, rates_pct: Mapping[str, float]
    ) -> tuple[int, int, int]:
        """Sell lots early at market value until ``need_fen`` is raised (``None``: every lot)
        or nothing is left; return (principal sold, proceeds, realised loss = principal −
        proceeds), fen."""
        curve = Curve.from_rates(rates_pct)
        sold = raised = 0
        # Nearest maturity first: those lots carry least interest to give up and move least
        # with the curve.
        for h in sorted(self._lots, key=lambda h: (h.maturity_day, h.value_day)):
            if need_fen == 0:
                break
            days = h.maturity_day - t
            price = float(
                price_per_principal(h.rate_pct, days, curve.yield_pct(days), self.sale_spread_bp)
            )
            full_proceeds = round(h.amount_fen * price)
            if need_fen is None or full_proceeds <= need_fen:
                sell, proceeds = h.amount_fen, full_proceeds
            else:  # raise exactly what is needed, to the fen
                # the fewest fen of principal whose price covers the need (a millionth of a fen
                # of float round-off is not a fen more)
                sell = min(math.ceil(need_fen / price - 1e-6), h.amount_fen)
                proceeds = need_fen
            h.amount_fen -= sell
            sold += sell
            raised += proceeds
            if need_fen is not None:
                need_fen -= proceeds
        self._lots = [h for h in self._lots if h.amount_fen > 0]
        return sold, raised, sold - raised

    def _sell_at_haircut(self, need_fen: int) -> tuple[int, int]:
        """The sample generator's rule: pay ``need_fen`` from cash, pending money, then by
        selling the lots nearest maturity at a flat haircut of the principal, on any day;
        return (paid by early sales, sale cost)."""
        need_fen -= self._from_money(need_fen)
        if need_fen == 0:
            return 0, 0
        assert self.early_sale_haircut_bp is not None
        haircut = self.early_sale_haircut_bp / 10_000.0
        sold_for_redemptions = need_fen
        cost_fen = 0
        for h in sorted(self._lots, key=lambda h: (h.maturity_day, h.value_day)):
            if need_fen == 0:
                break
            full_proceeds = h.amount_fen - round(h.amount_fen * haircut)
            if full_proceeds <= need_fen:
                sell, proceeds = h.amount_fen, full_proceeds
            else:
                # raise exactly what is needed: sell s with s·(1 − h) = need, to the fen
                sell = min(need_fen + round(need_fen * haircut / (1.0 - haircut)), h.amount_fen)
                proceeds = need_fen
            h.amount_fen -= sell
            cost_fen += sell - proceeds
            need_fen -= proceeds
        self._lots = [h for h in self._lots if h.amount_fen > 0]
        if need_fen > 0:
            raise ValueError(
                "step: redemptions exceed what the portfolio can raise "
                f"({need_fen / 100:.2f} CNY short after selling every lot)"
            )
        return sold_for_redemptions, cost_fen

    def _buy(
        self, t: int, wanted: Mapping[str, float], rates_pct: Mapping[str, float]
    ) -> tuple[dict[str, int], int]:
        """Step 5: turn cash into lots; return (fen bought per bucket, fen not funded)."""
        orders: list[tuple[AssetBucket, int]] = []
        for name, amount in wanted.items():
            b = bucket(name)
            fen = _to_fen(float(amount), f"purchase of {name}")
            if fen and b.tenor_days > 0:
                orders.append((b, fen))
        if not orders:
            return {}, 0
        available = max(self._cash_fen, 0) + sum(p[1] for p in self._pending)
        total = sum(fen for _, fen in orders)
        unfilled = 0
        if total > available:
            scale = available / total
            scaled = [(b, int(fen * scale)) for b, fen in orders]
            unfilled = total - sum(fen for _, fen in scaled)
            orders = scaled
        workday = self.workdays.is_workday(t)
        settled_value_day = t + 1 if workday else self.workdays.next_workday(t)
        bought: dict[str, int] = {}
        # Deterministic order: the bucket table's.
        order_index = {b.name: i for i, b in enumerate(BUCKETS)}
        for b, fen in sorted(orders, key=lambda o: order_index[o[0].name]):
            if fen <= 0:
                continue
            rate = float(rates_pct[b.name])
            from_cash = min(max(self._cash_fen, 0), fen)
            if from_cash:
                self._cash_fen -= from_cash
                self._add_lot(b, from_cash, rate, settled_value_day)
            rest = fen - from_cash
            while rest > 0:
                p = self._pending[0]
                take = min(p[1], rest)
                p[1] -= take
                rest -= take
                self._add_lot(b, take, rate, max(p[0], settled_value_day))
                if p[1] == 0:
                    self._pending.pop(0)
            bought[b.name] = bought.get(b.name, 0) + fen
        return bought, unfilled

    def _add_lot(self, b: AssetBucket, fen: int, rate: float, value_day: int) -> None:
        maturity = self.workdays.on_or_after(value_day + b.tenor_days - 1)
        self._lots.append(_Holding(b.name, fen, rate, value_day, maturity, b.cash_like))
