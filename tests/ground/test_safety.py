"""Tests of rainmaker.safety: spreadsheet cells, masked secrets, literal chart labels."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rainmaker.safety import (
    chart_text,
    mask_secrets,
    restore_spreadsheet_text,
    spreadsheet_frame,
    spreadsheet_text,
    unsafe_characters,
    write_spreadsheet_csv,
)


@pytest.mark.parametrize(
    "text, written",
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+41", "'+41"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("'quoted", "''quoted"),
        ("P001", "P001"),
        ("2022-06-01", "2022-06-01"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_spreadsheet_text_quotes_what_a_spreadsheet_would_evaluate(text, written):
    assert spreadsheet_text(text) == written
    assert restore_spreadsheet_text(written) == text


@given(st.text(max_size=12))
def test_spreadsheet_quoting_is_exactly_reversible(text):
    assert restore_spreadsheet_text(spreadsheet_text(text)) == text


def test_only_text_cells_change_numbers_stay_numbers(tmp_path):
    frame = pd.DataFrame(
        {"product_id": ["=1+1", "P2"], "amount": [-5.0, 3.0], "open": [True, False]}
    )
    out = spreadsheet_frame(frame)
    assert list(out["product_id"]) == ["'=1+1", "P2"]
    pd.testing.assert_series_equal(out["amount"], frame["amount"])
    pd.testing.assert_series_equal(out["open"], frame["open"])
    path = write_spreadsheet_csv(frame, tmp_path / "x.csv")
    lines = path.read_text().splitlines()
    assert lines[1] == "'=1+1,-5.0,True" and lines[2] == "P2,3.0,False"
    assert list(frame["product_id"]) == ["=1+1", "P2"]  # the caller's frame is left alone


def test_negative_zeros_are_written_as_zero(tmp_path):
    # e.g. plan.csv's liquidity_buffer of an empty product (-x * 0): no CSV writes "-0.0"
    frame = pd.DataFrame(
        {
            "product_id": ["P1", "P2"],
            "liquidity_buffer": [-0.0, -2.5],
            "mixed": [-0.0, "x"],  # an object column holding a float
        }
    )
    path = write_spreadsheet_csv(frame, tmp_path / "plan.csv")
    text = path.read_text()
    assert "-0.0" not in text
    assert text.splitlines()[1:] == ["P1,0.0,0.0", "P2,-2.5,x"]
    assert str(frame.loc[0, "liquidity_buffer"]) == "-0.0"  # the caller's frame is left alone


@pytest.mark.parametrize(
    "text, shown",
    [
        ("postgresql://user:s3cret@db.example/rain", "postgresql://user:***@db.example/rain"),
        (
            "could not log to the MLflow store mysql+pymysql://u:p@ss@h:3306/m: OperationalError",
            "could not log to the MLflow store mysql+pymysql://u:***@h:3306/m: OperationalError",
        ),
        ("'redis://:s3cret@cache:6379/0'", "'redis://:***@cache:6379/0'"),
        ("https://mlflow.example/api?token=abc123&x=1", "https://mlflow.example/api?token=***&x=1"),
        ("postgresql+psycopg://user@host/db", "postgresql+psycopg://user@host/db"),
        ("sqlite:////srv/runs/history.sqlite", "sqlite:////srv/runs/history.sqlite"),
        ("http://host:5000/path", "http://host:5000/path"),
        ("a plain sentence = fine", "a plain sentence = fine"),
        # a password holding "#", "/" or "?", as a tracking URI may (was shown in clear)
        (
            "Invalid url: http://rm:Sup3r#Secret@127.0.0.1:1/api/2.0/mlflow/runs/create",
            "Invalid url: http://rm:***@127.0.0.1:1/api/2.0/mlflow/runs/create",
        ),
        ("postgresql://u:pa/ss?x@db/rain", "postgresql://u:***@db/rain"),
        # webhook keys, libpq's sslpassword and S3 presigned signatures
        (
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123",
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***",
        ),
        ("host=db sslmode=require&sslpassword=pw9", "host=db sslmode=require&sslpassword=***"),
        (
            "https://s3/b/o?X-Amz-Credential=AK%2F1&X-Amz-Signature=f00d",
            "https://s3/b/o?X-Amz-Credential=***&X-Amz-Signature=***",
        ),
    ],
)
def test_mask_secrets(text, shown):
    assert mask_secrets(text) == shown


def test_mask_secrets_finds_every_url_in_a_text():
    text = "a postgresql://a:pw1@h/db and b http://b:pw2@h/x?password=pw3"
    masked = mask_secrets(text)
    assert not any(secret in masked for secret in ("pw1", "pw2", "pw3"))


@pytest.mark.parametrize("label", ["$x^2$", r"$\badcmd$", "a $ b $ c", r"\$", "P01"])
def test_chart_text_is_drawn_literally(label):
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    ax.set_title(chart_text(label))
    buffer = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        import matplotlib

        patch.setitem(matplotlib.rcParams, "svg.fonttype", "none")
        fig.savefig(buffer, format="svg")  # math text would fail on \badcmd or draw x²
    svg = buffer.getvalue()
    escaped = label.replace("&", "&amp;").replace("<", "&lt;")
    assert escaped in svg


def test_unsafe_characters_lists_controls_and_invisible_marks():
    assert unsafe_characters("P\x0001\t\u200b\u202e") == ["U+0000", "U+0009", "U+200B", "U+202E"]
    assert unsafe_characters("基金 P-01 =1+1 $x$") == []


def test_a_spreadsheet_csv_is_whole_or_not_written(tmp_path, monkeypatch):
    """A write that fails midway leaves the earlier file as it was, and no partial file."""
    target = tmp_path / "forecast.csv"
    target.write_text("earlier,file\n1,2\n")

    def half_then_fail(self, path, **_):
        Path(path).write_text("date,prod")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_spreadsheet_csv(pd.DataFrame({"a": [1]}), target)
    assert target.read_text() == "earlier,file\n1,2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["forecast.csv"]
    monkeypatch.undo()
    write_spreadsheet_csv(pd.DataFrame({"a": [1]}), target)
    assert target.read_text() == "a\n1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["forecast.csv"]


def test_a_spreadsheet_csv_to_a_device_is_written_not_renamed_over() -> None:
    """--out /dev/null discards the rows: the device is written to, never replaced by a file."""
    device = Path("/dev/null")
    assert write_spreadsheet_csv(pd.DataFrame({"a": [1]}), device) == device
    assert device.exists() and not device.is_file()
    assert not list(Path("/dev").glob(".null.*.partial"))
