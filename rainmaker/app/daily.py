"""The daily job's public names, in one place for users of :mod:`rainmaker.app`.

The job itself lives in modules named for what they hold:

- :mod:`rainmaker.app.pipeline` — one as-of day forecast, planned and reported in memory
  (:func:`plan_day`, :class:`Steps`, :class:`DayResult`, the day and product choices);
- :mod:`rainmaker.app.day_files` — a day's files written and published whole, and
  ``rainmaker plan`` (:func:`plan_to_folder`);
- :mod:`rainmaker.app.job` — ``rainmaker run`` (:func:`run_job`): revisions, no-ops,
  :func:`rollback`, :func:`reconcile` and retention, and the order of its safety steps;
- :mod:`rainmaker.app.mlflow_tracking` — the log of a published day to MLflow;
- :mod:`rainmaker.app.wording` — the lines the report shows for the optimiser's explanations
  and broken constraints.

``from rainmaker.app.daily import X`` keeps working for every name below. To replace a step in
a test, patch its home (``rainmaker.app.pipeline.Steps``), which is what the code calls.
"""

from __future__ import annotations

from rainmaker.app.day_files import plan_to_folder, publish_day, write_day
from rainmaker.app.job import (
    RollbackOutcome,
    RunOutcome,
    next_revision,
    reconcile,
    rollback,
    run_job,
)
from rainmaker.app.pipeline import (
    CLOSED_PRODUCT_DAYS,
    QUANTILE_LEVELS,
    DayResult,
    Progress,
    Steps,
    input_fingerprint,
    latest_complete_day,
    plan_day,
    plan_settings,
    quantile_levels,
    select_products,
)
from rainmaker.app.wording import explanation_texts, violation_texts

__all__ = [
    "CLOSED_PRODUCT_DAYS",
    "QUANTILE_LEVELS",
    "DayResult",
    "Progress",
    "RollbackOutcome",
    "RunOutcome",
    "Steps",
    "explanation_texts",
    "input_fingerprint",
    "latest_complete_day",
    "next_revision",
    "plan_day",
    "plan_settings",
    "plan_to_folder",
    "publish_day",
    "quantile_levels",
    "reconcile",
    "rollback",
    "run_job",
    "select_products",
    "violation_texts",
    "write_day",
]
