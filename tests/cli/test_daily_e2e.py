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


def _emptied_sample(folder: Path, product: str, day: str, keep: tuple[str, ...]) -> Path:
    """The sample's products ``keep``, ``product`` fully redeemed on ``day``: its redemptions
    that day are all it held (the day's income included, so AUM rolls forward per the data
    contract), AUM 0 and no flow after."""
    folder.mkdir()
    for source in sorted(SAMPLE_DIR.glob("*.csv")):
        table = pd.read_csv(source, dtype=str, keep_default_na=False)
        if "product_id" in table.columns:
            table = table[table["product_id"].isin(keep)].copy()
        if source.stem == "flows":
            mine = table["product_id"] == product
            dates = pd.to_datetime(table["date"])
            eve = mine & (dates == pd.Timestamp(day) - pd.Timedelta(days=1))
            held = float(table.loc[eve, "aum"].iloc[0])
            first = mine & (dates == pd.Timestamp(day))
            income = float(table.loc[first, "income_per_10k"].iloc[0]) / 10_000
            gone = mine & (dates >= pd.Timestamp(day))
            table.loc[gone, ["subscriptions", "redemptions", "aum", "demand"]] = "0"
            table.loc[first, "redemptions"] = f"{held * (1 + income):.2f}"
        table.to_csv(folder / source.name, index=False)
    return folder


def test_run_with_a_product_fully_redeemed_two_weeks_before(sample, tmp_path, capsys):
    """P02 fully redeemed on 2022-06-01, AUM 0 and no flow to the as-of day 2022-06-15: the
    daily job exited 6. The dormant rule waits 28 days, so P02 was forecast at CNY 30 m a
    day of subscriptions and its redemptions with them (p95 above its expected AUM), and the
    plan asked a buffer of CNY 340 m and, on its stress floor (the 28 days' mean redemptions,
    the emptying day's in it), CNY 1.27 bn: four critical buffer alerts. A product with
    nothing in it and no new money is closed: 0 on every path, nothing to keep."""
    data = _emptied_sample(tmp_path / "data", "P02", "2022-06-01", ("P01", "P02"))
    assert cli.main(["validate", "--data", str(data)]) == 0
    settings = tmp_path / "rainmaker.toml"
    settings.write_text(
        f'data = "{data}"\noutput_root = "runs"\ntracking_uri = ""\nmax_data_age_days = 0\n'
        'products = ["P01", "P02"]\n'
    )
    assert cli.main(["run", "--config", str(settings), "--no-progress"]) == 0
    report = Path(capsys.readouterr().out.strip().splitlines()[-1])
    folder = report.parent
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert run["as_of"] == "2022-06-15" and run["exit_code"] == 0
    assert not [a for a in run["alerts"] if a["product_id"] == "P02"]
    assert any("closed" in w and "P02 since 2022-06-01" in w for w in run["warnings"])
    forecast = pd.read_csv(folder / "forecast.csv")
    numbers = [c for c in forecast.columns if c == "mean" or c[1:].isdigit()]
    assert (forecast.loc[forecast["product_id"] == "P02", numbers] == 0).all().all()
    plan = read_plan_csv(folder / "plan.csv")
    mine = plan[plan["product_id"] == "P02"]
    assert (mine[["expected_redemptions", "required_buffer", "liquidity_need"]] == 0).all().all()
    # the open product is planned as before, and P02's quota is not closed by the plan
    assert (plan.loc[plan["product_id"] == "P01", "expected_aum"] > 0).all()
    assert mine["quota"].isna().all()
