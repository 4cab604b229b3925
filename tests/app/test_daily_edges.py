"""The daily job at the edges: hostile ids, paths that cannot work, moved output roots,
back-fills, and runs that publish but cannot record.

The forecast and the plan are the fast stand-ins of :mod:`tests.daily_fakes`.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from rainmaker import cli
from rainmaker.app import daily, pipeline
from rainmaker.app.config import DailyConfig, load_config
from rainmaker.app.history import HistoryUnavailable, RunHistory, open_history
from rainmaker.app.outputs import all_revisions
from rainmaker.dataset import load_dataset
from tests.conftest import write_dataset
from tests.daily_fakes import NO_OPS_CHECKS, fake_make_plan, fake_run_forecast

FAKES = daily.Steps(fake_run_forecast, fake_make_plan)
# ids that validate but that a spreadsheet, matplotlib or a browser would interpret
HOSTILE_IDS = ("=1+1", '=HYPERLINK("http://x","y")', "$x^2$", r"$\badcmd$", "@SUM(A1)", "<b>-1")


@pytest.fixture
def fakes_in_cli(monkeypatch):
    monkeypatch.setattr(
        pipeline, "Steps", functools.partial(daily.Steps, fake_run_forecast, fake_make_plan)
    )


def _data(folder: Path, ids: tuple[str, ...] = ()) -> Path:
    """A small valid data set; its products renamed to ``ids`` when given."""
    write_dataset(folder, n_products=max(2, len(ids)), n_days=60)
    if ids:
        mapping = {f"P{i + 1:03d}": new for i, new in enumerate(ids)}
        for name in ("products.csv", "flows.csv"):
            frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
            frame["product_id"] = frame["product_id"].map(mapping)
            frame.to_csv(folder / name, index=False)
    return folder


def _toml(folder: Path, data: Path, output_root: str = "runs", extra: str = "") -> Path:
    """A settings file in ``folder``: relative paths resolve against it, no MLflow."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "job.toml"
    path.write_text(
        f'data = "{data}"\noutput_root = "{output_root}"\ntracking_uri = ""\nhorizon = 5\n'
        + NO_OPS_CHECKS
        + extra
    )
    return path


def _config(tmp_path: Path) -> DailyConfig:
    """Settings in code: the history database is the default one, in the output root."""
    data = _data(tmp_path / "data")
    return DailyConfig(data=data, output_root=tmp_path / "runs", tracking_uri="", horizon=5)


def _run(config: DailyConfig, **kwargs) -> daily.RunOutcome:
    return daily.run_job(config, steps=FAKES, progress=lambda _: None, **kwargs)


def _no_data_read(monkeypatch) -> None:
    import rainmaker.dataset

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data set was read before the arguments were checked")

    monkeypatch.setattr(rainmaker.dataset, "load_dataset", forbidden)


# ---------------------------------------------------------------------- hostile ids


@pytest.mark.slow
def test_hostile_ids_are_written_as_text_and_read_back_exactly(tmp_path, fakes_in_cli, capsys):
    data = _data(tmp_path / "data", HOSTILE_IDS)
    settings = _toml(tmp_path, data)
    assert cli.main(["run", "--config", str(settings)]) == 0
    folder = Path(capsys.readouterr().out.strip().splitlines()[-1]).parent

    # CSVs: every id a spreadsheet would evaluate starts with a quote (OWASP)
    for name in ("plan.csv", "forecast.csv"):
        raw = pd.read_csv(folder / name, dtype=str, keep_default_na=False)["product_id"]
        assert not raw.str.startswith(("=", "+", "-", "@")).any()
        assert set(raw) >= {"'=1+1", "'@SUM(A1)", "$x^2$"}
    # the workbook: text cells, never formulas, ids exactly as in the data
    book = load_workbook(folder / "plan.xlsx")
    assert [
        c for sheet in book for row in sheet.iter_rows() for c in row if c.data_type == "f"
    ] == []
    plan_sheet = book.worksheets[1]  # Today, Plan, ...: named in the report's language
    assert {row[0].value for row in plan_sheet.iter_rows(min_row=2)} == set(HOSTILE_IDS)
    # charts draw the ids literally (no math text) and the report escapes them
    svg = "".join(p.read_text() for p in (folder / "charts").glob("*.svg"))
    assert "$x^2$" in svg and r"$\badcmd$" in svg and "&lt;b&gt;-1" in svg
    assert "<b>-1" not in (folder / "report.html").read_text()

    config = load_config(settings)
    run_id = json.loads((folder / "run.json").read_text())["run_id"]
    with open_history(config.history_url) as history:
        assert set(history.plan_rows(run_id)["product_id"]) == set(HOSTILE_IDS)
    # a revision recorded from its files (after a kill) gets the same ids, quotes undone
    (config.output_root / "history.sqlite").unlink()
    assert cli.main(["run", "--config", str(settings)]) == 0
    assert "published by an interrupted run" in capsys.readouterr().err
    with open_history(config.history_url) as history:
        assert set(history.plan_rows(run_id)["product_id"]) == set(HOSTILE_IDS)
        assert set(history.forecasts()["product_id"]) == set(HOSTILE_IDS)


# ---------------------------------------------------------------------- checked up front


def test_an_output_root_that_is_a_file_is_refused_before_anything_is_created(
    tmp_path, fakes_in_cli, capsys
):
    data = _data(tmp_path / "data")
    (tmp_path / "runs").write_text("not a folder")
    history = tmp_path / "db" / "history.sqlite"
    settings = _toml(tmp_path, data, extra=f'history_url = "sqlite:///{history}"\n')
    assert cli.main(["run", "--config", str(settings)]) == 2
    err = capsys.readouterr().err
    assert "output_root" in err and "is a file" in err and "unexpected error" not in err
    assert not history.exists()


def test_a_missing_data_folder_is_refused_before_the_history_database_is_created(
    tmp_path, fakes_in_cli, capsys
):
    settings = _toml(tmp_path, tmp_path / "nowhere")
    assert cli.main(["run", "--config", str(settings)]) == 2
    assert "data-set folder does not exist" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("day", ["01/06/2021", "2021", "2021/04/20", "2021-04-31"])
def test_run_and_plan_refuse_a_day_that_is_not_iso_before_any_work(
    tmp_path, fakes_in_cli, capsys, monkeypatch, day
):
    data = _data(tmp_path / "data")
    settings = _toml(tmp_path, data)
    _no_data_read(monkeypatch)
    assert cli.main(["run", "--config", str(settings), "--as-of", day]) == 2
    assert "expected an ISO date YYYY-MM-DD" in capsys.readouterr().err
    out = tmp_path / "plan"
    assert cli.main(["plan", "--data", str(data), "--as-of", day, "--out", str(out)]) == 2
    assert "expected an ISO date YYYY-MM-DD" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() and not out.exists()


def test_plan_refuses_an_out_it_must_not_replace_before_any_work(
    tmp_path, fakes_in_cli, capsys, monkeypatch
):
    data = _data(tmp_path / "data")
    _no_data_read(monkeypatch)
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for out, message in ((precious, "does not hold a rainmaker plan"), (a_file, "is a file")):
        args = ["plan", "--data", str(data), "--out", str(out), "--no-tracking"]
        assert cli.main(args) == 2
        assert message in capsys.readouterr().err
    assert (precious / "notes.txt").read_text() == "keep"


def test_a_settings_path_that_is_a_folder_says_so(tmp_path, capsys):
    assert cli.main(["run", "--config", str(tmp_path)]) == 2
    assert f"configuration file {tmp_path} is a folder" in capsys.readouterr().err


# ---------------------------------------------------------------------- history and paths


def test_the_default_history_belongs_to_the_output_root(
    tmp_path, fakes_in_cli, capsys, monkeypatch
):
    data = _data(tmp_path / "data")
    settings = _toml(tmp_path / "etc", data, output_root=str(tmp_path / "runs"))
    for cwd in (tmp_path / "a", tmp_path / "b"):  # two cron jobs started from different places
        cwd.mkdir()
        monkeypatch.chdir(cwd)
        assert cli.main(["run", "--config", str(settings)]) == 0
    captured = capsys.readouterr()
    assert "nothing to do" in captured.out
    assert "interrupted run" not in captured.err
    assert (tmp_path / "runs" / "history.sqlite").is_file()
    assert not list((tmp_path / "a").rglob("*.sqlite")) and not list((tmp_path / "b").iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("how", ["move", "copy"])
def test_an_output_root_can_be_moved_or_copied(tmp_path, fakes_in_cli, capsys, how):
    data = _data(tmp_path / "data")
    first = _toml(tmp_path / "old", data)
    assert cli.main(["run", "--config", str(first)]) == 0
    (shutil.move if how == "move" else shutil.copytree)(tmp_path / "old", tmp_path / "new")
    settings = tmp_path / "new" / "job.toml"
    assert cli.main(["run", "--config", str(settings)]) == 0
    assert "nothing to do" in capsys.readouterr().out
    # new data: the next revision is recorded next to the first, with paths relative to the root
    edited = pd.read_csv(data / "flows.csv", dtype=str, keep_default_na=False)
    edited.loc[len(edited) - 1, "exposure"] = "1"
    edited.to_csv(data / "flows.csv", index=False)
    assert cli.main(["run", "--config", str(settings)]) == 0
    assert "as revision r2 (data changed since r1)" in capsys.readouterr().out
    with open_history(load_config(settings).history_url) as history:
        runs = history.runs()
    assert sorted(runs["output_dir"]) == [f"{runs['as_of'][0]:%Y-%m-%d}/r{n}" for n in (1, 2)]


# ---------------------------------------------------------------------- latest and messages


def test_a_back_fill_leaves_latest_at_the_newest_day_and_says_so(tmp_path):
    config = _config(tmp_path)
    newest = _run(config)
    earlier = newest.as_of - pd.Timedelta(days=10)
    back = _run(config, as_of=earlier)
    latest = config.output_root / "latest"
    assert latest.resolve() == newest.folder.resolve()
    assert "a back-fill: latest still points at" in back.message
    assert f"{newest.as_of:%Y-%m-%d}/r1" in back.message
    # a link an older version moved into the past is put back by the next run, even a no-op
    latest.unlink()
    os.symlink(back.folder.relative_to(config.output_root), latest)
    assert _run(config).status == "unchanged"
    assert latest.resolve() == newest.folder.resolve()
    assert [r.path for r in all_revisions(config.output_root)][-1] == newest.folder


@pytest.mark.slow
def test_force_says_nothing_changed(tmp_path):
    config = _config(tmp_path)
    _run(config)
    forced = _run(config, force=True)
    assert "(--force: same data and settings as r1)" in forced.message
    changed = _run(config.replace(horizon=4))
    assert "(settings changed since r2)" in changed.message


def test_a_run_that_publishes_but_cannot_record_says_it_published(
    tmp_path, fakes_in_cli, capsys, monkeypatch
):
    data = _data(tmp_path / "data")
    settings = _toml(tmp_path, data)

    def locked(self, *args, **kwargs):
        raise HistoryUnavailable("could not record run x: database is locked")

    monkeypatch.setattr(RunHistory, "record", locked)
    assert cli.main(["run", "--config", str(settings)]) == 1
    err = capsys.readouterr().err
    assert "revision r1 is published in" in err and "database is locked" in err
    assert "do not re-run with --force" in err
    monkeypatch.undo()
    daily_steps = functools.partial(daily.Steps, fake_run_forecast, fake_make_plan)
    monkeypatch.setattr(pipeline, "Steps", daily_steps)
    assert cli.main(["run", "--config", str(settings)]) == 0  # the next run records it
    assert "published by an interrupted run" in capsys.readouterr().err
    assert len(all_revisions(tmp_path / "runs")) == 1


def test_the_scheduling_examples_keep_outputs_from_other_users():
    root = Path(__file__).resolve().parents[2]
    for doc in (root / "README.md", root / "docs" / "operations.md"):
        text = doc.read_text(encoding="utf-8")
        assert "UMask=0027" in text.split("[Service]", 1)[1].split("```", 1)[0], doc
        cron = [line for line in text.splitlines() if line.startswith("30 6 * * *")]
        assert cron, doc
        # every crontab line that starts rainmaker (the retries and the health check too)
        started = [
            line for line in text.splitlines() if line[:1].isdigit() and "bin/rainmaker" in line
        ]
        assert all("umask 027 &&" in line for line in started), doc


def test_a_plan_of_products_that_hold_nothing_has_no_stress_section(tmp_path, fakes_in_cli):
    """plan --products P002, P002 fully redeemed (aum 0 on the as-of day): the report's stress
    section ran the stress test, which refuses a product without assets, and the plan failed
    with 'aum 0 ... nothing to stress-test' (exit 2). The section is left out; the plan is made."""
    data = _data(tmp_path / "data")
    flows = pd.read_csv(data / "flows.csv", dtype=str, keep_default_na=False)
    last = str(flows["date"].max())
    flows.loc[(flows["product_id"] == "P002") & (flows["date"] == last), "aum"] = "0.00"
    flows.to_csv(data / "flows.csv", index=False)
    out = tmp_path / "plan"
    argv = ["plan", "--data", str(data), "--products", "P002", "--out", str(out)]
    assert cli.main([*argv, "--no-tracking", "--horizon", "3"]) == 0
    assert (out / "report.html").is_file()
    assert pipeline._stress_of(load_dataset(data), pd.Timestamp(last)) is not None  # P001 has
