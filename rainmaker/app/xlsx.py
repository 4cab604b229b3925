"""``plan.xlsx``: the plan and the forecast as spreadsheet sheets, for managers who work in Excel.

Three sheets: ``plan`` (one row per product and day, the plan.csv columns), ``forecast`` (the
SPEC §3 forecast rows) and ``run`` (as-of day, run id, model, solver status, summary figures).
Dates are real Excel dates, the header row is frozen and columns are sized to their content;
amounts stay in CNY as in the CSV files. Every text cell is stored as text, never as a formula:
a product id such as ``=1+1`` or ``=HYPERLINK(...)`` shows as written and runs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["write_workbook"]

MAX_COLUMN_WIDTH = 40


def write_workbook(
    path: Path,
    plan: pd.DataFrame,
    forecast: pd.DataFrame,
    run: Mapping[str, Any],
) -> Path:
    """Write ``plan.xlsx``.

    Args:
        path: the file to write.
        plan: plan rows (product_id, date, quota, expected flows, buffer, AUM in CNY,
            expected_yield_7d in percent).
        forecast: SPEC §3 forecast rows (CNY).
        run: key -> value pairs shown on the ``run`` sheet (numbers or text).

    Returns:
        ``path``.
    """
    from openpyxl.utils import get_column_letter

    summary = pd.DataFrame(
        {"key": list(run), "value": [_cell(v) for v in run.values()]}, dtype=object
    )
    sheets = {"plan": _dated(plan), "forecast": _dated(forecast), "run": summary}
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            _text_not_formulas(sheet)
            sheet.freeze_panes = "A2"
            for i, column in enumerate(frame.columns, start=1):
                longest = max([len(str(column)), *(len(str(v)) for v in frame[column].head(200))])
                sheet.column_dimensions[get_column_letter(i)].width = min(
                    longest + 2, MAX_COLUMN_WIDTH
                )
                if column == "date":
                    for cell in sheet[get_column_letter(i)][1:]:
                        cell.number_format = "yyyy-mm-dd"
    return path


def _text_not_formulas(sheet: Any) -> None:
    """Store as text every cell openpyxl took for a formula (text starting with ``=``).

    rainmaker writes no formula, so any such cell came from the data (e.g. a product id); a
    text cell shows the characters and cannot be evaluated by Excel, WPS or LibreOffice.
    """
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "date" in out.columns:
        out["date"] = pd.to_datetime(out["date"]).dt.date
    return out


def _cell(value: Any) -> Any:
    if isinstance(value, int | float | str) or value is None:
        return value
    return str(value)
