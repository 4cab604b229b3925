"""The stress-test page of the report (``stress.html``), in Chinese or English.

It renders what ``rainmaker stress`` found (:mod:`simulate.stress`), handed over as plain frames
so that the report does not depend on the engine: the findings per scenario and product, the
reverse stress test and the rules checked on each book, with the shadow-price actions of
DOMAIN.md. One self-contained file: inline style, no script, every text escaped. Words are looked
up in :data:`STRESS_TEXTS` (same languages as :mod:`rainmaker.app.report.i18n`, whose amount unit it
reuses); :func:`missing_stress_keys` keeps the two languages complete. The regulatory numbers the
words quote (the 5 % and 10 % floors, ≤ 120 days, the shadow-price thresholds...) are read from
:mod:`rainmaker.regulation` through :func:`rainmaker.app.report.i18n.regulatory_numbers`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from rainmaker.app.report.i18n import LANGUAGES, amount_scale, regulatory_numbers
from rainmaker.regulation import MAX_LEVERAGE
from simulate.stress import NO_HOLDERS, StressResult, stress_meta

__all__ = [
    "NO_HOLDERS",
    "STRESS_TEXTS",
    "missing_stress_keys",
    "render_stress_page",
    "write_stress_page",
    "stress_overview",
]

# the regulatory numbers the words quote, read from rainmaker.regulation (their one home)
_ZH = regulatory_numbers("zh")
_EN = regulatory_numbers("en")

STRESS_TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "流动性压力测试",
        "as_of": "数据截止日",
        "scenarios_file": "情景文件",
        "horizon": "每个情景逐日推演 {days} 个自然日（赎回需要时更长）",
        "tools": (
            "应对顺序与计划一致：现金、到期资产、杠杆上限内的质押式回购、最后按市价卖出资产；"
            "期间无申购、到期资金不再投资。"
        ),
        "books": "持仓来源",
        "closed": "{n} 个产品在 {as_of} 已无流水（此前已终止），未做压力测试：{ids}",
        "empty": "{n} 个产品在 {as_of} 规模为 0（已全部赎回），无持仓可测，未做压力测试：{ids}",
        "source_holdings": "持仓表 holdings.csv",
        "source_investment_mix": "投资组合表 investment_mix.csv 的梯形持仓",
        "source_inferred": "由已公布收益推断的梯形持仓",
        "source_default": "默认梯形持仓",
        "overview": "情景总览",
        "scenario": "情景",
        "products": "产品数",
        "breach_cash": f"跌破 {_ZH['cash_floor']} 下限的产品",
        "breach_liquid": f"跌破 {_ZH['liquid_floor']} 下限的产品",
        "loss": "已实现损失（{unit}）",
        "worst_deviation": "最差偏离度",
        "max_leverage": "最高杠杆",
        "unpaid": "未兑付赎回（{unit}）",
        "skipped": "未运行：{reason}",
        "closed_on": "第 {day} 天份额全部赎回，产品清盘",
        "detail": "分产品结果",
        "product": "产品",
        "book": "持仓",
        "share": "赎回比例",
        "days_cash": f"距 {_ZH['cash_floor']} 下限（天）",
        "days_liquid": f"距 {_ZH['liquid_floor']} 下限（天）",
        "min_cash": "最低现金类占比",
        "min_liquid": f"最低 {_ZH['liquid_days']} 日流动性占比",
        "repo": "回购融资（{unit}）",
        "sold": "提前卖出（{unit}）",
        "never": "未跌破",
        "reverse": "反向压力测试",
        "reverse_text": (
            "在 {days} 个工作日内均匀赎回，使流动性下限被跌破或负偏离度达到 {limit} 的最小赎回比例"
            "（二分法，精度 {step}）"
        ),
        "reverse_share": "最小赎回比例",
        "reverse_below": "低于此比例不触发",
        "reverse_breaks": "首先触发",
        "reverse_none": "至 {share} 仍未触发",
        "reverse_zero": "无赎回时已触发",
        "breaks_cash_floor": f"{_ZH['cash_floor']} 下限",
        "breaks_liquid_floor": f"{_ZH['liquid_floor']} 下限",
        "breaks_deviation": "负偏离度",
        "checks": "监管规则检查（截止日持仓）",
        "rule": "规则",
        "value": "数值",
        "limit": "限额",
        "status": "结果",
        "ok": "符合",
        "breach": "不符合",
        "domain_line": "DOMAIN.md 行",
        "rule_cash_floor": f"现金、国债、央票、政策性金融债 ≥ {_ZH['cash_floor']}（不含隔夜回购）",
        "rule_liquid_floor": f"含 {_ZH['liquid_days']} 个交易日内到期资产 ≥ {_ZH['liquid_floor']}",
        # the limit column shows the cap used: the product's own where products.csv sets one
        "rule_wam": f"平均剩余期限 ≤ 产品上限（上限 ≤ {_ZH['wam']} 天）",
        "rule_wal": f"平均剩余存续期 ≤ {_ZH['wal']} 天",
        "rule_leverage": f"杠杆（总资产/净资产）≤ {_ZH['leverage']}",
        "rule_deviation": "影子定价偏离度",
        "rule_t0_limit": f"T+0 快速赎回 ≤ {_ZH['t0_limit']}/人/日",
        "rule_concentration": f"前十大持有人占比（> {_ZH['concentration']} 时收紧）",
        "deviation_actions": "影子定价偏离度的处置",
        "action_restore": (
            f"负偏离 ≥ {_ZH['deviation_negative']}：{_ZH['restore_days']} 个交易日内调整回限内"
        ),
        "action_stop_subscriptions": (
            f"正偏离 ≥ {_ZH['deviation']}：暂停申购并在 {_ZH['restore_days']} 个交易日内调整"
        ),
        "action_cover_loss": (
            f"负偏离 ≥ {_ZH['deviation']}：以风险准备金或自有资金弥补；"
            f"连续 {_ZH['fair_value_days']} 个交易日超过则改用公允价值或清盘"
        ),
        "runtime": "用时 {seconds} 秒",
        "not_known": "未知",
        "scenario_redemption_20pct_3d": "3 天内赎回 20%",
        "scenario_redemption_30pct_5d": "5 天内赎回 30%",
        "scenario_top10_holders_leave": "前十大持有人全部赎回",
        "scenario_rates_up_50bp": "利率上行 50 基点",
        "scenario_rates_up_100bp": "利率上行 100 基点",
        "scenario_spreads_up_50bp": "信用利差走阔 50 基点",
        "scenario_liquidity_shock": "流动性冲击",
        "scenario_combined": "组合情景",
        "in_report": "压力测试（截止日持仓，默认情景）",
        "in_report_text": (
            "明细见压力测试命令生成的压力测试页面。反向压力测试：最小触发赎回比例 {share}"
            "（{product}）"
        ),
        "in_report_zero": "{products} 无赎回时已低于下限",
        "skipped_no_holders": "数据中没有前十大持有人占比（持有人表）",
    },
    "en": {
        "title": "Liquidity stress test",
        "as_of": "As of",
        "scenarios_file": "Scenarios file",
        "horizon": "Each scenario runs day by day for {days} calendar days (longer when its "
        "redemptions need it)",
        "tools": (
            "Tools in the plan's order: cash, maturities, pledged repo within the leverage cap, "
            "sales at market value last; no subscriptions arrive and nothing is reinvested."
        ),
        "books": "Books",
        "closed": "{n} product(s) have no flows on {as_of} (closed before it) and are not "
        "stress-tested: {ids}",
        "empty": "{n} product(s) have aum 0 on {as_of} (fully redeemed: nothing to shock) and "
        "are not stress-tested: {ids}",
        "source_holdings": "holdings.csv",
        "source_investment_mix": "ladder of investment_mix.csv",
        "source_inferred": "ladder inferred from published yields",
        "source_default": "default ladder",
        "overview": "Scenarios at a glance",
        "scenario": "Scenario",
        "products": "Products",
        "breach_cash": f"Below the {_EN['cash_floor']} floor",
        "breach_liquid": f"Below the {_EN['liquid_floor']} floor",
        "loss": "Realised loss ({unit})",
        "worst_deviation": "Worst deviation",
        "max_leverage": "Highest leverage",
        "unpaid": "Unpaid redemptions ({unit})",
        "skipped": "not run: {reason}",
        "closed_on": "every unit redeemed: closed on day {day}",
        "detail": "By product",
        "product": "Product",
        "book": "Book",
        "share": "Redeemed",
        "days_cash": f"Days to {_EN['cash_floor']} floor",
        "days_liquid": f"Days to {_EN['liquid_floor']} floor",
        "min_cash": "Lowest cash ratio",
        "min_liquid": f"Lowest {_EN['liquid_days']}-day liquidity",
        "repo": "Repo funded ({unit})",
        "sold": "Sold early ({unit})",
        "never": "not breached",
        "reverse": "Reverse stress test",
        "reverse_text": (
            "The smallest share of units redeemed evenly over {days} working days that breaks a "
            "liquidity floor or takes the negative deviation to {limit} (bisection, step {step})"
        ),
        "reverse_share": "Smallest share",
        "reverse_below": "No break at",
        "reverse_breaks": "Breaks first",
        "reverse_none": "no break up to {share}",
        "reverse_zero": "breaks with no redemption",
        "breaks_cash_floor": f"{_EN['cash_floor']} floor",
        "breaks_liquid_floor": f"{_EN['liquid_floor']} floor",
        "breaks_deviation": "negative deviation",
        "checks": "Rules checked on the as-of book",
        "rule": "Rule",
        "value": "Value",
        "limit": "Limit",
        "status": "Result",
        "ok": "ok",
        "breach": "breached",
        "domain_line": "DOMAIN.md line",
        "rule_cash_floor": (
            f"cash, government, central-bank and policy-bank bonds ≥ {_EN['cash_floor']} (no repo)"
        ),
        "rule_liquid_floor": (
            f"including assets maturing within {_EN['liquid_days']} trading days "
            f"≥ {_EN['liquid_floor']}"
        ),
        "rule_wam": f"weighted average maturity ≤ the product's cap, itself ≤ {_EN['wam']} days",
        "rule_wal": f"weighted average life ≤ {_EN['wal']} days",
        "rule_leverage": f"leverage (total / net assets) ≤ {_EN['leverage']}",
        "rule_deviation": "shadow-price deviation",
        "rule_t0_limit": f"T+0 fast redemption ≤ {_EN['t0_limit']} per investor per day",
        "rule_concentration": f"top-10 holders' share (tighter above {_EN['concentration']})",
        "deviation_actions": "Shadow-price deviation: what it asks",
        "action_restore": (
            f"negative ≥ {_EN['deviation_negative']}: bring it back within "
            f"{_EN['restore_days']} trading days"
        ),
        "action_stop_subscriptions": (
            f"positive ≥ {_EN['deviation']}: stop subscriptions, bring it back within "
            f"{_EN['restore_days']} trading days"
        ),
        "action_cover_loss": (
            f"negative ≥ {_EN['deviation']}: cover from the risk reserve or own funds; "
            f"{_EN['fair_value_days']} trading days running: fair value or wind up"
        ),
        "runtime": "took {seconds} s",
        "not_known": "unknown",
        "scenario_redemption_20pct_3d": "20 % redeemed in 3 days",
        "scenario_redemption_30pct_5d": "30 % redeemed in 5 days",
        "scenario_top10_holders_leave": "top-10 holders leave",
        "scenario_rates_up_50bp": "rates +50 bp",
        "scenario_rates_up_100bp": "rates +100 bp",
        "scenario_spreads_up_50bp": "spreads +50 bp",
        "scenario_liquidity_shock": "liquidity shock",
        "scenario_combined": "combined",
        "in_report": "Stress tests (the as-of books, default scenarios)",
        "in_report_text": (
            "Details in the stress.html of rainmaker stress. Reverse stress test: smallest "
            "breaking redemption {share} ({product})"
        ),
        "in_report_zero": "{products} below a floor with no redemption",
        "skipped_no_holders": "no top-10 holders' share (holders.csv) in the data",
    },
}

STYLE = """
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",Arial,sans-serif;margin:24px;
color:#222}
table{border-collapse:collapse;margin:8px 0 20px;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f2f2f2}td.text{text-align:left}
.bad{color:#b00020;font-weight:600}.muted{color:#777}
"""


def missing_stress_keys() -> dict[str, list[str]]:
    """Keys some language lacks, per language (empty lists when complete)."""
    keys = set().union(*(STRESS_TEXTS[lang] for lang in LANGUAGES))
    return {lang: sorted(keys - set(STRESS_TEXTS[lang])) for lang in LANGUAGES}


def _reason(rows: pd.DataFrame, words: Mapping[str, str]) -> str:
    reason = str(rows["skipped"].iloc[0])
    return words["skipped_no_holders"] if reason == NO_HOLDERS else reason


def _pct(value: float, digits: int = 2) -> str:
    return "—" if not math.isfinite(value) else f"{value:.{digits}f}%"


def _cell(value: object, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return f"<td{klass}>{html.escape(str(value))}</td>"


def _row(cells: list[str], header: bool = False) -> str:
    if header:
        return "<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cells) + "</tr>"
    return "<tr>" + "".join(cells) + "</tr>"


def _days(value: float, words: Mapping[str, str]) -> tuple[str, str]:
    return (words["never"], "muted") if not math.isfinite(value) else (f"{value:.0f}", "bad")


def _scenario_label(name: str, words: dict[str, str]) -> str:
    """A default scenario's name in the page's language; another scenario keeps its id."""
    return words.get(f"scenario_{name}", name)


def stress_overview(
    summary: pd.DataFrame, reverse: pd.DataFrame, lang: str = "zh"
) -> dict[str, Any]:
    """The findings at a glance, as plain rows for a template (the daily report's section).

    Returns:
        ``{"unit", "rows": [{"scenario", "label", "products", "breach_cash", "breach_liquid",
        "loss", "worst_deviation", "max_leverage", "unpaid", "skipped", "bad"}], "reverse"}`` with
        amounts in the unit of :func:`rainmaker.app.report.i18n.amount_scale` and ``reverse`` the
        sentence on the smallest breaking redemption.
    """
    w = STRESS_TEXTS[lang]
    ran = summary.loc[summary["skipped"].fillna("") == ""] if len(summary) else summary
    scale, unit = amount_scale(float(ran["aum_start"].max()) if len(ran) else 0.0, lang)
    rows = []
    for name, group in summary.groupby("scenario", sort=False):
        done = group.loc[group["skipped"].fillna("") == ""]
        if done.empty:
            rows.append(
                {
                    "scenario": name,
                    "label": _scenario_label(name, w),
                    "skipped": _reason(group, w),
                    "bad": False,
                }
            )
            continue
        cash = int(done["days_to_cash_floor"].notna().sum())
        liquid = int(done["days_to_liquid_floor"].notna().sum())
        unpaid = float(done["unpaid"].sum())
        leverage = float(done["max_leverage_pct"].max())
        rows.append(
            {
                "scenario": name,
                "label": _scenario_label(name, w),
                "products": len(done),
                "breach_cash": cash,
                "breach_liquid": liquid,
                "loss": f"{done['realised_loss'].sum() / scale:,.2f}",
                "worst_deviation": _pct(float(done["min_deviation_pct"].min()), 3),
                "max_leverage": _pct(leverage, 1),
                "unpaid": f"{unpaid / scale:,.2f}",
                "skipped": "",
                "bad": bool(cash or liquid or unpaid > 0 or leverage > 100 * MAX_LEVERAGE + 1e-9),
            }
        )
    shares = reverse.dropna(subset=["share"]) if len(reverse) else reverse
    parts = []
    if len(shares):
        zero = shares.loc[shares["share"] == 0, "product_id"].astype(str).tolist()
        if zero:
            parts.append(w["in_report_zero"].format(products=", ".join(zero)))
        above = shares.loc[shares["share"] > 0].sort_values(["share", "product_id"])
        if len(above):
            parts.append(
                w["in_report_text"].format(
                    share=_pct(100 * float(above["share"].iloc[0]), 1),
                    product=above["product_id"].iloc[0],
                )
            )
    sentence = "; ".join(parts) if lang == "en" else "；".join(parts)
    return {"unit": unit, "rows": rows, "reverse": sentence}


def render_stress_page(
    summary: pd.DataFrame,
    reverse: pd.DataFrame,
    checks: pd.DataFrame,
    meta: Mapping[str, Any],
    lang: str = "zh",
) -> str:
    """The page as one HTML string.

    Args:
        summary: one row per (product_id, scenario): ``book``, ``redemption_share``,
            ``days_to_cash_floor``, ``days_to_liquid_floor``, ``min_cash_ratio_pct``,
            ``min_liquid_ratio_pct``, ``repo_funded``, ``sold_early``, ``realised_loss``,
            ``unpaid`` (CNY), ``min_deviation_pct``, ``max_leverage_pct``, ``skipped``, and
            ``closed_day`` (when present: the day every unit was redeemed, said beside the
            scenario).
        reverse: one row per product: ``share``, ``no_break_below``, ``breaks``.
        checks: one row per (product_id, rule): ``value``, ``limit``, ``unit``, ``ok``,
            ``domain_line``.
        meta: ``as_of``, ``scenarios_file``, ``horizon_days``, ``reverse`` (``redemption_days``,
            ``step``, ``deviation_limit_pct``), ``descriptions`` (scenario → text), ``seconds``
            and, optionally, ``closed`` (ids of products left out as closed).
        lang: ``zh`` or ``en``.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    w = STRESS_TEXTS[lang]
    ran = summary.loc[summary["skipped"].fillna("") == ""] if len(summary) else summary
    biggest = float(ran["aum_start"].max()) if len(ran) else 0.0
    scale, unit = amount_scale(biggest, lang)
    seconds = f"{float(meta.get('seconds', 0.0)):.1f}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{html.escape(w['title'])}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(w['title'])}</h1>",
        f"<p>{html.escape(w['as_of'])}: {html.escape(str(meta['as_of']))} · "
        f"{html.escape(w['scenarios_file'])}: {html.escape(str(meta['scenarios_file']))} · "
        f"{html.escape(w['runtime'].format(seconds=seconds))}</p>",
        f"<p>{html.escape(w['horizon'].format(days=meta['horizon_days']))}. "
        f"{html.escape(w['tools'])}</p>",
    ]
    books = summary.drop_duplicates("product_id")["book"].value_counts() if len(summary) else {}
    listed = ", ".join(f"{w['source_' + str(k)]}: {int(v)}" for k, v in dict(books).items())
    parts.append(f"<p>{html.escape(w['books'])}: {html.escape(listed)}</p>")
    for key in ("closed", "empty"):  # products left out, and why
        left_out = list(meta.get(key, []))
        if left_out:
            ids = ", ".join(left_out)
            line = w[key].format(n=len(left_out), as_of=meta["as_of"], ids=ids)
            parts.append(f'<p class="bad">{html.escape(line)}</p>')

    # overview: one row per scenario
    parts.append(f'<h2 id="overview">{html.escape(w["overview"])}</h2><table>')
    parts.append(
        _row(
            [
                w["scenario"],
                w["products"],
                w["breach_cash"],
                w["breach_liquid"],
                w["loss"].format(unit=unit),
                w["worst_deviation"],
                w["max_leverage"],
                w["unpaid"].format(unit=unit),
            ],
            header=True,
        )
    )
    descriptions = meta.get("descriptions", {})
    for name, rows in summary.groupby("scenario", sort=False):
        label = _scenario_label(name, w)
        if label == name:  # a scenario of the user's file: its own description says what it is
            label = f"{name} — {descriptions.get(name, '')}".rstrip(" —")
        done = rows.loc[rows["skipped"].fillna("") == ""]
        if done.empty:
            reason = _reason(rows, w)
            parts.append(
                _row(
                    [_cell(label, "text"), _cell(w["skipped"].format(reason=reason), "text muted")]
                    + [_cell("") for _ in range(6)]
                )
            )
            continue
        cash = int(done["days_to_cash_floor"].notna().sum())
        liquid = int(done["days_to_liquid_floor"].notna().sum())
        unpaid = float(done["unpaid"].sum())
        parts.append(
            _row(
                [
                    _cell(label, "text"),
                    _cell(len(done)),
                    _cell(cash, "bad" if cash else ""),
                    _cell(liquid, "bad" if liquid else ""),
                    _cell(f"{done['realised_loss'].sum() / scale:,.2f}"),
                    _cell(_pct(float(done["min_deviation_pct"].min()), 3)),
                    _cell(_pct(float(done["max_leverage_pct"].max()), 1)),
                    _cell(f"{unpaid / scale:,.2f}", "bad" if unpaid > 0 else ""),
                ]
            )
        )
    parts.append("</table>")

    # reverse stress test
    reverse_meta = meta["reverse"]
    parts.append(f'<h2 id="reverse">{html.escape(w["reverse"])}</h2>')
    parts.append(
        "<p>"
        + html.escape(
            w["reverse_text"].format(
                days=reverse_meta["redemption_days"],
                limit=_pct(-float(reverse_meta["deviation_limit_pct"])),
                step=f"{100 * float(reverse_meta['step']):.1f}%",
            )
        )
        + "</p><table>"
    )
    parts.append(
        _row(
            [w["product"], w["book"], w["reverse_share"], w["reverse_below"], w["reverse_breaks"]],
            header=True,
        )
    )
    for r in reverse.itertuples():
        share = float(r.share)
        if not math.isfinite(share):
            answer = w["reverse_none"].format(share=_pct(100 * float(r.no_break_below), 1))
        elif share == 0:
            answer = w["reverse_zero"]
        else:
            answer = _pct(100 * share, 1)
        below = float(r.no_break_below)
        parts.append(
            _row(
                [
                    _cell(r.product_id, "text"),
                    _cell(w["source_" + str(r.book)], "text"),
                    _cell(answer, "bad" if share == 0 else ""),
                    _cell(_pct(100 * below, 1) if math.isfinite(below) else "—"),
                    _cell(w["breaks_" + str(r.breaks)] if r.breaks else "—", "text"),
                ]
            )
        )
    parts.append("</table>")

    # per product
    parts.append(f'<h2 id="detail">{html.escape(w["detail"])}</h2><table>')
    parts.append(
        _row(
            [
                w["product"],
                w["scenario"],
                w["share"],
                w["days_cash"],
                w["days_liquid"],
                w["min_cash"],
                w["min_liquid"],
                w["repo"].format(unit=unit),
                w["sold"].format(unit=unit),
                w["loss"].format(unit=unit),
                w["worst_deviation"],
                w["max_leverage"],
                w["unpaid"].format(unit=unit),
            ],
            header=True,
        )
    )
    for r in ran.itertuples():
        label = _scenario_label(str(r.scenario), w)
        closed_day = float(getattr(r, "closed_day", math.nan))
        if math.isfinite(closed_day):  # every unit redeemed: said, not shown as breaches
            label = f"{label} ({w['closed_on'].format(day=f'{closed_day:.0f}')})"
        days_cash, css_cash = _days(float(r.days_to_cash_floor), w)
        days_liquid, css_liquid = _days(float(r.days_to_liquid_floor), w)
        parts.append(
            _row(
                [
                    _cell(r.product_id, "text"),
                    _cell(label, "text"),
                    _cell(_pct(100 * float(r.redemption_share), 1)),
                    _cell(days_cash, css_cash),
                    _cell(days_liquid, css_liquid),
                    _cell(_pct(float(r.min_cash_ratio_pct))),
                    _cell(_pct(float(r.min_liquid_ratio_pct))),
                    _cell(f"{r.repo_funded / scale:,.2f}"),
                    _cell(f"{r.sold_early / scale:,.2f}"),
                    _cell(f"{r.realised_loss / scale:,.2f}"),
                    _cell(_pct(float(r.min_deviation_pct), 3)),
                    _cell(
                        _pct(float(r.max_leverage_pct), 1),
                        "bad" if r.max_leverage_pct > 100 * MAX_LEVERAGE + 1e-9 else "",
                    ),
                    _cell(f"{r.unpaid / scale:,.2f}", "bad" if r.unpaid > 0 else ""),
                ]
            )
        )
    parts.append("</table>")

    # rules checked
    parts.append(f'<h2 id="checks">{html.escape(w["checks"])}</h2><table>')
    parts.append(
        _row(
            [w["product"], w["rule"], w["value"], w["limit"], w["status"], w["domain_line"]],
            header=True,
        )
    )
    for c in checks.itertuples():
        value = float(c.value)
        if not math.isfinite(value):
            shown = w["not_known"]
        elif c.unit == "pct":
            shown = _pct(value, 3 if c.rule == "deviation" else 2)
        elif c.unit == "share":
            shown = _pct(100 * value, 1)
        else:
            shown = f"{value:,.0f}"
        limit = float(c.limit)
        limit_shown = (
            _pct(limit, 2)
            if c.unit == "pct"
            else (_pct(100 * limit, 0) if c.unit == "share" else f"{limit:,.0f}")
        )
        parts.append(
            _row(
                [
                    _cell(c.product_id, "text"),
                    _cell(w["rule_" + str(c.rule)], "text"),
                    _cell(shown),
                    _cell(limit_shown),
                    _cell(w["ok"] if c.ok else w["breach"], "" if c.ok else "bad"),
                    _cell(c.domain_line),
                ]
            )
        )
    parts.append("</table>")
    parts.append(f'<h2 id="deviation-actions">{html.escape(w["deviation_actions"])}</h2><ul>')
    for action in ("restore", "stop_subscriptions", "cover_loss"):
        parts.append(f"<li>{html.escape(w['action_' + action])}</li>")
    parts.append("</ul></body></html>")
    return "\n".join(parts)


def write_stress_page(result: StressResult, out: str | Path, lang: str = "zh") -> Path:
    """Write ``stress.html``, the stress test as one self-contained page, into ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    page = render_stress_page(
        result.summary, result.reverse, result.checks, stress_meta(result), lang
    )
    path = folder / "stress.html"
    path.write_text(page, encoding="utf-8")
    return path
