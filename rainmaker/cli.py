"""The ``rainmaker`` command line (SPEC §2).

Each sub-command is a small function taking the parsed arguments and returning an exit status;
heavy libraries are imported inside the command that needs them so that ``rainmaker --help`` and
``rainmaker validate`` start fast. Exit statuses: 0 success, 2 bad input or usage (``DataError``,
``UsageError``, argparse errors), 1 any other failure, 3 for ``rainmaker run`` when another run
holds the lock (``rainmaker.app.outputs.LockHeld``), and 4 to 6 for ``run`` and ``status`` when
the data are stale or late or an alert fired (``rainmaker.app.ops.EXIT_CODES``).

Log lines on stderr carry the local time with its zone and a level (``--log-json``: one JSON
object a line; :mod:`rainmaker.app.logs`); the summary and paths go to stdout. The same thing
has the same flag in every command (``--data``, ``--as-of``, ``--config``, ``--no-tracking``,
``--json``); older spellings still work and say they are deprecated.

Long steps (the forecast's model fits, the replay's days, the evaluation's origins, the stress
test's products) show one progress line with an ETA on stderr when it is a terminal, refreshed at
most once a second and only for a step that lasts over 2 s; ``--progress`` shows it where stderr
is not a terminal too (as log lines), ``--no-progress`` never (:mod:`rainmaker.app.progress`).

Every command checks all its arguments and paths before any work starts (a bad ``--out`` is
refused before a forecast runs, not after it). Everything printed goes through
:func:`rainmaker.safety.mask_secrets`, so a URL's password never reaches a log; Python warnings
are printed as one ``warning:`` line each, without source lines.
"""

from __future__ import annotations

import argparse
import math
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from rainmaker import __version__
from rainmaker.app import logs
from rainmaker.app.config import product_selection
from rainmaker.app.ops import exit_codes_text
from rainmaker.app.progress import reporter
from rainmaker.errors import DataError, Problem, RainmakerError, UsageError, first_few
from rainmaker.regulation import MAX_LEVERAGE
from rainmaker.safety import mask_secrets, write_spreadsheet_csv

if TYPE_CHECKING:  # heavy modules are imported by the commands that need them
    import pandas as pd

    from rainmaker.app.config import DailyConfig
    from rainmaker.app.job import RunOutcome
    from rainmaker.dataset import Dataset

DEFAULT_DATA = Path("data/sample")

Command = Callable[[argparse.Namespace], int]

RUN_EXIT_CODES = f"""Plans the latest day every live product has flows for, as a new revision
<output_root>/<as_of>/r<N>/, records it in the history database and logs it to MLflow.
Then checks the data's age, the deadline and the alerts (settings max_data_age_days,
data_deadline, fail_on) and calls the notifiers (notify_command, notify_url).

exit status:
{exit_codes_text()}
"""
STATUS_EXIT_CODES = """Health of the scheduled job from its run history: the last success and its
age, the revision in effect and its alerts.

exit status:
  0  the plan in effect is fresh and no alert of fail_on or worse fired
  1  the history database cannot be read
  4  stale: no run recorded, or the plan in effect is older than max_data_age_days
  6  the plan in effect has an alert of severity fail_on or worse
"""


def _say(text: str) -> None:
    print(mask_secrets(text), flush=True)


def _warn(text: str) -> None:
    """A log line: WARNING when ``text`` starts with ``warning: ``, else INFO."""
    logs.progress(text)


def _deprecated(old: str, new: str) -> None:
    logs.warning(f"{old} is deprecated and will be removed; use {new}")


# --------------------------------------------------------------------------- argument checks
# Each raises UsageError (exit status 2) naming the flag; commands call them before any work.


# The largest whole number a count or a number of days on the command line may be (seeds
# apart): beyond it dates overflow pandas (--warmup), SQLite's LIMIT its 64 bits (--limit)
# and arrays the memory (--length), each an 'unexpected error' (exit 1) after the data was read.
MAX_OPTION_INT = 1_000_000


def _whole(text: str) -> int:
    """argparse type of a count or a number of days: an integer of at most a million in size.

    Raises:
        argparse.ArgumentTypeError: not an integer, or beyond :data:`MAX_OPTION_INT` (argparse
            names the flag, exit status 2).
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if abs(value) > MAX_OPTION_INT:
        raise argparse.ArgumentTypeError(
            f"{text} is beyond {MAX_OPTION_INT:,}; expected a count or a number of days"
        )
    return value


def _at_least(value: int, flag: str, low: int, high: int | None = None) -> None:
    """``low <= value <= high`` (whole numbers: days, counts)."""
    if value < low or (high is not None and value > high):
        expected = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise UsageError(f"{flag} must be {expected}, got {value}")


def _finite_in(value: float, flag: str, low: float, high: float) -> None:
    """``value`` is a finite number in ``[low, high]`` (argparse accepts nan and inf)."""
    if not (math.isfinite(value) and low <= value <= high):
        raise UsageError(f"{flag} must be a number from {low:g} to {high:g}, got {value}")


# --------------------------------------------------------------------------- commands


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a data set against the contract and list every problem."""
    from rainmaker.dataset import dataset_from_report
    from rainmaker.validation import validate_dataset

    report = validate_dataset(args.data)
    if not report.ok:
        for warning in report.warnings:
            _warn(f"warning: {warning}")
        raise DataError(report.problems)
    dataset = dataset_from_report(report)
    _check_team_tables(dataset)
    _say(report.summary())  # the summary lists the warnings too
    return 0


def _warn_of(dataset: Dataset) -> None:
    """Log the data set's warnings, and the term buckets priced off another tenor's rate (a
    market.csv with the contract's two Shibor tenors only): for the commands that value or buy
    term assets without a plan report to say it (backtest, stress)."""
    from rainmaker.assets import rate_fallback_note

    for warning in dataset.warnings:
        _warn(f"warning: {warning}")
    note = rate_fallback_note(dataset.market.columns, file=dataset.file_name("market"))
    if note is not None:
        _warn(f"warning: {note}")


def _check_team_tables(dataset: Dataset) -> None:
    """Read every optional table the plan, the stress test and the backtest read, as they
    read it (a bad one exits 2 at ``validate``, not in the morning's job): holders, the
    investment mix, holdings and the sales plan as of the last day, the exposure response.

    Raises:
        DataError: every problem of every table, with file, column and lines.
    """
    from optimize.portfolio import read_holdings
    from optimize.sales_plan import read_sales_plan
    from rainmaker.holders import top10_shares
    from rainmaker.investment_mix import TABLE as MIX_TABLE
    from rainmaker.investment_mix import read_investment_mix
    from simulate.replay import response_table

    products = dataset.products["product_id"].astype(str).tolist()
    # each product's AUM on its last day: what an implausible position or target is judged by
    last_aum = dataset.flows.sort_values("date").groupby("product_id")["aum"].last().astype(float)
    channels = (
        set(dataset.products["channel"].dropna().astype(str))
        if "channel" in dataset.products.columns
        else set()
    )
    checks: dict[str, Callable[[], object]] = {
        "holders": lambda: top10_shares(dataset, dataset.last_date),
        MIX_TABLE: lambda: read_investment_mix(
            dataset.tables, dataset.file_name(MIX_TABLE), products
        ),
        # the cash rate only fills empty rates of cash rows in the frame returned
        "holdings": lambda: read_holdings(
            dataset.tables["holdings"],
            dataset.last_date,
            products,
            0.0,
            dataset.file_name("holdings"),
            aum_cny=last_aum.to_dict(),
        ),
        "sales_plan": lambda: read_sales_plan(
            dataset.tables["sales_plan"],
            channels,
            dataset.file_name("sales_plan"),
            size_cny=float(last_aum.sum()),
        ),
        "exposure_response": lambda: response_table(dataset),
    }
    problems: list[Problem] = []
    for stem, check in checks.items():
        if stem not in dataset.tables:
            continue
        try:
            check()
        except DataError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DataError(problems)


def cmd_sample(args: argparse.Namespace) -> int:
    """Regenerate the synthetic sample data set (seeded, bit for bit).

    The files are written into a hidden folder beside ``--out`` and swapped in whole, so a
    kill leaves the old data set or the new one, never a mix. A folder that is not empty and
    was not written by ``rainmaker sample`` is refused unless ``--force``: it is somebody's data.
    """

    from rainmaker.app.outputs import check_output_folder, replaced_whole
    from simulate.sample import foreign_files, generate_sample
    from simulate.synthetic import SampleConfig

    if args.seed is not None:
        _at_least(args.seed, "--seed", 0)
    out = args.out
    check_output_folder(out, "--out")
    foreign = foreign_files(out) if out.is_dir() else []
    if foreign and not args.force:
        raise UsageError(
            f"--out {out} holds files rainmaker sample did not write ({first_few(foreign)}); "
            "refusing to replace them: choose an empty or new folder, or add --force to replace it "
            "whole"
        )
    config = SampleConfig() if args.seed is None else SampleConfig(seed=args.seed)
    with replaced_whole(out) as staged:
        generate_sample(staged, config)
    _say(f"sample data set written to {out}")
    return 0


def _daily_config(args: argparse.Namespace) -> DailyConfig:
    """The daily job's settings: ``--config`` (or ./rainmaker.toml), then the flags given."""
    from rainmaker.app.config import load_config
    from rainmaker.limits import MAX_HORIZON_DAYS

    if getattr(args, "horizon", None) is not None:
        # the flag's own name in the message, not the settings key ('settings: key horizon'
        # read as a problem of a file the user never wrote)
        _at_least(args.horizon, "--horizon", 1, MAX_HORIZON_DAYS)
    config = load_config(getattr(args, "config", None))
    changes = {}
    for flag in ("horizon", "lang", "data"):
        if getattr(args, flag, None) is not None:
            changes[flag] = getattr(args, flag)
    if getattr(args, "products", None) is not None:  # a tuple of ids (_ProductIds)
        changes["products"] = args.products
    if getattr(args, "no_tracking", False):
        changes["tracking_uri"] = ""
    config = config.replace(**changes) if changes else config
    # the settings file may ask for JSON logs and a zone; a --log-json flag has already asked
    logs.configure(json_lines=True if config.log_format == "json" else None, zone=config.zone)
    return config


def _say_outcome(outcome: RunOutcome) -> None:
    _say(outcome.message)
    if outcome.timings.get("total_s"):
        _say(f"run {outcome.run_id} took {outcome.timings['total_s']:.1f} s")
    _say(str(outcome.report))


def cmd_plan(args: argparse.Namespace) -> int:
    """Forecast, optimise and write the daily plan report for one as-of day."""
    from rainmaker.app.day_files import plan_to_folder
    from rainmaker.app.outputs import REPORT_FILE
    from rainmaker.app.pipeline import Steps

    config = _daily_config(args)
    result = plan_to_folder(
        config.data,
        args.as_of,
        args.out,
        config,
        steps=Steps(progress=reporter(_progress_asked(args, config))),
        track=not args.no_tracking,
    )
    info = result.run_info
    _say(
        f"planned {info['as_of']} for {info['n_products']} products, {info['plan_start']} to "
        f"{info['plan_end']}: solver {info['solver_status']}, "
        f"{len(result.report.alerts)} alerts; files in {args.out}"
    )
    _say(str(args.out / REPORT_FILE))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The scheduled job: plan the latest complete day as a new revision, record it, check the
    data's age, the deadline and the alerts, and notify."""
    config = _daily_config(args)
    return _run_and_notify(config, args, command="run")


def cmd_demo(args: argparse.Namespace) -> int:
    """The whole daily job on the sample data set; the last line is the report's path.

    The sample is years old and its plan has critical alerts by design, so the demo does not
    fail on the data's age or on alerts (``max_data_age_days = 0``, ``fail_on = "none"``).
    """
    from rainmaker.app.config import DailyConfig, load_config

    config = load_config(args.config) if args.config is not None else DailyConfig()
    logs.configure(json_lines=True if config.log_format == "json" else None, zone=config.zone)
    config = config.replace(
        data=args.data,
        lang=args.lang or config.lang,
        max_data_age_days=0,
        fail_on="none",
        **({"tracking_uri": ""} if args.no_tracking else {}),
    )
    return _run_and_notify(config, args, command="demo")


def _run_and_notify(config: DailyConfig, args: argparse.Namespace, command: str) -> int:
    """Run the job, log its failed checks, print the outcome, call the notifiers.

    The notifiers hear of every run but a no-op that passed its checks and a run stopped by
    the lock (another run is working and will notify); a failure is notified and then raised
    as before, so its exit status does not change.
    """
    from rainmaker.app.job import run_job
    from rainmaker.app.ops import job_summary, notify
    from rainmaker.app.outputs import LockHeld
    from rainmaker.app.pipeline import Steps

    started = logs.local_now()

    def tell(exit_code: int, *, outcome: object = None, error: str | None = None) -> None:
        """Send the run's summary to the notify hook (settings ``notify_command`` / ``_url``)."""
        summary = job_summary(
            command=command,
            exit_code=exit_code,
            started=started,
            finished=logs.local_now(),
            outcome=outcome,
            error=error,
        )
        notify(config, summary, _warn)

    try:
        outcome = run_job(
            config,
            as_of=getattr(args, "as_of", None),
            force=getattr(args, "force", False),
            steps=Steps(progress=reporter(_progress_asked(args, config))),
            command=command,
        )
    except LockHeld:
        raise
    except Exception as error:
        code = error.exit_code if isinstance(error, RainmakerError) else 1
        tell(code, error=error.describe() if isinstance(error, DataError) else str(error))
        raise
    for check in outcome.checks:
        logs.error(check.message)
    _say_outcome(outcome)
    code = outcome.exit_code
    if outcome.status == "published" or code != 0:
        tell(code, outcome=outcome)
    return code


def cmd_status(args: argparse.Namespace) -> int:
    """Health check: the last success, its age, the alerts of the revision in effect."""
    import json

    from rainmaker.app.ops import alert_line, job_status

    config = _daily_config(args)
    status = job_status(config, logs.local_now())
    if args.json:
        _say(json.dumps(status, ensure_ascii=False, indent=2))
        return int(status["exit_code"])
    last, current = status["last_success"], status["in_effect"]
    if last is None:
        _say(f"status never: no run recorded in {config.history_database}")
        return int(status["exit_code"])
    _say(
        f"status {status['status']}: in effect {current['output_dir']} (as of "
        f"{current['as_of']}, data {status['data_age_days']} days old, limit "
        f"{config.max_data_age_days or 'none'}); last success {last['output_dir']} recorded "
        f"{last['created_at']}, {last['age_hours']:.1f} h ago"
    )
    for check in status["checks"]:
        _say(f"  {check['message']}")
    for alert in status["alerts"]:
        _say(f"  alert {alert['severity']}: {alert_line(alert)}")
    _say(current["report"])
    return int(status["exit_code"])


def cmd_rollback(args: argparse.Namespace) -> int:
    """Withdraw the revision in effect and point ``latest`` at the previous good one."""
    from rainmaker.app.job import rollback
    from rainmaker.app.outputs import REPORT_FILE

    config = _daily_config(args)
    outcome = rollback(config, reason=args.reason or "", progress=_warn)
    _say(outcome.message)
    _say(str(outcome.latest / REPORT_FILE))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """List recorded runs and how their forecasts compared with what then happened."""
    from rainmaker.app.accuracy import accuracy_summary, forecast_accuracy
    from rainmaker.app.history import open_history

    _at_least(args.limit, "--limit", 1)
    config = _daily_config(args)
    if args.json:
        import json

        with open_history(config.history_database) as history:
            records = history.records(limit=args.limit)
        _say(json.dumps(records, ensure_ascii=False, indent=2))
        return 0
    with open_history(config.history_database) as history:
        runs = history.runs(limit=args.limit)
        if runs.empty:
            _say(f"no runs recorded in {history.url}")
            return 0
        shown = runs[["run_id", "as_of", "revision", "created_at", "solver_status"]].copy()
        shown["as_of"] = shown["as_of"].dt.strftime("%Y-%m-%d")
        shown["created_at"] = _format_time(shown["created_at"])
        # the operations view of each run (same order: both newest first, same limit)
        by_run = {r["run_id"]: r for r in history.records(limit=args.limit)}
        shown["status"] = [by_run[r]["status"] for r in shown["run_id"]]
        shown["exit"] = [_or_dash(by_run[r]["exit_code"]) for r in shown["run_id"]]
        shown["alerts"] = [_alert_counts(by_run[r]["alerts"]) for r in shown["run_id"]]
        shown["seconds"] = [
            _or_dash(None if (d := by_run[r]["duration_s"]) is None else round(d, 1))
            for r in shown["run_id"]
        ]
        _say(f"{len(runs)} most recent runs in {history.url} (created_at in UTC):")
        _say(shown.to_string(index=False))
        if args.no_accuracy:
            return 0
        from rainmaker.dataset import load_dataset

        dataset = load_dataset(config.data)
        accuracy = forecast_accuracy(history, dataset)
    if accuracy.empty:
        _say(f"no recorded forecast has an outcome in {config.data} yet")
        return 0
    summary = accuracy_summary(accuracy, by=("as_of", "variable"))
    summary["as_of"] = summary["as_of"].dt.strftime("%Y-%m-%d")
    order = [
        v
        for v in ("subscriptions", "redemptions", "net_flow", "aum")
        if v in set(summary["variable"])
    ]
    _say(f"forecast accuracy against {config.data} (latest revision of each as-of day)")
    for column, title in (
        ("wape_pct", "WAPE, percent (lower is better):"),
        ("coverage_80_pct", "outcomes inside the p10-p90 band, percent (80 is right):"),
    ):
        table = summary.pivot(index="as_of", columns="variable", values=column)[order]
        table = table.sort_index(ascending=False).head(args.limit).round(1)
        table.index.name = table.columns.name = None
        _say(title)
        _say(table.to_string())
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    """Closed-loop replay of a window under one or several policies (SPEC §2, §3)."""
    import pandas as pd

    from rainmaker.app.outputs import check_replaceable, replaced_whole
    from rainmaker.dataset import load_dataset, parse_day
    from rainmaker.limits import MAX_HORIZON_DAYS
    from rainmaker.tracking import check_tracking_uri
    from rainmaker.valuation import DEFAULT_SALE_SPREAD_BP
    from simulate.backtest import (
        BACKTEST_MARKERS,
        PolicyOptions,
        check_window,
        parse_policies,
        run_backtest,
    )
    from simulate.replay import DEFAULT_WARMUP_DAYS, ReplaySettings

    names = parse_policies(args.policy)
    end = parse_day(args.end, "--end") if args.end is not None else None
    start = parse_day(args.start, "--start") if args.start is not None else None
    if start is not None and end is not None:
        check_window(start, end)  # reversed or too short: refused before the data is read
    _at_least(args.horizon, "--horizon", 1, MAX_HORIZON_DAYS)
    _at_least(args.refit_every, "--refit-every", 1)
    _finite_in(args.returning_share, "--returning-share", 0.0, 1.0)
    spread = DEFAULT_SALE_SPREAD_BP if args.early_sale_cost_bp is None else args.early_sale_cost_bp
    # a sale spread above 10,000 bp of yield is no price
    _finite_in(spread, "--early-sale-cost-bp", 0.0, 10_000.0)
    warmup = DEFAULT_WARMUP_DAYS if args.warmup is None else args.warmup
    if warmup < 0:
        raise UsageError(f"--warmup must be a whole number of days >= 0, got {warmup}")
    settings = ReplaySettings(  # validates the world's settings (bad value: exit 2)
        returning_share=args.returning_share,
        sale_spread_bp=spread,
        max_leverage=args.max_leverage,
        large_redemption_deferral=args.defer_large_redemptions,
    )
    # the files are written beside --out and swapped in whole once every policy is replayed:
    # an earlier backtest there stays as it was until then, and a folder of other files is
    # refused (it would be replaced)
    check_replaceable(args.out, "--out", marker=BACKTEST_MARKERS, output="rainmaker backtest")
    tracking_uri = _tracking_uri(args)
    if tracking_uri:
        check_tracking_uri(tracking_uri, "--tracking-uri")
    dataset = load_dataset(args.data)
    _warn_of(dataset)
    end = dataset.last_date if end is None else end
    # a window the defaults make bad (--start on the last flows day, --end left out) is
    # refused by run_backtest itself, before anything replaces --out
    start = end - pd.Timedelta(days=364) if start is None else start
    products = list(args.products) if args.products is not None else None
    with replaced_whole(args.out) as staged:
        run = run_backtest(
            dataset,
            start,
            end,
            names,
            staged,
            products=products,
            settings=settings,
            # the refits in a worker beside the replay: the same figures, a quarter sooner
            options=PolicyOptions(
                horizon_days=args.horizon,
                refit_every_days=args.refit_every,
                background_refits=True,
            ),
            tracking_uri=tracking_uri or None,
            warmup_days=warmup,
            stressed=args.stressed,
            progress=reporter(args.progress),
        )
    columns = ["relative_vol_bp", "tracking_bp", "mean_excess_bp", "shortfall_days", "refused_pct"]
    first = next(iter(run.results.values()))
    _say(
        f"backtest {start:%Y-%m-%d} to {end:%Y-%m-%d} after {first.metrics['warmup_days']} "
        f"days of warm-up, {len(first.metrics['products'])} products (total, bp):"
    )
    _say(run.comparison[columns].round(2).to_string())
    money = ["repo_funded", "sold_early", "realised_loss", "unpaid"]
    _say("redemptions beyond liquid assets, CNY million:")
    _say((run.comparison[money] / 1e6).round(1).to_string())
    _say(f"files in {args.out}")
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    """Forecast the N days after the as-of day from rows dated up to it (SPEC §2, §3)."""
    from forecast import check_horizon, model_names, run_forecast
    from rainmaker.app.outputs import check_output_file
    from rainmaker.contracts import FORECAST_KEYS
    from rainmaker.dataset import load_dataset, parse_day

    check_horizon(args.horizon, "--horizon")
    model_names(args.model)
    as_of = None if args.as_of is None else parse_day(args.as_of, "--as-of")
    check_output_file(args.out, "--out", keys=FORECAST_KEYS, data=args.data)
    dataset = load_dataset(args.data)
    for warning in dataset.warnings:
        _warn(f"warning: {warning}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_forecast(
            dataset,
            as_of,
            horizon=args.horizon,
            model=args.model,
            progress=reporter(args.progress),
        )
    # what the forecast warned of, and what its result notes (e.g. flows forecast 0 on days off)
    for message in dict.fromkeys([*(str(w.message) for w in caught), *result.warnings]):
        _warn(f"warning: {message}")
    result.to_csv(args.out)
    dates = result.dates
    _say(
        f"forecast of {len(result.product_ids)} products as of {result.as_of:%Y-%m-%d} for "
        f"{dates[0]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d} ({result.model_name}) written to {args.out}"
    )
    return 0


def cmd_evaluate_forecast(args: argparse.Namespace) -> int:
    """Rolling-origin backtest of the forecast models, printed and logged to MLflow."""
    from forecast import DEFAULT_MODELS, model_names
    from forecast.evaluation import (
        METRICS_KEYS,
        check_evaluation,
        evaluate_forecast,
        log_to_mlflow,
    )
    from forecast.market import (
        MARKET_SCORE_KEYS,
        market_score_path,
        market_score_table,
        score_market_forecast,
    )
    from rainmaker.app.outputs import check_output_file
    from rainmaker.dataset import load_dataset, parse_day
    from rainmaker.tracking import check_tracking_uri

    models = model_names(args.models) if args.models else DEFAULT_MODELS
    check_evaluation(args.horizon, args.step, args.refit_every)
    start = parse_day(args.start, "--start")
    if args.end is not None and parse_day(args.end, "--end") <= start:
        raise UsageError(f"--end {args.end} must be after --start {args.start}")
    if args.out is not None:
        check_output_file(args.out, "--out", keys=METRICS_KEYS, data=args.data)
        check_output_file(
            market_score_path(args.out), "--out", keys=MARKET_SCORE_KEYS, data=args.data
        )
    tracking_uri = _tracking_uri(args)
    check_tracking_uri(tracking_uri, "--tracking-uri")
    dataset = load_dataset(args.data)
    for warning in dataset.warnings:
        _warn(f"warning: {warning}")
    end = args.end if args.end is not None else f"{dataset.last_date:%Y-%m-%d}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fallbacks repeat at every origin; the table says enough
        evaluation = evaluate_forecast(
            dataset,
            args.start,
            end,
            args.horizon,
            models,
            step_days=args.step,
            refit_every_days=args.refit_every,
            forecaster_params={"adapt": True} if args.adapt else None,
            progress=reporter(args.progress),
        )
    _say(
        f"rolling-origin evaluation, {len(evaluation.origins)} origins from "
        f"{evaluation.origins[0]:%Y-%m-%d} to {evaluation.origins[-1]:%Y-%m-%d}, "
        f"horizon {args.horizon} days (p50 for WAPE and MASE; coverage of p10-p90):"
    )
    _say(evaluation.table())
    for note in evaluation.notes:
        _warn(f"warning: {note}")
    # the market forecast (Shibor, benchmark yield) against the random walk, same origins
    market_score = score_market_forecast(dataset.market, evaluation.origins, args.horizon)
    _say(market_score_table(market_score))
    if args.out is not None:
        write_spreadsheet_csv(evaluation.metrics, args.out)
        _say(f"metrics by horizon written to {args.out}")
        market_path = market_score_path(args.out)
        write_spreadsheet_csv(market_score, market_path)
        _say(f"market forecast score written to {market_path}")
    if tracking_uri:
        run_id = log_to_mlflow(evaluation, tracking_uri, data_fingerprint=dataset.fingerprint)
        _say(f"logged to MLflow run {run_id} at {tracking_uri}")
    return 0


def cmd_scenario(args: argparse.Namespace) -> int:
    """Write a stressed copy of a data set: a redemption run, a rate shock, holders leaving."""
    from rainmaker.app.outputs import check_output_folder
    from rainmaker.dataset import load_dataset
    from rainmaker.validation import validate_dataset
    from simulate.scenarios import apply_scenario, check_out, parse_share, write_dataset

    check_out(args.out, force=args.force)  # before any work: a non-empty --out is refused
    check_output_folder(Path(args.out), "--out")  # ... and one that cannot be written
    params = {
        "start": args.start,
        "depth": None if args.depth is None else parse_share(args.depth, "--depth"),
        "share": None if args.share is None else parse_share(args.share, "--share"),
        "subscription_dip": (
            None
            if args.subscription_dip is None
            else parse_share(args.subscription_dip, "--subscription-dip")
        ),
        "days": args.days,
        "length": args.length,
        "shape": args.shape,
        "half_life": args.half_life,
        "dispersion": args.dispersion,
        "size_bp": args.size_bp,
        "tenor": args.tenor,
        "product": args.product,
        "holders": args.holders,
        "products": list(args.products) if args.products is not None else None,
    }
    dataset = load_dataset(args.data)
    scenario = apply_scenario(dataset, args.kind, seed=args.seed, **params)
    reports = []

    def must_be_valid(folder: Path) -> None:
        # the copy must still meet the contract, checked before it replaces --out: checked
        # after, an invalid copy had already replaced an earlier scenario (with --force)
        report = validate_dataset(folder)
        if not report.ok:
            raise RainmakerError(
                f"the scenario would not be a valid data set, so nothing was written to "
                f"{args.out}: " + "; ".join(str(p) for p in report.problems)
            )
        reports.append(report)

    out = write_dataset(
        scenario.dataset, args.out, record=scenario.record, force=args.force, check=must_be_valid
    )
    (report,) = reports
    _say(scenario.summary())
    _say(
        f"written to {out}: valid, {len(report.warnings)} warnings (input "
        f"{len(dataset.warnings)}); scenario.json says what was applied"
    )
    return 0


def cmd_stress(args: argparse.Namespace) -> int:
    """Liquidity stress tests of each product's book as of a day (simulate/stress.py).

    The files are written into a hidden folder beside ``--out`` and swapped in whole, as
    ``plan`` does: ``--out`` is new, empty or an earlier stress test's (it has a stress.json),
    and a failure leaves it as it was."""
    from rainmaker.app.outputs import check_replaceable, replaced_whole
    from rainmaker.app.report.stress_page import write_stress_page
    from rainmaker.dataset import load_dataset, parse_day
    from simulate.stress import load_scenarios, run_stress, write_stress

    check_replaceable(args.out, "--out", marker="stress.json", output="rainmaker stress test")
    settings = load_scenarios(args.scenarios)  # a bad file exits 2 naming the key
    dataset = load_dataset(args.data)
    _warn_of(dataset)
    as_of = dataset.last_date if args.as_of is None else parse_day(args.as_of, "--as-of")
    if not dataset.first_date <= as_of <= dataset.last_date:
        raise UsageError(
            f"--as-of {as_of:%Y-%m-%d} is outside the flows "
            f"({dataset.first_date:%Y-%m-%d} to {dataset.last_date:%Y-%m-%d})"
        )
    products = list(args.products) if args.products is not None else None
    # the whole data set, so that problems name their lines in the files; the engine reads no
    # row dated after the as-of day (tested)
    result = run_stress(dataset, as_of, settings, products, progress=reporter(args.progress))
    for note in result.warnings:  # e.g. products whose flows end before the as-of day
        _warn(f"warning: {note}")
    with replaced_whole(args.out) as staged:
        paths = write_stress(result, staged)
        paths["stress.html"] = write_stress_page(result, staged, args.lang)
    summary = result.summary
    ran = summary.loc[summary["skipped"] == ""]
    books = ", ".join(
        f"{k} {v}" for k, v in summary.drop_duplicates("product_id")["book"].value_counts().items()
    )
    _say(
        f"stress {as_of:%Y-%m-%d}: {len(result.books)} products ({books}), "
        f"{len(settings.scenarios)} scenarios, {result.seconds:.1f} s"
    )
    for name, rows in summary.groupby("scenario", sort=False):
        done = ran.loc[ran["scenario"] == name]
        if done.empty:
            _say(f"  {name}: skipped ({rows['skipped'].iloc[0]})")
            continue
        _say(
            f"  {name}: below 5% floor {int(done['days_to_cash_floor'].notna().sum())}, "
            f"below 10% floor {int(done['days_to_liquid_floor'].notna().sum())}, "
            f"realised loss {done['realised_loss'].sum() / 1e6:,.2f} CNY m, worst deviation "
            f"{done['min_deviation_pct'].min():.3f}%, max leverage "
            f"{done['max_leverage_pct'].max():.1f}%, unpaid {done['unpaid'].sum() / 1e6:,.2f} CNY m"
        )
    reverse = result.reverse
    _say(
        f"  reverse ({settings.reverse.redemption_days} working days): smallest breaking share "
        + ", ".join(
            f"{r.product_id} {'none' if r.share != r.share else f'{100 * r.share:.1f}%'}"
            for r in reverse.itertuples()
        )
    )
    failed = result.checks.loc[~result.checks["ok"]]
    _say(
        f"  rules on the as-of books: {len(failed)} breached"
        + (
            ": " + ", ".join(f"{r.product_id} {r.rule}" for r in failed.itertuples())
            if len(failed)
            else ""
        )
    )
    _say(f"files in {args.out}: {', '.join(paths)}")
    return 0


def _progress_asked(args: argparse.Namespace, config: DailyConfig) -> bool | None:
    """``--progress`` / ``--no-progress`` if given, else the settings' ``progress``."""
    asked = getattr(args, "progress", None)
    return config.progress if asked is None else bool(asked)


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def _alert_counts(alerts: Sequence[dict[str, object]]) -> str:
    """``2 critical, 1 warning`` (or ``-``): a run's alerts in one cell."""
    counts: dict[str, int] = {}
    for alert in alerts:
        counts[str(alert.get("severity"))] = counts.get(str(alert.get("severity")), 0) + 1
    return ", ".join(f"{n} {s}" for s, n in counts.items()) or "-"


def _tracking_uri(args: argparse.Namespace) -> str:
    """The MLflow store of a command: ``--tracking-uri``, or "" with ``--no-tracking``.

    ``--tracking-uri ""`` still turns tracking off, as it used to, with a deprecation warning:
    ``--no-tracking`` is the one way in every command.
    """
    if args.no_tracking:
        return ""
    if args.tracking_uri == "":
        _deprecated('--tracking-uri ""', "--no-tracking")
    return str(args.tracking_uri)


def _format_time(column: pd.Series) -> pd.Series:
    """Timestamps as ``YYYY-MM-DD HH:MM:SS`` text (UTC)."""
    import pandas as pd

    return pd.to_datetime(column).dt.strftime("%Y-%m-%d %H:%M:%S")


# --------------------------------------------------------------------------- parser


def _add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        metavar="DIR",
        help="data-set folder (default: %(default)s)",
    )


EMPTY_PRODUCTS = (
    "--products is empty; give product ids separated by commas, or leave the option out for "
    "every product"
)


class _ProductIds(argparse.Action):
    """``--products IDS``, the one place it is parsed: comma-separated ids, each stripped, blanks
    dropped, as a selection (:func:`rainmaker.app.config.product_selection`: a set, sorted, so
    that the order or a repeat changes no output and makes no new revision); the option left
    out: None, every product. An explicitly empty list (``''``, ``,``) is a usage error (exit
    2), not "every product"."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        ids = tuple(p.strip() for p in str(values).split(",") if p.strip())
        if not ids:
            parser.error(EMPTY_PRODUCTS)
        setattr(namespace, self.dest, product_selection(ids))


PRODUCTS_HELP = "comma-separated ids, a set: order and repeats do not matter"
# argparse takes a value that starts with "-" (and is not a negative number) for an option, so
# "--products -P01" would be refused with "expected one argument"
PRODUCTS_DASH_HINT = "an id that starts with '-' can be joined to the option: --products=-P01"


def _products_joined(argv: Sequence[str]) -> list[str]:
    """``argv`` with ``--products -P01`` written ``--products=-P01``, so that an id beginning
    with "-" is read as the option's value. A next word that starts with "--", or is ``-h``, is
    left alone (an option: the value is missing, and the error says how to write such an id);
    so is everything after ``--``."""
    out: list[str] = []
    words = list(argv)
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            out.extend(words[i:])
            break
        following = words[i + 1] if i + 1 < len(words) else ""
        if (
            word == "--products"
            and following.startswith("-")
            and not following.startswith("--")
            and following not in ("-", "-h")
        ):
            out.append(f"--products={following}")
            i += 2
            continue
        out.append(word)
        i += 1
    return out


class _Parser(argparse.ArgumentParser):
    """The command line's parser (sub-commands' too): argparse's, with a hint on how to write a
    product id that starts with "-" when ``--products`` finds no value."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("argument --products: expected one argument"):
            message = f"{message} ({PRODUCTS_DASH_HINT})"
        super().error(message)


def _add_products(parser: argparse.ArgumentParser, help_text: str = PRODUCTS_HELP) -> None:
    parser.add_argument(
        "--products", action=_ProductIds, default=None, metavar="IDS", help=help_text
    )


LOG_JSON_HELP = "log lines on stderr as JSON objects (time, level, command, message)"


PROGRESS_HELP = (
    "progress of long steps with an ETA on stderr even when it is not a terminal "
    "(--no-progress: never; default: only on a terminal)"
)


def _add_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help=PROGRESS_HELP
    )


def _add_no_tracking(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-tracking", action="store_true", help="do not log to MLflow")


def _add_config_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", type=Path, default=None, metavar="DIR", help="data-set folder (default: config's)"
    )


def _add_daily_options(parser: argparse.ArgumentParser, lang: bool = True) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="settings file (default: ./rainmaker.toml if present, else built-in defaults)",
    )
    if lang:
        parser.add_argument("--lang", choices=("zh", "en"), default=None, help="report language")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = _Parser(
        prog="rainmaker",
        description="Forecast and control daily flows of cash-management wealth products.",
    )
    parser.add_argument("--version", action="version", version=f"rainmaker {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an unexpected error"
    )
    parser.add_argument("--log-json", action="store_true", help=LOG_JSON_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("validate", help="check a data set against the contract")
    _add_data(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("forecast", help="forecast the N days after an as-of day")
    _add_data(p)
    p.add_argument("--as-of", default=None, metavar="DATE", help="default: last day of flows")
    p.add_argument("--horizon", type=_whole, default=14, metavar="N", help="days (default 14)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="forecast CSV")
    p.add_argument(
        "--model", default="auto", metavar="M", help="auto (default), a model, or a list a,b"
    )
    _add_progress(p)
    p.set_defaults(func=cmd_forecast)

    p = sub.add_parser(
        "evaluate-forecast", help="rolling-origin backtest of the forecast, logged to MLflow"
    )
    _add_data(p)
    p.add_argument("--start", required=True, metavar="DATE", help="first origin")
    p.add_argument("--end", default=None, metavar="DATE", help="last day scored (default: last)")
    p.add_argument("--horizon", type=_whole, default=14, metavar="N", help="days (default 14)")
    p.add_argument(
        "--models",
        default=None,
        metavar="M",
        help="comma-separated models (default: seasonal_naive,ets,lightgbm)",
    )
    p.add_argument("--step", type=_whole, default=7, metavar="DAYS", help="days between origins")
    p.add_argument(
        "--refit-every", type=_whole, default=28, metavar="DAYS", help="days between full refits"
    )
    p.add_argument(
        "--adapt",
        action="store_true",
        help="bands that widen after a week of unusual errors (docs/forecast.md)",
    )
    p.add_argument("--out", type=Path, default=None, metavar="FILE", help="metrics CSV")
    p.add_argument(
        "--tracking-uri",
        default="sqlite:///mlflow.db",
        metavar="URI",
        help='MLflow store (default: %(default)s; "" is a deprecated --no-tracking)',
    )
    _add_no_tracking(p)
    _add_progress(p)
    p.set_defaults(func=cmd_evaluate_forecast)

    p = sub.add_parser(
        "plan", help="forecast + optimise + daily plan report for the days after an as-of day"
    )
    _add_data(p)
    p.add_argument("--as-of", default=None, metavar="DATE", help="default: last day of flows")
    p.add_argument(
        "--out", type=Path, default=Path("out/plan"), metavar="DIR", help="default: %(default)s"
    )
    _add_daily_options(p)
    p.add_argument("--horizon", type=_whole, default=None, metavar="N", help="days planned")
    _add_products(p)
    _add_no_tracking(p)
    _add_progress(p)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser(
        "run",
        help="the scheduled job: plan the latest complete day, record the run",
        description=RUN_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_daily_options(p)
    _add_config_data(p)
    p.add_argument("--as-of", default=None, metavar="DATE", help="back-fill this day instead")
    p.add_argument("--horizon", type=_whole, default=None, metavar="N", help="days planned")
    _add_products(p)
    p.add_argument(
        "--force", action="store_true", help="new revision even if data and settings are unchanged"
    )
    _add_no_tracking(p)
    _add_progress(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="the whole daily job on the sample data set")
    _add_data(p)
    p.add_argument("--config", type=Path, default=None, metavar="FILE", help="default: built-in")
    p.add_argument("--lang", choices=("zh", "en"), default=None, help="report language")
    _add_no_tracking(p)
    _add_progress(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "status",
        help="health check: last success, its age, alerts of the revision in effect",
        description=STATUS_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_daily_options(p, lang=False)
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser(
        "rollback",
        help="withdraw the revision in effect; latest points at the previous good one",
        description="Marks the revision `latest` points at as withdrawn in the run history "
        "(its files stay) and points `latest` at the newest revision not withdrawn. A later "
        "run on the same data and settings does not publish it again (--force does). Exit 2 "
        "when there is nothing to roll back to, 3 while a run holds the lock.",
    )
    _add_daily_options(p, lang=False)
    p.add_argument("--reason", default=None, metavar="TEXT", help="why, kept in the history")
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("history", help="recorded runs and the accuracy of their forecasts")
    _add_daily_options(p, lang=False)
    _add_config_data(p)
    p.add_argument("--limit", type=_whole, default=20, metavar="N", help="runs shown (default 20)")
    p.add_argument("--no-accuracy", action="store_true", help="list runs only")
    p.add_argument(
        "--json",
        action="store_true",
        help="print the runs as JSON (status, checks, alerts, duration); no accuracy table",
    )
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("backtest", help="closed-loop replay of history under a policy")
    _add_data(p)
    p.add_argument("--start", default=None, metavar="DATE", help="default: 364 days before --end")
    p.add_argument("--end", default=None, metavar="DATE", help="default: last day of flows")
    p.add_argument(
        "--policy",
        default="all",
        metavar="P",
        help="none, rule, optimizer, oracle, a comma-separated list, or all (default)",
    )
    p.add_argument("--out", type=Path, default=Path("out/backtest"), metavar="DIR")
    _add_products(p)
    p.add_argument(
        "--tracking-uri",
        default="sqlite:///mlflow.db",
        metavar="URI",
        help='MLflow store (default: %(default)s; "" is a deprecated --no-tracking)',
    )
    _add_no_tracking(p)
    p.add_argument(
        "--horizon", type=_whole, default=14, metavar="N", help="days planned each morning"
    )
    p.add_argument(
        "--refit-every", type=_whole, default=7, metavar="DAYS", help="forecast refit cadence"
    )
    p.add_argument(
        "--returning-share",
        type=float,
        default=0.0,
        metavar="X",
        help="share of refused demand that comes back the next working day (default 0)",
    )
    p.add_argument(
        "--early-sale-cost-bp",
        type=float,
        default=None,
        metavar="BP",
        help="lots sold before maturity are priced at the day's curve plus this spread, bp of "
        "yield (default: rainmaker.valuation.DEFAULT_SALE_SPREAD_BP, 10)",
    )
    p.add_argument(
        "--max-leverage",
        type=float,
        default=MAX_LEVERAGE,
        metavar="X",
        help="total assets / net assets repo borrowing may reach, 1 to 2; 1 turns borrowing "
        "off (default %(default)g, the rule)",
    )
    p.add_argument(
        "--defer-large-redemptions",
        action="store_true",
        help="defer net redemptions above 10%% of units to the next working day (巨额赎回)",
    )
    p.add_argument(
        "--warmup",
        type=_whole,
        default=None,
        metavar="DAYS",
        help="days replayed before --start and left out of the figures (default: "
        "simulate.replay.DEFAULT_WARMUP_DAYS, 60)",
    )
    p.add_argument(
        "--stressed",
        action="store_true",
        help="judge the window as stressed: the verdict also asks for no larger loss on early "
        "sales and no unpaid redemptions",
    )
    _add_progress(p)
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser(
        "scenario",
        help="write a stressed copy of a data set (redemption run, rate shock, holders leaving)",
        description="Kinds: run, rate-shock, holders-leave; presets: run-30in5, rates-2013, "
        "rates-2016 (simulate/scenarios.py PRESETS; docs/backtest.md, Scenarios). Options a "
        "kind does not take are refused.",
    )
    _add_data(p)
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write")
    p.add_argument("--kind", required=True, metavar="KIND", help="a kind or a preset")
    p.add_argument("--start", required=True, metavar="DATE", help="first stressed day")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out")
    p.add_argument("--shape", default=None, help="run: ramp|spike|plateau; rate-shock: spike|climb")
    p.add_argument("--days", type=_whole, default=None, metavar="N", help="days of the depth/rise")
    p.add_argument("--length", type=_whole, default=None, metavar="N", help="days until it is over")
    p.add_argument(
        "--depth", default=None, metavar="X", help="run: share of AUM, 0.3 or 30%%, at most 0.95"
    )
    p.add_argument("--half-life", type=float, default=None, metavar="DAYS", help="run: decay")
    p.add_argument("--subscription-dip", default=None, metavar="X", help="run: share, at peak")
    _add_products(p, f"run: {PRODUCTS_HELP}")
    p.add_argument("--dispersion", type=float, default=None, metavar="SIGMA", help="run: spread")
    p.add_argument("--size-bp", type=float, default=None, metavar="BP", help="rate-shock: peak")
    p.add_argument("--tenor", default=None, metavar="COLUMN", help="rate-shock: reference rate")
    p.add_argument("--product", default=None, metavar="ID", help="holders-leave: the product")
    p.add_argument("--share", default=None, metavar="X", help="holders-leave: share of AUM")
    p.add_argument("--holders", type=_whole, default=None, metavar="N", help="holders-leave: count")
    p.set_defaults(func=cmd_scenario)

    p = sub.add_parser(
        "stress",
        help="liquidity stress tests of each product's book as of a day",
        description="Redemption, rate, spread, liquidity and combined shocks run day by day on "
        "each product's book, a reverse stress test and the rules checked (docs/stress.md). "
        "Exit 0 with findings, 2 on bad input.",
    )
    _add_data(p)
    p.add_argument("--as-of", default=None, metavar="DATE", help="default: last flows day")
    p.add_argument(
        "--scenarios",
        type=Path,
        default=None,
        metavar="FILE",
        help="scenarios TOML file (default: simulate/stress_scenarios.toml)",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write")
    _add_products(p)
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="page language")
    _add_progress(p)
    p.set_defaults(func=cmd_stress)

    p = sub.add_parser("sample", help="regenerate the synthetic sample data set")
    p.add_argument("--out", type=Path, default=DEFAULT_DATA, metavar="DIR")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the sample's)")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace --out whole even when it holds files rainmaker sample did not write",
    )
    p.set_defaults(func=cmd_sample)
    for command in sub.choices.values():
        # also accepted after the command (`rainmaker run --log-json`), where cron lines put it
        command.add_argument(
            "--log-json", action="store_true", default=argparse.SUPPRESS, help=LOG_JSON_HELP
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rainmaker`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(_products_joined(sys.argv[1:] if argv is None else argv))
    logs.reset()  # one process may run several commands (tests, notebooks)
    logs.configure(command=args.command, json_lines=bool(args.log_json))
    with warnings.catch_warnings():  # restores the caller's warning display (tests, notebooks)
        warnings.showwarning = _warning_line(args.command)
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    """Run the chosen command and map what escapes it to an exit status and a message."""
    try:
        return int(args.func(args))
    except DataError as error:
        head, *problems = error.lines()
        logs.error(head, problems)
        return error.exit_code
    except (UsageError, RainmakerError) as error:
        logs.error(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        logs.error("interrupted")
        return 130
    except Exception as error:  # the last line of defence: a message, not a stack trace
        if args.debug:  # the traceback, with any password in it masked like every message
            head, *frames = "".join(traceback.format_exception(error)).rstrip().split("\n")
            logs.error(head, frames)
        else:
            logs.error(
                f"unexpected error: {type(error).__name__}: {error}",
                ["(run with --debug for the traceback)"],
            )
        return 1


def _warning_line(command: str) -> Callable[..., None]:
    """A ``warnings.showwarning`` that logs one WARNING line, ``... rainmaker CMD: ...``.

    Python's default adds the file, line number and source line of the library that warned:
    noise in an operator's log, and it can quote a secret from the caller's code.
    """

    def show(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        logs.warning(f"{message} ({category.__name__})")

    return show


if __name__ == "__main__":
    sys.exit(main())
