"""Speed and memory of the forecast at scale: fit + predict for many synthetic products.

Builds a seeded synthetic panel in memory (:func:`forecast.toy_data.toy_dataset`: weekdays,
Chinese holidays, quarter ends, yield spread, exposure, quotas; 1,000 products × 3 years by
default), then times :meth:`forecast.Forecaster.fit` (rolling-origin backtest over the last year,
selection, final fits, exposure response) and :meth:`forecast.Forecaster.predict` (30-day
horizon), and prints wall times and the process's peak resident memory.

Run from the repository root::

    .venv/bin/python benchmarks/forecast_bench.py
    .venv/bin/python benchmarks/forecast_bench.py --products 200 \
        --models seasonal_naive,ets,lightgbm

The per-product statistical baseline (``ets``) costs time in proportion to the number of
products and is left out by default at this scale; pass ``--models`` to include it.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# this checkout's packages first, not the editable install's (another checkout)
sys.path.insert(0, str(ROOT))

from forecast import Forecaster  # noqa: E402
from forecast.toy_data import toy_dataset  # noqa: E402


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def process_cpu_seconds() -> float:
    """CPU seconds of this process so far, all threads (user + system): on a shared machine
    it moves much less with the other jobs' load than the wall time does."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--horizon", type=int, default=30)
    parser.add_argument("--models", default="seasonal_naive,lightgbm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help=(
            "LightGBM threads, at most 2 (fits under 150,000 rows use one; with 2 the "
            "backtest's two flows train and predict side by side on one each, and the "
            "exposure response is estimated on a thread of its own meanwhile)"
        ),
    )
    args = parser.parse_args(argv)

    end = pd.Timestamp("2021-12-31")
    start = end - pd.DateOffset(years=args.years) + pd.Timedelta(days=1)
    started = time.perf_counter()
    dataset = toy_dataset(args.products, f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}", seed=args.seed)
    generated = time.perf_counter() - started
    memory_data = peak_rss_mb()
    print(
        f"synthetic panel: {args.products} products x {dataset.flows['date'].nunique()} days "
        f"= {len(dataset.flows):,} rows in {generated:.1f} s (peak RSS {memory_data:,.0f} MB)"
    )

    models = tuple(m.strip() for m in args.models.split(","))
    forecaster = Forecaster(
        models=models, horizon=args.horizon, seed=args.seed, n_jobs=args.threads
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started, cpu_started = time.perf_counter(), process_cpu_seconds()
        forecaster.fit(dataset)
        fitted = time.perf_counter() - started
        started = time.perf_counter()
        result = forecaster.predict(dataset)
        predicted = time.perf_counter() - started
        cpu = process_cpu_seconds() - cpu_started
    memory = peak_rss_mb()
    backtest = forecaster.backtest_
    n_origins = 0 if backtest is None else len(backtest.origins)
    fit_seconds = {} if backtest is None else backtest.fit_seconds
    print(f"models: {', '.join(models)}; chosen: {result.model_name}")
    print(
        f"fit (backtest over {n_origins} weekly origins, selection, final fit, exposure "
        f"response): {fitted:.1f} s; backtest model fits: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in fit_seconds.items())
    )
    print(f"predict {args.horizon} days, {forecaster.n_paths} paths: {predicted:.2f} s")
    print(f"fit + predict: {fitted + predicted:.1f} s (CPU, all threads: {cpu:.1f} s)")
    print(f"forecast table: {len(result.table):,} rows")
    print(f"peak resident memory of the process: {memory:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
