"""The stress page and the daily report's deviation and stress sections in a headless browser, in
both languages: the page loads without console messages or network requests, and every section
is in the DOM (the browser set-up is that of ``tests/app/test_report_browser.py``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rainmaker import cli
from rainmaker.app.report import render_report
from rainmaker.app.report.stress_page import STRESS_TEXTS
from rainmaker.dataset import load_dataset
from rainmaker.shadow_price import holdings_deviation
from simulate.stress import load_scenarios, run_stress
from tests.app.test_report import AS_OF, _hand_made_inputs
from tests.app.test_report_browser import _browser, _chromium
from tests.conftest import write_dataset

STRESS_SECTIONS = ("overview", "reverse", "detail", "checks", "deviation-actions")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("stress-browser"), n_products=2, n_days=40)


def _load(page: Path, profile: Path) -> str:
    result = _browser(
        _chromium(),
        profile,
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        url=page.as_uri(),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    blocked = [line for line in result.stderr.splitlines() if "ERR_NAME_NOT_RESOLVED" in line]
    assert blocked == [], blocked
    return result.stdout


@pytest.mark.parametrize(("lang", "title"), [("zh", "流动性压力测试"), ("en", "Liquidity stress")])
def test_stress_page_in_a_browser(data, tmp_path, lang, title):
    _chromium()  # skips before any work when there is no browser
    out = tmp_path / "out"
    assert cli.main(["stress", "--data", str(data), "--out", str(out), "--lang", lang]) == 0
    dom = _load(out / "stress.html", tmp_path / "profile")
    assert title in dom
    for section in STRESS_SECTIONS:
        assert f'id="{section}"' in dom


@pytest.mark.parametrize(("lang", "title"), [("zh", "影子定价偏离度"), ("en", "Shadow-price")])
def test_report_deviation_and_stress_sections_in_a_browser(data, tmp_path, lang, title):
    _chromium()
    holdings = pd.DataFrame(
        {
            "product_id": ["P001", "P001"],
            "bucket": ["cash", "ncd_3m"],
            "amount_cny": [1e8, 9e8],
            "rate_pct": [0.0, 3.0],
            "maturity_date": [pd.NaT, AS_OF + pd.Timedelta(days=60)],
        }
    )
    table = holdings_deviation(holdings, {"repo_7d": 3.5, "ncd_1m": 3.5, "ncd_3m": 3.5}, AS_OF)
    found = run_stress(load_dataset(data), pd.Timestamp("2021-04-09"), load_scenarios())
    stress = {"summary": found.summary, "reverse": found.reverse}
    page = tmp_path / "report.html"
    page.write_text(
        render_report(_hand_made_inputs(deviation=table, stress=stress), lang).html,
        encoding="utf-8",
    )
    dom = _load(page, tmp_path / "profile")
    assert 'id="deviation"' in dom and title in dom
    assert 'id="stress"' in dom and STRESS_TEXTS[lang]["in_report"] in dom
