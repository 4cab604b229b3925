"""Benchmarks that learn nothing: the weekly seasonal naive forecast and the recent mean.

The seasonal naive forecast of day ``t`` is the value of the latest day on the same weekday
known at the origin (``t − 7``, ``t − 14``, ...): the yardstick every model must beat (MASE is
scaled by its in-sample error). The recent mean, the mean of the last 28 days, is the last
resort for a product with less than a week of history.
"""

from __future__ import annotations

import numpy as np

from forecast.base import ForecastModel
from forecast.panel import MODELLED_VARIABLES, Panel

__all__ = ["RecentMean", "SeasonalNaive"]


class SeasonalNaive(ForecastModel):
    """Weekly seasonal naive: the last known value on the target's weekday.

    Subscriptions use the censoring-filled series of the panel (a capped day is replaced by a
    lower-bound-aware estimate), so a quota does not carry over into next week's forecast.
    """

    name = "seasonal_naive"
    min_history_days = 7

    def __init__(self, season_days: int = 7) -> None:
        self.season_days = season_days

    def _fit(self, history: Panel, end: int) -> None:
        return None

    def _predict_at(
        self, history: Panel, origins: np.ndarray, horizon: int
    ) -> dict[str, np.ndarray]:
        m = self.season_days
        steps = np.arange(1, horizon + 1)
        # The latest day ≤ origin on the same position in the season as origin + h.
        back = (m - steps % m) % m
        days = np.maximum(origins[:, None] - back[None, :], 0)
        out = {}
        for variable in MODELLED_VARIABLES:
            series = history.series(variable)
            out[variable] = np.transpose(series[days], (0, 2, 1)).copy()
        return out


class RecentMean(ForecastModel):
    """Mean of the last ``window_days`` days (fewer for a new product), flat over the horizon."""

    name = "recent_mean"
    min_history_days = 1

    def __init__(self, window_days: int = 28) -> None:
        self.window_days = window_days

    def _fit(self, history: Panel, end: int) -> None:
        return None

    def _predict_at(
        self, history: Panel, origins: np.ndarray, horizon: int
    ) -> dict[str, np.ndarray]:
        out = {}
        for variable in MODELLED_VARIABLES:
            series = history.series(variable)
            means = np.full((len(origins), history.n_products), np.nan)
            for i, origin in enumerate(origins):
                window = series[max(origin - self.window_days + 1, 0) : origin + 1]
                known = ~np.isnan(window)
                count = known.sum(axis=0)
                total = np.where(known, window, 0.0).sum(axis=0)
                means[i] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
            out[variable] = np.repeat(means[:, :, None], horizon, axis=2)
        return out
