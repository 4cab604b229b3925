"""The daily job: load and validate → forecast → plan → report → record.

Three entry points share one pipeline, :func:`plan_day`:

- :func:`plan_to_folder` (``rainmaker plan --out DIR``): one as-of day into a folder the user
  names, replaced whole (never a mix of two runs);
- :func:`run_job` (``rainmaker run``, and ``rainmaker demo`` on the sample): the scheduled job.
  It plans the latest complete day into ``<output root>/<as_of>/r<N>/``, records the run in the
  history database and logs it to MLflow;
- :func:`reconcile`: records published revisions the database does not know yet.

Safety of the scheduled job, in the order it happens:

1. settings, optimiser settings, the day asked for, the data folder, the output root and the
   history database are checked before anything is written: a bad configuration or an
   unreachable database exits with no output;
2. a lock in the output root stops a second run (exit status 3);
3. the data are loaded and validated; the as-of day is the latest day every live product has
   flows for;
4. if the latest revision of that day was made from the same input rows (fingerprint of the
   data up to the as-of day, after the product selection) with the same settings, the run is a
   no-op and says so;
5. otherwise every file is written into a staging folder and renamed into place as the next
   revision ``r<N>`` in one :func:`os.replace` (:mod:`rainmaker.app.outputs`);
6. the run (metadata, forecast rows, plan rows) is recorded in one database transaction;
7. the run is logged to MLflow; a tracking failure is reported but does not undo the plan;
8. retention (``keep_days``) deletes the oldest as-of days' revisions;
9. the operations checks (:mod:`rainmaker.app.ops`: stale data, late data, alerts of the
   ``fail_on`` severity) decide the exit status; they are written into ``run.json`` and the
   history with the revision, which is published all the same.

A run killed before step 5 leaves no revision folder and no database row (its staging folder is
removed by the next run); killed between steps 5 and 6 it leaves a complete folder that the next
run records (:func:`reconcile`), so the folders and the database never disagree for long. The
database knows revisions by run id and their folders relative to the output root, so a root can
be moved or copied; ``<output root>/latest`` always points at the newest as-of day's newest
revision that was not withdrawn (:func:`rollback`), whatever day a run (a back-fill) planned.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rainmaker.app import logs
from rainmaker.app.config import DailyConfig
from rainmaker.app.ops import Check, alert_checks, data_age_days, data_checks, exit_code_of
from rainmaker.app.outputs import (
    LATEST_LINK,
    RUN_FILE,
    Revision,
    all_revisions,
    check_output_folder,
    check_replaceable,
    clear_staging,
    day_folder,
    list_revisions,
    new_staging,
    point_latest,
    publish,
    publish_replacing,
    remove_old_days,
    run_lock,
    sibling_staging,
)
from rainmaker.contracts import ForecastResult, PlanOutcome
from rainmaker.errors import DataError, RainmakerError, UsageError
from rainmaker.progress import Progress as StepProgress
from rainmaker.progress import no_progress
from rainmaker.safety import mask_secrets, restore_spreadsheet_text, write_spreadsheet_csv
from rainmaker.shadow_price import holdings_deviation

if TYPE_CHECKING:
    from rainmaker.app.history import RunHistory
    from rainmaker.app.report import RenderedReport
    from rainmaker.dataset import Dataset

__all__ = [
    "QUANTILE_LEVELS",
    "DayResult",
    "RollbackOutcome",
    "RunOutcome",
    "Steps",
    "input_fingerprint",
    "latest_complete_day",
    "next_revision",
    "plan_day",
    "plan_to_folder",
    "reconcile",
    "rollback",
    "run_job",
    "select_products",
    "write_day",
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

Progress = Callable[[str], None]


def _stderr(message: str) -> None:
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


@dataclass(frozen=True)
class RunOutcome:
    """What a scheduled run did.

    Attributes:
        status: ``"published"`` (a new revision) or ``"unchanged"`` (a no-op).
        as_of: the as-of day.
        folder: the revision folder (the new one, or the existing one of a no-op).
        run_id: the run's id (of the existing revision for a no-op).
        revision: N of ``r<N>``.
        message: one line for the operator.
        timings: seconds per step.
        tracking_error: why MLflow logging failed, or None.
        alerts: the alerts of the revision (the report's: severity, kind, product_id, text).
        checks: the operations checks that failed (stale data, late data, alerts).
        data_age_days: days from the data's latest complete day to today (local).
        removed: as-of day folders deleted by retention (``keep_days``).
    """

    status: str
    as_of: pd.Timestamp
    folder: Path
    run_id: str
    revision: int
    message: str
    timings: Mapping[str, float] = field(default_factory=dict)
    tracking_error: str | None = None
    alerts: Sequence[Mapping[str, Any]] = ()
    checks: Sequence[Check] = ()
    data_age_days: int | None = None
    removed: Sequence[Path] = ()

    @property
    def exit_code(self) -> int:
        """The exit status the checks call for (0 when none failed; :data:`ops.EXIT_CODES`)."""
        return exit_code_of(self.checks)

    @property
    def report(self) -> Path:
        """The report of the revision."""
        return self.folder / "report.html"


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
    """The data set restricted to some products (all when ``products`` is empty).

    Raises:
        UsageError: a product id is not in the data set's flows.
    """
    if not products:
        return dataset
    unknown = sorted(set(products) - set(dataset.product_ids))
    if unknown:
        raise UsageError(
            f"products {', '.join(unknown)} have no flows in {dataset.root}; expected ids among "
            f"{', '.join(dataset.product_ids)}"
        )
    keep = set(products)
    tables = {
        stem: frame[frame["product_id"].isin(keep)].reset_index(drop=True)
        if "product_id" in frame.columns
        else frame
        for stem, frame in dataset.tables.items()
    }
    return dataclasses.replace(
        dataset,
        products=dataset.products[dataset.products["product_id"].isin(keep)].reset_index(drop=True),
        flows=dataset.flows[dataset.flows["product_id"].isin(keep)].reset_index(drop=True),
        tables=tables,
    )


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
        UsageError: the optimiser file or the weights are invalid (exit status 2).
    """
    from optimize.settings import load_settings  # start-up time: the optimize package

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
    progress: Progress = _stderr,
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
    forecast = steps.forecast(dataset, as_of, config)
    timings["forecast_s"] = time.perf_counter() - started

    progress(f"{as_of:%Y-%m-%d}: optimising quotas and buffers")
    started = time.perf_counter()
    plan = steps.plan(dataset, as_of, forecast, settings)
    timings["plan_s"] = time.perf_counter() - started
    for key, value in plan.timings.items():
        timings[f"plan_{key}" if not str(key).startswith("plan") else str(key)] = float(value)

    progress(f"{as_of:%Y-%m-%d}: writing the report")
    started = time.perf_counter()
    accuracy, drift = None, []
    if history is not None:
        from rainmaker.app.history import drift_alerts, forecast_accuracy

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
        confidence=config.confidence,
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
    run_info: dict[str, Any] = {
        "run_id": run_id,
        "as_of": f"{as_of:%Y-%m-%d}",
        "revision": revision,
        "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "horizon": config.horizon,
        "plan_start": f"{dates[0]:%Y-%m-%d}" if dates else None,
        "plan_end": f"{dates[-1]:%Y-%m-%d}" if dates else None,
        "products": list(dataset.product_ids),
        "n_products": len(dataset.product_ids),
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
        "metrics": {k: _float_or_none(v) for k, v in report.metrics.items()},
        "alerts": report.alerts,
        "timings": {k: round(v, 4) for k, v in timings.items()},
        "versions": {name: _version(name) for name in VERSIONED_PACKAGES}
        | {"python": platform.python_version()},
        "rainmaker_version": _version("rainmaker"),
    }
    return DayResult(as_of, run_id, dataset, forecast, plan, report, run_info, config.lang)


def publish_day(day: DayResult, out: Path) -> None:
    """Write the day's files into a staging folder beside ``out``, then swap it in whole: a
    reader of ``out`` sees the earlier plan or this one, never half of each."""
    staged = sibling_staging(out)
    try:
        write_day(day, staged)
        publish_replacing(staged, out)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def write_day(day: DayResult, folder: Path) -> list[Path]:
    """Write a day's files into ``folder`` (which must exist).

    Files: ``forecast.csv`` and ``plan.csv`` (SPEC §3), ``report.html``, ``plan.xlsx``, the
    charts as ``charts/*.svg``, and ``run.json`` last.

    Returns:
        The paths written.
    """
    from rainmaker.app.xlsx import write_workbook  # start-up time: openpyxl

    written = []
    forecast = _iso_dates(day.forecast_table)
    plan = _iso_dates(day.plan_table)
    for name, frame in (("forecast.csv", forecast), ("plan.csv", plan)):
        written.append(write_spreadsheet_csv(frame, folder / name))
    written.append(day.report.write(folder))
    charts = folder / "charts"
    charts.mkdir(exist_ok=True)
    for name, svg in day.report.charts.items():
        path = charts / f"{name}.svg"
        path.write_text(
            svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1)
            if 'xmlns="http://www.w3.org/2000/svg"' not in svg
            else svg,
            encoding="utf-8",
        )
        written.append(path)
    # the Notes sheet's run facts; the rest (objective, metrics, timings) stays in run.json
    summary = {
        key: day.run_info[name]
        for key, name in (
            ("as_of", "as_of"),
            ("plan_start", "plan_start"),
            ("run_id", "run_id"),
            ("revision", "revision"),
            ("model", "model_name"),
            ("solver_status", "solver_status"),
        )
    }
    written.append(
        write_workbook(
            folder / "plan.xlsx",
            day.plan_table,
            day.forecast_table,
            summary,
            alerts=day.report.alerts,
            lang=day.lang,
        )
    )
    run_path = folder / RUN_FILE
    text = json.dumps(day.run_info, indent=2, ensure_ascii=False, default=_json_default)
    run_path.write_text(mask_secrets(text) + "\n", encoding="utf-8")
    written.append(run_path)
    return written


def _deviation_of(plan: Any, as_of: pd.Timestamp) -> pd.DataFrame | None:
    """Today's shadow-price deviation of each book the plan starts from (None when the plan
    does not carry its inputs, e.g. a stand-in in tests)."""
    inputs = getattr(plan, "inputs", None)
    holdings = getattr(inputs, "holdings", None)
    rates = getattr(inputs, "rates_pct", None)
    if not isinstance(holdings, pd.DataFrame) or rates is None:
        return None
    return holdings_deviation(holdings, rates, as_of)


def _stress_of(
    dataset: Dataset, as_of: pd.Timestamp, progress: StepProgress = no_progress
) -> dict[str, pd.DataFrame]:
    """The default stress scenarios on today's books, for the report's stress section
    (``rainmaker stress`` writes the details); ``progress`` is told of each product's book."""
    # imported here for start-up time: simulate loads the replay's world and matplotlib
    from simulate.stress import load_scenarios, run_stress

    result = run_stress(dataset, as_of, load_scenarios(), progress=progress)
    return {"summary": result.summary, "reverse": result.reverse}


def _frame_or_none(value: Any, column: str) -> pd.DataFrame | None:
    """``value`` when it is a frame with ``column`` (the optimiser's violations or shadow-price
    summary), else None (a stand-in plan, or an optimiser that gives text only)."""
    if isinstance(value, pd.DataFrame) and column in value.columns:
        return value
    return None


def explanation_texts(value: Any) -> list[str]:
    """Plain-language lines from the optimiser's explanations or violations.

    Accepts a list of strings, an object with a ``text`` attribute (string or list), or a
    frame with a ``text`` (or ``message``) column; other frames are described row by row.
    """
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, pd.DataFrame):
        if value.empty:
            return []
        for column in ("text", "message", "explanation"):
            if column in value.columns:
                return [str(v) for v in value[column] if isinstance(v, str) and v.strip()]
        return ["; ".join(f"{k}={v}" for k, v in row.items()) for row in value.to_dict("records")]
    text = getattr(value, "text", None)
    if text is not None and not callable(text):
        return explanation_texts(text)
    if isinstance(value, Sequence):
        return [str(v) for v in value if str(v).strip()]
    return [str(value)]


def violation_texts(violations: Any, lang: str = "en") -> list[str]:
    """One line per broken constraint and product, from the optimiser's violations frame, in the
    report's language (the frame's ``reason_zh`` for ``zh``, ``reason`` for ``en``).

    A constraint broken on many days is one line (``P01: <reason> (3 days from 2022-06-17)``,
    ``P01：<原因>（自 2022-06-17 起 3 天）``) rather than one per day, so that the report's alerts
    stay readable.
    """
    if not isinstance(violations, pd.DataFrame) or "reason" not in violations.columns:
        return explanation_texts(violations)
    if violations.empty:
        return []
    keys = [c for c in ("constraint", "product_id") if c in violations.columns]
    lines = []
    for _, rows in violations.groupby(keys, sort=False) if keys else [((), violations)]:
        first = rows.iloc[0]
        product = f"{first['product_id']}: " if "product_id" in rows.columns else ""
        when = ""
        if lang == "zh":
            product = f"{first['product_id']}：" if "product_id" in rows.columns else ""
            if "date" in rows.columns:
                when = f"（自 {pd.Timestamp(rows['date'].min()):%Y-%m-%d} 起 {len(rows)} 天）"
            reason = first["reason_zh"] if "reason_zh" in rows.columns else first["constraint"]
            lines.append(f"{product}{reason}{when}")
            continue
        if "date" in rows.columns:
            when = f" ({len(rows)} day{'s' if len(rows) > 1 else ''} from "
            when += f"{pd.Timestamp(rows['date'].min()):%Y-%m-%d})"
        lines.append(f"{product}{first['reason']}{when}")
    return lines


# ---------------------------------------------------------------------- rainmaker plan


def plan_to_folder(
    data: Path,
    as_of: Any,
    out: Path,
    config: DailyConfig,
    *,
    steps: Steps | None = None,
    progress: Progress = _stderr,
    track: bool = True,
) -> DayResult:
    """``rainmaker plan``: forecast, optimise and report one day into ``out``.

    The files are written into a hidden staging folder beside ``out`` and swapped in whole.

    Args:
        data: data-set folder.
        as_of: the as-of day (None: the last day of flows, SPEC §2).
        out: the output folder (created, or replaced when it holds an earlier plan).
        config: settings (horizon, confidence, weights, language, tracking).
        steps: forecast and plan functions (default: the real ones).
        progress: where progress lines go.
        track: log to MLflow (``config.tracking_uri``).

    Returns:
        The day's result; the report is ``out / "report.html"``.
    """
    from rainmaker.dataset import load_dataset, parse_day

    # every argument and path is checked before the minutes of work, not after them
    settings = plan_settings(config)
    wanted = None if as_of is None else parse_day(as_of, "--as-of")
    check_replaceable(out, "--out")
    started = time.perf_counter()
    dataset = load_dataset(data)
    _print_warnings(dataset, progress)
    day = dataset.last_date if wanted is None else wanted
    _check_day(dataset, day)
    used = select_products(dataset.up_to(day), config.products)
    load_s = time.perf_counter() - started
    run_id = f"{day:%Y%m%d}-plan-{uuid.uuid4().hex[:8]}"
    result = plan_day(
        used,
        day,
        config,
        run_id=run_id,
        settings=settings,
        steps=steps,
        progress=progress,
        source=dataset,
    )
    result.run_info["timings"]["load_s"] = round(load_s, 4)
    result.run_info["output_dir"] = str(out)
    publish_day(result, out)
    if track and config.tracking_uri:
        error = _track(config, result, out, command="plan", progress=progress)
        if error:
            progress(f"warning: {error}")
    return result


# ---------------------------------------------------------------------- rainmaker run


def run_job(
    config: DailyConfig,
    *,
    as_of: Any = None,
    force: bool = False,
    steps: Steps | None = None,
    progress: Progress = _stderr,
    command: str = "run",
    now: datetime | None = None,
) -> RunOutcome:
    """``rainmaker run``: the scheduled job (see the module docstring for the steps).

    Args:
        config: the settings.
        as_of: plan this day instead of the latest complete one (a back-fill).
        force: make a new revision even when the inputs are unchanged.
        steps: forecast and plan functions (default: the real ones).
        progress: where progress lines go.
        command: name recorded in MLflow (``run`` or ``demo``).
        now: the local time the checks judge against (aware; default: now in
            ``config.timezone``).

    Returns:
        What was done: a new revision, or a no-op naming the existing one.

    Raises:
        UsageError: bad settings (exit 2). DataError: bad data (exit 2).
        LockHeld: another run holds the lock (exit 3).
        HistoryUnavailable: the history database cannot be used (exit 1).
    """
    from rainmaker.app.history import HistoryUnavailable, open_history
    from rainmaker.dataset import load_dataset, parse_day
    from rainmaker.validation import folder_problem

    started = time.perf_counter()
    # every argument and path is checked before anything is created (the history database
    # included): the settings, the day asked for, the data folder, the output root
    settings = plan_settings(config)
    wanted = None if as_of is None else parse_day(as_of, "--as-of")
    if (problem := folder_problem(Path(config.data))) is not None:
        raise DataError([problem])
    root = Path(config.output_root)
    check_output_folder(root, "output_root")
    history = open_history(config.history_database)
    timings: dict[str, float] = {}
    now = now or logs.local_now(config.zone)
    try:
        with run_lock(root):
            for stale in clear_staging(root):
                progress(f"removed the staging folder of an interrupted run: {stale.name}")
            for recovered in reconcile(root, history):
                progress(f"recorded revision {recovered} published by an interrupted run")
            withdrawn = set(history.withdrawn())
            dataset = load_dataset(config.data)
            _print_warnings(dataset, progress)
            complete = latest_complete_day(dataset)
            day = complete if wanted is None else wanted
            _check_day(dataset, day)
            if as_of is None and complete < dataset.last_date:
                progress(
                    f"flows after {complete:%Y-%m-%d} are incomplete (some products have no "
                    f"row yet): planning for {complete:%Y-%m-%d}"
                )
            used = select_products(dataset.up_to(day), config.products)
            timings["load_s"] = time.perf_counter() - started
            # the feed is judged on the latest complete day, whatever day a back-fill plans
            feed_checks = data_checks(complete, config, now)
            age = data_age_days(complete, now)
            revisions = list_revisions(root, day)
            fingerprint, settings_hash = input_fingerprint(used), config.settings_hash()
            number, same = next_revision(revisions, fingerprint, settings_hash, force=force)
            if same is not None:
                # repairs a link an older version moved into the past
                in_effect = point_latest(root, withdrawn)
                removed = _retain(root, config, in_effect, progress)
                message = (
                    f"nothing to do: {day:%Y-%m-%d} was already planned from the same "
                    f"data and settings as revision r{same.number} ({same.path})"
                )
                shown = same
                if str(same.run.get("run_id", "")) in withdrawn:
                    # a rollback is not undone by the next scheduled run on the same inputs
                    message += (
                        ", which was withdrawn (rainmaker rollback); "
                        f"{LATEST_LINK} points at {_relative(in_effect, root)}. "
                        "Change the data or settings, or use --force, to plan it again"
                    )
                    active = [r for r in revisions if str(r.run.get("run_id", "")) not in withdrawn]
                    shown = active[-1] if active else same
                alerts = list(shown.run.get("alerts") or [])
                checks = feed_checks + alert_checks(alerts, config.fail_on)
                return RunOutcome(
                    status="unchanged",
                    as_of=day,
                    folder=shown.path,
                    run_id=str(shown.run.get("run_id", "")),
                    revision=shown.number,
                    message=message,
                    alerts=alerts,
                    checks=checks,
                    data_age_days=age,
                    removed=removed,
                )
            run_id = f"{day:%Y%m%d}-r{number}-{uuid.uuid4().hex[:8]}"
            result = plan_day(
                used,
                day,
                config,
                run_id=run_id,
                settings=settings,
                revision=number,
                history=history,
                steps=steps,
                progress=progress,
                source=dataset,
            )
            final = day_folder(root, day) / f"r{number}"
            # relative to the output root, so that the root can be moved or copied
            result.run_info["output_dir"] = final.relative_to(root).as_posix()
            result.run_info["timings"]["load_s"] = round(timings["load_s"], 4)
            # the run's duration up to its files: run.json holds it, for `history --json`
            result.run_info["timings"]["total_s"] = round(time.perf_counter() - started, 4)
            alerts = list(result.run_info.get("alerts") or [])
            checks = feed_checks + alert_checks(alerts, config.fail_on)
            result.run_info["checks"] = [c.as_dict() for c in checks]
            result.run_info["exit_code"] = exit_code_of(checks)
            result.run_info["data_age_days"] = age
            staged = new_staging(root)
            try:
                write_day(result, staged)
                publish(staged, final)
            finally:
                shutil.rmtree(staged, ignore_errors=True)
            latest = point_latest(root, withdrawn)
            try:
                history.record(result.run_info, result.forecast_table, result.plan_table)
            except HistoryUnavailable as exc:
                raise HistoryUnavailable(
                    f"{day:%Y-%m-%d} revision r{number} is published in {final} but was not "
                    f"recorded: {exc}. The next run records it before anything else; do not "
                    "re-run with --force, which would publish another revision"
                ) from exc
            tracking_error = None
            if config.tracking_uri:
                tracking_error = _track(
                    config, result, final, command=command, progress=progress, history=history
                )
                if tracking_error:
                    progress(f"warning: {tracking_error}")
            removed = _retain(root, config, latest, progress)
            timings.update(result.run_info["timings"])
            timings["total_s"] = time.perf_counter() - started
            message = f"planned {day:%Y-%m-%d} as revision r{number} ("
            message += _what_changed(
                revisions[-1] if revisions else None, fingerprint, settings_hash
            )
            message += ")"
            if latest is not None and latest != final:
                message += (
                    f"; a back-fill: {LATEST_LINK} still points at "
                    f"{latest.relative_to(root).as_posix()}, the newest as-of day"
                )
            return RunOutcome(
                status="published",
                as_of=day,
                folder=final,
                run_id=run_id,
                revision=number,
                message=message,
                timings=timings,
                tracking_error=tracking_error,
                alerts=alerts,
                checks=checks,
                data_age_days=age,
                removed=removed,
            )
    finally:
        history.close()


@dataclass(frozen=True)
class RollbackOutcome:
    """What ``rainmaker rollback`` did.

    Attributes:
        withdrawn: the revision folder withdrawn.
        run_id: its run id.
        latest: the revision ``latest`` points at now.
        message: one line for the operator.
    """

    withdrawn: Path
    run_id: str
    latest: Path
    message: str


def rollback(
    config: DailyConfig, *, reason: str = "", progress: Progress = _stderr
) -> RollbackOutcome:
    """``rainmaker rollback``: withdraw the revision in effect, point ``latest`` at the one before.

    The revision in effect is the one ``latest`` points at (the newest revision of the newest
    as-of day not withdrawn yet). It is marked ``withdrawn`` in the run history with the time
    and ``reason``; its folder and rows are kept. ``latest`` then points at the newest revision
    that is not withdrawn. A later run on the same data and settings as a withdrawn revision
    does not publish it again (``--force`` does).

    Raises:
        UsageError: no revision is in effect, or it is the only one left (exit status 2).
        LockHeld: a run is working (exit status 3).
        HistoryUnavailable: the history database cannot be used (exit status 1).
    """
    from rainmaker.app.history import open_history

    root = Path(config.output_root)
    if not root.is_dir():
        raise UsageError(f"output_root {root} does not exist: nothing to roll back")
    history = open_history(config.history_database)
    try:
        with run_lock(root):
            for recovered in reconcile(root, history):
                progress(f"recorded revision {recovered} published by an interrupted run")
            withdrawn = set(history.withdrawn())
            active = [
                r for r in all_revisions(root) if str(r.run.get("run_id", "")) not in withdrawn
            ]
            if not active:
                raise UsageError(f"no revision in effect in {root}: nothing to roll back")
            current = active[-1]
            if len(active) < 2:
                raise UsageError(
                    f"{_relative(current.path, root)} is the only revision not withdrawn in "
                    f"{root}: nothing to roll back to"
                )
            run_id = str(current.run.get("run_id", ""))
            history.withdraw(run_id, reason)
            latest = point_latest(root, {*withdrawn, run_id})
            assert latest is not None  # active[-2] is there
            message = (
                f"withdrew {_relative(current.path, root)} (run {run_id}); {LATEST_LINK} now "
                f"points at {_relative(latest, root)}"
            )
            return RollbackOutcome(current.path, run_id, latest, message)
    finally:
        history.close()


def _relative(path: Path | None, root: Path) -> str:
    if path is None:
        return "nothing"
    return path.relative_to(root).as_posix()


def _retain(
    root: Path, config: DailyConfig, in_effect: Path | None, progress: Progress
) -> list[Path]:
    """Retention after a run: the oldest as-of days beyond ``keep_days`` are deleted."""
    removed = remove_old_days(root, config.keep_days, keep=[in_effect] if in_effect else [])
    if removed:
        progress(
            f"retention (keep_days = {config.keep_days}): removed {len(removed)} as-of day "
            f"folder(s), {removed[0].name} to {removed[-1].name}"
        )
    return removed


def _what_changed(previous: Revision | None, fingerprint: str, settings_hash: str) -> str:
    """Why a revision was published: first, data and/or settings changed, or forced."""
    if previous is None:
        return "first revision"
    data = previous.run.get("input_fingerprint") != fingerprint
    settings = previous.run.get("settings_hash") != settings_hash
    changed = " and ".join(w for w, c in (("data", data), ("settings", settings)) if c)
    if changed:
        return f"{changed} changed since r{previous.number}"
    return f"--force: same data and settings as r{previous.number}"


def next_revision(
    revisions: Sequence[Revision], fingerprint: str, settings_hash: str, *, force: bool = False
) -> tuple[int, Revision | None]:
    """Whether a scheduled run has anything to do, and under which revision number.

    Only the latest revision counts: it is the plan in effect. Data changed back to what an
    older revision used still makes a new revision, so the newest folder is always the answer.

    Args:
        revisions: published revisions of the as-of day, oldest first.
        fingerprint: input fingerprint of the run (:func:`input_fingerprint`).
        settings_hash: :meth:`DailyConfig.settings_hash` of the run.
        force: publish even when nothing changed.

    Returns:
        ``(number, None)`` to publish revision ``number``, or ``(latest number, latest)`` when
        the latest revision has the same inputs and settings (a no-op).
    """
    if not revisions:
        return 1, None
    latest = revisions[-1]
    same = (
        latest.run.get("input_fingerprint") == fingerprint
        and latest.run.get("settings_hash") == settings_hash
    )
    if same and not force:
        return latest.number, latest
    return latest.number + 1, None


def reconcile(root: Path, history: RunHistory) -> list[str]:
    """Record published revisions that the history database does not hold.

    A run killed after its folder was renamed into place but before its database transaction
    leaves exactly this; the folder is complete (it appeared in one rename), so its files are
    recorded as they are. Revisions are matched by run id, not by path, so an output root that
    was moved or copied elsewhere is recognised. Call while holding the lock.

    Args:
        root: output root.
        history: the run history.

    Returns:
        ``<as_of>/r<N>`` of each revision recorded.
    """
    recorded = []
    for revision in all_revisions(root):
        folder = revision.path
        run_file = folder / RUN_FILE
        if not run_file.is_file():
            continue
        run_id = str(revision.run.get("run_id", ""))
        if run_id and history.has_run(run_id):
            continue
        try:
            info = json.loads(run_file.read_text(encoding="utf-8"))
            forecast = _read_published(folder / "forecast.csv")
            plan = _read_published(folder / "plan.csv")
        except (OSError, ValueError, KeyError) as exc:
            raise RainmakerError(
                f"published revision {folder} cannot be read ({exc}); move it away and re-run"
            ) from exc
        relative = folder.relative_to(root).as_posix()
        history.record({**info, "output_dir": relative}, forecast, plan)
        recorded.append(relative)
    return recorded


def _read_published(path: Path) -> pd.DataFrame:
    """A published ``forecast.csv`` or ``plan.csv`` as written: ids as the exact text (their
    spreadsheet quoting undone), empty cells as NaN, dates parsed."""
    frame = pd.read_csv(path, dtype={"product_id": str}, keep_default_na=False, na_values=[""])
    frame["product_id"] = frame["product_id"].map(restore_spreadsheet_text)
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    return frame


# ---------------------------------------------------------------------- helpers


def _track(
    config: DailyConfig,
    result: DayResult,
    folder: Path,
    *,
    command: str,
    progress: Progress,
    history: RunHistory | None = None,
) -> str | None:
    """Log a published day to MLflow; returns the error text instead of raising."""
    from rainmaker.tracking import TrackingError, log_run

    progress("logging to MLflow")
    info = result.run_info
    params = {
        "command": command,
        "as_of": info["as_of"],
        "revision": info["revision"],
        "horizon": config.horizon,
        "confidence": config.confidence,
        "model": config.model,
        "model_name": info["model_name"],
        "lang": config.lang,
        "n_products": info["n_products"],
        "products": ",".join(info["products"]),
        "data_fingerprint": info["data_fingerprint"],
        "input_fingerprint": info["input_fingerprint"],
        "settings_hash": info["settings_hash"],
        **{f"weight.{k}": v for k, v in sorted(config.weights.items())},
    }
    metrics = {k: v for k, v in info["metrics"].items() if v is not None}
    if info["objective"] is not None:
        metrics["objective"] = info["objective"]
    metrics.update({f"time_{k}": v for k, v in info["timings"].items()})
    try:
        tracked = log_run(
            config.tracking_uri,
            config.experiment,
            run_name=result.run_id,
            params=params,
            metrics=metrics,
            tags={
                "rainmaker.run_id": result.run_id,
                "rainmaker.command": command,
                "rainmaker.as_of": info["as_of"],
                "rainmaker.solver_status": info["solver_status"],
            },
            artifacts=[
                folder / name
                for name in ("report.html", "plan.csv", "forecast.csv", "plan.xlsx", RUN_FILE)
            ],
            figures=sorted((folder / "charts").glob("*.svg")),
        )
    except TrackingError as exc:
        return str(exc)
    if history is not None:
        history.set_mlflow_run(result.run_id, tracked.run_id)
    return None


def _print_warnings(dataset: Dataset, progress: Progress) -> None:
    for warning in dataset.warnings:
        progress(f"warning: {warning}")


def _check_day(dataset: Dataset, day: pd.Timestamp) -> None:
    if not dataset.first_date <= day <= dataset.last_date:
        raise UsageError(
            f"as-of day {day:%Y-%m-%d} is outside the flows of {dataset.root} "
            f"({dataset.first_date:%Y-%m-%d} to {dataset.last_date:%Y-%m-%d})"
        )


def _iso_dates(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "date" in out.columns:
        out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    return out


def _float_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    return str(value)


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"
