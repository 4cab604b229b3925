"""Checks a data-set folder against the data contract (SPEC §1) and lists every problem.

Each table is read as text first (CSV with ``dtype=str``, nothing turned into NaN by pandas) and
converted here, so that a bad cell can be pointed at: every :class:`~rainmaker.errors.Problem`
names the file, the column, the first few line numbers (the header is line 1, so the first data
row is line 2; Parquet rows are numbered the same way) and the number of offending rows in all,
and says what is expected. Nothing is dropped, filled or clipped.

Problems make a data set unusable; warnings (e.g. ``aum`` that does not roll forward with the
flows) are reported and the data set is still loaded. :func:`validate_dataset` returns both in a
:class:`ValidationReport`, together with the converted tables that
:func:`rainmaker.dataset.load_dataset` turns into a :class:`~rainmaker.dataset.Dataset`.
All checks are vectorised: a few MB of CSV validate in a fraction of a second.
"""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rainmaker.assets import SHIBOR_COLUMNS
from rainmaker.calendar_file import CALENDAR_TABLE, arrangement_problems
from rainmaker.errors import Problem
from rainmaker.safety import unsafe_characters

__all__ = [
    "FIRST_YEAR",
    "ISO_DATE",
    "LAST_YEAR",
    "MARKET_RATE_COLUMNS",
    "MAX_LINES_SHOWN",
    "PRODUCT_TYPES",
    "REQUIRED_COLUMNS",
    "REQUIRED_TABLES",
    "ValidationReport",
    "folder_problem",
    "read_cells",
    "read_other_table",
    "table_files",
    "validate_dataset",
    "validate_frames",
]

REQUIRED_TABLES = ("products", "flows", "market")
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "products": ("product_id", "issuer", "product_type", "fee_bp"),
    "flows": ("date", "product_id", "subscriptions", "redemptions", "aum"),
    # SPEC §1 asks for "at least shibor_on and shibor_1w"; shibor_1m / shibor_3m are optional
    # (asset pricing falls back to shibor_1w without them).
    "market": ("date", "shibor_on", "shibor_1w", "benchmark_yield_7d"),
}
PRODUCT_TYPES = ("cash_management", "fixed_income")
MARKET_RATE_COLUMNS = ("shibor_on", "shibor_1w", "shibor_1m", "shibor_3m", "benchmark_yield_7d")

# Optional text columns of products that the outputs show (checked for control characters).
PRODUCT_OPTIONAL_TEXTS = ("name", "channel")
# Optional columns of the contract tables: name -> must the number be >= 0? With the team's
# extensions the optimizer reads (docs/optimize.md: max_wam_days, target_aum,
# target_yield_pct): read as numbers there, a cell such as '2.5%' or '1,000,000' was taken as
# empty, i.e. the default, without a word.
PRODUCT_OPTIONAL_NUMBERS = {
    "t0_limit": True,
    "min_cash_ratio": True,
    "min_liquid_ratio": True,
    "max_wam_days": True,
    "target_aum": True,
    "target_yield_pct": False,
}
# Optional numbers that must be above 0, not just >= 0 (checked where the sign is, in
# _Checker.numbers): a WAM cap of 0 days allows no asset but cash and its products.csv value
# overrides the optimizer's liquidity.max_wam_days, which its settings file already requires
# to be above 0; empty still means no cap of the product's own.
POSITIVE_NUMBERS = frozenset({"max_wam_days"})
# Ranges of numbers whose unit is fixed by the contract: (lowest, highest, what the unit is).
# Far outside them a value is a typing or unit error that passed every other check and then
# overflowed a yield, a price or the solver (fees of 1e9 bp, Shibor at 1e300 %, 10,000 CNY of
# income per 10,000 units in a day). The bounds are wide: the June 2013 squeeze took overnight
# Shibor to 13.44 %, cash products charge tens of bp a year, and 1 % of a unit's value in a day
# compounds to a 7-day yield of about +68 % (or -41 %).
VALUE_RANGES: dict[str, tuple[float, float, str]] = {
    "fee_bp": (0.0, 1_000.0, "bp of net assets a year (1,000 bp = 10 %)"),
    "min_cash_ratio": (0.0, 1.0, "as a share of AUM (0.05 = 5 %)"),
    "min_liquid_ratio": (0.0, 1.0, "as a share of AUM (0.10 = 10 %)"),
    "income_per_10k": (-100.0, 100.0, "CNY a day per 10,000 units (100 = 1 % of a unit's value)"),
    "yield_7d": (-100.0, 100.0, "percent a year"),
    "target_yield_pct": (-100.0, 100.0, "percent a year"),
    "rate": (-100.0, 100.0, "percent a year"),  # every market rate, benchmark_yield_7d included
}
FLOW_AMOUNTS = ("subscriptions", "redemptions", "aum")
FLOW_OPTIONAL_NUMBERS = {
    "quota": True,
    "exposure": True,
    "demand": True,
    # income and yield can be negative (a NAV product can lose money on a day)
    "income_per_10k": False,
    "yield_7d": False,
}

MAX_LINES_SHOWN = 5
# An amount above this many times its product's median aum is rejected as implausible (see
# _Checker._implausible_amounts). Real products stay far below (the sample's largest day is
# 2.4 times its product's median aum); the optimiser still solves at 1e6 times and fails near
# 1e8 times, so the bound sits between, leaving room for a product that grows a lot.
IMPLAUSIBLE_FACTOR = 100_000
# Daily income explains at most this share of the previous day's AUM (0.1 % a day is a 36 %
# annual yield, far above anything a cash product earns), plus one unit of the amounts to allow
# for rounding to whole CNY.
ROLL_FORWARD_RELATIVE = 0.001
ROLL_FORWARD_ABSOLUTE = 1.0
# Market values carried forward over more than this many calendar days are flagged. Shibor has
# never been unpublished for longer (the longest gap, the 2020 Spring Festival, left 10 days).
STALE_MARKET_DAYS = 10
# ISO dates outside these years are rejected: they are typos, and would not fit datetime64[ns].
FIRST_YEAR, LAST_YEAR = 1900, 2199

# ASCII digits only: "\d" would also take full-width and other scripts' digits
ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
TABLE_SUFFIXES = (".parquet", ".csv")  # order of preference when both exist


@dataclass
class ValidationReport:
    """The outcome of checking a data-set folder.

    Attributes:
        root: the folder checked.
        problems: everything that stops the data set from being used (exit status 2).
        warnings: suspicious but usable data; printed, not fatal.
        files: file name used for each table stem (``{"flows": "flows.parquet", ...}``).
        fingerprint: sha256 (hex) over the names and bytes of the table files used, in name
            order; ``""`` when the folder could not be read.
        parsed: the tables converted to their contract types (see :mod:`rainmaker.dataset`);
            complete only when :attr:`ok`.
    """

    root: Path
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    parsed: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """True when there is no problem (warnings allowed)."""
        return not self.problems

    def summary(self) -> str:
        """A few lines for a person: verdict, size of the data set, then every problem/warning."""
        lines: list[str] = []
        if self.ok:
            lines.append(f"{self.root}: valid. {self._describe_size()}")
            lines.append(f"fingerprint {self.fingerprint[:16]}")
        else:
            n = len(self.problems)
            lines.append(f"{self.root}: {n} problem{'s' if n != 1 else ''}")
            lines.extend(f"  - {p}" for p in self.problems)
        if self.warnings:
            n = len(self.warnings)
            lines.append(f"{n} warning{'s' if n != 1 else ''}")
            lines.extend(f"  - {w}" for w in self.warnings)
        return "\n".join(lines)

    def _describe_size(self) -> str:
        products = self.parsed.get("products")
        flows = self.parsed.get("flows")
        market = self.parsed.get("market")
        if products is None or flows is None or market is None:
            return ""
        first, last = flows["date"].min(), flows["date"].max()
        extra = sorted(set(self.parsed) - set(REQUIRED_TABLES))
        text = (
            f"{len(products)} products, {len(flows):,} flow rows from {first:%Y-%m-%d} to "
            f"{last:%Y-%m-%d}, {len(market):,} market publications"
        )
        if extra:
            text += f"; other tables: {', '.join(extra)}"
        return text + "."


def table_files(root: Path) -> dict[str, Path]:
    """The table files of a data-set folder by stem; Parquet wins over CSV (SPEC §1).

    Args:
        root: the data-set folder.

    Returns:
        ``{stem: path}`` for every ``.csv`` / ``.parquet`` file directly in ``root`` (hidden
        files ignored), sorted by stem.
    """
    found: dict[str, Path] = {}
    for path in sorted(root.iterdir()):
        suffix = path.suffix.lower()
        if path.name.startswith(".") or not path.is_file() or suffix not in TABLE_SUFFIXES:
            continue
        held = found.get(path.stem)
        if held is None or TABLE_SUFFIXES.index(suffix) < TABLE_SUFFIXES.index(held.suffix.lower()):
            found[path.stem] = path
    return dict(sorted(found.items()))


def validate_dataset(path: str | Path) -> ValidationReport:
    """Check a data-set folder against SPEC §1 and list every problem, not only the first.

    Args:
        path: the data-set folder.

    Returns:
        The report: problems, warnings, the files used, their fingerprint and the converted
        tables.
    """
    root = Path(path)
    report = ValidationReport(root=root)
    if (problem := folder_problem(root)) is not None:
        report.problems.append(problem)
        return report

    files = table_files(root)
    report.files = {stem: p.name for stem, p in files.items()}
    report.fingerprint = _fingerprint(files.values())
    for stem in REQUIRED_TABLES:
        if stem not in files:
            report.problems.append(
                Problem(
                    f"{stem}.csv",
                    "",
                    f"required file is missing; expected {stem}.csv or {stem}.parquet in {root}",
                )
            )

    checker = _Checker(report.problems, report.warnings)
    tables = {stem: checker.read(p) for stem, p in files.items()}
    _check_tables(report, checker, tables)
    return report


def validate_frames(
    tables: Mapping[str, pd.DataFrame], root: str | Path = "<frames>"
) -> ValidationReport:
    """Check tables held in memory exactly as :func:`validate_dataset` checks a folder.

    Each frame goes through the checks of the file it stands for, as a Parquet file would
    (its stored types kept, rows numbered as lines from 2, the header being line 1), so a frame
    and the file written from it give the same problems, named ``<stem> (frame)``.

    Args:
        tables: frame by table stem: ``products``, ``flows`` and ``market`` (SPEC §1), and any
            team table (``holdings``, ``sales_plan`` …).
        root: what the report names as the data set's origin.

    Returns:
        The report; its fingerprint is sha256 over each frame's stem, columns and row hashes.
    """
    report = ValidationReport(root=Path(root))
    for stem in REQUIRED_TABLES:
        if stem not in tables:
            report.problems.append(
                Problem(
                    f"{stem} (frame)", "", f"required table is missing; expected a {stem} frame"
                )
            )
    checker = _Checker(report.problems, report.warnings)
    read: dict[str, _Table | None] = {}
    digest = hashlib.sha256()
    for stem in sorted(tables):
        frame = tables[stem]
        if not isinstance(frame, pd.DataFrame):
            report.problems.append(
                Problem(f"{stem} (frame)", "", f"is a {type(frame).__name__}; expected a DataFrame")
            )
            continue
        label = f"{stem} (frame)"
        report.files[stem] = label
        # a named index (a frame indexed by date) is data, as for Parquet
        named = any(name is not None for name in frame.index.names)
        raw = frame.reset_index(drop=not named)
        digest.update(f"{stem}\0{','.join(map(str, raw.columns))}\0{len(raw)}\0".encode())
        try:
            hashed = pd.util.hash_pandas_object(raw, index=False).to_numpy()
            digest.update(np.ascontiguousarray(hashed).tobytes())
        except TypeError:  # unhashable cells (lists): the checks below report the columns
            digest.update(raw.to_csv(index=False).encode())
        table = _Table(label, raw, np.arange(len(raw)) + 2)
        duplicated = raw.columns[pd.Index(raw.columns).duplicated()].unique()
        for column in duplicated:
            checker.whole_file(
                table, f"column '{column}' appears more than once; expected unique names"
            )
        read[stem] = None if len(duplicated) else table
    report.fingerprint = digest.hexdigest()
    _check_tables(report, checker, read)
    return report


def _check_tables(
    report: ValidationReport, checker: _Checker, tables: Mapping[str, _Table | None]
) -> None:
    """The checks of every table read (files or frames), into ``report``."""
    products = flows = market = None
    if (t := tables.get("products")) is not None:
        checker.products_file = t.file
        products = checker.products(t)
    if (t := tables.get("flows")) is not None:
        flows = checker.flows(t, products)
    if (t := tables.get("market")) is not None:
        market = checker.market(t, flows)
    report.parsed.update(
        {
            k: v
            for k, v in (("products", products), ("flows", flows), ("market", market))
            if v is not None
        }
    )
    for stem, t in tables.items():
        if stem not in REQUIRED_TABLES and t is not None:
            report.parsed[stem] = checker.other(t)
    if (t := tables.get(CALENDAR_TABLE)) is not None:
        # the holiday arrangement the data set adds is read when it is loaded, by every command
        parsed = report.parsed[CALENDAR_TABLE]
        # a date cell that is not a date was reported by checker.other; an empty one was not
        reported = (
            t.raw["date"].notna().to_numpy() & (t.raw["date"].astype(str).str.strip() != "")
            if "date" in t.raw.columns
            else None
        )
        report.problems.extend(arrangement_problems(parsed, t.file, reported))


def folder_problem(root: Path) -> Problem | None:
    """The problem with a data-set folder that is missing or not a folder, else None.

    Cheap: commands call it to refuse a bad ``--data`` before doing anything else.
    """
    if root.is_dir():
        return None
    what = "is not a folder" if root.exists() else "does not exist"
    return Problem(str(root), "", f"data-set folder {what}; expected a folder of tables")


def read_other_table(path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read and convert one team-defined table file as :class:`ValidationReport` does.

    Args:
        path: a ``.csv`` or ``.parquet`` file.

    Returns:
        The frame (None when unreadable) and the problems found (bad dates, unreadable file).
    """
    problems: list[Problem] = []
    checker = _Checker(problems, [])
    table = checker.read(path)
    return (checker.other(table) if table is not None else None), problems


def read_cells(path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Every cell of a ``.csv`` table as text, headers stripped, blank lines skipped: the file
    as validation reads it before converting anything (a tool that rewrites a data set keeps
    its columns as they are with it).

    Returns:
        The frame (None when unreadable) and the problems found reading it.
    """
    problems: list[Problem] = []
    table = _Checker(problems, []).read(path)
    return (table.raw if table is not None else None), problems


def _fingerprint(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        data = path.read_bytes()
        # name and length first, so that moving bytes between files changes the digest
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


class _RaggedRows(ValueError):
    """CSV rows whose number of fields differs from the header's."""

    def __init__(self, n_columns: int, fields: dict[int, int]) -> None:
        super().__init__(f"{len(fields)} rows do not have {n_columns} fields")
        self.n_columns = n_columns
        self.fields = fields  # line -> number of fields


@dataclass
class _Table:
    """A table as stored: text cells for CSV, the stored types for Parquet."""

    file: str
    raw: pd.DataFrame
    lines: np.ndarray  # line number of every row (header is line 1)


@dataclass
class _Column:
    """One column converted: values plus the masks of empty and unreadable cells."""

    values: pd.Series
    empty: np.ndarray
    bad: np.ndarray


class _Checker:
    """Runs the checks, appending to the report's lists of problems and warnings."""

    def __init__(self, problems: list[Problem], warnings: list[Problem]) -> None:
        self.problems = problems
        self.warnings = warnings
        self.products_file = "products.csv"

    # ----------------------------------------------------------------------------- reporting
    def flag(
        self,
        table: _Table,
        column: str,
        mask: np.ndarray | pd.Series,
        message: str,
        *,
        warning: bool = False,
    ) -> bool:
        """Report the rows where ``mask`` holds; return True when there were any."""
        mask = np.asarray(mask, dtype=bool)
        n = int(mask.sum())
        if n:
            lines = tuple(int(x) for x in np.sort(table.lines[mask])[:MAX_LINES_SHOWN])
            (self.warnings if warning else self.problems).append(
                Problem(table.file, column, message, lines, n)
            )
        return n > 0

    def whole_file(self, table: _Table, message: str) -> None:
        self.problems.append(Problem(table.file, "", message))

    # ------------------------------------------------------------------------------- reading
    def read(self, path: Path) -> _Table | None:
        """Read a table without converting anything; None (and a problem) when unreadable."""
        try:
            if path.suffix.lower() == ".parquet":
                raw = pd.read_parquet(path)
                # a named index (e.g. ``date`` written as the index) is data: keep it as columns
                named = any(name is not None for name in raw.index.names)
                raw = raw.reset_index(drop=not named)
                lines = np.arange(len(raw)) + 2
            else:
                raw, lines = self._read_csv(path)
        except _RaggedRows as exc:
            found = sorted(set(exc.fields.values()))
            self.problems.append(
                Problem(
                    path.name,
                    "",
                    f"cannot be read: {len(exc.fields)} line{'s' if len(exc.fields) != 1 else ''}"
                    f" with {' or '.join(map(str, found))} fields where the header has "
                    f"{exc.n_columns}; expected one value per column (a missing or stray comma?)",
                    tuple(sorted(exc.fields)[:MAX_LINES_SHOWN]),
                    len(exc.fields),
                )
            )
            return None
        except Exception as exc:  # any parser error is a bad file, reported with the file name
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.problems.append(Problem(path.name, "", f"cannot be read ({first})"))
            return None
        table = _Table(path.name, raw, lines)
        duplicated = raw.columns[pd.Index(raw.columns).duplicated()].unique()
        for column in duplicated:
            self.whole_file(
                table, f"column '{column}' appears more than once; expected unique names"
            )
        if len(duplicated):
            return None
        return table

    def _read_csv(self, path: Path) -> tuple[pd.DataFrame, np.ndarray]:
        """Every cell as text, with the line each row starts on (header = line 1).

        A row with fewer or more fields than the header raises :class:`_RaggedRows`: a short
        row would otherwise load with its last cells empty (and an empty ``quota`` means "no
        cap"), so neither kind is guessed at.
        """
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ValueError(
                f"not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line}; expected a "
                "UTF-8 file (Excel: save as 'CSV UTF-8'; a GBK file: iconv -f GBK -t UTF-8)"
            ) from None
        reader = csv.reader(io.StringIO(text, newline=""))
        # a byte-order mark left after the first (a file saved twice over) is no part of a name
        header = [h.strip().lstrip("\ufeff").strip() for h in next(reader, [])]
        if not header:
            raise ValueError("the file is empty; expected a header row")
        separator = next((c for c in (";", "\t", "|") if len(header) == 1 and c in header[0]), None)
        if separator is not None:
            shown = "tab" if separator == "\t" else repr(separator)
            raise ValueError(
                f"the header is one column holding {shown} separators; expected values "
                "separated by commas"
            )
        rows: list[list[str]] = []
        lines: list[int] = []
        ragged: dict[int, int] = {}  # line -> number of fields
        start = reader.line_num + 1
        for record in reader:
            # blank lines (and lines of empty cells) are not rows; the others keep exact numbers
            if any(cell != "" for cell in record):
                if len(record) == len(header):
                    rows.append(record)
                    lines.append(start)
                else:
                    ragged[start] = len(record)
            start = reader.line_num + 1
        if ragged:
            raise _RaggedRows(len(header), ragged)
        values = np.array(rows, dtype=object).reshape(len(rows), len(header))
        return pd.DataFrame(values, columns=header), np.asarray(lines, dtype=int)

    def require(self, table: _Table, stem: str) -> set[str]:
        """Report missing required columns and an empty table; return the columns missing."""
        missing = [c for c in REQUIRED_COLUMNS[stem] if c not in table.raw.columns]
        for column in missing:
            self.problems.append(
                Problem(
                    table.file,
                    column,
                    "required column is missing; expected columns "
                    + ", ".join(REQUIRED_COLUMNS[stem]),
                )
            )
        if table.raw.empty:
            self.whole_file(table, "table has no data rows; expected at least one")
        return set(missing)

    # ---------------------------------------------------------------------------- conversion
    def numbers(
        self,
        table: _Table,
        column: str,
        *,
        required: bool,
        non_negative: bool,
        empty: str = "empty cell; expected a number",
        within: str | None = None,
        positive: bool = False,
    ) -> pd.Series:
        """Convert a numeric column to float64, reporting text, NaN, empties (in a required
        column, with the message ``empty``), negatives (``non_negative``), zeros and negatives
        (``positive``), and values outside the range ``VALUE_RANGES[within]``."""
        parsed = _parse_numbers(table.raw[column])
        self.flag(
            table,
            column,
            parsed.bad,
            "not a number; expected a finite number" + ("" if required else " or an empty cell"),
        )
        if required:
            self.flag(table, column, parsed.empty, empty)
        if positive:
            self.flag(
                table,
                column,
                parsed.values.to_numpy() <= 0,
                "zero or negative value; expected a number > 0"
                + ("" if required else " or an empty cell"),
            )
        elif non_negative:
            self.flag(
                table,
                column,
                parsed.values.to_numpy() < 0,
                "negative value; expected a number >= 0"
                + ("" if required else " or an empty cell"),
            )
        if within is not None:
            low, high, unit = VALUE_RANGES[within]
            values = parsed.values.to_numpy()
            outside = (values < low) | (values > high)
            if non_negative:
                outside &= values >= 0  # a negative one is reported above
            shown = ", ".join(f"{v:.6g}" for v in pd.unique(values[outside])[:MAX_LINES_SHOWN])
            self.flag(
                table,
                column,
                outside,
                f"out of range ({shown}); expected {low:,g} to {high:,g} {unit}: a value this "
                "far out is a typing or unit error",
            )
        return parsed.values

    def optional_numbers(self, table: _Table, spec: dict[str, bool]) -> dict[str, pd.Series]:
        """The optional numeric columns of ``spec`` (name -> must it be >= 0?) the table has,
        each converted by :meth:`numbers` within its ``VALUE_RANGES`` where it has one and
        above 0 where it is one of ``POSITIVE_NUMBERS``."""
        return {
            column: self.numbers(
                table,
                column,
                required=False,
                non_negative=non_negative,
                within=column if column in VALUE_RANGES else None,
                positive=column in POSITIVE_NUMBERS,
            )
            for column, non_negative in spec.items()
            if column in table.raw.columns
        }

    def dates(self, table: _Table, column: str, *, required: bool) -> pd.Series:
        """Convert a date column to datetime64[ns], reporting anything but ISO calendar dates."""
        parsed = _parse_dates(table.raw[column])
        self.flag(
            table,
            column,
            parsed.bad,
            "not a valid date; expected an ISO date YYYY-MM-DD"
            + ("" if required else " or an empty cell"),
        )
        if required:
            self.flag(table, column, parsed.empty, "empty cell; expected an ISO date YYYY-MM-DD")
        return parsed.values

    def texts(self, table: _Table, column: str) -> pd.Series:
        """A required text column (ids, names): report empty cells and stray spaces."""
        values = _as_text(table.raw[column])
        filled = values.fillna("")
        self.flag(
            table, column, (filled.str.strip() == "").to_numpy(), "empty cell; expected a value"
        )
        self.flag(
            table,
            column,
            ((filled != filled.str.strip()) & (filled.str.strip() != "")).to_numpy(),
            "leading or trailing spaces; expected the value without them",
        )
        self.printable(table, column, values)
        # "Café" typed on one machine and pasted from another may be two strings that look
        # alike (é as one code point, or e and a combining accent): two products to the data,
        # one to a reader; the canonical (NFC) form is what every keyboard types
        decomposed = [v for v in filled.unique() if not unicodedata.is_normalized("NFC", v)]
        self.flag(
            table,
            column,
            filled.isin(decomposed).to_numpy(),
            "text not in Unicode's composed form (NFC), e.g. an accent typed as a separate "
            "character; expected it composed, or two ids may look alike and differ",
        )
        return values.where(filled.str.strip() != "")

    def printable(self, table: _Table, column: str, values: pd.Series) -> None:
        """Report ids and names holding control or invisible formatting characters.

        They pass through a CSV, but an xlsx cell cannot hold a NUL, a chart or a report shows
        nothing for them, and two ids differing only by a zero-width space look the same.
        """
        text = values.dropna()
        found = {v: unsafe_characters(v) for v in text.unique()}
        found = {v: chars for v, chars in found.items() if chars}
        if not found:
            return
        shown = ", ".join(dict.fromkeys(c for chars in found.values() for c in chars))
        self.flag(
            table,
            column,
            values.isin(list(found)).to_numpy(),
            f"control or invisible character ({shown}); expected printable text: ids and "
            "names are written to spreadsheets, charts and reports",
        )

    def extras(self, table: _Table, known: set[str]) -> dict[str, pd.Series]:
        """Columns the contract does not list: kept, converted by name and content."""
        return {c: self.infer(table, c) for c in table.raw.columns if c not in known}

    def infer(self, table: _Table, column: str) -> pd.Series:
        """Convert a column by its name and content (dates by name, ids stay text)."""
        raw = table.raw[column]
        name = str(column)
        if name == "date" or name.endswith("_date"):
            return self.dates(table, column, required=False)
        if name == "id" or name.endswith("_id"):
            ids = _as_text(raw).replace("", np.nan)
            self.printable(table, column, ids)
            return ids
        if pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
            return raw
        if pd.api.types.is_datetime64_any_dtype(raw):
            return raw
        parsed = _parse_numbers(raw)
        if (~parsed.empty).any() and not parsed.bad.any():
            return parsed.values
        return _as_text(raw).replace("", np.nan)

    # -------------------------------------------------------------------------------- tables
    def products(self, table: _Table) -> pd.DataFrame | None:
        missing = self.require(table, "products")
        if table.raw.empty:
            return None
        out: dict[str, pd.Series] = {}
        for column in ("product_id", "issuer", "product_type"):
            if column not in missing:
                out[column] = self.texts(table, column)
        if "fee_bp" not in missing:
            out["fee_bp"] = self.numbers(
                table, "fee_bp", required=True, non_negative=True, within="fee_bp"
            )
        if "product_id" in out:
            ids = out["product_id"]
            self.flag(
                table,
                "product_id",
                (ids.duplicated(keep=False) & ids.notna()).to_numpy(),
                "duplicate product_id; expected each product once",
            )
            # --products takes ids separated by commas: it cannot name one holding a comma
            self.flag(
                table,
                "product_id",
                ids.fillna("").str.contains(",", regex=False).to_numpy(),
                "a comma in a product id: --products (ids separated by commas) cannot name "
                "it, only the settings file's products = [...] can; expected an id without one",
                warning=True,
            )
        if "product_type" in out:
            kind = out["product_type"]
            unknown = ~kind.isin(PRODUCT_TYPES) & (kind.fillna("").str.strip() != "")
            shown = ", ".join(repr(v) for v in kind[unknown].unique()[:MAX_LINES_SHOWN])
            self.flag(
                table,
                "product_type",
                unknown.to_numpy(),
                f"unknown product_type ({shown}); expected one of {', '.join(PRODUCT_TYPES)}",
            )
        out.update(self.optional_numbers(table, PRODUCT_OPTIONAL_NUMBERS))
        if "launch_date" in table.raw.columns:  # SPEC §1's optional date: ISO, or empty
            out["launch_date"] = self.dates(table, "launch_date", required=False)
        out.update(self.extras(table, set(out) | set(REQUIRED_COLUMNS["products"])))
        for column in PRODUCT_OPTIONAL_TEXTS:
            if column in out and not pd.api.types.is_numeric_dtype(out[column]):
                self.printable(table, column, _as_text(out[column]))
        return pd.DataFrame(out)[list(table.raw.columns)]

    def flows(self, table: _Table, products: pd.DataFrame | None) -> pd.DataFrame | None:
        missing = self.require(table, "flows")
        if table.raw.empty:
            return None
        out: dict[str, pd.Series] = {}
        if "date" not in missing:
            out["date"] = self.dates(table, "date", required=True)
        if "product_id" not in missing:
            out["product_id"] = self.texts(table, "product_id")
        for column in FLOW_AMOUNTS:
            if column not in missing:
                out[column] = self.numbers(table, column, required=True, non_negative=True)
        out.update(self.optional_numbers(table, FLOW_OPTIONAL_NUMBERS))
        out.update(self.extras(table, set(out) | set(REQUIRED_COLUMNS["flows"])))

        if "product_id" in out:
            self._implausible_amounts(table, out)
        cells_ok = not any(p.file == table.file for p in self.problems)
        if "date" in out and "product_id" in out:
            self._flow_keys(table, out["date"], out["product_id"])
            if products is not None and "product_id" in products:
                self._known_products(table, out["product_id"], products)
        if cells_ok:  # warnings about sums are noise while cells are still wrong
            self._flow_warnings(table, out, products)
        frame = pd.DataFrame(out)[list(table.raw.columns)]
        if "date" in out and "product_id" in out:
            frame = frame.sort_values(["product_id", "date"], kind="stable")
        return frame.reset_index(drop=True)

    def _flow_keys(self, table: _Table, date: pd.Series, product_id: pd.Series) -> None:
        """No duplicate (date, product_id); dates contiguous within each product."""
        valid = (date.notna() & product_id.notna()).to_numpy()
        keys = pd.DataFrame({"date": date, "product_id": product_id, "line": table.lines})
        keys = keys.loc[valid]
        duplicate = np.zeros(len(table.lines), dtype=bool)
        duplicate[np.flatnonzero(valid)] = keys.duplicated(["date", "product_id"], keep=False)
        self.flag(
            table,
            "date",
            duplicate,
            "duplicate (date, product_id); expected one row per product per day",
        )
        unique = keys.drop_duplicates(["date", "product_id"]).sort_values(["product_id", "date"])
        step = unique["date"].diff().dt.days.to_numpy()
        same = (unique["product_id"] == unique["product_id"].shift()).to_numpy()
        gap = same & (step > 1)
        if not gap.any():
            return
        gaps = unique.assign(prev=unique["date"].shift(), missing=step - 1).loc[gap]
        for product, rows in gaps.groupby("product_id", sort=True):
            first_missing: list[str] = []
            for prev, n in zip(rows["prev"], rows["missing"], strict=True):
                days = pd.date_range(prev + pd.Timedelta(days=1), periods=int(min(n, 5)))
                first_missing.extend(f"{d:%Y-%m-%d}" for d in days)
                if len(first_missing) >= MAX_LINES_SHOWN:
                    break
            total = int(rows["missing"].sum())
            lines = tuple(int(x) for x in np.sort(rows["line"].to_numpy())[:MAX_LINES_SHOWN])
            self.problems.append(
                Problem(
                    table.file,
                    "date",
                    f"product {product}: {total} missing day{'s' if total != 1 else ''} "
                    f"(first: {', '.join(first_missing[:MAX_LINES_SHOWN])}); expected one row "
                    "per calendar day from the product's first row to its last (lines shown "
                    "follow a gap)",
                    lines,
                    len(rows),
                )
            )

    def _implausible_amounts(self, table: _Table, out: dict[str, pd.Series]) -> None:
        """Amounts far beyond anything in the product's own history (typos, unit errors).

        The product's size is the median of its positive ``aum`` (of its positive flows when
        ``aum`` is never positive); an amount above ``IMPLAUSIBLE_FACTOR`` times that size is a
        problem. The bound is relative because the contract accepts any consistent unit, and
        wide because products do grow: what it catches is a value like 1e30, which no
        forecast or optimiser can work with (the solver's arithmetic fails on it).
        """
        amounts = [c for c in (*FLOW_AMOUNTS, "demand") if c in out]
        if "aum" not in out or not amounts:
            return
        product = out["product_id"]
        positive = {c: out[c].where(out[c] > 0) for c in amounts}
        size = positive["aum"].groupby(product).median()
        basis = pd.Series("aum", index=size.index).where(
            size.notna(), "subscriptions and redemptions"
        )
        flows = [c for c in ("subscriptions", "redemptions") if c in positive]
        if flows:
            stacked = pd.concat([positive[c] for c in flows], ignore_index=True)
            owners = pd.concat([product] * len(flows), ignore_index=True)
            size = size.combine_first(stacked.groupby(owners).median())
        bound = product.map(size * IMPLAUSIBLE_FACTOR).to_numpy(dtype=float)
        for column in amounts:
            values = out[column].to_numpy(dtype=float)
            over = np.isfinite(bound) & (values > bound)
            for pid in pd.unique(product[over]):
                rows = over & (product == pid).to_numpy()
                self.flag(
                    table,
                    column,
                    rows,
                    f"product {pid}: {np.nanmax(values[rows]):.6g} is implausible: above "
                    f"{IMPLAUSIBLE_FACTOR:,} times the product's median {basis.get(pid, 'aum')} "
                    f"({size[pid]:,.2f}), i.e. above {size[pid] * IMPLAUSIBLE_FACTOR:.6g}; "
                    "expected an amount of the product's size (a value this far out is a "
                    "typing or unit error, and no forecast or plan can be computed from it)",
                )

    def _known_products(self, table: _Table, product_id: pd.Series, products: pd.DataFrame) -> None:
        unknown = ~product_id.isin(products["product_id"]) & product_id.notna()
        names = ", ".join(repr(v) for v in product_id[unknown].unique()[:MAX_LINES_SHOWN])
        self.flag(
            table,
            "product_id",
            unknown.to_numpy(),
            f"product_id not in {self.products_file} ({names}); expected a product_id listed there",
        )

    def _flow_warnings(
        self, table: _Table, out: dict[str, pd.Series], products: pd.DataFrame | None
    ) -> None:
        """Quota and demand breaches, aum that does not roll forward, products without aum."""
        frame = pd.DataFrame(
            {c: out[c] for c in ("date", "product_id", *FLOW_AMOUNTS)} | {"line": table.lines}
        )
        subs = frame["subscriptions"]
        if "quota" in out:
            quota = out["quota"]
            over = (subs > quota + 1e-9 * quota.abs().clip(lower=1.0)).to_numpy()
            self.flag(
                table,
                "subscriptions",
                over,
                "subscriptions above the quota in force that day; expected subscriptions <= quota",
                warning=True,
            )
        if "demand" in out:
            demand = out["demand"]
            short = (demand < subs - 1e-9 * subs.abs().clip(lower=1.0)).to_numpy()
            self.flag(
                table,
                "demand",
                short,
                "demand below the accepted subscriptions; expected demand >= subscriptions",
                warning=True,
            )

        frame = frame.dropna().sort_values(["product_id", "date"], kind="stable")
        frame = frame.loc[~frame.duplicated(["product_id", "date"], keep=False)]
        previous = frame.shift()
        follows = (frame["product_id"] == previous["product_id"]) & (
            (frame["date"] - previous["date"]).dt.days == 1
        )
        expected = previous["aum"] + frame["subscriptions"] - frame["redemptions"]
        gap = frame["aum"] - expected
        broken = follows & (
            gap.abs() > ROLL_FORWARD_RELATIVE * previous["aum"].abs() + ROLL_FORWARD_ABSOLUTE
        )
        for product, rows in frame.loc[broken].groupby("product_id", sort=True):
            worst = gap.loc[rows.index].abs().max()
            self.warnings.append(
                Problem(
                    table.file,
                    "aum",
                    f"product {product}: aum does not roll forward on {len(rows)} "
                    f"day{'s' if len(rows) != 1 else ''} (largest gap {worst:,.2f}); expected "
                    "aum = previous aum + subscriptions - redemptions + the day's income "
                    f"(within {ROLL_FORWARD_RELATIVE:.1%} of the previous aum "
                    f"+ {ROLL_FORWARD_ABSOLUTE:g})",
                    tuple(int(x) for x in np.sort(rows["line"].to_numpy())[:MAX_LINES_SHOWN]),
                    len(rows),
                )
            )

        totals = frame[list(FLOW_AMOUNTS)].abs().groupby(frame["product_id"], sort=True).max()
        flowing = (totals["subscriptions"] > 0) | (totals["redemptions"] > 0)
        silent = {
            # flows without net assets: a column left empty or in another unit
            "has flows but aum is 0 on every day; expected the product's net assets": (
                (totals["aum"] == 0) & flowing
            ),
            # a dormant product: its forecast is zeros and its backtest yield flat, which reads
            # as "smoother than the market" in a panel's figures
            "has no flows and aum 0 on every day (dormant): its forecast is zeros and its "
            "backtest figures say nothing; expected a live product, or leave it out with "
            "--products": (totals["aum"] == 0) & ~flowing,
        }
        for message, which in silent.items():
            for product in totals.index[which.to_numpy()]:
                rows = (frame["product_id"] == product).to_numpy()
                lines = np.sort(frame["line"].to_numpy()[rows])
                self.warnings.append(
                    Problem(
                        table.file,
                        "aum",
                        f"product {product} {message}",
                        tuple(int(x) for x in lines[:MAX_LINES_SHOWN]),
                        len(lines),
                    )
                )
        if products is not None and "product_id" in products:
            idle = sorted(set(products["product_id"].dropna()) - set(frame["product_id"]))
            if idle:
                self.warnings.append(
                    Problem(
                        table.file,
                        "product_id",
                        f"{len(idle)} product{'s' if len(idle) != 1 else ''} of the products "
                        f"table {'have' if len(idle) != 1 else 'has'} no flows "
                        f"({', '.join(idle[:MAX_LINES_SHOWN])}"
                        f"{', ...' if len(idle) > MAX_LINES_SHOWN else ''})",
                    )
                )

        if products is not None and {"product_id", "launch_date"} <= set(products.columns):
            self._launched_late(products, frame)

    def _launched_late(self, products: pd.DataFrame, flows: pd.DataFrame) -> None:
        """Warn of products whose flows begin before their ``launch_date`` (the engine reads
        the flows, so the date is what is wrong, or the product's id)."""
        first = flows.groupby("product_id")["date"].min()
        launch = pd.to_datetime(products["launch_date"])
        begun = products["product_id"].map(first)
        early = (launch.notna() & begun.notna() & (begun < launch)).to_numpy()
        if not early.any():
            return
        shown = ", ".join(
            f"{pid} from {day:%Y-%m-%d}, launched {when:%Y-%m-%d}"
            for pid, day, when in zip(
                products["product_id"][early][:MAX_LINES_SHOWN],
                begun[early][:MAX_LINES_SHOWN],
                launch[early][:MAX_LINES_SHOWN],
                strict=True,
            )
        )
        lines = np.flatnonzero(early) + 2  # the header is line 1
        self.warnings.append(
            Problem(
                self.products_file,
                "launch_date",
                f"flows begin before the launch_date ({shown}); expected a launch_date on or "
                "before the product's first flows day",
                tuple(int(x) for x in lines[:MAX_LINES_SHOWN]),
                len(lines),
            )
        )

    def market(self, table: _Table, flows: pd.DataFrame | None) -> pd.DataFrame | None:
        missing = self.require(table, "market")
        if table.raw.empty:
            return None
        out: dict[str, pd.Series] = {}
        if "date" not in missing:
            out["date"] = self.dates(table, "date", required=True)
            self.flag(
                table,
                "date",
                (out["date"].duplicated(keep=False) & out["date"].notna()).to_numpy(),
                "duplicate date; expected one row per publication day",
            )
        # the contract's columns and the Shibor tenors are rates (percent p.a.; negative
        # rates are allowed); other columns are kept and ignored (SPEC §1), like extra
        # columns of the other tables
        for column in table.raw.columns:
            if column == "date":
                continue
            if column in REQUIRED_COLUMNS["market"]:
                out[column] = self.numbers(
                    table, column, required=True, non_negative=False, within="rate"
                )
            elif column in SHIBOR_COLUMNS:
                # an optional tenor is read on every day once present (the curve that prices
                # lots and purchases, the market forecast): a gap has no value to price with
                out[column] = self.numbers(
                    table,
                    column,
                    required=True,
                    non_negative=False,
                    empty="empty cell; expected a number: an optional Shibor tenor, where "
                    "present, is read on every publication day (fill it, or leave the column out)",
                    within="rate",
                )
        out.update(self.extras(table, set(out) | {"date"}))
        if "date" in out and flows is not None and "date" in flows:
            self._market_coverage(table, out["date"], flows)
        frame = pd.DataFrame(out)[list(table.raw.columns)]
        if "date" in out:
            frame = frame.sort_values("date", kind="stable")
        return frame.reset_index(drop=True)

    def _market_coverage(self, table: _Table, date: pd.Series, flows: pd.DataFrame) -> None:
        """Market must be published on or before the first flows day; flag long silences."""
        published = date.dropna()
        flow_days = flows["date"].dropna()
        if published.empty or flow_days.empty:
            return
        first_flow, last_flow = flow_days.min(), flow_days.max()
        if published.min() > first_flow:
            self.problems.append(
                Problem(
                    table.file,
                    "date",
                    f"market does not cover the flows: first publication {published.min():%Y-%m-%d}"
                    f" is after the first flows date {first_flow:%Y-%m-%d}; expected a "
                    "publication on or before it",
                )
            )
        order = np.argsort(published.to_numpy(), kind="stable")
        days = published.to_numpy().astype("datetime64[ns]")[order]
        lines = table.lines[published.index.to_numpy()][order]
        first_day = np.datetime64(first_flow.to_datetime64(), "ns")
        last_day = np.datetime64(last_flow.to_datetime64(), "ns")
        # each publication is carried until the day before the next one (or the last flows day)
        until = np.minimum(np.append(days[1:] - np.timedelta64(1, "D"), last_day), last_day)
        stale_days = (until - days) / np.timedelta64(1, "D")
        stale = (stale_days > STALE_MARKET_DAYS) & (until >= first_day)
        if stale.any():
            worst = int(stale_days[stale].max())
            self.warnings.append(
                Problem(
                    table.file,
                    "date",
                    f"market values are carried forward for up to {worst} days after the "
                    f"publications shown; expected a publication at least every "
                    f"{STALE_MARKET_DAYS} days over the flows period",
                    tuple(int(x) for x in lines[stale][:MAX_LINES_SHOWN]),
                    int(stale.sum()),
                )
            )

    def other(self, table: _Table) -> pd.DataFrame:
        """A team-defined table: loaded as stored, date columns checked and parsed."""
        return pd.DataFrame(self.extras(table, set()), index=table.raw.index)


def _as_text(column: pd.Series) -> pd.Series:
    """Text of a column as the ``str`` dtype, missing cells as NaN (Parquet ints become text)."""
    if isinstance(column.dtype, pd.StringDtype):
        return column
    return column.astype("str")


def _parse_numbers(column: pd.Series) -> _Column:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.astype("float64")
        array = values.to_numpy()
        empty = np.isnan(array)
        return _Column(values, empty, np.isinf(array))
    text = _as_text(column).fillna("").str.strip()
    empty = (text == "").to_numpy()
    array = pd.to_numeric(text.to_numpy(dtype=object), errors="coerce").astype("float64")
    bad = ~empty & ~np.isfinite(array)
    array[bad] = np.nan  # "inf" is not accepted, and must not leak into the converted table
    return _Column(pd.Series(array, index=column.index, dtype="float64"), empty, bad)


def _parse_dates(column: pd.Series) -> _Column:
    index = column.index
    if pd.api.types.is_object_dtype(column) and pd.api.types.infer_dtype(column, skipna=True) in (
        "date",
        "datetime",
    ):
        column = pd.to_datetime(column)  # Parquet date32 arrives as datetime.date objects
    if pd.api.types.is_datetime64_any_dtype(column):
        values = column.dt.tz_localize(None) if column.dt.tz is not None else column
        empty = values.isna().to_numpy()
        year = values.dt.year
        bad = (
            ~empty
            & (
                (values != values.dt.normalize()) | (year < FIRST_YEAR) | (year > LAST_YEAR)
            ).to_numpy()
        )
        values = values.where(~bad)
    else:
        text = _as_text(column).fillna("").str.strip()
        empty = (text == "").to_numpy()
        shaped = text.str.fullmatch(ISO_DATE).to_numpy(dtype=bool)
        year = pd.to_numeric(text.str.slice(0, 4).where(shaped), errors="coerce")
        shaped = shaped & ((year >= FIRST_YEAR) & (year <= LAST_YEAR)).to_numpy()
        values = pd.to_datetime(text.where(shaped), format="%Y-%m-%d", errors="coerce")
        bad = ~empty & values.isna().to_numpy()
    values = pd.Series(values.to_numpy(), index=index).astype("datetime64[ns]")
    return _Column(values, empty, bad)
