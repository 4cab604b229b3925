"""The report's view model: its figures computed once from :class:`ReportInputs`.

:class:`ReportView` holds the plan (with the report's ``requirement`` column), the products in
order, the amount scale and the forecast's bands, and formats amounts, days and spreads in the
report's language. The report's parts extend it: :mod:`.sections` (header, products,
liquidity, priorities, accuracy, details), :mod:`.headline` (today's table, the headline cards
and the flow bridge), :mod:`.alerts` and :mod:`.figures` (the charts). Amounts CNY, yields
percent, spreads bp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd

from rainmaker.app.report import today as today_model
from rainmaker.app.report.formats import band_columns, level, width
from rainmaker.app.report.i18n import amount_scale, texts
from rainmaker.app.report.inputs import ReportInputs
from rainmaker.app.report.requirement import buffer_requirement
from rainmaker.quantiles import quantile_columns

__all__ = ["ReportView"]


@dataclass
class ReportView:
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
    def build(cls, inputs: ReportInputs, lang: str) -> Self:
        plan = inputs.plan.copy()
        plan["date"] = pd.to_datetime(plan["date"])
        plan = plan.sort_values(["product_id", "date"]).reset_index(drop=True)
        forecast = inputs.forecast
        plan["requirement"] = buffer_requirement(plan)
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
            bands=band_columns(quantiles),
            benchmark_now=float(bench.iloc[-1]) if not bench.empty else math.nan,
            aum_now=aum_now,
        )

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
        coverage = width(self.bands[0], self.bands[3])
        return self.words["band_approx" if approx else "band"].format(coverage=coverage)

    # -- figures

    def portfolio_net_flow(self) -> tuple[float, float, float, bool]:
        """(mean, low, high, approximate) of the total net flow over the horizon (CNY)."""
        lo, hi = self.bands[0], self.bands[3]
        paths = self._paths("net_flow")
        if paths is not None:
            total = paths.sum(axis=(0, 2))
            q = np.quantile(total, [level(lo), level(hi)])
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

    def bucket_name(self, bucket: str) -> str:
        return self.words.get(f"bucket_{bucket}", bucket)

    def bp(self, value: float) -> str:
        """A spread in basis points with the unit in the report's language."""
        if value is None or not math.isfinite(value):
            return self.na()
        return f"{value:+.1f} {self.words['bp']}"

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
