"""Solving the plan's MILP with HiGHS, always ending with a plan.

Two backends take the same model: ``highspy`` hands the compiled arrays to HiGHS directly
(:mod:`optimize.highs`); ``pyomo`` writes the Pyomo model (:mod:`optimize.pyomo_model`) and
solves it through Pyomo's ``appsi_highs`` interface. Options are fixed for reproducible results:
the configured threads (one by default), a fixed random seed, the relative and absolute MIP gaps
and the time limit. A search that stops on its time limit is deterministic only if it stops on
the gap first; the solution's status says which happened.

Steps of :func:`solve_plan` with the highspy backend:

1. solve the LP relaxation — in one piece, or product by product above
   ``decompose_above_products`` products (:mod:`optimize.decompose`); its objective bounds
   what any plan can reach;
2. round it to a feasible plan (:func:`optimize.rounding.rounded_start`, whose LPs run on the
   relaxation's HiGHS instance, each warm from the basis of the one before:
   :class:`optimize.highs.WarmLp`; if the relaxation fails, the "all open, nothing bought"
   plan of :func:`optimize.rounding.all_open_start`);
3. if the rounded plan is within the MIP gaps of the bound it is the answer (status
   ``optimal``); otherwise, for models with at most ``search_max_integers`` integers, HiGHS
   runs its branch and bound from it until the gaps or the time limit are reached. Larger
   models keep the rounded plan (status ``feasible``, with its gap to the bound): there
   HiGHS's root node alone outlasts a daily plan's time budget without improving on it.
   Decomposed plans skip the search too and report their gap to the decomposed relaxation.

*Always a plan.* Every soft constraint has an elastic slack, so the MILP is always feasible and
a starting plan exists whatever the inputs; if the search returns nothing better (or nothing),
the starting plan is the result.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from optimize.decompose import relax_by_product
from optimize.highs import Solution, WarmLp, solve_arrays
from optimize.model import PlanModel
from optimize.rounding import all_open_start, rounded_start
from optimize.settings import SolverSettings

__all__ = ["Solution", "relative_gap", "solve_plan"]


def relative_gap(objective: float, bound: float) -> float:
    """HiGHS's relative MIP gap: (objective − bound) / |objective| (0 when both are 0)."""
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("nan")
    scale = max(abs(objective), 1e-9)
    return max(objective - bound, 0.0) / scale if objective != bound else 0.0


def _within_gaps(objective: float, bound: float, options: SolverSettings, abs_gap: float) -> bool:
    return objective - bound <= abs_gap or relative_gap(objective, bound) <= options.mip_rel_gap


def _start(
    plan: PlanModel,
    relaxed: np.ndarray | None,
    options: SolverSettings,
    warm: WarmLp | None = None,
) -> np.ndarray | None:
    start = rounded_start(plan, relaxed, options, warm) if relaxed is not None else None
    return start if start is not None else all_open_start(plan, options)


def solve_plan(plan: PlanModel, options: SolverSettings, backend: str = "highspy") -> Solution:
    """Solve the plan's MILP with the chosen backend (see the module docstring).

    Args:
        plan: the built model.
        options: solver settings.
        backend: ``highspy`` or ``pyomo``.

    Returns:
        The solution; ``seconds`` covers the relaxation, the rounding and the search, and
        ``bound`` is the relaxation's objective (a lower bound of every plan's, except that a
        decomposed relaxation bounds only plans with its exposure caps and sales shares).
    """
    began = time.perf_counter()
    par = plan.parameters
    compiled = plan.compiled()
    abs_gap = options.mip_abs_gap_per_product_day * par.n_products * par.horizon

    def finish(solution: Solution) -> Solution:
        return replace(solution, seconds=time.perf_counter() - began)

    def from_start(x: np.ndarray, status: str, text: str, bound: float) -> Solution:
        objective = float(compiled.cost @ x + compiled.offset)
        return Solution(
            status, text, objective, bound, relative_gap(objective, bound), x, None, 0.0, "highspy"
        )

    if backend == "pyomo":
        from optimize.pyomo_model import solve_with_pyomo  # start-up time: Pyomo is slow to load

        solution = solve_with_pyomo(plan, options)
        if solution.ok:
            return finish(solution)
        start = all_open_start(plan, options)
        if start is None:
            return finish(solution)
        return finish(from_start(start, "start", solution.solver_status, float("nan")))

    if par.n_products > options.decompose_above_products:
        relaxation = relax_by_product(plan, options, workers=options.workers)
        start = _start(plan, relaxation.x if relaxation.ok else None, options)
        if start is None:
            return finish(
                Solution(
                    "failed",
                    "no plan",
                    float("nan"),
                    float("nan"),
                    float("nan"),
                    np.full(compiled.n_cols, np.nan),
                    None,
                    0.0,
                    "highspy",
                )
            )
        text = (
            f"decomposed by product; rounded relaxation within "
            f"{relative_gap(float(compiled.cost @ start), relaxation.objective):.4f} of it"
        )
        return finish(from_start(start, "feasible", text, relaxation.objective))

    # The rounding's LPs follow the relaxation on its HiGHS instance, warm from its basis.
    warm = WarmLp(compiled, options)
    relaxed = warm.solve()
    start = (
        _start(plan, relaxed.x if relaxed.ok else None, options, warm)
        if options.mip_start
        else None
    )
    n_integers = int(compiled.integrality.sum())
    if start is not None and relaxed.ok:
        objective = float(compiled.cost @ start + compiled.offset)
        if _within_gaps(objective, relaxed.objective, options, abs_gap):
            return finish(
                from_start(
                    start, "optimal", "rounded relaxation within the gaps", relaxed.objective
                )
            )
        if n_integers > options.search_max_integers:
            text = (
                f"rounded relaxation; branch and bound skipped ({n_integers} integers > "
                f"search_max_integers)"
            )
            return finish(from_start(start, "feasible", text, relaxed.objective))
    solution = solve_arrays(compiled, options, start=start, abs_gap=abs_gap)
    if not solution.ok:
        start = start if start is not None else all_open_start(plan, options)
        if start is None:
            return finish(solution)
        return finish(from_start(start, "start", solution.solver_status, solution.bound))
    return finish(solution)
