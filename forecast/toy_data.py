"""A small seeded panel of synthetic products for tests, examples and the benchmark.

Test and benchmark data only, not part of the public API (docs/api.md): nothing in forecast,
optimize, simulate or the application uses it.

This is not the project's sample data set (that is :mod:`simulate.synthetic`, with a portfolio
model behind it); it is a quick generator, vectorised over products, with the effects the
forecast models must find: weekdays and Chinese holidays (buying peaks two business days before
a holiday stretch, flows collapse during it), quarter-end redemptions, the yield spread against
the benchmark, marketing exposure through the concave curve of :mod:`rainmaker.response`, serially
correlated noise, and quotas on the peak days that censor demand. It builds thousands of
products over years in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rainmaker.china_calendar import calendar_features
from rainmaker.dataset import Dataset

__all__ = [
    "SINGLE_SERIES_KINDS",
    "SingleSeries",
    "single_series_dataset",
    "toy_dataset",
    "write_toy_dataset",
]

NOISE_SD = 0.22  # log-scale standard deviation of the daily flow noise
NOISE_AR = 0.4  # day-to-day correlation of the noise


def toy_dataset(
    n_products: int = 6,
    start: str = "2020-01-01",
    end: str = "2021-12-31",
    seed: int = 0,
    *,
    new_products: int = 0,
    with_quota: bool = True,
) -> Dataset:
    """An in-memory :class:`~rainmaker.dataset.Dataset` of synthetic products.

    Args:
        n_products: number of products, ids ``T0001``, ``T0002``, ...
        start: first day, ISO.
        end: last day, ISO.
        seed: random seed; the same seed gives the same data.
        new_products: how many of the products launch 21 days before ``end`` (few weeks of
            history), the others start on ``start``.
        with_quota: every other product (the 2nd, 4th, ...) caps subscriptions on the two
            business days before each holiday stretch, censoring part of the demand there.

    Returns:
        The data set, with ``demand`` (the uncensored subscriptions) in flows.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, end, freq="D", name="date")
    n_days, n = len(dates), n_products
    calendar = calendar_features(dates[0], dates[-1])
    workday = calendar["is_workday"].to_numpy()
    in_holiday = calendar["in_holiday"].to_numpy()
    to_holiday = calendar["business_days_to_holiday"].to_numpy()
    quarter_end = calendar["is_quarter_end_window"].to_numpy()
    quarter_start = calendar["is_quarter_start_window"].to_numpy()
    payday = calendar["is_payday"].to_numpy()

    # Market: a mean-reverting overnight rate, the benchmark a lagged average of the 1-week rate.
    shocks = rng.normal(0.0, 0.04, n_days)
    shibor_on = np.empty(n_days)
    shibor_on[0] = 2.0
    for t in range(1, n_days):
        shibor_on[t] = shibor_on[t - 1] + 0.02 * (2.0 - shibor_on[t - 1]) + shocks[t]
    shibor_on = np.clip(shibor_on, 0.5, 4.0)
    shibor_1w = shibor_on + 0.3
    benchmark = pd.Series(shibor_1w).ewm(span=30).mean().to_numpy() - 0.1

    ids = [f"T{i + 1:04d}" for i in range(n)]
    aum0 = np.exp(rng.normal(np.log(1e9), 0.8, n))
    spread0 = rng.normal(0.0, 0.15, n)
    spread = spread0 + np.cumsum(rng.normal(0.0, 0.01, (n_days, n)), axis=0)
    spread -= 0.02 * np.arange(n_days)[:, None] * (spread - spread0) / max(n_days, 1)
    yield_7d = benchmark[:, None] + spread
    sensitivity = rng.uniform(0.2, 0.8, n)  # the response curve's a
    exposure_scale = rng.uniform(500.0, 3000.0, n)  # its e0, page views per day
    exposure = exposure_scale * rng.uniform(0.5, 2.0, n) * np.where(workday, 1.0, 0.6)[:, None]
    campaign = rng.random((n_days, n)) < 0.01
    campaign = np.maximum.accumulate(
        np.where(campaign, np.arange(n_days)[:, None], -100), axis=0
    ) > (np.arange(n_days)[:, None] - 5)
    # Slots on the platform change every day: exposure varies by a factor of about 2.
    daily = np.exp(rng.normal(0.0, 0.6, (n_days, n)))
    exposure = np.round(exposure * np.where(campaign, 3.0, 1.0) * daily)
    exposure_effect = 1.0 + sensitivity * np.log1p(exposure / exposure_scale)

    def noise() -> np.ndarray:
        raw = rng.normal(0.0, NOISE_SD * np.sqrt(1 - NOISE_AR**2), (n_days, n))
        out = np.empty_like(raw)
        out[0] = rng.normal(0.0, NOISE_SD, n)
        for t in range(1, n_days):
            out[t] = NOISE_AR * out[t - 1] + raw[t]
        return out

    sub_calendar = (
        np.where(workday, 1.0, 0.55)
        * np.where(in_holiday, 0.5, 1.0)
        * np.where(workday & (to_holiday == 2), 1.9, 1.0)
        * np.where(workday & (to_holiday == 1), 1.5, 1.0)
        * np.where(quarter_start, 1.25, 1.0)
        * np.where(payday, 1.2, 1.0)
    )
    red_calendar = (
        np.where(workday, 1.0, 0.6)
        * np.where(in_holiday, 0.45, 1.0)
        * np.where(workday & (to_holiday <= 2) & (to_holiday >= 1), 1.35, 1.0)
        * np.where(quarter_end, 1.5, 1.0)
    )
    demand_noise, redemption_noise = noise(), noise()
    launch = np.zeros(n, dtype=int)
    if new_products:
        launch[n - new_products :] = max(n_days - 21, 0)

    subscriptions = np.zeros((n_days, n))
    demand = np.zeros((n_days, n))
    redemptions = np.zeros((n_days, n))
    aum = np.zeros((n_days, n))
    quota = np.full((n_days, n), np.nan)
    income = yield_7d / 100.0 / 365.0
    level = aum0.copy()
    peak = workday & (to_holiday >= 1) & (to_holiday <= 2)
    capped = (np.arange(n) % 2 == 1) & with_quota
    for t in range(n_days):
        alive = t >= launch
        base = np.where(t - launch < 60, aum0 * (0.2 + 0.8 * (t - launch) / 60.0), aum0)
        want = (
            0.012
            * base
            * sub_calendar[t]
            * np.exp(1.5 * spread[t])
            * exposure_effect[t]
            * np.exp(demand_noise[t])
        )
        cap = np.full(n, np.nan)
        if peak[t]:
            # The manager caps the pre-holiday rush at 1.4 times an ordinary day's demand.
            cap = np.where(capped, np.round(0.012 * base * 1.4 * exposure_effect[t], 2), np.nan)
        accepted = np.where(np.isnan(cap), want, np.minimum(want, cap))
        out = (
            0.011 * level * red_calendar[t] * np.exp(-1.0 * spread[t]) * np.exp(redemption_noise[t])
        )
        out = np.minimum(out, 0.5 * level)
        new_level = level + accepted - out + level * income[t]
        demand[t] = np.where(alive, np.round(want, 2), np.nan)
        subscriptions[t] = np.where(alive, np.round(accepted, 2), np.nan)
        redemptions[t] = np.where(alive, np.round(out, 2), np.nan)
        quota[t] = np.where(alive, cap, np.nan)
        level = np.where(alive, new_level, np.where(t + 1 >= launch, aum0 * 0.2, level))
        aum[t] = np.where(alive, np.round(level, 2), np.nan)

    frames = {
        "subscriptions": subscriptions,
        "redemptions": redemptions,
        "aum": aum,
        "quota": quota,
        "exposure": np.where(np.isnan(aum), np.nan, exposure),
        "income_per_10k": np.round(np.where(np.isnan(aum), np.nan, income * 10_000.0), 4),
        "yield_7d": np.round(np.where(np.isnan(aum), np.nan, yield_7d), 4),
        "demand": demand,
    }
    flows = pd.DataFrame(
        {
            "date": np.repeat(dates.to_numpy(), n),
            "product_id": np.tile(ids, n_days),
            **{name: values.reshape(-1) for name, values in frames.items()},
        }
    )
    flows = flows.loc[flows["aum"].notna()]
    flows = flows.sort_values(["product_id", "date"], ignore_index=True)
    products = pd.DataFrame(
        {
            "product_id": ids,
            "issuer": [f"WMC-{i % 5}" for i in range(n)],
            "product_type": np.where(rng.random(n) < 0.8, "cash_management", "fixed_income"),
            "fee_bp": np.round(rng.uniform(15.0, 40.0, n), 1),
            # The true response curve (rainmaker.response), for tests of its estimate.
            "response_a": np.round(sensitivity, 4),
            "response_e0": np.round(exposure_scale, 2),
        }
    )
    published = workday | (dates.day_of_week < 5)
    market = pd.DataFrame(
        {
            "date": dates[published],
            "shibor_on": np.round(shibor_on[published], 4),
            "shibor_1w": np.round(shibor_1w[published], 4),
            "benchmark_yield_7d": np.round(benchmark[published], 4),
        }
    ).reset_index(drop=True)
    # The first day must have a publication to carry forward.
    if market["date"].iloc[0] > dates[0]:
        first = pd.DataFrame(
            {
                "date": [dates[0]],
                "shibor_on": [round(shibor_on[0], 4)],
                "shibor_1w": [round(shibor_1w[0], 4)],
                "benchmark_yield_7d": [round(benchmark[0], 4)],
            }
        )
        market = pd.concat([first, market], ignore_index=True)
    return Dataset(
        root=Path("<toy>"), products=products, flows=flows, market=market, fingerprint="toy"
    )


def write_toy_dataset(folder: str | Path, **kwargs: object) -> Path:
    """Write :func:`toy_dataset` as a data-set folder of CSV files (SPEC §1).

    Args:
        folder: where to write (created when missing).
        **kwargs: passed to :func:`toy_dataset`.

    Returns:
        The folder.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    dataset = toy_dataset(**kwargs)  # type: ignore[arg-type]
    dataset.products.to_csv(out / "products.csv", index=False)
    flows = dataset.flows.copy()
    flows["date"] = flows["date"].dt.strftime("%Y-%m-%d")
    flows.to_csv(out / "flows.csv", index=False)
    market = dataset.market.copy()
    market["date"] = market["date"].dt.strftime("%Y-%m-%d")
    market.to_csv(out / "market.csv", index=False)
    return out


# --------------------------------------------------------------------------- single series

SINGLE_SERIES_KINDS = ("level_shift", "steady", "new")
# Days of history before the first forecast origin: 13 months for an established product,
# 8 weeks for one launched recently.
ESTABLISHED_HISTORY_DAYS = 396
NEW_HISTORY_DAYS = 56
# The level of the shifted product falls over this many days, then holds at this share.
SHIFT_FALL_DAYS = 150
SHIFT_FLOOR = 0.4


@dataclass(frozen=True)
class SingleSeries:
    """A one-product data set and the day forecasts are judged from.

    Attributes:
        dataset: the data set (one product, ``S0001``), with ``demand``.
        origin: the first forecast origin: the day the shifted product's level steadies, the
            end of 13 months of history, or 8 weeks after a launch.
        kind: ``level_shift``, ``steady`` or ``new``.
        level: the true level multiplier of the flows on every day (1 = the launch level).
    """

    dataset: Dataset
    origin: pd.Timestamp
    kind: str
    level: pd.Series


def single_series_dataset(
    kind: str = "level_shift", seed: int = 0, *, days_after: int = 56
) -> SingleSeries:
    """One large money-market product alone, as a new user would bring it.

    Flows have the weekday and Chinese-calendar effects of :func:`toy_dataset` and serially
    correlated log-normal noise (no quota, no exposure campaigns), on a level that depends on
    ``kind``:

    - ``level_shift``: 13 months of history; the level holds for the first
      ``396 − 150`` days, falls to :data:`SHIFT_FLOOR` of it over :data:`SHIFT_FALL_DAYS` days
      (log-level on a smoothstep, fastest half-way; redemptions up to 40 % above their level
      while it falls fast, a redemption wave), and steadies on the origin day;
    - ``steady``: 13 months of history on a level that drifts a little (random walk, 0.3 % a
      day);
    - ``new``: launched :data:`NEW_HISTORY_DAYS` days before the origin, its level ramping up
      over the first three weeks.

    Args:
        kind: one of :data:`SINGLE_SERIES_KINDS`.
        seed: random seed; the same seed gives the same data.
        days_after: days of data after the origin (to score forecasts on).

    Returns:
        The :class:`SingleSeries`.
    """
    if kind not in SINGLE_SERIES_KINDS:
        raise ValueError(f"kind must be one of {', '.join(SINGLE_SERIES_KINDS)}, got {kind!r}")
    rng = np.random.default_rng([seed, SINGLE_SERIES_KINDS.index(kind)])
    history = NEW_HISTORY_DAYS if kind == "new" else ESTABLISHED_HISTORY_DAYS
    origin = pd.Timestamp("2021-11-30")
    dates = pd.date_range(
        origin - pd.Timedelta(days=history - 1),
        origin + pd.Timedelta(days=days_after),
        freq="D",
        name="date",
    )
    n_days = len(dates)
    t = np.arange(n_days)
    o = history - 1  # the origin's position
    calendar = calendar_features(dates[0], dates[-1])
    workday = calendar["is_workday"].to_numpy()
    in_holiday = calendar["in_holiday"].to_numpy()
    to_holiday = calendar["business_days_to_holiday"].to_numpy()
    sub_calendar = (
        np.where(workday, 1.0, 0.55)
        * np.where(in_holiday, 0.5, 1.0)
        * np.where(workday & (to_holiday == 2), 1.9, 1.0)
        * np.where(workday & (to_holiday == 1), 1.5, 1.0)
        * np.where(calendar["is_quarter_start_window"].to_numpy(), 1.25, 1.0)
        * np.where(calendar["is_payday"].to_numpy(), 1.2, 1.0)
    )
    red_calendar = (
        np.where(workday, 1.0, 0.6)
        * np.where(in_holiday, 0.45, 1.0)
        * np.where(workday & (to_holiday <= 2) & (to_holiday >= 1), 1.35, 1.0)
        * np.where(calendar["is_quarter_end_window"].to_numpy(), 1.5, 1.0)
    )
    redemption_wave = np.zeros(n_days)
    if kind == "level_shift":
        fall_start = o - SHIFT_FALL_DAYS
        u = np.clip((t - fall_start) / SHIFT_FALL_DAYS, 0.0, 1.0)
        # The fall starts and ends smoothly (smoothstep), fastest half-way; holders redeem
        # more while it lasts, in proportion to its speed (at most 40 % above the level).
        level = SHIFT_FLOOR ** (u * u * (3.0 - 2.0 * u))
        redemption_wave = 0.4 * 4.0 * u * (1.0 - u)
    elif kind == "steady":
        level = np.exp(np.cumsum(rng.normal(0.0, 0.003, n_days)))
    else:
        level = np.minimum(0.3 + 0.7 * t / 21.0, 1.0)

    def noise() -> np.ndarray:
        raw = rng.normal(0.0, NOISE_SD * np.sqrt(1 - NOISE_AR**2), n_days)
        out = np.empty(n_days)
        out[0] = rng.normal(0.0, NOISE_SD)
        for day in range(1, n_days):
            out[day] = NOISE_AR * out[day - 1] + raw[day]
        return out

    aum0 = 2e10  # a large product: 20 billion CNY at its launch level
    demand = np.round(0.012 * aum0 * level * sub_calendar * np.exp(noise()), 2)
    redemptions = np.round(
        0.012 * aum0 * level * (1.0 + redemption_wave) * red_calendar * np.exp(noise()), 2
    )
    yield_7d = 2.0 + np.cumsum(rng.normal(0.0, 0.005, n_days))
    income = yield_7d / 100.0 / 365.0
    aum = np.empty(n_days)
    book = aum0 * level[0]
    for day in range(n_days):
        book = book * (1.0 + income[day]) + demand[day] - redemptions[day]
        aum[day] = max(book, 0.0)
    flows = pd.DataFrame(
        {
            "date": dates,
            "product_id": "S0001",
            "subscriptions": demand,
            "redemptions": redemptions,
            "aum": np.round(aum, 2),
            "income_per_10k": np.round(income * 10_000.0, 4),
            "yield_7d": np.round(yield_7d, 4),
            "demand": demand,
        }
    )
    products = pd.DataFrame(
        {
            "product_id": ["S0001"],
            "issuer": ["WMC-0"],
            "product_type": ["cash_management"],
            "fee_bp": [25.0],
        }
    )
    shibor_on = np.clip(2.0 + np.cumsum(rng.normal(0.0, 0.02, n_days)), 0.5, 4.0)
    published = workday | (dates.day_of_week < 5)
    published[0] = True  # the first day must have a publication to carry forward
    market = pd.DataFrame(
        {
            "date": dates[published],
            "shibor_on": np.round(shibor_on[published], 4),
            "shibor_1w": np.round(shibor_on[published] + 0.3, 4),
            "benchmark_yield_7d": np.round(yield_7d[published] - 0.05, 4),
        }
    ).reset_index(drop=True)
    dataset = Dataset(
        root=Path(f"<single-{kind}>"),
        products=products,
        flows=flows,
        market=market,
        fingerprint=f"single-{kind}-{seed}",
    )
    return SingleSeries(
        dataset=dataset, origin=origin, kind=kind, level=pd.Series(level, index=dates)
    )
