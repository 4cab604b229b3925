"""How often the net outflow over days off passes the forecast's quantiles.

The plan pays a run of days off from the cash of the working day before it (the interbank
market is closed), sized at a high quantile of the forecast's joint paths of the net outflow
over those days (E27, docs/optimize.md). This script checks that quantile against history: at
every eve of days off in the window it forecasts from the day before (as the backtest's plan
of that morning does), takes each product's sample paths of the redemptions over the days off
less the demand of all but the last (what the plan counts), and reports how often the outcome
passed the p50, p90, p95 and p99 of those paths, for weekends and for long holidays (three
days off or more), with the mean outcome, mean forecast and mean p99 (percent of the eve's AUM).

    .venv/bin/python benchmarks/days_off_calibration.py [--data DIR] [--start DATE] [--end DATE]
                                                        [--products P01,P02,...]

A calibrated p90 is passed about 10 % of the time; one passed far less often holds cash the
days off did not need. About 45 s for the sample's calm year on one core.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forecast import Forecaster  # noqa: E402
from rainmaker.china_calendar import workday_flags  # noqa: E402
from rainmaker.dataset import load_dataset  # noqa: E402

LEVELS = (0.5, 0.9, 0.95, 0.99)
REFIT_DAYS = 28  # a full fit every four weeks, as the backtest's default cadence


def outcomes_at_eves(
    data: Path, start: pd.Timestamp, end: pd.Timestamp, products: list[str] | None
) -> pd.DataFrame:
    """One row per eve of days off and product: days off, outcome, forecast mean and quantiles
    of the net outflow over the days off, percent of the eve's AUM."""
    dataset = load_dataset(data)
    flows = dataset.flows
    if products:
        flows = flows[flows["product_id"].isin(products)]
    ids = sorted(flows["product_id"].unique())
    wide = {
        name: flows.pivot(index="date", columns="product_id", values=name)[ids]
        for name in ("redemptions", "aum")
    }
    demand = "demand" if "demand" in flows and flows["demand"].notna().all() else "subscriptions"
    wide["demand"] = flows.pivot(index="date", columns="product_id", values=demand)[ids]
    days = pd.date_range(start - pd.Timedelta(days=1), end + pd.Timedelta(days=30))
    work = pd.Series(np.asarray(workday_flags(days[0], days[-1]), dtype=bool), index=days)
    rows = []
    forecaster, fitted = None, None
    for eve in days[1:]:
        after = eve + pd.Timedelta(days=1)
        if eve > end or not work[eve] or work[after]:
            continue
        off = 0
        while not work[eve + pd.Timedelta(days=off + 1)]:
            off += 1
        span = pd.date_range(after, periods=off)
        if span[-1] > dataset.last_date:
            break
        origin = eve - pd.Timedelta(days=1)
        if fitted is None or (origin - fitted).days >= REFIT_DAYS:
            forecaster = Forecaster(horizon=14).fit(dataset, origin)
            fitted = origin
        assert forecaster is not None
        result = forecaster.predict(dataset, origin)
        order = [result.product_ids.index(p) for p in ids]
        redeemed = result.paths["redemptions"][order]  # (P, N, H); index 0 is the eve
        subscribed = result.paths["subscriptions"][order]
        net = redeemed[:, :, 1 : off + 1].sum(axis=2) - subscribed[:, :, 1:off].sum(axis=2)
        quantiles = np.quantile(net, LEVELS, axis=1)
        actual = wide["redemptions"].loc[span].sum() - wide["demand"].loc[span[:-1]].sum()
        aum = wide["aum"].loc[eve]
        for i, product in enumerate(ids):
            share = 100.0 / float(aum[product])
            row = {
                "eve": eve,
                "days_off": off,
                "product_id": product,
                "actual": float(actual[product]) * share,
                "mean": float(net[i].mean()) * share,
            }
            row.update(
                {f"p{round(q * 100)}": quantiles[j, i] * share for j, q in enumerate(LEVELS)}
            )
            rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--start", default="2021-06-15")
    parser.add_argument("--end", default="2022-06-01")
    parser.add_argument("--products", default="P01,P02,P03,P04,P05,P06,P07,P08,P09,P10,P11,P12")
    args = parser.parse_args(argv)
    products = [p.strip() for p in args.products.split(",") if p.strip()] or None
    began = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = outcomes_at_eves(
            args.data, pd.Timestamp(args.start), pd.Timestamp(args.end), products
        )
    if table.empty:
        print("no eve of days off in the window")
        return 1
    print(f"net outflow over days off against the forecast's quantiles, {args.start}..{args.end}")
    print("(share of product-eves whose outcome passed each quantile; means in % of the eve's AUM)")
    groups = [
        ("weekends (2 days off)", table[table["days_off"] == 2]),
        ("long holidays (3+ days)", table[table["days_off"] >= 3]),
        ("all", table),
    ]
    for name, group in groups:
        passed = " ".join(
            f"p{round(q * 100)} {100 * (group['actual'] > group[f'p{round(q * 100)}']).mean():.1f}%"
            for q in LEVELS
        )
        print(
            f"{name:<24} n {len(group):>4}  passed {passed}  | mean outcome "
            f"{group['actual'].mean():.2f}, forecast {group['mean'].mean():.2f}, "
            f"p99 {group['p99'].mean():.2f}"
        )
    long = table[table["days_off"] >= 3]
    if not long.empty:
        print("\nlong holidays, mean over products (% of AUM):")
        print(long.groupby("eve")[["days_off", "actual", "mean", "p90", "p99"]].mean().round(2))
    print(f"\n{time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
