"""The redemption regime (optimize.regime): a run puts a product into defence within days, a
quarter-end spike does not, defence ends after calm days, and the state uses no later row."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from optimize import load_settings
from optimize.inputs import _regime_and_stress
from optimize.regime import _rolling_median, redemption_regime

DAYS = pd.date_range("2021-01-01", "2021-12-31", freq="D")


def flows_with(extra: dict[str, list[tuple[str, str, float]]], seed: int = 0) -> pd.DataFrame:
    """Three products redeeming about 2 % of 1 bn a day; ``extra`` multiplies the redemptions
    of a product from one day to another."""
    rng = np.random.default_rng(seed)
    frames = []
    for pid in ("A", "B", "C"):
        red = 2e7 * rng.lognormal(0.0, 0.15, len(DAYS))
        for first, last, factor in extra.get(pid, []):
            red[DAYS.to_series().between(first, last).to_numpy()] *= factor
        frames.append(
            pd.DataFrame({"date": DAYS, "product_id": pid, "redemptions": red, "aum": 1e9})
        )
    return pd.concat(frames, ignore_index=True)


def market(rise_from: str | None = None, rise_pct: float = 0.0) -> pd.DataFrame:
    rate = pd.Series(2.0, index=DAYS)
    if rise_from is not None:
        rate[rate.index.to_series() >= pd.Timestamp(rise_from)] += rise_pct
    return pd.DataFrame({"shibor_on": rate, "shibor_1w": rate})


SETTINGS = load_settings().regime
IDS = ("A", "B", "C")


def test_a_run_puts_the_product_into_defence_and_calm_takes_it_out() -> None:
    flows = flows_with({"A": [("2021-09-01", "2021-09-20", 2.5)]})
    first_days = redemption_regime(flows, market(), pd.Timestamp("2021-09-01"), IDS, SETTINGS)
    assert not first_days.defence.any()  # one day is no run
    inside = redemption_regime(flows, market(), pd.Timestamp("2021-09-04"), IDS, SETTINGS)
    assert inside.defence.tolist() == [True, False, False]
    assert inside.pressure_z[0] >= SETTINGS.enter_z
    after = redemption_regime(flows, market(), pd.Timestamp("2021-10-20"), IDS, SETTINGS)
    assert not after.defence.any()


def test_a_one_day_spike_is_no_run() -> None:
    flows = flows_with({"A": [("2021-09-30", "2021-09-30", 4.0)]})
    for day in ("2021-09-30", "2021-10-01", "2021-10-03"):
        state = redemption_regime(flows, market(), pd.Timestamp(day), IDS, SETTINGS)
        assert not state.defence.any(), day


def test_a_squeeze_defends_every_product_only_when_the_rate_signal_is_on() -> None:
    squeeze = market("2021-09-01", 1.0)
    day = pd.Timestamp("2021-09-03")
    off = redemption_regime(flows_with({}), squeeze, day, IDS, SETTINGS)
    assert SETTINGS.rate_rise_bp == 0 and not off.defence.any()  # a spike alone is no run
    assert off.rate_rise_bp >= 50.0  # the signal is still measured and reported
    on = dataclasses.replace(SETTINGS, rate_rise_bp=50.0)
    state = redemption_regime(flows_with({}), squeeze, day, IDS, on)
    assert state.defence.all()


def test_a_wave_at_the_peers_lowers_the_bar() -> None:
    wave = [("2021-09-01", "2021-09-20", 2.5)]
    mild = [("2021-09-01", "2021-09-20", 1.2)]
    flows = flows_with({"A": wave, "B": wave, "C": mild})
    state = redemption_regime(flows, market(), pd.Timestamp("2021-09-05"), IDS, SETTINGS)
    assert state.peer_share >= SETTINGS.peer_share
    alone = flows_with({"C": mild})
    calm = redemption_regime(alone, market(), pd.Timestamp("2021-09-05"), IDS, SETTINGS)
    assert state.defence[2] or state.pressure_z[2] < SETTINGS.peer_z
    assert not calm.defence[2]


@pytest.mark.parametrize("day", ["2021-09-03", "2021-09-10", "2021-10-01"])
def test_the_regime_uses_no_later_row(day: str) -> None:
    flows = flows_with({"A": [("2021-09-01", "2021-09-20", 2.5)]})
    as_of = pd.Timestamp(day)
    known = flows.loc[flows["date"] <= as_of]
    full = redemption_regime(flows, market(), as_of, IDS, SETTINGS)
    cut = redemption_regime(known, market().loc[:as_of], as_of, IDS, SETTINGS)
    np.testing.assert_array_equal(full.defence, cut.defence)
    np.testing.assert_allclose(full.pressure_z, cut.pressure_z)


def test_switched_off_every_product_is_calm() -> None:
    settings = load_settings(overrides={"regime": {"enabled": False}}).regime
    flows = flows_with({"A": [("2021-09-01", "2021-09-20", 2.5)]})
    state = redemption_regime(flows, market(), pd.Timestamp("2021-09-10"), IDS, settings)
    assert not state.defence.any()


def test_a_run_at_most_products_on_one_day_defends_them_the_next_morning() -> None:
    """The peers' signal reads one day (``peer_days``): when most products lose three times
    their usual share on the same day, the plan of the next morning is in defence, days before
    each product's own five-day signal would fire; a product that redeemed as usual stays
    calm."""
    run = [("2021-09-01", "2021-09-20", 3.0)]
    flows = flows_with({"A": run, "B": run})
    day = pd.Timestamp("2021-09-01")
    state = redemption_regime(flows, market(), day, IDS, SETTINGS)
    assert state.defence.tolist() == [True, True, False]
    assert state.peer_share >= SETTINGS.peer_share
    assert (state.pressure_z < SETTINGS.enter_z).all()  # the own signal has not fired yet
    slow = load_settings(overrides={"regime": {"peer_days": SETTINGS.pressure_days}}).regime
    assert not redemption_regime(flows, market(), day, IDS, slow).defence.any()


def test_in_defence_the_stress_floor_reads_the_runs_last_day() -> None:
    """A run that grows (the November 2020 wave took more each day for a week) makes the last
    known day the floor's base for a product in defence: the five days' mean lags it. A calm
    product keeps the mean of the stress look-back."""
    flows = flows_with({"A": [("2021-09-01", "2021-09-20", 3.0)]})
    ramp = flows["product_id"].eq("A") & flows["date"].between("2021-09-06", "2021-09-10")
    growth = flows.loc[ramp, "date"].map(
        dict(zip(pd.date_range("2021-09-06", "2021-09-10"), (1.3, 1.6, 1.9, 2.2, 2.5), strict=True))
    )
    flows.loc[ramp, "redemptions"] *= growth
    settings = load_settings()
    day = pd.Timestamp("2021-09-10")  # the as-of day: its own row is known
    known = flows[flows["date"] <= day]
    regime, base = _regime_and_stress(known, market(), day, IDS, settings)
    assert regime.defence[0] and not regime.defence[1]
    a = known[known["product_id"] == "A"].set_index("date")["redemptions"]
    assert base[0] == pytest.approx(a.iloc[-1])  # the last known day, above the five days' mean
    assert a.iloc[-1] > a.iloc[-5:].mean()
    lookback = settings.liquidity.stress_lookback_days
    b = known[known["product_id"] == "B"].set_index("date")["redemptions"]
    assert base[1] == pytest.approx(b.iloc[-lookback:].mean())


@settings(max_examples=40, deadline=None)
@given(
    values=arrays(
        np.float64,
        st.tuples(st.integers(1, 40), st.integers(1, 4)),
        elements=st.one_of(st.just(np.nan), st.floats(-1e3, 1e3, allow_nan=False)),
    ),
    window=st.integers(1, 12),
    share=st.floats(0.0, 1.0),
)
def test_the_regimes_rolling_median_is_pandas_column_by_column(values, window, share) -> None:
    """The products laid end to end in one rolling pass give each column's own rolling median,
    NaN skipped, NaN under ``min_periods`` (the regime is read every morning; one pass per
    product was most of its cost)."""
    min_periods = max(1, round(share * window))
    expected = pd.DataFrame(values).rolling(window, min_periods=min_periods).median().to_numpy()
    np.testing.assert_array_equal(_rolling_median(values, window, min_periods), expected)
