"""The report's alerts: the solver and the constraints the plan breaks, the liquidity floor
and buffer, large redemptions, forecast drift, and holidays ahead.

Each alert is ``{"severity", "kind", "product_id", "text", "label"}``; ``critical`` and
``warning`` need a decision, ``info`` is a notice. Ratios are fractions of net assets.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rainmaker.app.accuracy import DRIFT_RECENT_DAYS
from rainmaker.app.report.formats import alert, level, percent, status_ok, status_usable
from rainmaker.app.report.requirement import LIQUID_FLOOR, floor_ratios
from rainmaker.app.report.view import ReportView
from rainmaker.china_calendar import calendar_features
from rainmaker.contracts import RATIO_TOLERANCE
from rainmaker.regulation import LARGE_REDEMPTION_SHARE

__all__ = ["FLOOR_CLOSE_FACTOR", "LARGE_REDEMPTION_WARNING_SHARE", "AlertsView"]

# A floor is "close" when the liquid share is within this factor of it (10 % floor: below 12 %).
FLOOR_CLOSE_FACTOR = 1.2
# 巨额赎回 (rainmaker.regulation.LARGE_REDEMPTION_SHARE); half of it is worth a warning.
LARGE_REDEMPTION_WARNING_SHARE = LARGE_REDEMPTION_SHARE / 2


class AlertsView(ReportView):
    """The alerts, found once and kept (the metrics count them)."""

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
        if status and not status_ok(status):
            severity = "warning" if status_usable(status) else "critical"
            name = self.words.get(f"status_{str(status).lower()}", str(status))
            text = self.words["alert_solver"].format(status=name)
            found.append(alert(severity, "solver", "", text))
        table = self.inputs.violation_table
        if table is not None:
            found.extend(self._violation_alerts(table))
            return found
        for text in self.inputs.violations:
            found.append(
                alert("warning", "violation", "", self.words["alert_violation"].format(text=text))
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
            found.append(alert("warning", "violation", str(product), text))
        return found

    def _floor_alerts(self) -> list[dict[str, str]]:
        found = []
        floors = floor_ratios(self.inputs.products)
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
                    "ratio": percent(float(share[at])),
                    "floor": percent(floor),
                    "regulatory": percent(minimum),
                }
                own = "plan_" if floor > minimum * (1 + RATIO_TOLERANCE) else ""
                if share[at] < floor * (1 - RATIO_TOLERANCE):
                    # below the regulator's floor is critical (the scheduled job stops on it);
                    # below only the plan's own (a managed book's 48.5 %, say) is a warning: a
                    # design choice of the plan's, not the law, often weeks ahead
                    legal = share[at] >= minimum * (1 - RATIO_TOLERANCE)
                    found.append(
                        alert(
                            "warning" if own and legal else "critical",
                            "floor",
                            product,
                            self.words[f"alert_{own}floor_breach"].format(**fields),
                        )
                    )
                elif share[at] < floor * FLOOR_CLOSE_FACTOR * (1 - RATIO_TOLERANCE):
                    # the plan holds the floor (often on purpose: it binds); worth knowing, no
                    # decision to take, so a notice rather than an alert
                    found.append(
                        alert(
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
                    ratio=percent(float(low["liquidity_buffer"]) / float(low["requirement"]))
                    if float(low["requirement"]) > 0
                    else self.na(),
                )
                found.append(alert("critical", "buffer", product, text))
        return found

    def _redemption_alerts(self) -> list[dict[str, str]]:
        low = self.bands[0]
        tail = f"{level(low) * 100:g}"
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
                share=percent(float(share[worst])),
                level=self.words[f"large_redemption_level_{severity}"],
            )
            found.append(alert(severity, "large_redemption", product, text))
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
                alert("warning", "drift", drift["product_id"], self.words[key].format(**fields))
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
                name=holiday_name(names[0] if names else "", self.lang),
                start=self.day(start),
                end=self.day(start + pd.Timedelta(days=length - 1)),
                length=length,
                days=(start - self.inputs.as_of).days,
            )
            found.append(alert("info", "holiday", "", text))
        return found


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


def holiday_name(name: str, lang: str) -> str:
    if lang == "zh":
        return _HOLIDAY_ZH.get(name, name)
    return name
