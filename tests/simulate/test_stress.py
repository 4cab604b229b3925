"""Tests of the stress test (simulate/stress.py), the shadow-price deviation and the rules.

Golden figures are worked by hand in the comments; rules cite their line of DOMAIN.md
("Regulation"); the command is run end to end on a small data set.
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rainmaker import cli
from rainmaker.app.report.stress_page import missing_stress_keys
from rainmaker.assets import BUCKETS
from rainmaker.china_calendar import Workdays
from rainmaker.errors import UsageError
from rainmaker.regulation import MAX_WAL_DAYS, MAX_WAM_DAYS
from rainmaker.rules import check_book, concentration_limits
from rainmaker.settings_core import SettingsError
from rainmaker.shadow_price import book_gap, deviation_action, deviation_pct
from simulate.portfolio import Lot
from simulate.stress import (
    DEFAULT_SCENARIOS_FILE,
    Book,
    Scenario,
    StressSettings,
    load_scenarios,
    reverse_stress,
    run_scenario,
    summarise,
)
from tests.conftest import copy_closing_early, write_dataset

AS_OF = pd.Timestamp("2022-06-15")  # a Wednesday; 06-16 and 06-17 work, 06-18/19 weekend
FLAT_2 = {b.name: 2.0 for b in BUCKETS}  # every bucket at 2 % p.a.
WORKDAYS = Workdays()


def tiny_book(cash: float = 100_000.0, lot: float = 900_000.0, bucket: str = "ncd_1m") -> Book:
    """Cash and one lot at 2 % maturing 2022-07-15 (29 days after 06-16), no fees."""
    lots = (Lot(bucket, lot, 2.0, AS_OF, pd.Timestamp("2022-07-15")),) if lot else ()
    return Book("T1", "holdings", 0.0, cash, lots)


# ----------------------------------------------------------------------- deviation (golden)
def test_deviation_worked_by_hand():
    # 1,000,000 CNY at 3 % with 91 days left, the curve at 4 % for every term:
    # MV = 1e6 × (1 + 0.03 × 91/365) / (1 + 0.04 × 91/365)
    #    = 1e6 × (1 − 0.0024931507 / 1.0099726027) = 997,531.467 → gap −2,468.533 CNY;
    # with 100,000 CNY of cash, net assets 1,100,000: deviation = −0.224412 %.
    rates = {b.name: 4.0 for b in BUCKETS}
    gap = book_gap([1_000_000.0], [3.0], [91], rates)
    assert gap == pytest.approx(-2468.533, abs=1e-3)
    assert deviation_pct(gap, 1_100_000.0) == pytest.approx(-0.224412, abs=1e-6)
    # a lot at the curve's own rate is worth its cost; no lots, no gap
    assert book_gap([5e5], [4.0], [30], rates) == pytest.approx(0.0, abs=1e-9)
    assert book_gap([], [], [], rates) == 0.0
    assert math.isnan(deviation_pct(1.0, 0.0))


def test_deviation_actions_follow_domain_md():
    # DOMAIN.md line 54–57: negative ≥ 0.25 % → back within 5 trading days; positive ≥ 0.5 % →
    # stop subscriptions; negative ≥ 0.5 % → cover from the risk reserve.
    assert deviation_action(-0.2499) == "none"
    assert deviation_action(-0.25) == "restore"
    assert deviation_action(0.49) == "none"
    assert deviation_action(0.5) == "stop_subscriptions"
    assert deviation_action(-0.5) == "cover_loss"
    assert deviation_action(float("nan")) == "none"


# ------------------------------------------------------------------ a scenario (golden)
def test_redemption_paid_by_repo_worked_by_hand():
    # Day 1 (Thu 06-16): income = (900,000 + 100,000) × 2 % / 365 = 54.79452 → 54.79 CNY.
    # Units 1,000,054.79; 20 % of 1,000,000 = 200,000 asked. Cash pays 100,054.79, repo the
    # remaining 99,945.21 (cap 0.2 × 800,054.79 = 160,010.95). Net assets 800,054.79, no cash
    # left: below the 5 % and 10 % floors on day 1; leverage 900,000 / 800,054.79 = 112.4923 %.
    book = tiny_book()
    scenario = Scenario("r", redemption_share=0.2, redemption_days=1, sale_spread_bp=0.0)
    path = run_scenario(book, scenario, AS_OF, FLAT_2, 3, WORKDAYS)
    day1 = path.loc[path["day"] == 1].iloc[0]
    assert day1["requested"] == pytest.approx(200_000.0)
    assert day1["repo_funded"] == pytest.approx(99_945.21, abs=0.005)
    assert day1["net_assets"] == pytest.approx(800_054.79, abs=0.005)
    assert day1["cash_ratio_pct"] == pytest.approx(0.0, abs=1e-9)
    assert day1["leverage_pct"] == pytest.approx(112.4923, abs=1e-4)
    assert day1["deviation_pct"] == pytest.approx(0.0, abs=1e-9)  # lot at the curve's rate
    found = summarise(path, book)
    assert found["days_to_cash_floor"] == 1
    assert found["days_to_liquid_floor"] == 1
    assert found["realised_loss"] == 0.0
    assert found["unpaid"] == 0.0


def test_sale_at_market_worked_by_hand():
    # Rates +100 bp (the curve at 3 %), no repo (capacity 0), no sale spread. Day 1 income:
    # 100,000 × 3 %/365 + 900,000 × 2 %/365 = 8.219178 + 49.315068 = 57.53 CNY; cash pays
    # 100,057.53 of the 200,000, the lot (29 days left) is sold for the other 99,942.47 at
    # p = (1 + 0.02·29/365) / (1 + 0.03·29/365): the loss is 99,942.47 × (1/p − 1) =
    # 99,942.47 × 0.000793261 = 79.28 CNY. Deviation then: the 800,778 CNY of lot left is worth
    # 800,778 × (p − 1) = −635.2 CNY, −0.0794 % of net assets 799,978.25.
    book = tiny_book()
    scenario = Scenario(
        "s",
        redemption_share=0.2,
        redemption_days=1,
        rate_shock_bp=100,
        sale_spread_bp=0.0,
        repo_capacity=0.0,
    )
    path = run_scenario(book, scenario, AS_OF, FLAT_2, 1, WORKDAYS)
    day1 = path.loc[path["day"] == 1].iloc[0]
    assert day1["repo_funded"] == 0.0
    assert day1["realised_loss"] == pytest.approx(79.28, abs=0.02)
    assert day1["sold_early"] == pytest.approx(99_942.47 + 79.28, abs=0.03)
    assert day1["net_assets"] == pytest.approx(1_000_057.53 - 200_000 - 79.28, abs=0.03)
    assert day1["deviation_pct"] == pytest.approx(-0.0794, abs=2e-4)
    assert day1["leverage_pct"] == pytest.approx(
        100.0 * (900_000 - 100_021.75) / 799_978.25, abs=1e-3
    )


def test_a_run_that_redeems_every_unit_closes_the_product():
    # 100 % of units asked on day 1 (the top-10 holders hold everything and leave): the request
    # is every unit left, the day's income of 54.79 included, and the book is liquidated (the
    # lot sold at the curve plus the 10 bp spread: a loss of 71.39), as the replay closes a
    # product; the run used to go on with the day's income (~0.005 % of assets) and report the
    # floors breached and leverage far above the cap from day 1
    book = tiny_book()
    scenario = Scenario("all", redemption_share=1.0, redemption_days=1)
    path = run_scenario(book, scenario, AS_OF, FLAT_2, 3, WORKDAYS)
    day1 = path.loc[path["day"] == 1].iloc[0]
    assert day1["net_assets"] == 0.0
    assert day1["paid"] == pytest.approx(1_000_054.79 - 71.39, abs=0.005)
    assert day1["unpaid"] == 0.0 and day1["owed"] == 0.0
    assert path.loc[path["day"] >= 1, ["cash_ratio_pct", "leverage_pct"]].isna().all().all()
    found = summarise(path, book)
    assert found["closed_day"] == 1
    assert math.isnan(found["days_to_cash_floor"]) and math.isnan(found["days_to_liquid_floor"])
    assert found["max_leverage_pct"] == pytest.approx(100.0)  # the as-of day's, before it closed
    assert found["aum_end"] == 0.0
    # spread over days, the last request day closes it
    spread = run_scenario(
        book, dataclasses.replace(scenario, redemption_days=3), AS_OF, FLAT_2, 5, WORKDAYS
    )
    assert summarise(spread, book)["closed_day"] == 5  # Mon 06-20, the third working day
    assert spread["net_assets"].iloc[-1] == 0.0
    # a partial redemption does not close it
    partial = run_scenario(
        book, dataclasses.replace(scenario, redemption_share=0.2), AS_OF, FLAT_2, 3, WORKDAYS
    )
    assert math.isnan(summarise(partial, book)["closed_day"])


def test_only_cash_counts_towards_the_five_percent_floor():
    # DOMAIN.md line 45: "≥ 5 % of net assets in cash, government bonds, central-bank bills and
    # policy-bank bonds" — overnight repo is not on the list (it counts for the 10 % of line 46).
    book = tiny_book(cash=0.0, lot=1_000_000.0, bucket="repo_1d")
    book = Book(
        "T1", "holdings", 0.0, 0.0, (Lot("repo_1d", 1e6, 2.0, AS_OF, AS_OF + pd.Timedelta(days=1)),)
    )
    path = run_scenario(book, Scenario("calm"), AS_OF, FLAT_2, 1, WORKDAYS)
    day0 = path.iloc[0]
    assert day0["cash_ratio_pct"] == 0.0
    assert day0["liquid_ratio_pct"] == pytest.approx(100.0)


# ------------------------------------------------------------------------- reverse test
def test_reverse_stress_breaks_at_its_answer_and_not_one_step_below():
    # 20 % cash, the lot matures after the horizon and its 5 trading days: over 5 days the 10 %
    # floor holds while 200,000 − s·1e6 ≥ 0.10 × (1e6 − s·1e6), i.e. s ≤ 0.1/0.9 = 0.1111 (plus
    # a few hundred CNY of income); the 5 % floor would hold up to 0.15/0.95 = 0.158.
    book = tiny_book(cash=200_000.0, lot=800_000.0)
    stress = StressSettings(horizon_days=10, scenarios=(Scenario("x"),))
    found = reverse_stress(book, AS_OF, FLAT_2, stress, WORKDAYS)
    step = stress.reverse.step
    assert found["breaks"] == "liquid_floor"
    assert 0.1111 <= found["share"] <= 0.1111 + step + 1e-3
    assert found["share"] - found["no_break_below"] <= step + 1e-12

    def breaks(share: float) -> bool:
        s = Scenario("check", redemption_share=share, redemption_days=5)
        f = summarise(run_scenario(book, s, AS_OF, FLAT_2, 10, WORKDAYS), book)
        return not (math.isnan(f["days_to_cash_floor"]) and math.isnan(f["days_to_liquid_floor"]))

    assert breaks(found["share"])
    assert not breaks(found["no_break_below"])


# --------------------------------------------------------------------- money conserved
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    share=st.floats(0.0, 0.95),
    days=st.integers(1, 6),
    rate_bp=st.floats(-100, 300),
    spread_bp=st.floats(0, 200),
    sale_bp=st.floats(0, 200),
    capacity=st.floats(0, 1),
    cash=st.floats(0, 300_000),
)
def test_money_is_conserved_through_a_stress_run(
    share, days, rate_bp, spread_bp, sale_bp, capacity, cash
):
    book = tiny_book(cash=round(cash, 2))
    scenario = Scenario(
        "h",
        redemption_share=share,
        redemption_days=days,
        rate_shock_bp=rate_bp,
        spread_shock_bp=spread_bp,
        sale_spread_bp=sale_bp,
        repo_capacity=capacity,
    )
    path = run_scenario(book, scenario, AS_OF, FLAT_2, 8, WORKDAYS)
    # net assets roll forward with what was paid and earned, to the fen
    assert path["net_assets"].iloc[-1] == pytest.approx(
        book.net_assets - path["paid"].sum() + path["net_income"].sum(), abs=0.011
    )
    # every request is paid or still owed
    assert path["paid"].sum() + path["owed"].iloc[-1] == pytest.approx(
        path["requested"].sum(), abs=0.011
    )
    # new borrowing stays within the cap on the net assets left once the day's redemptions are
    # paid — before the loss realised on the same day's sales lowers them; borrowing already out
    # can exceed it passively as net assets shrink (DOMAIN.md line 59)
    day = path.loc[path["repo_funded"] > 0]
    before_loss = day["net_assets"] + day["realised_loss"]
    assert (day["borrowed"] <= 0.2 * capacity * before_loss + 0.01).all()


# --------------------------------------------------------------------------------- rules
def test_rules_cite_domain_lines_and_catch_breaches():
    good = dict(
        cash_ratio_pct=6.0,
        liquid_ratio_pct=30.0,
        wam_days=40.0,
        wal_days=40.0,
        leverage_pct=105.0,
        deviation_pct=0.01,
    )
    assert all(c.ok for c in check_book(**good))
    by_rule = {c.rule: c for c in check_book(**good)}
    # DOMAIN.md line 44: WAM ≤ 120, WAL ≤ 240; line 58: leverage ≤ 120 %; line 64: T+0
    assert (by_rule["wal"].limit, by_rule["wal"].domain_line) == (240.0, 44)
    assert (by_rule["leverage"].limit, by_rule["leverage"].domain_line) == (120.0, 58)
    bad = {
        "cash_floor": {"cash_ratio_pct": 4.9},  # line 45
        "liquid_floor": {"liquid_ratio_pct": 9.9},  # line 46
        "wal": {"wal_days": 241.0, "wam_days": 100.0},  # line 44
        "wam": {"wam_days": 121.0},  # line 44
        "leverage": {"leverage_pct": 120.5},  # line 58
        "deviation": {"deviation_pct": -0.25},  # line 54
        "t0_limit": {"t0_limit_cny": 20_000.0},  # line 64
    }
    for rule, change in bad.items():
        failed = [c.rule for c in check_book(**{**good, **change}) if not c.ok]
        assert failed == [rule], rule
    # products.csv may override a floor (SPEC §1)
    assert not {c.rule: c for c in check_book(**good, min_cash_ratio=0.08)}["cash_floor"].ok


def test_a_products_wam_cap_binds_below_the_regulations():
    # products.csv max_wam_days = 60 and a book of WAM 90: within the law's 120 days, above the
    # product's own 60, so the WAM check fails at limit 60 and says why; WAL (240) still holds.
    book = dict(cash_ratio_pct=10, liquid_ratio_pct=15, wam_days=90, wal_days=90, leverage_pct=100)
    by_rule = {c.rule: c for c in check_book(**book, deviation_pct=0.0, max_wam_days=60.0)}
    assert (by_rule["wam"].ok, by_rule["wam"].limit) == (False, 60.0)
    assert by_rule["wam"].note == "products.csv max_wam_days"
    assert by_rule["wal"].ok and by_rule["wal"].limit == MAX_WAL_DAYS
    # the lower of the two: a products.csv cap above the law's never loosens it
    loose = check_book(**{**book, "wam_days": 121}, deviation_pct=0.0, max_wam_days=150.0)
    wam = {c.rule: c for c in loose}["wam"]
    assert (wam.ok, wam.limit, wam.note) == (False, MAX_WAM_DAYS, "")
    # nor the tighter holder-concentration tier (90 days above 20 %)
    tiered = check_book(**book, deviation_pct=0.0, top10_share=0.3, max_wam_days=100.0)
    assert {c.rule: c for c in tiered}["wam"].limit == 90.0


def test_concentration_tiers_tighten_from_19_to_21_percent():
    # DOMAIN.md lines 47–48: top-10 holders > 20 %: WAM ≤ 90, WAL ≤ 180, 5-day liquid ≥ 20 %.
    assert concentration_limits(0.19) == (120.0, 240.0, 0.10)
    assert concentration_limits(0.21) == (90.0, 180.0, 0.20)
    assert concentration_limits(0.51) == (60.0, 120.0, 0.30)
    book = dict(cash_ratio_pct=6, liquid_ratio_pct=15, wam_days=95, wal_days=95, leverage_pct=100)
    assert all(c.ok for c in check_book(**book, deviation_pct=0.0, top10_share=0.19))
    failed = {c.rule for c in check_book(**book, deviation_pct=0.0, top10_share=0.21) if not c.ok}
    assert failed == {"liquid_floor", "wam"}


# ------------------------------------------------------------------------ scenarios file
def test_default_scenarios_file():
    stress = load_scenarios()
    names = [s.name for s in stress.scenarios]
    assert names == [
        "redemption_20pct_3d",
        "redemption_30pct_5d",
        "top10_holders_leave",
        "rates_up_50bp",
        "rates_up_100bp",
        "spreads_up_50bp",
        "liquidity_shock",
        "combined",
    ]
    assert stress.horizon_days == 10 and stress.reverse.redemption_days == 5
    assert load_scenarios(DEFAULT_SCENARIOS_FILE) == stress


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[scenario]]\nname = "a"\nredemption_shar = 0.2\n',
            "unknown key(s) scenario[0].redemption_shar; expected one of name, description, ",
        ),
        (
            '[[scenario]]\nname = "a"\nredemption_share = 1.5\n',
            "key 'scenario[0].redemption_share': expected a number from 0 up to but excluding "
            "1, got 1.5",
        ),
        (
            '[[scenario]]\nname = "a"\nrepo_capacity = "half"\n',
            "key 'scenario[0].repo_capacity': expected a number from 0 to 1, got 'half'",
        ),
        (
            'horizon_days = 0\n[[scenario]]\nname = "a"\n',
            "key 'horizon_days': expected a whole number from 1 to 366, got 0",
        ),
        (
            '[reverse]\nstep = 0\n[[scenario]]\nname = "a"\n',
            "key 'reverse.step': expected a number from 0.0001 to 0.1, got 0",
        ),
        (
            '[[scenario]]\nname = "a"\n[[scenario]]\nname = "a"\n',
            "key 'scenario[1].name': expected a name no other scenario has (scenario[0] is 'a'), "
            "got 'a'",
        ),
        ("horizon_days = 5\n", "key 'scenario': expected at least one [[scenario]] table, got []"),
        ("[stress]\nhorizon_days = 5\n", "unknown key(s) stress; expected one of horizon_days, "),
    ],
)
def test_bad_scenarios_file_names_file_key_value_and_expectation(tmp_path, text, message):
    # a settings file: the message says key (not column), as the job's and the optimizer's do
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(SettingsError) as caught:
        load_scenarios(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "column" not in str(caught.value)


def test_a_missing_or_broken_scenarios_file_exits_2_naming_it(small, tmp_path, capsys):
    out = str(tmp_path / "out")
    broken = tmp_path / "broken.toml"
    broken.write_text("not toml = = 1\n")
    for path, said in (
        (tmp_path / "none.toml", "does not exist; expected a TOML file"),
        (tmp_path, "is a folder; expected a TOML file"),
        (broken, f"{broken}: not valid TOML"),
    ):
        args = ["stress", "--data", str(small), "--scenarios", str(path), "--out", out]
        assert cli.main(args) == 2
        assert said in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["x\n", "x\r\n", "\nx", "a b", "x\t"])
def test_scenario_names_with_a_line_break_or_space_are_refused(tmp_path, name):
    """``$`` of a pattern matches before a final newline: "x\\n" must not pass as "x" and put a
    cell over two lines in stress.csv and stress_days.csv."""
    path = tmp_path / "s.toml"
    path.write_text(f"[[scenario]]\nname = {json.dumps(name)}\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_scenarios(path)
    assert caught.value.key == "scenario[0].name"
    assert "letters, digits, _ or - only (no spaces or line breaks)" in str(caught.value)
    assert repr(name) in str(caught.value)


def test_page_texts_are_complete_in_both_languages():
    assert missing_stress_keys() == {"zh": [], "en": []}


# Regulatory numbers patched, for the test that the words read them (distinct, none a default).
_PATCHED_REGULATION = {
    "MIN_CASH_RATIO": 0.07,
    "MIN_LIQUID_RATIO": 0.13,
    "LIQUID_WORKDAYS": 6,
    "MAX_WAM_DAYS": 111,
    "MAX_WAL_DAYS": 222,
    "MAX_LEVERAGE": 1.35,
    "MAX_T0_REDEMPTION_CNY": 20_000.0,
    "CONCENTRATION_TIERS": ((0.25, 90.0, 180.0, 0.20), (0.50, 60.0, 120.0, 0.30)),
    "DEVIATION_NEGATIVE_ACTION_PCT": 0.3,
    "DEVIATION_ACTION_PCT": 0.6,
    "DEVIATION_RESTORE_WORKDAYS": 4,
    "DEVIATION_FAIR_VALUE_WORKDAYS": 3,
    "LARGE_REDEMPTION_SHARE": 0.12,
}


def _regulatory_quotes(reg: Any, lang: str) -> dict[tuple[str, str], list[str]]:
    """(words, key) -> what the label must say of ``reg``'s numbers, written as the pages write
    them (``5%`` in Chinese, ``5 %`` in English; 1 万元 / 10,000 CNY): ``stress`` for the stress
    page's words, ``report`` for the daily report's."""
    zh = lang == "zh"

    def pct(value: float) -> str:
        return f"{value:g}{'' if zh else ' '}%"

    def days(n: int) -> str:
        return f"{n} 个交易日" if zh else f"{n} trading days"

    cash, liquid = pct(100 * reg.MIN_CASH_RATIO), pct(100 * reg.MIN_LIQUID_RATIO)
    negative, action = (
        f"≥ {pct(reg.DEVIATION_NEGATIVE_ACTION_PCT)}",
        f"≥ {pct(reg.DEVIATION_ACTION_PCT)}",
    )
    restore, fair_value = (
        days(reg.DEVIATION_RESTORE_WORKDAYS),
        days(reg.DEVIATION_FAIR_VALUE_WORKDAYS),
    )
    t0 = (
        f"≤ {reg.MAX_T0_REDEMPTION_CNY / 1e4:g} 万元/人/日"
        if zh
        else f"≤ {reg.MAX_T0_REDEMPTION_CNY:,.0f} CNY per investor"
    )
    unit = " 天" if zh else " days"
    return {
        ("stress", "breach_cash"): [cash],
        ("stress", "breach_liquid"): [liquid],
        ("stress", "days_cash"): [cash],
        ("stress", "days_liquid"): [liquid],
        ("stress", "breaks_cash_floor"): [cash],
        ("stress", "breaks_liquid_floor"): [liquid],
        ("stress", "min_liquid"): [f"{reg.LIQUID_WORKDAYS}{' 日' if zh else '-day'}"],
        ("stress", "rule_cash_floor"): [f"≥ {cash}"],
        ("stress", "rule_liquid_floor"): [days(reg.LIQUID_WORKDAYS), f"≥ {liquid}"],
        ("stress", "rule_wam"): [f"≤ {reg.MAX_WAM_DAYS}{unit}"],
        ("stress", "rule_wal"): [f"≤ {reg.MAX_WAL_DAYS}{unit}"],
        ("stress", "rule_leverage"): [f"≤ {pct(100 * reg.MAX_LEVERAGE)}"],
        ("stress", "rule_t0_limit"): [t0],
        ("stress", "rule_concentration"): [pct(100 * reg.CONCENTRATION_TIERS[0][0])],
        ("stress", "action_restore"): [negative, restore],
        ("stress", "action_stop_subscriptions"): [action, restore],
        ("stress", "action_cover_loss"): [action, fair_value],
        ("report", "large_redemption_level_critical"): [pct(100 * reg.LARGE_REDEMPTION_SHARE)],
        ("report", "liquidity_text"): [pct(100 * reg.MAX_LEVERAGE)],
        ("report", "deviation_text"): [negative, restore, action],
        ("report", "deviation_action_restore"): [restore],
        ("report", "deviation_action_stop_subscriptions"): [
            restore if zh else f"{reg.DEVIATION_RESTORE_WORKDAYS} days"
        ],
    }


def _misquoted(words: dict[str, Any], reg: Any) -> list[str]:
    """Labels that do not say what ``_regulatory_quotes`` expects of ``reg``."""
    return [
        f"{lang} {kind} {key}: {quote!r} not in {words[kind][lang][key]!r}"
        for lang in ("zh", "en")
        for (kind, key), quotes in _regulatory_quotes(reg, lang).items()
        for quote in quotes
        if quote not in words[kind][lang][key]
    ]


def test_page_labels_quote_the_numbers_of_the_regulation():
    """Every regulatory number the stress page (and the daily report) says, in both languages,
    is rainmaker.regulation's, written as the page writes it (5%, ≤ 120 天, ≤ 1 万元/人/日...)."""
    import rainmaker.regulation as regulation
    from rainmaker.app.report.i18n import TEXTS
    from rainmaker.app.report.stress_page import STRESS_TEXTS

    assert _misquoted({"stress": STRESS_TEXTS, "report": TEXTS}, regulation) == []


def test_page_labels_follow_a_change_of_the_regulation():
    """The labels read the numbers from rainmaker.regulation rather than repeating them: with
    every number changed there (in a fresh interpreter), every label says the new one."""
    import subprocess
    import sys
    from types import SimpleNamespace

    code = (
        "import json, sys\n"
        "import rainmaker.regulation as regulation\n"
        "for name, value in json.loads(sys.argv[1]).items():\n"
        "    setattr(regulation, name, tuple(map(tuple, value)) if name == 'CONCENTRATION_TIERS'"
        " else value)\n"
        "from rainmaker.app.report.i18n import TEXTS\n"
        "from rainmaker.app.report.stress_page import STRESS_TEXTS\n"
        "print(json.dumps({'stress': STRESS_TEXTS, 'report': TEXTS}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(_PATCHED_REGULATION)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    patched = SimpleNamespace(**_PATCHED_REGULATION)
    assert _misquoted(json.loads(done.stdout), patched) == []


# ---------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    folder = write_dataset(tmp_path_factory.mktemp("stress"), n_products=3, n_days=40)
    # P001 holds securities of its own; P002 has a top-10 holders' share
    pd.DataFrame(
        {
            "product_id": ["P001", "P001", "P001"],
            "bucket": ["cash", "repo_7d", "ncd_3m"],
            "amount_cny": [5e6, 3e7, 6e7],
            "rate_pct": ["", "2.0", "2.6"],
            "maturity_date": ["", "2021-04-13", "2021-06-20"],
        }
    ).to_csv(folder / "holdings.csv", index=False)
    pd.DataFrame({"date": ["2021-03-01"], "product_id": ["P002"], "top10_share": [0.3]}).to_csv(
        folder / "holders.csv", index=False
    )
    return folder


def test_stress_replaces_only_its_own_folder_and_whole(small, tmp_path, monkeypatch):
    args = ["stress", "--data", str(small), "--as-of", "2021-04-09", "--no-progress"]
    # somebody's folder is refused before any work, as plan refuses it
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("keep me")
    assert cli.main([*args, "--out", str(theirs)]) == 2
    assert [p.name for p in theirs.iterdir()] == ["notes.txt"]
    # an earlier stress test is replaced whole; a failure while writing leaves it as it was
    out = tmp_path / "out"
    assert cli.main([*args, "--out", str(out)]) == 0
    (out / "stale.csv").write_text("from an older run")
    before = (out / "stress.json").read_bytes()

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("rainmaker.app.report.stress_page.write_stress_page", broken)
    assert cli.main([*args, "--out", str(out)]) != 0
    assert (out / "stress.json").read_bytes() == before and (out / "stale.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.staging")]
    monkeypatch.undo()
    assert cli.main([*args, "--out", str(out)]) == 0
    assert not (out / "stale.csv").exists()


def test_stress_command_end_to_end(small, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        cli.main(["stress", "--data", str(small), "--as-of", "2021-04-09", "--out", str(out)]) == 0
    )
    said = capsys.readouterr().out
    assert "reverse" in said and "files in" in said
    for name in ("stress.csv", "stress_days.csv", "stress.json", "stress.html"):
        assert (out / name).is_file()
    document = json.loads((out / "stress.json").read_text(encoding="utf-8"))
    assert document["books"] == {"P001": "holdings", "P002": "default", "P003": "default"}
    table = pd.read_csv(out / "stress.csv")
    assert set(table["scenario"]) == {s.name for s in load_scenarios().scenarios}
    top10 = table.loc[table["scenario"] == "top10_holders_leave"].set_index("product_id")
    assert top10.loc["P002", "redemption_share"] == pytest.approx(0.3)
    assert "holders.csv" in str(top10.loc["P001", "skipped"])
    assert len(document["reverse_stress"]) == 3
    page = (out / "stress.html").read_text(encoding="utf-8")
    assert "流动性压力测试" in page and "反向压力测试" in page and "<script" not in page
    assert (
        cli.main(
            [
                "stress",
                "--data",
                str(small),
                "--out",
                str(out),
                "--lang",
                "en",
                "--products",
                "P001",
            ]
        )
        == 0
    )
    assert "Reverse stress test" in (out / "stress.html").read_text(encoding="utf-8")


def test_stress_checks_wam_against_the_products_own_cap(tmp_path):
    # products.csv caps P001's WAM at 60 days, P002 has no cap; both hold 10 % cash and 90 % in
    # one 3-month NCD maturing 100 days after the as-of day: WAM = 0.9 × 100 = 90 days. P001
    # breaks its own cap (limit 60), P002 is within the law's (limit 120).
    folder = write_dataset(tmp_path / "d", n_products=2, n_days=40)
    products = pd.read_csv(folder / "products.csv")
    products["max_wam_days"] = [60, None]
    products.to_csv(folder / "products.csv", index=False)
    pd.DataFrame(
        {
            "product_id": ["P001", "P001", "P002", "P002"],
            "bucket": ["cash", "ncd_3m"] * 2,
            "amount_cny": [1e6, 9e6] * 2,
            "rate_pct": ["", "2.6"] * 2,
            "maturity_date": ["", "2021-07-18"] * 2,
        }
    ).to_csv(folder / "holdings.csv", index=False)
    out = tmp_path / "out"
    args = ["stress", "--data", str(folder), "--as-of", "2021-04-09", "--out", str(out)]
    assert cli.main([*args, "--no-progress"]) == 0
    document = json.loads((out / "stress.json").read_text(encoding="utf-8"))
    wam = {c["product_id"]: c for c in document["checks"] if c["rule"] == "wam"}
    assert wam["P001"]["value"] == pytest.approx(90.0)
    assert (wam["P001"]["limit"], wam["P001"]["ok"]) == (60.0, False)
    assert (wam["P002"]["limit"], wam["P002"]["ok"]) == (MAX_WAM_DAYS, True)
    # the page's rule label names the product's cap (the limit column shows 60 for P001),
    # not the law's 120 days as if it were every product's limit
    from rainmaker.app.report.stress_page import STRESS_TEXTS

    page = (out / "stress.html").read_text(encoding="utf-8")
    labels = {"zh": "产品上限", "en": "product's cap"}
    assert all(word in STRESS_TEXTS[lang]["rule_wam"] for lang, word in labels.items())
    assert any(html.escape(STRESS_TEXTS[lang]["rule_wam"]) in page for lang in labels)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_stress_page_names_scenarios_in_its_language(small, lang):
    """stress.html shows the scenarios' names (as the report does), not their ids."""
    import re

    from rainmaker.app.report.stress_page import STRESS_TEXTS, render_stress_page, stress_meta
    from rainmaker.dataset import load_dataset
    from simulate.stress import run_stress

    found = run_stress(load_dataset(small), pd.Timestamp("2021-04-09"), load_scenarios())
    page = render_stress_page(found.summary, found.reverse, found.checks, stress_meta(found), lang)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
    for scenario in load_scenarios().scenarios:
        name = STRESS_TEXTS[lang][f"scenario_{scenario.name}"]
        assert name in cells
        assert name == scenario.name or scenario.name not in cells  # en "combined" is both
    if lang == "zh":  # no English description beside the Chinese name
        assert "units redeemed over" not in page


def test_stress_command_bad_input_exits_2(small, tmp_path, capsys):
    out = str(tmp_path / "out")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[scenario]]\nname = "a"\nrate_shock = 50\n')
    assert cli.main(["stress", "--data", str(small), "--scenarios", str(bad), "--out", out]) == 2
    assert "scenario[0].rate_shock" in capsys.readouterr().err
    assert cli.main(["stress", "--data", str(tmp_path / "none"), "--out", out]) == 2
    assert cli.main(["stress", "--data", str(small), "--as-of", "2030-01-01", "--out", out]) == 2
    assert cli.main(["stress", "--data", str(small), "--products", "NOPE", "--out", out]) == 2
    holdings = tmp_path / "data"
    holdings.mkdir()
    for f in small.iterdir():
        (holdings / f.name).write_bytes(f.read_bytes())
    (holdings / "holdings.csv").write_text(
        "product_id,bucket,amount_cny,rate_pct,maturity_date\nP001,bogus,1,2,\n"
    )
    assert cli.main(["stress", "--data", str(holdings), "--out", out]) == 2
    err = capsys.readouterr().err
    assert "holdings.csv" in err and "bucket" in err


def test_stress_command_warns_of_products_whose_flows_end_before_the_as_of_day(
    small, tmp_path, capsys
):
    """As plan and forecast do: a product with no flows row on the as-of day is not stressed,
    and the log says which and why."""
    folder = tmp_path / "data"
    last = copy_closing_early(small, folder, "P003")
    out = tmp_path / "out"
    assert cli.main(["stress", "--data", str(folder), "--out", str(out), "--no-progress"]) == 0
    captured = capsys.readouterr()
    warned = [line for line in captured.err.splitlines() if "closed before" in line]
    assert len(warned) == 1 and " WARNING " in warned[0], captured.err
    assert warned[0].endswith(
        f"rainmaker stress: no flows on {last} for 1 product(s) (P003): they closed before the "
        "as-of day and are not stress-tested"
    )
    assert "2 products" in captured.out  # which products are stressed does not change
    assert set(pd.read_csv(out / "stress.csv")["product_id"]) == {"P001", "P002"}
    # the files a manager opens say it too, not the log alone
    document = json.loads((out / "stress.json").read_text(encoding="utf-8"))
    assert document["closed"] == ["P003"] and "P003" in document["warnings"][0]
    page = (out / "stress.html").read_text(encoding="utf-8")
    assert f"1 个产品在 {last} 已无流水" in page and "P003" in page
    # products asked for by name: the user chose them, nothing to warn about
    assert (
        cli.main(["stress", "--data", str(folder), "--out", str(out), "--products", "P001,P002"])
        == 0
    )
    assert "closed before" not in capsys.readouterr().err


def test_stress_leaves_out_a_product_with_aum_0_on_the_as_of_day(small, tmp_path, capsys):
    """A product fully redeemed (aum 0 on the as-of day, its rows still there) was stressed as
    an empty book: every rule 'ok' on ratios that are undefined, the reverse test 'no break up
    to 95 %'. It is left out and named, as a closed product is; asked for by name, exit 2."""
    folder = tmp_path / "data"
    folder.mkdir()
    for path in small.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    flows = pd.read_csv(folder / "flows.csv", dtype=str, keep_default_na=False)
    last = str(flows["date"].max())
    flows.loc[(flows["product_id"] == "P003") & (flows["date"] == last), "aum"] = "0.00"
    flows.to_csv(folder / "flows.csv", index=False)
    out = tmp_path / "out"
    assert cli.main(["stress", "--data", str(folder), "--out", str(out), "--no-progress"]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "aum 0" in line]
    assert len(warned) == 1 and " WARNING " in warned[0]
    assert warned[0].endswith(
        f"aum 0 on {last} for 1 product(s) (P003): they hold nothing to shock and are not "
        "stress-tested"
    )
    for name in ("stress.csv", "stress_days.csv"):
        assert set(pd.read_csv(out / name)["product_id"]) == {"P001", "P002"}, name
    document = json.loads((out / "stress.json").read_text(encoding="utf-8"))
    assert document["empty"] == ["P003"] and document["closed"] == []
    assert {c["product_id"] for c in document["checks"]} == {"P001", "P002"}
    page = (out / "stress.html").read_text(encoding="utf-8")
    assert f"1 个产品在 {last} 规模为 0" in page
    named = ["stress", "--data", str(folder), "--out", str(tmp_path / "o2"), "--products", "P003"]
    assert cli.main(named) == 2
    assert f"aum 0 on {last} for P003" in capsys.readouterr().err


# ------------------------------------------------------------- deviation in the backtest
def test_backtest_daily_has_the_deviation_and_metrics_its_largest():
    from simulate.backtest_metrics import backtest_metrics
    from simulate.policies import NoPolicy
    from simulate.replay import replay
    from tests.simulate.test_replay import tiny_dataset

    result = replay(tiny_dataset(1), "2021-09-15", "2021-09-25", NoPolicy(), warmup_days=0)
    deviation = result.daily["deviation_pct"]
    assert deviation.notna().all() and (deviation.abs() < 0.5).all()
    metrics = backtest_metrics(result.daily)
    assert metrics["total"]["max_abs_deviation_pct"] == pytest.approx(deviation.abs().max())
    one = result.daily.loc[result.daily["product_id"] == "T1", "deviation_pct"]
    assert metrics["products"]["T1"]["max_abs_deviation_pct"] == pytest.approx(one.abs().max())


# ------------------------------------------------------------- deviation in the daily report
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_daily_report_shows_the_deviation_and_its_action(lang):
    from rainmaker.app.report import render_report
    from rainmaker.shadow_price import holdings_deviation
    from tests.app.test_report import AS_OF as REPORT_DAY
    from tests.app.test_report import _hand_made_inputs

    # P001: the golden book of test_deviation_worked_by_hand (−0.2244 %: no action yet);
    # P002: 1,000,000 at 2.5 % with 182 days left: 1e6 × (−0.015 × 182/365) / (1 + 0.04 ×
    # 182/365) = −7,333.3 CNY, −0.6667 % of 1,100,000 (beyond −0.5 %: cover the loss)
    holdings = pd.DataFrame(
        {
            "product_id": ["P001", "P001", "P002", "P002"],
            "bucket": ["cash", "ncd_3m", "cash", "ncd_6m"],
            "amount_cny": [100_000.0, 1_000_000.0, 100_000.0, 1_000_000.0],
            "rate_pct": [0.0, 3.0, 0.0, 2.5],
            "maturity_date": [
                pd.NaT,
                REPORT_DAY + pd.Timedelta(days=91),
                pd.NaT,
                REPORT_DAY + pd.Timedelta(days=182),
            ],
        }
    )
    curve = {b.name: 4.0 for b in BUCKETS}
    table = holdings_deviation(holdings, curve, REPORT_DAY)
    assert table.loc[0, "deviation_pct"] == pytest.approx(-0.224412, abs=1e-6)
    assert table.loc[1, "deviation_pct"] == pytest.approx(-0.66667, abs=1e-4)
    assert list(table["action"]) == ["none", "cover_loss"]
    page = render_report(_hand_made_inputs(deviation=table), lang).html
    assert 'id="deviation"' in page
    words = {
        "zh": ("影子定价偏离度", "约束的代价与优先级", "以风险准备金"),
        "en": ("Shadow-price", "What the constraints cost", "risk reserve"),
    }
    for text in words[lang]:
        assert text in page
    assert "-0.224%" in page


def test_stress_reads_nothing_after_the_as_of_day(small):
    from rainmaker.dataset import load_dataset
    from simulate.stress import run_stress

    dataset = load_dataset(small)
    as_of = pd.Timestamp("2021-03-25")
    stress = load_scenarios()
    full = run_stress(dataset, as_of, stress)
    cut = run_stress(dataset.up_to(as_of), as_of, stress)
    pd.testing.assert_frame_equal(full.summary, cut.summary)
    pd.testing.assert_frame_equal(full.reverse, cut.reverse)
    pd.testing.assert_frame_equal(full.checks, cut.checks)


def test_bad_holders_table_names_file_column_and_lines(small, tmp_path, capsys):
    folder = tmp_path / "data"
    folder.mkdir()
    for f in small.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    holders = folder / "holders.csv"
    out = str(tmp_path / "out")
    holders.write_text("date,product_id,top10_share\n2021-03-01,P001,0.2\nsoon,P001,0.2\n")
    assert cli.main(["stress", "--data", str(folder), "--out", out]) == 2
    err = capsys.readouterr().err
    assert "holders.csv, column 'date'" in err and "[line 3]" in err
    holders.write_text("date,product_id,top10_share\n2021-03-01,P001,0.2\n2021-03-02,NOPE,1.5\n")
    assert cli.main(["stress", "--data", str(folder), "--out", out]) == 2
    err = capsys.readouterr().err
    assert "holders.csv, column 'product_id': unknown product [line 3]" in err
    assert "holders.csv, column 'top10_share': expected a share 0 ≤ x ≤ 1 [line 3]" in err


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_daily_report_shows_the_stress_section(small, lang):
    from rainmaker.app.report import render_report
    from rainmaker.app.report.stress_page import STRESS_TEXTS
    from rainmaker.dataset import load_dataset
    from simulate.stress import run_stress
    from tests.app.test_report import _hand_made_inputs

    found = run_stress(load_dataset(small), pd.Timestamp("2021-04-09"), load_scenarios())
    stress = {"summary": found.summary, "reverse": found.reverse}
    page = render_report(_hand_made_inputs(stress=stress), lang).html
    words = STRESS_TEXTS[lang]
    assert 'id="stress"' in page and words["in_report"] in page
    assert "combined" in page and "redemption_30pct_5d" in page
    # P001 has no holders.csv row: its top-10 scenario is skipped, said in the page's language
    # only when no product ran it; P002 has one, so the scenario ran
    assert "top10_holders_leave" in page
    smallest = found.reverse.loc[found.reverse["share"] > 0, "share"].min()
    assert f"{100 * smallest:.1f}%" in page


def test_top10_holders_holding_everything_run_the_whole_redemption(small, tmp_path):
    # a top10_share of 1: the ten largest holders hold every unit and all of them leave;
    # the table is accepted and the scenario redeems the whole product (never more)
    folder = tmp_path / "data"
    folder.mkdir()
    for f in small.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "holders.csv").write_text("date,product_id,top10_share\n2021-03-01,P002,1.0\n")
    out = tmp_path / "out"
    args = ["stress", "--data", str(folder), "--as-of", "2021-04-09", "--no-progress"]
    assert cli.main([*args, "--out", str(out)]) == 0
    table = pd.read_csv(out / "stress.csv")
    top10 = table.loc[table["scenario"] == "top10_holders_leave"].set_index("product_id")
    assert top10.loc["P002", "redemption_share"] == 1.0
    days = pd.read_csv(out / "stress_days.csv")
    ran = days.loc[(days["scenario"] == "top10_holders_leave") & (days["product_id"] == "P002")]
    assert (ran["net_assets"] >= -0.01).all()
    # the product closes on the first working day (Mon 04-12, day 3): said, no floor breached
    assert top10.loc["P002", "closed_day"] == 3
    assert ran["net_assets"].iloc[-1] == 0.0
    assert math.isnan(top10.loc["P002", "days_to_cash_floor"])
    assert math.isnan(top10.loc["P002", "days_to_liquid_floor"])
    assert "第 3 天份额全部赎回，产品清盘" in (out / "stress.html").read_text(encoding="utf-8")


def test_a_product_without_flows_on_the_as_of_day_is_named_as_written(small, tmp_path, capsys):
    # the message listed a Python list, "for ['P003']"; ids are named as the data writes them
    from rainmaker.dataset import load_dataset
    from simulate.stress import build_books

    dataset = load_dataset(small)
    flows = dataset.flows
    cut = dataclasses.replace(
        dataset,
        flows=flows.loc[
            ~((flows["product_id"] == "P003") & (flows["date"] == flows["date"].max()))
        ],
    )
    with pytest.raises(UsageError) as caught:
        build_books(cut, cut.flows["date"].max(), ["P001", "P003"])
    assert str(caught.value).startswith(f"no flows on {flows['date'].max():%Y-%m-%d} for P003; ")


def test_holdings_dated_before_the_as_of_day_are_said_to_be_set_aside(small, tmp_path):
    # holdings.csv one day behind: its books were silently replaced by default ladders
    from rainmaker.dataset import load_dataset
    from simulate.stress import run_stress

    folder = tmp_path / "late"
    folder.mkdir()
    for f in small.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    holdings = pd.read_csv(small / "holdings.csv").assign(date="2021-04-08")
    holdings.to_csv(folder / "holdings.csv", index=False)
    found = run_stress(load_dataset(folder), pd.Timestamp("2021-04-09"), load_scenarios())
    assert {b.source for b in found.books.values()} == {"default"}
    assert [w for w in found.warnings if "holdings.csv" in w] == [
        "holdings.csv, column 'date': no holdings dated on the as-of day 2021-04-09 (the latest "
        "2021-04-08): the file is not read and each product's book is assumed; expected a "
        "snapshot of the holdings at the end of the as-of day"
    ]
    on_day = run_stress(load_dataset(small), pd.Timestamp("2021-04-09"), load_scenarios())
    assert not [w for w in on_day.warnings if "holdings.csv" in w]
