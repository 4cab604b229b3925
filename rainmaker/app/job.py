"""``rainmaker run``: the scheduled daily job, its revisions, rollback, recovery and retention.

:func:`run_job` (``rainmaker run``, and ``rainmaker demo`` on the sample) plans the latest
complete day with the pipeline (:func:`rainmaker.app.pipeline.plan_day`) into
``<output root>/<as_of>/r<N>/``, records the run in the history database and logs it to MLflow
(:mod:`rainmaker.app.mlflow_tracking`); :func:`rollback` withdraws the revision in effect;
:func:`reconcile` records published revisions the database does not know yet. ``rainmaker
plan`` (one day into a folder the user names) is :func:`rainmaker.app.day_files.plan_to_folder`.

Safety of the scheduled job, in the order it happens:

1. settings, optimiser settings, the day asked for, the data folder, the output root and the
   history database are checked before anything is written: a bad configuration or an
   unreachable database exits with no output;
2. a lock in the output root stops a second run (exit status 3);
3. the data are loaded and validated; the as-of day is the latest day every live product has
   flows for;
4. if the latest revision of that day was made from the same input rows (fingerprint of the
   data up to the as-of day, after the product selection) with the same settings, the run is a
   no-op and says so;
5. otherwise every file is written into a staging folder and renamed into place as the next
   revision ``r<N>`` in one :func:`os.replace` (:mod:`rainmaker.app.outputs`);
6. the run (metadata, forecast rows, plan rows) is recorded in one database transaction;
7. the run is logged to MLflow; a tracking failure is reported but does not undo the plan;
8. retention (``keep_days``) deletes the oldest as-of days' revisions;
9. the operations checks (:mod:`rainmaker.app.ops`: stale data, late data, alerts of the
   ``fail_on`` severity) decide the exit status; they are written into ``run.json`` and the
   history with the revision, which is published all the same.

A run killed before step 5 leaves no revision folder and no database row (its staging folder is
removed by the next run); killed between steps 5 and 6 it leaves a complete folder that the next
run records (:func:`reconcile`), so the folders and the database never disagree for long. The
database knows revisions by run id and their folders relative to the output root, so a root can
be moved or copied; ``<output root>/latest`` always points at the newest as-of day's newest
revision that was not withdrawn (:func:`rollback`), whatever day a run (a back-fill) planned.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from rainmaker.app import logs
from rainmaker.app.config import DailyConfig
from rainmaker.app.day_files import write_day
from rainmaker.app.mlflow_tracking import track_day
from rainmaker.app.ops import Check, alert_checks, data_age_days, data_checks, exit_code_of
from rainmaker.app.outputs import (
    FORECAST_FILE,
    LATEST_LINK,
    REPORT_FILE,
    RUN_FILE,
    Revision,
    all_revisions,
    check_output_folder,
    cleaned_up,
    clear_staging,
    day_folder,
    list_revisions,
    new_staging,
    point_latest,
    publish,
    remove_old_days,
    run_lock,
)
from rainmaker.app.pipeline import (
    Progress,
    Steps,
    check_day,
    input_fingerprint,
    latest_complete_day,
    plan_day,
    plan_settings,
    print_warnings,
    select_products,
    to_stderr,
)
from rainmaker.errors import DataError, RainmakerError, UsageError
from rainmaker.safety import restore_spreadsheet_text

if TYPE_CHECKING:
    from rainmaker.app.history import RunHistory

__all__ = [
    "RollbackOutcome",
    "RunOutcome",
    "next_revision",
    "reconcile",
    "revision_in_effect",
    "rollback",
    "run_job",
]


@dataclass(frozen=True)
class RunOutcome:
    """What a scheduled run did.

    Attributes:
        status: ``"published"`` (a new revision) or ``"unchanged"`` (a no-op).
        as_of: the as-of day.
        folder: the revision folder (the new one, or the existing one of a no-op).
        run_id: the run's id (of the existing revision for a no-op).
        revision: N of ``r<N>``.
        message: one line for the operator.
        timings: seconds per step.
        tracking_error: why MLflow logging failed, or None.
        alerts: the alerts of the revision (the report's: severity, kind, product_id, text).
        checks: the operations checks that failed (stale data, late data, alerts).
        data_age_days: days from the data's latest complete day to today (local).
        removed: as-of day folders deleted by retention (``keep_days``).
    """

    status: str
    as_of: pd.Timestamp
    folder: Path
    run_id: str
    revision: int
    message: str
    timings: Mapping[str, float] = field(default_factory=dict)
    tracking_error: str | None = None
    alerts: Sequence[Mapping[str, Any]] = ()
    checks: Sequence[Check] = ()
    data_age_days: int | None = None
    removed: Sequence[Path] = ()

    @property
    def exit_code(self) -> int:
        """The exit status the checks call for (0 when none failed; :data:`ops.EXIT_CODES`)."""
        return exit_code_of(self.checks)

    @property
    def report(self) -> Path:
        """The report of the revision."""
        return self.folder / REPORT_FILE


def run_job(
    config: DailyConfig,
    *,
    as_of: Any = None,
    force: bool = False,
    steps: Steps | None = None,
    progress: Progress = to_stderr,
    command: str = "run",
    now: datetime | None = None,
) -> RunOutcome:
    """``rainmaker run``: the scheduled job (see the module docstring for the steps).

    Args:
        config: the settings.
        as_of: plan this day instead of the latest complete one (a back-fill).
        force: make a new revision even when the inputs are unchanged.
        steps: forecast and plan functions (default: the real ones).
        progress: where progress lines go.
        command: name recorded in MLflow (``run`` or ``demo``).
        now: the local time the checks judge against (aware; default: now in
            ``config.timezone``).

    Returns:
        What was done: a new revision, or a no-op naming the existing one.

    Raises:
        UsageError: bad settings (exit 2). DataError: bad data (exit 2).
        LockHeld: another run holds the lock (exit 3).
        HistoryUnavailable: the history database cannot be used (exit 1).
    """
    from rainmaker.app.history import HistoryUnavailable, open_history
    from rainmaker.dataset import load_dataset, parse_day
    from rainmaker.validation import folder_problem

    started = time.perf_counter()
    # every argument and path is checked before anything is created (the history database
    # included): the settings, the day asked for, the data folder, the output root
    settings = plan_settings(config)
    wanted = None if as_of is None else parse_day(as_of, "--as-of")
    if (problem := folder_problem(Path(config.data))) is not None:
        raise DataError([problem])
    root = Path(config.output_root)
    check_output_folder(root, "output_root")
    history = open_history(config.history_database)
    timings: dict[str, float] = {}
    now = now or logs.local_now(config.zone)
    try:
        with run_lock(root):
            for stale in clear_staging(root):
                progress(f"removed the staging folder of an interrupted run: {stale.name}")
            for recovered in reconcile(root, history):
                progress(f"recorded revision {recovered} published by an interrupted run")
            withdrawn = set(history.withdrawn())
            dataset = load_dataset(config.data)
            print_warnings(dataset, progress)
            complete = latest_complete_day(dataset)
            day = complete if wanted is None else wanted
            check_day(dataset, day)
            if as_of is None and complete < dataset.last_date:
                progress(
                    f"flows after {complete:%Y-%m-%d} are incomplete (some products have no "
                    f"row yet): planning for {complete:%Y-%m-%d}"
                )
            used = select_products(dataset.up_to(day), config.products)
            timings["load_s"] = time.perf_counter() - started
            # the feed is judged on the latest complete day, whatever day a back-fill plans
            feed_checks = data_checks(complete, config, now)
            age = data_age_days(complete, now)
            revisions = list_revisions(root, day)
            fingerprint, settings_hash = input_fingerprint(used), config.settings_hash()
            number, same = next_revision(
                revisions, fingerprint, settings_hash, force=force, withdrawn=withdrawn
            )
            if same is not None:
                # repairs a link an older version moved into the past
                in_effect = point_latest(root, withdrawn)
                removed = _retain(root, config, in_effect, progress)
                message = (
                    f"nothing to do: {day:%Y-%m-%d} was already planned from the same "
                    f"data and settings as revision r{same.number} ({same.path})"
                )
                shown, shown_day = same, day
                if str(same.run.get("run_id", "")) in withdrawn:
                    # a rollback is not undone by the next scheduled run on the same inputs
                    message += (
                        ", which was withdrawn (rainmaker rollback); "
                        f"{LATEST_LINK} points at {_relative(in_effect, root)}. "
                        "Change the data or settings, or use --force, to plan it again"
                    )
                    active = revision_in_effect(revisions, withdrawn)
                    if active is not None:  # the day's revision in effect
                        shown = active
                    else:  # every revision of the day withdrawn: the one latest points at
                        shown, shown_day = _in_effect(root, in_effect, withdrawn) or (same, day)
                alerts = list(shown.run.get("alerts") or [])
                checks = feed_checks + alert_checks(alerts, config.fail_on)
                return RunOutcome(
                    status="unchanged",
                    as_of=shown_day,
                    folder=shown.path,
                    run_id=str(shown.run.get("run_id", "")),
                    revision=shown.number,
                    message=message,
                    alerts=alerts,
                    checks=checks,
                    data_age_days=age,
                    removed=removed,
                )
            run_id = f"{day:%Y%m%d}-r{number}-{uuid.uuid4().hex[:8]}"
            result = plan_day(
                used,
                day,
                config,
                run_id=run_id,
                settings=settings,
                revision=number,
                history=history,
                steps=steps,
                progress=progress,
                source=dataset,
            )
            final = day_folder(root, day) / f"r{number}"
            # relative to the output root, so that the root can be moved or copied
            result.run_info["output_dir"] = final.relative_to(root).as_posix()
            result.run_info["timings"]["load_s"] = round(timings["load_s"], 4)
            # the run's duration up to its files: run.json holds it, for `history --json`
            result.run_info["timings"]["total_s"] = round(time.perf_counter() - started, 4)
            alerts = list(result.run_info.get("alerts") or [])
            checks = feed_checks + alert_checks(alerts, config.fail_on)
            result.run_info["checks"] = [c.as_dict() for c in checks]
            result.run_info["exit_code"] = exit_code_of(checks)
            result.run_info["data_age_days"] = age
            with cleaned_up(new_staging(root)) as staged:
                write_day(result, staged)
                publish(staged, final)
            latest = point_latest(root, withdrawn)
            try:
                history.record(result.run_info, result.forecast_table, result.plan_table)
            except HistoryUnavailable as exc:
                raise HistoryUnavailable(
                    f"{day:%Y-%m-%d} revision r{number} is published in {final} but was not "
                    f"recorded: {exc}. The next run records it before anything else; do not "
                    "re-run with --force, which would publish another revision"
                ) from exc
            tracking_error = None
            if config.tracking_uri:
                tracking_error = track_day(
                    config, result, final, command=command, progress=progress, history=history
                )
                if tracking_error:
                    progress(f"warning: {tracking_error}")
            removed = _retain(root, config, latest, progress)
            timings.update(result.run_info["timings"])
            timings["total_s"] = time.perf_counter() - started
            message = f"planned {day:%Y-%m-%d} as revision r{number} ("
            message += _what_changed(
                revisions[-1] if revisions else None, fingerprint, settings_hash
            )
            message += ")"
            if latest is not None and latest != final:
                message += (
                    f"; a back-fill: {LATEST_LINK} still points at "
                    f"{latest.relative_to(root).as_posix()}, the newest as-of day"
                )
            return RunOutcome(
                status="published",
                as_of=day,
                folder=final,
                run_id=run_id,
                revision=number,
                message=message,
                timings=timings,
                tracking_error=tracking_error,
                alerts=alerts,
                checks=checks,
                data_age_days=age,
                removed=removed,
            )
    finally:
        history.close()


@dataclass(frozen=True)
class RollbackOutcome:
    """What ``rainmaker rollback`` did.

    Attributes:
        withdrawn: the revision folder withdrawn.
        run_id: its run id.
        latest: the revision ``latest`` points at now.
        message: one line for the operator.
    """

    withdrawn: Path
    run_id: str
    latest: Path
    message: str


def rollback(
    config: DailyConfig, *, reason: str = "", progress: Progress = to_stderr
) -> RollbackOutcome:
    """``rainmaker rollback``: withdraw the revision in effect, point ``latest`` at the one before.

    The revision in effect is the one ``latest`` points at (the newest revision of the newest
    as-of day not withdrawn yet). It is marked ``withdrawn`` in the run history with the time
    and ``reason``; its folder and rows are kept. ``latest`` then points at the newest revision
    that is not withdrawn. A later run on the same data and settings as a withdrawn revision
    does not publish it again (``--force`` does).

    Raises:
        UsageError: no revision is in effect, or it is the only one left (exit status 2).
        LockHeld: a run is working (exit status 3).
        HistoryUnavailable: the history database cannot be used (exit status 1).
    """
    from rainmaker.app.history import open_history

    root = Path(config.output_root)
    if not root.is_dir():
        raise UsageError(f"output_root {root} does not exist: nothing to roll back")
    history = open_history(config.history_database)
    try:
        with run_lock(root):
            for recovered in reconcile(root, history):
                progress(f"recorded revision {recovered} published by an interrupted run")
            withdrawn = set(history.withdrawn())
            active = [
                r for r in all_revisions(root) if str(r.run.get("run_id", "")) not in withdrawn
            ]
            if not active:
                raise UsageError(f"no revision in effect in {root}: nothing to roll back")
            current = active[-1]
            if len(active) < 2:
                raise UsageError(
                    f"{_relative(current.path, root)} is the only revision not withdrawn in "
                    f"{root}: nothing to roll back to"
                )
            run_id = str(current.run.get("run_id", ""))
            history.withdraw(run_id, reason)
            latest = point_latest(root, {*withdrawn, run_id})
            assert latest is not None  # active[-2] is there
            message = (
                f"withdrew {_relative(current.path, root)} (run {run_id}); {LATEST_LINK} now "
                f"points at {_relative(latest, root)}"
            )
            return RollbackOutcome(current.path, run_id, latest, message)
    finally:
        history.close()


def _relative(path: Path | None, root: Path) -> str:
    if path is None:
        return "nothing"
    return path.relative_to(root).as_posix()


def _retain(
    root: Path, config: DailyConfig, in_effect: Path | None, progress: Progress
) -> list[Path]:
    """Retention after a run: the oldest as-of days beyond ``keep_days`` are deleted."""
    removed = remove_old_days(root, config.keep_days, keep=[in_effect] if in_effect else [])
    if removed:
        progress(
            f"retention (keep_days = {config.keep_days}): removed {len(removed)} as-of day "
            f"folder(s), {removed[0].name} to {removed[-1].name}"
        )
    return removed


def _what_changed(previous: Revision | None, fingerprint: str, settings_hash: str) -> str:
    """Why a revision was published: first, data and/or settings changed, or forced."""
    if previous is None:
        return "first revision"
    data = previous.run.get("input_fingerprint") != fingerprint
    settings = previous.run.get("settings_hash") != settings_hash
    changed = " and ".join(w for w, c in (("data", data), ("settings", settings)) if c)
    if changed:
        return f"{changed} changed since r{previous.number}"
    return f"--force: same data and settings as r{previous.number}"


def next_revision(
    revisions: Sequence[Revision],
    fingerprint: str,
    settings_hash: str,
    *,
    force: bool = False,
    withdrawn: Collection[str] = (),
) -> tuple[int, Revision | None]:
    """Whether a scheduled run has anything to do, and under which revision number.

    The latest revision counts, and after a rollback the revision in effect (the latest not
    withdrawn): the same inputs as either is a no-op (a withdrawn plan is not published again
    by the next scheduled run, nor a copy of the plan a rollback went back to). Data changed
    back to what an older revision used still makes a new revision, so the newest folder not
    withdrawn is always the answer.

    Args:
        revisions: published revisions of the as-of day, oldest first.
        fingerprint: input fingerprint of the run (:func:`input_fingerprint`).
        settings_hash: :meth:`DailyConfig.settings_hash` of the run.
        force: publish even when nothing changed.
        withdrawn: run ids of withdrawn revisions (``rainmaker rollback``).

    Returns:
        ``(number, None)`` to publish revision ``number``, or ``(its number, revision)`` when
        the latest revision, or the one in effect, has the same inputs and settings (a no-op).
    """
    if not revisions:
        return 1, None
    latest = revisions[-1]

    def same(revision: Revision) -> bool:
        return (
            revision.run.get("input_fingerprint") == fingerprint
            and revision.run.get("settings_hash") == settings_hash
        )

    if not force:
        if same(latest):
            return latest.number, latest
        in_effect = revision_in_effect(revisions, withdrawn)
        if in_effect is not None and in_effect is not latest and same(in_effect):
            return in_effect.number, in_effect
    return latest.number + 1, None


def _in_effect(
    root: Path, folder: Path | None, withdrawn: Collection[str]
) -> tuple[Revision, pd.Timestamp] | None:
    """The revision ``latest`` points at (``folder``, from :func:`point_latest`) and its as-of
    day, or None. When every revision of the day planned is withdrawn it is another day's: the
    no-op run showed the withdrawn revision's report, alerts and exit status while saying that
    ``latest`` pointed elsewhere."""
    if folder is None:
        return None
    day = pd.Timestamp(folder.parent.name)
    for revision in list_revisions(root, day):
        if revision.path.resolve() == folder.resolve():
            if str(revision.run.get("run_id", "")) in withdrawn:
                return None
            return revision, day
    return None


def revision_in_effect(
    revisions: Sequence[Revision], withdrawn: Collection[str]
) -> Revision | None:
    """The newest of a day's revisions not withdrawn (``rainmaker rollback``), or None."""
    active = [r for r in revisions if str(r.run.get("run_id", "")) not in withdrawn]
    return active[-1] if active else None


def reconcile(root: Path, history: RunHistory) -> list[str]:
    """Record published revisions that the history database does not hold.

    A run killed after its folder was renamed into place but before its database transaction
    leaves exactly this; the folder is complete (it appeared in one rename), so its files are
    recorded as they are. Revisions are matched by run id, not by path, so an output root that
    was moved or copied elsewhere is recognised. Call while holding the lock.

    Args:
        root: output root.
        history: the run history.

    Returns:
        ``<as_of>/r<N>`` of each revision recorded.
    """
    recorded = []
    for revision in all_revisions(root):
        folder = revision.path
        run_file = folder / RUN_FILE
        if not run_file.is_file():
            continue
        run_id = str(revision.run.get("run_id", ""))
        if run_id and history.has_run(run_id):
            continue
        try:
            info = json.loads(run_file.read_text(encoding="utf-8"))
            forecast = _read_published(folder / FORECAST_FILE)
            plan = _read_published(folder / "plan.csv")
        except (OSError, ValueError, KeyError) as exc:
            raise RainmakerError(
                f"published revision {folder} cannot be read ({exc}); move it away and re-run"
            ) from exc
        relative = folder.relative_to(root).as_posix()
        history.record({**info, "output_dir": relative}, forecast, plan)
        recorded.append(relative)
    return recorded


def _read_published(path: Path) -> pd.DataFrame:
    """A published ``forecast.csv`` or ``plan.csv`` as written: ids as the exact text (their
    spreadsheet quoting undone), empty cells as NaN, dates parsed."""
    frame = pd.read_csv(path, dtype={"product_id": str}, keep_default_na=False, na_values=[""])
    frame["product_id"] = frame["product_id"].map(restore_spreadsheet_text)
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    return frame
