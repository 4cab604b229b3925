"""Why the plan looks the way it does: shadow prices of the binding constraints, in a manager's
words.

A MILP has no duals, so the plan's yes/no decisions — subscriptions open or closed, quota
binding or not, exposure slots — are fixed at the plan's values and the rest is re-solved as an
LP. The lot counts (quota lots and purchase lots) are relaxed to continuous amounts in that LP:
fixing them too would leave nothing to move, and every dual would be zero or arbitrary. The
LP's row duals then price a marginal tightening of each constraint in the objective's unit,
bp·day (one bp of annualised yield for one day of one product; see :mod:`optimize.objective`):

- buffer (E15): 1 % of AUM more buffer on that day;
- liquidity floor (E16) and cash floor (E17): the floor raised by 1 % of AUM;
- WAM (E19): the cap lowered by one day;
- sales plan (E22): the channel's requirement raised by 1 %;
- cash before days off (E24): 1 % of AUM more cash at the end of the working day before;
- demand (E1): 1 % of AUM more demand that day — a value, not a cost: positive when more
  money would help (sales plan, good rates), negative when it would dilute the yield.

For plans solved product by product the LP is solved per product as well (with each product's
share of its channels' requirements), so the sales plan is priced per product share.

Every sentence exists in English (``text``, the default) and Chinese (``text_zh``, for the
daily report): :meth:`Explanations.sentences` takes ``lang="en"`` or ``"zh"``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
import pandas as pd

from optimize.algebra import CompiledModel
from optimize.decompose import block_instance, run_by_product
from optimize.highs import Solution, fix_columns, solve_arrays
from optimize.model import PlanModel
from optimize.results import plan_quantities
from optimize.settings import SolverSettings

__all__ = ["EXPLAINED", "Explanations", "explain", "shadow_prices"]

# Shadow prices below this (bp·day) are round-off or irrelevant to a manager.
BINDING_TOLERANCE = 1e-4
MAX_SENTENCES = 12
# One row per binding constraint and product in the manager's summary.
SUMMARY_COLUMNS = (
    "constraint",
    "product_id",
    "binding_days",
    "horizon_days",
    "first_date",
    "mean_cost_bp_day",
    "total_cost_bp_day",
    "text",
    "text_zh",
)
# family -> (what a unit change is, label in sentences)
EXPLAINED = {
    "buffer_covers_redemptions": "the redemption buffer",
    "liquidity_floor": "the 10 % liquidity floor",
    "maturity_ladder": "the 30-day maturity ladder",
    "cash_floor": "the 5 % cash floor",
    "wam_limit": "the WAM cap",
    "sales_plan": "the sales plan",
    "demand_response": "demand",
    "days_off_cover": "the cash before days off",
}
# The same labels in Chinese (the daily report's language), and the changes priced.
EXPLAINED_ZH = {
    "buffer_covers_redemptions": "赎回备付（流动性缓冲）",
    "liquidity_floor": "10% 流动性资产下限",
    "maturity_ladder": "30 天到期资产阶梯下限",
    "cash_floor": "5% 现金类资产下限",
    "wam_limit": "平均剩余期限（WAM）上限",
    "sales_plan": "渠道销售计划",
    "demand_response": "申购需求",
    "days_off_cover": "节假日前的现金备付",
}
CHANGES_ZH = {
    "1 % of AUM more buffer": "缓冲增加规模的 1%",
    "floor 1 % of AUM higher": "下限提高规模的 1%",
    "cap 1 day lower": "上限降低 1 天",
    "1 % of AUM more demand": "需求增加规模的 1%",
    "requirement 1 % higher": "要求提高 1%",
    "1 % of AUM more cash before the days off": "节假日前现金增加规模的 1%",
}
LANGUAGES = ("en", "zh")
BINARY_FAMILIES = ("open", "quota_binds", "exposure_step")
NOTHING_BINDS = "No constraint binds at the margin: the plan is driven by its targets alone."
EMPTY_ZH = {
    NOTHING_BINDS: "边际上没有约束起作用：计划只由收益与规模目标决定。",
    "explanations are turned off (solver.explain)": "未计算边际代价（solver.explain 已关闭）。",
}


@dataclass(frozen=True)
class Explanations:
    """Shadow prices of the plan.

    Attributes:
        frame: one row per binding product-day (or sales requirement): ``constraint``,
            ``product_id`` (or channel), ``date``, ``dual`` (objective per model unit of
            right-hand side), ``change`` (the marginal change priced, in words),
            ``change_cny``, ``cost_bp_day`` (objective change of that change; for demand, the
            value of it, positive = helps).
        summary: one row per (constraint, product or channel): ``binding_days``,
            ``horizon_days``, ``first_date``, ``mean_cost_bp_day`` (per binding day),
            ``total_cost_bp_day``, ``text``.
        text: plain-language sentences in English, most costly first.
        lp_objective: objective of the explanation LP (≤ the plan's: lots are relaxed).
        seconds: wall-clock time.
        text_zh: the same sentences in Chinese, in the same order (``summary["text_zh"]``).

    ``sentences(lang)`` returns ``text`` (``"en"``) or ``text_zh`` (``"zh"``).
    """

    frame: pd.DataFrame
    summary: pd.DataFrame
    text: tuple[str, ...]
    lp_objective: float
    seconds: float
    text_zh: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"Explanations({len(self.summary)} binding constraints by product, "
            f"{len(self.frame)} product-days; see .summary, .text)"
        )

    def sentences(self, lang: str = "en") -> tuple[str, ...]:
        """The plain-language sentences in ``lang``: ``"en"`` (default) or ``"zh"``.

        Raises:
            ValueError: another language.
        """
        if lang not in LANGUAGES:
            raise ValueError(f"explanations: unknown language {lang!r}; expected 'en' or 'zh'")
        if lang == "zh":
            return self.text_zh or self.text
        return self.text

    @staticmethod
    def empty(reason: str) -> Explanations:
        """No explanations (e.g. turned off), with a one-line reason."""
        return Explanations(
            pd.DataFrame(
                columns=[
                    "constraint",
                    "product_id",
                    "date",
                    "dual",
                    "change",
                    "change_cny",
                    "cost_bp_day",
                ]
            ),
            pd.DataFrame(columns=list(SUMMARY_COLUMNS)),
            (reason,),
            float("nan"),
            0.0,
            (EMPTY_ZH.get(reason, reason),),
        )


def _fixed_binaries(plan: PlanModel, x: np.ndarray) -> CompiledModel:
    columns, values = [], []
    for name in BINARY_FAMILIES:
        cols = plan.model.variables[name].columns
        cols = cols[cols >= 0]
        columns.append(cols)
        values.append(np.round(x[cols]))
    return fix_columns(plan.compiled(), np.concatenate(columns), np.concatenate(values))


def _duals_by_product(
    plan: PlanModel, fixed: CompiledModel, options: SolverSettings
) -> tuple[np.ndarray, float]:
    """Row duals of the fixed LP solved product by product (coupling rows get NaN), each
    product warm-started from its last basis of the solve."""
    blocks = plan.blocks()
    duals = np.full(fixed.n_rows, np.nan)
    n = plan.parameters.n_products
    bases = plan.bases if plan.bases is not None else [None] * n

    def one(i: int) -> tuple[np.ndarray | None, float]:
        cols = blocks.columns[i]
        h = block_instance(blocks.models[i], fixed.col_lower[cols], fixed.col_upper[cols], options)
        if bases[i] is not None:
            h.setBasis(bases[i])
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None, float("nan")
        row_duals = np.asarray(h.getSolution().row_dual, dtype=float)
        return row_duals, float(h.getInfo().objective_function_value)

    total = 0.0
    for i, (row_duals, objective) in enumerate(run_by_product(one, n, options.workers)):
        if row_duals is not None:
            duals[blocks.rows[i]] = row_duals
        total += objective
    return duals, total


def shadow_prices(
    plan: PlanModel, solution: Solution, options: SolverSettings
) -> tuple[np.ndarray, float]:
    """Row duals of the explanation LP (binaries fixed, lots continuous) and its objective.

    HiGHS's row duals are the derivative of the (minimised) objective with respect to the
    row's active bound: a positive dual on a ``≥`` row means raising the requirement costs.
    """
    fixed = _fixed_binaries(plan, solution.x)
    if plan.parameters.n_products > options.decompose_above_products:
        return _duals_by_product(plan, fixed, options)
    lp = solve_arrays(fixed, options, integer=False)
    if not lp.ok or lp.row_duals is None:
        return np.full(fixed.n_rows, np.nan), float("nan")
    return lp.row_duals, lp.objective


def _money(value: float) -> str:
    return f"CNY {value / 1e6:,.1f} m"


def _money_zh(value: float) -> str:
    """Amounts the Chinese way: 亿元 from 100 million CNY, 万元 below."""
    if abs(value) >= 1e8:
        return f"{value / 1e8:,.2f} 亿元"
    return f"{value / 1e4:,.0f} 万元"


def _text_zh(
    family: str,
    who: str,
    days: int,
    horizon: int,
    first: pd.Timestamp,
    change: str,
    change_cny: float,
    mean: float,
    total: float,
    confidence: float,
) -> str:
    """The sentence of one summary row in Chinese (same facts as the English one)."""
    label = EXPLAINED_ZH.get(family, family)
    if family == "buffer_covers_redemptions":
        label = f"p{round(confidence * 100)} 赎回备付（流动性缓冲）"
    money = _money_zh(change_cny)
    if family == "demand_response":
        if mean > 0:
            return (
                f"产品 {who}：{horizon} 天中有 {days} 天更多申购有利；需求增加规模的 1%"
                f"（{money}）每天约值 {mean:.2f} 个基点的收益（新资金收益高于目标或有助于完成"
                "销售计划）。"
            )
        return (
            f"产品 {who}：{horizon} 天中有 {days} 天更多申购会摊薄收益；需求增加规模的 1%"
            f"（{money}）每天约损失 {-mean:.2f} 个基点的收益。"
        )
    if family == "sales_plan":
        return (
            f"渠道 {who}：{label}约束起作用；要求提高 1%（{money}）在其产品上合计约损失 "
            f"{abs(total):.2f} 个基点·天的收益。"
        )
    if family == "wam_limit":
        return (
            f"产品 {who}：{label}在 {horizon} 天中有 {days} 天起作用（自 {first:%Y-%m-%d} 起）；"
            f"上限降低 1 天在这样的一天约损失 {abs(mean):.2f} 个基点的收益。"
        )
    return (
        f"产品 {who}：{label}在 {horizon} 天中有 {days} 天起作用（自 {first:%Y-%m-%d} 起）；"
        f"{CHANGES_ZH.get(change, change)}（{money}）在这样的一天约损失 {abs(mean):.2f} "
        "个基点的收益。"
    )


def explain(plan: PlanModel, solution: Solution, options: SolverSettings) -> Explanations:
    """Shadow prices of the binding constraints, as a frame and as sentences.

    Args:
        plan: the built model.
        solution: the plan's solution.
        options: solver settings.
    """
    began = time.perf_counter()
    par = plan.parameters
    duals, lp_objective = shadow_prices(plan, solution, options)
    q = plan_quantities(plan, solution.x)
    aum_model = q["aum"] / par.scale  # model units
    ids = np.asarray(par.inputs.product_ids, dtype=object)
    dates = par.inputs.dates
    h = par.horizon
    rows: list[dict[str, object]] = []

    def per_day(family: str, change: str, delta: np.ndarray, value: bool = False) -> None:
        if family not in plan.model.constraints:
            return
        dual = plan.model.constraints[family].values(duals)
        cost = dual * delta
        if value:
            cost = -cost
        for i, t in zip(*np.nonzero(np.abs(np.nan_to_num(cost)) > BINDING_TOLERANCE), strict=True):
            rows.append(
                {
                    "constraint": family,
                    "product_id": ids[i],
                    "date": dates[t],
                    "dual": float(dual[i, t]),
                    "change": change,
                    "change_cny": float(abs(delta[i, t]) * par.scale),
                    "cost_bp_day": float(cost[i, t]),
                }
            )

    one_pct = 0.01 * aum_model
    per_day("buffer_covers_redemptions", "1 % of AUM more buffer", one_pct)
    per_day("liquidity_floor", "floor 1 % of AUM higher", one_pct)
    per_day("maturity_ladder", "floor 1 % of AUM higher", one_pct)
    per_day("cash_floor", "floor 1 % of AUM higher", one_pct)
    per_day("wam_limit", "cap 1 day lower", -aum_model)
    per_day("days_off_cover", "1 % of AUM more cash before the days off", one_pct)
    per_day("demand_response", "1 % of AUM more demand", one_pct, value=True)
    if "sales_plan" in plan.model.constraints:
        dual = plan.model.constraints["sales_plan"].values(duals)
        for r in range(len(par.sales_need)):
            delta = 0.01 * par.sales_need[r]
            cost = dual[r] * delta
            if np.isfinite(cost) and abs(cost) > BINDING_TOLERANCE:
                rows.append(
                    {
                        "constraint": "sales_plan",
                        "product_id": par.sales_labels[r].split(" ")[0],
                        "date": dates[int(np.flatnonzero(par.sales_days[r])[0])],
                        "dual": float(dual[r]),
                        "change": "requirement 1 % higher",
                        "change_cny": float(delta * par.scale),
                        "cost_bp_day": float(cost),
                    }
                )
    frame = pd.DataFrame(
        rows,
        columns=["constraint", "product_id", "date", "dual", "change", "change_cny", "cost_bp_day"],
    )
    summary = _summarise(frame, h, par.settings.liquidity.confidence)
    # Binding constraints first (what the plan pays for), then the value of demand.
    rank = pd.DataFrame(
        {
            "demand": summary["constraint"] == "demand_response",
            "size": -summary["total_cost_bp_day"].abs(),
        }
    )
    summary = summary.loc[rank.sort_values(["demand", "size"]).index].reset_index(drop=True)
    text = tuple(summary["text"].head(MAX_SENTENCES))
    text_zh = tuple(summary["text_zh"].head(MAX_SENTENCES))
    if not text:
        text, text_zh = (NOTHING_BINDS,), (EMPTY_ZH[NOTHING_BINDS],)
    return Explanations(
        frame, summary, text, lp_objective, time.perf_counter() - began, text_zh=text_zh
    )


def _summarise(frame: pd.DataFrame, horizon: int, confidence: float) -> pd.DataFrame:
    columns = list(SUMMARY_COLUMNS)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    out = []
    for (family, who), group in frame.groupby(["constraint", "product_id"], sort=True):
        days = len(group)
        mean = float(group["cost_bp_day"].mean())
        total = float(group["cost_bp_day"].sum())
        first = pd.Timestamp(group["date"].min())
        change_cny = float(group["change_cny"].mean())
        label = EXPLAINED.get(family, family)
        if family == "buffer_covers_redemptions":
            label = f"the p{round(confidence * 100)} redemption buffer"
        if family == "demand_response":
            if mean > 0:
                text = (
                    f"Product {who}: more demand would help on {days} of {horizon} days; 1 % of "
                    f"AUM more ({_money(change_cny)}) is worth about {mean:.2f} bp of yield a "
                    "day (it earns more than the target or serves the sales plan)."
                )
            else:
                text = (
                    f"Product {who}: more demand would dilute the yield on {days} of {horizon} "
                    f"days; 1 % of AUM more ({_money(change_cny)}) would cost about "
                    f"{-mean:.2f} bp of yield a day."
                )
        elif family == "sales_plan":
            text = (
                f"Channel {who}: {label} binds; raising it by 1 % ({_money(change_cny)}) costs "
                f"about {abs(total):.2f} bp·day of yield across its products."
            )
        else:
            change = group["change"].iloc[0]
            text = (
                f"Product {who}: {label} binds on {days} of {horizon} days (from "
                f"{first:%Y-%m-%d}); {change} ({_money(change_cny)}) costs about "
                f"{abs(mean):.2f} bp of yield on such a day."
            )
            if family == "wam_limit":
                text = (
                    f"Product {who}: {label} binds on {days} of {horizon} days (from "
                    f"{first:%Y-%m-%d}); lowering it by one day costs about {abs(mean):.2f} "
                    "bp of yield on such a day."
                )
        out.append(
            {
                "constraint": family,
                "product_id": who,
                "binding_days": days,
                "horizon_days": horizon,
                "first_date": first,
                "mean_cost_bp_day": mean,
                "total_cost_bp_day": total,
                "text": text,
                "text_zh": _text_zh(
                    family,
                    who,
                    days,
                    horizon,
                    first,
                    str(group["change"].iloc[0]),
                    change_cny,
                    mean,
                    total,
                    confidence,
                ),
            }
        )
    return pd.DataFrame(out, columns=columns)
