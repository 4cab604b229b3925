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

Where each part lives: :mod:`.inputs` (what the report takes and gives), :mod:`.view` (the
figures computed once), :mod:`.requirement` (the buffer requirement), :mod:`.headline` (today,
the cards, the bridge), :mod:`.sections` (the sections below), :mod:`.alerts`, :mod:`.figures`
(the charts' data; :mod:`.charts` draws), :mod:`.formats` (percent, yield, bands). This module
puts them together and renders the template.

Units: amounts are CNY (shown in one scale, see :func:`rainmaker.app.report.i18n.amount_scale`),
yields percent per annum, spreads basis points, ratios percent.
"""

from __future__ import annotations

import math
from typing import Any

from rainmaker.app.report import today as today_model
from rainmaker.app.report.alerts import AlertsView
from rainmaker.app.report.figures import FiguresView
from rainmaker.app.report.headline import HeadlineView
from rainmaker.app.report.i18n import texts
from rainmaker.app.report.inputs import RenderedReport, ReportInputs
from rainmaker.app.report.requirement import LIQUID_FLOOR, buffer_requirement
from rainmaker.app.report.sections import (
    ACCURACY_WINDOW_DAYS,
    SectionsView,
    deviation_rows,
    stress_section,
)
from rainmaker.regulation import LARGE_REDEMPTION_SHARE

__all__ = [
    "LARGE_REDEMPTION_SHARE",
    "LIQUID_FLOOR",
    "ReportInputs",
    "RenderedReport",
    "buffer_requirement",
    "render_report",
]

TEMPLATE = "report.html.j2"


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
        "deviation": deviation_rows(inputs.deviation, words, view),
        "stress": stress_section(inputs.stress, lang),
        "accuracy": view.accuracy_rows(),
        "accuracy_text": words["accuracy_text"].format(days=ACCURACY_WINDOW_DAYS),
        "charts": chart_svgs,
        "details": view.details(),
        "footer": words["footer"].format(unit=view.unit),
    }
    html = _environment().get_template(TEMPLATE).render(**context)
    return RenderedReport(html=html, charts=chart_svgs, metrics=view.metrics(), alerts=alerts)


class _View(SectionsView, HeadlineView, AlertsView, FiguresView):
    """The whole report's view: its sections, headline, alerts and charts, and the summary
    metrics for tracking and ``run.json``."""

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


def _environment() -> Any:
    # imported when a report is rendered, not when the package is imported (start-up time)
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("rainmaker.app.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
