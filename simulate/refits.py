"""The optimizer's weekly forecast refits, run beside the replay instead of inside it.

A backtest re-plans every morning and refits its forecast models every ``refit_every_days``
days. A refit re-estimates every product's models (Holt-Winters in Python, the boosters, the
exposure response: about a second for 12 products) and holds the interpreter's lock for most of
it, so on the replay's one thread it costs a quarter of a year's replay. Its result is not needed
at once: the previous fit goes on forecasting well for a day or two, because every forecast
already reads the latest flows (a refit only re-estimates the models' parameters).

So a refit due on day t is fitted on the history known on t's morning, as before, but serves
the forecasts from day t + :data:`REFIT_LAG_DAYS` on; until then the previous fit forecasts.
:class:`Refits` runs it in a worker process of its own while the replay goes on
(``background=True``), or at once in the replay's process (``background=False``: where every
core is already busy, as in the panel's parallel windows). Both fit a pickled copy of the same
forecaster on the same history, so the replay's results do not depend on where it ran, only on
the lag (tested).
"""

from __future__ import annotations

import multiprocessing
import pickle
import signal
import warnings
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pandas as pd

from rainmaker.calendar_file import CALENDAR_TABLE, use_calendar_of
from rainmaker.dataset import Dataset

__all__ = ["REFIT_LAG_DAYS", "WORKER_WARMUP_DAYS", "Refits", "refitted"]

# Days from the morning a refit is due to the first forecast it serves. Two days of replay
# (about a second of plans on 12 products) cover most of a refit's time in the worker.
REFIT_LAG_DAYS = 2
# The worker starts (a process that imports the forecast: a few seconds) this many days before
# the first refit is due, so that a replay shorter than the refit cadence starts none.
WORKER_WARMUP_DAYS = 3


def refitted(forecaster: Any, history: Dataset, as_of: pd.Timestamp) -> Any:
    """``forecaster`` refitted on ``history`` up to ``as_of`` (the worker's task).

    Args:
        forecaster: a fitted :class:`forecast.Forecaster` (a copy: this one is changed).
        history: the data set known on the morning the refit is due.
        as_of: the last day the refit learns from.

    Returns:
        The same forecaster, refitted.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return forecaster.refit(history, as_of)


def _refit_copy(payload: bytes) -> Any:
    """:func:`refitted` on the pickled ``(forecaster, history, as_of)``."""
    forecaster, history, as_of = pickle.loads(payload)
    # a spawned worker knows the holiday package's years alone: the data set's calendar.csv
    # (read when the replay loaded it) must shape its refits' features too
    use_calendar_of(history.tables, history.file_name(CALENDAR_TABLE))
    return refitted(forecaster, history, as_of)


def _worker_start() -> None:
    """The worker leaves Ctrl-C to the replay, which then ends it (:meth:`Refits.close`):
    a terminal's interrupt reaches every process of its group, and a worker stopped in the
    middle of a refit only prints a second traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _warm() -> None:
    """Import the forecast in the worker before its first refit is due (start-up time)."""
    import forecast  # noqa: F401


class Refits:
    """Refits of one forecaster, each started on the morning it is due.

    Args:
        background: fit in a worker process while the replay goes on; ``False``: fit at once
            in this process. The worker is spawned, not forked (the replay's process runs
            threads, which a forked child must not inherit), and a spawned process imports
            the program's main module first: the program must keep its work under
            ``if __name__ == "__main__":`` (the ``rainmaker`` command and the benchmarks do;
            a notebook has no main file to import).
    """

    def __init__(self, background: bool) -> None:
        self.background = bool(background)
        self._pool: ProcessPoolExecutor | None = None
        self._payloads: dict[Future[Any], bytes] = {}

    def start(self) -> None:
        """Start the worker and import the forecast there (no-op when fitting in place)."""
        if self.background and self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=context, initializer=_worker_start
            )
            self._pool.submit(_warm)

    def submit(self, forecaster: Any, history: Dataset, as_of: pd.Timestamp) -> Future[Any]:
        """Start refitting a copy of ``forecaster`` on ``history`` up to ``as_of``.

        The copy is taken here, before the replay's next forecast touches the forecaster's
        caches or its next day changes the history, the same copy whichever way it is fitted.

        Returns:
            The refitted copy, when done; ``forecaster`` itself is left as it is.
        """
        payload = pickle.dumps((forecaster, history, as_of), protocol=pickle.HIGHEST_PROTOCOL)
        if self.background:
            self.start()
            assert self._pool is not None
            future = self._pool.submit(_refit_copy, payload)
            self._payloads[future] = payload
            return future
        done: Future[Any] = Future()
        done.set_result(_refit_copy(payload))
        return done

    def result(self, future: Future[Any]) -> Any:
        """The refitted forecaster of ``future`` (from :meth:`submit`), waiting for it.

        A worker that died (killed, out of memory) is not the forecast's fault: the refit is
        then made here from the same copy, and later ones too; an error of the refit itself is
        raised as it would be in place."""
        payload = self._payloads.pop(future, None)
        try:
            return future.result()
        except BrokenProcessPool:
            if payload is None:
                raise
            self.close()
            self.background = False
            return _refit_copy(payload)

    def close(self) -> None:
        """Stop the worker: a refit not yet begun is cancelled, one running is let finish
        (about a second) so that the process ends before the replay returns."""
        self._payloads.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
