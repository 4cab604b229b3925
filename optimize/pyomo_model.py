"""The plan as a Pyomo model, solved through Pyomo's ``appsi_highs`` interface.

:func:`to_pyomo` writes the same families as :mod:`optimize.model` into a
``pyomo.environ.ConcreteModel``: one ``Var`` component per variable family, indexed by its
coordinates (e.g. ``m.cash["P0001", "2021-09-27"]``, ``m.purchase_lots["P0001", "ncd_3m",
"2021-09-27"]``), one ``Constraint`` component per equation (E1)–(E24), (E26) with the same names
(``m.buffer_covers_redemptions``, ``m.cash_balance``, ...), and the objective ``m.objective``.
It is there to be read, inspected, exported (``m.write("plan.lp")``) and solved with any Pyomo
solver on small instances; building it costs about 100 times the compiled arrays' build (see
docs/optimize.md, "Speed"), which is why large plans go to HiGHS through highspy directly.

:func:`solve_with_pyomo` solves it with HiGHS (appsi) using the settings' options, warm-started
from the rounded relaxation like the highspy path; :func:`pyomo_duals` solves an LP version and
returns the row duals in the compiled model's row order, which lets tests check that both
writers describe the same model.
"""

from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs
from pyomo.core.expr.numeric_expr import LinearExpression

from optimize.algebra import CompiledModel
from optimize.highs import Solution, new_highs, solve_arrays
from optimize.model import PlanModel
from optimize.rounding import rounded_start
from optimize.settings import SolverSettings

__all__ = ["PyomoPlan", "pyomo_duals", "solve_with_pyomo", "to_pyomo"]

_DOMAINS = {"continuous": pyo.Reals, "integer": pyo.Integers, "binary": pyo.Binary}


class PyomoPlan:
    """A Pyomo model of a plan with the map between its variables and the compiled columns.

    Attributes:
        model: the ``ConcreteModel``.
        column_vars: the Pyomo variable of every compiled column.
        row_constraints: the Pyomo constraint of every compiled row.
        build_seconds: time taken by :func:`to_pyomo`.
    """

    def __init__(
        self,
        model: pyo.ConcreteModel,
        column_vars: list,
        row_constraints: list,
        build_seconds: float,
    ) -> None:
        self.model = model
        self.column_vars = column_vars
        self.row_constraints = row_constraints
        self.build_seconds = build_seconds

    def values(self) -> np.ndarray:
        """Current values of the variables as a compiled column vector (NaN when unset)."""
        return np.array([np.nan if v.value is None else float(v.value) for v in self.column_vars])


def _key(label: tuple) -> object:
    return label[0] if len(label) == 1 else label


def to_pyomo(
    plan: PlanModel, compiled: CompiledModel | None = None, *, relax: bool = False
) -> PyomoPlan:
    """Write the plan's families as a Pyomo ``ConcreteModel``.

    Args:
        plan: the built model.
        compiled: arrays to write (default: the plan's own; pass a copy with fixed bounds to
            write a restricted model).
        relax: make every variable continuous (an LP, e.g. for duals).
    """
    began = time.perf_counter()
    lm = plan.model
    c = compiled if compiled is not None else plan.compiled()
    m = pyo.ConcreteModel(name="rainmaker_plan")
    column_vars: list = [None] * c.n_cols
    for name, family in lm.variables.items():
        present = np.argwhere(family.columns >= 0)
        index = tuple(present.T)
        keys = [_key(label) for label in lm.labels(family.dims, index)] if len(present) else []
        domain = pyo.Reals if relax else _DOMAINS[family.kind]
        var = pyo.Var(keys, domain=domain, dense=True)
        var.doc = f"{name} [{', '.join(family.dims)}], {family.unit}"
        m.add_component(name, var)
        for key, col in zip(keys, family.columns[index] if len(present) else [], strict=True):
            v = var[key]
            lower, upper = c.col_lower[col], c.col_upper[col]
            v.setlb(None if not np.isfinite(lower) else float(lower))
            v.setub(None if not np.isfinite(upper) else float(upper))
            column_vars[col] = v

    row_start, col_index, values = c.rows()
    row_constraints: list = [None] * c.n_rows
    for name, family in lm.constraints.items():
        present = np.argwhere(family.rows >= 0)
        index = tuple(present.T)
        keys = [_key(label) for label in lm.labels(family.dims, index)] if len(present) else []
        rows = family.rows[index] if len(present) else np.zeros(0, dtype=np.int64)
        by_key = dict(zip(keys, rows, strict=True))

        def rule(model, *key, _by_key=by_key):
            r = _by_key[key[0] if len(key) == 1 else key]
            sl = slice(row_start[r], row_start[r + 1])
            expr = LinearExpression(
                constant=0.0,
                linear_coefs=[float(a) for a in values[sl]],
                linear_vars=[column_vars[j] for j in col_index[sl]],
            )
            lower, upper = c.row_lower[r], c.row_upper[r]
            if lower == upper:
                return expr == float(lower)
            return (
                None if not np.isfinite(lower) else float(lower),
                expr,
                None if not np.isfinite(upper) else float(upper),
            )

        constraint = pyo.Constraint(keys, rule=rule)
        constraint.doc = f"{name} [{', '.join(family.dims)}]{' (elastic)' if family.soft else ''}"
        m.add_component(name, constraint)
        for key, r in by_key.items():
            row_constraints[r] = constraint[key]

    nonzero = np.flatnonzero(c.cost)
    m.objective = pyo.Objective(
        expr=LinearExpression(
            constant=float(c.offset),
            linear_coefs=[float(a) for a in c.cost[nonzero]],
            linear_vars=[column_vars[j] for j in nonzero],
        ),
        sense=pyo.minimize,
    )
    return PyomoPlan(m, column_vars, row_constraints, time.perf_counter() - began)


def _solver(options: SolverSettings, abs_gap: float) -> Highs:
    new_highs()  # the first HiGHS of a process prints a banner; let it go to /dev/null
    solver = Highs()
    solver.config.time_limit = float(options.time_limit_s)
    solver.config.mip_gap = float(options.mip_rel_gap)
    solver.config.load_solution = False
    solver.highs_options = {
        "threads": int(options.threads),
        "random_seed": int(options.random_seed),
        "mip_abs_gap": float(abs_gap),
        "output_flag": False,
    }
    return solver


def solve_with_pyomo(plan: PlanModel, options: SolverSettings) -> Solution:
    """Solve the plan's MILP as a Pyomo model with HiGHS (appsi), warm-started from the
    rounded relaxation when ``options.mip_start``."""
    began = time.perf_counter()
    par = plan.parameters
    abs_gap = options.mip_abs_gap_per_product_day * par.n_products * par.horizon
    written = to_pyomo(plan)
    solver = _solver(options, abs_gap)
    if options.mip_start:
        relaxed = solve_arrays(plan.compiled(), options, integer=False)
        start = rounded_start(plan, relaxed.x, options) if relaxed.ok else None
        if start is not None:
            for var, value in zip(written.column_vars, start, strict=True):
                var.set_value(float(value), skip_validation=True)
            solver.config.warmstart = True
    results = solver.solve(written.model)
    seconds = time.perf_counter() - began
    condition = results.termination_condition
    found = results.best_feasible_objective is not None
    if found:
        results.solution_loader.load_vars()
    x = written.values() if found else np.full(plan.compiled().n_cols, np.nan)
    if condition == TerminationCondition.optimal and found:
        status = "optimal"
    elif found:
        status = "feasible"
    else:
        status = "failed"
    objective = float(results.best_feasible_objective) if found else float("nan")
    bound = results.best_objective_bound
    bound = float(bound) if bound is not None else float("nan")
    gap = (
        (objective - bound) / max(abs(objective), 1e-9)
        if found and np.isfinite(bound)
        else float("nan")
    )
    return Solution(status, str(condition.name), objective, bound, gap, x, None, seconds, "pyomo")


def pyomo_duals(
    plan: PlanModel, compiled: CompiledModel, options: SolverSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``compiled`` (integrality relaxed) as a Pyomo model; return (x, row duals) in the
    compiled model's column and row order."""
    written = to_pyomo(plan, compiled, relax=True)
    solver = _solver(options, 0.0)
    results = solver.solve(written.model)
    if results.termination_condition != TerminationCondition.optimal:
        raise RuntimeError(f"pyomo_duals: LP not solved ({results.termination_condition})")
    results.solution_loader.load_vars()
    duals = results.solution_loader.get_duals()
    return written.values(), np.array([duals[c] for c in written.row_constraints])
