"""Tests of rainmaker.app.history (the run-history database) and rainmaker.app.accuracy (forecast
accuracy monitoring over it)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rainmaker.app.accuracy import accuracy_summary, drift_alerts, forecast_accuracy
from rainmaker.app.history import HistoryUnavailable, open_history
from rainmaker.dataset import load_dataset
from rainmaker.errors import UsageError


def _run(run_id: str, as_of: str, revision: int = 1, created: str | None = None) -> dict:
    return {
        "run_id": run_id,
        "as_of": as_of,
        "revision": revision,
        "output_dir": f"/runs/{as_of}/r{revision}/{run_id}",
        "created_at": created or f"{as_of}T06:00:00+00:00",
        "data_fingerprint": "f" * 64,
        "input_fingerprint": "i" * 64,
        "settings": {"horizon": 3},
        "settings_hash": "s" * 64,
        "horizon": 3,
        "n_products": 1,
        "model_name": "test",
        "solver_status": "optimal",
        "objective": 1.5,
        "rainmaker_version": "0",
    }


def _forecast(product: str, dates, variable: str, centre, spread=0.1) -> pd.DataFrame:
    centre = np.asarray(centre, dtype=float)
    return pd.DataFrame(
        {
            "product_id": product,
            "date": pd.to_datetime(dates),
            "variable": variable,
            "mean": centre,
            "p05": centre * (1 - 2 * spread),
            "p10": centre * (1 - spread),
            "p50": centre,
            "p90": centre * (1 + spread),
            "p95": centre * (1 + 2 * spread),
        }
    )


def _plan(product: str, dates) -> pd.DataFrame:
    n = len(dates)
    return pd.DataFrame(
        {
            "product_id": product,
            "date": pd.to_datetime(dates),
            "quota": [np.nan] + [100.0] * (n - 1),
            "expected_subscriptions": 1.0,
            "expected_redemptions": 2.0,
            "liquidity_buffer": 3.0,
            "expected_aum": 4.0,
            "expected_yield_7d": 1.9,
        }
    )


@pytest.fixture
def history(tmp_path):
    with open_history(f"sqlite:///{tmp_path}/db/history.sqlite") as opened:
        yield opened


def test_a_run_is_recorded_with_its_rows(history):
    dates = pd.date_range("2021-03-02", periods=3)
    history.record(
        _run("a", "2021-03-01"),
        _forecast("P001", dates, "redemptions", [1, 2, 3]),
        _plan("P001", dates),
    )
    assert history.count("runs") == 1
    assert history.count("forecasts") == 3
    runs = history.runs()
    assert runs.loc[0, "run_id"] == "a"
    assert runs.loc[0, "as_of"] == pd.Timestamp("2021-03-01")
    plan = history.plan_rows("a")
    # an uncapped quota (NaN) is NULL in the database and NaN again when read
    assert math.isnan(plan.loc[0, "quota"])
    assert plan.loc[1, "quota"] == 100.0
    assert history.has_run("a") and not history.has_run("b")


def test_a_failed_write_keeps_nothing_of_the_run(history):
    dates = pd.date_range("2021-03-02", periods=3)
    history.record(
        _run("a", "2021-03-01"),
        _forecast("P001", dates, "redemptions", [1, 2, 3]),
        _plan("P001", dates),
    )
    duplicate = {**_run("a", "2021-03-02"), "output_dir": "/elsewhere"}
    with pytest.raises(HistoryUnavailable, match="could not record run a"):
        history.record(duplicate, _forecast("P001", dates, "aum", [1, 2, 3]), _plan("P001", dates))
    assert (history.count("runs"), history.count("forecasts"), history.count("plans")) == (1, 3, 3)


def test_bad_urls_are_configuration_errors(tmp_path):
    with pytest.raises(UsageError, match="not an SQLAlchemy URL"):
        open_history("not a url")
    with pytest.raises(UsageError, match="driver not available"):
        open_history("nosuchdb://user@host/db")


def test_an_unreachable_database_is_a_failure(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(HistoryUnavailable, match="cannot open the history database") as caught:
        open_history(f"sqlite:///{blocker}/sub/history.sqlite")
    assert caught.value.exit_code == 1


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        # another release's (or a hand-edited) schema, values that are not dates
        ("ALTER TABLE runs DROP COLUMN info", "no such column: runs.info"),
        ("UPDATE runs SET created_at = 'garbage'", "garbage"),
        ("UPDATE runs SET as_of = '2022-13-45'", "month must be in 1..12"),
    ],
)
def test_a_history_that_cannot_be_read_is_unavailable_not_unexpected(tmp_path, damage, says):
    """status and history exited 1 'unexpected error' (OperationalError, ValueError) on a
    database that opened but could not be read as a run history."""
    import sqlite3

    file = tmp_path / "history.sqlite"
    dates = pd.date_range("2021-03-02", periods=3)
    with open_history(f"sqlite:///{file}") as history:
        history.record(
            _run("a", "2021-03-01"),
            _forecast("P001", dates, "aum", [1, 2, 3]),
            _plan("P001", dates),
        )
    with sqlite3.connect(file) as conn:
        conn.execute(damage)
    with open_history(f"sqlite:///{file}") as history:
        with pytest.raises(HistoryUnavailable, match="cannot read the history database") as caught:
            history.records()
        assert says in str(caught.value) and caught.value.exit_code == 1


def test_a_run_whose_info_is_not_an_object_is_listed(history):
    """records() read info with .get: a JSON list there ended status with AttributeError."""
    import sqlite3

    dates = pd.date_range("2021-03-02", periods=3)
    history.record(
        _run("a", "2021-03-01"), _forecast("P001", dates, "aum", [1, 2, 3]), _plan("P001", dates)
    )
    file = history.url.removeprefix("sqlite:///")
    with sqlite3.connect(file) as conn:
        conn.execute("UPDATE runs SET info = '[]'")
    (record,) = history.records()
    assert record["run_id"] == "a" and record["alerts"] == [] and record["exit_code"] is None


def test_accuracy_against_outcomes(history, make_dataset, tmp_path):
    dataset = load_dataset(make_dataset(tmp_path / "data", n_products=1, n_days=30))
    flows = dataset.flows.set_index("date")
    as_of = pd.Timestamp("2021-03-10")
    dates = pd.date_range(as_of + pd.Timedelta(days=1), periods=3)
    actual = flows.loc[dates, "redemptions"].to_numpy()
    # the first two days exactly right, the third off by 50 %
    centre = actual * np.array([1.0, 1.0, 1.5])
    history.record(
        _run("a", f"{as_of:%Y-%m-%d}"),
        _forecast("P001", dates, "redemptions", centre),
        _plan("P001", dates),
    )

    accuracy = forecast_accuracy(history, dataset, as_of=dates[-1])
    assert len(accuracy) == 3
    assert list(accuracy["lead_days"]) == [1, 2, 3]
    np.testing.assert_allclose(accuracy["abs_error"], [0, 0, 0.5 * actual[2]])
    # the band is ±10 % around the forecast: the third outcome is outside it
    assert list(accuracy["in_band_80"]) == [1.0, 1.0, 0.0]
    summary = accuracy_summary(accuracy)
    expected_wape = 0.5 * actual[2] / actual.sum() * 100
    assert summary.loc[0, "wape_pct"] == pytest.approx(expected_wape)
    assert summary.loc[0, "bias_pct"] == pytest.approx(-expected_wape)
    assert summary.loc[0, "coverage_80_pct"] == pytest.approx(200 / 3)

    # outcomes after the day asked about are not used (no look-ahead in the report)
    assert len(forecast_accuracy(history, dataset, as_of=dates[0])) == 1


def test_an_outcome_on_a_flat_band_is_inside_it(history, make_dataset, tmp_path):
    # p10 = p50 = p90 one float step above the outcome (a sum of sample paths): inside the band
    dataset = load_dataset(make_dataset(tmp_path / "data", n_products=1, n_days=30))
    as_of = pd.Timestamp("2021-03-10")
    dates = pd.date_range(as_of + pd.Timedelta(days=1), periods=3)
    actual = dataset.flows.set_index("date").loc[dates, "redemptions"].to_numpy(dtype=float)
    centre = np.nextafter(actual, np.inf)
    history.record(
        _run("a", f"{as_of:%Y-%m-%d}"),
        _forecast("P001", dates, "redemptions", centre, spread=0.0),
        _plan("P001", dates),
    )
    accuracy = forecast_accuracy(history, dataset, as_of=dates[-1])
    assert list(accuracy["in_band_80"]) == [1.0, 1.0, 1.0]


def test_history_and_evaluation_agree_on_what_happened(history, make_dataset, tmp_path):
    """rainmaker history and the report score against the outcomes evaluate-forecast scores
    against (rainmaker.outcomes), with the same WAPE: a day a quota bound is only a lower bound
    of demand and is not scored (it used to be, against the accepted subscriptions), and the
    AUM includes the demand turned away since the run."""
    from forecast.evaluation import outcomes
    from forecast.metrics import wape

    dataset = load_dataset(make_dataset(tmp_path / "data", n_products=1, n_days=30))
    as_of = pd.Timestamp("2021-03-10")
    dates = pd.date_range(as_of + pd.Timedelta(days=1), periods=3)
    flows = dataset.flows.drop(columns=[c for c in ("demand",) if c in dataset.flows.columns])
    capped = flows["date"] == dates[1]
    flows.loc[capped, "quota"] = flows.loc[capped, "subscriptions"]
    dataset = dataclasses.replace(dataset, flows=flows)
    subscriptions = flows.set_index("date").loc[dates, "subscriptions"].to_numpy()
    history.record(
        _run("a", f"{as_of:%Y-%m-%d}"),
        _forecast("P001", dates, "subscriptions", subscriptions * 1.2),
        _plan("P001", dates),
    )
    accuracy = forecast_accuracy(history, dataset, as_of=dates[-1])
    assert list(accuracy["date"]) == [dates[0], dates[2]]
    expected = outcomes(dataset)["subscriptions"]["P001"].loc[dates]
    assert np.isnan(expected.loc[dates[1]])
    np.testing.assert_allclose(accuracy["actual"], expected.dropna().to_numpy())
    summary = accuracy_summary(accuracy)
    assert summary.loc[0, "wape_pct"] == pytest.approx(
        100 * wape(accuracy["actual"], accuracy["p50"])
    )


def test_only_the_latest_revision_of_a_day_is_scored(history, make_dataset, tmp_path):
    dataset = load_dataset(make_dataset(tmp_path / "data", n_products=1, n_days=30))
    dates = pd.date_range("2021-03-11", periods=2)
    actual = dataset.flows.set_index("date").loc[dates, "redemptions"].to_numpy()
    old = _run("old", "2021-03-10", 1, "2021-03-10T06:00:00")
    new = {**_run("new", "2021-03-10", 2, "2021-03-10T07:00:00")}
    history.record(old, _forecast("P001", dates, "redemptions", actual * 3), _plan("P001", dates))
    history.record(new, _forecast("P001", dates, "redemptions", actual), _plan("P001", dates))
    accuracy = forecast_accuracy(history, dataset)
    assert set(accuracy["run_id"]) == {"new"}
    assert accuracy["abs_error"].max() == 0


def _accuracy_frame(n_recent: int, inside_recent: float, error_recent: float, error_before: float):
    as_of = pd.Timestamp("2021-06-30")
    rows = []
    for k in range(40):
        date = as_of - pd.Timedelta(days=k)
        recent = k < 14
        if recent and k >= n_recent:
            continue
        err = error_recent if recent else error_before
        rows.append(
            {
                "product_id": "P001",
                "variable": "redemptions",
                "date": date,
                "actual": 100.0,
                "abs_error": err,
                "in_band_80": float(k % 10 < inside_recent * 10) if recent else 1.0,
            }
        )
    return pd.DataFrame(rows), as_of


def test_drift_alert_when_the_band_misses_too_often():
    frame, as_of = _accuracy_frame(14, inside_recent=0.3, error_recent=10, error_before=10)
    alerts = drift_alerts(frame, as_of)
    assert [a["kind"] for a in alerts] == ["coverage"]
    assert alerts[0]["coverage_pct"] < 60


def test_drift_alert_when_the_error_grows():
    frame, as_of = _accuracy_frame(14, inside_recent=0.8, error_recent=30, error_before=10)
    alerts = drift_alerts(frame, as_of)
    assert [a["kind"] for a in alerts] == ["error_growth"]
    assert alerts[0]["wape_pct"] == pytest.approx(30)
    assert alerts[0]["previous_wape_pct"] == pytest.approx(10)


def test_no_drift_alert_when_accurate_or_too_few_points():
    frame, as_of = _accuracy_frame(14, inside_recent=0.8, error_recent=10, error_before=10)
    assert drift_alerts(frame, as_of) == []
    frame, as_of = _accuracy_frame(5, inside_recent=0.0, error_recent=90, error_before=10)
    assert drift_alerts(frame, as_of) == []
    assert drift_alerts(frame.iloc[0:0], as_of) == []


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    quotas=st.lists(
        st.one_of(st.none(), st.floats(min_value=0, max_value=1e12, allow_nan=False)),
        min_size=1,
        max_size=8,
    )
)
def test_plan_rows_round_trip(tmp_path_factory, quotas):
    folder = tmp_path_factory.mktemp("db")
    dates = pd.date_range("2021-01-02", periods=len(quotas))
    plan = _plan("P001", dates)
    plan["quota"] = [np.nan if q is None else q for q in quotas]
    with open_history(f"sqlite:///{folder}/h.sqlite") as history:
        history.record(
            _run("a", "2021-01-01"), _forecast("P001", dates, "aum", np.ones(len(dates))), plan
        )
        back = history.plan_rows("a")
    pd.testing.assert_series_equal(back["quota"], plan["quota"], check_names=False)
    assert list(back["date"]) == list(dates)
