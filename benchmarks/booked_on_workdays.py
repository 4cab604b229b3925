"""The forecast on a feed that books flows on working days only (T+1 confirmations).

Many banks' data carry a day's orders on the day they are confirmed: the orders of a weekend or
a holiday land on the next working day, and the flows of a day off are exactly 0. This script
builds such a data set in memory from ``--data`` (every day off's subscriptions, redemptions and
demand moved to the next working day, AUM rolled again with the data's own daily income, the
products of ``--products``), evaluates the forecast from weekly origins
(:func:`forecast.evaluation.evaluate_forecast`) and prints, for ``auto``, the share of outcomes
inside [p10, p90] and the p50 WAPE on days off and on working days (the first working day after
one, two, or three or more days off apart), per product and for the products' total, and the
overall WAPE of ``auto`` and the seasonal naive.

    .venv/bin/python benchmarks/booked_on_workdays.py [--data data/sample] [--products P01,P04]
        [--start 2021-06-15] [--end 2022-06-15] [--horizon 14]

About a minute for the defaults. The figures are in docs/forecast.md ("Flows booked on working
days only").
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# this checkout's packages first, not the editable install's (another checkout)
sys.path.insert(0, str(ROOT))

from forecast.evaluation import evaluate_forecast  # noqa: E402
from rainmaker.china_calendar import workday_flags  # noqa: E402
from rainmaker.dataset import Dataset, load_dataset  # noqa: E402

FLOWS = ("subscriptions", "redemptions")
MOVED = ("subscriptions", "redemptions", "demand")


def booked_on_workdays(dataset: Dataset, products: list[str]) -> Dataset:
    """``dataset`` restricted to ``products`` with every day off's flows moved to the next
    working day (CNY) and AUM rolled forward again with each day's income as the data had it."""
    flows = dataset.flows[dataset.flows["product_id"].isin(products)].copy()
    flows = flows.sort_values(["product_id", "date"], ignore_index=True)
    work = workday_flags(flows["date"].min(), flows["date"].max())
    moved = [c for c in MOVED if c in flows.columns]
    out = []
    for _, rows in flows.groupby("product_id", sort=False):
        rows = rows.copy()
        # income of each day as the data had it: aum(t) − aum(t−1) − subscriptions + redemptions
        income = (
            rows["aum"] - rows["aum"].shift() - rows["subscriptions"] + rows["redemptions"]
        ).fillna(0.0)
        off = ~rows["date"].map(work).astype(bool).to_numpy()
        # each day off's flows go to the next working day: group a run of days off with the
        # working day after it
        booking_day = np.flatnonzero(~off)
        target = np.searchsorted(booking_day, np.arange(len(rows)))
        keep = target < len(booking_day)  # days off after the last working day stay as they are
        for column in moved:
            values = rows[column].to_numpy(dtype=float)
            booked = values.copy()
            booked[off & keep] = 0.0
            np.add.at(booked, booking_day[target[off & keep]], values[off & keep])
            rows[column] = np.round(booked, 2)
        net = rows["subscriptions"] - rows["redemptions"] + income
        rows["aum"] = np.round(rows["aum"].iloc[0] + net.cumsum() - net.iloc[0], 2)
        out.append(rows)
    return dataclasses.replace(
        dataset,
        flows=pd.concat(out, ignore_index=True),
        products=dataset.products[dataset.products["product_id"].isin(products)].reset_index(
            drop=True
        ),
    )


def _days_off_before(dates: pd.Series) -> pd.Series:
    """Days off just ended before each working day (0 after a working day); −1 on a day off."""
    days = pd.date_range(dates.min() - pd.Timedelta(days=30), dates.max())
    work = workday_flags(days[0], days[-1])
    run, counts = 0, {}
    for day, working in work.items():
        counts[day] = run if working else -1
        run = 0 if working else run + 1
    return dates.map(counts)


def _table(rows: pd.DataFrame) -> pd.DataFrame:
    inside = (rows["actual"] >= rows["p10"]) & (rows["actual"] <= rows["p90"])
    error = (rows["actual"] - rows["p50"]).abs()
    gap = _days_off_before(rows["date"])
    kind = np.select(
        [gap < 0, gap == 0, gap == 1, gap == 2],
        ["day off", "after a working day", "after 1 day off", "after 2 days off"],
        "after 3+ days off",
    )
    frame = rows.assign(kind=kind, inside=inside, error=error, size=rows["actual"].abs())
    grouped = frame.groupby(["variable", "kind"], sort=True)
    table = grouped.agg(
        coverage=("inside", "mean"),
        error=("error", "sum"),
        size=("size", "sum"),
        n=("inside", "size"),
    )
    table["wape"] = table["error"] / table["size"].where(table["size"] > 0)
    return table[["coverage", "wape", "n"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/sample")
    parser.add_argument("--products", default="P01,P04")
    parser.add_argument("--start", default="2021-06-15")
    parser.add_argument("--end", default="2022-06-15")
    parser.add_argument("--horizon", type=int, default=14)
    args = parser.parse_args()
    dataset = booked_on_workdays(load_dataset(args.data), args.products.split(","))
    began = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluation = evaluate_forecast(dataset, args.start, args.end, args.horizon)
    print(f"{len(evaluation.origins)} origins, {time.perf_counter() - began:.0f} s")
    pd.set_option("display.width", 160)
    summary = evaluation.summary
    overall = summary[summary["variable"].isin(FLOWS)][["variable", "model", "wape", "coverage_80"]]
    print("\nover all days:")
    print(overall.to_string(index=False, float_format="{:.3f}".format))
    products = evaluation.forecasts
    products = products[
        (products["model"] == "auto")
        & products["variable"].isin(FLOWS)
        & products["actual"].notna()
    ]
    print("\nauto, each product's days:")
    print(_table(products).to_string(float_format="{:.3f}".format))
    groups = evaluation.groups
    total = groups[
        (groups["model"] == "auto")
        & (groups["level"] == "total")
        & groups["variable"].isin(FLOWS)
        & groups["actual"].notna()
    ]
    print("\nauto, the products' total:")
    print(_table(total).to_string(float_format="{:.3f}".format))


if __name__ == "__main__":
    main()
