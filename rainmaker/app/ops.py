"""What operations watch: the job's checks and exit codes, its JSON summary, the notifiers and
the health check behind ``rainmaker status``.

A scheduled run publishes what it can and then says, through its exit status, whether the plan
can be trusted this morning (:data:`EXIT_CODES`, one home for the table in ``rainmaker run
--help`` and docs/operations.md):

- **stale data** (4): the latest complete day of the data is more than ``max_data_age_days``
  days before today: the feed has stopped; or it is after today: the feed's dates or the
  machine's clock are wrong;
- **late data** (5): past ``data_deadline``, yesterday's flows have not landed;
- **alert** (6): the plan in effect has an alert of severity ``fail_on`` or worse.

When several apply the smallest code wins (stale before late before alert). The summary
(:func:`job_summary`) is what the notifiers receive: status, as-of day, alerts, duration and the
output paths, never a setting, a URL or a password.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from rainmaker.app.config import SEVERITIES, DailyConfig
from rainmaker.app.outputs import FORECAST_FILE, PLAN_FILE, REPORT_FILE, RUN_FILE, WORKBOOK_FILE
from rainmaker.safety import mask_secrets

__all__ = [
    "EXIT_ALERT",
    "EXIT_CODES",
    "EXIT_LATE",
    "EXIT_STALE",
    "Check",
    "alert_checks",
    "alert_line",
    "data_age_days",
    "data_checks",
    "exit_code_of",
    "exit_codes_text",
    "job_status",
    "job_summary",
    "notify",
]

EXIT_STALE = 4
EXIT_LATE = 5
EXIT_ALERT = 6
# Exit statuses of `rainmaker run` (and `status` for 4 and 6), with what each means.
EXIT_CODES: dict[int, str] = {
    0: "a new revision was published, or nothing to do (same data and settings), and no check "
    "failed",
    1: "failure (e.g. the history database cannot be reached, the solver found no plan); "
    "nothing half-written",
    2: "bad input or configuration (data set, settings file, arguments)",
    3: "another run holds the lock of the output root; nothing was written",
    EXIT_STALE: "stale data: the latest complete day is older than max_data_age_days, or "
    "after today (the plan was still written)",
    EXIT_LATE: "late data: past data_deadline, yesterday's flows have not landed",
    EXIT_ALERT: "the plan in effect has an alert of severity fail_on or worse (the plan was "
    "written)",
}
# Flows of day D are complete early on D+1: the day a run after the deadline expects.
EXPECTED_LAG_DAYS = 1
# Bytes of a notifier's stderr quoted in the log when it fails, of the last ones kept.
_STDERR_TAIL = 300
_STDERR_KEEP = 4096

Log = Callable[[str], None]


@dataclass(frozen=True)
class Check:
    """One operations check that failed.

    Attributes:
        kind: ``"stale"``, ``"late"`` or ``"alert"``.
        exit_code: the exit status it calls for (:data:`EXIT_CODES`).
        message: one sentence for the operator.
    """

    kind: str
    exit_code: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (``run.json``, the history, the summary)."""
        return {"kind": self.kind, "exit_code": self.exit_code, "message": self.message}


def exit_codes_text() -> str:
    """The exit status table as lines for ``--help``."""
    return "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items())


def data_age_days(complete: Any, now: datetime) -> int:
    """Whole days from the latest complete day of the data to today (``now``'s local date)."""
    day = complete.date() if hasattr(complete, "date") else complete
    return (now.date() - day).days


def data_checks(complete: Any, config: DailyConfig, now: datetime) -> list[Check]:
    """Stale and late data, judged on the latest complete day of the data.

    Args:
        complete: the latest day every live product has flows for (whatever day a back-fill
            plans: the feed is what is judged).
        config: ``max_data_age_days`` and ``data_deadline``.
        now: the local time of the run (aware).
    """
    found = []
    last: date = complete.date() if hasattr(complete, "date") else complete
    age = data_age_days(last, now)
    limit = config.max_data_age_days
    if limit and age > limit:
        found.append(
            Check(
                "stale",
                EXIT_STALE,
                f"stale data: the latest complete day {last:%Y-%m-%d} is {age} days old, more "
                f"than max_data_age_days = {limit}",
            )
        )
    elif limit and age < 0:
        found.append(
            Check(
                "stale",
                EXIT_STALE,
                f"future-dated data: the latest complete day {last:%Y-%m-%d} is after today "
                f"{now.date():%Y-%m-%d}; the feed's dates or this machine's clock are wrong",
            )
        )
    if config.data_deadline:
        hour, minute = (int(part) for part in config.data_deadline.split(":"))
        expected = date.fromordinal(now.date().toordinal() - EXPECTED_LAG_DAYS)
        if now.time() >= time(hour, minute) and last < expected:
            found.append(
                Check(
                    "late",
                    EXIT_LATE,
                    f"late data: the flows of {expected:%Y-%m-%d} have not landed by the "
                    f"deadline {config.data_deadline} (latest complete day {last:%Y-%m-%d})",
                )
            )
    return found


def alert_line(alert: Mapping[str, Any]) -> str:
    """An alert in one line, its product named once: the report's texts of a product's alert
    begin with it already ("P01: liquid assets ..."); a text that does not gets it in front."""
    pid, text = str(alert.get("product_id") or ""), str(alert.get("text", ""))
    return f"{pid}: {text}" if pid and not text.startswith(pid) else text


def alert_checks(alerts: Sequence[Mapping[str, Any]], fail_on: str) -> list[Check]:
    """One check when some alert is of severity ``fail_on`` or worse (none for ``"none"``)."""
    if fail_on not in SEVERITIES:
        return []
    worst = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
    firing = [a for a in alerts if a.get("severity") in worst]
    if not firing:
        return []
    counts = ", ".join(
        f"{n} {s}" for s in worst if (n := sum(a.get("severity") == s for a in firing))
    )
    return [
        Check(
            "alert",
            EXIT_ALERT,
            f"alerts of severity {fail_on} or worse in the plan: {counts} (first: "
            f"{alert_line(firing[0])})",
        )
    ]


def exit_code_of(checks: Sequence[Check]) -> int:
    """The run's exit status: the smallest code of the failed checks, 0 when none failed."""
    return min((c.exit_code for c in checks), default=0)


def status_of(exit_code: int, published: bool) -> str:
    """The word in the summary: ``published``/``unchanged``, or what went wrong."""
    words = {EXIT_STALE: "stale", EXIT_LATE: "late", EXIT_ALERT: "alert"}
    if exit_code in words:
        return words[exit_code]
    if exit_code:
        return "failed"
    return "published" if published else "unchanged"


def job_summary(
    *,
    command: str,
    exit_code: int,
    started: datetime,
    finished: datetime,
    outcome: Any = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The run's JSON summary for the notifiers (and ``--json`` readers).

    Args:
        command: ``run`` or ``demo``.
        exit_code: the run's exit status.
        started: local start time (aware).
        finished: local end time (aware).
        outcome: the ``RunOutcome`` (None when the run failed before it had one).
        error: the failure's message (exit status 1 or 2).

    Returns:
        ``status`` (``published``, ``unchanged``, ``stale``, ``late``, ``alert`` or
        ``failed``), ``exit_code``, ``command``, ``host``, ``started_at``, ``finished_at``
        (local ISO 8601 with offset), ``duration_s``, ``as_of``, ``revision``, ``run_id``,
        ``data_age_days``, ``message``, ``error``, ``checks``, ``alerts`` and ``outputs``
        (absolute paths of the revision folder and its files). Secrets are masked.
    """
    published = outcome is not None and outcome.status == "published"
    summary: dict[str, Any] = {
        "status": status_of(exit_code, published),
        "exit_code": exit_code,
        "command": command,
        "host": socket.gethostname(),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "duration_s": round((finished - started).total_seconds(), 3),
        "as_of": None,
        "revision": None,
        "run_id": None,
        "data_age_days": None,
        "message": None,
        "error": error,
        "checks": [],
        "alerts": [],
        "outputs": {},
    }
    if outcome is not None:
        folder = Path(outcome.folder).resolve()
        summary.update(
            as_of=f"{outcome.as_of:%Y-%m-%d}",
            revision=outcome.revision,
            run_id=outcome.run_id,
            data_age_days=outcome.data_age_days,
            message=outcome.message,
            checks=[c.as_dict() for c in outcome.checks],
            alerts=[
                {k: a.get(k) for k in ("severity", "kind", "product_id", "text")}
                for a in outcome.alerts
            ],
            outputs={
                "folder": str(folder),
                **{
                    key: str(folder / name)
                    for key, name in (
                        ("report", REPORT_FILE),
                        ("plan_csv", PLAN_FILE),
                        ("plan_xlsx", WORKBOOK_FILE),
                        ("forecast_csv", FORECAST_FILE),
                        ("run_json", RUN_FILE),
                    )
                },
            },
        )
    # one pass over the whole text: a password in a message or a path is masked wherever it is
    masked: dict[str, Any] = json.loads(mask_secrets(json.dumps(summary, ensure_ascii=False)))
    return masked


def notify(config: DailyConfig, summary: Mapping[str, Any], log: Log) -> list[str]:
    """Hand the summary to the configured notifiers; never raises.

    The command (``notify_command``, no shell) gets the JSON on stdin; the webhook
    (``notify_url``) gets it as the body of a POST (``Content-Type: application/json``). Each
    may take ``notify_timeout_s`` seconds. A failure is logged (the URL shown by scheme and
    host only: a webhook's path is often its secret) and returned; the run's outputs and exit
    status do not depend on it.

    Returns:
        One message per notifier that failed.
    """
    body = json.dumps(summary, ensure_ascii=False, sort_keys=True).encode("utf-8")
    failures = []
    if config.notify_command:
        problem = _run_command(config.notify_command, body, config.notify_timeout_s)
        if problem:
            failures.append(problem)
    if config.notify_url:
        problem = _post(config.notify_url, body, config.notify_timeout_s)
        if problem:
            failures.append(problem)
    for problem in failures:
        log(f"warning: {problem}; the run's outputs are not affected")
    return failures


def _run_command(argv: Sequence[str], body: bytes, timeout_s: float) -> str | None:
    """Run the notifier with ``body`` on stdin; what went wrong in words, or None.

    Its stdout is discarded and only the last bytes of its stderr are kept: captured whole, a
    notifier that printed without end grew the job by about 1 GB a second until its timeout.
    At the timeout its whole process group is killed (a shell script's children included).
    """
    name = Path(argv[0]).name
    try:
        process = subprocess.Popen(  # argv from the settings, no shell
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: a timeout ends its children too
        )
    except OSError as exc:
        return f"notify_command {name} could not be started: {exc.strerror or exc}"
    except ValueError as exc:  # a NUL in an argument
        return f"notify_command {name} could not be started: {exc}"
    kept = bytearray()
    helpers = [
        threading.Thread(target=_feed, args=(process.stdin, body), daemon=True),
        threading.Thread(target=_keep_tail, args=(process.stderr, kept), daemon=True),
    ]
    for helper in helpers:
        helper.start()
    try:
        code = process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return f"notify_command {name} did not finish within {timeout_s:g} s"
    finally:
        for helper in helpers:  # a child of the notifier may hold its stderr open: not waited on
            helper.join(timeout=1.0)
    if code != 0:
        tail = bytes(kept).decode("utf-8", "replace").strip()[-_STDERR_TAIL:]
        return f"notify_command {name} exited with status {code}" + (f": {tail}" if tail else "")
    return None


def _feed(pipe: IO[bytes] | None, body: bytes) -> None:
    """Write the summary to the notifier's stdin and close it (a thread: it may not read)."""
    if pipe is None:  # pragma: no cover - Popen was asked for a pipe
        return
    try:
        pipe.write(body)
        pipe.close()
    except OSError:  # it exited or closed its stdin without reading all of it
        pass


def _keep_tail(pipe: IO[bytes] | None, kept: bytearray) -> None:
    """Read the notifier's stderr to its end, keeping the last :data:`_STDERR_KEEP` bytes."""
    if pipe is None:  # pragma: no cover - Popen was asked for a pipe
        return
    with pipe:
        for chunk in iter(lambda: pipe.read(65536), b""):
            kept += chunk
            del kept[:-_STDERR_KEEP]


def _post(url: str, body: bytes, timeout_s: float) -> str | None:
    """POST the summary to the webhook; what went wrong in words, or None.

    urllib's timeout bounds each wait for the socket, not the request: a server that sent its
    answer a byte every half second held a run with a 1 s timeout for 13 s, and one that never
    stops would hold it for ever. The request runs in a daemon thread given ``timeout_s`` in all
    (name resolution included); one still running then is left behind, and ends with the job.
    """
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.hostname or ''}"
    outcome: list[str | None] = []
    worker = threading.Thread(
        target=lambda: outcome.append(_send(url, shown, body, timeout_s)), daemon=True
    )
    worker.start()
    worker.join(timeout_s)
    if not outcome:
        return f"notify_url {shown}/... did not answer within {timeout_s:g} s"
    return outcome[0]


def _send(url: str, shown: str, body: bytes, timeout_s: float) -> str | None:
    import urllib.error  # start-up time of the command line: only a webhook needs them
    import urllib.request

    request = urllib.request.Request(  # http(s) only, checked in config
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "rainmaker"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return f"notify_url {shown}/... answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"notify_url {shown}/... could not be reached: {reason}"
    except ValueError:  # a URL urllib cannot send; its message would show the path or password
        return f"notify_url {shown}/... could not be sent: not a URL urllib accepts"
    if not 200 <= status < 300:
        return f"notify_url {shown}/... answered HTTP {status}"
    return None


# ---------------------------------------------------------------------- rainmaker status


def job_status(config: DailyConfig, now: datetime) -> dict[str, Any]:
    """Health of the scheduled job from its history, for ``rainmaker status``.

    Args:
        config: the settings (history database, ``max_data_age_days``, ``fail_on``).
        now: local time of the check (aware).

    Returns:
        ``status`` (``ok``, ``stale``, ``alert`` or ``never``: no run recorded),
        ``exit_code`` (0, 4 for stale or never, 6 for alert), ``checked_at``,
        ``last_success`` (the newest recorded run that is not withdrawn, with ``age_hours``
        since it was recorded), ``in_effect`` (the revision ``latest`` points at: newest
        as-of day, newest revision, not withdrawn, with its ``report`` path), ``data_age_days``
        (days from its as-of day to today), ``max_data_age_days``, ``fail_on``, ``checks`` and
        ``alerts`` (of the revision in effect).

    Raises:
        HistoryUnavailable: the history database cannot be read (exit status 1).
    """
    from rainmaker.app.history import PUBLISHED, history_missing, open_history

    records = []
    if not history_missing(config.history_database):  # a status check creates no database
        with open_history(config.history_database) as history:
            records = [r for r in history.records() if r["status"] == PUBLISHED]
    result: dict[str, Any] = {
        "status": "never",
        "exit_code": EXIT_STALE,
        "checked_at": now.isoformat(timespec="seconds"),
        "last_success": None,
        "in_effect": None,
        "data_age_days": None,
        "max_data_age_days": config.max_data_age_days,
        "fail_on": config.fail_on,
        "checks": [],
        "alerts": [],
    }
    if not records:
        result["checks"] = [
            Check("stale", EXIT_STALE, "no run recorded in the history database").as_dict()
        ]
        return result
    last = records[0]  # newest first
    created = datetime.fromisoformat(last["created_at"])
    in_effect = max(records, key=lambda r: (r["as_of"], r["revision"]))
    as_of = date.fromisoformat(in_effect["as_of"])
    checks = [
        c for c in data_checks(as_of, config.replace(data_deadline=""), now) if c.kind == "stale"
    ]
    checks += alert_checks(in_effect["alerts"], config.fail_on)
    code = exit_code_of(checks)
    report = Path(config.output_root) / in_effect["output_dir"] / REPORT_FILE
    result.update(
        status=status_of(code, True).replace("published", "ok"),
        exit_code=code,
        last_success={**last, "age_hours": round((now - created).total_seconds() / 3600, 2)},
        in_effect={**in_effect, "report": str(report.resolve())},
        data_age_days=data_age_days(as_of, now),
        checks=[c.as_dict() for c in checks],
        alerts=in_effect["alerts"],
    )
    return result
