"""Choosing the forecast by rolling-origin backtest: a single model or an equal-weight ensemble.

The candidates are every model alone, the mean of every pair and of all of them, and, with
three models or more, their median: the median ignores the one model that has gone astray
(a seasonal naive after a holiday, a trend still running after a level shift) where the mean
takes a share of its error, so it wins when no model is reliably best. Each is
scored by WAPE over the backtest's origins, horizons and products, on the outcomes every model
could forecast (known, not capped by a quota), separately for subscriptions and redemptions,
with origins weighted by recency (:func:`forecast.calibration.origin_weights`: what worked last
quarter counts more than what worked a year ago). A single model is chosen only when it
*dominates*, beating the best ensemble by more than :data:`DOMINANCE_MARGIN`; otherwise the
best ensemble is, since averaging models that are about as good cancels part of their errors.
A tie goes to the simpler candidate. Nothing is chosen by hand.

The global model (LightGBM, shared by all products) is chosen for a product only when it wins
that product's own backtest: :func:`product_overrides` gives every product on which the chosen
candidate includes a global model, and a candidate without it scores better on that product,
that candidate instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.backtest import BacktestRun
from forecast.metrics import wape
from forecast.panel import MODELLED_VARIABLES

__all__ = [
    "COMBINERS",
    "DOMINANCE_MARGIN",
    "GLOBAL_MODELS",
    "Candidate",
    "candidate_forecast",
    "candidates",
    "product_overrides",
    "score_candidates",
    "select",
]

# A single model must beat the best ensemble's backtest WAPE by this share to be chosen alone.
DOMINANCE_MARGIN = 0.02
# Models fitted on all products at once; chosen for a product only if they win its backtest.
GLOBAL_MODELS = frozenset({"lightgbm"})


# How a candidate of several models combines their forecasts.
COMBINERS = ("mean", "median")
_MEDIAN_PREFIX, _MEDIAN_SUFFIX = "median(", ")"


@dataclass(frozen=True)
class Candidate:
    """A model, or an equal-weight mean or the median of models.

    Attributes:
        members: model names, in the forecaster's order.
        combine: ``mean`` or ``median`` (of two members the median is their mean).
    """

    members: tuple[str, ...]
    combine: str = "mean"

    def __post_init__(self) -> None:
        if self.combine not in COMBINERS:
            raise ValueError(f"combine must be one of {', '.join(COMBINERS)}, got {self.combine!r}")

    @property
    def name(self) -> str:
        """``lightgbm``, ``ets+lightgbm`` (the mean) or ``median(seasonal_naive+ets+lightgbm)``."""
        joined = "+".join(self.members)
        if self.combine == "median":
            return f"{_MEDIAN_PREFIX}{joined}{_MEDIAN_SUFFIX}"
        return joined

    @classmethod
    def parse(cls, name: str) -> Candidate:
        """The candidate a :attr:`name` stands for."""
        if name.startswith(_MEDIAN_PREFIX) and name.endswith(_MEDIAN_SUFFIX):
            inner = name[len(_MEDIAN_PREFIX) : -len(_MEDIAN_SUFFIX)]
            return cls(tuple(inner.split("+")), "median")
        return cls(tuple(name.split("+")))

    def among(self, available: Sequence[str] | Mapping[str, object]) -> Candidate:
        """The same combination of the members in ``available`` (the models a forecaster
        fitted), in member order."""
        return Candidate(tuple(m for m in self.members if m in available), self.combine)


def candidates(model_names: Sequence[str]) -> list[Candidate]:
    """Every model alone, every pair, and all together (when more than two): their mean and
    their median."""
    names = list(model_names)
    out = [Candidate((name,)) for name in names]
    out += [Candidate(pair) for pair in itertools.combinations(names, 2)]
    if len(names) > 2:
        out.append(Candidate(tuple(names)))
        out.append(Candidate(tuple(names), "median"))
    return out


def candidate_forecast(forecasts: dict[str, np.ndarray], candidate: Candidate) -> np.ndarray:
    """The candidate's forecast from its members' forecasts (same shapes, CNY).

    The mean and the median skip members without a forecast for a product (NaN); they are NaN
    only where no member has one.
    """
    stack = np.stack([forecasts[name] for name in candidate.members])
    known = ~np.isnan(stack)
    count = known.sum(axis=0)
    if candidate.combine == "median":
        # NaN sorts last: the middle of the known values is at (count - 1) / 2 and count / 2
        ordered = np.sort(stack, axis=0)
        low = np.take_along_axis(ordered, np.maximum(count - 1, 0)[None] // 2, axis=0)[0]
        high = np.take_along_axis(ordered, (count // 2)[None], axis=0)[0]
        middle = np.where(count > 0, (low + high) / 2.0, np.nan)
        return middle
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


def _weighted_wape(
    truth: np.ndarray, forecast: np.ndarray, mask: np.ndarray, weights: np.ndarray | None
) -> np.ndarray:
    """Σ w·|y − f| / Σ w·|y| over origins and horizons, per product (n_products,); NaN where
    nothing is scored. ``weights`` (n_origins,) default equal."""
    w = np.ones(truth.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    w = np.where(mask, w[:, None, None], 0.0)
    with np.errstate(invalid="ignore"):
        error = np.where(mask, np.abs(truth - forecast), 0.0)
        size = np.where(mask, np.abs(truth), 0.0)
    total = (w * size).sum(axis=(0, 2))
    return np.where(
        total > 0, (w * error).sum(axis=(0, 2)) / np.where(total > 0, total, 1.0), np.nan
    )


def score_candidates(
    run: BacktestRun, model_names: Sequence[str], weights: np.ndarray | None = None
) -> pd.DataFrame:
    """Backtest WAPE of every candidate, origins weighted by ``weights`` (default equal).

    Returns:
        Frame with columns ``candidate, variable, wape, n_scored``.
    """
    rows = []
    for variable in MODELLED_VARIABLES:
        mask = _scored(run, variable)
        truth = run.truth[variable]
        w = np.ones(truth.shape[0]) if weights is None else np.asarray(weights, dtype=float)
        for candidate in candidates(model_names):
            per_model = {name: run.forecasts[name][variable] for name in candidate.members}
            forecast = candidate_forecast(per_model, candidate)
            weight = np.broadcast_to(w[:, None, None], truth.shape)[mask]
            error = np.abs(truth[mask] - forecast[mask])
            total = float((weight * np.abs(truth[mask])).sum())
            rows.append(
                {
                    "candidate": candidate.name,
                    "variable": variable,
                    "wape": float((weight * error).sum() / total)
                    if mask.any() and total > 0
                    else wape(truth[mask], forecast[mask]),
                    "n_scored": int(mask.sum()),
                }
            )
    return pd.DataFrame(rows)


def _best_index(wapes: np.ndarray, sizes: np.ndarray, margin: float) -> np.ndarray:
    """The winner's row among candidates, per column (see the module docstring): the lowest
    WAPE (ties: fewer members, then the earlier row), except that a single model must beat the
    best ensemble by ``margin`` (a share).

    Args:
        wapes: (n_candidates, n_columns) WAPE, NaN where not scored.
        sizes: (n_candidates,) members − 1 (0: a single model).
        margin: :data:`DOMINANCE_MARGIN`.

    Returns:
        (n_columns,) row indices, -1 where no candidate is scored.
    """
    wapes = np.asarray(wapes, dtype=float)
    sizes = np.asarray(sizes)
    # Rows in (size, row) order: argmin's first minimum is then the tie-break of the rule.
    order = np.lexsort((np.arange(len(sizes)), sizes))
    ranked = np.where(np.isnan(wapes[order]), np.inf, wapes[order])
    columns = np.arange(wapes.shape[1])
    best = order[np.argmin(ranked, axis=0)]
    scored = np.isfinite(ranked).any(axis=0)
    ensemble = sizes[order] > 0
    if ensemble.any():
        among = ranked[ensemble]
        runner = order[ensemble][np.argmin(among, axis=0)]
        has_runner = np.isfinite(among).any(axis=0)
        best_wape, runner_wape = wapes[best, columns], wapes[runner, columns]
        # the single model does not dominate: combine
        combine = has_runner & (sizes[best] == 0) & (best_wape > runner_wape * (1.0 - margin))
        best = np.where(combine, runner, best)
    return np.where(scored, best, -1)


def _best(scores: pd.DataFrame, margin: float) -> Candidate | None:
    """The winner among one variable's scores (see the module docstring)."""
    names = scores["candidate"].astype(str).to_numpy()
    sizes = np.array([len(Candidate.parse(name).members) - 1 for name in names])
    index = int(_best_index(scores["wape"].to_numpy(dtype=float)[:, None], sizes, margin)[0])
    return None if index < 0 else Candidate.parse(names[index])


def select(scores: pd.DataFrame, margin: float = DOMINANCE_MARGIN) -> dict[str, Candidate]:
    """The chosen candidate per variable: the lowest WAPE, except that a single model must
    beat the best ensemble by ``margin`` (a share) to be chosen alone; ties: fewer members,
    then listed order."""
    chosen = {}
    for variable, group in scores.groupby("variable", sort=False):
        best = _best(group.reset_index(drop=True), margin)
        if best is not None:
            chosen[str(variable)] = best
    return chosen


def _product_wape(
    run: BacktestRun,
    variable: str,
    candidate: Candidate,
    mask: np.ndarray,
    weights: np.ndarray | None,
) -> np.ndarray:
    """A candidate's weighted backtest WAPE per product (n_products,)."""
    forecast = candidate_forecast(
        {name: run.forecasts[name][variable] for name in candidate.members}, candidate
    )
    return _weighted_wape(run.truth[variable], forecast, mask, weights)


def product_overrides(
    run: BacktestRun,
    model_names: Sequence[str],
    chosen: dict[str, Candidate],
    product_ids: Sequence[str],
    weights: np.ndarray | None = None,
    margin: float = DOMINANCE_MARGIN,
) -> dict[str, dict[str, Candidate]]:
    """Products on which the chosen candidate should not use a global model.

    For each variable whose chosen candidate includes a model of :data:`GLOBAL_MODELS`, each
    product's backtest (recency-weighted WAPE) is scored for every candidate; where the best
    candidate without a global model is at least as good as the chosen one, the product gets
    the best such candidate (by the rule of :func:`select`).

    Returns:
        variable -> product_id -> candidate (only products that differ from ``chosen``).
    """
    local = [c for c in candidates(model_names) if not GLOBAL_MODELS & set(c.members)]
    out: dict[str, dict[str, Candidate]] = {}
    for variable, candidate in chosen.items():
        if not GLOBAL_MODELS & set(candidate.members) or not local:
            continue
        mask = _scored(run, variable)
        incumbent = _product_wape(run, variable, candidate, mask, weights)
        local_scores = np.stack(
            [_product_wape(run, variable, c, mask, weights) for c in local]
        )  # (n_local, n_products)
        sizes = np.array([len(c.members) - 1 for c in local])
        best = _best_index(local_scores, sizes, margin)  # (n_products,), -1: none scored
        best_wape = local_scores[np.maximum(best, 0), np.arange(len(product_ids))]
        overrides = {
            str(product_id): local[best[p]]
            for p, product_id in enumerate(product_ids)
            if best[p] >= 0 and not np.isnan(incumbent[p]) and best_wape[p] <= incumbent[p]
        }
        if overrides:
            out[variable] = overrides
    return out
