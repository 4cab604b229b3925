"""A backtest run as the ``rainmaker backtest`` command does it: policies, files, MLflow.

:func:`run_backtest` replays one window under one or several policies
(:func:`simulate.replay.replay`), writes the SPEC §3 files and logs every policy's run to MLflow:

- one policy: ``DIR/daily.csv``, ``DIR/metrics.json``, ``DIR/decisions.csv``, ``DIR/run.json``
  and ``DIR/yield_<policy>.png``;
- several policies: the same files in ``DIR/<policy>/`` for each, plus ``DIR/comparison.csv``
  (one row per policy, :func:`simulate.backtest_metrics.compare_policies`),
  ``DIR/comparison.json`` and ``DIR/yield_policies.png`` (every policy against the benchmark).

Policies are named as on the command line: ``none``, ``rule``, ``optimizer``, ``oracle``;
``all`` means the four. Long replays report progress through a callback
(:mod:`rainmaker.progress`), which the command line renders on stderr with an ETA.
"""

from __future__ import annotations

import json
import math
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from rainmaker import __version__
from rainmaker.dataset import Dataset
from rainmaker.errors import UsageError, first_few
from rainmaker.progress import Progress
from rainmaker.safety import write_spreadsheet_csv
from rainmaker.tracking import log_run
from rainmaker.yields import MIN_VOLATILITY_DAYS
from simulate.backtest_metrics import compare_policies
from simulate.plots import plot_policy, plot_policy_comparison, yield_figure
from simulate.policies import NoPolicy, Policy, RulePolicy
from simulate.portfolio import coarse_money_note
from simulate.replay import (
    DEFAULT_WARMUP_DAYS,
    ReplayResult,
    ReplaySettings,
    replay,
    replay_first_day,
    replayed_products,
)
from simulate.replay import Progress as ReplayProgress

__all__ = [
    "DEFAULT_TRACKING_URI",
    "EXPERIMENT",
    "POLICY_NAMES",
    "BACKTEST_MARKERS",
    "BacktestRun",
    "PolicyOptions",
    "check_window",
    "make_policy",
    "parse_policies",
    "run_backtest",
    "write_result",
]

POLICY_NAMES = ("none", "rule", "optimizer", "oracle")
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
EXPERIMENT = "rainmaker-backtest"


def check_window(start: str | pd.Timestamp, end: str | pd.Timestamp) -> None:
    """Refuse a backtest window too short for the figures of SPEC §4.

    Raises:
        UsageError: ``end`` precedes ``start``, or the window holds fewer than
            :data:`~rainmaker.yields.MIN_VOLATILITY_DAYS` days: its volatility figures are sample
            standard deviations (ddof = 1), undefined on one day.
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if end < start:
        raise UsageError(f"--start {start:%Y-%m-%d} is after --end {end:%Y-%m-%d}")
    days = (end - start).days + 1
    if days < MIN_VOLATILITY_DAYS:
        raise UsageError(
            f"--start {start:%Y-%m-%d} to --end {end:%Y-%m-%d} is a window of {days} day; "
            f"expected at least {MIN_VOLATILITY_DAYS} days: yield_vol_bp, benchmark_vol_bp, "
            "relative_vol_bp and tracking_bp are sample standard deviations (ddof = 1), "
            "undefined on one day"
        )


@dataclass(frozen=True)
class PolicyOptions:
    """Options of the planning policies (``optimizer`` and ``oracle``).

    Attributes:
        horizon_days: days forecast and planned every morning.
        refit_every_days: days between refits of the forecast models (the optimizer's
            forecaster is fitted in full once, on the day before the window, then refitted on
            this cadence; 7 = weekly).
        forecast_models: forecast models to select among (``None``: the forecast's defaults).
        seed: seed of the forecast's sample paths.
        plan_overrides: optimizer settings changed for the backtest, as
            ``{"section": {"key": value}}`` (keys of ``optimize/defaults.toml``), on top of the
            backtest's own (:data:`simulate.planning_policies.BACKTEST_PLAN_OVERRIDES`).
        background_refits: run the optimizer's refits in a worker process beside the replay
            (:mod:`simulate.refits`), as ``rainmaker backtest`` does; ``False`` (the default)
            fits them in the replay's process. The results are the same either way. The worker
            is spawned, and a spawned process imports the program's main module: a script that
            turns this on must keep its work under ``if __name__ == "__main__":``.
    """

    horizon_days: int = 14
    refit_every_days: int = 7
    forecast_models: tuple[str, ...] | None = None
    seed: int = 0
    plan_overrides: Mapping[str, Mapping[str, Any]] | None = None
    background_refits: bool = False


def parse_policies(text: str) -> list[str]:
    """Policy names from the command line: ``all`` or a comma-separated list.

    Raises:
        UsageError: an unknown name (the message lists the known ones) or an empty list.
    """
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return list(POLICY_NAMES)
    unknown = [n for n in names if n not in POLICY_NAMES]
    if unknown or not names:
        raise UsageError(
            f"unknown policy {', '.join(unknown) or repr(text)}; expected 'all' or a "
            f"comma-separated list of {', '.join(POLICY_NAMES)}"
        )
    return list(dict.fromkeys(names))


def make_policy(name: str, options: PolicyOptions | None = None) -> Policy:
    """A new policy by command-line name.

    Raises:
        UsageError: unknown name.
    """
    options = options or PolicyOptions()
    if name == "none":
        return NoPolicy()
    if name == "rule":
        return RulePolicy()
    if name in ("optimizer", "oracle"):
        # imported here for start-up time: planning policies bring forecast and optimize
        from simulate.planning_policies import (
            BACKTEST_PLAN_OVERRIDES,
            OptimizerPolicy,
            OraclePolicy,
        )

        overrides = {k: dict(v) for k, v in BACKTEST_PLAN_OVERRIDES.items()}
        for section, values in (options.plan_overrides or {}).items():
            overrides.setdefault(section, {}).update(values)
        common: dict[str, Any] = {
            "horizon_days": options.horizon_days,
            "refit_every_days": options.refit_every_days,
            "forecast_models": options.forecast_models,
            "seed": options.seed,
            "plan_overrides": overrides,
        }
        if name == "oracle":
            return OraclePolicy(**common)
        return OptimizerPolicy(**common, background_refits=options.background_refits)
    raise UsageError(f"unknown policy {name!r}; expected one of {', '.join(POLICY_NAMES)}")


@dataclass
class BacktestRun:
    """What :func:`run_backtest` produced.

    Attributes:
        results: the replay of each policy, by name.
        comparison: one row per policy (:func:`simulate.backtest_metrics.compare_policies`).
        out: the output folder.
        files: every file written.
        tracked: MLflow run id per policy (empty when tracking is off).
    """

    results: dict[str, ReplayResult]
    comparison: pd.DataFrame
    out: Path
    files: list[Path] = field(default_factory=list)
    tracked: dict[str, str] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """The policies side by side (:attr:`comparison`, SPEC §4 figures in bp)."""
        return self.comparison

    def plot(self) -> Any:
        """Every policy's AUM-weighted 7-day yield against the benchmark (a Figure)."""
        return yield_figure({name: result.window for name, result in self.results.items()})

    def __repr__(self) -> str:
        return (
            f"BacktestRun({', '.join(self.results)} into {self.out}, {len(self.files)} files; "
            "see .table(), .plot())"
        )


def _replay_progress(progress: Progress, policy: str) -> ReplayProgress:
    """The replay's per-day callback as a stage of :mod:`rainmaker.progress`."""
    stage = f"backtest {policy}: replaying days"

    def report(done: int, total: int, day: pd.Timestamp) -> None:
        progress(stage, done, total)

    return report


def _json_default(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def _clean(value: Any) -> Any:
    """NaN and inf become null: JSON has no such numbers."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_result(
    result: ReplayResult, folder: Path, run_info: Mapping[str, Any]
) -> tuple[list[Path], list[Path]]:
    """Write one policy's files into ``folder``.

    Returns:
        (data files, figure files) written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    daily = result.daily.copy()
    daily["date"] = daily["date"].dt.strftime("%Y-%m-%d")
    decisions = result.decisions.copy()
    decisions["date"] = decisions["date"].dt.strftime("%Y-%m-%d")
    files = [folder / "daily.csv", folder / "metrics.json", folder / "decisions.csv"]
    write_spreadsheet_csv(daily, files[0], lineterminator="\n")
    metrics = {"policy": result.policy, **result.metrics}
    files[1].write_text(json.dumps(_clean(metrics), indent=2) + "\n", encoding="utf-8")
    write_spreadsheet_csv(decisions, files[2], lineterminator="\n")
    run_path = folder / "run.json"
    run = {
        **run_info,
        "policy": result.policy,
        "policy_params": result.policy_params,
        "starting_mix": result.starting_mix,
        "replay_seconds": round(result.seconds, 2),
        "policy_seconds": {k: round(v, 2) for k, v in result.policy_timings.items()},
    }
    run_path.write_text(
        json.dumps(_clean(run), indent=2, default=_json_default) + "\n", encoding="utf-8"
    )
    files.append(run_path)
    figure = plot_policy(
        result.window, result.metrics, result.policy, folder / f"yield_{result.policy}.png"
    )
    return files, [figure]


def _log(
    tracking_uri: str,
    result: ReplayResult,
    run_info: Mapping[str, Any],
    files: Sequence[Path],
    figures: Sequence[Path],
) -> str:
    params: dict[str, Any] = {
        f"world.{k}": v for k, v in asdict(result.settings).items() if k != "response"
    }
    params.update({f"policy.{k}": v for k, v in result.policy_params.items()})
    params.update(
        policy=result.policy,
        start=run_info["start"],
        end=run_info["end"],
        products=",".join(run_info["products"]),
        data=run_info["data"],
        data_fingerprint=run_info["data_fingerprint"],
    )
    metrics = {f"total.{k}": float(v) for k, v in result.metrics["total"].items()}
    for pid, figures_of in result.metrics["products"].items():
        for key in ("relative_vol_bp", "mean_excess_bp", "tracking_bp", "shortfall_days"):
            metrics[f"{pid}.{key}"] = float(figures_of[key])
    metrics["replay_s"] = result.seconds
    metrics.update({f"policy.{k}": v for k, v in result.policy_timings.items()})
    tracked = log_run(
        tracking_uri,
        EXPERIMENT,
        run_name=f"backtest-{result.policy}-{run_info['start']}-{run_info['end']}",
        params=params,
        metrics=metrics,
        tags={"command": "backtest", "policy": result.policy},
        artifacts=files,
        figures=figures,
    )
    return tracked.run_id


# A folder holding one of these is a backtest's output (one policy: metrics.json; several:
# comparison.json), which ``rainmaker backtest --out`` may replace.
BACKTEST_MARKERS = ("metrics.json", "comparison.json")


def run_backtest(
    dataset: Dataset,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    policies: Sequence[str],
    out: str | Path,
    *,
    products: Sequence[str] | None = None,
    settings: ReplaySettings | None = None,
    options: PolicyOptions | None = None,
    tracking_uri: str | None = DEFAULT_TRACKING_URI,
    progress: Progress | None = None,
    warmup_days: int = DEFAULT_WARMUP_DAYS,
    stressed: bool = False,
) -> BacktestRun:
    """Replay [start, end] under each policy, write the files and log the runs.

    Args:
        dataset: the loaded data set.
        start, end: the window (inclusive).
        policies: names among :data:`POLICY_NAMES`.
        out: output folder (created when missing).
        products: ids to replay (default: all).
        settings: the replay's world (default :class:`~simulate.replay.ReplaySettings`).
        options: options of the planning policies.
        tracking_uri: MLflow store; ``None`` turns tracking off.
        progress: told of each day replayed under each policy (:mod:`rainmaker.progress`;
            ``rainmaker backtest`` renders it with an ETA); None: silent.
        warmup_days: days replayed before ``start`` and left out of the figures (SPEC §3);
            when the data set starts later, the warm-up is clipped and stderr says so.
        stressed: judge the window as a stressed one (SPEC §4: no larger realised loss on
            sales, no unpaid redemptions) in the comparison's verdict.

    Returns:
        The :class:`BacktestRun`.

    Raises:
        UsageError: unknown policy, bad window (fewer than two days: :func:`check_window`) or
            product.
    """
    names = list(dict.fromkeys(policies))
    for name in names:
        if name not in POLICY_NAMES:
            raise UsageError(f"unknown policy {name!r}; expected one of {', '.join(POLICY_NAMES)}")
    folder = Path(out)
    settings = settings or ReplaySettings()
    check_window(start, end)  # before the products: a reversed window is said in its words
    replayed = replayed_products(dataset, start, end, products)
    first_day = replay_first_day(dataset, start, warmup_days, replayed)
    flows = dataset.flows
    window = flows.loc[
        flows["product_id"].isin(replayed)
        & flows["date"].between(pd.Timestamp(start), pd.Timestamp(end))
    ]
    # the days with assets: a product redeemed whole for half the window is no unit error
    held = window[window["aum"] > 0]
    note = coarse_money_note(held.groupby("product_id")["aum"].median().to_dict())
    if note is not None:  # fen arithmetic on amounts in another unit: said, not hidden
        print(f"backtest: {note}", file=sys.stderr, flush=True)
    asked = pd.Timestamp(start).normalize() - pd.Timedelta(days=warmup_days)
    if first_day > asked:
        print(
            f"backtest: warm-up clipped to {(pd.Timestamp(start) - first_day).days} days: the "
            f"flows of the products replayed begin on {first_day - pd.Timedelta(days=1):%Y-%m-%d}"
            f", so the replay starts on {first_day:%Y-%m-%d}",
            file=sys.stderr,
            flush=True,
        )
    results: dict[str, ReplayResult] = {}
    files: list[Path] = []
    tracked: dict[str, str] = {}
    for name in names:
        policy = make_policy(name, options)
        results[name] = replay(
            dataset,
            start,
            end,
            policy,
            products=products,
            settings=settings,
            progress=None if progress is None else _replay_progress(progress, name),
            warmup_days=warmup_days,
        )
    first = next(iter(results.values()))
    # figures left null are said, not only printed as NaN: too few days with a 7-day yield
    few = sorted(
        pid for pid, f in first.metrics["products"].items() if f["days"] < MIN_VOLATILITY_DAYS
    )
    if few:
        whole = " and in the total" if len(few) == len(first.metrics["products"]) else ""
        # mean_excess_bp needs one day: null where none has a yield, which was not said
        no_yield = [pid for pid in few if first.metrics["products"][pid]["days"] == 0]
        also = (
            f"; mean_excess_bp is null too for {len(no_yield)} of them ({first_few(no_yield)}): "
            "no day of the window has a 7-day yield"
            if no_yield
            else ""
        )
        print(
            f"backtest: yield_vol_bp, benchmark_vol_bp, relative_vol_bp and tracking_bp are "
            f"null for {len(few)} product(s) ({first_few(few)}){whole}: fewer than "
            f"{MIN_VOLATILITY_DAYS} days of the window have a 7-day yield{also} "
            "(the first six days replayed have none without earlier income_per_10k: a --warmup "
            "of 6 days or more gives them; a product launched days before --end has few, "
            "and one fully redeemed has none from the day it holds nothing)",
            file=sys.stderr,
            flush=True,
        )
    run_info = {
        "start": f"{pd.Timestamp(start):%Y-%m-%d}",
        "end": f"{pd.Timestamp(end):%Y-%m-%d}",
        "warmup_days": int((pd.Timestamp(start) - first_day).days),
        "replay_start": f"{first_day:%Y-%m-%d}",
        "stressed": stressed,
        "products": sorted(first.daily["product_id"].unique()),
        "data": str(dataset.root),
        "data_fingerprint": dataset.fingerprint,
        "rainmaker_version": __version__,
        "python": platform.python_version(),
        "world": {k: v for k, v in asdict(settings).items() if k != "response"},
    }
    for name, result in results.items():
        target = folder if len(results) == 1 else folder / name
        written, figures = write_result(result, target, run_info)
        files.extend(written + figures)
        if tracking_uri:
            tracked[name] = _log(tracking_uri, result, run_info, written, figures)
    comparison = compare_policies(
        {name: r.metrics for name, r in results.items()}, stressed=stressed
    )
    if len(results) > 1:
        folder.mkdir(parents=True, exist_ok=True)
        table_path = folder / "comparison.csv"
        # the one CSV writer: text cells neutralised, -0.0 (a rounded tiny change) as 0
        write_spreadsheet_csv(comparison.round(4).reset_index(), table_path, lineterminator="\n")
        json_path = folder / "comparison.json"
        json_path.write_text(
            json.dumps(
                _clean(
                    {
                        **run_info,
                        "policies": comparison.reset_index().to_dict(orient="records"),
                    }
                ),
                indent=2,
                default=_json_default,
            )
            + "\n",
            encoding="utf-8",
        )
        figure = plot_policy_comparison(
            {name: r.window for name, r in results.items()}, folder / "yield_policies.png"
        )
        files.extend([table_path, json_path, figure])
    return BacktestRun(
        results=results, comparison=comparison, out=folder, files=files, tracked=tracked
    )
