"""Choosing the forecast by rolling-origin backtest: a single model or an equal-weight ensemble.

The candidates are every model alone and the mean of every pair and of all of them. Each is
scored by WAPE over the backtest's origins, horizons and products, on the outcomes every model
could forecast (known, not capped by a quota), separately for subscriptions and redemptions;
the lowest WAPE wins (a tie goes to the simpler candidate). Nothing is chosen by hand.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.backtest import BacktestRun
from forecast.metrics import wape
from forecast.panel import MODELLED_VARIABLES

__all__ = ["Candidate", "candidate_forecast", "candidates", "score_candidates", "select"]


@dataclass(frozen=True)
class Candidate:
    """A model or an equal-weight mean of models.

    Attributes:
        members: model names, in the forecaster's order.
    """

    members: tuple[str, ...]

    @property
    def name(self) -> str:
        """``lightgbm`` or ``ets+lightgbm``."""
        return "+".join(self.members)

    @classmethod
    def parse(cls, name: str) -> Candidate:
        return cls(tuple(name.split("+")))


def candidates(model_names: Sequence[str]) -> list[Candidate]:
    """Every model alone, every pair, and all together (when more than two)."""
    names = list(model_names)
    out = [Candidate((name,)) for name in names]
    out += [Candidate(pair) for pair in itertools.combinations(names, 2)]
    if len(names) > 2:
        out.append(Candidate(tuple(names)))
    return out


def candidate_forecast(forecasts: dict[str, np.ndarray], candidate: Candidate) -> np.ndarray:
    """The candidate's forecast from its members' forecasts (same shapes, CNY).

    The mean skips members without a forecast for a product (NaN); it is NaN only where no
    member has one.
    """
    stack = np.stack([forecasts[name] for name in candidate.members])
    known = ~np.isnan(stack)
    count = known.sum(axis=0)
    total = np.where(known, stack, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _scored(run: BacktestRun, variable: str) -> np.ndarray:
    """Outcomes every model forecast, known and (for subscriptions) not capped."""
    mask = ~np.isnan(run.truth[variable])
    if variable == "subscriptions":
        mask &= ~run.censored
    for forecasts in run.forecasts.values():
        mask &= ~np.isnan(forecasts[variable])
    return mask


def score_candidates(run: BacktestRun, model_names: Sequence[str]) -> pd.DataFrame:
    """Backtest WAPE of every candidate.

    Returns:
        Frame with columns ``candidate, variable, wape, n_scored``.
    """
    rows = []
    for variable in MODELLED_VARIABLES:
        mask = _scored(run, variable)
        truth = run.truth[variable][mask]
        for candidate in candidates(model_names):
            per_model = {name: run.forecasts[name][variable] for name in candidate.members}
            forecast = candidate_forecast(per_model, candidate)[mask]
            rows.append(
                {
                    "candidate": candidate.name,
                    "variable": variable,
                    "wape": wape(truth, forecast),
                    "n_scored": int(mask.sum()),
                }
            )
    return pd.DataFrame(rows)


def select(scores: pd.DataFrame) -> dict[str, Candidate]:
    """The lowest-WAPE candidate per variable (ties: fewer members, then listed order)."""
    chosen = {}
    for variable, group in scores.groupby("variable", sort=False):
        group = group.assign(
            size=group["candidate"].str.count(r"\+"), order=np.arange(len(group))
        ).dropna(subset=["wape"])
        if group.empty:
            continue
        best = group.sort_values(["wape", "size", "order"]).iloc[0]
        chosen[str(variable)] = Candidate.parse(str(best["candidate"]))
    return chosen
