"""The closed-loop replay: history day by day, with a policy's decisions in the loop.

:func:`replay` rolls every product's portfolio (:class:`simulate.portfolio.Portfolio`) over the
calendar days of a window. On each day ``t``:

1. **Decide.** The policy (:mod:`simulate.policies`) sees the data set as known at the end of
   ``t − 1``: historical rows before the window, the replay's own rows from its first day
   (accepted subscriptions, quotas, exposure, AUM, 万份收益, 7-day yield), and each product's
   portfolio at the end of ``t − 1``. Only the oracle also gets the full data set. The policy
   returns a quota, a buffer target, an investment mix or purchases, and an exposure per product.
2. **Demand.** Fresh demand is the data set's ``demand`` of day ``t`` where present, else its
   ``subscriptions`` (censored where history had a binding quota). When the policy sets an
   exposure ``e`` other than history's ``e_h``, demand moves along the response curve of
   :mod:`rainmaker.response`: ``demand × m(e) / m(e_h)`` with ``m(e) = 1 + a·log(1 + e/e0)``.
   Refused demand is lost, except a share ``returning_share`` (default 0) that comes back on the
   next working day on top of that day's fresh demand.
3. **Accept.** Accepted subscriptions = ``min(fresh + returning demand, quota)``; the refused
   part is the day's refused demand.
4. **Redemptions.** Holders redeem the same share of their holdings as in history:
   ``redemptions(t) × AUM_replay(t−1) / AUM_history(t−1)`` (AUM_replay less the redemptions
   still owed to earlier days' holders, who have asked already), so a product that refused
   money has proportionally fewer holders redeeming; at most ``max_redemption_share`` of
   AUM_replay(t−1).
   When the two AUMs agree (every policy until it first refuses demand) this is history's amount.
   **A product closed by a full redemption** (history's AUM goes to 0 on a day with
   redemptions: every unit redeemed) closes in the replay too: every replayed unit is
   redeemed, the day's income included, whatever the cap (``redeem_all`` of
   :meth:`Portfolio.step`: on a working day the book is sold and the last holders get all it
   fetches; on a day off only money on hand pays, the rest is ``unpaid``); it is not deferred.
5. **Large redemptions** (巨额赎回, only with ``ReplaySettings.large_redemption_deferral``):
   net redemptions (requests − accepted subscriptions) above
   :data:`rainmaker.regulation.LARGE_REDEMPTION_SHARE` of the previous day's units are deferred
   to the next working day, paid first then; the deferred part is that day's ``unpaid`` (and
   ``deferred``).
6. **Roll.** :meth:`Portfolio.step` books maturities, income at each lot's rate, fees,
   redemptions (what is owed from earlier days first; beyond the money on hand by repo
   borrowing within ``max_leverage``, then by selling lots early at market value with
   ``sale_spread_bp`` over the day's curve, on working days; else unpaid: the day's
   ``shortfall`` = ``repo_funded + sold_early + unpaid``), subscriptions (earning from the next
   working day) and the day's
   purchases at that day's market rates (:func:`rainmaker.assets.bucket_rates`, the buckets and
   spreads the optimizer prices with), carried out by
   :class:`simulate.policies.DecisionAllocation`. 万份收益 comes from the portfolio and the
   7-day yield from :func:`rainmaker.yields.yield_7d` over the last seven calendar days,
   history's published 万份收益 filling the days before the window. Money is conserved to the
   fen: ``aum(t) = aum(t−1) + subscriptions − redemptions + net_income``, with ``redemptions``
   the redemptions paid that day and net assets = assets − repo borrowing.

**Warm-up** (SPEC §3). The replay begins ``warmup_days`` (default :data:`DEFAULT_WARMUP_DAYS`)
before ``start``, clipped to the day after the data set's first flows day, so that the policy's
book and the 7-day yield are settled when the window opens: the days before ``start`` are
replayed like any other (the policy decides on them, its forecaster is fitted on the day before
the first of them), are marked ``warmup`` in ``daily``, and are left out of every figure of
``metrics``, which covers ``start..end`` only.

**Starting point.** Each product starts from the data set's ``aum`` on the day before the
replay's first day, held as a steady ladder of its mix (:meth:`Portfolio.from_ladder`) bought
over each bucket's tenor at the rates of those days. A product whose flows begin later starts
on its first flows day: from nothing when it is launched that day, from the AUM before that day
(the first row's less its flows) when that is more than :data:`LATE_START_SHARE` of the first
row's (a book whose history simply begins late).
The mix is the product's own when the data set has an ``investment_mix`` table
(:mod:`rainmaker.investment_mix`: how the product was managed), else the mix inferred from its
published yields before the replay's first day (:func:`rainmaker.investment_mix.infer_mix`; the
default :data:`simulate.portfolio.DEFAULT_MIX` for a product without published yields), or
``ReplaySettings.initial_mix`` for every product when given. Policies see the products' rules as
:attr:`simulate.policies.ReplayState.managed`: ``none`` and ``rule`` keep investing by them,
``optimizer`` and ``oracle`` start their plans from the portfolio they built.

Exposure response parameters ``(a, e0)`` per product come from ``ReplaySettings.response``, or
the data set's ``exposure_response`` table (columns ``product_id, a, e0``), or else are estimated
once, on the data before the window, by the forecast's estimator
(:func:`forecast.exposure.fit_exposure_response`, the curve the optimizer plans with), so that
every policy meets the same world. A product without a curve keeps history's demand whatever
the exposure (a warning says so when a policy moves it).
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from rainmaker.assets import bucket_rates
from rainmaker.china_calendar import Workdays, day_number
from rainmaker.dataset import Dataset
from rainmaker.errors import DataError, Problem, UsageError, table_lines
from rainmaker.investment_mix import ManagedMix, read_investment_mix
from rainmaker.investment_mix import managed_mixes as ground_managed_mixes
from rainmaker.regulation import LARGE_REDEMPTION_SHARE, MAX_LEVERAGE
from rainmaker.response import ExposureResponse, exposure_response
from rainmaker.shadow_price import book_gap, deviation_pct
from rainmaker.valuation import DEFAULT_SALE_SPREAD_BP
from rainmaker.yields import yield_7d
from simulate.backtest_metrics import backtest_metrics, metrics_table
from simulate.plots import yield_figure
from simulate.policies import (
    Decision,
    DecisionAllocation,
    Policy,
    ProductDecision,
    ReplayState,
)
from simulate.portfolio import Portfolio

__all__ = [
    "DAILY_COLUMNS",
    "DEFAULT_WARMUP_DAYS",
    "MAX_LEVERAGE_ALLOWED",
    "ReplayResult",
    "ReplaySettings",
    "managed_mixes",
    "replay",
    "replay_first_day",
    "replayed_products",
    "response_table",
]

# daily.csv: SPEC §3 columns first, then the decisions and the accounting behind them, and the
# shadow-price deviation (percent of net assets: the book marked to the day's curve,
# rainmaker.shadow_price).
DAILY_COLUMNS = (
    "date",
    "product_id",
    "demand",
    "subscriptions",
    "redemptions",
    "aum",
    "income_per_10k",
    "yield_7d",
    "benchmark_yield_7d",
    "liquidity_buffer",
    "shortfall",
    "repo_funded",
    "sold_early",
    "realised_loss",
    "unpaid",
    "deferred",
    "borrowed",
    "warmup",
    "quota",
    "exposure",
    "buffer_target",
    "refused",
    "returning",
    "net_income",
    "fees",
    "repo_interest",
    "requested",
    "owed",
    "cash",
    "deviation_pct",
)
# The replay's rows replace these columns of the history a policy sees.
OBSERVED_COLUMNS = (
    "subscriptions",
    "redemptions",
    "aum",
    "quota",
    "exposure",
    "income_per_10k",
    "yield_7d",
    "demand",
)
YIELD_PRIOR_DAYS = 6  # days of 万份收益 before the first day that its 7-day yield needs
# SPEC §3: days replayed before --start so that the book and the 7-day yield are settled.
DEFAULT_WARMUP_DAYS = 60
# A product whose flows begin inside the replay with an AUM before its first day above this
# share of its first row's was not launched that day: it starts from that AUM (a launch's is 0
# but for rounding and the day's income).
LATE_START_SHARE = 0.01
# The most leverage the world accepts (total assets / net assets): 1.2 is the rule
# (rainmaker.regulation.MAX_LEVERAGE); up to 2 for a what-if, never more.
MAX_LEVERAGE_ALLOWED = 2.0

Progress = Callable[[int, int, pd.Timestamp], None]


@dataclass(frozen=True)
class ReplaySettings:
    """How the replay's world behaves (the same for every policy).

    Attributes:
        returning_share: share of refused demand that comes back on the next working day
            (0..1; default 0: refused demand is lost).
        sale_spread_bp: yield over the day's curve at which lots are sold before maturity, bp
            of yield (default :data:`rainmaker.valuation.DEFAULT_SALE_SPREAD_BP`, 10 bp).
        max_leverage: total assets / net assets that repo borrowing may reach (1 to
            :data:`MAX_LEVERAGE_ALLOWED`; 1 turns borrowing off; default
            :data:`rainmaker.regulation.MAX_LEVERAGE`, 1.2).
        large_redemption_deferral: defer net redemptions above
            :data:`rainmaker.regulation.LARGE_REDEMPTION_SHARE` of the previous day's units to
            the next working day (巨额赎回; default off).
        max_redemption_share: cap on one day's redemptions, share of the previous day's AUM.
        initial_mix: bucket shares of AUM of every product's starting ladder and investment rule;
            ``None`` (default) takes each product's rule from the data set's
            ``investment_mix`` table, or :data:`simulate.portfolio.DEFAULT_MIX` for a product
            without one.
        response: exposure response per product; ``None`` reads the data set's
            ``exposure_response`` table when it has one.
    """

    returning_share: float = 0.0
    sale_spread_bp: float = DEFAULT_SALE_SPREAD_BP
    max_leverage: float = MAX_LEVERAGE
    large_redemption_deferral: bool = False
    max_redemption_share: float = 0.5
    initial_mix: Mapping[str, float] | None = None
    response: Mapping[str, ExposureResponse] | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.returning_share <= 1.0:
            raise UsageError(f"returning_share must be in [0, 1], got {self.returning_share}")
        if not 0.0 < self.max_redemption_share <= 1.0:
            raise UsageError(
                f"max_redemption_share must be in (0, 1], got {self.max_redemption_share}"
            )
        if not (math.isfinite(self.sale_spread_bp) and 0.0 <= self.sale_spread_bp < 10_000):
            raise UsageError(
                f"the early-sale spread must be in [0, 10000) bp of yield, got "
                f"{self.sale_spread_bp}"
            )
        if not 1.0 <= self.max_leverage <= MAX_LEVERAGE_ALLOWED:
            raise UsageError(
                f"max_leverage must be in [1, {MAX_LEVERAGE_ALLOWED:g}] (total assets / net "
                f"assets; the rule is {MAX_LEVERAGE:g}), got {self.max_leverage}"
            )


@dataclass
class ReplayResult:
    """What a replay produced.

    Attributes:
        policy: the policy's name.
        daily: one row per (date, product_id), columns :data:`DAILY_COLUMNS`.
        decisions: the policy's decision per (date, product_id): quota (NaN = uncapped),
            buffer_target, cash_target (NaN = the mix's cash share), exposure (NaN =
            history's) and ``buy_<bucket>`` purchases (CNY; NaN when the policy gave a mix).
        metrics: :func:`simulate.backtest_metrics.backtest_metrics` of the window's rows of
            ``daily`` (``start..end``; the warm-up days are left out), with ``warmup_days`` and
            ``replay_start`` (the first day replayed).
        seconds: wall-clock time of the replay.
        settings: the world's settings.
        policy_params: the policy's hyper-parameters.
        policy_timings: seconds the policy spent by step (e.g. forecast, plan).
        start, end: the window the figures cover; replay_start: the first day replayed.
        starting_mix: each product's investment rule (bucket shares of AUM) its starting book
            was built from: the ``investment_mix`` table's, inferred, or the default.
    """

    policy: str
    daily: pd.DataFrame
    decisions: pd.DataFrame
    metrics: dict[str, Any]
    seconds: float
    settings: ReplaySettings
    policy_params: dict[str, object]
    policy_timings: dict[str, float] = field(default_factory=dict)
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    replay_start: pd.Timestamp | None = None
    starting_mix: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def window(self) -> pd.DataFrame:
        """The rows of ``daily`` inside ``start..end`` (the warm-up days left out)."""
        return self.daily.loc[~self.daily["warmup"].astype(bool)].reset_index(drop=True)

    def table(self) -> pd.DataFrame:
        """The window's figures: one row per product, then ``total`` (bp, CNY; see
        :func:`simulate.backtest_metrics.metrics_table`)."""
        return metrics_table(self.metrics)

    def plot(self) -> Any:
        """The window's AUM-weighted 7-day yield against the benchmark: a matplotlib Figure
        (:func:`simulate.plots.yield_figure`)."""
        return yield_figure({self.policy: self.window})

    def __repr__(self) -> str:
        total = self.metrics.get("total", {})
        window = (
            f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"
            if self.start is not None and self.end is not None
            else "?"
        )
        return (
            f"ReplayResult({self.policy}, {window}, "
            f"{self.daily['product_id'].nunique()} products, "
            f"relative vol {total.get('relative_vol_bp', float('nan')):+.2f} bp, "
            f"mean excess {total.get('mean_excess_bp', float('nan')):+.2f} bp, "
            f"shortfall days {total.get('shortfall_days', '?')}, {self.seconds:.1f} s; "
            "see .table(), .plot())"
        )


def response_table(dataset: Dataset) -> dict[str, ExposureResponse]:
    """Exposure response per product from the data set's ``exposure_response`` table.

    Returns:
        ``{product_id: ExposureResponse}``; empty when the data set has no such table.

    Raises:
        DataError: the table lacks ``product_id``, ``a`` or ``e0``, holds a value out of
            range (``a`` ≥ 0, ``e0`` > 0 expected), a product twice or one products.csv
            does not list.
    """
    table = dataset.tables.get("exposure_response")
    if table is None:
        return {}
    file = dataset.file_name("exposure_response")
    missing = [c for c in ("product_id", "a", "e0") if c not in table.columns]
    if missing:
        raise DataError(
            [Problem(file, c, "column is missing; expected product_id, a, e0") for c in missing]
        )
    a = pd.to_numeric(table["a"], errors="coerce")
    e0 = pd.to_numeric(table["e0"], errors="coerce")
    ids = table["product_id"].astype(str)
    problems = []
    for column, bad, expected in (
        # each column named for its own values: a bad e0 was reported under column 'a'
        ("a", ~(a >= 0), "expected a number a >= 0 (the curve's sensitivity)"),
        ("e0", ~(e0 > 0), "expected a number e0 > 0 (the exposure scale, in its unit)"),
        (
            "product_id",
            ~ids.isin(dataset.products["product_id"].astype(str)),
            "unknown product; expected a product_id of products.csv (spelling, spaces)",
        ),
        ("product_id", ids.duplicated(keep=False), "expected one row per product"),
    ):
        if bad.any():
            problems.append(Problem(file, column, expected, *table_lines(bad)))
    if problems:
        raise DataError(problems)
    return {
        str(pid): ExposureResponse(float(x), float(y))
        for pid, x, y in zip(table["product_id"], a, e0, strict=True)
    }


def managed_mixes(
    dataset: Dataset,
    product_ids: Sequence[str],
    settings: ReplaySettings,
    first_day: pd.Timestamp | None = None,
    rates_pct: pd.DataFrame | None = None,
) -> dict[str, ManagedMix]:
    """Each product's investment rule in the replay: ``settings.initial_mix`` for all when
    given, else the data set's ``investment_mix`` table, else (a product the table does not
    list, or a data set without the table, like a bank's) the mix inferred from its published
    yields before ``first_day`` (:func:`rainmaker.investment_mix.inferred_mixes`; the default
    :class:`~rainmaker.investment_mix.ManagedMix` when it has too few, or when ``first_day``
    is not given).

    Args:
        dataset: the data set.
        product_ids: the products replayed.
        settings: the world's settings.
        first_day: the replay's first day; only data dated before it are used.
        rates_pct: bucket purchase rates of every calendar day before ``first_day``, percent
            (computed from the data set's market when not given).

    Raises:
        DataError: an invalid ``investment_mix`` table
            (:func:`rainmaker.investment_mix.read_investment_mix`).
    """
    if settings.initial_mix is not None:
        given = ManagedMix(dict(settings.initial_mix))
        return {pid: given for pid in product_ids}
    if first_day is None:
        table = read_investment_mix(
            dataset.tables,
            dataset.file_name("investment_mix"),
            known=dataset.products["product_id"].astype(str).tolist(),
        )
        return {pid: table.get(pid) or ManagedMix() for pid in product_ids}
    eve = first_day - pd.Timedelta(days=1)
    if rates_pct is None:
        rates_pct = bucket_rates(dataset.market_daily(dataset.market["date"].min(), eve))
    fee_bp = dataset.products.set_index("product_id")["fee_bp"].astype(float)
    return ground_managed_mixes(
        dataset.tables,
        dataset.files,
        dataset.flows.loc[dataset.flows["date"] < first_day],
        fee_bp.to_dict(),
        rates_pct.loc[:eve],
        first_day,
        product_ids,
        known=dataset.products["product_id"].astype(str).tolist(),
    )


class _WorldResponse:
    """The exposure response curve of the replay's world, found on first need (estimating it
    costs seconds, and the none and rule policies never move exposure).

    In order: the settings' curves, the data set's ``exposure_response`` table, else the curve
    the forecast fits (:func:`forecast.exposure.fit_exposure_response`, the one the optimizer
    plans with) on the data up to the day before the window, so every policy meets the same
    world.
    """

    def __init__(
        self,
        dataset: Dataset,
        start: pd.Timestamp,
        given: Mapping[str, ExposureResponse] | None,
    ) -> None:
        self._dataset = dataset
        self._start = start
        self._curves: dict[str, ExposureResponse] | None = (
            dict(given) if given is not None else None
        )

    def curves(self) -> dict[str, ExposureResponse]:
        """Every product's curve (a product without one is left out)."""
        if self._curves is None:
            self._curves = response_table(self._dataset) or self._estimated()
        return self._curves

    def of(self, product_id: str) -> ExposureResponse | None:
        return self.curves().get(product_id)

    def _estimated(self) -> dict[str, ExposureResponse]:
        if "exposure" not in self._dataset.flows.columns:
            return {}
        # start-up time: the forecast package loads LightGBM and statsmodels, and the none and
        # rule policies never need it
        from forecast.exposure import fit_exposure_response
        from forecast.panel import build_panel

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            panel = build_panel(self._dataset, self._start - pd.Timedelta(days=1))
            fitted = fit_exposure_response(panel)
        out = {}
        for pid, row in fitted.iterrows():
            a, e0 = float(row["a"]), float(row["e0"])
            if math.isfinite(a) and math.isfinite(e0) and a >= 0 and e0 > 0:
                out[str(pid)] = ExposureResponse(a, e0)
        return out


def replayed_products(
    dataset: Dataset,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    products: Sequence[str] | None,
) -> tuple[str, ...]:
    """The products a replay of [``start``, ``end``] replays: those of ``products`` (default
    every product) with flows in the window, sorted.

    Raises:
        UsageError: the window is reversed or past the flows, a product is unknown, no product
            has flows in it, or ``start`` does not follow their first flows day.
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if end < start:
        raise UsageError(f"--end {end:%Y-%m-%d} precedes --start {start:%Y-%m-%d}")
    if end > dataset.last_date:
        raise UsageError(
            f"--end {end:%Y-%m-%d} is after the last flows day {dataset.last_date:%Y-%m-%d}"
        )
    known = dataset.product_ids
    if products is None:
        chosen = known
    else:
        wrong = dataset.without_flows(products)
        if wrong:
            raise UsageError(wrong)
        chosen = tuple(sorted(set(products)))
    flows = dataset.flows
    in_window = flows.loc[
        flows["product_id"].isin(chosen) & flows["date"].between(start, end), "product_id"
    ].unique()
    if len(in_window) == 0:
        raise UsageError(f"no product has flows between {start:%Y-%m-%d} and {end:%Y-%m-%d}")
    first = flows.loc[flows["product_id"].isin(in_window), "date"].min()
    if start <= first:
        raise UsageError(
            f"--start {start:%Y-%m-%d} must follow the first flows day {first:%Y-%m-%d} of the "
            "products replayed: the replay starts from the AUM of the day before"
        )
    return tuple(sorted(in_window))


def _aum_before(row: pd.Series) -> float:
    """A product's AUM on the eve of a flows row, CNY: the row's less its accepted
    subscriptions, plus its redemptions, less the day's income (its 万份收益 where given)."""
    income = float(row.get("income_per_10k", math.nan))
    growth = 1.0 + (income / 10_000.0 if math.isfinite(income) else 0.0)
    return max(
        (float(row["aum"]) - float(row["subscriptions"]) + float(row["redemptions"])) / growth, 0.0
    )


def replay_first_day(
    dataset: Dataset,
    start: str | pd.Timestamp,
    warmup_days: int = DEFAULT_WARMUP_DAYS,
    products: Sequence[str] | None = None,
) -> pd.Timestamp:
    """The first day a replay with ``warmup_days`` of warm-up before ``start`` replays:
    ``start − warmup_days``, clipped to the day after the first flows day of the products
    replayed (the replay starts from the AUM of the day before its first day; before their
    first day nothing is known that a policy could decide on).

    Args:
        dataset: the data set.
        start: the window's first day.
        warmup_days: days asked for before ``start``.
        products: the products replayed (default: every product of the data set).

    Raises:
        UsageError: ``warmup_days`` is not a whole number ≥ 0.
    """
    if isinstance(warmup_days, bool) or not isinstance(warmup_days, int | np.integer):
        raise UsageError(f"--warmup must be a whole number of days >= 0, got {warmup_days!r}")
    if warmup_days < 0:
        raise UsageError(f"--warmup must be a whole number of days >= 0, got {warmup_days}")
    start = pd.Timestamp(start).normalize()
    flows = dataset.flows
    replayed = flows if products is None else flows.loc[flows["product_id"].isin(products)]
    earliest = replayed["date"].min() + pd.Timedelta(days=1)
    return max(start - pd.Timedelta(days=int(warmup_days)), min(earliest, start))


@dataclass
class _Product:
    """Everything the replay keeps about one product."""

    product_id: str
    first: pd.Timestamp
    last: pd.Timestamp
    history: pd.DataFrame  # the data set's rows, indexed by date
    portfolio: Portfolio
    allocation: DecisionAllocation
    income_window: list[float]  # the last 万份收益 values, oldest first (NaN where unknown)
    aum_replay: float  # end of the previous day
    aum_history: float  # history's, end of the previous day
    returning: float = 0.0  # refused demand coming back on the next working day


def replay(
    dataset: Dataset,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    policy: Policy,
    *,
    products: Sequence[str] | None = None,
    settings: ReplaySettings | None = None,
    progress: Progress | None = None,
    warmup_days: int = DEFAULT_WARMUP_DAYS,
) -> ReplayResult:
    """Replay [start, end] under ``policy`` (see the module docstring).

    Args:
        dataset: the loaded data set.
        start, end: first and last day of the window the figures cover (inclusive).
        policy: decides every morning.
        products: ids to replay (default: every product with flows in the window).
        settings: the world's settings (default :class:`ReplaySettings`).
        progress: called with (0, days in all, the first day) when the replay starts, then
            after each day with (days done, days in all, the day).
        warmup_days: days replayed before ``start`` (SPEC §3; clipped to the data, see
            :func:`replay_first_day`); their rows are in ``daily`` marked ``warmup``.

    Returns:
        The :class:`ReplayResult`.

    Raises:
        UsageError: a bad window or an unknown product.
        DataError: bad data found on the way (e.g. market rates missing on a day).
    """
    began = time.perf_counter()
    settings = settings or ReplaySettings()
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    chosen = replayed_products(dataset, start, end, products)
    first_day = replay_first_day(dataset, start, warmup_days, chosen)
    data = dataset.select(chosen)
    responses = _WorldResponse(data, first_day, settings.response)
    workdays = Workdays()

    market = data.market_daily(data.market["date"].min(), end)
    rates = bucket_rates(market)
    rates_of_day = rates.to_dict("index")
    benchmark = market["benchmark_yield_7d"].astype(float)
    fee_bp = data.products.set_index("product_id")["fee_bp"].astype(float)

    flows = data.flows
    observed = flows.copy()
    for column in ("quota", "exposure", "income_per_10k", "yield_7d"):
        if column not in observed.columns:
            observed[column] = np.nan
    has_exposure = "exposure" in flows.columns
    keys = zip(observed["product_id"], observed["date"], strict=True)
    row_of = {key: i for i, key in enumerate(keys)}
    observed_columns = [c for c in OBSERVED_COLUMNS if c in observed.columns]
    observed_block = observed[observed_columns].to_numpy(dtype=float, copy=True)

    managed = managed_mixes(data, chosen, settings, first_day, rates)
    state_products: dict[str, _Product] = {}
    for pid, rows in flows.groupby("product_id", sort=True):
        rows = rows.set_index("date")
        first, last = rows.index.min(), rows.index.max()
        eve = first_day - pd.Timedelta(days=1)
        allocation = DecisionAllocation()
        if first <= eve:
            aum0 = float(rows.loc[eve, "aum"])
            portfolio = Portfolio.from_ladder(
                aum0,
                float(fee_bp[pid]),
                first_day,
                rates.loc[:eve],
                managed[str(pid)].weights,
                allocation=allocation,
                sale_spread_bp=settings.sale_spread_bp,
                max_leverage=settings.max_leverage,
                workdays=workdays,
            )
        elif (before := _aum_before(rows.iloc[0])) > LATE_START_SHARE * float(rows["aum"].iloc[0]):
            # its history begins inside the replay but its first row holds more than that
            # day's flows: a book that existed, not a launch; it starts from the AUM before
            # that day (replaying it from nothing dropped the book and the day's redemptions)
            aum0 = before
            portfolio = Portfolio.from_ladder(
                aum0,
                float(fee_bp[pid]),
                first,
                rates.loc[: first - pd.Timedelta(days=1)],
                managed[str(pid)].weights,
                allocation=allocation,
                sale_spread_bp=settings.sale_spread_bp,
                max_leverage=settings.max_leverage,
                workdays=workdays,
            )
        else:  # launched inside the window: it starts empty on its first day
            aum0 = 0.0
            portfolio = Portfolio(
                float(fee_bp[pid]),
                allocation=allocation,
                sale_spread_bp=settings.sale_spread_bp,
                max_leverage=settings.max_leverage,
                workdays=workdays,
            )
        prior = pd.date_range(first_day - pd.Timedelta(days=YIELD_PRIOR_DAYS), eve, freq="D")
        if "income_per_10k" in rows.columns:
            window = rows["income_per_10k"].reindex(prior).astype(float).tolist()
        else:
            window = [math.nan] * YIELD_PRIOR_DAYS
        state_products[str(pid)] = _Product(
            product_id=str(pid),
            first=first,
            last=last,
            history=rows,
            portfolio=portfolio,
            allocation=allocation,
            income_window=window,
            aum_replay=aum0,
            aum_history=aum0,
        )

    days = pd.date_range(first_day, end, freq="D")
    out_rows: list[dict[str, Any]] = []
    decision_rows: list[dict[str, Any]] = []
    world = _World(settings, responses, workdays, "demand" in flows.columns, has_exposure)
    future = data if policy.sees_future else None
    if progress is not None and len(days):
        progress(0, len(days), days[0])  # the replay starts: a renderer times it from here
    try:
        for n, day in enumerate(days):
            if day not in rates_of_day:
                raise DataError(
                    [
                        Problem(
                            data.file_name("market"),
                            "date",
                            f"no market rates on {day:%Y-%m-%d}",
                        )
                    ]
                )
            active = tuple(pid for pid, p in state_products.items() if p.first <= day <= p.last)
            state = ReplayState(
                day=day,
                product_ids=active,
                portfolios={pid: state_products[pid].portfolio for pid in active},
                observed=partial(
                    _observed_dataset,
                    data,
                    observed,
                    observed_columns,
                    observed_block,
                ),
                replayed=partial(pd.DataFrame, out_rows, columns=list(DAILY_COLUMNS)),
                workdays=workdays,
                future=future,
                managed=managed,
                world_response=responses.curves if future is not None else None,
            )
            decision: Decision = policy.decide(state, day)
            world.begin_day(day, rates_of_day[day], float(benchmark[day]), warmup=day < start)
            for pid in active:
                p = state_products[pid]
                d = decision.of(pid)
                row = world.product_day(p, d, p.history.loc[day])
                out_rows.append(row)
                decision_rows.append(_decision_row(day, pid, d))
                i = row_of[(pid, day)]
                for j, column in enumerate(observed_columns):
                    observed_block[i, j] = row[column]
            if progress is not None:
                progress(n + 1, len(days), day)
    finally:
        policy.close()  # a worker the policy started (simulate.refits) ends with the replay

    daily = pd.DataFrame(out_rows, columns=list(DAILY_COLUMNS))
    decisions = pd.DataFrame(decision_rows)
    metrics = backtest_metrics(daily.loc[~daily["warmup"]])
    metrics.update(
        warmup_days=int((start - first_day).days),
        replay_start=f"{first_day:%Y-%m-%d}",
    )
    return ReplayResult(
        policy=policy.name,
        daily=daily,
        decisions=decisions,
        metrics=metrics,
        seconds=time.perf_counter() - began,
        settings=settings,
        policy_params=policy.params(),
        policy_timings=policy.timings(),
        start=start,
        end=end,
        replay_start=first_day,
        starting_mix={pid: dict(m.weights) for pid, m in managed.items()},
    )


class _World:
    """Steps 2 to 5 of the module docstring for one product on one day."""

    def __init__(
        self,
        settings: ReplaySettings,
        responses: _WorldResponse,
        workdays: Workdays,
        has_demand: bool,
        has_exposure: bool,
    ) -> None:
        self.settings = settings
        self.responses = responses
        self.workdays = workdays
        self.has_demand = has_demand
        self.has_exposure = has_exposure
        self.warned: set[str] = set()

    def begin_day(
        self,
        day: pd.Timestamp,
        rates: Mapping[str, float],
        benchmark: float,
        *,
        warmup: bool = False,
    ) -> None:
        self.day = day
        self.rates = rates
        self.benchmark = benchmark
        self.warmup = warmup
        self.is_workday = self.workdays.is_workday(day_number(day))

    def product_day(self, p: _Product, d: ProductDecision, hist: pd.Series) -> dict[str, Any]:
        """Demand, acceptance, redemptions and the portfolio's roll; the ``daily.csv`` row."""
        fresh, exposure = self._demand(p, d, hist)
        offered, returning = fresh, 0.0
        if self.is_workday and p.returning > 0:
            returning, p.returning = p.returning, 0.0
            offered += returning
        accepted = round(offered, 2)
        if accepted > d.quota:  # to the fen, never above the quota
            accepted = math.floor(d.quota * 100) / 100
        refused = max(offered - accepted, 0.0)
        p.returning += self.settings.returning_share * refused
        # every holder of history left that day: every holder of the replay leaves too (a
        # share of the day before capped at max_redemption_share left the rest, and the
        # day's income, in a product that then dropped out of the replay)
        closing = float(hist["aum"]) == 0.0 and float(hist["redemptions"]) > 0.0
        redemptions = (
            0.0
            if closing
            else _replayed_redemptions(
                float(hist["redemptions"]), p, self.settings.max_redemption_share
            )
        )
        deferred = (
            _large_redemption_excess(redemptions, accepted, p.aum_replay)
            if self.settings.large_redemption_deferral
            else 0.0
        )
        asked = p.aum_replay if closing else redemptions  # what the day's cash is held for
        p.allocation.decision = d
        result = p.portfolio.step(
            self.day,
            accepted,
            redemptions,
            self.rates,
            deferred=deferred,
            hold_cash=d.cash_to_hold(asked),
            borrow_up_to=d.borrow,
            sell_to_hold=d.cash_to_sell_for(asked),
            redeem_all=closing,
        )
        # a product that holds no unit and earned on none (fully redeemed) has no 万份收益 that
        # day, not one of 0: its 7-day yield is undefined until units earn again, and its
        # figures cover the days it was open (a yield of 0 read as −221 bp of excess)
        closed = result.units <= 0 and result.earning_units <= 0
        income = math.nan if closed else result.income_per_10k
        p.income_window = [*p.income_window[-YIELD_PRIOR_DAYS:], income]
        p.aum_replay = result.aum
        p.aum_history = float(hist["aum"])
        # shadow pricing (影子定价): the book marked to the day's curve, no sale spread
        amount, rate, maturity, _ = p.portfolio.lot_arrays()
        days_left = np.maximum(maturity - day_number(self.day), 0)
        deviation = deviation_pct(book_gap(amount, rate, days_left, self.rates), result.aum)
        return {
            "date": self.day,
            "product_id": p.product_id,
            "demand": fresh,
            "subscriptions": result.subscriptions,
            "redemptions": result.redemptions,
            "aum": result.aum,
            "income_per_10k": income,
            "yield_7d": float(yield_7d(np.asarray(p.income_window))[-1]),
            "benchmark_yield_7d": self.benchmark,
            "liquidity_buffer": result.liquidity_buffer,
            "shortfall": result.shortfall,
            "repo_funded": result.repo_funded,
            "sold_early": result.sold_early,
            "realised_loss": result.realised_loss,
            "unpaid": result.unpaid,
            "deferred": result.deferred,
            "borrowed": result.borrowed,
            "warmup": self.warmup,
            "quota": d.quota if math.isfinite(d.quota) else math.nan,
            "exposure": exposure,
            "buffer_target": d.buffer_target,
            "refused": refused,
            "returning": returning,
            "net_income": result.net_income,
            "fees": result.fees,
            "repo_interest": result.repo_interest,
            "requested": result.requested,
            "owed": result.owed,
            "cash": result.cash,
            "deviation_pct": deviation,
        }

    def _demand(self, p: _Product, d: ProductDecision, hist: pd.Series) -> tuple[float, float]:
        """Fresh demand of the day (CNY, to the fen) and the exposure in force."""
        exposure_hist = float(hist["exposure"]) if self.has_exposure else math.nan
        demand = float(hist["demand"]) if self.has_demand else math.nan
        if math.isnan(demand):
            demand = float(hist["subscriptions"])
        if math.isnan(d.exposure):
            return round(demand, 2), exposure_hist
        exposure = float(d.exposure)
        if exposure != exposure_hist:
            demand = _moved_demand(
                demand,
                exposure_hist,
                exposure,
                self.responses.of(p.product_id),
                p.product_id,
                self.warned,
            )
        return round(demand, 2), exposure


def _observed_dataset(
    data: Dataset,
    observed: pd.DataFrame,
    columns: list[str],
    block: np.ndarray,
) -> Dataset:
    """The data set a policy sees on the morning of ``day`` (before :meth:`Dataset.up_to`):
    history with the replay's rows written in (a copy, so that a policy keeping it cannot see
    later days)."""
    frame = observed.copy()
    frame[columns] = block
    return dataclasses.replace(data, flows=frame)


def _moved_demand(
    demand: float,
    exposure_hist: float,
    exposure: float,
    params: ExposureResponse | None,
    product_id: str,
    warned: set[str],
) -> float:
    """Demand after moving exposure from history's to the policy's along the response curve."""
    if params is None or math.isnan(exposure_hist):
        if product_id not in warned:
            warned.add(product_id)
            warnings.warn(
                f"{product_id}: the policy moves exposure but the replay has no exposure "
                "response for it (or no historical exposure); its demand stays history's",
                stacklevel=3,
            )
        return demand
    ratio = exposure_response(exposure, params) / exposure_response(exposure_hist, params)
    return demand * float(ratio)


def _replayed_redemptions(history: float, p: _Product, max_share: float) -> float:
    """History's redemptions scaled to the replay's holders (see the module docstring): the
    units not already waiting to be paid (redemptions owed from earlier days) are the holders
    who may still ask."""
    free = p.aum_replay - p.portfolio.owed
    if free <= 0:
        return 0.0
    amount = history * free / p.aum_history if p.aum_history > 0 else history
    return round(min(amount, max_share * p.aum_replay, free), 2)


def _large_redemption_excess(redemptions: float, subscriptions: float, units: float) -> float:
    """The part of a day's redemptions deferred as a large redemption (巨额赎回), CNY: net
    redemptions above :data:`~rainmaker.regulation.LARGE_REDEMPTION_SHARE` of the previous
    day's ``units``, never more than the redemptions themselves."""
    excess = redemptions - subscriptions - LARGE_REDEMPTION_SHARE * units
    return math.floor(min(max(excess, 0.0), redemptions) * 100) / 100


def _decision_row(day: pd.Timestamp, pid: str, d: ProductDecision) -> dict[str, Any]:
    row: dict[str, Any] = {
        "date": day,
        "product_id": pid,
        "quota": d.quota if math.isfinite(d.quota) else math.nan,
        "buffer_target": d.buffer_target,
        "cash_target": d.cash_target if d.cash_target is not None else math.nan,
        "exposure": d.exposure,
    }
    for name, amount in (d.purchases or {}).items():
        row[f"buy_{name}"] = float(amount)
    return row
