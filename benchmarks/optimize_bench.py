"""Build and solve times of the plan's MILP for 12, 100 and 1,000 products × 30 days.

Usage::

    .venv/bin/python benchmarks/optimize_bench.py                 # 12, 100, 1000 products
    .venv/bin/python benchmarks/optimize_bench.py --products 12 100 --days 14 --workers 1
    .venv/bin/python benchmarks/optimize_bench.py --pyomo-max 1000  # also time the Pyomo build

Inputs are :func:`optimize.synthetic.synthetic_inputs` (seeded). For each size the script times,
separately: the parameters (scaling, calendar, portfolio series, lots, slots), the model build
(variables, constraints, objective, compiled to arrays), the Pyomo model written from it (up to
``--pyomo-max`` products: it is the slow writer), the solve (relaxation, rounding and, where it
runs, branch and bound; product by product above ``solver.decompose_above_products``) and the
explanations. ``build + solve`` is the figure of the issue ("1,000 products × 30 days: build +
solve ≤ 60 s on 2 cores"); ``--workers 2`` lets the product-by-product LPs use both cores.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this checkout's packages first, not the editable install's (another checkout)
sys.path.insert(0, str(ROOT))

from optimize import load_settings  # noqa: E402
from optimize.explain import explain  # noqa: E402
from optimize.model import build_model  # noqa: E402
from optimize.parameters import model_parameters  # noqa: E402
from optimize.pyomo_model import to_pyomo  # noqa: E402
from optimize.solve import solve_plan  # noqa: E402
from optimize.synthetic import synthetic_inputs  # noqa: E402


def run(n_products: int, days: int, workers: int, pyomo_max: int, seed: int) -> dict[str, object]:
    """Time every step for one size; return a row of the table."""
    settings = load_settings(overrides={"solver": {"workers": workers}})
    inputs = synthetic_inputs(n_products, days, seed, settings=settings)
    began = time.perf_counter()
    parameters = model_parameters(inputs, settings)
    parameters_s = time.perf_counter() - began
    plan = build_model(parameters)
    compiled = plan.compiled()
    solution = solve_plan(plan, settings.solver)
    explanations = explain(plan, solution, settings.solver)
    pyomo_s = float("nan")
    if n_products <= pyomo_max:
        # Written last and dropped at once: millions of live Pyomo objects slow down every
        # later allocation through the garbage collector, which would bias the other timings.
        written = to_pyomo(plan)
        pyomo_s = written.build_seconds
        del written
        gc.collect()
    return {
        "products": n_products,
        "days": days,
        "columns": compiled.n_cols,
        "rows": compiled.n_rows,
        "integers": int(compiled.integrality.sum()),
        "parameters_s": parameters_s,
        "build_s": plan.build_seconds,
        "pyomo_build_s": pyomo_s,
        "solve_s": solution.seconds,
        "build_plus_solve_s": parameters_s + plan.build_seconds + solution.seconds,
        "explain_s": explanations.seconds,
        "status": solution.status,
        "gap_pct": 100.0 * solution.mip_gap,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, nargs="+", default=[12, 100, 1000])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2, help="threads for product LPs")
    parser.add_argument("--pyomo-max", type=int, default=100, help="largest size to write in Pyomo")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(
        f"# optimize benchmark: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, workers={args.workers}"
    )
    header = (
        "| products × days | columns | rows | integers | parameters s | build s | Pyomo build s "
        "| solve s | build + solve s | explain s | status | gap % |"
    )
    print(header)
    print("|---" * 12 + "|")
    for n in args.products:
        row = run(n, args.days, args.workers, args.pyomo_max, args.seed)
        pyomo_s = float(row["pyomo_build_s"])
        pyomo = "—" if math.isnan(pyomo_s) else f"{pyomo_s:.2f}"
        print(
            f"| {row['products']} × {row['days']} | {row['columns']:,} | {row['rows']:,} "
            f"| {row['integers']:,} | {row['parameters_s']:.2f} | {row['build_s']:.2f} | {pyomo} "
            f"| {row['solve_s']:.2f} | {row['build_plus_solve_s']:.2f} | {row['explain_s']:.2f} "
            f"| {row['status']} | {row['gap_pct']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
