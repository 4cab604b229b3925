"""Solutions as tidy data frames, in CNY and percent.

- :func:`plan_frame`: one row per (product_id, date) with the SPEC §3 ``plan.csv`` columns first
  (``quota``, empty when uncapped; ``expected_subscriptions``, ``expected_redemptions``,
  ``liquidity_buffer``, ``expected_aum``, ``expected_yield_7d`` in percent) and the extras a
  manager and a backtest need (demand at the planned exposure, refused demand, exposure, the
  required buffer and the regulatory floors, cash, purchases per bucket, income, 万份收益, the
  target yield, WAM);
- :func:`purchases_frame`: one row per purchase (product, day, bucket) with amount, lots, rate
  and maturity;
- :func:`violations_frame`: every elastic slack in use — which constraint, where, required,
  planned, shortfall and why;
- :func:`objective_terms`: the objective split by variable family.

``expected_yield_7d`` is computed after the solve: the realised 万份收益 of the six days up to
the as-of day followed by the plan's 万份收益 (net income of day t / AUM at the end of day t−1 ×
10,000), through :func:`rainmaker.yields.yield_7d`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from optimize.highs import Solution
from optimize.inputs import RECENT_DAYS
from optimize.model import PlanModel
from optimize.parameters import NEED_BASES, ModelParameters
from optimize.rate_path import vintage_income_pct
from rainmaker.contracts import PLAN_COLUMNS, PURCHASE_PREFIX, RATIO_TOLERANCE
from rainmaker.yields import yield_7d

__all__ = [
    "PLAN_COLUMNS",
    "SUMMARY_COLUMNS",
    "objective_terms",
    "plan_frame",
    "plan_quantities",
    "plan_summary",
    "purchases_frame",
    "violations_frame",
]

DAILY = 36_500.0
# Slacks below this share of the reference AUM are solver round-off, not violations.
SLACK_TOLERANCE = 1e-6


def _previous(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Values of the day before along the last axis, ``first`` on the first day."""
    out = np.empty_like(values)
    out[..., 1:] = values[..., :-1]
    out[..., 0] = first
    return out


def _family(plan: PlanModel, x: np.ndarray, name: str) -> np.ndarray:
    return np.nan_to_num(plan.model.variables[name].values(x))


def plan_quantities(plan: PlanModel, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every planned quantity per (product, day) in CNY (or its own unit), from a solution."""
    par = plan.parameters
    scale = par.scale

    def get(name: str) -> np.ndarray:
        return _family(plan, x, name)

    cash, aum, holding = get("cash"), get("aum"), get("holding")
    borrowing = get("borrowing")
    open_ = get("open") > 0.5
    binds = get("quota_binds") > 0.5
    quota_lots = np.round(get("quota_lots"))
    quota = np.where(open_, np.where(binds, quota_lots * par.quota_lot[:, None], np.nan), 0.0)
    lots = np.round(get("purchase_lots"))
    purchases = lots * par.purchase_lot[:, None, None]
    previous_cash = _previous(cash, par.cash0)
    previous_aum = _previous(aum, par.aum0)
    previous_holding = _previous(holding, np.zeros(holding.shape[:2]))
    income_pct_amount = (
        par.cash_rate_pct * previous_cash
        + np.einsum("k,pkt->pt", par.rate_pct, previous_holding)
        + par.held_income_pct
        - par.fee_pct[:, None] * previous_aum
        - par.overnight_rate_pct * _previous(borrowing, np.zeros(borrowing.shape[0]))
        + vintage_income_pct(par, lots * par.purchase_lot[:, None, None])
    )
    income = income_pct_amount / DAILY
    income_per_10k = np.divide(
        income * 10_000.0, previous_aum, out=np.zeros_like(income), where=previous_aum > 0
    )
    steps = get("exposure_step")
    slots = steps.sum(axis=2) if steps.size else np.zeros_like(cash)
    baseline = np.asarray(par.inputs.baseline_exposure, dtype=float)
    exposure = np.where(par.slots[:, None] > 0, np.round(slots) * par.slot_size, baseline)
    cash_like = cash + par.held_cash_like
    for k, b in enumerate(par.buckets):
        if b.cash_like:
            cash_like = cash_like + holding[:, k, :]
    maturity_days = get("maturity_days") + par.held_maturity_days
    wam = np.divide(maturity_days, aum, out=np.zeros_like(aum), where=aum > 0)
    return {
        "quota": quota * scale,
        "accepted": get("accepted") * scale,
        "demand": get("demand") * scale,
        "redemptions": par.redemptions * scale,
        "buffer": get("buffer") * scale,
        "aum": aum * scale,
        "cash": cash * scale,
        "cash_like": cash_like * scale,
        "open": open_,
        "binds": open_ & binds,
        "purchases": purchases * scale,
        "lots": lots,
        "income": income * scale,
        "income_per_10k": income_per_10k,
        "net_yield_pct": np.divide(
            income_pct_amount, previous_aum, out=np.zeros_like(income), where=previous_aum > 0
        ),
        "exposure": exposure,
        "slots": np.round(slots),
        "wam_days": wam,
        "overdraft": get("overdraft") * scale,
        "borrowing": borrowing * scale,
        "shock_deviation_pct": np.divide(
            100.0 * (par.book_gap0[:, None] - maturity_days / par.shock_days_per_unit),
            aum,
            out=np.zeros_like(aum),
            where=aum > 0,
        ),
    }


def plan_frame(plan: PlanModel, solution: Solution) -> pd.DataFrame:
    """The plan, one row per (product_id, date): SPEC §3 columns first, then extras.

    Extras: ``demand`` and ``baseline_demand`` (CNY), ``refused_demand`` (demand − accepted),
    ``subscriptions_open``, ``quota_binding``, ``exposure``, ``exposure_slots``,
    ``baseline_exposure``, ``required_buffer`` (what the buffer must cover, E15),
    ``redemption_quantile`` (the day's own redemption quantile at the confidence, CNY),
    ``days_off_required_cash`` (cash a run of days off needs, E24; 0 on working days),
    ``worst_days_off_cash`` (on the first day, when days off follow it: the largest net outflow
    of as many days off in the product's last year, which the needs through them keep at least,
    E27, CNY; 0 otherwise),
    ``buffer_confidence``, ``regulatory_floor`` (min liquid ratio × AUM), ``cash_floor`` (min
    cash ratio × AUM), ``cash``, ``cash_like``, ``purchase_<bucket>`` (CNY bought that day),
    ``income`` (net, CNY), ``income_per_10k``, ``net_yield_pct`` and ``target_yield_pct``
    (simple annual percent), ``wam_days``, ``overdraft`` (cash raised by early sales, CNY),
    ``repo_borrowing`` (pledged repo borrowing outstanding at the end of the day, E28: cash the
    book cannot raise in time, borrowed within the leverage cap, CNY), ``shock_deviation_pct``
    (the shadow-price deviation a ``liquidity.shock_bp`` rise of the curve would leave at the
    end of the day, percent of net assets, E29), ``liquidity_need``
    (E27: what the product may have to pay from the end of the first planned day through
    this day, net of the subscriptions the plan accepts that
    settle by then, at ``liquidity_need_confidence`` where ``liquidity_need_basis`` is
    ``quantile``; 0 on the first day, CNY), ``liquidity_need_basis`` (what sets that need, one
    of :data:`optimize.parameters.NEED_BASES`: the forecast's quantile, the stress floor, the
    managed book's cash over the days off, the worst days off of the last year, the managed
    book's cash and overnight repo on the next working day), ``liquidity_available`` (the
    first day's closing cash, its purchases back by this day and today's positions maturing by
    then, CNY), ``keep_liquid`` (the day's closing cash and
    overnight repo: the liquid money the plan holds tonight, which the replay's executor keeps
    and the report shows, CNY), ``next_working_day`` (the first working day after
    the first planned day: the needs through it are what only that day's cash and overnight
    repo can pay) and ``defence`` (the product plans in defence, :mod:`optimize.regime`).
    """
    par = plan.parameters
    q = plan_quantities(plan, solution.x)
    p, h = par.n_products, par.horizon
    recent = np.asarray(par.inputs.recent_income_per_10k, dtype=float)
    series = np.concatenate([recent, q["income_per_10k"]], axis=1)
    y7 = np.stack([yield_7d(row)[RECENT_DAYS:] for row in series])
    scale = par.scale
    frame = {
        "product_id": np.repeat(np.asarray(par.inputs.product_ids, dtype=object), h),
        "date": np.tile(par.inputs.dates.to_numpy(), p),
        "quota": q["quota"].ravel(),
        "expected_subscriptions": q["accepted"].ravel(),
        "expected_redemptions": q["redemptions"].ravel(),
        "liquidity_buffer": q["buffer"].ravel(),
        "expected_aum": q["aum"].ravel(),
        "expected_yield_7d": y7.ravel(),
        "demand": q["demand"].ravel(),
        "baseline_demand": (par.demand * scale).ravel(),
        "refused_demand": np.maximum(q["demand"] - q["accepted"], 0.0).ravel(),
        "subscriptions_open": q["open"].ravel(),
        "quota_binding": q["binds"].ravel(),
        "exposure": q["exposure"].ravel(),
        "exposure_slots": q["slots"].ravel(),
        "baseline_exposure": np.asarray(par.inputs.baseline_exposure, dtype=float).ravel(),
        "required_buffer": (par.required_buffer * scale).ravel(),
        "redemption_quantile": (par.day_quantile * scale).ravel(),
        "days_off_required_cash": (par.days_off_need * scale).ravel(),
        "worst_days_off_cash": np.pad(
            par.days_off_floor_cny[:, None], ((0, 0), (0, h - 1))
        ).ravel(),
        "buffer_confidence": np.full(p * h, par.settings.liquidity.confidence),
        "regulatory_floor": (par.min_liquid_ratio[:, None] * q["aum"]).ravel(),
        "cash_floor": (par.min_cash_ratio[:, None] * q["aum"]).ravel(),
        "cash": q["cash"].ravel(),
        "cash_like": q["cash_like"].ravel(),
    }
    for k, b in enumerate(par.buckets):
        frame[f"{PURCHASE_PREFIX}{b.name}"] = q["purchases"][:, k, :].ravel()
    frame.update(
        {
            "income": q["income"].ravel(),
            "income_per_10k": q["income_per_10k"].ravel(),
            "net_yield_pct": q["net_yield_pct"].ravel(),
            "target_yield_pct": par.target_yield_pct.ravel(),
            "wam_days": q["wam_days"].ravel(),
            "overdraft": q["overdraft"].ravel(),
            "repo_borrowing": q["borrowing"].ravel(),
            "shock_deviation_pct": q["shock_deviation_pct"].ravel(),
        }
    )
    need, available = _needs_and_available(par, q)
    overnight = frame.get(f"{PURCHASE_PREFIX}repo_1d", np.zeros(p * h))
    frame.update(
        {
            "liquidity_need": need.ravel(),
            "liquidity_available": available.ravel(),
            "keep_liquid": np.maximum(frame["cash"], 0.0) + np.maximum(overnight, 0.0),
            "liquidity_need_confidence": par.needs_confidence.ravel(),
            "liquidity_need_basis": np.asarray(NEED_BASES, dtype=object)[par.needs_basis].ravel(),
            "next_working_day": np.tile(_next_working_day(par), p),
            "defence": np.repeat(par.defence, h),
        }
    )
    out = pd.DataFrame(frame)
    out["date"] = pd.to_datetime(out["date"])
    return out


def _next_working_day(par: ModelParameters) -> np.ndarray:
    """(H,) true on the first working day after day 0 (E27's ``next_days_confidence`` runs
    through it)."""
    out = np.zeros(par.horizon, dtype=bool)
    later = np.flatnonzero(par.workday[1:]) + 1
    if len(later):
        out[later[0]] = True
    return out


def _needs_and_available(
    par: ModelParameters, q: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """(E27) in CNY per (product, day): the cumulative need net of the planned subscriptions
    credited by each day, and what the first day leaves to pay it (closing cash, purchases back
    by the day, today's positions maturing by then)."""
    scale = par.scale
    h = par.horizon
    accepted = q["accepted"]
    credited = np.concatenate(
        [np.zeros((par.n_products, 1)), np.cumsum(accepted[:, 1:], axis=1)], axis=1
    )
    # subscriptions of days 1..t-1 (day 0's are in its cash)
    credited = np.concatenate([np.zeros((par.n_products, 1)), credited[:, :-1]], axis=1)
    need = par.needs * scale - np.where(par.needs_credit, credited, 0.0)
    need[:, 0] = 0.0
    back = np.zeros_like(need)
    first_day = q["purchases"][:, :, 0]  # CNY per bucket bought on day 0
    for k in range(len(par.buckets)):
        back += first_day[:, k : k + 1] * (par.maturity[k, 0] <= np.arange(h))[None, :]
    held = (np.cumsum(par.held_maturing, axis=1) - par.held_maturing[:, :1]) * scale
    available = q["cash"][:, :1] + back + held
    return need, available


def purchases_frame(plan: PlanModel, solution: Solution) -> pd.DataFrame:
    """Every purchase of the plan: ``product_id``, ``date``, ``bucket``, ``lots``,
    ``amount_cny``, ``rate_pct`` (known today), ``maturity_date``."""
    par = plan.parameters
    q = plan_quantities(plan, solution.x)
    p_idx, k_idx, t_idx = np.nonzero(q["lots"] > 0)
    dates = par.inputs.dates
    maturity = par.maturity[k_idx, t_idx]
    return pd.DataFrame(
        {
            "product_id": np.asarray(par.inputs.product_ids, dtype=object)[p_idx],
            "date": dates[t_idx],
            "bucket": np.asarray([b.name for b in par.buckets], dtype=object)[k_idx],
            "lots": q["lots"][p_idx, k_idx, t_idx].astype(np.int64),
            "amount_cny": q["purchases"][p_idx, k_idx, t_idx],
            "rate_pct": par.rate_pct[k_idx],
            "maturity_date": dates[0] + pd.to_timedelta(maturity, unit="D"),
        }
    )


def objective_terms(plan: PlanModel, solution: Solution) -> pd.Series:
    """The objective (bp·day) split by variable family, largest magnitude first."""
    compiled = plan.compiled()
    terms = {}
    for name, family in plan.model.variables.items():
        cols = family.columns[family.columns >= 0]
        value = float(compiled.cost[cols] @ solution.x[cols])
        if abs(value) > 1e-9:
            terms[name] = value
    series = pd.Series(terms, name="objective_bp_day", dtype=float)
    return series.reindex(series.abs().sort_values(ascending=False).index)


VIOLATION_COLUMNS = (
    "constraint",
    "product_id",
    "date",
    "required_cny",
    "planned_cny",
    "shortfall_cny",
    "shortfall_pct_of_aum",
    "reason",
    "reason_zh",
)

# What each soft constraint is, in Chinese (the reasons of the violations frame, reason_zh).
CONSTRAINTS_ZH = {
    "buffer_covers_redemptions": "赎回备付（流动性缓冲）",
    "liquidity_floor": "流动性资产下限",
    "cash_floor": "现金类资产下限",
    "maturity_ladder": "到期资产阶梯下限",
    "wam_limit": "平均剩余期限上限",
    "sales_plan": "渠道销售计划",
    "days_off_cover": "节假日前的现金备付",
    "cumulative_needs": "累计流动性需求",
    "cash_balance": "当日现金收支（需提前卖出或回购融资）",
    "shock_deviation": "利率上行冲击下的偏离度（可承受的市值损失）",
}


def _money_zh(value: float) -> str:
    return f"{value / 1e4:,.0f} 万元"


def reason_zh(row: Mapping[str, Any]) -> str:
    """The Chinese line of one violation: which constraint, what it required, what the plan
    holds and the shortfall (the English ``reason`` says why in more words)."""
    family = str(row["constraint"])
    label = CONSTRAINTS_ZH.get(family, family)
    required, planned = float(row["required_cny"]), float(row["planned_cny"])
    if family == "wam_limit":
        return f"{label}，平均剩余期限 {planned:.0f} 天，上限 {required:.0f} 天"
    short = float(row["shortfall_cny"])
    pct = float(row["shortfall_pct_of_aum"])
    return (
        f"{label}，要求 {_money_zh(required)}，计划 {_money_zh(planned)}，"
        f"缺口 {_money_zh(short)}（规模的 {pct:.2f}%）"
    )


def _money(value: float) -> str:
    return f"CNY {value / 1e6:,.1f} m"


def violations_frame(plan: PlanModel, solution: Solution) -> pd.DataFrame:
    """Every soft constraint the plan breaks, by how much and why.

    Columns: ``constraint`` (the family), ``product_id`` (or the channel of a sales plan),
    ``date`` (or the period's first day in the horizon), ``required_cny``, ``planned_cny``,
    ``shortfall_cny`` (for WAM: days above the cap × AUM), ``shortfall_pct_of_aum`` (of the
    product's reference AUM; for WAM the days above the cap), ``reason`` in plain words and
    ``reason_zh``, the line in Chinese (:func:`reason_zh`).
    """
    par = plan.parameters
    x = solution.x
    q = plan_quantities(plan, x)
    scale = par.scale
    ids = np.asarray(par.inputs.product_ids, dtype=object)
    dates = par.inputs.dates
    rows: list[dict[str, object]] = []
    tolerance = SLACK_TOLERANCE * par.aum_ref[:, None]
    aum_ref_cny = par.aum_ref * scale
    locked = (par.held_outstanding - par.held_liquid) * scale  # today's positions out of reach
    confidence = par.settings.liquidity.confidence

    def add(family: str, slack_name: str, required: np.ndarray, planned: np.ndarray, why) -> None:
        slack = _family(plan, x, slack_name)
        for i, t in zip(*np.nonzero(slack > tolerance), strict=True):
            short = slack[i, t] * scale
            rows.append(
                {
                    "constraint": family,
                    "product_id": ids[i],
                    "date": dates[t],
                    "required_cny": float(required[i, t]),
                    "planned_cny": float(planned[i, t]),
                    "shortfall_cny": float(short),
                    "shortfall_pct_of_aum": float(short / aum_ref_cny[i] * 100.0),
                    "reason": why(i, t),
                }
            )

    def buffer_reason(i: int, t: int) -> str:
        aum = q["aum"][i, t]
        reachable = aum - locked[i, t]
        need = par.required_buffer[i, t] * scale
        label = f"the p{round(confidence * 100)} redemption forecast ({_money(need)})"
        if par.settings.liquidity.window == "5d":
            label = (
                f"the p{round(confidence * 100)} redemption forecast of the next "
                f"{par.settings.liquidity.liquid_workdays} working days ({_money(need)})"
            )
        if need > aum:
            return f"{label} exceeds the product's entire AUM that day ({_money(aum)})"
        if reachable < need:
            return (
                f"{label} is above all the plan can hold liquid that day "
                f"({_money(reachable)}): {_money(locked[i, t])} of today's positions mature "
                f"after the {par.settings.liquidity.liquid_workdays}-working-day window"
            )
        return (
            "meeting it would cost more than the buffer penalty allows "
            "(penalties.buffer); raise the penalty to enforce it"
        )

    def floor_reason(ratio: np.ndarray, out_of_reach: np.ndarray, label: str):
        def why(i: int, t: int) -> str:
            reachable = q["aum"][i, t] - out_of_reach[i, t]
            need = ratio[i] * q["aum"][i, t]
            if reachable < need:
                return (
                    f"{label} can reach at most {_money(reachable)} against a floor of "
                    f"{_money(need)}: {_money(out_of_reach[i, t])} of today's positions are "
                    "tied up beyond it"
                )
            return "meeting it would cost more than its penalty allows"

        return why

    add(
        "buffer_covers_redemptions",
        "buffer_short",
        par.required_buffer * scale,
        q["buffer"],
        buffer_reason,
    )
    add(
        "liquidity_floor",
        "liquidity_short",
        par.min_liquid_ratio[:, None] * q["aum"],
        q["buffer"],
        floor_reason(par.min_liquid_ratio, locked, "liquid assets"),
    )
    not_cash_like = (par.held_outstanding - par.held_cash_like) * scale
    add(
        "cash_floor",
        "cash_short",
        par.min_cash_ratio[:, None] * q["aum"],
        q["cash_like"],
        floor_reason(par.min_cash_ratio, not_cash_like, "cash-like assets"),
    )

    ladder_floor = par.min_ladder_ratio[:, None] * q["aum"]
    beyond_ladder = (par.held_outstanding - par.held_ladder) * scale
    add(
        "maturity_ladder",
        "ladder_short",
        ladder_floor,
        ladder_floor - _family(plan, x, "ladder_short") * scale,
        floor_reason(
            par.min_ladder_ratio,
            beyond_ladder,
            f"cash and assets maturing within {par.settings.liquidity.ladder_days} days",
        ),
    )

    def days_off_reason(i: int, t: int) -> str:
        w = int(par.days_off_last_workday[t])
        return (
            f"nothing matures and nothing can be sold from {dates[w + 1]:%Y-%m-%d} to "
            f"{dates[t]:%Y-%m-%d} (days off): the p{round(confidence * 100)} redemptions of "
            f"those days ({_money(par.days_off_need[i, t] * scale)}) must be cash at the end "
            f"of {dates[w]:%Y-%m-%d}, and the plan cannot raise that much cash there"
        )

    off = np.broadcast_to(par.days_off_last_workday[None, :] >= 0, q["cash"].shape)
    work = np.maximum(par.days_off_last_workday, 0)
    add(
        "days_off_cover",
        "days_off_short",
        par.days_off_need * scale,
        np.where(off, q["cash"][:, work] + par.days_off_held_maturing * scale, np.nan),
        days_off_reason,
    )

    def needs_reason(i: int, t: int) -> str:
        level = round(float(par.needs_confidence[i, t]) * 100, 1)
        what = {
            "quantile": f"the p{level:g} of the money",
            "stress": "the stress floor (recent mean daily redemptions × "
            f"{par.settings.liquidity.stress_multiple:g}) of the money",
            "managed_cash": "the managed book's cash share of the money",
            "worst_days_off": "the worst net outflow of as many days off in the last year "
            "of the money",
            "managed_overnight": "the managed book's cash and overnight share of the money",
        }[NEED_BASES[par.needs_basis[i, t]]]
        return (
            f"{what} {ids[i]} may have to pay from the end of "
            f"{dates[0]:%Y-%m-%d} through {dates[t]:%Y-%m-%d} is more than its cash, what it "
            "buys that is back by then and what its book returns can pay: it may have to "
            "borrow or sell early"
        )

    needs_cny = par.needs * scale
    add(
        "cumulative_needs",
        "needs_short",
        needs_cny,
        needs_cny - _family(plan, x, "needs_short") * scale,
        needs_reason,
    )

    def overdraft_reason(i: int, t: int) -> str:
        return (
            f"expected redemptions of {_money(q['redemptions'][i, t])} exceed the cash and "
            "maturities available that day and what it can borrow: the plan needs an early sale"
        )

    add(
        "cash_balance",
        "overdraft",
        q["redemptions"],
        q["redemptions"] - q["overdraft"],
        overdraft_reason,
    )

    liquidity = par.settings.liquidity

    def shock_reason(i: int, t: int) -> str:
        return (
            f"a {liquidity.shock_bp:g} bp rise of the curve would leave a shadow-price "
            f"deviation of {q['shock_deviation_pct'][i, t]:.3f} % of net assets, below the "
            f"-{liquidity.max_shock_deviation_pct:g} % limit: the book is too long for the shock"
        )

    if liquidity.max_shock_deviation_pct > 0:
        lost = _family(plan, x, "deviation_excess") / par.shock_days_per_unit * scale
        allowed = liquidity.max_shock_deviation_pct / 100.0 * q["aum"]
        for i, t in zip(*np.nonzero(lost > tolerance * scale), strict=True):
            rows.append(
                {
                    "constraint": "shock_deviation",
                    "product_id": ids[i],
                    "date": dates[t],
                    "required_cny": float(allowed[i, t]),
                    "planned_cny": float(allowed[i, t] + lost[i, t]),
                    "shortfall_cny": float(lost[i, t]),
                    "shortfall_pct_of_aum": float(lost[i, t] / aum_ref_cny[i] * 100.0),
                    "reason": shock_reason(i, t),
                }
            )

    wam_excess = _family(plan, x, "wam_excess")
    for i, t in zip(*np.nonzero(wam_excess > tolerance * 1e-3), strict=True):
        days = wam_excess[i, t] / max(q["aum"][i, t] / scale, 1e-12)
        held_days = par.held_maturity_days[i, t] / max(q["aum"][i, t] / scale, 1e-12)
        rows.append(
            {
                "constraint": "wam_limit",
                "product_id": ids[i],
                "date": dates[t],
                "required_cny": float(par.max_wam_days[i]),
                "planned_cny": float(q["wam_days"][i, t]),
                "shortfall_cny": float(wam_excess[i, t] * scale),
                "shortfall_pct_of_aum": float(days),
                "reason": (
                    f"WAM {q['wam_days'][i, t]:.0f} days against a cap of "
                    f"{par.max_wam_days[i]:.0f}: today's positions alone contribute "
                    f"{held_days:.0f} days"
                ),
            }
        )

    short = _family(plan, x, "sales_short")
    for r in np.flatnonzero(short > SLACK_TOLERANCE * par.sales_need.clip(min=1e-9)):
        members = par.sales_products[r]
        days = par.sales_days[r]
        need = par.sales_need[r] * scale
        reachable = (par.demand_max[members][:, days]).sum() * scale
        raised = need - short[r] * scale
        label = par.sales_labels[r]
        channel = label.split(" ")[0]
        if reachable < need:
            why = (
                f"the channel's products together are forecast to attract at most "
                f"{_money(reachable)} in the horizon, even with all the exposure they can get"
            )
        else:
            why = (
                "its products could raise it only with more exposure than the day's budget "
                "leaves them, or with a dilution of their yields the sales-plan penalty does "
                "not justify"
            )
        rows.append(
            {
                "constraint": "sales_plan",
                "product_id": channel,
                "date": dates[int(np.flatnonzero(days)[0])],
                "required_cny": float(need),
                "planned_cny": float(raised),
                "shortfall_cny": float(short[r] * scale),
                "shortfall_pct_of_aum": float(
                    short[r] / max(par.aum_ref[members].sum(), 1e-12) * 100.0
                ),
                "reason": f"{label}: {why}",
            }
        )
    for row in rows:
        row["reason_zh"] = reason_zh(row)
    out = pd.DataFrame(rows, columns=list(VIOLATION_COLUMNS))
    return out.sort_values(["constraint", "product_id", "date"], ignore_index=True)


# The columns of PlanResult.summary(), one row per product (units in the names: CNY, percent of
# the planned AUM, percent a year, bp).
SUMMARY_COLUMNS = (
    "expected_aum_end_cny",
    "first_day_quota_cny",
    "quota_days",
    "closed_days",
    "refused_demand_cny",
    "first_day_purchases_cny",
    "purchases_cny",
    "exposure_vs_baseline",
    "buffer_pct_aum",
    "required_buffer_pct_aum",
    "days_below_requirement",
    "expected_yield_7d_pct",
    "target_yield_pct",
    "yield_gap_bp",
    "violations",
    "binding_constraints",
)


def plan_summary(
    plan: pd.DataFrame, violations: pd.DataFrame, binding: pd.DataFrame
) -> pd.DataFrame:
    """One row per product of a plan: the figures of :data:`SUMMARY_COLUMNS`.

    Args:
        plan: :func:`plan_frame`'s rows.
        violations: :func:`violations_frame`'s rows.
        binding: the explanations' summary (``constraint``, ``product_id``, ``binding_days``).

    Returns:
        Frame indexed by ``product_id``: expected AUM on the last day, the first day's quota
        (NaN = uncapped), days a quota binds and days closed, refused demand, purchases on the
        first day and over the horizon (all buckets), exposure over the baseline's (1 = as
        usual), mean buffer and requirement as percent of the mean planned AUM, days the buffer
        is below the requirement, mean expected 7-day yield and target (percent a year), mean
        absolute gap of the net yield to the target (bp), violations, and the binding
        constraints with their binding days.
    """
    rows = plan.sort_values(["product_id", "date"])
    purchases = [c for c in rows.columns if c.startswith(PURCHASE_PREFIX)]
    rows = rows.assign(
        _bought=rows[purchases].sum(axis=1) if purchases else 0.0,
        _gap=(rows["net_yield_pct"] - rows["target_yield_pct"]).abs() * 100,
        _short=rows["liquidity_buffer"] < rows["required_buffer"] * (1 - RATIO_TOLERANCE),
        _closed=~rows["subscriptions_open"].astype(bool),
    )
    by = rows.groupby("product_id", sort=True)
    aum = by["expected_aum"].mean().replace(0.0, np.nan)
    baseline = by["baseline_exposure"].sum().replace(0.0, np.nan)
    out = pd.DataFrame(
        {
            "expected_aum_end_cny": by["expected_aum"].last(),
            "first_day_quota_cny": by["quota"].first(),
            "quota_days": by["quota_binding"].sum().astype(int),
            "closed_days": by["_closed"].sum().astype(int),
            "refused_demand_cny": by["refused_demand"].sum(),
            "first_day_purchases_cny": by["_bought"].first(),
            "purchases_cny": by["_bought"].sum(),
            "exposure_vs_baseline": by["exposure"].sum() / baseline,
            "buffer_pct_aum": 100 * by["liquidity_buffer"].mean() / aum,
            "required_buffer_pct_aum": 100 * by["required_buffer"].mean() / aum,
            "days_below_requirement": by["_short"].sum().astype(int),
            "expected_yield_7d_pct": by["expected_yield_7d"].mean(),
            "target_yield_pct": by["target_yield_pct"].mean(),
            "yield_gap_bp": by["_gap"].mean(),
        }
    )
    counts = violations["product_id"].value_counts() if len(violations) else pd.Series(dtype=int)
    out["violations"] = counts.reindex(out.index, fill_value=0).astype(int)
    texts: dict[str, str] = {}
    if len(binding) and {"constraint", "product_id", "binding_days"} <= set(binding.columns):
        ordered = binding.sort_values("binding_days", ascending=False, kind="stable")
        for product, group in ordered.groupby("product_id", sort=False):
            texts[str(product)] = ", ".join(
                f"{c} ({int(d)} d)"
                for c, d in zip(group["constraint"], group["binding_days"], strict=True)
            )
    out["binding_constraints"] = [texts.get(str(p), "") for p in out.index]
    return out[list(SUMMARY_COLUMNS)]
