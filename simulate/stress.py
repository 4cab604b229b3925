"""Liquidity stress tests of today's books (ESMA's money-market-fund guidelines, adapted).

The risk officer's question: what if 30 % of units leave within 5 days, or rates jump 100 bp,
tomorrow? :func:`run_stress` answers it for every product from its **book** at the end of the
as-of day (:func:`build_books`):

- ``holdings``: the product's rows of ``holdings.csv`` on the as-of day
  (:func:`optimize.portfolio.read_holdings`);
- ``investment_mix``: else a steady ladder of its rows of ``investment_mix.csv``;
- ``inferred``: else a ladder of the mix inferred from its published yields before the as-of
  day (:func:`rainmaker.investment_mix.infer_mix`);
- ``default``: else a ladder of :data:`rainmaker.investment_mix.DEFAULT_MIX`.

Ladders are :meth:`simulate.portfolio.Portfolio.from_ladder` of the product's AUM on the as-of
day, as the replay starts its books. Every scenario (:class:`Scenario`, read from a TOML file,
:func:`load_scenarios`; defaults in ``simulate/stress_scenarios.toml``) then runs the book day by
day with :meth:`simulate.portfolio.Portfolio.step` — the replay's world, so the plan's tools come
in its order: cash, maturities, pledged repo within the leverage cap, sales at market value last
(:mod:`rainmaker.valuation`), the rest unpaid — over ``horizon_days`` calendar days:

- **rates** are the as-of day's bucket rates (:func:`rainmaker.assets.bucket_rates`) shocked at
  once and held: ``rate_shock_bp`` on every bucket, ``spread_shock_bp`` on the NCD buckets;
- **redemptions**: ``redemption_share`` of the units at the as-of day, requested in equal parts on
  the first ``redemption_days`` working days after it (the top-10 holders' share from
  ``holders.csv`` for ``top10_holders``); no subscriptions arrive and nothing is reinvested
  (money that matures stays in cash);
- **liquidity shock**: a wider ``sale_spread_bp`` (the bid side of early sales) and a
  ``repo_capacity`` share of the leverage room (``max_leverage`` = 1 + capacity × 0.2).

Every day (day 0 is the as-of day under the shocked curve) it measures the ratios of the rules
(:mod:`rainmaker.regulation`): the 5 % floor on cash (the only bucket of the asset list: not
overnight repo), the 10 % floor on cash and lots maturing within 5 trading days, leverage
(total assets / net assets), WAL, and the shadow-price deviation (:mod:`rainmaker.shadow_price`).
A scenario's summary gives the days until each floor is first breached, the realised loss, the
worst deviation, the highest leverage and the redemptions left unpaid.

The **reverse stress test** (:func:`reverse_stress`) finds by bisection the smallest share of
units redeemed evenly over ``reverse.redemption_days`` working days that breaks a floor or pushes
the deviation to −``reverse.deviation_limit_pct`` or below: at the answer ``s`` the breach
happens, at ``s − step`` it does not.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rainmaker.assets import BUCKETS, bucket_rates
from rainmaker.china_calendar import Workdays, day_number, to_timestamp
from rainmaker.dataset import Dataset
from rainmaker.errors import DataError, Problem, UsageError, first_few
from rainmaker.holders import top10_shares
from rainmaker.investment_mix import (
    DEFAULT_MIX,
    TABLE,
    infer_mix,
    read_investment_mix,
)
from rainmaker.progress import Progress, stage_steps
from rainmaker.regulation import (
    FLOOR_ASSET_BUCKETS,
    LIQUID_WORKDAYS,
    MAX_LEVERAGE,
    MIN_CASH_RATIO,
    MIN_LIQUID_RATIO,
)
from rainmaker.rules import check_book
from rainmaker.safety import write_spreadsheet_csv
from rainmaker.settings_core import SettingsError
from rainmaker.shadow_price import book_gap, deviation_pct
from rainmaker.valuation import DEFAULT_SALE_SPREAD_BP
from simulate.portfolio import Lot, Portfolio, coarse_money_note

__all__ = [
    "DEFAULT_SCENARIOS_FILE",
    "BOOK_SOURCES",
    "NO_HOLDERS",
    "Book",
    "ReverseSettings",
    "Scenario",
    "StressResult",
    "StressSettings",
    "build_books",
    "load_scenarios",
    "reverse_stress",
    "run_scenario",
    "run_stress",
    "shocked_rates",
    "stress_meta",
    "write_stress",
]

DEFAULT_SCENARIOS_FILE = Path(__file__).with_name("stress_scenarios.toml")
# the progress stage of run_stress (rainmaker.progress): one step per product's book
STRESS_STAGE = "stress: products"
BOOK_SOURCES = ("holdings", "investment_mix", "inferred", "default")
NCD_BUCKETS = tuple(b.name for b in BUCKETS if b.name.startswith("ncd_"))
# the reason a holders scenario is skipped (the report words it in the reader's language)
NO_HOLDERS = "no holders.csv top10_share for this product"
# a whole name (fullmatch: ``$`` would let a final newline through into the CSV cells)
_NAME = re.compile(r"[A-Za-z0-9_-]+")
# ratios are compared with the floors after float noise is rounded off
_EPS = 1e-9


@dataclass(frozen=True)
class Scenario:
    """One stress scenario (keys of a ``[[scenario]]`` table; see the defaults file).

    Attributes:
        name: unique key (letters, digits, ``_``, ``-``).
        description: what it is, in words.
        redemption_share: share of the as-of day's units requested, 0 ≤ x < 1.
        redemption_days: working days the requests are spread over, evenly (≥ 1).
        top10_holders: the redemption is the top-10 holders' share of ``holders.csv``.
        rate_shock_bp: added to every bucket's rate, bp.
        spread_shock_bp: added to the NCD buckets' rates, bp.
        sale_spread_bp: yield over the curve given up on an early sale, bp.
        repo_capacity: share of the leverage room repo borrowing may use, 0..1.
    """

    name: str
    description: str = ""
    redemption_share: float = 0.0
    redemption_days: int = 1
    top10_holders: bool = False
    rate_shock_bp: float = 0.0
    spread_shock_bp: float = 0.0
    sale_spread_bp: float = DEFAULT_SALE_SPREAD_BP
    repo_capacity: float = 1.0

    @property
    def max_leverage(self) -> float:
        """Total assets / net assets repo may reach in this scenario."""
        return 1.0 + self.repo_capacity * (MAX_LEVERAGE - 1.0)


@dataclass(frozen=True)
class ReverseSettings:
    """The reverse stress test (``[reverse]``).

    Attributes:
        redemption_days: working days the redemption is spread over.
        step: precision of the answer, share of units.
        max_share: the largest share tried.
        deviation_limit_pct: negative deviation (percent of net assets) that counts as a break.
    """

    redemption_days: int = 5
    step: float = 0.005
    max_share: float = 0.95
    deviation_limit_pct: float = 0.25


@dataclass(frozen=True)
class StressSettings:
    """A scenarios file: the horizon, the reverse test and the scenarios."""

    horizon_days: int = 10
    reverse: ReverseSettings = field(default_factory=ReverseSettings)
    scenarios: tuple[Scenario, ...] = ()
    file: str = DEFAULT_SCENARIOS_FILE.name


# ------------------------------------------------------------------------ scenarios file
_NUMBER_KEYS: dict[str, tuple[float, float, bool]] = {  # key: (low, high, high included)
    "redemption_share": (0.0, 1.0, False),
    "rate_shock_bp": (-1000.0, 2000.0, True),
    "spread_shock_bp": (-1000.0, 2000.0, True),
    "sale_spread_bp": (0.0, 5000.0, True),
    "repo_capacity": (0.0, 1.0, True),
}


# A bad scenarios file raises SettingsError (exit status 2), the message of every settings
# file: "FILE: key 'scenario[0].redemption_share': expected ..., got 1.5".
def _number(
    value: object, key: str, file: str, low: float, high: float, high_ok: bool = True
) -> float:
    upper = f"to {high:g}" if high_ok else f"up to but excluding {high:g}"
    expected = f"a number from {low:g} {upper}"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SettingsError(key, expected, value, source=file)
    if not (low <= value and (value <= high if high_ok else value < high)):
        raise SettingsError(key, expected, value, source=file)
    return float(value)


def _whole(value: object, key: str, file: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(key, f"a whole number from {low} to {high}", value, source=file)
    return int(value)


def _unknown(table: Mapping[str, Any], known: Sequence[str], where: str, file: str) -> None:
    extra = [k for k in table if k not in known]
    if extra:
        keys = ", ".join(where + k for k in extra)
        raise SettingsError(keys, ", ".join(known), source=file, unknown=True)


def _scenario(raw: object, i: int, file: str) -> Scenario:
    where = f"scenario[{i}]."
    if not isinstance(raw, dict):
        raise SettingsError(f"scenario[{i}]", "a [[scenario]] table", raw, source=file)
    known = [f.name for f in fields(Scenario)]
    _unknown(raw, known, where, file)
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SettingsError(
            where + "name",
            "a name of letters, digits, _ or - only (no spaces or line breaks)",
            name,
            source=file,
        )
    values: dict[str, Any] = {"name": name}
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise SettingsError(where + "description", "text (a string)", description, source=file)
    values["description"] = description
    for key, (low, high, high_ok) in _NUMBER_KEYS.items():
        if key in raw:
            values[key] = _number(raw[key], where + key, file, low, high, high_ok)
    if "redemption_days" in raw:
        values["redemption_days"] = _whole(
            raw["redemption_days"], where + "redemption_days", file, 1, 60
        )
    if "top10_holders" in raw:
        if not isinstance(raw["top10_holders"], bool):
            raise SettingsError(
                where + "top10_holders", "true or false", raw["top10_holders"], source=file
            )
        values["top10_holders"] = raw["top10_holders"]
    return Scenario(**values)


def load_scenarios(path: str | Path | None = None) -> StressSettings:
    """Read a scenarios file (default :data:`DEFAULT_SCENARIOS_FILE`).

    Raises:
        UsageError: the file is missing or not TOML (exit status 2).
        SettingsError: a key is unknown or has a bad value, or a scenario name repeats; the
            message names the file, the key path, what is expected and the value (exit 2).
    """
    file_path = Path(path) if path is not None else DEFAULT_SCENARIOS_FILE
    file = str(file_path)
    if not file_path.is_file():
        what = "is a folder" if file_path.is_dir() else "does not exist"
        raise UsageError(f"scenarios file {file} {what}; expected a TOML file")
    try:
        raw = tomllib.loads(file_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{file}: not valid TOML ({error})") from None
    _unknown(raw, ["horizon_days", "reverse", "scenario"], "", file)
    horizon = _whole(raw.get("horizon_days", 10), "horizon_days", file, 1, 366)
    reverse_raw = raw.get("reverse", {})
    if not isinstance(reverse_raw, dict):
        raise SettingsError("reverse", "a [reverse] table of key = value", reverse_raw, source=file)
    _unknown(reverse_raw, [f.name for f in fields(ReverseSettings)], "reverse.", file)
    reverse = ReverseSettings()
    if "redemption_days" in reverse_raw:
        reverse = replace(
            reverse,
            redemption_days=_whole(
                reverse_raw["redemption_days"], "reverse.redemption_days", file, 1, 60
            ),
        )
    if "step" in reverse_raw:
        reverse = replace(
            reverse, step=_number(reverse_raw["step"], "reverse.step", file, 1e-4, 0.1)
        )
    if "max_share" in reverse_raw:
        reverse = replace(
            reverse,
            max_share=_number(
                reverse_raw["max_share"], "reverse.max_share", file, 0.01, 1.0, False
            ),
        )
    if "deviation_limit_pct" in reverse_raw:
        reverse = replace(
            reverse,
            deviation_limit_pct=_number(
                reverse_raw["deviation_limit_pct"], "reverse.deviation_limit_pct", file, 0.0, 100.0
            ),
        )
    listed = raw.get("scenario", [])
    if not isinstance(listed, list) or not listed:
        raise SettingsError("scenario", "at least one [[scenario]] table", listed, source=file)
    scenarios = tuple(_scenario(s, i, file) for i, s in enumerate(listed))
    names = [s.name for s in scenarios]
    for j, name in enumerate(names):
        if name in names[:j]:
            raise SettingsError(
                f"scenario[{j}].name",
                f"a name no other scenario has (scenario[{names.index(name)}] is {name!r})",
                name,
                source=file,
            )
    return StressSettings(horizon, reverse, scenarios, file_path.name)


# ------------------------------------------------------------------------------ books
@dataclass(frozen=True)
class Book:
    """A product's book at the end of the as-of day.

    Attributes:
        product_id: the product.
        source: where it comes from, one of :data:`BOOK_SOURCES`.
        fee_bp: annual fees, bp of net assets.
        cash: cash, CNY.
        lots: term lots held.
        t0_limit: T+0 fast-redemption cap per investor per day from products.csv, CNY (NaN when
            not given).
        top10_share: the top-10 holders' share of units from holders.csv (NaN when not given).
        product_type: ``cash_management`` or ``fixed_income`` (products.csv); the rules checked
            are those of cash-management products, shown for the others for reference.
    """

    product_id: str
    source: str
    fee_bp: float
    cash: float
    lots: tuple[Lot, ...]
    t0_limit: float = math.nan
    top10_share: float = math.nan
    product_type: str = "cash_management"

    @property
    def net_assets(self) -> float:
        """Cash plus the lots' principal, CNY."""
        return self.cash + sum(lot.amount for lot in self.lots)

    def portfolio(self, scenario: Scenario, workdays: Workdays) -> Portfolio:
        """A fresh portfolio of this book in the scenario's world."""
        return Portfolio(
            self.fee_bp,
            cash=self.cash,
            lots=self.lots,
            sale_spread_bp=scenario.sale_spread_bp,
            max_leverage=scenario.max_leverage,
            workdays=workdays,
        )


def _product_column(products: pd.DataFrame, column: str) -> dict[str, float]:
    if column not in products.columns:
        return {}
    values = pd.to_numeric(products[column], errors="coerce").astype(float)
    return dict(zip(products["product_id"].astype(str), values, strict=True))


def build_books(
    dataset: Dataset,
    as_of: pd.Timestamp,
    product_ids: Sequence[str] | None = None,
    workdays: Workdays | None = None,
) -> dict[str, Book]:
    """Every product's book at the end of ``as_of`` (see the module docstring for the order).

    Args:
        dataset: the data set (only rows dated on or before ``as_of`` are read).
        as_of: the as-of day.
        product_ids: products wanted (default: those with a flows row on ``as_of``).
        workdays: the calendar ladders mature on.

    Raises:
        UsageError: no product has flows on ``as_of``, or an unknown product is asked for.
        DataError: a bad holdings, investment_mix or holders table.
    """
    from optimize.portfolio import read_holdings  # the plan's reader of holdings.csv

    calendar = workdays if workdays is not None else Workdays()
    flows = dataset.flows
    today = flows.loc[flows["date"] == as_of].set_index("product_id")
    if product_ids is None:
        product_ids = sorted(str(p) for p in today.index)
    unknown = [p for p in product_ids if p not in today.index]
    if unknown or not product_ids:
        raise UsageError(
            f"no flows on {as_of:%Y-%m-%d} for {', '.join(unknown) or 'any product'}; expected "
            "products with a flows row on the as-of day"
        )
    products = dataset.products.assign(product_id=dataset.products["product_id"].astype(str))
    fee_bp = dict(zip(products["product_id"], products["fee_bp"].astype(float), strict=True))
    kind = dict(zip(products["product_id"], products["product_type"].astype(str), strict=True))
    t0 = _product_column(products, "t0_limit")
    top10 = top10_shares(dataset, as_of)
    rates = bucket_rates(dataset.market_daily(dataset.market["date"].min(), as_of))
    holdings: pd.DataFrame | None = None
    if "holdings" in dataset.tables:
        holdings = read_holdings(
            dataset.tables["holdings"],
            as_of,
            list(product_ids),
            float(rates["cash"].iloc[-1]),
            dataset.file_name("holdings"),
            aum_cny=today["aum"].astype(float).to_dict(),
        )
    table = read_investment_mix(
        dataset.tables,
        dataset.file_name(TABLE),
        known=dataset.products["product_id"].astype(str).tolist(),
    )
    before = as_of + pd.Timedelta(days=1)
    history = flows.loc[flows["date"] <= as_of]
    by_product = {str(p): rows for p, rows in history.groupby("product_id", sort=False)}
    books: dict[str, Book] = {}
    for pid in product_ids:
        extra: dict[str, Any] = {
            "t0_limit": t0.get(pid, math.nan),
            "top10_share": top10.get(pid, math.nan),
            "product_type": kind[pid],
        }
        rows = holdings.loc[holdings["product_id"] == pid] if holdings is not None else None
        if rows is not None and len(rows):
            books[pid] = _held_book(pid, rows, fee_bp[pid], as_of, dataset, extra)
            continue
        if pid in table:
            weights, source = dict(table[pid].weights), "investment_mix"
        else:
            inferred = infer_mix(by_product[pid], fee_bp[pid], rates.loc[:as_of], before)
            if inferred is not None:
                weights, source = dict(inferred.weights), "inferred"
            else:
                weights, source = dict(DEFAULT_MIX), "default"
        aum = float(today.loc[pid, "aum"])
        ladder = Portfolio.from_ladder(
            aum, fee_bp[pid], before, rates.loc[:as_of], weights, workdays=calendar
        )
        held = ladder.holdings()
        lots = tuple(
            Lot(h.bucket, float(h.amount), float(h.rate_pct), h.value_date, h.maturity_date)
            for h in held.loc[held["kind"] == "lot"].itertuples()
        )
        books[pid] = Book(pid, source, fee_bp[pid], ladder.bucket_amounts()["cash"], lots, **extra)
    return books


def _held_book(
    pid: str,
    rows: pd.DataFrame,
    fee_bp: float,
    as_of: pd.Timestamp,
    dataset: Dataset,
    extra: Mapping[str, Any],
) -> Book:
    is_cash = rows["bucket"] == "cash"
    cash = float(rows.loc[is_cash, "amount_cny"].sum())
    if cash < 0:
        raise DataError(
            [
                Problem(
                    dataset.file_name("holdings"),
                    "amount_cny",
                    f"product {pid}: cash sums to {cash:.2f} CNY on {as_of:%Y-%m-%d}; the stress "
                    "test expected cash >= 0 (repo borrowing outstanding is not modelled at the "
                    "start)",
                )
            ]
        )
    lots = tuple(
        Lot(
            r.bucket,
            float(r.amount_cny),
            float(r.rate_pct),
            pd.Timestamp(r.value_date) if pd.notna(r.value_date) else as_of,
            pd.Timestamp(r.maturity_date),
        )
        for r in rows.loc[~is_cash].itertuples()
        if r.amount_cny > 0
    )
    return Book(pid, "holdings", fee_bp, cash, lots, **extra)


# --------------------------------------------------------------------------- one run
def shocked_rates(rates_pct: Mapping[str, float], scenario: Scenario) -> dict[str, float]:
    """The day's bucket rates under the scenario: ``rate_shock_bp`` on every bucket,
    ``spread_shock_bp`` more on the NCD buckets (percent p.a., floored at zero)."""
    out: dict[str, float] = {}
    for name, rate in rates_pct.items():
        shock = scenario.rate_shock_bp + (scenario.spread_shock_bp if name in NCD_BUCKETS else 0.0)
        out[name] = max(float(rate) + shock / 100.0, 0.0)
    return out


def _figures(
    portfolio: Portfolio, day: int, rates: Mapping[str, float], workdays: Workdays
) -> dict[str, float]:
    """The rules' ratios of a portfolio at the end of day number ``day`` (percent of net
    assets), its WAL (days) and its deviation (percent)."""
    amount, rate, maturity, names = portfolio.lot_arrays()
    money = portfolio.bucket_amounts()["cash"]
    net = portfolio.aum
    borrowed = portfolio.borrowed
    days_left = np.maximum(maturity - day, 0)
    horizon = workdays.add_workdays(day, LIQUID_WORKDAYS)
    floor_assets = money + float(
        sum(a for a, n in zip(amount, names, strict=True) if n in FLOOR_ASSET_BUCKETS)
    )
    liquid = money + float(amount[maturity <= horizon].sum())
    total_assets = money + float(amount.sum())
    gap = book_gap(amount, rate, days_left, rates)
    ratio = (lambda x: 100.0 * x / net) if net > 0 else (lambda x: math.nan)
    return {
        "net_assets": net,
        "borrowed": borrowed,
        "cash_ratio_pct": ratio(floor_assets),
        "liquid_ratio_pct": ratio(liquid),
        "leverage_pct": ratio(total_assets),
        "wal_days": float((amount * days_left).sum() / total_assets) if total_assets > 0 else 0.0,
        "deviation_pct": deviation_pct(gap, net),
    }


def _request_days(first: int, n: int, workdays: Workdays) -> list[int]:
    """The first ``n`` working days after day number ``first``."""
    days, d = [], first
    for _ in range(n):
        d = workdays.next_workday(d)
        days.append(d)
    return days


def run_scenario(
    book: Book,
    scenario: Scenario,
    as_of: pd.Timestamp,
    rates_pct: Mapping[str, float],
    horizon_days: int,
    workdays: Workdays,
) -> pd.DataFrame:
    """Run one scenario on one book, day by day.

    Args:
        book: the product's book at the end of ``as_of``.
        scenario: the scenario (``top10_holders`` already turned into ``redemption_share``).
        as_of: the as-of day.
        rates_pct: the as-of day's bucket rates, percent p.a. (shocked here).
        horizon_days: calendar days to run (longer when the requests need it).
        workdays: the calendar.

    Returns:
        One row per day from the as-of day (day 0, the book under the shocked curve) with
        ``day``, ``date``, ``requested``, ``paid``, ``repo_funded``, ``sold_early``,
        ``realised_loss``, ``unpaid`` (the day's requests left unpaid), ``owed``,
        ``net_income`` (CNY) and the figures of the rules: ``net_assets``, ``borrowed`` (CNY),
        ``cash_ratio_pct``, ``liquid_ratio_pct``, ``leverage_pct``, ``wal_days``,
        ``deviation_pct`` (the ratios null once the product has closed: net assets 0).

        A ``redemption_share`` of 1 (every unit: the top-10 holders holding everything) closes
        the product on the last request day: that day's request is every unit left, the day's
        income included, and the book is liquidated
        (:meth:`simulate.portfolio.Portfolio.step`'s ``redeem_all``), not run on as a sliver
        of income and sale gains.
    """
    rates = shocked_rates(rates_pct, scenario)
    portfolio = book.portfolio(scenario, workdays)
    start = day_number(as_of)
    units = book.net_assets
    request_days = _request_days(start, scenario.redemption_days, workdays)
    per_day = round(scenario.redemption_share * units / len(request_days), 2)
    last = max(start + horizon_days, request_days[-1] if scenario.redemption_share > 0 else start)
    zero = dict.fromkeys(
        ("requested", "paid", "repo_funded", "sold_early", "realised_loss", "unpaid", "owed"), 0.0
    )
    rows = [
        {
            "day": 0,
            "date": as_of,
            **zero,
            "net_income": 0.0,
            **_figures(portfolio, start, rates, workdays),
        }
    ]
    # every unit redeemed: the last request is every unit left (the income and sale gains since
    # the as-of day included), and the product closes, as the replay's closing does
    closes = scenario.redemption_share >= 1.0
    for t in range(start + 1, last + 1):
        asked = per_day if (scenario.redemption_share > 0 and t in request_days) else 0.0
        # never more than the units left (income moves them by a few fen)
        asked = min(asked, max(math.floor((portfolio.aum - portfolio.owed) * 100) / 100, 0.0))
        if closes and t == request_days[-1] and portfolio.aum > 0:
            result = portfolio.step(to_timestamp(t), 0.0, 0.0, rates, purchases={}, redeem_all=True)
        else:
            result = portfolio.step(to_timestamp(t), 0.0, asked, rates, purchases={})
        rows.append(
            {
                "day": t - start,
                "date": result.date,
                "requested": result.requested,
                "paid": result.redemptions,
                "repo_funded": result.repo_funded,
                "sold_early": result.sold_early,
                "realised_loss": result.realised_loss,
                "unpaid": result.unpaid,
                "owed": result.owed,
                "net_income": result.net_income,
                **_figures(portfolio, t, rates, workdays),
            }
        )
    return pd.DataFrame(rows)


def _first_day(mask: pd.Series, days: pd.Series) -> float:
    hits = days[mask.to_numpy()]
    return float(hits.iloc[0]) if len(hits) else math.nan


def summarise(path: pd.DataFrame, book: Book) -> dict[str, float]:
    """A run's findings: days until each floor is breached (NaN: not within the horizon),
    worst ratios, realised loss, worst deviation, highest leverage and WAL, unpaid, and
    ``closed_day``: the day every unit was redeemed and the product closed (NaN: it did not);
    the ratios count the days it was open only."""
    closed = (path["day"] > 0) & (path["net_assets"] <= 0) & (path["requested"].cumsum() > 0)
    cash_breach = path["cash_ratio_pct"] < 100 * MIN_CASH_RATIO - _EPS
    liquid_breach = path["liquid_ratio_pct"] < 100 * MIN_LIQUID_RATIO - _EPS
    start = book.net_assets
    return {
        "aum_start": start,
        "aum_end": float(path["net_assets"].iloc[-1]),
        "requested": float(path["requested"].sum()),
        "paid": float(path["paid"].sum()),
        "repo_funded": float(path["repo_funded"].sum()),
        "sold_early": float(path["sold_early"].sum()),
        "realised_loss": float(path["realised_loss"].sum()),
        "realised_loss_bp": 1e4 * float(path["realised_loss"].sum()) / start
        if start > 0
        else math.nan,
        "unpaid": float(path["unpaid"].sum()),
        "owed_end": float(path["owed"].iloc[-1]),
        "days_to_cash_floor": _first_day(cash_breach, path["day"]),
        "days_to_liquid_floor": _first_day(liquid_breach, path["day"]),
        "min_cash_ratio_pct": float(path["cash_ratio_pct"].min()),
        "min_liquid_ratio_pct": float(path["liquid_ratio_pct"].min()),
        "min_deviation_pct": float(path["deviation_pct"].min()),
        "max_abs_deviation_pct": float(path["deviation_pct"].abs().max()),
        "max_leverage_pct": float(path["leverage_pct"].max()),
        "max_wal_days": float(path["wal_days"].max()),
        "horizon_days": int(path["day"].iloc[-1]),
        "closed_day": _first_day(closed, path["day"]),
    }


# ------------------------------------------------------------------------ reverse test
def _breaks(path: pd.DataFrame, deviation_limit_pct: float) -> str:
    """What broke first in a run: ``cash_floor``, ``liquid_floor``, ``deviation`` or ``""``."""
    tests = {
        "cash_floor": path["cash_ratio_pct"] < 100 * MIN_CASH_RATIO - _EPS,
        "liquid_floor": path["liquid_ratio_pct"] < 100 * MIN_LIQUID_RATIO - _EPS,
        "deviation": path["deviation_pct"] <= -deviation_limit_pct + _EPS,
    }
    first = {k: _first_day(v, path["day"]) for k, v in tests.items()}
    hit = {k: d for k, d in first.items() if not math.isnan(d)}
    return min(hit, key=lambda k: (hit[k], list(tests).index(k))) if hit else ""


def reverse_stress(
    book: Book,
    as_of: pd.Timestamp,
    rates_pct: Mapping[str, float],
    settings: StressSettings,
    workdays: Workdays,
) -> dict[str, Any]:
    """The smallest redemption over ``reverse.redemption_days`` working days that breaks a
    floor or the deviation limit, by bisection (see the module docstring).

    Returns:
        ``share`` (the answer: a break at it; NaN when even ``max_share`` breaks nothing; 0 when
        the book breaks with no redemption), ``no_break_below`` (the largest share tried that
        breaks nothing, ``share − step`` or closer), ``breaks`` (what broke first at ``share``),
        ``runs`` (scenario runs made).
    """
    reverse = settings.reverse

    def run(share: float) -> str:
        scenario = Scenario(
            "reverse", redemption_share=share, redemption_days=reverse.redemption_days
        )
        path = run_scenario(book, scenario, as_of, rates_pct, settings.horizon_days, workdays)
        return _breaks(path, reverse.deviation_limit_pct)

    runs = 1
    at_zero = run(0.0)
    if at_zero:
        return {"share": 0.0, "no_break_below": math.nan, "breaks": at_zero, "runs": runs}
    high, what = reverse.max_share, run(reverse.max_share)
    runs += 1
    if not what:
        return {"share": math.nan, "no_break_below": high, "breaks": "", "runs": runs}
    low = 0.0
    while high - low > reverse.step + 1e-12:
        middle = round((low + high) / 2, 10)
        broke = run(middle)
        runs += 1
        if broke:
            high, what = middle, broke
        else:
            low = middle
    return {"share": high, "no_break_below": low, "breaks": what, "runs": runs}


# ----------------------------------------------------------------------- the whole test
@dataclass(frozen=True)
class StressResult:
    """What :func:`run_stress` found.

    Attributes:
        as_of: the as-of day.
        settings: the scenarios run.
        books: each product's book.
        summary: one row per (product_id, scenario) with the book's source and the findings of
            :func:`summarise`, or ``skipped`` with the reason.
        paths: the day-by-day rows of every run, with ``product_id`` and ``scenario``.
        reverse: one row per product with the reverse test's answer.
        checks: the rules on each book at the end of the as-of day, unshocked
            (:func:`rainmaker.rules.check_book`): one row per (product_id, rule).
        rates_pct: the as-of day's bucket rates (before shocks).
        seconds: wall time of the run.
        closed: products left out because their flows end before the as-of day (they have
            rows before it but none on it), when every product was asked for; see
            :attr:`warnings`.
        empty: products left out because their ``aum`` on the as-of day is 0 (fully redeemed:
            no book to shock), when every product was asked for; see :attr:`warnings`.
        coarse: the warning of :func:`simulate.portfolio.coarse_money_note` when a book is too
            small for money kept in whole fen, else empty.
        stale: the warning of :func:`optimize.portfolio.missing_snapshot_note` when holdings.csv
            has no row dated on the as-of day (its books are not read), else empty.
    """

    as_of: pd.Timestamp
    settings: StressSettings
    books: Mapping[str, Book]
    summary: pd.DataFrame
    paths: pd.DataFrame
    reverse: pd.DataFrame
    checks: pd.DataFrame
    rates_pct: Mapping[str, float]
    seconds: float = 0.0
    closed: tuple[str, ...] = ()
    empty: tuple[str, ...] = ()
    coarse: str = ""
    stale: str = ""

    @property
    def warnings(self) -> list[str]:
        """What the reader should be told, worded as the forecast's
        :class:`~forecast.panel.PanelWarning` words a product left out of ``plan`` and
        ``forecast``."""
        said = []
        if self.closed:
            said.append(
                f"no flows on {self.as_of:%Y-%m-%d} for {len(self.closed)} product(s) "
                f"({first_few(self.closed)}): they closed before the as-of day and are not "
                "stress-tested"
            )
        if self.empty:
            said.append(
                f"aum 0 on {self.as_of:%Y-%m-%d} for {len(self.empty)} product(s) "
                f"({first_few(self.empty)}): they hold nothing to shock and are not stress-tested"
            )
        if self.coarse:
            said.append(self.coarse)
        if self.stale:
            said.append(self.stale)
        return said

    def __repr__(self) -> str:
        return (
            f"StressResult(as of {self.as_of:%Y-%m-%d}, {len(self.books)} books, "
            f"{len(self.summary)} runs, {self.seconds:.1f} s; see .summary, .reverse, .checks)"
        )


def run_stress(
    dataset: Dataset,
    as_of: pd.Timestamp,
    settings: StressSettings,
    product_ids: Sequence[str] | None = None,
    *,
    progress: Progress | None = None,
) -> StressResult:
    """Every scenario and the reverse test on every product's book as of ``as_of``.

    ``progress`` is told of each product's book done, stage :data:`STRESS_STAGE`
    (:mod:`rainmaker.progress`; ``rainmaker stress`` renders it); None: silent. With
    ``product_ids`` None, a product whose flows end before ``as_of`` has no book and is named in
    :attr:`StressResult.warnings` (``rainmaker stress`` logs them), and so is a product whose
    ``aum`` on ``as_of`` is 0: its empty book passed every rule (each ratio undefined) and the
    reverse test found no break up to 95 %.

    Raises:
        UsageError: a product asked for by name has ``aum`` 0 on ``as_of``, or every product
            with flows that day has; and as :func:`build_books`.
    """
    import time

    from optimize.portfolio import missing_snapshot_note  # the plan's warning, worded once

    began = time.perf_counter()
    workdays = Workdays()
    every = product_ids is None
    on_day, empty = dataset.products_on(as_of)
    asked = [] if product_ids is None else [p for p in product_ids if p in empty]
    if asked or (every and empty and len(empty) == len(on_day)):
        raise UsageError(
            f"aum 0 on {as_of:%Y-%m-%d} for {first_few(asked or empty)}: a product fully redeemed "
            "holds nothing to stress-test; expected products with net assets on the as-of day"
        )
    if not every:
        empty = ()
    elif empty:  # every product with flows that day but the empty ones
        product_ids = [p for p in on_day if p not in empty]
    books = build_books(dataset, as_of, product_ids, workdays)
    closed = _closed(dataset.flows, as_of) if every else ()
    market = dataset.market_daily(dataset.market["date"].min(), as_of)
    rates = {k: float(v) for k, v in bucket_rates(market).iloc[-1].items()}
    summary_rows: list[dict[str, Any]] = []
    paths: list[pd.DataFrame] = []
    reverse_rows: list[dict[str, Any]] = []
    check_rows: list[dict[str, Any]] = []
    overrides = {
        column: _product_column(dataset.products, column)
        for column in ("min_cash_ratio", "min_liquid_ratio", "max_wam_days")
    }
    steps = stage_steps(progress, STRESS_STAGE, len(books))
    for pid, book in books.items():
        today = _figures(
            book.portfolio(Scenario("today"), workdays), day_number(as_of), rates, workdays
        )
        for check in check_book(
            cash_ratio_pct=today["cash_ratio_pct"],
            liquid_ratio_pct=today["liquid_ratio_pct"],
            # fixed-rate lots: no rate resets, so the maturity of WAM is the final one of WAL
            wam_days=today["wal_days"],
            wal_days=today["wal_days"],
            leverage_pct=today["leverage_pct"],
            deviation_pct=today["deviation_pct"],
            t0_limit_cny=book.t0_limit,
            top10_share=book.top10_share,
            min_cash_ratio=overrides["min_cash_ratio"].get(pid, math.nan),
            min_liquid_ratio=overrides["min_liquid_ratio"].get(pid, math.nan),
            max_wam_days=overrides["max_wam_days"].get(pid, math.nan),
        ):
            check_rows.append(
                {
                    "product_id": pid,
                    "product_type": book.product_type,
                    "book": book.source,
                    **asdict(check),
                }
            )
        for scenario in settings.scenarios:
            head = {
                "product_id": pid,
                "product_type": book.product_type,
                "scenario": scenario.name,
                "book": book.source,
            }
            if scenario.top10_holders:
                if math.isnan(book.top10_share):
                    summary_rows.append({**head, "skipped": NO_HOLDERS})
                    continue
                scenario = replace(scenario, redemption_share=book.top10_share)
            path = run_scenario(book, scenario, as_of, rates, settings.horizon_days, workdays)
            paths.append(path.assign(product_id=pid, scenario=scenario.name))
            summary_rows.append(
                {
                    **head,
                    "redemption_share": scenario.redemption_share,
                    **summarise(path, book),
                    "skipped": "",
                }
            )
        found = reverse_stress(book, as_of, rates, settings, workdays)
        reverse_rows.append(
            {"product_id": pid, "product_type": book.product_type, "book": book.source, **found}
        )
        steps.tick()
    stale = None
    if "holdings" in dataset.tables:
        stale = missing_snapshot_note(
            dataset.tables["holdings"], as_of, dataset.file_name("holdings")
        )
    return StressResult(
        as_of=as_of,
        settings=settings,
        books=books,
        summary=pd.DataFrame(summary_rows),
        paths=pd.concat(paths, ignore_index=True) if paths else pd.DataFrame(),
        reverse=pd.DataFrame(reverse_rows),
        checks=pd.DataFrame(check_rows),
        rates_pct=rates,
        seconds=time.perf_counter() - began,
        closed=closed,
        empty=empty,
        coarse=coarse_money_note({p: b.net_assets for p, b in books.items()}) or "",
        stale=stale or "",
    )


def _closed(flows: pd.DataFrame, as_of: pd.Timestamp) -> tuple[str, ...]:
    """Products with flows before ``as_of`` but none on it: :func:`build_books` leaves them
    out when every product is asked for."""
    history = flows.loc[flows["date"] <= as_of]
    on_day = set(history.loc[history["date"] == as_of, "product_id"].astype(str))
    return tuple(sorted(set(history["product_id"].astype(str)) - on_day))


# ------------------------------------------------------------------------------ files
SUMMARY_COLUMNS = (
    "product_id",
    "product_type",
    "scenario",
    "book",
    "redemption_share",
    "closed_day",
    "days_to_cash_floor",
    "days_to_liquid_floor",
    "min_cash_ratio_pct",
    "min_liquid_ratio_pct",
    "requested",
    "paid",
    "repo_funded",
    "sold_early",
    "realised_loss",
    "realised_loss_bp",
    "unpaid",
    "owed_end",
    "min_deviation_pct",
    "max_abs_deviation_pct",
    "max_leverage_pct",
    "max_wal_days",
    "aum_start",
    "aum_end",
    "horizon_days",
    "skipped",
)


def _plain(value: Any) -> Any:
    """A JSON value: NaN as null, numpy numbers as Python's."""
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def stress_meta(result: StressResult) -> dict[str, Any]:
    """What a stress run was: as-of day, scenarios file, horizon, reverse settings, the
    scenarios' descriptions, the products left out as closed or empty and the warnings about
    them, and
    the seconds it took (``stress.json`` and the HTML page)."""
    settings = result.settings
    return {
        "as_of": f"{result.as_of:%Y-%m-%d}",
        "scenarios_file": settings.file,
        "horizon_days": settings.horizon_days,
        "reverse": asdict(settings.reverse),
        "descriptions": {s.name: s.description for s in settings.scenarios},
        "closed": list(result.closed),
        "empty": list(result.empty),
        "warnings": result.warnings,
        "seconds": round(result.seconds, 3),
    }


def write_stress(result: StressResult, out: str | Path) -> dict[str, Path]:
    """Write ``stress.csv`` (one row per product and scenario, :data:`SUMMARY_COLUMNS`),
    ``stress_days.csv`` (every run day by day) and ``stress.json`` (settings, findings, reverse
    test, rules checked) into ``out``; return the paths by name. The HTML page is the
    application's (:func:`rainmaker.app.report.stress_page.write_stress_page`)."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    summary = result.summary.reindex(columns=list(SUMMARY_COLUMNS))
    paths = {
        "stress.csv": write_spreadsheet_csv(summary, folder / "stress.csv"),
        "stress_days.csv": write_spreadsheet_csv(
            result.paths.assign(date=pd.to_datetime(result.paths["date"]).dt.strftime("%Y-%m-%d"))
            if len(result.paths)
            else result.paths,
            folder / "stress_days.csv",
        ),
    }
    settings = result.settings
    document = {
        **stress_meta(result),
        "scenarios": [asdict(s) for s in settings.scenarios],
        "rates_pct": result.rates_pct,
        "books": {pid: b.source for pid, b in result.books.items()},
        "findings": _records(summary),
        "reverse_stress": _records(result.reverse),
        "checks": _records(result.checks),
        "checks_failed": _records(result.checks.loc[~result.checks["ok"]])
        if len(result.checks)
        else [],
    }
    (folder / "stress.json").write_text(
        json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False), encoding="utf-8"
    )
    paths["stress.json"] = folder / "stress.json"
    return paths
