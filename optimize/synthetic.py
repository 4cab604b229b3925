"""Seeded synthetic plan inputs, for tests and benchmarks that must not wait for a forecast.

Test and benchmark data only, not part of the public API (docs/api.md): nothing in forecast,
optimize, simulate or the application uses it.

:func:`synthetic_inputs` draws P products of a few to some tens of billions of CNY with daily
demand and redemptions of 1–3 % of AUM, shaped by the real Chinese calendar (weekends and
holidays quieter, demand peaking two working days before a holiday), redemption quantiles from a
per-product coefficient of variation, a default-ladder portfolio priced at fixed money-market
rates, baseline marketing exposure with a response curve per product, three distribution
channels with a sales requirement each, and a smooth target yield path. The same seed gives the
same inputs on every machine (numpy ``default_rng``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimize.inputs import (
    CALENDAR_MARGIN_DAYS,
    LOOKBACK_DAYS,
    RECENT_DAYS,
    PlanInputs,
    portfolio_yield_pct,
    target_yield_path,
)
from optimize.portfolio import default_ladder
from optimize.sales_plan import REQUIREMENT_COLUMNS
from optimize.settings import PlanSettings
from rainmaker.assets import BUCKETS, rate_fallbacks
from rainmaker.china_calendar import calendar_features, workday_flags

__all__ = ["MARKET_RATES_PCT", "synthetic_inputs"]

# Money-market rates of a calm day (percent p.a.), roughly mid-2021.
MARKET_RATES_PCT = {"shibor_on": 1.95, "shibor_1w": 2.15, "shibor_1m": 2.40, "shibor_3m": 2.48}
CHANNELS = ("app", "branch", "partner")
# z-scores of the normal quantiles used to spread redemptions around their mean.
Z_SCORES = {0.5: 0.0, 0.9: 1.2816, 0.95: 1.6449, 0.975: 1.9600, 0.99: 2.3263}


def synthetic_inputs(
    n_products: int = 12,
    horizon: int = 14,
    seed: int = 0,
    as_of: str | pd.Timestamp = "2021-09-24",
    settings: PlanSettings | None = None,
    *,
    redemption_stress: float = 1.0,
    sales_share: float = 0.8,
    exposure: bool = True,
) -> PlanInputs:
    """Synthetic plan inputs.

    Args:
        n_products: P.
        horizon: H, days after ``as_of``.
        seed: random seed.
        as_of: today (the default is the Friday before the 2021 National Day week).
        settings: supplies the default ladder and the target pace (defaults when None).
        redemption_stress: multiplies redemptions and their quantiles (e.g. 20 makes the
            buffer unreachable, to exercise the elastic constraints).
        sales_share: each channel must raise this share of its expected demand over the
            horizon (0 turns the sales plan off).
        exposure: give products a baseline exposure and a response curve.
    """
    settings = settings or PlanSettings()
    rng = np.random.default_rng(seed)
    today = pd.Timestamp(as_of).normalize()
    dates = pd.date_range(today + pd.Timedelta(days=1), periods=horizon, freq="D")
    ids = tuple(f"P{i + 1:04d}" for i in range(n_products))
    p = n_products

    aum = np.round(np.exp(rng.normal(np.log(2e10), 0.8, p)), -4)
    calendar = calendar_features(dates[0], dates[-1])
    quiet = np.where(calendar["is_workday"], 1.0, 0.6) * np.where(calendar["in_holiday"], 0.5, 1.0)
    pre_holiday = np.where(calendar["business_days_to_holiday"].isin([1.0, 2.0]), 1.6, 1.0)
    demand_rate = rng.uniform(0.01, 0.03, p)
    redemption_rate = rng.uniform(0.01, 0.03, p)
    noise = rng.lognormal(0.0, 0.2, (2, p, horizon))
    demand = aum[:, None] * demand_rate[:, None] * (quiet * pre_holiday)[None, :] * noise[0]
    redemptions = (
        aum[:, None] * redemption_rate[:, None] * quiet[None, :] * noise[1] * redemption_stress
    )
    cv = rng.uniform(0.2, 0.5, p)
    quantiles = {q: redemptions * (1.0 + z * cv[:, None]) for q, z in Z_SCORES.items()}

    flags = workday_flags(
        today - pd.Timedelta(days=LOOKBACK_DAYS),
        dates[-1] + pd.Timedelta(days=CALENDAR_MARGIN_DAYS),
    )
    history_days = pd.date_range(today - pd.Timedelta(days=LOOKBACK_DAYS), today, freq="D")
    priced_off = rate_fallbacks(MARKET_RATES_PCT)
    rates = {
        b.name: float(b.rate_pct(MARKET_RATES_PCT[priced_off.get(b.name, b.rate_column)]))
        for b in BUCKETS
    }
    drift = rng.normal(0.0, 0.05, len(history_days)).cumsum() * 0.1
    history = pd.DataFrame(
        {name: np.maximum(rate + drift, 0.0) for name, rate in rates.items()}, index=history_days
    )
    holdings = default_ladder(ids, aum, settings.portfolio, history, today, flags)
    fee_bp = np.round(rng.uniform(15, 40, p), 1)
    now = portfolio_yield_pct(holdings, ids, aum, fee_bp, rates["cash"])
    goal = sum(settings.portfolio.get(b.name, 0.0) * rates[b.name] for b in BUCKETS) - fee_bp / 100
    target = target_yield_path(now, goal, horizon, settings.targets.yield_time_constant_days)

    if exposure:
        level = rng.uniform(1_000, 5_000, p)
        baseline = level[:, None] * np.where(calendar["is_workday"], 1.0, 0.7)[None, :]
        response_a = rng.uniform(0.2, 0.8, p)
        response_e0 = level * rng.uniform(0.5, 2.0, p)
    else:
        baseline = np.zeros((p, horizon))
        response_a = np.zeros(p)
        response_e0 = np.ones(p)

    channels = tuple(CHANNELS[i % len(CHANNELS)] for i in range(p))
    rows = []
    if sales_share > 0:
        for name in CHANNELS:
            members = np.array([c == name for c in channels])
            if members.any():
                rows.append(
                    {
                        "channel": name,
                        "start": dates[0],
                        "end": dates[-1],
                        "target_cny": float(sales_share * demand[members].sum()),
                        "achieved_cny": 0.0,
                        "need_cny": float(sales_share * demand[members].sum()),
                        "first_day": 0,
                        "last_day": horizon - 1,
                    }
                )
    sales = pd.DataFrame(
        rows,
        columns=list(REQUIREMENT_COLUMNS),
    )
    recent = np.repeat((now / 100 / 365 * 10_000)[:, None], RECENT_DAYS, axis=1)
    open_today = np.ones(p, dtype=bool)
    return PlanInputs(
        as_of=today,
        product_ids=ids,
        dates=dates,
        demand=demand,
        redemptions=redemptions,
        redemption_quantiles=quantiles,
        aum_today=aum,
        fee_bp=fee_bp,
        holdings=holdings,
        rates_pct=rates,
        target_yield_pct=target,
        target_aum=aum.copy(),
        min_liquid_ratio=np.full(p, settings.liquidity.min_liquid_ratio),
        min_cash_ratio=np.full(p, settings.liquidity.min_cash_ratio),
        max_wam_days=np.full(p, settings.liquidity.max_wam_days),
        open_today=open_today,
        baseline_exposure=baseline,
        response_a=response_a,
        response_e0=response_e0,
        channels=channels,
        sales=sales,
        recent_income_per_10k=recent,
        workday=flags.loc[today:],
    )
