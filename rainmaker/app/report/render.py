"""The daily plan report: figures computed from a forecast and a plan, rendered to one HTML file.

:func:`render_report` takes :class:`ReportInputs` — plain data frames, so the report can be
built and tested without running a forecast or an optimiser — and returns a
:class:`RenderedReport`: the HTML (one self-contained file: inline CSS and SVG, no script, no
external font or link, so it opens offline), the chart SVGs, the summary metrics (for MLflow and
``run.json``) and the alerts.

What the manager reads, top to bottom (docs/report.md): the header (as-of day, horizon, data
freshness in local time), today's actions per product (:mod:`rainmaker.app.report.today`:
quota, subscriptions, exposure, purchases by bucket, repo borrowing, cash and buffer against
the requirement), the alerts that need a decision and then the notices, the headline cards
(actual, plan or forecast; they add up, with the flow bridge beneath them), the plan per
product, tonight's liquidity, the shadow-price deviation, stress tests, what the constraints
cost (or the priority a penalty expresses), forecast accuracy, the charts, and a collapsed
details section with the internals (run id, model, solver, objective, fingerprint, timings,
validation warnings).

Units: amounts are CNY (shown in one scale, see :func:`rainmaker.app.report.i18n.amount_scale`),
yields percent per annum, spreads basis points, ratios percent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rainmaker.app.history import DRIFT_RECENT_DAYS, accuracy_summary
from rainmaker.app.outputs import REPORT_FILE
from rainmaker.app.report import charts
from rainmaker.app.report import today as today_model
from rainmaker.app.report.i18n import amount_scale, texts
from rainmaker.app.report.stress_page import STRESS_TEXTS, stress_overview
from rainmaker.app.report.today import RATIO_TOLERANCE
from rainmaker.china_calendar import calendar_features
from rainmaker.contracts import PURCHASE_PREFIX
from rainmaker.quantiles import quantile_columns, quantile_level
from rainmaker.regulation import LARGE_REDEMPTION_SHARE, LIQUID_WORKDAYS, MIN_LIQUID_RATIO

__all__ = [
    "LARGE_REDEMPTION_SHARE",
    "LIQUID_FLOOR",
    "ReportInputs",
    "RenderedReport",
    "buffer_requirement",
    "render_report",
]

# Regulation (DOMAIN.md): ≥ 10 % of net assets in cash and assets maturing within 5 trading days.
LIQUID_FLOOR = MIN_LIQUID_RATIO
# A floor is "close" when the liquid share is within this factor of it (10 % floor: below 12 %).
FLOOR_CLOSE_FACTOR = 1.2
# 巨额赎回 (rainmaker.regulation.LARGE_REDEMPTION_SHARE); half of it is worth a warning.
LARGE_REDEMPTION_WARNING_SHARE = LARGE_REDEMPTION_SHARE / 2
# Trading days of redemptions the buffer must cover (the 5-day liquidity rule).
BUFFER_DAYS = LIQUID_WORKDAYS
ACCURACY_WINDOW_DAYS = 28
TEMPLATE = "report.html.j2"
# A shadow price above this (bp of annual yield a day, for 1 % of AUM) cannot be yield: moving
# 1 % of a book between its cheapest and dearest assets changes its yield by a few bp at most,
# so such a price is a soft constraint's penalty, i.e. a priority the settings express.
PENALTY_PRICE_BP = 50.0
MAX_PRIORITIES = 12
# the plan's own requirement: optimize.results.plan_frame names it required_buffer
_REQUIREMENT_COLUMNS = ("required_buffer", "liquidity_requirement", "buffer_requirement")


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
            (percent); a requirement column (``liquidity_requirement``) is used when present.
        confidence: probability the buffer must cover redemptions (e.g. 0.95).
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
        accuracy: realised past forecasts (:func:`rainmaker.app.history.forecast_accuracy`).
        drift: drifting products (:func:`rainmaker.app.history.drift_alerts`).
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
    confidence: float = 0.95
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


def _stress_section(stress: Mapping[str, pd.DataFrame] | None, lang: str) -> dict[str, Any] | None:
    """The stress section's words and rows (None when the run made no stress test)."""
    if stress is None:
        return None
    overview = stress_overview(stress["summary"], stress["reverse"], lang)
    return {"t": STRESS_TEXTS[lang], **overview}


def _deviation_rows(
    deviation: pd.DataFrame | None, words: Mapping[str, str], view: _View
) -> list[dict[str, Any]]:
    """Rows of the shadow-price section: product, deviation, market − cost, action."""
    if deviation is None or deviation.empty:
        return []
    rows = []
    for r in deviation.itertuples():
        value = float(r.deviation_pct)
        rows.append(
            {
                "product_id": str(r.product_id),
                "deviation": f"{value:+.3f}%" if math.isfinite(value) else view.na(),
                "gap": f"{view.amount(float(r.gap_cny))} {view.unit}",
                "action": words[f"deviation_action_{r.action}"],
                "bad": r.action != "none",
            }
        )
    return rows


def render_report(inputs: ReportInputs, lang: str = "zh") -> RenderedReport:
    """Compute the report's figures and render it.

    Top to bottom: today's actions per product, the alerts that need a decision (then the
    notices), the headline cards with the flow bridge beneath them, the plan by product,
    liquidity, shadow-price deviation, stress, what the constraints cost, forecast accuracy,
    the charts, and a collapsed details section (run id, model, solver, objective, data
    fingerprint, timings, validation warnings).

    Args:
        inputs: the data.
        lang: ``zh`` (default) or ``en``.

    Returns:
        The HTML, charts, metrics and alerts.
    """
    words = texts(lang)
    view = _View.build(inputs, lang)
    # a chart with nothing to show (no quota anywhere) is left out, not drawn empty
    chart_svgs = {name: svg for name, svg in view.charts().items() if svg}
    alerts = view.alerts()
    context = {
        "lang": lang,
        "t": words,
        "header": view.header(),
        "today": view.today(),
        "decisions": [a for a in alerts if a["severity"] != "info"],
        "notices": [a for a in alerts if a["severity"] == "info"],
        "summary": view.summary(),
        "bridge": view.bridge_rows(),
        "products": view.product_rows(),
        "liquidity": view.liquidity_rows(),
        "priorities": view.priorities(),
        "deviation": _deviation_rows(inputs.deviation, words, view),
        "stress": _stress_section(inputs.stress, lang),
        "accuracy": view.accuracy_rows(),
        "accuracy_text": words["accuracy_text"].format(days=ACCURACY_WINDOW_DAYS),
        "charts": chart_svgs,
        "details": view.details(),
        "footer": words["footer"].format(unit=view.unit),
    }
    html = _environment().get_template(TEMPLATE).render(**context)
    return RenderedReport(html=html, charts=chart_svgs, metrics=view.metrics(), alerts=alerts)


def buffer_requirement(
    plan: pd.DataFrame,
    forecast: pd.DataFrame,
    products: pd.DataFrame,
    confidence: float,
) -> pd.Series:
    """The liquidity each plan row must hold (CNY), aligned with ``plan``'s index.

    The plan's own requirement column is used when it has one. Otherwise the requirement is the
    larger of the regulatory floor (``min_liquid_ratio`` of the product, default 10 %, times
    the expected AUM) and the redemptions the buffer must meet over the next ``BUFFER_DAYS``
    days of the horizon, each taken at the forecast quantile nearest to ``confidence``
    (summing quantiles over days is prudent: it is at least the quantile of the sum for
    positively related days).

    Args:
        plan: plan rows (product_id, date, expected_aum, ...).
        forecast: SPEC §3 forecast rows.
        products: products table.
        confidence: probability to cover (e.g. 0.95).
    """
    for column in _REQUIREMENT_COLUMNS:
        if column in plan.columns:
            need = plan[column].astype(float)
            if "regulatory_floor" in plan.columns:
                # the optimiser holds the buffer above both the quantile and the floor
                need = np.maximum(need, plan["regulatory_floor"].astype(float))
            return need
    quantile = _nearest_quantile(forecast, confidence)
    redemptions = forecast[forecast["variable"] == "redemptions"].pivot_table(
        index="date", columns="product_id", values=quantile, aggfunc="first"
    )
    ahead = redemptions[::-1].rolling(BUFFER_DAYS, min_periods=1).sum()[::-1]
    floor = _floor_ratios(products)
    values = []
    for row in plan.itertuples(index=False):
        ratio = floor.get(row.product_id, LIQUID_FLOOR)
        need = ratio * float(row.expected_aum)
        if row.product_id in ahead.columns and row.date in ahead.index:
            need = max(need, float(ahead.at[row.date, row.product_id]))
        values.append(need)
    return pd.Series(values, index=plan.index, dtype=float)


# ---------------------------------------------------------------------- computation


@dataclass
class _View:
    """The report's figures, computed once from the inputs."""

    inputs: ReportInputs
    lang: str
    words: dict[str, str]
    plan: pd.DataFrame
    product_ids: list[str]
    dates: pd.DatetimeIndex
    divisor: float
    unit: str
    quantiles: list[str]
    bands: tuple[str, str, str, str]
    benchmark_now: float
    aum_now: pd.Series
    found_alerts: list[dict[str, str]] | None = None

    @classmethod
    def build(cls, inputs: ReportInputs, lang: str) -> _View:
        plan = inputs.plan.copy()
        plan["date"] = pd.to_datetime(plan["date"])
        plan = plan.sort_values(["product_id", "date"]).reset_index(drop=True)
        forecast = inputs.forecast
        plan["requirement"] = buffer_requirement(plan, forecast, inputs.products, inputs.confidence)
        product_ids = list(dict.fromkeys(plan["product_id"]))
        flows = inputs.flows[inputs.flows["date"] <= inputs.as_of]
        last = flows.sort_values("date").groupby("product_id")["aum"].last()
        aum_now = last.reindex(product_ids).astype(float)
        divisor, unit = amount_scale(float(aum_now.sum()), lang)
        quantiles = quantile_columns(forecast.columns)
        bench = inputs.benchmark.dropna()
        return cls(
            inputs=inputs,
            lang=lang,
            words=texts(lang),
            plan=plan,
            product_ids=product_ids,
            dates=pd.DatetimeIndex(sorted(plan["date"].unique())),
            divisor=divisor,
            unit=unit,
            quantiles=quantiles,
            bands=_band_columns(quantiles),
            benchmark_now=float(bench.iloc[-1]) if not bench.empty else math.nan,
            aum_now=aum_now,
        )

    # -- formatting

    def amount(self, value: float) -> str:
        if value is None or not math.isfinite(value):
            return self.words["not_available"]
        return f"{value / self.divisor:,.2f}"

    def na(self) -> str:
        return self.words["not_available"]

    @staticmethod
    def day(value: Any) -> str:
        return f"{pd.Timestamp(value):%Y-%m-%d}"

    def band_label(self, approx: bool) -> str:
        coverage = _width(self.bands[0], self.bands[3])
        return self.words["band_approx" if approx else "band"].format(coverage=coverage)

    # -- sections

    def header(self) -> dict[str, Any]:
        """As-of day, horizon and data freshness (local time with zone); no internals."""
        inputs = self.inputs
        generated = self.generated()
        flows_last = inputs.flows_last if inputs.flows_last is not None else inputs.as_of
        market_last = inputs.market_last
        age = (generated.tz_localize(None).normalize() - inputs.as_of).days
        stale = None
        if market_last is not None and (inputs.as_of - market_last).days > 3:
            stale = self.words["market_stale"].format(days=(inputs.as_of - market_last).days)
        return {
            "as_of": self.day(inputs.as_of),
            "horizon": self.words["horizon_text"].format(
                first=self.day(self.dates[0]), last=self.day(self.dates[-1]), days=len(self.dates)
            )
            if len(self.dates)
            else self.na(),
            "freshness": self.words["freshness_text"].format(
                flows_last=self.day(flows_last),
                market_last=self.day(market_last) if market_last is not None else self.na(),
                generated=self.local_time(generated),
                age=max(age, 0),
            ),
            "market_stale": stale,
            "n_warnings": len(inputs.warnings),
        }

    def generated(self) -> pd.Timestamp:
        """When the report was made, in the report's time zone (aware)."""
        when = pd.Timestamp(self.inputs.generated_at or datetime.now(UTC))
        if when.tzinfo is None:  # a naive time is UTC (the daily job hands UTC)
            when = when.tz_localize("UTC")
        zone = self.inputs.time_zone or datetime.now().astimezone().tzinfo
        return when.tz_convert(zone)

    def local_time(self, when: pd.Timestamp) -> str:
        """``2022-06-16 08:30`` with its zone: the offset in Chinese (``时区 +08:00``), the
        zone's name and offset in English."""
        offset = when.strftime("%z")
        offset = f"{offset[:3]}:{offset[3:]}" if len(offset) == 5 else offset
        return self.words["local_time"].format(
            time=f"{when:%Y-%m-%d %H:%M}", zone=when.tzname() or "", offset=offset
        )

    def details(self) -> dict[str, Any]:
        """Internals for the collapsed details section: run, model, solver, data, timings."""
        inputs = self.inputs
        objective = inputs.objective
        return {
            "run_id": inputs.run_id,
            "revision": inputs.revision,
            "model": inputs.model_name or self.na(),
            "solver": inputs.solver_status or self.na(),
            "solver_ok": _status_ok(inputs.solver_status),
            "objective": f"{objective:,.6g}"
            if objective is not None and math.isfinite(objective)
            else self.na(),
            "fingerprint": inputs.data_fingerprint or self.na(),
            "version": inputs.version or self.na(),
            "timings": [(k, f"{v:.2f} s") for k, v in inputs.timings.items()],
            "warnings": [str(w) for w in inputs.warnings],
            "explanations": list(inputs.explanations)
            if self.inputs.constraint_prices is not None
            else [],
            "n_products": len(self.product_ids),
        }

    def portfolio_net_flow(self) -> tuple[float, float, float, bool]:
        """(mean, low, high, approximate) of the total net flow over the horizon (CNY)."""
        lo, hi = self.bands[0], self.bands[3]
        paths = self._paths("net_flow")
        if paths is not None:
            total = paths.sum(axis=(0, 2))
            q = np.quantile(total, [_level(lo), _level(hi)])
            return float(total.mean()), float(q[0]), float(q[1]), False
        rows = self._forecast("net_flow")
        return float(rows["mean"].sum()), float(rows[lo].sum()), float(rows[hi].sum()), True

    def coverage(self) -> tuple[float, float]:
        """(lowest, first-day) ratio of total buffer to total requirement over the horizon."""
        daily = self.plan.groupby("date")[["liquidity_buffer", "requirement"]].sum()
        ratio = daily["liquidity_buffer"] / daily["requirement"].where(daily["requirement"] > 0)
        if ratio.dropna().empty:
            return math.nan, math.nan
        return float(ratio.min()), float(ratio.iloc[0])

    def expected_yield(self) -> float:
        """AUM-weighted expected 7-day yield over the horizon (percent)."""
        rows = self.plan.dropna(subset=["expected_yield_7d", "expected_aum"])
        weight = rows["expected_aum"].clip(lower=0)
        if weight.sum() <= 0:
            return math.nan
        return float((rows["expected_yield_7d"] * weight).sum() / weight.sum())

    # -- today and the headline figures (rainmaker.app.report.today computes, this formats)

    def first_days(self) -> list[today_model.FirstDay]:
        return today_model.first_day(self.plan, self.inputs.forecast, self.product_ids)

    def bridge(self) -> tuple[list[today_model.Bridge], today_model.Bridge]:
        return today_model.flow_bridge(
            self.plan, self.inputs.forecast, self.aum_now, self.product_ids
        )

    def standings(self) -> list[today_model.Standing]:
        return today_model.liquidity_standing(self.plan, self.product_ids)

    def signed(self, value: float) -> str:
        if value is None or not math.isfinite(value):
            return self.na()
        shown = value / self.divisor
        return f"{shown:+,.2f}" if round(shown, 2) != 0 else "0.00"

    def today(self) -> dict[str, Any]:
        """The first plan day, one row per product: quota, subscriptions accepted against the
        forecast demand, exposure against the baseline, purchases by bucket, repo borrowing,
        cash and overnight tonight, buffer against requirement; and a total row."""
        w = self.words
        days = self.first_days()
        buckets: list[str] = []
        for day in days:
            buckets.extend(b for b in day.purchases if b not in buckets)
        order = [c.removeprefix(PURCHASE_PREFIX) for c in self.plan.columns]
        buckets.sort(key=lambda b: order.index(b) if b in order else len(order))
        rows = []
        for day in days:
            if math.isnan(day.quota):
                quota = w["quota_none"]
            elif day.quota <= 0:
                quota = w["quota_closed_today"]
            else:
                quota = self.amount(day.quota)
            ratio = day.exposure_ratio
            if not math.isfinite(day.exposure):
                exposure = self.na()
            elif day.exposure <= 0:
                exposure = w["exposure_off"]
            elif math.isfinite(ratio):
                exposure = w["exposure_ratio"].format(ratio=f"{ratio:.1f}")
            else:
                exposure = f"{day.exposure:.2f}"
            rows.append(
                {
                    "id": day.product_id,
                    "quota": quota,
                    "capped": not math.isnan(day.quota),
                    "accepted": self.amount(day.accepted),
                    "demand": self.amount(day.forecast_demand),
                    "exposure": exposure,
                    "exposure_title": w["exposure_title"].format(
                        exposure=f"{day.exposure:.2f}", baseline=f"{day.baseline_exposure:.2f}"
                    )
                    if math.isfinite(day.exposure) and math.isfinite(day.baseline_exposure)
                    else "",
                    "purchases": [
                        self.amount(day.purchases[b]) if b in day.purchases else "" for b in buckets
                    ],
                    "borrowing": self.amount(day.borrowing) if day.borrowing >= 1.0 else "",
                    "liquid": self.amount(day.liquid),
                    "buffer": self.amount(day.buffer),
                    "requirement": self.amount(day.requirement),
                    "buffer_ok": not (
                        math.isfinite(day.buffer_ratio) and day.buffer_ratio < 1.0 - RATIO_TOLERANCE
                    ),
                }
            )
        total = {
            "accepted": self.amount(sum(d.accepted for d in days)),
            "demand": self.amount(sum(d.forecast_demand for d in days)),
            "purchases": [self.amount(sum(d.purchases.get(b, 0.0) for d in days)) for b in buckets],
            "borrowing": self.amount(sum(d.borrowing for d in days)),
            "liquid": self.amount(sum(d.liquid for d in days)),
            "buffer": self.amount(sum(d.buffer for d in days)),
            "requirement": self.amount(sum(d.requirement for d in days)),
        }
        return {
            "title": w["today"].format(date=self.day(days[0].date) if days else self.na()),
            "buckets": [self.bucket_name(b) for b in buckets],
            "rows": rows,
            "total": total,
            "has_exposure": any(math.isfinite(d.exposure) for d in days),
            "has_liquid": any(math.isfinite(d.liquid) for d in days),
            "unit": self.unit,
        }

    def bucket_name(self, bucket: str) -> str:
        return self.words.get(f"bucket_{bucket}", bucket)

    def _bridge_shown(self, b: today_model.Bridge) -> dict[str, str]:
        start, flow, other, end = today_model.display_sum(
            [b.start, b.plan_net_flow, b.income_other, b.end], self.divisor
        )
        return {
            "start": f"{start:,.2f}",
            "flow": f"{flow:+,.2f}",
            "other": f"{other:+,.2f}",
            "end": f"{end:,.2f}",
            "forecast": self.signed(b.forecast_net_flow),
            "difference": self.signed(b.plan_vs_forecast),
            "exposure": self.signed(b.exposure_steering),
            "quotas": self.signed(b.quota_refusals),
            "rest": self.signed(b.other_difference),
        }

    def bridge_rows(self) -> dict[str, Any]:
        """The table beneath the headline cards: the flow bridge per product and its total."""
        products, total = self.bridge()
        return {
            "rows": [{"id": b.product_id, **self._bridge_shown(b)} for b in products],
            "total": self._bridge_shown(total),
        }

    def summary(self) -> dict[str, Any]:
        """The headline cards. Each says whether it is actual, the plan or the forecast; the
        first four add up (start + planned net flow + income and other = planned end) and
        equal the total row of the bridge table; the liquidity card names the worst product."""
        w = self.words
        mean, low, high, approx = self.portfolio_net_flow()
        _, total = self.bridge()
        shown = self._bridge_shown(total)
        lowest, first = self.coverage()
        worst = today_model.worst_standing(self.standings())
        y = self.expected_yield()
        days = len(self.dates)
        end_day = self.day(self.dates[-1]) if days else self.na()
        tag = {k: w[f"tag_{k}"] for k in ("actual", "plan", "forecast", "plan_vs_forecast")}
        cards: list[dict[str, Any]] = [
            {
                "label": w["total_aum"].format(date=self.day(self.inputs.as_of)),
                "tag": tag["actual"],
                "kind": "actual",
                "value": shown["start"],
                "note": self.unit,
            },
            {
                "label": w["plan_net_flow"].format(days=days),
                "tag": tag["plan"],
                "kind": "plan",
                "value": shown["flow"],
                "note": w["plan_net_flow_note"],
            },
            {
                "label": w["income_other"],
                "tag": tag["plan"],
                "kind": "plan",
                "value": shown["other"],
                "note": w["income_other_note"],
            },
            {
                "label": w["end_aum"].format(date=end_day),
                "tag": tag["plan"],
                "kind": "plan",
                "value": shown["end"],
                "note": w["end_aum_note"],
            },
            {
                "label": w["net_flow"].format(days=days),
                "tag": tag["forecast"],
                "kind": "forecast",
                "value": self.signed(mean),
                "note": f"{self.band_label(approx)}: {self.signed(low)} … {self.signed(high)}",
            },
            {
                "label": w["steering"],
                "tag": tag["plan_vs_forecast"],
                "kind": "plan_vs_forecast",
                "value": shown["difference"],
                "note": w["steering_note"].format(
                    exposure=shown["exposure"], quotas=shown["quotas"], rest=shown["rest"]
                ),
            },
        ]
        if worst is not None:
            below = worst.days_below > 0
            cards.append(
                {
                    "label": w["coverage_worst"],
                    "tag": tag["plan"],
                    "kind": "plan",
                    "value": f"{worst.product_id} {_percent(worst.lowest_ratio)}",
                    "note": w["coverage_worst_note"].format(
                        below=worst.days_below,
                        days=worst.days,
                        date=self.day(worst.lowest_date) if worst.lowest_date else self.na(),
                        portfolio=_percent(lowest),
                        first=_percent(first),
                    ),
                    "bad": below,
                }
            )
        cards.append(
            {
                "label": w["yield_vs_benchmark"],
                "tag": tag["plan"],
                "kind": "plan",
                "value": f"{_yield(y)} ({self.bp((y - self.benchmark_now) * 100.0)})",
                "note": w["yield_text"].format(benchmark=_yield(self.benchmark_now)),
            }
        )
        return {"cards": cards, "unit": self.unit}

    def bp(self, value: float) -> str:
        """A spread in basis points with the unit in the report's language."""
        if value is None or not math.isfinite(value):
            return self.na()
        return f"{value:+.1f} {self.words['bp']}"

    def metrics(self) -> dict[str, float]:
        mean, low, high, _ = self.portfolio_net_flow()
        lowest, first = self.coverage()
        y = self.expected_yield()
        _, total = self.bridge()
        worst = today_model.worst_standing(self.standings())
        return {
            "total_aum": float(self.aum_now.sum()),
            "expected_net_flow": mean,
            "expected_net_flow_low": low,
            "expected_net_flow_high": high,
            "liquidity_coverage_min": lowest,
            "liquidity_coverage_first_day": first,
            "expected_yield_7d_pct": y,
            "benchmark_yield_7d_pct": self.benchmark_now,
            "expected_spread_bp": (y - self.benchmark_now) * 100.0,
            "n_products": float(len(self.product_ids)),
            "n_alerts": float(len(self.alerts())),
            "n_critical_alerts": float(sum(a["severity"] == "critical" for a in self.alerts())),
            "plan_net_flow": total.plan_net_flow,
            "plan_end_aum": total.end,
            "plan_income_other": total.income_other,
            "exposure_steering": total.exposure_steering,
            "quota_refusals": total.quota_refusals,
            "worst_buffer_ratio": worst.lowest_ratio if worst else math.nan,
            "worst_buffer_days_below": float(worst.days_below) if worst else 0.0,
        }

    def product_rows(self) -> list[dict[str, Any]]:
        products = self.inputs.products.set_index("product_id")
        out = []
        for product in self.product_ids:
            rows = self.plan[self.plan["product_id"] == product]
            info = products.loc[product] if product in products.index else pd.Series(dtype=object)
            aum_end = self._forecast("aum", product)
            end = (
                aum_end[aum_end["date"] == aum_end["date"].max()] if not aum_end.empty else aum_end
            )
            lo, hi = self.bands[0], self.bands[3]
            band = (
                f"{self.amount(float(end[lo].iloc[0]))} … {self.amount(float(end[hi].iloc[0]))}"
                if not end.empty
                else self.na()
            )
            ratio = rows["liquidity_buffer"] / rows["requirement"].where(rows["requirement"] > 0)
            worst = float(ratio.min()) if not ratio.dropna().empty else math.nan
            weight = rows["expected_aum"].clip(lower=0)
            y = (
                float((rows["expected_yield_7d"] * weight).sum() / weight.sum())
                if weight.sum() > 0
                else math.nan
            )
            out.append(
                {
                    "id": product,
                    "name": str(info.get("name", "")) if "name" in info else "",
                    "issuer": str(info.get("issuer", "")),
                    "aum": self.amount(float(self.aum_now.get(product, math.nan))),
                    "end_aum": self.amount(float(rows["expected_aum"].iloc[-1])),
                    "end_band": band,
                    "net_flow": self.amount(
                        float((rows["expected_subscriptions"] - rows["expected_redemptions"]).sum())
                    ),
                    "quota": self._quota_text(rows),
                    "buffer_ratio": _percent(worst),
                    "buffer_ok": not (math.isfinite(worst) and worst < 1.0 - RATIO_TOLERANCE),
                    "yield": _yield(y),
                    "spread": self.bp((y - self.benchmark_now) * 100.0),
                    "rows": [
                        {
                            "date": self.day(r.date),
                            "quota": self.words["uncapped"]
                            if pd.isna(r.quota)
                            else self.amount(float(r.quota)),
                            "subscriptions": self.amount(float(r.expected_subscriptions)),
                            "redemptions": self.amount(float(r.expected_redemptions)),
                            "buffer": self.amount(float(r.liquidity_buffer)),
                            "requirement": self.amount(float(r.requirement)),
                            "aum": self.amount(float(r.expected_aum)),
                            "yield": _yield(float(r.expected_yield_7d)),
                        }
                        for r in rows.itertuples(index=False)
                    ],
                }
            )
        return out

    def liquidity_rows(self) -> list[dict[str, str]]:
        """Per product, the liquidity the plan holds tonight and why, in the manager's words:
        the plan's first-day cash and overnight repo against its cumulative needs (E27) through
        the next working day and over the plan, and the regime (calm or defence). Empty for a
        plan without those columns (one made before they existed)."""
        needed = {
            "liquidity_need",
            "liquidity_available",
            "liquidity_need_confidence",
            "next_working_day",
            "defence",
            "keep_liquid",
        }
        if not needed <= set(self.plan.columns):
            return []
        w = self.words
        out = []
        for product in self.product_ids:
            rows = self.plan[self.plan["product_id"] == product].iloc[1:]
            if rows.empty:
                continue
            first = self.plan[self.plan["product_id"] == product].iloc[0]
            flagged = rows[rows["next_working_day"].astype(bool)]
            near = flagged.iloc[0] if not flagged.empty else rows.iloc[-1]
            cover = rows["liquidity_available"] / rows["liquidity_need"].where(
                rows["liquidity_need"] > 0
            )
            worst = rows.loc[cover.idxmin()] if cover.notna().any() else None
            held = float(first["keep_liquid"])  # the plan's figure, not a formula of ours
            borrowed = float(first.get("repo_borrowing", 0.0) or 0.0)
            out.append(
                {
                    "id": product,
                    "held": self.amount(held),
                    "borrowed": w["liquidity_borrowed"].format(amount=self.amount(borrowed))
                    if borrowed > 0.5
                    else "",
                    "near": w["liquidity_near"].format(
                        level=w["quantile_level"].format(
                            level=f"{float(near['liquidity_need_confidence']) * 100:g}"
                        ),
                        date=f"{pd.Timestamp(near['date']):%m-%d}",
                        need=self.amount(float(near["liquidity_need"])),
                    ),
                    "later": self.na()
                    if worst is None
                    else w["liquidity_later"].format(
                        date=f"{pd.Timestamp(worst['date']):%m-%d}",
                        need=self.amount(float(worst["liquidity_need"])),
                        available=self.amount(float(worst["liquidity_available"])),
                    ),
                    "ok": worst is None
                    or float(worst["liquidity_available"])
                    >= float(worst["liquidity_need"]) * (1 - RATIO_TOLERANCE),
                    "state": w["regime_defence"] if bool(first["defence"]) else w["regime_calm"],
                    "defence": bool(first["defence"]),
                }
            )
        return out

    def _quota_text(self, rows: pd.DataFrame) -> str:
        capped = rows[rows["quota"].notna()]
        if capped.empty:
            return self.words["quota_open"]
        text = self.words["quota_summary"].format(
            capped=len(capped),
            days=len(rows),
            first=f"{pd.Timestamp(capped['date'].iloc[0]):%m-%d}",
        )
        closed = int((capped["quota"] <= 0).sum())
        return text + (self.words["quota_closed"].format(closed=closed) if closed else "")

    def alerts(self) -> list[dict[str, str]]:
        if self.found_alerts is None:
            found = (
                self._solver_alerts()
                + self._floor_alerts()
                + self._redemption_alerts()
                + self._drift_alerts()
                + self._holiday_alerts()
            )
            order = {"critical": 0, "warning": 1, "info": 2}
            found.sort(key=lambda a: order[a["severity"]])
            for alert in found:
                alert["label"] = self.words[f"severity_{alert['severity']}"]
            self.found_alerts = found
        return self.found_alerts

    def _solver_alerts(self) -> list[dict[str, str]]:
        found = []
        status = self.inputs.solver_status
        if status and not _status_ok(status):
            severity = "warning" if _status_usable(status) else "critical"
            name = self.words.get(f"status_{str(status).lower()}", str(status))
            text = self.words["alert_solver"].format(status=name)
            found.append(_alert(severity, "solver", "", text))
        table = self.inputs.violation_table
        if table is not None:
            found.extend(self._violation_alerts(table))
            return found
        for text in self.inputs.violations:
            found.append(
                _alert("warning", "violation", "", self.words["alert_violation"].format(text=text))
            )
        return found

    def _violation_alerts(self, table: pd.DataFrame) -> list[dict[str, str]]:
        """One line per (constraint, product) the plan breaks, in the report's words: on how
        many days from when, and the largest shortfall (WAM: days above the cap)."""
        if table.empty:
            return []
        w = self.words
        found = []
        frame = table.copy()
        frame["date"] = pd.to_datetime(frame["date"])
        for (family, product), rows in frame.groupby(["constraint", "product_id"], sort=False):
            label = w.get(f"constraint_{family}", str(family))
            worst = rows.loc[rows["shortfall_cny"].astype(float).idxmax()]
            fields = {
                "product": product,
                "label": label,
                "days": len(rows),
                "first": self.day(rows["date"].min()),
            }
            if family == "wam_limit":
                text = w["violation_wam"].format(
                    planned=f"{float(worst['planned_cny']):.0f}",
                    cap=f"{float(worst['required_cny']):.0f}",
                    **fields,
                )
            else:
                text = w["violation_line"].format(
                    shortfall=f"{self.amount(float(worst['shortfall_cny']))} {self.unit}",
                    share=f"{float(worst['shortfall_pct_of_aum']):.2f}%",
                    date=self.day(worst["date"]),
                    **fields,
                )
            found.append(_alert("warning", "violation", str(product), text))
        return found

    def _floor_alerts(self) -> list[dict[str, str]]:
        found = []
        floors = _floor_ratios(self.inputs.products)
        # the regulatory floor (the product's min_liquid_ratio, else rainmaker.regulation's);
        # the plan's own floor can be far above it (a managed book), and is named as such
        regulatory = dict(floors)
        if "regulatory_floor" in self.plan.columns:
            # the floors the optimiser used (its settings may override the products table)
            rows = self.plan[self.plan["expected_aum"] > 0]
            ratio = (rows["regulatory_floor"] / rows["expected_aum"]).groupby(rows["product_id"])
            floors.update({str(k): float(v) for k, v in ratio.median().items()})
        for product in self.product_ids:
            rows = self.plan[self.plan["product_id"] == product]
            aum = rows["expected_aum"].where(rows["expected_aum"] > 0)
            share = rows["liquidity_buffer"] / aum
            floor = floors.get(product, LIQUID_FLOOR)
            short = rows[rows["liquidity_buffer"] < rows["requirement"] * (1 - RATIO_TOLERANCE)]
            if not share.dropna().empty:
                at = share.idxmin()
                minimum = regulatory.get(product, LIQUID_FLOOR)
                fields = {
                    "product": product,
                    "date": self.day(rows.at[at, "date"]),
                    "ratio": _percent(float(share[at])),
                    "floor": _percent(floor),
                    "regulatory": _percent(minimum),
                }
                own = "plan_" if floor > minimum * (1 + RATIO_TOLERANCE) else ""
                if share[at] < floor * (1 - RATIO_TOLERANCE):
                    found.append(
                        _alert(
                            "critical",
                            "floor",
                            product,
                            self.words[f"alert_{own}floor_breach"].format(**fields),
                        )
                    )
                elif share[at] < floor * FLOOR_CLOSE_FACTOR * (1 - RATIO_TOLERANCE):
                    # the plan holds the floor (often on purpose: it binds); worth knowing, no
                    # decision to take, so a notice rather than an alert
                    found.append(
                        _alert(
                            "info",
                            "floor",
                            product,
                            self.words[f"alert_{own}floor_close"].format(**fields),
                        )
                    )
            if not short.empty:
                ratio = short["liquidity_buffer"] / short["requirement"].where(
                    short["requirement"] > 0
                )
                low = short.loc[ratio.idxmin()] if ratio.notna().any() else short.iloc[0]
                text = self.words["alert_buffer_short"].format(
                    product=product,
                    n=len(short),
                    days=len(rows),
                    first=self.day(short["date"].iloc[0]),
                    last=self.day(short["date"].iloc[-1]),
                    date=self.day(low["date"]),
                    buffer=f"{self.amount(float(low['liquidity_buffer']))} {self.unit}",
                    requirement=f"{self.amount(float(low['requirement']))} {self.unit}",
                    ratio=_percent(float(low["liquidity_buffer"]) / float(low["requirement"]))
                    if float(low["requirement"]) > 0
                    else self.na(),
                )
                found.append(_alert("critical", "buffer", product, text))
        return found

    def _redemption_alerts(self) -> list[dict[str, str]]:
        low = self.bands[0]
        tail = f"{_level(low) * 100:g}"
        net = self._forecast("net_flow")
        if net.empty:
            return []
        found = []
        for product in self.product_ids:
            rows = net[net["product_id"] == product].sort_values("date")
            if rows.empty:
                continue
            base = self._forecast("aum", product).set_index("date")["p50"].shift(1)
            previous = base.reindex(rows["date"]).to_numpy(dtype=float, copy=True)
            previous[0] = float(self.aum_now.get(product, math.nan))
            with np.errstate(divide="ignore", invalid="ignore"):
                share = -rows[low].to_numpy(dtype=float) / previous
            if not np.isfinite(share).any():
                continue
            worst = int(np.nanargmax(share))
            if share[worst] <= LARGE_REDEMPTION_WARNING_SHARE:
                continue
            severity = "critical" if share[worst] > LARGE_REDEMPTION_SHARE else "warning"
            text = self.words["alert_large_redemption"].format(
                product=product,
                tail=tail,
                date=self.day(rows["date"].iloc[worst]),
                amount=f"{self.amount(-float(rows[low].iloc[worst]))} {self.unit}",
                share=_percent(float(share[worst])),
                level=self.words[f"large_redemption_level_{severity}"],
            )
            found.append(_alert(severity, "large_redemption", product, text))
        return found

    def _drift_alerts(self) -> list[dict[str, str]]:
        found = []
        for drift in self.inputs.drift:
            fields = {
                "product": drift["product_id"],
                "variable": self.words[f"variable_{drift['variable']}"],
                "days": DRIFT_RECENT_DAYS,
                "n": drift["n"],
                "coverage": f"{drift['coverage_pct']:.0f}%",
                "wape": f"{drift['wape_pct']:.0f}%",
                "previous": f"{drift['previous_wape_pct']:.0f}%",
            }
            key = "alert_drift_coverage" if drift["kind"] == "coverage" else "alert_drift_error"
            found.append(
                _alert("warning", "drift", drift["product_id"], self.words[key].format(**fields))
            )
        return found

    def _holiday_alerts(self) -> list[dict[str, str]]:
        if not len(self.dates):
            return []
        cal = calendar_features(self.dates[0], self.dates[-1])
        found = []
        in_holiday = cal["in_holiday"].to_numpy()
        starts = [i for i in range(len(cal)) if in_holiday[i] and (i == 0 or not in_holiday[i - 1])]
        for i in starts:
            j = i
            while j + 1 < len(cal) and in_holiday[j + 1]:
                j += 1
            names = [n for n in cal["holiday_name"].iloc[i : j + 1] if n]
            length = (
                int(cal["holiday_length"].iloc[i])
                if pd.notna(cal["holiday_length"].iloc[i])
                else j - i + 1
            )
            start = cal.index[i]
            text = self.words["alert_holiday"].format(
                name=_holiday_name(names[0] if names else "", self.lang),
                start=self.day(start),
                end=self.day(start + pd.Timedelta(days=length - 1)),
                length=length,
                days=(start - self.inputs.as_of).days,
            )
            found.append(_alert("info", "holiday", "", text))
        return found

    def priorities(self) -> list[dict[str, Any]]:
        """What the binding constraints cost, one line per (constraint, product or channel).

        A price from a soft constraint's penalty (the constraint is broken, or its price is
        beyond any yield: ``PENALTY_PRICE_BP``) says only that the settings put the constraint
        before yield; it is shown as that priority, without the penalty's number. Other prices
        are yield given up (or, for demand, gained) in bp of annual yield per day, for 1 % of
        the product's AUM, shown in the report's amount unit.
        """
        prices = self.inputs.constraint_prices
        if prices is None:
            return [{"text": str(t), "penalty": False} for t in self.inputs.explanations]
        if prices.empty:
            return []
        w = self.words
        broken: set[tuple[str, str]] = set()
        table = self.inputs.violation_table
        if table is not None and not table.empty:
            pairs = zip(table["constraint"], table["product_id"], strict=True)
            broken = {(str(c), str(p)) for c, p in pairs}
        out: list[dict[str, Any]] = []
        for r in prices.itertuples(index=False):
            family, who = str(r.constraint), str(r.product_id)
            mean = float(r.mean_cost_bp_day)
            first = pd.Timestamp(r.first_date) if pd.notna(r.first_date) else None
            fields = {
                "product": who,
                "label": w.get(f"constraint_{family}", family),
                "days": int(r.binding_days),
                "horizon": int(r.horizon_days),
                "first": self.day(first) if first is not None else self.na(),
                "money": f"{self.amount(0.01 * float(self.aum_now.get(who, math.nan)))} "
                f"{self.unit}",
                "cost": f"{abs(mean):.2f}",
                "change": w.get(f"change_{family}", w["change_default"]),
            }
            penalty = (family, who) in broken or abs(mean) > PENALTY_PRICE_BP
            if penalty:
                key = "priority_penalty"
            elif family == "demand_response":
                key = "priority_demand_helps" if mean > 0 else "priority_demand_dilutes"
            elif family == "sales_plan":
                key = "priority_sales"
            else:
                key = "priority_cost"
            out.append(
                {
                    "text": w[key].format(**fields),
                    "penalty": penalty,
                    "size": abs(float(r.total_cost_bp_day)),
                }
            )
        out.sort(key=lambda x: (not x["penalty"], -x["size"]))
        return out[:MAX_PRIORITIES]

    def accuracy_rows(self) -> list[dict[str, str]] | None:
        accuracy = self.inputs.accuracy
        if accuracy is None or accuracy.empty:
            return None
        since = self.inputs.as_of - pd.Timedelta(days=ACCURACY_WINDOW_DAYS)
        recent = accuracy[accuracy["date"] > since]
        if recent.empty:
            return None
        table = accuracy_summary(recent, by=("variable",))
        return [
            {
                "variable": self.words[f"variable_{r.variable}"],
                "n": str(int(r.n)),
                "wape": f"{r.wape_pct:.1f}%" if math.isfinite(r.wape_pct) else self.na(),
                "bias": f"{r.bias_pct:+.1f}%" if math.isfinite(r.bias_pct) else self.na(),
                "coverage": f"{r.coverage_80_pct:.0f}%"
                if math.isfinite(r.coverage_80_pct)
                else self.na(),
            }
            for r in table.itertuples(index=False)
        ]

    def charts(self) -> dict[str, str]:
        words = self.words
        outer = _width(self.bands[0], self.bands[3])
        inner = _width(self.bands[1], self.bands[2])
        labels = charts.ChartLabels(
            history=words["chart_history"],
            median=words["chart_median"],
            inner_band=words["chart_inner"].format(coverage=inner),
            outer_band=words["chart_outer"].format(coverage=outer),
            plan=words["chart_plan"],
            benchmark=words["chart_benchmark"],
            yield_7d=words["chart_yield_axis"],
            portfolio=words["chart_portfolio"],
            open=words["chart_open"],
            closed=words["chart_closed"],
            amount_unit=self.unit,
            admitted=words["chart_admitted"],
            each_product=words["chart_each_product"],
        )
        salt = f"{self.inputs.run_id}-{self.lang}"
        flows = self.inputs.flows[self.inputs.flows["product_id"].isin(self.product_ids)]
        aum_history = flows.pivot_table(
            index="date", columns="product_id", values="aum", aggfunc="first"
        )
        aum_history[words["chart_portfolio"]] = aum_history[self.product_ids].sum(
            axis=1, min_count=1
        )
        portfolio = words["chart_portfolio"]
        bands: dict[str, pd.DataFrame] = {}
        planned = {portfolio: self.plan.groupby("date")["expected_aum"].sum()}
        aum = self._forecast("aum")
        for product in self.product_ids:
            rows = aum[aum["product_id"] == product].set_index("date")
            if not rows.empty:
                bands[product] = rows[["mean", *self.quantiles]]
            planned[product] = self.plan[self.plan["product_id"] == product].set_index("date")[
                "expected_aum"
            ]
        yield_plan = self.plan.pivot_table(
            index="date", columns="product_id", values="expected_yield_7d", aggfunc="first"
        )[self.product_ids]
        aum_plan = self.plan.pivot_table(
            index="date", columns="product_id", values="expected_aum", aggfunc="first"
        )[self.product_ids]
        yield_history = pd.Series(dtype=float)
        if "yield_7d" in flows.columns:
            published = flows.pivot_table(
                index="date", columns="product_id", values="yield_7d", aggfunc="first"
            )
            yield_history = _weighted(published, aum_history[self.product_ids])
        quota = self.plan.pivot(index="date", columns="product_id", values="quota")[
            self.product_ids
        ]
        demand = self._forecast("subscriptions").pivot_table(
            index="date", columns="product_id", values="mean", aggfunc="first"
        )
        cal = calendar_features(self.dates[0], self.dates[-1])
        holidays = list(cal.index[cal["is_public_holiday"].to_numpy()])
        fan: dict[str, Any] = {"divisor": self.divisor, "band_columns": self.bands}
        return {
            "aum": charts.aum_fan_chart(
                aum_history,
                {portfolio: self._portfolio_aum_bands()},
                planned,
                labels,
                salt=f"{salt}-aum",
                **fan,
            ),
            "aum_products": charts.aum_fan_chart(
                aum_history, bands, planned, labels, salt=f"{salt}-aum-products", **fan
            )
            if len(bands) > 1
            else "",
            "yield": charts.yield_chart(
                yield_history,
                _weighted(yield_plan, aum_plan),
                yield_plan,
                self.inputs.benchmark,
                labels,
                horizon_end=self.dates[-1],
                salt=f"{salt}-yield",
            ),
            "quota": charts.quota_chart(quota, demand, holidays, labels, salt=f"{salt}-quota"),
        }

    def _portfolio_aum_bands(self) -> pd.DataFrame:
        paths = self._paths("aum")
        columns = ["p50", *self.bands]
        if paths is not None:
            total = paths.sum(axis=0)  # (n_paths, horizon)
            levels = [_level(c) for c in columns]
            q = np.quantile(total, levels, axis=0)
            frame = pd.DataFrame(q.T, columns=columns, index=self.dates[: total.shape[1]])
            return frame.loc[:, ~frame.columns.duplicated()]
        rows = self._forecast("aum")
        return rows.groupby("date")[list(dict.fromkeys(["mean", *columns]))].sum()

    # -- access

    def _forecast(self, variable: str, product: str | None = None) -> pd.DataFrame:
        frame = self.inputs.forecast
        rows = frame[(frame["variable"] == variable) & frame["product_id"].isin(self.product_ids)]
        if product is not None:
            rows = rows[rows["product_id"] == product]
        rows = rows.copy()
        rows["date"] = pd.to_datetime(rows["date"])
        return rows.sort_values(["product_id", "date"])

    def _paths(self, variable: str) -> np.ndarray | None:
        paths = self.inputs.paths
        if not paths or variable not in paths or not self.inputs.path_product_ids:
            return None
        order = list(self.inputs.path_product_ids)
        if not set(self.product_ids) <= set(order):
            return None
        return np.asarray(paths[variable])[[order.index(p) for p in self.product_ids]]


# ---------------------------------------------------------------------- helpers


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("rainmaker.app.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _weighted(values: pd.DataFrame, weights: pd.DataFrame) -> pd.Series:
    """Per date, the mean of ``values`` across columns weighted by ``weights`` (AUM, clipped at
    0); NaN where no weight."""
    weights = weights.reindex_like(values).clip(lower=0).where(values.notna())
    total = weights.sum(axis=1, min_count=1)
    return (values * weights).sum(axis=1, min_count=1) / total.where(total > 0)


def _level(column: str) -> float:
    """Quantile level of a quantile column (:func:`rainmaker.quantiles.quantile_level`)."""
    level = quantile_level(column)
    assert level is not None, column
    return level


def _width(low: str, high: str) -> str:
    """Coverage of the band between two quantile columns, in percent as text (``90``)."""
    return f"{(_level(high) - _level(low)) * 100:g}"


def _band_columns(quantiles: Sequence[str]) -> tuple[str, str, str, str]:
    """(outer low, inner low, inner high, outer high) quantile columns of a forecast.

    The outer band is the widest the forecast has (e.g. p05–p95), the inner one the narrowest
    around the median (e.g. p10–p90).
    """
    lows = sorted((q for q in quantiles if _level(q) < 0.5), key=_level)
    highs = sorted((q for q in quantiles if _level(q) > 0.5), key=_level)
    if not lows or not highs:
        raise ValueError(
            f"the forecast needs quantile columns below and above p50 for its bands, got "
            f"{quantiles}"
        )
    return (lows[0], lows[-1], highs[0], highs[-1])


def _nearest_quantile(forecast: pd.DataFrame, level: float) -> str:
    columns = quantile_columns(forecast.columns)
    if not columns:
        return "mean"
    return min(columns, key=lambda c: abs(_level(c) - level))


def _floor_ratios(products: pd.DataFrame) -> dict[str, float]:
    """Per product, the liquid-asset floor as a fraction of net assets (default 10 %)."""
    if "min_liquid_ratio" not in products.columns:
        return {}
    ratios = {}
    for product, value in zip(products["product_id"], products["min_liquid_ratio"], strict=True):
        if pd.notna(value):
            # the column is a fraction; a value above 1 can only be a percent
            ratios[str(product)] = float(value) / 100 if float(value) > 1 else float(value)
    return ratios


def _status_ok(status: str) -> bool:
    return str(status).lower() in ("optimal", "ok")


def _status_usable(status: str) -> bool:
    """A plan the solver found but did not prove optimal (a time limit, a decomposition)."""
    return str(status).lower() == "feasible"


def _alert(severity: str, kind: str, product: str, text: str) -> dict[str, str]:
    return {"severity": severity, "kind": kind, "product_id": product, "text": text}


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.1f}%" if ratio is not None and math.isfinite(ratio) else "—"


def _yield(value: float) -> str:
    return f"{value:.3f}%" if value is not None and math.isfinite(value) else "—"


_HOLIDAY_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _holiday_name(name: str, lang: str) -> str:
    if lang == "zh":
        return _HOLIDAY_ZH.get(name, name)
    return name
