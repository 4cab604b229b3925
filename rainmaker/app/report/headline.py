"""Today's table, the headline cards and the flow bridge beneath them.

:mod:`rainmaker.app.report.today` computes (first plan day, bridge, standings); :class:`
HeadlineView` writes them in the report's words and scale. The first four cards add up
(start + planned net flow + income and other = planned end) and equal the bridge's total row.
"""

from __future__ import annotations

import math
from typing import Any

from rainmaker.app.report import today as today_model
from rainmaker.app.report.formats import percent, yield_pct
from rainmaker.app.report.view import ReportView
from rainmaker.contracts import PURCHASE_PREFIX, RATIO_TOLERANCE

__all__ = ["HeadlineView"]


class HeadlineView(ReportView):
    """Today's actions, the headline cards and the flow bridge."""

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
                    "value": f"{worst.product_id} {percent(worst.lowest_ratio)}",
                    "note": w["coverage_worst_note"].format(
                        below=worst.days_below,
                        days=worst.days,
                        date=self.day(worst.lowest_date) if worst.lowest_date else self.na(),
                        portfolio=percent(lowest),
                        first=percent(first),
                    ),
                    "bad": below,
                }
            )
        cards.append(
            {
                "label": w["yield_vs_benchmark"],
                "tag": tag["plan"],
                "kind": "plan",
                "value": f"{yield_pct(y)} ({self.bp((y - self.benchmark_now) * 100.0)})",
                "note": w["yield_text"].format(benchmark=yield_pct(self.benchmark_now)),
            }
        )
        return {"cards": cards, "unit": self.unit}
