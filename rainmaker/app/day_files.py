"""A day's files: writing them (:func:`write_day`), swapping them into a folder whole
(:func:`publish_day`), and ``rainmaker plan`` (:func:`plan_to_folder`): one as-of day
planned into a folder the user names, replaced whole (never a mix of two runs).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rainmaker.app.config import DailyConfig
from rainmaker.app.mlflow_tracking import track_day
from rainmaker.app.outputs import (
    FORECAST_FILE,
    PLAN_FILE,
    RUN_FILE,
    WORKBOOK_FILE,
    check_replaceable,
    cleaned_up,
    publish_replacing,
    sibling_staging,
)
from rainmaker.app.pipeline import (
    DayResult,
    Progress,
    Steps,
    check_day,
    plan_day,
    plan_settings,
    print_warnings,
    select_products,
    to_stderr,
)
from rainmaker.safety import mask_secrets, write_spreadsheet_csv

__all__ = [
    "plan_to_folder",
    "publish_day",
    "write_day",
]


def publish_day(day: DayResult, out: Path) -> None:
    """Write the day's files into a staging folder beside ``out``, then swap it in whole: a
    reader of ``out`` sees the earlier plan or this one, never half of each."""
    with cleaned_up(sibling_staging(out)) as staged:
        write_day(day, staged)
        publish_replacing(staged, out)


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
    for name, frame in ((FORECAST_FILE, forecast), (PLAN_FILE, plan)):
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
            folder / WORKBOOK_FILE,
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


def plan_to_folder(
    data: Path,
    as_of: Any,
    out: Path,
    config: DailyConfig,
    *,
    steps: Steps | None = None,
    progress: Progress = to_stderr,
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
    print_warnings(dataset, progress)
    day = dataset.last_date if wanted is None else wanted
    check_day(dataset, day)
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
        error = track_day(config, result, out, command="plan", progress=progress)
        if error:
            progress(f"warning: {error}")
    return result


def _iso_dates(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "date" in out.columns:
        out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    return out


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    return str(value)
