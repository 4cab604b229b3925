"""The objective of the plan: smooth yield, AUM in its band, little idle cash, little refused
demand, and elastic slacks priced high enough to be used only when nothing else works.

Every term is in *bp·day* of the product: one basis point of annualised yield (or of the
product's reference AUM, for amounts) for one day, so that products of any size weigh alike and
a weight of 1 means "as bad as one bp of yield for a day". The weights and penalties come from
``[weights]`` and ``[penalties]`` of the settings; docs/optimize.md ("Objective") lists the
terms, their units and why the defaults are what they are.
"""

from __future__ import annotations

import numpy as np

from optimize.algebra import LinearModel
from optimize.parameters import ModelParameters
from optimize.rate_path import add_vintage_income_reward
from optimize.variables import PlanVariables

__all__ = ["add_objective"]

BP = 10_000.0


def add_objective(m: LinearModel, par: ModelParameters, v: PlanVariables) -> None:
    """Write the objective (minimised) into ``m``.

    Terms per product p and day t, with κ = 100 / reference AUM (bp of yield per unit of
    income rate × amount) and κ' = 10,000 / reference AUM (bp of AUM per unit of amount):

    - ``yield_deviation`` × e⁻ + ``yield_overshoot`` × e⁺ (E20), and the same for the day
      after the horizon (E23);
    - − ``income`` × κ (r_c c[t] + Σ_k r_k h_k[t] − fee · A[t]): a small reward for the net
      income the day's closing positions earn the next day, so that ties go to the plan that
      earns more (including the day after the horizon);
    - − ``liquidity`` × κ' B[t]: a tie-break towards the more liquid of equally good plans;
    - ``aum_band`` × κ' (o⁺ + o⁻);
    - ``cash_drag`` × κ (r_repo_1d − r_cash) c[t]: the yield lost by idle cash;
    - ``refused_demand`` × κ' (d − a);
    - − ``term_value`` × κ Σ_k (r_k − r_repo_1d)⁺ L_k φ_t × lot × x[p,k,t] (E25): the carry a
      term purchase locks in to maturity, weighted by φ_t = (H − 1 − t) / (H − 1), the share of
      the horizon still ahead of the purchase day t = 0..H−1 (φ = 0 for H = 1);
    - ``borrowing`` × κ' β[t] (E28) for repo borrowing outstanding, on top of its interest
      (which E12 and E20 already charge);
    - ``deviation`` × κ' × σ / (365 × 10,000) × s_X (E29): the value a shock of σ bp would take
      beyond the deviation limit, in bp of AUM;
    - penalties × κ' × (u, s_B, s_L, s_C, s_M, s_N), the buffer's penalty × κ' × s_D (E24),
      ``wam`` × s_W / reference AUM (days of WAM), ``sales_plan`` × 10,000 × s_S / need
      (bp of the requirement).
    """
    w = par.settings.weights
    pen = par.settings.penalties
    kappa = (100.0 / par.aum_ref)[:, None]
    kappa_amount = (BP / par.aum_ref)[:, None]

    m.add_cost(w.yield_deviation, v.yield_below)
    # the overshoot's price by regime: in defence a yield that jumps as AUM leaves is no
    # reason to hold less of what pays the run
    overshoot = np.where(par.defence, w.yield_overshoot, w.yield_overshoot_calm)
    m.add_cost(overshoot[:, None], v.yield_above)
    # The day after the horizon (E23) weighs like any day within it.
    m.add_cost(w.yield_deviation, v.terminal_below)
    m.add_cost(overshoot, v.terminal_above)

    if w.income > 0:
        # The positions held at the end of day t earn day t + 1's income: the last day's
        # positions are valued by the day after the horizon, so that a purchase on the last
        # day is not indifferent between buckets.
        m.add_cost(-w.income * kappa * par.cash_rate_pct, v.cash)
        for k in range(len(par.buckets)):
            m.add_cost(-w.income * kappa * par.rate_pct[k], v.holding[:, k, :])
        m.add_cost(w.income * kappa * par.fee_pct[:, None], v.aum)
        m.add_cost(w.income * kappa * par.overnight_rate_pct, v.borrowing)
        # [market] forecast: each purchase earns its own day's rate
        add_vintage_income_reward(m, par, v, -w.income * kappa[:, 0])
    if w.liquidity > 0:
        m.add_cost(-w.liquidity * kappa_amount, v.buffer)

    m.add_cost(w.aum_band * kappa_amount, v.aum_over)
    m.add_cost(w.aum_band * kappa_amount, v.aum_under)

    drag = max(par.overnight_rate_pct - par.cash_rate_pct, 0.0)
    if drag > 0 and w.cash_drag > 0:
        m.add_cost(w.cash_drag * kappa * drag, v.cash)

    if w.term_value > 0:
        _add_term_value(m, par, v, w.term_value, kappa)

    m.add_cost(w.refused_demand * kappa_amount, v.demand)
    m.add_cost(-w.refused_demand * kappa_amount, v.accepted)

    m.add_cost(pen.overdraft * kappa_amount, v.overdraft)
    m.add_cost(pen.borrowing * kappa_amount, v.borrowing)
    m.add_cost(pen.overdraft * kappa_amount, v.leverage_excess)
    # s_X is in maturity-days: / (365 × 10,000 / shock) turns it into value lost, then bp of AUM
    m.add_cost(pen.deviation * kappa_amount / par.shock_days_per_unit, v.deviation_excess)
    m.add_cost(pen.buffer * kappa_amount, v.buffer_short)
    m.add_cost(pen.buffer * kappa_amount, v.days_off_short)
    # A CNY short on one day of the cumulative needs (E27) is short on every later day too: the
    # price is spread over the H - 1 rows, so that a shortfall that lasts costs ``needs`` per bp,
    # less than an overdraft (else the plan "sells" today's book to cover a tail it may never
    # meet, as it did for a product eight weeks old: CNY 5.1 bn of overdraft on 1.7 bn of AUM).
    rows = max(par.horizon - 1, 1)
    m.add_cost(pen.needs / rows * kappa_amount, v.needs_short)
    m.add_cost(pen.liquidity_floor * kappa_amount, v.liquidity_short)
    m.add_cost(pen.ladder * kappa_amount, v.ladder_short)
    m.add_cost(pen.cash_floor * kappa_amount, v.cash_short)
    m.add_cost(pen.wam * (1.0 / par.aum_ref)[:, None], v.wam_excess)
    if len(par.sales_need):
        m.add_cost(pen.sales_plan * BP / np.maximum(par.sales_need, 1e-12), v.sales_short)


def _add_term_value(
    m: LinearModel, par: ModelParameters, v: PlanVariables, weight: float, kappa: np.ndarray
) -> None:
    """(E25) Reward each term purchase for the carry it locks in over its whole life.

    Within the horizon a 3-month NCD is worth only a few days of carry, and with the target path
    starting at today's yield the overshoot weight makes that carry a cost; what it earns after
    the horizon counted for nothing, so plans rolled maturing money overnight. The reward is the
    carry over overnight repo to maturity, (r_k − r_repo_1d)⁺ × L_k bp·day per unit of yield
    weight, against the overnight rate of the bucket's own span back (``carry_reference_pct``:
    the mean over the last L_k days, at least a month), not today's: a position rolled
    overnight earns the rates of the coming months, and in a spike of the overnight rate a plan
    that measured carry against the spike (or its last month) bought nothing term and let its
    yield follow the spike up and down (rates2013 scenario: relative_vol 56 bp against
    ``none``'s 30 with today's rate; 42 against 30 with the last month's). Only the plan's
    first day is carried out (the policy re-plans daily), so a purchase put off is a purchase
    never made: φ_t, the share of the horizon still ahead of the purchase day, makes buying
    earlier never worth less than later, and the last day gain nothing (a purchase there
    serves no day of the plan, the next plan decides it).
    """
    h = par.horizon
    overnight = par.inputs.overnight_reference_pct
    if overnight is None:
        overnight = par.overnight_rate_pct
    references = par.inputs.carry_reference_pct or {}
    if h <= 1:
        return
    share_left = (h - 1 - np.arange(h, dtype=float)) / (h - 1)
    for k, b in enumerate(par.buckets):
        # the carry of a purchase on day s at that day's rate (today's without a market forecast)
        spread = np.maximum(par.purchase_rate_pct[k] - references.get(b.name, overnight), 0.0)
        if b.tenor_days <= 1 or not spread.any():
            continue
        coef = weight * kappa * spread * b.tenor_days * par.purchase_lot[:, None] * share_left
        m.add_cost(-coef, v.purchase_lots[:, k, :])
