"""Benchmark of the closed-loop backtest: the issue's targets measured on the sample.

Replays the last ``--days`` days of a data set (default: data/sample, 365 days) for ``--products``
products (default 12: the first cash-management products by id with flows over the whole window)
under each policy, prints the SPEC §4 comparison in bp with the wall-clock time of every policy,
and checks the targets of one window (the panel of windows is ``benchmarks/panel.py``):

- ``optimizer`` is better than ``none`` by SPEC §4 (lower ``relative_vol_bp``, ``mean_excess_bp``
  not lower by more than 1 bp, no more shortfall days, at most 5 % of demand refused);
- where the oracle lowers ``relative_vol_bp`` by at least 1 bp, the optimizer captures at least
  80 % of it;
- 12 products × 365 days with a forecast and a plan every morning in at most 150 s (on 2 cores).

Run from the repository root (nothing is logged to MLflow unless ``--tracking-uri`` is given):

    .venv/bin/python benchmarks/backtest_bench.py
    .venv/bin/python benchmarks/backtest_bench.py --policies none,rule --days 90 --products 4

The files of every policy go to ``--out`` (default ``out/backtest_bench``), with ``bench.json``
holding the timings and the verdicts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rainmaker.dataset import load_dataset  # noqa: E402
from simulate.backtest import PolicyOptions, parse_policies, run_backtest  # noqa: E402

TARGET_SHARE_OF_ORACLE_PCT = 80.0
ORACLE_GAIN_COUNTED_BP = 1.0
TARGET_SECONDS = 150.0


def choose_products(dataset, start: pd.Timestamp, end: pd.Timestamp, n: int) -> list[str]:
    """The first ``n`` cash-management products by id with flows over the whole window."""
    flows = dataset.flows
    span = flows.groupby("product_id")["date"].agg(["min", "max"])
    full = span[(span["min"] < start) & (span["max"] >= end)].index
    kinds = dataset.products.set_index("product_id")["product_type"]
    cash = [p for p in sorted(full) if kinds.get(p) == "cash_management"]
    return cash[:n]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--days", type=int, default=365, help="window length, days")
    parser.add_argument("--products", type=int, default=12, help="number of products")
    parser.add_argument("--policies", default="all")
    parser.add_argument("--horizon", type=int, default=14)
    parser.add_argument("--refit-every", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "backtest_bench")
    parser.add_argument("--tracking-uri", default=None)
    args = parser.parse_args(argv)

    dataset = load_dataset(args.data)
    end = dataset.last_date
    start = end - pd.Timedelta(days=args.days - 1)
    products = choose_products(dataset, start, end, args.products)
    names = parse_policies(args.policies)
    print(
        f"backtest {start:%Y-%m-%d}..{end:%Y-%m-%d}, {len(products)} products "
        f"({', '.join(products)}), policies {', '.join(names)}",
        flush=True,
    )
    seconds: dict[str, float] = {}
    runs = {}
    for name in names:
        began = time.perf_counter()
        runs[name] = run_backtest(
            dataset,
            start,
            end,
            [name],
            args.out / name,
            products=products,
            options=PolicyOptions(horizon_days=args.horizon, refit_every_days=args.refit_every),
            tracking_uri=args.tracking_uri,
        )
        seconds[name] = time.perf_counter() - began
        print(f"{name}: {seconds[name]:.1f} s", flush=True)

    from simulate.backtest_metrics import compare_policies

    table = compare_policies({n: r.results[n].metrics for n, r in runs.items()})
    table["seconds"] = pd.Series(seconds)
    columns = [
        "yield_vol_bp",
        "benchmark_vol_bp",
        "relative_vol_bp",
        "tracking_bp",
        "mean_excess_bp",
        "shortfall_days",
        "refused_pct",
        "relative_vol_change_bp",
        "share_of_bound_pct",
        "better_than_baseline",
        "seconds",
    ]
    shown = table[[c for c in columns if c in table.columns]]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(shown.round(2).to_string())

    verdicts: dict[str, bool] = {}
    if "optimizer" in table.index and "none" in table.index:
        row = table.loc["optimizer"]
        verdicts["better_than_none_spec4"] = bool(row["better_than_baseline"])
        verdicts["runtime_le_150s"] = bool(seconds["optimizer"] <= TARGET_SECONDS)
        oracle_gain = (
            -float(table.loc["oracle", "relative_vol_change_bp"]) if "oracle" in table.index else 0
        )
        if oracle_gain >= ORACLE_GAIN_COUNTED_BP:
            verdicts["share_of_oracle_ge_80pct"] = bool(
                row["share_of_bound_pct"] >= TARGET_SHARE_OF_ORACLE_PCT
            )
        for key, ok in verdicts.items():
            print(f"{'PASS' if ok else 'FAIL'}  {key}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(
        json.dumps(
            {
                "start": f"{start:%Y-%m-%d}",
                "end": f"{end:%Y-%m-%d}",
                "products": products,
                "seconds": seconds,
                "table": json.loads(shown.reset_index().to_json(orient="records")),
                "verdicts": verdicts,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
