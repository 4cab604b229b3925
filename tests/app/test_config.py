"""Tests of rainmaker.app.config: the daily job's settings file."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rainmaker.app.config import (
    DailyConfig,
    config_from_mapping,
    load_config,
    resolve_sqlite_url,
)
from rainmaker.errors import UsageError
from rainmaker.settings_core import setting_keys

REPO_ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rainmaker.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config()
    assert config == DailyConfig()
    assert config.source is None
    assert config.horizon == 14
    assert config.history_url == "sqlite:///runs/history.sqlite"


def test_rainmaker_toml_in_working_directory_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "horizon = 7\n")
    assert load_config().horizon == 7


def test_relative_paths_resolve_against_the_file(tmp_path):
    folder = tmp_path / "etc"
    folder.mkdir()
    path = _write(
        folder,
        'data = "../data"\noutput_root = "out"\nhistory_url = "sqlite:///db/h.sqlite"\n'
        'tracking_uri = "sqlite:///ml.db"\n',
    )
    config = load_config(path)
    base = folder.resolve()
    assert config.data == base / "../data"
    assert config.output_root == base / "out"
    assert config.history_url == f"sqlite:///{base}/db/h.sqlite"
    assert config.tracking_uri == f"sqlite:///{base}/ml.db"


def test_the_default_history_lives_in_the_output_root(tmp_path):
    folder = tmp_path / "etc"
    folder.mkdir()
    config = load_config(_write(folder, 'output_root = "/srv/rain/runs"\n'))
    assert config.history_url == "sqlite:////srv/rain/runs/history.sqlite"
    moved = config.replace(output_root=tmp_path / "elsewhere")
    assert moved.history_url == f"sqlite:///{tmp_path}/elsewhere/history.sqlite"
    given = DailyConfig(history_url="sqlite:///h.db").replace(output_root=tmp_path)
    assert given.history_url == "sqlite:///h.db"  # a URL that was set stays


def test_an_output_root_that_cannot_be_a_folder_is_a_usage_error(tmp_path):
    (tmp_path / "a-file").write_text("")
    for root in ("a-file", "a-file/runs"):
        with pytest.raises(UsageError, match="key 'output_root'.*is a file"):
            load_config(_write(tmp_path, f'output_root = "{root}"\n'))


def test_a_settings_path_that_is_a_folder_is_named_so(tmp_path):
    with pytest.raises(UsageError, match="is a folder; expected a TOML file"):
        load_config(tmp_path)


def test_example_file_at_the_repository_root_is_valid():
    config = load_config(REPO_ROOT / "rainmaker.example.toml")
    assert config.horizon == 14
    assert config.lang in ("zh", "en")


def test_the_example_file_says_the_defaults():
    """rainmaker.example.toml says its values are the defaults: it sets every key of the job
    (but history_url, whose default depends on output_root, and progress, whose default is
    "absent": both shown commented out), read without
    a file's folder it equals DailyConfig(), the defaults' one home, and its weights are the
    optimizer's (optimize/defaults.toml), all of them. It used to set yield_overshoot = 0.5
    where the default is 0.2."""
    from optimize.settings import load_settings

    text = (REPO_ROOT / "rainmaker.example.toml").read_text(encoding="utf-8")
    example = tomllib.loads(text)
    shown = {
        f"{key}.{sub}" if key == "liquidity" else key
        for key, value in example.items()
        for sub in (value if key == "liquidity" else [None])
    }
    assert shown == set(setting_keys(DailyConfig)) - {"history_url", "progress"}
    assert "# history_url = " in text and "# progress = " in text
    defaults = DailyConfig()
    read = config_from_mapping({k: v for k, v in example.items() if k != "weights"})
    assert read == defaults
    optimizer = load_settings()
    assert example["weights"] == dataclasses.asdict(optimizer.weights)
    # the job's own defaults of the optimizer's settings are the optimizer's
    assert defaults.horizon == optimizer.horizon.days
    assert defaults.confidence == optimizer.liquidity.confidence
    assert load_config(REPO_ROOT / "rainmaker.example.toml").weights == example["weights"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("horizon = 0\n", "horizon"),
        ("horizon = 61\n", "horizon"),
        ('horizon = "14"\n', "horizon"),
        ("horizon = true\n", "horizon"),
        ("[liquidity]\nconfidence = 0.8\n", "confidence"),
        ("[liquidity]\nconfidence = 1.0\n", "confidence"),
        ("[liquidity]\nmin_cash_ratio = 0.1\n", "min_cash_ratio"),
        ("confidence = 0.95\n[liquidity]\nconfidence = 0.95\n", "confidence"),
        ('lang = "fr"\n', "lang"),
        ("products = [1, 2]\n", "products"),
        ('history_url = ""\n', "history_url"),
        # a database in memory: every run recorded there was lost when the command ended
        ('history_url = "sqlite:///"\n', "history_url"),
        ('history_url = "sqlite://"\n', "history_url"),
        ('history_url = "sqlite+pysqlite:///"\n', "history_url"),
        ('history_url = "sqlite:///:memory:"\n', "history_url"),
        ('tracking_uri = "mlflow.db"\n', "tracking_uri"),
        ('experiment = ""\n', "experiment"),
        ("horizn = 14\n", "horizn"),
        ("[weights]\nincome = -1.0\n", "income"),
        ("[weights]\nliquidity = 1e20\n", "liquidity"),  # the solver read it as infinite
        ('optimizer = "missing.toml"\n', "optimizer"),
        # a NUL: the run failed (exit 1) when it opened the history or started the notifier
        ('output_root = "runs\\u0000x"\n', "output_root"),
        ('history_url = "sqlite:///h\\u0000.db"\n', "history_url"),
        ('notify_command = ["/bin/true", "a\\u0000"]\n', "notify_command"),
        # retention's date arithmetic overflowed after the revision was published (exit 1)
        ("keep_days = 100000000000000000000\n", "keep_days"),
        ("keep_days = 36501\n", "keep_days"),
    ],
)
def test_bad_values_name_the_key(tmp_path, text, key):
    with pytest.raises(UsageError, match=key) as caught:
        load_config(_write(tmp_path, text))
    assert caught.value.exit_code == 2
    assert "rainmaker.toml" in str(caught.value)


def test_a_history_in_memory_is_refused_saying_why(tmp_path):
    with pytest.raises(UsageError, match="keep nothing once the command ends") as caught:
        DailyConfig(history_url="sqlite:///", output_root=tmp_path)
    assert caught.value.exit_code == 2
    for kept in ("sqlite:///h.db", "sqlite:////abs/h.db", "postgresql://u@h/db"):
        assert DailyConfig(history_url=kept, output_root=tmp_path).history_url == kept


def test_products_are_a_selection_in_any_order_and_repeats(tmp_path):
    """The order or a repeat of the ids chose nothing but changed the settings' hash: a new
    revision, 'settings changed'. Now a set, sorted."""
    given = DailyConfig(products=("P02", "P01", "P01"), output_root=tmp_path)
    plain = DailyConfig(products=("P01", "P02"), output_root=tmp_path)
    assert given.products == ("P01", "P02") and given.settings_hash() == plain.settings_hash()
    config = load_config(_write(tmp_path, 'products = ["P02", "P01", "P02"]\n'))
    assert config.products == ("P01", "P02")
    assert plain.replace(products=("P03", "P01")).products == ("P01", "P03")


def test_missing_file_and_bad_toml_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(UsageError, match="not valid TOML"):
        load_config(_write(tmp_path, "horizon = = 3\n"))


def test_settings_hash_follows_the_settings_that_change_a_plan(tmp_path):
    base = DailyConfig()
    assert base.settings_hash() == DailyConfig().settings_hash()
    assert base.replace(horizon=7).settings_hash() != base.settings_hash()
    assert base.replace(weights={"income": 0.2}).settings_hash() != base.settings_hash()
    # where the outputs go does not change the plan
    assert base.replace(output_root=tmp_path).settings_hash() == base.settings_hash()
    optimizer = tmp_path / "opt.toml"
    optimizer.write_text("[quota]\nmin_run_days = 2\n")
    first = base.replace(optimizer=optimizer).settings_hash()
    optimizer.write_text("[quota]\nmin_run_days = 3\n")
    assert base.replace(optimizer=optimizer).settings_hash() != first


def test_optimizer_overrides_carry_horizon_confidence_and_weights():
    config = DailyConfig(horizon=9, confidence=0.97, weights={"income": 0.2})
    assert config.optimizer_overrides() == {
        "horizon": {"days": 9},
        "liquidity": {"confidence": 0.97},
        "weights": {"income": 0.2},
    }


def test_resolve_sqlite_url_leaves_absolute_and_other_urls():
    base = Path("/srv/rainmaker")
    assert resolve_sqlite_url("sqlite:////abs/h.db", base) == "sqlite:////abs/h.db"
    assert resolve_sqlite_url("sqlite:///:memory:", base) == "sqlite:///:memory:"
    assert resolve_sqlite_url("postgresql://u@h/db", base) == "postgresql://u@h/db"
    assert resolve_sqlite_url("sqlite:///h.db", base) == "sqlite:////srv/rainmaker/h.db"


@settings(max_examples=60, deadline=None)
@given(
    horizon=st.integers(min_value=-5, max_value=100),
    confidence=st.floats(min_value=0.0, max_value=1.5, allow_nan=False),
)
def test_horizon_and_confidence_are_accepted_exactly_in_range(horizon, confidence):
    valid = 1 <= horizon <= 60 and 0.90 <= confidence < 1.0
    raw = {"horizon": horizon, "liquidity": {"confidence": confidence}}
    if valid:
        config = config_from_mapping(raw)
        assert (config.horizon, config.confidence) == (horizon, confidence)
    else:
        with pytest.raises(UsageError):
            config_from_mapping(raw)


def test_flat_confidence_is_a_deprecated_alias_of_the_liquidity_table():
    """One name per setting: [liquidity] confidence, as in optimize/defaults.toml and the API;
    the flat key of earlier files still works and warns."""
    with pytest.warns(FutureWarning, match=r"\[liquidity\] confidence"):
        old = config_from_mapping({"confidence": 0.97})
    new = config_from_mapping({"liquidity": {"confidence": 0.97}})
    assert old == new
    assert new.optimizer_overrides()["liquidity"] == {"confidence": 0.97}


def test_a_new_optimizer_default_or_release_is_a_new_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rainmaker.app.config as config_module

    config = config_module.DailyConfig()
    before = config.settings_hash()
    assert config.plan_settings()["optimizer_defaults"] is not None
    changed = tmp_path / "defaults.toml"
    changed.write_text("[purchases]\nwithin_book = false\n")
    monkeypatch.setattr(config_module, "_optimizer_defaults_file", lambda: changed)
    assert config.settings_hash() != before
    monkeypatch.undo()
    monkeypatch.setattr(config_module, "_version", lambda: "99.0")
    assert config.settings_hash() != before
