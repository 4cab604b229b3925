"""Feasible plans from the LP relaxation: the relaxation rounded, or a plain "everything
open, nothing bought" plan.

The relaxation is tight (lots are small against AUM) but HiGHS finds integer plans slowly when
thousands of purchase lots are free: on the sample its root node alone outlasts a daily plan's
budget. :func:`rounded_start` therefore rounds the relaxation the way a manager would, in two
stages. First the decisions that move money between products or days: exposure slots to whole
slots within each day's budget, each product-day to *closed*, *capped* (quota = the
relaxation's sales, in whole lots) or *uncapped*, with open/closed runs stretched to the
minimum run length. Then, with those fixed, the purchases are re-optimised as amounts and
rounded: term purchases so that no term bucket ever holds more than that LP (the cash and
overnight repo the floors and the buffer rely on are never displaced), then the overnight repo,
which takes the money left, down to whole lots. Every integer choice respects the hard
constraints and the elastic slacks absorb the rest, so the result is always feasible;
:mod:`optimize.solve` accepts it when it is within the MIP gaps of the relaxation or hands it
to HiGHS as the first incumbent. :func:`all_open_start` is the fallback when the relaxation
itself fails.
"""

from __future__ import annotations

import highspy
import numpy as np

from optimize.decompose import (
    block_instance,
    run_by_product,
    sales_slacks,
    solve_fixed_by_product,
)
from optimize.exposure import exposure_slots
from optimize.highs import WarmLp, fix_columns, solve_arrays
from optimize.model import PlanModel
from optimize.settings import SolverSettings

__all__ = ["all_open_start", "fixed_integer_lp", "rounded_start"]

TOLERANCE = 1e-6


class _Fixer:
    """Collects (columns, values) to fix."""

    def __init__(self) -> None:
        self.columns: list[np.ndarray] = []
        self.values: list[np.ndarray] = []

    def fix(self, cols: np.ndarray, vals: np.ndarray | float) -> None:
        vals = np.broadcast_to(np.asarray(vals, dtype=float), cols.shape)
        present = cols >= 0
        self.columns.append(cols[present])
        self.values.append(vals[present])

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.columns), np.concatenate(self.values)


def fixed_integer_lp(
    plan: PlanModel, fixer: _Fixer, options: SolverSettings, warm: WarmLp | None = None
) -> np.ndarray | None:
    """Solve the LP left when the integers in ``fixer`` are fixed; None if it fails.

    Large plans are solved product by product (:func:`optimize.decompose.solve_fixed_by_product`),
    which is exact here because the exposure and quota decisions are always among the fixed.
    With ``warm`` (the relaxation's HiGHS instance) the LP starts from the basis of the LP
    solved before it instead of from scratch.
    """
    compiled = plan.compiled()
    columns, values = fixer.arrays()
    fixed = fix_columns(compiled, columns, values)
    if plan.parameters.n_products > options.decompose_above_products:
        x = solve_fixed_by_product(plan, fixed.col_lower, fixed.col_upper, options, options.workers)
        return None if x is None else np.clip(x, compiled.col_lower, compiled.col_upper)
    if warm is not None:
        lp = warm.solve(fixed.col_lower, fixed.col_upper)
    else:
        lp = solve_arrays(fixed, options, integer=False)
    if not lp.ok:
        return None
    return np.clip(lp.x, compiled.col_lower, compiled.col_upper)


def _min_runs(status: np.ndarray, today: np.ndarray, run: int) -> np.ndarray:
    """Open flags (P, H) with every switch held for ``run`` days (E9, E10)."""
    out = status.copy()
    previous = today.copy()
    locked = np.zeros(len(today), dtype=np.int64)
    for t in range(out.shape[1]):
        hold = locked > 0
        out[hold, t] = previous[hold]
        locked[hold] -= 1
        switched = ~hold & (out[:, t] != previous)
        locked[switched] = run - 1
        previous = out[:, t].copy()
    return out


def _fix_quota_and_exposure(
    plan: PlanModel, fixer: _Fixer, slots: np.ndarray, open_: np.ndarray, quota: np.ndarray
) -> None:
    """Fix exposure steps, open flags, quota lots and binds given whole slots, open flags and
    the quota wanted (model units, ``inf`` = uncapped) per (p, t)."""
    par, v = plan.parameters, plan.variables
    if par.max_slots:
        steps = np.arange(1, par.max_slots + 1)[None, None, :] <= slots[:, :, None]
        fixer.fix(v.exposure_step, steps.astype(float))
    mu = np.take_along_axis(par.multiplier, slots.astype(np.int64)[:, :, None], axis=2)[:, :, 0]
    demand = par.demand * mu
    lot = par.quota_lot[:, None]
    lots = np.where(np.isfinite(quota), np.floor(quota / lot + TOLERANCE), np.inf)
    lots = np.maximum(lots, 1.0)
    capped = open_ & (lots * lot < demand - TOLERANCE)
    top = np.broadcast_to(par.quota_max_lots[:, None], lots.shape)
    lots = np.where(capped, lots, top)
    lots = np.where(open_, lots, 0.0)
    fixer.fix(v.open, open_.astype(float))
    fixer.fix(v.quota_lots, lots)
    fixer.fix(v.quota_binds, np.where(open_ & ~capped, 0.0, 1.0))


def all_open_start(plan: PlanModel, options: SolverSettings) -> np.ndarray | None:
    """Subscriptions open and uncapped, exposure as near the baseline as the budget allows,
    nothing bought; the continuous part solved as an LP."""
    par, v = plan.parameters, plan.variables
    fixer = _Fixer()
    fixer.fix(v.purchase_lots, 0.0)
    wanted = np.asarray(par.inputs.baseline_exposure, dtype=float) / par.slot_size
    slots = exposure_slots(plan, np.where(par.slots[:, None] > 0, wanted, 0.0))
    shape = (par.n_products, par.horizon)
    _fix_quota_and_exposure(plan, fixer, slots, np.ones(shape, bool), np.full(shape, np.inf))
    return fixed_integer_lp(plan, fixer, options)


def _term_lots(par, lots: np.ndarray, k: int) -> np.ndarray:
    """Whole lots of term bucket ``k`` per (p, s), bought as near the relaxation as possible
    without the plan's outstanding principal ever exceeding the relaxation's.

    Rounding each day down would let the shortfall pile up over the horizon; buying, each
    day, the most whole lots that keep holdings at or below the relaxation's on every day the
    purchase is outstanding catches up with earlier rounding while never displacing the cash
    and overnight repo the floors and the buffer rely on.
    """
    h = par.horizon
    maturity = par.maturity[k]
    relaxed = lots[:, k, :]
    s_idx = np.arange(h)
    # outstanding[:, t] of the relaxation: purchases s <= t < maturity[s]
    alive = (s_idx[:, None] <= s_idx[None, :]) & (s_idx[None, :] < maturity[:, None])
    target = relaxed @ alive.astype(float)  # (P, H) lots outstanding
    rounded = np.zeros_like(relaxed)
    held = np.zeros_like(target)
    for s in range(h):
        if not par.workday[s]:
            continue
        window = alive[s]
        room = (target[:, window] - held[:, window]).min(axis=1)
        buy = np.maximum(np.floor(room + TOLERANCE), 0.0)
        rounded[:, s] = buy
        held[:, window] += buy[:, None]
    return rounded


def rounded_start(
    plan: PlanModel, relaxed: np.ndarray, options: SolverSettings, warm: WarmLp | None = None
) -> np.ndarray | None:
    """Round the LP relaxation ``relaxed`` (a column vector) to a feasible MILP plan.

    The yes/no decisions and exposure slots are rounded first (see the module docstring) and
    the purchases re-optimised as amounts under them; term purchases (tenor > 1 day) are then
    rounded so that the plan never holds more of a term bucket than that LP
    (:func:`_term_lots`), and the overnight bucket, which takes whatever money is left each
    day, is re-optimised once more and rounded down to whole lots.

    With ``warm``, the HiGHS instance that solved the relaxation, each of these LPs starts from
    the basis of the one before (:class:`optimize.highs.WarmLp`).

    Returns:
        The full column vector of the rounded plan, or None when an LP fails.
    """
    par, v = plan.parameters, plan.variables
    model = plan.model
    fixer = _Fixer()
    if par.max_slots:
        steps = np.nan_to_num(model.variables["exposure_step"].values(relaxed))
        slots = exposure_slots(plan, steps.sum(axis=2))
    else:
        slots = np.zeros((par.n_products, par.horizon))
    accepted = model.variables["accepted"].values(relaxed)
    demand = model.variables["demand"].values(relaxed)
    lot = par.quota_lot[:, None]
    uncapped = accepted >= demand * (1 - 1e-4) - TOLERANCE
    open_ = uncapped | (accepted >= 0.5 * lot)
    open_ = _min_runs(open_, par.open_today, par.settings.quota.min_run_days)
    quota = np.where(uncapped, np.inf, accepted)
    _fix_quota_and_exposure(plan, fixer, slots, open_, quota)
    if not par.settings.purchases.integer:
        return fixed_integer_lp(plan, fixer, options, warm)
    if plan.parameters.n_products > options.decompose_above_products:
        return _round_purchases_by_product(plan, fixer, options)
    # With the flows settled, the purchases are re-optimised as amounts and then rounded:
    # rounding them against the relaxation's flows would leave the floors short wherever the
    # rounded flows bring less money than the relaxation's.
    settled = fixed_integer_lp(plan, fixer, options, warm)
    if settled is None:
        return None
    lots = np.nan_to_num(model.variables["purchase_lots"].values(settled))
    overnight = [k for k, b in enumerate(par.buckets) if b.tenor_days <= 1]
    for k, b in enumerate(par.buckets):
        if b.tenor_days > 1:
            fixer.fix(v.purchase_lots[:, k, :], _term_lots(par, lots, k))
    if overnight:
        # The overnight lots stay free (continuous in this LP) and take the money left.
        partial = fixed_integer_lp(plan, fixer, options, warm)
        if partial is None:
            return None
        left = np.nan_to_num(model.variables["purchase_lots"].values(partial))
        fixer.fix(v.purchase_lots[:, overnight, :], np.floor(left[:, overnight, :] + TOLERANCE))
    return fixed_integer_lp(plan, fixer, options, warm)


def _round_purchases_by_product(
    plan: PlanModel, fixer: _Fixer, options: SolverSettings
) -> np.ndarray | None:
    """The purchase rounding of :func:`rounded_start`, one product at a time.

    With the exposure and quota decisions fixed in ``fixer`` the products no longer interact
    (see :func:`optimize.decompose.solve_fixed_by_product`), so each product's three LPs — the
    purchases as amounts, the overnight repo as amounts after the term lots are fixed, the
    final one — run on one HiGHS instance, each warm from the one before.
    """
    par, v = plan.parameters, plan.variables
    compiled = plan.compiled()
    columns, values = fixer.arrays()
    fixed = fix_columns(compiled, columns, values)
    blocks = plan.blocks()
    bases = plan.bases if plan.bases is not None else [None] * par.n_products
    term = [k for k, b in enumerate(par.buckets) if b.tenor_days > 1]
    overnight = [k for k, b in enumerate(par.buckets) if b.tenor_days <= 1]

    def one(i: int) -> tuple[np.ndarray | None, object]:
        cols = blocks.columns[i]
        h = block_instance(blocks.models[i], fixed.col_lower[cols], fixed.col_upper[cols], options)
        if bases[i] is not None:
            h.setBasis(bases[i])
        global_lots = v.purchase_lots[i]  # (K, H), -1 on days off
        present = global_lots >= 0
        local = np.full(global_lots.shape, -1, dtype=np.int64)
        local[present] = np.searchsorted(cols, global_lots[present])

        def solve() -> np.ndarray | None:
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            return np.asarray(h.getSolution().col_value, dtype=float)

        def fix(ks: list[int], rounded: np.ndarray) -> None:
            chosen = local[ks]
            keep = chosen >= 0
            ids = chosen[keep]
            h.changeColsBounds(len(ids), ids, rounded[keep], rounded[keep])

        x = solve()
        if x is None:
            return None, None
        lots = np.where(present, x[np.maximum(local, 0)], 0.0)[None]
        if term:
            fix(term, np.stack([_term_lots(par, lots, k)[0] for k in term]))
        if overnight:
            x = solve()
            if x is None:
                return None, None
            left = np.where(present, x[np.maximum(local, 0)], 0.0)
            fix(overnight, np.floor(left[overnight] + TOLERANCE))
        x = solve()
        return x, (h.getBasis() if x is not None else None)

    results = run_by_product(one, par.n_products, options.workers)
    if any(x is None for x, _ in results):
        return None
    plan.bases = [basis for _, basis in results]
    x = np.zeros(compiled.n_cols)
    for i, (local_x, _) in enumerate(results):
        x[blocks.columns[i]] = local_x
    sales_slacks(plan, x)
    return np.clip(x, compiled.col_lower, compiled.col_upper)
