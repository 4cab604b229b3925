"""The daily job's pipeline for one as-of day: forecast → plan → report, in memory.

:func:`plan_day` runs the stages (:class:`Steps`, the real ones unless replaced in tests) and
returns a :class:`DayResult`; around it, the choices every entry point makes the same way:
the day (:func:`latest_complete_day`), the products (:func:`select_products`), the
quantiles (:func:`quantile_levels`), the optimiser's settings (:func:`plan_settings`) and
the fingerprint of the input rows (:func:`input_fingerprint`). Writing the files is
:mod:`rainmaker.app.day_files`; the scheduled job is :mod:`rainmaker.app.job`.
"""

from __future__ import annotations

import hashlib
import platform
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rainmaker.app import logs
from rainmaker.app.config import DailyConfig
from rainmaker.app.wording import explanation_texts, violation_texts
from rainmaker.contracts import ForecastResult, PlanOutcome
from rainmaker.errors import UsageError
from rainmaker.progress import Progress as StepProgress
from rainmaker.progress import no_progress
from rainmaker.settings_core import SettingsError
from rainmaker.shadow_price import holdings_deviation

if TYPE_CHECKING:
    from rainmaker.app.history import RunHistory
    from rainmaker.app.report import RenderedReport
    from rainmaker.dataset import Dataset

__all__ = [
    "BENCHMARK_HISTORY_DAYS",
    "CLOSED_PRODUCT_DAYS",
    "QUANTILE_LEVELS",
    "VERSIONED_PACKAGES",
    "DayResult",
    "Progress",
    "Steps",
    "check_day",
    "input_fingerprint",
    "latest_complete_day",
    "plan_day",
    "plan_settings",
    "print_warnings",
    "quantile_levels",
    "say_forecast_notes",
    "select_products",
    "to_stderr",
]

QUANTILE_LEVELS = (0.05, 0.1, 0.5, 0.9, 0.95)
# A product whose flows stop this many days before the data set's last day is taken as closed,
# so that it does not hold back the "latest complete day" of every other product.
CLOSED_PRODUCT_DAYS = 7
# Days of market history the report's benchmark chart needs.
BENCHMARK_HISTORY_DAYS = 120
VERSIONED_PACKAGES = (
    "rainmaker",
    "numpy",
    "pandas",
    "statsmodels",
    "lightgbm",
    "pyomo",
    "highspy",
    "sqlalchemy",
    "mlflow",
    "chinesecalendar",
)

# where the job's progress lines go: one line of text each
Progress = Callable[[str], None]


def to_stderr(message: str) -> None:
    """The default :data:`Progress`: a line on stderr (:func:`rainmaker.app.logs.progress`)."""
    logs.progress(message)


@dataclass(frozen=True)
class Steps:
    """The forecast and the plan the pipeline calls; the real ones unless replaced (tests).

    Attributes:
        forecaster: ``run_forecast(dataset, as_of, horizon=, quantiles=, model=)`` returning a
            ``ForecastResult``; None means :func:`forecast.run_forecast`.
        planner: ``make_plan(dataset, as_of, forecast, settings)`` returning a ``PlanResult``;
            None means :func:`optimize.make_plan`.
        progress: told of the real forecast's model fits and of the report's stress test,
            product by product (:mod:`rainmaker.progress`; the command line's
            :func:`rainmaker.app.progress.reporter`); silent by default. The plan's solve
            takes under a second on the sample, below the quiet threshold.
    """

    forecaster: Callable[..., ForecastResult] | None = None
    planner: Callable[..., PlanOutcome] | None = None
    progress: StepProgress = no_progress

    def forecast(
        self, dataset: Dataset, as_of: pd.Timestamp, config: DailyConfig
    ) -> ForecastResult:
        """Run the forecast for the configured horizon and quantiles."""
        if self.forecaster is None:
            from forecast import run_forecast  # start-up time: LightGBM, statsmodels

            return run_forecast(
                dataset,
                as_of,
                horizon=config.horizon,
                quantiles=quantile_levels(config.confidence),
                model=config.model,
                progress=self.progress,
            )
        return self.forecaster(
            dataset,
            as_of,
            horizon=config.horizon,
            quantiles=quantile_levels(config.confidence),
            model=config.model,
        )

    def plan(
        self, dataset: Dataset, as_of: pd.Timestamp, forecast: ForecastResult, settings: Any
    ) -> PlanOutcome:
        """Run the optimiser on a forecast."""
        if self.planner is None:
            from optimize import make_plan  # start-up time: Pyomo and HiGHS

            return make_plan(dataset, as_of, forecast, settings)
        return self.planner(dataset, as_of, forecast, settings)


@dataclass
class DayResult:
    """What one as-of day's pipeline produced, in memory.

    Attributes:
        as_of: the as-of day.
        run_id: the run's id.
        dataset: the data set as used (rows up to the as-of day, selected products).
        forecast: the ``ForecastResult``.
        plan: the ``PlanResult``.
        report: the rendered report.
        run_info: the content of ``run.json``.
        lang: the language of the report and the workbook (``zh`` or ``en``).
    """

    as_of: pd.Timestamp
    run_id: str
    dataset: Dataset
    forecast: ForecastResult
    plan: PlanOutcome
    report: RenderedReport
    run_info: dict[str, Any]
    lang: str = "zh"

    @property
    def forecast_table(self) -> pd.DataFrame:
        """The SPEC §3 forecast rows."""
        return self.forecast.table

    @property
    def plan_table(self) -> pd.DataFrame:
        """The plan rows."""
        return self.plan.plan


# ---------------------------------------------------------------------- pipeline pieces


def quantile_levels(confidence: float) -> tuple[float, ...]:
    """Quantile levels asked of the forecast: the defaults, the confidence and its mirror."""
    wanted = {*QUANTILE_LEVELS, round(confidence, 6), round(1 - confidence, 6)}
    return tuple(sorted(wanted))


def latest_complete_day(dataset: Dataset) -> pd.Timestamp:
    """The latest day every live product has flows for.

    A product whose flows end more than ``CLOSED_PRODUCT_DAYS`` days before the data set's last
    day is taken as closed and ignored; any other product that stops earlier holds the day back
    (its missing day would otherwise be planned from incomplete data).

    Args:
        dataset: the loaded data set.

    Returns:
        The as-of day of the scheduled run.
    """
    last_by_product = dataset.flows.groupby("product_id")["date"].max()
    overall = last_by_product.max()
    live = last_by_product[last_by_product >= overall - pd.Timedelta(days=CLOSED_PRODUCT_DAYS)]
    return pd.Timestamp(live.min())


def select_products(dataset: Dataset, products: Sequence[str]) -> Dataset:
    """The data set restricted to some products (all when ``products`` is empty): the job's
    ``products`` setting over :meth:`Dataset.select`.

    Args:
        dataset: the data set cut at the as-of day (its last day is the as-of day).
        products: the ids chosen; empty: every product.

    Raises:
        UsageError: a product id is not in the data set's flows, or every product chosen
            closed before the as-of day (the message names their last day).
    """
    if not products:
        return dataset
    chosen = dataset.select(products)
    if chosen.last_date < dataset.last_date:
        # else the forecast said "as-of day D is after the last flows day", of the selection
        raise UsageError(
            f"products {', '.join(chosen.product_ids)} have no flows on the as-of day "
            f"{dataset.last_date:%Y-%m-%d}: their last day is {chosen.last_date:%Y-%m-%d}; "
            "expected products with flows on it, or an as-of day on or before their last"
        )
    return chosen


def input_fingerprint(dataset: Dataset) -> str:
    """sha256 (hex) of the rows a run uses: every table, after the as-of cut and selection.

    Unlike :attr:`Dataset.fingerprint` (the files), this does not change when rows dated after
    the as-of day are added, so re-running an as-of day on a data set that has grown since is
    still recognised as the same input.
    """
    digest = hashlib.sha256()
    frames = {"products": dataset.products, "flows": dataset.flows, "market": dataset.market}
    frames.update(dataset.tables)
    for name in sorted(frames):
        frame = frames[name]
        digest.update(f"{name}\0{','.join(map(str, frame.columns))}\0{len(frame)}\0".encode())
        hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        digest.update(np.ascontiguousarray(hashed).tobytes())
    return digest.hexdigest()


def plan_settings(config: DailyConfig) -> Any:
    """The optimiser's settings for a configuration (its file, then horizon, confidence, weights).

    Raises:
        UsageError: the optimiser file or the weights are invalid, or the file sets
            ``horizon.days`` or ``liquidity.confidence`` to other than the job's (which would
            override it): a SettingsError naming the file and the key (exit status 2).
    """
    from optimize.settings import load_settings  # start-up time: the optimize package

    if config.optimizer is not None:
        # the job's horizon and confidence always override the file's (defaults included): a
        # file that set other values had them dropped without a word (horizon.days = 7 planned
        # 14 days). Set, they must be the job's; the job file or --horizon is where they go.
        on_file, defaults = load_settings(config.optimizer), load_settings()
        for section, keys in config.job_overrides().items():
            for name, job in keys.items():
                value = getattr(getattr(on_file, section), name)
                if value != getattr(getattr(defaults, section), name) and value != job:
                    raise SettingsError(
                        f"{section}.{name}",
                        f"the job's value ({job}) or no value: the job's settings "
                        f"(horizon, [liquidity] confidence, or --horizon) set it and override "
                        f"this file",
                        value,
                        source=str(config.optimizer),
                    )
    return load_settings(config.optimizer, overrides=config.optimizer_overrides())


def plan_day(
    dataset: Dataset,
    as_of: pd.Timestamp,
    config: DailyConfig,
    *,
    run_id: str,
    settings: Any,
    revision: int | None = None,
    history: RunHistory | None = None,
    steps: Steps | None = None,
    progress: Progress = to_stderr,
    source: Dataset | None = None,
) -> DayResult:
    """Forecast, plan and report one as-of day.

    Args:
        dataset: the data set cut at the as-of day, products selected.
        as_of: the as-of day.
        config: the settings.
        run_id: the run's id.
        settings: the optimiser's settings (:func:`plan_settings`).
        revision: revision number (scheduled runs) or None.
        history: the run history, for the report's accuracy section and drift alert.
        steps: the forecast and plan functions (default: the real ones).
        progress: where progress lines go (default: stderr).
        source: the data set as loaded (for its last day and fingerprint; default ``dataset``).

    Returns:
        The forecast, plan, report and ``run.json`` content.
    """
    from rainmaker.app.report import ReportInputs, render_report  # start-up time: matplotlib

    steps = steps or Steps()
    source = source or dataset
    timings: dict[str, float] = {}
    n = len(dataset.product_ids)

    progress(f"{as_of:%Y-%m-%d}: forecasting {n} products, {config.horizon} days ahead")
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as raised:
        forecast = steps.forecast(dataset, as_of, config)
    timings["forecast_s"] = time.perf_counter() - started
    say_forecast_notes(forecast, raised, progress)

    progress(f"{as_of:%Y-%m-%d}: optimising quotas and buffers")
    started = time.perf_counter()
    plan = steps.plan(dataset, as_of, forecast, settings)
    timings["plan_s"] = time.perf_counter() - started
    for key, value in plan.timings.items():
        timings[f"plan_{key}" if not str(key).startswith("plan") else str(key)] = float(value)
    for warning in plan.warnings:  # e.g. term buckets priced off another tenor: not only the report
        progress(f"warning: plan: {warning}")

    progress(f"{as_of:%Y-%m-%d}: writing the report")
    started = time.perf_counter()
    accuracy, drift = None, []
    if history is not None:
        from rainmaker.app.accuracy import drift_alerts, forecast_accuracy

        accuracy = forecast_accuracy(history, dataset, as_of)
        drift = drift_alerts(accuracy, as_of)
    market_first = dataset.market["date"].min()
    benchmark = dataset.market_daily(
        max(as_of - pd.Timedelta(days=BENCHMARK_HISTORY_DAYS), market_first), as_of
    )["benchmark_yield_7d"]
    status = str(plan.status)
    objective = _float_or_none(plan.objective)
    inputs = ReportInputs(
        as_of=as_of,
        run_id=run_id,
        products=dataset.products,
        flows=dataset.flows,
        benchmark=benchmark,
        forecast=forecast.table,
        plan=plan.plan,
        paths=forecast.paths,
        path_product_ids=tuple(forecast.product_ids),
        model_name=forecast.model_name,
        solver_status=status,
        objective=objective,
        explanations=explanation_texts(plan.explanations.sentences(config.lang)),
        deviation=_deviation_of(plan, as_of),
        stress=_stress_of(dataset, as_of, steps.progress),
        violations=violation_texts(plan.violations, config.lang),
        # the frames themselves, so that the report writes its own lines in its language
        violation_table=_frame_or_none(plan.violations, "reason"),
        constraint_prices=_frame_or_none(getattr(plan.explanations, "summary", None), "constraint"),
        warnings=[str(w) for w in source.warnings]
        + [f"forecast: {w}" for w in forecast.warnings]
        + [f"plan: {w}" for w in plan.warnings],
        accuracy=accuracy,
        drift=drift,
        revision=revision,
        data_fingerprint=source.fingerprint,
        flows_last=source.last_date,
        market_last=pd.Timestamp(dataset.market["date"].max()),
        generated_at=datetime.now(UTC),
        timings={k: v for k, v in timings.items() if k in ("forecast_s", "plan_s")},
        version=_version("rainmaker"),
    )
    report = render_report(inputs, config.lang)
    timings["report_s"] = time.perf_counter() - started

    dates = sorted(pd.to_datetime(plan.plan["date"]).unique())
    # the products planned: a product closed before the as-of day is left out (with a warning)
    in_plan = set(plan.plan["product_id"].astype(str))
    planned = [p for p in dataset.product_ids if p in in_plan] or list(dataset.product_ids)
    run_info: dict[str, Any] = {
        "run_id": run_id,
        "as_of": f"{as_of:%Y-%m-%d}",
        "revision": revision,
        "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "horizon": config.horizon,
        "plan_start": f"{dates[0]:%Y-%m-%d}" if dates else None,
        "plan_end": f"{dates[-1]:%Y-%m-%d}" if dates else None,
        "products": planned,
        "n_products": len(planned),
        "data": {
            "root": str(source.root),
            "fingerprint": source.fingerprint,
            "files": dict(source.files),
            "first_date": f"{source.first_date:%Y-%m-%d}",
            "last_date": f"{source.last_date:%Y-%m-%d}",
            "warnings": [str(w) for w in source.warnings],
        },
        "data_fingerprint": source.fingerprint,
        "input_fingerprint": input_fingerprint(dataset),
        "settings": config.plan_settings(),
        "settings_hash": config.settings_hash(),
        "model_name": inputs.model_name,
        "solver_status": status,
        "objective": objective,
        "violations": len(inputs.violations),
        "warnings": list(inputs.warnings),
        "metrics": {k: _float_or_none(v) for k, v in report.metrics.items()},
        "alerts": report.alerts,
        "timings": {k: round(v, 4) for k, v in timings.items()},
        "versions": {name: _version(name) for name in VERSIONED_PACKAGES}
        | {"python": platform.python_version()},
        "rainmaker_version": _version("rainmaker"),
    }
    return DayResult(as_of, run_id, dataset, forecast, plan, report, run_info, config.lang)


def _deviation_of(plan: PlanOutcome, as_of: pd.Timestamp) -> pd.DataFrame | None:
    """Today's shadow-price deviation of each book the plan starts from (None when the plan
    does not carry its books, e.g. a stand-in in tests)."""
    if plan.inputs is None:
        return None
    return holdings_deviation(plan.inputs.holdings, plan.inputs.rates_pct, as_of)


def _stress_of(
    dataset: Dataset, as_of: pd.Timestamp, progress: StepProgress = no_progress
) -> dict[str, pd.DataFrame] | None:
    """The default stress scenarios on today's books, for the report's stress section
    (``rainmaker stress`` writes the details); ``progress`` is told of each product's book.
    None (no section) when every product planned has ``aum`` 0 on ``as_of``: there is no book
    to shock, which ``rainmaker stress`` refuses, and the plan must not fail on it."""
    # imported here for start-up time: simulate loads the replay's world and matplotlib
    from simulate.stress import load_scenarios, run_stress

    on_day, empty = dataset.products_on(as_of)
    if len(empty) == len(on_day):
        return None

    result = run_stress(dataset, as_of, load_scenarios(), progress=progress)
    return {"summary": result.summary, "reverse": result.reverse}


def _frame_or_none(value: Any, column: str) -> pd.DataFrame | None:
    """``value`` when it is a frame with ``column`` (the optimiser's violations or shadow-price
    summary), else None (a stand-in plan, or an optimiser that gives text only)."""
    if isinstance(value, pd.DataFrame) and column in value.columns:
        return value
    return None


def say_forecast_notes(
    forecast: ForecastResult, raised: Sequence[warnings.WarningMessage], progress: Progress
) -> None:
    """Tell ``progress`` what the forecast notes, once, and show what else it warned of.

    The notes (too few days for a backtest, a model the fit could not fit, a product forecast by
    a fallback) go to run.json and the report as well; ``rainmaker forecast`` prints them too.
    A warning whose message is a note is said as the note only.

    Args:
        forecast: the forecast's result.
        raised: the warnings recorded while it ran, shown again unless they are notes.
        progress: where the notes go.
    """
    notes = set(forecast.warnings)
    for warning in raised:
        if str(warning.message) not in notes:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    for note in forecast.warnings:
        progress(f"warning: forecast: {note}")


def print_warnings(dataset: Dataset, progress: Progress) -> None:
    """Tell ``progress`` each warning the data set's validation raised."""
    for warning in dataset.warnings:
        progress(f"warning: {warning}")


def check_day(dataset: Dataset, day: pd.Timestamp) -> None:
    """Stop when the as-of day is outside the data set's flows.

    Raises:
        UsageError: ``day`` is before the first or after the last day of flows (exit 2).
    """
    if not dataset.first_date <= day <= dataset.last_date:
        raise UsageError(
            f"as-of day {day:%Y-%m-%d} is outside the flows of {dataset.root} "
            f"({dataset.first_date:%Y-%m-%d} to {dataset.last_date:%Y-%m-%d})"
        )


def _float_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"
