"""What keeps rainmaker's outputs safe to open, to chart and to paste into a ticket.

Each fact has one home here, used by every writer:

- **Spreadsheet cells.** A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab, a
  carriage return or a line feed is read by Excel, WPS and LibreOffice as a formula (CSV
  injection). :func:`spreadsheet_text` puts a single quote in front of such text, as the OWASP
  CSV-injection guidance recommends; :func:`write_spreadsheet_csv` applies it to every text cell
  of a CSV meant for spreadsheets, and :func:`restore_spreadsheet_text` undoes it when rainmaker
  reads its own files back. Numbers stay numbers (``-5`` stays a number), but a negative zero
  (``-0.0``, e.g. the buffer of an empty product, ``-x * 0``) is written as ``0``
  (:func:`spreadsheet_number`): CSVs through :func:`spreadsheet_frame`, ``plan.xlsx`` cell by
  cell.
- **Secrets in URLs.** :func:`mask_secrets` hides the password of every ``scheme://user:pw@host``
  URL, and credential-like query parameters, in any text before it reaches a message, a log, a
  file or MLflow.
- **Chart labels.** matplotlib reads text between two ``$`` as math (``$x^2$`` is drawn as x²,
  ``$\\badcmd$`` fails to draw); :func:`chart_text` makes a label literal.
- **Characters no output can hold.** :func:`unsafe_characters` finds control and invisible
  formatting characters (a NUL cannot be stored in an xlsx cell at all); validation rejects them
  in ids and names.
"""

from __future__ import annotations

import os
import re
import unicodedata
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported by the writers only: messages must stay cheap
    import pandas as pd

__all__ = [
    "SPREADSHEET_TRIGGERS",
    "chart_text",
    "looks_like_formula",
    "mask_secrets",
    "restore_spreadsheet_text",
    "spreadsheet_frame",
    "spreadsheet_number",
    "spreadsheet_text",
    "unsafe_characters",
    "write_spreadsheet_csv",
]

# First characters that make a spreadsheet treat a cell as a formula (OWASP: = + - @ tab CR;
# a line feed starts one too once the cell is edited). The quote itself is on the list so that
# the neutralising is exactly reversible: a text that already started with a quote gets a second.
SPREADSHEET_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "'")
SPREADSHEET_QUOTE = "'"

# Unicode categories refused in ids and names: control (Cc: NUL, tab, escape...), format (Cf:
# zero-width and bidirectional marks, which make two ids look alike), line and paragraph
# separators (Zl, Zp).
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})

# scheme://user:password@host -> scheme://user:***@host. The password runs to the last "@" of
# the URL (a password may hold an unescaped "@", "/", "?" or "#": SQLAlchemy and MLflow read
# them so), never across a space or a quote; a path holding an "@" is masked with it, which
# hides more than needed, never less.
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@'\"<>]*):(?P<secret>[^\s'\"<>]*)@"
)
# ...?password=x&token=y -> ...?password=***&token=***
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&;](?:password|passwd|pwd|secret|token|access_token|api_key|apikey|"
    r"client_secret|sig|signature|key|sslpassword|x-amz-signature|x-amz-credential|"
    r"x-amz-security-token)=)[^&;#\s'\"<>]*",
    re.IGNORECASE,
)
MASK = "***"


def looks_like_formula(value: str) -> bool:
    """Whether a spreadsheet would read the text ``value`` as a formula (or it starts with the
    quote that marks such text), so a writer must store it as text: the CSV writer quotes it
    (:func:`spreadsheet_text`), the workbook marks the cell with Excel's own quote prefix."""
    return value.startswith(SPREADSHEET_TRIGGERS)


def spreadsheet_text(value: str) -> str:
    """``value`` with a leading quote when a spreadsheet would read it as a formula."""
    return SPREADSHEET_QUOTE + value if looks_like_formula(value) else value


def restore_spreadsheet_text(value: str) -> str:
    """The text :func:`spreadsheet_text` was given (its exact inverse)."""
    if value.startswith(SPREADSHEET_QUOTE) and value[1:].startswith(SPREADSHEET_TRIGGERS):
        return value[1:]
    return value


def spreadsheet_number(value: float) -> float:
    """``value`` with a negative zero as ``0.0`` (``-0.0 + 0.0`` is ``0.0``; any other number,
    and NaN, is unchanged): no output writes ``-0.0``."""
    return value + 0.0


def _spreadsheet_cell(value: Any) -> Any:
    if isinstance(value, str):
        return spreadsheet_text(value)
    if isinstance(value, float):  # also numpy's float64
        return spreadsheet_number(value)
    return value


def spreadsheet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are neutralised (:func:`spreadsheet_text`) and
    whose negative zeros are ``0.0`` (:func:`spreadsheet_number`).

    Only ``str`` cells and ``-0.0`` change: other numbers, booleans, dates and missing values
    stay as they are.
    """
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_float_dtype(values):
            out[column] = values + 0.0
        elif pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            out[column] = values.map(_spreadsheet_cell, na_action="ignore")
    return out


def write_spreadsheet_csv(frame: pd.DataFrame, path: str | Path, **to_csv: Any) -> Path:
    """Write a CSV meant to be opened in a spreadsheet: no index, text cells neutralised.

    The rows go to a hidden file beside ``path`` first, renamed over it when complete: a
    failure or a kill midway leaves the file that was there (or none), never half of one. A
    ``path`` that is not a regular file (``/dev/null``, a pipe) is written to directly.

    Args:
        frame: the rows; amounts stay numbers.
        path: the file.
        **to_csv: more ``DataFrame.to_csv`` options (e.g. ``lineterminator``).

    Returns:
        ``path``.
    """
    out = Path(path)
    if out.exists() and not out.is_file():
        # a device or a pipe (/dev/null, /dev/stdout): written to, never renamed over
        spreadsheet_frame(frame).to_csv(out, index=False, **to_csv)
        return out
    # a name of its own (not mkstemp's owner-only file), so the file gets the usual mode
    partial = out.with_name(f".{out.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
    try:
        spreadsheet_frame(frame).to_csv(partial, index=False, **to_csv)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return out


def mask_secrets(text: str) -> str:
    """``text`` with the password of every URL in it, and credential query values, as ``***``.

    ``postgresql://user:pw@host/db`` becomes ``postgresql://user:***@host/db``; a URL without a
    password, a path or a plain sentence is returned unchanged.
    """
    if "://" not in text and "=" not in text:
        return text
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}:{MASK}@", text)
    return _QUERY_SECRET.sub(lambda m: f"{m['head']}{MASK}", text)


def chart_text(text: str) -> str:
    """``text`` as a matplotlib label drawn literally: every ``$`` escaped, so no math text."""
    return str(text).replace("$", r"\$")


def unsafe_characters(text: str) -> list[str]:
    """Control and invisible formatting characters of ``text`` as ``U+XXXX``, in order, once."""
    found = (ch for ch in text if unicodedata.category(ch) in UNSAFE_CATEGORIES)
    return list(dict.fromkeys(f"U+{ord(ch):04X}" for ch in found))
