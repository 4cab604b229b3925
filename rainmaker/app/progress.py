"""Progress of long steps on stderr: one line per stage with an ETA, rate-limited.

The stages count (:mod:`rainmaker.progress`); this is the one place that decides what is shown:

- nothing for a stage that finishes within :data:`QUIET_S` seconds (fast steps stay quiet);
- after that, at most one refresh every :data:`INTERVAL_S` seconds:
  ``forecast fit: 9/20 (45 %), 6 s elapsed, about 7 s left``;
- on a terminal the line is redrawn in place and closed by ``..., done in 13 s``; forced on
  where stderr is not a terminal (``--progress``, ``progress = true`` in the job's settings)
  each refresh is a log line (:mod:`rainmaker.app.logs`: local time, level, or JSON);
- nothing at all when stderr is not a terminal and progress was not asked for (cron, CI).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from rainmaker.app import logs
from rainmaker.progress import Progress, no_progress

__all__ = ["INTERVAL_S", "QUIET_S", "ProgressReporter", "progress_wanted", "reporter"]

QUIET_S = 2.0  # seconds a stage runs before its progress is shown at all
INTERVAL_S = 1.0  # seconds between two refreshes of the progress line
_CLEAR = "\r\x1b[K"  # back to the line's start and erase it (a redraw on a terminal)


def progress_wanted(asked: bool | None, stream: TextIO | None = None) -> bool:
    """Whether to show progress: as asked (flag or setting), else when ``stream`` is a terminal.

    Args:
        asked: True (``--progress``), False (``--no-progress``) or None (not said).
        stream: where it would go (default: stderr).
    """
    if asked is not None:
        return asked
    stream = stream or sys.stderr
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``: the ETA and elapsed time of a line."""
    whole = max(int(round(seconds)), 0)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


class ProgressReporter:
    """A :class:`rainmaker.progress.Progress` that renders on stderr (see the module docstring).

    Args:
        stream: where terminal lines go (default: stderr at the time of each write).
        terminal: redraw one line in place (a terminal) or write log lines; default: whether
            ``stream`` is a terminal.
        clock: seconds, monotonic (a fake in tests).
        quiet_s: a stage finishing within this many seconds shows nothing (default
            :data:`QUIET_S`).
        interval_s: at most one refresh per this many seconds (default :data:`INTERVAL_S`).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        terminal: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        quiet_s: float | None = None,
        interval_s: float | None = None,
    ) -> None:
        self._stream = stream
        self.terminal = progress_wanted(None, stream) if terminal is None else terminal
        self.clock = clock
        # read at construction, not at definition: a test may lower the module's defaults
        self.quiet_s = QUIET_S if quiet_s is None else quiet_s
        self.interval_s = INTERVAL_S if interval_s is None else interval_s
        self._stage: str | None = None
        self._began = 0.0
        self._shown_at: float | None = None  # last refresh of the current stage
        self._first: tuple[float, int] | None = None  # (time, steps) of its first steps done
        self._open = False  # a terminal line without its newline yet

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stderr

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        if stage != self._stage or done == 0:
            self.close()
            self._stage, self._began, self._shown_at, self._first = stage, now, None, None
        elapsed = now - self._began
        if self._first is None and done:
            self._first = (now, done)
        if done >= total:
            if self._shown_at is not None:  # a quick stage stays quiet to the end
                self._write(f"{stage}: {total}/{total}, done in {_duration(elapsed)}", end=True)
            self._stage, self._shown_at = None, None
            return
        if elapsed < self.quiet_s:
            return
        if self._shown_at is not None and now - self._shown_at < self.interval_s:
            return
        self._shown_at = now
        left = "ETA unknown"
        if done:
            # the pace since the first step finished: a first step that also warms up (the
            # replay's first forecast fit) would otherwise inflate every later estimate
            since, counted = self._first or (now, done)
            pace = (now - since) / (done - counted) if done > counted else elapsed / done
            seconds = pace * (total - done)
            left = f"about {_duration(seconds)} left" if seconds >= 1 else "under 1 s left"
        share = 100.0 * done / total if total else 0.0
        self._write(
            f"{stage}: {done}/{total} ({share:.0f} %), {_duration(elapsed)} elapsed, {left}",
            end=False,
        )

    def close(self) -> None:
        """End an open terminal line (before a log line, or when the command ends)."""
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False

    def _write(self, text: str, *, end: bool) -> None:
        if not self.terminal:
            logs.info(text)
            return
        self.stream.write(_CLEAR + text + ("\n" if end else ""))
        self.stream.flush()
        self._open = not end


def reporter(asked: bool | None) -> Progress:
    """The progress callback of a command: a :class:`ProgressReporter` when wanted, else silent.

    A reporter on a terminal closes its open line before any log line is written, so that a
    warning never lands at the end of a half-drawn progress line.
    """
    if not progress_wanted(asked):
        return no_progress
    shown = ProgressReporter()
    if shown.terminal:
        logs.configure(before_line=shown.close)
    return shown
