"""The progress protocol every long step reports through (no rendering here).

A stage (the forecast's fit, the replay, the stress test, ...) receives a :class:`Progress`
callback and calls it with a stable stage name, the steps done and the steps in all: first
``(stage, 0, total)`` when the stage starts, then ``(stage, done, total)`` after each step,
the last call having ``done == total``. What is shown, when and where (a terminal line with an
ETA, rate-limited; nothing for a quick stage or a stderr that is not a terminal) is decided by
the one renderer, :class:`rainmaker.app.progress.ProgressReporter`; the stages only count.

The protocol lives in the ground layer so that ``forecast``, ``optimize`` and ``simulate``
can take a callback without importing the application layer.
"""

from __future__ import annotations

import threading
from typing import Protocol

__all__ = ["Progress", "no_progress", "stage_steps"]


class Progress(Protocol):
    """``progress(stage, done, total)``: ``done`` of ``total`` steps of ``stage`` are finished."""

    def __call__(self, stage: str, done: int, total: int) -> None: ...


def no_progress(stage: str, done: int, total: int) -> None:
    """The silent callback (the default of every stage)."""


def stage_steps(progress: Progress | None, stage: str, total: int) -> _Counter:
    """A counter for one stage: ``tick()`` after each of its ``total`` steps.

    Announces ``(stage, 0, total)`` at once, so that the renderer times the stage from its
    start rather than from its first finished step.
    """
    counter = _Counter(progress or no_progress, stage, max(int(total), 0))
    counter.progress(stage, 0, counter.total)
    return counter


class _Counter:
    """Counts the finished steps of one stage and reports each (see :func:`stage_steps`)."""

    def __init__(self, progress: Progress, stage: str, total: int) -> None:
        self.progress, self.stage, self.total, self.done = progress, stage, total, 0
        # a stage may finish steps on several threads (the forecast fits LightGBM on its own)
        self._lock = threading.Lock()

    def tick(self, steps: int = 1) -> None:
        """``steps`` more steps finished (never counted beyond the total)."""
        with self._lock:
            self.done = min(self.done + steps, self.total)
            self.progress(self.stage, self.done, self.total)
