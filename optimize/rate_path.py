"""Purchases priced at the rate of their own day (``[market] forecast``, docs/optimize.md
"Market forecast").

The model's income rows (E12, E20, E23) and the income reward price the plan's holding of a
bucket at one rate r_k, today's. With a market forecast a purchase of bucket k on planned day s
earns r_k(s), the forecast's median rate of that day, to its maturity. A holding is the sum of
the purchases still outstanding, so its income is Σ_s lot · x[k,s] · r_k(s) over them: today's
rows plus, for every purchase outstanding at the end of day t, lot · x[k,s] · (r_k(s) − r_k).
This module adds those corrections; where every r_k(s) equals r_k (no forecast, or a flat one)
it adds nothing, and the model is exactly the one priced at today's rates.
"""

from __future__ import annotations

import numpy as np

from optimize.algebra import LinearModel, RowBlock
from optimize.parameters import ModelParameters
from optimize.variables import PlanVariables

__all__ = [
    "add_vintage_income",
    "add_vintage_income_reward",
    "add_vintage_income_terminal",
    "outstanding_window",
    "rate_difference",
    "vintage_income_pct",
]


def rate_difference(par: ModelParameters) -> np.ndarray:
    """r_k(s) − r_k: each day's purchase rate less today's, percent p.a. (K, H)."""
    return par.purchase_rate_pct - par.rate_pct[:, None]


def outstanding_window(par: ModelParameters) -> np.ndarray:
    """(K, H, H): the purchase of bucket k on day s is outstanding at the end of day t
    (s ≤ t < its maturity day)."""
    h = par.horizon
    s = np.arange(h)[None, :, None]
    t = np.arange(h)[None, None, :]
    return (s <= t) & (t < par.maturity[:, :, None])


def _entries(par: ModelParameters, window: np.ndarray) -> tuple[np.ndarray, ...]:
    """(k, s, t) of the purchases outstanding in ``window`` whose rate differs from today's."""
    delta = rate_difference(par)
    return np.nonzero(window & (delta[:, :, None] != 0))


def add_vintage_income(
    par: ModelParameters, v: PlanVariables, block: RowBlock, coefficient: np.ndarray
) -> None:
    """Add ``coefficient[p] × lot[p] × (r_k(s) − r_k) × x[p,k,s]`` to the rows (p, t) of a
    (P, H) block for every purchase outstanding at the end of day t − 1: day t's income of
    yesterday's holdings (E12, E20).

    Args:
        par, v: the parameters and variables.
        block: a (P, H) row block.
        coefficient: (P,), what multiplies a rate in percent × an amount in the row.
    """
    h = par.horizon
    if h < 2:
        return
    terms = _vintage_terms(par, v, outstanding_window(par)[:, :, : h - 1], coefficient)
    if terms is not None:
        products, days, coef, columns = terms
        block.add_at((products, days + 1), coef, columns)


def add_vintage_income_terminal(
    par: ModelParameters, v: PlanVariables, block: RowBlock, coefficient: np.ndarray
) -> None:
    """The same for a (P,) block of the day after the horizon (E23): purchases outstanding at
    the end of the last day."""
    h = par.horizon
    terms = _vintage_terms(par, v, outstanding_window(par)[:, :, h - 1 : h], coefficient)
    if terms is not None:
        products, _, coef, columns = terms
        block.add_at((products,), coef, columns)


def _vintage_terms(
    par: ModelParameters, v: PlanVariables, window: np.ndarray, coefficient: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Every product's entries of ``window`` (K, H, days): the product, the window's day, the
    coefficient (``coefficient`` × lot × the purchase's rate difference) and the purchase's
    column; None when the window holds no purchase."""
    k_idx, s_idx, t_idx = _entries(par, window)
    if len(k_idx) == 0:
        return None
    p = par.n_products
    delta = rate_difference(par)[k_idx, s_idx]
    products = np.repeat(np.arange(p), len(k_idx))
    kk, ss = np.tile(k_idx, p), np.tile(s_idx, p)
    coef = np.asarray(coefficient, dtype=float)[products] * par.purchase_lot[products]
    return products, np.tile(t_idx, p), coef * np.tile(delta, p), v.purchase_lots[products, kk, ss]


def add_vintage_income_reward(
    m: LinearModel, par: ModelParameters, v: PlanVariables, coefficient: np.ndarray
) -> None:
    """Add ``coefficient[p] × lot[p] × (r_k(s) − r_k) × (days outstanding at a day's end
    within the horizon) × x[p,k,s]`` to the objective: the income reward's correction (the
    closing positions of every day, each earning the next day's income)."""
    delta = rate_difference(par)
    if not delta.any():
        return
    days = outstanding_window(par).sum(axis=2)  # (K, H)
    coef = (
        np.asarray(coefficient, dtype=float)[:, None, None]
        * par.purchase_lot[:, None, None]
        * (delta * days)[None, :, :]
    )
    m.add_cost(coef, v.purchase_lots)


def vintage_income_pct(par: ModelParameters, purchases: np.ndarray) -> np.ndarray:
    """Σ over purchases outstanding at the end of day t − 1 of amount × (r_k(s) − r_k), (P, H),
    model units × percent: what day t's income of yesterday's holdings gains over today's rates.

    Args:
        par: the parameters.
        purchases: amounts bought (P, K, H), model units.
    """
    p, h = par.n_products, par.horizon
    out = np.zeros((p, h))
    if h < 2:
        return out
    window = outstanding_window(par)[:, :, : h - 1]  # (K, S, T)
    weighted = purchases * rate_difference(par)[None, :, :]  # (P, K, S)
    out[:, 1:] = np.einsum("pks,kst->pt", weighted, window.astype(float))
    return out
