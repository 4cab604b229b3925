"""MLflow tracking of the daily job (rainmaker.tracking), on a temporary SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from rainmaker.app import daily, pipeline
from rainmaker.app.config import DailyConfig
from rainmaker.app.history import open_history
from rainmaker.tracking import HTTP_LIMITS, TrackingError, artifact_root, log_run
from tests.conftest import write_dataset
from tests.daily_fakes import NO_OPS_CHECKS, fake_make_plan, fake_run_forecast


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """One MLflow store for the module: creating its tables takes MLflow seconds."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow')}/mlflow.db"


def _client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def test_a_tracking_server_that_is_down_fails_in_seconds(monkeypatch):
    """MLflow's own retries took about 4 minutes against a refused port; within log_run they
    are bounded (rainmaker.tracking.HTTP_LIMITS), the password masked, the environment left
    as it was, and a limit the environment sets is kept."""
    import os
    import time

    for name in HTTP_LIMITS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    began = time.monotonic()
    with pytest.raises(TrackingError, match=r"u:\*\*\*@127\.0\.0\.1:9") as caught:
        log_run("http://u:secret@127.0.0.1:9", "x", run_name="r")  # port 9: refused
    assert time.monotonic() - began < 30
    assert "secret" not in str(caught.value)
    assert [n for n in HTTP_LIMITS if n in os.environ] == ["MLFLOW_HTTP_REQUEST_TIMEOUT"]
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "5"


def test_artifact_root_sits_beside_an_sqlite_store(tmp_path):
    assert artifact_root(f"sqlite:///{tmp_path}/m.db") == (tmp_path / "mlruns").as_uri()
    assert artifact_root("http://tracking:5000") is None
    assert artifact_root("sqlite:///:memory:") is None


@pytest.mark.slow
def test_log_run_records_everything(tmp_path, store):
    uri = store
    report = tmp_path / "report.html"
    report.write_text("<html></html>")
    chart = tmp_path / "aum.svg"
    chart.write_text("<svg></svg>")
    tracked = log_run(
        uri,
        "tests",
        run_name="r1",
        params={"horizon": 5},
        metrics={"objective": 2.5, "skipped": float("nan")},
        tags={"rainmaker.run_id": "r1"},
        artifacts=[report],
        figures=[chart],
    )
    client = _client(uri)
    run = client.get_run(tracked.run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "r1"
    assert run.data.params == {"horizon": "5"}
    assert run.data.metrics == {"objective": 2.5}
    assert run.data.tags["rainmaker.run_id"] == "r1"
    paths = {a.path for a in client.list_artifacts(tracked.run_id)}
    assert paths == {"report.html", "figures"}
    assert [a.path for a in client.list_artifacts(tracked.run_id, "figures")] == ["figures/aum.svg"]
    assert Path(uri.removeprefix("sqlite:///")).with_name("mlruns").is_dir()


def test_an_unusable_store_is_a_tracking_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(TrackingError, match="could not log to the MLflow store"):
        log_run(f"sqlite:///{blocker}/sub/mlflow.db", "tests", run_name="x")


def test_a_scheduled_run_is_tracked(tmp_path, store):
    uri = store
    config = DailyConfig(
        data=write_dataset(tmp_path / "data", n_products=2, n_days=60),
        output_root=tmp_path / "runs",
        history_url=f"sqlite:///{tmp_path}/history.sqlite",
        tracking_uri=uri,
        experiment="daily",
        horizon=5,
    )
    steps = daily.Steps(fake_run_forecast, fake_make_plan)
    outcome = daily.run_job(config, steps=steps, progress=lambda _: None)
    assert outcome.tracking_error is None
    client = _client(uri)
    experiment = client.get_experiment_by_name("daily")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == outcome.run_id
    assert run.data.params["as_of"] == f"{outcome.as_of:%Y-%m-%d}"
    assert run.data.params["horizon"] == "5"
    assert run.data.metrics["objective"] == 12.5
    assert "time_forecast_s" in run.data.metrics and "total_aum" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"report.html", "plan.csv", "forecast.csv", "plan.xlsx", "run.json"} <= artifacts
    figures = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "figures")}
    assert figures == {"aum.svg", "aum_products.svg", "yield.svg", "quota.svg"}
    with open_history(config.history_url) as history:
        assert history.runs().loc[0, "mlflow_run_id"] == run.info.run_id


def test_a_tracking_failure_does_not_undo_the_plan(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    config = DailyConfig(
        data=write_dataset(tmp_path / "data", n_products=2, n_days=60),
        output_root=tmp_path / "runs",
        history_url=f"sqlite:///{tmp_path}/history.sqlite",
        tracking_uri=f"sqlite:///{blocker}/sub/mlflow.db",
        horizon=5,
    )
    messages: list[str] = []
    steps = daily.Steps(fake_run_forecast, fake_make_plan)
    outcome = daily.run_job(config, steps=steps, progress=messages.append)
    assert outcome.status == "published" and outcome.report.is_file()
    assert outcome.tracking_error and "could not log to the MLflow store" in outcome.tracking_error
    assert any(m.startswith("warning: could not log") for m in messages)


def test_a_password_in_the_tracking_uri_reaches_no_log_file_or_store(tmp_path, store, capsys):
    """The README's cron line appends stderr to a log: a URL's password must never be in it.
    A database store whose driver is not installed is refused with the settings file, before
    any work (it used to fail only when the run was logged, every day)."""
    from rainmaker import cli

    secret = "s3cr3t-pw"
    data = write_dataset(tmp_path / "data", n_products=2, n_days=60)
    settings = tmp_path / "job.toml"
    settings.write_text(
        f'data = "{data}"\noutput_root = "runs"\nhorizon = 5\n'
        f'tracking_uri = "postgresql+nodriver://rain:{secret}@127.0.0.1:9/mlflow"\n' + NO_OPS_CHECKS
    )
    steps = daily.Steps(fake_run_forecast, fake_make_plan)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "Steps", lambda **_: steps)  # the CLI passes progress=
        assert cli.main(["run", "--config", str(settings)]) == 2
    captured = capsys.readouterr()
    assert "'postgresql+nodriver://rain:***@127.0.0.1:9/mlflow' cannot be opened" in captured.err
    assert secret not in captured.err + captured.out
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.csv"))
    # a store that fails when the run is logged (unreachable) is a warning, the plan stays:
    # test_a_tracking_failure_does_not_undo_the_plan
    # parameters and tags that carry a URL are stored masked
    tracked = log_run(
        store,
        "tests",
        run_name="masked",
        params={"source": f"mysql://u:{secret}@h/db"},
        tags={"note": f"https://h/api?token={secret}"},
    )
    run = _client(store).get_run(tracked.run_id)
    assert run.data.params["source"] == "mysql://u:***@h/db"
    assert run.data.tags["note"] == "https://h/api?token=***"


def test_a_password_in_an_unusable_store_url_is_masked(tmp_path):
    with pytest.raises(TrackingError) as caught:
        log_run("postgresql://u:s3cr3t@127.0.0.1:9/db", "tests", run_name="x")
    assert "s3cr3t" not in str(caught.value) and "u:***@127.0.0.1" in str(caught.value)


def test_metric_keys_built_from_any_valid_product_id_are_logged(store):
    """The backtest logs <product>.relative_vol_bp: MLflow refused the whole batch for ids that
    validation accepts ('+1', 'P(A)', '=X', 300 characters), and rainmaker backtest exited 1
    without its output folder. Such keys are logged under a name MLflow takes, kept apart."""
    ids = ["P01", "+1", "_1", "P(A)", '=HYPERLINK("x")', "..P", "a/../b", "现金宝", "x" * 300]
    metrics = {f"{pid}.relative_vol_bp": float(i) for i, pid in enumerate(ids)}
    tracked = log_run(store, "keys", run_name="ids", params={"+1.world": 1}, metrics=metrics)
    logged = _client(store).get_run(tracked.run_id).data.metrics
    from rainmaker.tracking import mlflow_key

    assert len(logged) == len(ids)
    assert logged["P01.relative_vol_bp"] == 0.0 and logged["现金宝.relative_vol_bp"] == 7.0
    assert logged[mlflow_key("+1.relative_vol_bp")] == 1.0
    assert logged[mlflow_key("_1.relative_vol_bp")] == 2.0  # not the same key as '+1''s
    assert all(len(key) <= 250 for key in logged)
