"""Today's portfolio of every product: the positions the plan starts from.

A data set has no holdings table by default. A team may add ``holdings.csv`` with one row per
position: ``product_id``, ``bucket`` (a name of :data:`rainmaker.assets.BUCKETS`),
``amount_cny`` (≥ 0), ``rate_pct`` (percent p.a.; may be empty for cash, which earns the cash
bucket's rate), ``maturity_date`` (empty for cash, after the as-of day otherwise) and optionally
``value_date`` (first day the position earns; default: already earning) and ``date`` (the day of
the snapshot: only rows dated on the as-of day are used, so one file can hold a snapshot per day).
For a product without rows the portfolio is a *default ladder* (:func:`default_ladder`), the
convention of :meth:`simulate.portfolio.Portfolio.from_ladder`: today's AUM split by the shares of
``[portfolio]`` in the settings, every term bucket bought evenly over its tenor before today at
the rates of those days (so it matures evenly over the next tenor days) and the rest in cash.

Both give one frame, :data:`HOLDING_COLUMNS`, with one row per position and cash as rows of
bucket ``cash``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from rainmaker.assets import BUCKETS
from rainmaker.errors import DataError, Problem, table_lines
from rainmaker.validation import IMPLAUSIBLE_FACTOR

__all__ = [
    "HOLDING_COLUMNS",
    "NET_NOISE",
    "default_ladder",
    "missing_snapshot_note",
    "nil_within_noise",
    "read_holdings",
    "workday_after",
]

HOLDING_COLUMNS = ("product_id", "bucket", "amount_cny", "rate_pct", "value_date", "maturity_date")
REQUIRED = ("product_id", "bucket", "amount_cny", "rate_pct", "maturity_date")
FILE = "holdings.csv"
# A book whose net assets are nil (every unit redeemed, the redemptions owed netted into its
# cash row, as the backtest hands its portfolio over) sums in floating point to a residue of
# either sign, some 1e-16 of its positions (-3e-6 CNY on a book of 1.3e10): a product's net
# assets within this share of its gross book (the absolute amounts, borrowing included) are nil.
NET_NOISE = 1e-12


def nil_within_noise(net: np.ndarray, gross: np.ndarray) -> np.ndarray:
    """Net assets (CNY) with a residue below zero within :data:`NET_NOISE` of the gross book
    (CNY, the absolute amounts, borrowing included) read as nil; the rest as they are."""
    return np.where((net < 0) & (net >= -NET_NOISE * gross), 0.0, net)


def workday_after(day: pd.Timestamp, workday: pd.Series) -> pd.Timestamp:
    """The first working day on or after ``day`` according to a boolean series by date."""
    later = workday.loc[day:]
    hits = later.index[later.to_numpy(dtype=bool)]
    if len(hits) == 0:
        raise ValueError(f"no working day on or after {day:%Y-%m-%d} in the calendar given")
    return pd.Timestamp(hits[0])


def default_ladder(
    product_ids: Sequence[str],
    aum_cny: np.ndarray,
    shares: Mapping[str, float],
    rate_history: pd.DataFrame,
    as_of: pd.Timestamp,
    workday: pd.Series,
) -> pd.DataFrame:
    """A steady-state ladder per product, as of the end of ``as_of``.

    Args:
        product_ids: products, in the order of ``aum_cny``.
        aum_cny: today's AUM of each product, CNY.
        shares: share of AUM per bucket name (the ``[portfolio]`` settings).
        rate_history: purchase rate of every bucket (percent p.a.) indexed by calendar day, up
            to ``as_of``; a day before its first row takes the first row.
        as_of: today.
        workday: working-day flags by calendar day covering ``as_of`` + the longest tenor and
            its days off.

    Returns:
        Holdings frame (:data:`HOLDING_COLUMNS`); for a term bucket of tenor n, n positions
        bought on ``as_of``, ``as_of`` − 1, ..., each of ``share × AUM / n`` CNY, with value
        date the day after purchase and maturity the first working day on or after
        value date + n − 1 (as :mod:`simulate.portfolio`).
    """
    history = rate_history.sort_index()
    rows: list[dict[str, object]] = []
    aum = np.asarray(aum_cny, dtype=float)
    for b in BUCKETS:
        share = float(shares.get(b.name, 0.0))
        if b.tenor_days == 0 or share <= 0:
            continue
        per_position = aum * share / b.tenor_days
        for j in range(b.tenor_days):
            bought = as_of - pd.Timedelta(days=j)
            position = max(int(history.index.searchsorted(bought, side="right")) - 1, 0)
            rate = float(history[b.name].iloc[position])
            value_date = bought + pd.Timedelta(days=1)
            maturity = workday_after(value_date + pd.Timedelta(days=b.tenor_days - 1), workday)
            for i, pid in enumerate(product_ids):
                rows.append(
                    {
                        "product_id": pid,
                        "bucket": b.name,
                        "amount_cny": per_position[i],
                        "rate_pct": rate,
                        "value_date": value_date,
                        "maturity_date": maturity,
                    }
                )
    invested = np.zeros(len(aum))
    for b in BUCKETS:
        if b.tenor_days > 0:
            invested += aum * float(shares.get(b.name, 0.0))
    cash_rate = float(history["cash"].iloc[-1])
    for i, pid in enumerate(product_ids):
        rows.append(
            {
                "product_id": pid,
                "bucket": "cash",
                "amount_cny": max(aum[i] - invested[i], 0.0),
                "rate_pct": cash_rate,
                "value_date": pd.NaT,
                "maturity_date": pd.NaT,
            }
        )
    return _frame(rows)


def _frame(rows: list[dict[str, object]] | pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(HOLDING_COLUMNS))
    frame["product_id"] = frame["product_id"].astype(str)
    frame["bucket"] = frame["bucket"].astype(str)
    for column in ("amount_cny", "rate_pct"):
        frame[column] = frame[column].astype(float)
    for column in ("value_date", "maturity_date"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    return frame.reset_index(drop=True)


def missing_snapshot_note(table: pd.DataFrame, as_of: pd.Timestamp, file: str = FILE) -> str | None:
    """The warning for a holdings table with a ``date`` column and no row dated ``as_of``, or
    None: :func:`read_holdings` reads the rows of the as-of day only, so a snapshot of the day
    before (a feed one day behind the flows) is set aside whole and every product's book is
    assumed, which the reader is told here (the latest snapshot before the as-of day named, no
    later one: no look-ahead)."""
    if "date" not in table.columns:
        return None
    dates = pd.to_datetime(table["date"], errors="coerce")
    if (dates == as_of).any():
        return None
    before = dates.loc[dates < as_of]
    latest = f"the latest {before.max():%Y-%m-%d}" if len(before) else "none before it"
    return (
        f"{file}, column 'date': no holdings dated on the as-of day {as_of:%Y-%m-%d} "
        f"({latest}): the file is not read and each product's book is assumed; expected a "
        "snapshot of the holdings at the end of the as-of day"
    )


def read_holdings(
    table: pd.DataFrame,
    as_of: pd.Timestamp,
    product_ids: Sequence[str],
    cash_rate_pct: float,
    file: str = FILE,
    aum_cny: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Validate a ``holdings`` table and return the positions held at the end of ``as_of``.

    Args:
        table: the table as loaded by :func:`rainmaker.dataset.load_dataset` (dates parsed).
        as_of: today; positions must mature after it.
        product_ids: products being planned; rows of other products are ignored.
        cash_rate_pct: rate of cash rows whose ``rate_pct`` is empty, percent p.a.
        file: file name used in error messages.
        aum_cny: each product's AUM on ``as_of``, CNY, where known: a position larger than
            :data:`rainmaker.validation.IMPLAUSIBLE_FACTOR` times it is refused (a typo or a
            unit error, which the solver's arithmetic cannot work with), as flows are.

    Returns:
        Holdings frame (:data:`HOLDING_COLUMNS`) of the planned products that have rows.

    Raises:
        DataError: a required column is missing; a product or bucket is unknown; an amount is
            missing, or negative outside cash (a negative cash amount is repo borrowing or
            redemptions owed, to be repaid first); a term position lacks a rate or a maturity
            after ``as_of``, or a value date after its maturity; a position is implausibly
            large for the product's AUM.
    """
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise DataError(
            [
                Problem(
                    file,
                    c,
                    "column is missing; expected columns "
                    + ", ".join(REQUIRED)
                    + " (and optionally value_date, date)",
                )
                for c in missing
            ]
        )
    frame = table.reset_index(drop=True)
    if "date" in frame.columns:
        frame = frame.loc[pd.to_datetime(frame["date"]) == as_of]
    problems: list[Problem] = []
    names = {b.name for b in BUCKETS}
    product = frame["product_id"].astype(str).to_numpy()
    bucket_name = frame["bucket"].astype(str).str.strip().to_numpy()
    amount = pd.to_numeric(frame["amount_cny"], errors="coerce").to_numpy(dtype=float)
    rate = pd.to_numeric(frame["rate_pct"], errors="coerce").to_numpy(dtype=float)
    maturity = pd.to_datetime(frame["maturity_date"], errors="coerce")
    value_date = (
        pd.to_datetime(frame["value_date"], errors="coerce")
        if "value_date" in frame.columns
        else pd.Series(pd.NaT, index=frame.index)
    )
    index = frame.index.to_numpy()

    def flag(mask: np.ndarray, column: str, message: str) -> None:
        if mask.any():
            rows = np.zeros(len(table), dtype=bool)
            rows[index[mask]] = True
            shown, n = table_lines(rows)
            problems.append(Problem(file, column, message, shown, n))

    flag(
        ~np.isin(bucket_name, list(names)),
        "bucket",
        f"unknown bucket; expected one of {', '.join(sorted(names))}",
    )
    is_cash = bucket_name == "cash"
    # settled cash may be negative: repo borrowing (or redemptions owed) to be repaid first
    flag(
        ~np.isfinite(amount) | (~is_cash & ~(amount >= 0)),
        "amount_cny",
        "expected an amount >= 0 CNY (cash rows may be negative: borrowing to repay)",
    )
    flag(~is_cash & ~np.isfinite(rate), "rate_pct", "a term position needs its rate, percent p.a.")
    mat = maturity.to_numpy()
    flag(
        ~is_cash & ~(mat > np.datetime64(as_of)),
        "maturity_date",
        f"a term position needs a maturity date after the as-of day {as_of:%Y-%m-%d}",
    )
    # a lot earns from its value date to its maturity, both included (a 1-day repo's are the
    # same day, Portfolio.from_ladder): one dated after its maturity never earns (a swapped or
    # mistyped date), and was read as a lot earning its rate to maturity
    flag(
        ~is_cash & (value_date.to_numpy() > mat),
        "value_date",
        "a value date after the position's maturity_date; expected the first day the "
        "position earns, on or before its maturity (or an empty cell: already earning)",
    )
    # borrowing may exceed a product's cash, not its whole book: net assets below zero are
    # a sign or unit error (the plan has no AUM to work with)
    amounts = pd.Series(np.nan_to_num(amount))
    totals = amounts.groupby(product).transform("sum").to_numpy()
    gross = amounts.abs().groupby(product).transform("sum").to_numpy()
    flag(
        np.isfinite(amount) & (nil_within_noise(totals, gross) < 0),
        "amount_cny",
        "a product's positions sum to less than zero (borrowing beyond its whole book); "
        "expected net assets >= 0 CNY",
    )
    if aum_cny is not None:
        # each lot's product's AUM, looked up by position (NaN: not known)
        known = pd.Index(list(aum_cny)).get_indexer(product)
        aum_of = np.array([float(aum_cny[p]) for p in aum_cny] + [np.nan], dtype=float)
        size = aum_of[known]
        bound = np.where(size > 0, size * IMPLAUSIBLE_FACTOR, np.inf)
        flag(
            np.abs(np.nan_to_num(amount)) > bound,
            "amount_cny",
            f"more than {IMPLAUSIBLE_FACTOR:,} times the product's AUM on {as_of:%Y-%m-%d} "
            "(a typo or a unit error?); expected positions of the product's size, CNY",
        )
    if problems:
        raise DataError(problems)
    keep = np.isin(product, list(product_ids))
    out = pd.DataFrame(
        {
            "product_id": product[keep],
            "bucket": bucket_name[keep],
            "amount_cny": amount[keep],
            "rate_pct": np.where(
                is_cash[keep] & ~np.isfinite(rate[keep]), cash_rate_pct, rate[keep]
            ),
            "value_date": value_date.to_numpy()[keep],
            "maturity_date": np.where(is_cash[keep], np.datetime64("NaT"), mat[keep]),
        }
    )
    return _frame(out)
