"""The contract every forecast model meets, in the manner of scikit-learn's estimators.

A model is a small object: hyper-parameters are set in ``__init__`` and kept unchanged, what it
learns gets a trailing underscore, :meth:`ForecastModel.fit` learns from a :class:`Panel` and
returns the model, and prediction never refits. Any model can therefore stand in for any other,
and a forecaster runs several side by side (:mod:`forecast.selection`).

Two ways to predict:

- :meth:`ForecastModel.predict` gives the long frame (``product_id, date, variable, mean``) for
  the days after the last day of a panel: the fitted one, or a later one with more rows, which
  is how a model fitted once forecasts every day of the following week without refitting;
- :meth:`ForecastModel.predict_at` gives arrays from many origins at once, which is what a
  rolling-origin backtest needs.

A model forecasts ``subscriptions`` (demand) and ``redemptions``; a product it cannot forecast
(too little history) gets NaN and the forecaster falls back to the next model with a
:class:`ForecastFallbackWarning`.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

from forecast.panel import MODELLED_VARIABLES, Panel

__all__ = [
    "ForecastFallbackWarning",
    "ForecastModel",
    "NotFittedError",
    "clone",
    "single_threaded_blas",
]


_controller: tuple[int, ThreadpoolController] | None = None


def single_threaded_blas() -> Any:
    """Context manager: BLAS on one thread. The models solve many tiny linear systems, for
    which OpenBLAS threads only add overhead; on a busy two-core machine they made the
    statistical baseline three times slower.

    The libraries are looked up once (a few milliseconds, and it happens several times a day
    in a backtest) and again only when a module was imported since, which is how a new BLAS
    library would be loaded."""
    global _controller
    if _controller is None or _controller[0] != len(sys.modules):
        _controller = (len(sys.modules), ThreadpoolController())
    return _controller[1].limit(limits=1, user_api="blas")


class ForecastFallbackWarning(UserWarning):
    """A product got its forecast from a fallback model (e.g. too little history)."""


class NotFittedError(RuntimeError):
    """``predict`` was called before ``fit``."""


class ForecastModel(ABC):
    """Base class of forecast models.

    Subclasses set :attr:`name` and :attr:`min_history_days` and implement :meth:`_fit` and
    :meth:`_predict_at`.

    Attributes:
        name: short key used on the command line and in reports.
        min_history_days: days of history a product needs at the origin to get a forecast.
        fitted_through_: last day whose data the model learned from (set by :meth:`fit`).
        history_: the panel it was fitted on.
    """

    name: ClassVar[str] = ""
    min_history_days: ClassVar[int] = 1

    def fit(self, history: Panel, end: int | None = None) -> Self:
        """Learn from the days of ``history`` up to position ``end`` (default: all of it).

        Args:
            history: the panel.
            end: last day position whose flows may be used (a backtest fits on a prefix).

        Returns:
            The fitted model.
        """
        last = history.n_days - 1 if end is None else int(end)
        if not 0 <= last < history.n_days:
            raise ValueError(f"end {end} is outside the panel of {history.n_days} days")
        with single_threaded_blas():
            self._fit(history, last)
        self.history_ = history
        self.fitted_through_ = pd.Timestamp(history.dates[last])
        return self

    def predict_at(
        self, history: Panel, origins: np.ndarray, horizon: int
    ) -> dict[str, np.ndarray]:
        """Point forecasts from several origin days of ``history``.

        Args:
            history: a panel holding the fitted days (possibly more).
            origins: origin positions in ``history``; none may precede the last fitted day
                (the model would have learned from the days it forecasts).
            horizon: days forecast after each origin.

        Returns:
            Per variable (``subscriptions``, ``redemptions``), an array
            (n_origins, n_products, horizon) in CNY, NaN where a product has too little
            history at the origin.
        """
        self._check_fitted()
        origins = np.asarray(origins, dtype=int)
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1 day, got {horizon}")
        first_allowed = int((self.fitted_through_ - history.dates[0]).days)
        if origins.size and (origins.min() < first_allowed or origins.max() >= history.n_days):
            raise ValueError(
                f"{self.name}: origins must lie between the last fitted day "
                f"{self.fitted_through_:%Y-%m-%d} and the end of the panel {history.as_of:%Y-%m-%d}"
            )
        return self._forecasts_from(history, origins, horizon)

    def _forecasts_from(
        self, history: Panel, origins: np.ndarray, horizon: int
    ) -> dict[str, np.ndarray]:
        with single_threaded_blas():
            forecasts = self._predict_at(history, origins, horizon)
        # A product without enough history at an origin gets no forecast from this model.
        short = (origins[:, None] - history.first_index[None, :] + 1) < self.min_history_days
        for variable in MODELLED_VARIABLES:
            values = forecasts[variable]
            values[short] = np.nan
            forecasts[variable] = np.maximum(values, 0.0)
        return forecasts

    def in_sample_at(
        self, history: Panel, origins: np.ndarray, horizon: int
    ) -> dict[str, np.ndarray]:
        """Point forecasts from origins inside the days the model learned from, with its fitted
        parameters: *in-sample* (the parameters saw the targets), so only for comparing the
        size of models' errors on the same days, never for scoring one.

        Unlike :meth:`predict_at`, no minimum history is required at an origin (a forecast is
        NaN only where the model has no fit for a product), and every target lies on or before
        the last fitted day (no day the model did not learn from is read).

        Args:
            history: the panel the model was fitted on (or one agreeing with it up to the last
                fitted day).
            origins: origin positions in ``history``.
            horizon: days forecast after each origin.

        Returns:
            Per variable, an array (n_origins, n_products, horizon) in CNY, ≥ 0 or NaN.

        Raises:
            ValueError: an origin's horizon runs past the last fitted day.
        """
        self._check_fitted()
        origins = np.asarray(origins, dtype=int)
        last_fitted = int((self.fitted_through_ - history.dates[0]).days)
        if origins.size and (origins.min() < 0 or origins.max() + horizon > last_fitted):
            raise ValueError(
                f"{self.name}: in-sample forecasts must end by the last fitted day "
                f"{self.fitted_through_:%Y-%m-%d}"
            )
        with single_threaded_blas():
            forecasts = self._predict_at(history, origins, horizon)
        return {variable: np.maximum(values, 0.0) for variable, values in forecasts.items()}

    def known_at(self, history: Panel, origins: np.ndarray, horizon: int) -> dict[str, np.ndarray]:
        """Point forecasts from origins whose every target is a known day of ``history``, with
        the fitted parameters: what the model would have said then, to size its recent errors
        (:meth:`forecast.api.Forecaster.predict` with ``adapt``). Where the fit saw the targets
        the forecasts are in-sample (as :meth:`in_sample_at`), so never for scoring a model.
        A product with too little history at an origin gets NaN, as in :meth:`predict_at`.

        Raises:
            ValueError: an origin before the panel or a target after its last day.
        """
        self._check_fitted()
        origins = np.asarray(origins, dtype=int)
        if origins.size and (origins.min() < 0 or origins.max() + horizon > history.n_days - 1):
            raise ValueError(
                f"{self.name}: known-day forecasts must end by the panel's last day "
                f"{history.as_of:%Y-%m-%d}"
            )
        return self._forecasts_from(history, origins, horizon)

    def predict(self, horizon: int, history: Panel | None = None) -> pd.DataFrame:
        """Point forecasts for the ``horizon`` days after the last day of ``history``.

        Args:
            horizon: days ahead.
            history: a panel extending the fitted one (default: the fitted panel).

        Returns:
            Long frame with columns ``product_id, date, variable, mean`` (CNY).
        """
        self._check_fitted()
        panel = self.history_ if history is None else history
        origin = np.array([panel.n_days - 1])
        forecasts = self.predict_at(panel, origin, horizon)
        dates = pd.date_range(panel.as_of + pd.Timedelta(days=1), periods=horizon, freq="D")
        frames = []
        for variable in MODELLED_VARIABLES:
            values = forecasts[variable][0]
            frames.append(
                pd.DataFrame(
                    {
                        "product_id": np.repeat(panel.product_ids, horizon),
                        "date": np.tile(dates, panel.n_products),
                        "variable": variable,
                        "mean": values.reshape(-1),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def _check_fitted(self) -> None:
        if not hasattr(self, "fitted_through_"):
            raise NotFittedError(f"model {self.name!r} is not fitted; call fit() first")

    @abstractmethod
    def _fit(self, history: Panel, end: int) -> None:
        """Learn from days ``0..end`` of ``history``."""

    @abstractmethod
    def _predict_at(
        self, history: Panel, origins: np.ndarray, horizon: int
    ) -> dict[str, np.ndarray]:
        """Forecasts (n_origins, n_products, horizon) per variable; NaN where impossible."""

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({params})"


def clone(model: ForecastModel) -> ForecastModel:
    """A new, unfitted model with the same hyper-parameters (like ``sklearn.base.clone``)."""
    params = {k: v for k, v in vars(model).items() if not k.endswith("_")}
    return type(model)(**params)
