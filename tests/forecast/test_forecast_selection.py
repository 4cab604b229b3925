"""Selection: recency-weighted scores, combination unless a model dominates, the global model
only where it wins a product's own backtest, and the single-series done-when checks."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from forecast import ForecastFallbackWarning
from forecast.backtest import BacktestRun
from forecast.evaluation import evaluate_forecast
from forecast.selection import DOMINANCE_MARGIN, product_overrides, score_candidates, select
from forecast.toy_data import single_series_dataset


def _scores(wapes: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"candidate": c, "variable": "redemptions", "wape": w, "n_scored": 10}
            for c, w in wapes.items()
        ]
    )


def test_a_single_model_is_chosen_only_when_it_dominates() -> None:
    close = _scores({"ets": 0.200, "lightgbm": 0.199, "ets+lightgbm": 0.201})
    assert select(close)["redemptions"].name == "ets+lightgbm"
    clear = 0.201 * (1 - DOMINANCE_MARGIN) - 0.001
    dominant = _scores({"ets": 0.25, "lightgbm": clear, "ets+lightgbm": 0.201})
    assert select(dominant)["redemptions"].name == "lightgbm"
    assert select(_scores({"ets": 0.3, "ets+lightgbm": 0.2}))["redemptions"].name == "ets+lightgbm"


def _run(n_origins: int = 10) -> BacktestRun:
    """Two products, the first ten times the second; LightGBM is exact on product 0 and 50 %
    off on product 1, ETS 10 % off on both."""
    shape = (n_origins, 2, 3)
    truth = np.full(shape, 100.0)
    truth[:, 0] = 1000.0
    lightgbm = truth.copy()
    lightgbm[:, 1] *= 1.5
    ets = truth * 1.1
    flows = ("subscriptions", "redemptions")
    return BacktestRun(
        origins=np.arange(0, 7 * n_origins, 7),
        horizon=3,
        forecasts={
            "ets": {v: ets for v in flows},
            "lightgbm": {v: lightgbm for v in flows},
        },
        truth={v: truth for v in flows},
        censored=np.zeros(shape, dtype=bool),
        scale={v: np.full(shape[:2], 100.0) for v in flows},
        fit_seconds={},
    )


def test_the_global_model_is_kept_only_for_products_whose_backtest_it_wins() -> None:
    run = _run()
    scores = score_candidates(run, ["ets", "lightgbm"])
    chosen = select(scores)
    # Overall WAPE: lightgbm 0.045, ets+lightgbm 0.073, ets 0.100.
    assert chosen["subscriptions"].name == "lightgbm"
    overrides = product_overrides(run, ["ets", "lightgbm"], chosen, ["P0", "P1"])
    assert set(overrides["subscriptions"]) == {"P1"}
    assert overrides["subscriptions"]["P1"].name == "ets"


def test_recent_origins_weigh_more_in_the_scores() -> None:
    run = _run()
    late = run.forecasts["ets"]["redemptions"].copy()
    late[-3:] = run.truth["redemptions"][-3:]  # ETS became exact on the last three origins
    run.forecasts["ets"]["redemptions"] = late
    equal = score_candidates(run, ["ets"]).set_index(["candidate", "variable"])["wape"]
    recent = np.r_[np.full(7, 0.01), np.full(3, 1.0)]
    weighted = score_candidates(run, ["ets"], recent).set_index(["candidate", "variable"])["wape"]
    assert weighted["ets", "redemptions"] < equal["ets", "redemptions"] / 5


@pytest.mark.parametrize("kind", ["level_shift", "steady", "new"])
def test_auto_beats_seasonal_naive_on_a_single_series(kind: str) -> None:
    """Issue 13, done when: on one product alone (shifted, 13 months, launched 8 weeks ago),
    ``auto`` beats the seasonal naive on p50 WAPE for both flows (four weekly origins, 28
    days each)."""
    series = single_series_dataset(kind, seed=0, days_after=49)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        evaluation = evaluate_forecast(
            series.dataset,
            series.origin,
            series.origin + pd.Timedelta(days=49),
            28,
            ("seasonal_naive", "ets", "lightgbm"),
            refit_every_days=7,
        )
    wape = evaluation.summary.set_index(["model", "variable"])["wape"]
    for variable in ("subscriptions", "redemptions"):
        assert wape["auto", variable] < wape["seasonal_naive", variable], (kind, variable)
