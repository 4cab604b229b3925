"""Tests of rainmaker.app.report: figures, alerts, words and the self-contained HTML file."""

from __future__ import annotations

import re
import string

import numpy as np
import pandas as pd
import pytest

from rainmaker.app.report import ReportInputs, render_report
from rainmaker.app.report.i18n import TEXTS, amount_scale, missing_keys
from rainmaker.app.report.render import buffer_requirement
from rainmaker.dataset import load_dataset
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


def test_buffer_requirement_by_hand():
    inputs = _hand_made_inputs()
    need = buffer_requirement(inputs.plan, inputs.forecast, inputs.products, 0.95)
    # p95 of redemptions is 1.5e7 a day: five days ahead 7.5e7 < 10 % of 1e9 = 1e8, so the floor
    # binds on every day; at the end of the horizon fewer days remain, the floor still binds.
    assert need.tolist() == pytest.approx([1e8] * len(inputs.plan))
    # a product-level floor override, and a tighter quantile that beats the floor
    products = inputs.products.assign(min_liquid_ratio=[0.05, 0.2])
    need = buffer_requirement(inputs.plan, inputs.forecast, products, 0.95)
    plan = inputs.plan.reset_index(drop=True)
    first_p1 = need[(plan["product_id"] == "P001").to_numpy()].iloc[0]
    first_p2 = need[(plan["product_id"] == "P002").to_numpy()].iloc[0]
    assert first_p1 == pytest.approx(7.5e7)  # 5 days × 1.5e7 > 5 % × 1e9
    assert first_p2 == pytest.approx(2e8)
    # the plan's own requirement wins when it has one
    own = inputs.plan.assign(liquidity_requirement=42.0)
    assert set(buffer_requirement(own, inputs.forecast, products, 0.95)) == {42.0}


def test_alerts_from_hand_made_figures():
    report = render_report(_hand_made_inputs(), "en")
    kinds = [(a["severity"], a["kind"], a["product_id"]) for a in report.alerts]
    # P002: p05 of net flow on day two is -1.5e8, 15 % of AUM: a large redemption risk
    assert ("critical", "large_redemption", "P002") in kinds
    # P001: buffer 11 % of AUM, within 1.2 × the 10 % floor
    assert ("warning", "floor", "P001") in kinds
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


def test_solver_status_and_violations_raise_alerts():
    report = render_report(
        _hand_made_inputs(solver_status="time_limit", violations=["sales plan of channel A"]),
        "zh",
    )
    kinds = {a["kind"]: a for a in report.alerts}
    assert kinds["solver"]["severity"] == "critical"
    assert "time_limit" in kinds["solver"]["text"]
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
    assert html.count("<svg") == 3
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate element ids between the inline charts"
    for section in ("header", "summary", "alerts", "products", "explanations", "charts"):
        assert f'id="{section}"' in html
    assert "20210927-r1-abc" in html and "2021-09-27" in html
    # text from data is escaped, not interpreted
    assert "Alder &lt;Daily&gt;" in html
    title = "每日计划报告" if lang == "zh" else "daily plan report"
    assert title in html


def test_report_from_a_data_set_with_the_fake_pipeline(make_dataset, tmp_path):
    dataset = load_dataset(
        make_dataset(tmp_path / "data", n_products=3, n_days=120, start="2021-06-01")
    )
    report = render_report(fake_report_inputs(dataset), "zh")
    assert set(report.charts) == {"aum", "yield", "quota"}
    # the fake plan caps subscriptions before National Day: the schedule says so
    assert "天限额" in report.html
    assert report.metrics["n_products"] == 3
    assert np.isfinite(report.metrics["expected_yield_7d_pct"])
