"""Tests of rainmaker.app.report: figures, alerts, words and the self-contained HTML file."""

from __future__ import annotations

import re
import string
from dataclasses import replace
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from rainmaker.app.report import ReportInputs, render_report
from rainmaker.app.report.charts import MIN_TEXT_PX, min_text_px
from rainmaker.app.report.i18n import TEXTS, amount_scale, missing_keys
from rainmaker.app.report.render import _View, buffer_requirement
from rainmaker.dataset import load_dataset
from tests.conftest import SAMPLE_DIR
from tests.daily_fakes import fake_report_inputs

AS_OF = pd.Timestamp("2021-09-27")  # the horizon below runs into National Day 2021


def _hand_made_inputs(**changes) -> ReportInputs:
    """Two products of 1e9 CNY; P002 risks a large redemption; P001's buffer is near the floor."""
    products = pd.DataFrame(
        {
            "product_id": ["P001", "P002"],
            "issuer": ["WMC-A", "WMC-B"],
            "product_type": ["cash_management"] * 2,
            "fee_bp": [20.0, 30.0],
            "name": ["Alder <Daily>", "Birch Daily"],
        }
    )
    history_days = pd.date_range(AS_OF - pd.Timedelta(days=29), AS_OF)
    flows = pd.DataFrame(
        [
            {
                "date": d,
                "product_id": p,
                "subscriptions": 1e7,
                "redemptions": 1e7,
                "aum": 1e9,
                "yield_7d": 2.0,
            }
            for p in ("P001", "P002")
            for d in history_days
        ]
    )
    dates = pd.date_range(AS_OF + pd.Timedelta(days=1), periods=10)
    rows = []
    for product, tail in (("P001", -2e7), ("P002", -1.5e8)):
        for k, d in enumerate(dates):
            for variable, centre, low in (
                ("subscriptions", 1e7, 5e6),
                ("redemptions", 1e7, 5e6),
                ("net_flow", 0.0, tail if k == 1 else -1e7),
                ("aum", 1e9, 9e8),
            ):
                rows.append(
                    {
                        "product_id": product,
                        "date": d,
                        "variable": variable,
                        "mean": centre,
                        "p05": low,
                        "p10": (centre + low) / 2,
                        "p50": centre,
                        "p90": centre + (centre - low) / 2,
                        "p95": 2 * centre - low,
                    }
                )
    forecast = pd.DataFrame(rows)
    plan = pd.DataFrame(
        [
            {
                "product_id": p,
                "date": d,
                "quota": 5e6 if (p == "P001" and k in (1, 2)) else np.nan,
                "expected_subscriptions": 1e7,
                "expected_redemptions": 1e7,
                "liquidity_buffer": buffer,
                "expected_aum": 1e9,
                "expected_yield_7d": 2.1,
                # the plan's requirement: five days of p95 redemptions (7.5e7) under the 10 %
                # floor of 1e9, so the floor
                "required_buffer": 1e8,
            }
            for p, buffer in (("P001", 1.1e8), ("P002", 3e8))
            for k, d in enumerate(dates)
        ]
    )
    fields = {
        "as_of": AS_OF,
        "run_id": "20210927-r1-abc",
        "products": products,
        "flows": flows,
        "benchmark": pd.Series(1.9, index=history_days),
        "forecast": forecast,
        "plan": plan,
        "model_name": "hand",
        "solver_status": "optimal",
        "objective": 3.0,
        "explanations": ["The liquidity floor of P001 costs 0.4 bp of yield a day."],
        "warnings": ["flows.csv, column 'aum': does not roll forward [line 7]"],
        "version": "test",
    }
    fields.update(changes)
    return ReportInputs(**fields)


def test_words_are_complete_in_both_languages():
    assert missing_keys() == {}
    fields = string.Formatter()
    for key, zh in TEXTS["zh"].items():
        names_zh = {f for _, f, _, _ in fields.parse(zh) if f}
        names_en = {f for _, f, _, _ in fields.parse(TEXTS["en"][key]) if f}
        assert names_zh == names_en, key


def test_amount_scale():
    assert amount_scale(3.2e11, "zh") == (1e8, "亿元")
    assert amount_scale(3.2e11, "en") == (1e8, "CNY 100m")
    assert amount_scale(5e6, "zh") == (1e4, "万元")
    assert amount_scale(500.0, "en") == (1.0, "CNY")
    assert amount_scale(float("nan"), "en") == (1.0, "CNY")


def test_buffer_requirement_is_the_plans():
    """The report's requirement is plan.csv's required_buffer, never a formula of its own."""
    inputs = _hand_made_inputs()
    need = buffer_requirement(inputs.plan.assign(required_buffer=42.0))
    assert set(need) == {42.0}
    # a plan without the column has no requirement: shown as n/a, no buffer alert
    bare = inputs.plan.drop(columns="required_buffer")
    assert buffer_requirement(bare).isna().all()
    report = render_report(_hand_made_inputs(plan=bare.assign(liquidity_buffer=1.0)), "en")
    assert not [a for a in report.alerts if a["kind"] == "buffer"]


def test_the_buffer_alert_names_the_plans_requirement():
    """Regression (issue 12): the buffer-short alert took the larger of the plan's requirement
    and the regulatory floor; it names the plan's required_buffer on the plan's lowest day, as
    the plan's own violation does."""
    inputs = _hand_made_inputs()
    plan = inputs.plan.assign(
        liquidity_buffer=np.where(inputs.plan["product_id"] == "P001", 2.0e8, 9e8),
        required_buffer=np.where(inputs.plan["product_id"] == "P001", 2.5e8, 1e8),
        # the floor is above the requirement: the report must not put it in its place
        regulatory_floor=3e8,
    )
    report = render_report(_hand_made_inputs(plan=plan), "en")
    buffer = [a for a in report.alerts if a["kind"] == "buffer"]
    assert [a["product_id"] for a in buffer] == ["P001"]
    # amounts are shown in the report's scale (CNY 100m for 2e9 of AUM): 2.5e8 = 2.50
    assert "2.50 CNY 100m" in buffer[0]["text"] and "3.00 CNY 100m" not in buffer[0]["text"]
    assert report.metrics["worst_buffer_ratio"] == pytest.approx(2.0e8 / 2.5e8)


def test_alerts_from_hand_made_figures():
    report = render_report(_hand_made_inputs(), "en")
    kinds = [(a["severity"], a["kind"], a["product_id"]) for a in report.alerts]
    # P002: p05 of net flow on day two is -1.5e8, 15 % of AUM: a large redemption risk
    assert ("critical", "large_redemption", "P002") in kinds
    # P001: buffer 11 % of AUM, within 1.2 × the 10 % floor: the plan holds it, a notice
    assert ("info", "floor", "P001") in kinds
    assert not any(k == "floor" and p == "P002" for _, k, p in kinds)
    # the horizon 2021-09-28..10-07 meets National Day (2021-10-01 to 10-07)
    holiday = [a["text"] for a in report.alerts if a["kind"] == "holiday"]
    assert len(holiday) == 1
    assert "National Day" in holiday[0] and "2021-10-01" in holiday[0] and "(7 days)" in holiday[0]
    # critical first
    order = [a["severity"] for a in report.alerts]
    assert order == sorted(order, key=["critical", "warning", "info"].index)
    assert report.metrics["n_critical_alerts"] == 1
    assert report.metrics["total_aum"] == 2e9


def test_english_counts_agree_with_their_nouns():
    from rainmaker.app.report.i18n import agree, texts

    line = texts("en")["violation_line"]
    fields = {"product": "P1", "label": "the cash floor", "first": "06-16", "date": "06-16"}
    fields |= {"shortfall": "1.0 CNY 100m", "share": "1.00%"}
    assert "not met on 1 day (from 06-16)" in line.format(days=1, **fields)
    assert "not met on 11 days (from 06-16)" in line.format(days=11, **fields)
    assert agree("on 1 of 1 days, 21 days, 0.1 days, 2 products") == (
        "on 1 of 1 day, 21 days, 0.1 days, 2 products"
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_plan_floor_above_the_rule_is_named_the_plans(lang):
    """The optimiser's floor (a managed book: 48.5 %) is the plan's, not the regulator's."""
    from rainmaker.regulation import MIN_LIQUID_RATIO

    inputs = _hand_made_inputs()
    plan = inputs.plan.assign(
        liquidity_buffer=np.where(inputs.plan["product_id"] == "P001", 5.0e8, 9e8),
        regulatory_floor=np.where(inputs.plan["product_id"] == "P001", 4.85e8, 1e8),
    )
    report = render_report(_hand_made_inputs(plan=plan), lang)
    floor = {a["product_id"]: a["text"] for a in report.alerts if a["kind"] == "floor"}
    regulatory = f"{100 * MIN_LIQUID_RATIO:.1f}%"
    if lang == "en":
        assert "close to the plan's own floor of 48.5%" in floor["P001"]
        assert f"the regulatory minimum is {regulatory}" in floor["P001"]
        assert "regulatory floor of 48.5" not in floor["P001"]
    else:
        assert (
            "接近计划设定的下限 48.5%" in floor["P001"]
            and f"监管下限 {regulatory}" in floor["P001"]
        )
    # the regulator's own floor keeps its name
    report = render_report(_hand_made_inputs(), lang)
    floor = {a["product_id"]: a["text"] for a in report.alerts if a["kind"] == "floor"}
    expected = "regulatory floor of 10.0%" if lang == "en" else "接近监管下限 10.0%"
    assert expected in floor["P001"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_below_the_plans_own_floor_is_a_warning_below_the_regulators_is_critical(lang):
    """A plan 0.3 points under its own floor (48.5 %) on a late day of the horizon is worth a
    warning, not a stop of the scheduled job (exit 6); under the regulator's floor it is."""

    def severities(buffer: float) -> list[str]:
        inputs = _hand_made_inputs()
        mine = inputs.plan["product_id"] == "P001"
        plan = inputs.plan.assign(
            liquidity_buffer=np.where(mine, buffer, 9e8),
            regulatory_floor=np.where(mine, 4.85e8, 1e8),
        )
        report = render_report(_hand_made_inputs(plan=plan), lang)
        return [
            a["severity"]
            for a in report.alerts
            if a["kind"] == "floor" and a["product_id"] == "P001"
        ]

    assert severities(4.82e8) == ["warning"]  # 48.2 % of AUM: the regulator's 10 % holds
    assert severities(0.5e8) == ["critical"]  # 5 %


def test_solver_status_and_violations_raise_alerts():
    report = render_report(
        _hand_made_inputs(solver_status="time_limit", violations=["sales plan of channel A"]),
        "zh",
    )
    kinds = {a["kind"]: a for a in report.alerts}
    assert kinds["solver"]["severity"] == "critical"
    assert "达到求解时间上限" in kinds["solver"]["text"]  # the status in the report's words
    assert "sales plan of channel A" in kinds["violation"]["text"]


def test_portfolio_summary_figures():
    report = render_report(_hand_made_inputs(), "en")
    metrics = report.metrics
    # no paths: the band is the sum of the product quantiles over 10 days
    assert metrics["expected_net_flow"] == 0
    assert metrics["expected_net_flow_low"] == pytest.approx(-2e7 - 1.5e8 + 2 * 9 * -1e7)
    # coverage: (1.1e8 + 3e8) / (1e8 + 1e8) on every day
    assert metrics["liquidity_coverage_min"] == pytest.approx(2.05)
    assert metrics["expected_spread_bp"] == pytest.approx(20.0)


def test_portfolio_band_uses_sample_paths_when_given():
    inputs = _hand_made_inputs()
    rng = np.random.default_rng(0)
    paths = {"net_flow": rng.normal(0, 1e7, size=(2, 500, 10)), "aum": np.full((2, 500, 10), 1e9)}
    report = render_report(_hand_made_inputs(paths=paths, path_product_ids=("P001", "P002")), "en")
    total = paths["net_flow"].sum(axis=(0, 2))
    assert report.metrics["expected_net_flow_low"] == pytest.approx(np.quantile(total, 0.05))
    assert report.metrics["expected_net_flow_high"] == pytest.approx(np.quantile(total, 0.95))
    assert inputs.paths is None


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_is_self_contained(lang):
    report = render_report(_hand_made_inputs(), lang)
    html = report.html
    assert html.startswith("<!DOCTYPE html>")
    for forbidden in ("<script", "<link", "@import", "<img", "<iframe", "src=", "@font-face"):
        assert forbidden not in html, forbidden
    # references stay inside the page: clip paths and markers of the charts, product anchors,
    # and the quota heatmap's pixels as an inline data: image
    for reference in re.findall(r"url\(([^)]*)\)", html) + re.findall(r'href="([^"]*)"', html):
        assert reference.startswith(("#", "data:image/png;base64,")), reference[:40]
    # the only URLs are XML namespace names, which a browser never fetches
    urls = set(re.findall(r"https?://[^\"'\s>]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert html.count("<svg") == 4  # portfolio AUM, each product's (collapsed), yield, quota
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate element ids between the inline charts"
    for section in ("header", "today", "alerts", "summary", "products", "explanations", "charts"):
        assert f'id="{section}"' in html
    # internals are in the collapsed details section at the end, not on the first screen
    details = html.index('<details id="details">')
    shown = [m.start() for m in re.finditer(r">[^<]*20210927-r1-abc", html)]  # as text
    assert shown and min(shown) > details
    assert html.index('id="today"') < html.index('id="alerts"') < html.index('id="summary"')
    assert "2021-09-27" in html
    # text from data is escaped, not interpreted
    assert "Alder &lt;Daily&gt;" in html
    title = "每日计划报告" if lang == "zh" else "daily plan report"
    assert title in html


def test_report_from_a_data_set_with_the_fake_pipeline(make_dataset, tmp_path):
    dataset = load_dataset(
        make_dataset(tmp_path / "data", n_products=3, n_days=120, start="2021-06-01")
    )
    report = render_report(fake_report_inputs(dataset), "zh")
    assert set(report.charts) == {"aum", "aum_products", "yield", "quota"}
    # the fake plan caps subscriptions before National Day: the schedule says so
    assert "天限额" in report.html
    assert report.metrics["n_products"] == 3
    assert np.isfinite(report.metrics["expected_yield_7d_pct"])


# ---------------------------------------------------------------------- today and the cards


def _with_plan_extras(inputs: ReportInputs) -> ReportInputs:
    """The fake plan with the optimiser's extra columns (plan.csv): exposure against its
    baseline, demand at that exposure, purchases by bucket, repo borrowing, cash and overnight,
    and the plan's own requirement (the last product below it on six days); a third of the
    products capped on day one."""
    plan = inputs.plan.copy()
    forecast = inputs.forecast
    baseline = forecast[forecast["variable"] == "subscriptions"].set_index(["product_id", "date"])[
        "mean"
    ]
    ids = list(dict.fromkeys(plan["product_id"]))
    k = plan["product_id"].map({p: i for i, p in enumerate(ids)})
    day = plan.groupby("product_id").cumcount()
    plan["baseline_exposure"] = 2.0
    plan["exposure"] = np.where(k % 4 == 0, 0.0, 2.0 * (1 + 0.5 * (k % 4)))
    plan["baseline_demand"] = baseline.reindex(
        pd.MultiIndex.from_frame(plan[["product_id", "date"]])
    ).to_numpy()
    plan["demand"] = plan["baseline_demand"] * (1 + 0.1 * (plan["exposure"] / 2.0 - 1))
    # a third of the products capped on day one at 80 % of that demand
    capped = (k % 3 == 1) & (day == 0)
    plan.loc[capped, "quota"] = 0.8 * plan.loc[capped, "demand"]
    accepted = np.where(
        plan["quota"].notna(), np.minimum(plan["demand"], plan["quota"]), plan["demand"]
    )
    plan["expected_subscriptions"] = accepted
    plan["refused_demand"] = plan["demand"] - accepted
    plan["purchase_repo_1d"] = 0.05 * plan["expected_aum"]
    plan["purchase_ncd_6m"] = np.where(k % 2 == 0, 0.01 * plan["expected_aum"], 0.0)
    plan["repo_borrowing"] = np.where((k == 0) & (day == 0), 2e8, 0.0)
    plan["keep_liquid"] = 0.06 * plan["expected_aum"]
    short = (k == len(ids) - 1) & day.between(3, 8)
    plan["required_buffer"] = plan["liquidity_buffer"] * np.where(short, 1.1, 0.9)
    return replace(inputs, plan=plan)


@pytest.fixture(scope="module")
def sample_inputs() -> ReportInputs:
    """The project's sample data set (16 products) through the fake forecast and plan."""
    return _with_plan_extras(fake_report_inputs(load_dataset(SAMPLE_DIR)))


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def test_the_cards_add_up_with_the_table_on_the_sample(sample_inputs):
    view = _View.build(sample_inputs, "zh")
    products, total = view.bridge()
    assert len(products) == 16
    for b in [*products, total]:
        assert b.start + b.plan_net_flow + b.income_other == pytest.approx(b.end)
        assert b.plan_vs_forecast == pytest.approx(
            b.exposure_steering + b.quota_refusals + b.other_difference
        )
    for name in ("start", "plan_net_flow", "income_other", "end", "forecast_net_flow"):
        assert getattr(total, name) == pytest.approx(sum(getattr(b, name) for b in products))
    plan = view.plan
    # the figures are the plan's and the forecast's own
    assert total.start == pytest.approx(float(view.aum_now.sum()))
    assert total.end == pytest.approx(
        float(plan[plan["date"] == plan["date"].max()]["expected_aum"].sum())
    )
    net = sample_inputs.forecast
    assert total.forecast_net_flow == pytest.approx(
        float(net[net["variable"] == "net_flow"]["mean"].sum())
    )
    # exposure above the baseline: the plan counts on more demand than the forecast
    assert total.exposure_steering == pytest.approx(
        float((plan["demand"] - plan["baseline_demand"]).sum())
    )
    assert total.exposure_steering > 0
    # and the quotas turn some of it away
    assert total.quota_refusals == pytest.approx(-float(plan["refused_demand"].sum()))
    assert total.quota_refusals < 0

    summary = view.summary()
    cards = summary["cards"]
    start, flow, other, end = (_number(c["value"]) for c in cards[:4])
    assert round(start + flow + other, 2) == end  # as shown, to the cent of the unit
    table = view.bridge_rows()
    shown = [table["total"][k] for k in ("start", "flow", "other", "end")]
    assert shown == [c["value"] for c in cards[:4]]
    for row in table["rows"]:
        a, b, c, d = (_number(row[k]) for k in ("start", "flow", "other", "end"))
        assert round(a + b + c, 2) == d, row
    words = TEXTS["zh"]
    assert [c["tag"] for c in cards[:6]] == [
        words["tag_actual"],
        words["tag_plan"],
        words["tag_plan"],
        words["tag_plan"],
        words["tag_forecast"],
        words["tag_plan_vs_forecast"],
    ]
    # the plan − forecast card: its value is the planned minus the forecast net flow
    assert _number(cards[5]["value"]) == pytest.approx(flow - _number(cards[4]["value"]), abs=0.011)
    assert view.metrics()["plan_end_aum"] == pytest.approx(total.end)


def test_the_liquidity_card_names_the_worst_product(sample_inputs):
    view = _View.build(sample_inputs, "en")
    lowest, _ = view.coverage()
    assert lowest > 1.0  # the portfolio in total looks covered ...
    card = next(c for c in view.summary()["cards"] if c["label"] == TEXTS["en"]["coverage_worst"])
    worst = view.product_ids[-1]  # ... but the last product is below its requirement
    assert card["value"] == f"{worst} 90.9%" and card["bad"]
    assert "on 6 of 14 days" in card["note"]
    buffer = [a for a in view.alerts() if a["kind"] == "buffer"]
    assert [a["product_id"] for a in buffer] == [worst]
    assert buffer[0]["severity"] == "critical"
    assert "6 of 14 days" in buffer[0]["text"]  # every day, not only the first
    metrics = view.metrics()
    assert metrics["worst_buffer_ratio"] == pytest.approx(1 / 1.1)
    assert metrics["worst_buffer_days_below"] == 6


def test_today_shows_each_products_first_day(sample_inputs):
    view = _View.build(sample_inputs, "en")
    today = view.today()
    assert today["buckets"] == ["overnight repo", "6-month NCDs"]
    rows = {r["id"]: r for r in today["rows"]}
    plan = view.plan
    for product, row in rows.items():
        first = plan[plan["product_id"] == product].iloc[0]
        assert row["purchases"][0] == f"{first['purchase_repo_1d'] / 1e8:,.2f}"
        ratio = first["exposure"] / first["baseline_exposure"]
        assert row["exposure"] == ("no marketing" if ratio == 0 else f"{ratio:.1f}× baseline")
        assert row["quota"] == (
            "no cap" if pd.isna(first["quota"]) else f"{first['quota'] / 1e8:,.2f}"
        )
    assert rows[view.product_ids[0]]["borrowing"] == "2.00"
    assert (
        today["total"]["purchases"][0]
        == f"{plan.groupby('product_id')['purchase_repo_1d'].first().sum() / 1e8:,.2f}"
    )


class _Text(HTMLParser):
    """The text a reader sees: no style or script, and nothing inside ``skip_id``."""

    def __init__(self, skip_id: str) -> None:
        super().__init__()
        self.skip_id, self.depth, self.stack, self.parts = skip_id, 0, [], []

    def handle_starttag(self, tag, attrs):
        if tag in ("meta", "br", "input", "img", "link"):
            return
        hidden = tag in ("style", "script") or dict(attrs).get("id") == self.skip_id
        self.stack.append(hidden)
        self.depth += hidden

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in ("meta", "br", "input", "img", "link") or not self.stack:
            return
        self.depth -= self.stack.pop()

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def _visible_text(html: str, skip_id: str = "details") -> str:
    parser = _Text(skip_id)
    parser.feed(html)
    return " ".join(parser.parts)


def test_the_chinese_report_has_no_english_outside_names_and_details(sample_inputs):
    table = pd.DataFrame(
        {
            "constraint": ["buffer_covers_redemptions", "wam_limit"],
            "product_id": ["P16", "P02"],
            "date": pd.to_datetime(["2022-06-17", "2022-06-18"]),
            "required_cny": [5e8, 120.0],
            "planned_cny": [4e8, 125.0],
            "shortfall_cny": [1e8, 5.0],
            "shortfall_pct_of_aum": [5.9, 5.0],
            "reason": ["the buffer is short", "WAM above its cap"],
            "reason_zh": ["缓冲不足", "WAM 超上限"],
        }
    )
    prices = pd.DataFrame(
        {
            "constraint": ["buffer_covers_redemptions", "liquidity_floor", "demand_response"],
            "product_id": ["P16", "P03", "P09"],
            "binding_days": [14, 3, 14],
            "horizon_days": [14, 14, 14],
            "first_date": pd.to_datetime(["2022-06-16", "2022-06-20", "2022-06-16"]),
            "mean_cost_bp_day": [10132.82, 1.25, 3.95],
            "total_cost_bp_day": [141859.5, 3.75, 55.3],
        }
    )
    inputs = replace(
        sample_inputs,
        violation_table=table,
        constraint_prices=prices,
        explanations=["P16: the p95 redemption buffer costs 10132.82 bp (optimiser text)"],
        warnings=["flows.csv, column 'aum': does not roll forward [line 7]"],
        solver_status="time_limit",
        timings={"forecast_s": 12.0},
        model_name="auto(subscriptions=lightgbm)",
        objective=1.451e6,
    )
    html = render_report(inputs, "zh").html
    text = _visible_text(html)
    names = list(inputs.products["product_id"]) + list(inputs.products["name"])
    names += list(inputs.products["issuer"])
    for name in sorted(map(str, names), key=len, reverse=True):
        text = text.replace(name, " ")
    english = re.findall(r"[A-Za-z]+", text)
    assert english == [], sorted(set(english))[:20]
    # the internals are there, in the details section
    details = html[html.index('<details id="details">') :]
    for internal in ("time_limit", "forecast_s", "1.451e+06", "auto(subscriptions=lightgbm)"):
        assert internal in details
    assert "10132" not in text  # a penalty's price is shown as the priority it is
    assert "设置把它放在收益之前" in text
    assert "1.25 基点" in text  # a cost in yield keeps its number, in basis points
    assert "万元" not in text  # one unit family (亿元) throughout
    assert "平均剩余期限上限超出，共 1 天" in text  # violation lines from the report's words
    en = [a["text"] for a in _View.build(inputs, "en").alerts()]
    assert any("the WAM cap exceeded on 1 day (from" in line for line in en)
    assert not any(re.search(r"(?<![\d.,])1 days", line) for line in en)


def test_local_time_with_its_zone(sample_inputs):
    from datetime import UTC, datetime

    when = datetime(2022, 6, 16, 0, 30, tzinfo=UTC)
    inputs = replace(sample_inputs, generated_at=when, time_zone="Asia/Shanghai")
    zh = _View.build(inputs, "zh").header()["freshness"]
    assert "2022-06-16 08:30（时区 +08:00）" in zh and "UTC" not in zh
    assert "2022-06-16 08:30 (UTC+08:00)" in _View.build(inputs, "en").header()["freshness"]


def test_charts_are_legible_and_the_quota_chart_shows_only_caps():
    inputs = _hand_made_inputs()
    report = render_report(inputs, "en")
    for name, svg in report.charts.items():
        assert min_text_px(svg) >= MIN_TEXT_PX, name
    quota = report.charts["quota"]
    # P001 is capped on two days; P002 never is and takes no row, open days take no column
    assert ">P001<" in quota and ">P002<" not in quota
    assert quota.count(">09-2") + quota.count(">09-3") + quota.count(">10-") == 2
    # with no cap at all there is no quota chart, a sentence instead
    open_plan = replace(inputs, plan=inputs.plan.assign(quota=np.nan))
    report = render_report(open_plan, "en")
    assert "quota" not in report.charts
    assert TEXTS["en"]["chart_quota_none"] in report.html


def test_the_eve_of_days_off_in_defence_states_the_cash_held_for_them(sample_inputs):
    # in defence tonight's cash is at least the days off's expected redemptions
    # (simulate.policies.ProductDecision.cash_to_hold): the report says so with the figure
    plan = sample_inputs.plan.copy()
    plan["date"] = pd.to_datetime(plan["date"]) + pd.Timedelta(days=1)  # from a Friday
    plan["cash"] = 1e9
    plan["redemption_quantile"] = 4e8
    plan["expected_redemptions"] = 2e8
    plan["liquidity_need"] = 1e9
    plan["liquidity_available"] = 2e9
    plan["liquidity_need_confidence"] = 0.99
    plan["next_working_day"] = plan.groupby("product_id").cumcount() == 3
    plan["defence"] = True
    assert pd.Timestamp(plan["date"].min()).day_name() == "Friday"
    view = _View.build(replace(sample_inputs, plan=plan), "en")
    rows = view.liquidity_rows()
    assert rows and all("(defence)" in r["afternoon"] for r in rows)
    # Saturday and Sunday: 2 × 200 m = CNY 4.00 hundred million
    assert "keep at least what they are expected to ask, 4.00, tonight" in rows[0]["afternoon"]
    calm = _View.build(replace(sample_inputs, plan=plan.assign(defence=False)), "en")
    assert all("keep at least" not in r["afternoon"] for r in calm.liquidity_rows())
