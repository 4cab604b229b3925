"""Forecast accuracy monitoring: past forecasts of the run history scored against what happened.

:func:`forecast_accuracy` joins the forecasts recorded in the run history
(:mod:`rainmaker.app.history`) with what then happened in a data set — the accuracy monitoring
behind ``rainmaker history`` and the report's accuracy table; :func:`accuracy_summary` groups it
(WAPE, bias, p10–p90 coverage, percent) and :func:`drift_alerts` names the products whose
forecast is drifting (the report's drift alert).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecast.metrics import inside
from rainmaker.outcomes import (
    long_outcomes,
    observed_outcomes,
    turned_away_between,
    wape_of_errors,
)

if TYPE_CHECKING:
    from rainmaker.app.history import RunHistory
    from rainmaker.dataset import Dataset

__all__ = [
    "DRIFT_RECENT_DAYS",
    "accuracy_summary",
    "actual_flows",
    "drift_alerts",
    "forecast_accuracy",
]

# Drift: the p10–p90 band should hold 80 % of outcomes; fewer than this share, over at least
# DRIFT_MIN_POINTS realised forecasts, means the forecast has become over-confident.
DRIFT_COVERAGE_FLOOR = 0.6
DRIFT_MIN_POINTS = 10
# ... or its error over the last DRIFT_RECENT_DAYS grew by this factor against the days before.
DRIFT_ERROR_GROWTH = 1.5
DRIFT_RECENT_DAYS = 14
DRIFT_VARIABLES = ("subscriptions", "redemptions")


def actual_flows(dataset: Dataset) -> pd.DataFrame:
    """What happened, in the shape of the forecast's variables: the outcomes the forecast's own
    evaluation scores against (:func:`rainmaker.outcomes.observed_outcomes`: demand, or
    subscriptions on days no quota bound; ``aum`` as observed here, see
    :func:`forecast_accuracy` for the demand turned away since a run).

    Returns:
        Long frame: product_id, date, variable, actual.
    """
    return long_outcomes(observed_outcomes(dataset.flows))


def forecast_accuracy(history: RunHistory, dataset: Dataset, as_of: Any = None) -> pd.DataFrame:
    """Past forecasts joined with what then happened, one row per realised forecast value.

    Args:
        history: the run history.
        dataset: the data set holding the outcomes; only rows dated ≤ ``as_of`` are used, so a
            report never scores a forecast against data it could not have seen.
        as_of: last day of outcomes used (None: the data set's last day).

    Returns:
        Rows of :meth:`RunHistory.forecasts` whose target day has an outcome, with ``actual``,
        ``lead_days`` (target day − as-of day of the run), ``abs_error`` (|actual − p50|, or
        − mean without a p50) and ``in_band_80`` (p10 ≤ actual ≤ p90 within float rounding,
        :func:`forecast.metrics.inside`; NaN without the band).
    """
    last = dataset.last_date if as_of is None else pd.Timestamp(as_of)
    past = history.forecasts(until=last)
    past = past[past["as_of"] < past["date"]]
    truth = observed_outcomes(dataset.up_to(last).flows)
    actual = long_outcomes(truth)
    joined = past.merge(actual, on=["product_id", "date", "variable"], how="inner")
    joined = joined[np.isfinite(joined["actual"].to_numpy(dtype=float))].reset_index(drop=True)
    # the AUM the forecast describes: all demand accepted since the run's as-of day
    aum = (joined["variable"] == "aum").to_numpy()
    if aum.any():
        rows = joined.loc[aum]
        joined.loc[aum, "actual"] = rows["actual"].to_numpy(dtype=float) + turned_away_between(
            truth, rows["product_id"], rows["as_of"], rows["date"]
        )
    centre = joined["p50"].where(joined["p50"].notna(), joined["mean"]).astype(float)
    joined["lead_days"] = (joined["date"] - joined["as_of"]).dt.days
    joined["abs_error"] = (joined["actual"] - centre).abs()
    has_band = joined["p10"].notna() & joined["p90"].notna()
    within = inside(joined["actual"], joined["p10"], joined["p90"])
    joined["in_band_80"] = pd.Series(within, index=joined.index).astype(float).where(has_band)
    return joined


def accuracy_summary(
    accuracy: pd.DataFrame, by: Sequence[str] = ("run_id", "variable")
) -> pd.DataFrame:
    """Accuracy figures of realised forecasts, grouped.

    Args:
        accuracy: output of :func:`forecast_accuracy`.
        by: grouping columns.

    Returns:
        One row per group: ``n`` (realised values), ``wape_pct`` (Σ|error| / Σ|actual| × 100,
        percent), ``bias_pct`` (Σ(actual − centre) / Σ|actual| × 100: positive when the
        forecast ran low) and ``coverage_80_pct`` (share inside the p10–p90 band, percent;
        80 is right).
    """
    by = list(by)
    if accuracy.empty:
        return pd.DataFrame(columns=[*by, "n", "wape_pct", "bias_pct", "coverage_80_pct"])
    frame = accuracy.assign(
        signed=accuracy["actual"]
        - accuracy["p50"].where(accuracy["p50"].notna(), accuracy["mean"]),
        abs_actual=accuracy["actual"].abs(),
    )
    grouped = frame.groupby(by, sort=True)
    scale = grouped["abs_actual"].sum()
    # a group whose outcomes are all zero has no meaningful relative error
    scale = scale.where(scale > 0)
    summary = pd.DataFrame(
        {
            "n": grouped.size(),
            "wape_pct": grouped[["abs_error", "actual"]].apply(_wape),
            "bias_pct": grouped["signed"].sum() / scale * 100.0,
            "coverage_80_pct": grouped["in_band_80"].mean() * 100.0,
        }
    )
    return summary.reset_index()


def drift_alerts(accuracy: pd.DataFrame, as_of: Any) -> list[dict[str, Any]]:
    """Products whose forecast accuracy is drifting, from realised past forecasts.

    Two signs, for subscriptions and redemptions: the p10–p90 band held fewer than
    ``DRIFT_COVERAGE_FLOOR`` of the outcomes of the last ``DRIFT_RECENT_DAYS`` days (it should
    hold 80 %), or the error of those days is ``DRIFT_ERROR_GROWTH`` times the error of the
    days before. At least ``DRIFT_MIN_POINTS`` realised values are needed for either.

    Args:
        accuracy: output of :func:`forecast_accuracy`.
        as_of: the report's as-of day.

    Returns:
        One dict per drifting (product, variable): ``product_id``, ``variable``, ``kind``
        (``"coverage"`` or ``"error_growth"``), ``coverage_pct``, ``wape_pct``,
        ``previous_wape_pct``, ``n``.
    """
    if accuracy.empty:
        return []
    cut = pd.Timestamp(as_of) - pd.Timedelta(days=DRIFT_RECENT_DAYS)
    found = []
    chosen = accuracy[accuracy["variable"].isin(DRIFT_VARIABLES)]
    for (product, variable), rows in chosen.groupby(["product_id", "variable"], sort=True):
        recent, before = rows[rows["date"] > cut], rows[rows["date"] <= cut]
        if len(recent) < DRIFT_MIN_POINTS:
            continue
        coverage = float(recent["in_band_80"].mean())
        wape = _wape(recent)
        previous = _wape(before) if len(before) >= DRIFT_MIN_POINTS else math.nan
        base = {
            "product_id": product,
            "variable": variable,
            "coverage_pct": coverage * 100.0,
            "wape_pct": wape,
            "previous_wape_pct": previous,
            "n": len(recent),
        }
        if math.isfinite(coverage) and coverage < DRIFT_COVERAGE_FLOOR:
            found.append({**base, "kind": "coverage"})
        elif math.isfinite(previous) and previous > 0 and wape > DRIFT_ERROR_GROWTH * previous:
            found.append({**base, "kind": "error_growth"})
    return found


def _wape(rows: pd.DataFrame) -> float:
    """WAPE of realised forecasts, percent (:func:`rainmaker.outcomes.wape_of_errors` × 100)."""
    return wape_of_errors(rows["abs_error"], rows["actual"]) * 100.0
