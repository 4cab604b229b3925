"""The typed contracts between the stages: what one stage hands the next, defined below all of
them so that neither side owns it.

- :class:`ForecastResult` — forecast → optimize (and the daily job, and the replay's oracle,
  which writes one from the future without the forecast package). The forecast makes it
  (:func:`forecast.run_forecast`), :func:`optimize.inputs.inputs_from_forecast` reads it.
- :class:`PlanOutcome` — optimize → the application: the part of a plan
  (:class:`optimize.PlanResult` satisfies it) the daily job and the report read, with
  :class:`PlanBooks`, the books it starts from.

The optimizer's own inputs (:class:`optimize.PlanInputs`) and its full result
(:class:`optimize.PlanResult`) stay in optimize: only layers above it read them, and those may
import optimize. Quantile columns are named by :mod:`rainmaker.quantiles`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from rainmaker.quantiles import path_quantiles, quantile_columns, quantile_label
from rainmaker.safety import write_spreadsheet_csv

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "FORECAST_KEYS",
    "FORECAST_VARIABLES",
    "PLAN_COLUMNS",
    "PURCHASE_PREFIX",
    "RATIO_TOLERANCE",
    "Explained",
    "ForecastResult",
    "PlanBooks",
    "PlanOutcome",
]

# The variables a forecast covers, in the order of its table (SPEC §3).
FORECAST_VARIABLES = ("subscriptions", "redemptions", "net_flow", "aum")
# The columns forecast.csv starts with (SPEC §3): how an earlier forecast file is recognised.
FORECAST_KEYS = ("product_id", "date", "variable")
# The columns plan.csv starts with (SPEC §3); the optimizer adds its own after them.
PLAN_COLUMNS = (
    "product_id",
    "date",
    "quota",
    "expected_subscriptions",
    "expected_redemptions",
    "liquidity_buffer",
    "expected_aum",
    "expected_yield_7d",
)
# ... and after them one column of purchases per bucket, purchase_<bucket> (CNY), which the
# backtest's executor, the report and the workbook read
PURCHASE_PREFIX = "purchase_"
# A plan's ratio within this relative distance of its limit counts as on it (solver round-off):
# the plan's violations, the report and the workbook judge a buffer against its requirement
# with it.
RATIO_TOLERANCE = 1e-6


@dataclass(frozen=True, eq=False)
class ForecastResult:
    """A forecast from one as-of day.

    Attributes:
        table: SPEC §3 long frame: ``product_id, date, variable, mean`` and one ``pNN`` column
            per quantile level; ``variable`` in ``subscriptions`` (demand before any quota, under
            the baseline exposure plan), ``redemptions``, ``net_flow``, ``aum``; CNY.
        paths: variable -> sample paths (n_products, n_paths, horizon), CNY, products in
            :attr:`product_ids` order.
        product_ids: products forecast.
        baseline_exposure: exposure assumed on each forecast day (index date, columns
            product_id): the mean of the last four same weekdays up to the as-of day.
        exposure_response: per product, ``a`` and ``e0`` of the curve of
            :mod:`rainmaker.response` with standard errors ``a_se``, ``e0_se``.
        model_name: what produced the point forecasts, e.g.
            ``auto(subscriptions=lightgbm, redemptions=ets+lightgbm)``.
        as_of: the as-of day.
        horizon: days forecast.
        quantiles: quantile levels of the table.
        point: variable -> point forecast of the chosen model (n_products, horizon), CNY.
        scores: backtest WAPE of every candidate (``candidate, variable, wape, n_scored``).
        warnings: fallbacks and other notes, as text.
    """

    table: pd.DataFrame
    paths: dict[str, np.ndarray]
    product_ids: tuple[str, ...]
    baseline_exposure: pd.DataFrame
    exposure_response: pd.DataFrame
    model_name: str
    as_of: pd.Timestamp
    horizon: int
    quantiles: tuple[float, ...]
    point: dict[str, np.ndarray] = field(default_factory=dict)
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: tuple[str, ...] = ()

    @property
    def dates(self) -> pd.DatetimeIndex:
        """The forecast days, the ``horizon`` days after the as-of day."""
        return pd.date_range(
            self.as_of + pd.Timedelta(days=1), periods=self.horizon, freq="D", name="date"
        )

    def quantile(self, variable: str, q: float) -> pd.DataFrame:
        """The ``q`` quantile of ``variable`` from the sample paths.

        Returns:
            Frame indexed by date with one column per product, CNY.
        """
        if variable not in self.paths:
            raise KeyError(
                f"unknown variable {variable!r}; expected one of {', '.join(FORECAST_VARIABLES)}"
            )
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile level must lie in [0, 1], got {q}")
        values = path_quantiles(self.paths[variable], [q])[0]  # (n_products, horizon)
        return pd.DataFrame(values.T, index=self.dates, columns=list(self.product_ids))

    def summary(self) -> pd.DataFrame:
        """One row per product and variable over the whole horizon, CNY.

        Returns:
            Frame indexed by (``product_id``, ``variable``): ``mean`` and one ``pNN`` column per
            quantile level of the horizon's total for the flows, of the last day for ``aum``
            (a stock); quantiles of totals come from the sample paths (a sum of daily
            quantiles is not the quantile of the sum).
        """
        labels = [quantile_label(q) for q in self.quantiles]
        parts = []
        for variable in FORECAST_VARIABLES:
            if variable not in self.paths:
                continue
            paths = self.paths[variable]
            values = paths[:, :, -1] if variable == "aum" else paths.sum(axis=2)
            quantiles = np.quantile(values, self.quantiles, axis=1)  # (levels, products)
            frame = pd.DataFrame(quantiles.T, columns=labels)
            frame.insert(0, "mean", values.mean(axis=1))
            frame.insert(0, "variable", variable)
            frame.insert(0, "product_id", list(self.product_ids))
            parts.append(frame)
        return pd.concat(parts).set_index(["product_id", "variable"]).sort_index()

    def plot(
        self,
        product: str | None = None,
        variables: tuple[str, ...] = ("subscriptions", "redemptions"),
        history: pd.DataFrame | None = None,
        history_days: int = 28,
    ) -> Figure:
        """A fan chart of one product: mean, the outer and inner quantile bands (CNY m).

        Args:
            product: a product id (default: the largest by forecast AUM).
            variables: one panel per variable, among :data:`FORECAST_VARIABLES`.
            history: a flows frame (``Dataset.flows``) to draw the days before and after the
                as-of day in black (``demand`` for subscriptions when present).
            history_days: days of history shown before the as-of day.

        Returns:
            A :class:`matplotlib.figure.Figure` (shown by a notebook; ``savefig`` to keep).
        """
        from matplotlib.figure import Figure  # start-up time: only who plots pays for it

        unknown = [v for v in variables if v not in FORECAST_VARIABLES]
        if unknown:
            raise ValueError(
                f"unknown variables {', '.join(map(str, unknown))}; expected among "
                f"{', '.join(FORECAST_VARIABLES)}"
            )
        if product is None:
            aum = self.table.loc[self.table["variable"] == "aum"].groupby("product_id")["mean"]
            product = str(aum.last().idxmax())
        if product not in self.product_ids:
            raise ValueError(
                f"product {product!r} is not in the forecast ({', '.join(self.product_ids)})"
            )
        labels = quantile_columns(self.table.columns)
        figure = Figure(figsize=(5.0 * len(variables), 3.6), layout="constrained")
        axes = figure.subplots(1, len(variables), squeeze=False)[0]
        rows = self.table.loc[self.table["product_id"] == product]
        for ax, variable in zip(axes, variables, strict=True):
            frame = rows.loc[rows["variable"] == variable].set_index("date")
            # bands from the outside in: p05-p95, then p10-p90 (each pair of mirrored levels)
            for i in range(len(labels) // 2):
                low, high = labels[i], labels[-1 - i]
                ax.fill_between(
                    frame.index,
                    frame[low] / 1e6,
                    frame[high] / 1e6,
                    alpha=0.18 + 0.12 * i,
                    color="tab:blue",
                    label=f"{low}–{high}",
                )
            ax.plot(frame.index, frame["mean"] / 1e6, color="tab:blue", label="mean")
            if history is not None:
                column = "demand" if variable == "subscriptions" and "demand" in history else None
                column = column or variable
                past = history.loc[history["product_id"] == product].set_index("date")
                start = self.as_of - pd.Timedelta(days=history_days)
                past = past.loc[start : self.dates[-1], column] if column in past else None
                if past is not None:
                    ax.plot(past.index, past / 1e6, color="black", lw=1, label=f"actual {column}")
            ax.axvline(self.as_of, color="0.5", lw=0.8)
            ax.set_title(f"{product} {variable}, CNY m", fontsize=11)
            ax.tick_params(axis="x", labelrotation=30, labelsize=9)
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=8)
        return figure

    def __repr__(self) -> str:
        last = self.dates[-1] if self.horizon else self.as_of
        return (
            f"ForecastResult(as of {self.as_of:%Y-%m-%d}, {len(self.product_ids)} products, "
            f"{self.horizon} days to {last:%Y-%m-%d}, model {self.model_name}, "
            f"quantiles {', '.join(quantile_label(q) for q in self.quantiles)}, "
            f"{len(self.warnings)} warnings)"
        )

    def to_csv(self, path: str | Path) -> Path:
        """Write :attr:`table` as the SPEC §3 ``forecast.csv`` (dates ISO; text cells that a
        spreadsheet would take for a formula are quoted, see :mod:`rainmaker.safety`)."""
        table = self.table.copy()
        table["date"] = table["date"].dt.strftime("%Y-%m-%d")
        return write_spreadsheet_csv(table, path)


class Explained(Protocol):
    """Plain-language explanations of a plan, in the report's language."""

    def sentences(self, lang: str) -> tuple[str, ...]:
        """The sentences in ``lang`` (``"en"`` or ``"zh"``), most important first."""
        ...


class PlanBooks(Protocol):
    """The books a plan starts from (:class:`optimize.PlanInputs` has them).

    Attributes:
        holdings: today's positions (:data:`optimize.portfolio.HOLDING_COLUMNS`: ``product_id``,
            ``bucket``, ``amount_cny``, ``rate_pct``, ``maturity_date``), CNY.
        rates_pct: purchase rate of every bucket known today, percent p.a.
    """

    @property
    def holdings(self) -> pd.DataFrame: ...

    @property
    def rates_pct(self) -> Mapping[str, float]: ...


class PlanOutcome(Protocol):
    """What the application reads from a plan (:class:`optimize.PlanResult` has all of it).

    Attributes:
        plan: one row per (product_id, date): SPEC §3 ``plan.csv`` columns, then extras
            (:func:`optimize.results.plan_frame`).
        status: the solver's verdict (``optimal``, ``feasible``, ``start``).
        objective: objective value, bp·day.
        violations: soft constraints broken (``constraint``, ``product_id``, ``date``, amounts,
            ``reason`` and ``reason_zh``); empty when none.
        explanations: the binding constraints in words.
        timings: seconds spent per step.
        warnings: sentences about the inputs worth reading.
        inputs: the books the plan starts from (the report's shadow-price deviation), or None
            for a plan that does not carry them (a stand-in in tests).
    """

    @property
    def plan(self) -> pd.DataFrame: ...

    @property
    def status(self) -> str: ...

    @property
    def objective(self) -> float: ...

    @property
    def violations(self) -> pd.DataFrame: ...

    @property
    def explanations(self) -> Explained: ...

    @property
    def timings(self) -> Mapping[str, float]: ...

    @property
    def warnings(self) -> tuple[str, ...]: ...

    @property
    def inputs(self) -> PlanBooks | None: ...
