"""Sample paths: coherent joint scenarios of subscriptions, redemptions, net flow and AUM.

A path adds one backtest residual trajectory (:mod:`forecast.calibration`) to the point
forecast of every day of the horizon, on the log scale. All products and both flows of a path
replay the *same* backtest origin, so what happened together in the past happens together in a
scenario: the day-to-day correlation of errors, the link between subscriptions and redemptions
of a product, and shocks common to many products. A product without a residual at that origin
(launched later) borrows the trajectory of a randomly chosen product that has one.

Net flow and AUM are computed path by path (``net = subscriptions − redemptions``;
``aum(t) = aum(t−1)·(1 + income rate) + net(t)``), so their quantiles are coherent with the
flows: the mean net flow is exactly the mean subscriptions minus the mean redemptions, and every
AUM scenario rolls forward from the as-of AUM. A path's redemptions never exceed what the
product holds that day (:func:`aum_paths`), so no AUM scenario falls below zero.
"""

from __future__ import annotations

import numpy as np

from forecast.panel import MODELLED_VARIABLES

# re-exported: the home of quantile labels and of quantiles over paths is the ground
from rainmaker.quantiles import path_quantiles, quantile_label

__all__ = [
    "DORMANT_DAYS",
    "aum_paths",
    "closed_since",
    "dormant",
    "flow_paths",
    "path_quantiles",
    "quantile_label",
]

# A flow that was exactly 0 on each of a product's last DORMANT_DAYS days (known, and for
# subscriptions not capped by a quota) is dormant, unless an earlier run of as many zero days
# ended in flows again (they came back once, so they may again): every path of it is 0 over
# the whole horizon. The models read a dormant flow against the scale of its active past (the
# 28-day mean is 0, so the scale falls back to the mean of its whole history) and their
# residuals spread a band of that size, a mean of millions a day for a product with none in
# weeks. Four weeks: past a month-end, and as long as the scale's own window.
DORMANT_DAYS = 28


def dormant(history: np.ndarray, censored: np.ndarray | None = None) -> np.ndarray:
    """Which products' flow is dormant (see :data:`DORMANT_DAYS`).

    Args:
        history: the flow, days × products (CNY; NaN before a product's first day or after
            its last), up to the as-of day.
        censored: days × products, True where the day's flow is only a lower bound (the
            subscriptions a quota capped: a quota of 0 says nothing of demand); default none.

    Returns:
        (products,) True where the flow was exactly 0, known and not censored, on each of the
        last :data:`DORMANT_DAYS` days, and no earlier run of at least :data:`DORMANT_DAYS`
        such days was followed by a flow.
    """
    values = np.asarray(history, dtype=float)
    zero = np.isfinite(values) & (values == 0)
    if censored is not None:
        zero &= ~np.asarray(censored, dtype=bool)
    out = np.zeros(values.shape[1], dtype=bool)
    if values.shape[0] < DORMANT_DAYS:
        return out
    for p in np.flatnonzero(zero[-DORMANT_DAYS:].all(axis=0)):
        run = 0
        came_back = False
        for is_zero, value in zip(zero[:, p], values[:, p], strict=True):
            if is_zero:
                run += 1
                continue
            if run >= DORMANT_DAYS and np.isfinite(value) and value > 0:
                came_back = True
                break
            run = 0
        out[p] = not came_back
    return out


def closed_since(
    aum: np.ndarray,
    subscriptions: np.ndarray,
    censored: np.ndarray | None = None,
) -> np.ndarray:
    """Since which day each product has been closed: nothing left in it, no new money.

    A product whose AUM was exactly 0 at the end of every day from a day D to the as-of day,
    with no subscription on any of them (known, and not capped by a quota: a quota of 0 says
    nothing of demand), has no holder left to redeem and no sign that new money comes: every
    path of both its flows is 0 until subscriptions come back (the first day they do, the
    models forecast it again). D may be the day it was emptied (its last holders' redemptions
    that day take the AUM to 0). Unlike :func:`dormant` no long wait is needed: a nil AUM is
    a fact, not a lull of an intermittent flow; a wrong call costs little, since money that
    does come is cash in hand and the next day's forecast reads it.

    Args:
        aum, subscriptions: days × products (CNY; NaN before a product's first day), up to
            the as-of day.
        censored: days × products, True where the subscriptions are only a lower bound (the
            quota was reached); default none.

    Returns:
        (products,) the position of day D, the first day of the run that reaches the as-of
        day; −1 where the product is not closed (held assets, or was subscribed or capped by a
        quota, on the as-of day).
    """
    # NaN compares False: no day before a product's first is nil
    nil = (np.asarray(aum, dtype=float) == 0) & (np.asarray(subscriptions, dtype=float) == 0)
    if censored is not None:
        nil &= ~np.asarray(censored, dtype=bool)
    run = np.cumprod(nil[::-1], axis=0).sum(axis=0)  # each product's trailing nil days
    return np.where(run >= 1, nil.shape[0] - run, -1)


def flow_paths(
    point: dict[str, np.ndarray],
    scale: dict[str, np.ndarray],
    residuals: dict[str, np.ndarray],
    n_paths: int,
    rng: np.random.Generator,
    weights: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Sample paths of the modelled flows.

    Args:
        point: variable -> point forecast (n_products, horizon), CNY.
        scale: variable -> scale of each product at the as-of day (n_products,), CNY.
        residuals: variable -> residual trajectories (n_origins, n_products, horizon) on the
            log scale, products in the same order (NaN: none for that product and origin).
        n_paths: number of paths.
        rng: random generator (seeded by the caller).
        weights: probability of drawing each origin (n_origins,), e.g. recency weights
            (:func:`forecast.calibration.origin_weights`); default equal.

    Returns:
        variable -> paths (n_products, n_paths, horizon), CNY, ≥ 0.
    """
    first = point[MODELLED_VARIABLES[0]]
    n_products, horizon = first.shape
    n_origins = residuals[MODELLED_VARIABLES[0]].shape[0]
    if n_origins == 0:
        return {v: np.repeat(point[v][:, None, :], n_paths, axis=1) for v in MODELLED_VARIABLES}
    # Trajectories complete for both flows at an origin can be lent to other products.
    complete = np.ones((n_origins, n_products), dtype=bool)
    for variable in MODELLED_VARIABLES:
        complete &= ~np.isnan(residuals[variable][:, :, :horizon]).any(axis=2)
    if weights is None:
        chosen = rng.integers(0, n_origins, size=n_paths)
    else:
        p = np.asarray(weights, dtype=float)
        chosen = rng.choice(n_origins, size=n_paths, p=p / p.sum())
    donor = np.tile(np.arange(n_products), (n_paths, 1))
    for i, k in enumerate(chosen):
        lenders = np.flatnonzero(complete[k])
        missing = ~complete[k]
        if missing.any() and lenders.size:
            donor[i, missing] = rng.choice(lenders, size=int(missing.sum()))
    out = {}
    for variable in MODELLED_VARIABLES:
        drawn = residuals[variable][chosen[:, None], donor, :horizon]  # (n_paths, n_products, h)
        drawn = np.nan_to_num(drawn, nan=0.0)
        s = scale[variable][:, None, None]
        base = np.log1p(np.maximum(point[variable], 0.0)[:, None, :] / s)
        values = s * np.expm1(base + np.transpose(drawn, (1, 0, 2)))
        out[variable] = np.maximum(values, 0.0)
    return out


def aum_paths(
    aum_as_of: np.ndarray,
    income_rate: np.ndarray,
    subscriptions: np.ndarray,
    redemptions: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """AUM scenarios rolled forward from the as-of day, and the redemptions they can pay.

    A product cannot pay out more than it holds: on a path where the drawn redemptions of a
    day exceed the AUM after the day's income and subscriptions, they are cut to it and the
    AUM ends the day at 0 (the holders have left). Without the cut, long horizons (past about
    two months on the sample) rolled AUM paths far below zero.

    Args:
        aum_as_of: AUM at the end of the as-of day (n_products,), CNY.
        income_rate: daily income per unit of AUM (n_products,), e.g. 0.00006 for 2.2 % a
            year; the as-of day's rate is assumed for the whole horizon.
        subscriptions, redemptions: flow paths (n_products, n_paths, horizon), CNY, ≥ 0.

    Returns:
        ``(redemptions, aum)``: the redemptions paid (the drawn ones, cut where they would
        take the AUM below 0) and the AUM paths, both shaped like ``subscriptions``, CNY;
        ``aum(t) = aum(t−1)·(1 + income rate) + subscriptions(t) − redemptions(t) ≥ 0``.
    """
    aum = np.empty_like(subscriptions)
    paid = np.empty_like(redemptions)
    level = np.broadcast_to(aum_as_of[:, None], subscriptions.shape[:2]).astype(float)
    growth = 1.0 + np.nan_to_num(income_rate, nan=0.0)[:, None]
    for day in range(subscriptions.shape[2]):
        held = np.maximum(level * growth + subscriptions[:, :, day], 0.0)
        paid[:, :, day] = np.minimum(redemptions[:, :, day], held)
        level = held - paid[:, :, day]
        aum[:, :, day] = level
    return paid, aum
