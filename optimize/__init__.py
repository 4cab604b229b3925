"""The artificial rain: subscription quotas, marketing exposure, liquidity buffers and the
investment of new money, planned as a MILP with Pyomo and HiGHS.

Pipeline (one module per step, each testable alone): plan inputs (:mod:`optimize.inputs`,
today's portfolio in :mod:`optimize.portfolio`, sales plans in :mod:`optimize.sales_plan`) →
scaled parameters (:mod:`optimize.parameters`) → model (:mod:`optimize.variables`,
:mod:`optimize.constraints`, :mod:`optimize.objective`, assembled by :mod:`optimize.model`;
Pyomo writer in :mod:`optimize.pyomo_model`) → HiGHS (:mod:`optimize.solve`) → tidy frames
(:mod:`optimize.results`) → shadow prices (:mod:`optimize.explain`). :func:`make_plan` runs it
all; the formulation is documented in ``docs/optimize.md``.
"""

from optimize.explain import Explanations
from optimize.inputs import PlanInputs, inputs_from_forecast
from optimize.plan import PlanResult, make_plan, plan_from_inputs
from optimize.planner import Planner
from optimize.settings import PlanSettings, load_settings

# Test and benchmark data, not public API: import it from optimize.synthetic. Still importable
# here (not in __all__) so that tests written against the old name keep working until moved.
from optimize.synthetic import synthetic_inputs  # noqa: F401

__all__ = [
    "Explanations",
    "PlanInputs",
    "PlanResult",
    "PlanSettings",
    "Planner",
    "inputs_from_forecast",
    "load_settings",
    "make_plan",
    "plan_from_inputs",
]
