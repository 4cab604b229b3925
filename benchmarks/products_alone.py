"""Every product of a data set forecast alone: a model judged on series it was not tuned on.

A bank that tries rainmaker on one product brings that product's flows and nothing else, so the
global model has no other products to learn from and the intervals no other products' errors.
This script cuts a data set into single-product data sets (each product's last
``--history-days`` of flows before the first origin, 13 months by default) and, from four weekly
origins, forecasts 28 days with the default models, refitted at each origin
(:func:`forecast.evaluation.evaluate_forecast`). Printed per product and flow: p50 WAPE of
``auto`` and of the seasonal naive, ``auto``'s p10–p90 coverage and the bias of its medians
(``Σ p50 / Σ actual − 1``), then the means and the products where ``auto`` loses to the naive.

    .venv/bin/python benchmarks/products_alone.py [--data data/sample] [--origin 2022-03-01]
                                                  [--products P01,P02] [--history-days 396]
                                                  [--adapt]

``--adapt`` forecasts with bands that follow the last week (``Forecaster(adapt=True)``).

Products whose flows begin less than ``--min-history-days`` before the origin, or end before the
last origin's horizon, are skipped (and named).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

# the protocol and scores of benchmarks/single_series.py (beside this script, on its path)
from single_series import FLOWS, HORIZON, ORIGINS, summarise

ROOT = Path(__file__).resolve().parents[1]
# this checkout's packages first, not the editable install's (another checkout)
sys.path.insert(0, str(ROOT))

from forecast import DEFAULT_MODELS  # noqa: E402
from forecast.evaluation import evaluate_forecast  # noqa: E402
from rainmaker.dataset import Dataset, load_dataset  # noqa: E402


def product_alone(dataset: Dataset, product_id: str, first_day: pd.Timestamp) -> Dataset:
    """The data set of ``product_id`` alone, its flows from ``first_day`` on."""
    one = dataset.select(product_id)
    flows = one.flows[one.flows["date"] >= first_day].reset_index(drop=True)
    return dataclasses.replace(one, flows=flows)


def measure(
    dataset: Dataset,
    product_id: str,
    origin: pd.Timestamp,
    history_days: int,
    forecaster_params: dict[str, object] | None = None,
) -> pd.DataFrame:
    """Per model and flow of one product alone: ``wape``, ``coverage_80`` and ``bias``
    (``single_series.summarise``)."""
    one = product_alone(dataset, product_id, origin - pd.Timedelta(days=history_days))
    end = origin + pd.Timedelta(days=HORIZON + 7 * (ORIGINS - 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluation = evaluate_forecast(
            one,
            origin,
            end,
            HORIZON,
            DEFAULT_MODELS,
            step_days=7,
            refit_every_days=7,
            forecaster_params=forecaster_params,
        )
    rows = evaluation.forecasts
    rows = rows[rows["variable"].isin(FLOWS) & rows["actual"].notna()]
    rows = rows.assign(
        product_id=product_id,
        inside=(rows["actual"] >= rows["p10"]) & (rows["actual"] <= rows["p90"]),
    )
    return summarise(rows, by=("product_id", "model", "variable"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/sample")
    parser.add_argument("--origin", default="2022-03-01", help="the first origin")
    parser.add_argument("--products", default="", help="comma-separated ids (default: all)")
    parser.add_argument("--history-days", type=int, default=396)
    parser.add_argument("--min-history-days", type=int, default=120)
    parser.add_argument(
        "--adapt", action="store_true", help="bands that follow the last week (Forecaster adapt)"
    )
    args = parser.parse_args(argv)
    dataset = load_dataset(args.data)
    origin = pd.Timestamp(args.origin)
    last_day = origin + pd.Timedelta(days=HORIZON + 7 * (ORIGINS - 1))
    wanted = [p for p in args.products.split(",") if p] or list(dataset.product_ids)
    began = time.perf_counter()
    frames, skipped = [], []
    for product_id in wanted:
        dates = dataset.flows.loc[dataset.flows["product_id"] == product_id, "date"]
        if (
            dates.min() > origin - pd.Timedelta(days=args.min_history_days)
            or dates.max() < last_day
        ):
            skipped.append(product_id)
            continue
        params = {"adapt": True} if args.adapt else None
        frames.append(measure(dataset, product_id, origin, args.history_days, params))
    if not frames:
        print("no product has the history and the days after the origin asked for", file=sys.stderr)
        return 2
    table = pd.concat(frames, ignore_index=True)
    auto = table[table["model"] == "auto"].set_index(["product_id", "variable"])
    naive = table[table["model"] == "seasonal_naive"].set_index(["product_id", "variable"])
    shown = pd.DataFrame(
        {
            "auto_wape": auto["wape"],
            "naive_wape": naive["wape"],
            "auto_coverage": auto["coverage_80"],
            "auto_bias": auto["bias"],
        }
    )
    pd.set_option("display.width", 200)
    print(
        f"{len(frames)} products alone, origins {origin:%Y-%m-%d} + 0, 7, 14, 21 days, "
        f"{HORIZON} days each, {args.history_days} days of history"
        + (f"; skipped {', '.join(skipped)}" if skipped else "")
    )
    print(shown.round(3).to_string())
    print("\nmean over products:")
    print(shown.groupby(level="variable").mean().round(3).to_string())
    loses = list(shown.index[shown["auto_wape"] > shown["naive_wape"]])
    print(f"\nauto loses to the seasonal naive on: {loses or 'none'}")
    print(f"\n{time.perf_counter() - began:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
