"""Words of the daily plan report in Chinese (the default) and English.

Every text the report shows is looked up here by key, so a translation is one dictionary and a
missing key fails a test (:func:`missing_keys`) rather than showing a raw key to a manager.
Messages with numbers are format strings with named fields (``{days}``, ``{product}``...).
Amounts are shown in one unit for the whole report, picked from the size of the portfolio by
:func:`amount_scale` (亿元 / 万元 / 元, or CNY bn / m / k). Regulatory numbers are not written
here but read from :mod:`rainmaker.regulation` (:func:`regulatory_numbers`).
"""

from __future__ import annotations

import math
import re
from typing import Any

# the languages a report is written in are the ones the job's ``lang`` accepts; the config
# module is their one home because the command line loads it without the report
from rainmaker.app.config import LANGUAGES
from rainmaker.regulation import (
    CONCENTRATION_TIERS,
    DEVIATION_ACTION_PCT,
    DEVIATION_FAIR_VALUE_WORKDAYS,
    DEVIATION_NEGATIVE_ACTION_PCT,
    DEVIATION_RESTORE_WORKDAYS,
    LARGE_REDEMPTION_SHARE,
    LIQUID_WORKDAYS,
    MAX_LEVERAGE,
    MAX_T0_REDEMPTION_CNY,
    MAX_WAL_DAYS,
    MAX_WAM_DAYS,
    MIN_CASH_RATIO,
    MIN_LIQUID_RATIO,
)

__all__ = [
    "LANGUAGES",
    "TEXTS",
    "agree",
    "amount_scale",
    "missing_keys",
    "regulatory_numbers",
    "texts",
]


def regulatory_numbers(lang: str) -> dict[str, str]:
    """The numbers of :mod:`rainmaker.regulation` that the words quote, written as ``lang`` writes
    them: percents without trailing zeros (``5%`` in Chinese, ``5 %`` in English), days as whole
    numbers, the T+0 limit in 万元 or CNY. The words of the report and of the stress page read them
    here rather than repeating them, so that a number changed in its one home changes the words.

    Returns:
        ``cash_floor``, ``liquid_floor`` and ``liquid_days`` (the liquidity floors), ``wam``,
        ``wal`` (days), ``leverage`` (total over net assets), ``t0_limit``, ``concentration``
        (the top-10 holders' share above which limits tighten), ``deviation_negative`` and
        ``deviation`` (shadow-price thresholds), ``restore_days``, ``fair_value_days`` and
        ``large_redemption``.
    """
    space = "" if lang == "zh" else " "

    def pct(value: float) -> str:
        return f"{value:g}{space}%"

    t0_limit = (
        f"{MAX_T0_REDEMPTION_CNY / 1e4:g} 万元"
        if lang == "zh"
        else f"{MAX_T0_REDEMPTION_CNY:,.0f} CNY"
    )
    return {
        "cash_floor": pct(100 * MIN_CASH_RATIO),
        "liquid_floor": pct(100 * MIN_LIQUID_RATIO),
        "liquid_days": f"{LIQUID_WORKDAYS}",
        "wam": f"{MAX_WAM_DAYS}",
        "wal": f"{MAX_WAL_DAYS}",
        "leverage": pct(100 * MAX_LEVERAGE),
        "t0_limit": t0_limit,
        "concentration": pct(100 * CONCENTRATION_TIERS[0][0]),
        "deviation_negative": pct(DEVIATION_NEGATIVE_ACTION_PCT),
        "deviation": pct(DEVIATION_ACTION_PCT),
        "restore_days": f"{DEVIATION_RESTORE_WORKDAYS}",
        "fair_value_days": f"{DEVIATION_FAIR_VALUE_WORKDAYS}",
        "large_redemption": pct(100 * LARGE_REDEMPTION_SHARE),
    }


_ZH = regulatory_numbers("zh")
_EN = regulatory_numbers("en")

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
        "total_aum": "期初规模（{date}）",
        "net_flow": "预测净流入（{days} 天，基线曝光、不限额）",
        "band": "{coverage}% 区间",
        "band_approx": "{coverage}% 区间（按产品分位数加总，偏宽）",
        "yield_vs_benchmark": "预计七日年化与基准",
        "yield_text": "规模加权，计划期均值；基准 {benchmark}",
        "end_aum": "期末规模（{date}）",
        "alerts": "预警",
        "no_alerts": "今日无预警。",
        "severity_critical": "严重",
        "severity_warning": "警告",
        "severity_info": "提示",
        "alert_floor_breach": "{product}：{date} 流动性资产占比 {ratio} 低于监管下限 {floor}",
        "alert_floor_close": "{product}：{date} 流动性资产占比 {ratio}，接近监管下限 {floor}",
        "alert_plan_floor_breach": (
            "{product}：{date} 流动性资产占比 {ratio} 低于计划设定的下限 {floor}（监管下限 "
            "{regulatory}）"
        ),
        "alert_plan_floor_close": (
            "{product}：{date} 流动性资产占比 {ratio}，接近计划设定的下限 {floor}（监管下限 "
            "{regulatory}）"
        ),
        "alert_buffer_short": (
            "{product}：计划期 {days} 天中有 {n} 天流动性储备低于要求（{first} 至 {last}）；最低在 "
            "{date}，储备 {buffer}，要求 {requirement}（{ratio}）"
        ),
        "alert_holiday": (
            "{name}假期 {start} 至 {end}（{length} 天）将在 {days} "
            "天后开始：申购通常在节前两个工作日达到高峰，节前最后一个工作日到账的资金假期内无收益"
        ),
        "alert_large_redemption": (
            "{product}：{date} 净赎回有 {tail}% 可能超过 {amount}（规模的 {share}），{level}"
        ),
        "large_redemption_level_critical": (
            f"达到巨额赎回（单日净赎回超 {_ZH['large_redemption']}）"
        ),
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
            f"赎回，计划在杠杆上限（总资产不超过净资产的 {_ZH['leverage']}）内"
            "以质押式回购融入现金；"
            "节假日前一个工作日若当日赎回超过计划的分位数，今晚现金随之增加：不足部分当天下午在"
            "同一上限内融入；若上限内仍不足以支付假期的预期赎回（防御状态下按当日赎回的速度放大），"
            "卖出资产补足（假期内无法兑付比提前卖出更糟）。"
        ),
        "liquidity_held": "今晚现金 + 隔夜",
        "liquidity_near_head": "到下一个工作日的需要",
        "liquidity_later_head": "计划期内最紧的一天",
        "liquidity_state": "状态",
        "liquidity_near": "{level} 至 {date}：{need}",
        "need_basis_quantile": "预测路径的分位数",
        "need_basis_stress": "压力下限（近期日均赎回的倍数）",
        "need_basis_managed_cash": "管理人组合的现金比例",
        "need_basis_worst_days_off": "近一年同样长假期的最大净赎回",
        "need_basis_managed_overnight": "管理人组合的现金与隔夜比例",
        "liquidity_borrowed": "其中质押式回购融入 {amount}，下一个工作日起归还",
        "liquidity_worst_days_off": "假期至少留足近一年同样长假期的最大净赎回 {amount}",
        "liquidity_afternoon": (
            "节前：若今日赎回超过预期的 {expected}，"
            "今晚现金按 {cash} × 今日赎回 ÷ {expected} 留存，"
            "不足部分当天质押式回购融入；超出杠杆上限时，卖出资产至足以支付假期的预期赎回"
        ),
        "liquidity_afternoon_defence": (
            "节前（防御）：今晚现金至少为假期的预期赎回 {days_off}；"
            "若今日赎回超过预期的 {expected}，"
            "按 {cash} 与 {days_off} 中较大者 × 今日赎回 ÷ {expected} 留存（挤兑中假期赎回随"
            "今日的速度），不足部分当天质押式回购融入；超出杠杆上限时，卖出资产至足以支付"
            "假期的预期赎回 × 今日赎回 ÷ {expected}"
        ),
        "liquidity_later": "{date}：需要 {need}，可用 {available}",
        "regime_calm": "平稳",
        "regime_defence": "防御（停买长期资产）",
        "product": "产品",
        "issuer": "管理人",
        "aum": "规模",
        "forecast_band": "期末规模预测",
        "quota_schedule": "申购限额安排",
        "quota_open": "全程不限额",
        "quota_summary": "{capped}/{days} 天限额，最早 {first}",
        "quota_closed": "，其中 {closed} 天暂停申购",
        "buffer_vs_requirement": "流动性储备 / 要求（最低）",
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
        "explanations": "约束的代价与优先级",
        "no_explanations": "本次求解没有给出约束边际代价的说明。",
        "deviation": "影子定价偏离度",
        "deviation_text": (
            "偏离度 =（市值 − 摊余成本）/ 净资产，市值按截止日收益率曲线估值。"
            f"负偏离 ≥ {_ZH['deviation_negative']}：{_ZH['restore_days']} 个交易日内调整；"
            f"正偏离 ≥ {_ZH['deviation']}：暂停申购并调整；"
            f"负偏离 ≥ {_ZH['deviation']}：以风险准备金弥补"
        ),
        "deviation_col": "偏离度",
        "deviation_gap": "市值 − 摊余成本",
        "deviation_action": "处置",
        "deviation_action_none": "无需处置",
        "deviation_action_restore": f"{_ZH['restore_days']} 个交易日内调整回限内",
        "deviation_action_stop_subscriptions": f"暂停申购，{_ZH['restore_days']} 个交易日内调整",
        "deviation_action_cover_loss": "以风险准备金或自有资金弥补",
        "charts": "图表",
        "chart_aum": "组合规模：历史、预测区间与计划",
        "chart_aum_products": "各产品规模扇形图（点击展开）",
        "chart_quota_none": "计划期内所有产品均不限额。",
        "chart_yield": "七日年化：组合（规模加权）、各产品计划与市场基准",
        "chart_quota": "申购限额安排：仅列出有限额的产品与日期（格内为可接受需求占比）",
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
        "chart_each_product": "各产品",
        "timings": "耗时",
        "footer": "金额单位：{unit}；收益率单位：年化百分比；1 基点 = 0.01 个百分点。",
        "variable_subscriptions": "申购",
        "variable_redemptions": "赎回",
        "variable_net_flow": "净流入",
        "variable_aum": "规模",
        "horizon_text": "{first} 至 {last}（{days} 天）",
        "local_time": "{time}（时区 {offset}）",
        "warnings_note": "数据校验提示 {n} 条，见文末详细信息。",
        "today": "今日操作（{date}）",
        "today_text": (
            "计划首日每个产品的申购限额、营销曝光、买入、回购融入与流动性（均为计划值）；金额单位："
            "{unit}。"
        ),
        "today_quota": "申购限额",
        "today_subscriptions": "申购：计划接受 / 预测需求",
        "today_exposure": "营销曝光",
        "today_purchases": "买入",
        "today_borrowing": "回购融入",
        "today_liquid": "今晚现金 + 隔夜",
        "today_buffer": "流动性储备 / 要求",
        "no_purchases": "首日不买入",
        "total": "合计",
        "quota_none": "不限额",
        "quota_closed_today": "暂停申购",
        "exposure_off": "停止营销",
        "exposure_ratio": "基线的 {ratio} 倍",
        "exposure_title": "曝光 {exposure}，基线 {baseline}",
        "bucket_cash": "现金",
        "bucket_repo_1d": "隔夜逆回购",
        "bucket_repo_7d": "7 天逆回购",
        "bucket_ncd_1m": "1 个月同业存单",
        "bucket_ncd_3m": "3 个月同业存单",
        "bucket_ncd_6m": "6 个月同业存单",
        "tag_actual": "实际",
        "tag_plan": "计划",
        "tag_forecast": "预测",
        "tag_plan_vs_forecast": "计划 − 预测",
        "plan_net_flow": "计划净流入（{days} 天）",
        "plan_net_flow_note": "计划接受的申购 − 预计赎回",
        "income_other": "收益及其他",
        "income_other_note": "期末 − 期初 − 计划净流入：净收益及计划的其他变动",
        "end_aum_note": "= 期初规模 + 计划净流入 + 收益及其他",
        "steering": "计划较预测多出的净流入",
        "steering_note": "计划依靠调节需求：营销曝光 {exposure}，限额拒绝 {quotas}，其他 {rest}",
        "coverage_worst": "流动性：最紧的产品",
        "coverage_worst_note": (
            "储备 / 要求的最低值（{date}）；{below}/{days} 天低于要求。组合合计最低 {portfolio}"
            "（首日 {first}），合计会掩盖单个产品的缺口"
        ),
        "bp": "基点",
        "quantile_level": "{level}% 分位",
        "decisions": "需要决策的预警",
        "notices": "其他提示",
        "bridge": "规模变动：期初、计划净流入、收益及其他、期末，及与预测的差异",
        "bridge_start": "期初（实际）",
        "bridge_flow": "计划净流入",
        "bridge_other": "收益及其他",
        "bridge_end": "期末（计划）",
        "bridge_forecast": "预测净流入",
        "bridge_difference": "计划 − 预测",
        "bridge_exposure": "其中营销曝光",
        "bridge_quotas": "其中限额",
        "bridge_rest": "其中其他",
        "status_failed": "求解失败",
        "status_feasible": "可行但未证明最优",
        "status_time_limit": "达到求解时间上限",
        "status_infeasible": "无可行解",
        "constraint_buffer_covers_redemptions": "赎回备付（流动性储备）",
        "constraint_liquidity_floor": "流动性资产下限",
        "constraint_maturity_ladder": "30 天到期资产下限",
        "constraint_cash_floor": "现金类资产下限",
        "constraint_wam_limit": "平均剩余期限上限",
        "constraint_sales_plan": "渠道销售计划",
        "constraint_demand_response": "申购需求",
        "constraint_days_off_cover": "节假日前的现金备付",
        "constraint_cumulative_needs": "累计流动性需求",
        "constraint_cash_balance": "当日现金收支（需提前卖出或回购融资）",
        "constraint_shock_deviation": "利率上行冲击下的偏离度",
        "violation_line": (
            "{product}：{label}未满足，共 {days} 天（自 {first} 起）；最大缺口在 {date}，"
            "{shortfall}（规模的 {share}）"
        ),
        "violation_wam": (
            "{product}：{label}超出，共 {days} 天（自 {first} 起）；最长 {planned} 天，"
            "上限 {cap} 天"
        ),
        "change_buffer_covers_redemptions": "流动性储备增加规模的 1%",
        "change_liquidity_floor": "下限提高规模的 1%",
        "change_maturity_ladder": "下限提高规模的 1%",
        "change_cash_floor": "下限提高规模的 1%",
        "change_wam_limit": "上限降低 1 天",
        "change_days_off_cover": "节假日前现金增加规模的 1%",
        "change_demand_response": "需求增加规模的 1%",
        "change_default": "要求提高规模的 1%",
        "priority_cost": (
            "{product}：{label}在 {horizon} 天中有 {days} 天起作用（自 {first} 起）；{change}"
            "（约 {money}）在这样的一天少 {cost} 基点的年化收益。"
        ),
        "priority_penalty": (
            "{product}：{label}在 {horizon} 天中有 {days} 天起作用（自 {first} 起）。设置把它放在"
            "收益之前：计划为满足它宁可放弃收益，做不到时才承担罚金；这里的边际价格反映的是这一"
            "优先级，不是收益损失（{change}，约 {money}）。"
        ),
        "priority_demand_helps": (
            "{product}：{horizon} 天中有 {days} 天更多申购有利；需求增加规模的 1%（约 {money}）"
            "在这样的一天多 {cost} 基点的年化收益。"
        ),
        "priority_demand_dilutes": (
            "{product}：{horizon} 天中有 {days} 天更多申购会摊薄收益；需求增加规模的 1%"
            "（约 {money}）在这样的一天少 {cost} 基点的年化收益。"
        ),
        "priority_sales": (
            "渠道 {product}：{label}起作用（自 {first} 起）；要求提高 1% 在其产品上平均每天少 "
            "{cost} 基点的年化收益。"
        ),
        "explanations_text": (
            "收益以年化基点计，针对规模的 1%（金额按本报告单位）。由罚金决定的价格只表示设置中的"
            "优先级。"
        ),
        "details": "详细信息：运行、模型与数据",
        "software": "软件版本",
        "optimiser_text": "优化器原文说明",
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
        "total_aum": "AUM at the start ({date})",
        "net_flow": "Forecast net flow ({days} days, baseline exposure, no cap)",
        "band": "{coverage}% band",
        "band_approx": "{coverage}% band (sum of product quantiles, wider than exact)",
        "yield_vs_benchmark": "Expected 7-day yield vs benchmark",
        "yield_text": "AUM-weighted, mean over the plan; benchmark {benchmark}",
        "end_aum": "AUM at the end ({date})",
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
        "alert_plan_floor_breach": (
            "{product}: liquid assets on {date} are {ratio} of AUM, below the plan's own floor "
            "of {floor} (the regulatory minimum is {regulatory})"
        ),
        "alert_plan_floor_close": (
            "{product}: liquid assets on {date} are {ratio} of AUM, close to the plan's own "
            "floor of {floor} (the regulatory minimum is {regulatory})"
        ),
        "alert_buffer_short": (
            "{product}: the liquidity buffer is below the requirement on {n} of {days} days "
            "({first} to {last}); lowest on {date}: {buffer} against {requirement} ({ratio})"
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
        "large_redemption_level_critical": (
            f"a large redemption (over {_EN['large_redemption']} in one day)"
        ),
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
            "by pledged repo within the leverage cap (total assets at most "
            f"{_EN['leverage']} of net assets). "
            "On the last working day before days off, if the day's redemptions pass the plan's "
            "expectation, tonight's cash grows with them: borrow what is missing that afternoon "
            "within the cap, and sell for what the cap leaves short of the days off's expected "
            "redemptions, scaled like tonight's cash in defence (holders unpaid over days off "
            "are worse than a sale)."
        ),
        "liquidity_held": "Cash + overnight tonight",
        "liquidity_near_head": "Needed through the next working day",
        "liquidity_later_head": "Tightest day of the plan",
        "liquidity_state": "State",
        "liquidity_near": "{level} through {date}: {need}",
        "need_basis_quantile": "the forecast's quantile",
        "need_basis_stress": "stress floor (a multiple of recent mean daily redemptions)",
        "need_basis_managed_cash": "the managed book's cash share",
        "need_basis_worst_days_off": "the worst such days off of the last year",
        "need_basis_managed_overnight": "the managed book's cash and overnight share",
        "liquidity_borrowed": (
            "of which {amount} borrowed by pledged repo, repaid from the next working day"
        ),
        "liquidity_worst_days_off": (
            "for the days off at least what the worst such days of the last year took, net: "
            "{amount}"
        ),
        "liquidity_afternoon": (
            "before the days off: if today's redemptions pass the expected {expected}, keep "
            "{cash} × today's ÷ {expected} tonight: borrow what is missing by pledged repo this "
            "afternoon; beyond the leverage cap, sell up to what the days off are expected to ask"
        ),
        "liquidity_afternoon_defence": (
            "before the days off (defence): keep at least what they are expected to ask, "
            "{days_off}, tonight, and if today's redemptions pass the expected {expected}, the "
            "larger of {cash} and {days_off} × today's ÷ {expected} (in a run the days off "
            "follow the day's pace): borrow what is missing by pledged repo this afternoon; "
            "beyond the leverage cap, sell up to what the days off are expected to ask × "
            "today's ÷ {expected}"
        ),
        "liquidity_later": "{date}: needs {need}, has {available}",
        "regime_calm": "calm",
        "regime_defence": "defence (no long purchases)",
        "product": "Product",
        "issuer": "Issuer",
        "aum": "AUM",
        "forecast_band": "AUM at the end, forecast",
        "quota_schedule": "Quota schedule",
        "quota_open": "open, no cap",
        "quota_summary": "capped {capped} of {days} days, first {first}",
        "quota_closed": "; closed on {closed} of them",
        "buffer_vs_requirement": "Buffer / requirement (lowest)",
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
        "explanations": "What the constraints cost, and what the settings put first",
        "no_explanations": "The solver gave no explanation of the constraints' marginal cost.",
        "deviation": "Shadow-price deviation",
        "deviation_text": (
            "Deviation = (market value − amortised cost) / net assets, lots marked to the as-of "
            f"day's curve. Negative ≥ {_EN['deviation_negative']}: bring it back within "
            f"{_EN['restore_days']} trading days; positive ≥ {_EN['deviation']}: stop "
            f"subscriptions and bring it back; negative ≥ {_EN['deviation']}: cover from the "
            "risk reserve"
        ),
        "deviation_col": "Deviation",
        "deviation_gap": "Market value − amortised cost",
        "deviation_action": "Action",
        "deviation_action_none": "none needed",
        "deviation_action_restore": f"bring back within {_EN['restore_days']} trading days",
        "deviation_action_stop_subscriptions": (
            f"stop subscriptions, bring back within {_EN['restore_days']} days"
        ),
        "deviation_action_cover_loss": "cover from the risk reserve or own funds",
        "charts": "Charts",
        "chart_aum": "Portfolio AUM: history, forecast bands and the plan",
        "chart_aum_products": "AUM fan chart of each product (click to expand)",
        "chart_quota_none": "No subscriptions are capped over the plan.",
        "chart_yield": (
            "7-day yield: portfolio (AUM-weighted), each product's plan and the benchmark"
        ),
        "chart_quota": (
            "Quota schedule: capped products and days only (cells: share of forecast demand let in)"
        ),
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
        "chart_each_product": "each product",
        "timings": "Timings",
        "footer": "Amounts in {unit}; yields in percent per annum; 1 bp = 0.01 percentage point.",
        "variable_subscriptions": "subscriptions",
        "variable_redemptions": "redemptions",
        "variable_net_flow": "net flow",
        "variable_aum": "AUM",
        "horizon_text": "{first} to {last} ({days} days)",
        "local_time": "{time} (UTC{offset})",
        "warnings_note": "{n} validation warnings: see the details at the end.",
        "today": "Today's actions ({date})",
        "today_text": (
            "What the plan does on its first day, per product: subscription quota, marketing "
            "exposure, purchases, repo borrowing and liquidity (all plan figures); amounts in "
            "{unit}."
        ),
        "today_quota": "Quota",
        "today_subscriptions": "Subscriptions: plan accepts / forecast demand",
        "today_exposure": "Marketing exposure",
        "today_purchases": "Purchases",
        "today_borrowing": "Repo borrowing",
        "today_liquid": "Cash + overnight tonight",
        "today_buffer": "Buffer / requirement",
        "no_purchases": "no purchases on day one",
        "total": "Total",
        "quota_none": "no cap",
        "quota_closed_today": "closed",
        "exposure_off": "no marketing",
        "exposure_ratio": "{ratio}× baseline",
        "exposure_title": "exposure {exposure}, baseline {baseline}",
        "bucket_cash": "cash",
        "bucket_repo_1d": "overnight repo",
        "bucket_repo_7d": "7-day repo",
        "bucket_ncd_1m": "1-month NCDs",
        "bucket_ncd_3m": "3-month NCDs",
        "bucket_ncd_6m": "6-month NCDs",
        "tag_actual": "actual",
        "tag_plan": "plan",
        "tag_forecast": "forecast",
        "tag_plan_vs_forecast": "plan − forecast",
        "plan_net_flow": "Planned net flow ({days} days)",
        "plan_net_flow_note": "subscriptions the plan accepts − expected redemptions",
        "income_other": "Income and other",
        "income_other_note": (
            "end − start − planned net flow: net income and the plan's other moves"
        ),
        "end_aum_note": "= AUM at the start + planned net flow + income and other",
        "steering": "Net flow the plan adds to the forecast",
        "steering_note": (
            "what the plan counts on steering: exposure {exposure}, refused by quotas {quotas}, "
            "other {rest}"
        ),
        "coverage_worst": "Liquidity: tightest product",
        "coverage_worst_note": (
            "lowest buffer / requirement ({date}); below the requirement on {below} of {days} "
            "days. Portfolio total at its lowest {portfolio} (day one {first}); a total hides "
            "a product's shortfall"
        ),
        "bp": "bp",
        "quantile_level": "p{level}",
        "decisions": "Alerts that need a decision",
        "notices": "Notices",
        "bridge": "AUM: start, planned net flow, income and other, end, and the forecast",
        "bridge_start": "Start (actual)",
        "bridge_flow": "Planned net flow",
        "bridge_other": "Income and other",
        "bridge_end": "End (plan)",
        "bridge_forecast": "Forecast net flow",
        "bridge_difference": "Plan − forecast",
        "bridge_exposure": "of which exposure",
        "bridge_quotas": "of which quotas",
        "bridge_rest": "of which other",
        "status_failed": "failed",
        "status_feasible": "feasible, not proven optimal",
        "status_time_limit": "time limit reached",
        "status_infeasible": "infeasible",
        "constraint_buffer_covers_redemptions": "the redemption buffer",
        "constraint_liquidity_floor": "the liquid-asset floor",
        "constraint_maturity_ladder": "the 30-day maturity floor",
        "constraint_cash_floor": "the cash floor",
        "constraint_wam_limit": "the WAM cap",
        "constraint_sales_plan": "the sales plan",
        "constraint_demand_response": "demand",
        "constraint_days_off_cover": "the cash before days off",
        "constraint_cumulative_needs": "the cumulative liquidity needs",
        "constraint_cash_balance": "the day's cash balance (early sales or repo needed)",
        "constraint_shock_deviation": "the deviation under a rate shock",
        "violation_line": (
            "{product}: {label} not met on {days} days (from {first}); largest shortfall on "
            "{date}, {shortfall} ({share} of AUM)"
        ),
        "violation_wam": (
            "{product}: {label} exceeded on {days} days (from {first}); up to {planned} days "
            "against a cap of {cap}"
        ),
        "change_buffer_covers_redemptions": "1 % of AUM more buffer",
        "change_liquidity_floor": "the floor 1 % of AUM higher",
        "change_maturity_ladder": "the floor 1 % of AUM higher",
        "change_cash_floor": "the floor 1 % of AUM higher",
        "change_wam_limit": "the cap 1 day lower",
        "change_days_off_cover": "1 % of AUM more cash before the days off",
        "change_demand_response": "1 % of AUM more demand",
        "change_default": "the requirement 1 % of AUM higher",
        "priority_cost": (
            "{product}: {label} binds on {days} of {horizon} days (from {first}); {change} "
            "(about {money}) costs {cost} bp of annual yield on such a day."
        ),
        "priority_penalty": (
            "{product}: {label} binds on {days} of {horizon} days (from {first}). The settings "
            "put it before yield: the plan gives up yield to meet it and pays a penalty only "
            "where it cannot, so its price here is that priority, not a cost in yield ({change}, "
            "about {money})."
        ),
        "priority_demand_helps": (
            "{product}: more subscriptions help on {days} of {horizon} days; 1 % of AUM more "
            "demand (about {money}) adds {cost} bp of annual yield on such a day."
        ),
        "priority_demand_dilutes": (
            "{product}: more subscriptions dilute the yield on {days} of {horizon} days; 1 % of "
            "AUM more demand (about {money}) costs {cost} bp of annual yield on such a day."
        ),
        "priority_sales": (
            "Channel {product}: {label} binds (from {first}); a requirement 1 % higher costs its "
            "products {cost} bp of annual yield a day on average."
        ),
        "explanations_text": (
            "Yield in bp per annum, for 1 % of AUM (amounts in the report's unit). A price set "
            "by a penalty only shows what the settings put first."
        ),
        "details": "Details: run, model and data",
        "software": "Software version",
        "optimiser_text": "The optimiser's own sentences",
        "not_available": "—",
        "unit_1": "CNY",
        "unit_1e4": "CNY 10k",
        "unit_1e8": "CNY 100m",
    },
}


# "1 days" -> "1 day": a count of one before a plural noun (not 11, 2.1 or 1,001)
_ONE_PLURAL = re.compile(r"(?<![\d.,])1 (day|product|forecast|origin|holder)s\b")


def agree(text: str) -> str:
    """English number agreement of a formatted message: ``on 1 days`` becomes ``on 1 day``."""
    return _ONE_PLURAL.sub(r"1 \1", text)


class _English(str):
    """An English message whose :meth:`format` agrees the nouns with their counts."""

    __slots__ = ()

    def format(self, *args: Any, **kwargs: Any) -> str:
        return agree(super().format(*args, **kwargs))


# every English message formats with agreement, wherever it is used (report, workbook)
TEXTS["en"] = {key: _English(value) for key, value in TEXTS["en"].items()}


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
