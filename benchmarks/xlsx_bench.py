"""Time of writing ``plan.xlsx`` for a plan of N products × D days.

Usage::

    .venv/bin/python benchmarks/xlsx_bench.py                       # 16 × 14 and 1,000 × 30
    .venv/bin/python benchmarks/xlsx_bench.py --products 100 --days 30 --lang en

The plan has every column the workbook's catalogue knows (the SPEC §3 columns and the
optimiser's, five purchase buckets) filled with seeded random figures of a realistic size; the
forecast has four variables and five quantiles per product and day. Only
:func:`rainmaker.app.xlsx.write_workbook` is timed, as the daily job calls it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# this checkout's packages first, not the editable install's (another checkout)
sys.path.insert(0, str(ROOT))

from rainmaker.app.xlsx import write_workbook  # noqa: E402
from rainmaker.app.xlsx_columns import COLUMNS  # noqa: E402

DERIVED = {"quota_state", "purchases_total", "exposure_vs_baseline", "buffer_vs_requirement"}
DERIVED |= {"buffer_surplus"}
NOT_PLAN = {"variable", "mean", "severity", "alert", "sheet", "column", "unit", "definition"}


def frames(n_products: int, days: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A synthetic plan and forecast (CNY, percent as in plan.csv)."""
    rng = np.random.default_rng(seed)
    ids = [f"P{i:04d}" for i in range(n_products)]
    dates = pd.date_range("2022-06-16", periods=days)
    n = n_products * days
    plan = {"product_id": np.repeat(ids, days), "date": np.tile(dates, n_products)}
    for key, col in COLUMNS.items():
        if key in plan or key in DERIVED or key in NOT_PLAN:
            continue
        kind = col.kind
        if kind == "amount":
            plan[key] = rng.uniform(0, 5e9, n)
        elif kind == "percent":
            plan[key] = rng.uniform(1.5, 2.5, n)
        elif kind == "share":
            plan[key] = np.full(n, 0.95)
        elif kind == "flag":
            plan[key] = rng.random(n) < 0.1
        else:
            plan[key] = rng.uniform(0, 1e5, n)
    plan["quota"] = np.where(rng.random(n) < 0.8, np.nan, plan["quota"])
    forecast = pd.concat(
        pd.DataFrame(
            {
                "product_id": plan["product_id"],
                "date": plan["date"],
                "variable": variable,
                **{q: rng.uniform(0, 5e9, n) for q in ("mean", "p05", "p10", "p50", "p90", "p95")},
            }
        )
        for variable in ("subscriptions", "redemptions", "net_flow", "aum")
    )
    return pd.DataFrame(plan), forecast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, nargs="*", default=None)
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--lang", default="zh", choices=("zh", "en"))
    args = parser.parse_args()
    sizes = (
        [(p, args.days or 30) for p in args.products] if args.products else [(16, 14), (1000, 30)]
    )
    print("| products × days | plan rows | forecast rows | seconds | MB |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for n_products, days in sizes:
            plan, forecast = frames(n_products, days)
            path = Path(folder) / f"plan-{n_products}.xlsx"
            began = time.perf_counter()
            write_workbook(path, plan, forecast, {"as_of": "2022-06-15"}, lang=args.lang)
            took = time.perf_counter() - began
            size = path.stat().st_size / 1e6
            print(
                f"| {n_products:,} × {days} | {len(plan):,} | {len(forecast):,} | "
                f"{took:.1f} | {size:.1f} |"
            )


if __name__ == "__main__":
    main()
