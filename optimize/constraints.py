"""The constraint families of the plan, one small function per equation of docs/optimize.md.

Every function writes one family of rows into a :class:`~optimize.algebra.LinearModel` with
vectorised terms; the docstring carries the equation (E1..E24, E26..E29) as the documentation
states it.
Notation: a = accepted subscriptions, d = demand at the chosen exposure, D = forecast demand at
the baseline exposure, q = quota lots, o = open, b = quota binds, y_j = exposure step j,
x_k = purchase lots of bucket k, h_k = principal outstanding of the plan's purchases of bucket
k, c = cash, A = AUM, B = buffer, m = maturity-days, R = expected redemptions; a bar marks
today's portfolio (constants), ρ = rate / 36,500 (a day's income per unit at a rate in percent).
Day t − 1 of the first planned day is the as-of day, whose values are constants.
"""

from __future__ import annotations

import numpy as np

from optimize.algebra import LinearModel, RowBlock
from optimize.parameters import ModelParameters
from optimize.rate_path import add_vintage_income, add_vintage_income_terminal, outstanding_window
from optimize.variables import PlanVariables, borrowing_days, days_off_rows

__all__ = ["CONSTRAINT_FAMILIES", "add_constraints"]

PD = ("product", "day")
PKD = ("product", "bucket", "day")
DAILY = 36_500.0  # a rate in percent per annum earns rate / 36,500 per unit per day


def _previous(columns: np.ndarray) -> np.ndarray:
    """Columns of the day before along the last axis; -1 (a constant) on the first day."""
    out = np.full_like(columns, -1)
    out[..., 1:] = columns[..., :-1]
    return out


def _purchase_terms(
    par: ModelParameters, v: PlanVariables, block: RowBlock, sign: float, window: np.ndarray
) -> None:
    """Add ``sign × lot × x[p, k, s]`` to rows (p, t) for every (k, s, t) with
    ``window[k, s, t]`` true; the pattern is shared by all products."""
    p = par.n_products
    k_idx, s_idx, t_idx = np.nonzero(window)
    if len(k_idx) == 0:
        return
    products = np.repeat(np.arange(p), len(k_idx))
    days = np.tile(t_idx, p)
    cols = v.purchase_lots[products, np.tile(k_idx, p), np.tile(s_idx, p)]
    block.add_at((products, days), sign * par.purchase_lot[products], cols)


def _maturing_window(par: ModelParameters) -> np.ndarray:
    """(K, H, H): the purchase of bucket k on day s matures on day t."""
    k, h = len(par.buckets), par.horizon
    t = np.arange(h)
    return par.maturity[:, :, None] == t[None, None, :] if k else np.zeros((0, h, h), bool)


def _maturing_by(par: ModelParameters, until: np.ndarray) -> np.ndarray:
    """(K, H, H): the purchase of bucket k on day s is held at the end of day t and matures
    by day ``until[t]``."""
    return outstanding_window(par) & (par.maturity[:, :, None] <= until[None, None, :])


# ------------------------------------------------------------------ demand and exposure


def demand_response(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E1) d[p,t] = D[p,t] · (μ[p,t,0] + Σ_j (μ[p,t,j] − μ[p,t,j−1]) · y[p,t,j]).

    μ[p,t,j] = response(j slots) / response(baseline exposure of day t): demand under a new
    exposure is the forecast demand times the ratio of the response curve at the new and at the
    baseline exposure. The ordered steps y make the piecewise-linear curve exact at whole slots.
    """
    block = RowBlock((par.n_products, par.horizon)).add(1.0, v.demand)
    mu = par.multiplier
    for j in range(1, par.max_slots + 1):
        block.add(-par.demand * (mu[:, :, j] - mu[:, :, j - 1]), v.exposure_step[:, :, j - 1])
    m.add_constraints("demand_response", PD, block, "==", par.demand * mu[:, :, 0])


def exposure_order(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E2) y[p,t,j] ≤ y[p,t,j−1] for j ≥ 2: slots are taken in order."""
    s = par.max_slots
    if s < 2:
        return
    mask = v.exposure_step[:, :, 1:] >= 0
    block = RowBlock(mask.shape, mask)
    block.add(1.0, v.exposure_step[:, :, 1:]).add(-1.0, v.exposure_step[:, :, :-1])
    m.coords.setdefault("slot_pair", list(range(2, s + 1)))
    m.add_constraints("exposure_order", ("product", "day", "slot_pair"), block, "<=", 0.0)


def exposure_budget(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E3) Σ_p Σ_j y[p,t,j] ≤ budget[t]: the day's slots are shared by the products."""
    if par.max_slots == 0:
        return
    h = par.horizon
    block = RowBlock((h,))
    p_idx, t_idx, j_idx = np.nonzero(v.exposure_step >= 0)
    block.add_at((t_idx,), 1.0, v.exposure_step[p_idx, t_idx, j_idx])
    m.add_constraints("exposure_budget", ("day",), block, "<=", par.budget.astype(float))


# ------------------------------------------------------------------------------- quota


def accept_within_demand(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E4) a[p,t] ≤ d[p,t]: a product cannot sell more than is asked for."""
    block = RowBlock((par.n_products, par.horizon)).add(1.0, v.accepted).add(-1.0, v.demand)
    m.add_constraints("accept_within_demand", PD, block, "<=", 0.0)


def accept_within_quota(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E5) a[p,t] ≤ lot_q[p] · q[p,t]: nor more than the quota."""
    block = RowBlock((par.n_products, par.horizon)).add(1.0, v.accepted)
    block.add(-par.quota_lot[:, None], v.quota_lots)
    m.add_constraints("accept_within_quota", PD, block, "<=", 0.0)


def quota_when_open(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E6) o[p,t] ≤ q[p,t] ≤ Q[p] · o[p,t]: a closed product has a quota of 0, an open one
    at least one lot (Q: largest useful quota in lots), so "open with a quota of 0" cannot
    dodge the minimum run length."""
    shape = (par.n_products, par.horizon)
    upper = RowBlock(shape).add(1.0, v.quota_lots).add(-par.quota_max_lots[:, None], v.open)
    m.add_constraints("quota_when_open", PD, upper, "<=", 0.0)
    lower = RowBlock(shape).add(1.0, v.quota_lots).add(-1.0, v.open)
    m.add_constraints("quota_at_least_a_lot", PD, lower, ">=", 0.0)


def quota_fills(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E7) a[p,t] ≥ lot_q[p] · q[p,t] − lot_q[p] · Q[p] · (1 − b[p,t]): when the quota binds
    (b = 1) the product sells exactly its quota."""
    big = par.quota_lot * par.quota_max_lots
    block = RowBlock((par.n_products, par.horizon)).add(1.0, v.accepted)
    block.add(-par.quota_lot[:, None], v.quota_lots).add(-big[:, None], v.quota_binds)
    m.add_constraints("quota_fills", PD, block, ">=", -big[:, None])


def demand_met_unless_capped(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E8) a[p,t] ≥ d[p,t] − D̂[p,t] · b[p,t]: unless the quota binds, all demand is accepted
    (D̂: demand at the largest exposure). With (E4)–(E7), a = min(d, quota): the plan never
    refuses money it has not capped."""
    block = RowBlock((par.n_products, par.horizon)).add(1.0, v.accepted).add(-1.0, v.demand)
    block.add(par.demand_max, v.quota_binds)
    m.add_constraints("demand_met_unless_capped", PD, block, ">=", 0.0)


def _run_rows(par: ModelParameters) -> tuple[np.ndarray, np.ndarray]:
    """Lags 1..L−1 and the mask of rows (lag, p, t) with t + lag inside the horizon."""
    lags = np.arange(1, par.settings.quota.min_run_days)
    h = par.horizon
    t = np.arange(h)
    mask = (t[None, :] + lags[:, None]) < h
    return lags, np.broadcast_to(mask[:, None, :], (len(lags), par.n_products, h))


def open_min_run(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E9) o[p,t] − o[p,t−1] ≤ o[p,t+ℓ] for ℓ = 1..L−1: once opened, subscriptions stay open
    at least L days (o[p,−1] is today's status; runs may end after the horizon)."""
    _min_run(m, par, v, "open_min_run", sign=1.0)


def closed_min_run(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E10) o[p,t−1] − o[p,t] ≤ 1 − o[p,t+ℓ] for ℓ = 1..L−1: once closed, subscriptions stay
    closed at least L days."""
    _min_run(m, par, v, "closed_min_run", sign=-1.0)


def _min_run(
    m: LinearModel, par: ModelParameters, v: PlanVariables, name: str, sign: float
) -> None:
    """E9 (``sign`` = 1) and E10 (``sign`` = −1) in one form:
    s·(o[t] − o[t−1]) − s·o[t+ℓ] ≤ (1 − s)/2, with today's status o[−1] moved to the right."""
    lags, mask = _run_rows(par)
    if len(lags) == 0:
        return
    m.coords.setdefault("lag", [int(x) for x in lags])
    block = RowBlock(mask.shape, mask)
    h = par.horizon
    for i, lag in enumerate(lags):
        later = np.full_like(v.open, -1)
        later[:, : h - lag] = v.open[:, lag:]
        rows = np.zeros(mask.shape, dtype=bool)
        rows[i] = True
        sel = np.where(rows, sign, 0.0)
        block.add(sel, v.open[None]).add(-sel, _previous(v.open)[None]).add(-sel, later[None])
    today = np.where(par.open_today, 1.0, 0.0)
    rhs = np.full(mask.shape, (1.0 - sign) / 2.0)
    rhs[:, :, 0] += sign * today[None, :]
    m.add_constraints(name, ("lag", "product", "day"), block, "<=", rhs)


# --------------------------------------------------------------------- money and assets


def holding_balance(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E11) h[p,k,t] = h[p,k,t−1] + lot[p] · x[p,k,t] − lot[p] · Σ_{s: mat[k,s] = t} x[p,k,s]:
    principal bought by the plan, rolled forward with its maturities (h[p,k,−1] = 0)."""
    p, k, h = par.n_products, len(par.buckets), par.horizon
    if k == 0:
        return
    block = RowBlock((p, k, h)).add(1.0, v.holding).add(-1.0, _previous(v.holding))
    block.add(-par.purchase_lot[:, None, None], v.purchase_lots)
    k_idx, s_idx, t_idx = np.nonzero(_maturing_window(par))
    products = np.repeat(np.arange(p), len(k_idx))
    kk, ss, tt = np.tile(k_idx, p), np.tile(s_idx, p), np.tile(t_idx, p)
    block.add_at((products, kk, tt), par.purchase_lot[products], v.purchase_lots[products, kk, ss])
    m.add_constraints("holding_balance", PKD, block, "==", 0.0)


def cash_balance(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E12) c[p,t] = (1 + ρ_c) c[p,t−1] + Σ_k ρ_k h[p,k,t−1] + Ī[p,t] / 36,500
    − φ[p] A[p,t−1] + a[p,t] − R[p,t] + M̄[p,t] + lot[p] Σ_k (Σ_{s: mat[k,s] = t} x[p,k,s]
    − x[p,k,t]) + u[p,t] + β[p,t] − (1 + ρ_β) β[p,t−1].

    Yesterday's cash and holdings earn a day's income (credited daily, NAV 1), fees φ = fee /
    36,500 are charged on yesterday's AUM, subscriptions come in, redemptions go out, maturities
    return principal, purchases pay it; repo borrowing β (E28) brings cash in and is repaid
    with a day's interest at today's overnight repo rate (ρ_β) or rolled; u ≥ 0 (overdraft) is
    the elastic slack: an early sale, heavily penalised.
    """
    p, h = par.n_products, par.horizon
    rho_cash = par.cash_rate_pct / DAILY
    phi = par.fee_pct / DAILY
    block = RowBlock((p, h)).add(1.0, v.cash).add(-(1.0 + rho_cash), _previous(v.cash))
    for k in range(len(par.buckets)):
        block.add(-par.rate_pct[k] / DAILY, _previous(v.holding[:, k, :]))
        block.add(par.purchase_lot[:, None], v.purchase_lots[:, k, :])
    block.add(phi[:, None], _previous(v.aum)).add(-1.0, v.accepted).add(-1.0, v.overdraft)
    rho_borrow = par.overnight_rate_pct / DAILY
    block.add(-1.0, v.borrowing).add(1.0 + rho_borrow, _previous(v.borrowing))
    _purchase_terms(par, v, block, -1.0, _maturing_window(par))
    add_vintage_income(par, v, block, np.full(p, -1.0 / DAILY))  # [market] forecast: r_k(s)
    rhs = -par.redemptions + par.held_maturing + par.held_income_pct / DAILY
    rhs[:, 0] += (1.0 + rho_cash) * par.cash0 - phi * par.aum0 - (1.0 + rho_borrow) * par.borrow0
    m.add_constraints("cash_balance", PD, block, "==", rhs)


def aum_definition(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E13) A[p,t] = c[p,t] + Σ_k h[p,k,t] + H̄[p,t] − β[p,t]: net assets at NAV 1 (repo
    borrowing is a liability)."""
    block = RowBlock((par.n_products, par.horizon)).add(1.0, v.aum).add(-1.0, v.cash)
    block.add(1.0, v.borrowing)
    for k in range(len(par.buckets)):
        block.add(-1.0, v.holding[:, k, :])
    m.add_constraints("aum_definition", PD, block, "==", par.held_outstanding)


def buffer_definition(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E14) B[p,t] = c[p,t] − β[p,t] + lot[p] Σ_k Σ_{s ≤ t < mat[k,s] ≤ W[t]} x[p,k,s]
    + L̄[p,t]: cash plus principal maturing within the liquid window W[t] (``liquid_workdays``
    working days after day t), less repo borrowing (E28): borrowed cash is owed back within
    the window, so it never counts towards the buffer or the floor (E15, E16)."""
    block = RowBlock((par.n_products, par.horizon)).add(1.0, v.buffer).add(-1.0, v.cash)
    block.add(1.0, v.borrowing)
    _purchase_terms(par, v, block, -1.0, _maturing_by(par, par.liquid_until))
    m.add_constraints("buffer_definition", PD, block, "==", par.held_liquid)


def buffer_covers_redemptions(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E15) B[p,t] + s_B[p,t] ≥ R^q[p,t]: the buffer covers the redemption quantile at the
    configured confidence (elastic: s_B ≥ 0 is penalised)."""
    block = RowBlock((par.n_products, par.horizon)).add(1.0, v.buffer).add(1.0, v.buffer_short)
    m.add_constraints("buffer_covers_redemptions", PD, block, ">=", par.required_buffer, soft=True)


def liquidity_floor(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E16) B[p,t] + s_L[p,t] ≥ λ[p] · A[p,t]: the regulatory floor of liquid assets
    (λ = 10 % unless products.csv overrides it)."""
    block = RowBlock((par.n_products, par.horizon)).add(1.0, v.buffer)
    block.add(-par.min_liquid_ratio[:, None], v.aum).add(1.0, v.liquidity_short)
    m.add_constraints("liquidity_floor", PD, block, ">=", 0.0, soft=True)


def cash_floor(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E17) c[p,t] − β[p,t] + Σ_{k cash-like} h[p,k,t] + C̄[p,t] + s_C[p,t] ≥ γ[p] · A[p,t]:
    the floor of cash-like assets (γ = 5 %), net of repo borrowing (E28); cash-like buckets
    are cash and overnight repo."""
    block = RowBlock((par.n_products, par.horizon)).add(1.0, v.cash).add(-1.0, v.borrowing)
    for k, b in enumerate(par.buckets):
        if b.cash_like:
            block.add(1.0, v.holding[:, k, :])
    block.add(-par.min_cash_ratio[:, None], v.aum).add(1.0, v.cash_short)
    m.add_constraints("cash_floor", PD, block, ">=", -par.held_cash_like, soft=True)


def maturity_days_balance(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E18) m[p,t] = m[p,t−1] + lot[p] Σ_k (mat[k,t] − t) x[p,k,t] − Σ_k h[p,k,t−1]:
    Σ principal × days to maturity of the plan's purchases; every day outstanding principal is
    one day nearer maturity (m[p,−1] = 0)."""
    p, h = par.n_products, par.horizon
    block = RowBlock((p, h)).add(1.0, v.maturity_days).add(-1.0, _previous(v.maturity_days))
    t = np.arange(h)
    for k in range(len(par.buckets)):
        days_left = (par.maturity[k] - t).astype(float)
        block.add(-par.purchase_lot[:, None] * days_left[None, :], v.purchase_lots[:, k, :])
        block.add(1.0, _previous(v.holding[:, k, :]))
    m.add_constraints("maturity_days_balance", PD, block, "==", 0.0)


def wam_limit(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E19) m[p,t] + m̄[p,t] − s_W[p,t] ≤ WAM[p] · A[p,t]: weighted average maturity at most
    120 days (or the products.csv ``max_wam_days``); cash counts as 0 days."""
    block = RowBlock((par.n_products, par.horizon)).add(1.0, v.maturity_days)
    block.add(-par.max_wam_days[:, None], v.aum).add(-1.0, v.wam_excess)
    m.add_constraints("wam_limit", PD, block, "<=", -par.held_maturity_days, soft=True)


# ------------------------------------------------------------------ targets and sales


def yield_tracking(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E20) κ[p] (ρ'_c c[p,t−1] + Σ_k r_k h[p,k,t−1] + Ī[p,t] − r_β β[p,t−1]
    − (fee[p] + Y*[p,t]) A[p,t−1]) = e⁺[p,t] − e⁻[p,t]: day t's net income (less the interest
    on last night's repo borrowing) less the target yield Y* on yesterday's AUM, in bp
    of the reference AUM (κ = 100 / reference AUM, rates in percent). This is
    "income − target × AUM", linear; e⁺ and e⁻ ≥ 0 split the deviation so that the objective
    prices its absolute value.
    """
    p, h = par.n_products, par.horizon
    kappa = (100.0 / par.aum_ref)[:, None]
    block = RowBlock((p, h)).add(kappa * par.cash_rate_pct, _previous(v.cash))
    for k in range(len(par.buckets)):
        block.add(kappa * par.rate_pct[k], _previous(v.holding[:, k, :]))
    block.add(-kappa * par.overnight_rate_pct, _previous(v.borrowing))
    block.add(-kappa * (par.fee_pct[:, None] + par.target_yield_pct), _previous(v.aum))
    add_vintage_income(par, v, block, kappa[:, 0])  # [market] forecast: r_k(s)
    block.add(-1.0, v.yield_above).add(1.0, v.yield_below)
    rhs = -kappa * par.held_income_pct
    rhs[:, 0] -= kappa[:, 0] * (
        par.cash_rate_pct * par.cash0
        - par.overnight_rate_pct * par.borrow0
        - (par.fee_pct + par.target_yield_pct[:, 0]) * par.aum0
    )
    m.add_constraints("yield_tracking", PD, block, "==", rhs)


def aum_band(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E21) A_lo[p] − o⁻[p,t] ≤ A[p,t] ≤ A_hi[p] + o⁺[p,t]: AUM within its band around the
    target AUM, the excursions o⁺, o⁻ ≥ 0 priced in the objective."""
    shape = (par.n_products, par.horizon)
    upper = RowBlock(shape).add(1.0, v.aum).add(-1.0, v.aum_over)
    m.add_constraints("aum_band_upper", PD, upper, "<=", par.band_upper[:, None])
    lower = RowBlock(shape).add(1.0, v.aum).add(1.0, v.aum_under)
    m.add_constraints("aum_band_lower", PD, lower, ">=", par.band_lower[:, None])


def sales_plan(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E22) Σ_{p ∈ channel(r)} Σ_{t ∈ period(r)} a[p,t] + s_S[r] ≥ need[r]: each channel
    raises what its sales plan requires within the horizon (elastic)."""
    r = len(par.sales_need)
    if r == 0:
        return
    block = RowBlock((r,))
    req, prod, day = np.nonzero(par.sales_products[:, :, None] & par.sales_days[:, None, :])
    block.add_at((req,), 1.0, v.accepted[prod, day])
    block.add(1.0, v.sales_short)
    m.add_constraints("sales_plan", ("sales",), block, ">=", par.sales_need, soft=True)


def terminal_yield(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E23) κ[p] (r_c c[p,H] + Σ_k r_k h[p,k,H] + Ī[p,H+1] − r_β β[p,H]
    − (fee[p] + Y*[p,H]) A[p,H])
    = e⁺_T[p] − e⁻_T[p]: the terminal condition. The closing positions of the last day earn
    the day after the horizon's income, which (E20) does not see; without this row the last
    day's purchases are judged by the income reward alone and the plan locks the highest rate
    (3-month NCDs) on the last day, its buffer collapsing and its WAM jumping. The row tracks
    that day's yield against the last target like any other day, priced with the same weights.
    """
    p, h = par.n_products, par.horizon
    kappa = 100.0 / par.aum_ref
    block = RowBlock((p,)).add(kappa * par.cash_rate_pct, v.cash[:, h - 1])
    for k in range(len(par.buckets)):
        block.add(kappa * par.rate_pct[k], v.holding[:, k, h - 1])
    block.add(-kappa * par.overnight_rate_pct, v.borrowing[:, h - 1])
    block.add(-kappa * (par.fee_pct + par.target_yield_pct[:, -1]), v.aum[:, h - 1])
    add_vintage_income_terminal(par, v, block, kappa)  # [market] forecast: r_k(s)
    block.add(-1.0, v.terminal_above).add(1.0, v.terminal_below)
    m.add_constraints(
        "terminal_yield", ("product",), block, "==", -kappa * par.held_income_terminal
    )


def days_off_cover(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E24) c[p,w] + M̄[p,(w,t]] + s_D[p,t] ≥ R^q[p,w+1..t] for every day off t after a
    working day w of the horizon (w = the last working day before t): nothing can be sold and
    nothing matures on days off, so the redemptions of a run of days off are paid from the cash
    held at the end of the working day before it. R^q[p,w+1..t] is the quantile at the
    confidence of the redemptions summed from w + 1 to t (sample paths; without them the sum
    of the daily quantiles). Elastic: s_D ≥ 0 is priced like the buffer's slack."""
    rows = days_off_rows(par)
    p, h = par.n_products, par.horizon
    mask = np.broadcast_to(rows[None, :], (p, h))
    block = RowBlock((p, h), mask)
    if not rows.any():
        return
    work = np.where(rows, par.days_off_last_workday, 0)
    block.add(np.where(mask, 1.0, 0.0), v.cash[:, work])
    block.add(1.0, v.days_off_short)
    rhs = par.days_off_need - par.days_off_held_maturing
    m.add_constraints("days_off_cover", PD, block, ">=", rhs, soft=True)


def maturity_ladder(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E26) c[p,t] − β[p,t] + lot[p] Σ_k Σ_{s ≤ t < mat[k,s] ≤ t + D} x[p,k,s] + L̄_D[p,t]
    + s_M[p,t] ≥ μ · A[p,t]: cash plus principal maturing within D = ``ladder_days`` (30)
    calendar days, net of repo borrowing (E28), is at least μ = ``min_ladder_ratio`` of AUM
    (elastic). The horizon sees two weeks of
    flows; a redemption wave that goes on for a month is paid from this ladder, which long
    assets (a 6-month NCD returns 1/182 of its ladder a day) would otherwise thin out."""
    block = RowBlock((par.n_products, par.horizon)).add(1.0, v.cash).add(-1.0, v.borrowing)
    block.add(-par.min_ladder_ratio[:, None], v.aum).add(1.0, v.ladder_short)
    _purchase_terms(par, v, block, 1.0, _maturing_by(par, par.ladder_until))
    m.add_constraints("maturity_ladder", PD, block, ">=", -par.held_ladder, soft=True)


def cumulative_needs_cover(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E27) c[p,0] + lot[p] Σ_k Σ_{mat[k,0] ≤ t} x[p,k,0] + Σ_{1 ≤ s ≤ t} M̄[p,s]
    + χ[t] Σ_{1 ≤ s < t} a[p,s] + s_N[p,t] ≥ N[p,t] for t = 1..H−1: what day 0 leaves in
    cash, what it buys that is back by day t and what today's book returns by then pay the
    cumulative needs N (:func:`optimize.parameters.cumulative_needs`: a quantile of the
    forecast's joint paths of redemptions less demand, at ``next_days_confidence`` through
    the next working day with a stress floor, at ``confidence`` after it), with the
    subscriptions the plan accepts credited where they settle in time (χ[p,t] = 0 on the days
    off right after day 0 that its cash alone pays: in defence, or all of them with
    ``liquidity.credit_days_off`` off). Only day 0's decisions are carried out, and no later
    plan can undo them, so this row, not the expected cash path (E12), is what keeps day 0 safe when
    the flows come out worse than their mean. Elastic: s_N ≥ 0 at the ``needs`` penalty."""
    p, h = par.n_products, par.horizon
    if h < 2:
        return
    rows = np.broadcast_to((np.arange(h) >= 1)[None, :], (p, h))
    block = RowBlock((p, h), rows)
    block.add(np.where(rows, 1.0, 0.0), v.cash[:, np.zeros(h, dtype=np.int64)])
    k = len(par.buckets)
    if k:
        t = np.arange(h)
        window = np.zeros((k, h, h), dtype=bool)
        window[:, 0, :] = par.maturity[:, 0][:, None] <= t[None, :]
        _purchase_terms(par, v, block, 1.0, window)
    # a[p,s] for 1 <= s < t, on the rows whose day credits subscriptions
    s_idx, t_idx = np.nonzero(np.triu(np.ones((h, h), dtype=bool), k=1))
    keep = s_idx >= 1
    s_idx, t_idx = s_idx[keep], t_idx[keep]
    products = np.repeat(np.arange(p), len(s_idx))
    s_all, t_all = np.tile(s_idx, p), np.tile(t_idx, p)
    credited = par.needs_credit[products, t_all]
    products, s_all, t_all = products[credited], s_all[credited], t_all[credited]
    block.add_at((products, t_all), 1.0, v.accepted[products, s_all])
    block.add(1.0, v.needs_short)
    maturing = np.cumsum(par.held_maturing, axis=1) - par.held_maturing[:, :1]
    m.add_constraints("cumulative_needs", PD, block, ">=", par.needs - maturing, soft=True)


def borrowing_limits(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E28) Pledged repo borrowing β: new borrowing only on the last working day before days
    off, within the leverage cap, β[p,t] ≤ (L − 1) · A[p,t] (total assets ≤ L × net assets,
    L = ``liquidity.max_leverage``, at most the regulatory 1.2); held through the days off
    (β[p,t] = β[p,t−1]: the interbank market is closed; on those before the horizon's first
    working day β is today's balance, a bound); only repaid on the other working days
    (β[p,t] ≤ β[p,t−1]). This is how a manager pays a weekend's redemptions in a run from
    cash the book cannot raise by Friday: borrowed on Friday, repaid from Monday, at the
    day's repo rate and the ``borrowing`` penalty, which make it dearer than any term carry
    and cheaper than any liquidity slack. Redemptions of a working day need no borrowing
    planned ahead: the world borrows for them as they come.
    """
    p, h = par.n_products, par.horizon
    if not par.borrowing_allowed and not par.borrow0.any():
        return
    new = np.broadcast_to(borrowing_days(par)[None, :], (p, h))
    if new.any():
        # elastic: borrowing the world took for redemptions may stand above the cap once net
        # assets have fallen, and a day without the cash to repay it must still have a plan
        cap = RowBlock((p, h), new).add(1.0, v.borrowing)
        cap.add(-(par.settings.liquidity.max_leverage - 1.0), v.aum).add(-1.0, v.leverage_excess)
        m.add_constraints("borrowing_cap", PD, cap, "<=", 0.0, soft=True)
    off = (~par.workday) & (np.arange(h) >= 1)
    if off.any():
        mask = np.broadcast_to(off[None, :], (p, h))
        held = RowBlock((p, h), mask).add(1.0, v.borrowing)
        held.add(-1.0, _previous(v.borrowing))
        m.add_constraints("borrowing_days_off", PD, held, "==", 0.0)
    # on the other working days borrowing is only repaid (new borrowing is for days off)
    repay = par.workday & ~borrowing_days(par) & (np.arange(h) >= 1)
    if repay.any():
        mask = np.broadcast_to(repay[None, :], (p, h))
        down = RowBlock((p, h), mask).add(1.0, v.borrowing)
        down.add(-1.0, _previous(v.borrowing))
        m.add_constraints("borrowing_repaid", PD, down, "<=", 0.0)


def shock_deviation(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """(E29) m[p,t] + m̄[p,t] − s_X[p,t] ≤ (δ · A[p,t] + G[p]) · 365 · 10,000 / σ: the
    shadow-price deviation a parallel rise of σ = ``liquidity.shock_bp`` would leave stays at or
    above −δ (δ = ``liquidity.max_shock_deviation_pct`` / 100). A lot with d days left loses
    about σ / 10,000 × d / 365 of its principal in such a rise, so the book loses σ / 10,000 ×
    (maturity-days) / 365, from today's gap G (market − amortised cost of today's book,
    :func:`rainmaker.shadow_price.holdings_deviation`; the plan's purchases start at par).
    Lengthening the book is what this measure polices (DOMAIN.md, shadow pricing): at δ = 0.25 %
    and σ = 100 bp it caps the book's WAM near 91 days plus what today's gap allows. Elastic:
    s_X ≥ 0 at ``penalties.deviation``."""
    limit = par.settings.liquidity.max_shock_deviation_pct / 100.0
    if limit <= 0:
        return
    days = par.shock_days_per_unit
    block = RowBlock((par.n_products, par.horizon)).add(1.0, v.maturity_days)
    block.add(-limit * days, v.aum).add(-1.0, v.deviation_excess)
    rhs = par.book_gap0[:, None] * days - par.held_maturity_days
    m.add_constraints("shock_deviation", PD, block, "<=", rhs, soft=True)


# Documentation order: (E1) .. (E24), then (E26)–(E29) (E25 is a term of the objective).
CONSTRAINT_FAMILIES = (
    demand_response,
    exposure_order,
    exposure_budget,
    accept_within_demand,
    accept_within_quota,
    quota_when_open,
    quota_fills,
    demand_met_unless_capped,
    open_min_run,
    closed_min_run,
    holding_balance,
    cash_balance,
    aum_definition,
    buffer_definition,
    buffer_covers_redemptions,
    liquidity_floor,
    cash_floor,
    maturity_days_balance,
    wam_limit,
    yield_tracking,
    aum_band,
    sales_plan,
    terminal_yield,
    days_off_cover,
    maturity_ladder,
    cumulative_needs_cover,
    borrowing_limits,
    shock_deviation,
)


def add_constraints(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """Write every constraint family (E1)–(E24), (E26)–(E29) into ``m``."""
    for family in CONSTRAINT_FAMILIES:
        family(m, par, v)
