"""Fit time of the per-product models, per product and flow, on ``data/sample``.

Each model is fitted on the sample's panel as known at each as-of day (a full fit: ``ets``
and ``arima`` choose their form or order), then refitted keeping what it chose where it can
(``chosen=``, as ``Forecaster.refit`` does between full fits); printed: milliseconds per
product and flow (the panel's products × the two flows), the best of ``--repeat`` runs, and
for ``arima`` how often each order was chosen.

    .venv/bin/python benchmarks/model_fit_time.py [--models ets,theta,arima] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this checkout's packages first, not the editable install's (another checkout)
sys.path.insert(0, str(ROOT))

from forecast.api import make_model  # noqa: E402
from forecast.panel import MODELLED_VARIABLES, build_panel  # noqa: E402
from rainmaker.dataset import load_dataset  # noqa: E402

AS_OF = ("2021-06-14", "2021-09-14", "2021-12-14", "2022-03-14")


def best_seconds(model, panel, repeat: int) -> float:
    """The shortest wall time of ``repeat`` fits of ``model`` on ``panel``, seconds."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        model.fit(panel)
        times.append(time.perf_counter() - began)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="ets,theta,arima")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    dataset = load_dataset(ROOT / "data" / "sample")
    orders: Counter[str] = Counter()
    print(f"{'model':8s} {'as of':10s} {'full fit':>9s} {'refit':>9s}  (ms per product and flow)")
    for name in args.models.split(","):
        for as_of in AS_OF:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                panel = build_panel(dataset, as_of)
                flows = panel.n_products * len(MODELLED_VARIABLES)
                model = make_model(name)
                full = best_seconds(model, panel, args.repeat)
                refit = float("nan")
                chosen = getattr(model, "chosen_forms", None)
                if chosen is not None:
                    keep = make_model(name, chosen=chosen())
                    refit = best_seconds(keep, panel, args.repeat)
                    if name == "arima":
                        orders.update(o for forms in chosen().values() for o in forms.values())
            print(f"{name:8s} {as_of:10s} {1e3 * full / flows:9.1f} {1e3 * refit / flows:9.1f}")
    if orders:
        print("arima orders chosen:", ", ".join(f"{o} {n}" for o, n in orders.most_common()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
