"""Tests of the daily job (rainmaker.app.job, .pipeline): revisions, no-ops, files and recovery.

The forecast and the plan are the fast stand-ins of :mod:`tests.daily_fakes`: what is tested
here is the job around them. ``tests/cli/test_daily_e2e.py`` runs the real ones.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from forecast.base import ForecastFallbackWarning
from rainmaker import cli
from rainmaker.app import daily, pipeline
from rainmaker.app.config import DailyConfig
from rainmaker.app.history import open_history
from rainmaker.app.outputs import Revision, all_revisions, day_folder, list_revisions
from rainmaker.app.xlsx_columns import SHEETS
from rainmaker.dataset import load_dataset
from rainmaker.errors import UsageError
from tests.conftest import write_dataset
from tests.daily_fakes import NO_OPS_CHECKS, fake_make_plan, fake_run_forecast

FAKES = daily.Steps(fake_run_forecast, fake_make_plan)
SPEC_PLAN_COLUMNS = {
    "product_id",
    "date",
    "quota",
    "expected_subscriptions",
    "expected_redemptions",
    "liquidity_buffer",
    "expected_aum",
    "expected_yield_7d",
}


def _config(tmp_path: Path, **changes) -> DailyConfig:
    data = tmp_path / "data"
    if not data.exists():
        write_dataset(data, n_products=2, n_days=60)
    fields = {
        "data": data,
        "output_root": tmp_path / "runs",
        "history_url": f"sqlite:///{tmp_path}/runs/history.sqlite",
        "tracking_uri": "",
        "horizon": 5,
    }
    fields.update(changes)
    return DailyConfig(**fields)


def _run(config: DailyConfig, **kwargs) -> daily.RunOutcome:
    return daily.run_job(config, steps=FAKES, progress=lambda _: None, **kwargs)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _runs_in_db(config: DailyConfig) -> int:
    with open_history(config.history_url) as history:
        return history.count("runs")


def _edit_exposure(folder: Path, day: str, product: str = "P001") -> None:
    """Change one value that the models may read: new data up to that day, same AUM."""
    path = folder / "flows.csv"
    flows = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = (flows["date"] == day) & (flows["product_id"] == product)
    flows.loc[row, "exposure"] = str(int(flows.loc[row, "exposure"].iloc[0]) + 1)
    flows.to_csv(path, index=False)


def _append_day(folder: Path, product: str) -> None:
    """Add the next day for one product only: that day is not complete yet."""
    path = folder / "flows.csv"
    flows = pd.read_csv(path, dtype=str, keep_default_na=False)
    last = flows[flows["product_id"] == product].iloc[-1].copy()
    last["date"] = f"{pd.Timestamp(last['date']) + pd.Timedelta(days=1):%Y-%m-%d}"
    last["quota"] = ""
    flows = pd.concat([flows, last.to_frame().T], ignore_index=True)
    flows.to_csv(path, index=False)


# ---------------------------------------------------------------------- the as-of day


def test_latest_complete_day_waits_for_every_live_product(tmp_path):
    folder = write_dataset(tmp_path / "data", n_products=3, n_days=40)
    dataset = load_dataset(folder)
    last = dataset.last_date
    assert daily.latest_complete_day(dataset) == last
    _append_day(folder, "P002")
    grown = load_dataset(folder)
    assert grown.last_date == last + pd.Timedelta(days=1)
    assert daily.latest_complete_day(grown) == last


def test_a_closed_product_does_not_hold_the_day_back(tmp_path):
    folder = write_dataset(tmp_path / "data", n_products=3, n_days=40)
    flows = pd.read_csv(folder / "flows.csv", dtype=str, keep_default_na=False)
    cut = pd.Timestamp(flows["date"].max()) - pd.Timedelta(days=daily.CLOSED_PRODUCT_DAYS + 1)
    closed = (flows["product_id"] == "P003") & (pd.to_datetime(flows["date"]) > cut)
    flows[~closed].to_csv(folder / "flows.csv", index=False)
    dataset = load_dataset(folder)
    assert daily.latest_complete_day(dataset) == dataset.last_date


def test_select_products(tmp_path):
    dataset = load_dataset(write_dataset(tmp_path / "data", n_products=3, n_days=20))
    chosen = daily.select_products(dataset, ["P003", "P001"])
    assert chosen.product_ids == ("P001", "P003")
    assert set(chosen.products["product_id"]) == {"P001", "P003"}
    assert daily.select_products(dataset, []) is dataset
    with pytest.raises(UsageError, match="P009"):
        daily.select_products(dataset, ["P009"])


def test_selecting_only_products_closed_before_the_as_of_day_names_their_last_day(tmp_path):
    # plan --products P003 of a product that closed on day 10: the forecast's "as-of day ... is
    # after the last flows day" spoke of the selection's last day as if it were the data's
    dataset = load_dataset(write_dataset(tmp_path / "data", n_products=3, n_days=20))
    flows = dataset.flows
    day = (flows["date"] - dataset.first_date).dt.days
    cut = dataclasses.replace(
        dataset, flows=flows.loc[~((flows["product_id"] == "P003") & (day > 10))]
    )
    with pytest.raises(UsageError) as caught:
        daily.select_products(cut, ["P003"])
    assert str(caught.value) == (
        "products P003 have no flows on the as-of day 2021-03-20: their last day is 2021-03-11; "
        "expected products with flows on it, or an as-of day on or before their last"
    )
    # one of them still live: the closed one is left out later, with a warning
    assert daily.select_products(cut, ["P001", "P003"]).last_date == cut.last_date


def test_input_fingerprint_ignores_rows_after_the_as_of_day(tmp_path):
    folder = write_dataset(tmp_path / "data", n_products=2, n_days=40)
    dataset = load_dataset(folder)
    day = dataset.last_date - pd.Timedelta(days=3)
    before = daily.input_fingerprint(dataset.up_to(day))
    _append_day(folder, "P001")
    _edit_exposure(folder, f"{dataset.last_date:%Y-%m-%d}")
    grown = load_dataset(folder)
    assert grown.fingerprint != dataset.fingerprint
    assert daily.input_fingerprint(grown.up_to(day)) == before
    _edit_exposure(folder, f"{day:%Y-%m-%d}")
    assert daily.input_fingerprint(load_dataset(folder).up_to(day)) != before


# ---------------------------------------------------------------------- revisions and no-ops


def _revision(number: int, fingerprint: str, settings_hash: str) -> Revision:
    run = {"input_fingerprint": fingerprint, "settings_hash": settings_hash, "run_id": f"r{number}"}
    return Revision(number, Path(f"r{number}"), run)


@settings(max_examples=300, deadline=None)
@given(
    history=st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("xy")), max_size=6),
    now=st.tuples(st.sampled_from("abc"), st.sampled_from("xy")),
    force=st.booleans(),
    withdrawn=st.sets(st.integers(1, 6)),
)
def test_next_revision_properties(history, now, force, withdrawn):
    revisions = [_revision(i + 1, f, s) for i, (f, s) in enumerate(history)]
    gone = {f"r{n}" for n in withdrawn}
    number, same = daily.next_revision(revisions, *now, force=force, withdrawn=gone)
    active = [i for i in range(len(history)) if f"r{i + 1}" not in gone]
    if not revisions:
        assert (number, same) == (1, None)
    elif not force and history[-1] == now:
        assert same is revisions[-1] and number == len(revisions)
    elif not force and active and history[active[-1]] == now:
        # the revision in effect after a rollback has these inputs: no copy of it is published
        assert same is revisions[active[-1]] and number == active[-1] + 1
    else:
        # a new revision, numbered after every existing one: never an overwrite
        assert same is None and number == len(revisions) + 1


def test_a_run_on_the_inputs_a_rollback_went_back_to_is_a_noop():
    """r1 (settings x), r2 (settings y) withdrawn: latest points at r1 again. A run with r1's
    settings has nothing to do (it used to publish r3, a copy of r1, "settings changed since
    r2"); with r2's it has nothing to do either (a rollback is not undone); with new ones it
    publishes r3."""
    revisions = [_revision(1, "a", "x"), _revision(2, "a", "y")]
    assert daily.next_revision(revisions, "a", "x", withdrawn={"r2"}) == (1, revisions[0])
    assert daily.next_revision(revisions, "a", "y", withdrawn={"r2"}) == (2, revisions[1])
    assert daily.next_revision(revisions, "b", "x", withdrawn={"r2"}) == (3, None)
    assert daily.next_revision(revisions, "a", "x", withdrawn={"r2"}, force=True) == (3, None)
    # without the rollback, going back to r1's inputs is a new revision (the newest counts)
    assert daily.next_revision(revisions, "a", "x") == (3, None)


def test_first_run_publishes_and_the_second_is_a_noop(tmp_path):
    config = _config(tmp_path)
    first = _run(config)
    assert first.status == "published" and first.revision == 1
    assert first.folder == day_folder(config.output_root, first.as_of) / "r1"
    assert first.report.is_file()
    before = _digest(first.folder)
    second = _run(config)
    assert second.status == "unchanged"
    assert "nothing to do" in second.message and "r1" in second.message
    assert second.folder == first.folder and second.run_id == first.run_id
    assert _digest(first.folder) == before
    assert len(list_revisions(config.output_root, first.as_of)) == 1
    assert _runs_in_db(config) == 1


@pytest.mark.slow
def test_changed_data_or_settings_make_new_revisions_and_keep_the_old(tmp_path):
    config = _config(tmp_path)
    first = _run(config)
    kept = _digest(first.folder)
    _edit_exposure(config.data, f"{first.as_of:%Y-%m-%d}")
    second = _run(config)
    assert (second.status, second.revision) == ("published", 2)
    third = _run(config.replace(horizon=6))
    assert (third.status, third.revision) == ("published", 3)
    forced = _run(config.replace(horizon=6), force=True)
    assert (forced.status, forced.revision) == ("published", 4)
    assert _digest(first.folder) == kept
    assert [r.number for r in list_revisions(config.output_root, first.as_of)] == [1, 2, 3, 4]
    assert _runs_in_db(config) == 4
    assert (config.output_root / "latest").resolve() == forced.folder.resolve()


def test_data_after_the_as_of_day_is_not_new_data(tmp_path):
    """A back-fill of an earlier day on a data set that has grown since is still a no-op."""
    config = _config(tmp_path)
    day = load_dataset(config.data).last_date - pd.Timedelta(days=5)
    first = _run(config, as_of=day)
    _append_day(config.data, "P001")
    _edit_exposure(config.data, f"{day + pd.Timedelta(days=2):%Y-%m-%d}")
    assert _run(config, as_of=day).status == "unchanged"
    assert first.as_of == day


@pytest.mark.slow
@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    actions=st.lists(
        st.sampled_from(["run", "edit_past", "append_partial", "toggle_horizon"]),
        min_size=1,
        max_size=4,
    )
)
def test_revisions_follow_changes_of_inputs(tmp_path_factory, actions):
    """Property: a run publishes exactly when data up to the as-of day or settings changed."""
    tmp_path = tmp_path_factory.mktemp("job")
    config = _config(tmp_path)
    as_of = load_dataset(config.data).last_date
    edits, published_state, n_published = 0, None, 0
    horizon = config.horizon
    snapshots: dict[Path, dict[str, str]] = {}
    for action in [*actions, "run"]:
        if action == "edit_past":
            _edit_exposure(config.data, f"{as_of - pd.Timedelta(days=2):%Y-%m-%d}")
            edits += 1
        elif action == "append_partial":
            _append_day(config.data, "P002")  # incomplete day: neither as-of day nor inputs move
        elif action == "toggle_horizon":
            horizon = 11 - horizon
        else:
            # the inputs are the data edits and the horizon: toggling the horizon twice comes
            # back to the published settings, which is no change
            state = (edits, horizon)
            outcome = _run(config.replace(horizon=horizon))
            assert outcome.as_of == as_of
            if state == published_state:
                assert outcome.status == "unchanged"
            else:
                assert outcome.status == "published"
                n_published += 1
                published_state = state
                snapshots[outcome.folder] = _digest(outcome.folder)
            assert outcome.revision == n_published
    assert len(list_revisions(config.output_root, as_of)) == n_published
    assert _runs_in_db(config) == n_published
    for folder, digest in snapshots.items():
        assert _digest(folder) == digest  # published revisions are never touched again


# ---------------------------------------------------------------------- files


def test_published_files(tmp_path):
    config = _config(tmp_path, horizon=6)
    outcome = _run(config)
    folder = outcome.folder
    names = {p.name for p in folder.iterdir()}
    assert {"forecast.csv", "plan.csv", "report.html", "run.json", "plan.xlsx", "charts"} <= names
    forecast = pd.read_csv(folder / "forecast.csv")
    assert {"product_id", "date", "variable", "mean", "p10", "p50", "p90"} <= set(forecast.columns)
    assert set(forecast["variable"]) == {"subscriptions", "redemptions", "net_flow", "aum"}
    days = pd.to_datetime(forecast["date"])
    assert days.min() == outcome.as_of + pd.Timedelta(days=1)
    assert days.max() == outcome.as_of + pd.Timedelta(days=6)
    plan = pd.read_csv(folder / "plan.csv")
    assert set(plan.columns) >= SPEC_PLAN_COLUMNS
    assert len(plan) == 2 * 6
    run = json.loads((folder / "run.json").read_text())
    assert run["as_of"] == f"{outcome.as_of:%Y-%m-%d}"
    assert run["run_id"] == outcome.run_id and run["revision"] == 1
    assert len(run["data_fingerprint"]) == 64
    assert run["data_fingerprint"] == load_dataset(config.data).fingerprint
    assert run["solver_status"] == "optimal" and run["objective"] == 12.5
    assert {"forecast_s", "plan_s", "report_s", "load_s"} <= set(run["timings"])
    assert run["versions"]["pandas"] == pd.__version__
    book = load_workbook(folder / "plan.xlsx", read_only=True)
    assert book.sheetnames == list(SHEETS["zh"].values())  # the report's language, zh by default
    assert book[SHEETS["zh"]["plan"]].max_row == len(plan) + 1
    charts = {p.name for p in (folder / "charts").iterdir()}
    assert charts == {"aum.svg", "aum_products.svg", "yield.svg", "quota.svg"}


def test_the_forecasts_notes_are_said_on_stderr_once(tmp_path):
    """What the forecast notes (too few days for a backtest, a model it could not fit) went to
    run.json and the report but not to the plan's log, where `rainmaker forecast` says it; a
    note the forecaster also warned of is said once, and its other warnings still show."""
    short = "only 20 days of history up to 2021-03-01: too few for a backtest"
    fallback = "subscriptions: 1 product(s) with too little history for ets (P001)"

    def noting_forecast(*args, **kwargs):
        warnings.warn(fallback, ForecastFallbackWarning, stacklevel=2)
        warnings.warn("an unrelated library warning", UserWarning, stacklevel=2)
        result = fake_run_forecast(*args, **kwargs)
        return dataclasses.replace(result, warnings=(short, fallback))

    said: list[str] = []
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        outcome = daily.run_job(
            _config(tmp_path),
            steps=daily.Steps(noting_forecast, fake_make_plan),
            progress=said.append,
        )
    assert f"warning: forecast: {short}" in said
    assert said.count(f"warning: forecast: {fallback}") == 1
    assert [str(w.message) for w in shown] == ["an unrelated library warning"]
    run = json.loads((outcome.folder / "run.json").read_text())
    assert f"forecast: {short}" in run["warnings"]


def test_products_subset(tmp_path):
    write_dataset(tmp_path / "data", n_products=3, n_days=60)
    outcome = _run(_config(tmp_path, products=("P002",)))
    plan = pd.read_csv(outcome.folder / "plan.csv")
    assert set(plan["product_id"]) == {"P002"}


# ---------------------------------------------------------------------- the command line


@pytest.fixture
def fakes_in_cli(monkeypatch):
    monkeypatch.setattr(
        pipeline, "Steps", functools.partial(daily.Steps, fake_run_forecast, fake_make_plan)
    )


def _toml(tmp_path: Path, config: DailyConfig, extra: str = "") -> Path:
    path = tmp_path / "job.toml"
    path.write_text(
        f'data = "{config.data}"\noutput_root = "{config.output_root}"\n'
        f'history_url = "{config.history_url}"\ntracking_uri = ""\nhorizon = {config.horizon}\n'
        + NO_OPS_CHECKS
        + extra
    )
    return path


def test_cli_run_twice(tmp_path, fakes_in_cli, capsys):
    config = _config(tmp_path)
    path = _toml(tmp_path, config)
    assert cli.main(["run", "--config", str(path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert "as revision r1" in out[0]
    assert out[-1].endswith("r1/report.html") and Path(out[-1]).is_file()
    assert cli.main(["run", "--config", str(path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("nothing to do")
    assert out[-1].endswith("r1/report.html")


def test_cli_run_products_in_another_order_or_repeated_is_the_same_selection(
    tmp_path, fakes_in_cli, capsys
):
    """--products P002,P001,P001 after --products P001,P002 published r2, 'settings changed':
    the settings' hash took the list as given; a selection is a set, so it has nothing to do."""
    path = _toml(tmp_path, _config(tmp_path))
    assert cli.main(["run", "--config", str(path), "--products", "P001,P002"]) == 0
    assert "as revision r1" in capsys.readouterr().out
    assert cli.main(["run", "--config", str(path), "--products", "P002,P001,P001"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("nothing to do") and out[-1].endswith("r1/report.html")
    run = json.loads(Path(out[-1]).with_name("run.json").read_text())
    assert run["settings"]["products"] == ["P001", "P002"]


@pytest.mark.slow
def test_cli_plan_writes_the_folder(tmp_path, fakes_in_cli, capsys):
    data = write_dataset(tmp_path / "data", n_products=2, n_days=60)
    out = tmp_path / "out"
    argv = ["plan", "--data", str(data), "--as-of", "2021-04-20", "--out", str(out)]
    assert cli.main([*argv, "--horizon", "4", "--no-tracking", "--lang", "en"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(out / "report.html")
    plan = pd.read_csv(out / "plan.csv")
    assert plan["date"].min() == "2021-04-21" and plan["date"].max() == "2021-04-24"
    assert "daily plan report" in (out / "report.html").read_text()
    # a second plan replaces the folder whole
    assert cli.main([*argv, "--horizon", "3", "--no-tracking"]) == 0
    assert pd.read_csv(out / "plan.csv")["date"].max() == "2021-04-23"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_cli_bad_configuration_exits_2_and_writes_nothing(tmp_path, fakes_in_cli, capsys):
    config = _config(tmp_path)
    path = _toml(tmp_path, config, "horizon_days = 3\n")
    assert cli.main(["run", "--config", str(path)]) == 2
    assert "unknown key(s) horizon_days" in capsys.readouterr().err
    assert not config.output_root.exists()
    path = _toml(tmp_path, config, "[weights]\nincome = 5.0\n")  # the optimiser refuses it
    assert cli.main(["run", "--config", str(path)]) == 2
    assert "weights.income" in capsys.readouterr().err
    assert not config.output_root.exists()


def test_cli_unreachable_database_exits_1_and_writes_nothing(tmp_path, fakes_in_cli, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    config = _config(tmp_path, history_url=f"sqlite:///{blocker}/history.sqlite")
    assert cli.main(["run", "--config", str(_toml(tmp_path, config))]) == 1
    err = capsys.readouterr().err
    assert "cannot open the history database" in err
    assert not config.output_root.exists()


def test_cli_bad_data_exits_2(tmp_path, fakes_in_cli, capsys):
    config = _config(tmp_path)
    (config.data / "market.csv").unlink()
    assert cli.main(["run", "--config", str(_toml(tmp_path, config))]) == 2
    assert "market.csv" in capsys.readouterr().err
    assert all_revisions(config.output_root) == []


@pytest.mark.slow
def test_cli_history_lists_runs_and_accuracy(tmp_path, fakes_in_cli, capsys):
    config = _config(tmp_path)
    last = load_dataset(config.data).last_date
    path = _toml(tmp_path, config)
    for back in (10, 8):
        day = f"{last - pd.Timedelta(days=back):%Y-%m-%d}"
        assert cli.main(["run", "--config", str(path), "--as-of", day]) == 0
    capsys.readouterr()
    assert cli.main(["history", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2 most recent runs" in out
    assert "forecast accuracy" in out and "WAPE, percent" in out
    assert "inside the p10-p90 band" in out and "redemptions" in out


@pytest.mark.parametrize(
    ("text", "default", "key"),
    [
        ("[horizon]\ndays = 7\n", "[horizon]\ndays = 14\n", "horizon.days"),
        (
            "[liquidity]\nconfidence = 0.97\n",
            "[liquidity]\nconfidence = 0.95\n",
            "liquidity.confidence",
        ),
    ],
)
def test_an_optimizer_file_setting_the_jobs_horizon_or_confidence_otherwise_is_refused(
    tmp_path, text, default, key
):
    # the job's horizon and confidence override the optimiser file's: a file's other value was
    # dropped without a word (horizon.days = 7 planned 14 days)
    optimizer = tmp_path / "opt.toml"
    optimizer.write_text(text)
    config = DailyConfig().replace(optimizer=optimizer)
    with pytest.raises(UsageError, match=rf"opt\.toml: key '{key}': expected the job's value"):
        pipeline.plan_settings(config)
    # the job's own values, or the defaults, are not a conflict
    optimizer.write_text(default)
    settings = pipeline.plan_settings(config)
    assert (settings.horizon.days, settings.liquidity.confidence) == (14, 0.95)
    job = DailyConfig(horizon=7, confidence=0.97).replace(optimizer=optimizer)
    optimizer.write_text(text)
    settings = pipeline.plan_settings(job)
    assert (settings.horizon.days, settings.liquidity.confidence) == (7, 0.97)
