"""The policy panel: every policy on calm and stressed windows, with the SPEC §4 verdict per window.

One window proves little (SPEC §4): a policy is judged on a panel of windows, calm and
stressed, rates rising and falling, and must beat ``none`` in each. This script replays the
panel below, runs its windows in parallel processes (one per core by default), and prints per
window the SPEC §4 figures of every policy with the verdict against ``none``, then one line per
window for the optimizer. It writes every window's backtest files under ``--out``.

    .venv/bin/python benchmarks/panel.py [--windows NAME,...] [--policies none,optimizer]
                                         [--workers N] [--out DIR] [--quick]
                                         [--set SECTION.KEY=VALUE ...] [--world-seed N]
                                         [--sweep SECTION.KEY=V1,V2,...]

The windows (``--windows`` picks some; ``--quick`` replays only the quarter around each event):

| name | data | window | stressed |
|---|---|---|---|
| ``y2019`` | the sample | 2019-06-16..2020-06-15 (rates falling, COVID) | no |
| ``y2020`` | the sample | 2020-06-16..2021-06-15 (rates rising, the November 2020 wave) | yes |
| ``y2021`` | the sample | 2021-06-16..2022-06-15 (calm, rates falling) | no |
| ``nomix`` | the sample without ``investment_mix.csv`` | 2021-12-16..2022-06-15 | no |
| ``run30`` | the sample, ``run-30in5`` from 2021-11-01 | 2021-10-01..2022-01-31 | yes |
| ``rates2013`` | the sample, ``rates-2013`` from 2021-11-01 | 2021-10-01..2022-01-31 | yes |

Three more windows, all stressed, regimes the settings were never chosen on, are replayed by
name or with ``--windows all`` (not by default: the six above are the panel of issue 11):

- ``plateau45``: a run at its peak for 20 days taking 45 % of AUM from 2021-03-01, scored
  2021-02-01..2021-05-31;
- ``combined2020``: ``run-30in5`` from 2020-06-22 (its peak on the eve of Dragon Boat) on top
  of ``rates-2013`` from 2020-06-15, scored 2020-05-15..2020-08-31;
- ``spring2022``: a spike run taking 25 % of AUM in 3 days from 2022-01-27 (the eve of Spring
  Festival), scored 2022-01-01..2022-03-31.

Every window replays P01–P12 with the default warm-up (60 days) and the default world.
``--world-seed N`` draws the sample again with seed N (``rainmaker sample --seed N``: the same
products, market and calendar, other flows and another wave) and makes every window's data
from it: the panel on a world the settings were not chosen on.
``--sweep SECTION.KEY=V1,V2,...`` replays the planning policies once per value of one optimizer
setting (on top of any ``--set``), ``none`` once per window (it reads no optimizer setting),
and prints one line per value and window with the verdict, then how many windows each value
wins: how a weight or threshold is chosen on the panel (docs/backtest.md).
Figures are in bp (SPEC §4); ``verdict`` is :func:`simulate.backtest_metrics.compare_policies`'s
``better_than_baseline``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import tomllib
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# This checkout's packages before the installed ones: `make setup` installs the project in
# editable mode from one checkout, and the panel run from another (a worktree holding the change
# being judged) replayed the installed checkout's code without a word. The windows' processes
# are forked from this one and import the packages there, so they read this path too.
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "data" / "sample"
PRODUCTS = tuple(f"P{i:02d}" for i in range(1, 13))
SCENARIO_START = "2021-11-01"


@dataclass(frozen=True)
class Window:
    """One window of the panel.

    Attributes:
        name: short key.
        data: how the data set is made: ``sample``, ``nomix``, or scenarios applied to the
            sample in turn, each a kind or preset and its parameters
            (``simulate.scenarios.apply_scenario``'s names).
        start, end: the window scored (inclusive).
        quick_start, quick_end: the shorter window of ``--quick``.
        stressed: judged as a stressed window (SPEC §4).
        note: what the window is about.
    """

    name: str
    data: str | tuple[tuple[str, dict[str, object]], ...]
    start: str
    end: str
    quick_start: str
    quick_end: str
    stressed: bool
    note: str


WINDOWS = (
    Window(
        "y2019",
        "sample",
        "2019-06-16",
        "2020-06-15",
        "2020-01-01",
        "2020-03-31",
        False,
        "rates falling, COVID",
    ),
    Window(
        "y2020",
        "sample",
        "2020-06-16",
        "2021-06-15",
        "2020-10-01",
        "2020-12-31",
        True,
        "rates rising, the November 2020 wave",
    ),
    Window(
        "y2021",
        "sample",
        "2021-06-16",
        "2022-06-15",
        "2022-03-17",
        "2022-06-15",
        False,
        "calm, rates falling",
    ),
    Window(
        "nomix",
        "nomix",
        "2021-12-16",
        "2022-06-15",
        "2022-03-17",
        "2022-06-15",
        False,
        "no investment_mix.csv: book inferred from published yields",
    ),
    Window(
        "run30",
        (("run-30in5", {"start": SCENARIO_START}),),
        "2021-10-01",
        "2022-01-31",
        "2021-10-15",
        "2021-12-15",
        True,
        f"market-wide run, 30 % of AUM in 5 days from {SCENARIO_START}",
    ),
    Window(
        "rates2013",
        (("rates-2013", {"start": SCENARIO_START}),),
        "2021-10-01",
        "2022-01-31",
        "2021-10-15",
        "2021-12-15",
        True,
        f"June-2013-like rate spike from {SCENARIO_START}",
    ),
)
# regimes the settings were not chosen on (``--windows all`` or by name)
UNSEEN_WINDOWS = (
    Window(
        "plateau45",
        (
            (
                "run",
                {
                    "start": "2021-03-01",
                    "shape": "plateau",
                    "depth": 0.45,
                    "days": 20,
                    "length": 40,
                },
            ),
        ),
        "2021-02-01",
        "2021-05-31",
        "2021-02-15",
        "2021-04-30",
        True,
        "a run at its peak for 20 days, 45 % of AUM, from 2021-03-01",
    ),
    Window(
        "combined2020",
        (
            ("run-30in5", {"start": "2020-06-22"}),
            ("rates-2013", {"start": "2020-06-15"}),
        ),
        "2020-05-15",
        "2020-08-31",
        "2020-06-01",
        "2020-07-31",
        True,
        "run-30in5 peaking on the eve of Dragon Boat 2020, with a June-2013-like rate spike",
    ),
    Window(
        "spring2022",
        (
            (
                "run",
                {"start": "2022-01-27", "shape": "spike", "depth": 0.25, "days": 3, "length": 20},
            ),
        ),
        "2022-01-01",
        "2022-03-31",
        "2022-01-15",
        "2022-02-28",
        True,
        "a spike run, 25 % of AUM in 3 days, on the eve of Spring Festival 2022",
    ),
)


def _dataset(kind: str | tuple, scratch: Path, sample: Path = SAMPLE):
    """The data set a window replays (made once per process, in ``scratch``), from
    ``sample`` (the sample, or the sample drawn again by ``--world-seed``)."""
    from rainmaker.dataset import load_dataset

    if kind == "sample":
        return load_dataset(sample)
    if kind == "nomix":
        folder = scratch / "nomix"
        if not folder.exists():
            shutil.copytree(sample, folder, ignore=shutil.ignore_patterns("investment_mix.*"))
        return load_dataset(folder)
    from simulate.scenarios import apply_scenario

    dataset = load_dataset(sample)
    for step, params in kind:
        dataset = apply_scenario(dataset, step, **params).dataset
    return dataset


def run_window(
    window: Window,
    policies: tuple[str, ...],
    out: Path,
    quick: bool,
    overrides: dict,
    sample: Path = SAMPLE,
    background_refits: bool = False,
) -> dict:
    """Replay one window under every policy; return its comparison and seconds.

    ``background_refits``: the optimizer's refits in a worker process of their own (worth it
    only with a core to spare: the results are the same either way)."""
    from simulate.backtest import PolicyOptions, run_backtest

    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = _dataset(window.data, Path(scratch), sample)
        run = run_backtest(
            dataset,
            window.quick_start if quick else window.start,
            window.quick_end if quick else window.end,
            policies,
            out / window.name,
            products=PRODUCTS,
            options=PolicyOptions(plan_overrides=overrides, background_refits=background_refits),
            tracking_uri=None,
            stressed=window.stressed,
        )
    return {
        "window": window.name,
        "comparison": run.comparison,
        "metrics": {name: r.metrics for name, r in run.results.items()},
        "seconds": time.perf_counter() - began,
        "policy_seconds": {name: r.seconds for name, r in run.results.items()},
    }


def spare_core(workers: int, windows: int) -> bool:
    """Whether the windows replayed side by side leave a core for each one's refit worker."""
    return min(max(1, workers), windows) < (os.cpu_count() or 1)


COLUMNS = [
    "relative_vol_bp",
    "mean_excess_bp",
    "tracking_bp",
    "shortfall_days",
    "sold_early",
    "realised_loss",
    "unpaid",
    "refused_pct",
    "share_of_bound_pct",
    "better_than_baseline",
]


def parse_setting(item: str) -> tuple[str, str, object]:
    """``SECTION.KEY=VALUE`` → (section, key, the value read as TOML)."""
    key, equals, value = item.partition("=")
    section, dot, name = key.partition(".")
    if not (equals and dot and section and name and value):
        raise ValueError(f"{item!r} is not SECTION.KEY=VALUE")
    return section, name, tomllib.loads(f"v = {value}")["v"]


def parse_sweep(text: str) -> tuple[str, str, list[object]]:
    """``SECTION.KEY=V1,V2,...`` → (section, key, the values read as TOML)."""
    key, _, values = text.partition("=")
    parsed = [parse_setting(f"{key}={value.strip()}") for value in values.split(",")]
    section, name, _ = parsed[0]
    return section, name, [value for _, _, value in parsed]


def sweep_overrides(
    overrides: dict[str, dict[str, object]], sweep: tuple[str, str, list[object]] | None
) -> list[dict[str, dict[str, object]]]:
    """The optimizer overrides of every value of a sweep (``--set`` and the value)."""
    if sweep is None:
        return []
    section, name, values = sweep
    return [{**overrides, section: {**overrides.get(section, {}), name: value}} for value in values]


def sweep_table(
    chosen: list[Window],
    sweep: tuple[str, str, list[object]],
    baseline: dict[str, dict],
    runs: dict[tuple[int, str], dict],
) -> pd.DataFrame:
    """One row per value, window and policy: SPEC §4 figures and the verdict against the
    baseline's replay of the same window (``baseline``: window → {policy: metrics};
    ``runs``: (value's index, window) → {policy: metrics})."""
    from simulate.backtest_metrics import compare_policies

    rows = []
    for i, value in enumerate(sweep[2]):
        for window in chosen:
            metrics = {**baseline.get(window.name, {}), **runs[(i, window.name)]}
            table = compare_policies(metrics, stressed=window.stressed)
            for policy, row in table.iterrows():
                if policy in baseline.get(window.name, {}) and i > 0:
                    continue  # the baseline's row once per window
                rows.append(
                    {
                        "value": "—" if policy in baseline.get(window.name, {}) else value,
                        "window": window.name,
                        "policy": policy,
                        "relative_vol_bp": row["relative_vol_bp"],
                        "mean_excess_bp": row["mean_excess_bp"],
                        "shortfall_days": row["shortfall_days"],
                        "unpaid_m": row.get("unpaid", float("nan")) / 1e6,
                        "refused_pct": row["refused_pct"],
                        # no verdict without `none` among the policies
                        "verdict": row.get("better_than_baseline", float("nan")),
                    }
                )
    return pd.DataFrame(rows)


def _sweep(
    chosen: list[Window],
    policies: tuple[str, ...],
    sweep: tuple[str, str, list[object]],
    overrides: dict[str, dict[str, object]],
    args: argparse.Namespace,
    sample: Path,
    began: float,
) -> int:
    """``--sweep``: ``none`` once per window, the other policies once per value."""
    baseline_policies = tuple(p for p in policies if p == "none")
    planning = tuple(p for p in policies if p != "none")
    section, name, values = sweep
    settings = sweep_overrides(overrides, sweep)
    with ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
        baseline_jobs = {
            w.name: pool.submit(
                run_window, w, baseline_policies, args.out / "none", args.quick, overrides, sample
            )
            for w in chosen
            if baseline_policies
        }
        jobs = {
            (i, w.name): pool.submit(
                run_window,
                w,
                planning,
                args.out / f"{section}.{name}={values[i]}",
                args.quick,
                settings[i],
                sample,
            )
            for i in range(len(values))
            for w in chosen
        }
        baseline = {k: f.result()["metrics"] for k, f in baseline_jobs.items()}
        runs = {k: f.result()["metrics"] for k, f in jobs.items()}
    table = sweep_table(chosen, sweep, baseline, runs)
    pd.set_option("display.width", 200)
    print(f"sweep of {section}.{name} (unpaid in CNY million; verdict against none)")
    print(table.round(2).to_string(index=False))
    # the count of wins needs none's replay to judge against (no verdict without it)
    judged = table[(table["value"] != "—") & table["verdict"].notna()]
    if not judged.empty:
        print()
        for (value, policy), group in judged.groupby(["value", "policy"], sort=False):
            wins = int(group["verdict"].astype(bool).sum())
            print(f"{section}.{name}={value}: {policy} better than none in {wins}/{len(group)}")
    print(f"\npanel: {len(chosen)} windows in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--windows", default=",".join(w.name for w in WINDOWS), help="names, or all"
    )
    parser.add_argument("--policies", default="none,rule,optimizer,oracle")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "panel")
    parser.add_argument("--quick", action="store_true", help="the quarter around each event")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="an optimizer setting for the planning policies (repeatable), e.g. "
        "liquidity.managed_floor=0.5",
    )
    parser.add_argument(
        "--world-seed",
        type=int,
        default=None,
        metavar="N",
        help="draw the sample again with this seed and make every window's data from it",
    )
    parser.add_argument(
        "--sweep",
        default=None,
        metavar="SECTION.KEY=V1,V2,...",
        help="replay the planning policies once per value of this optimizer setting and print "
        "each value's verdicts, e.g. weights.term_value=0,0.05,0.1",
    )
    args = parser.parse_args(argv)
    overrides: dict[str, dict[str, object]] = {}
    try:
        for item in args.set:
            section, name, value = parse_setting(item)
            overrides.setdefault(section, {})[name] = value
        sweep = parse_sweep(args.sweep) if args.sweep else None
    except ValueError as error:
        parser.exit(2, f"panel.py: {error}\n")
    names = args.windows.split(",")
    every = WINDOWS + UNSEEN_WINDOWS
    unknown = sorted(set(names) - {w.name for w in every} - {"all"})
    if unknown:
        parser.error(f"unknown windows {', '.join(unknown)}; expected names of {__file__}")
    chosen = [w for w in every if w.name in names or "all" in names]
    policies = tuple(p.strip() for p in args.policies.split(",") if p.strip())
    from optimize import load_settings
    from rainmaker.errors import UsageError

    if sweep is not None and not [p for p in policies if p != "none"]:
        parser.exit(2, "panel.py: --sweep needs a policy that plans (optimizer, rule or oracle)\n")
    try:
        # checked here, once, rather than in every worker process
        load_settings(overrides=overrides)
        for values in sweep_overrides(overrides, sweep):
            load_settings(overrides=values)
    except (UsageError, ValueError) as error:
        parser.exit(2, f"panel.py: {error}\n")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        sample = SAMPLE
        if args.world_seed is not None:
            # drawn once here, not once per window
            from simulate.sample import generate_sample
            from simulate.synthetic import SampleConfig

            sample = generate_sample(
                Path(scratch) / f"world{args.world_seed}", SampleConfig(seed=args.world_seed)
            )
        if sweep is not None:
            return _sweep(chosen, policies, sweep, overrides, args, sample, began)
        with ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
            futures = [
                pool.submit(
                    run_window,
                    w,
                    policies,
                    args.out,
                    args.quick,
                    overrides,
                    sample,
                    spare_core(args.workers, len(chosen)),
                )
                for w in chosen
            ]
            results = [f.result() for f in futures]
    pd.set_option("display.width", 200)
    lines = []
    for window, result in zip(chosen, results, strict=True):
        table = result["comparison"]
        shown = table[[c for c in COLUMNS if c in table.columns]].copy()
        for column in ("sold_early", "realised_loss", "unpaid"):
            if column in shown:
                shown[column] = (shown[column] / 1e6).round(1)
        print(
            f"\n== {window.name}: {window.note}"
            f" ({'stressed' if window.stressed else 'calm'}; {result['seconds']:.0f} s)"
        )
        print("   (sold_early, realised_loss, unpaid in CNY million)")
        print(shown.round(2).to_string())
        if {"optimizer", "none"} <= set(table.index):
            row = table.loc["optimizer"]
            lines.append(
                f"{window.name:10s} optimizer relative_vol {row['relative_vol_bp']:+.2f} bp vs "
                f"none {table.loc['none', 'relative_vol_bp']:+.2f}; shortfall days "
                f"{row['shortfall_days']:.0f} vs {table.loc['none', 'shortfall_days']:.0f}; "
                f"verdict {row['better_than_baseline']}"
            )
    print("\n" + "\n".join(lines))
    print(f"\npanel: {len(chosen)} windows in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
