"""End to end with the real forecast and optimiser: ``rainmaker demo`` and ``rainmaker plan``.

Three products of the sample data set and a short horizon keep each run to seconds; the full
sample (``make demo``) is timed in ``docs/operations.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from rainmaker import cli
from rainmaker.app.history import open_history
from rainmaker.app.outputs import all_revisions
from tests.conftest import SAMPLE_DIR
from tests.xlsx_checks import check_workbook, read_plan_csv

pytestmark = pytest.mark.slow
PRODUCTS = ("P01", "P06", "P14")


@pytest.fixture(scope="module")
def sample() -> Path:
    if not (SAMPLE_DIR / "flows.csv").is_file():
        pytest.skip("data/sample is not generated")
    return SAMPLE_DIR


def test_demo_runs_the_daily_job_and_prints_the_report_last(sample, tmp_path, capsys):
    settings = tmp_path / "demo.toml"
    settings.write_text(
        'output_root = "runs"\nhistory_url = "sqlite:///runs/history.sqlite"\n'
        # MLflow is tested in test_daily_tracking.py; creating a store costs seconds
        f'tracking_uri = ""\nhorizon = 7\nproducts = {json.dumps(list(PRODUCTS))}\n'
    )
    argv = ["demo", "--data", str(sample), "--config", str(settings)]
    assert cli.main(argv) == 0
    report = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert report.name == "report.html" and report.is_file()
    folder = report.parent
    run = json.loads((folder / "run.json").read_text())
    assert run["as_of"] == "2022-06-15" and run["products"] == list(PRODUCTS)
    assert run["solver_status"] in ("optimal", "feasible")
    plan = pd.read_csv(folder / "plan.csv")
    assert set(plan["product_id"]) == set(PRODUCTS) and len(plan) == 3 * 7
    assert (plan["liquidity_buffer"] >= 0).all() and (plan["expected_aum"] > 0).all()
    forecast = pd.read_csv(folder / "forecast.csv")
    assert (forecast["p10"] <= forecast["p50"]).all() and (forecast["p50"] <= forecast["p90"]).all()
    html = report.read_text(encoding="utf-8")
    assert html.count("<svg") == 3 and "每日计划报告" in html
    # the workbook of the real plan, in the report's language: its Today sheet is plan.csv's
    # first day, every optimiser column is labelled in Chinese
    check_workbook(folder / "plan.xlsx", read_plan_csv(folder / "plan.csv"), "zh")
    with open_history(f"sqlite:///{tmp_path}/runs/history.sqlite") as history:
        assert history.count("runs") == 1
        assert history.count("plans") == 3 * 7
    # the second demo has nothing to do, and still ends with the report's path
    assert cli.main(argv) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("nothing to do") and Path(out[-1]) == report
    assert len(all_revisions(tmp_path / "runs")) == 1


def test_plan_across_a_holiday(sample, tmp_path, capsys):
    out = tmp_path / "plan"
    argv = ["plan", "--data", str(sample), "--as-of", "2021-09-24", "--out", str(out)]
    argv += ["--horizon", "10", "--products", ",".join(PRODUCTS), "--lang", "en", "--no-tracking"]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(out / "report.html")
    plan = pd.read_csv(out / "plan.csv")
    assert plan["date"].min() == "2021-09-25" and plan["date"].max() == "2021-10-04"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "National Day holiday 2021-10-01 to 2021-10-07" in html
    book = check_workbook(out / "plan.xlsx", read_plan_csv(out / "plan.csv"), "en")
    assert book.sheetnames == ["Today", "Plan", "Alerts", "Forecast", "Notes"]
    assert {p.name for p in out.iterdir()} >= {
        "forecast.csv",
        "plan.csv",
        "report.html",
        "run.json",
        "plan.xlsx",
    }
