"""The optimizer's refits beside the replay (simulate/refits.py)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pandas as pd
import pytest

from forecast import Forecaster
from rainmaker.dataset import load_dataset
from simulate.planning_policies import OptimizerPolicy
from simulate.refits import REFIT_LAG_DAYS, Refits
from simulate.replay import replay

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
PRODUCTS = ["P01", "P06"]


@pytest.fixture(scope="module")
def sample():
    return load_dataset(SAMPLE).select(PRODUCTS)


def test_a_refit_in_the_worker_equals_one_in_place_and_leaves_the_original(sample) -> None:
    fitted = Forecaster(models=("seasonal_naive", "ets"), horizon=5, seed=3).fit(
        sample, "2022-02-28"
    )
    before = fitted.predict(sample, "2022-03-07", 5).table
    as_of = pd.Timestamp("2022-03-07")
    worker = Refits(background=True)
    try:
        elsewhere = worker.submit(fitted, sample, as_of).result(timeout=300)
    finally:
        worker.close()
    here = Refits(background=False).submit(fitted, sample, as_of).result()

    assert elsewhere.as_of_ == here.as_of_ == as_of
    pd.testing.assert_frame_equal(
        elsewhere.predict(sample, as_of, 5).table, here.predict(sample, as_of, 5).table
    )
    # the forecaster handed over is a copy's source, not refitted itself
    assert fitted.as_of_ == pd.Timestamp("2022-02-28")
    pd.testing.assert_frame_equal(fitted.predict(sample, "2022-03-07", 5).table, before)


class _Recording(OptimizerPolicy):
    """Notes, every morning, the day the forecaster in use was last fitted through."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fitted_through: dict[pd.Timestamp, pd.Timestamp] = {}

    def forecast(self, state, history):
        result = super().forecast(state, history)
        self.fitted_through[state.as_of] = self._forecaster.as_of_
        return result


@pytest.mark.parametrize("every", [3, 1])
def test_a_refit_serves_from_the_lag_day_on_and_learns_nothing_later(sample, every) -> None:
    policy = _Recording(
        horizon_days=5,
        refit_every_days=every,
        forecast_models=("seasonal_naive",),
        background_refits=False,
    )
    replay(sample, "2022-03-01", "2022-03-12", policy, products=PRODUCTS, warmup_days=0)

    days = sorted(policy.fitted_through)
    first = days[0]
    # refits are due every `every` days from the first fit and serve REFIT_LAG_DAYS later,
    # a cadence shorter than the lag included (refits overlap then)
    due = [first + pd.Timedelta(days=every * k) for k in range(1, 20)]
    for as_of in days:
        serving = [d for d in due if d + pd.Timedelta(days=REFIT_LAG_DAYS) <= as_of]
        assert policy.fitted_through[as_of] == (serving[-1] if serving else first), as_of
        assert policy.fitted_through[as_of] <= as_of
    assert len({policy.fitted_through[d] for d in days}) >= 3  # refits did take over


def test_a_worker_that_dies_is_replaced_by_a_refit_in_place(sample) -> None:
    fitted = Forecaster(models=("seasonal_naive",), horizon=5, seed=3).fit(sample, "2022-02-28")
    as_of = pd.Timestamp("2022-03-07")
    worker = Refits(background=True)
    try:
        future = worker.submit(fitted, sample, as_of)
        for process in list(worker._pool._processes.values()):  # killed, as by the OOM killer
            os.kill(process.pid, signal.SIGKILL)
        refitted = worker.result(future)
    finally:
        worker.close()
    here = Refits(background=False).submit(fitted, sample, as_of).result()
    assert not worker.background  # later refits are made in place
    pd.testing.assert_frame_equal(
        refitted.predict(sample, as_of, 5).table, here.predict(sample, as_of, 5).table
    )


def test_a_worker_refits_with_the_data_sets_holiday_arrangement(tmp_path, monkeypatch) -> None:
    # a spawned worker has the holiday package's years alone: the refit it is handed must
    # bring the data set's calendar.csv with it (a made-up arrangement of the first year after
    # the package's coverage)
    import pickle

    from rainmaker import china_calendar
    from simulate import refits
    from tests.conftest import write_dataset

    year = china_calendar.package_years().stop
    folder = write_dataset(tmp_path / "data", n_products=2, n_days=20)
    pd.DataFrame(
        {"date": [f"{year}-05-03"], "kind": ["holiday"], "holiday": ["Labour Day"]}
    ).to_csv(folder / "calendar.csv", index=False)
    history = load_dataset(folder)
    china_calendar.use_arrangement({}, {})  # the worker's state
    seen = []
    monkeypatch.setattr(
        refits, "refitted", lambda *args: seen.append(china_calendar.covered_years().stop)
    )
    refits._refit_copy(pickle.dumps((None, history, history.last_date)))
    assert seen == [year + 1]
