"""What happened, as a forecast is scored against it: the one home of the truth and the WAPE.

A forecast describes demand before any quota and the AUM that would follow if all of it were
accepted. So the outcome of

- ``subscriptions`` is ``demand`` where the data set has that column (synthetic data), else the
  accepted subscriptions on days the quota did not bind (a capped day is only a lower bound:
  it is not scored);
- ``redemptions`` is as observed; ``net_flow`` is the subscriptions' outcome minus redemptions;
- ``aum`` is as observed plus the demand the quotas turned away since the forecast's as-of day
  (:func:`turned_away_between`).

``rainmaker evaluate-forecast`` (:mod:`forecast.evaluation`), ``rainmaker history`` and the
report's accuracy table and drift alerts (:mod:`rainmaker.app.accuracy`) all score against
these, with this :func:`wape`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "long_outcomes",
    "observed_outcomes",
    "turned_away_between",
    "wape",
    "wape_of_errors",
]

VARIABLES = ("subscriptions", "redemptions", "net_flow", "aum")


def wape(actual: npt.ArrayLike, forecast: npt.ArrayLike) -> float:
    """Weighted absolute percentage error, Σ|actual − forecast| / Σ|actual|, over the pairs
    where both are finite.

    Returns:
        The ratio (0 = perfect); NaN when there is nothing to score or Σ|actual| is 0.
    """
    a, f = np.broadcast_arrays(np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float))
    return wape_of_errors(np.abs(a - f), a)


def wape_of_errors(abs_error: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """:func:`wape` from the absolute errors already taken: Σ abs_error / Σ|actual| over the
    pairs where both are finite; NaN when there is nothing to score or Σ|actual| is 0."""
    e, a = np.broadcast_arrays(np.asarray(abs_error, dtype=float), np.asarray(actual, dtype=float))
    ok = np.isfinite(e) & np.isfinite(a)
    e, a = e[ok], a[ok]
    total = np.abs(a).sum()
    return float(e.sum() / total) if a.size and total > 0 else float("nan")


def observed_outcomes(flows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """What happened, per variable as a frame (index date, columns product_id), CNY.

    Keys: the four forecast variables (see the module docstring; ``aum`` as observed) and
    ``_turned_away`` (demand refused by quotas each day) and ``_subscriptions_observed``.
    """

    def wide(column: str) -> pd.DataFrame:
        return flows.pivot(index="date", columns="product_id", values=column).sort_index()

    subscriptions = wide("subscriptions")
    redemptions = wide("redemptions")
    aum = wide("aum")
    if "demand" in flows.columns and flows["demand"].notna().any():
        demand = wide("demand")
        turned_away = (demand - subscriptions).fillna(0.0)
    else:
        demand = subscriptions.copy()
        if "quota" in flows.columns:
            quota = wide("quota")
            demand = demand.mask(quota.notna() & (subscriptions >= quota))
        turned_away = subscriptions * 0.0
    return {
        "subscriptions": demand,
        "redemptions": redemptions,
        "net_flow": demand - redemptions,
        "aum": aum,
        "_turned_away": turned_away,
        "_subscriptions_observed": subscriptions,
    }


def long_outcomes(truth: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The outcomes of :func:`observed_outcomes` as a long frame ``product_id, date, variable,
    actual`` (``aum`` as observed; days without an outcome left out)."""
    frames = []
    for variable in VARIABLES:
        stacked = truth[variable].stack().rename("actual").reset_index()
        stacked["variable"] = variable
        frames.append(stacked)
    out = pd.concat(frames, ignore_index=True)[["product_id", "date", "variable", "actual"]]
    return out[np.isfinite(out["actual"].to_numpy(dtype=float))].reset_index(drop=True)


def turned_away_between(
    truth: dict[str, pd.DataFrame],
    product_ids: pd.Series,
    starts: pd.Series,
    ends: pd.Series,
) -> np.ndarray:
    """Demand turned away by quotas over the days (start, end] of each row, CNY: what the
    observed AUM of ``end`` lacks against the AUM a forecast from ``start`` describes."""
    cumulative = truth["_turned_away"].cumsum()
    stacked = cumulative.stack()

    def at(days: pd.Series) -> np.ndarray:
        # the running total on the last flows day on or before each day (0 before the first)
        dates = cumulative.index
        position = dates.searchsorted(pd.to_datetime(days).to_numpy(), side="right") - 1
        keys = pd.MultiIndex.from_arrays([dates[np.maximum(position, 0)], product_ids.to_numpy()])
        values = stacked.reindex(keys).to_numpy(dtype=float)
        return np.where((position >= 0) & np.isfinite(values), values, 0.0)

    return at(ends) - at(starts)
