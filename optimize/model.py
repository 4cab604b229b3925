"""The plan's model: parameters, variables, constraints and objective assembled in one place.

:func:`build_model` runs the builder steps in order — coordinates, :mod:`optimize.variables`,
:mod:`optimize.constraints` (one function per equation), :mod:`optimize.objective` — into a
:class:`~optimize.algebra.LinearModel`, and returns it with the parameters and the variable
columns as a :class:`PlanModel`. The same object is compiled to arrays for HiGHS
(:meth:`PlanModel.compiled`) or written as a Pyomo model (:func:`optimize.pyomo_model.to_pyomo`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from optimize.algebra import CompiledModel, LinearModel
from optimize.blocks import ProductBlocks, product_blocks
from optimize.constraints import add_constraints
from optimize.objective import add_objective
from optimize.parameters import ModelParameters
from optimize.variables import PlanVariables, add_variables

__all__ = ["PlanModel", "build_model"]


@dataclass
class PlanModel:
    """A built plan model.

    Attributes:
        parameters: the scaled parameters it was built from.
        model: the families (variables, constraints, objective).
        variables: column arrays of the variable families.
        build_seconds: wall-clock time of :func:`build_model`.
    """

    parameters: ModelParameters
    model: LinearModel
    variables: PlanVariables
    build_seconds: float = 0.0
    _compiled: CompiledModel | None = field(default=None, repr=False)
    _blocks: ProductBlocks | None = field(default=None, repr=False)
    # Per-product simplex bases of the last product-by-product solve (warm starts).
    bases: list | None = field(default=None, repr=False)

    def compiled(self) -> CompiledModel:
        """The solver arrays (compiled once, then cached)."""
        if self._compiled is None:
            self._compiled = self.model.compile()
        return self._compiled

    def blocks(self) -> ProductBlocks:
        """The compiled model cut into per-product blocks (cut once, then cached)."""
        if self._blocks is None:
            self._blocks = product_blocks(self.compiled(), self.model, self.parameters.n_products)
        return self._blocks


def build_model(par: ModelParameters) -> PlanModel:
    """Build the plan's MILP from its parameters (arrays compiled as part of the build)."""
    start = time.perf_counter()
    model = LinearModel(
        coords={
            "product": list(par.inputs.product_ids),
            "day": [d.strftime("%Y-%m-%d") for d in par.inputs.dates],
            "bucket": [b.name for b in par.buckets],
            "slot": list(range(1, par.max_slots + 1)),
            "sales": list(par.sales_labels),
        }
    )
    variables = add_variables(model, par)
    add_constraints(model, par, variables)
    add_objective(model, par, variables)
    plan_model = PlanModel(par, model, variables)
    plan_model.compiled()
    plan_model.build_seconds = time.perf_counter() - start
    return plan_model
