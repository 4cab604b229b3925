r"""Log lines on stderr: local time with its zone, level, command, message; or one JSON object.

Text (the default)::

    2026-11-30T06:30:02+08:00 INFO rainmaker run: 2026-11-29: forecasting 16 products, ...
    2026-11-30T06:30:41+08:00 WARNING rainmaker run: could not log to MLflow: ...

JSON (``--log-json`` or ``log_format = "json"``), one object a line, for a log shipper::

    {"time": "2026-11-30T06:30:02+08:00", "level": "INFO", "command": "run", "message": "..."}

Every message goes through :func:`rainmaker.safety.mask_secrets` first, so a password in a URL
never reaches a log. Control characters from outside (a path argument, a product id of the
data) are escaped, not written, so that no message can forge a record or drive the terminal:
in text lines a line break, ESC, CR, tab, DEL, the C1 controls and Unicode's line separators
become ``\n``, ``\x1b``, ``\r``, ``\t``, ``\x7f``, ``\u2028`` ...; a record of several
lines (a list of problems, a ``--debug`` traceback) passes them as ``details``, each escaped
alike and indented under the first, so only a record's first line starts at column 0, with
its stamp. JSON lines keep their structure (the details joined to the message by line breaks,
as before); the characters JSON leaves raw (DEL, C1, U+2028, U+2029) are written as
``\uXXXX`` escapes of the same string. The summary and the report's path go to stdout,
unprefixed, as before: scripts read them.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
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
# Characters that break a line or drive a terminal: the C0 controls, DEL, the C1 controls
# (U+0085 ends a line, U+009B starts an escape sequence on some terminals) and Unicode's line
# and paragraph separators (str.splitlines, and so many log readers, break lines on them).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# ... of which JSON leaves these raw inside a string (json.dumps escapes the C0 controls).
_JSON_RAW = re.compile(r"[\x7f-\x9f\u2028\u2029]")
_SHORT_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
# A record's detail lines start with this when they do not start with a space already.
_DETAIL_INDENT = "  "


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


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _SHORT_ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def _one_line(text: str) -> str:
    """``text`` with every control character escaped: one line, inert on a terminal."""
    return _CONTROL.sub(_escaped, text)


def log(level: str, message: str, details: Sequence[str] = ()) -> None:
    """Write one record at ``level`` (``INFO``, ``WARNING`` or ``ERROR``) to stderr, its
    control characters escaped (see the module docstring).

    Args:
        level: one of :data:`LEVELS`.
        message: the record's first line.
        details: lines shown under it (a list of problems, a traceback), indented.
    """
    text = mask_secrets(str(message))
    lines = [mask_secrets(str(d)) for d in details]
    stamp = local_now().isoformat(timespec="seconds")
    if _STATE.json:
        joined = "\n".join([text, *lines])
        record = {"time": stamp, "level": level, "command": _STATE.command, "message": joined}
        # the same string, escaped: only inside the message can these characters occur
        line = _JSON_RAW.sub(
            lambda m: f"\\u{ord(m.group()):04x}", json.dumps(record, ensure_ascii=False)
        )
    else:
        who = f"rainmaker {_STATE.command}" if _STATE.command else "rainmaker"
        shown = [_one_line(d) for d in lines]
        # the details keep their lines under one stamp, none of them at column 0
        line = "\n".join(
            [
                f"{stamp} {level} {who}: {_one_line(text)}",
                *(d if d[:1] in ("", " ") else _DETAIL_INDENT + d for d in shown),
            ]
        )
    if _STATE.before_line is not None:
        _STATE.before_line()
    print(line, file=sys.stderr, flush=True)


def info(message: str, details: Sequence[str] = ()) -> None:
    """An INFO record (``details``: lines under it, see :func:`log`)."""
    log("INFO", message, details)


def warning(message: str, details: Sequence[str] = ()) -> None:
    """A WARNING record (``details``: lines under it, see :func:`log`)."""
    log("WARNING", message, details)


def error(message: str, details: Sequence[str] = ()) -> None:
    """An ERROR record (``details``: lines under it, see :func:`log`)."""
    log("ERROR", message, details)


def progress(message: str) -> None:
    """A progress line of the daily job: INFO, or WARNING when it starts with ``warning: ``."""
    if message.startswith(_WARNING_PREFIX):
        warning(message[len(_WARNING_PREFIX) :])
    else:
        info(message)
