"""The report's charts from the view: labels in the report's words, the data each chart draws
(:mod:`rainmaker.app.report.charts` draws them). Amounts CNY in the report's scale, yields
percent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rainmaker.app.report import charts
from rainmaker.app.report.formats import level, weighted, width
from rainmaker.app.report.view import ReportView
from rainmaker.china_calendar import calendar_features

__all__ = ["FiguresView"]


class FiguresView(ReportView):
    """The chart SVGs."""

    def charts(self) -> dict[str, str]:
        words = self.words
        outer = width(self.bands[0], self.bands[3])
        inner = width(self.bands[1], self.bands[2])
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
            yield_history = weighted(published, aum_history[self.product_ids])
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
                weighted(yield_plan, aum_plan),
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
            levels = [level(c) for c in columns]
            q = np.quantile(total, levels, axis=0)
            frame = pd.DataFrame(q.T, columns=columns, index=self.dates[: total.shape[1]])
            return frame.loc[:, ~frame.columns.duplicated()]
        rows = self._forecast("aum")
        return rows.groupby("date")[list(dict.fromkeys(["mean", *columns]))].sum()
