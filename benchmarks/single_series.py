"""Single-series accuracy: the forecast on one product alone, as a new user would try it.

Three seeded data sets of :func:`forecast.toy_data.single_series_dataset` (one product each):
``level_shift`` (13 months, the level falls for six months and steadies on the first origin),
``steady`` (13 months) and ``new`` (launched 8 weeks before the first origin). From four weekly
origins (the first one, then 7, 14 and 21 days later), every model and ``auto`` forecast the
next 28 days, refitted at each origin; scored on p50 WAPE and p10–p90 coverage per flow. For
``level_shift`` the bias of the first origin's median over its 28 days,
``mean(p50) / mean(actual) − 1``, is shown as well (acceptance: within ±5 %).

    .venv/bin/python benchmarks/single_series.py [--seeds 0,1,2] [--kinds level_shift,steady,new]
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd

from forecast import ForecastFallbackWarning
from forecast.evaluation import evaluate_forecast
from forecast.toy_data import SINGLE_SERIES_KINDS, single_series_dataset

HORIZON = 28
ORIGINS = 4
FLOWS = ("subscriptions", "redemptions")


def measure(kind: str, seed: int, models: tuple[str, ...]) -> pd.DataFrame:
    """Rows ``kind, seed, model, variable, wape, coverage_80, bias`` for one data set."""
    series = single_series_dataset(kind, seed, days_after=HORIZON + 7 * (ORIGINS - 1))
    start = series.origin
    end = start + pd.Timedelta(days=HORIZON + 7 * (ORIGINS - 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        evaluation = evaluate_forecast(
            series.dataset, start, end, HORIZON, models, step_days=7, refit_every_days=7
        )
    summary = evaluation.summary[evaluation.summary["variable"].isin(FLOWS)]
    first = evaluation.forecasts[evaluation.forecasts["origin"] == start]
    bias = (
        first.groupby(["model", "variable"])[["p50", "actual"]]
        .mean()
        .pipe(lambda f: f["p50"] / f["actual"] - 1.0)
        .rename("bias")
    )
    out = summary.merge(bias.reset_index(), on=["model", "variable"], how="left")
    return out.assign(kind=kind, seed=seed)[
        ["kind", "seed", "model", "variable", "wape", "coverage_80", "bias"]
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--kinds", default=",".join(SINGLE_SERIES_KINDS))
    parser.add_argument("--models", default="seasonal_naive,ets,lightgbm")
    args = parser.parse_args(argv)
    models = tuple(args.models.split(","))
    frames = []
    for kind in args.kinds.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            started = time.perf_counter()
            frames.append(measure(kind, seed, models))
            print(f"{kind} seed {seed}: {time.perf_counter() - started:.1f} s", flush=True)
    rows = pd.concat(frames, ignore_index=True)
    pd.set_option("display.width", 160)
    print("\nper data set:")
    print(rows.to_string(index=False, float_format="{:.3f}".format))
    print("\nmean over seeds:")
    table = rows.groupby(["kind", "variable", "model"], sort=False)[
        ["wape", "coverage_80", "bias"]
    ].mean()
    print(table.to_string(float_format="{:.3f}".format))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
