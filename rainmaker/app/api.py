"""The manager's files from Python: a plan made in a notebook, written as ``rainmaker plan``
writes it, without a job configuration.

A quant's three calls, on any data set and day::

    forecast = Forecaster(horizon=14).fit(dataset, "2022-06-15").predict()
    plan = Planner().fit(dataset, "2022-06-15", forecast).plan()
    write_plan_folder(plan, "out/2022-06-15", lang="zh")   # or write_report / write_excel

The plan (:class:`optimize.PlanResult`) carries the data set and the forecast it was made
from (:func:`optimize.make_plan` and :meth:`optimize.Planner.plan` attach them), so nothing is
repeated. These functions live in the application layer because the report and the workbook
do: ``optimize`` sits below them and may not import them, so ``PlanResult`` has no
``to_report`` method; this module is its place. The files are made by the daily job's own
pipeline (:func:`rainmaker.app.pipeline.plan_day` and :func:`~rainmaker.app.day_files.write_day`)
with the plan and forecast handed in, so they are the same files ``rainmaker plan`` writes for
the same plan: ``forecast.csv``, ``plan.csv``, ``report.html``, ``plan.xlsx``, ``charts/``,
``run.json``. Nothing is logged to MLflow or recorded in a run history.
"""

from __future__ import annotations

import dataclasses
import tempfile
import uuid
from pathlib import Path

from optimize.plan import PlanResult
from rainmaker.app.config import LANGUAGES, DailyConfig
from rainmaker.app.day_files import publish_day, write_day
from rainmaker.app.outputs import (
    REPORT_FILE,
    WORKBOOK_FILE,
    check_output_file,
    check_replaceable,
)
from rainmaker.app.pipeline import DayResult, Progress, Steps, plan_day
from rainmaker.contracts import ForecastResult
from rainmaker.dataset import Dataset
from rainmaker.errors import UsageError

__all__ = ["day_result", "write_excel", "write_plan_folder", "write_report"]


def _quiet(message: str) -> None:
    """Progress lines of the pipeline: a notebook has its own output, so none."""


def day_result(
    plan: PlanResult,
    *,
    lang: str = "zh",
    forecast: ForecastResult | None = None,
    dataset: Dataset | None = None,
    progress: Progress = _quiet,
) -> DayResult:
    """The daily job's in-memory result for a plan made from Python (the report rendered).

    Args:
        plan: an :class:`optimize.PlanResult` (from ``make_plan`` or ``Planner.plan``).
        lang: the report's language, ``"zh"`` or ``"en"``.
        forecast: the forecast the plan was made from (default: the plan's own).
        dataset: the data set (default: the plan's own); rows after the as-of day are ignored.
        progress: where the pipeline's progress lines go (default: nowhere).

    Raises:
        UsageError: unknown language, or a plan that does not carry its data set or forecast
            (made by ``plan_from_inputs``) and none given.
    """
    if lang not in LANGUAGES:
        raise UsageError(f"unknown language {lang!r}; expected 'zh' or 'en'")
    forecast = forecast if forecast is not None else plan.forecast
    dataset = dataset if dataset is not None else plan.dataset
    if forecast is None or dataset is None:
        raise UsageError(
            "the plan does not carry its data set and forecast (it was made by "
            "plan_from_inputs); pass dataset= and forecast=, or plan with make_plan or Planner"
        )
    as_of = forecast.as_of
    products = sorted(plan.plan["product_id"].unique())
    used = dataset.up_to(as_of)
    if sorted(used.product_ids) != products:
        used = used.select(products)
    settings = plan.settings
    # the daily job's settings that shape the files and run.json: the plan's horizon, buffer
    # confidence and objective weights, the forecast's model, the language asked for
    config = DailyConfig(
        horizon=forecast.horizon,
        confidence=settings.liquidity.confidence,
        model=forecast.model_name,
        lang=lang,
        weights={k: float(v) for k, v in dataclasses.asdict(settings.weights).items()},
        tracking_uri="",
    )
    steps = Steps(
        forecaster=lambda *args, **kwargs: forecast,
        planner=lambda *args, **kwargs: plan,
    )
    run_id = f"{as_of:%Y%m%d}-api-{uuid.uuid4().hex[:8]}"
    return plan_day(
        used,
        as_of,
        config,
        run_id=run_id,
        settings=settings,
        steps=steps,
        progress=progress,
        source=dataset,
    )


def write_plan_folder(
    plan: PlanResult,
    out: str | Path,
    lang: str = "zh",
    *,
    forecast: ForecastResult | None = None,
    dataset: Dataset | None = None,
) -> Path:
    """Write every file ``rainmaker plan --out`` writes for this plan into ``out``.

    ``out`` is created, or replaced whole when it holds an earlier plan (a ``run.json``);
    a folder with other content is refused. Files are staged beside it and swapped in.

    Returns:
        The folder written.

    Raises:
        UsageError: ``out`` cannot be used, or as :func:`day_result`.
    """
    target = Path(out)
    check_replaceable(target, "out")
    day = day_result(plan, lang=lang, forecast=forecast, dataset=dataset)
    day.run_info["output_dir"] = str(target)
    publish_day(day, target)
    return target


def write_report(
    plan: PlanResult,
    path: str | Path,
    lang: str = "zh",
    *,
    forecast: ForecastResult | None = None,
    dataset: Dataset | None = None,
) -> Path:
    """Write the plan's HTML report (the ``report.html`` of ``rainmaker plan``) to ``path``.

    The report is self-contained (charts inline), so the one file is enough.

    Returns:
        The file written.
    """
    return _one_file(plan, path, REPORT_FILE, lang, forecast, dataset)


def write_excel(
    plan: PlanResult,
    path: str | Path,
    lang: str = "zh",
    *,
    forecast: ForecastResult | None = None,
    dataset: Dataset | None = None,
) -> Path:
    """Write the plan's workbook (the ``plan.xlsx`` of ``rainmaker plan``) to ``path``.

    Returns:
        The file written.
    """
    return _one_file(plan, path, WORKBOOK_FILE, lang, forecast, dataset)


def _one_file(
    plan: PlanResult,
    path: str | Path,
    name: str,
    lang: str,
    forecast: ForecastResult | None,
    dataset: Dataset | None,
) -> Path:
    target = Path(path)
    check_output_file(target, "path")
    day = day_result(plan, lang=lang, forecast=forecast, dataset=dataset)
    # the daily job writes its files together; take the one asked for from a scratch folder
    # on the target's file system, then rename it into place (never a half-written file)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.") as scratch:
        write_day(day, Path(scratch))
        Path(scratch, name).replace(target)
    return target
