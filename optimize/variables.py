"""The decision variables of the plan, declared over sparse index sets.

Indices: product p, day t (the H days after the as-of day), bucket k (the buckets the plan may
buy), exposure slot j (1..slots of the product), sales requirement r. Amounts are model units
(CNY / scale, see :mod:`optimize.parameters`). A variable exists only where it means something:
purchases on working days, exposure steps up to the product's slot count. See the table in
docs/optimize.md ("Variables") for every family and its unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimize.algebra import INF, LinearModel
from optimize.parameters import ModelParameters

__all__ = [
    "PlanVariables",
    "add_variables",
    "borrowing_bound",
    "borrowing_days",
    "days_off_rows",
]


@dataclass(frozen=True)
class PlanVariables:
    """Column arrays of every variable family (-1 where a variable does not exist).

    Shapes: (P, H) unless noted; ``purchase_lots`` and ``holding`` are (P, K, H),
    ``exposure_step`` is (P, H, S), ``sales_short`` is (R,), ``terminal_below`` and
    ``terminal_above`` are (P,); ``days_off_short`` exists on days off only.
    """

    accepted: np.ndarray
    demand: np.ndarray
    exposure_step: np.ndarray
    quota_lots: np.ndarray
    open: np.ndarray
    quota_binds: np.ndarray
    purchase_lots: np.ndarray
    holding: np.ndarray
    cash: np.ndarray
    aum: np.ndarray
    buffer: np.ndarray
    maturity_days: np.ndarray
    yield_below: np.ndarray
    yield_above: np.ndarray
    aum_over: np.ndarray
    aum_under: np.ndarray
    overdraft: np.ndarray
    buffer_short: np.ndarray
    liquidity_short: np.ndarray
    ladder_short: np.ndarray
    cash_short: np.ndarray
    wam_excess: np.ndarray
    sales_short: np.ndarray
    terminal_below: np.ndarray
    terminal_above: np.ndarray
    days_off_short: np.ndarray
    needs_short: np.ndarray
    borrowing: np.ndarray
    deviation_excess: np.ndarray
    leverage_excess: np.ndarray


def add_variables(model: LinearModel, par: ModelParameters) -> PlanVariables:
    """Declare every variable family of the plan in ``model`` (whose coords are set)."""
    p, h = par.n_products, par.horizon
    pd_ = ("product", "day")
    n_slots = par.max_slots
    slot_index = np.arange(1, n_slots + 1)
    step_mask = slot_index[None, None, :] <= par.slots[:, None, None]
    step_mask = np.broadcast_to(step_mask, (p, h, n_slots))
    # purchases on working days only, and only of the buckets the product may buy (defence)
    purchase_mask = par.workday[None, None, :] & par.bucket_allowed[:, :, None]
    lot_kind = "integer" if par.settings.purchases.integer else "continuous"
    off_mask = np.broadcast_to(days_off_rows(par)[None, :], (p, h))
    needs_mask = np.broadcast_to((np.arange(h) >= 1)[None, :], (p, h))
    add = model.add_variables
    return PlanVariables(
        accepted=add("accepted", pd_, unit="model CNY"),
        demand=add("demand", pd_, unit="model CNY"),
        exposure_step=add(
            "exposure_step", ("product", "day", "slot"), step_mask, kind="binary", unit="slot"
        ),
        quota_lots=add(
            "quota_lots", pd_, upper=par.quota_max_lots[:, None], kind="integer", unit="quota lot"
        ),
        open=add("open", pd_, kind="binary", unit="1 = subscriptions open"),
        quota_binds=add("quota_binds", pd_, kind="binary", unit="1 = the quota caps demand"),
        purchase_lots=add(
            "purchase_lots",
            ("product", "bucket", "day"),
            purchase_mask,
            upper=par.purchase_max_lots[:, None, None],
            kind=lot_kind,
            unit="purchase lot",
        ),
        holding=add("holding", ("product", "bucket", "day"), unit="model CNY"),
        cash=add("cash", pd_, unit="model CNY"),
        aum=add("aum", pd_, unit="model CNY"),
        # net of repo borrowing (E14), so below zero when borrowing exceeds the liquid assets
        buffer=add("buffer", pd_, lower=-INF, unit="model CNY"),
        maturity_days=add("maturity_days", pd_, unit="model CNY × days"),
        yield_below=add("yield_below", pd_, unit="bp of yield"),
        yield_above=add("yield_above", pd_, unit="bp of yield"),
        aum_over=add("aum_over", pd_, unit="model CNY"),
        aum_under=add("aum_under", pd_, unit="model CNY"),
        # an overdraft stands for a sale or borrowing that pays the day's outflows: never more
        # than the day's redemptions (and a day's fees), so that it cannot be bought as
        # liquidity for the days after (it added AUM and cash to every later liquidity row)
        overdraft=add("overdraft", pd_, upper=overdraft_bound(par), unit="model CNY"),
        buffer_short=add("buffer_short", pd_, unit="model CNY"),
        liquidity_short=add("liquidity_short", pd_, unit="model CNY"),
        ladder_short=add("ladder_short", pd_, unit="model CNY"),
        cash_short=add("cash_short", pd_, unit="model CNY"),
        wam_excess=add("wam_excess", pd_, upper=INF, unit="model CNY × days"),
        sales_short=add("sales_short", ("sales",), unit="model CNY"),
        terminal_below=add("terminal_below", ("product",), unit="bp of yield"),
        terminal_above=add("terminal_above", ("product",), unit="bp of yield"),
        days_off_short=add("days_off_short", pd_, off_mask, unit="model CNY"),
        needs_short=add("needs_short", pd_, needs_mask, unit="model CNY"),
        deviation_excess=add(
            "deviation_excess",
            pd_,
            None if par.settings.liquidity.max_shock_deviation_pct > 0 else np.zeros((p, h), bool),
            unit="model CNY × days",
        ),
        # borrowing above the leverage cap that cannot be repaid at once (net assets fell under
        # it after the world borrowed for redemptions): carried, at the overdraft's price
        leverage_excess=add("leverage_excess", pd_, unit="model CNY"),
        # pledged repo borrowing outstanding at the end of the day (E28): the market is closed
        # on days off, so today's balance is held over those right after the as-of day (later
        # days off carry the working day's balance, a row of E28)
        borrowing=add(
            "borrowing",
            pd_,
            lower=_borrowing_held(par),
            upper=borrowing_bound(par),
            unit="model CNY",
        ),
    )


def _borrowing_held(par: ModelParameters) -> np.ndarray:
    """(P, H) today's borrowing on the days off before the horizon's first working day (the
    market is closed: it can be neither repaid nor added to), 0 elsewhere."""
    p, h = par.n_products, par.horizon
    held = np.zeros((p, h))
    first_work = int(np.argmax(par.workday)) if par.workday.any() else h
    held[:, :first_work] = par.borrow0[:, None]
    return held


def borrowing_days(par: ModelParameters) -> np.ndarray:
    """(H,) the working days on which the plan may take new repo borrowing: the last working
    day before a run of days off within the horizon (the interbank market is closed over
    them, so their redemptions are paid from that day's cash, E24). On other working days
    borrowing can only be repaid (E28): redemptions on a working day are paid by borrowing in
    the world as they come, so borrowing ahead for them would only pay interest on idle cash
    (and window-dress the liquidity floors)."""
    days = np.zeros(par.horizon, dtype=bool)
    last = par.days_off_last_workday
    days[np.unique(last[last >= 0])] = True
    return days


def borrowing_bound(par: ModelParameters) -> np.ndarray:
    """(P, H) the most repo borrowing may be outstanding at the end of each day (model units):
    the leverage cap on the larger of the reference AUM and today's on the days new borrowing
    may be taken (:func:`borrowing_days`; E28 keeps the exact cap on the day's AUM) and the
    days off after them, today's borrowing elsewhere (it can only be repaid), 0 when
    borrowing is off."""
    p, h = par.n_products, par.horizon
    if not par.borrowing_allowed:
        return np.broadcast_to(par.borrow0[:, None], (p, h)).copy()
    cap = (par.settings.liquidity.max_leverage - 1.0) * np.maximum(par.aum_ref, par.aum0)
    cap = np.maximum(cap, par.borrow0)
    bound = np.broadcast_to(par.borrow0[:, None], (p, h)).copy()
    new = borrowing_days(par)
    after = np.cumsum(new) > 0  # a balance taken once may be carried through later days
    bound[:, after] = cap[:, None]
    return bound


# A day's fees are about 0.1 bp of AUM; this allowance lets the overdraft cover them on a day
# without redemptions.
OVERDRAFT_FEE_ALLOWANCE = 1e-4


def overdraft_bound(par: ModelParameters) -> np.ndarray:
    """(P, H) the most an overdraft may raise a day (model units): the day's redemptions and a
    day's fees, and on the first day also what today's cash is below zero (repo borrowing or
    redemptions owed, netted into it, must be repaid): a plan for the day always exists."""
    bound = par.redemptions + OVERDRAFT_FEE_ALLOWANCE * par.aum_ref[:, None]
    bound = bound.copy()
    bound[:, 0] += np.maximum(-np.asarray(par.cash0, dtype=float), 0.0)
    return bound


def days_off_rows(par: ModelParameters) -> np.ndarray:
    """(H,) the days off whose cash cover (E24) the plan can act on: those after a working
    day of the horizon (a run of days off right after the as-of day is paid from today's cash,
    a constant)."""
    return par.days_off_last_workday >= 0
