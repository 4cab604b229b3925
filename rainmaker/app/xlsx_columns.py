"""What every column of ``plan.xlsx`` is called, what unit it is shown in and what it means.

The one home of the workbook's column labels and definitions, in Chinese and English: the
workbook's headers and its ``说明 / Notes`` sheet are both read from :data:`COLUMNS`, so a header
and its definition cannot drift apart. Words the report also shows (产品, 日期, 申购限额...) are
taken from the report's dictionary (:mod:`rainmaker.app.report.i18n`) by key, so that the two
outputs name a figure the same way.

Each column has a *kind* (:data:`KINDS`): how its plan.csv value becomes a cell (amounts divided
into the workbook's unit, percents into Excel fractions, flags into 是/否) and the number format
and unit text the cell is shown with.
"""

from __future__ import annotations

from dataclasses import dataclass

from rainmaker.app.report.i18n import texts
from rainmaker.contracts import PURCHASE_PREFIX as _PURCHASE
from rainmaker.quantiles import quantile_level

__all__ = [
    "COLUMNS",
    "KINDS",
    "SHEETS",
    "Column",
    "bucket_of",
    "column",
    "header",
    "number_format",
    "sheet_words",
    "unit_text",
]

# Kinds of column: how the value is stored and shown.
#   text      text as given (never a formula)
#   date      an Excel date, yyyy-mm-dd
#   amount    CNY divided into the workbook's unit (亿元 / 万元 / 元), thousands separators
#   percent   percent in plan.csv (2.1 = 2.1 %), stored as the fraction 0.021, shown 2.10 %
#   share     a fraction in plan.csv (0.95), shown 95.0 %
#   multiple  a ratio shown as 1.25×
#   level     a whole number with thousands separators (marketing exposure: views or slots)
#   number    a number with thousands separators and two decimals (a column no entry knows)
#   days      days
#   count     a whole number
#   flag      true/false shown as 是/否 (yes/no)
#   per10k    CNY per 10,000 units (万份收益)
#   basis     a code of what sets the liquidity need, shown in the report's words
#             (``need_basis_<code>`` of rainmaker.app.report.i18n)
KINDS: tuple[str, ...] = ("text", "date", "amount", "percent", "share", "multiple", "level")
KINDS += ("number", "days", "count", "flag", "per10k", "basis")

# Excel number formats of the kinds whose format does not depend on the amount unit.
NUMBER_FORMATS = {
    "date": "yyyy-mm-dd",
    "percent": "0.00%",
    "share": "0.0%",
    "level": "#,##0",
    "number": "#,##0.00",
    "days": "#,##0.0",
    "count": "#,##0",
    "per10k": "0.0000",
}
# Amounts: two decimals in 亿元 and 万元 (CNY 1m and CNY 100 resolution), whole CNY otherwise.
AMOUNT_FORMATS = {1e8: "#,##0.00", 1e4: "#,##0.00", 1.0: "#,##0"}
MULTIPLE_FORMATS = {"zh": '0.00"倍"', "en": '0.00"×"'}

UNITS = {
    "zh": {"percent": "%", "share": "%", "multiple": "倍", "days": "天", "per10k": "元/万份"},
    "en": {
        "percent": "%",
        "share": "%",
        "multiple": "×",
        "days": "days",
        "per10k": "CNY per 10k units",
    },
}
FLAGS = {"zh": ("是", "否"), "en": ("yes", "no")}


@dataclass(frozen=True)
class Column:
    """One column of the workbook.

    Attributes:
        key: the plan.csv / forecast.csv column it shows, or the name of a derived figure.
        kind: one of :data:`KINDS`.
        zh: header in Chinese; ``@key`` takes the report's word for ``key``.
        en: header in English; ``@key`` as for ``zh``.
        zh_note: definition in Chinese (the Notes sheet).
        en_note: definition in English.
    """

    key: str
    kind: str
    zh: str
    en: str
    zh_note: str
    en_note: str

    def label(self, lang: str) -> str:
        """The header text in ``lang`` (without the unit)."""
        text = self.zh if lang == "zh" else self.en
        return texts(lang)[text[1:]] if text.startswith("@") else text

    def note(self, lang: str) -> str:
        """The definition in ``lang``."""
        return self.zh_note if lang == "zh" else self.en_note


def _c(key: str, kind: str, zh: str, en: str, zh_note: str, en_note: str) -> Column:
    return Column(key, kind, zh, en, zh_note, en_note)


_COLUMNS = (
    _c("product_id", "text", "@product", "@product", "产品代码", "product id"),
    _c("date", "date", "@date", "@date", "计划日（自然日）", "plan day (calendar day)"),
    # --- derived figures of the Today sheet
    _c(
        "quota_state",
        "text",
        "申购状态",
        "Subscriptions",
        "不限额 / 限额 / 暂停申购（限额为 0）",
        "open (no cap) / capped / closed (cap of 0)",
    ),
    _c(
        "purchases_total",
        "amount",
        "买入合计",
        "Purchases, total",
        "当日各期限资产买入金额之和",
        "sum of the day's purchases over all asset buckets",
    ),
    _c(
        "exposure_vs_baseline",
        "multiple",
        "曝光 / 基准",
        "Exposure vs baseline",
        "计划曝光量除以基准曝光量（近四个同星期日均值）；1 倍 = 不调整，空 = 无基准",
        "planned exposure divided by the baseline (mean of the last four same weekdays); "
        "1× = unchanged, empty = no baseline",
    ),
    _c(
        "buffer_vs_requirement",
        "share",
        "储备 / 要求",
        "Buffer / requirement",
        "流动性储备除以储备要求；低于 100% 表示储备不足",
        "liquidity buffer divided by its requirement; below 100 % the buffer falls short",
    ),
    _c(
        "buffer_surplus",
        "amount",
        "储备余量",
        "Buffer surplus",
        "流动性储备减储备要求；负数为缺口",
        "liquidity buffer minus the requirement; negative is a shortfall",
    ),
    # --- plan.csv: the SPEC §3 columns
    _c(
        "quota",
        "amount",
        "@quota",
        "@quota",
        "当日申购上限；空 = 不限额，0 = 暂停申购",
        "the day's subscription cap; empty = no cap, 0 = closed",
    ),
    _c(
        "expected_subscriptions",
        "amount",
        "@expected_subscriptions",
        "@expected_subscriptions",
        "计划接受的申购（需求与限额的较小者）",
        "subscriptions the plan accepts (the lesser of demand and quota)",
    ),
    _c(
        "expected_redemptions",
        "amount",
        "@expected_redemptions",
        "@expected_redemptions",
        "预测赎回（均值）",
        "forecast redemptions (mean)",
    ),
    _c(
        "liquidity_buffer",
        "amount",
        "@liquidity_buffer",
        "@liquidity_buffer",
        "现金及 5 个交易日内到期的资产，扣除质押式回购融入",
        "cash and assets maturing within 5 trading days, net of repo borrowing",
    ),
    _c(
        "expected_aum",
        "amount",
        "@expected_aum",
        "@expected_aum",
        "计划日日终净资产",
        "net assets at the end of the plan day",
    ),
    _c(
        "expected_yield_7d",
        "percent",
        "@expected_yield",
        "@expected_yield",
        "预计七日年化收益率",
        "expected 7-day annualised yield",
    ),
    # --- plan.csv: the optimiser's columns
    _c(
        "demand",
        "amount",
        "申购需求",
        "Demand",
        "按计划曝光量预测的申购需求（限额前）",
        "subscriptions wanted under the planned exposure, before any quota",
    ),
    _c(
        "baseline_demand",
        "amount",
        "基准需求",
        "Baseline demand",
        "按基准曝光量预测的申购需求（预测值）",
        "subscriptions wanted under the baseline exposure (the forecast)",
    ),
    _c(
        "refused_demand",
        "amount",
        "未接受需求",
        "Refused demand",
        "需求减去接受的申购",
        "demand minus accepted subscriptions",
    ),
    _c(
        "subscriptions_open",
        "flag",
        "开放申购",
        "Open",
        "当日是否接受申购",
        "whether subscriptions are accepted that day",
    ),
    _c(
        "quota_binding",
        "flag",
        "限额生效",
        "Quota binds",
        "限额是否低于需求",
        "whether the quota is below demand",
    ),
    _c(
        "exposure",
        "level",
        "计划曝光",
        "Exposure",
        "计划的营销曝光量（与数据中的曝光量同口径，如浏览量或展位）",
        "planned marketing exposure (as the data's exposure: page views or slots)",
    ),
    _c(
        "exposure_slots",
        "count",
        "曝光档位",
        "Exposure slots",
        "计划选择的曝光档位",
        "the exposure step the plan chose",
    ),
    _c(
        "baseline_exposure",
        "level",
        "基准曝光",
        "Baseline exposure",
        "近四个同星期日的平均曝光量",
        "mean exposure of the last four same weekdays",
    ),
    _c(
        "required_buffer",
        "amount",
        "@requirement",
        "@requirement",
        "储备须覆盖的赎回（置信水平下的赎回分位数，按储备窗口累计）",
        "redemptions the buffer must cover (the quantile at the confidence, over the window)",
    ),
    _c(
        "redemption_quantile",
        "amount",
        "赎回分位数",
        "Redemption quantile",
        "当日赎回在置信水平下的分位数",
        "the day's redemptions at the confidence quantile",
    ),
    _c(
        "days_off_required_cash",
        "amount",
        "假期现金需求",
        "Days-off cash need",
        "连续休息日所需现金；工作日为 0",
        "cash a run of days off needs; 0 on working days",
    ),
    _c(
        "worst_days_off_cash",
        "amount",
        "假期最大净赎回（近一年）",
        "Worst days off of the year",
        "首日之后若有连续休息日：近一年同样长的休息日的最大净赎回，今晚现金至少留足；否则为 0",
        "on the first day, when days off follow: the largest net outflow of as many days off "
        "in the last year, which tonight's cash keeps at least; 0 otherwise",
    ),
    _c(
        "buffer_confidence",
        "share",
        "储备置信水平",
        "Buffer confidence",
        "储备要求所用的置信水平",
        "confidence level of the buffer requirement",
    ),
    _c(
        "regulatory_floor",
        "amount",
        "监管流动性下限",
        "Regulatory floor",
        "流动性资产最低比例 × 规模",
        "minimum liquid-asset ratio × AUM",
    ),
    _c(
        "cash_floor",
        "amount",
        "现金下限",
        "Cash floor",
        "现金类资产最低比例 × 规模",
        "minimum cash ratio × AUM",
    ),
    _c("cash", "amount", "现金", "Cash", "日终现金", "cash at the end of the day"),
    _c(
        "cash_like",
        "amount",
        "现金类资产",
        "Cash-like",
        "现金与隔夜逆回购",
        "cash and overnight reverse repo",
    ),
    _c(
        "income",
        "amount",
        "净收益",
        "Net income",
        "当日净收益",
        "the day's net income",
    ),
    _c(
        "income_per_10k",
        "per10k",
        "万份收益",
        "Income per 10k",
        "每万份当日收益",
        "the day's income per 10,000 units",
    ),
    _c(
        "net_yield_pct",
        "percent",
        "净收益率",
        "Net yield",
        "当日净收益年化（单利）",
        "the day's net income, simple annual rate",
    ),
    _c(
        "target_yield_pct",
        "percent",
        "目标收益率",
        "Target yield",
        "计划追求的年化收益率",
        "the annual yield the plan aims at",
    ),
    _c(
        "wam_days",
        "days",
        "平均剩余期限",
        "WAM",
        "投资组合加权平均剩余期限",
        "weighted average maturity of the book",
    ),
    _c(
        "overdraft",
        "amount",
        "提前变现",
        "Early sales",
        "计划预计提前卖出资产所得现金",
        "cash the plan expects to raise by early sales",
    ),
    _c(
        "repo_borrowing",
        "amount",
        "质押式回购融入",
        "Repo borrowing",
        "日终未归还的质押式回购融入余额",
        "pledged repo borrowing outstanding at the end of the day",
    ),
    _c(
        "shock_deviation_pct",
        "percent",
        "冲击后偏离度",
        "Deviation after shock",
        "收益率曲线按设定上移后日终的影子定价偏离度（占净资产）",
        "shadow-price deviation a configured rise of the curve would leave (share of net assets)",
    ),
    _c(
        "liquidity_need",
        "amount",
        "累计流动性需求",
        "Liquidity need",
        "自首个计划日日终至当日可能需要支付的净赎回（置信水平下），首日为 0",
        "net redemptions that may have to be paid from the end of day one through this day "
        "(at the confidence); 0 on day one",
    ),
    _c(
        "liquidity_available",
        "amount",
        "可用流动性",
        "Liquidity available",
        "首日日终现金、至当日到期的买入及现有持仓到期之和",
        "day one's closing cash, its purchases back by this day and positions maturing by then",
    ),
    _c(
        "keep_liquid",
        "amount",
        "@liquidity_held",
        "@liquidity_held",
        "日终现金与隔夜逆回购：今晚持有的流动资金",
        "closing cash and overnight repo: the liquid money held tonight",
    ),
    _c(
        "liquidity_need_confidence",
        "share",
        "需求置信水平",
        "Need confidence",
        "累计流动性需求所用的置信水平",
        "confidence level of the liquidity need",
    ),
    _c(
        "liquidity_need_basis",
        "basis",
        "需求依据",
        "Need set by",
        "决定当日累计流动性需求的一项：预测路径的分位数、压力下限、管理人组合的现金比例（假期）、"
        "近一年同样长假期的最大净赎回，或管理人组合的现金与隔夜比例（下一个工作日）",
        "what sets the day's liquidity need: the forecast's quantile, the stress floor, the "
        "managed book's cash share (days off), the worst such days off of the last year, or "
        "the managed book's cash and overnight share (next working day)",
    ),
    _c(
        "next_working_day",
        "flag",
        "下一个工作日",
        "Next working day",
        "是否为首个计划日之后的第一个工作日",
        "whether this is the first working day after day one",
    ),
    _c(
        "defence",
        "flag",
        "防御状态",
        "Defence",
        "产品处于防御状态（停买一个月以上资产、提高流动性下限）",
        "the product plans in defence (nothing longer than a month, higher liquidity floors)",
    ),
    # --- forecast.csv
    _c(
        "variable",
        "text",
        "@accuracy_variable",
        "@accuracy_variable",
        "申购 / 赎回 / 净流入 / 规模",
        "subscriptions / redemptions / net flow / AUM",
    ),
    _c("mean", "amount", "均值", "Mean", "预测均值", "forecast mean"),
    # --- alerts
    _c(
        "severity",
        "text",
        "级别",
        "Severity",
        "严重 / 警告 / 提示",
        "critical / warning / info",
    ),
    _c("alert", "text", "@alerts", "@alerts", "预警内容", "what the alert says"),
    # --- notes
    _c("sheet", "text", "工作表", "Sheet", "列所在的工作表", "the sheet the column is on"),
    _c("column", "text", "列", "Column", "列标题", "the column's header"),
    _c("unit", "text", "单位", "Unit", "单位", "unit"),
    _c("definition", "text", "定义", "Definition", "含义", "meaning"),
)

# Asset buckets the plan buys (rainmaker.assets.BUCKETS): plan.csv's purchase_<bucket> columns.
_BUCKETS = {
    "repo_1d": ("隔夜逆回购", "overnight repo"),
    "repo_7d": ("7天逆回购", "7-day repo"),
    "ncd_1m": ("1个月同业存单", "1-month NCD"),
    "ncd_3m": ("3个月同业存单", "3-month NCD"),
    "ncd_6m": ("6个月同业存单", "6-month NCD"),
}

COLUMNS: dict[str, Column] = {c.key: c for c in _COLUMNS}
COLUMNS |= {
    f"{_PURCHASE}{name}": _c(
        f"{_PURCHASE}{name}",
        "amount",
        f"买入{zh}",
        f"Buy {en}",
        f"当日买入{zh}的金额",
        f"amount of {en} bought that day",
    )
    for name, (zh, en) in _BUCKETS.items()
}

# The sheets, in order, by language.
SHEETS = {
    "zh": {
        "today": "今日操作",
        "plan": "计划",
        "alerts": "预警",
        "forecast": "预测",
        "notes": "说明",
    },
    "en": {
        "today": "Today",
        "plan": "Plan",
        "alerts": "Alerts",
        "forecast": "Forecast",
        "notes": "Notes",
    },
}

# Words of the Notes sheet's run block and of text cells.
_WORDS = {
    "zh": {
        "run": "运行信息",
        "amount_unit": "金额单位",
        "language": "语言",
        "open": "不限额",
        "capped": "限额",
        "closed": "暂停申购",
        "columns": "各列定义",
        "as_of": "@as_of",
        "run_id": "@run_id",
        "revision": "@revision",
        "model": "@model",
        "solver_status": "@solver",
        "plan_start": "计划首日",
        "quantile": "{level}% 分位数",
        "quantile_note": "预测的 {level}% 分位数",
    },
    "en": {
        "run": "Run",
        "amount_unit": "Amounts in",
        "language": "Language",
        "open": "open",
        "capped": "capped",
        "closed": "closed",
        "columns": "Columns",
        "as_of": "@as_of",
        "run_id": "@run_id",
        "revision": "@revision",
        "model": "@model",
        "solver_status": "@solver",
        "plan_start": "First plan day",
        "quantile": "{level}% quantile",
        "quantile_note": "the forecast's {level}% quantile",
    },
}


def sheet_words(lang: str) -> dict[str, str]:
    """The workbook's own words in ``lang`` (``@key`` entries resolved from the report's)."""
    report = texts(lang)
    return {k: report[v[1:]] if v.startswith("@") else v for k, v in _WORDS[lang].items()}


def bucket_of(key: str) -> str | None:
    """The bucket name of a ``purchase_<bucket>`` column, else None."""
    return key[len(_PURCHASE) :] if key.startswith(_PURCHASE) else None


def column(key: str, sample: object = None) -> Column:
    """The column called ``key``.

    A quantile column ``pNN`` of the forecast is described from its level; a column no entry
    knows (an optimiser extra added later) keeps its key as header, in the kind its values
    suggest, so that the workbook still opens (a test checks the sample plan has none).

    Args:
        key: column name.
        sample: one of its values (to guess the kind of an unknown column).
    """
    if key in COLUMNS:
        return COLUMNS[key]
    level = quantile_level(key)
    if level is not None:
        pct = f"{level * 100:g}"
        zh, en = (sheet_words(lang) for lang in ("zh", "en"))
        return Column(
            key,
            "amount",
            zh["quantile"].format(level=pct),
            en["quantile"].format(level=pct),
            zh["quantile_note"].format(level=pct),
            en["quantile_note"].format(level=pct),
        )
    bucket = bucket_of(key)
    if bucket is not None:
        return Column(key, "amount", f"买入 {bucket}", f"Buy {bucket}", "当日买入金额", "bought")
    if isinstance(sample, bool):
        kind = "flag"
    elif isinstance(sample, int | float):
        kind = "number"
    else:
        kind = "text"
    return Column(key, kind, key, key, "", "")


def unit_text(kind: str, lang: str, amount_unit: str) -> str:
    """The unit shown after a header, e.g. ``亿元``, ``%``; empty for text, dates and counts."""
    if kind == "amount":
        return amount_unit
    return UNITS[lang].get(kind, "")


def header(col: Column, lang: str, amount_unit: str) -> str:
    """``label（unit）`` in Chinese, ``label (unit)`` in English, or the label alone."""
    unit = unit_text(col.kind, lang, amount_unit)
    label = col.label(lang)
    if not unit:
        return label
    return f"{label}（{unit}）" if lang == "zh" else f"{label} ({unit})"


def number_format(kind: str, lang: str, divisor: float) -> str | None:
    """The Excel number format of a kind (None: General, for text)."""
    if kind == "amount":
        return AMOUNT_FORMATS.get(divisor, "#,##0.00")
    if kind == "multiple":
        return MULTIPLE_FORMATS[lang]
    return NUMBER_FORMATS.get(kind)
