"""Benchmark of the starting book inferred from published yields (no ``investment_mix`` table).

A bank's data set has flows and the published 7-day yield / 万份收益, not its products'
holdings or investment rules. Without ``investment_mix.csv`` the replay infers each product's
mix from the published yields before its first day (:func:`rainmaker.investment_mix.infer_mix`)
and ``none`` then invests by it. This script copies a data set without that table, replays
``none`` over a window with the default warm-up, and prints per product the mean absolute gap
between the replayed and the published 7-day yield over the window (bp), the inferred mix
beside the table's (where the original has one), and the mean gap over the products. Target:
a mean absolute gap of at most 3 bp.

Two worlds are measured: ``demand`` as the data set has it (what ``rainmaker backtest --policy
none`` replays; ``none`` then also accepts the demand history's quotas refused) and
``censored`` (history's accepted subscriptions as the demand, so the flows are history's and the
gap is the book's alone).

Run from the repository root:

    .venv/bin/python benchmarks/inferred_mix_bench.py
    .venv/bin/python benchmarks/inferred_mix_bench.py --start 2020-06-16 --end 2021-06-15
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rainmaker.dataset import load_dataset  # noqa: E402
from rainmaker.investment_mix import read_investment_mix  # noqa: E402
from simulate.policies import NoPolicy  # noqa: E402
from simulate.replay import DEFAULT_WARMUP_DAYS, replay  # noqa: E402

TARGET_GAP_BP = 3.0
DEFAULT_PRODUCTS = ",".join(f"P{i:02d}" for i in range(1, 13))


def gap_by_product(daily: pd.DataFrame, flows: pd.DataFrame) -> pd.Series:
    """Mean |replayed − published 7-day yield| per product over the window's rows, bp."""
    window = daily.loc[~daily["warmup"]].set_index(["product_id", "date"])["yield_7d"]
    published = flows.set_index(["product_id", "date"])["yield_7d"].reindex(window.index)
    gap = ((window - published).abs() * 100).dropna()
    return gap.groupby(level="product_id").mean()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--start", default="2021-06-16")
    parser.add_argument("--end", default="2022-06-15")
    parser.add_argument("--products", default=DEFAULT_PRODUCTS)
    parser.add_argument("--warmup", type=int, default=DEFAULT_WARMUP_DAYS)
    args = parser.parse_args(argv)
    products = [p.strip() for p in args.products.split(",") if p.strip()]

    original = load_dataset(args.data)
    true_mix = read_investment_mix(original.tables)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "no_mix"
        shutil.copytree(args.data, copy)
        for name in ("investment_mix.csv", "investment_mix.parquet"):
            (copy / name).unlink(missing_ok=True)
        bank = load_dataset(copy)
    censored = dataclasses.replace(
        bank, flows=bank.flows.assign(demand=bank.flows["subscriptions"])
    )

    columns: dict[str, pd.Series] = {}
    mixes = {}
    for label, data in (("demand", bank), ("censored", censored)):
        began = time.perf_counter()
        result = replay(
            data, args.start, args.end, NoPolicy(), products=products, warmup_days=args.warmup
        )
        columns[f"gap_{label}_bp"] = gap_by_product(result.daily, data.flows)
        mixes = _first_morning_mixes(data, args, products)
        print(f"none replay ({label}): {time.perf_counter() - began:.0f} s", file=sys.stderr)
    table = pd.DataFrame(columns)
    shown = ("cash", "repo_1d", "repo_7d", "ncd_1m", "ncd_3m", "ncd_6m")

    def fmt(weights) -> str:
        return "/".join(f"{100 * weights.get(k, 0.0):.0f}" for k in shown)

    table["inferred_mix_pct"] = [fmt(mixes[p].weights) for p in table.index]
    table["table_mix_pct"] = [
        fmt(true_mix[p].weights) if p in true_mix else "" for p in table.index
    ]
    print(
        f"none replay of {args.start}..{args.end} after {args.warmup} days of warm-up, without "
        f"investment_mix.csv; mean |replayed - published yield_7d| per product, bp; mixes in % "
        f"of {'/'.join(shown)}:"
    )
    print(table.round(2).to_string())
    mean_demand = float(table["gap_demand_bp"].mean())
    mean_censored = float(table["gap_censored_bp"].mean())
    print(
        f"mean gap: {mean_demand:.2f} bp (demand), {mean_censored:.2f} bp (censored); "
        f"target <= {TARGET_GAP_BP:g} bp: {'met' if mean_demand <= TARGET_GAP_BP else 'MISSED'}"
    )
    return 0


def _first_morning_mixes(data, args, products):
    """The mixes the replay inferred (the rule every product started from)."""
    from simulate.replay import ReplaySettings, managed_mixes, replay_first_day

    first_day = replay_first_day(data, args.start, args.warmup)
    return managed_mixes(data, products, ReplaySettings(), first_day)


if __name__ == "__main__":
    raise SystemExit(main())
