"""The report's sections below the headline: header, plan by product, tonight's liquidity,
shadow-price deviation, stress, what the constraints cost, forecast accuracy and the details.

Each method of :class:`SectionsView` returns the template's rows for one section, in the
report's words; nothing is computed here that the plan or the forecast already says.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from rainmaker.app.accuracy import accuracy_summary
from rainmaker.app.report.formats import percent, status_ok, yield_pct
from rainmaker.app.report.stress_page import STRESS_TEXTS, stress_overview
from rainmaker.app.report.view import ReportView
from rainmaker.china_calendar import Workdays, day_number
from rainmaker.contracts import RATIO_TOLERANCE
from simulate.planning_policies import days_off_redemptions

__all__ = ["ACCURACY_WINDOW_DAYS", "SectionsView", "deviation_rows", "stress_section"]

ACCURACY_WINDOW_DAYS = 28
# A shadow price above this (bp of annual yield a day, for 1 % of AUM) cannot be yield: moving
# 1 % of a book between its cheapest and dearest assets changes its yield by a few bp at most,
# so such a price is a soft constraint's penalty, i.e. a priority the settings express.
PENALTY_PRICE_BP = 50.0
MAX_PRIORITIES = 12


def stress_section(stress: Mapping[str, pd.DataFrame] | None, lang: str) -> dict[str, Any] | None:
    """The stress section's words and rows (None when the run made no stress test)."""
    if stress is None:
        return None
    overview = stress_overview(stress["summary"], stress["reverse"], lang)
    return {"t": STRESS_TEXTS[lang], **overview}


def deviation_rows(
    deviation: pd.DataFrame | None, words: Mapping[str, str], view: ReportView
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


class SectionsView(ReportView):
    """The sections' rows, from the view's figures."""

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
            "solver_ok": status_ok(inputs.solver_status),
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
                    "buffer_ratio": percent(worst),
                    "buffer_ok": not (math.isfinite(worst) and worst < 1.0 - RATIO_TOLERANCE),
                    "yield": yield_pct(y),
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
                            "yield": yield_pct(float(r.expected_yield_7d)),
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
        workdays = Workdays()
        # the plan's expected redemptions of the days off after each first day, every product's
        # at once (one pass over the plan per first day, not one per product)
        days_off_by_day: dict[pd.Timestamp, dict[str, float]] = {}
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
            worst_off = float(first.get("worst_days_off_cash", 0.0) or 0.0)
            borrowed = float(first.get("repo_borrowing", 0.0) or 0.0)
            afternoon = ""
            expected = float(first.get("expected_redemptions", math.nan))
            day = day_number(pd.Timestamp(first["date"]))
            if workdays.before_days_off(day) and expected > 0:
                # what the backtest's executor does that afternoon (simulate.planning_policies,
                # plan_decision): the cash target scaled by the day's pace past the
                # expectation, and in defence what a sale may raise too
                rule = (
                    "liquidity_afternoon_defence"
                    if bool(first["defence"])
                    else "liquidity_afternoon"
                )
                # in defence tonight's cash is at least the days off's expected redemptions
                eve = pd.Timestamp(first["date"])
                if eve not in days_off_by_day:
                    days_off_by_day[eve] = days_off_redemptions(self.plan, eve, workdays)
                days_off = days_off_by_day[eve]
                afternoon = w[rule].format(
                    cash=self.amount(float(first["cash"])),
                    expected=self.amount(expected),
                    days_off=self.amount(days_off.get(product, 0.0)),
                )
            out.append(
                {
                    "id": product,
                    "held": self.amount(held),
                    "borrowed": w["liquidity_borrowed"].format(amount=self.amount(borrowed))
                    if borrowed > 0.5
                    else "",
                    "afternoon": afternoon,
                    "worst_days_off": w["liquidity_worst_days_off"].format(
                        amount=self.amount(worst_off)
                    )
                    if worst_off > 0.5
                    else "",
                    "near": w["liquidity_near"].format(
                        level=self._need_basis(near),
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

    def _need_basis(self, row: pd.Series) -> str:
        """What sets a day's liquidity need, in the manager's words: the forecast's quantile
        (``p99``) or the floor that lifted the need above it (``liquidity_need_basis``; a plan
        made before that column was written names the quantile)."""
        basis = str(row.get("liquidity_need_basis", "quantile") or "quantile")
        if basis == "quantile" or f"need_basis_{basis}" not in self.words:
            level = f"{float(row['liquidity_need_confidence']) * 100:g}"
            return self.words["quantile_level"].format(level=level)
        return self.words[f"need_basis_{basis}"]

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
