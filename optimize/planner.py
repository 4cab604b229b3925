"""A planner object for notebooks: fit once on a day's data and forecast, then plan and re-plan.

``Planner(settings).fit(dataset, as_of, forecast)`` reads the plan inputs once (today's books,
rates, yields, the forecast's quantiles: :func:`optimize.inputs.inputs_from_forecast`);
``.plan()`` optimises them (:func:`optimize.plan.plan_from_inputs`) and returns the same
:class:`~optimize.plan.PlanResult` as :func:`optimize.make_plan` with the same arguments.
``.plan(overrides)`` is a what-if: the same data and forecast under changed settings
(``{"section": {"key": value}}``, checked as :meth:`PlanSettings.with_overrides` checks them).
The functional API stays: this class only remembers the data, the day and the forecast.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any, Self

import pandas as pd

from optimize.inputs import PlanInputs, inputs_from_forecast
from optimize.plan import PlanResult, plan_from_inputs
from optimize.settings import PlanSettings, load_settings
from rainmaker.contracts import ForecastResult
from rainmaker.dataset import Dataset
from rainmaker.errors import UsageError

__all__ = ["Planner"]


class Planner:
    """Plans of one as-of day, from one forecast, under any settings.

    Args:
        settings: a :class:`PlanSettings`, a mapping of overrides ``{"section": {"key":
            value}}`` applied to the defaults, or None for ``optimize/defaults.toml``.

    After :meth:`fit`: ``dataset_``, ``as_of_``, ``forecast_``, ``inputs_`` (the
    :class:`PlanInputs` for ``settings``) and ``warnings_`` (notes on the inputs).
    """

    def __init__(self, settings: PlanSettings | Mapping[str, Any] | None = None) -> None:
        if settings is None:
            self.settings = load_settings()
        elif isinstance(settings, PlanSettings):
            self.settings = settings
        else:
            self.settings = load_settings(overrides=settings)

    def fit(
        self,
        dataset: Dataset,
        as_of: str | pd.Timestamp,
        forecast: ForecastResult,
        *,
        holdings: pd.DataFrame | None = None,
        managed: Mapping[str, Mapping[str, float]] | None = None,
        borrowed: Mapping[str, float] | None = None,
    ) -> Self:
        """Read the plan inputs of ``as_of`` (rows dated after it are ignored).

        Args:
            dataset: the data set.
            as_of: today.
            forecast: the forecast from ``as_of`` (e.g. ``Forecaster(...).fit(...).predict()``).
            holdings, managed, borrowed: as for :func:`optimize.make_plan`.

        Returns:
            The fitted planner.

        Raises:
            UsageError, DataError: as :func:`optimize.make_plan` (bad day, forecast, data).
        """
        began = time.perf_counter()
        inputs, warnings = inputs_from_forecast(
            dataset, as_of, forecast, self.settings, holdings, managed=managed, borrowed=borrowed
        )
        self.inputs_seconds_ = time.perf_counter() - began
        self.dataset_ = dataset
        self.as_of_ = pd.Timestamp(inputs.as_of)
        self.forecast_ = forecast
        self.inputs_: PlanInputs = inputs
        self.warnings_ = tuple(warnings)
        self._holdings, self._managed, self._borrowed = holdings, managed, borrowed
        return self

    def plan(self, overrides: Mapping[str, Any] | None = None) -> PlanResult:
        """Optimise the plan; with ``overrides``, under the settings changed by them.

        Args:
            overrides: ``{"section": {"key": value}}`` on top of the planner's settings; the
                inputs are read again under the new settings (some shape them, e.g.
                ``liquidity.confidence``).

        Returns:
            The :class:`PlanResult`, carrying the data set and the forecast it was made from.

        Raises:
            UsageError: not fitted, or an unknown or invalid setting.
        """
        if not hasattr(self, "inputs_"):
            raise UsageError("the planner is not fitted; call fit(dataset, as_of, forecast) first")
        settings, inputs, warnings = self.settings, self.inputs_, self.warnings_
        seconds = self.inputs_seconds_
        if overrides:
            settings = settings.with_overrides(overrides)
            began = time.perf_counter()
            inputs, found = inputs_from_forecast(
                self.dataset_,
                self.as_of_,
                self.forecast_,
                settings,
                self._holdings,
                managed=self._managed,
                borrowed=self._borrowed,
            )
            warnings, seconds = tuple(found), time.perf_counter() - began
        result = plan_from_inputs(inputs, settings, warnings)
        timings = {"inputs": seconds, **result.timings}
        timings["total"] = timings["total"] + seconds
        return dataclasses.replace(
            result, timings=timings, dataset=self.dataset_, forecast=self.forecast_
        )

    def __repr__(self) -> str:
        if not hasattr(self, "inputs_"):
            return "Planner(not fitted)"
        inputs = self.inputs_
        return (
            f"Planner(as of {self.as_of_:%Y-%m-%d}, {len(inputs.product_ids)} products × "
            f"{len(inputs.dates)} days, confidence {self.settings.liquidity.confidence:g}, "
            f"forecast {self.forecast_.model_name})"
        )
