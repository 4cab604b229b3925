"""A realistic, seeded synthetic data set: products, daily flows and the real Shibor market.

:func:`generate_sample` writes ``products.csv``, ``flows.csv``, ``market.csv`` (SPEC §1),
``exposure_response.csv`` (the true response curves), ``investment_mix.csv`` (each product's true
investment rule, :mod:`rainmaker.investment_mix`) and a ``README.md`` describing them (with
every parameter and the measured figures) into a folder, bit for bit the same for the same
:class:`SampleConfig`. Regenerate the committed sample with ``rainmaker sample --out data/sample``
or ``python -m simulate.synthetic --out data/sample``.

The data-generating process (every parameter is a field of :class:`SampleConfig`,
:class:`ProductSpec` or :class:`simulate.flows.DemandDrivers`):

- **Market**: real Shibor (:mod:`simulate.market`); the benchmark is the 7-day yield of a peer
  portfolio rolled with :mod:`simulate.portfolio`, lagging Shibor by about 27 days.
- **Products**: ``n_products`` products of ``n_issuers`` issuers, ``n_fixed_income`` of them
  short-term fixed-income, the last one launched ``new_product_weeks`` before the end. Starting
  AUM is spread geometrically over ``aum_range_cny``; each product has its own fees, asset mix,
  channel (which sets its corporate share), flow rates, sensitivities, exposure and noise.
- **Flows**, all products jointly, one calendar day at a time, because demand reacts to the
  yields published the day before:

  ``demand = level · calendar · stress · yield · exposure · noise``;
  ``subscriptions = min(demand, quota)``;
  ``redemptions = min(AUM(t−1) · redemption_rate · calendar · stress · yield · noise,
  ½·AUM(t−1))``.

  ``level`` is the product's customer base: ``redemption_rate · AUM(0)`` (times the ratio of the
  mean calendar multipliers, so that flows balance at the start), growing ``growth_pct`` a year
  with a random walk of σ = 0.6 % a day. The calendar, stress, yield and exposure multipliers are
  those of :mod:`simulate.flows`; noise is lognormal with mean one: a factor common to all
  products (σ = 0.08), an idiosyncratic daily one (σ per product) and a persistent AR(1) one
  (φ = 0.92, stationary σ = 0.20 for subscriptions and 0.12 for redemptions), so that flows come
  in waves lasting weeks.
- **Quotas**: some products cap subscriptions on the 1–2 business days before holidays of three
  days or more at ``holiday_cap_fraction`` of their level (rounded down to 1 million CNY); two
  carry a standing cap on working days during a window (``standing_caps``) at a multiple of
  their level (rounded to 10 million CNY).
- **Portfolios**: each product is a :class:`simulate.portfolio.Portfolio` started from a steady
  ladder of its mix and invested with :class:`simulate.portfolio.TargetMix` (new money enters
  term buckets at most ``max_daily_purchase_pct`` of AUM a day, so waves of new money wait in
  overnight repo and dilute the yield); its net income gives
  ``income_per_10k`` (published to 4 decimals) and ``yield_7d`` (``rainmaker.yields.yield_7d`` of
  the published 万份收益, 4 decimals); ``aum`` rolls forward exactly, to the fen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rainmaker.assets import SHIBOR_COLUMNS, bucket_rates
from rainmaker.china_calendar import calendar_features
from rainmaker.investment_mix import ManagedMix, investment_mix_frame
from rainmaker.response import ExposureResponse
from rainmaker.yields import headline_figures, yield_7d
from simulate.flows import (
    DemandDrivers,
    calendar_multipliers,
    campaign_exposure,
    demand_exposure_factor,
    stress_multipliers,
    yield_multipliers,
)
from simulate.market import daily_market, load_shibor, peer_benchmark
from simulate.portfolio import DEFAULT_MIX, Portfolio, TargetMix

__all__ = [
    "MIX_STYLES",
    "yield_figures",
    "ProductSpec",
    "SampleConfig",
    "SampleData",
    "simulate_sample",
]

ISSUER_NAMES = ("Alder WM", "Birch WM", "Cedar WM", "Dogwood WM", "Elm WM", "Fir WM", "Gingko WM")
CHANNELS = {
    "mobile_app": 0.3,
    "partner_platform": 0.5,
    "corporate_portal": 0.8,
}  # -> corporate share
# Bucket mixes (shares of AUM). "overnight" products track Shibor O/N closely and are the most
# volatile; "ladder" products hold long NCD ladders; fixed-income products hold the longest book.
MIX_STYLES: dict[str, dict[str, float]] = {
    "overnight": {"cash": 0.06, "repo_1d": 0.34, "repo_7d": 0.20, "ncd_1m": 0.25, "ncd_3m": 0.15},
    "balanced": dict(DEFAULT_MIX),
    "ladder": {"cash": 0.05, "repo_1d": 0.08, "repo_7d": 0.12, "ncd_1m": 0.30, "ncd_3m": 0.45},
    "term": {"cash": 0.03, "repo_1d": 0.05, "repo_7d": 0.07, "ncd_1m": 0.20, "ncd_3m": 0.65},
}
STYLE_ODDS = {"overnight": 0.35, "balanced": 0.4, "ladder": 0.25}  # cash-management products
COMMON_NOISE_SIGMA = 0.08
# Flows come in waves that last weeks: an AR(1) in log demand with this daily persistence and
# stationary standard deviation.
PERSISTENT_PHI = 0.92
PERSISTENT_SIGMA_SUBSCRIPTIONS = 0.20
PERSISTENT_SIGMA_REDEMPTIONS = 0.12
LEVEL_WALK_SIGMA = 0.006
MAX_REDEMPTION_SHARE = 0.5  # of yesterday's AUM: redemptions never exceed AUM
# The world the committed sample was drawn in: lots sold early at a flat 10 bp haircut of the
# principal on any day, no repo borrowing. The replay's world sells at market value and borrows
# (simulate.portfolio); the generator keeps its own so that the sample stays bit for bit.
SAMPLE_WORLD: dict[str, Any] = {"early_sale_haircut_bp": 10.0, "max_leverage": 1.0}
QUOTA_HOLIDAY_ROUNDING_CNY = 1e6
QUOTA_STANDING_ROUNDING_CNY = 1e7
HOLIDAY_CAP_MIN_LENGTH = 3
TABLES = (
    "products",
    "flows",
    "market",
    "exposure_response",
    "investment_mix",
)  # the CSV files written


@dataclass(frozen=True)
class SampleConfig:
    """What to generate. Dates are ISO strings; amounts CNY; rates percent.

    Attributes:
        seed: seed of every random draw.
        n_products: products (≥ 3: fixed-income ones and a new product are included).
        n_issuers: wealth-management companies the products belong to (≤ 7).
        n_fixed_income: short-term fixed-income products among them.
        start, end: first and last day of flows.
        market_lead_days: market.csv starts this many days before ``start``.
        new_product_weeks: the last product is launched this many weeks before ``end``.
        aum_range_cny: smallest and largest starting AUM.
        growth_range_pct: range of the products' yearly growth of demand.
        redemption_rate_range_pct: range of the weekday redemption rate, percent of AUM a day.
        max_daily_purchase_pct: range of the managers' daily purchase cap per term bucket,
            percent of AUM.
        n_holiday_capped: products that cap subscriptions before holidays.
        holiday_cap_fraction: their cap, as a share of the product's demand level.
        standing_caps: ``(first day, last day, multiple of the demand level)`` of the standing
            working-day caps, one per capped product.
        stress_start, stress_days: first day and length of the redemption wave.
        campaigns_per_year: mean number of marketing campaigns per product per year.
        drivers: the demand multipliers.
    """

    seed: int = 20240601
    n_products: int = 16
    n_issuers: int = 5
    n_fixed_income: int = 2
    start: str = "2019-01-01"
    end: str = "2022-06-15"
    market_lead_days: int = 31
    new_product_weeks: int = 8
    aum_range_cny: tuple[float, float] = (2.5e9, 55e9)
    growth_range_pct: tuple[float, float] = (0.0, 12.0)
    redemption_rate_range_pct: tuple[float, float] = (2.0, 3.5)
    max_daily_purchase_pct: tuple[float, float] = (0.3, 1.0)
    n_holiday_capped: int = 5
    holiday_cap_fraction: tuple[float, float] = (0.8, 1.2)
    standing_caps: tuple[tuple[str, str, float], ...] = (
        ("2020-03-01", "2020-09-30", 1.5),
        ("2021-07-01", "2022-06-15", 1.4),
    )
    stress_start: str = "2020-11-11"
    stress_days: int = 14
    campaigns_per_year: float = 3.0
    drivers: DemandDrivers = field(default_factory=DemandDrivers)


@dataclass(frozen=True)
class ProductSpec:
    """One product's parameters (amounts CNY, rates percent, sensitivities per percentage point).

    Attributes:
        product_id, issuer, product_type, fee_bp, name, channel, launch_date, t0_limit: the
            products.csv row.
        first_day: position of the product's first flow day in the simulated days.
        aum0: AUM on the eve of the first day (0 for the new product).
        mix_style: key of :data:`MIX_STYLES`.
        corporate_share: share of corporate money (scales the quarter-end effect).
        redemption_rate: weekday redemption rate, fraction of AUM per day.
        level0: demand level on the first day, CNY per day.
        growth_pct: yearly growth of the demand level, percent.
        beta_subscriptions, beta_redemptions: yield-spread sensitivities, per percentage point.
        sigma_subscriptions, sigma_redemptions: idiosyncratic lognormal noise.
        exposure_base: page views on a working day without campaign.
        response: the exposure response curve.
        campaigns: ``(first day position, length, multiplier)`` of each campaign.
        max_daily_purchase_pct: the manager's cap on one day's purchase of a term bucket,
            percent of AUM (:class:`simulate.portfolio.TargetMix`).
        holiday_cap_fraction: pre-holiday cap as a share of the level; NaN when uncapped.
        standing_cap: ``(first day, last day, multiple)`` of a standing cap, or None.
    """

    product_id: str
    issuer: str
    product_type: str
    fee_bp: float
    name: str
    channel: str
    launch_date: str
    t0_limit: float
    first_day: int
    aum0: float
    mix_style: str
    corporate_share: float
    redemption_rate: float
    level0: float
    growth_pct: float
    beta_subscriptions: float
    beta_redemptions: float
    sigma_subscriptions: float
    sigma_redemptions: float
    exposure_base: float
    response: ExposureResponse
    campaigns: tuple[tuple[int, int, float], ...]
    max_daily_purchase_pct: float
    holiday_cap_fraction: float
    standing_cap: tuple[str, str, float] | None


@dataclass
class SampleData:
    """The generated tables (as written) and the per-product parameters."""

    products: pd.DataFrame
    flows: pd.DataFrame
    market: pd.DataFrame
    specs: list[ProductSpec]
    config: SampleConfig
    shortfall: pd.DataFrame  # CNY paid by early sales, days × products (not written)


# ------------------------------------------------------------------------------ products
def _draw_products(
    config: SampleConfig, rng: np.random.Generator, features: pd.DataFrame
) -> list[ProductSpec]:
    """Draw every product's parameters (the order of draws is part of the seed's contract)."""
    n = config.n_products
    if n < 3 or not 1 <= config.n_issuers <= len(ISSUER_NAMES):
        raise ValueError("SampleConfig: needs n_products >= 3 and 1 <= n_issuers <= 7")
    days = features.index
    n_days = len(days)
    years = n_days / 365.0
    new_index = n - 1
    fixed_income = set(range(new_index - config.n_fixed_income, new_index))
    low, high = config.aum_range_cny
    sizes = np.geomspace(low, high, n - 1)
    rng.shuffle(sizes)
    eligible = [i for i in range(n - 1) if i not in fixed_income]
    holiday_capped = set(
        rng.choice(
            eligible, size=min(config.n_holiday_capped, len(eligible)), replace=False
        ).tolist()
    )
    standing = rng.choice(
        eligible, size=min(len(config.standing_caps), len(eligible)), replace=False
    ).tolist()
    standing_of = dict(zip(standing, config.standing_caps, strict=False))
    launch_day = n_days - 7 * config.new_product_weeks
    specs: list[ProductSpec] = []
    counters: dict[str, int] = {}
    for i in range(n):
        issuer = ISSUER_NAMES[i % config.n_issuers]
        is_fixed = i in fixed_income
        product_type = "fixed_income" if is_fixed else "cash_management"
        counters[issuer] = counters.get(issuer, 0) + 1
        kind = "Short Bond" if is_fixed else "Daily Cash"
        channel = str(rng.choice(list(CHANNELS)))
        fee_bp = float(round(rng.uniform(35, 60) if is_fixed else rng.uniform(15, 40)))
        style = (
            "term" if is_fixed else str(rng.choice(list(STYLE_ODDS), p=list(STYLE_ODDS.values())))
        )
        redemption_rate = rng.uniform(*config.redemption_rate_range_pct) / 100.0
        growth = rng.uniform(*config.growth_range_pct)
        beta_s = rng.uniform(1.0, 2.0)
        beta_r = rng.uniform(0.5, 1.0)
        sigma_s = rng.uniform(0.15, 0.25)
        sigma_r = rng.uniform(0.12, 0.20)
        exposure_base = float(np.round(np.exp(rng.uniform(np.log(2e4), np.log(3e5))), -2))
        response = ExposureResponse(
            a=round(float(rng.uniform(0.2, 0.6)), 3),
            e0=float(np.round(exposure_base * rng.uniform(0.5, 2.0), -2)),
        )
        n_campaigns = rng.poisson(config.campaigns_per_year * years)
        campaigns = [
            (
                int(rng.integers(0, n_days)),
                int(rng.integers(5, 16)),
                round(float(rng.uniform(2, 6)), 2),
            )
            for _ in range(n_campaigns)
        ]
        cap_fraction = float(rng.uniform(*config.holiday_cap_fraction))
        max_buy = round(float(rng.uniform(*config.max_daily_purchase_pct)), 2)
        launch_offset = int(rng.integers(0, 1000))
        if i == new_index:
            first_day = launch_day
            aum0 = 0.0
            launch_date = days[launch_day].date().isoformat()
            campaigns.append((launch_day, 21, 5.0))  # launch campaign
        else:
            first_day = 0
            aum0 = float(sizes[i])
            launch_date = (
                (pd.Timestamp("2016-01-01") + pd.Timedelta(days=launch_offset)).date().isoformat()
            )
        specs.append(
            ProductSpec(
                product_id=f"P{i + 1:02d}",
                issuer=issuer,
                product_type=product_type,
                fee_bp=fee_bp,
                name=f"{issuer} {kind} {counters[issuer]}",
                channel=channel,
                launch_date=launch_date,
                t0_limit=0.0 if is_fixed else 10_000.0,
                first_day=first_day,
                aum0=aum0,
                mix_style=style,
                corporate_share=CHANNELS[channel],
                redemption_rate=redemption_rate,
                level0=0.0,  # set once the calendar multipliers are known
                growth_pct=growth,
                beta_subscriptions=beta_s,
                beta_redemptions=beta_r,
                sigma_subscriptions=sigma_s,
                sigma_redemptions=sigma_r,
                exposure_base=exposure_base,
                response=response,
                campaigns=tuple(sorted(campaigns)),
                max_daily_purchase_pct=max_buy,
                holiday_cap_fraction=cap_fraction if i in holiday_capped else math.nan,
                standing_cap=standing_of.get(i),
            )
        )
    return specs


# ---------------------------------------------------------------------------- simulation
def simulate_sample(config: SampleConfig = SampleConfig()) -> SampleData:
    """Simulate the whole sample in memory (see the module docstring)."""
    seeds = np.random.SeedSequence(config.seed).spawn(3)
    rng_products, rng_paths, rng_noise = (np.random.default_rng(s) for s in seeds)
    start, end = pd.Timestamp(config.start), pd.Timestamp(config.end)
    days = pd.date_range(start, end, freq="D", name="date")
    n_days = len(days)
    features = calendar_features(start, end)
    drivers = config.drivers

    shibor = load_shibor()
    market_daily = daily_market(shibor, shibor.index.min(), end)
    rates = bucket_rates(market_daily)
    benchmark = peer_benchmark(market_daily, shibor.index.min() + pd.Timedelta(days=92))
    market_first = start - pd.Timedelta(days=config.market_lead_days)
    published = shibor.loc[market_first:end].copy()
    published["benchmark_yield_7d"] = benchmark.reindex(published.index).round(4)
    if published["benchmark_yield_7d"].isna().any():
        raise ValueError("benchmark has no value on some market days: start the peer earlier")
    # What a reader of market.csv sees on each calendar day: the last published value.
    bench_daily = (
        published["benchmark_yield_7d"].reindex(published.index.union(days)).ffill().loc[days]
    )
    bench_daily = bench_daily.to_numpy()

    specs = _draw_products(config, rng_products, features)
    n_products = len(specs)

    # Demand multipliers known ahead of the run, products × days.
    stress_sub, stress_red = stress_multipliers(
        days, config.stress_start, config.stress_days, drivers
    )
    cal_sub = np.empty((n_products, n_days))
    cal_red = np.empty((n_products, n_days))
    level = np.zeros((n_products, n_days))
    exposure = np.zeros((n_products, n_days))
    exposure_factor = np.ones((n_products, n_days))
    quota = np.full((n_products, n_days), np.nan)
    workday = features["is_workday"].to_numpy()
    bdays_to = features["business_days_to_holiday"].fillna(99).to_numpy()
    holiday_len = features["holiday_length"].fillna(0).to_numpy()
    pre_holiday = (
        workday & (bdays_to >= 1) & (bdays_to <= 2) & (holiday_len >= HOLIDAY_CAP_MIN_LENGTH)
    )
    t_years = np.arange(n_days) / 365.0
    for p, spec in enumerate(specs):
        cal_sub[p], cal_red[p] = calendar_multipliers(features, spec.corporate_share, drivers)
        walk = np.cumsum(rng_paths.normal(0.0, LEVEL_WALK_SIGMA, n_days))
        balance = float(np.mean(cal_red[p] * stress_red) / np.mean(cal_sub[p] * stress_sub))
        if spec.first_day == 0:
            level0 = spec.redemption_rate * spec.aum0 * balance
        else:
            # a new product: demand worth a mid-sized product's, ramping up over two weeks
            level0 = (
                spec.redemption_rate * float(np.median([s.aum0 for s in specs])) * balance * 0.5
            )
        specs[p] = spec = replace(spec, level0=level0)
        since = np.arange(n_days) - spec.first_day
        ramp = np.clip((since + 1) / 14.0, 0.0, 1.0) if spec.first_day > 0 else np.ones(n_days)
        level[p] = level0 * np.exp(spec.growth_pct / 100.0 * t_years + walk) * ramp
        level[p, : spec.first_day] = 0.0
        exposure[p] = campaign_exposure(
            features,
            spec.exposure_base,
            list(spec.campaigns),
            rng_paths.standard_normal(n_days),
            drivers,
        )
        exposure[p, : spec.first_day] = 0.0
        exposure_factor[p] = demand_exposure_factor(exposure[p], spec.response, spec.exposure_base)
        if not math.isnan(spec.holiday_cap_fraction):
            cap = np.floor(spec.holiday_cap_fraction * level[p] / QUOTA_HOLIDAY_ROUNDING_CNY)
            cap = np.maximum(cap, 1) * QUOTA_HOLIDAY_ROUNDING_CNY
            quota[p, pre_holiday] = cap[pre_holiday]
        if spec.standing_cap is not None:
            first, last, multiple = spec.standing_cap
            window = workday & (days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last))
            anchor = int(np.argmax(days >= pd.Timestamp(first)))
            cap_value = max(round(multiple * level[p, anchor] / QUOTA_STANDING_ROUNDING_CNY), 1)
            quota[p, window] = np.fmin(quota[p, window], cap_value * QUOTA_STANDING_ROUNDING_CNY)

    common_sub = rng_noise.normal(0.0, COMMON_NOISE_SIGMA, n_days)
    common_red = rng_noise.normal(0.0, COMMON_NOISE_SIGMA, n_days)
    sigma_s = np.array([s.sigma_subscriptions for s in specs])[:, None]
    sigma_r = np.array([s.sigma_redemptions for s in specs])[:, None]
    persistent_sub = _ar1(
        rng_noise, n_products, n_days, PERSISTENT_PHI, PERSISTENT_SIGMA_SUBSCRIPTIONS
    )
    persistent_red = _ar1(
        rng_noise, n_products, n_days, PERSISTENT_PHI, PERSISTENT_SIGMA_REDEMPTIONS
    )
    noise_sub = np.exp(
        common_sub[None, :]
        + sigma_s * rng_noise.standard_normal((n_products, n_days))
        + persistent_sub
        - (COMMON_NOISE_SIGMA**2 + sigma_s**2 + PERSISTENT_SIGMA_SUBSCRIPTIONS**2) / 2
    )
    noise_red = np.exp(
        common_red[None, :]
        + sigma_r * rng_noise.standard_normal((n_products, n_days))
        + persistent_red
        - (COMMON_NOISE_SIGMA**2 + sigma_r**2 + PERSISTENT_SIGMA_REDEMPTIONS**2) / 2
    )
    base_sub = level * cal_sub * stress_sub[None, :] * exposure_factor * noise_sub
    base_red_rate = (
        np.array([s.redemption_rate for s in specs])[:, None]
        * cal_red
        * stress_red[None, :]
        * noise_red
    )

    portfolios: list[Portfolio | None] = [None] * n_products
    history = rates.loc[: start - pd.Timedelta(days=1)]
    for p, spec in enumerate(specs):
        mix = MIX_STYLES[spec.mix_style]
        rule = TargetMix(dict(mix), max_daily_purchase_pct=spec.max_daily_purchase_pct)
        if spec.first_day == 0:
            portfolios[p] = Portfolio.from_ladder(
                spec.aum0, spec.fee_bp, start, history, mix, allocation=rule, **SAMPLE_WORLD
            )
        else:
            portfolios[p] = Portfolio(spec.fee_bp, allocation=rule, **SAMPLE_WORLD)

    beta_s = np.array([s.beta_subscriptions for s in specs])
    beta_r = np.array([s.beta_redemptions for s in specs])
    first_days = np.array([s.first_day for s in specs])
    demand = np.zeros((n_products, n_days))
    subscriptions = np.zeros((n_products, n_days))
    redemptions = np.zeros((n_products, n_days))
    aum = np.zeros((n_products, n_days))
    shortfall = np.zeros((n_products, n_days))
    r10k = np.full((n_products, n_days), np.nan)
    y7 = np.full((n_products, n_days), np.nan)
    aum_prev = np.array([s.aum0 for s in specs])
    day_rates = rates.loc[start:end].to_dict("records")
    for t in range(n_days):
        active = first_days <= t
        if t > 0:
            previous_yield = y7[:, t - 1]
            known = active & np.isfinite(previous_yield)
            spread = np.where(known, previous_yield - bench_daily[t - 1], 0.0)
            rank = np.full(n_products, 0.5)
            if known.sum() > 1:
                order = np.argsort(np.argsort(previous_yield[known], kind="stable"), kind="stable")
                rank[known] = order / (known.sum() - 1)
        else:
            spread = np.zeros(n_products)
            rank = np.full(n_products, 0.5)
        y_sub, y_red = yield_multipliers(spread, rank, beta_s, beta_r)
        wish = np.round(base_sub[:, t] * y_sub, 2)
        cap = quota[:, t]
        taken = np.where(np.isfinite(cap), np.fmin(wish, cap), wish)
        out = np.round(
            np.minimum(aum_prev * base_red_rate[:, t] * y_red, MAX_REDEMPTION_SHARE * aum_prev), 2
        )
        for p in np.flatnonzero(active):
            portfolio = portfolios[p]
            assert portfolio is not None
            result = portfolio.step(days[t], float(taken[p]), float(out[p]), day_rates[t])
            aum[p, t] = result.aum
            shortfall[p, t] = result.shortfall
            r10k[p, t] = round(result.income_per_10k, 4) + 0.0
            window = r10k[p, max(t - 6, int(first_days[p])) : t + 1]
            if len(window) == 7:
                y7[p, t] = round(float(yield_7d(window)[-1]), 4) + 0.0
        demand[:, t] = np.where(active, wish, 0.0)
        subscriptions[:, t] = np.where(active, taken, 0.0)
        redemptions[:, t] = np.where(active, out, 0.0)
        aum_prev = np.where(active, aum[:, t], aum_prev)

    products = pd.DataFrame(
        {
            "product_id": [s.product_id for s in specs],
            "issuer": [s.issuer for s in specs],
            "product_type": [s.product_type for s in specs],
            "fee_bp": [s.fee_bp for s in specs],
            "name": [s.name for s in specs],
            "channel": [s.channel for s in specs],
            "launch_date": [s.launch_date for s in specs],
            "t0_limit": [s.t0_limit for s in specs],
        }
    )
    frames = []
    for p, spec in enumerate(specs):
        span = slice(spec.first_day, n_days)
        frames.append(
            pd.DataFrame(
                {
                    "date": days[span],
                    "product_id": spec.product_id,
                    "subscriptions": subscriptions[p, span],
                    "redemptions": redemptions[p, span],
                    "aum": aum[p, span],
                    "quota": quota[p, span],
                    "exposure": exposure[p, span],
                    "income_per_10k": r10k[p, span],
                    "yield_7d": y7[p, span],
                    "demand": demand[p, span],
                }
            )
        )
    flows = pd.concat(frames, ignore_index=True)
    market = published.reset_index()
    shortfall_frame = pd.DataFrame(shortfall.T, index=days, columns=[s.product_id for s in specs])
    return SampleData(
        products=products,
        flows=flows,
        market=market,
        specs=specs,
        config=config,
        shortfall=shortfall_frame,
    )


def _ar1(
    rng: np.random.Generator, n_series: int, n_days: int, phi: float, sigma: float
) -> np.ndarray:
    """Stationary AR(1) paths, ``n_series × n_days``, with standard deviation ``sigma``."""
    shocks = rng.standard_normal((n_series, n_days)) * sigma * math.sqrt(1 - phi**2)
    out = np.empty((n_series, n_days))
    out[:, 0] = shocks[:, 0] / math.sqrt(1 - phi**2)
    for t in range(1, n_days):
        out[:, t] = phi * out[:, t - 1] + shocks[:, t]
    return out


# --------------------------------------------------------------------------------- output
def _fmt(values: np.ndarray | pd.Series, decimals: int) -> list[str]:
    """Fixed-decimal text, empty for NaN; ``+ 0.0`` turns -0.0 into 0.0."""
    spec = f"{{:.{decimals}f}}"
    return ["" if math.isnan(v) else spec.format(round(float(v), decimals) + 0.0) for v in values]


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n")


def _text_tables(data: SampleData) -> dict[str, pd.DataFrame]:
    """The tables with every number already formatted (what makes the files bit-stable)."""
    products = data.products.copy()
    products["fee_bp"] = _fmt(products["fee_bp"], 1)
    products["t0_limit"] = _fmt(products["t0_limit"], 2)
    flows = data.flows
    flows_text = pd.DataFrame(
        {
            "date": flows["date"].dt.strftime("%Y-%m-%d"),
            "product_id": flows["product_id"],
            "subscriptions": _fmt(flows["subscriptions"], 2),
            "redemptions": _fmt(flows["redemptions"], 2),
            "aum": _fmt(flows["aum"], 2),
            "quota": _fmt(flows["quota"], 2),
            "exposure": _fmt(flows["exposure"], 0),
            "income_per_10k": _fmt(flows["income_per_10k"], 4),
            "yield_7d": _fmt(flows["yield_7d"], 4),
            "demand": _fmt(flows["demand"], 2),
        }
    )
    market = data.market
    market_text = pd.DataFrame({"date": market["date"].dt.strftime("%Y-%m-%d")})
    for column in (*SHIBOR_COLUMNS, "benchmark_yield_7d"):
        market_text[column] = _fmt(market[column], 4)
    response = pd.DataFrame(
        {
            "product_id": [s.product_id for s in data.specs],
            "a": _fmt(np.array([s.response.a for s in data.specs]), 3),
            "e0": _fmt(np.array([s.response.e0 for s in data.specs]), 0),
        }
    )
    mixes = investment_mix_frame(
        {
            s.product_id: ManagedMix(MIX_STYLES[s.mix_style], s.max_daily_purchase_pct)
            for s in data.specs
        }
    )
    mixes["share"] = _fmt(mixes["share"], 4)
    mixes["max_daily_purchase_pct"] = _fmt(mixes["max_daily_purchase_pct"], 2)
    return {
        "products": products,
        "flows": flows_text,
        "market": market_text,
        "exposure_response": response,
        "investment_mix": mixes,
    }


def yield_figures(flows: pd.DataFrame, market: pd.DataFrame, months: int = 12) -> pd.DataFrame:
    """SPEC §4 figures of every product over the last ``months`` months of ``flows``, bp.

    Args:
        flows: flows.csv as a frame (``date`` parsed), with ``yield_7d``.
        market: market.csv as a frame (``date`` parsed), with ``benchmark_yield_7d``; it is
            carried forward to calendar days.
        months: length of the window ending on the last day of ``flows``.

    Returns:
        One row per product with a yield on at least two days of the window: ``product_id``,
        ``days`` (days with a yield) and the :class:`rainmaker.yields.HeadlineFigures`.
    """
    end = flows["date"].max()
    first = end - pd.DateOffset(months=months) + pd.Timedelta(days=1)
    days = pd.date_range(first, end, freq="D")
    published = market.set_index("date")["benchmark_yield_7d"]
    bench = published.reindex(published.index.union(days)).ffill().loc[days].to_numpy()
    rows = []
    for product_id, group in flows.groupby("product_id", sort=True):
        series = group.set_index("date")["yield_7d"].reindex(days)
        valid = series.notna().to_numpy()
        if valid.sum() < 2:
            continue
        figures = headline_figures(series.to_numpy()[valid], bench[valid])
        rows.append({"product_id": product_id, "days": int(valid.sum()), **figures})
    return pd.DataFrame(rows)
