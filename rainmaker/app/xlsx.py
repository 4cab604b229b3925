"""``plan.xlsx``: the plan as a workbook a manager can work in, in the report's language.

Five sheets, named in the language (zh / en):

- ``今日操作 / Today``: one row per product, its first plan day: subscription state and quota,
  purchases by asset bucket, marketing exposure against its baseline, cash and the liquidity
  buffer against its requirement, AUM and yield, all from plan.csv's columns;
- ``计划 / Plan``: every plan.csv row and column;
- ``预警 / Alerts``: the report's alerts, in the language;
- ``预测 / Forecast``: forecast.csv (mean and quantiles);
- ``说明 / Notes``: the run (as-of day, run id, the amount unit) and a definition, with unit, of
  every column of the other sheets.

Headers carry their unit. Amounts are numbers in one unit for the whole workbook, picked from the
size of the portfolio as the report does (亿元 / 万元 / 元, :func:`rainmaker.app.report.i18n.
amount_scale`), shown with thousands separators; percents are Excel percentages (the cell holds
0.021 for 2.1 %); dates are Excel dates. Product and date columns are frozen and every table has
an autofilter. Column labels, units and definitions live in :mod:`rainmaker.app.xlsx_columns`.

No cell is a formula: a text that a spreadsheet would evaluate (``=1+1``, ``@SUM(A1)``,
:func:`rainmaker.safety.looks_like_formula`) is stored as text with Excel's quote prefix, so it
shows exactly as written and stays text when the cell is edited. No number is ``-0.0``
(:func:`rainmaker.safety.spreadsheet_number`).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from copy import copy
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from rainmaker.app.report.i18n import amount_scale, texts
from rainmaker.app.xlsx_columns import (
    FLAGS,
    SHEETS,
    Column,
    bucket_of,
    column,
    header,
    number_format,
    sheet_words,
    unit_text,
)
from rainmaker.safety import looks_like_formula, spreadsheet_number

__all__ = ["today_frame", "workbook_unit", "write_workbook"]

MAX_COLUMN_WIDTH = 40
# Headers wrap rather than widen a column of short numbers beyond this many characters.
MAX_HEADER_WIDTH = 16
# Rows looked at to size a column (the rest are alike).
WIDTH_SAMPLE = 200
HEADER_FILL = "DDEBF7"
HEADER_LINE_HEIGHT = 15  # points per line of a header

# The Today sheet's columns, in order; those the plan lacks are left out.
TODAY_COLUMNS = (
    "product_id",
    "date",
    "quota_state",
    "quota",
    "demand",
    "baseline_demand",
    "expected_subscriptions",
    "expected_redemptions",
    "<purchases>",
    "purchases_total",
    "exposure",
    "baseline_exposure",
    "exposure_vs_baseline",
    "cash",
    "keep_liquid",
    "liquidity_buffer",
    "required_buffer",
    "buffer_vs_requirement",
    "buffer_surplus",
    "repo_borrowing",
    "expected_aum",
    "expected_yield_7d",
    "defence",
)
# Sheets whose first two columns are the product and the day (or severity and product): the
# panes are frozen after them.
FROZEN_COLUMNS = {"today": 2, "plan": 2, "forecast": 2, "alerts": 2}


def write_workbook(
    path: Path,
    plan: pd.DataFrame,
    forecast: pd.DataFrame,
    run: Mapping[str, Any],
    *,
    alerts: Sequence[Mapping[str, str]] = (),
    lang: str = "zh",
) -> Path:
    """Write ``plan.xlsx``.

    Args:
        path: the file to write.
        plan: plan rows as in plan.csv (product_id, date, quota and flows in CNY,
            expected_yield_7d in percent, then the optimiser's columns).
        forecast: SPEC §3 forecast rows (CNY).
        run: facts shown at the top of the Notes sheet (as_of, run_id, revision, model,
            solver_status; other keys are shown under their own name).
        alerts: the report's alerts, each ``{"severity", "product_id", "text"}``, text in
            ``lang``.
        lang: ``zh`` (default) or ``en``: sheet names, headers, notes and flags.

    Returns:
        ``path``.

    Raises:
        ValueError: unknown language.
    """
    from openpyxl import Workbook

    words = texts(lang)  # raises on an unknown language
    names = SHEETS[lang]
    divisor, unit = workbook_unit(plan, lang)
    tables = {
        "today": today_frame(plan, lang),
        "plan": plan,
        "alerts": _alerts_frame(alerts, words),
        "forecast": _forecast_frame(forecast, words),
    }
    book = Workbook()
    book.remove(book.active)
    described: list[tuple[str, Column]] = []
    for key, frame in tables.items():
        sheet = book.create_sheet(names[key])
        columns = _write_table(sheet, frame, lang, divisor, unit, FROZEN_COLUMNS[key])
        described.extend((names[key], c) for c in columns)
    _write_notes(book.create_sheet(names["notes"]), run, described, lang, unit)
    book.save(path)
    return path


def workbook_unit(plan: pd.DataFrame, lang: str) -> tuple[float, str]:
    """The workbook's amount unit: (divisor, unit text), from the portfolio's AUM on the first
    plan day, as the report picks its own (1e8 → 亿元 / CNY 100m, 1e4 → 万元, 1 → 元)."""
    first = today_frame(plan, lang)
    total = float(first["expected_aum"].sum()) if "expected_aum" in first else 0.0
    return amount_scale(total, lang)


def today_frame(plan: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Each product's first plan day, with the figures a manager acts on (CNY, as plan.csv).

    Columns, where the plan has what they need: product_id, date, ``quota_state`` (open /
    capped / closed, in ``lang``), quota, demand, flows, ``purchase_<bucket>`` and
    ``purchases_total``, exposure, baseline and ``exposure_vs_baseline`` (a multiple), cash,
    ``keep_liquid``, liquidity buffer, its requirement, ``buffer_vs_requirement`` (a fraction)
    and ``buffer_surplus`` (CNY), repo borrowing, AUM, 7-day yield (percent), defence.

    Args:
        plan: plan rows as in plan.csv.
        lang: language of ``quota_state``.

    Returns:
        One row per product, in the plan's product order.
    """
    if plan.empty:
        return plan.copy()
    dates = pd.to_datetime(plan["date"])
    first = plan[dates == dates.groupby(plan["product_id"]).transform("min")].copy()
    first = first.drop_duplicates("product_id").reset_index(drop=True)
    out = first.copy()
    words = sheet_words(lang)
    if "quota" in out:
        quota = pd.to_numeric(out["quota"], errors="coerce")
        out["quota_state"] = [
            words["open"] if math.isnan(q) else words["closed"] if q <= 0 else words["capped"]
            for q in quota
        ]
    purchases = [c for c in out.columns if bucket_of(c) is not None]
    if purchases:
        out["purchases_total"] = out[purchases].sum(axis=1)
    if {"exposure", "baseline_exposure"} <= set(out.columns):
        base = out["baseline_exposure"].astype(float)
        out["exposure_vs_baseline"] = (out["exposure"].astype(float) / base).where(base > 0)
    if {"liquidity_buffer", "required_buffer"} <= set(out.columns):
        need = out["required_buffer"].astype(float)
        out["buffer_vs_requirement"] = (out["liquidity_buffer"].astype(float) / need).where(
            need > 0
        )
        out["buffer_surplus"] = out["liquidity_buffer"].astype(float) - need
    order: list[str] = []
    for key in TODAY_COLUMNS:
        if key == "<purchases>":
            order.extend(purchases)
        elif key in out.columns:
            order.append(key)
    return out[order]


def _alerts_frame(alerts: Sequence[Mapping[str, str]], words: Mapping[str, str]) -> pd.DataFrame:
    rows = [
        {
            "severity": words.get(f"severity_{a.get('severity', '')}", a.get("severity", "")),
            "product_id": a.get("product_id", ""),
            "alert": a.get("text", ""),
        }
        for a in alerts
    ]
    if not rows:  # an empty sheet could be mistaken for a failed export
        rows = [{"severity": "", "product_id": "", "alert": words["no_alerts"]}]
    return pd.DataFrame(rows, columns=["severity", "product_id", "alert"])


def _forecast_frame(forecast: pd.DataFrame, words: Mapping[str, str]) -> pd.DataFrame:
    out = forecast.copy()
    if "variable" in out:
        out["variable"] = out["variable"].map(lambda v: words.get(f"variable_{v}", v))
    return out


def _write_table(
    sheet: Any,
    frame: pd.DataFrame,
    lang: str,
    divisor: float,
    unit: str,
    frozen: int,
) -> list[Column]:
    """Write ``frame`` as a table: header row, typed and formatted cells, sized columns, frozen
    panes after the first ``frozen`` columns and an autofilter over the whole table."""
    from openpyxl.utils import get_column_letter

    columns = [
        column(str(name), frame[name].iloc[0] if len(frame) else None) for name in frame.columns
    ]
    values = [
        _cells(frame[name], c, lang, divisor)
        for name, c in zip(frame.columns, columns, strict=True)
    ]
    formats = [number_format(c.kind, lang, divisor) for c in columns]
    headers = [header(c, lang, unit) for c in columns]
    lines = 1
    for i, (title, cells, fmt) in enumerate(zip(headers, values, formats, strict=True), 1):
        shown = [_shown_width(v, fmt) for v in cells[:WIDTH_SAMPLE]]
        width = min(max([min(_width(title), MAX_HEADER_WIDTH), *shown]) + 2, MAX_COLUMN_WIDTH)
        sheet.column_dimensions[get_column_letter(i)].width = width
        lines = max(lines, math.ceil(_width(title) / (width - 1)))
    # a wrapped header needs a taller row; not every spreadsheet sizes it when opening
    sheet.row_dimensions[1].height = HEADER_LINE_HEIGHT * lines
    last = get_column_letter(max(len(columns), 1))
    sheet.freeze_panes = f"{get_column_letter(frozen + 1)}2"
    sheet.auto_filter.ref = f"A1:{last}{len(frame) + 1}"
    sheet.append([_header_cell(sheet, t) for t in headers])
    styles = [_styled(sheet, fmt) for fmt in formats]
    for row in zip(*values, strict=True) if values else ():
        sheet.append([_cell(sheet, v, style) for v, style in zip(row, styles, strict=True)])
    return columns


def _write_notes(
    sheet: Any,
    run: Mapping[str, Any],
    described: Iterable[tuple[str, Column]],
    lang: str,
    unit: str,
) -> None:
    """The Notes sheet: the run's facts, then one row per column of the other sheets."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    words = sheet_words(lang)
    rows: list[list[Any]] = [[words["run"]]]
    for key, value in run.items():
        rows.append([words.get(key, key), _plain(value)])
    rows.append([words["amount_unit"], unit])
    rows.append([])
    rows.append([words["columns"]])
    table_top = len(rows) + 1
    keys = ("sheet", "column", "unit", "definition")
    rows.append([column(k).label(lang) for k in keys])
    for sheet_name, c in described:
        rows.append(
            [sheet_name, header(c, lang, unit), unit_text(c.kind, lang, unit), c.note(lang)]
        )
    widths = [14, 30, 18, 90]
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.auto_filter.ref = f"A{table_top}:D{len(rows)}"
    bold = Font(bold=True)
    for n, row in enumerate(rows, 1):
        if n == table_top:
            sheet.append([_header_cell(sheet, v) for v in row])
            continue
        if n in (1, table_top - 1):
            sheet.append([_bold(sheet, v, bold) for v in row])
        else:
            sheet.append([_cell(sheet, v, None) for v in row])


def _cells(values: pd.Series, col: Column, lang: str, divisor: float) -> list[Any]:
    """A column's values as cell values of its kind."""
    kind = col.kind
    if kind == "date":
        return [_day(v) for v in values]
    if kind == "text":
        return [None if _missing(v) else str(v) for v in values]
    if kind == "basis":
        words = texts(lang)
        return [None if _missing(v) else words.get(f"need_basis_{v}", str(v)) for v in values]
    if kind == "flag":
        yes, no = FLAGS[lang]
        return [None if _missing(v) else yes if bool(v) else no for v in values]
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    if kind == "amount":
        numbers = numbers / divisor
    elif kind == "percent":
        numbers = numbers / 100.0
    if kind == "count":
        return [None if math.isnan(v) else round(v) for v in numbers]
    return [None if math.isnan(v) else spreadsheet_number(float(v)) for v in numbers]


def _header_cell(sheet: Any, text: str) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    cell = _text_cell(WriteOnlyCell(sheet), text)
    cell.font = Font(bold=True)
    cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    return cell


def _styled(sheet: Any, fmt: str | None) -> Any:
    """A cell carrying the number format ``fmt`` (None: none), whose style the column's cells
    copy: setting a format on every cell looks it up in the workbook's registry each time, which
    made large plans (1,000 products × 30 days) markedly slower."""
    from openpyxl.cell import WriteOnlyCell

    if fmt is None:
        return None
    cell = WriteOnlyCell(sheet)
    cell.number_format = fmt
    return cell


def _cell(sheet: Any, value: Any, style: Any) -> Any:
    """A cell of ``value``: text never a formula; numbers and dates in the column's format."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, str):
        return _text_cell(WriteOnlyCell(sheet), value) if looks_like_formula(value) else value
    if isinstance(value, float):
        value = spreadsheet_number(value)  # never -0.0
    if value is None or style is None:
        return value
    cell = WriteOnlyCell(sheet, value)
    cell._style = copy(style._style)
    return cell


def _bold(sheet: Any, text: str, font: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = _text_cell(WriteOnlyCell(sheet), text)
    cell.font = font
    return cell


def _text_cell(cell: Any, text: str) -> Any:
    """Store ``text`` as text, never as a formula (see the module's docstring)."""
    cell.value = text
    if looks_like_formula(text):
        cell.data_type = "s"  # openpyxl took a leading "=" for a formula
        cell.quotePrefix = True  # Excel's own mark of text typed as '=...
    return cell


def _day(value: Any) -> date | None:
    if _missing(value):
        return None
    if isinstance(value, datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value
    day: date = pd.Timestamp(value).date()
    return day


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def _plain(value: Any) -> Any:
    if isinstance(value, int | float | str) or value is None:
        return value
    return str(value)


def _width(text: str) -> int:
    """Characters a text takes in a cell: East Asian wide characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _shown_width(value: Any, fmt: str | None) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return _width(value)
    if isinstance(value, date):
        return 10
    if fmt is not None and "%" in fmt:
        return len(f"{value * 100:.2f}%")
    if isinstance(value, int):
        return len(f"{value:,}")
    return len(f"{value:,.2f}")
