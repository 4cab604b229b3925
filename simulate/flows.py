"""The demand drivers of the synthetic sample: calendar, stress, marketing exposure, yield.

Each driver is a multiplier on a product's subscription demand or redemption rate; the generator
(:mod:`simulate.synthetic`) multiplies them with a slow trend and lognormal noise. Parameters live
in :class:`DemandDrivers` with their defaults, chosen from what DOMAIN.md reports of real flows:

- **weekday**: on ordinary weekends subscriptions are ×0.63 and redemptions ×0.65 (37 % and 35 %
  below weekdays); make-up working days (调休) run at ×0.85 of a weekday;
- **holidays**: inside a holiday stretch flows collapse (×0.30 and ×0.40); subscriptions peak two
  business days before a stretch (×1.9; ×1.35 on the last business day, whose money earns nothing
  over the holiday; ×1.2 three days before), scaled by ``0.5 + 0.5·min(length, 7)/7`` so a 3-day
  holiday peaks less than National Day; redemptions rise ×1.15 on those two days (spending) and
  both flows catch up ×1.2 on the first two business days after, redemptions ×1.5 after a
  stretch of three days or more (hot money that came for the holiday's income leaves);
- **Spring Festival**: redemptions ×1.35 on the 10 business days before it (spending, red
  envelopes), subscriptions ×1.3 on the 10 business days after (bonuses come back);
- **month end**: redemptions ×1.12 on the last 3 calendar days, subscriptions ×1.1 on the first 3;
- **quarter end**: corporate money leaves in the last 7 calendar days of a quarter and returns in
  the first 7 of the next: redemptions ×(1 + q·c), subscriptions ×(1 + 0.9·q·c) after, with
  q = 0.60, 0.45, 0.35, 0.25 for Q1..Q4 (Q1 > Q2 > Q3 > Q4) and c the product's corporate share;
- **paydays** (the working day on or before the 10th and the 15th): subscriptions ×1.3; the tax
  deadline (15th, moved later when off): redemptions ×1.1;
- **stress**: a redemption wave across products, ramping up over 3 days to ×2.2 redemptions and
  ×0.85 subscriptions, holding, then fading over the last third of the episode;
- **yield**: subscriptions ×exp(β_s·spread + γ_s·(rank − ½)), redemptions
  ×exp(−β_r·spread − γ_r·(rank − ½)), where spread is the product's published 7-day yield minus
  the benchmark, both of the day before, in percentage points, and rank in [0, 1] its place among
  the products publishing a yield that day (1 = highest);
- **exposure**: daily page views per product, a base level with weekends ×0.8, campaigns of
  ×2–6 and lognormal noise; demand follows :func:`rainmaker.response.exposure_response`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rainmaker.china_calendar import SPRING_FESTIVAL
from rainmaker.response import ExposureResponse, exposure_response

SPREAD_SATURATION_PCT = 0.5

__all__ = [
    "DemandDrivers",
    "calendar_multipliers",
    "campaign_exposure",
    "stress_multipliers",
    "yield_multipliers",
]


@dataclass(frozen=True)
class DemandDrivers:
    """Multipliers of the demand model (dimensionless unless a unit is named)."""

    weekend_subscriptions: float = 0.63
    weekend_redemptions: float = 0.65
    makeup_day: float = 0.85
    holiday_subscriptions: float = 0.30
    holiday_redemptions: float = 0.40
    # business days before a holiday stretch -> subscription multiplier at a 7-day stretch
    pre_holiday_subscriptions: dict[int, float] = field(
        default_factory=lambda: {1: 1.35, 2: 1.9, 3: 1.2}
    )
    pre_holiday_redemptions: float = 1.15
    post_holiday: float = 1.2
    # money bought before a long holiday to earn its income leaves right after it
    post_holiday_hot_money: float = 1.5
    hot_money_min_length: int = 3
    spring_festival_redemptions: float = 1.35
    spring_festival_subscriptions: float = 1.3
    spring_festival_business_days: int = 10
    month_end_redemptions: float = 1.12
    month_start_subscriptions: float = 1.1
    month_edge_days: int = 3
    quarter_end_size: tuple[float, float, float, float] = (0.60, 0.45, 0.35, 0.25)
    quarter_window_days: int = 7
    quarter_return_share: float = 0.9
    payday_subscriptions: float = 1.3
    tax_day_redemptions: float = 1.1
    stress_redemptions: float = 2.2
    stress_subscriptions: float = 0.85
    stress_ramp_days: int = 3
    exposure_weekend: float = 0.8


def _stretch_names(features: pd.DataFrame) -> np.ndarray:
    """For each day, the public holiday of the stretch holding it or coming next ('' if none)."""
    in_holiday = features["in_holiday"].to_numpy()
    names = features["holiday_name"].to_numpy(dtype=object)
    public = features["is_public_holiday"].to_numpy()
    out = np.full(len(features), "", dtype=object)
    upcoming = ""
    for i in range(len(features) - 1, -1, -1):
        if in_holiday[i]:
            # the stretch's name is that of any public holiday inside it
            j = i
            while j >= 0 and in_holiday[j]:
                j -= 1
            stretch = [names[k] for k in range(j + 1, i + 1) if public[k]]
            upcoming = stretch[0] if stretch else upcoming
        out[i] = upcoming
    return out


def calendar_multipliers(
    features: pd.DataFrame, corporate_share: float, drivers: DemandDrivers = DemandDrivers()
) -> tuple[np.ndarray, np.ndarray]:
    """Calendar multipliers of subscriptions and redemptions for one product.

    Args:
        features: :func:`rainmaker.china_calendar.calendar_features` of the simulated days.
        corporate_share: share of the product's money held by companies, in [0, 1]; scales the
            quarter-end effect.
        drivers: the parameters.

    Returns:
        ``(subscriptions, redemptions)`` multiplier arrays, one value per day.
    """
    n = len(features)
    d = drivers
    sub = np.ones(n)
    red = np.ones(n)
    workday = features["is_workday"].to_numpy()
    in_holiday = features["in_holiday"].to_numpy()
    makeup = features["is_makeup_workday"].to_numpy()
    weekend_off = ~workday & ~in_holiday
    sub[weekend_off] *= d.weekend_subscriptions
    red[weekend_off] *= d.weekend_redemptions
    sub[in_holiday] *= d.holiday_subscriptions
    red[in_holiday] *= d.holiday_redemptions
    sub[makeup] *= d.makeup_day
    red[makeup] *= d.makeup_day

    bdays_to = features["business_days_to_holiday"].fillna(99).to_numpy()
    length = features["holiday_length"].fillna(0).to_numpy()
    scale = 0.5 + 0.5 * np.minimum(length, 7) / 7
    for bdays, peak in d.pre_holiday_subscriptions.items():
        mask = workday & (bdays_to == bdays)
        sub[mask] *= 1 + (peak - 1) * scale[mask]
    pre = workday & (bdays_to >= 1) & (bdays_to <= 2)
    red[pre] *= d.pre_holiday_redemptions
    post = workday & features["business_days_after_holiday"].between(1, 2).to_numpy()
    sub[post] *= d.post_holiday
    red[post] *= d.post_holiday

    # Spring Festival: the business-day windows before and after its stretch.
    names = _stretch_names(features)
    is_sf = names == SPRING_FESTIVAL
    bdays_after = features["business_days_after_holiday"].fillna(99).to_numpy()
    window = d.spring_festival_business_days
    red[workday & is_sf & (bdays_to >= 1) & (bdays_to <= window)] *= d.spring_festival_redemptions
    previous, previous_length = _previous_stretches(names, in_holiday)
    hot = post & (previous_length >= d.hot_money_min_length)
    red[hot] *= d.post_holiday_hot_money / d.post_holiday
    after_sf = (
        workday & (previous == SPRING_FESTIVAL) & (bdays_after >= 1) & (bdays_after <= window)
    )
    sub[after_sf] *= d.spring_festival_subscriptions

    days_to_month_end = features["days_to_month_end"].to_numpy()
    day_of_month = features["day_of_month"].to_numpy()
    month = features["month"].to_numpy()
    red[days_to_month_end < d.month_edge_days] *= d.month_end_redemptions
    sub[day_of_month <= d.month_edge_days] *= d.month_start_subscriptions

    quarter_end = np.isin(month, (3, 6, 9, 12)) & (days_to_month_end < d.quarter_window_days)
    quarter_start = np.isin(month, (1, 4, 7, 10)) & (day_of_month <= d.quarter_window_days)
    size = np.asarray(d.quarter_end_size)
    ending_quarter = (month - 1) // 3  # 0..3 for the quarter that ends
    red[quarter_end] *= 1 + size[ending_quarter[quarter_end]] * corporate_share
    # money returning in the first week of quarter k came out at the end of quarter k-1
    previous_quarter = ((month - 1) // 3 - 1) % 4
    sub[quarter_start] *= (
        1 + d.quarter_return_share * size[previous_quarter[quarter_start]] * corporate_share
    )

    sub[features["is_payday"].to_numpy()] *= d.payday_subscriptions
    red[features["is_tax_deadline"].to_numpy()] *= d.tax_day_redemptions
    return sub, red


def _previous_stretches(
    upcoming: np.ndarray, in_holiday: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each day, the holiday name and length (days) of the stretch holding it or the last
    one before it ('' and 0 before the first)."""
    names = np.full(len(upcoming), "", dtype=object)
    lengths = np.zeros(len(upcoming), dtype=int)
    last, run, last_length = "", 0, 0
    for i in range(len(upcoming)):
        if in_holiday[i]:
            run += 1
            last, last_length = upcoming[i], run
        else:
            run = 0
        names[i] = last
        lengths[i] = last_length
    return names, lengths


def stress_multipliers(
    days: pd.DatetimeIndex,
    start: str | pd.Timestamp,
    n_days: int,
    drivers: DemandDrivers = DemandDrivers(),
) -> tuple[np.ndarray, np.ndarray]:
    """Subscription and redemption multipliers of a redemption wave.

    The wave ramps up linearly over ``drivers.stress_ramp_days`` days, holds its peak, and fades
    linearly over the last third of its ``n_days`` calendar days.

    Returns:
        ``(subscriptions, redemptions)`` arrays over ``days`` (1 outside the episode).
    """
    position = (days - pd.Timestamp(start)).days.to_numpy()
    shape = np.zeros(len(days))
    inside = (position >= 0) & (position < n_days)
    ramp = np.minimum((position + 1) / max(drivers.stress_ramp_days, 1), 1.0)
    fade_len = max(n_days // 3, 1)
    fade = np.minimum((n_days - position) / fade_len, 1.0)
    shape[inside] = np.minimum(ramp, fade)[inside]
    red = 1 + (drivers.stress_redemptions - 1) * shape
    sub = 1 + (drivers.stress_subscriptions - 1) * shape
    return sub, red


def campaign_exposure(
    features: pd.DataFrame,
    base: float,
    campaigns: list[tuple[int, int, float]],
    noise: np.ndarray,
    drivers: DemandDrivers = DemandDrivers(),
) -> np.ndarray:
    """Daily exposure (page views) of one product.

    Args:
        features: calendar features of the days.
        base: page views on an ordinary working day without campaign.
        campaigns: ``(first day position, length in days, multiplier)`` of each campaign.
        noise: standard-normal draws, one per day, scaled here to a lognormal of σ = 0.1.
        drivers: the parameters.

    Returns:
        Whole page views per day (float array), ≥ 0.
    """
    n = len(features)
    level = np.full(n, base)
    level[~features["is_workday"].to_numpy()] *= drivers.exposure_weekend
    for first, length, multiplier in campaigns:
        level[max(first, 0) : max(first + length, 0)] *= multiplier
    return np.round(level * np.exp(0.1 * noise - 0.005))


def yield_multipliers(
    spread_pct: np.ndarray,
    rank: np.ndarray,
    beta_subscriptions: np.ndarray,
    beta_redemptions: np.ndarray,
    gamma_subscriptions: float = 0.3,
    gamma_redemptions: float = 0.15,
) -> tuple[np.ndarray, np.ndarray]:
    """Multipliers from the yield spread to the benchmark and the rank among rivals.

    Args:
        spread_pct: product's 7-day yield minus the benchmark, percentage points (0 if unknown).
        rank: place among rivals in [0, 1], 1 = highest yield (0.5 if unknown).
        beta_subscriptions, beta_redemptions: per-product sensitivities, per percentage point.
        gamma_subscriptions, gamma_redemptions: rank sensitivities.

    Returns:
        ``(subscriptions, redemptions)`` multipliers.
    """
    centred = rank - 0.5
    # Holders react to a spread of tens of bp; beyond about half a point the effect saturates
    # (a product cannot lose more than its holders who care about yield).
    spread_pct = SPREAD_SATURATION_PCT * np.tanh(np.asarray(spread_pct) / SPREAD_SATURATION_PCT)
    sub = np.exp(beta_subscriptions * spread_pct + gamma_subscriptions * centred)
    red = np.exp(-beta_redemptions * spread_pct - gamma_redemptions * centred)
    return sub, red


def demand_exposure_factor(
    exposure: np.ndarray, params: ExposureResponse, base: float
) -> np.ndarray:
    """Exposure's demand multiplier relative to the product's base exposure (1 at ``base``)."""
    return exposure_response(exposure, params) / exposure_response(base, params)
