"""What the report takes and gives: :class:`ReportInputs` (plain data) and
:class:`RenderedReport` (the HTML, charts, metrics and alerts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rainmaker.app.outputs import REPORT_FILE

__all__ = ["RenderedReport", "ReportInputs"]


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows, as plain data.

    Attributes:
        as_of: the as-of day (last day of data used).
        run_id: the run's id.
        products: products table (product_id, issuer, product_type, fee_bp; optional name,
            min_liquid_ratio as a fraction of net assets).
        flows: flows up to the as-of day (SPEC §1 columns; yield_7d used when present).
        benchmark: benchmark 7-day yield by calendar day up to the as-of day (percent).
        forecast: SPEC §3 forecast rows: product_id, date, variable, mean, pNN (CNY).
        plan: plan rows: product_id, date, quota (NaN = no cap), expected_subscriptions,
            expected_redemptions, liquidity_buffer, expected_aum (CNY), expected_yield_7d
            (percent); the buffer's requirement is the plan's ``required_buffer`` (CNY; without
            it the report shows none and raises no buffer alert).
        paths: forecast sample paths by variable, arrays (n_products, n_paths, horizon), CNY;
            make portfolio bands exact (without them quantiles are summed, which is wider).
        path_product_ids: product order of ``paths``.
        model_name: forecast model.
        solver_status: optimiser status (e.g. ``optimal``).
        objective: optimiser objective value.
        explanations: the marginal cost of constraints (LP duals) in plain words.
        deviation: shadow-price deviation of each book (:func:`rainmaker.shadow_price.
            holdings_deviation`); None leaves the section out.
        stress: ``{"summary", "reverse"}`` frames of :func:`simulate.stress.run_stress`; None
            leaves the section out.
        violations: constraints the plan does not meet, in plain words (used when
            ``violation_table`` is None).
        violation_table: the optimiser's violations frame (``constraint, product_id, date,
            required_cny, planned_cny, shortfall_cny, shortfall_pct_of_aum``); its lines are
            written from the report's own words in the report's language.
        constraint_prices: the optimiser's shadow-price summary (``constraint, product_id,
            binding_days, horizon_days, first_date, mean_cost_bp_day, total_cost_bp_day``,
            :class:`optimize.explain.Explanations` ``.summary``); shown as what each constraint
            costs in yield, or as a priority the settings set when the price is a penalty.
            ``explanations`` are shown instead when None.
        warnings: validation warnings of the data set.
        accuracy: realised past forecasts (:func:`rainmaker.app.accuracy.forecast_accuracy`).
        drift: drifting products (:func:`rainmaker.app.accuracy.drift_alerts`).
        revision: revision number of the as-of day (None outside scheduled runs).
        data_fingerprint: sha256 of the data set's files.
        flows_last: last day of flows in the data set.
        market_last: last market publication on or before the as-of day.
        generated_at: when the report was made (default now); shown in ``time_zone``.
        time_zone: IANA zone the report shows times in (e.g. ``Asia/Shanghai``); "" = the
            machine's local zone (``TZ``).
        timings: seconds per step.
        version: rainmaker version.
    """

    as_of: pd.Timestamp
    run_id: str
    products: pd.DataFrame
    flows: pd.DataFrame
    benchmark: pd.Series
    forecast: pd.DataFrame
    plan: pd.DataFrame
    paths: Mapping[str, np.ndarray] | None = None
    path_product_ids: Sequence[str] = ()
    model_name: str = ""
    solver_status: str = ""
    objective: float | None = None
    explanations: Sequence[str] = ()
    deviation: pd.DataFrame | None = None
    stress: Mapping[str, pd.DataFrame] | None = None
    violations: Sequence[str] = ()
    violation_table: pd.DataFrame | None = None
    constraint_prices: pd.DataFrame | None = None
    warnings: Sequence[str] = ()
    accuracy: pd.DataFrame | None = None
    drift: Sequence[Mapping[str, Any]] = ()
    revision: int | None = None
    data_fingerprint: str = ""
    flows_last: pd.Timestamp | None = None
    market_last: pd.Timestamp | None = None
    generated_at: datetime | None = None
    time_zone: str = ""
    timings: Mapping[str, float] = field(default_factory=dict)
    version: str = ""


@dataclass(frozen=True)
class RenderedReport:
    """The rendered report.

    Attributes:
        html: the self-contained HTML document.
        charts: chart name -> SVG text: ``aum`` (portfolio), ``aum_products`` (small
            multiples, with more than one product), ``yield``, ``quota`` (when a quota caps).
        metrics: summary figures (CNY, percent, bp as named) for tracking and ``run.json``.
        alerts: the alerts shown, each ``{"severity", "kind", "product_id", "text"}``.
    """

    html: str
    charts: dict[str, str]
    metrics: dict[str, float]
    alerts: list[dict[str, str]]

    def write(self, folder: Path, name: str = REPORT_FILE) -> Path:
        """Write the HTML to ``folder/name`` and return its path."""
        path = folder / name
        path.write_text(self.html, encoding="utf-8")
        return path
