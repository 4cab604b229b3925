"""Tests of rainmaker.app.logs: the text and JSON records on stderr, and that nothing from
outside (a path, a product id) can forge a record or drive the terminal."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from rainmaker import cli
from rainmaker.app import logs

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d ")
FORGED = "2026-12-01T06:30:00+08:00 INFO rainmaker run: all good"
# a line feed, ESC (a terminal's escape sequences), CR, tab, DEL, C1 NEL and CSI, U+2028
HOSTILE = f"/data/x\n{FORGED}\x1b[2J\r\t\x7f\x85\x9b\u2028end"
RAW = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


@pytest.fixture(autouse=True)
def fresh_logs() -> Iterator[None]:
    logs.reset()
    logs.configure(command="run")
    yield
    logs.reset()


def test_a_text_record_escapes_every_control_character(capsys) -> None:
    """A path with a line break wrote a second line that read as a record of its own, and ESC
    drove the terminal; now one line, the characters shown as escapes."""
    logs.error(f"cannot read {HOSTILE}")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and not RAW.search(err.rstrip("\n"))
    assert STAMP.match(err) and " ERROR rainmaker run: cannot read /data/x\\n2026-12-01" in err
    assert err.rstrip("\n").endswith("\\x1b[2J\\r\\t\\x7f\\x85\\x9b\\u2028end")


def test_details_keep_their_lines_indented_and_escaped(capsys) -> None:
    logs.warning("2 problems:", ["  - first", "", f"second {HOSTILE}"])
    lines = capsys.readouterr().err.rstrip("\n").split("\n")
    assert len(lines) == 4 and STAMP.match(lines[0]) and lines[0].endswith(" 2 problems:")
    assert lines[1] == "  - first"
    assert lines[2] == ""  # an empty line forges nothing
    assert lines[3].startswith("  second /data/x\\n2026") and not RAW.search(lines[3])
    assert not any(STAMP.match(line) for line in lines[1:])


def test_a_json_record_keeps_its_structure_and_escapes_what_json_leaves_raw(capsys) -> None:
    logs.configure(json_lines=True)
    logs.error(f"cannot read {HOSTILE}", ["  - detail"])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and not RAW.search(err.rstrip("\n"))
    record = json.loads(err)
    assert list(record) == ["time", "level", "command", "message"]
    assert record["message"] == f"cannot read {HOSTILE}\n  - detail"  # the same string
    assert "\\u0085" in err and "\\u2028" in err and "\\u007f" in err


def test_a_path_argument_cannot_forge_a_record(capsys) -> None:
    assert cli.main(["validate", "--data", HOSTILE]) == 2
    lines = capsys.readouterr().err.rstrip("\n").split("\n")
    assert len(lines) == 2 and lines[0].endswith("1 problem in the input:")
    assert lines[1].startswith("  - /data/x\\n2026-12-01T06:30:00+08:00 INFO")
    assert "data-set folder does not exist" in lines[1] and not RAW.search(lines[1])
