"""Reading ``plan.xlsx`` back: the checks every test of the workbook shares.

:func:`check_workbook` opens a workbook with openpyxl and checks it against the plan.csv written
beside it: sheets and headers in the language, number formats, frozen panes, autofilters, no
formula anywhere, and the Today sheet's figures equal to plan.csv's first plan day.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook

from rainmaker.app.xlsx import today_frame, workbook_unit
from rainmaker.app.xlsx_columns import COLUMNS, SHEETS, column, header
from rainmaker.safety import restore_spreadsheet_text

TABLES = ("today", "plan", "alerts", "forecast")
LATIN = re.compile(r"[A-Za-z]")


def read_plan_csv(path: Path) -> pd.DataFrame:
    """plan.csv as written (SPEC §3), ids with the CSV's formula quotes undone."""
    plan = pd.read_csv(path, keep_default_na=True)
    plan["product_id"] = plan["product_id"].astype(str).map(restore_spreadsheet_text)
    plan["date"] = pd.to_datetime(plan["date"])
    return plan


def check_workbook(path: Path, plan: pd.DataFrame, lang: str) -> Any:
    """Check ``plan.xlsx`` against its plan rows (as in plan.csv) and return the workbook.

    Raises:
        AssertionError: on the first difference.
    """
    book = load_workbook(path)
    names = SHEETS[lang]
    assert book.sheetnames == [names[k] for k in (*TABLES, "notes")]
    divisor, unit = workbook_unit(plan, lang)

    # no formula anywhere; text that looks like one is marked as text
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                    assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)

    for key in TABLES:
        sheet = book[names[key]]
        heads = [c.value for c in sheet[1]]
        assert sheet.freeze_panes == "C2", key  # product and date (severity, product) frozen
        last = sheet.cell(row=1, column=len(heads)).column_letter
        assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}", key
        if lang == "zh":  # headers in Chinese, the unit included
            assert not [h for h in heads if LATIN.search(h)], (key, heads)
        else:
            assert not [h for h in heads if re.search(r"[\u4e00-\u9fff]", h)], (key, heads)
    notes = book[names["notes"]]
    assert notes.auto_filter.ref is not None and notes.auto_filter.ref.endswith(str(notes.max_row))

    # the plan sheet: every plan.csv column, labelled (none left as its snake_case key)
    plan_sheet = book[names["plan"]]
    heads = [c.value for c in plan_sheet[1]]
    expected = [header(column(str(c)), lang, unit) for c in plan.columns]
    assert heads == expected
    assert not [c for c in plan.columns if column(str(c)).label(lang) == c]
    assert plan_sheet.max_row == len(plan) + 1
    formats = {h: plan_sheet.cell(row=2, column=i + 1).number_format for i, h in enumerate(heads)}
    amount_format = "#,##0" if divisor == 1 else "#,##0.00"
    assert formats[header(COLUMNS["expected_aum"], lang, unit)] == amount_format
    assert formats[header(COLUMNS["expected_yield_7d"], lang, unit)] == "0.00%"
    assert formats[header(COLUMNS["date"], lang, unit)] == "yyyy-mm-dd"

    # Today: each product's first plan day, equal to plan.csv's figures
    today = today_frame(plan, lang)
    sheet = book[names["today"]]
    heads = [c.value for c in sheet[1]]
    assert heads == [header(column(str(c)), lang, unit) for c in today.columns]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == plan["product_id"].nunique() == len(today)
    first_day = plan.groupby("product_id", sort=False)["date"].min()
    for row in rows:
        shown = dict(zip(today.columns, row, strict=True))
        product = shown["product_id"]
        assert pd.Timestamp(shown["date"]) == first_day[product]
        csv_row = plan[(plan["product_id"] == product) & (plan["date"] == first_day[product])]
        assert len(csv_row) == 1
        for key in today.columns:
            if key not in plan.columns or key in ("product_id", "date"):
                continue
            expected_value = csv_row[key].iloc[0]
            kind = COLUMNS[key].kind if key in COLUMNS else column(key).kind
            _check_value(shown[key], expected_value, kind, divisor, (product, key))
    return book


def _check_value(cell: Any, value: Any, kind: str, divisor: float, where: Any) -> None:
    if kind == "flag":
        assert cell in ("是", "yes", "否", "no"), where
        assert (cell in ("是", "yes")) == bool(value), where
        return
    if value is None or (isinstance(value, float) and math.isnan(value)):
        assert cell is None, where
        return
    scale = {"amount": divisor, "percent": 100.0}.get(kind, 1.0)
    assert math.isclose(cell * scale, float(value), rel_tol=1e-9, abs_tol=1e-6), (
        where,
        cell,
        value,
    )
