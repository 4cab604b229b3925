"""The input data set (SPEC §1) loaded into typed pandas frames.

:func:`load_dataset` validates a data-set folder (see :mod:`rainmaker.validation`) and returns a
:class:`Dataset`: the three contract tables (``products``, ``flows``, ``market``), every other
table of the folder by file stem, the warnings found, and a fingerprint of the files. Nothing is
dropped, filled or clipped on the way; a data set with any problem raises
:class:`~rainmaker.errors.DataError` listing all of them.

Two methods keep models honest about time: :meth:`Dataset.up_to` cuts every dated row after an
as-of day (no look-ahead), and :meth:`Dataset.market_daily` turns market publications into one
row per calendar day, each carrying the latest publication dated on or before that day.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeAlias

import numpy as np
import pandas as pd

from rainmaker.calendar_file import CALENDAR_TABLE, use_calendar_of
from rainmaker.errors import DataError, Problem, UsageError, first_few
from rainmaker.validation import (
    FIRST_YEAR,
    ISO_DATE,
    LAST_YEAR,
    REQUIRED_TABLES,
    ValidationReport,
    read_other_table,
    table_files,
    validate_dataset,
    validate_frames,
)

__all__ = ["Dataset", "dataset_from_report", "load_dataset", "parse_day", "read_table"]

DateLike: TypeAlias = str | date | pd.Timestamp


@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated data set. Frames are shared, not copied: treat them as read-only.

    Attributes:
        root: the folder it was loaded from.
        products: one row per product; ``product_id``, ``issuer``, ``product_type`` as ``str``,
            ``fee_bp`` (bp of net assets per year) as float; optional and extra columns kept.
        flows: one row per (product_id, date), sorted by (product_id, date), RangeIndex;
            ``date`` datetime64[ns] (midnight), ``product_id`` str, ``subscriptions``,
            ``redemptions``, ``aum`` float64 (CNY or the data set's consistent unit); optional
            ``quota`` (NaN = no cap), ``exposure``, ``income_per_10k`` (CNY per 10,000 units),
            ``yield_7d`` (percent), ``demand`` as float64 only when the file has them; extra
            columns kept.
        market: ``date`` plus rate columns (float64, percent p.a.), sorted by date, one row per
            publication (weekends and holidays may be absent).
        tables: every other table of the folder by file stem, loaded as stored; columns named
            ``date`` or ``*_date`` parsed to datetime64[ns], ``*_id`` columns kept as text,
            other text columns that hold only numbers converted to float.
        warnings: suspicious but usable data found by validation.
        fingerprint: sha256 (64 hex characters) over the names and bytes of the table files.
            :meth:`up_to` keeps it: it identifies the files read, not the rows kept.
        files: file name each table was read from, by stem (``{"flows": "flows.parquet"}``).
    """

    root: Path
    products: pd.DataFrame
    flows: pd.DataFrame
    market: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()
    fingerprint: str = ""
    files: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_frames(
        cls,
        products: pd.DataFrame,
        flows: pd.DataFrame,
        market: pd.DataFrame,
        tables: Mapping[str, pd.DataFrame] | None = None,
        *,
        root: str | Path = "<frames>",
    ) -> Dataset:
        """A data set from frames in memory, validated exactly as a folder is.

        The frames go through :func:`rainmaker.validation.validate_frames`: the same checks,
        conversions and messages as :func:`load_dataset` gives for the files written from them
        (each problem names ``<stem> (frame)``, the column and the rows, numbered from 2 as
        lines of a file). Dates may be ISO text or datetimes at midnight; amounts CNY.

        Args:
            products, flows, market: the three tables of SPEC §1.
            tables: team tables by stem (``holdings``, ``sales_plan``, ``exposure_response`` …).
            root: what :attr:`root` reports (nothing is read from it).

        Returns:
            The :class:`Dataset`; :attr:`fingerprint` hashes the frames' content.

        Raises:
            DataError: any problem, all of them listed (exit status 2 on the command line).
        """
        frames = {**(tables or {}), "products": products, "flows": flows, "market": market}
        return dataset_from_report(validate_frames(frames, root))

    def select(self, products: str | Sequence[str]) -> Dataset:
        """The data set restricted to some products: their products row, flows and the rows of
        every team table that has a ``product_id`` column; market rows are kept. A team table
        keyed by sales ``channel`` (``sales_plan``) loses the rows of channels whose products
        were all left out (their targets are not this selection's to meet); a channel no
        product has stays, for the table's own check to report.

        Args:
            products: a product id or ids, in any order; each must have flows.

        Raises:
            UsageError: no id given, or an id without flows (the message lists the known ones).
        """
        wanted = (products,) if isinstance(products, str) else tuple(products)
        if not wanted:
            raise UsageError("no product id given; expected at least one product id")
        unknown = sorted(set(wanted) - set(self.product_ids))
        if unknown:
            raise UsageError(
                f"products {', '.join(unknown)} have no flows in {self.root}; expected ids "
                f"among {', '.join(self.product_ids)}"
            )
        keep = set(wanted)
        left_out = _channels_left_out(self.products, keep)
        tables = {stem: _table_of(frame, keep, left_out) for stem, frame in self.tables.items()}
        return dataclasses.replace(
            self,
            products=_rows_of(self.products, keep),
            flows=_rows_of(self.flows, keep),
            tables=tables,
        )

    def __repr__(self) -> str:
        if self.flows.empty:
            return f"Dataset({self.root}: no flows)"
        extra = f", tables {', '.join(sorted(self.tables))}" if self.tables else ""
        return (
            f"Dataset({self.root}: {len(self.product_ids)} products, flows "
            f"{self.first_date:%Y-%m-%d} to {self.last_date:%Y-%m-%d}, {len(self.market):,} "
            f"market rows{extra}, {len(self.warnings)} warnings)"
        )

    @property
    def first_date(self) -> pd.Timestamp:
        """First day of flows (any product)."""
        return pd.Timestamp(self.flows["date"].min())

    @property
    def last_date(self) -> pd.Timestamp:
        """Last day of flows (any product); the default as-of day."""
        return pd.Timestamp(self.flows["date"].max())

    @property
    def product_ids(self) -> tuple[str, ...]:
        """Sorted ids of the products that have flows (``products`` may list more)."""
        return tuple(sorted(self.flows["product_id"].unique()))

    def file_name(self, stem: str) -> str:
        """The file table ``stem`` was read from (``market.parquet``), for messages; the CSV's
        name where the data set was not read from files or lacks the table."""
        return self.files.get(stem, f"{stem}.csv")

    def without_flows(self, asked: Sequence[str]) -> str | None:
        """What is wrong with the ids of ``asked`` that have no flows, in a message's words;
        None when every one has flows. An id that ``products`` does not list is unknown; one it
        lists without a flows row is not unknown, and is said to have no flows."""
        unknown = sorted(set(asked) - set(self.product_ids))
        if not unknown:
            return None
        listed = set(self.products["product_id"].astype(str))
        stray = [p for p in unknown if p not in listed]
        idle = [p for p in unknown if p in listed]
        said = [f"unknown product(s) {first_few(stray)}"] if stray else []
        if idle:
            table = self.file_name("products")
            said.append(f"product(s) {first_few(idle)} of {table} have no flows")
        return f"{'; '.join(said)}; expected products with flows: {first_few(self.product_ids)}"

    def products_on(self, day: pd.Timestamp) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The products with a flows row dated ``day``, and those of them whose ``aum`` that
        day is 0 (fully redeemed: nothing to plan, stress or run down), each sorted."""
        today = self.flows.loc[self.flows["date"] == day]
        ids = today["product_id"].astype(str)
        empty = ids[(today["aum"].astype(float) <= 0).to_numpy()]
        return tuple(sorted(set(ids))), tuple(sorted(empty))

    def up_to(self, as_of: DateLike) -> Dataset:
        """The data set as it was known at the end of ``as_of``: no row dated after it.

        Drops flows and market rows dated after ``as_of``, and rows of other tables that have
        a ``date`` column. Products, warnings and the fingerprint are kept.

        Args:
            as_of: the last day whose rows are kept (ISO string, date or Timestamp).

        Raises:
            UsageError: ``as_of`` is not a date, or precedes the first flows day.
        """
        cut = parse_day(as_of, "as-of day")
        if cut < self.first_date:
            raise UsageError(
                f"as-of day {cut:%Y-%m-%d} precedes the first flows date "
                f"{self.first_date:%Y-%m-%d}; expected a day on or after it"
            )
        tables = {
            stem: _rows_up_to(frame, cut) if _has_dates(frame) else frame
            for stem, frame in self.tables.items()
        }
        return dataclasses.replace(
            self,
            flows=_rows_up_to(self.flows, cut),
            market=_rows_up_to(self.market, cut),
            tables=tables,
        )

    def market_daily(
        self, start: DateLike | None = None, end: DateLike | None = None
    ) -> pd.DataFrame:
        """Market rates on every calendar day, carrying forward the latest publication.

        Each day gets the row of the latest publication dated on or before it, never a later
        one, so the value of a day does not change when later rows are added (no look-ahead).

        Args:
            start: first day (default: first flows day).
            end: last day (default: last flows day).

        Returns:
            Frame indexed by ``date`` (every calendar day of [start, end]) with the rate
            columns of ``market`` (percent p.a.).

        Raises:
            DataError: a day precedes the first publication (names the market file).
            UsageError: ``start`` or ``end`` is not a date, or ``end`` precedes ``start``.
        """
        first = self.first_date if start is None else parse_day(start, "start")
        last = self.last_date if end is None else parse_day(end, "end")
        if last < first:
            raise UsageError(f"end {last:%Y-%m-%d} precedes start {first:%Y-%m-%d}")
        published = self.market.set_index("date")
        if published.empty or first < published.index[0]:
            since = f"the first is {published.index[0]:%Y-%m-%d}" if not published.empty else "none"
            raise DataError(
                [
                    Problem(
                        self.file_name("market"),
                        "date",
                        f"no market publication on or before {first:%Y-%m-%d} ({since}); "
                        "expected market rows from on or before the first day needed",
                    )
                ]
            )
        days = pd.date_range(first, last, freq="D", name="date").as_unit("ns")
        return published.reindex(days, method="ffill")


def load_dataset(path: str | Path) -> Dataset:
    """Validate a data-set folder and load it.

    Args:
        path: the data-set folder.

    Returns:
        The :class:`Dataset`, with the validation warnings attached.

    Raises:
        DataError: the folder does not meet the contract; carries every problem found.
    """
    return dataset_from_report(validate_dataset(path))


def dataset_from_report(report: ValidationReport) -> Dataset:
    """The :class:`Dataset` of a folder already checked (:func:`validate_dataset`).

    Raises:
        DataError: the report has problems; carries every one.
    """
    if not report.ok:
        raise DataError(report.problems)
    parsed = report.parsed
    # the holiday arrangement of the years after the package's coverage: a fact of the
    # calendar, used by everything this process asks of it from now on
    use_calendar_of(parsed, report.files.get(CALENDAR_TABLE, f"{CALENDAR_TABLE}.csv"))
    return Dataset(
        root=report.root,
        products=parsed["products"],
        flows=parsed["flows"],
        market=parsed["market"],
        tables={stem: frame for stem, frame in parsed.items() if stem not in REQUIRED_TABLES},
        warnings=tuple(report.warnings),
        fingerprint=report.fingerprint,
        files=dict(report.files),
    )


def read_table(root: str | Path, stem: str) -> tuple[pd.DataFrame, str]:
    """Read one table of a data-set folder as stored; Parquet wins over CSV (SPEC §1).

    Columns are converted as for :attr:`Dataset.tables` (dates parsed by name, ids kept as
    text). This does not check the contract of the three required tables: use
    :func:`load_dataset` for those.

    Args:
        root: the data-set folder.
        stem: the table's file name without extension, e.g. ``"sales_plan"``.

    Returns:
        The frame and the name of the file it came from.

    Raises:
        DataError: the table is missing, unreadable, or has a date that is not ISO.
    """
    folder = Path(root)
    path = table_files(folder).get(stem) if folder.is_dir() else None
    if path is None:
        raise DataError(
            [Problem(f"{stem}.csv", "", f"file is missing; expected {stem}.csv or {stem}.parquet")]
        )
    frame, problems = read_other_table(path)
    if problems or frame is None:
        raise DataError(problems)
    return frame, path.name


def parse_day(value: DateLike, what: str) -> pd.Timestamp:
    """``value`` as a calendar day (midnight), or ``UsageError`` naming ``what`` (e.g. a flag).

    Every command and API that takes a day (as-of, start, end) parses it here, so that all of
    them accept and reject the same inputs with the same message. Text must be an ISO date
    ``YYYY-MM-DD`` between the years the data files accept, exactly as in the files: ``2022``,
    ``2022/06/01`` and ``01/06/2022`` are refused rather than guessed (is it 1 June or 6 January?).
    A ``date``, ``datetime`` or ``Timestamp`` is taken as its calendar day.
    """
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise UsageError(f"{what} is missing; expected YYYY-MM-DD")
        day = None
        if re.fullmatch(ISO_DATE, text) and FIRST_YEAR <= int(text[:4]) <= LAST_YEAR:
            try:
                day = pd.Timestamp(date.fromisoformat(text))
            except ValueError:  # 2022-02-30
                day = None
        if day is None:
            raise UsageError(
                f"{what} {value!r} is not a date; expected an ISO date YYYY-MM-DD "
                f"(years {FIRST_YEAR} to {LAST_YEAR})"
            )
        return day
    if value is None or value is pd.NaT:
        raise UsageError(f"{what} is missing; expected YYYY-MM-DD")
    if not isinstance(value, date | np.datetime64):  # pd.Timestamp and datetime are dates
        raise UsageError(f"{what} {value!r} is not a date; expected YYYY-MM-DD")
    day = pd.Timestamp(value)
    if pd.isna(day):
        raise UsageError(f"{what} is missing; expected YYYY-MM-DD")
    return day.normalize()


def _has_dates(frame: pd.DataFrame) -> bool:
    return "date" in frame.columns and pd.api.types.is_datetime64_any_dtype(frame["date"])


def _rows_of(frame: pd.DataFrame, keep: set[str]) -> pd.DataFrame:
    return frame.loc[frame["product_id"].isin(keep)].reset_index(drop=True)


def _channels_left_out(products: pd.DataFrame, keep: set[str]) -> set[str]:
    """Sales channels of products.csv none of whose products is in ``keep``."""
    if "channel" not in products.columns:
        return set()
    channel = products["channel"].dropna().astype(str)
    ids = products.loc[channel.index, "product_id"].astype(str)
    kept = set(channel[ids.isin(keep)])
    return set(channel) - kept


def _table_of(frame: pd.DataFrame, keep: set[str], channels_left_out: set[str]) -> pd.DataFrame:
    """A team table's rows of the products in ``keep``: by ``product_id``, else by sales
    ``channel`` (the rows of ``channels_left_out`` dropped), else all of them."""
    if "product_id" in frame.columns:
        return _rows_of(frame, keep)
    if "channel" in frame.columns:
        left_out = frame["channel"].astype(str).isin(channels_left_out)
        return frame.loc[~left_out].reset_index(drop=True)
    return frame


def _rows_up_to(frame: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    # rows with no date are kept: they cannot be in the future
    return frame.loc[~(frame["date"] > cut)].reset_index(drop=True)
