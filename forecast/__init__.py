"""The weather forecast: daily subscriptions (demand), redemptions, net flow and AUM of every
product, with calibrated quantiles and coherent sample paths.

Start with :func:`run_forecast` (one call) or :class:`Forecaster` (fit once, predict from any
later day). Models meet the contract of :class:`forecast.base.ForecastModel`; see
``docs/forecast.md`` for the models, features, censoring, calibration and measured accuracy.
"""

from forecast.api import (
    DEFAULT_MODELS,
    DEFAULT_QUANTILES,
    MAX_HORIZON_DAYS,
    MODEL_CLASSES,
    Forecaster,
    ForecastResult,
    check_horizon,
    make_model,
    model_names,
    run_forecast,
)
from forecast.base import ForecastFallbackWarning, ForecastModel
from forecast.panel import OUTPUT_VARIABLES, Panel, build_panel

__all__ = [
    "DEFAULT_MODELS",
    "DEFAULT_QUANTILES",
    "MAX_HORIZON_DAYS",
    "MODEL_CLASSES",
    "OUTPUT_VARIABLES",
    "ForecastFallbackWarning",
    "ForecastModel",
    "ForecastResult",
    "Forecaster",
    "Panel",
    "build_panel",
    "check_horizon",
    "make_model",
    "model_names",
    "run_forecast",
]
