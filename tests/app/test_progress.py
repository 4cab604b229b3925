"""Progress of long steps (rainmaker.progress, rainmaker.app.progress): shown with an ETA when
asked or on a terminal, rate-limited, silent for quick steps and for a stderr that is no terminal.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rainmaker import cli
from rainmaker.app import progress as shown
from rainmaker.app.config import config_from_mapping
from rainmaker.app.progress import ProgressReporter, progress_wanted
from rainmaker.progress import stage_steps


class FakeClock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _terminal(clock: FakeClock) -> tuple[ProgressReporter, io.StringIO]:
    stream = io.StringIO()
    return ProgressReporter(stream, terminal=True, clock=clock, quiet_s=2.0, interval_s=1.0), stream


def test_a_quick_stage_shows_nothing():
    clock = FakeClock()
    reporter, stream = _terminal(clock)
    steps = stage_steps(reporter, "quick", 10)
    for _ in range(10):
        clock.now += 0.19  # 1.9 s in all: under the 2 s threshold
        steps.tick()
    assert stream.getvalue() == ""


def test_a_long_stage_is_rate_limited_and_shows_an_eta():
    clock = FakeClock()
    reporter, stream = _terminal(clock)
    steps = stage_steps(reporter, "replay", 80)
    for _ in range(80):
        clock.now += 0.125  # 10 s in all (a step time exact in binary)
        steps.tick()
    frames = stream.getvalue().split("\r\x1b[K")[1:]
    # nothing in the first 2 s, then at most one refresh a second, then the closing line
    assert len(frames) <= 10
    assert frames[0] == "replay: 16/80 (20 %), 2 s elapsed, about 8 s left"
    assert all("left" in frame for frame in frames[:-1])
    assert frames[-1] == "replay: 80/80, done in 10 s\n"


def test_the_eta_leaves_out_a_slow_first_step():
    clock = FakeClock()
    reporter, stream = _terminal(clock)
    steps = stage_steps(reporter, "backtest optimizer: replaying days", 11)
    clock.now += 8.0  # the first day fits the forecast
    steps.tick()
    for _ in range(2):
        clock.now += 1.0
        steps.tick()
    # 1 s a day since the first: 8 days left are about 8 s, not (10 s / 3) x 8
    assert "3/11 (27 %), 10 s elapsed, about 8 s left" in stream.getvalue()


def test_a_log_line_ends_the_half_drawn_terminal_line():
    clock = FakeClock()
    reporter, stream = _terminal(clock)
    reporter("fit", 0, 4)
    clock.now += 3.0
    reporter("fit", 1, 4)
    assert not stream.getvalue().endswith("\n")
    reporter.close()  # what a log line calls first (logs.configure(before_line=...))
    assert stream.getvalue().endswith("\n")


def test_wanted_only_when_asked_or_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert progress_wanted(None, Tty()) is True
    assert progress_wanted(None, io.StringIO()) is False
    assert progress_wanted(True, io.StringIO()) is True
    assert progress_wanted(False, Tty()) is False


def test_the_settings_key(tmp_path: Path):
    assert config_from_mapping({"progress": True}).progress is True
    assert config_from_mapping({}).progress is None
    bad = tmp_path / "rainmaker.toml"
    bad.write_text('progress = "yes"\n', encoding="utf-8")
    assert cli.main(["run", "--config", str(bad)]) == 2


@pytest.fixture
def eager(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every step shown: the small data sets finish in well under the 2 s threshold."""
    monkeypatch.setattr(shown, "QUIET_S", 0.0)
    monkeypatch.setattr(shown, "INTERVAL_S", 0.0)


def test_forced_progress_on_a_pipe_and_none_unasked(make_dataset, tmp_path, capsys, eager):
    data = make_dataset(tmp_path / "data")
    stress = ["stress", "--data", str(data), "--out"]
    assert cli.main([*stress, str(tmp_path / "s1"), "--progress"]) == 0
    err = capsys.readouterr().err
    # not a terminal: log lines (time, level) with the ETA
    assert "INFO rainmaker stress: stress: products: 1/3 (33 %)" in err and " left" in err
    assert "stress: products: 3/3, done in" in err
    assert cli.main([*stress, str(tmp_path / "s2")]) == 0  # stderr is no terminal here
    assert "stress: products" not in capsys.readouterr().err
    backtest = ["backtest", "--data", str(data), "--start", "2021-04-20", "--warmup", "0"]
    backtest += ["--policy", "rule", "--no-tracking", "--out"]
    assert cli.main([*backtest, str(tmp_path / "b1"), "--progress"]) == 0
    err = capsys.readouterr().err
    assert "backtest rule: replaying days: 1/10 (10 %)" in err and " left" in err
    assert cli.main([*backtest, str(tmp_path / "b2")]) == 0
    assert "replaying days" not in capsys.readouterr().err


def test_the_forecast_counts_its_fits(make_dataset, tmp_path):
    from forecast import run_forecast
    from forecast.api import FIT_STAGE
    from rainmaker.dataset import load_dataset

    calls: list[tuple[str, int, int]] = []
    dataset = load_dataset(make_dataset(tmp_path / "data"))
    run_forecast(
        dataset,
        horizon=7,
        model="seasonal_naive",
        n_paths=20,
        progress=lambda *call: calls.append(call),
    )
    total = calls[0][2]
    assert calls[0] == (FIT_STAGE, 0, total) and calls[-1] == (FIT_STAGE, total, total)
    assert [done for _, done, _ in calls] == list(range(total + 1))


def test_the_daily_job_hands_its_progress_to_the_forecast(make_dataset, tmp_path):
    import argparse

    from forecast.api import FIT_STAGE
    from rainmaker.app.config import DailyConfig
    from rainmaker.app.daily import Steps
    from rainmaker.dataset import load_dataset

    calls: list[tuple[str, int, int]] = []
    dataset = load_dataset(make_dataset(tmp_path / "data"))
    config = DailyConfig(model="seasonal_naive", horizon=7)
    Steps(progress=lambda *call: calls.append(call)).forecast(dataset, dataset.last_date, config)
    assert calls and {stage for stage, _, _ in calls} == {FIT_STAGE}
    # the flag wins over the settings' key; neither: the terminal decides (None)
    asked = cli._progress_asked
    on = DailyConfig(progress=True)
    assert asked(argparse.Namespace(progress=None), on) is True
    assert asked(argparse.Namespace(progress=False), on) is False
    assert asked(argparse.Namespace(progress=None), DailyConfig()) is None
