"""Tests of rainmaker.app.xlsx: the plan workbook."""

from __future__ import annotations

import pandas as pd
from openpyxl import load_workbook

from rainmaker.app.xlsx import write_workbook

HOSTILE_IDS = ["=1+1", '=HYPERLINK("http://x","y")', "@SUM(A1)", "-2+3", "P01"]


def test_text_cells_are_text_never_formulas(tmp_path):
    dates = pd.to_datetime(["2022-06-16", "2022-06-17"])
    plan = pd.DataFrame(
        {
            "product_id": [p for p in HOSTILE_IDS for _ in dates],
            "date": list(dates) * len(HOSTILE_IDS),
            "quota": 1e6,
            "expected_aum": -5.0,  # a number stays a number, sign and all
        }
    )
    forecast = plan[["product_id", "date"]].assign(variable="=cmd|' /C calc'!A0", mean=1.0)
    path = write_workbook(
        tmp_path / "plan.xlsx", plan, forecast, {"model": "=2*3", "objective": 1.5}
    )
    book = load_workbook(path)
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    ids = [row[0].value for row in book["plan"].iter_rows(min_row=2)]
    assert ids == [p for p in HOSTILE_IDS for _ in dates]  # shown exactly as written
    assert book["forecast"]["C2"].value == "=cmd|' /C calc'!A0"
    assert book["plan"]["D2"].value == -5.0 and book["plan"]["D2"].data_type == "n"
    assert {row[1].value for row in book["run"].iter_rows(min_row=2)} == {"=2*3", 1.5}
