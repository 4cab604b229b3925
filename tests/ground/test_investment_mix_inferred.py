"""Tests of the book inferred from published yields (rainmaker.investment_mix.infer_mix): it
recovers a known steady-ladder mix, looks only at data before its day, falls back to the
default mix without published yields, and the replay uses it when the data set has no
``investment_mix`` table."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rainmaker.assets import BUCKETS
from rainmaker.dataset import load_dataset
from rainmaker.investment_mix import ManagedMix, infer_mix, inferred_mixes, ladder_yields
from simulate.policies import NoPolicy
from simulate.replay import ReplaySettings, managed_mixes, replay, replay_first_day

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
MIX = {"cash": 0.05, "repo_1d": 0.25, "repo_7d": 0.10, "ncd_1m": 0.30, "ncd_3m": 0.30}
FEE_BP = 30.0
BEFORE = pd.Timestamp("2021-09-01")


def random_rates(seed: int) -> pd.DataFrame:
    """Bucket rates on every calendar day: independent random walks, percent."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2020-06-01", "2021-12-31", freq="D")
    return pd.DataFrame(
        {b.name: 2.0 + np.cumsum(rng.normal(0, 0.03, len(days))) for b in BUCKETS}, index=days
    )


def published(rates: pd.DataFrame, mix: dict[str, float], fee_bp: float) -> pd.DataFrame:
    """The 万份收益 a steady ladder of ``mix`` publishes, one row per day."""
    ladders = ladder_yields(rates)
    net = sum(share * ladders[name] for name, share in mix.items()) - fee_bp / 100
    return pd.DataFrame(
        {"date": rates.index, "product_id": "X", "income_per_10k": (net / 3.65).to_numpy()}
    )


def test_ladder_yield_is_the_mean_rate_over_the_tenor_before_the_day() -> None:
    rates = random_rates(0)
    ladders = ladder_yields(rates)
    day = pd.Timestamp("2021-03-10")
    before = rates.loc[: day - pd.Timedelta(days=1)]
    assert ladders.loc[day, "ncd_1m"] == pytest.approx(before["ncd_1m"].iloc[-30:].mean())
    assert ladders.loc[day, "repo_1d"] == pytest.approx(before["repo_1d"].iloc[-1])
    assert ladders.loc[day, "cash"] == rates.loc[day, "cash"]


def test_a_steady_ladders_mix_is_recovered_from_its_published_yield() -> None:
    rates = random_rates(1)
    rows = published(rates, MIX, FEE_BP)
    mix = infer_mix(rows, FEE_BP, rates, BEFORE, prior_weight=0.0)
    assert mix is not None
    for name in {b.name for b in BUCKETS}:
        assert mix.weights.get(name, 0.0) == pytest.approx(MIX.get(name, 0.0), abs=2e-3)
    assert sum(mix.weights.values()) == pytest.approx(1.0, abs=1e-9)
    # with the default pull towards the prior it still reproduces the yield to a fraction of a bp
    pulled = infer_mix(rows, FEE_BP, rates, BEFORE)
    assert pulled is not None
    ladders = ladder_yields(rates).loc[BEFORE - pd.Timedelta(days=120) : BEFORE]
    fitted = sum(s * ladders[k] for k, s in pulled.weights.items())
    true = sum(s * ladders[k] for k, s in MIX.items())
    assert float((fitted - true).abs().mean()) * 100 < 0.5  # bp


def test_the_fit_uses_only_data_before_its_day_and_falls_back_without_yields() -> None:
    rates = random_rates(2)
    rows = published(rates, MIX, FEE_BP)
    base = infer_mix(rows, FEE_BP, rates, BEFORE)
    later = rows["date"] >= BEFORE
    scrambled = rows.copy()
    scrambled.loc[later, "income_per_10k"] = 9.9
    wild = rates.copy()
    wild.loc[BEFORE:] = 50.0
    assert infer_mix(scrambled, FEE_BP, wild, BEFORE) == base
    # a 7-day yield alone is enough
    y7 = rows.assign(yield_7d=((1 + rows["income_per_10k"] / 1e4) ** 365 - 1) * 100).drop(
        columns="income_per_10k"
    )
    by_7d = infer_mix(y7, FEE_BP, rates, BEFORE)
    assert by_7d is not None
    assert by_7d.weights.get("repo_1d", 0) == pytest.approx(MIX["repo_1d"], abs=0.05)
    # no published yield: no fit, and the replay takes the default mix
    bare = rows.drop(columns="income_per_10k")
    assert infer_mix(bare, FEE_BP, rates, BEFORE) is None
    assert inferred_mixes(bare, {"X": FEE_BP}, rates, BEFORE, ["X"]) == {"X": ManagedMix()}


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory):
    """The sample without its investment_mix table, as a bank's data would come."""
    folder = tmp_path_factory.mktemp("bank") / "data"
    shutil.copytree(SAMPLE, folder)
    (folder / "investment_mix.csv").unlink()
    return load_dataset(folder)


def test_without_the_table_the_none_replay_reproduces_the_published_yields(bank) -> None:
    products = ["P03", "P05", "P07"]  # a ladder, an overnight-heavy and a balanced product
    first = replay_first_day(bank, "2021-09-16", 60)
    managed = managed_mixes(bank, products, ReplaySettings(), first)
    assert all(m != ManagedMix() for m in managed.values())
    result = replay(bank, "2021-09-16", "2021-12-15", NoPolicy(), products=products)
    window = result.window.set_index(["product_id", "date"])["yield_7d"]
    history = bank.flows.set_index(["product_id", "date"])["yield_7d"].reindex(window.index)
    gap = (window - history).abs() * 100
    assert gap.mean() <= 3.0


def test_the_longest_tenor_of_a_book() -> None:
    from rainmaker.investment_mix import longest_tenor_days

    assert longest_tenor_days({"cash": 0.1, "repo_1d": 0.4, "ncd_3m": 0.5, "ncd_6m": 0.0}) == 91
    assert longest_tenor_days({"cash": 1.0}) == 0
    # 4 % in 6-month NCDs is an inferred mix's noise; with the 3-month bucket it is the tail
    assert longest_tenor_days({"cash": 0.5, "ncd_3m": 0.46, "ncd_6m": 0.04}) == 91
    assert longest_tenor_days({"cash": 0.97, "ncd_3m": 0.02, "ncd_6m": 0.01}) == 0


def test_the_wam_of_a_steady_ladder() -> None:
    from rainmaker.investment_mix import ladder_wam_days

    # worked by hand: lots of a daily-bought n-day bucket have 1..n days left, (n + 1) / 2 on
    # average; cash counts 0 days
    default = {"cash": 0.05, "repo_1d": 0.15, "repo_7d": 0.20, "ncd_1m": 0.25, "ncd_3m": 0.35}
    assert ladder_wam_days(default) == pytest.approx(0.15 * 1 + 0.20 * 4 + 0.25 * 15.5 + 0.35 * 46)
    assert ladder_wam_days({"cash": 1.0}) == 0.0
    assert ladder_wam_days({"ncd_6m": 1.0}) == pytest.approx(91.5)
