"""A scheduled run killed half-way, and two runs at once, in real processes.

``rainmaker run`` is started as a subprocess whose forecast and plan are the fast stand-ins and
with one step replaced by a pause that announces itself through a marker file. While it pauses,
a second run must be refused (exit status 3); then the first is killed with SIGKILL — no
clean-up code runs — and the output root and the history database are inspected.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rainmaker import cli
from rainmaker.app import daily, pipeline
from rainmaker.app.history import open_history
from rainmaker.app.outputs import all_revisions
from tests.conftest import REPO_ROOT, write_dataset
from tests.daily_fakes import NO_OPS_CHECKS, fake_make_plan, fake_run_forecast

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

PAUSING_RUN = """
import functools, sys, time
from pathlib import Path
from rainmaker import cli
from rainmaker.app import pipeline
from tests.daily_fakes import fake_make_plan, fake_run_forecast

pipeline.Steps = functools.partial(pipeline.Steps, fake_run_forecast, fake_make_plan)
config, marker, step = sys.argv[1], Path(sys.argv[2]), sys.argv[3]

def pause(*args, **kwargs):
    marker.write_text(step)
    time.sleep(120)

if step == "writing":  # the workbook is written after the CSV files and the report
    import rainmaker.app.xlsx
    rainmaker.app.xlsx.write_workbook = pause
else:  # "recording": the folder is published, the database transaction not yet run
    from rainmaker.app.history import RunHistory
    RunHistory.record = pause
sys.exit(cli.main(["run", "--config", config]))
"""


@pytest.fixture
def job(tmp_path, monkeypatch) -> Path:
    data = write_dataset(tmp_path / "data", n_products=2, n_days=60)
    path = tmp_path / "job.toml"
    path.write_text(
        f'data = "{data}"\noutput_root = "runs"\nhistory_url = "sqlite:///runs/history.sqlite"\n'
        'tracking_uri = ""\nhorizon = 5\n' + NO_OPS_CHECKS
    )
    monkeypatch.setattr(
        pipeline, "Steps", functools.partial(daily.Steps, fake_run_forecast, fake_make_plan)
    )
    return path


def _start_paused(job: Path, step: str) -> subprocess.Popen:
    marker = job.parent / f"paused-{step}"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", PAUSING_RUN, str(job), str(marker), step],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 90
    while not marker.exists():
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode()[-3000:])
        assert time.monotonic() < deadline, "the run never reached the pause"
        time.sleep(0.1)
    return process


def _kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def _runs_recorded(root: Path) -> int:
    with open_history(f"sqlite:///{root}/history.sqlite") as history:
        return history.count("runs")


@pytest.mark.slow
def test_killed_while_writing_leaves_nothing(job, capsys):
    root = job.parent / "runs"
    process = _start_paused(job, "writing")
    try:
        staged = list((root / ".staging").glob("*/report.html"))
        assert staged, "the run should be half-way through writing its files"
        # meanwhile a second run is refused, and writes nothing
        assert cli.main(["run", "--config", str(job)]) == 3
        assert "another rainmaker run holds the lock" in capsys.readouterr().err
    finally:
        _kill(process)
    assert [r.path for r in all_revisions(root)] == []
    assert not (root / "latest").exists()
    assert _runs_recorded(root) == 0

    # the next run cleans up and publishes the first revision
    assert cli.main(["run", "--config", str(job)]) == 0
    captured = capsys.readouterr()
    assert "as revision r1" in captured.out
    assert "removed the staging folder of an interrupted run" in captured.err
    assert list((root / ".staging").iterdir()) == []
    assert len([r.path for r in all_revisions(root)]) == 1
    assert _runs_recorded(root) == 1


@pytest.mark.slow
def test_killed_before_recording_is_recorded_by_the_next_run(job, capsys):
    root = job.parent / "runs"
    process = _start_paused(job, "recording")
    _kill(process)
    published = [r.path for r in all_revisions(root)]
    assert len(published) == 1 and (published[0] / "run.json").is_file()
    assert _runs_recorded(root) == 0

    assert cli.main(["run", "--config", str(job)]) == 0
    captured = capsys.readouterr()
    assert "recorded revision" in captured.err and "published by an interrupted run" in captured.err
    assert captured.out.startswith("nothing to do")
    assert _runs_recorded(root) == 1
    with open_history(f"sqlite:///{root}/history.sqlite") as history:
        assert history.count("forecasts") > 0 and history.count("plans") == 2 * 5
