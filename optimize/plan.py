"""The pipeline in one call: plan inputs → model → HiGHS → tidy frames → explanations.

:func:`make_plan` is the entry point for a data set and a forecast (the agreed interface:
``make_plan(dataset, as_of, forecast, settings) -> PlanResult``); :func:`plan_from_inputs`
starts from :class:`~optimize.inputs.PlanInputs` (synthetic inputs, a backtest's own state).
Each step is a function of its own module and can be run alone:
:func:`optimize.inputs.inputs_from_forecast`, :func:`optimize.parameters.model_parameters`,
:func:`optimize.model.build_model`, :func:`optimize.solve.solve_plan`,
:mod:`optimize.results`, :func:`optimize.explain.explain`.

Infeasible inputs never end in a stack trace: the elastic formulation always has a plan, and
the result lists the constraints it breaks (``violations``) with the amounts and the reasons.
Bad inputs (a data-set problem, a forecast that does not fit the as-of day) still raise
:class:`~rainmaker.errors.DataError` or :class:`~rainmaker.errors.UsageError`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimize.algebra import CompiledModel
from optimize.explain import Explanations, explain
from optimize.highs import Solution
from optimize.inputs import PlanInputs, inputs_from_forecast
from optimize.model import PlanModel, build_model
from optimize.parameters import model_parameters
from optimize.results import (
    objective_terms,
    plan_frame,
    plan_summary,
    purchases_frame,
    violations_frame,
)
from optimize.settings import PlanSettings, load_settings
from optimize.solve import solve_plan
from rainmaker.contracts import ForecastResult
from rainmaker.errors import RainmakerError, UsageError

if TYPE_CHECKING:
    from rainmaker.dataset import Dataset

__all__ = ["PlanResult", "make_plan", "plan_from_inputs"]


@dataclass(frozen=True)
class PlanResult:
    """A plan and everything needed to read, check and explain it.

    Attributes:
        plan: one row per (product_id, date): SPEC §3 ``plan.csv`` columns then extras
            (:func:`optimize.results.plan_frame`).
        purchases: one row per planned purchase (:func:`optimize.results.purchases_frame`).
        status: ``optimal`` (within the MIP gaps of the relaxation bound), ``feasible`` (a
            limit, or decomposition, stopped short of proving it) or ``start`` (the search
            found nothing better than the starting plan).
        objective: objective value, bp·day (lower is better).
        bound: the relaxation's objective (NaN when unknown).
        mip_gap: relative gap between ``objective`` and ``bound``.
        violations: soft constraints broken, by how much and why (empty when none).
        explanations: shadow prices of the binding constraints, frame and sentences.
        timings: seconds spent: ``inputs``, ``build``, ``solve``, ``explain``, ``total``.
        objective_terms: objective by variable family, bp·day.
        solver: backend, HiGHS status text, model size (columns, rows, integers, nonzeros).
        inputs: the plan inputs.
        settings: the settings used.
        warnings: sentences about the inputs worth reading (e.g. default ladders assumed).
        model: the built model (its families, parameters and compiled arrays).
        solution: the solver's raw solution (column values).
    """

    plan: pd.DataFrame
    purchases: pd.DataFrame
    status: str
    objective: float
    bound: float
    mip_gap: float
    violations: pd.DataFrame
    explanations: Explanations
    timings: dict[str, float]
    objective_terms: pd.Series
    solver: dict[str, Any]
    inputs: PlanInputs
    settings: PlanSettings
    warnings: tuple[str, ...] = field(default=())
    model: PlanModel | None = field(default=None, repr=False)
    solution: Solution | None = field(default=None, repr=False)
    dataset: Dataset | None = field(default=None, repr=False)
    forecast: ForecastResult | None = field(default=None, repr=False)

    @property
    def as_of(self) -> pd.Timestamp:
        """Today: the last day whose data the plan knew."""
        return pd.Timestamp(self.inputs.as_of)

    def summary(self) -> pd.DataFrame:
        """One row per product: what the plan does over its horizon (:data:`SUMMARY_COLUMNS`).

        Amounts in CNY, shares in percent of the planned AUM, yields in percent, gaps in bp;
        ``binding_constraints`` names the constraints that bind, with their binding days.
        """
        return plan_summary(self.plan, self.violations, self.explanations.summary)

    def objective_breakdown(self) -> pd.DataFrame:
        """The objective by term (variable family), in bp·day and per product-day.

        The total objective mixes the yield terms with the elastic penalties (1,000 bp·day per
        bp of AUM for an overdraft): compare plans term by term, not by the total.

        Returns:
            Index ``term``; ``bp_day`` and ``bp_per_product_day`` (divided by products × days),
            largest magnitude first.
        """
        n = max(1, self.plan["product_id"].nunique() * self.plan["date"].nunique())
        frame = self.objective_terms.rename("bp_day").rename_axis("term").to_frame()
        frame["bp_per_product_day"] = frame["bp_day"] / n
        return frame

    def __repr__(self) -> str:
        # a one-line view: a notebook printing a plan must not dump its frames
        n_products = self.plan["product_id"].nunique()
        n_days = self.plan["date"].nunique()
        terms = ", ".join(
            f"{name} {value:,.1f}" for name, value in self.objective_terms.head(3).items()
        )
        binding = int(len(self.explanations.summary))
        return (
            f"PlanResult(as of {self.as_of:%Y-%m-%d}, {n_products} products × {n_days} days, "
            f"{self.status}, {len(self.violations)} violations, {binding} binding constraints; "
            f"largest objective terms (bp·day): {terms or 'none'}; "
            "see .summary(), .objective_breakdown())"
        )


def _backend(settings: PlanSettings, n_columns: int) -> str:
    choice = settings.solver.backend
    if choice == "auto":
        return "pyomo" if n_columns <= settings.solver.pyomo_max_columns else "highspy"
    return choice


def _no_plan(
    solution: Solution, settings: PlanSettings, compiled: CompiledModel, scale: float
) -> str:
    """Why the solver returned no plan, as far as it is known: status, time, size of numbers.

    The elastic model always has a plan, so no plan is a solver failure: either the time limit
    cut the search short (a longer limit helps) or the model's numbers defeat floating-point
    arithmetic (it does not: the inputs need a look).
    """
    limit = settings.solver.time_limit_s
    head = (
        f"the solver ({solution.backend}) returned no plan: status {solution.solver_status!r} "
        f"after {solution.seconds:.1f} s"
    )
    if solution.seconds >= 0.95 * limit:
        return f"{head}, the {limit:g} s time limit: retry with a longer solver.time_limit_s"
    numbers = np.concatenate([np.asarray(compiled.value, float), np.asarray(compiled.cost, float)])
    nan = int(np.isnan(numbers).sum())
    finite = np.abs(numbers[np.isfinite(numbers)])
    largest = float(finite.max()) if finite.size else 0.0
    return (
        f"{head}, well within the {limit:g} s time limit (a longer one will not help). "
        f"The model's largest coefficient is {largest:.3g} with amounts in units of "
        f"{scale:.3g} CNY" + (f", and {nan} coefficients are NaN" if nan else "") + "; numbers "
        "that far apart defeat floating-point solvers: look for extreme amounts or rates in the "
        "data up to the as-of day (rainmaker validate reports amounts far beyond a product's "
        "history)"
    )


def plan_from_inputs(
    inputs: PlanInputs,
    settings: PlanSettings | None = None,
    warnings: tuple[str, ...] = (),
) -> PlanResult:
    """Optimise a plan from plan inputs.

    Args:
        inputs: what is known on the as-of day.
        settings: optimizer settings (``load_settings()`` when None).
        warnings: warnings met while building the inputs, passed through.

    Raises:
        UsageError: the settings ask for a buffer confidence the forecast cannot give.
        RainmakerError: no plan at all could be computed (a solver failure, not infeasibility).
    """
    settings = settings or load_settings()
    began = time.perf_counter()
    try:
        parameters = model_parameters(inputs, settings)
    except ValueError as error:
        raise UsageError(f"cannot plan with these settings: {error}") from error
    plan_model = build_model(parameters)
    compiled = plan_model.compiled()
    backend = _backend(settings, compiled.n_cols)
    solution = solve_plan(plan_model, settings.solver, backend=backend)
    if not solution.ok:
        raise RainmakerError(_no_plan(solution, settings, compiled, parameters.scale))
    explain_began = time.perf_counter()
    if settings.solver.explain:
        explanations = explain(plan_model, solution, settings.solver)
    else:
        explanations = Explanations.empty("explanations are turned off (solver.explain)")
    explain_seconds = time.perf_counter() - explain_began
    plan = plan_frame(plan_model, solution)
    result = PlanResult(
        plan=plan,
        purchases=purchases_frame(plan_model, solution),
        status=solution.status,
        objective=solution.objective,
        bound=solution.bound,
        mip_gap=solution.mip_gap,
        violations=violations_frame(plan_model, solution),
        explanations=explanations,
        timings={
            "build": plan_model.build_seconds,
            "solve": solution.seconds,
            "explain": explain_seconds,
            "total": time.perf_counter() - began,
        },
        objective_terms=objective_terms(plan_model, solution),
        solver={
            "backend": solution.backend,
            "solver_status": solution.solver_status,
            "columns": compiled.n_cols,
            "rows": compiled.n_rows,
            "integers": int(compiled.integrality.sum()),
            "nonzeros": len(compiled.value),
            "scale_cny": parameters.scale,
        },
        inputs=inputs,
        settings=settings,
        warnings=tuple(warnings),
        model=plan_model,
        solution=solution,
    )
    return result


def make_plan(
    dataset: Dataset,
    as_of: str | pd.Timestamp,
    forecast: ForecastResult,
    settings: PlanSettings | None = None,
    *,
    holdings: pd.DataFrame | None = None,
    managed: Mapping[str, Mapping[str, float]] | None = None,
    borrowed: Mapping[str, float] | None = None,
) -> PlanResult:
    """Plan quotas, exposure, liquidity buffer and investments for the days after ``as_of``.

    Args:
        dataset: the data set (only rows dated on or before ``as_of`` are read).
        as_of: today.
        forecast: the forecast for the days after ``as_of``
            (:class:`rainmaker.contracts.ForecastResult`).
        settings: optimizer settings (``load_settings()`` when None).
        holdings: today's positions (:data:`optimize.portfolio.HOLDING_COLUMNS`); None reads
            ``holdings.csv`` or assumes default ladders.
        managed: each product's managed book, share of AUM per bucket (the floors of
            ``liquidity.managed_floor``); None reads the data set's ``investment_mix`` table,
            else infers it from the published yields.
        borrowed: repo borrowing outstanding today per product, CNY (a liability beside
            ``holdings``: net assets = holdings − borrowing; E28); None = none.

    Returns:
        The plan; ``timings["inputs"]`` is the time spent reading the inputs.
    """
    settings = settings or load_settings()
    began = time.perf_counter()
    inputs, warnings = inputs_from_forecast(
        dataset, as_of, forecast, settings, holdings, managed=managed, borrowed=borrowed
    )
    inputs_seconds = time.perf_counter() - began
    result = plan_from_inputs(inputs, settings, tuple(warnings))
    timings = {"inputs": inputs_seconds, **result.timings}
    timings["total"] = time.perf_counter() - began
    # the plan keeps what it was made from, so that it can be reported on its own
    return dataclasses.replace(result, timings=timings, dataset=dataset, forecast=forecast)
