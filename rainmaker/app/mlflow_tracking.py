"""The daily job's log to MLflow: one MLflow run per published day (parameters, metrics, the
day's files and charts as artifacts). A tracking failure is returned as text, never raised:
it does not undo a published plan.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rainmaker.app.config import DailyConfig
from rainmaker.app.outputs import DAY_FILES
from rainmaker.app.pipeline import DayResult, Progress

if TYPE_CHECKING:
    from rainmaker.app.history import RunHistory

__all__ = [
    "track_day",
]


def track_day(
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
            artifacts=[folder / name for name in DAY_FILES],
            figures=sorted((folder / "charts").glob("*.svg")),
        )
    except TrackingError as exc:
        return str(exc)
    if history is not None:
        history.set_mlflow_run(result.run_id, tracked.run_id)
    return None
