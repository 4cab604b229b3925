"""rainmaker's single-series models against statsforecast's AutoETS, AutoTheta and AutoARIMA.

A development comparison only: statsforecast is not a dependency of rainmaker. It needs a
Python with statsforecast installed, given by ``--sf-python`` (for example a separate virtual
environment: ``python3.11 -m venv /tmp/sfvenv && /tmp/sfvenv/bin/pip install statsforecast``;
its pandas differs from the pinned one, so not the project's ``.venv``).

The series are those of ``benchmarks/single_series.py`` (one product alone: ``level_shift``,
``steady``, ``new``; four weekly origins, 28 days each, models refitted at each origin). For
every origin the history up to it, per flow, is written to a CSV file; the statsforecast Python
fits ``AutoETS(season_length=7)``, ``AutoTheta(season_length=7)`` and
``AutoARIMA(season_length=7)`` on each history (raw CNY, as a user would call them) and
forecasts 28 days; the point forecasts are scored like rainmaker's p50: WAPE = Σ|actual −
forecast| / Σ actual per data set and flow, then averaged over seeds. Ratios: each rainmaker
model's WAPE over the best statsforecast model's, and ``arima`` over ``AutoARIMA``'s.

    .venv/bin/python benchmarks/statsforecast_compare.py --sf-python /tmp/sfvenv/bin/python \\
        [--seeds 0,1,2,3,4,5,6,7] [--kinds level_shift,steady,new]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HORIZON = 28
ORIGINS = 4
SEASON_DAYS = 7
FLOWS = ("subscriptions", "redemptions")
# statsforecast's models compared, the column names of its forecasts
STATSFORECAST_MODELS = ("AutoETS", "AutoTheta", "AutoARIMA")


def statsforecast_worker(source: str, target: str) -> None:
    """Run in the statsforecast Python: fit AutoETS, AutoTheta and AutoARIMA on every
    ``unique_id`` of ``source`` (columns ``unique_id, ds, y``) and write their ``HORIZON``-day
    point forecasts to ``target`` (columns ``unique_id, ds`` and one per model)."""
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    history = pd.read_csv(source, parse_dates=["ds"])
    models = [
        AutoETS(season_length=SEASON_DAYS),
        AutoTheta(season_length=SEASON_DAYS),
        AutoARIMA(season_length=SEASON_DAYS),
    ]
    forecaster = StatsForecast(models=models, freq="D", n_jobs=1)
    out = forecaster.forecast(df=history, h=HORIZON)
    out.reset_index().to_csv(target, index=False)


def main(argv: list[str] | None = None) -> int:
    import warnings

    import pandas as pd

    sys.path.insert(0, str(Path(__file__).parent))
    from single_series import measure

    from forecast import ForecastFallbackWarning
    from forecast.toy_data import single_series_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sf-python", required=True, help="a Python with statsforecast")
    parser.add_argument("--seeds", default="0,1,2,3,4,5,6,7")
    parser.add_argument("--kinds", default="level_shift,steady,new")
    parser.add_argument("--models", default="seasonal_naive,ets,theta,arima,lightgbm")
    args = parser.parse_args(argv)
    models = tuple(args.models.split(","))
    seeds = [int(s) for s in args.seeds.split(",")]
    kinds = args.kinds.split(",")

    ours, histories = [], []
    started = time.perf_counter()
    for kind in kinds:
        for seed in seeds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ForecastFallbackWarning)
                ours.append(measure(kind, seed, models))
            series = single_series_dataset(kind, seed, days_after=HORIZON + 7 * (ORIGINS - 1))
            flows = series.dataset.flows
            for week in range(ORIGINS):
                origin = series.origin + pd.Timedelta(days=7 * week)
                known = flows[flows["date"] <= origin]
                for flow in FLOWS:
                    histories.append(
                        pd.DataFrame(
                            {
                                "unique_id": f"{kind}|{seed}|{flow}|{origin:%Y-%m-%d}",
                                "ds": known["date"],
                                "y": known[flow].astype(float),
                            }
                        )
                    )
    rainmaker_seconds = time.perf_counter() - started
    rows = pd.concat(ours, ignore_index=True)
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "history.csv", Path(folder) / "forecast.csv"
        pd.concat(histories, ignore_index=True).to_csv(source, index=False)
        started = time.perf_counter()
        subprocess.run([args.sf_python, __file__, "--worker", str(source), str(target)], check=True)
        sf_seconds = time.perf_counter() - started
        theirs = pd.read_csv(target, parse_dates=["ds"])
    parts = theirs["unique_id"].str.split("|", expand=True)
    theirs = theirs.assign(
        kind=parts[0],
        seed=parts[1].astype(int),
        variable=parts[2],
        origin=pd.to_datetime(parts[3]),
    )
    theirs["horizon"] = (theirs["ds"] - theirs["origin"]).dt.days
    actual = rows[rows["model"] == "seasonal_naive"][
        ["kind", "seed", "variable", "origin", "horizon", "actual"]
    ]
    theirs = theirs.merge(actual, on=["kind", "seed", "variable", "origin", "horizon"])
    long = [rows[["kind", "seed", "model", "variable", "actual", "p50"]]]
    for name in STATSFORECAST_MODELS:
        long.append(
            theirs.assign(model=f"sf_{name}", p50=theirs[name])[
                ["kind", "seed", "model", "variable", "actual", "p50"]
            ]
        )
    scored = pd.concat(long, ignore_index=True)
    scored["error"] = (scored["actual"] - scored["p50"]).abs()
    sums = scored.groupby(["kind", "variable", "model", "seed"], sort=False)[
        ["error", "actual"]
    ].sum()
    wape = (
        (sums["error"] / sums["actual"]).groupby(["kind", "variable", "model"], sort=False).mean()
    )
    table = wape.unstack("model")
    theirs_names = [f"sf_{name}" for name in STATSFORECAST_MODELS]
    order = [m for m in ("auto", "ets", "theta", "arima", *theirs_names) if m in table]
    order += [m for m in table.columns if m not in order]
    table = table[order]
    best_sf = table[theirs_names].min(axis=1)
    for ours_name in ("auto", "ets", "theta", "arima"):
        if ours_name in table:
            table[f"{ours_name}/best_sf"] = table[ours_name] / best_sf
    if "arima" in table:
        table["arima/sf_AutoARIMA"] = table["arima"] / table["sf_AutoARIMA"]
    pd.set_option("display.width", 200)
    print(f"p50 WAPE, mean over seeds {args.seeds}, {ORIGINS} weekly origins x {HORIZON} days")
    print(table.to_string(float_format="{:.3f}".format))
    print(
        f"\nrainmaker (all models, evaluation with quantiles): {rainmaker_seconds:.1f} s; "
        f"statsforecast ({len(STATSFORECAST_MODELS)} models, point forecasts, incl. import and "
        f"JIT): {sf_seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        statsforecast_worker(sys.argv[2], sys.argv[3])
        raise SystemExit(0)
    raise SystemExit(main())
