"""The exposure response estimate: the curve of rainmaker.response, recovered from flows."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from forecast.exposure import fit_exposure_response
from forecast.panel import build_panel
from forecast.toy_data import toy_dataset
from rainmaker.response import ExposureResponse, exposure_response


@pytest.fixture(scope="module")
def dataset():
    return toy_dataset(4, "2020-01-01", "2021-06-30", seed=3)


def _lift(a: float, e0: float, exposure: float) -> float:
    """Demand multiplier of doubling exposure from ``exposure``."""
    params = ExposureResponse(a=a, e0=e0)
    return float(exposure_response(2 * exposure, params) / exposure_response(exposure, params))


def test_recovers_the_lift_of_doubling_exposure(dataset) -> None:
    fitted = fit_exposure_response(build_panel(dataset))
    truth = dataset.products.set_index("product_id")
    typical = dataset.flows.groupby("product_id")["exposure"].median()
    assert (fitted["status"] == "ok").all()
    assert (fitted["a"] >= 0).all() and (fitted["e0"] > 0).all()
    assert np.isfinite(fitted[["a_se", "e0_se"]].to_numpy()).all()
    assert (fitted["a_se"] > 0).all()
    for product, row in fitted.iterrows():
        estimated = _lift(row["a"], row["e0"], typical[product])
        actual = _lift(
            truth.loc[product, "response_a"], truth.loc[product, "response_e0"], typical[product]
        )
        assert estimated == pytest.approx(actual, abs=0.06), product


def test_no_exposure_or_little_history_is_said_not_guessed(dataset) -> None:
    without = dataclasses.replace(dataset, flows=dataset.flows.drop(columns="exposure"))
    fitted = fit_exposure_response(build_panel(without))
    assert (fitted["status"] == "no exposure data").all()
    assert fitted["a"].isna().all()
    short = build_panel(dataset, "2020-02-15")
    fitted = fit_exposure_response(short)
    assert (fitted["status"] == "too little data").all()
    assert (fitted["n_days"] < 56).all()


def test_capped_days_are_left_out(dataset) -> None:
    panel = build_panel(dataset)
    fitted = fit_exposure_response(panel)
    window = slice(panel.n_days - 364, panel.n_days)
    usable = (~panel.censored[window]) & (panel.subscriptions[window] > 0)
    np.testing.assert_array_equal(fitted["n_days"].to_numpy(), usable.sum(axis=0))
    assert isinstance(fitted, pd.DataFrame)
