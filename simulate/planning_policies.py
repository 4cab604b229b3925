"""The planning policies of a backtest: the forecast and the optimiser in the loop.

Every morning of a replay, :class:`OptimizerPolicy` forecasts the next ``horizon_days`` days from
the data known the evening before (:class:`forecast.Forecaster`), re-plans them with
:func:`optimize.make_plan` starting from the replay's actual portfolio (handed over as its
``holdings=``; on the first day the ladder of the product's own mix, as for every policy), and
carries out the plan's first day (:func:`plan_decision`): its quota, its exposure, its purchases
per bucket and the liquid money it keeps. Every liquidity rule lives in the plan (the cumulative
needs E27 at ``liquidity.next_days_confidence`` through the next working day with a stress
floor, the buffer E15, the floors, the ladder E26, the regime's defence), so the daily plan
report shows the liquidity the backtest carries out. The forecaster is fitted in full
(backtest, selection, residuals, exposure response) on the day before the window, then refitted
on the data known every ``refit_every_days`` days (weekly by default) and asked for a new
forecast every day.

:class:`OraclePolicy` is the same optimiser fed the actual future instead of a forecast: the
demand the replay will meet (history's, at history's exposure, with the world's exposure
response), the redemptions it will meet (history's scaled to the replayed AUM, as
:mod:`simulate.replay` does), without uncertainty. Its improvement is the yardstick of what
better forecasts could buy the optimizer; it bounds the optimizer's objective, not the SPEC §4
figures, so a forecast-driven plan can land below it.
"""

from __future__ import annotations

import math
import time
import warnings
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any

import numpy as np
import pandas as pd

from rainmaker.china_calendar import Workdays, day_number, to_timestamp
from rainmaker.contracts import PURCHASE_PREFIX, ForecastResult
from rainmaker.dataset import Dataset
from rainmaker.quantiles import DEFAULT_QUANTILES, quantile_label
from simulate.policies import TERM_BUCKETS, Decision, Policy, ProductDecision, ReplayState
from simulate.refits import REFIT_LAG_DAYS, WORKER_WARMUP_DAYS, Refits

__all__ = [
    "OptimizerPolicy",
    "OraclePolicy",
    "PlanningPolicy",
    "days_off_redemptions",
    "perfect_forecast",
    "plan_decision",
]

# The backtest re-plans every day: a solve that stops early on its gap or time limit costs a
# little optimality on one day, which tomorrow's re-plan corrects.
BACKTEST_PLAN_OVERRIDES: Mapping[str, Mapping[str, Any]] = {
    "solver": {
        "time_limit_s": 5.0,
        "mip_rel_gap": 0.01,
        "explain": False,
        "search_max_integers": 0,
    },
}


class PlanningPolicy(Policy):
    """Forecast (or foresight) + plan every morning; subclasses say where the forecast comes
    from.

    Args:
        horizon_days: days forecast and planned every morning.
        refit_every_days: days between refits of the forecast models.
        forecast_models: forecast models to select among (``None``: the forecast's defaults).
        seed: seed of the forecast's sample paths and models.
        plan_overrides: optimizer settings changed for the backtest, as
            ``{"section": {"key": value}}`` (see ``optimize/defaults.toml``); default
            :data:`BACKTEST_PLAN_OVERRIDES`.
    """

    def __init__(
        self,
        horizon_days: int = 14,
        refit_every_days: int = 7,
        forecast_models: Sequence[str] | None = None,
        seed: int = 0,
        plan_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.horizon_days = int(horizon_days)
        self.refit_every_days = int(refit_every_days)
        self.forecast_models = tuple(forecast_models) if forecast_models else None
        self.seed = int(seed)
        self.plan_overrides = {
            k: dict(v) for k, v in (plan_overrides or BACKTEST_PLAN_OVERRIDES).items()
        }
        self._settings: Any = None
        self.plan_seconds: list[float] = []
        self.forecast_seconds: list[float] = []

    def timings(self) -> dict[str, float]:
        plans = np.asarray(self.plan_seconds)
        return {
            "forecast_s": float(sum(self.forecast_seconds)),
            "plan_s": float(plans.sum()),
            "plan_max_s": float(plans.max()) if plans.size else 0.0,
            "plans": float(plans.size),
        }

    def params(self) -> dict[str, object]:
        return {
            "horizon_days": self.horizon_days,
            "refit_every_days": self.refit_every_days,
            "forecast_models": ",".join(self.forecast_models or ()) or "default",
            "seed": self.seed,
            "plan_overrides": self.plan_overrides,
        }

    def _plan_settings(self) -> Any:
        if self._settings is None:
            from optimize import load_settings  # start-up time: optimize loads Pyomo and HiGHS

            overrides = {k: dict(v) for k, v in self.plan_overrides.items()}
            overrides.setdefault("horizon", {})["days"] = self.horizon_days
            self._settings = load_settings(overrides=overrides)
        return self._settings

    @abstractmethod
    def forecast(self, state: ReplayState, history: Dataset) -> ForecastResult:
        """The forecast the plan is made from (:class:`rainmaker.contracts.ForecastResult`)."""

    def decide(self, state: ReplayState, day: pd.Timestamp) -> Decision:
        from optimize import make_plan  # start-up time: optimize loads Pyomo and HiGHS

        history = state.history
        known, _ = history.products_on(state.as_of)
        planned = [p for p in state.product_ids if p in known]
        if not planned:
            return Decision({})
        began = time.perf_counter()
        forecast = self.forecast(state, history)
        self.forecast_seconds.append(time.perf_counter() - began)
        began = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # the replay's portfolio, not a default ladder: on the first day it is the ladder
            # of the product's own mix (simulate.replay), later whatever the plans built
            # the book each product was managed with before the replay: the plan never holds
            # less liquidity than it (liquidity.managed_floor)
            result = make_plan(
                history,
                state.as_of,
                forecast,
                self._plan_settings(),
                holdings=state.holdings,
                managed={p: state.managed_of(p).weights for p in planned},
                borrowed=state.borrowed,
            )
        self.plan_seconds.append(time.perf_counter() - began)
        return plan_decision(result.plan, day, state)


def plan_decision(plan: pd.DataFrame, day: pd.Timestamp, state: ReplayState) -> Decision:
    """The decisions of ``day`` read from a plan (``PlanResult.plan``, its first day).

    - ``quota`` as planned (empty = uncapped, 0 = closed);
    - ``exposure`` where the plan steers it (it differs from the forecast's baseline, or the
      product has exposure slots); elsewhere history's exposure is kept;
    - ``purchase_<bucket>`` of the term buckets as planned;
    - ``keep_liquid``: the plan's column of that name, the cash and overnight repo it holds at
      the end of the day (within the product's AUM), which
      pay its liquidity needs (E27) through the next working day; ``cash_target``: the part
      of it kept as cash (what the days off right after today are paid from);
    - ``borrow``: the repo borrowing the plan holds at the end of the day (E28), which the
      world takes only as far as money on hand falls short of the cash target; on the last
      working day before days off, as far as the leverage cap allows;
    - on that day, ``expected_redemptions`` (the plan's expectation of the day's redemptions,
      also ``surprise_above``: the day's redemptions past which tonight's cash grows),
      ``days_off_redemptions`` (the plan's expected redemptions of the days off), and the
      plan's ``defence`` (the product's regime).

    The executor (:class:`simulate.policies.DecisionAllocation`) carries these out as they
    are when the day's flows come out as the plan expected; when they come out worse, the
    term purchases give way, never the liquid money the plan holds; when better, the surplus
    is lent overnight. That is all it adds: every liquidity rule is the plan's.

    The one exception is the afternoon before days off. The days off are paid from tonight's
    cash alone (the interbank market is closed), and the plan sized it in the morning, before
    the day's redemptions were known. When they come in above the plan's expectation,
    tonight's cash is scaled by how far they ran above it
    (:meth:`simulate.policies.ProductDecision.cash_to_hold`: a run persists, and the
    forecast's errors are ratios of the level, so a day at k × its expectation says the days
    off's whole distribution is k times larger). Scaled only past the plan's quantile of the
    day's redemptions, a Friday half above its expectation but inside the quantile kept the
    morning's cash (P03 of the sample, 2020-05-29, ``combined2020``: CNY 807 m redeemed
    against 548 m expected), and the weekend, 1.79 × its expectation, was CNY 57 m short on
    the Sunday. What money on
    hand lacks of it is borrowed by pledged repo that afternoon, as far as the leverage cap
    allows. What the cap leaves short of the plan's expected redemptions of the days off is
    raised by early sales at market value: fire sales come last, but holders left unpaid over
    a weekend are worse. In calm, sales stop at the plan's expectation, neither the cash
    target's quantile nor the day's pace: a sale is a shortfall for certain, what lies beyond
    the expectation only a chance of one (selling to the cash target sold CNY 2.3 bn on two
    Fridays of the sample's y2020 window, and to the expectation scaled by the day's pace
    0.5 bn on one, whose weekends the borrowed cash paid anyway; to the expectation, 37 m).
    For a product in defence (``defence``, the plan's regime) the expectation is scaled by
    the day's pace too (:meth:`simulate.policies.ProductDecision.cash_to_sell_for`): a run
    peaking on the eve of Dragon Boat 2020 (the ``combined2020`` panel window) left
    CNY 1.5 bn unpaid over the holiday with the leverage cap reached and the morning's
    expectation sold. In defence that expectation is also the least cash tonight, borrowed
    and then sold for, whatever the plan's cash target: the plan counts no subscription for a
    run's days off and never sells today for a need, so at the leverage cap its cash target is
    only what it holds without a sale (seed 53's ``plateau45``: P09 held CNY 144 m on Friday
    2021-03-26 for a weekend it expected to ask 352 m; it asked 267 m and 80 m went unpaid).

    P05 of the sample drawn with seed 7, Friday 2020-11-13, the first heavy day of its wave:
    CNY 1.19 bn redeemed (7.7 % of AUM; Thursday 0.53 bn). The plan's 0.94 bn of cash left
    CNY 91 m unpaid on the Sunday; scaled, tonight's cash was 2.19 bn (1.25 bn borrowed,
    repaid on Monday) and paid the weekend.
    """
    dates = pd.to_datetime(plan["date"])
    rows = plan.loc[dates == day]
    out: dict[str, ProductDecision] = {}
    term = {
        c: c.removeprefix(PURCHASE_PREFIX)
        for c in plan.columns
        if c.startswith(PURCHASE_PREFIX) and c.removeprefix(PURCHASE_PREFIX) in TERM_BUCKETS
    }
    before_days_off = state.workdays.before_days_off(day_number(day))
    days_off = days_off_redemptions(plan, day, state.workdays)
    for row in rows.itertuples(index=False):
        values = row._asdict()
        pid = str(values["product_id"])
        if pid not in state.portfolios:
            continue
        quota = float(values["quota"])
        exposure = float(values["exposure"])
        baseline = float(values["baseline_exposure"])
        steered = values["exposure_slots"] > 0 or abs(exposure - baseline) > 1e-9 * max(
            1.0, abs(baseline)
        )
        aum = state.portfolios[pid].aum
        cash = min(max(float(values["cash"]), 0.0), aum)
        expected = _finite_amount(values.get("expected_redemptions", 0.0))
        out[pid] = ProductDecision(
            quota=max(quota, 0.0) if math.isfinite(quota) else math.inf,
            purchases={b: max(float(values[c]), 0.0) + 0.0 for c, b in term.items()},
            cash_target=cash,
            keep_liquid=min(float(values["keep_liquid"]), aum),
            borrow=math.inf
            if before_days_off
            else max(float(values.get("repo_borrowing", 0.0)), 0.0),
            surprise_above=expected if before_days_off and expected > 0 else math.inf,
            expected_redemptions=expected,
            days_off_redemptions=days_off.get(pid, 0.0),
            defence=bool(values.get("defence", False)),
            exposure=max(exposure, 0.0) if steered and math.isfinite(exposure) else math.nan,
        )
    return Decision(out)


def days_off_redemptions(
    plan: pd.DataFrame, day: pd.Timestamp, workdays: Workdays
) -> dict[str, float]:
    """Per product, the plan's expected redemptions of the days off right after ``day``, CNY:
    what the eve's sales may raise, and in defence the least cash tonight
    (:class:`simulate.policies.ProductDecision`); empty when ``day`` is no eve of days off or
    the plan has no ``expected_redemptions``. The daily report quotes the same figure."""
    t = day_number(day)
    if not workdays.before_days_off(t) or "expected_redemptions" not in plan.columns:
        return {}
    dates = pd.to_datetime(plan["date"])
    back = to_timestamp(workdays.next_workday(t))
    days_off = plan.loc[(dates > day) & (dates < back)]
    return {
        str(pid): _finite_amount(amount)
        for pid, amount in days_off.groupby("product_id")["expected_redemptions"].sum().items()
    }


def _finite_amount(value: Any) -> float:
    """A plan's amount as a finite CNY ≥ 0 (0 for a missing or NaN cell)."""
    amount = float(value) if value is not None else 0.0
    return amount if math.isfinite(amount) and amount > 0 else 0.0


class OptimizerPolicy(PlanningPolicy):
    """``optimizer``: forecast + plan re-made every morning from what was known the evening
    before (see the module docstring)."""

    name = "optimizer"

    def __init__(self, *args: Any, background_refits: bool = False, **kwargs: Any) -> None:
        """Args as :class:`PlanningPolicy`, and ``background_refits``: run the weekly refits
        in a worker process beside the replay (:mod:`simulate.refits`; the results are the
        same either way; see :class:`simulate.backtest.PolicyOptions` for the caller's part)."""
        super().__init__(*args, **kwargs)
        self._forecaster: Any = None
        self._fitted_on: pd.Timestamp | None = None
        self._refits = Refits(background=background_refits)
        # refits under way, each with the first day it serves, in the order they were due
        self._pending: list[tuple[pd.Timestamp, Future[Any]]] = []
        self.refit_wait_seconds = 0.0

    def forecast(self, state: ReplayState, history: Dataset) -> ForecastResult:
        from forecast import DEFAULT_MODELS, Forecaster  # start-up time: LightGBM, statsmodels

        as_of = state.as_of
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self._forecaster is None:
                self._forecaster = Forecaster(
                    models=self.forecast_models or DEFAULT_MODELS,
                    horizon=self.horizon_days,
                    seed=self.seed,
                ).fit(history, as_of)
                self._fitted_on = as_of
            else:
                self._take_refit(as_of)
                if (as_of - self._fitted_on).days >= self.refit_every_days - WORKER_WARMUP_DAYS:
                    self._refits.start()  # the worker imports the forecast before it is needed
                if (as_of - self._fitted_on).days >= self.refit_every_days:
                    # fitted on what is known this morning, serving from REFIT_LAG_DAYS on
                    serves = as_of + pd.Timedelta(days=REFIT_LAG_DAYS)
                    future = self._refits.submit(self._forecaster, history, as_of)
                    self._pending.append((serves, future))
                    self._fitted_on = as_of
            return self._forecaster.predict(history, as_of, self.horizon_days)

    def _take_refit(self, as_of: pd.Timestamp) -> None:
        """From the day a pending refit serves, forecast with it (waiting for it if needed;
        of two that serve by ``as_of``, the later)."""
        serving = [future for serves, future in self._pending if serves <= as_of]
        if not serving:
            return
        self._pending = [(serves, f) for serves, f in self._pending if serves > as_of]
        began = time.perf_counter()
        for future in serving:  # one worker fits them in turn: the last one ends last
            refitted = self._refits.result(future)
        self._forecaster = refitted
        self.refit_wait_seconds += time.perf_counter() - began

    def timings(self) -> dict[str, float]:
        return {**super().timings(), "refit_wait_s": self.refit_wait_seconds}

    def params(self) -> dict[str, object]:
        return {**super().params(), "refit_lag_days": REFIT_LAG_DAYS}

    def close(self) -> None:
        self._refits.close()
        self._pending = []


class OraclePolicy(PlanningPolicy):
    """``oracle``: the optimiser fed the actual future flows (see the module docstring)."""

    name = "oracle"
    sees_future = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._response: pd.DataFrame | None = None

    def forecast(self, state: ReplayState, history: Dataset) -> ForecastResult:
        if state.future is None:
            raise RuntimeError("the oracle needs the replay to hand it the full data set")
        if self._response is None:
            self._response = _world_response(state)
        return perfect_forecast(state, history, self.horizon_days, self._response)


def _world_response(state: ReplayState) -> pd.DataFrame:
    """The exposure response of the replay's world, as the forecast gives it (columns ``a``,
    ``e0`` by ``product_id``): the very curves the replay moves demand with (its one home is
    :class:`simulate.replay._WorldResponse`, handed over as ``state.world_response``)."""
    if state.world_response is None:
        raise RuntimeError("the oracle needs the replay to hand it the world's response curves")
    curves = state.world_response()
    return pd.DataFrame(
        {"a": [c.a for c in curves.values()], "e0": [c.e0 for c in curves.values()]},
        index=pd.Index(list(curves), name="product_id"),
        dtype=float,
    )


def perfect_forecast(
    state: ReplayState, history: Dataset, horizon: int, response: pd.DataFrame
) -> ForecastResult:
    """A :class:`rainmaker.contracts.ForecastResult` that knows the future the replay will meet.

    For the days after ``state.as_of`` (at most ``horizon``, fewer near the end of the data):
    subscriptions = the future's ``demand`` (else ``subscriptions``) at history's exposure,
    redemptions = history's scaled by the replayed over the historical AUM of the as-of day, net
    flow and AUM rolled from the replayed AUM. One sample path; every quantile equals the mean.

    Args:
        state: the replay's state (its ``future`` is the full data set).
        history: the data known on the as-of day (for the replayed AUM).
        horizon: days wanted.
        response: exposure response per product (columns ``a``, ``e0``), as the forecast
            gives it.
    """
    future = state.future
    assert future is not None
    as_of = state.as_of
    flows = future.flows
    last = pd.Timestamp(flows["date"].max())
    days = min(horizon, int((last - as_of).days))
    dates = pd.date_range(as_of + pd.Timedelta(days=1), periods=days, freq="D", name="date")
    known = history.flows.loc[history.flows["date"] == as_of].set_index("product_id")
    ids = tuple(p for p in state.product_ids if p in known.index)
    ahead = flows.loc[flows["date"].isin(dates) & flows["product_id"].isin(ids)]
    ahead = ahead.set_index(["product_id", "date"])
    past = flows.loc[flows["date"] == as_of].set_index("product_id")

    def wide(column: str) -> np.ndarray:
        values = ahead[column].unstack("date").reindex(index=list(ids), columns=dates)
        return values.to_numpy(dtype=float)

    demand = wide("demand") if "demand" in ahead.columns else wide("subscriptions")
    demand = np.where(np.isnan(demand), wide("subscriptions"), demand)
    aum_replay = known.loc[list(ids), "aum"].to_numpy(dtype=float)
    aum_history = past.reindex(list(ids))["aum"].to_numpy(dtype=float)
    ratio = np.where(aum_history > 0, aum_replay / np.where(aum_history > 0, aum_history, 1), 1.0)
    redemptions = wide("redemptions") * ratio[:, None]
    demand, redemptions = np.nan_to_num(demand), np.nan_to_num(redemptions)
    net = demand - redemptions
    aum = aum_replay[:, None] + np.cumsum(net, axis=1)
    paths = {
        "subscriptions": demand[:, None, :],
        "redemptions": redemptions[:, None, :],
        "net_flow": net[:, None, :],
        "aum": aum[:, None, :],
    }
    frames = []
    for variable, values in paths.items():
        flat = values[:, 0, :].reshape(-1)
        frame = pd.DataFrame(
            {
                "product_id": np.repeat(np.asarray(ids, dtype=object), days),
                "date": np.tile(dates.to_numpy(), len(ids)),
                "variable": variable,
                "mean": flat,
            }
        )
        for q in DEFAULT_QUANTILES:
            frame[quantile_label(q)] = flat
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True).sort_values(
        ["product_id", "date"], kind="stable", ignore_index=True
    )
    exposure = wide("exposure").T if "exposure" in ahead.columns else np.zeros((days, len(ids)))
    return ForecastResult(
        table=table,
        paths=paths,
        product_ids=ids,
        baseline_exposure=pd.DataFrame(np.nan_to_num(exposure), index=dates, columns=list(ids)),
        exposure_response=response.reindex(list(ids)),
        model_name="oracle",
        as_of=as_of,
        horizon=days,
        quantiles=tuple(DEFAULT_QUANTILES),
        point={"subscriptions": demand, "redemptions": redemptions},
    )
