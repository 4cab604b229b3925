"""Scenarios (simulate/scenarios.py) and ``rainmaker scenario``: valid, reproducible, as deep as
asked, and nothing changed outside their window."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rainmaker.cli import main
from rainmaker.dataset import Dataset, load_dataset
from rainmaker.errors import UsageError
from simulate import scenarios
from simulate.scenarios import (
    PRESETS,
    apply_scenario,
    holders_leave,
    parse_share,
    rate_shock,
    stress_run,
    tenor_days,
    write_dataset,
)
from tests.conftest import SAMPLE_DIR

START = pd.Timestamp("2021-11-01")
CASES = {
    "run-30in5": {},
    "rates-2013": {},
    "rates-2016": {},
    "holders-leave": {"product": "P03", "share": 0.2},
}


@pytest.fixture(scope="module")
def sample() -> Dataset:
    return load_dataset(SAMPLE_DIR)


def _by_key(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index(["product_id", "date"]).sort_index()


def _income(flows: pd.DataFrame) -> pd.Series:
    """The day's income a flows frame implies: aum − previous aum − subscriptions + redemptions."""
    previous = flows.groupby(level="product_id")["aum"].shift()
    return flows["aum"] - previous - flows["subscriptions"] + flows["redemptions"]


@pytest.mark.parametrize("kind", list(CASES))
def test_each_kind_gives_a_valid_copy_of_the_sample(sample: Dataset, tmp_path: Path, kind: str):
    scenario = apply_scenario(sample, kind, start=START, **CASES[kind])
    out = write_dataset(scenario.dataset, tmp_path / "out", record=scenario.record)
    stressed = load_dataset(out)  # raises on any problem of the contract
    assert len(stressed.warnings) <= len(sample.warnings)
    # tables the scenario does not touch are byte-for-byte copies
    changed = set(scenario.record["changed_tables"])
    for name in ("products.csv", "flows.csv", "market.csv", "investment_mix.csv"):
        same = (SAMPLE_DIR / name).read_bytes() == (out / name).read_bytes()
        assert same is (name not in changed), name
    record = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
    assert record["kind"] == PRESETS[kind].kind if kind in PRESETS else kind
    assert record["source_fingerprint"] == sample.fingerprint
    assert "README.md" not in {p.name for p in out.iterdir()}  # the sample's README is not ours
    assert (out / "SCENARIO.md").read_text(encoding="utf-8").startswith("# Scenario")


@pytest.mark.parametrize("kind", ["run-30in5", "rates-2013", "holders-leave"])
def test_same_seed_same_bytes(sample: Dataset, tmp_path: Path, kind: str):
    outs = []
    for i in range(2):
        scenario = apply_scenario(sample, kind, start=START, seed=7, **CASES[kind])
        outs.append(write_dataset(scenario.dataset, tmp_path / f"o{i}", record=scenario.record))
    names = sorted(p.name for p in outs[0].iterdir())
    assert names == sorted(p.name for p in outs[1].iterdir())
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_the_seed_moves_the_days_holders_leave(sample: Dataset):
    days = {
        seed: holders_leave(sample, "P03", START, share=0.2, seed=seed).record["parameters"][
            "leave_days"
        ]
        for seed in (1, 2)
    }
    assert days[1] != days[2]


def test_run_depth_is_what_was_asked(sample: Dataset):
    """Golden check: extra outflow over the first 5 days = 30 % of AUM on the day before."""
    scenario = apply_scenario(sample, "run-30in5", start=START)
    old, new = _by_key(sample.flows), _by_key(scenario.dataset.flows)
    products = scenario.record["parameters"]["products"]
    assert "P14" not in products and "P16" not in products  # fixed income; launched later
    for product in products:
        o, n = old.loc[product], new.loc[product]
        k = (n["aum"] / o["aum"]).shift()  # size relative to the input at the start of a day
        extra = n["redemptions"] - k * o["redemptions"]
        first5 = extra.loc[START : START + pd.Timedelta(days=4)].sum()
        aum_before = o.loc[START - pd.Timedelta(days=1), "aum"]
        assert first5 == pytest.approx(0.30 * aum_before, rel=1e-9), product
        assert (extra.loc[START : START + pd.Timedelta(days=29)] > -1e-6).all()
    summary = scenario.record["summary"]
    assert summary["extra_in_depth_days_share"] == pytest.approx(0.30)
    assert summary["unpaid_extra"] == 0
    assert 0.4 < summary["trough_share"] < 0.7  # a run that takes about half of the AUM


def test_a_run_whose_depth_days_pass_a_products_last_day_is_refused(sample: Dataset):
    """A run of 30 % in 5 days starting on the data's last day put all 30 % on that one day
    (peak redemptions x11) and its summary still said 'in 5 days'; it is refused, as holders
    leaving past a product's last day is."""
    last = sample.last_date
    with pytest.raises(UsageError, match=r"5 days from 2022-06-13 end on 2022-06-17, after .*P01"):
        stress_run(sample, last - pd.Timedelta(days=2))
    with pytest.raises(UsageError, match="P01's last day"):
        apply_scenario(sample, "run-30in5", start=last, products=["P01"])
    # a run that fits before the end is still applied, its depth over its days
    fits = stress_run(sample, last - pd.Timedelta(days=4), products=["P01"])
    assert fits.record["summary"]["extra_in_depth_days_share"] == pytest.approx(0.30)


def test_a_run_deeper_than_the_cap_is_refused_not_cut(sample: Dataset):
    """--depth 0.99 was accepted and cut to 0.95 without a word (the summary said 95.0 % of
    AUM, scenario.json's parameters 0.99); a depth above the cap is refused, one at it applied
    whole."""
    with pytest.raises(UsageError, match=r"--depth must be .* at most 0.95.*got 0.99"):
        stress_run(sample, START, depth=0.99, days=1, length=1, products=["P01"])
    at_cap = stress_run(sample, START, depth=scenarios.MAX_RUN_DEPTH, days=1, length=1)
    summary = at_cap.record["summary"]
    assert summary["extra_in_depth_days_share"] == pytest.approx(0.95)
    assert set(summary["depth_by_product"].values()) == {0.95}


def test_a_rate_shock_beyond_the_range_of_a_rate_is_refused(sample: Dataset):
    """+5000 bp on rates of 99 % was applied and written; the copy failed validation after the
    fact (exit 1, the problems on one line with literal \\n, the invalid folder left in --out).
    The shock is refused before anything is written, naming the rate, the day and the range."""
    market = sample.market.copy()
    rates = [c for c in market.columns if c.startswith("shibor_") or c == "benchmark_yield_7d"]
    market[rates] = 99.0
    high = dataclasses.replace(sample, market=market)
    with pytest.raises(
        UsageError,
        match=r"the shock takes shibor_\w+ to 1\d\d\.\d{4} on .* "
        r"beyond the -100 to 100 percent a year a rate may hold; expected a smaller",
    ):
        rate_shock(high, START, size_bp=5000)
    assert rate_shock(high, START, size_bp=-5000).record["summary"]["rows_changed"] > 0


def test_a_rate_shock_peaking_after_the_last_market_day_is_refused(sample: Dataset):
    """rates-2013 from the last day applied one tenth of its rise (+80 bp) while its summary
    said '+800 bp at the peak'; the peak must fall on a market day, as a run's days must."""
    last = sample.market["date"].iloc[-1]
    with pytest.raises(UsageError, match=r"10 days to its peak from 2022-06-15 end on 2022-06-24"):
        apply_scenario(sample, "rates-2013", start=last)
    with pytest.raises(UsageError, match="after the last market day 2022-06-15"):
        rate_shock(sample, last - pd.Timedelta(days=59), shape="climb")
    fits = apply_scenario(sample, "rates-2013", start=last - pd.Timedelta(days=9))
    shock = fits.effects["shibor_on"].to_numpy()
    assert shock.max() == pytest.approx(8.0) and shock[-1] == pytest.approx(8.0)


def test_run_changes_nothing_before_the_window_and_scales_after(sample: Dataset):
    length = PRESETS["run-30in5"].params["length"]
    scenario = apply_scenario(sample, "run-30in5", start=START)
    old, new = sample.flows, scenario.dataset.flows
    before = old["date"] < START
    pd.testing.assert_frame_equal(old.loc[before], new.loc[before])
    untouched = ~old["product_id"].isin(scenario.record["parameters"]["products"])
    pd.testing.assert_frame_equal(old.loc[untouched], new.loc[untouched])
    for column in ("quota", "exposure", "income_per_10k", "yield_7d"):
        pd.testing.assert_series_equal(old[column], new[column])
    # after the run a product is a smaller copy of itself: every flow scaled by its size ratio
    o, n = _by_key(old), _by_key(new)
    after = n.index.get_level_values("date") >= START + pd.Timedelta(days=length)
    k = (n["aum"] / o["aum"]).groupby(level="product_id").shift()
    hit = n.index.get_level_values("product_id").isin(scenario.record["parameters"]["products"])
    rows = after & hit
    np.testing.assert_allclose(
        n.loc[rows, "redemptions"], k[rows] * o.loc[rows, "redemptions"], rtol=1e-9
    )
    np.testing.assert_allclose(n.loc[rows, "demand"], k[rows] * o.loc[rows, "demand"], rtol=1e-9)


def test_run_rolls_aum_forward_and_respects_quota_and_demand(sample: Dataset):
    scenario = apply_scenario(sample, "run-30in5", start=START)
    o, n = _by_key(sample.flows), _by_key(scenario.dataset.flows)
    k = (n["aum"] / o["aum"]).groupby(level="product_id").shift()
    np.testing.assert_allclose(_income(n).dropna(), (k * _income(o)).dropna(), atol=1e-3)
    assert (n["subscriptions"] <= n["demand"] + 1e-6).all()
    capped = n["quota"].notna()
    assert (n.loc[capped, "subscriptions"] <= n.loc[capped, "quota"] + 1e-6).all()
    # where the quota bound in the input and demand still exceeds it, it still binds
    bound = capped & (o["subscriptions"] >= o["quota"] - 1e-6) & (o["demand"] > o["subscriptions"])
    still = bound & (n["demand"] >= n["quota"])
    assert still.sum() > 0
    np.testing.assert_allclose(n.loc[still, "subscriptions"], n.loc[still, "quota"])


def test_redemptions_never_exceed_holdings(tmp_path: Path, make_dataset):
    dataset = load_dataset(make_dataset(tmp_path / "small", n_days=60))
    start = dataset.first_date + pd.Timedelta(days=20)
    # 90 % in one day, then a plateau that would take more than is left
    scenario = stress_run(
        dataset, start, depth=0.9, days=1, length=20, shape="plateau", half_life=50
    )
    flows = _by_key(scenario.dataset.flows)
    assert scenario.record["summary"]["capped_days"] > 0
    assert (flows["aum"] >= 0).all()
    previous = flows.groupby(level="product_id")["aum"].shift()
    known = previous.notna()
    # what it holds: yesterday's AUM, today's subscriptions and today's income (< 0.1 %)
    holdings = previous * 1.001 + flows["subscriptions"]
    assert (flows["redemptions"] <= holdings)[known].all()
    out = write_dataset(scenario.dataset, tmp_path / "out", record=scenario.record)
    assert load_dataset(out).flows["aum"].min() >= 0


def test_a_bare_data_set_works_too(tmp_path: Path, make_dataset):
    """No demand, income_per_10k or yield_7d columns; quotas on some days; a four-tenor market."""
    dataset = load_dataset(make_dataset(tmp_path / "small", n_days=90))
    start = dataset.first_date + pd.Timedelta(days=30)
    for i, scenario in enumerate(
        (
            stress_run(dataset, start, depth=0.25, days=3, length=14, shape="spike"),
            rate_shock(dataset, start, shape="spike", size_bp=600, days=3, length=14),
            rate_shock(dataset, start, shape="climb", size_bp=80, days=20),
            holders_leave(dataset, "P002", start, share=0.3, days=3, holders=4, seed=3),
        )
    ):
        out = write_dataset(scenario.dataset, tmp_path / f"out{i}", record=scenario.record)
        assert len(load_dataset(out).warnings) <= len(dataset.warnings)


def test_lines_ending_with_a_comma_keep_their_empty_column(tmp_path: Path, make_dataset):
    """A trailing comma on every line (Excel's blank column): the copy keeps the empty header as
    the data set's reader sees it, not pandas' ``Unnamed: 7``."""
    folder = make_dataset(tmp_path / "in", n_days=60)
    flows = folder / "flows.csv"
    lines = flows.read_text(encoding="utf-8").splitlines()
    flows.write_text("".join(f"{line},\n" for line in lines), encoding="utf-8")
    dataset = load_dataset(folder)
    assert list(dataset.flows.columns)[-1] == ""  # the reader's view: one empty column
    scenario = stress_run(dataset, dataset.first_date + pd.Timedelta(days=20), depth=0.3)
    out = write_dataset(scenario.dataset, tmp_path / "out", record=scenario.record)
    written = (out / "flows.csv").read_text(encoding="utf-8").splitlines()
    assert written[0] == lines[0] + ","
    assert all(line.endswith(",") for line in written)
    assert list(load_dataset(out).flows.columns) == list(dataset.flows.columns)


@pytest.mark.parametrize(
    ("params", "message"),
    [({"product": "P03"}, "needs --share"), ({"share": 0.2}, "needs --product")],
)
def test_a_kind_without_its_required_options_is_a_usage_error(sample: Dataset, params, message):
    # it used to end in a TypeError from the function's signature
    with pytest.raises(UsageError, match=message):
        apply_scenario(sample, "holders-leave", start="2021-11-01", **params)


@pytest.mark.parametrize("share", [0.0, 1.0, 1.5])
def test_a_share_of_holders_outside_0_to_1_says_which_ends_are_excluded(sample: Dataset, share):
    # "--share must be a share between 0 and 1, got 1.0" read as if 1.0 were refused in error
    with pytest.raises(UsageError) as caught:
        holders_leave(sample, "P05", "2021-11-01", share=share)
    assert str(caught.value) == (
        "--share must be a share above 0 and below 1 (0.3 = 30 % of the product's AUM; 1 would "
        f"redeem it whole), got {share}"
    )


def test_holders_cannot_leave_a_product_without_assets(sample: Dataset):
    flows = sample.flows.copy()
    gone = (flows["product_id"] == "P05") & (flows["date"] >= "2021-10-25")
    flows.loc[gone, ["subscriptions", "redemptions", "aum"]] = 0.0
    emptied = dataclasses.replace(sample, flows=flows)
    with pytest.raises(UsageError, match="no assets"):  # was a ZeroDivisionError
        holders_leave(emptied, "P05", "2021-11-01", share=0.2)


def test_a_run_passes_over_products_without_assets_and_refuses_them_by_name(sample: Dataset):
    """A run hit every cash product with a flows row the day before, one fully redeemed (AUM 0)
    too: the summary said 'on N products' and recorded its depth while nothing could leave it.
    It is passed over by default and refused by name, as holders leaving it are."""
    flows = sample.flows.copy()
    gone = (flows["product_id"] == "P05") & (flows["date"] >= "2021-10-25")
    flows.loc[gone, ["subscriptions", "demand", "redemptions", "aum"]] = 0.0
    emptied = dataclasses.replace(sample, flows=flows)
    hit = stress_run(emptied, START, depth=0.3, days=1, length=2).record["parameters"]["products"]
    assert "P05" not in hit and "P04" in hit
    assert hit == [
        p
        for p in apply_scenario(sample, "run-30in5", start=START).record["parameters"]["products"]
        if p != "P05"
    ]
    with pytest.raises(UsageError, match=r"P05 have no assets \(AUM 0\) on 2021-10-31"):
        stress_run(emptied, START, products=["P04", "P05"])


def test_holders_leave_takes_the_share_on_working_days(sample: Dataset):
    scenario = holders_leave(sample, "P03", "2021-09-30", share=0.2, days=5, holders=10, seed=1)
    effects = scenario.effects
    extra = effects.loc[effects["extra_redemptions"] > 0]
    # 2021-10-01..07 is the National Day holiday: the five working days are 09-30 and 10-08..
    assert {f"{d:%Y-%m-%d}" for d in extra["date"]} <= {
        "2021-09-30",
        "2021-10-08",
        "2021-10-09",  # a make-up working day (Saturday)
        "2021-10-11",
        "2021-10-12",
    }
    aum_before = _by_key(sample.flows).loc[("P03", pd.Timestamp("2021-09-29")), "aum"]
    assert extra["extra_redemptions"].sum() == pytest.approx(0.2 * aum_before, rel=1e-9)
    other = sample.flows["product_id"] != "P03"
    pd.testing.assert_frame_equal(sample.flows.loc[other], scenario.dataset.flows.loc[other])


def test_rate_spike_term_structure_and_window(sample: Dataset):
    params = PRESETS["rates-2013"].params
    scenario = rate_shock(sample, START, **params)
    old, new = sample.market.set_index("date"), scenario.dataset.market.set_index("date")
    shock = (new - old) * 100  # bp
    peak = shock["shibor_on"].idxmax()
    assert shock["shibor_on"].max() == pytest.approx(params["size_bp"], abs=30)
    spike = scenarios.TERM_STRUCTURE["spike"]
    for column, tenor in (("shibor_1w", 7), ("shibor_1m", 30), ("shibor_3m", 91)):
        assert shock.loc[peak, column] == pytest.approx(shock.loc[peak, "shibor_on"] * spike[tenor])
    # the benchmark: a smaller share of the shock, later than the market's peak
    assert 0 < shock["benchmark_yield_7d"].max() < 0.4 * params["size_bp"]
    assert shock["benchmark_yield_7d"].idxmax() > peak
    # nothing before the start; rates gone after `length` days, the benchmark once the
    # peer's 3-month ladder has rolled over
    assert (shock.loc[: START - pd.Timedelta(days=1)] == 0).all().all()
    rates = [c for c in shock.columns if c != "benchmark_yield_7d"]
    assert (shock.loc[START + pd.Timedelta(days=params["length"]) :, rates] == 0).all().all()
    assert (shock.loc[START + pd.Timedelta(days=params["length"] + 91 + 7) :] == 0).all().all()
    pd.testing.assert_frame_equal(sample.flows, scenario.dataset.flows)


def test_rate_climb_stays_and_moves_dr007(tmp_path: Path, make_dataset):
    folder = make_dataset(tmp_path / "small", n_days=200)
    market = pd.read_csv(folder / "market.csv")
    market["dr007"] = (market["shibor_1w"] + 0.05).round(4)
    market["some_index"] = 100.0  # no tenor in its name: left alone and listed
    market.to_csv(folder / "market.csv", index=False)
    dataset = load_dataset(folder)
    start = dataset.first_date + pd.Timedelta(days=10)
    scenario = rate_shock(dataset, start, shape="climb", size_bp=100, days=61)
    shock = (scenario.dataset.market.set_index("date") - dataset.market.set_index("date")) * 100
    late = shock.loc[start + pd.Timedelta(days=61) :]
    assert np.allclose(late["shibor_3m"], 100)
    assert np.allclose(late["dr007"], late["shibor_1w"])
    assert (shock["some_index"] == 0).all()
    assert scenario.record["parameters"]["not_shocked"] == ["some_index"]
    # the benchmark ends ≈ Σ peer share × loading of its bucket's tenor
    assert shock["benchmark_yield_7d"].iloc[-1] == pytest.approx(80, abs=5)


def test_tenor_names_and_shares():
    assert [tenor_days(c) for c in ("shibor_on", "shibor_1w", "shibor_3m", "shibor_1y")] == [
        1,
        7,
        91,
        365,
    ]
    assert tenor_days("dr007") == 7 and tenor_days("r001") == 1 and tenor_days("volume") is None
    assert parse_share("30%", "--depth") == pytest.approx(0.3) == parse_share("0.3", "--depth")
    with pytest.raises(UsageError, match="--depth"):
        parse_share("lots", "--depth")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda d: stress_run(d, START, depth=1.2), "--depth"),
        (lambda d: stress_run(d, START, days=10, length=5), "--length"),
        (lambda d: stress_run(d, START, shape="wave"), "--shape"),
        (lambda d: stress_run(d, START, dispersion=1e308), "--dispersion"),  # OverflowError
        (lambda d: stress_run(d, START, products=["P99"]), "unknown product"),
        (lambda d: stress_run(d, "2030-01-01"), "--start"),
        (lambda d: rate_shock(d, START, shape="climb", length=5), "--length"),
        (lambda d: rate_shock(d, START, tenor="benchmark_yield_7d"), "--tenor"),
        (lambda d: holders_leave(d, "P03", "2022-06-14", share=0.1, days=5), "last day"),
        (lambda d: apply_scenario(d, "rates-2013", start=START, depth=0.2), "--depth"),
    ],
)
def test_bad_parameters_are_usage_errors(sample: Dataset, call, message):
    with pytest.raises(UsageError, match=message):
        call(sample)


def test_a_listed_product_without_flows_is_not_called_unknown(sample: Dataset):
    # P03 is in products.csv: without its flows it has none, as backtest --products says
    idle = dataclasses.replace(sample, flows=sample.flows.loc[sample.flows["product_id"] != "P03"])
    with pytest.raises(UsageError) as caught:
        stress_run(idle, START, products=["P03", "P99"])
    assert str(caught.value).startswith(
        "unknown product(s) P99; product(s) P03 of products.csv have no flows; expected "
        "products with flows: P01, P02, P04, P05, P06, ..."
    )


def test_write_is_atomic_and_refuses_a_full_folder(
    sample: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    scenario = apply_scenario(sample, "run-30in5", start=START)
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        write_dataset(scenario.dataset, full, record=scenario.record)
    assert [p.name for p in full.iterdir()] == ["keep.txt"]

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(scenarios, "_write_table", broken)
    with pytest.raises(OSError):
        write_dataset(scenario.dataset, tmp_path / "new", record=scenario.record)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]  # no half-written folder
    monkeypatch.undo()
    write_dataset(scenario.dataset, full, record=scenario.record, force=True)
    assert "keep.txt" not in {p.name for p in full.iterdir()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]


def test_cli_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "stressed"
    code = main(
        [
            "scenario",
            "--data",
            str(SAMPLE_DIR),
            "--out",
            str(out),
            "--kind",
            "run",
            "--start",
            "2021-11-01",
            "--depth",
            "20%",
            "--days",
            "3",
            "--length",
            "15",
            "--shape",
            "spike",
            "--products",
            "P01,P02",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "scenario run from 2021-11-01 on 2 products" in printed
    assert "(20.0 % of AUM)" in printed and "valid" in printed
    assert json.loads((out / "scenario.json").read_text())["parameters"]["depth"] == 0.2
    load_dataset(out)


def test_an_invalid_scenario_replaces_nothing(
    tmp_path: Path, make_dataset, monkeypatch: pytest.MonkeyPatch, capsys
):
    """The copy was validated after it had replaced --out: with --force an earlier scenario was
    lost to an invalid one. It is now validated before the rename; --out is left as it was."""
    data = make_dataset(tmp_path / "data", n_products=2, n_days=40)
    out = tmp_path / "stressed"
    start = str(load_dataset(data).first_date + pd.Timedelta(days=20))[:10]
    args = ["scenario", "--data", str(data), "--out", str(out), "--kind", "run", "--start", start]
    assert main(args) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = scenarios.apply_scenario

    def broken(dataset: Dataset, kind: str, **kwargs) -> scenarios.Scenario:
        made = real(dataset, kind, **kwargs)
        flows = made.dataset.flows.copy()
        flows.loc[flows.index[-1], "aum"] = -1.0  # a bug of a scenario kind, say
        return dataclasses.replace(made, dataset=dataclasses.replace(made.dataset, flows=flows))

    monkeypatch.setattr(scenarios, "apply_scenario", broken)
    assert main([*args, "--force", "--depth", "0.5"]) == 1
    err = capsys.readouterr().err
    assert "would not be a valid data set, so nothing was written" in err and "aum" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "stressed"]  # no leftovers


@pytest.mark.parametrize(
    "extra",
    [
        ["--kind", "run", "--depth", "1.5"],
        ["--kind", "run", "--size-bp", "100"],
        ["--kind", "holders-leave", "--product", "P99", "--share", "0.1"],
        ["--kind", "rates-2016", "--tenor", "shibor_9x"],
        ["--kind", "tsunami"],
    ],
)
def test_cli_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra):
    out = tmp_path / "stressed"
    args = ["scenario", "--data", str(SAMPLE_DIR), "--out", str(out), "--start", "2021-11-01"]
    assert main(args + extra) == 2
    assert "rainmaker scenario:" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_rate_column_with_text_is_refused_naming_it(tmp_path: Path, capsys):
    """dr007 with 'n/a' on some days validates (a column the validation keeps as it is) but
    the rate-shock moves every column whose name has a tenor: it stopped with "unexpected
    error: TypeError" (exit 1). It exits 2 naming the file, the column and the first days,
    and writes nothing."""
    from tests.conftest import write_dataset

    folder = write_dataset(tmp_path / "data", n_products=2, n_days=60)
    market = pd.read_csv(folder / "market.csv", dtype=str, keep_default_na=False)
    market["dr007"] = market["shibor_1w"]
    market.loc[[3, 9], "dr007"] = "n/a"
    market.to_csv(folder / "market.csv", index=False)
    assert main(["validate", "--data", str(folder)]) == 0
    out = tmp_path / "shocked"
    argv = ["scenario", "--data", str(folder), "--out", str(out), "--kind", "rate-shock"]
    assert main([*argv, "--start", "2021-04-01", "--size-bp", "100"]) == 2
    err = capsys.readouterr().err
    days = pd.to_datetime(market["date"]).iloc[[3, 9]].dt.strftime("%Y-%m-%d").tolist()
    assert f"market.csv, column 'dr007': text on 2 day(s), first {days[0]} ('n/a')" in err
    assert "unexpected error" not in err and not out.exists()
    # numbers with empty cells are shocked where present
    market.loc[[3, 9], "dr007"] = ""
    market.to_csv(folder / "market.csv", index=False)
    assert main([*argv, "--start", "2021-04-01", "--size-bp", "100"]) == 0
