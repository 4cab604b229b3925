"""Tests of rainmaker.response: the concave exposure response curve."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rainmaker.response import ExposureResponse, exposure_response, marginal_response


def test_golden_values() -> None:
    params = ExposureResponse(a=0.5, e0=1000.0)
    # 1 + 0.5·log(1 + e/1000): 1 at zero exposure, 1 + 0.5·ln 2 at e = e0
    assert exposure_response(0.0, params) == 1.0
    assert exposure_response(1000.0, params) == pytest.approx(1 + 0.5 * np.log(2))
    assert marginal_response(0.0, params) == pytest.approx(0.5 / 1000)


@given(
    a=st.floats(0.01, 2.0),
    e0=st.floats(1.0, 1e6),
    exposure=st.lists(st.floats(0, 1e7), min_size=3, max_size=20),
)
def test_curve_rises_with_diminishing_returns(a: float, e0: float, exposure: list[float]) -> None:
    params = ExposureResponse(a, e0)
    e = np.sort(np.asarray(exposure))
    values = exposure_response(e, params)
    assert np.all(np.diff(values) >= -1e-12)
    slopes = marginal_response(e, params)
    assert np.all(np.diff(slopes) <= 1e-15)  # concave: the slope never grows
    # the derivative agrees with a finite difference
    h = 1e-3 * e0
    numeric = (exposure_response(e + h, params) - exposure_response(e, params)) / h
    assert numeric == pytest.approx(slopes, rel=1e-2, abs=1e-12)


def test_bad_parameters_and_negative_exposure_are_refused() -> None:
    with pytest.raises(ValueError, match="e0 > 0"):
        ExposureResponse(a=0.3, e0=0.0)
    with pytest.raises(ValueError, match="exposure must be >= 0"):
        exposure_response([-1.0], ExposureResponse(a=0.3, e0=10.0))
