"""End to end: ``rainmaker forecast`` and ``rainmaker evaluate-forecast`` through the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from forecast.toy_data import write_toy_dataset
from rainmaker.cli import main

AS_OF = "2020-10-20"


@pytest.fixture(scope="module")
def full_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_dataset(
        tmp_path_factory.mktemp("full"), n_products=3, start="2019-10-01", end="2020-11-30", seed=7
    )


@pytest.fixture(scope="module")
def cut_folder(full_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same data set without any row dated after the as-of day."""
    out = tmp_path_factory.mktemp("cut")
    for name in ("products", "flows", "market"):
        frame = pd.read_csv(full_folder / f"{name}.csv", dtype=str, keep_default_na=False)
        if "date" in frame.columns:
            frame = frame[frame["date"] <= AS_OF]
        frame.to_csv(out / f"{name}.csv", index=False)
    return out


def test_forecast_writes_the_spec_csv(full_folder: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "forecast.csv"
    code = main(
        [
            "forecast",
            "--data",
            str(full_folder),
            "--as-of",
            AS_OF,
            "--horizon",
            "5",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    table = pd.read_csv(out)
    assert list(table.columns[:7]) == [
        "product_id",
        "date",
        "variable",
        "mean",
        "p05",
        "p10",
        "p50",
    ]
    assert {"p90", "p95"} <= set(table.columns)
    assert len(table) == 3 * 5 * 4
    assert table["date"].min() == "2020-10-21" and table["date"].max() == "2020-10-25"
    assert "written to" in capsys.readouterr().out


def test_forecast_has_no_look_ahead(full_folder: Path, cut_folder: Path, tmp_path: Path) -> None:
    full, cut = tmp_path / "full.csv", tmp_path / "cut.csv"
    assert main(["forecast", "--data", str(full_folder), "--as-of", AS_OF, "--out", str(full)]) == 0
    assert main(["forecast", "--data", str(cut_folder), "--as-of", AS_OF, "--out", str(cut)]) == 0
    assert full.read_bytes() == cut.read_bytes()


def test_forecast_as_of_defaults_to_the_last_flows_day(cut_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "default.csv"
    assert main(["forecast", "--data", str(cut_folder), "--horizon", "3", "--out", str(out)]) == 0
    assert pd.read_csv(out)["date"].min() == "2020-10-21"


@pytest.mark.parametrize(
    "model", ["seasonal_naive+recent_mean", "median(seasonal_naive+recent_mean+ets)"]
)
def test_forecast_with_the_combination_auto_reports(
    cut_folder: Path, tmp_path: Path, capsys, model: str
) -> None:
    # auto names its choice "a+b" (their mean) or "median(a+b+c)": a user may ask for it
    out = tmp_path / "combined.csv"
    args = ["forecast", "--data", str(cut_folder), "--horizon", "3", "--model", model]
    assert main([*args, "--out", str(out)]) == 0
    assert f"({model})" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert table["mean"].notna().all()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--horizon", "0"], "--horizon"),
        (["--as-of", "2030-01-01"], "after the last flows day"),
        (["--as-of", "not-a-day"], "as-of"),
        (["--model", "prophet"], "unknown forecast model"),
        (["--model", "ets+prophet"], "unknown forecast model 'prophet'"),
    ],
)
def test_forecast_bad_usage_exits_2(
    full_folder: Path, tmp_path: Path, capsys, extra: list[str], message: str
) -> None:
    args = ["forecast", "--data", str(full_folder), "--out", str(tmp_path / "x.csv"), *extra]
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_forecast_bad_data_exits_2(full_folder: Path, tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("products", "market"):
        (broken / f"{name}.csv").write_bytes((full_folder / f"{name}.csv").read_bytes())
    flows = pd.read_csv(full_folder / "flows.csv")
    flows.loc[3, "redemptions"] = -1.0
    flows.to_csv(broken / "flows.csv", index=False)
    code = main(["forecast", "--data", str(broken), "--out", str(tmp_path / "x.csv")])
    assert code == 2
    err = capsys.readouterr().err
    assert "flows.csv" in err and "redemptions" in err
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.slow
def test_evaluate_forecast_logs_to_mlflow(full_folder: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "mlflow.db"
    metrics = tmp_path / "metrics.csv"
    # an issuer named like a formula: the coverage artefact names issuers, and is opened in
    # spreadsheets
    data = tmp_path / "data"
    data.mkdir()
    for path in full_folder.iterdir():
        (data / path.name).write_bytes(path.read_bytes())
    products = pd.read_csv(data / "products.csv", dtype=str, keep_default_na=False)
    products.loc[0, "issuer"] = "=1+2"
    products.to_csv(data / "products.csv", index=False)
    code = main(
        [
            "evaluate-forecast",
            "--data",
            str(data),
            "--start",
            "2020-10-20",
            "--end",
            "2020-11-16",
            "--horizon",
            "7",
            "--models",
            "seasonal_naive,lightgbm",
            "--adapt",
            "--out",
            str(metrics),
            "--tracking-uri",
            f"sqlite:///{store}",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "coverage_80" in printed and "lightgbm" in printed
    table = pd.read_csv(metrics)
    assert set(table["model"]) == {"auto", "seasonal_naive", "lightgbm"}
    assert set(table["horizon"]) == set(range(1, 8))
    # the market forecast against the random walk, printed after the tables and written beside
    assert "market forecast against the random walk" in printed
    market = pd.read_csv(tmp_path / "metrics_market.csv")
    assert {"shibor_on", "shibor_1w", "benchmark_yield_7d"} <= set(market["series"])
    assert list(market["band"].unique()) == ["1", "2-7"]
    assert (market["mae_rw_bp"] >= 0).all() and market["coverage_80"].between(0, 1).all()

    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{store}")
    runs = mlflow.search_runs(experiment_names=["rainmaker-forecast"])
    assert len(runs) == 1
    run = runs.iloc[0]
    assert run["params.horizon"] == "7"
    assert run["params.adapt"] == "True"
    assert 0.0 <= run["metrics.auto.redemptions.coverage_80"] <= 1.0
    assert run["metrics.lightgbm.subscriptions.wape"] > 0
    client = mlflow.MlflowClient()
    artifacts = {a.path for a in client.list_artifacts(run["run_id"])}
    assert {"metrics_by_horizon.csv", "model"} <= artifacts
    assert [a.path for a in client.list_artifacts(run["run_id"], "model")] == [
        "model/forecaster.pkl"
    ]
    assert (tmp_path / "mlruns").is_dir()
    fetched = Path(client.download_artifacts(run["run_id"], "coverage_by_group.csv", str(tmp_path)))
    groups = pd.read_csv(fetched, dtype=str)["group"]
    assert "'=1+2" in set(groups) and not groups.str.startswith("=").any()


def test_evaluate_forecast_rejects_an_empty_window(full_folder: Path, capsys) -> None:
    args = ["evaluate-forecast", "--data", str(full_folder), "--start", "2020-11-20"]
    assert main([*args, "--end", "2020-11-25", "--tracking-uri", ""]) == 2
    assert "no origin" in capsys.readouterr().err


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a command reads the data set: it must refuse its arguments first."""
    import rainmaker.dataset

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data set was read before the arguments were checked")

    monkeypatch.setattr(rainmaker.dataset, "load_dataset", forbidden)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--horizon", "366"], "from 1 to 365 days"),
        (["--horizon", "100000"], "from 1 to 365 days"),
        (["--as-of", "01/06/2022"], "expected an ISO date YYYY-MM-DD"),
        (["--as-of", "2022"], "expected an ISO date YYYY-MM-DD"),
        (["--as-of", "2022/06/01"], "expected an ISO date YYYY-MM-DD"),
        (["--model", ""], "unknown forecast model"),
        (["--model", "ets,,lightgbm"], "unknown forecast model"),
    ],
)
def test_forecast_refuses_bad_arguments_before_any_work(
    full_folder: Path, tmp_path: Path, capsys, no_work, extra: list[str], message: str
) -> None:
    args = ["forecast", "--data", str(full_folder), "--out", str(tmp_path / "x.csv"), *extra]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "unexpected error" not in err


@pytest.mark.parametrize("kind", ["folder", "missing parent", "parent is a file"])
def test_forecast_out_must_be_writable_before_any_work(
    full_folder: Path, tmp_path: Path, capsys, no_work, kind: str
) -> None:
    (tmp_path / "a-file").write_text("x")
    out = {
        "folder": tmp_path,
        "missing parent": tmp_path / "nowhere" / "f.csv",
        "parent is a file": tmp_path / "a-file" / "f.csv",
    }[kind]
    assert main(["forecast", "--data", str(full_folder), "--out", str(out)]) == 2
    assert f"--out {out}" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["forecast", "evaluate-forecast"])
def test_an_out_file_of_the_input_or_of_somebody_else_is_refused_before_any_work(
    full_folder: Path, tmp_path: Path, capsys, no_work, command: str
) -> None:
    """An --out inside the data set being read, or an existing file that is not an earlier
    output of the command, is refused (exit 2) and left as it was; an earlier output is not."""
    data = tmp_path / "data"
    data.mkdir()
    for path in full_folder.iterdir():
        (data / path.name).write_bytes(path.read_bytes())
    notes = tmp_path / "notes.csv"
    notes.write_text("name,amount\nrent,100\n")
    args = [command, "--data", str(data)]
    if command == "evaluate-forecast":
        args += ["--start", "2020-10-20", "--tracking-uri", ""]
    flows = (data / "flows.csv").read_bytes()
    assert main([*args, "--out", str(data / "flows.csv")]) == 2
    assert "inside the data set folder" in capsys.readouterr().err
    assert (data / "flows.csv").read_bytes() == flows
    assert main([*args, "--out", str(notes)]) == 2
    assert "is not an earlier rainmaker output" in capsys.readouterr().err
    assert notes.read_text() == "name,amount\nrent,100\n"
    earlier = tmp_path / "earlier.csv"
    header = "product_id,date,variable,mean" if command == "forecast" else "model,variable,horizon"
    earlier.write_text(f"{header}\n")
    # an earlier output passes the checks: the command goes on to read the data (which no_work
    # stops, as an unexpected error)
    assert main([*args, "--out", str(earlier)]) == 1
    assert "the data set was read before the arguments were checked" in capsys.readouterr().err


def test_forecast_csv_quotes_ids_a_spreadsheet_would_evaluate(tmp_path: Path) -> None:
    import dataclasses

    from forecast import run_forecast
    from rainmaker.dataset import load_dataset

    folder = write_toy_dataset(tmp_path / "toy", n_products=1, start="2020-01-01", end="2020-03-31")
    result = run_forecast(load_dataset(folder), horizon=2, model="seasonal_naive")
    hostile = dataclasses.replace(result, table=result.table.assign(product_id="=1+1"))
    lines = hostile.to_csv(tmp_path / "f.csv").read_text().splitlines()
    assert lines[0].startswith("product_id,date,variable,mean")
    assert all(line.startswith("'=1+1,2020-04-0") for line in lines[1:])


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--step", "0"], "--step"),
        (["--refit-every", "0"], "--refit-every"),
        (["--horizon", "366"], "--horizon"),
        (["--start", "2020/10/20"], "expected an ISO date"),
        (["--end", "2020-10-01"], "must be after --start"),
        (["--models", "prophet"], "unknown forecast model"),
        (["--tracking-uri", "mlflow.db"], "--tracking-uri"),
        # a database store whose driver is not installed: refused before the evaluation, not
        # after it when the first run is logged; the password masked
        (["--tracking-uri", "postgresql+nodriver://rm:Sup3r@db/mlflow"], "rm:***@db"),
        (["--tracking-uri", "mysql+nodriver://rm:Sup3r@db/mlflow"], "cannot be opened here"),
    ],
)
def test_evaluate_forecast_refuses_bad_arguments_before_any_work(
    full_folder: Path, capsys, no_work, extra: list[str], message: str
) -> None:
    args = ["evaluate-forecast", "--data", str(full_folder), "--start", "2020-10-20"]
    assert main([*args, "--tracking-uri", "", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "unexpected error" not in err and "Sup3r" not in err


def test_evaluate_forecast_out_folder_is_refused_before_any_work(
    full_folder: Path, tmp_path: Path, capsys, no_work
) -> None:
    args = ["evaluate-forecast", "--data", str(full_folder), "--start", "2020-10-20"]
    assert main([*args, "--tracking-uri", "", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
