"""Tests of rainmaker.app.xlsx: the plan workbook, read back with openpyxl.

The workbook of the real forecast and plan is checked in both languages by the end-to-end tests
(tests/cli/test_daily_e2e.py, with :func:`tests.xlsx_checks.check_workbook`); these tests use small
hand-made plans and take milliseconds.
"""

from __future__ import annotations

import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from rainmaker.app.report.i18n import texts
from rainmaker.app.xlsx import write_workbook
from rainmaker.app.xlsx_columns import COLUMNS, KINDS, SHEETS, header
from rainmaker.safety import write_spreadsheet_csv
from tests.xlsx_checks import check_workbook, read_plan_csv

HOSTILE_IDS = ["=1+1", '=HYPERLINK("http://x","y")', "@SUM(A1)", "-2+3", "P01"]
DATES = pd.date_range("2022-06-16", periods=3)


def _plan(ids: list[str]) -> pd.DataFrame:
    """A plan with the SPEC columns and the optimiser's extras the Today sheet reads (CNY)."""
    n = len(ids) * len(DATES)
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "product_id": [p for p in ids for _ in DATES],
            "date": list(DATES) * len(ids),
            "quota": np.tile([np.nan, 0.0, 4.5e8], len(ids)),
            "expected_subscriptions": rng.uniform(1e8, 5e8, n),
            "expected_redemptions": rng.uniform(1e8, 5e8, n),
            "liquidity_buffer": rng.uniform(1e9, 3e9, n),
            "expected_aum": rng.uniform(5e10, 6e10, n),
            "expected_yield_7d": rng.uniform(1.8, 2.4, n),
            "demand": rng.uniform(1e8, 5e8, n),
            "exposure": np.tile([0.0, 1.0, 3.3], len(ids)),
            "baseline_exposure": np.tile([1.0, 1.0, 0.0], len(ids)),
            "required_buffer": rng.uniform(1e9, 3e9, n),
            "cash": rng.uniform(1e8, 1e9, n),
            "purchase_repo_1d": rng.uniform(0, 1e9, n),
            "purchase_ncd_6m": rng.uniform(0, 4e9, n),
            "buffer_confidence": 0.95,
            "wam_days": 35.5,
            "defence": [p == ids[0] for p in ids for _ in DATES],
        }
    )


def _forecast(plan: pd.DataFrame) -> pd.DataFrame:
    return plan[["product_id", "date"]].assign(variable="aum", mean=5e10, p10=4e10, p90=6e10)


ALERTS = [
    {"severity": "critical", "kind": "buffer_short", "product_id": "P01", "text": "储备不足"},
    {"severity": "info", "kind": "holiday", "product_id": "", "text": "=not a formula"},
]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_workbook_reads_back_in_each_language(tmp_path, lang):
    plan = _plan(["P01", "P02"])
    write_spreadsheet_csv(
        plan.assign(date=plan["date"].dt.strftime("%Y-%m-%d")), tmp_path / "p.csv"
    )
    path = write_workbook(
        tmp_path / "plan.xlsx",
        plan,
        _forecast(plan),
        {"as_of": "2022-06-15", "run_id": "20220615-r1", "model": "=2*3"},
        alerts=ALERTS,
        lang=lang,
    )
    book = check_workbook(path, read_plan_csv(tmp_path / "p.csv"), lang)
    names = SHEETS[lang]
    today = book[names["today"]]
    heads = [c.value for c in today[1]]
    unit = texts(lang)["unit_1e8"]  # a 1,000亿 portfolio is shown in 亿元
    assert header(COLUMNS["purchase_ncd_6m"], lang, unit) in heads
    row = dict(zip(heads, next(today.iter_rows(min_row=2, values_only=True)), strict=True))
    # the first day of P01: quota open, exposure 0× of its baseline, in defence
    assert row[header(COLUMNS["quota_state"], lang, unit)] == ("不限额" if lang == "zh" else "open")
    assert row[header(COLUMNS["exposure_vs_baseline"], lang, unit)] == 0.0
    assert row[header(COLUMNS["defence"], lang, unit)] == ("是" if lang == "zh" else "yes")
    first = plan.iloc[0]
    ratio = row[header(COLUMNS["buffer_vs_requirement"], lang, unit)]
    assert ratio == pytest.approx(first["liquidity_buffer"] / first["required_buffer"])
    surplus = row[header(COLUMNS["buffer_surplus"], lang, unit)]
    assert surplus * 1e8 == pytest.approx(first["liquidity_buffer"] - first["required_buffer"])
    # formats: amounts with thousands separators, shares as percent, exposure as a multiple
    cells = {h: today.cell(row=2, column=i + 1) for i, h in enumerate(heads)}
    assert cells[header(COLUMNS["cash"], lang, unit)].number_format == "#,##0.00"
    assert cells[header(COLUMNS["buffer_vs_requirement"], lang, unit)].number_format == "0.0%"
    assert cells[header(COLUMNS["exposure_vs_baseline"], lang, unit)].number_format.startswith(
        "0.00"
    )
    # alerts in the language of the report, in the words given
    alerts = list(book[names["alerts"]].iter_rows(min_row=2, values_only=True))
    words = texts(lang)
    assert alerts[0] == (words["severity_critical"], "P01", "储备不足")
    assert alerts[1][2] == "=not a formula"
    # forecast: variables named in the language, quantiles labelled
    forecast = book[names["forecast"]]
    assert forecast["C2"].value == words["variable_aum"]
    assert forecast["E1"].value.startswith("10%")
    # notes: the run, the unit and a definition of every column shown
    notes = list(book[names["notes"]].iter_rows(values_only=True))
    assert (words["run_id"], "20220615-r1") in [r[:2] for r in notes]
    assert (words["model"], "=2*3") in [r[:2] for r in notes]
    defined = {(r[0], r[1]) for r in notes if r[3]}
    for key in ("today", "plan", "alerts", "forecast"):
        sheet = book[names[key]]
        assert {(names[key], c.value) for c in sheet[1]} <= defined, key


def test_zh_and_en_workbooks_differ(tmp_path):
    plan = _plan(["P01"])
    books = {}
    for lang in ("zh", "en"):
        path = write_workbook(tmp_path / f"{lang}.xlsx", plan, _forecast(plan), {}, lang=lang)
        books[lang] = load_workbook(path)
    assert books["zh"].sheetnames == ["今日操作", "计划", "预警", "预测", "说明"]
    assert books["en"].sheetnames == ["Today", "Plan", "Alerts", "Forecast", "Notes"]
    zh, en = (b.worksheets[1] for b in (books["zh"], books["en"]))
    assert zh["A1"].value == "产品" and en["A1"].value == "Product"
    assert (
        zh["F1"].value == "流动性储备（亿元）" and en["F1"].value == "Liquidity buffer (CNY 100m)"
    )
    # the same numbers in both
    assert [c.value for c in zh[2]][2:8] == [c.value for c in en[2]][2:8]
    # no alert: the sheet says so rather than being empty
    assert books["zh"]["预警"]["C2"].value == texts("zh")["no_alerts"]


def test_small_portfolios_are_shown_in_10k(tmp_path):
    plan = _plan(["P01"])
    money = [c for c in plan.columns if c in COLUMNS and COLUMNS[c].kind == "amount"]
    plan[money] = plan[money] / 1e5  # a portfolio of about 50 万元... 5 亿 → 万元
    path = write_workbook(tmp_path / "plan.xlsx", plan, _forecast(plan).assign(mean=1.0), {})
    sheet = load_workbook(path)["计划"]
    assert sheet["G1"].value == "预计规模（万元）"
    assert sheet["G2"].value * 1e4 == pytest.approx(plan["expected_aum"].iloc[0])


def test_unknown_language_is_refused(tmp_path):
    plan = _plan(["P01"])
    with pytest.raises(ValueError, match="unknown report language 'fr'"):
        write_workbook(tmp_path / "plan.xlsx", plan, _forecast(plan), {}, lang="fr")


def test_text_cells_are_text_never_formulas(tmp_path):
    plan = _plan(HOSTILE_IDS)
    forecast = _forecast(plan).assign(variable="=cmd|' /C calc'!A0")
    path = write_workbook(tmp_path / "plan.xlsx", plan, forecast, {"model": "=2*3"}, lang="en")
    book = load_workbook(path)
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    # text a spreadsheet would evaluate carries Excel's quote prefix: it stays text when edited
    risky = [c for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert risky and all(c.quotePrefix for c in risky)
    ids = [row[0].value for row in book["Plan"].iter_rows(min_row=2)]
    assert ids == [p for p in HOSTILE_IDS for _ in DATES]  # shown exactly as written
    assert book["Forecast"]["C2"].value == "=cmd|' /C calc'!A0"
    assert book["Plan"]["G2"].data_type == "n"  # a number stays a number


def test_negative_zeros_are_written_as_zero(tmp_path):
    # an empty product's buffer can come out of the plan as -0.0: the cell holds 0
    plan = _plan(["P01"]).assign(liquidity_buffer=-0.0, expected_yield_7d=-0.0)
    path = write_workbook(tmp_path / "plan.xlsx", plan, _forecast(plan), {}, lang="en")
    with zipfile.ZipFile(path) as book:
        sheets = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/")]
    values = [v for xml in sheets for v in re.findall(r"<v>([^<]*)</v>", xml)]
    assert "0" in values or "0.0" in values
    assert not [v for v in values if re.fullmatch(r"-0(\.0*)?", v)]


def test_every_column_is_labelled_and_defined_in_both_languages():
    # labels borrowed from the report's dictionary must exist there in both languages
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for key, col in COLUMNS.items():
        assert col.kind in KINDS, key
        zh, en = col.label("zh"), col.label("en")
        assert cjk.search(zh) and not re.search(r"[A-Za-z]", zh), (key, zh)
        assert en and not cjk.search(en), (key, en)
        assert col.note("zh") and col.note("en"), key
        assert not re.search(r"[A-Za-z]", col.note("zh")), (key, col.note("zh"))


def test_an_unknown_plan_column_still_opens(tmp_path):
    # a column the optimiser adds later is shown under its own name until it is catalogued
    plan = _plan(["P01"]).assign(new_figure=1234.5678, new_note="=x")
    path = write_workbook(tmp_path / "plan.xlsx", plan, _forecast(plan), {}, lang="en")
    sheet = load_workbook(path)["Plan"]
    heads = [c.value for c in sheet[1]]
    figure = sheet.cell(row=2, column=heads.index("new_figure") + 1)
    assert figure.value == 1234.5678 and figure.number_format == "#,##0.00"
    note = sheet.cell(row=2, column=heads.index("new_note") + 1)
    assert note.value == "=x" and note.data_type == "s" and note.quotePrefix
