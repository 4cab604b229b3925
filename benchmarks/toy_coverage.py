"""Coverage on panels the calibration was not tuned on: the quick toy generator.

Two seeded panels of :func:`forecast.toy_data.toy_dataset` (8 products, 2019-01 to 2021-06, one
launched three weeks before the end; a different generator from the sample's and the single
series'), origins every 14 days from 2020-07-07, 14-day horizon, refit every 56 days. Prints,
per seed and variable, ``auto``'s p50 WAPE, its p10-p90 coverage over all horizons and the
lowest and highest coverage of a single horizon (shares; each horizon pools 26 origins x 8
products, so about ±5 points of it is sampling noise).

    .venv/bin/python benchmarks/toy_coverage.py [--seeds 5,6]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# this checkout's packages first, not the editable install's (another checkout)
sys.path.insert(0, str(ROOT))

from forecast.evaluation import evaluate_forecast  # noqa: E402
from forecast.toy_data import toy_dataset  # noqa: E402

VARIABLES = ("subscriptions", "redemptions", "net_flow", "aum")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="5,6")
    args = parser.parse_args(argv)
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        dataset = toy_dataset(
            n_products=8, start="2019-01-01", end="2021-06-30", seed=seed, new_products=1
        )
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluation = evaluate_forecast(
                dataset,
                "2020-07-07",
                "2021-06-30",
                14,
                ("seasonal_naive", "ets", "lightgbm"),
                step_days=14,
                refit_every_days=56,
            )
        print(f"seed {seed}: {time.perf_counter() - started:.1f} s", flush=True)
        per_horizon = evaluation.metrics[evaluation.metrics["model"] == "auto"]
        overall = evaluation.summary[evaluation.summary["model"] == "auto"].set_index("variable")
        for variable in VARIABLES:
            horizons = per_horizon[per_horizon["variable"] == variable]["coverage_80"]
            rows.append(
                {
                    "seed": seed,
                    "variable": variable,
                    "wape": overall.loc[variable, "wape"],
                    "coverage_80": overall.loc[variable, "coverage_80"],
                    "lowest_horizon": horizons.min(),
                    "highest_horizon": horizons.max(),
                }
            )
    print(pd.DataFrame(rows).to_string(index=False, float_format="{:.3f}".format))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
