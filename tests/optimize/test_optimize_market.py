"""The plan on the market forecast (``[market] forecast``, optimize/rate_path.py): a flat
forecast changes nothing, and a hand-worked 2-day case of purchases priced at their own day's
rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from forecast.market import market_forecast
from optimize import load_settings, plan_from_inputs
from optimize.inputs import inputs_from_forecast
from optimize.model import build_model
from optimize.parameters import model_parameters
from optimize.rate_path import outstanding_window, vintage_income_pct
from optimize.synthetic import synthetic_inputs
from rainmaker.dataset import load_dataset
from rainmaker.errors import UsageError
from tests.conftest import write_dataset
from tests.optimize.test_optimize_inputs import fake_forecast

DAILY = 36_500.0


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("market") / "data", n_products=3, n_days=90)


def test_a_flat_market_forecast_gives_todays_plan_exactly(small: Path) -> None:
    dataset = load_dataset(small)
    as_of = "2021-05-20"
    forecast = fake_forecast(dataset, as_of, 7)
    settings = load_settings(overrides={"horizon": {"days": 7}})
    today, _ = inputs_from_forecast(dataset, as_of, forecast, settings)
    flat = market_forecast(dataset.market, as_of, 7).flat()
    priced, _ = inputs_from_forecast(dataset, as_of, forecast, settings, market_outlook=flat)
    assert today.purchase_rates_pct is None and priced.purchase_rates_pct is not None
    for name, path in priced.purchase_rates_pct.items():
        np.testing.assert_array_equal(path, np.full(7, today.rates_pct[name]))
    np.testing.assert_array_equal(priced.target_yield_pct, today.target_yield_pct)
    a, b = plan_from_inputs(today, settings), plan_from_inputs(priced, settings)
    pd.testing.assert_frame_equal(a.plan, b.plan)
    assert a.objective == b.objective


def test_the_setting_makes_the_forecast_and_moves_rates_and_target(small: Path) -> None:
    dataset = load_dataset(small)
    as_of = "2021-05-20"
    forecast = fake_forecast(dataset, as_of, 7)
    on = load_settings(overrides={"horizon": {"days": 7}, "market": {"forecast": True}})
    inputs, _ = inputs_from_forecast(dataset, as_of, forecast, on)
    expected = market_forecast(dataset.market, as_of, 7)
    overnight = expected.median_pct[expected.series.index("shibor_on")]
    assert inputs.purchase_rates_pct is not None
    np.testing.assert_allclose(inputs.purchase_rates_pct["repo_1d"], overnight + 0.05)
    # no look-ahead: the same inputs from the rows up to the as-of day
    cut, _ = inputs_from_forecast(dataset.up_to(as_of), as_of, forecast, on)
    np.testing.assert_array_equal(cut.target_yield_pct, inputs.target_yield_pct)


def test_a_bad_value_of_the_setting_is_refused() -> None:
    with pytest.raises(UsageError, match="market.forecast"):
        load_settings(overrides={"market": {"forecast": "yes"}})
    with pytest.raises(UsageError, match="market"):
        load_settings(overrides={"market": {"forcast": True}})


def _matrix(plan_model) -> sp.csr_matrix:
    c = plan_model.compiled()
    counts = np.diff(c.col_start)
    cols = np.repeat(np.arange(c.n_cols), counts)
    return sp.csr_matrix((c.value, (c.row_index, cols)), shape=(c.n_rows, c.n_cols))


def test_two_days_by_hand() -> None:
    """One product, two days, overnight repo bought on day 0 at 1 point above today's rate.

    By hand: the lot x bought on day 0 is outstanding at the end of day 0 and matures on day 1
    (a working day), so it earns day 1's income only, 1 point more than at today's rate:
    lot · 1 / 36,500 more cash on day 1 (E12: the row moves −lot/36,500 on x), κ · lot · 1
    more income against the target on day 1 (E20), nothing on the day after the horizon
    (E23), and the income reward gains w_income · κ · lot · 1 for its one day.
    """
    settings = load_settings(overrides={"horizon": {"days": 2}, "exposure": {"enabled": False}})
    base = synthetic_inputs(n_products=1, horizon=2, seed=3, settings=settings, as_of="2021-06-08")
    day0 = np.array([base.rates_pct["repo_1d"] + 1.0, base.rates_pct["repo_1d"]])
    paths = {name: np.full(2, rate) for name, rate in base.rates_pct.items()}
    paths["repo_1d"] = day0
    priced = base.replace(purchase_rates_pct=paths)
    flat_par, par = model_parameters(base, settings), model_parameters(priced, settings)
    k = [b.name for b in par.buckets].index("repo_1d")
    assert par.maturity[k, 0] == 1  # 8 June 2021 is a Tuesday: day 1 is a working day
    flat_model, model = build_model(flat_par), build_model(par)
    diff = (_matrix(model) - _matrix(flat_model)).tocoo()
    x = int(model.variables.purchase_lots[0, k, 0])
    lot = float(par.purchase_lot[0])
    kappa = 100.0 / float(par.aum_ref[0])
    rows = model.model.constraints
    expected = {
        (int(rows["cash_balance"].rows[0, 1]), x): -lot / DAILY,
        (int(rows["yield_tracking"].rows[0, 1]), x): kappa * lot,
    }
    got = {
        (int(r), int(c)): v for r, c, v in zip(diff.row, diff.col, diff.data, strict=True) if v != 0
    }
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12)
    cost = model.compiled().cost - flat_model.compiled().cost
    assert np.flatnonzero(cost).tolist() == [x]
    assert cost[x] == pytest.approx(-settings.weights.income * kappa * lot, rel=1e-12)
    # the plan's reported income: the same correction, amount × 1 point on day 1
    purchases = np.zeros((1, len(par.buckets), 2))
    purchases[0, k, 0] = 3.0
    np.testing.assert_allclose(vintage_income_pct(par, purchases), [[0.0, 3.0]])
    assert outstanding_window(par)[k, 0].tolist() == [True, False]
