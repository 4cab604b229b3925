"""Speed of one backtest policy: wall-clock seconds by step and peak memory.

Replays ``--start..--end`` (default: the 90 days to 2022-06-15 of data/sample) for
``--products`` (default P01..P12) under one policy (default ``optimizer``) and prints where the
time went:

- ``forecast``: the policy's forecasts, split into the first full fit, the weekly refits and the
  daily predictions; the refits run in a worker process beside the replay (simulate/refits.py),
  so what they cost the replay is its wait for them (``refit wait``), unless ``--inline-refits``
  fits them in the replay's process (the results are the same);
- ``plan``: the optimizer's plans, split into plan inputs, model build, solve (relaxation,
  rounding, HiGHS) and the rest (result frames);
- ``replay``: everything else (the replayed world, the executor, the per-day history);
- ``write``: the output files (daily.csv, metrics.json, decisions.csv, run.json, the chart);

with the replay's CPU seconds (the worker's included), the peak resident memory of the process
and of the worker, and the machine's load
averages (the timings of a shared machine are only comparable back to back). ``--compare DIR``
checks that ``daily.csv``, ``metrics.json`` and ``decisions.csv`` are byte for byte those of an
earlier run in ``DIR``; ``--profile FILE`` writes a cProfile of the replay. Not a test; run from
the repository root:

    .venv/bin/python benchmarks/backtest_speed.py
    .venv/bin/python benchmarks/backtest_speed.py --start 2021-06-16 --end 2022-06-15
    .venv/bin/python benchmarks/backtest_speed.py --compare out/speed_before
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import json
import os
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rainmaker.dataset import load_dataset  # noqa: E402
from simulate.backtest import PolicyOptions, make_policy, write_result  # noqa: E402
from simulate.replay import ReplaySettings, replay  # noqa: E402

COMPARED = ("daily.csv", "metrics.json", "decisions.csv")
SECONDS: defaultdict[str, float] = defaultdict(float)
COUNTS: defaultdict[str, int] = defaultdict(int)


def _timed(owner: object, attribute: str, label: str) -> None:
    """Wrap ``owner.attribute`` so that its wall-clock time adds up under ``label``."""
    inner = getattr(owner, attribute)

    @functools.wraps(inner)
    def wrapper(*args, **kwargs):
        began = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            SECONDS[label] += time.perf_counter() - began
            COUNTS[label] += 1

    setattr(owner, attribute, wrapper)


def _instrument() -> None:
    """Time the steps inside the forecast and the plan (wrappers only; nothing else changes)."""
    import optimize.model
    import optimize.plan
    import optimize.solve
    from forecast.api import Forecaster

    _timed(Forecaster, "fit", "forecast.fit")
    _timed(Forecaster, "refit", "forecast.refit")
    _timed(Forecaster, "predict", "forecast.predict")
    _timed(optimize.plan, "inputs_from_forecast", "plan.inputs")
    _timed(optimize.plan, "model_parameters", "plan.parameters")
    _timed(optimize.plan, "build_model", "plan.build")
    _timed(optimize.plan, "solve_plan", "plan.solve")


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
        return f"load {one:.2f}/{five:.2f} (1/5 min) on {os.cpu_count()} cores"
    except OSError:
        return "load unknown"


def _cpu_seconds() -> float:
    """User + system seconds of this process and its ended children (the refit worker ends
    with the replay)."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


def _compare(out: Path, reference: Path) -> bool:
    same = True
    for name in COMPARED:
        mine, theirs = out / name, reference / name
        if not theirs.exists():
            print(f"compare: {theirs} is missing")
            same = False
        elif mine.read_bytes() != theirs.read_bytes():
            print(f"compare: {name} DIFFERS from {theirs}")
            same = False
        else:
            print(f"compare: {name} identical")
    return same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--start", default="2022-03-17")
    parser.add_argument("--end", default="2022-06-15")
    parser.add_argument("--policy", default="optimizer")
    parser.add_argument("--products", default=",".join(f"P{i:02d}" for i in range(1, 13)))
    parser.add_argument("--horizon", type=int, default=14)
    parser.add_argument("--refit-every", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "backtest_speed")
    parser.add_argument("--compare", type=Path, default=None, metavar="DIR")
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE")
    parser.add_argument(
        "--inline-refits", action="store_true", help="refit in the replay's process"
    )
    args = parser.parse_args(argv)

    print(f"before: {_load()}", flush=True)
    began = time.perf_counter()
    dataset = load_dataset(args.data)
    products = [p.strip() for p in args.products.split(",") if p.strip()]
    policy = make_policy(
        args.policy,
        PolicyOptions(
            horizon_days=args.horizon,
            refit_every_days=args.refit_every,
            background_refits=not args.inline_refits,
        ),
    )
    _instrument()
    settings = ReplaySettings()
    load_seconds = time.perf_counter() - began

    profiler = cProfile.Profile() if args.profile else None
    cpu_began = _cpu_seconds()
    began = time.perf_counter()
    if profiler:
        profiler.enable()
    result = replay(dataset, args.start, args.end, policy, products=products, settings=settings)
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    total = time.perf_counter() - began
    cpu = _cpu_seconds() - cpu_began

    began = time.perf_counter()
    run_info = {
        "start": f"{pd.Timestamp(args.start):%Y-%m-%d}",
        "end": f"{pd.Timestamp(args.end):%Y-%m-%d}",
        "products": sorted(result.daily["product_id"].unique()),
        "data": str(dataset.root),
        "data_fingerprint": dataset.fingerprint,
    }
    write_result(result, args.out, run_info)
    write_seconds = time.perf_counter() - began

    timings = policy.timings()
    forecast = timings.get("forecast_s", 0.0)
    plan = timings.get("plan_s", 0.0)
    days = len(pd.date_range(args.start, args.end, freq="D"))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rows = [
        ("load data", load_seconds, ""),
        ("replay, all", total, f"{days} days, {len(products)} products, {args.policy}"),
        ("  forecast", forecast, ""),
        ("    fit", SECONDS["forecast.fit"], f"{COUNTS['forecast.fit']} calls"),
        ("    refit", SECONDS["forecast.refit"], f"{COUNTS['forecast.refit']} calls here"),
        ("    refit wait", timings.get("refit_wait_s", 0.0), "for the worker's refits"),
        ("    predict", SECONDS["forecast.predict"], f"{COUNTS['forecast.predict']} calls"),
        ("  plan", plan, f"max {timings.get('plan_max_s', 0.0):.2f} s"),
        ("    inputs", SECONDS["plan.inputs"], ""),
        ("    parameters", SECONDS["plan.parameters"], ""),
        ("    build", SECONDS["plan.build"], ""),
        ("    solve", SECONDS["plan.solve"], ""),
        (
            "    rest",
            plan
            - SECONDS["plan.inputs"]
            - SECONDS["plan.parameters"]
            - SECONDS["plan.build"]
            - SECONDS["plan.solve"],
            "result frames",
        ),
        ("  replay", total - forecast - plan, "world, executor, history"),
        ("write files", write_seconds, ""),
    ]
    for label, seconds, note in rows:
        print(f"{label:<16}{seconds:8.1f} s  {note}")
    print(f"replay CPU      {cpu:8.1f} s  user + system, every thread (steadier than wall time)")
    print(f"peak RSS        {peak_mb:8.0f} MB")
    print(f"peak RSS worker {worker_mb:8.0f} MB  the refits' process (0: none)")
    print(f"after: {_load()}")
    summary = {
        "start": run_info["start"],
        "end": run_info["end"],
        "policy": args.policy,
        "products": products,
        "seconds": {label.strip(): round(seconds, 3) for label, seconds, _ in rows},
        "replay_cpu_seconds": round(cpu, 3),
        "peak_rss_mb": round(peak_mb, 1),
        "peak_rss_worker_mb": round(worker_mb, 1),
        "load": os.getloadavg(),
    }
    (args.out / "speed.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if args.compare is not None:
        return 0 if _compare(args.out, args.compare) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
