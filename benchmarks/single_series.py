"""Single-series accuracy: the forecast on one product alone, as a new user would try it.

Seeded data sets of :func:`forecast.toy_data.single_series_dataset` (one product each):
``level_shift`` (13 months, the level falls for six months and steadies on the first origin),
``steady`` (13 months) and ``new`` (launched 8 weeks before the first origin). From four weekly
origins (the first one, then 7, 14 and 21 days later: the four weeks after the shifted
product's level steadies), every model and ``auto`` forecast the next 28 days, refitted at
each origin. Printed:

- per data set, model and flow: p50 WAPE, p10–p90 coverage, and the bias of the medians over
  the four origins, ``Σ p50 / Σ actual − 1`` (acceptance for ``level_shift``: within ±5 %);
- mean over seeds: the same, and whether ``auto`` beats the seasonal naive on WAPE;
- ``auto``'s p10–p90 coverage per horizon band (days 1–7, 8–14, 15–21, 22–28) pooled over
  seeds (target 75–85 % in every band).

    .venv/bin/python benchmarks/single_series.py [--seeds 0,1,2] [--kinds level_shift,steady,new]
                                                 [--adapt]

``--adapt`` forecasts with bands that follow the last week (``Forecaster(adapt=True)``).
``--steps 0.5@3,2@8`` adds, per item ``FACTOR@WEEKS``, a ``steady`` product whose size changes
in a day ``WEEKS`` weeks before the first origin (subscriptions, redemptions, demand and AUM
multiplied by ``FACTOR`` from then on: a large holder group leaving or joining), printed as
kind ``step0.5@3``: a level change the models were not tuned on, abrupt where ``level_shift``
is gradual. ``--growths 2,0.5`` adds, per factor, a ``steady`` product whose size grows (or
shrinks) steadily by that factor a year over its whole history and horizon (kind
``growth2``): a trend that goes on, where ``level_shift``'s stops.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# this checkout's packages first, not the editable install's (another checkout)
sys.path.insert(0, str(ROOT))

from forecast import ForecastFallbackWarning  # noqa: E402
from forecast.evaluation import evaluate_forecast  # noqa: E402
from forecast.toy_data import SINGLE_SERIES_KINDS, SingleSeries, single_series_dataset  # noqa: E402

HORIZON = 28
ORIGINS = 4
FLOWS = ("subscriptions", "redemptions")
BANDS = ((1, 7), (8, 14), (15, 21), (22, 28))


def _resized(
    series: SingleSeries, factor: Callable[[pd.Index], np.ndarray], kind: str
) -> SingleSeries:
    """``series`` with its size multiplied day by day by ``factor(dates)``: subscriptions,
    redemptions, demand and AUM (CNY), and the true level; named ``kind``."""
    flows = series.dataset.flows.copy()
    on_rows = factor(pd.Index(flows["date"]))
    for column in ("subscriptions", "redemptions", "demand", "aum"):
        if column in flows.columns:
            flows[column] = flows[column] * on_rows
    return dataclasses.replace(
        series,
        dataset=dataclasses.replace(series.dataset, flows=flows),
        kind=kind,
        level=series.level * factor(series.level.index),
    )


def stepped(series: SingleSeries, factor: float, weeks: int) -> SingleSeries:
    """``series`` with its size multiplied by ``factor`` from ``weeks`` weeks before its origin
    on (:func:`_resized`)."""
    day = series.origin - pd.Timedelta(days=7 * weeks)
    return _resized(
        series,
        lambda dates: np.where(dates >= day, factor, 1.0),
        f"step{factor:g}@{weeks}",
    )


def grown(series: SingleSeries, yearly: float) -> SingleSeries:
    """``series`` with its size multiplied by ``yearly`` ** (days since its first day / 365)
    (:func:`_resized`)."""
    first = series.dataset.flows["date"].min()
    return _resized(
        series,
        lambda dates: np.power(yearly, (dates - first).days.to_numpy() / 365.0),
        f"growth{yearly:g}",
    )


Change = Callable[[SingleSeries], SingleSeries]


def measure(
    kind: str,
    seed: int,
    models: tuple[str, ...],
    adapt: bool = False,
    change: Change | None = None,
) -> pd.DataFrame:
    """Every scored forecast of one data set: rows of
    :attr:`forecast.evaluation.EvaluationResult.forecasts` for the two flows, with ``kind``,
    ``seed`` and ``inside`` (the outcome lies in [p10, p90]); amounts in CNY. ``change``: what
    is done to the data set of ``kind`` first (:func:`stepped`, :func:`grown`)."""
    series = single_series_dataset(kind, seed, days_after=HORIZON + 7 * (ORIGINS - 1))
    if change is not None:
        series = change(series)
        kind = series.kind
    start = series.origin
    end = start + pd.Timedelta(days=HORIZON + 7 * (ORIGINS - 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        evaluation = evaluate_forecast(
            series.dataset,
            start,
            end,
            HORIZON,
            models,
            step_days=7,
            refit_every_days=7,
            forecaster_params={"adapt": adapt},
        )
    rows = evaluation.forecasts[evaluation.forecasts["variable"].isin(FLOWS)]
    rows = rows[rows["actual"].notna()]
    inside = (rows["actual"] >= rows["p10"]) & (rows["actual"] <= rows["p90"])
    return rows.assign(kind=kind, seed=seed, inside=inside)[
        ["kind", "seed", "model", "variable", "origin", "horizon", "actual", "p50", "inside"]
    ]


def summarise(
    rows: pd.DataFrame, by: tuple[str, ...] = ("kind", "seed", "model", "variable")
) -> pd.DataFrame:
    """Per ``by`` (default ``kind, seed, model, variable``): ``wape`` (p50), ``coverage_80``
    and ``bias`` (Σ p50 / Σ actual − 1); ``rows`` as :func:`measure` returns them (``actual``,
    ``p50``, ``inside``)."""
    grouped = rows.assign(error=(rows["actual"] - rows["p50"]).abs()).groupby(list(by), sort=False)
    sums = grouped[["error", "actual", "p50"]].sum()
    return pd.DataFrame(
        {
            "wape": sums["error"] / sums["actual"],
            "coverage_80": grouped["inside"].mean(),
            "bias": sums["p50"] / sums["actual"] - 1.0,
        }
    ).reset_index()


def coverage_by_band(rows: pd.DataFrame, model: str = "auto") -> pd.DataFrame:
    """``model``'s p10–p90 coverage per kind, flow and horizon band, pooled over seeds and
    origins (shares)."""
    chosen = rows[rows["model"] == model]
    band = np.select(
        [chosen["horizon"].between(a, b) for a, b in BANDS], [f"{a}-{b}" for a, b in BANDS], ""
    )
    table = chosen.assign(band=band).pivot_table(
        index=["kind", "variable"], columns="band", values="inside", aggfunc="mean", sort=False
    )
    return table[[f"{a}-{b}" for a, b in BANDS]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--kinds", default=",".join(SINGLE_SERIES_KINDS))
    parser.add_argument("--models", default="seasonal_naive,ets,lightgbm")
    parser.add_argument(
        "--adapt", action="store_true", help="bands that follow the last week (Forecaster adapt)"
    )
    parser.add_argument(
        "--steps",
        default="",
        help="FACTOR@WEEKS,...: steady products whose size changes in a day WEEKS weeks "
        "before the first origin",
    )
    parser.add_argument(
        "--growths",
        default="",
        help="FACTOR,...: steady products growing by FACTOR a year over their whole history",
    )
    args = parser.parse_args(argv)
    models = tuple(args.models.split(","))
    sets: list[tuple[str, Change | None]] = [(kind, None) for kind in args.kinds.split(",") if kind]
    for item in filter(None, args.steps.split(",")):
        factor, weeks = item.split("@")
        sets.append(("steady", functools.partial(stepped, factor=float(factor), weeks=int(weeks))))
    for item in filter(None, args.growths.split(",")):
        sets.append(("steady", functools.partial(grown, yearly=float(item))))
    frames = []
    for kind, change in sets:
        for seed in (int(s) for s in args.seeds.split(",")):
            started = time.perf_counter()
            frames.append(measure(kind, seed, models, args.adapt, change))
            label = frames[-1]["kind"].iloc[0] if len(frames[-1]) else kind
            print(f"{label} seed {seed}: {time.perf_counter() - started:.1f} s", flush=True)
    rows = pd.concat(frames, ignore_index=True)
    per_set = summarise(rows)
    pd.set_option("display.width", 160)
    print("\nper data set:")
    print(per_set.to_string(index=False, float_format="{:.3f}".format))
    print("\nmean over seeds:")
    table = per_set.groupby(["kind", "variable", "model"], sort=False)[
        ["wape", "coverage_80", "bias"]
    ].mean()
    print(table.to_string(float_format="{:.3f}".format))
    naive = table.xs("seasonal_naive", level="model")["wape"]
    auto = table.xs("auto", level="model")["wape"]
    print("\nauto beats seasonal naive (mean WAPE over seeds):")
    print((auto < naive).rename("beats").to_string())
    print("\nauto p10-p90 coverage per horizon band (days), pooled over seeds and origins:")
    print(coverage_by_band(rows).to_string(float_format="{:.1%}".format))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
