"""Whole exposure slots: fractional wishes rounded to whole slots within each day's budget.

Used to round the LP relaxation's exposure (:mod:`optimize.rounding`) and to give every product
the slots of its baseline exposure before a decomposed solve (:mod:`optimize.decompose`).
"""

from __future__ import annotations

import numpy as np

from optimize.model import PlanModel

__all__ = ["exposure_slots"]

TOLERANCE = 1e-6


def exposure_slots(plan: PlanModel, wanted: np.ndarray) -> np.ndarray:
    """Whole slots per (p, t) near ``wanted`` (fractional), within each day's budget: round
    down, hand the budget left to the largest fractions, or take slots back from the products
    holding most when the rounded-down slots already exceed it."""
    par = plan.parameters
    cap = par.slots[:, None].astype(float)
    base = np.minimum(np.floor(wanted + TOLERANCE), cap)
    fraction = np.where(base < cap, wanted - base, -1.0)
    for t in range(par.horizon):
        left = int(par.budget[t] - base[:, t].sum())
        while left < 0:
            order = np.argsort(-base[:, t], kind="stable")[:-left]
            order = order[base[order, t] > 0]
            base[order, t] -= 1
            left += len(order)
        if left == 0:
            continue
        order = np.argsort(-fraction[:, t], kind="stable")
        for p in order[:left]:
            if fraction[p, t] > TOLERANCE:
                base[p, t] += 1
    return base
