"""Tests of rainmaker.contracts: the messages of ForecastResult's look-ups."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from tests.daily_fakes import fake_run_forecast


def _forecast():
    dates = pd.date_range("2022-01-01", periods=28)
    flows = pd.DataFrame(
        {
            "product_id": ["P01"] * 28 + ["P02"] * 28,
            "date": list(dates) * 2,
            "subscriptions": 1e8,
            "redemptions": 9e7,
            "aum": 1e10,
        }
    )
    return fake_run_forecast(SimpleNamespace(flows=flows), dates[-1], horizon=3)


def test_unknown_names_are_refused_with_the_known_ones_as_written() -> None:
    # comma-separated like every other message, not a Python tuple or list
    forecast = _forecast()
    with pytest.raises(KeyError, match="expected one of subscriptions, redemptions, net_flow, aum"):
        forecast.quantile("inflow", 0.5)
    with pytest.raises(ValueError, match=r"unknown variables inflow; expected among subscr"):
        forecast.plot(variables=("inflow",))
    with pytest.raises(ValueError, match=r"is not in the forecast \(P01, P02\)$"):
        forecast.plot(product="P03")
