"""The forecast as the other stages use it: :class:`Forecaster`, :func:`run_forecast` and
:class:`ForecastResult`.

``Forecaster.fit(dataset, as_of)`` does the expensive work once, on rows dated up to ``as_of``:

1. a rolling-origin backtest of every model over the last year (weekly origins, models refitted
   every quarter on the days before the origins they forecast);
2. selection by backtest WAPE, per flow, among the models and their equal-weight ensembles;
3. the final fit of every model on all days up to ``as_of``;
4. the exposure response curve of every product (:mod:`forecast.exposure`).

``Forecaster.predict(dataset, as_of2, horizon)`` then forecasts from any later day ``as_of2``
using only rows dated up to ``as_of2`` and the fitted models, without refitting: point forecasts
of the chosen candidate, sample paths from the backtest residual trajectories, and quantiles of
subscriptions (demand), redemptions, net flow and AUM. ``Forecaster.refit(dataset, as_of2)``
refits the models on newer data but keeps the selection and the residuals, which is the cheap
weekly refresh; a full ``fit`` every quarter or so renews both. A 365-day closed-loop backtest
therefore calls ``fit`` once, ``refit`` weekly and ``predict`` daily.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Self, TextIO

import numpy as np
import pandas as pd

from forecast.arima import CalendarARIMA
from forecast.backtest import BacktestRun, refit_folds, rolling_origins, run_backtest
from forecast.base import ForecastFallbackWarning, ForecastModel, clone, single_threaded_blas
from forecast.booking import (
    DAYS_OFF_LOOKBACK,
    WEIGHT_LOOKBACK_DAYS,
    book_days_off,
    borrow_weekday_error,
    days_off_before,
    holiday_shares,
    shut_on_days_off,
    weekend_shares,
)
from forecast.calibration import (
    DEFAULT_HALF_LIFE_DAYS,
    RECENT_ERROR_DAYS,
    centre_residuals,
    error_ratio,
    log_residuals,
    origin_weights,
    recent_error_factor,
    widen_residuals,
)
from forecast.exposure import RESPONSE_COLUMNS, fit_exposure_response
from forecast.features import FeatureContext, feature_context
from forecast.global_model import GlobalLightGBM
from forecast.naive import RecentMean, SeasonalNaive
from forecast.panel import MODELLED_VARIABLES, OUTPUT_VARIABLES, Panel, build_panel
from forecast.paths import (
    DORMANT_DAYS,
    aum_paths,
    closed_since,
    dormant,
    flow_paths,
    path_quantiles,
)
from forecast.selection import (
    GLOBAL_MODELS,
    Candidate,
    candidate_forecast,
    product_overrides,
    score_candidates,
    select,
)
from forecast.statistical import CalendarETS
from forecast.theta import CalendarTheta
from rainmaker.china_calendar import workday_flags
from rainmaker.contracts import ForecastResult
from rainmaker.dataset import Dataset, parse_day
from rainmaker.errors import UsageError, first_few
from rainmaker.progress import Progress, stage_steps
from rainmaker.quantiles import DEFAULT_QUANTILES, quantile_label

__all__ = [
    "COLLAPSED_INTERVALS",
    "DEFAULT_MODELS",
    "DEFAULT_QUANTILES",
    "MAX_HORIZON_DAYS",
    "MODEL_CLASSES",
    "ForecastResult",
    "Forecaster",
    "check_horizon",
    "make_model",
    "model_names",
    "run_forecast",
]

MODEL_CLASSES: dict[str, type[ForecastModel]] = {
    "seasonal_naive": SeasonalNaive,
    "ets": CalendarETS,
    "theta": CalendarTheta,
    "arima": CalendarARIMA,
    "lightgbm": GlobalLightGBM,
    "recent_mean": RecentMean,
}
DEFAULT_MODELS = ("seasonal_naive", "ets", "lightgbm")
# The models that choose a form per product and flow by AICc at a full fit (``chosen_forms()``)
# and keep it at a refit (``chosen``).
FORM_CHOOSING_MODELS = (CalendarETS, CalendarARIMA)
# the progress stage of Forecaster.fit (rainmaker.progress)
FIT_STAGE = "forecast: fitting models"
# The end of the note a forecast from too short a history carries (evaluate-forecast counts the
# origins whose forecasts carry it: their coverage is no measure of the intervals).
COLLAPSED_INTERVALS = "the intervals cannot be estimated and collapse onto the point forecast"

# The longest horizon served, days: a year. Beyond it the year-ago feature would be a day after
# the as-of day and the sample paths grow without bound; longer horizons are refused up front.
MAX_HORIZON_DAYS = 365
# Who forecasts a product the chosen model cannot (too little history), in this order.
FALLBACK_ORDER = ("lightgbm", "ets", "seasonal_naive", "recent_mean")


def make_model(
    name: str, *, horizon: int = 14, seed: int = 0, n_jobs: int = 2, **params: Any
) -> ForecastModel:
    """A new model by name with the forecaster's horizon, seed and threads where it has them.

    Raises:
        UsageError: unknown name (the message lists the known ones).
    """
    if name not in MODEL_CLASSES:
        raise UsageError(
            f"unknown forecast model {name!r}; expected one of {', '.join(MODEL_CLASSES)}"
        )
    cls = MODEL_CLASSES[name]
    if cls is GlobalLightGBM:
        return GlobalLightGBM(**{"max_horizon": horizon, "seed": seed, "n_jobs": n_jobs, **params})
    return cls(**params)


def model_names(model: str) -> tuple[str, ...]:
    """The models named by ``auto``, a model name, a comma-separated list of them, or one
    combination of them as ``auto`` reports its choice (``ets+lightgbm``, their mean;
    ``median(ets+theta+lightgbm)``): the combination's members.

    Raises:
        UsageError: an unknown name (the message lists the known ones) or an empty list.
    """
    if model == "auto":
        return DEFAULT_MODELS
    items = [m.strip() for m in model.split(",")]
    combined = combination(model)
    names = Candidate.parse(combined).members if combined else tuple(items)
    unknown = [name for name in names if name not in MODEL_CLASSES]
    if unknown or not names or "" in names:
        shown = ", ".join(repr(n) for n in unknown) or repr(model)
        raise UsageError(
            f"unknown forecast model {shown}; expected one of {', '.join(MODEL_CLASSES)}, "
            "a comma-separated list of them to choose from, or one combination such as "
            "ets+lightgbm (their mean) or median(ets+theta+lightgbm)"
        )
    return tuple(dict.fromkeys(names))


def combination(model: str | None) -> str | None:
    """``model`` when it names one combination of models (``a+b``, ``median(a+b+c)``), the
    candidate to forecast with; None for ``auto``, a name or a list to choose from."""
    if model is None or "," in model or "+" not in model:
        return None
    return model.strip()


def check_horizon(horizon: int, what: str = "horizon") -> None:
    """Refuse a forecast horizon outside 1..:data:`MAX_HORIZON_DAYS` days (exit status 2)."""
    if not 1 <= horizon <= MAX_HORIZON_DAYS:
        raise UsageError(
            f"{what} must be from 1 to {MAX_HORIZON_DAYS} days (a year), got {horizon}"
        )


def _table(
    paths: dict[str, np.ndarray],
    product_ids: Sequence[str],
    dates: pd.DatetimeIndex,
    quantiles: Sequence[float],
) -> pd.DataFrame:
    n_products, horizon = len(product_ids), len(dates)
    ids = list(product_ids)
    if ids == sorted(set(ids)) and dates.is_monotonic_increasing and dates.is_unique:
        # Already in the table's order (product, date, variable): laid out directly, the same
        # frame as the sort below gives, without building and sorting four frames.
        columns: dict[str, Any] = {
            "product_id": np.repeat(np.asarray(ids, dtype=object), horizon * len(OUTPUT_VARIABLES)),
            "date": np.tile(np.repeat(dates.to_numpy(), len(OUTPUT_VARIABLES)), n_products),
            "variable": np.tile(np.asarray(OUTPUT_VARIABLES, dtype=object), n_products * horizon),
        }
        means = np.stack([paths[v].mean(axis=1) for v in OUTPUT_VARIABLES], axis=-1)
        columns["mean"] = means.reshape(-1)
        levels = np.stack([path_quantiles(paths[v], quantiles) for v in OUTPUT_VARIABLES], -1)
        for q, level in zip(quantiles, levels, strict=True):
            columns[quantile_label(q)] = level.reshape(-1)
        return pd.DataFrame(columns)
    frames = []
    for variable in OUTPUT_VARIABLES:
        values = paths[variable]
        frame = pd.DataFrame(
            {
                "product_id": np.repeat(np.asarray(product_ids, dtype=object), horizon),
                "date": np.tile(dates.to_numpy(), n_products),
                "variable": variable,
                "mean": values.mean(axis=1).reshape(-1),
            }
        )
        levels = path_quantiles(values, quantiles)  # (n_q, n_products, horizon)
        for q, level in zip(quantiles, levels, strict=True):
            frame[quantile_label(q)] = level.reshape(-1)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    order = {v: i for i, v in enumerate(OUTPUT_VARIABLES)}
    table = table.sort_values(
        ["product_id", "date", "variable"],
        key=lambda c: c.map(order) if c.name == "variable" else c,
        kind="stable",
        ignore_index=True,
    )
    return table


class Forecaster:
    """Fit once, forecast from any later day: models, selection, calibration and paths.

    Args:
        models: model names to run side by side (see :data:`MODEL_CLASSES`).
        model: instead of ``models``, :func:`run_forecast`'s ``model``: ``auto``, a model name
            or comma-separated names to select among (keyword only).
        horizon: the longest horizon to forecast (days); backtests and calibration use it.
        quantiles: quantile levels of the output table.
        n_paths: sample paths per forecast.
        backtest_days: days of rolling origins used for selection and calibration.
        step_days: days between backtest origins.
        refit_every_days: days between model refits inside the backtest.
        seed: seed of every random choice (row sampling, LightGBM, paths).
        n_jobs: threads for LightGBM (≤ 2 on the project's machines).
        model_params: per model name, hyper-parameters passed to its constructor.
        estimate_exposure_response: fit the exposure response curves in :meth:`fit`.
        backtest_max_train_rows: cap on the global model's training rows in the backtest
            folds, which only select and calibrate (the final fit uses the model's own cap).
        half_life_days: recency half-life of the backtest origins in calibration (sample
            paths draw an origin with weight halving every this many days back) and in
            selection; ``None`` weighs every origin alike.
        centre: centre each product's residuals on their weighted median per horizon, so the
            median forecast is the point forecast and an old trend in the errors does not carry
            over (:func:`forecast.calibration.centre_residuals`).
        widen: scale the centred residuals by the finite-sample conformal factor of their
            effective number, so that the p10-p90 band covers 80 % on average rather than
            ``0.8 (n − 1)/(n + 1)`` (:func:`forecast.calibration.widen_residuals`); also the
            seasonal naive's errors that stand in when the panel is too short for a backtest,
            once sized to the candidate's (:meth:`residuals`).
        adapt: widen a product's band when the errors of the forecast made a week before the
            as-of day were larger than the backtest's usually are at the same horizons
            (:func:`forecast.calibration.recent_error_factor`; the result's warnings name the
            products). Off by default: docs/forecast.md, "Bands that follow the last week".
    """

    def __init__(
        self,
        models: Sequence[str] = DEFAULT_MODELS,
        horizon: int = 14,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        n_paths: int = 200,
        backtest_days: int = 364,
        step_days: int = 7,
        refit_every_days: int = 91,
        seed: int = 0,
        n_jobs: int = 2,
        model_params: Mapping[str, Mapping[str, Any]] | None = None,
        estimate_exposure_response: bool = True,
        backtest_max_train_rows: int = 60_000,
        half_life_days: float | None = DEFAULT_HALF_LIFE_DAYS,
        centre: bool = True,
        widen: bool = True,
        *,
        model: str | None = None,
        adapt: bool = False,
    ) -> None:
        # ``model`` is run_forecast's spelling ("auto", a name, or names to select among);
        # given, it decides the models, so that Forecaster(model=m) forecasts as run_forecast
        self.model = model
        self.models = tuple(models) if model is None else model_names(model)
        self.horizon = int(horizon)
        self.quantiles = tuple(float(q) for q in quantiles)
        self.n_paths = int(n_paths)
        self.backtest_days = int(backtest_days)
        self.step_days = int(step_days)
        self.refit_every_days = int(refit_every_days)
        self.seed = int(seed)
        self.n_jobs = int(n_jobs)
        self.model_params = {k: dict(v) for k, v in (model_params or {}).items()}
        self.estimate_exposure_response = estimate_exposure_response
        self.backtest_max_train_rows = int(backtest_max_train_rows)
        self.half_life_days = None if half_life_days is None else float(half_life_days)
        self.centre = bool(centre)
        self.widen = bool(widen)
        self.adapt = bool(adapt)
        self._check_settings()

    def _check_settings(self) -> None:
        if not self.models:
            raise UsageError(
                f"no forecast model given; expected at least one of {', '.join(MODEL_CLASSES)}"
            )
        for name in self.models:
            make_model(name)  # raises UsageError on an unknown name
        check_horizon(self.horizon)
        if any(not 0.0 < q < 1.0 for q in self.quantiles):
            raise UsageError(
                f"quantile levels must lie strictly between 0 and 1, got {self.quantiles}"
            )
        if self.n_paths < 1:
            raise UsageError(f"n_paths must be at least 1, got {self.n_paths}")
        if self.half_life_days is not None and not self.half_life_days > 0:
            raise UsageError(f"half_life_days must be positive, got {self.half_life_days}")

    def _new_model(self, name: str, *, backtest: bool = False) -> ForecastModel:
        params = dict(self.model_params.get(name, {}))
        if backtest and name == "lightgbm":
            # Backtest fits only select and calibrate: a smaller sample of rows is enough, and
            # capped days, whose residuals calibration lifts to their bound anyway, are left
            # out instead of imputed (one booster less per fold).
            limit = int(params.get("max_train_rows", 120_000))
            params["max_train_rows"] = min(limit, self.backtest_max_train_rows)
            params.setdefault("censoring", "drop")
        return make_model(name, horizon=self.horizon, seed=self.seed, n_jobs=self.n_jobs, **params)

    # ------------------------------------------------------------------ fitting

    def fit(
        self,
        dataset: Dataset,
        as_of: str | pd.Timestamp | None = None,
        *,
        progress: Progress | None = None,
    ) -> Self:
        """Backtest, select, fit every model and the exposure response on rows ≤ ``as_of``.

        Args:
            dataset: the data set (rows after ``as_of`` are ignored).
            as_of: the last day the forecaster may learn from (default: last flows day).
            progress: told of each model fitted (the backtest's folds, then the final fits):
                stage :data:`FIT_STAGE` (:mod:`rainmaker.progress`).

        Returns:
            The fitted forecaster.
        """
        panel = build_panel(dataset, as_of)
        # the fitted state remembers what it learned from, so predict() needs no arguments
        self.dataset_ = dataset
        self.warnings_: list[str] = []
        templates = [self._new_model(name, backtest=True) for name in self.models]
        origins = rolling_origins(panel, self.horizon, self.backtest_days, self.step_days)
        # the steps: each model on each backtest fold, each final fit, the exposure response
        final = len(self._final_names()) + int(self.estimate_exposure_response)
        steps = stage_steps(
            progress,
            FIT_STAGE,
            len(templates) * refit_folds(origins, self.refit_every_days) + final,
        )
        self.backtest_: BacktestRun | None = None
        self.scores_ = pd.DataFrame(columns=["candidate", "variable", "wape", "n_scored"])
        self.overrides_: dict[str, dict[str, Candidate]] = {}
        # The exposure response reads only the panel: with two threads allowed it is estimated
        # on a thread of its own from the start, in the gaps the backtest leaves (LightGBM
        # trains and predicts in C, without the GIL; the feature grids are numpy). BLAS stays
        # on one thread for the whole fit, so the models' own limits nest whichever thread
        # enters or leaves them first.
        with (
            single_threaded_blas(),
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=EXPOSURE_THREAD) as pool,
        ):
            exposure = (
                pool.submit(fit_exposure_response, panel)
                if self.estimate_exposure_response and self.n_jobs >= 2
                else None
            )
            self._backtest_and_select(panel, templates, origins, steps.tick)
            self._residual_cache: dict[tuple[str, str], np.ndarray] = {}
            self._weight_cache: dict[tuple[str, str], np.ndarray] = {}
            self.calibration_panel_ = panel
            self._fit_models(panel, steps.tick, exposure)
        # the models of this fit size the stand-in errors of a short panel (a later refit
        # replaces models_, not the calibration)
        self.calibration_models_ = dict(self.models_)
        return self

    def _backtest_and_select(
        self,
        panel: Panel,
        templates: list[ForecastModel],
        origins: np.ndarray,
        tick: Callable[[], None],
    ) -> None:
        """The backtest over ``origins``, the scores, the selection and the overrides."""
        if origins.size:
            with _recorded_warnings() as caught:
                warnings.simplefilter("always", ForecastFallbackWarning)
                self.backtest_ = run_backtest(
                    panel, templates, origins, self.horizon, self.refit_every_days, tick
                )
            self._note(*caught)
            weights = origin_weights(self.backtest_.origins, self.half_life_days)
            self.scores_ = score_candidates(self.backtest_, self.models, weights)
            self.selection_ = select(self.scores_)
            self.overrides_ = product_overrides(
                self.backtest_, self.models, self.selection_, panel.product_ids, weights
            )
        else:
            default = _default_candidate(self.models)
            self._note(
                f"only {panel.n_days} days of history up to {panel.as_of:%Y-%m-%d}: too few "
                f"for a backtest; using {default.name} and seasonal-naive error intervals"
            )
            self.selection_ = {}
        for variable in MODELLED_VARIABLES:
            self.selection_.setdefault(variable, _default_candidate(self.models))

    def refit(self, dataset: Dataset, as_of: str | pd.Timestamp | None = None) -> Self:
        """Refit the models (and exposure response) on rows ≤ ``as_of``; keep the selection
        and the backtest residuals of the last :meth:`fit`.

        Returns:
            The forecaster, now fitted through ``as_of``.
        """
        self._check_fitted()
        panel = build_panel(dataset, as_of)
        if panel.as_of < self.as_of_:
            raise UsageError(
                f"refit as of {panel.as_of:%Y-%m-%d} precedes the last fit "
                f"({self.as_of_:%Y-%m-%d}); use fit() to go back in time"
            )
        self.dataset_ = dataset
        # the ETS form and the ARIMA order, like the candidate, are chosen with the backtest of
        # the last fit: a refit re-estimates each product's chosen form (one Holt-Winters or
        # ARIMA fit, not one per form)
        kept = {
            name: model.chosen_forms()
            for name, model in self.models_.items()
            if isinstance(model, FORM_CHOOSING_MODELS)
        }
        self._fit_models(panel, chosen_forms=kept)
        return self

    def _final_names(self) -> list[str]:
        """The models of the final fit: the chosen ones and the fallbacks."""
        return list(dict.fromkeys((*self.models, "seasonal_naive", "recent_mean")))

    def _fit_models(
        self,
        panel: Panel,
        tick: Callable[[], None] | None = None,
        exposure: Future[pd.DataFrame] | None = None,
        chosen_forms: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
    ) -> None:
        """Fit the final models on ``panel``, and the exposure response unless ``exposure``
        is already being estimated (its result is then awaited here); ``chosen_forms``: per
        model name, the form of each product to keep (:meth:`CalendarETS.chosen_forms`, the
        Holt-Winters form; :meth:`CalendarARIMA.chosen_forms`, the ARIMA order)."""
        self.models_: dict[str, ForecastModel] = {}
        names = self._final_names()
        templates = {name: self._new_model(name) for name in names}
        for name, forms in (chosen_forms or {}).items():
            template = templates.get(name)
            if isinstance(template, FORM_CHOOSING_MODELS):
                template.chosen = forms

        def fit(name: str) -> ForecastModel | ValueError:
            try:
                return clone(templates[name]).fit(panel)
            except ValueError as error:
                return error
            finally:
                if tick is not None:
                    tick()

        # LightGBM trains in C, without the GIL: with two threads allowed it fits on a thread
        # of its own while the other models fit here (the models share nothing; BLAS stays on
        # one thread for the whole time, so the models' own limits nest).
        # The exposure response, unless fit() started it already, is estimated here meanwhile:
        # at 1,000 products it takes about as long as the boosters, and it reads only the panel.
        background = [name for name in names if name == "lightgbm" and self.n_jobs >= 2]
        fitted: dict[str, ForecastModel | ValueError] = {}
        with single_threaded_blas(), ThreadPoolExecutor(max_workers=1) as pool:
            futures = {name: pool.submit(fit, name) for name in background}
            for name in names:
                if name not in futures:
                    fitted[name] = fit(name)
            self._fit_exposure_response(panel, tick, exposure)
            for name, future in futures.items():
                fitted[name] = future.result()
        for name in names:
            model = fitted[name]
            if isinstance(model, ValueError):
                self._note(f"{name} could not be fitted up to {panel.as_of:%Y-%m-%d}: {model}")
            else:
                self.models_[name] = model
        self.panel_ = panel
        self.as_of_ = panel.as_of

    def _fit_exposure_response(
        self,
        panel: Panel,
        tick: Callable[[], None] | None = None,
        running: Future[pd.DataFrame] | None = None,
    ) -> None:
        if self.estimate_exposure_response:
            self.exposure_response_ = (
                fit_exposure_response(panel) if running is None else running.result()
            )
            if tick is not None:
                tick()
        else:
            self.exposure_response_ = pd.DataFrame(
                index=pd.Index(panel.product_ids, name="product_id"), columns=RESPONSE_COLUMNS
            )

    def _note(self, *messages: str) -> None:
        for message in messages:
            if message not in self.warnings_:
                self.warnings_.append(message)

    def __repr__(self) -> str:
        state = (
            f"fitted through {self.as_of_:%Y-%m-%d}" if hasattr(self, "as_of_") else "not fitted"
        )
        chosen = getattr(self, "selection_", {})
        picked = (
            ", selected " + ", ".join(f"{v}={c.name}" for v, c in chosen.items()) if chosen else ""
        )
        return (
            f"Forecaster(models={'+'.join(self.models)}, horizon={self.horizon}, "
            f"backtest_days={self.backtest_days}, {state}{picked})"
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise UsageError("the forecaster is not fitted; call fit(dataset, as_of) first")

    # ------------------------------------------------------------------ residuals

    def residuals(
        self,
        candidate: Candidate,
        variable: str,
        product_ids: Sequence[str] | None = None,
        overrides: Mapping[str, Candidate] | None = None,
    ) -> np.ndarray:
        """Backtest residual trajectories of a candidate on the log scale.

        Args:
            candidate: the model or ensemble.
            variable: ``subscriptions`` or ``redemptions``.
            product_ids: the products wanted, in order (default: those of the last
                :meth:`fit`); a product the backtest did not see gets NaN.
            overrides: product_id -> the candidate whose residuals that product gets instead
                (the products :func:`forecast.selection.product_overrides` took off the global
                model).

        Returns:
            Array (n_origins, n_products, horizon); without a backtest (short history) the
            seasonal naive's errors inside the panel stand in, each product's multiplied by
            the ratio of the candidate's one-day-ahead errors to the naive's on the same days
            (in-sample, :func:`forecast.calibration.error_ratio`) and then widened like a
            backtest's.
        """
        pool = self._residual_pool(candidate, variable)
        if overrides:
            pool = pool.copy()
            for p, product_id in enumerate(self.calibration_panel_.product_ids):
                if product_id in overrides:
                    pool[:, p] = self._residual_pool(overrides[product_id], variable)[:, p]
        if product_ids is None:
            return pool
        order = {pid: i for i, pid in enumerate(self.calibration_panel_.product_ids)}
        columns = np.array([order.get(pid, -1) for pid in product_ids], dtype=int)
        out = np.full((pool.shape[0], len(columns), pool.shape[2]), np.nan)
        known = columns >= 0
        out[:, known] = pool[:, columns[known]]
        return out

    def _residual_pool(self, candidate: Candidate, variable: str) -> np.ndarray:
        key = (candidate.name, variable)
        if key not in self._residual_cache:
            run = self.backtest_
            stand_in = self._stands_in(candidate)
            if stand_in:
                run = self._naive_run()
                members = Candidate(("seasonal_naive",))
            else:
                members = candidate
            assert run is not None  # stand_in covers a missing backtest
            forecast = candidate_forecast(
                {name: run.forecasts[name][variable] for name in members.members}, members
            )
            censored = run.censored if variable == "subscriptions" else None
            residuals = log_residuals(forecast, run.truth[variable], run.scale[variable], censored)
            weights = origin_weights(run.origins, self.half_life_days)
            if self.centre:
                residuals = centre_residuals(residuals, weights)
            if stand_in:
                # The seasonal naive's errors are those of a worse model than the candidate,
                # and inside a young product's panel they include its launch ramp and any
                # holiday: sized to the candidate's errors by the ratio of the two models'
                # one-day-ahead errors on the same days of the panel (their shape over the
                # horizon and the link between products and flows are kept).
                residuals = residuals * self._stand_in_ratio(candidate, variable)[None, :, None]
            if self.widen:
                residuals = widen_residuals(residuals, weights)
            self._residual_cache[key] = residuals
            self._weight_cache[key] = weights
        return self._residual_cache[key]

    def _stands_in(self, candidate: Candidate) -> bool:
        """The candidate has no backtest residuals: the seasonal naive's stand in."""
        run = self.backtest_
        return run is None or any(name not in run.forecasts for name in candidate.members)

    def residual_weights(self, candidate: Candidate, variable: str) -> np.ndarray:
        """Recency weights of the origins of :meth:`residuals` (n_origins,), summing to 1."""
        self._residual_pool(candidate, variable)
        return self._weight_cache[(candidate.name, variable)]

    def _stand_in_ratio(self, candidate: Candidate, variable: str) -> np.ndarray:
        """Per product, how large the candidate's errors are against the seasonal naive's
        (:func:`forecast.calibration.error_ratio`), measured on one-day-ahead forecasts from
        every day of the calibration panel a week after the product's first day, with the
        models fitted in :meth:`fit` (in-sample: nothing after the as-of day is read). Capped
        subscription days are left out (the outcome is only a bound). 1 where the candidate has
        no forecast for the product (it is then forecast by the seasonal naive or a fallback)
        or fewer than :data:`forecast.calibration.MIN_RATIO_ERRORS` days are paired.
        """
        panel = self.calibration_panel_
        models = self.calibration_models_
        own_candidate = candidate.among(models)
        members = own_candidate.members
        naive = models.get("seasonal_naive")
        origins = np.arange(SeasonalNaive.min_history_days - 1, panel.n_days - 1)
        if naive is None or not members or origins.size == 0:
            return np.ones(panel.n_products)
        targets = origins + 1
        truth = (panel.subscriptions if variable == "subscriptions" else panel.redemptions)[targets]
        scale = feature_context(panel, 1).states[variable].scale[origins]
        own = candidate_forecast(
            {
                name: models[name].in_sample_at(panel, origins, 1)[variable][:, :, 0]
                for name in members
            },
            own_candidate,
        )
        reference = naive.in_sample_at(panel, origins, 1)[variable][:, :, 0]
        # a week of the product's own history behind the seasonal naive's forecast; capped
        # subscriptions say nothing of the error
        usable = targets[:, None] - panel.first_index[None, :] >= SeasonalNaive.min_history_days
        if variable == "subscriptions":
            usable &= ~panel.censored[targets]

        def errors(forecast: np.ndarray) -> np.ndarray:
            # log-scale errors of one-day-ahead forecasts (n_origins, n_products), NaN where
            # not usable
            one_day = log_residuals(forecast[:, :, None], truth[:, :, None], scale)[:, :, 0]
            return np.where(usable, one_day, np.nan)

        return error_ratio(errors(own), errors(reference))

    def _naive_run(self) -> BacktestRun:
        """Seasonal-naive errors over every possible origin of a short panel (no fitting)."""
        panel = self.calibration_panel_
        origins = np.arange(6, panel.n_days - self.horizon)
        if origins.size == 0:
            self._note(f"fewer than {7 + self.horizon} days of history: {COLLAPSED_INTERVALS}")
        return run_backtest(panel, [SeasonalNaive()], origins, self.horizon, 10**6)

    # ------------------------------------------------------------------ prediction

    def unfitted_reason(self, model: str) -> str | None:
        """Why ``model`` (a name or an ensemble such as ``ets+lightgbm``) cannot forecast with
        this fit, or None when nothing stops it: one of its members was among the forecaster's
        models but its fit failed (too little history, no training rows), with the fit's
        warning. A member the forecaster was never given is no fit failure (None here;
        :meth:`predict` refuses it as unknown)."""
        self._check_fitted()
        members = Candidate.parse(model).members
        failed = [name for name in members if name not in self.models_ and name in self.models]
        if not failed:
            return None
        reasons = [note for note in self.warnings_ if note.startswith(tuple(failed))]
        return "; ".join(reasons) or f"{', '.join(failed)} could not be fitted"

    def predict(
        self,
        dataset: Dataset | None = None,
        as_of: str | pd.Timestamp | None = None,
        horizon: int | None = None,
        model: str | None = None,
    ) -> ForecastResult:
        """Forecast the ``horizon`` days after ``as_of`` from rows dated ≤ ``as_of``.

        Args:
            dataset: the data set (rows after ``as_of`` are ignored); default: the one of the
                last :meth:`fit` or :meth:`refit`.
            as_of: the forecast origin, on or after the day the forecaster was fitted through
                (default: that day when ``dataset`` is omitted, else the last flows day).
            horizon: days ahead, at most the forecaster's horizon (default: it).
            model: a candidate instead of the selected one: a model name or an ensemble such
                as ``ets+lightgbm`` (models must be among the forecaster's); default: the
                forecaster's ``model`` when it names a combination, else the selection.

        Returns:
            The :class:`ForecastResult`.

        Raises:
            UsageError: not fitted, ``as_of`` before the fit, horizon too long, unknown model.
        """
        self._check_fitted()
        if model is None:  # Forecaster(model="a+b") forecasts with that combination
            model = combination(self.model)
        if dataset is None:
            dataset = self.dataset_
            as_of = self.as_of_ if as_of is None else as_of
        horizon = self.horizon if horizon is None else int(horizon)
        if not 1 <= horizon <= self.horizon:
            raise UsageError(
                f"horizon {horizon} is outside 1..{self.horizon}, the horizon the forecaster "
                "was fitted for; fit a Forecaster with a longer horizon"
            )
        panel = self._panel_at(dataset, as_of)
        if panel.as_of < self.as_of_:
            raise UsageError(
                f"as-of day {panel.as_of:%Y-%m-%d} precedes the day the forecaster was fitted "
                f"through ({self.as_of_:%Y-%m-%d}): its models have seen later data; "
                "fit it again as of that day"
            )
        overrides: dict[str, dict[str, Candidate]] = {}
        if model is None or model == "auto":
            chosen = dict(self.selection_)
            overrides = getattr(self, "overrides_", {})
            label = "auto(" + ", ".join(f"{v}={c.name}" for v, c in chosen.items()) + ")"
        else:
            candidate = Candidate.parse(model)
            unknown = [name for name in candidate.members if name not in self.models_]
            reason = self.unfitted_reason(model)
            if reason is not None:
                # asked of this forecaster, whose fit could not fit it: say why, not "unknown"
                raise UsageError(
                    f"model {model!r} cannot forecast: {reason}; the fitted models are "
                    f"{', '.join(self.models_) or 'none'}"
                )
            if unknown:
                raise UsageError(
                    f"model {model!r} was not fitted by this forecaster; expected one of "
                    f"{', '.join(self.models_)} or an ensemble like a+b (their mean) or "
                    "median(a+b+c)"
                )
            chosen = dict.fromkeys(MODELLED_VARIABLES, candidate)
            label = candidate.name
        # the residuals first: a short panel's are made on first use and note that its
        # intervals collapse onto the point forecast, a note the notes must carry (taken
        # before, it was lost: p05 = p95 without a word)
        residuals = {
            variable: self.residuals(
                candidate, variable, panel.product_ids, overrides.get(variable)
            )[:, :, :horizon]
            for variable, candidate in chosen.items()
        }
        notes = list(self.warnings_)
        point = self._point_forecasts(panel, chosen, horizon, notes, overrides)
        context = feature_context(panel, horizon)
        scale = {v: context.states[v].scale[-1] for v in MODELLED_VARIABLES}
        if self.adapt:
            residuals = self._adapted(panel, chosen, overrides, context, residuals, notes)
        rng = np.random.default_rng([self.seed, int(panel.as_of.toordinal())])
        # Both flows of a path replay the same origin: one set of weights (the backtest's).
        first = MODELLED_VARIABLES[0]
        weights = self.residual_weights(chosen[first], first)
        paths = flow_paths(point, scale, residuals, self.n_paths, rng, weights)
        dates = pd.date_range(
            panel.as_of + pd.Timedelta(days=1), periods=horizon, freq="D", name="date"
        )
        _shut_days_off(panel, dates, point, paths, notes, rng)
        _shut_dormant(panel, point, paths, notes)
        paths["redemptions"], paths["aum"] = aum_paths(
            np.nan_to_num(panel.aum[-1], nan=0.0),
            _income_rate(panel),
            paths["subscriptions"],
            paths["redemptions"],
        )
        paths["net_flow"] = paths["subscriptions"] - paths["redemptions"]
        baseline = _baseline_exposure(context.exposure_baseline, panel, horizon)
        return ForecastResult(
            table=_table(paths, panel.product_ids, dates, self.quantiles),
            paths=paths,
            product_ids=panel.product_ids,
            baseline_exposure=pd.DataFrame(
                baseline.T, index=dates, columns=list(panel.product_ids)
            ),
            exposure_response=self.exposure_response_.reindex(list(panel.product_ids)),
            model_name=label,
            as_of=panel.as_of,
            horizon=horizon,
            quantiles=self.quantiles,
            point=point,
            scores=self.scores_.copy(),
            warnings=tuple(dict.fromkeys(notes)),
        )

    def _adapted(
        self,
        panel: Panel,
        chosen: Mapping[str, Candidate],
        overrides: Mapping[str, Mapping[str, Candidate]],
        context: FeatureContext,
        residuals: dict[str, np.ndarray],
        notes: list[str],
    ) -> dict[str, np.ndarray]:
        """The residuals, each product's scaled by :func:`recent_error_factor` of the errors
        of the forecast made :data:`RECENT_ERROR_DAYS` days before the panel's last day (all
        its days known by then; the models' parameters are those of the fit, made on rows up
        to the as-of day at the latest). Capped subscription days are left out."""
        k = RECENT_ERROR_DAYS
        origin = panel.n_days - 1 - k
        if origin < SeasonalNaive.min_history_days:
            return residuals
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ForecastFallbackWarning)
            earlier = self._point_forecasts(panel, dict(chosen), k, [], overrides, origin)
        days = slice(origin + 1, origin + 1 + k)
        out = dict(residuals)
        for variable, forecast in earlier.items():
            if self._stands_in(chosen[variable]):
                # a panel too short for a backtest: the stand-in errors are already the
                # product's own recent weeks, sized to the candidate's
                continue
            truth = panel.subscriptions if variable == "subscriptions" else panel.redemptions
            truth = truth[days].T
            if variable == "subscriptions":
                truth = np.where(panel.censored[days].T, np.nan, truth)
            scale = context.states[variable].scale[origin]
            errors = log_residuals(forecast[None], truth[None], scale[None])[0]
            weights = self.residual_weights(chosen[variable], variable)
            factor = recent_error_factor(errors, residuals[variable], weights)
            out[variable] = residuals[variable] * factor[None, :, None]
            wider = np.flatnonzero(factor > 1.0)
            if wider.size:
                shown = ", ".join(f"{panel.product_ids[p]} ×{factor[p]:.2f}" for p in wider[:5])
                notes.append(
                    f"{variable}: bands widened for {wider.size} product(s) ({shown}"
                    f"{', ...' if wider.size > 5 else ''}): the errors of the last {k} days "
                    "were larger than the backtest's usual ones"
                )
        return out

    def _panel_at(self, dataset: Dataset, as_of: str | pd.Timestamp | None) -> Panel:
        """The panel of ``dataset`` as of ``as_of``: the one of the last fit or refit when it
        is the same data set and day (the usual fit-then-predict), whose feature context is
        then computed already; else built anew. (A product closed before that day was reported
        by the fit's :class:`~forecast.panel.PanelWarning`.)"""
        if dataset is self.dataset_:
            day = dataset.last_date if as_of is None else parse_day(as_of, "as-of day")
            if day == self.panel_.as_of:
                return self.panel_
        return build_panel(dataset, as_of)

    def _point_forecasts(
        self,
        panel: Panel,
        chosen: dict[str, Candidate],
        horizon: int,
        notes: list[str],
        overrides: Mapping[str, Mapping[str, Candidate]] | None = None,
        origin: int | None = None,
    ) -> dict[str, np.ndarray]:
        """Point forecasts (n_products, horizon) of the chosen candidates from the panel's last
        day, or from the day at position ``origin`` (a product in ``overrides[variable]`` gets
        its own candidate); a product a candidate cannot forecast gets the first fallback model
        that can (:data:`FALLBACK_ORDER`), with a warning added to ``notes``."""
        last = np.array([panel.n_days - 1 if origin is None else origin])
        forecast_at = "predict_at" if origin is None else "known_at"
        forecasts: dict[str, dict[str, np.ndarray]] = {}

        def model_forecast(name: str) -> dict[str, np.ndarray]:
            if name not in forecasts:
                predicted = getattr(self.models_[name], forecast_at)(panel, last, horizon)
                forecasts[name] = {v: values[0] for v, values in predicted.items()}
            return forecasts[name]

        point: dict[str, np.ndarray] = {}
        for variable, candidate in chosen.items():
            fitted = candidate.among(self.models_)
            # a candidate none of whose models the final fit could fit (the backtest chose
            # it; the note says why) is left to the fallbacks below
            values = (
                candidate_forecast(
                    {name: model_forecast(name)[variable] for name in fitted.members}, fitted
                )
                if fitted.members
                else np.full((panel.n_products, horizon), np.nan)
            )
            for p, product_id in enumerate(panel.product_ids):
                own = (overrides or {}).get(variable, {}).get(product_id)
                if own is None:
                    continue
                own_fitted = own.among(self.models_)
                if own_fitted.members:
                    values[p] = candidate_forecast(
                        {name: model_forecast(name)[variable][p] for name in own_fitted.members},
                        own_fitted,
                    )
            for fallback in FALLBACK_ORDER:
                missing = np.isnan(values).any(axis=1)
                if not missing.any():
                    break
                if fallback not in self.models_ or fallback in candidate.members:
                    continue
                replacement = model_forecast(fallback)[variable]
                usable = missing & ~np.isnan(replacement).any(axis=1)
                if usable.any():
                    values[usable] = replacement[usable]
                    products = [panel.product_ids[i] for i in np.flatnonzero(usable)]
                    message = (
                        f"{variable}: {len(products)} product(s) with too little history for "
                        f"{candidate.name} ({', '.join(products[:5])}"
                        f"{', ...' if len(products) > 5 else ''}) forecast by {fallback}"
                    )
                    warnings.warn(message, ForecastFallbackWarning, stacklevel=3)
                    notes.append(message)
            point[variable] = values
        return point


# Name prefix of the thread estimating the exposure response while fit() backtests.
EXPOSURE_THREAD = "exposure-response"


@contextmanager
def _recorded_warnings() -> Iterator[list[str]]:
    """Like ``warnings.catch_warnings(record=True)``: the messages of the warnings raised
    inside the block, which are not shown. A warning of the exposure-response thread, which
    runs meanwhile but is no part of the block, is raised again after it, as it would have
    been without the block (``catch_warnings`` swaps process-wide state, not a thread's)."""
    caught: list[str] = []
    deferred: list[tuple[Warning | str, type[Warning], str, int]] = []

    def record(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if threading.current_thread().name.startswith(EXPOSURE_THREAD):
            deferred.append((message, category, filename, lineno))
        else:
            caught.append(str(message))

    with warnings.catch_warnings():
        warnings.showwarning = record
        yield caught
    for message, category, filename, lineno in deferred:
        warnings.warn_explicit(message, category, filename, lineno)


def _default_candidate(models: Sequence[str]) -> Candidate:
    """The candidate used without a backtest (history too short): the equal-weight mean of the
    per-product models, since nothing shows that the global model suits this product
    (:data:`forecast.selection.GLOBAL_MODELS` are chosen only by winning a backtest); the last
    model when every model is global."""
    local = tuple(name for name in models if name not in GLOBAL_MODELS and name != "recent_mean")
    return Candidate(local) if local else Candidate((models[-1],))


def _shut_days_off(
    panel: Panel,
    dates: pd.DatetimeIndex,
    point: dict[str, np.ndarray],
    paths: dict[str, np.ndarray],
    notes: list[str],
    rng: np.random.Generator,
) -> None:
    """For a flow the product books on working days only (:mod:`forecast.booking`): 0 on the
    forecast's days off, every path; on a weekend day worked, the band of a working weekday
    (:func:`forecast.booking.borrow_weekday_error`); on the working day after a holiday, the
    holiday's orders, and after a single day off that day's
    (:func:`forecast.booking.book_days_off`); say so in ``notes``."""
    recent = panel.dates[-max(DAYS_OFF_LOOKBACK, WEIGHT_LOOKBACK_DAYS) :]  # all the rules read
    # the history and the horizon are one run of days (the horizon starts the day after the
    # as-of day): one reading of the calendar
    off = ~workday_flags(recent[0], dates[-1]).to_numpy(dtype=bool)
    past_off, ahead_off = off[: len(recent)], off[len(recent) :]
    if not ahead_off.any():
        return
    worked = np.flatnonzero(~past_off)
    trailing = len(past_off) - 1 - worked[-1] if worked.size else len(past_off)
    before = days_off_before(ahead_off, trailing)
    weekend = np.asarray(dates.day_of_week >= 5)
    said = []
    for variable, history in (
        ("subscriptions", panel.subscriptions),
        ("redemptions", panel.redemptions),
    ):
        shut = shut_on_days_off(history[-len(recent) :], past_off)
        if not shut.any():
            continue
        paths[variable][np.ix_(shut, np.arange(paths[variable].shape[1]), ahead_off)] = 0.0
        point[variable][np.ix_(shut, ahead_off)] = 0.0
        paths[variable] = borrow_weekday_error(
            point[variable], paths[variable], ahead_off, weekend, shut
        )
        booked = np.where(shut, history[-len(recent) :], np.nan)
        point[variable], paths[variable] = book_days_off(
            point[variable],
            paths[variable],
            before,
            ahead_off,
            holiday_shares(booked, past_off),
            rng,
            weekend_shares(booked, past_off),
        )
        said.append(f"{variable} of {int(shut.sum())} product(s)")
    if said:
        notes.append(
            f"{' and '.join(said)} were 0 on every day off of the last {DAYS_OFF_LOOKBACK} days "
            "(booked on working days only): forecast 0 on days off, and the working day after a "
            "holiday books its orders (after a single day off, that day's)"
        )


def _shut_dormant(
    panel: Panel,
    point: dict[str, np.ndarray],
    paths: dict[str, np.ndarray],
    notes: list[str],
) -> None:
    """Set to 0, over the whole horizon, the point forecast and every path of a dormant flow
    (:func:`forecast.paths.dormant`) and of both flows of a closed product
    (:func:`forecast.paths.closed_since`), and say so in ``notes`` with the products."""
    said = []
    for variable, history, censored in (
        ("subscriptions", panel.subscriptions, panel.censored),
        ("redemptions", panel.redemptions, None),
    ):
        shut = dormant(history, censored)
        if shut.any():
            point[variable][shut] = 0.0
            paths[variable][shut] = 0.0
            ids = [panel.product_ids[p] for p in np.flatnonzero(shut)]
            said.append(f"{variable} of {len(ids)} product(s) ({first_few(ids)})")
    if said:
        notes.append(
            f"{' and '.join(said)} were 0 on each of the last {DORMANT_DAYS} days and never "
            "came back after such a gap: forecast 0 (dormant)"
        )
    since = closed_since(panel.aum, panel.subscriptions, panel.censored)
    closed = np.flatnonzero(since >= 0)
    if closed.size:
        for variable in MODELLED_VARIABLES:
            point[variable][closed] = 0.0
            paths[variable][closed] = 0.0
        named = [f"{panel.product_ids[p]} since {panel.dates[since[p]]:%Y-%m-%d}" for p in closed]
        notes.append(
            f"{len(named)} product(s) held nothing and took no subscription "
            f"({first_few(named)}): closed, forecast 0 (no holder left to redeem) until "
            "subscriptions come back"
        )


def _income_rate(panel: Panel) -> np.ndarray:
    """Each product's latest known daily income per unit of AUM (0 when never known)."""
    recent = panel.income_rate[-7:]
    latest = pd.DataFrame(recent).ffill().to_numpy()[-1]
    return np.nan_to_num(latest, nan=0.0)


def _baseline_exposure(same_weekday_mean: np.ndarray, panel: Panel, horizon: int) -> np.ndarray:
    """Exposure assumed for day h after the as-of day: the mean of the last four same weekdays
    (n_products, horizon); in a panel shorter than a week, a weekday it has not seen takes the
    as-of day's (a negative position would wrap round to a later day, or past the start)."""
    last = panel.n_days - 1
    steps = np.arange(1, horizon + 1)
    days = last - (7 - steps % 7) % 7
    return same_weekday_mean[np.where(days >= 0, days, last)].T


def run_forecast(
    dataset: Dataset,
    as_of: str | pd.Timestamp | None = None,
    horizon: int = 14,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    model: str = "auto",
    *,
    forecaster: Forecaster | None = None,
    seed: int = 0,
    n_paths: int = 200,
    progress: Progress | None = None,
) -> ForecastResult:
    """Forecast every product's flows and AUM for the ``horizon`` days after ``as_of``.

    Uses only rows dated on or before ``as_of``: the output is the same whether or not later
    rows are present.

    Args:
        dataset: the data set.
        as_of: the as-of day (default: the last flows day).
        horizon: days ahead.
        quantiles: quantile levels of the table.
        model: ``auto`` (selection among :data:`DEFAULT_MODELS` by backtest), a model name, a
            comma-separated list to select among, or one combination (``ets+lightgbm``, the
            mean of their forecasts; ``median(a+b+c)``), as ``auto`` names its choice.
        forecaster: a forecaster already fitted through a day ≤ ``as_of``: it predicts without
            refitting (``model`` then picks a fitted candidate; ``auto`` keeps its selection).
        seed: random seed.
        n_paths: sample paths.
        progress: told of each model fitted (:meth:`Forecaster.fit`).

    Returns:
        The :class:`ForecastResult`.
    """
    if forecaster is not None:
        return forecaster.predict(dataset, as_of, horizon, model=None if model == "auto" else model)
    names = model_names(model)
    fitted = Forecaster(
        models=names, horizon=horizon, quantiles=quantiles, seed=seed, n_paths=n_paths
    ).fit(dataset, as_of, progress=progress)
    return fitted.predict(dataset, as_of, horizon, model=combination(model))
