"""Log lines on stderr: local time with its zone, level, command, message; or one JSON object.

Text (the default)::

    2026-11-30T06:30:02+08:00 INFO rainmaker run: 2026-11-29: forecasting 16 products, ...
    2026-11-30T06:30:41+08:00 WARNING rainmaker run: could not log to MLflow: ...

JSON (``--log-json`` or ``log_format = "json"``), one object a line, for a log shipper::

    {"time": "2026-11-30T06:30:02+08:00", "level": "INFO", "command": "run", "message": "..."}

Every message goes through :func:`rainmaker.safety.mask_secrets` first, so a password in a URL
never reaches a log. The summary and the report's path go to stdout, unprefixed, as before:
scripts read them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from rainmaker.safety import mask_secrets

__all__ = [
    "LEVELS",
    "configure",
    "error",
    "info",
    "local_now",
    "log",
    "progress",
    "warning",
]

LEVELS = ("INFO", "WARNING", "ERROR")
# Progress lines that start with this are warnings (the daily job's convention).
_WARNING_PREFIX = "warning: "


@dataclass
class _State:
    command: str = ""
    json: bool = False
    zone: tzinfo | None = None
    # called before each line: the progress renderer ends its half-drawn terminal line
    before_line: Callable[[], None] | None = None


_STATE = _State()


def configure(
    *,
    command: str | None = None,
    json_lines: bool | None = None,
    zone: tzinfo | None = None,
    before_line: Callable[[], None] | None = None,
) -> None:
    """Set the command named in each line, the format and the zone (None: leave unchanged).

    Args:
        command: the sub-command (``run``, ``status``, ...).
        json_lines: True for JSON lines, False for text.
        zone: time zone of the stamps; None keeps the current one (initially the machine's).
        before_line: called before each line is written (:mod:`rainmaker.app.progress`).
    """
    if command is not None:
        _STATE.command = command
    if json_lines is not None:
        _STATE.json = json_lines
    if zone is not None:
        _STATE.zone = zone
    if before_line is not None:
        _STATE.before_line = before_line


def reset() -> None:
    """Back to the defaults (text, local zone, no command): between commands in one process."""
    _STATE.command, _STATE.json, _STATE.zone, _STATE.before_line = "", False, None, None


def local_now(zone: tzinfo | None = None) -> datetime:
    """Now, aware, in ``zone`` (None: the configured zone, else the machine's local zone)."""
    zone = zone or _STATE.zone
    return datetime.now(zone) if zone is not None else datetime.now().astimezone()


def log(level: str, message: str) -> None:
    """Write one line at ``level`` (``INFO``, ``WARNING`` or ``ERROR``) to stderr."""
    text = mask_secrets(str(message))
    stamp = local_now().isoformat(timespec="seconds")
    if _STATE.json:
        record = {"time": stamp, "level": level, "command": _STATE.command, "message": text}
        line = json.dumps(record, ensure_ascii=False)
    else:
        who = f"rainmaker {_STATE.command}" if _STATE.command else "rainmaker"
        # a multi-line message (a --debug traceback) keeps its lines under one stamp
        line = f"{stamp} {level} {who}: {text}"
    if _STATE.before_line is not None:
        _STATE.before_line()
    print(line, file=sys.stderr, flush=True)


def info(message: str) -> None:
    """An INFO line."""
    log("INFO", message)


def warning(message: str) -> None:
    """A WARNING line."""
    log("WARNING", message)


def error(message: str) -> None:
    """An ERROR line."""
    log("ERROR", message)


def progress(message: str) -> None:
    """A progress line of the daily job: INFO, or WARNING when it starts with ``warning: ``."""
    if message.startswith(_WARNING_PREFIX):
        warning(message[len(_WARNING_PREFIX) :])
    else:
        info(message)
