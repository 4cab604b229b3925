"""Plan inputs: everything the optimizer knows on the as-of day, as arrays in CNY.

:class:`PlanInputs` gathers, for P products over a horizon of H days after the as-of day: the
forecast (expected demand at the baseline exposure, expected redemptions and redemption
quantiles), today's portfolio (:mod:`optimize.portfolio`), the purchase rates known today, the
targets (a smooth target yield path and a target AUM), the regulatory floors, today's open or
closed status, the marketing exposure the forecast assumed with the fitted response curve, the
channel sales requirements (:mod:`optimize.sales_plan`) and the realised 万份收益 of the six days
up to today (to compute 7-day yields of the plan). Amounts stay in CNY here; the model scales
them (:mod:`optimize.parameters`).

:func:`inputs_from_forecast` builds them from a data set and a ``forecast.ForecastResult``,
reading only rows dated on or before the as-of day. :mod:`optimize.synthetic` builds seeded
synthetic ones for tests and benchmarks.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecast.market import MarketForecast, market_forecast
from optimize.portfolio import (
    default_ladder,
    missing_snapshot_note,
    nil_within_noise,
    read_holdings,
)
from optimize.regime import RegimeState, flows_by_day, redemption_regime
from optimize.sales_plan import read_sales_plan, sales_requirements
from optimize.settings import PlanSettings
from rainmaker.assets import (
    BUCKETS,
    MAX_TENOR_DAYS,
    bucket_rates,
    rate_fallback_note,
)
from rainmaker.china_calendar import workday_flags
from rainmaker.contracts import ForecastResult
from rainmaker.errors import RainmakerError, UsageError
from rainmaker.holders import latest_top10
from rainmaker.investment_mix import (
    INFER_LOOKBACK_DAYS,
    ManagedMix,
    ladder_wam_days,
    longest_tenor_days,
    managed_mixes,
    maturing_share,
)
from rainmaker.quantiles import quantile_label, quantile_level
from rainmaker.rules import concentration_limits
from rainmaker.shadow_price import lot_gaps

if TYPE_CHECKING:
    from rainmaker.dataset import Dataset

__all__ = [
    "RECENT_DAYS",
    "PlanInputs",
    "compounded_to_simple_pct",
    "forecast_rate_paths",
    "inputs_from_forecast",
    "carry_references",
    "laddered_rates",
    "portfolio_yield_pct",
    "target_yield_path",
]

# 7-day yields need the 万份收益 of the six days up to the as-of day.
RECENT_DAYS = 6
# Calendar kept beyond the horizon: the longest NCD bought on the last day matures its tenor
# later, on the first working day after (a long holiday can add up to ten days).
CALENDAR_MARGIN_DAYS = MAX_TENOR_DAYS + 40
# Calendar and rates kept before the as-of day: a steady-state ladder of the longest tenor was
# bought over that many days.
LOOKBACK_DAYS = MAX_TENOR_DAYS + 10
DAYS_PER_YEAR = 365


@dataclass(frozen=True, eq=False)
class PlanInputs:
    """What the optimizer plans from. Arrays are (P,) per product or (P, H) per product-day.

    Attributes:
        as_of: today, the last day whose data is known.
        product_ids: the products planned, in array order.
        dates: the H days planned (the days after ``as_of``).
        demand: expected subscription demand at the baseline exposure, CNY (P, H).
        redemptions: expected redemptions, CNY (P, H).
        redemption_quantiles: quantile level → redemption quantile, CNY (P, H); the buffer
            covers the one at the settings' confidence (interpolated between levels).
        aum_today: net assets at the end of ``as_of``, CNY (P,).
        fee_bp: annual fees, bp of net assets (P,).
        holdings: today's positions (:data:`optimize.portfolio.HOLDING_COLUMNS`).
        rates_pct: purchase rate of every bucket known today, percent p.a. (``cash``: what
            cash earns).
        target_yield_pct: target net yield path, simple annual percent (P, H).
        target_aum: centre of the AUM band, CNY (P,).
        min_liquid_ratio: floor of liquid assets, share of AUM (P,).
        min_cash_ratio: floor of cash-like assets, share of AUM (P,).
        max_wam_days: cap on the weighted average maturity, days (P,).
        open_today: subscriptions open at the end of ``as_of`` (P,).
        baseline_exposure: marketing exposure the forecast assumed (P, H), ≥ 0.
        response_a: sensitivity of the response curve ``1 + a·log(1 + e/e0)`` (P,), ≥ 0.
        response_e0: exposure scale of the curve (P,), > 0.
        channels: distribution channel of every product (``""`` when none).
        sales: channel requirements within the horizon
            (:func:`optimize.sales_plan.sales_requirements`).
        recent_income_per_10k: 万份收益 of the six days up to ``as_of``, CNY (P, 6).
        workday: working-day flags by calendar day from ``as_of`` to well past the horizon.
        redemption_paths: the forecast's sample paths of redemptions, CNY (P, N, H), or None;
            used for quantiles of redemptions summed over several days (the buffer over the
            liquid window, cash before days off). Without them those quantiles are the sums
            of the daily quantiles (an upper bound).
        subscription_paths: the forecast's sample paths of demand at the baseline exposure,
            CNY (P, N, H), drawn jointly with ``redemption_paths``, or None: the cumulative
            needs (E27) net each path's redemptions against its own subscriptions.
        recent_redemptions: mean daily redemptions of the last
            ``liquidity.stress_lookback_days`` known days, CNY (P,), or for a product in
            defence the mean of the last ``regime.pressure_days`` or the last known day's, when
            higher: the stress floor of the needs through the next working day (E27).
        defence: the product plans in defence (P,) (:mod:`optimize.regime`).
        overnight_reference_pct: the overnight repo rate a position rolled overnight is expected
            to earn over the coming months: its mean over the last ``targets.goal_rate_days``
            days, percent p.a. (None: today's rate); what a term purchase's carry (E25) is
            measured against, so that a spike in the overnight rate does not stop term buying.
        managed_liquid_ratio: share of AUM the product's managed book (its investment mix held
            as a steady ladder) has liquid within the 5-working-day window (P,).
        managed_cash_ratio: its cash share (P,).
        managed_overnight_ratio: its cash and overnight repo share (P,): what it has on hand on
            the next working day.
        managed_ladder_ratio: its share maturing within ``liquidity.ladder_days`` (P,).
        managed_max_tenor_days: the tenor of its longest bucket with a positive share, days
            (P,); 0 for a book of cash alone.
        worst_outflow: the largest net outflow over ``liquidity.ladder_days`` days in the last
            ``liquidity.ladder_lookback_days`` known days, share of AUM at its start (P,), ≥ 0:
            the maturity ladder's floor (E26) never goes below it.
        worst_days_off: the largest net outflow over as many days off as follow the plan's first
            day, of the runs of days off in the last ``liquidity.days_off_lookback_days`` known
            days, share of AUM on their eve (P,), ≥ 0 (:func:`worst_days_off_outflow`): the
            cumulative needs through those days off (E27) never go below it. 0 where the first
            day is no eve of days off.
        regime: the regime state behind ``defence`` (signals for the report), or None.
        borrowed_today: repo borrowing outstanding at the end of the as-of day, CNY (P,), or
            None (none): a liability the plan repays or rolls (E28); ``aum_today`` is net of it.
        carry_reference_pct: per term bucket, the overnight repo rate money rolled overnight
            is expected to earn over that bucket's life: its mean over the last tenor days (at
            least ``targets.goal_rate_days``), percent p.a. What the bucket's carry (E25) is
            measured against; None: ``overnight_reference_pct`` for every bucket.
        book_gap_cny: market value − amortised cost of today's holdings at today's curve, CNY
            (P,) (:func:`rainmaker.shadow_price.holdings_deviation`), or None (0): where the
            shadow-price deviation under a shock starts from (E29).
        purchase_rates_pct: per bucket, the rate a purchase made on each planned day earns to
            maturity, percent p.a. (H,), from the market forecast's median path
            (``[market] forecast``), or None: ``rates_pct`` on every day.
    """

    as_of: pd.Timestamp
    product_ids: tuple[str, ...]
    dates: pd.DatetimeIndex
    demand: np.ndarray
    redemptions: np.ndarray
    redemption_quantiles: Mapping[float, np.ndarray]
    aum_today: np.ndarray
    fee_bp: np.ndarray
    holdings: pd.DataFrame
    rates_pct: Mapping[str, float]
    target_yield_pct: np.ndarray
    target_aum: np.ndarray
    min_liquid_ratio: np.ndarray
    min_cash_ratio: np.ndarray
    max_wam_days: np.ndarray
    open_today: np.ndarray
    baseline_exposure: np.ndarray
    response_a: np.ndarray
    response_e0: np.ndarray
    channels: tuple[str, ...]
    sales: pd.DataFrame
    recent_income_per_10k: np.ndarray
    workday: pd.Series
    redemption_paths: np.ndarray | None = None
    subscription_paths: np.ndarray | None = None
    recent_redemptions: np.ndarray | None = None
    defence: np.ndarray | None = None
    regime: RegimeState | None = None
    worst_outflow: np.ndarray | None = None
    worst_days_off: np.ndarray | None = None
    managed_liquid_ratio: np.ndarray | None = None
    managed_cash_ratio: np.ndarray | None = None
    managed_overnight_ratio: np.ndarray | None = None
    managed_ladder_ratio: np.ndarray | None = None
    managed_max_tenor_days: np.ndarray | None = None
    overnight_reference_pct: float | None = None
    borrowed_today: np.ndarray | None = None
    carry_reference_pct: Mapping[str, float] | None = None
    book_gap_cny: np.ndarray | None = None
    purchase_rates_pct: Mapping[str, np.ndarray] | None = None

    def __repr__(self) -> str:
        # arrays of every product-day: a notebook printing the inputs must not dump them
        return (
            f"PlanInputs(as of {self.as_of:%Y-%m-%d}, {len(self.product_ids)} products × "
            f"{len(self.dates)} days)"
        )

    def __post_init__(self) -> None:
        self.check()

    @property
    def n_products(self) -> int:
        """P, the number of products."""
        return len(self.product_ids)

    @property
    def horizon(self) -> int:
        """H, the number of days planned."""
        return len(self.dates)

    def replace(self, **changes: Any) -> PlanInputs:
        """A copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)

    def check(self) -> None:
        """Raise :class:`~rainmaker.errors.RainmakerError` when the arrays are inconsistent.

        Shapes must match, amounts be finite and ≥ 0, quantiles be non-decreasing in their
        level: a forecast that breaks this is a bug upstream, not something to repair here.
        """
        p, h = self.n_products, self.horizon
        if p == 0 or h == 0:
            raise RainmakerError("plan inputs: no product or no day to plan")
        problems = []
        per_day = {
            "demand": self.demand,
            "redemptions": self.redemptions,
            "target_yield_pct": self.target_yield_pct,
            "baseline_exposure": self.baseline_exposure,
        }
        for q, values in self.redemption_quantiles.items():
            per_day[f"redemption quantile {q}"] = values
        for name, values in per_day.items():
            array = np.asarray(values)
            if array.shape != (p, h):
                problems.append(f"{name} has shape {array.shape}, expected {(p, h)}")
            elif not np.isfinite(array).all():
                bad = np.argwhere(~np.isfinite(array))[0]
                problems.append(
                    f"{name} is not finite for product {self.product_ids[bad[0]]} on "
                    f"{self.dates[bad[1]]:%Y-%m-%d}"
                )
            elif name != "target_yield_pct" and (array < 0).any():
                problems.append(f"{name} has negative values; expected amounts >= 0")
        per_product = {
            "aum_today": self.aum_today,
            "fee_bp": self.fee_bp,
            "target_aum": self.target_aum,
            "min_liquid_ratio": self.min_liquid_ratio,
            "min_cash_ratio": self.min_cash_ratio,
            "max_wam_days": self.max_wam_days,
            "response_a": self.response_a,
            "response_e0": self.response_e0,
            "open_today": self.open_today,
        }
        for name, values in per_product.items():
            array = np.asarray(values)
            if array.shape != (p,):
                problems.append(f"{name} has shape {array.shape}, expected {(p,)}")
            elif not np.isfinite(array.astype(float)).all() or (array.astype(float) < 0).any():
                problems.append(f"{name} must be finite and >= 0")
        if np.asarray(self.response_e0).shape == (p,) and (np.asarray(self.response_e0) <= 0).any():
            problems.append("response_e0 must be > 0")
        if np.asarray(self.recent_income_per_10k).shape != (p, RECENT_DAYS):
            problems.append(f"recent_income_per_10k must have shape {(p, RECENT_DAYS)}")
        if self.redemption_paths is not None:
            paths = np.asarray(self.redemption_paths)
            if paths.ndim != 3 or paths.shape[0] != p or paths.shape[2] != h or not paths.shape[1]:
                problems.append(f"redemption_paths has shape {paths.shape}, expected (P, N, H)")
            elif not np.isfinite(paths).all() or (paths < 0).any():
                problems.append("redemption_paths must be finite and >= 0")
        if self.subscription_paths is not None:
            sub = np.asarray(self.subscription_paths)
            if self.redemption_paths is None or sub.shape != np.shape(self.redemption_paths):
                problems.append(
                    f"subscription_paths has shape {sub.shape}, expected that of "
                    "redemption_paths (P, N, H)"
                )
            elif not np.isfinite(sub).all() or (sub < 0).any():
                problems.append("subscription_paths must be finite and >= 0")
        optional: tuple[tuple[str, np.ndarray | None], ...] = (
            ("recent_redemptions", self.recent_redemptions),
            ("defence", self.defence),
            ("worst_outflow", self.worst_outflow),
            ("worst_days_off", self.worst_days_off),
            ("managed_liquid_ratio", self.managed_liquid_ratio),
            ("managed_cash_ratio", self.managed_cash_ratio),
            ("managed_overnight_ratio", self.managed_overnight_ratio),
            ("managed_ladder_ratio", self.managed_ladder_ratio),
            ("managed_max_tenor_days", self.managed_max_tenor_days),
        )
        for name, column in optional:
            if column is not None and np.asarray(column).shape != (p,):
                problems.append(f"{name} has shape {np.asarray(column).shape}, expected {(p,)}")
        if self.recent_redemptions is not None:
            recent = np.asarray(self.recent_redemptions, dtype=float)
            if not np.isfinite(recent).all() or (recent < 0).any():
                problems.append("recent_redemptions must be finite amounts >= 0 CNY")
        if len(self.channels) != p:
            problems.append("channels needs one entry per product")
        if not self.redemption_quantiles:
            problems.append("redemption_quantiles is empty")
        levels = sorted(self.redemption_quantiles)
        for lo, hi in zip(levels, levels[1:], strict=False):
            if (
                np.asarray(self.redemption_quantiles[hi])
                < np.asarray(self.redemption_quantiles[lo]) - 1e-6
            ).any():
                problems.append(f"redemption quantile {hi} is below quantile {lo} somewhere")
        for name, path in (self.purchase_rates_pct or {}).items():
            path = np.asarray(path, dtype=float)
            if name not in self.rates_pct or path.shape != (h,) or not np.isfinite(path).all():
                problems.append(
                    f"purchase_rates_pct[{name!r}] must be a finite path of {h} rates of a "
                    "known bucket, percent p.a."
                )
        missing_rates = {b.name for b in BUCKETS} - set(self.rates_pct)
        if missing_rates:
            problems.append(f"rates_pct lacks {', '.join(sorted(missing_rates))}")
        unknown = set(self.holdings["product_id"]) - set(self.product_ids)
        if unknown:
            shown = ", ".join(map(str, sorted(unknown)[:5]))
            problems.append(f"holdings name products not planned: {shown}")
        after = MAX_TENOR_DAYS + 10  # the longest tenor bought on the last day, and its days off
        last_needed = self.dates[-1] + pd.Timedelta(days=after)
        if self.workday.index[0] > self.as_of or self.workday.index[-1] < last_needed:
            problems.append(f"workday must cover the as-of day to {after} days after the horizon")
        if problems:
            raise RainmakerError("plan inputs are inconsistent: " + "; ".join(problems))


# --------------------------------------------------------------------------- helpers


def compounded_to_simple_pct(yield_7d_pct: np.ndarray) -> np.ndarray:
    """A compounded 7-day annualised yield (七日年化, percent) as a simple annual rate, percent.

    The two differ by the compounding of daily income: ``simple = 365 × ((1 + Y)^(1/365) − 1)``.
    """
    y = np.asarray(yield_7d_pct, dtype=float) / 100.0
    return DAYS_PER_YEAR * np.expm1(np.log1p(y) / DAYS_PER_YEAR) * 100.0


def _income_per_10k_from_yield(yield_7d_pct: np.ndarray) -> np.ndarray:
    """The constant 万份收益 (CNY per 10,000 units) that compounds to a 7-day yield."""
    y = np.asarray(yield_7d_pct, dtype=float) / 100.0
    return np.expm1(np.log1p(y) / DAYS_PER_YEAR) * 10_000.0


def laddered_rates(rate_history: pd.DataFrame, min_days: int) -> pd.Series:
    """The rate each bucket of a steadily rolled ladder earns today, percent p.a.

    A bucket of tenor L bought in equal slices every day holds the slices of the last L days,
    so it earns the mean of its rate over the last L calendar days; a bucket shorter than
    ``min_days`` (cash, overnight and 7-day repo, with the default 30) is averaged over
    ``min_days`` instead, so that the goal does not follow a spike of the overnight rate.

    This is where the product's own book takes its yield when nothing is done, so steering to
    it keeps the yield's slow moves no faster than the book's (a goal at the last month's rates
    for every bucket pulled a 6-month ladder's yield down a falling market faster than the
    ladder itself falls: y2021 quick window, docs/backtest.md).

    Args:
        rate_history: daily rate per bucket up to today, percent p.a., one column per bucket
            of :data:`rainmaker.assets.BUCKETS`, indexed by calendar day.
        min_days: the shortest averaging span, days ≥ 1.
    """
    tenor = {b.name: b.tenor_days for b in BUCKETS}
    return pd.Series(
        {
            name: _ladder_mean(rate_history[name], tenor.get(name, 0), min_days)
            for name in rate_history.columns
        }
    )


def _ladder_mean(rates: pd.Series, tenor_days: int, min_days: int) -> float:
    """A rate rolled daily into a bucket of ``tenor_days``: its mean over the last
    max(``tenor_days``, ``min_days``) days, percent p.a."""
    return float(rates.iloc[-max(tenor_days, min_days) :].mean())


def _book_gaps(
    holdings: pd.DataFrame, rates_pct: Mapping[str, float], today: pd.Timestamp, ids: Sequence[str]
) -> np.ndarray:
    """Market value − amortised cost of each product's holdings today, CNY (P,)."""
    # the gaps alone: holdings_deviation's deviations and actions are not needed here
    gaps = lot_gaps(holdings, rates_pct, today)
    return gaps.reindex(list(ids)).fillna(0.0).to_numpy(dtype=float)


def forecast_rate_paths(
    outlook: MarketForecast,
    market: pd.DataFrame,
    rate_history: pd.DataFrame,
    dates: pd.DatetimeIndex,
    min_days: int,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Each bucket's purchase rate on the planned days from a market forecast, and how much
    the forecast moves the rate a rolled ladder of the bucket earns, percent p.a.

    The market columns the forecast has take its median path; the others stay at today's
    value (:func:`rainmaker.assets.bucket_rates` prices the buckets, with its fall-backs).
    The ladder's rate on day t is :func:`laddered_rates` over the history and the forecast up
    to t; the change is that less the same with today's rates held flat, so that a flat
    forecast changes nothing.

    Args:
        outlook: the market forecast, covering ``dates``.
        market: the daily market frame up to today (columns of market.csv, percent p.a.).
        rate_history: :func:`rainmaker.assets.bucket_rates` of ``market``.
        dates: the H planned days.
        min_days: the shortest averaging span of the ladder, days.

    Returns:
        Per bucket, the purchase rate (H,) and the ladder's change (H,), percent p.a.

    Raises:
        RainmakerError: the forecast does not cover the planned days.
    """
    median = outlook.median_frame()
    if not pd.DatetimeIndex(dates).isin(median.index).all():
        raise RainmakerError(
            f"the market forecast made on {outlook.as_of:%Y-%m-%d} does not cover the planned "
            f"days {dates[0]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d}"
        )
    last = market.iloc[-1]
    future = pd.DataFrame(
        {
            column: median[column].reindex(dates).to_numpy(dtype=float)
            if column in median.columns
            else np.full(len(dates), float(last[column]))
            # the rates: a column the contract does not list may hold text (kept, ignored)
            for column in market.select_dtypes("number").columns
        },
        index=dates,
    )
    ahead = bucket_rates(future)
    flat = pd.DataFrame(
        np.repeat(rate_history.iloc[[-1]].to_numpy(), len(dates), axis=0),
        index=dates,
        columns=rate_history.columns,
    )
    forecast_ext = pd.concat([rate_history, ahead[rate_history.columns]])
    flat_ext = pd.concat([rate_history, flat])
    tenor = {b.name: b.tenor_days for b in BUCKETS}
    paths: dict[str, np.ndarray] = {}
    change: dict[str, np.ndarray] = {}
    for name in rate_history.columns:
        span = max(tenor.get(name, 0), min_days)
        paths[name] = ahead[name].to_numpy(dtype=float)
        moved = forecast_ext[name].rolling(span, min_periods=1).mean().iloc[-len(dates) :]
        held = flat_ext[name].rolling(span, min_periods=1).mean().iloc[-len(dates) :]
        change[name] = moved.to_numpy(dtype=float) - held.to_numpy(dtype=float)
    return paths, change


def carry_references(rate_history: pd.DataFrame, min_days: int) -> dict[str, float]:
    """Per term bucket, the overnight repo rate of the last tenor days (at least ``min_days``),
    percent p.a.: what rolling overnight instead is expected to earn over the bucket's life.

    Today's overnight rate alone, or its last month, says little about the next six months in
    a spike (the rates2013 scenario: the last month's overnight mean stood above the 6-month
    NCD's rate, so no term purchase looked worth its carry, the plan rolled everything
    overnight at the spike and its yield fell with it); the rate of the asset's own span back
    moves as slowly as the asset.
    """
    # rolling overnight for a bucket's life: the overnight rate laddered over that bucket's tenor
    overnight = rate_history["repo_1d"]
    return {
        b.name: _ladder_mean(overnight, b.tenor_days, min_days) for b in BUCKETS if b.tenor_days > 1
    }


def target_yield_path(
    yield_now_pct: np.ndarray, yield_goal_pct: np.ndarray, horizon: int, time_constant_days: float
) -> np.ndarray:
    """The smooth target yield: from today's yield towards the goal, exponentially.

    ``target(t) = goal + (now − goal) · exp(−t / τ)`` for day t = 1..H after today.

    Args:
        yield_now_pct: today's net yield, simple annual percent (P,).
        yield_goal_pct: the yield the product would earn in steady state at today's rates,
            simple annual percent (P,).
        horizon: H.
        time_constant_days: τ, days.

    Returns:
        Target yield, simple annual percent (P, H).
    """
    t = np.arange(1, horizon + 1, dtype=float)
    decay = np.exp(-t / time_constant_days)
    now = np.asarray(yield_now_pct, dtype=float)[:, None]
    goal = np.asarray(yield_goal_pct, dtype=float)[:, None]
    return goal + (now - goal) * decay[None, :]


def portfolio_yield_pct(
    holdings: pd.DataFrame,
    product_ids: tuple[str, ...],
    aum: np.ndarray,
    fee_bp: np.ndarray,
    cash_rate_pct: float,
) -> np.ndarray:
    """Net simple annual yield of today's positions, percent (P,)."""
    # the two columns, not a copy of the holdings with a rate column added
    rate = holdings["rate_pct"].fillna(cash_rate_pct)
    income = (holdings["amount_cny"] * rate).groupby(holdings["product_id"]).sum()
    gross = income.reindex(list(product_ids)).fillna(0.0).to_numpy() / np.maximum(aum, 1e-9)
    return gross - np.asarray(fee_bp, dtype=float) / 100.0


class _ForecastGrid:
    """The forecast table's rows placed on the (product, planned day) grid once, so that each
    variable and column is read from it with numpy alone.

    The plan reads five pivots a day (demand, redemptions, three quantiles): matching the
    product ids, dates and variable names once instead of for each saved most of their cost.
    """

    def __init__(self, table: pd.DataFrame, ids: tuple[str, ...], dates: pd.DatetimeIndex):
        self.table = table
        self.ids = ids
        self.dates = dates
        product = pd.Index(list(ids)).get_indexer(table["product_id"])
        day = pd.DatetimeIndex(dates).get_indexer(table["date"])
        self.variable = table["variable"].to_numpy(dtype=object)
        self.on_grid = (product >= 0) & (day >= 0)
        # the cell of each row, by position in the (P, H) grid (meaningless off the grid)
        self.cell = product * len(dates) + day

    def pivot(self, variable: str, column: str) -> np.ndarray:
        """``column`` of ``variable``'s rows as (P, H): the first known value of each product
        and day, as ``pivot_table(aggfunc="first")``.

        Raises:
            RainmakerError: a product and day has no known value.
        """
        values = self.table[column].to_numpy(dtype=float)
        keep = (self.variable == variable) & self.on_grid & ~np.isnan(values)
        cells, first = np.unique(self.cell[keep], return_index=True)
        wide = np.full((len(self.ids), len(self.dates)), np.nan)
        wide.flat[cells] = values[keep][first]
        if np.isnan(wide).any():
            p, d = np.argwhere(np.isnan(wide))[0]
            raise RainmakerError(
                f"forecast table lacks {variable} {column} for product {self.ids[p]} on "
                f"{pd.Timestamp(self.dates[d]):%Y-%m-%d}; expected one row per product and day"
            )
        return wide


def _product_column(
    products: pd.DataFrame, ids: tuple[str, ...], column: str, default: float
) -> np.ndarray:
    if column not in products.columns:
        return np.full(len(ids), float(default))
    values = pd.to_numeric(products.set_index("product_id")[column], errors="coerce")
    return values.reindex(list(ids)).fillna(default).to_numpy(dtype=float)


def _response_parameters(
    forecast: ForecastResult, ids: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Response curve ``(a, e0)`` per product from the forecast; no response where unknown."""
    a = np.zeros(len(ids))
    e0 = np.ones(len(ids))
    table = forecast.exposure_response
    if {"a", "e0"} <= set(table.columns):
        fitted = table.reindex(list(ids))
        a_fit = pd.to_numeric(fitted["a"], errors="coerce").to_numpy(dtype=float)
        e0_fit = pd.to_numeric(fitted["e0"], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(a_fit) & np.isfinite(e0_fit) & (a_fit >= 0) & (e0_fit > 0)
        a[ok] = a_fit[ok]
        e0[ok] = e0_fit[ok]
    return a, e0


def inputs_from_forecast(
    dataset: Dataset,
    as_of: str | pd.Timestamp,
    forecast: ForecastResult,
    settings: PlanSettings,
    holdings: pd.DataFrame | None = None,
    *,
    managed: Mapping[str, Mapping[str, float]] | None = None,
    borrowed: Mapping[str, float] | None = None,
    market_outlook: MarketForecast | None = None,
) -> tuple[PlanInputs, list[str]]:
    """Plan inputs from a data set and a forecast, using only what is known on ``as_of``.

    Args:
        dataset: the data set (rows after ``as_of`` are ignored).
        as_of: today.
        forecast: the forecast for the days after ``as_of`` (the stage contract
            :class:`rainmaker.contracts.ForecastResult`).
        settings: optimizer settings (horizon, ladder, target pace, confidence).
        holdings: today's positions (:data:`optimize.portfolio.HOLDING_COLUMNS`, e.g. from a
            backtest's portfolio); ``None`` reads ``holdings.csv`` or builds default ladders.
        managed: each product's managed book, share of AUM per bucket; ``None`` reads the data
            set's ``investment_mix`` table, else infers it from the published yields
            (:func:`rainmaker.investment_mix.managed_mixes`).
        borrowed: repo borrowing outstanding today per product, CNY (None: none); net assets
            are the holdings less it.
        market_outlook: the market forecast to price each day's purchases at (its median path)
            and to move the yield goal with; None: made from the data set's market rows when
            ``[market] forecast`` is on, else today's rates every day.

    Returns:
        The inputs and the warnings met on the way (plain sentences).

    Raises:
        UsageError: the forecast does not start the day after ``as_of``, or lacks a
            redemption quantile at the settings' confidence.
        DataError: invalid ``holdings.csv`` or ``sales_plan.csv``.
    """
    today = pd.Timestamp(as_of).normalize()
    data = dataset.up_to(today)
    warnings: list[str] = []
    ids = tuple(str(p) for p in forecast.product_ids)
    expected = _forecast_flows(forecast, settings, ids, today, warnings)
    dates = expected.dates

    flows = data.flows
    today_rows = _as_of_rows(flows, today, ids)
    aum_flows = today_rows["aum"].to_numpy(dtype=float)
    products = data.products
    fee_bp = _product_column(products, ids, "fee_bp", 0.0)

    calendar = workday_flags(
        today - pd.Timedelta(days=LOOKBACK_DAYS),
        dates[-1] + pd.Timedelta(days=CALENDAR_MARGIN_DAYS),
    )
    market_start = max(
        today - pd.Timedelta(days=LOOKBACK_DAYS), pd.Timestamp(data.market["date"].min())
    )
    market = data.market_daily(market_start, today)
    regime, recent_redemptions = _regime_and_stress(flows, market, today, ids, settings)
    rate_history = bucket_rates(market)
    rates_today = {name: float(rate_history[name].iloc[-1]) for name in rate_history.columns}
    # the buckets the plan may buy that are priced off another tenor's rate: a guess to say
    fallback = rate_fallback_note(
        market.columns, settings.purchases.buckets, data.file_name("market")
    )
    if fallback is not None:
        warnings.append(fallback)

    book = _managed_book(data, ids, fee_bp, today, settings, managed)
    # the 5-working-day window spans about 7 calendar days
    liquid_days = settings.liquidity.liquid_workdays * 7 / 5

    holdings, borrowed_today, aum_today = _starting_portfolio(
        data,
        holdings,
        ids,
        aum_flows,
        book,
        rate_history,
        rates_today,
        today,
        calendar,
        borrowed,
        warnings,
    )

    goal_rates = laddered_rates(rate_history, settings.targets.goal_rate_days)
    portfolio_now = portfolio_yield_pct(holdings, ids, aum_today, fee_bp, rates_today["cash"])
    # a product holding nothing earns nothing and pays no fee: not today's yield of an empty
    # book (minus the fee), which gave it a negative expected 7-day yield
    recent = _recent_income(flows, today, ids, np.where(aum_today > 0, portfolio_now, 0.0))
    target, purchase_rates = _target_yield(
        data,
        today,
        today_rows,
        ids,
        dates,
        settings,
        book,
        fee_bp,
        goal_rates,
        portfolio_now,
        recent,
        market,
        rate_history,
        market_outlook,
    )

    target_aum = _product_column(products, ids, "target_aum", np.nan)
    target_aum = np.where(np.isfinite(target_aum), target_aum, aum_today)
    liquidity = settings.liquidity
    if "quota" in today_rows.columns:
        quota_today = today_rows["quota"].to_numpy(dtype=float)
        open_today = ~(np.isfinite(quota_today) & (quota_today <= 0))
    else:
        open_today = np.ones(len(ids), dtype=bool)

    baseline = _baseline_exposure(forecast, ids, dates)
    response_a, response_e0 = _response_parameters(forecast, ids)
    channels, sales = _channel_sales(data, ids, today, dates)
    tier_wam, tier_liquid = _concentration_tiers(data, ids, today, warnings)
    inputs = PlanInputs(
        as_of=today,
        product_ids=ids,
        dates=dates,
        demand=expected.demand,
        redemptions=expected.redemptions,
        redemption_quantiles=expected.quantiles,
        aum_today=aum_today,
        fee_bp=fee_bp,
        holdings=holdings.reset_index(drop=True),
        rates_pct=rates_today,
        target_yield_pct=target,
        target_aum=target_aum,
        min_liquid_ratio=np.maximum(
            _product_column(products, ids, "min_liquid_ratio", liquidity.min_liquid_ratio),
            tier_liquid,
        ),
        min_cash_ratio=_product_column(products, ids, "min_cash_ratio", liquidity.min_cash_ratio),
        max_wam_days=_wam_caps(products, ids, book, tier_wam, settings),
        open_today=open_today,
        baseline_exposure=np.maximum(baseline, 0.0),
        response_a=response_a,
        response_e0=response_e0,
        channels=channels,
        sales=sales,
        recent_income_per_10k=recent,
        workday=calendar.loc[today:],
        redemption_paths=expected.redemption_paths,
        subscription_paths=expected.subscription_paths,
        recent_redemptions=recent_redemptions,
        defence=regime.defence,
        regime=regime,
        overnight_reference_pct=float(goal_rates["repo_1d"]),
        carry_reference_pct=carry_references(rate_history, settings.targets.goal_rate_days),
        borrowed_today=borrowed_today,
        book_gap_cny=_book_gaps(holdings, rates_today, today, ids),
        purchase_rates_pct=purchase_rates,
        managed_liquid_ratio=np.array(
            [maturing_share(book[p], liquid_days) for p in ids], dtype=float
        ),
        managed_cash_ratio=np.array([float(book[p].get("cash", 0.0)) for p in ids]),
        managed_overnight_ratio=np.array([maturing_share(book[p], 1) for p in ids], dtype=float),
        managed_ladder_ratio=np.array(
            [maturing_share(book[p], settings.liquidity.ladder_days) for p in ids], dtype=float
        ),
        managed_max_tenor_days=np.array([longest_tenor_days(book[p]) for p in ids], dtype=float),
        worst_outflow=worst_net_outflow(
            flows,
            today,
            ids,
            settings.liquidity.ladder_days,
            settings.liquidity.ladder_lookback_days,
        ),
        worst_days_off=worst_days_off_outflow(
            flows,
            today,
            ids,
            days_off_after_first_day(calendar.loc[today:].to_numpy(dtype=bool)),
            settings.liquidity.days_off_lookback_days,
        ),
    )
    return inputs, warnings


@dataclass(frozen=True)
class _ForecastFlows:
    """The forecast's flows as (P, H) arrays in CNY over the planned days."""

    dates: pd.DatetimeIndex
    demand: np.ndarray
    redemptions: np.ndarray
    # redemption quantile level → (P, H), non-crossing, including the settings' confidence
    quantiles: dict[float, np.ndarray]
    redemption_paths: np.ndarray | None
    subscription_paths: np.ndarray | None


def _forecast_flows(
    forecast: ForecastResult,
    settings: PlanSettings,
    ids: tuple[str, ...],
    today: pd.Timestamp,
    warnings: list[str],
) -> _ForecastFlows:
    """The planned days and the forecast's demand, redemptions, quantiles and paths over them."""
    horizon = int(min(forecast.horizon, settings.horizon.days))
    if forecast.horizon < settings.horizon.days:
        warnings.append(
            f"the forecast covers {forecast.horizon} days, fewer than the {settings.horizon.days}"
            " days of the settings: the plan covers the forecast's days"
        )
    dates = pd.date_range(today + pd.Timedelta(days=1), periods=horizon, freq="D")
    table = forecast.table.assign(date=pd.to_datetime(forecast.table["date"]))
    if table["date"].min() != dates[0]:
        raise UsageError(
            f"the forecast starts on {table['date'].min():%Y-%m-%d}; expected the day after the "
            f"as-of day, {dates[0]:%Y-%m-%d}"
        )
    grid = _ForecastGrid(table, ids, dates)
    demand = np.maximum(grid.pivot("subscriptions", "mean"), 0.0)
    redemptions = np.maximum(grid.pivot("redemptions", "mean"), 0.0)
    quantiles: dict[float, np.ndarray] = {}
    for column in table.columns:
        level = quantile_level(str(column))
        if level is not None and level >= 0.5:
            quantiles[level] = np.maximum(grid.pivot("redemptions", column), 0.0)
    paths = forecast.paths
    confidence = settings.liquidity.confidence
    redemption_paths = subscription_paths = None
    if "redemptions" in paths:
        sample = np.asarray(paths["redemptions"], dtype=float)[:, :, :horizon]
        order = [list(forecast.product_ids).index(p) for p in ids]
        if sample.shape[2] == horizon and np.isfinite(sample).all():
            redemption_paths = np.maximum(sample[order], 0.0)
            if "subscriptions" in paths:
                demand_sample = np.asarray(paths["subscriptions"], dtype=float)[:, :, :horizon]
                if demand_sample.shape == sample.shape and np.isfinite(demand_sample).all():
                    subscription_paths = np.maximum(demand_sample[order], 0.0)
        if confidence not in quantiles:
            quantiles[confidence] = np.maximum(np.quantile(sample[order], confidence, axis=1), 0.0)
    if not quantiles or max(quantiles) < confidence:
        have = ", ".join(quantile_label(q) for q in sorted(quantiles)) or "none"
        raise UsageError(
            f"the buffer is sized at confidence {confidence}, but the forecast has redemption "
            f"quantiles {have} and no sample paths; expected a quantile at or above it"
        )
    # quantiles must not cross: a sorted cumulative maximum repairs nothing material and keeps
    # the interpolation monotone, so a forecast whose p90 is a hair above its p95 still plans.
    running = None
    for level in sorted(quantiles):
        running = quantiles[level] if running is None else np.maximum(running, quantiles[level])
        quantiles[level] = running
    return _ForecastFlows(
        dates, demand, redemptions, quantiles, redemption_paths, subscription_paths
    )


def _as_of_rows(flows: pd.DataFrame, today: pd.Timestamp, ids: tuple[str, ...]) -> pd.DataFrame:
    """The flows rows of the as-of day, indexed by product in ``ids`` order."""
    last_rows = flows.loc[flows["date"] == today].set_index("product_id")
    missing = [p for p in ids if p not in last_rows.index]
    if missing:
        raise UsageError(
            f"no flows on the as-of day {today:%Y-%m-%d} for {', '.join(missing[:5])}; "
            "expected every planned product to have a row that day"
        )
    return last_rows.reindex(list(ids))


def _regime_and_stress(
    flows: pd.DataFrame,
    market: pd.DataFrame,
    today: pd.Timestamp,
    ids: tuple[str, ...],
    settings: PlanSettings,
) -> tuple[RegimeState, np.ndarray]:
    """The redemption regime and the stress floor's mean daily redemptions (P,), CNY."""
    regime = redemption_regime(flows, market, today, ids, settings.regime)
    # the statistics group the two columns they read, not copies of whole rows: pandas'
    # groupby on the same values, keys and row order, so the same sums at less cost
    date, product, redeemed = flows["date"], flows["product_id"], flows["redemptions"]
    lookback = settings.liquidity.stress_lookback_days
    recent = (date > today - pd.Timedelta(days=lookback)).to_numpy()
    recent_mean = redeemed[recent].groupby(product[recent]).mean()
    recent_redemptions = _per_product(recent_mean, ids)
    # in defence the stress floor follows the run: the mean of its last days, or its last
    # known day, when higher. A run persists and, in its first week, grows: the sample's
    # November 2020 wave took more each day for six days, so the mean of five days lagged
    # the day before a weekend by a third (P01: CNY 344 m a day against 533 m on the
    # Thursday, 636 m asked on the Saturday) and the weekend went unpaid
    run_days = settings.regime.pressure_days
    last = np.flatnonzero((date > today - pd.Timedelta(days=run_days)).to_numpy())
    # the window's rows by date (the order DataFrame.sort_values("date") gives them)
    by_date = last[date.iloc[last].reset_index(drop=True).sort_values().index.to_numpy()]
    by_product = redeemed.iloc[by_date].groupby(product.iloc[by_date])
    run_mean = _per_product(by_product.mean(), ids)
    last_day = _per_product(by_product.last(), ids)
    in_run = np.maximum(run_mean, last_day)
    recent_redemptions = np.where(
        regime.defence, np.maximum(recent_redemptions, in_run), recent_redemptions
    )
    return regime, recent_redemptions


def _per_product(statistic: pd.Series, ids: tuple[str, ...]) -> np.ndarray:
    """A statistic indexed by product id as an array in ``ids`` order, 0 where unknown (P,)."""
    return statistic.reindex(list(ids)).fillna(0.0).to_numpy(dtype=float)


def _wam_caps(
    products: pd.DataFrame,
    ids: tuple[str, ...],
    book: Mapping[str, Mapping[str, float]],
    tier_wam: np.ndarray,
    settings: PlanSettings,
) -> np.ndarray:
    """Each product's cap on the weighted average maturity (E19), days (P,): the regulatory
    or products.csv cap, the holder-concentration tier's, and ``purchases.max_wam_vs_book`` ×
    the managed book's as a steady ladder when that is on."""
    caps = np.minimum(
        _product_column(products, ids, "max_wam_days", settings.liquidity.max_wam_days), tier_wam
    )
    multiple = settings.purchases.max_wam_vs_book
    if multiple > 0:
        # the plan times and sizes purchases; how long the book runs is the manager's: a book
        # longer than the manager's earns more while rates fall and lags them when they rise
        managed = np.array([ladder_wam_days(book[p]) for p in ids], dtype=float)
        caps = np.minimum(caps, multiple * managed)
    return caps


def _managed_book(
    data: Dataset,
    ids: tuple[str, ...],
    fee_bp: np.ndarray,
    today: pd.Timestamp,
    settings: PlanSettings,
    managed: Mapping[str, Mapping[str, float]] | None,
) -> dict[str, dict[str, float]]:
    """Each product's managed book: share of AUM per bucket."""
    # the plan never holds less liquidity than that book would
    if managed is not None:
        return {p: dict(managed.get(p, settings.portfolio)) for p in ids}
    # inferring a book fits ladder yields over INFER_LOOKBACK_DAYS, each the mean of a
    # bucket's rate over its tenor: the rates must reach that much further back
    reach = INFER_LOOKBACK_DAYS + MAX_TENOR_DAYS + 10
    first = max(today - pd.Timedelta(days=reach), pd.Timestamp(data.market["date"].min()))
    mixes = managed_mixes(
        data.tables,
        data.files,
        data.flows,
        dict(zip(ids, fee_bp, strict=True)),
        bucket_rates(data.market_daily(first, today)),
        today + pd.Timedelta(days=1),
        ids,
        default=ManagedMix(dict(settings.portfolio)),
        known=data.products["product_id"].astype(str).tolist(),
    )
    return {p: dict(m.weights) for p, m in mixes.items()}


def _starting_portfolio(
    data: Dataset,
    holdings: pd.DataFrame | None,
    ids: tuple[str, ...],
    aum_flows: np.ndarray,
    book: Mapping[str, Mapping[str, float]],
    rate_history: pd.DataFrame,
    rates_today: Mapping[str, float],
    today: pd.Timestamp,
    calendar: pd.Series,
    borrowed: Mapping[str, float] | None,
    warnings: list[str],
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Today's holdings, repo borrowed (P,) CNY and net assets (P,) CNY the plan starts from."""
    # explicit holdings, else holdings.csv, else each product's managed book held as a steady
    # ladder
    aum_cny = dict(zip(ids, aum_flows.tolist(), strict=True))
    if holdings is not None:
        holdings = read_holdings(
            holdings, today, ids, rates_today["cash"], file="holdings", aum_cny=aum_cny
        )
    elif "holdings" in data.tables:
        file = data.file_name("holdings")
        holdings = read_holdings(
            data.tables["holdings"], today, ids, rates_today["cash"], file=file, aum_cny=aum_cny
        )
        stale = missing_snapshot_note(data.tables["holdings"], today, file)
        if stale is not None:
            warnings.append(stale)
    if holdings is None:
        holdings = _managed_ladders(ids, aum_flows, book, rate_history, today, calendar)
    else:
        # the distinct ids only: a set of every lot's id walked a thousand lots a day
        covered = set(holdings["product_id"].unique())
        lacking = [p for p in ids if p not in covered]
        if lacking:
            warnings.append(
                f"no holdings for {len(lacking)} product(s) ({', '.join(lacking[:5])}): "
                "a default ladder is assumed"
            )
            mask = np.isin(ids, lacking)
            ladder = _managed_ladders(
                tuple(lacking), aum_flows[mask], book, rate_history, today, calendar
            )
            holdings = pd.concat([holdings, ladder], ignore_index=True)
    borrowed_today = np.array([float((borrowed or {}).get(p, 0.0)) for p in ids], dtype=float)
    if not (np.isfinite(borrowed_today).all() and (borrowed_today >= 0).all()):
        raise UsageError("borrowed: repo borrowing must be finite amounts >= 0 CNY")
    amounts, owner = holdings["amount_cny"], holdings["product_id"]
    held = amounts.groupby(owner).sum().reindex(list(ids)).to_numpy() - borrowed_today
    # net assets of nil summed to a float residue below zero are nil
    gross = amounts.abs().groupby(owner).sum().reindex(list(ids)).to_numpy() + borrowed_today
    held = nil_within_noise(held, gross)
    off = np.abs(held - aum_flows) > 0.01 * np.maximum(aum_flows, 1.0)
    for i in np.flatnonzero(off)[:5]:
        warnings.append(
            f"holdings of {ids[i]} total {held[i]:,.0f} CNY but flows give an AUM of "
            f"{aum_flows[i]:,.0f} CNY on {today:%Y-%m-%d}: the plan starts from the holdings"
        )
    return holdings, borrowed_today, held


def _target_yield(
    data: Dataset,
    today: pd.Timestamp,
    today_rows: pd.DataFrame,
    ids: tuple[str, ...],
    dates: pd.DatetimeIndex,
    settings: PlanSettings,
    book: Mapping[str, Mapping[str, float]],
    fee_bp: np.ndarray,
    goal_rates: pd.Series,
    portfolio_now: np.ndarray,
    recent: np.ndarray,
    market: pd.DataFrame,
    rate_history: pd.DataFrame,
    market_outlook: MarketForecast | None,
) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
    """The target 7-day yield path (P, H), percent, and the outlook's purchase rates (or None)."""
    horizon = len(dates)
    # Today's yield and the smooth target path towards the yield the product's managed book
    # earns as it rolls (not today's rates: a rate spike is no place to steer to).
    ladder_gross = np.array(
        [sum(float(share) * float(goal_rates[b]) for b, share in book[p].items()) for p in ids]
    )
    chosen_goal = _product_column(data.products, ids, "target_yield_pct", np.nan)
    goal = np.where(np.isfinite(chosen_goal), chosen_goal, ladder_gross - fee_bp / 100.0)
    if "yield_7d" in today_rows.columns:
        y7 = today_rows["yield_7d"].to_numpy(dtype=float)
        now = np.where(np.isfinite(y7), compounded_to_simple_pct(y7), portfolio_now)
    else:
        now = recent.mean(axis=1) * DAYS_PER_YEAR / 100.0
    target = target_yield_path(now, goal, horizon, settings.targets.yield_time_constant_days)
    outlook = market_outlook
    if outlook is None and settings.market.forecast:
        outlook = market_forecast(data.market, today, horizon)
    purchase_rates = None
    if outlook is not None:
        purchase_rates, goal_change = forecast_rate_paths(
            outlook, market, rate_history, dates, settings.targets.goal_rate_days
        )
        # the goal moves by what the forecast adds to the rolled book's rates (a goal the
        # products table chose stays): target(t) = goal(t) + (now − goal(t)) · exp(−t / τ)
        shift = np.array(
            [sum(float(s) * goal_change[b] for b, s in book[p].items()) for p in ids]
        ).reshape(len(ids), horizon)
        shift = np.where(np.isfinite(chosen_goal)[:, None], 0.0, shift)
        decay = np.exp(-np.arange(1, horizon + 1) / settings.targets.yield_time_constant_days)
        target = target + shift * (1.0 - decay)[None, :]
    return target, purchase_rates


def _baseline_exposure(
    forecast: ForecastResult, ids: tuple[str, ...], dates: pd.DatetimeIndex
) -> np.ndarray:
    """The marketing exposure (P, H) the forecast assumed; 0 where it names none."""
    exposure = forecast.baseline_exposure
    if not len(exposure.columns):
        return np.zeros((len(ids), len(dates)))
    frame = exposure.copy()
    frame.index = pd.to_datetime(frame.index)
    return frame.reindex(index=dates, columns=list(ids)).fillna(0.0).to_numpy(dtype=float).T


def _channel_sales(
    data: Dataset, ids: tuple[str, ...], today: pd.Timestamp, dates: pd.DatetimeIndex
) -> tuple[tuple[str, ...], pd.DataFrame]:
    """Each product's sales channel ("" without one) and the channels' sales requirements."""
    products = data.products
    channel_of: dict[str, str] = {}
    if "channel" in products.columns:
        known = products.dropna(subset=["channel"])
        channel_of = dict(
            zip(known["product_id"].astype(str), known["channel"].astype(str), strict=True)
        )
    channels = tuple(channel_of.get(p, "") for p in ids)
    sales = sales_requirements(
        pd.DataFrame(columns=["channel", "start", "end", "target_cny"]),
        channel_of,
        data.flows,
        today,
        dates,
    )
    if "sales_plan" in data.tables:
        flows = data.flows
        plan = read_sales_plan(
            data.tables["sales_plan"],
            set(channel_of.values()),
            file=data.file_name("sales_plan"),
            size_cny=float(flows.loc[flows["date"] == today, "aum"].sum()),
        )
        sales = sales_requirements(plan, channel_of, data.flows, today, dates)
    return channels, sales


def _concentration_tiers(
    data: Dataset, ids: tuple[str, ...], today: pd.Timestamp, warnings: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Holder concentration's WAM ceiling (P,), days, and 5-day liquidity floor (P,), share."""
    # holder concentration (holders.csv) tightens WAM and the 5-day liquidity (DOMAIN.md
    # "Regulation"; rainmaker.rules.concentration_limits): a product whose top-10 holders own
    # more than 20 % of its units keeps WAM <= 90 days and 20 % liquid within 5 working days
    top10 = latest_top10(data, today)
    tiers = [concentration_limits(top10[p].share if p in top10 else math.nan) for p in ids]
    tier_wam = np.array([t[0] for t in tiers], dtype=float)
    tier_liquid = np.array([t[2] for t in tiers], dtype=float)
    untightened = concentration_limits(math.nan)
    for p, (wam, _, liquid) in zip(ids, tiers, strict=True):
        if wam < untightened[0]:
            # the share is the last row on or before the as-of day, however old (holders.csv is
            # updated at reporting dates): the row's date and age let the reader judge it
            row = top10[p]
            age = row.days_old(today)
            source = (
                f"holders.csv share of the as-of day {row.date:%Y-%m-%d}"
                if age == 0
                else f"holders.csv share from {row.date:%Y-%m-%d} ({age} day{'s' * (age != 1)} "
                "before the as-of day) carried forward"
            )
            warnings.append(
                f"{p}: {source}: top-10 holders own {row.share:.0%} of its units: WAM at most "
                f"{wam:g} days, 5-day liquidity at least {liquid:.0%}"
            )
    return tier_wam, tier_liquid


def _managed_ladders(
    ids: tuple[str, ...],
    aum_cny: np.ndarray,
    book: Mapping[str, Mapping[str, float]],
    rate_history: pd.DataFrame,
    today: pd.Timestamp,
    calendar: pd.Series,
) -> pd.DataFrame:
    """Each product's managed book as a steady ladder (:func:`optimize.portfolio.default_ladder`
    for every group of products sharing a mix)."""
    groups: dict[tuple[tuple[str, float], ...], list[int]] = {}
    for i, pid in enumerate(ids):
        groups.setdefault(tuple(sorted(book[pid].items())), []).append(i)
    frames = [
        default_ladder(
            tuple(ids[i] for i in members),
            np.asarray(aum_cny, dtype=float)[members],
            dict(mix),
            rate_history,
            today,
            calendar,
        )
        for mix, members in groups.items()
    ]
    return pd.concat(frames, ignore_index=True)


def days_off_runs(workday: np.ndarray) -> np.ndarray:
    """For every day of the horizon that is a day off, the day index of the last working day
    before it (−1 is the as-of day; smaller values are days before it); −2**31 on working
    days. ``workday`` (H+1,) flags the as-of day first, then the horizon's days."""
    flags = np.asarray(workday, dtype=bool)
    h = len(flags) - 1
    out = np.full(h, np.iinfo(np.int32).min, dtype=np.int64)
    last = -1 if flags[0] else -2  # the as-of day, or some day before it
    for t in range(h):
        if flags[t + 1]:
            last = t
        else:
            out[t] = last
    return out


def days_off_after_first_day(workday: np.ndarray) -> int:
    """How many days off follow the plan's first day before the next working day (0 when the
    first day is no eve of days off): the days off whose last working day is the first day
    (:func:`days_off_runs`).

    Args:
        workday: working-day flags from the as-of day on (the plan's first day second).
    """
    return int(np.count_nonzero(days_off_runs(workday) == 0))


def worst_days_off_outflow(
    flows: pd.DataFrame,
    today: pd.Timestamp,
    ids: tuple[str, ...],
    days_off: int,
    lookback_days: int,
) -> np.ndarray:
    """The largest net outflow over the first ``days_off`` days of every run of days off in
    the ``lookback_days`` up to ``today``, share of the AUM on the working day before them, per
    product (P,); 0 where no such run is known, ``days_off`` is 0 or the lookback is 0.

    Net: the redemptions of those days less the subscriptions of all but the last of them
    (money subscribed on a day off settles the next day, and pays that day's redemptions: the
    world's rule and the plan's, E27). A run of more days off counts by its first ``days_off``.

    Args:
        flows: flows rows known on ``today`` (``date``, ``product_id``, ``subscriptions``,
            ``redemptions``, ``aum``).
        today: the as-of day.
        ids: the products, in array order.
        days_off: the days off right after the plan's first day
            (:func:`days_off_after_first_day`).
        lookback_days: days of history searched (0: off).
    """
    if lookback_days <= 0 or days_off <= 0:
        return np.zeros(len(ids))
    rows = flows.loc[
        (flows["date"] > today - pd.Timedelta(days=lookback_days)) & (flows["date"] <= today)
    ]
    if rows.empty:
        return np.zeros(len(ids))
    dates, products, wide = flows_by_day(rows, ("redemptions", "subscriptions", "aum"))
    work = workday_flags(dates[0], dates[-1]).reindex(dates).to_numpy(dtype=bool)
    if len(work) <= days_off:
        return np.zeros(len(ids))
    # eves: a working day followed by at least ``days_off`` days off, all within the history
    windows = np.lib.stride_tricks.sliding_window_view(~work[1:], days_off)
    run_off = np.asarray(windows.all(axis=1), dtype=bool)
    eves = np.flatnonzero(work[: run_off.shape[0]] & run_off)
    if eves.size == 0:
        return np.zeros(len(ids))
    redeemed = np.nan_to_num(wide["redemptions"])
    subscribed = np.nan_to_num(wide["subscriptions"])
    worst = np.zeros(len(products))
    for eve in eves:
        net = redeemed[eve + 1 : eve + 1 + days_off].sum(axis=0) - subscribed[
            eve + 1 : eve + days_off
        ].sum(axis=0)
        aum = wide["aum"][eve]
        share = np.divide(net, aum, out=np.zeros_like(net), where=np.isfinite(aum) & (aum > 0))
        worst = np.maximum(worst, share)
    out = pd.Series(worst, index=products).reindex(list(ids)).fillna(0.0)
    return np.clip(out.to_numpy(dtype=float), 0.0, 1.0)


def worst_net_outflow(
    flows: pd.DataFrame,
    today: pd.Timestamp,
    ids: tuple[str, ...],
    window_days: int,
    lookback_days: int,
) -> np.ndarray:
    """The largest net outflow (redemptions less subscriptions) over ``window_days`` days in
    the ``lookback_days`` up to ``today``, share of the AUM at the start of those days, per
    product (P,); 0 where the history is shorter than the window or the lookback is 0.

    Args:
        flows: flows rows known on ``today`` (``date``, ``product_id``, ``subscriptions``,
            ``redemptions``, ``aum``).
        today: the as-of day.
        ids: the products, in array order.
        window_days: days over which the outflow is summed (the ladder's window).
        lookback_days: days of history searched (0: off).
    """
    if lookback_days <= 0:
        return np.zeros(len(ids))
    first = today - pd.Timedelta(days=lookback_days + window_days)
    rows = flows.loc[(flows["date"] > first) & (flows["date"] <= today)]
    _, products, wide = flows_by_day(rows, ("redemptions", "subscriptions", "aum"))
    if not len(products):
        return np.zeros(len(ids))
    net = pd.DataFrame(wide["redemptions"] - wide["subscriptions"])
    # the rolling sums stay pandas' (its running sums are the numbers); the rest is numpy
    summed = net.rolling(window_days, min_periods=window_days).sum().to_numpy()
    aum = wide["aum"]
    start = np.full_like(aum, np.nan)  # the AUM window_days before: at the window's start
    if window_days < len(aum):
        start[window_days:] = aum[: len(aum) - window_days]
    share = summed / np.where(start > 0, start, np.nan)
    # each product's largest share, NaN where it has none (DataFrame.max, NaN skipped)
    known = ~np.isnan(share)
    worst = np.where(known.any(axis=0), np.where(known, share, -np.inf).max(axis=0), np.nan)
    position = pd.Index(products).get_indexer(list(ids))
    worst = np.where(position >= 0, worst[position], np.nan)
    return np.clip(np.where(np.isnan(worst), 0.0, worst), 0.0, 1.0)


def _recent_income(
    flows: pd.DataFrame, today: pd.Timestamp, ids: tuple[str, ...], portfolio_now_pct: np.ndarray
) -> np.ndarray:
    """万份收益 of the six days up to today (P, 6): observed, else from the 7-day yield column,
    else today's portfolio yield held constant (``portfolio_now_pct``: 0 for a product that
    holds nothing)."""
    days = pd.date_range(today - pd.Timedelta(days=RECENT_DAYS - 1), today, freq="D")
    wanted = [c for c in ("income_per_10k", "yield_7d") if c in flows.columns]
    # the window's rows, only the columns read (not a copy of every column)
    window = flows.loc[flows["date"].isin(days).to_numpy(), ["product_id", "date", *wanted]]
    wide = _by_product_and_day(window, wanted, ids, days)
    out = wide.get("income_per_10k", np.full((len(ids), RECENT_DAYS), np.nan))
    if "yield_7d" in wide and np.isnan(out).any():
        from_yield = _income_per_10k_from_yield(wide["yield_7d"])
        out = np.where(np.isnan(out), from_yield, out)
    from_portfolio = np.asarray(portfolio_now_pct, dtype=float) / 100.0 / DAYS_PER_YEAR * 10_000.0
    return np.where(np.isnan(out), from_portfolio[:, None], out)


def _by_product_and_day(
    rows: pd.DataFrame, columns: Sequence[str], ids: tuple[str, ...], days: pd.DatetimeIndex
) -> dict[str, np.ndarray]:
    """Each of ``columns`` as (product, day), NaN where unknown: the mean of the known values of
    each product and day, as ``pivot_table``; with one row per product and day (as a valid data
    set has), the values placed by position, which gives the same numbers at a tenth of the
    cost. ``rows`` are dated within ``days``."""
    if not columns:
        return {}
    product = pd.Index(list(ids)).get_indexer(rows["product_id"])
    day = days.get_indexer(rows["date"])
    # a (product, day) met twice, by codes (NaN ids alike, as DataFrame.duplicated has them)
    every_product = pd.factorize(rows["product_id"], use_na_sentinel=False)[0]
    pair = every_product.astype(np.int64) * (len(days) + 1) + day
    if len(np.unique(pair)) < len(pair):
        return {
            column: rows.pivot_table(index="product_id", columns="date", values=column)
            .reindex(index=list(ids), columns=days)
            .to_numpy(dtype=float)
            for column in columns
        }
    keep = (product >= 0) & (day >= 0)
    out = {}
    for column in columns:
        values = rows[column].to_numpy(dtype=float)
        wide = np.full((len(ids), len(days)), np.nan)
        wide[product[keep], day[keep]] = values[keep]
        out[column] = wide
    return out
