"""The quant's API: data from frames, a product subset, a forecaster and a planner that remember
their data, plan summaries, charts, and the manager's files written from Python."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from matplotlib.figure import Figure

from forecast import Forecaster, run_forecast
from optimize import Planner, load_settings, make_plan
from optimize.results import SUMMARY_COLUMNS
from rainmaker.app.api import write_excel, write_plan_folder, write_report
from rainmaker.app.config import DailyConfig
from rainmaker.app.daily import Steps, plan_to_folder
from rainmaker.dataset import Dataset, load_dataset
from rainmaker.errors import DataError, UsageError
from rainmaker.validation import validate_frames
from simulate.policies import NoPolicy
from simulate.replay import replay
from tests.conftest import SAMPLE_DIR, write_dataset

AS_OF = "2021-06-01"
HORIZON = 7


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return load_dataset(write_dataset(tmp_path_factory.mktemp("small"), n_products=3, n_days=120))


@pytest.fixture(scope="module")
def forecaster(small: Dataset) -> Forecaster:
    return Forecaster(model="seasonal_naive", horizon=HORIZON).fit(small, AS_OF)


@pytest.fixture(scope="module")
def planner(small: Dataset, forecaster: Forecaster) -> Planner:
    settings = load_settings(overrides={"horizon": {"days": HORIZON}})
    return Planner(settings).fit(small, AS_OF, forecaster.predict())


def _csv_frames(folder: Path) -> dict[str, pd.DataFrame]:
    # every cell as the text of the file, as the folder's own checks read it
    return {
        path.stem: pd.read_csv(path, dtype=str, keep_default_na=False)
        for path in sorted(folder.glob("*.csv"))
    }


def test_from_frames_equals_load_dataset_on_the_sample():
    loaded = load_dataset(SAMPLE_DIR)
    frames = {stem: pd.read_csv(SAMPLE_DIR / name) for stem, name in loaded.files.items()}
    built = Dataset.from_frames(
        frames.pop("products"), frames.pop("flows"), frames.pop("market"), frames
    )
    for name in ("products", "flows", "market"):
        pd.testing.assert_frame_equal(getattr(built, name), getattr(loaded, name))
    assert sorted(built.tables) == sorted(loaded.tables)
    for stem, frame in loaded.tables.items():
        pd.testing.assert_frame_equal(built.tables[stem], frame, check_dtype=False)
    assert len(built.fingerprint) == 64
    assert built.files["flows"] == "flows (frame)"
    # the loaded frames themselves (datetimes, rows in any order) give the same data set
    again = Dataset.from_frames(
        loaded.products, loaded.flows.iloc[::-1], loaded.market, loaded.tables
    )
    pd.testing.assert_frame_equal(again.flows, loaded.flows)


def test_from_frames_reports_the_problems_a_folder_reports(tmp_path: Path):
    folder = write_dataset(tmp_path / "bad", n_products=2, n_days=20)
    flows = pd.read_csv(folder / "flows.csv", dtype=str, keep_default_na=False)
    flows.loc[3, "redemptions"] = "-5"
    flows.loc[[4, 7], "date"] = "2021/03/02"
    flows.to_csv(folder / "flows.csv", index=False)
    with pytest.raises(DataError) as from_folder:
        load_dataset(folder)
    frames = _csv_frames(folder)
    with pytest.raises(DataError) as from_frames:
        Dataset.from_frames(frames["products"], frames["flows"], frames["market"])

    def what(error: pytest.ExceptionInfo[DataError]) -> list[tuple[str, str, tuple[int, ...]]]:
        return [(p.column, p.message, p.rows) for p in error.value.problems]

    assert what(from_frames) == what(from_folder)
    assert {p.file for p in from_frames.value.problems} == {"flows (frame)"}


def test_from_frames_names_a_missing_table():
    loaded = load_dataset(SAMPLE_DIR)
    with pytest.raises(DataError, match=r"market \(frame\): is a NoneType; expected a DataFrame"):
        Dataset.from_frames(loaded.products, loaded.flows, None)  # type: ignore[arg-type]
    report = validate_frames({"products": loaded.products, "flows": loaded.flows})
    assert [str(p) for p in report.problems] == [
        "market (frame): required table is missing; expected a market frame"
    ]


def test_from_frames_names_a_missing_column():
    loaded = load_dataset(SAMPLE_DIR)
    with pytest.raises(DataError, match=r"products \(frame\), column 'fee_bp'"):
        Dataset.from_frames(loaded.products.drop(columns="fee_bp"), loaded.flows, loaded.market)


def test_select_keeps_the_products_asked_for(small: Dataset):
    chosen = small.select(["P003", "P001"])
    assert chosen.product_ids == ("P001", "P003")
    assert set(chosen.products["product_id"]) == {"P001", "P003"}
    assert chosen.market is small.market
    assert small.select("P002").product_ids == ("P002",)
    with pytest.raises(UsageError, match="P999"):
        small.select(["P001", "P999"])
    with pytest.raises(UsageError, match="no product id"):
        small.select([])


def test_forecaster_remembers_data_day_and_horizon(small: Dataset, forecaster: Forecaster):
    remembered = forecaster.predict()
    explicit = forecaster.predict(small, AS_OF, HORIZON)
    functional = run_forecast(small, AS_OF, horizon=HORIZON, model="seasonal_naive")
    pd.testing.assert_frame_equal(remembered.table, explicit.table)
    pd.testing.assert_frame_equal(remembered.table, functional.table)
    assert "\n" not in repr(forecaster) and "2021-06-01" in repr(forecaster)
    text = repr(remembered)
    assert "\n" not in text and len(text) < 300
    summary = remembered.summary()
    assert list(summary.index.names) == ["product_id", "variable"]
    assert {"mean", "p05", "p95"} <= set(summary.columns)
    assert isinstance(remembered.plot(history=small.flows), Figure)


def test_planner_equals_make_plan(small: Dataset, planner: Planner):
    result = planner.plan()
    direct = make_plan(small, AS_OF, planner.forecast_, planner.settings)
    pd.testing.assert_frame_equal(result.plan, direct.plan)
    what_if = planner.plan({"liquidity": {"confidence": 0.99}})
    changed = make_plan(
        small,
        AS_OF,
        planner.forecast_,
        planner.settings.with_overrides({"liquidity": {"confidence": 0.99}}),
    )
    pd.testing.assert_frame_equal(what_if.plan, changed.plan)
    assert result.dataset is small and result.forecast is planner.forecast_
    with pytest.raises(UsageError, match="not fitted"):
        Planner().plan()
    with pytest.raises(UsageError, match="liquidity"):
        planner.plan({"liquidity": {"confidenc": 0.99}})


def test_plan_summary_and_objective_per_term(planner: Planner):
    result = planner.plan()
    summary = result.summary()
    assert tuple(summary.columns) == SUMMARY_COLUMNS
    assert list(summary.index) == ["P001", "P002", "P003"]
    assert (summary["purchases_cny"] >= summary["first_day_purchases_cny"] - 1e-6).all()
    breakdown = result.objective_breakdown()
    assert breakdown["bp_day"].sum() == pytest.approx(result.objective_terms.sum())
    assert list(breakdown.columns) == ["bp_day", "bp_per_product_day"]
    text = repr(result)
    assert "\n" not in text and len(text) < 400 and "bp·day" in text
    # no repr of what a notebook prints dumps a frame or an array
    for shown in (result.inputs, result.explanations, planner, result.dataset):
        assert "\n" not in repr(shown) and len(repr(shown)) < 300, type(shown).__name__


@pytest.mark.slow
def test_report_workbook_and_folder_from_python(planner: Planner, tmp_path: Path):
    result = planner.plan()
    folder = write_plan_folder(result, tmp_path / "plan", lang="en")
    names = {p.name for p in folder.iterdir()}
    assert {"forecast.csv", "plan.csv", "report.html", "plan.xlsx", "run.json"} <= names
    plan_csv = pd.read_csv(folder / "plan.csv")
    assert len(plan_csv) == len(result.plan)
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    # run.json says what the plan was made with, not a job file's defaults
    assert run["settings"]["model"] == planner.forecast_.model_name
    assert run["settings"]["weights"]["income"] == planner.settings.weights.income
    assert run["settings"]["confidence"] == planner.settings.liquidity.confidence
    report = write_report(result, tmp_path / "report.html", lang="zh")
    assert "P001" in report.read_text(encoding="utf-8")
    workbook = write_excel(result, tmp_path / "plan.xlsx", lang="zh")
    assert openpyxl.load_workbook(workbook).sheetnames
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan", "plan.xlsx", "report.html"]
    with pytest.raises(UsageError, match="language"):
        write_report(result, tmp_path / "r.html", lang="fr")


@pytest.mark.slow
def test_folder_from_python_has_the_rows_of_rainmaker_plan(
    small: Dataset, planner: Planner, tmp_path: Path
):
    """The same forecast planned by `rainmaker plan`'s pipeline and written from Python gives
    the same plan.csv and forecast.csv (the report and workbook differ only by run id/time)."""
    config = DailyConfig(horizon=HORIZON, tracking_uri="", lang="en")
    forecast = planner.forecast_
    plan_to_folder(
        small.root,
        AS_OF,
        tmp_path / "cli",
        config,
        steps=Steps(forecaster=lambda *args, **kwargs: forecast),
        progress=lambda message: None,
        track=False,
    )
    write_plan_folder(planner.plan(), tmp_path / "api", lang="en")
    for name in ("plan.csv", "forecast.csv"):
        cli = (tmp_path / "cli" / name).read_bytes()
        assert (tmp_path / "api" / name).read_bytes() == cli, name


def test_replay_result_table_and_plot(small: Dataset):
    result = replay(small, "2021-05-20", "2021-06-10", NoPolicy(), warmup_days=14)
    table = result.table()
    assert list(table.index) == ["P001", "P002", "P003", "total"]
    assert "relative_vol_bp" in table.columns
    assert isinstance(result.plot(), Figure)
    assert "\n" not in repr(result)
