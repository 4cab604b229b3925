"""Channel sales plans: how much new money each distribution channel must raise, and by when.

A team may add ``sales_plan.csv`` to a data set, one row per target: ``channel`` (as in the
optional ``channel`` column of products.csv), ``start`` and ``end`` (ISO dates, inclusive) and
``target_cny`` (≥ 0, accepted subscriptions of all the channel's products over the period).
Periods may overlap the plan horizon partly. :func:`sales_requirements` turns each period into
the amount the plan must raise *within the horizon*: the target less what the channel already
raised from ``start`` to the as-of day, pro rata to the calendar days of the period that fall in
the horizon among those left after the as-of day. A period already over, or already met,
requires nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from rainmaker.errors import DataError, Problem, table_lines
from rainmaker.validation import IMPLAUSIBLE_FACTOR

__all__ = ["REQUIREMENT_COLUMNS", "SALES_PLAN_COLUMNS", "read_sales_plan", "sales_requirements"]

SALES_PLAN_COLUMNS = ("channel", "start", "end", "target_cny")
# What :func:`sales_requirements` returns: the plan's rows with what is achieved and still needed.
REQUIREMENT_COLUMNS = (
    *SALES_PLAN_COLUMNS,
    "achieved_cny",
    "need_cny",
    "first_day",
    "last_day",
)
FILE = "sales_plan.csv"


def read_sales_plan(
    table: pd.DataFrame, channels: set[str], file: str = FILE, size_cny: float | None = None
) -> pd.DataFrame:
    """Validate a sales-plan table.

    Args:
        table: the table as loaded (``start`` and ``end`` may still be text).
        channels: channel names of products.csv.
        file: file name used in error messages.
        size_cny: the products' total AUM, CNY, where known: a target larger than
            :data:`rainmaker.validation.IMPLAUSIBLE_FACTOR` times it is refused (a typo or a
            unit error, which the solver's arithmetic cannot work with).

    Returns:
        Frame with ``channel`` (str), ``start``, ``end`` (Timestamp) and ``target_cny``.

    Raises:
        DataError: a column is missing, a date is not ISO, ``end`` precedes ``start``, a target
            is negative, missing or implausibly large, or a channel is not used by any
            product.
    """
    missing = [c for c in SALES_PLAN_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            [
                Problem(file, c, "column is missing; expected " + ", ".join(SALES_PLAN_COLUMNS))
                for c in missing
            ]
        )
    frame = table.reset_index(drop=True)
    problems: list[Problem] = []

    def flag(mask: np.ndarray, column: str, message: str) -> None:
        if mask.any():
            shown, n = table_lines(mask)
            problems.append(Problem(file, column, message, shown, n))

    dates = {}
    for column in ("start", "end"):
        raw = frame[column]
        if pd.api.types.is_datetime64_any_dtype(raw):
            parsed = raw
        else:
            parsed = pd.to_datetime(raw.astype(str).str.strip(), format="%Y-%m-%d", errors="coerce")
        flag(parsed.isna().to_numpy(), column, "expected an ISO date YYYY-MM-DD")
        dates[column] = parsed
    flag((dates["end"] < dates["start"]).to_numpy(), "end", "the period ends before it starts")
    target = pd.to_numeric(frame["target_cny"], errors="coerce").to_numpy(dtype=float)
    flag(~(target >= 0), "target_cny", "expected an amount >= 0 CNY")
    if size_cny is not None and size_cny > 0:
        flag(
            target > size_cny * IMPLAUSIBLE_FACTOR,
            "target_cny",
            f"more than {IMPLAUSIBLE_FACTOR:,} times the products' total AUM (a typo or a unit "
            "error?); expected a target of the products' size, CNY",
        )
    channel = frame["channel"].astype(str).str.strip().to_numpy()
    flag(
        ~np.isin(channel, sorted(channels)),
        "channel",
        "no product of products.csv has this channel; expected one of "
        + (", ".join(sorted(channels)) if channels else "(products.csv has no channel column)"),
    )
    if problems:
        raise DataError(problems)
    return pd.DataFrame(
        {
            "channel": channel,
            "start": dates["start"].to_numpy(),
            "end": dates["end"].to_numpy(),
            "target_cny": target,
        }
    )


def sales_requirements(
    plan: pd.DataFrame,
    product_channels: Mapping[str, str],
    flows: pd.DataFrame,
    as_of: pd.Timestamp,
    dates: pd.DatetimeIndex,
) -> pd.DataFrame:
    """What each sales-plan period requires of the plan horizon.

    Args:
        plan: validated sales plan (:func:`read_sales_plan`).
        product_channels: channel of every product of products.csv (products without one are
            left out).
        flows: flows up to the as-of day (``date``, ``product_id``, ``subscriptions``).
        as_of: today.
        dates: the days of the horizon.

    Returns:
        One row per period that overlaps the horizon and still needs money: ``channel``,
        ``start``, ``end``, ``target_cny``, ``achieved_cny`` (raised from ``start`` to the
        as-of day), ``need_cny`` (to raise within the horizon), ``first_day`` and ``last_day``
        (positions in ``dates`` of the overlap).
    """
    columns = list(REQUIREMENT_COLUMNS)
    if plan.empty or len(dates) == 0:
        return pd.DataFrame(columns=columns)
    channel_of = flows["product_id"].map(product_channels)
    rows = []
    for row in plan.itertuples(index=False):
        start, end = pd.Timestamp(row.start), pd.Timestamp(row.end)
        first = max(start, dates[0])
        last = min(end, dates[-1])
        if last < first:
            continue
        done = (channel_of == row.channel) & (flows["date"] >= start) & (flows["date"] <= as_of)
        achieved = float(flows.loc[done, "subscriptions"].sum())
        remaining = max(float(row.target_cny) - achieved, 0.0)
        days_left = (end - max(start, as_of + pd.Timedelta(days=1))).days + 1
        in_horizon = (last - first).days + 1
        need = remaining * in_horizon / days_left if days_left > 0 else 0.0
        if need <= 0:
            continue
        rows.append(
            {
                "channel": row.channel,
                "start": start,
                "end": end,
                "target_cny": float(row.target_cny),
                "achieved_cny": achieved,
                "need_cny": need,
                "first_day": int(dates.get_loc(first)),
                "last_day": int(dates.get_loc(last)),
            }
        )
    return pd.DataFrame(rows, columns=columns)
