"""Tests of rainmaker.settings_core: the one loader of the job's and the optimizer's settings."""

from __future__ import annotations

import math
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rainmaker.app.config import config_from_mapping
from rainmaker.errors import DataError, Problem, UsageError
from rainmaker.settings_core import (
    Settings,
    SettingsError,
    read_settings,
    require,
    setting,
    update_settings,
)


@dataclass(frozen=True)
class _Inner(Settings):
    low: int = setting(1, expected="an integer from 0 to 5", check=lambda v: 0 <= v <= 5)
    high: float = 2.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.low < self.high, "high", "a number above low", self.high)


@dataclass(frozen=True)
class _Outer(Settings):
    inner: _Inner = field(default_factory=_Inner)
    folder: Path = Path("here")
    table: Mapping[str, float] = setting(
        expected="a number >= 0", each=lambda v: v >= 0, default_factory=dict
    )
    names: tuple[str, ...] = ()
    token: str = setting("", expected="a token", check=lambda v: v != "bad", secret=True)
    flag: bool = True


def _error(raw: dict, target: type = _Outer) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        read_settings(target, raw, source="f.toml")
    assert isinstance(caught.value, UsageError) and caught.value.exit_code == 2
    return caught.value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"inner": {"low": 9}}, "f.toml: key 'inner.low': expected an integer from 0 to 5, got 9"),
        ({"inner": {"low": True}}, "key 'inner.low': expected an integer from 0 to 5, got True"),
        ({"inner": {"low": 1.0}}, "key 'inner.low'"),
        ({"inner": {"high": math.nan}}, "key 'inner.high': expected a number, got nan"),
        ({"inner": {"high": 0.5}}, "f.toml: key 'inner.high': expected a number above low"),
        ({"inner": {"hihg": 3}}, "f.toml: unknown key(s) inner.hihg; expected one of low, high"),
        ({"inner": 3}, "key 'inner': expected a table of key = value, got 3"),
        ({"outer": 1, "flg": 0}, "unknown key(s) outer, flg; expected one of inner, folder, table"),
        ({"table": {"a": -1.0}}, "f.toml: key 'table.a': expected a number >= 0, got -1.0"),
        # a value of the wrong type in a table is named by its own key, as one out of range
        ({"table": {"a": 1.0, "b": "x"}}, "f.toml: key 'table.b': expected a number >= 0, got 'x'"),
        ({"names": "a"}, "key 'names': expected a list of strings, got 'a'"),
        ({"folder": ""}, "key 'folder': expected a path (string), got ''"),
        # a NUL is refused by the operating system in a path, an argument or a URL
        ({"folder": "a\0b"}, "key 'folder': expected a path (string), got 'a\\x00b'"),
        ({"names": ["a\0"]}, "key 'names': expected a list of strings, got ['a\\x00']"),
        ({"flag": "yes"}, "key 'flag': expected true or false, got 'yes'"),
    ],
)
def test_one_message_names_file_key_and_expectation(raw: dict, message: str) -> None:
    assert message in str(_error(raw))


def test_the_job_and_the_optimizer_say_it_the_same_way(tmp_path: Path) -> None:
    from optimize.settings import load_settings

    source = tmp_path / "rainmaker.toml"
    with pytest.raises(SettingsError) as job:
        config_from_mapping({"liquidity": {"confidence": 0.8}}, source=source)
    with pytest.raises(SettingsError) as optimizer:
        load_settings(overrides={"liquidity": {"confidence": 0.8}})
    assert str(job.value).startswith(f"{source}: key 'liquidity.confidence': expected a prob")
    assert str(optimizer.value).startswith(
        "optimizer overrides: key 'liquidity.confidence': expected a prob"
    )
    assert job.value.key == optimizer.value.key == "liquidity.confidence"


def test_the_job_and_the_optimizer_share_the_plan_limits(tmp_path: Path) -> None:
    """The longest horizon and the lowest buffer confidence have one home (rainmaker.limits):
    the job's settings file and the optimizer's settings accept and refuse at the same values."""
    from optimize.settings import load_settings
    from rainmaker.limits import MAX_HORIZON_DAYS, MIN_CONFIDENCE

    source = tmp_path / "rainmaker.toml"
    job = config_from_mapping(
        {"horizon": MAX_HORIZON_DAYS, "liquidity": {"confidence": MIN_CONFIDENCE}}, source=source
    )
    optimizer = load_settings(
        overrides={
            "horizon": {"days": MAX_HORIZON_DAYS},
            "liquidity": {"confidence": MIN_CONFIDENCE},
        }
    )
    assert job.horizon == optimizer.horizon.days == MAX_HORIZON_DAYS
    assert job.confidence == optimizer.liquidity.confidence == MIN_CONFIDENCE
    with pytest.raises(SettingsError):
        config_from_mapping({"horizon": MAX_HORIZON_DAYS + 1}, source=source)
    with pytest.raises(SettingsError):
        load_settings(overrides={"horizon": {"days": MAX_HORIZON_DAYS + 1}})
    below = MIN_CONFIDENCE - 0.01
    with pytest.raises(SettingsError):
        config_from_mapping({"liquidity": {"confidence": below}}, source=source)
    with pytest.raises(SettingsError):
        load_settings(overrides={"liquidity": {"confidence": below}})


def test_a_secret_is_never_echoed() -> None:
    assert "bad" not in str(_error({"token": "bad"}))


def test_values_are_typed_and_paths_follow_the_file(tmp_path: Path) -> None:
    raw = {"inner": {"high": 3}, "folder": "data", "names": ["a"], "table": {"x": 1}}
    read = read_settings(_Outer, raw, source="f.toml", folder=tmp_path)
    assert read.inner == _Inner(low=1, high=3.0) and isinstance(read.inner.high, float)
    assert read.folder == tmp_path / "data" and read.names == ("a",)
    assert read.table == {"x": 1.0}


def test_an_update_changes_only_the_keys_it_names() -> None:
    base = _Outer(inner=_Inner(low=0, high=4.0), table={"a": 1.0})
    new = update_settings(base, {"inner": {"low": 2}, "table": {"b": 2}}, source="o")
    assert new.inner == _Inner(low=2, high=4.0)
    assert new.table == {"b": 2.0}  # a table of name = number is replaced whole


def test_made_in_python_the_same_checks_run() -> None:
    with pytest.raises(SettingsError, match="key 'low': expected an integer from 0 to 5"):
        _Inner(low=7)
    with pytest.raises(SettingsError, match="key 'high'"):
        _Inner(low=3, high=1.0)


@pytest.mark.parametrize(
    "raw",
    [{"inner": {"low": 9}}, {"inner": {"speed": 1, "colour": 2}}, {"inner": {"low": 3, "high": 1}}],
)
def test_an_error_crosses_a_process_boundary_intact(raw: dict) -> None:
    """A worker process's error reaches the parent with its key, expectation and message (the
    panel's workers raised one the pool could not rebuild: BrokenProcessPool, no message)."""
    with pytest.raises(SettingsError) as caught:
        read_settings(_Outer, raw, source="panel.toml")
    error = caught.value
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is SettingsError
    assert str(again) == str(error)
    assert (again.key, again.expected, again.source, again.unknown) == (
        error.key,
        error.expected,
        error.source,
        error.unknown,
    )


def test_a_data_error_crosses_a_process_boundary_with_its_problems() -> None:
    error = DataError(
        [Problem(file="flows.csv", column="date", message="not a date", rows=(3, 5), n_rows=2)]
    )
    again = pickle.loads(pickle.dumps(error))
    assert again.problems == error.problems
    assert str(again) == str(error)
