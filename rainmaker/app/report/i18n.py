"""Words of the daily plan report in Chinese (the default) and English.

Every text the report shows is looked up here by key, so a translation is one dictionary and a
missing key fails a test (:func:`missing_keys`) rather than showing a raw key to a manager.
Messages with numbers are format strings with named fields (``{days}``, ``{product}``...).
Amounts are shown in one unit for the whole report, picked from the size of the portfolio by
:func:`amount_scale` (亿元 / 万元 / 元, or CNY bn / m / k).
"""

from __future__ import annotations

import math

__all__ = ["LANGUAGES", "TEXTS", "amount_scale", "missing_keys", "texts"]

LANGUAGES = ("zh", "en")

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "现金管理类理财 每日计划报告",
        "as_of": "数据截止日",
        "horizon": "计划区间",
        "freshness": "数据新鲜度",
        "freshness_text": (
            "流量数据至 {flows_last}，市场数据至 {market_last}；报告生成于 {generated}（数据滞后 "
            "{age} 天）"
        ),
        "market_stale": "市场数据比截止日早 {days} 天，已沿用最近一次公布值",
        "run_id": "运行编号",
        "revision": "版本",
        "model": "预测模型",
        "solver": "求解状态",
        "objective": "目标函数值",
        "fingerprint": "数据指纹",
        "products_count": "产品数",
        "warnings": "数据校验提示",
        "no_warnings": "数据校验无提示。",
        "summary": "组合概览",
        "total_aum": "总规模（{date}）",
        "net_flow": "预计净流入（未来 {days} 天）",
        "band": "{coverage}% 区间",
        "band_approx": "{coverage}% 区间（按产品分位数加总，偏宽）",
        "coverage": "流动性覆盖率",
        "coverage_text": "流动性储备 / 要求，计划期内最低值（首日 {first}）",
        "yield_vs_benchmark": "预计七日年化 vs 基准",
        "yield_text": "规模加权，计划期均值；基准 {benchmark}",
        "end_aum": "期末预计规模",
        "alerts": "预警",
        "no_alerts": "今日无预警。",
        "severity_critical": "严重",
        "severity_warning": "警告",
        "severity_info": "提示",
        "alert_floor_breach": "{product}：{date} 流动性资产占比 {ratio} 低于监管下限 {floor}",
        "alert_floor_close": "{product}：{date} 流动性资产占比 {ratio}，接近监管下限 {floor}",
        "alert_buffer_short": "{product}：{date} 流动性储备 {buffer} 低于要求 {requirement}",
        "alert_holiday": (
            "{name}假期 {start} 至 {end}（{length} 天）将在 {days} "
            "天后开始：申购通常在节前两个工作日达到高峰，节前最后一个工作日到账的资金假期内无收益"
        ),
        "alert_large_redemption": (
            "{product}：{date} 净赎回有 {tail}% 可能超过 {amount}（规模的 {share}），{level}"
        ),
        "large_redemption_level_critical": "达到巨额赎回（单日净赎回超 10%）",
        "large_redemption_level_warning": "接近巨额赎回线",
        "alert_drift_coverage": (
            "{product} {variable}：近 {days} 天 {n} 个预测中仅 {coverage} 落在 80% 区间内（应约 "
            "80%），预测可能过于自信"
        ),
        "alert_drift_error": (
            "{product} {variable}：近 {days} 天预测误差 {wape} 高于此前的 "
            "{previous}，预测精度在下降"
        ),
        "alert_solver": "求解状态为 {status}：本计划未被证明为最优，请人工复核",
        "alert_violation": "约束未满足：{text}",
        "accuracy_none": "尚无可与实际结果比对的历史预测（首次运行或历史库为空）。",
        "accuracy": "预测精度监控",
        "accuracy_text": "过去 {days} 天的历史预测与实际结果比对（每日取最新版本）：",
        "accuracy_variable": "变量",
        "accuracy_points": "已实现预测数",
        "accuracy_wape": "加权绝对百分比误差",
        "accuracy_bias": "偏差（正 = 预测偏低）",
        "accuracy_coverage": "落入 80% 区间占比",
        "products": "分产品计划",
        "liquidity": "今晚的流动性：计划留足多少、为什么",
        "liquidity_text": (
            "今晚留存的现金与隔夜逆回购，用于支付到下一个工作日为止可能发生的净赎回"
            "（高分位数，且不低于近期日均赎回的一定倍数），并与计划期内每天累计可能的"
            "净赎回对照。防御状态：赎回持续异常、同业同时出现赎回潮或短端利率骤升时，"
            "计划停止买入一个月以上的资产并提高流动性下限。节假日前若到期资产不足以支付假期"
            "赎回，计划在杠杆上限（总资产不超过净资产的 120%）内以质押式回购融入现金。"
        ),
        "liquidity_held": "今晚现金 + 隔夜",
        "liquidity_near_head": "到下一个工作日的需要",
        "liquidity_later_head": "计划期内最紧的一天",
        "liquidity_state": "状态",
        "liquidity_near": "{level} 至 {date}：{need}",
        "liquidity_borrowed": "其中质押式回购融入 {amount}，下一个工作日起归还",
        "liquidity_later": "{date}：需要 {need}，可用 {available}",
        "regime_calm": "平稳",
        "regime_defence": "防御（停买长期资产）",
        "product": "产品",
        "issuer": "管理人",
        "aum": "规模",
        "forecast_band": "期末规模预测",
        "net_flow_short": "净流入合计",
        "quota_schedule": "申购限额安排",
        "quota_open": "全程不限额",
        "quota_summary": "{capped}/{days} 天限额，最早 {first}",
        "quota_closed": "，其中 {closed} 天暂停申购",
        "end_aum_plan": "期末计划规模",
        "buffer_vs_requirement": "流动性储备 / 要求",
        "expected_yield": "预计七日年化",
        "spread": "较基准",
        "daily_plan": "逐日计划",
        "date": "日期",
        "quota": "申购限额",
        "uncapped": "不限",
        "expected_subscriptions": "预计申购",
        "expected_redemptions": "预计赎回",
        "liquidity_buffer": "流动性储备",
        "requirement": "储备要求",
        "expected_aum": "预计规模",
        "explanations": "约束的边际代价（哪些约束在消耗收益；LP 对偶值，并非影子定价）",
        "no_explanations": "本次求解没有给出约束边际代价的说明。",
        "deviation": "影子定价偏离度",
        "deviation_text": (
            "偏离度 =（市值 − 摊余成本）/ 净资产，市值按截止日收益率曲线估值。负偏离 ≥ 0.25%："
            "5 个交易日内调整；正偏离 ≥ 0.5%：暂停申购并调整；负偏离 ≥ 0.5%：以风险准备金弥补"
        ),
        "deviation_col": "偏离度",
        "deviation_gap": "市值 − 摊余成本",
        "deviation_action": "处置",
        "deviation_action_none": "无需处置",
        "deviation_action_restore": "5 个交易日内调整回限内",
        "deviation_action_stop_subscriptions": "暂停申购，5 个交易日内调整",
        "deviation_action_cover_loss": "以风险准备金或自有资金弥补",
        "charts": "图表",
        "chart_aum": "规模扇形图：历史与预测区间",
        "chart_yield": "七日年化与市场基准",
        "chart_quota": "申购限额安排（格内为可接受需求占比）",
        "chart_history": "历史",
        "chart_median": "中位数",
        "chart_inner": "{coverage}% 区间",
        "chart_outer": "{coverage}% 区间",
        "chart_plan": "计划",
        "chart_benchmark": "基准",
        "chart_yield_axis": "七日年化（%）",
        "chart_portfolio": "组合合计",
        "chart_open": "不限额",
        "chart_closed": "暂停",
        "chart_admitted": "接受需求",
        "timings": "耗时",
        "footer": (
            "rainmaker {version} 生成；金额单位：{unit}；收益率单位：年化百分比；bp = 0.01 "
            "个百分点。"
        ),
        "variable_subscriptions": "申购",
        "variable_redemptions": "赎回",
        "variable_net_flow": "净流入",
        "variable_aum": "规模",
        "not_available": "—",
        "unit_1": "元",
        "unit_1e4": "万元",
        "unit_1e8": "亿元",
    },
    "en": {
        "title": "Cash-management products: daily plan report",
        "as_of": "As-of day",
        "horizon": "Plan horizon",
        "freshness": "Data freshness",
        "freshness_text": (
            "flows up to {flows_last}, market up to {market_last}; report generated "
            "{generated} (data {age} days old)"
        ),
        "market_stale": (
            "market data end {days} days before the as-of day; the latest publication is "
            "carried forward"
        ),
        "run_id": "Run id",
        "revision": "Revision",
        "model": "Forecast model",
        "solver": "Solver status",
        "objective": "Objective",
        "fingerprint": "Data fingerprint",
        "products_count": "Products",
        "warnings": "Validation warnings",
        "no_warnings": "No validation warnings.",
        "summary": "Portfolio summary",
        "total_aum": "Total AUM ({date})",
        "net_flow": "Expected net flow (next {days} days)",
        "band": "{coverage}% band",
        "band_approx": "{coverage}% band (sum of product quantiles, wider than exact)",
        "coverage": "Liquidity coverage",
        "coverage_text": "liquidity buffer / requirement, lowest over the plan (day one {first})",
        "yield_vs_benchmark": "Expected 7-day yield vs benchmark",
        "yield_text": "AUM-weighted, mean over the plan; benchmark {benchmark}",
        "end_aum": "Expected AUM at the end",
        "alerts": "Alerts",
        "no_alerts": "No alerts today.",
        "severity_critical": "critical",
        "severity_warning": "warning",
        "severity_info": "info",
        "alert_floor_breach": (
            "{product}: liquid assets on {date} are {ratio} of AUM, below the regulatory "
            "floor of {floor}"
        ),
        "alert_floor_close": (
            "{product}: liquid assets on {date} are {ratio} of AUM, close to the "
            "regulatory floor of {floor}"
        ),
        "alert_buffer_short": (
            "{product}: liquidity buffer on {date} is {buffer}, below the requirement of "
            "{requirement}"
        ),
        "alert_holiday": (
            "{name} holiday {start} to {end} ({length} days) starts in {days} days: "
            "subscriptions peak about two business days before, and money arriving on the "
            "last business day earns nothing over the holiday"
        ),
        "alert_large_redemption": (
            "{product}: a {tail}% chance that net redemptions on {date} exceed {amount} "
            "({share} of AUM); {level}"
        ),
        "large_redemption_level_critical": "a large redemption (over 10 % in one day)",
        "large_redemption_level_warning": "close to the large-redemption line",
        "alert_drift_coverage": (
            "{product} {variable}: only {coverage} of {n} forecasts of the last {days} "
            "days fell inside the 80% band (about 80% expected): the forecast may be "
            "over-confident"
        ),
        "alert_drift_error": (
            "{product} {variable}: forecast error of the last {days} days is {wape}, up "
            "from {previous}: accuracy is drifting"
        ),
        "alert_solver": (
            "solver status is {status}: this plan is not proven optimal, review it by hand"
        ),
        "alert_violation": "constraint not met: {text}",
        "accuracy_none": (
            "No past forecast can be compared with outcomes yet (first run or empty history)."
        ),
        "accuracy": "Forecast accuracy monitoring",
        "accuracy_text": (
            "Past forecasts of the last {days} days against what happened (latest revision "
            "of each day):"
        ),
        "accuracy_variable": "Variable",
        "accuracy_points": "Realised forecasts",
        "accuracy_wape": "WAPE",
        "accuracy_bias": "Bias (+ = forecast low)",
        "accuracy_coverage": "Inside 80% band",
        "products": "Plan by product",
        "liquidity": "Tonight's liquidity: what the plan keeps and why",
        "liquidity_text": (
            "Cash and overnight repo kept tonight pay what may leave through the next working "
            "day (a high quantile, and at least a multiple of the recent mean daily redemptions), "
            "and are set against what may leave, cumulated, on every day of the "
            "plan. Defence: when redemptions stay abnormal, peers see a wave or short rates jump, "
            "the plan buys nothing longer than a month and raises its liquidity floors. Before "
            "days off whose redemptions the maturing book cannot pay, the plan borrows the cash "
            "by pledged repo within the leverage cap (total assets at most 120 % of net assets)."
        ),
        "liquidity_held": "Cash + overnight tonight",
        "liquidity_near_head": "Needed through the next working day",
        "liquidity_later_head": "Tightest day of the plan",
        "liquidity_state": "State",
        "liquidity_near": "{level} through {date}: {need}",
        "liquidity_borrowed": (
            "of which {amount} borrowed by pledged repo, repaid from the next working day"
        ),
        "liquidity_later": "{date}: needs {need}, has {available}",
        "regime_calm": "calm",
        "regime_defence": "defence (no long purchases)",
        "product": "Product",
        "issuer": "Issuer",
        "aum": "AUM",
        "forecast_band": "AUM at the end, forecast",
        "net_flow_short": "Net flow, total",
        "quota_schedule": "Quota schedule",
        "quota_open": "open, no cap",
        "quota_summary": "capped {capped} of {days} days, first {first}",
        "quota_closed": "; closed on {closed} of them",
        "end_aum_plan": "Plan AUM at the end",
        "buffer_vs_requirement": "Buffer / requirement",
        "expected_yield": "Expected 7-day yield",
        "spread": "vs benchmark",
        "daily_plan": "Daily plan",
        "date": "Date",
        "quota": "Quota",
        "uncapped": "none",
        "expected_subscriptions": "Exp. subscriptions",
        "expected_redemptions": "Exp. redemptions",
        "liquidity_buffer": "Liquidity buffer",
        "requirement": "Requirement",
        "expected_aum": "Expected AUM",
        "explanations": "Marginal cost of constraints: which cost yield (LP duals)",
        "no_explanations": "The solver gave no explanation of the constraints' marginal cost.",
        "deviation": "Shadow-price deviation",
        "deviation_text": (
            "Deviation = (market value − amortised cost) / net assets, lots marked to the as-of "
            "day's curve. Negative ≥ 0.25 %: bring it back within 5 trading days; positive "
            "≥ 0.5 %: stop subscriptions and bring it back; negative ≥ 0.5 %: cover from the "
            "risk reserve"
        ),
        "deviation_col": "Deviation",
        "deviation_gap": "Market value − amortised cost",
        "deviation_action": "Action",
        "deviation_action_none": "none needed",
        "deviation_action_restore": "bring back within 5 trading days",
        "deviation_action_stop_subscriptions": "stop subscriptions, bring back within 5 days",
        "deviation_action_cover_loss": "cover from the risk reserve or own funds",
        "charts": "Charts",
        "chart_aum": "AUM fan chart: history and forecast bands",
        "chart_yield": "7-day yield against the market benchmark",
        "chart_quota": "Quota schedule (cells: share of forecast demand let in)",
        "chart_history": "history",
        "chart_median": "median",
        "chart_inner": "{coverage}% band",
        "chart_outer": "{coverage}% band",
        "chart_plan": "plan",
        "chart_benchmark": "benchmark",
        "chart_yield_axis": "7-day yield (%)",
        "chart_portfolio": "portfolio",
        "chart_open": "open",
        "chart_closed": "closed",
        "chart_admitted": "demand let in",
        "timings": "Timings",
        "footer": (
            "Generated by rainmaker {version}; amounts in {unit}; yields in percent per "
            "annum; 1 bp = 0.01 percentage point."
        ),
        "variable_subscriptions": "subscriptions",
        "variable_redemptions": "redemptions",
        "variable_net_flow": "net flow",
        "variable_aum": "AUM",
        "not_available": "—",
        "unit_1": "CNY",
        "unit_1e4": "CNY 10k",
        "unit_1e8": "CNY 100m",
    },
}


def texts(lang: str) -> dict[str, str]:
    """The report's words in ``lang`` (``zh`` or ``en``).

    Raises:
        ValueError: unknown language.
    """
    if lang not in TEXTS:
        raise ValueError(
            f"unknown report language {lang!r}; expected one of {', '.join(LANGUAGES)}"
        )
    return TEXTS[lang]


def missing_keys() -> dict[str, set[str]]:
    """Keys some language lacks that another has, by language (empty when complete)."""
    every = set().union(*(set(t) for t in TEXTS.values()))
    return {lang: every - set(t) for lang, t in TEXTS.items() if every - set(t)}


def amount_scale(total: float, lang: str) -> tuple[float, str]:
    """The unit amounts are shown in: 1e8 (亿元), 1e4 (万元) or 1, from the portfolio's size.

    Chinese readers count in 万 and 亿, so the English text names the same steps (CNY 100m,
    CNY 10k) to keep both versions' figures identical.

    Args:
        total: the largest amount the report shows, e.g. total AUM (CNY).
        lang: report language.

    Returns:
        (divisor, unit text).
    """
    words = texts(lang)
    size = abs(total) if math.isfinite(total) else 0.0
    if size >= 1e9:
        return 1e8, words["unit_1e8"]
    if size >= 1e5:
        return 1e4, words["unit_1e4"]
    return 1.0, words["unit_1"]
