"""The forecast's view of a data set: every product's daily flows up to the as-of day as arrays.

A :class:`Panel` holds one (days × products) array per flow column, every calendar day from the
first flows day to the as-of day, NaN where a product does not exist yet. It is built from rows
dated on or before the as-of day only (:func:`build_panel`), and everything the models compute
comes from a panel, so a forecast cannot see the future by construction: rows after the as-of
day, and market publications after it, never reach a model.

Censored demand. On a day where ``subscriptions`` reached ``quota`` the observation is a lower
bound of the demand, not the demand. The panel flags those days (:attr:`Panel.censored`) so that
models leave them out of their training targets, and keeps a *filled* subscriptions series for
features and per-product smoothers (:meth:`Panel.series`): a censored day is replaced by the
larger of what was observed and the mean of the uncensored same weekdays of the previous four
weeks. The ``demand`` column of a synthetic data set is never read here: real data lacks it, so
it may only score forecasts in :mod:`forecast.evaluation`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rainmaker.contracts import FORECAST_VARIABLES
from rainmaker.dataset import Dataset, parse_day
from rainmaker.errors import UsageError, first_few

__all__ = [
    "MODELLED_VARIABLES",
    "OUTPUT_VARIABLES",
    "Panel",
    "PanelWarning",
    "build_panel",
]

# The two flows a model forecasts; net flow and AUM are derived from their sample paths.
MODELLED_VARIABLES = ("subscriptions", "redemptions")
OUTPUT_VARIABLES = FORECAST_VARIABLES  # the contract's (rainmaker.contracts)
MARKET_COLUMNS = ("shibor_on", "shibor_1w", "benchmark_yield_7d")
PRODUCT_TYPE_CODES = {"cash_management": 0.0, "fixed_income": 1.0}
# Subscriptions within this relative distance of the quota count as "the cap was reached".
CENSORED_RELATIVE_TOLERANCE = 1e-9
CENSOR_FILL_WEEKS = 4


class PanelWarning(UserWarning):
    """A product left out of the forecast (no flows on the as-of day)."""


@dataclass(frozen=True, eq=False)
class Panel:
    """Daily flows of every product, days × products, up to the as-of day.

    Attributes:
        dates: every calendar day from the first flows day to the as-of day.
        product_ids: product order of the columns.
        subscriptions: observed subscriptions accepted (CNY), NaN before a product's first day.
        redemptions: redemptions paid (CNY).
        aum: net assets at end of day (CNY).
        exposure: marketing exposure (the data set's unit); NaN when the column is absent.
        income_rate: income of the day per unit of AUM (``income_per_10k / 10,000``, or
            ``yield_7d / 100 / 365`` when only the yield is given); NaN when neither is.
        yield_7d: 7-day annualised yield, percent; NaN when absent.
        censored: subscriptions reached the quota that day (a lower bound of demand).
        filled_subscriptions: subscriptions with censored days filled (see module docstring).
        first_index: position in ``dates`` of each product's first day.
        market: daily market rates (percent p.a.) on ``dates``, each the latest publication
            on or before that day: ``shibor_on``, ``shibor_1w``, ``benchmark_yield_7d``.
        product_type: 0 for cash management, 1 for fixed income (per product).
        fee_bp: total annual fees, bp of net assets (per product).
        channel: distribution channel as a number (position of the product's channel among the
            data set's channels in alphabetical order; -1 without a ``channel`` column).
    """

    dates: pd.DatetimeIndex
    product_ids: tuple[str, ...]
    subscriptions: np.ndarray
    redemptions: np.ndarray
    aum: np.ndarray
    exposure: np.ndarray
    income_rate: np.ndarray
    yield_7d: np.ndarray
    censored: np.ndarray
    filled_subscriptions: np.ndarray
    first_index: np.ndarray
    market: pd.DataFrame
    product_type: np.ndarray
    fee_bp: np.ndarray
    channel: np.ndarray

    @property
    def as_of(self) -> pd.Timestamp:
        """The last day of the panel."""
        return pd.Timestamp(self.dates[-1])

    @property
    def n_days(self) -> int:
        return len(self.dates)

    @property
    def n_products(self) -> int:
        return len(self.product_ids)

    def series(self, variable: str) -> np.ndarray:
        """The series models learn from: filled subscriptions, or redemptions (days × products)."""
        if variable == "subscriptions":
            return self.filled_subscriptions
        if variable == "redemptions":
            return self.redemptions
        raise ValueError(
            f"unknown variable {variable!r}; expected one of {', '.join(MODELLED_VARIABLES)}"
        )

    def target_mask(self, variable: str) -> np.ndarray:
        """Days whose observation is the variable itself: known and, for subscriptions, not
        censored by a quota (a censored day is only a lower bound of demand)."""
        known = ~np.isnan(self.series(variable))
        if variable == "subscriptions":
            return known & ~self.censored
        return known


class _Grid:
    """Positions of long flows rows in the (days × products) arrays, computed once."""

    def __init__(self, flows: pd.DataFrame, dates: pd.DatetimeIndex, ids: list[str]) -> None:
        self.shape = (len(dates), len(ids))
        self.day = ((flows["date"] - dates[0]) // pd.Timedelta(days=1)).to_numpy(dtype=np.int64)
        self.product = pd.Index(ids).get_indexer(flows["product_id"])
        self.flows = flows

    def wide(self, column: str) -> np.ndarray:
        out = np.full(self.shape, np.nan)
        if column in self.flows.columns:
            out[self.day, self.product] = self.flows[column].to_numpy(dtype=float)
        return out


def fill_censored(subscriptions: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Subscriptions with censored days replaced by a lower-bound-aware estimate of demand.

    A censored day gets ``max(observed, mean of the uncensored same weekdays of the previous
    four weeks)``; with no such day it keeps the observation. Only earlier days are used, so the
    fill of a day never changes when later rows arrive.

    Args:
        subscriptions: observed subscriptions, days × products (CNY).
        censored: where the quota was reached, same shape.

    Returns:
        A new array, same shape.
    """
    filled = subscriptions.copy()
    if not censored.any():
        return filled
    clean = np.where(censored, np.nan, subscriptions)
    n_days = subscriptions.shape[0]
    total = np.zeros_like(subscriptions)
    count = np.zeros_like(subscriptions)
    for week in range(1, CENSOR_FILL_WEEKS + 1):
        lag = 7 * week
        if lag >= n_days:
            break
        past = clean[:-lag]
        ok = ~np.isnan(past)
        total[lag:] += np.where(ok, past, 0.0)
        count[lag:] += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        reference = total / count
    replace = censored & (count > 0)
    filled[replace] = np.maximum(subscriptions[replace], reference[replace])
    return filled


def build_panel(dataset: Dataset, as_of: str | pd.Timestamp | None = None) -> Panel:
    """The panel of ``dataset`` as known at the end of ``as_of``.

    Only flows and market rows dated on or before ``as_of`` are read. Products with no flows on
    the as-of day (not launched yet, or closed) are left out with a :class:`PanelWarning`.

    Args:
        dataset: a loaded data set.
        as_of: the as-of day (default: the last flows day).

    Returns:
        The :class:`Panel`.

    Raises:
        UsageError: ``as_of`` precedes the first flows day or follows the last one, or no
            product has flows on it.
    """
    last = dataset.last_date
    day = last if as_of is None else parse_day(as_of, "as-of day")
    if day > last:
        raise UsageError(
            f"as-of day {day:%Y-%m-%d} is after the last flows day {last:%Y-%m-%d}; "
            "expected a day with flows"
        )
    flows = dataset.flows.loc[dataset.flows["date"] <= day]
    if flows.empty:
        raise UsageError(
            f"as-of day {day:%Y-%m-%d} precedes the first flows day "
            f"{dataset.first_date:%Y-%m-%d}; expected a day with flows"
        )
    on_day = flows.loc[flows["date"] == day, "product_id"]
    all_ids = sorted(flows["product_id"].unique())
    ids = sorted(on_day.unique())
    dropped = sorted(set(all_ids) - set(ids))
    if dropped:
        warnings.warn(_dropped_note(flows, dropped, day), PanelWarning, stacklevel=2)
    if not ids:
        raise UsageError(f"no product has flows on the as-of day {day:%Y-%m-%d}")
    flows = flows.loc[flows["product_id"].isin(ids)]
    dates = pd.date_range(flows["date"].min(), day, freq="D", name="date")

    grid = _Grid(flows, dates, ids)
    subscriptions = grid.wide("subscriptions")
    quota = grid.wide("quota")
    with np.errstate(invalid="ignore"):
        censored = ~np.isnan(quota) & (subscriptions >= quota * (1.0 - CENSORED_RELATIVE_TOLERANCE))
    income_rate = grid.wide("income_per_10k") / 10_000.0
    yield_7d = grid.wide("yield_7d")
    income_rate = np.where(np.isnan(income_rate), yield_7d / 100.0 / 365.0, income_rate)
    known = ~np.isnan(subscriptions)
    first_index = np.argmax(known, axis=0)

    market = dataset.market_daily(dates[0], day)
    market = market.reindex(columns=list(MARKET_COLUMNS)).astype(float)
    products = dataset.products.set_index("product_id").reindex(ids)
    product_type = (
        products["product_type"].map(PRODUCT_TYPE_CODES).astype(float).fillna(0.0).to_numpy()
    )
    fee_bp = products["fee_bp"].astype(float).to_numpy()
    if "channel" in products.columns:
        # Codes over every listed product, so they do not depend on the as-of day.
        channels = sorted(dataset.products["channel"].dropna().astype(str).unique())
        channel = products["channel"].map({c: float(i) for i, c in enumerate(channels)})
        channel = channel.fillna(-1.0).to_numpy(dtype=float)
    else:
        channel = np.full(len(ids), -1.0)
    return Panel(
        dates=dates,
        product_ids=tuple(ids),
        subscriptions=subscriptions,
        redemptions=grid.wide("redemptions"),
        aum=grid.wide("aum"),
        exposure=grid.wide("exposure"),
        income_rate=income_rate,
        yield_7d=yield_7d,
        censored=censored,
        filled_subscriptions=fill_censored(subscriptions, censored),
        first_index=first_index,
        market=market,
        product_type=product_type,
        fee_bp=fee_bp,
        channel=channel,
    )


def _dropped_note(flows: pd.DataFrame, dropped: list[str], day: pd.Timestamp) -> str:
    """The warning for the products with rows before ``day`` but none on it: closed, or, where
    a product's last row still holds assets, perhaps a feed behind the others' (a product left
    out of today's plan with billions in it), whose last row and aum the warning gives."""
    head = f"no flows on {day:%Y-%m-%d} for {len(dropped)} product(s) ({first_few(dropped)}): "
    last = flows.loc[flows["product_id"].isin(dropped)].sort_values("date")
    last = last.groupby("product_id", sort=True).last()
    held = last.loc[last["aum"].astype(float) > 0]
    if held.empty:
        return head + "they closed before the as-of day and are not forecast"
    rows = "; ".join(
        f"{p}'s last row {pd.Timestamp(row['date']):%Y-%m-%d} has aum {float(row['aum']):,.0f}"
        for p, row in held.head(5).iterrows()
    )
    return (
        head + f"they are not forecast; {rows}{'; ...' if len(held) > 5 else ''}: a feed that "
        "has not landed, or a product closed with assets (an as-of day on or before its last "
        "row forecasts it)"
    )
