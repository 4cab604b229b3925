"""Large plans, product by product: the LP relaxation decomposed over products.

Products are coupled by two things only: each day's marketing exposure budget (E3) and the
channel sales requirements (E22). Everything else — money, assets, quotas, yields — is one
product's own. HiGHS's simplex slows down more than linearly with the size of an LP (about
9 s for the relaxation of 100 products × 30 days, where one product takes 15 ms), so above
``solver.decompose_above_products`` products the relaxation is solved as one small LP per
product, in two passes:

1. every product gets, each day, the exposure slots of its baseline exposure (rounded, within
   the day's budget) and a share of its channel's sales requirement pro rata to its forecast
   demand over the period; the product LPs are solved and the dual of each product-day's
   demand equation (E1) gives the marginal value of demand there;
2. each day's budget is re-allocated to the slots worth most at those marginal values — one
   slot step j of product p is worth ``−dual × D × (μ_j − μ_{j−1})``, and the response curve
   being concave the steps of a product come in order — and the product LPs are solved again
   (warm-started from pass 1) with the new caps.

The caps and shares make every product's solution respect the coupling constraints, so the
assembled vector is a feasible point of the full relaxation; :mod:`optimize.rounding` then
turns it into a MILP plan on the full model. The price: exposure is re-allocated once on
first-order values, and a channel's products cannot trade their shares of a requirement; the
gap reported is measured against this decomposed relaxation, not the full one.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import highspy
import numpy as np

from optimize.algebra import CompiledModel
from optimize.exposure import exposure_slots
from optimize.highs import highs_instance, pass_model
from optimize.model import PlanModel
from optimize.settings import SolverSettings

__all__ = [
    "DecomposedRelaxation",
    "block_instance",
    "relax_by_product",
    "run_by_product",
    "sales_slacks",
    "solve_fixed_by_product",
]

BP = 10_000.0


@dataclass(frozen=True)
class DecomposedRelaxation:
    """The relaxation solved product by product.

    Attributes:
        x: full column vector (coupling slacks computed from the products' sales).
        objective: objective of ``x`` in the full model.
        caps: exposure slots allowed per product and day in pass 2 (P, H).
        ok: every product LP was solved.
        seconds: wall-clock time.
    """

    x: np.ndarray
    objective: float
    caps: np.ndarray
    ok: bool
    seconds: float


def _sales_shares(plan: PlanModel) -> np.ndarray:
    """Each product's share of each sales requirement (R, P), pro rata to forecast demand."""
    par = plan.parameters
    weight = par.sales_products[:, :, None] * par.sales_days[:, None, :] * par.demand[None]
    total = weight.sum(axis=(1, 2))
    per_product = weight.sum(axis=2)
    share = np.divide(
        per_product, total[:, None], out=np.zeros_like(per_product), where=total[:, None] > 0
    )
    return share * par.sales_need[:, None]


def _with_sales_rows(
    plan: PlanModel, block: CompiledModel, columns: np.ndarray, product: int, shares: np.ndarray
) -> CompiledModel:
    """Append the product's share of each requirement as a local elastic row (E22 per product)."""
    par, v = plan.parameters, plan.variables
    need = shares[:, product]
    active = np.flatnonzero(need > 0)
    if len(active) == 0:
        return block
    local = np.full(plan.compiled().n_cols, -1, dtype=np.int64)
    local[columns] = np.arange(len(columns))
    n_cols, n_rows = block.n_cols, block.n_rows
    # existing columns gain entries in the new rows; new slack columns get one entry each
    extra_rows, extra_cols = [], []
    for i, r in enumerate(active):
        days = np.flatnonzero(par.sales_days[r])
        extra_cols.append(local[v.accepted[product, days]])
        extra_rows.append(np.full(len(days), n_rows + i))
    add_col = np.concatenate(extra_cols)
    add_row = np.concatenate(extra_rows)
    slack_cols = n_cols + np.arange(len(active))
    all_col = np.concatenate(
        [np.repeat(np.arange(n_cols), np.diff(block.col_start)), add_col, slack_cols]
    )
    all_row = np.concatenate([block.row_index, add_row, n_rows + np.arange(len(active))])
    all_val = np.concatenate([block.value, np.ones(len(add_col)), np.ones(len(active))])
    order = np.lexsort((all_row, all_col))
    total_cols = n_cols + len(active)
    start = np.zeros(total_cols + 1, dtype=np.int64)
    np.cumsum(np.bincount(all_col, minlength=total_cols), out=start[1:])
    price = par.settings.penalties.sales_plan * BP / np.maximum(par.sales_need[active], 1e-12)
    return CompiledModel(
        cost=np.concatenate([block.cost, price]),
        offset=0.0,
        col_start=start,
        row_index=all_row[order],
        value=all_val[order],
        row_lower=np.concatenate([block.row_lower, need[active]]),
        row_upper=np.concatenate([block.row_upper, np.full(len(active), np.inf)]),
        col_lower=np.concatenate([block.col_lower, np.zeros(len(active))]),
        col_upper=np.concatenate([block.col_upper, np.full(len(active), np.inf)]),
        integrality=np.zeros(total_cols, dtype=bool),
    )


def _cap_bounds(plan: PlanModel, columns: np.ndarray, product: int, caps: np.ndarray):
    """Local column ids of the product's exposure steps and their upper bounds under caps."""
    par, v = plan.parameters, plan.variables
    steps = v.exposure_step[product]  # (H, S)
    present = steps >= 0
    if not present.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    j = np.broadcast_to(np.arange(1, par.max_slots + 1)[None, :], steps.shape)
    upper = (j <= caps[product][:, None]).astype(float)
    local = np.searchsorted(columns, steps[present])
    return local.astype(np.int64), upper[present]


def with_bounds(
    block: CompiledModel, col_lower: np.ndarray, col_upper: np.ndarray
) -> CompiledModel:
    """One product's block with other column bounds and no objective offset."""
    return replace(block, offset=0.0, col_lower=col_lower, col_upper=col_upper)


def block_instance(
    block: CompiledModel, col_lower: np.ndarray, col_upper: np.ndarray, options: SolverSettings
) -> highspy.Highs:
    """A HiGHS instance holding one product's LP with the bounds given."""
    model = with_bounds(block, col_lower, col_upper)
    h = highs_instance(options, mip=False)
    pass_model(h, model, integer=False)
    return h


def run_by_product(one, n: int, workers: int) -> list:
    """``[one(i) for i in range(n)]``, on ``workers`` threads when more than one (HiGHS
    releases the interpreter while it solves; the order of the results does not change)."""
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(one, range(n)))
    return [one(i) for i in range(n)]


def _solve_block(
    model: CompiledModel, options: SolverSettings, basis: highspy.HighsBasis | None
) -> tuple[np.ndarray | None, np.ndarray | None, highspy.HighsBasis | None]:
    h = highs_instance(options, mip=False)
    pass_model(h, model, integer=False)
    if basis is not None:
        h.setBasis(basis)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None, None, None
    solution = h.getSolution()
    return (
        np.asarray(solution.col_value, dtype=float),
        np.asarray(solution.row_dual, dtype=float),
        h.getBasis(),
    )


def _template_bases(models: list[CompiledModel], run_one) -> list:
    """A starting basis for every product: products whose LPs have the same shape (same slot
    count, same sales rows) share a structure, so the optimal basis of the first of them is a
    good start for the others (three to four times fewer simplex iterations than a cold start).
    The first product of each shape is solved cold, in index order, so the result does not
    depend on how many threads solve the rest."""
    first: dict[tuple[int, int], int] = {}
    for i, model in enumerate(models):
        first.setdefault((model.n_cols, model.n_rows), i)
    templates = {shape: run_one(i) for shape, i in sorted(first.items(), key=lambda kv: kv[1])}
    return [
        None if first[(m.n_cols, m.n_rows)] == i else templates[(m.n_cols, m.n_rows)]
        for i, m in enumerate(models)
    ]


def _strip(basis: highspy.HighsBasis | None, n_cols: int, n_rows: int):
    """A product's basis without the local sales rows and slacks appended for the relaxation
    (HiGHS checks it and solves from scratch if it no longer fits)."""
    if basis is None:
        return None
    out = highspy.HighsBasis()
    out.col_status = list(basis.col_status)[:n_cols]
    out.row_status = list(basis.row_status)[:n_rows]
    out.valid = True
    return out


def _baseline_caps(plan: PlanModel) -> np.ndarray:
    """Slots per product-day near the baseline exposure, within each day's budget."""
    par = plan.parameters
    wanted = np.asarray(par.inputs.baseline_exposure, dtype=float) / par.slot_size
    return exposure_slots(plan, np.where(par.slots[:, None] > 0, wanted, 0.0))


def _reallocate(plan: PlanModel, demand_dual: np.ndarray) -> np.ndarray:
    """Each day's budget given to the slot steps worth most at the marginal values of pass 1."""
    par = plan.parameters
    p, h, s = par.n_products, par.horizon, par.max_slots
    caps = np.zeros((p, h))
    if s == 0:
        return caps
    mu = par.multiplier
    step_value = -demand_dual[:, :, None] * par.demand[:, :, None] * (mu[:, :, 1:] - mu[:, :, :-1])
    allowed = np.arange(1, s + 1)[None, None, :] <= par.slots[:, None, None]
    step_value = np.where(allowed, step_value, -np.inf)
    for t in range(h):
        values = step_value[:, t, :].ravel()
        order = np.argsort(-values, kind="stable")
        take = order[: int(par.budget[t])]
        take = take[values[take] > 0]
        products = take // s
        caps[:, t] = np.bincount(products, minlength=p)
    return caps


def relax_by_product(
    plan: PlanModel, options: SolverSettings, workers: int = 1
) -> DecomposedRelaxation:
    """Solve the LP relaxation product by product in two passes (see the module docstring).

    Args:
        plan: the built model (its compiled arrays are cut into product blocks).
        options: solver settings (each product LP uses them).
        workers: threads solving product LPs side by side (results do not depend on it).
    """
    began = time.perf_counter()
    par = plan.parameters
    compiled = plan.compiled()
    blocks = plan.blocks()
    shares = _sales_shares(plan)
    models = [
        _with_sales_rows(plan, blocks.models[i], blocks.columns[i], i, shares)
        for i in range(par.n_products)
    ]
    demand_rows = plan.model.constraints["demand_response"].rows

    def capped(i: int, caps: np.ndarray) -> CompiledModel:
        local, upper = _cap_bounds(plan, blocks.columns[i], i, caps)
        model = models[i]
        if not len(local):
            return model
        col_upper = model.col_upper.copy()
        col_upper[local] = upper
        return CompiledModel(
            model.cost,
            model.offset,
            model.col_start,
            model.row_index,
            model.value,
            model.row_lower,
            model.row_upper,
            model.col_lower,
            col_upper,
            model.integrality,
        )

    def run_single(i: int, caps: np.ndarray):
        return _solve_block(capped(i, caps), options, None)[2]

    def run(caps: np.ndarray, bases: list) -> tuple[list, list, list]:
        def one(i: int):
            return _solve_block(capped(i, caps), options, bases[i])

        results = run_by_product(one, par.n_products, workers)
        return [r[0] for r in results], [r[1] for r in results], [r[2] for r in results]

    caps = _baseline_caps(plan)
    xs, duals, bases = run(caps, _template_bases(models, run_one=lambda i: run_single(i, caps)))
    ok = all(x is not None for x in xs)
    if ok and par.max_slots:
        demand_dual = np.zeros((par.n_products, par.horizon))
        for i in range(par.n_products):
            local_rows = np.searchsorted(blocks.rows[i], demand_rows[i])
            demand_dual[i] = duals[i][local_rows]
        caps = _reallocate(plan, demand_dual)
        xs, duals, bases = run(caps, bases)
        ok = all(x is not None for x in xs)
    x = np.zeros(compiled.n_cols)
    if ok:
        for i in range(par.n_products):
            x[blocks.columns[i]] = xs[i][: len(blocks.columns[i])]
        sales_slacks(plan, x)
        plan.bases = [
            _strip(basis, len(blocks.columns[i]), len(blocks.rows[i]))
            for i, basis in enumerate(bases)
        ]
    objective = float(compiled.cost @ x + compiled.offset) if ok else float("nan")
    return DecomposedRelaxation(x, objective, caps, ok, time.perf_counter() - began)


def sales_slacks(plan: PlanModel, x: np.ndarray) -> None:
    """Set the coupling slack of every sales requirement from the products' sales in ``x``."""
    par, v = plan.parameters, plan.variables
    accepted = plan.model.variables["accepted"].values(x)
    for r in range(len(par.sales_need)):
        raised = accepted[par.sales_products[r]][:, par.sales_days[r]].sum()
        x[v.sales_short[r]] = max(par.sales_need[r] - raised, 0.0)


def solve_fixed_by_product(
    plan: PlanModel,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    options: SolverSettings,
    workers: int = 1,
) -> np.ndarray | None:
    """Solve the LP left when the exposure, quota and open decisions are fixed (in the bounds
    given), one product at a time.

    With those decisions fixed every product's sales are fixed too (all demand, or exactly
    the quota), so the coupling rows no longer couple: the exposure budget holds by the fixed
    slots and each sales requirement only sets its own slack. Solving product by product is
    then exact, and much faster than one LP for large plans.

    Returns:
        The full column vector, or None when a product's LP fails.
    """
    blocks = plan.blocks()
    n = plan.parameters.n_products
    bases = plan.bases if plan.bases is not None else [None] * n

    def one(i: int):
        cols = blocks.columns[i]
        block = blocks.models[i]
        model = with_bounds(block, col_lower[cols], col_upper[cols])
        x, _, basis = _solve_block(model, options, bases[i])
        return x, basis

    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(one, range(n)))
    else:
        results = [one(i) for i in range(n)]
    if any(r[0] is None for r in results):
        return None
    plan.bases = [r[1] for r in results]
    x = np.zeros(plan.compiled().n_cols)
    for i, (local, _) in enumerate(results):
        x[blocks.columns[i]] = local
    sales_slacks(plan, x)
    return x
