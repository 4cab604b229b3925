"""Tests of what operations watch (rainmaker.app.ops, and the ops parts of daily, history,
outputs, config and the command line): exit codes for stale data, late data and alerts, the
notifiers, ``status``, ``rollback``, retention, ``history --json`` and the log lines.

The forecast and the plan are the stand-ins of :mod:`tests.daily_fakes`. One module fixture
publishes two revisions (r1, then r2 on changed data) with a notifier command that saves what
it is given; the tests that change an output root work on a copy of it (a root is
self-contained, history included).
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import json
import re
import shutil
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rainmaker import cli
from rainmaker.app import daily, ops, pipeline
from rainmaker.app.config import DailyConfig, config_from_mapping
from rainmaker.app.outputs import LATEST_LINK, all_revisions, latest_target, new_staging
from rainmaker.dataset import load_dataset
from rainmaker.errors import UsageError
from tests.conftest import write_dataset
from tests.daily_fakes import NO_OPS_CHECKS, fake_make_plan, fake_run_forecast

CST = timezone(timedelta(hours=8))
STEPS = daily.Steps  # the class, before a fixture replaces it with the stand-ins
# saves its stdin (the run's JSON summary) as the next numbered file in the folder argv[1]
SAVE_STDIN = (
    "import sys, pathlib; folder = pathlib.Path(sys.argv[1]); folder.mkdir(exist_ok=True); "
    "n = len(list(folder.iterdir())); "
    "(folder / f'{n:02d}.json').write_bytes(sys.stdin.buffer.read())"
)


def _settings(folder: Path, data: Path, extra: str = "") -> Path:
    """A settings file in ``folder``: output root and history inside it, no MLflow."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "job.toml"
    path.write_text(
        f'data = "{data}"\noutput_root = "runs"\ntracking_uri = ""\nhorizon = 4\n' + extra,
        encoding="utf-8",
    )
    return path


def _notify_lines(folder: Path) -> str:
    argv = [sys.executable, "-c", SAVE_STDIN, str(folder)]
    return f"notify_command = {json.dumps(argv)}\n"


def _summaries(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def _edit_last_exposure(data: Path) -> None:
    flows = pd.read_csv(data / "flows.csv", dtype=str, keep_default_na=False)
    flows.loc[len(flows) - 1, "exposure"] = str(int(flows.loc[len(flows) - 1, "exposure"]) + 1)
    flows.to_csv(data / "flows.csv", index=False)


def _infeasible_plan(*args: Any, **kwargs: Any) -> Any:
    """The stand-in plan with a solver status that the report raises as a critical alert."""
    return dataclasses.replace(fake_make_plan(*args, **kwargs), status="infeasible")


@pytest.fixture(scope="module")
def fakes() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            pipeline, "Steps", functools.partial(STEPS, fake_run_forecast, fake_make_plan)
        )
        yield


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, fakes: None) -> Path:
    """A job folder with settings (checks off, a notifier command) and two revisions, r1, r2."""
    folder = tmp_path_factory.mktemp("deployment")
    data = write_dataset(folder / "data", n_products=2, n_days=60)
    settings = _settings(folder, data, NO_OPS_CHECKS + _notify_lines(folder / "notified"))
    assert cli.main(["run", "--config", str(settings)]) == 0
    _edit_last_exposure(data)
    assert cli.main(["run", "--config", str(settings)]) == 0
    assert cli.main(["run", "--config", str(settings)]) == 0  # a no-op: not notified
    return folder


@pytest.fixture
def copied(deployment: Path, tmp_path: Path) -> Path:
    """A copy of the deployment whose settings point at the copy's data."""
    folder = tmp_path / "copy"
    shutil.copytree(deployment, folder, symlinks=True)
    text = (folder / "job.toml").read_text(encoding="utf-8")
    (folder / "job.toml").write_text(
        text.replace(str(deployment / "data"), str(folder / "data")), encoding="utf-8"
    )
    return folder


# ---------------------------------------------------------------------- the checks


def test_stale_data_exits_4_and_still_publishes(tmp_path, fakes, capsys):
    data = write_dataset(tmp_path / "data", n_products=2, n_days=60)
    settings = _settings(tmp_path, data, 'fail_on = "none"\n')  # default max_data_age_days
    assert cli.main(["run", "--config", str(settings)]) == ops.EXIT_STALE
    captured = capsys.readouterr()
    assert "ERROR rainmaker run: stale data: the latest complete day 2021-04-29" in captured.err
    assert "more than max_data_age_days = 3" in captured.err
    report = Path(captured.out.strip().splitlines()[-1])
    assert report.is_file()  # the plan was written all the same
    run = json.loads((report.parent / "run.json").read_text())
    assert run["exit_code"] == ops.EXIT_STALE and run["checks"][0]["kind"] == "stale"


def test_data_checks_stale_and_late_against_a_clock():
    config = DailyConfig(max_data_age_days=3, data_deadline="09:00")
    day = pd.Timestamp("2022-06-15")
    # 06-16 08:00: yesterday's flows are there, before the deadline: nothing to say
    assert ops.data_checks(day, config, datetime(2022, 6, 16, 8, 0, tzinfo=CST)) == []
    # 06-17 08:59: 06-16's flows missing, but the deadline has not passed
    assert ops.data_checks(day, config, datetime(2022, 6, 17, 8, 59, tzinfo=CST)) == []
    late = ops.data_checks(day, config, datetime(2022, 6, 17, 9, 0, tzinfo=CST))
    assert [c.kind for c in late] == ["late"] and "2022-06-16" in late[0].message
    both = ops.data_checks(day, config, datetime(2022, 6, 19, 10, 0, tzinfo=CST))
    assert [c.kind for c in both] == ["stale", "late"]
    assert ops.exit_code_of(both) == ops.EXIT_STALE  # the smallest code wins
    off = DailyConfig(max_data_age_days=0, data_deadline="")
    assert ops.data_checks(day, off, datetime(2030, 1, 1, tzinfo=CST)) == []
    # data dated after today: the feed's dates or the clock are wrong, not a fresh feed
    assert ops.data_checks(day, config, datetime(2022, 6, 15, 23, 0, tzinfo=CST)) == []
    ahead = ops.data_checks(day, config, datetime(2022, 6, 14, 8, 0, tzinfo=CST))
    assert [c.kind for c in ahead] == ["stale"] and ahead[0].exit_code == ops.EXIT_STALE
    assert "after today 2022-06-14" in ahead[0].message
    assert ops.data_checks(day, off, datetime(2022, 6, 14, 8, 0, tzinfo=CST)) == []


def test_late_data_exits_5(tmp_path, fakes, capsys):
    data = write_dataset(tmp_path / "data", n_products=2, n_days=60)
    # the deadline has always passed at 00:00, and yesterday's flows (of 2021 data) never land
    extra = 'max_data_age_days = 0\nfail_on = "none"\ndata_deadline = "00:00"\n'
    settings = _settings(tmp_path, data, extra)
    assert cli.main(["run", "--config", str(settings)]) == ops.EXIT_LATE
    err = capsys.readouterr().err
    assert "late data: the flows of" in err and "by the deadline 00:00" in err
    # a re-run with nothing new to plan is still late
    assert cli.main(["run", "--config", str(settings)]) == ops.EXIT_LATE
    assert "nothing to do" in capsys.readouterr().out


def test_a_critical_alert_exits_6_unless_fail_on_is_none(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        pipeline, "Steps", functools.partial(STEPS, fake_run_forecast, _infeasible_plan)
    )
    data = write_dataset(tmp_path / "data", n_products=2, n_days=60)
    settings = _settings(tmp_path, data, "max_data_age_days = 0\n")  # fail_on: the default
    assert cli.main(["run", "--config", str(settings)]) == ops.EXIT_ALERT
    captured = capsys.readouterr()
    assert "alerts of severity critical or worse in the plan: 1 critical" in captured.err
    assert Path(captured.out.strip().splitlines()[-1]).is_file()
    relaxed = _settings(tmp_path, data, 'max_data_age_days = 0\nfail_on = "none"\n')
    assert cli.main(["run", "--config", str(relaxed)]) == 0


def test_alert_checks_by_severity():
    alerts = [
        {"severity": "warning", "kind": "floor", "product_id": "P1", "text": "low cash"},
        {"severity": "info", "kind": "holiday", "product_id": "", "text": "holiday"},
    ]
    assert ops.alert_checks(alerts, "critical") == []
    (check,) = ops.alert_checks(alerts, "warning")
    assert check.exit_code == ops.EXIT_ALERT and "1 warning (first: P1: low cash)" in check.message
    assert "1 warning, 1 info" in ops.alert_checks(alerts, "info")[0].message
    assert ops.alert_checks(alerts, "none") == []
    # the report's texts of a product's alert begin with the product: named once, not twice
    # ("first: P02: P02：2022-06-05 流动性资产占比 ...")
    named = [{"severity": "critical", "product_id": "P02", "text": "P02：2022-06-05 流动性"}]
    (check,) = ops.alert_checks(named, "critical")
    assert check.message.endswith("(first: P02：2022-06-05 流动性)")


@pytest.mark.parametrize(
    "line, key",
    [
        ("max_data_age_days = -1", "max_data_age_days"),
        ('max_data_age_days = "3"', "max_data_age_days"),
        ('data_deadline = "7:30"', "data_deadline"),
        ('data_deadline = "24:00"', "data_deadline"),
        ('fail_on = "error"', "fail_on"),
        ('timezone = "Mars/Olympus"', "timezone"),
        ('notify_command = "page me"', "notify_command"),
        ('notify_url = "ftp://host/x"', "notify_url"),
        # accepted, then urllib raised after the run had published (exit 1, the password or
        # the path in the message): no host, a port that is not a number, a blank, non-ASCII
        ('notify_url = "http://user:s3cr3t@/hook"', "notify_url"),
        ('notify_url = "https://hooks.example.com:abc/s3cr3t"', "notify_url"),
        ('notify_url = "https://hooks.example.com/T0 s3cr3t"', "notify_url"),
        ('notify_url = "https://hooks.example.com/s3cr3t/é"', "notify_url"),
        ('notify_url = "https://hooks..example.com/s3cr3t"', "notify_url"),
        ("notify_timeout_s = 0", "notify_timeout_s"),
        ("keep_days = 1.5", "keep_days"),
        ('log_format = "xml"', "log_format"),
    ],
)
def test_bad_operations_settings_exit_2_naming_the_key(tmp_path, capsys, line, key):
    import tomllib

    with pytest.raises(UsageError, match=f"key '{key}'"):
        config_from_mapping(tomllib.loads(line))
    settings = _settings(tmp_path, tmp_path / "data", line + "\n")
    assert cli.main(["run", "--config", str(settings)]) == 2
    err = capsys.readouterr().err
    assert f"key '{key}'" in err and "s3cr3t" not in err
    assert not (tmp_path / "runs").exists()


def test_a_webhook_url_is_never_echoed_in_a_settings_error():
    with pytest.raises(UsageError) as caught:
        config_from_mapping({"notify_url": "hooks.example.com/T0/B0/s3cr3t"})
    assert "s3cr3t" not in str(caught.value)


# ---------------------------------------------------------------------- the notifiers


@pytest.mark.slow
def test_the_notifier_command_gets_a_json_summary_of_each_publication(deployment):
    first, second = _summaries(deployment / "notified")  # the no-op was not notified
    assert first["status"] == "published" and first["exit_code"] == 0
    assert first["command"] == "run" and first["revision"] == 1 and second["revision"] == 2
    assert second["as_of"] == "2021-04-29" and "data changed since r1" in second["message"]
    assert second["duration_s"] > 0 and second["started_at"] <= second["finished_at"]
    assert re.search(r"[+-]\d\d:\d\d$", second["finished_at"])  # local time with its offset
    outputs = second["outputs"]
    assert Path(outputs["report"]).is_file() and Path(outputs["plan_xlsx"]).is_file()
    assert Path(outputs["folder"]).name == "r2"
    assert isinstance(second["alerts"], list) and second["checks"] == []
    assert "history_url" not in json.dumps(second) and "sqlite" not in json.dumps(second)


@pytest.mark.slow
def test_a_failing_notifier_is_logged_and_loses_nothing(tmp_path, fakes, capsys):
    data = write_dataset(tmp_path / "data", n_products=2, n_days=60)
    failing = [sys.executable, "-c", "import sys; sys.stderr.write('pager down'); sys.exit(3)"]
    extra = NO_OPS_CHECKS + f"notify_command = {json.dumps(failing)}\n"
    settings = _settings(tmp_path, data, extra)
    assert cli.main(["run", "--config", str(settings)]) == 0
    captured = capsys.readouterr()
    assert "WARNING rainmaker run: notify_command" in captured.err
    assert "exited with status 3: pager down" in captured.err
    assert Path(captured.out.strip().splitlines()[-1]).is_file()
    missing = NO_OPS_CHECKS + 'notify_command = ["/nonexistent/pager"]\n'
    _edit_last_exposure(data)
    assert cli.main(["run", "--config", str(_settings(tmp_path, data, missing))]) == 0
    assert "notify_command pager could not be started" in capsys.readouterr().err


def test_a_failed_run_is_notified_with_its_error(tmp_path, fakes, capsys):
    data = write_dataset(tmp_path / "data", n_products=2, n_days=60)
    (data / "market.csv").unlink()
    settings = _settings(tmp_path, data, NO_OPS_CHECKS + _notify_lines(tmp_path / "notified"))
    assert cli.main(["run", "--config", str(settings)]) == 2
    (summary,) = _summaries(tmp_path / "notified")
    assert summary["status"] == "failed" and summary["exit_code"] == 2
    assert "market.csv" in summary["error"] and summary["outputs"] == {}


def test_a_notifier_that_prints_without_end_is_bounded_in_memory(tmp_path):
    """Its output was captured whole: ~1 GB of the job's memory a second until the timeout."""
    import resource

    endless = [sys.executable, "-c", "import sys\nwhile True: sys.stdout.write('x' * 65536)"]
    config = DailyConfig(notify_command=endless, notify_timeout_s=1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    logged: list[str] = []
    (problem,) = ops.notify(config, {"status": "published"}, logged.append)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert "did not finish within 1 s" in problem and grown_mib < 100
    loud = "import sys\nsys.stderr.write('x' * 10_000_000 + ' the end')\nsys.exit(2)"
    (problem,) = ops.notify(
        DailyConfig(notify_command=[sys.executable, "-c", loud]), {}, logged.append
    )
    assert problem.endswith("x the end") and len(problem) < 400  # the tail only


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_notifier_timed_out_leaves_no_child_running(tmp_path):
    """A shell script's children outlived the kill of the shell at the timeout."""
    import time

    pid_file = tmp_path / "pid"
    script = f"sleep 60 & echo $! > {pid_file}; wait"
    config = DailyConfig(notify_command=["/bin/sh", "-c", script], notify_timeout_s=1)
    started = time.monotonic()
    (problem,) = ops.notify(config, {}, [].append)
    assert "did not finish" in problem and time.monotonic() - started < 5
    child = Path("/proc") / pid_file.read_text().strip() / "stat"
    for _ in range(50):  # a killed process is gone, or a zombie until it is reaped
        if not child.exists() or child.read_text().split(") ")[1][0] in "ZX":
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the notifier's child is still running")


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.received.append((self.path, self.headers["Content-Type"], self.rfile.read(length)))
        self.send_response(500 if "broken" in self.path else 204)
        self.end_headers()

    def log_message(self, *args: object) -> None:  # quiet test output
        pass


def test_the_webhook_gets_the_summary_and_its_failure_hides_the_url(tmp_path):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        summary = {"status": "published", "as_of": "2022-06-15"}
        logged: list[str] = []
        config = DailyConfig(notify_url=f"{base}/hook/s3cr3t", notify_timeout_s=5)
        assert ops.notify(config, summary, logged.append) == []
        path, kind, body = _Hook.received[-1]
        assert path == "/hook/s3cr3t" and kind == "application/json"
        assert json.loads(body) == summary
        broken = DailyConfig(notify_url=f"{base}/broken/s3cr3t", notify_timeout_s=5)
        (problem,) = ops.notify(broken, summary, logged.append)
        assert "HTTP 500" in problem and "s3cr3t" not in problem and "s3cr3t" not in logged[0]
    finally:
        server.shutdown()
        server.server_close()
    nowhere = DailyConfig(notify_url="http://127.0.0.1:9/x?token=s3cr3t", notify_timeout_s=1)
    (problem,) = ops.notify(nowhere, {"status": "failed"}, logged.append)
    assert "could not be reached" in problem and "s3cr3t" not in problem


def test_a_webhook_that_answers_a_byte_at_a_time_is_bounded_in_time():
    """urllib's timeout bounds each wait for the socket: a server trickling its answer held a
    run with a 1 s timeout for 13 s (and one that never stops, for ever)."""
    import socket
    import time

    server = socket.create_server(("127.0.0.1", 0))
    answer = b"HTTP/1.1 204 No Content\r\n\r\n"

    def trickle() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            for byte in answer:
                try:
                    conn.send(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.5)

    threading.Thread(target=trickle, daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/hook/s3cr3t"
    started = time.monotonic()
    try:
        (problem,) = ops.notify(
            DailyConfig(notify_url=url, notify_timeout_s=1), {"status": "failed"}, [].append
        )
    finally:
        server.close()
    assert time.monotonic() - started < 3
    assert "did not answer within 1 s" in problem and "s3cr3t" not in problem


# ---------------------------------------------------------------------- history, status


def test_history_json_has_status_checks_alerts_and_duration(deployment, capsys):
    settings = deployment / "job.toml"
    assert cli.main(["history", "--config", str(settings), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["revision"] for r in records] == [2, 1]  # newest first
    for record in records:
        assert record["status"] == "published" and record["exit_code"] == 0
        assert record["as_of"] == "2021-04-29" and record["checks"] == []
        assert record["duration_s"] > 0 and record["created_at"].endswith("+00:00")
        assert isinstance(record["alerts"], list)
        assert all(set(a) == {"severity", "kind", "product_id", "text"} for a in record["alerts"])
    assert records[0]["output_dir"] == "2021-04-29/r2"
    # the text view has the same columns
    assert cli.main(["history", "--config", str(settings), "--no-accuracy"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("2 most recent runs") and out[0].endswith("(created_at in UTC):")
    assert out[1].split()[-4:] == ["status", "exit", "alerts", "seconds"]
    assert all(" published " in line for line in out[2:4])


def test_status_is_ok_with_the_checks_off_and_stale_with_them(deployment, tmp_path, capsys):
    settings = deployment / "job.toml"
    code = cli.main(["status", "--config", str(settings), "--json"])
    status = json.loads(capsys.readouterr().out)
    assert code == 0 and status["status"] == "ok" and status["exit_code"] == 0
    assert status["in_effect"]["output_dir"] == "2021-04-29/r2"
    assert Path(status["in_effect"]["report"]).is_file()
    assert status["last_success"]["age_hours"] >= 0 and status["data_age_days"] > 1000
    # the same deployment judged with a 3-day limit: stale, exit 4
    strict = tmp_path / "strict.toml"
    text = (settings).read_text().replace("max_data_age_days = 0", "max_data_age_days = 3")
    strict.write_text(text.replace('"runs"', f'"{deployment / "runs"}"'))
    assert cli.main(["status", "--config", str(strict)]) == ops.EXIT_STALE
    out = capsys.readouterr().out
    assert out.startswith("status stale: in effect 2021-04-29/r2") and "stale data" in out
    # no run recorded at all: exit 4 too, and the check creates no history database
    empty = _settings(tmp_path / "empty", tmp_path / "data", NO_OPS_CHECKS)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert cli.main(["status", "--config", str(empty)]) == ops.EXIT_STALE
    assert capsys.readouterr().out.startswith("status never")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_status_exits_6_on_an_alert_of_the_revision_in_effect(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        pipeline, "Steps", functools.partial(STEPS, fake_run_forecast, _infeasible_plan)
    )
    data = write_dataset(tmp_path / "data", n_products=2, n_days=60)
    settings = _settings(tmp_path, data, "max_data_age_days = 0\n")
    assert cli.main(["run", "--config", str(settings)]) == ops.EXIT_ALERT
    capsys.readouterr()
    assert cli.main(["status", "--config", str(settings)]) == ops.EXIT_ALERT
    assert "alert critical:" in capsys.readouterr().out


# ---------------------------------------------------------------------- rollback, retention


def test_a_rerun_on_a_day_whose_revisions_are_all_withdrawn_shows_the_one_in_effect(
    copied, fakes, capsys
):
    """04-29 r1 and r2 withdrawn, latest back at the back-filled 04-28/r1: the next run on r2's
    inputs said 'latest points at 2021-04-28/r1' but ended with 04-29/r2's report (the line a
    cron job mails) and judged the exit status on r2's alerts. It shows the revision in effect."""
    settings, root = copied / "job.toml", copied / "runs"
    assert cli.main(["run", "--config", str(settings), "--as-of", "2021-04-28"]) == 0
    assert latest_target(root) == root / "2021-04-29" / "r2"  # a back-fill does not move it
    for _ in range(2):
        assert cli.main(["rollback", "--config", str(settings)]) == 0
    assert latest_target(root) == root / "2021-04-28" / "r1"
    capsys.readouterr()
    assert cli.main(["run", "--config", str(settings)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "which was withdrawn" in out[0] and "points at 2021-04-28/r1" in out[0]
    assert Path(out[-1]) == root / "2021-04-28" / "r1" / "report.html"


def test_rollback_withdraws_the_revision_in_effect_and_a_rerun_keeps_it_withdrawn(
    copied, fakes, capsys
):
    settings, root = copied / "job.toml", copied / "runs"
    assert latest_target(root) == root / "2021-04-29" / "r2"
    argv = ["rollback", "--config", str(settings), "--reason", "bad exposure feed"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("withdrew 2021-04-29/r2") and "now points at 2021-04-29/r1" in out[0]
    assert Path(out[-1]) == root / "2021-04-29" / "r1" / "report.html"
    assert (root / LATEST_LINK).resolve() == (root / "2021-04-29" / "r1").resolve()
    assert (root / "2021-04-29" / "r2" / "run.json").is_file()  # the files stay
    assert cli.main(["history", "--config", str(settings), "--json"]) == 0
    records = {r["revision"]: r for r in json.loads(capsys.readouterr().out)}
    assert records[2]["status"] == "withdrawn" and records[1]["status"] == "published"
    assert records[2]["withdrawn_reason"] == "bad exposure feed"
    # the accuracy monitoring scores the plan that was acted on
    from rainmaker.app.history import open_history

    with open_history(f"sqlite:///{root / 'history.sqlite'}") as history:
        assert set(history.forecasts()["run_id"]) == {records[1]["run_id"]}
    # the next scheduled run on the same data does not publish r2's plan again
    assert cli.main(["run", "--config", str(settings)]) == 0
    out = capsys.readouterr().out
    assert "nothing to do" in out and "withdrawn" in out and out.strip().endswith("r1/report.html")
    assert latest_target(root) == root / "2021-04-29" / "r1"
    assert cli.main(["status", "--config", str(settings), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["in_effect"]["revision"] == 1
    # r1 is the last revision standing: nothing to roll back to
    assert cli.main(["rollback", "--config", str(settings)]) == 2
    assert "nothing to roll back to" in capsys.readouterr().err
    # --force plans the day again, as r3
    assert cli.main(["run", "--config", str(settings), "--force"]) == 0
    assert latest_target(root) == root / "2021-04-29" / "r3"


@pytest.mark.slow
def test_retention_keeps_the_last_days_and_removes_stale_staging(tmp_path, fakes):
    data = write_dataset(tmp_path / "data", n_products=2, n_days=60)
    last = load_dataset(data).last_date
    config = DailyConfig(
        data=data,
        output_root=tmp_path / "runs",
        tracking_uri="",
        horizon=3,
        max_data_age_days=0,
        fail_on="none",
    )
    root = config.output_root
    run = functools.partial(daily.run_job, progress=lambda _: None)
    for back in (9, 6, 3):
        run(config, as_of=f"{last - pd.Timedelta(days=back):%Y-%m-%d}")
    leftover = new_staging(root)  # as a killed run leaves it
    (root / f".{LATEST_LINK}-deadbeef").symlink_to("2021-04-20/r1")
    outcome = run(config.replace(keep_days=4))
    assert [p.name for p in outcome.removed] == [
        f"{last - pd.Timedelta(days=9):%Y-%m-%d}",
        f"{last - pd.Timedelta(days=6):%Y-%m-%d}",
    ]
    days = sorted({r.path.parent.name for r in all_revisions(root)})
    assert days == [f"{last - pd.Timedelta(days=3):%Y-%m-%d}", f"{last:%Y-%m-%d}"]
    assert not leftover.exists() and not list(root.glob(f".{LATEST_LINK}-*"))
    # the history keeps every run (the forecasts feed the accuracy monitoring)
    from rainmaker.app.history import open_history

    with open_history(config.history_database) as history:
        assert history.count("runs") == 4


def test_retention_never_removes_the_revision_in_effect(tmp_path, fakes):
    from rainmaker.app.outputs import remove_old_days

    root = tmp_path / "runs"
    for day in ("2022-06-01", "2022-06-10", "2022-06-15"):
        (root / day / "r1").mkdir(parents=True)
    kept = root / "2022-06-01" / "r1"
    removed = remove_old_days(root, keep_days=2, keep=[kept])
    assert removed == [root / "2022-06-10"] and kept.is_dir()
    assert remove_old_days(root, keep_days=0) == []


# ---------------------------------------------------------------------- logs and flags


def test_log_json_lines(tmp_path, fakes, capsys):
    data = write_dataset(tmp_path / "data", n_products=2, n_days=60)
    settings = _settings(tmp_path, data, NO_OPS_CHECKS)
    assert cli.main(["run", "--config", str(settings), "--log-json"]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    records = [json.loads(line) for line in lines]
    assert {r["level"] for r in records} == {"INFO"} and records[0]["command"] == "run"
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", r["time"]) for r in records
    )
    assert "forecasting 2 products" in records[0]["message"]
    # the settings file can ask for it too, and for a zone
    zoned = _settings(
        tmp_path, data, NO_OPS_CHECKS + 'log_format = "json"\ntimezone = "Asia/Shanghai"\n'
    )
    (tmp_path / "runs").rename(tmp_path / "elsewhere")
    assert cli.main(["rollback", "--config", str(zoned)]) == 2
    (record,) = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    assert record["level"] == "ERROR" and record["time"].endswith("+08:00")
    assert record["command"] == "rollback" and "nothing to roll back" in record["message"]


def test_run_takes_data_and_no_tracking_like_the_other_commands(tmp_path, fakes, capsys):
    data = write_dataset(tmp_path / "other", n_products=2, n_days=50)
    settings = tmp_path / "job.toml"
    settings.write_text(
        'data = "nowhere"\noutput_root = "runs"\ntracking_uri = "sqlite:///mlflow.db"\n'
        "horizon = 3\n" + NO_OPS_CHECKS
    )
    argv = ["run", "--config", str(settings), "--data", str(data), "--no-tracking"]
    assert cli.main(argv) == 0
    assert "planned 2021-04-19 as revision r1" in capsys.readouterr().out
    assert not (tmp_path / "mlflow.db").exists()


def test_tracking_uri_empty_is_a_deprecated_no_tracking(capsys):
    import argparse

    args = argparse.Namespace(no_tracking=False, tracking_uri="")
    assert cli._tracking_uri(args) == ""
    assert '--tracking-uri "" is deprecated' in capsys.readouterr().err
    args = argparse.Namespace(no_tracking=True, tracking_uri="sqlite:///x.db")
    assert cli._tracking_uri(args) == ""
    assert capsys.readouterr().err == ""
