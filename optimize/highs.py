"""The HiGHS interface: compiled arrays in, a :class:`Solution` out.

:func:`solve_arrays` hands a :class:`~optimize.algebra.CompiledModel` to HiGHS through
``highspy`` (column-wise matrix, integrality, optional starting solution) with fixed options —
no log output, the configured threads, random seed, time limit and relative and absolute MIP
gaps — and reads back the status, objective, dual bound, gap, primal values and, for an LP, the
row duals. :func:`fix_columns` fixes columns at given values, which is how integer decisions are
fixed before an LP re-solve (starting plans, explanations).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

import highspy
import numpy as np

from optimize.algebra import CompiledModel
from optimize.settings import SolverSettings

__all__ = [
    "Solution",
    "WarmLp",
    "fix_columns",
    "highs_instance",
    "pass_model",
    "replace_bounds",
    "solve_arrays",
]

# HiGHS statuses a usable solution may come with.
_SOLVED = {"Optimal"}
_LIMITS = {
    "Time limit reached",
    "Iteration limit reached",
    "Solution limit reached",
    "Interrupted by user",
    "Objective bound",
    "Objective target",
}


@dataclass(frozen=True)
class Solution:
    """What a solve returned.

    Attributes:
        status: ``optimal`` (within the MIP gap), ``feasible`` (a limit stopped the search with
            a solution in hand), ``start`` (no solution found: the start plan is returned) or
            ``failed`` (no solution at all).
        solver_status: HiGHS's own model status text.
        objective: objective value (bp·day equivalents); NaN when failed.
        bound: best dual bound of a MILP (NaN for an LP).
        mip_gap: relative gap between objective and bound (0 for an LP).
        x: value of every column.
        row_duals: dual value of every row (LPs only; None for a MILP).
        seconds: wall-clock time of the solve.
        backend: ``highspy`` or ``pyomo``.
    """

    status: str
    solver_status: str
    objective: float
    bound: float
    mip_gap: float
    x: np.ndarray
    row_duals: np.ndarray | None
    seconds: float
    backend: str

    @property
    def ok(self) -> bool:
        """A solution is in hand."""
        return self.status in ("optimal", "feasible", "start")


_banner_shown = False


def new_highs() -> highspy.Highs:
    """``highspy.Highs()`` without the copyright banner that the library writes to the process's
    standard output on its first construction, before any option can silence it: the daily job's
    standard output is read by schedulers and must end with the report's path."""
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _banner_shown = True
    return h


def highs_instance(options: SolverSettings, *, mip: bool, abs_gap: float = 0.0) -> highspy.Highs:
    """A silent HiGHS instance with the settings' options (gaps only for a MILP)."""
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.random_seed))
    h.setOptionValue("time_limit", float(options.time_limit_s))
    if mip:
        h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
        h.setOptionValue("mip_abs_gap", float(abs_gap))
    return h


def pass_model(h: highspy.Highs, model: CompiledModel, integer: bool) -> None:
    """Hand compiled arrays to ``h`` (integrality only when ``integer``).

    The arrays go through highspy's array interface: filling a ``HighsLp`` field by field
    converted every number on its own, which took longer than the smaller LPs' solves."""
    if integer and model.integrality.any():
        integrality = np.where(
            model.integrality,
            int(highspy.HighsVarType.kInteger),
            int(highspy.HighsVarType.kContinuous),
        ).astype(np.int32)
    else:
        integrality = np.full(model.n_cols, int(highspy.HighsVarType.kContinuous), np.int32)
    h.passModel(
        model.n_cols,
        model.n_rows,
        len(model.value),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        float(model.offset),
        np.ascontiguousarray(model.cost, dtype=np.float64),
        np.ascontiguousarray(model.col_lower, dtype=np.float64),
        np.ascontiguousarray(model.col_upper, dtype=np.float64),
        np.ascontiguousarray(model.row_lower, dtype=np.float64),
        np.ascontiguousarray(model.row_upper, dtype=np.float64),
        np.ascontiguousarray(model.col_start, dtype=np.int32),
        np.ascontiguousarray(model.row_index, dtype=np.int32),
        np.ascontiguousarray(model.value, dtype=np.float64),
        integrality,
    )


def solve_arrays(
    model: CompiledModel,
    options: SolverSettings,
    *,
    integer: bool = True,
    start: np.ndarray | None = None,
    abs_gap: float = 0.0,
) -> Solution:
    """Solve compiled arrays with highspy.

    Args:
        model: the arrays.
        options: solver settings.
        integer: respect integrality (False solves the LP relaxation).
        start: a feasible column vector handed to HiGHS as the first incumbent.
        abs_gap: absolute MIP gap, objective units (0: only the relative gap counts).

    Returns:
        The solution; ``row_duals`` are filled for an LP.
    """
    mip = integer and bool(model.integrality.any())
    began = time.perf_counter()
    h = highs_instance(options, mip=mip, abs_gap=abs_gap)
    pass_model(h, model, integer)
    if start is not None and mip:
        given = highspy.HighsSolution()
        given.col_value = np.asarray(start, dtype=float)
        given.value_valid = True
        h.setSolution(given)
    h.run()
    return _solution(h, model, mip, time.perf_counter() - began)


class WarmLp:
    """The LP relaxation of a model on one HiGHS instance, re-solved with other column bounds.

    The first :meth:`solve` is :func:`solve_arrays` with ``integer=False``; each later one
    changes the bounds of the columns whose bounds differ and starts from the basis the solve
    before left (the dual simplex after bound changes), which is how the rounding's LPs with
    integers fixed follow the relaxation (as the product-by-product rounding already does). A
    warm solve that does not end optimal is repeated cold, on a new instance.
    """

    def __init__(self, model: CompiledModel, options: SolverSettings) -> None:
        self.model = model
        self.options = options
        self.h: highspy.Highs | None = None
        self.lower = model.col_lower
        self.upper = model.col_upper

    def solve(
        self, col_lower: np.ndarray | None = None, col_upper: np.ndarray | None = None
    ) -> Solution:
        """Solve with these column bounds (default: the model's)."""
        lower = self.model.col_lower if col_lower is None else np.asarray(col_lower, dtype=float)
        upper = self.model.col_upper if col_upper is None else np.asarray(col_upper, dtype=float)
        began = time.perf_counter()
        if self.h is None:
            self.h = highs_instance(self.options, mip=False)
            pass_model(self.h, self.model, integer=False)
            self.lower, self.upper = self.model.col_lower, self.model.col_upper
            warm = False
        else:
            warm = True
        changed = np.flatnonzero((lower != self.lower) | (upper != self.upper))
        if changed.size:
            self.h.changeColsBounds(
                len(changed), changed.astype(np.int32), lower[changed], upper[changed]
            )
        self.lower, self.upper = lower, upper
        self.h.run()
        solution = _solution(self.h, self.model, False, time.perf_counter() - began)
        if warm and solution.status != "optimal":
            self.h = None
            cold = replace_bounds(self.model, lower, upper)
            return solve_arrays(cold, self.options, integer=False)
        return solution


def replace_bounds(model: CompiledModel, lower: np.ndarray, upper: np.ndarray) -> CompiledModel:
    """A copy of ``model`` with these column bounds."""
    return CompiledModel(
        cost=model.cost,
        offset=model.offset,
        col_start=model.col_start,
        row_index=model.row_index,
        value=model.value,
        row_lower=model.row_lower,
        row_upper=model.row_upper,
        col_lower=lower,
        col_upper=upper,
        integrality=model.integrality,
    )


def _solution(h: highspy.Highs, model: CompiledModel, mip: bool, seconds: float) -> Solution:
    """What ``h`` holds after a run, as a :class:`Solution`."""
    text = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    has_solution = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    if text in _SOLVED and has_solution:
        status = "optimal"
    elif text in _LIMITS and has_solution:
        status = "feasible"
    else:
        status = "failed"
    solution = h.getSolution()
    x = (
        np.asarray(solution.col_value, dtype=float)
        if has_solution
        else np.full(model.n_cols, np.nan)
    )
    duals = None
    if not mip and has_solution and solution.dual_valid:
        duals = np.asarray(solution.row_dual, dtype=float)
    objective = float(info.objective_function_value) if has_solution else float("nan")
    bound = float(info.mip_dual_bound) if mip else float("nan")
    gap = float(info.mip_gap) if mip else 0.0
    return Solution(status, text, objective, bound, gap, x, duals, seconds, "highspy")


def fix_columns(model: CompiledModel, columns: np.ndarray, values: np.ndarray) -> CompiledModel:
    """A copy of ``model`` with ``columns`` fixed at ``values`` (bounds lower = upper)."""
    lower = model.col_lower.copy()
    upper = model.col_upper.copy()
    lower[columns] = values
    upper[columns] = values
    return replace_bounds(model, lower, upper)
