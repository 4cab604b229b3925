"""Model parameters: the plan inputs turned into the scaled numbers the formulation uses.

:func:`model_parameters` derives, from :class:`~optimize.inputs.PlanInputs` and the settings:

- the **scale**: amounts inside the model are CNY divided by a power of ten chosen so that the
  median product's reference AUM lies between 100 and 1,000 model units (for products of some
  tens of billions of CNY one unit is 100 million CNY). Coefficients then stay within a few
  orders of magnitude of 1, which HiGHS's tolerances (1e-7 absolute) need;
- the **calendar**: which days are working days (purchases happen on those only), the maturity
  day of a purchase of every bucket on every day (the first working day on or after purchase
  day + tenor, as :mod:`simulate.portfolio`), and the last day within which an asset maturing
  counts as liquid (``liquid_workdays`` working days after each day);
- **today's portfolio** as per-day series: outstanding principal, principal maturing, income
  (amount × rate), liquid and cash-like amounts, and maturity-days (amount × days left);
- the **integer structure**: purchase and quota lots (1-2-5 numbers of CNY), their upper
  bounds, the exposure slot size, each product's number of slots, the demand multiplier at each
  slot count (``response(slots × size) / response(baseline)``) and the daily slot budget;
- the **requirements**: the redemption quantile at the settings' confidence (interpolated
  linearly between the forecast's levels), the floors, the WAM cap, the AUM band and the channel
  sales requirements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from optimize.inputs import PlanInputs, days_off_runs
from optimize.settings import PlanSettings
from rainmaker.assets import AssetBucket, bucket
from rainmaker.china_calendar import calendar_features
from rainmaker.response import ExposureResponse, exposure_response

__all__ = [
    "NEED_BASES",
    "CumulativeNeeds",
    "ModelParameters",
    "cumulative_needs",
    "days_off_runs",
    "model_parameters",
    "nice_floor",
    "ordinary_days_off",
    "required_quantile",
    "stress_profile",
    "summed_net_quantile",
    "summed_quantile",
]

# Days after the horizon are taken to repeat the horizon's last week (weekly seasonality) when
# a window of redemptions reaches beyond it.
WEEK = 7

DAYS_PER_YEAR = 365

# What sets a day's cumulative liquidity need (E27), in the order :func:`cumulative_needs`
# applies them (a later one sets the need only where it is larger): the forecast's joint paths
# at the day's confidence, the stress floor of recent redemptions, the managed book's cash over
# the days off, the worst days off of the last year, the managed book's cash and overnight
# repo on the next working day. ``plan.csv`` names it in ``liquidity_need_basis``.
NEED_BASES = ("quantile", "stress", "managed_cash", "worst_days_off", "managed_overnight")


def nice_floor(x: float) -> float:
    """The largest 1, 2 or 5 × 10^k not above ``x`` (``x`` > 0): round lot sizes."""
    if not x > 0:
        raise ValueError(f"nice_floor: expected a positive number, got {x!r}")
    power = 10.0 ** math.floor(math.log10(x))
    for step in (5.0, 2.0, 1.0):
        if step * power <= x * (1 + 1e-12):
            return step * power
    return power  # pragma: no cover - unreachable: 1 × 10^floor(log10 x) <= x


def required_quantile(quantiles: dict[float, np.ndarray], confidence: float) -> np.ndarray:
    """The redemption quantile at ``confidence``, interpolated linearly between levels.

    Raises:
        ValueError: ``confidence`` is above the highest level available.
    """
    levels = sorted(quantiles)
    if confidence in quantiles:
        return np.asarray(quantiles[confidence], dtype=float)
    if confidence > levels[-1]:
        raise ValueError(
            f"no redemption quantile at or above {confidence}; highest is {levels[-1]}"
        )
    upper = next(q for q in levels if q > confidence)
    below = [q for q in levels if q < confidence]
    if not below:
        return np.asarray(quantiles[upper], dtype=float)
    lower = below[-1]
    w = (confidence - lower) / (upper - lower)
    return (1 - w) * np.asarray(quantiles[lower], dtype=float) + w * np.asarray(
        quantiles[upper], dtype=float
    )


def summed_quantile(
    paths: np.ndarray | None,
    daily_quantile: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    confidence: float,
) -> np.ndarray:
    """Quantile at ``confidence`` of the redemptions summed over days ``first[t]..last[t]``.

    Args:
        paths: sample paths of redemptions (P, N, H), any unit, or None.
        daily_quantile: each day's quantile at ``confidence`` (P, H), used without paths: the
            sum of the daily quantiles, an upper bound of the quantile of the sum.
        first, last: inclusive day indices of each window (H,); ``last`` may lie beyond the
            horizon, whose days then repeat the horizon's last week (its last ``min(7, H)``
            days, in order); an empty window (``last < first``) sums to 0.
        confidence: the quantile level.

    Returns:
        (P, H) quantiles of the window sums, same unit as the inputs.
    """
    h = daily_quantile.shape[1]
    first = np.asarray(first, dtype=np.int64)
    last = np.asarray(last, dtype=np.int64)
    reach = int(max(last.max(initial=0), h - 1)) + 1
    period = min(WEEK, h)
    # day index of the horizon standing in for each day up to ``reach``
    source = np.arange(reach)
    beyond = source >= h
    source[beyond] = h - period + (source[beyond] - h) % period
    base = daily_quantile if paths is None else np.asarray(paths, dtype=float)
    extended = base[..., source]
    cumulative = np.concatenate(
        [np.zeros((*extended.shape[:-1], 1)), np.cumsum(extended, axis=-1)], axis=-1
    )
    stop = np.maximum(last + 1, first)
    sums = cumulative[..., stop] - cumulative[..., first]
    if paths is None:
        return sums
    return np.quantile(sums, confidence, axis=1)


def summed_net_quantile(
    redemption_paths: np.ndarray,
    subscription_paths: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    confidence: float,
) -> np.ndarray:
    """Quantile at ``confidence`` of the redemptions of days ``first[t]..last[t]`` less the
    subscriptions of days ``first[t]..last[t] − 1`` (a day's money settles by the next), over
    the joint sample paths (P, N, H) of both, same unit; windows within the horizon."""
    h = redemption_paths.shape[-1]
    zeros = np.zeros((*redemption_paths.shape[:-1], 1))
    red = np.concatenate([zeros, np.cumsum(redemption_paths, axis=-1)], axis=-1)
    sub = np.concatenate([zeros, np.cumsum(subscription_paths[..., :h], axis=-1)], axis=-1)
    first = np.asarray(first, dtype=np.int64)
    stop = np.maximum(np.minimum(np.asarray(last, dtype=np.int64), h - 1) + 1, first)
    settled = sub[..., np.maximum(stop - 1, first)] - sub[..., first]
    sums = red[..., stop] - red[..., first] - settled
    return np.quantile(sums, confidence, axis=1)


@dataclass(frozen=True, eq=False)
class ModelParameters:
    """Scaled parameters of one plan. Amounts are model units (CNY / ``scale``); (P, H) arrays
    are per product and day, day 0 being the day after the as-of day.

    Attributes:
        inputs, settings: what they were derived from.
        scale: CNY per model unit.
        buckets: the buckets the plan may buy (K), in settings order.
        rate_pct: purchase rate of each bucket, percent p.a. (K,).
        cash_rate_pct: what cash earns, percent p.a.
        workday: day is a working day (H,).
        maturity: day index of the maturity of a purchase of bucket k on day s (K, H); may be
            ≥ H (after the horizon).
        liquid_until: day index up to which a maturity counts as liquid on day t (H,).
        ladder_until: day index up to which a maturity counts in day t's maturity ladder
            (t + ``ladder_days``, H) (E26).
        min_ladder_ratio: the ladder's floor, share of AUM (E26), per product (P,): at least
            the product's worst net outflow over the ladder's window in the last year, and
            higher in defence (:mod:`optimize.regime`).
        defence: the product plans in defence (P,).
        bucket_allowed: the product may buy bucket k (P, K): in defence no bucket longer than
            ``regime.max_tenor_days``; with ``purchases.within_book`` none longer than its
            managed book's longest.
        needs: the cumulative needs (E27, P, H): what the product must be able to pay from the
            end of day 0 through day t, before the subscriptions the plan accepts on days 1..t−1
            are credited (model units); 0 on day 0.
        needs_credit: day t's needs are reduced by the subscriptions accepted on days
            1..t−1 (P, H): false on the days off right after day 0 that its cash alone pays
            (a product in defence, or ``liquidity.credit_days_off`` off).
        needs_confidence: the quantile level of the forecast's paths at each day (P, H),
            what sets the need where ``needs_basis`` is ``"quantile"``.
        needs_basis: what sets each day's need (P, H), an index into :data:`NEED_BASES`.
        days_off_floor_cny: the worst net outflow of as many days off in the product's last
            ``liquidity.days_off_lookback_days`` days that the needs through the days off right
            after the first day keep at least (P,), CNY; 0 where no such floor applies.
        demand, redemptions: expected demand at baseline exposure and redemptions (P, H).
        required_buffer: what the buffer must cover (E15, P, H): the redemption quantile at the
            confidence of the day (``liquidity.window = "day"``) or of the liquid window's
            redemptions, never below the day's (``"5d"``).
        day_quantile: the day's redemption quantile at the confidence (P, H).
        days_off_last_workday: for each day off, the last working day before it (H,), whose
            closing cash pays the run of days off up to it (E24); −1 is the as-of day, below
            −1 a day before it; on working days a large negative number (no row).
        days_off_need: quantile of the redemptions summed from the day after that working day
            to the day off (P, H), 0 on working days.
        days_off_held_maturing: today's positions maturing after that working day up to the
            day off (P, H) (none, unless a holding matures on a day off).
        held_income_terminal: Σ amount × rate_pct of today's positions earning on the day after
            the horizon (P,), for the terminal yield row (E23).
        aum_ref: reference AUM for per-bp weights (P,); aum0, cash0: today's AUM and cash.
        held_outstanding, held_maturing, held_income_pct, held_liquid, held_cash_like,
        held_maturity_days, held_ladder: today's non-cash positions per day (P, H): principal
            outstanding at the end of the day, principal maturing that day, Σ amount × rate_pct
            earned that day, principal liquid at the end of the day, cash-like principal, Σ
            amount × days left, principal in the day's maturity ladder.
        held_today: non-cash principal at the end of the as-of day (P,).
        fee_pct: annual fees, percent (P,).
        purchase_lot, purchase_max_lots: lot size (model units) and bound on lots a day (P,).
        quota_lot, quota_max_lots: quota lot (model units) and largest useful quota in lots (P,).
        slots: exposure slots product p may get (P,), 0 without exposure response.
        slot_size: exposure per slot (the forecast's exposure unit).
        multiplier: demand multiplier at j slots, j = 0..max(slots) (P, H, S+1).
        budget: slots available each day (H,).
        demand_max: demand at the product's largest multiplier (P, H).
        target_yield_pct: target net yield path, simple annual percent (P, H).
        purchase_rate_pct: the rate a purchase of bucket k on day s earns, percent p.a. (K, H):
            the market forecast's median (``[market] forecast``), else ``rate_pct`` every day.
        band_lower, band_upper: AUM band (P,).
        min_liquid_ratio, min_cash_ratio, max_wam_days: per product (P,).
        open_today: (P,) bool.
        sales_products, sales_days, sales_need: per sales requirement r: product mask (R, P),
            day mask (R, H), amount to raise (R,).
        sales_labels: label of each requirement.
    """

    inputs: PlanInputs
    settings: PlanSettings
    scale: float
    buckets: tuple[AssetBucket, ...]
    rate_pct: np.ndarray
    cash_rate_pct: float
    workday: np.ndarray
    maturity: np.ndarray
    liquid_until: np.ndarray
    ladder_until: np.ndarray
    min_ladder_ratio: np.ndarray
    defence: np.ndarray
    bucket_allowed: np.ndarray
    needs: np.ndarray
    needs_credit: np.ndarray
    needs_confidence: np.ndarray
    needs_basis: np.ndarray
    days_off_floor_cny: np.ndarray
    demand: np.ndarray
    redemptions: np.ndarray
    required_buffer: np.ndarray
    day_quantile: np.ndarray
    days_off_last_workday: np.ndarray
    days_off_need: np.ndarray
    days_off_held_maturing: np.ndarray
    held_income_terminal: np.ndarray
    aum_ref: np.ndarray
    aum0: np.ndarray
    cash0: np.ndarray
    held_outstanding: np.ndarray
    held_maturing: np.ndarray
    held_income_pct: np.ndarray
    held_liquid: np.ndarray
    held_cash_like: np.ndarray
    held_maturity_days: np.ndarray
    held_ladder: np.ndarray
    held_today: np.ndarray
    fee_pct: np.ndarray
    purchase_lot: np.ndarray
    purchase_max_lots: np.ndarray
    quota_lot: np.ndarray
    quota_max_lots: np.ndarray
    slots: np.ndarray
    slot_size: float
    multiplier: np.ndarray
    budget: np.ndarray
    demand_max: np.ndarray
    target_yield_pct: np.ndarray
    purchase_rate_pct: np.ndarray
    band_lower: np.ndarray
    band_upper: np.ndarray
    min_liquid_ratio: np.ndarray
    min_cash_ratio: np.ndarray
    max_wam_days: np.ndarray
    open_today: np.ndarray
    sales_products: np.ndarray
    sales_days: np.ndarray
    sales_need: np.ndarray
    sales_labels: tuple[str, ...]

    @property
    def n_products(self) -> int:
        return self.inputs.n_products

    @property
    def horizon(self) -> int:
        return self.inputs.horizon

    @property
    def max_slots(self) -> int:
        return int(self.multiplier.shape[2] - 1)

    @property
    def overnight_rate_pct(self) -> float:
        """Today's overnight repo rate, percent p.a.: what money lent overnight earns and repo
        borrowing pays (E28)."""
        return float(self.inputs.rates_pct.get("repo_1d", self.cash_rate_pct))

    @property
    def borrow0(self) -> np.ndarray:
        """Repo borrowing outstanding at the end of the as-of day (P,), model units."""
        borrowed = self.inputs.borrowed_today
        if borrowed is None:
            return np.zeros(self.n_products)
        return np.asarray(borrowed, dtype=float) / self.scale

    @property
    def book_gap0(self) -> np.ndarray:
        """Market value − amortised cost of today's holdings (P,), model units (E29)."""
        gap = self.inputs.book_gap_cny
        if gap is None:
            return np.zeros(self.n_products)
        return np.asarray(gap, dtype=float) / self.scale

    @property
    def shock_days_per_unit(self) -> float:
        """Maturity-days (principal × days) per unit of value a ``liquidity.shock_bp`` rise of
        the curve takes off, 365 × 10,000 / shock (E29): a lot with d days left loses about
        shock / 10,000 × d / 365 of its principal."""
        return 365.0 * 10_000.0 / self.settings.liquidity.shock_bp

    @property
    def borrowing_allowed(self) -> bool:
        """The plan may borrow (``liquidity.max_leverage`` above 1)."""
        return self.settings.liquidity.max_leverage > 1.0


def _purchase_rates(inputs: PlanInputs, buckets: tuple[AssetBucket, ...]) -> np.ndarray:
    """The rate of a purchase of each bucket on each planned day (K, H), percent p.a."""
    paths = inputs.purchase_rates_pct or {}
    out = np.empty((len(buckets), inputs.horizon))
    for k, b in enumerate(buckets):
        path = paths.get(b.name)
        out[k] = inputs.rates_pct[b.name] if path is None else np.asarray(path, dtype=float)
    return out


def _scale(aum_ref: np.ndarray) -> float:
    median = float(np.median(aum_ref))
    return 10.0 ** math.floor(math.log10(max(median, 1e-6))) / 100.0


def _calendar(
    inputs: PlanInputs, buckets: tuple[AssetBucket, ...], liquid_workdays: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Working days (H,), maturity day of a purchase per bucket and day (K, H), last day of
    each day's liquid window (H,); day indices count from the first planned day."""
    h = inputs.horizon
    flags = inputs.workday
    origin = inputs.dates[0]
    days = flags.loc[origin:]
    is_work = days.to_numpy(dtype=bool)
    work_positions = np.flatnonzero(is_work)  # day indices (0 = first planned day)

    def on_or_after(index: np.ndarray) -> np.ndarray:
        k = np.searchsorted(work_positions, index, side="left")
        if (k >= len(work_positions)).any():
            raise ValueError("the working-day calendar does not reach far enough")
        return work_positions[k]

    s = np.arange(h)
    maturity = (
        np.stack([on_or_after(s + b.tenor_days) for b in buckets])
        if buckets
        else np.zeros((0, h), dtype=np.int64)
    )
    # The n-th working day strictly after day t.
    first_after = np.searchsorted(work_positions, s, side="right")
    liquid_until = work_positions[first_after + liquid_workdays - 1]
    return is_work[:h], maturity.astype(np.int64), liquid_until.astype(np.int64)


def _held_series(
    inputs: PlanInputs, liquid_until: np.ndarray, ladder_until: np.ndarray, scale: float
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Today's cash (P,), non-cash principal (P,) and non-cash positions as per-day arrays
    (P, H), all in model units."""
    p, h = inputs.n_products, inputs.horizon
    holdings = inputs.holdings
    index = {pid: i for i, pid in enumerate(inputs.product_ids)}
    product = holdings["product_id"].map(index).to_numpy(dtype=np.int64)
    is_cash = (holdings["bucket"] == "cash").to_numpy()
    amount = holdings["amount_cny"].to_numpy(dtype=float) / scale
    cash0 = np.bincount(product[is_cash], weights=amount[is_cash], minlength=p)
    term = ~is_cash
    product, amount = product[term], amount[term]
    rate = holdings["rate_pct"].to_numpy(dtype=float)[term]
    cash_like = np.array(
        [bucket(b).cash_like for b in holdings["bucket"].to_numpy()[term]], dtype=bool
    )
    origin = inputs.dates[0]
    maturity = (
        (holdings["maturity_date"].to_numpy()[term] - np.datetime64(origin))
        // np.timedelta64(1, "D")
    ).astype(np.int64)
    value_dates = holdings["value_date"].to_numpy()[term]
    has_value = ~pd.isna(value_dates)
    value = np.full(len(amount), np.iinfo(np.int64).min // 2, dtype=np.int64)
    if has_value.any():
        value[has_value] = (
            (value_dates[has_value] - np.datetime64(origin)) // np.timedelta64(1, "D")
        ).astype(np.int64)
    out = {
        k: np.zeros((p, h))
        for k in ("outstanding", "maturing", "income", "liquid", "cash_like", "days", "ladder")
    }
    # Σ amount × rate earning on the day after the horizon (the terminal yield row, E23).
    earning = (value <= h) & (maturity >= h)
    out["income_terminal"] = np.bincount(
        product[earning], weights=(amount * rate)[earning], minlength=p
    )
    for t in range(h):
        alive = maturity > t
        out["outstanding"][:, t] = np.bincount(product[alive], weights=amount[alive], minlength=p)
        due = maturity == t
        out["maturing"][:, t] = np.bincount(product[due], weights=amount[due], minlength=p)
        earning = (value <= t) & (maturity >= t)
        out["income"][:, t] = np.bincount(
            product[earning], weights=(amount * rate)[earning], minlength=p
        )
        liquid = alive & (maturity <= liquid_until[t])
        out["liquid"][:, t] = np.bincount(product[liquid], weights=amount[liquid], minlength=p)
        ladder = alive & (maturity <= ladder_until[t])
        out["ladder"][:, t] = np.bincount(product[ladder], weights=amount[ladder], minlength=p)
        like = alive & cash_like
        out["cash_like"][:, t] = np.bincount(product[like], weights=amount[like], minlength=p)
        out["days"][:, t] = np.bincount(
            product[alive], weights=(amount * (maturity - t))[alive], minlength=p
        )
    today = np.bincount(product, weights=amount, minlength=p)
    return cash0, today, out


def _exposure(
    inputs: PlanInputs, settings: PlanSettings
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Slots per product (P,), slot size, demand multiplier at each slot count (P, H, S+1)
    and each day's budget in slots (H,)."""
    p, h = inputs.n_products, inputs.horizon
    baseline = np.asarray(inputs.baseline_exposure, dtype=float)
    options = settings.exposure
    responsive = np.asarray(inputs.response_a) > 0
    positive = baseline[baseline > 0]
    if not options.enabled or positive.size == 0 or not responsive.any():
        return np.zeros(p, dtype=np.int64), 1.0, np.ones((p, h, 1)), np.zeros(h, dtype=np.int64)
    slot_size = float(positive.mean()) / options.slots_per_product
    # At most max_multiple × the largest baseline (rounded down to whole slots), at least one.
    # Capped before the cast to integers: a max_multiple of 1e300 is a float beyond int64 (cast
    # to a negative number, then clipped to 1 slot instead of max_slots).
    wanted = options.max_multiple * baseline.max(axis=1) / slot_size + 1e-9
    slots = np.floor(np.minimum(wanted, options.max_slots)).astype(np.int64)
    slots = np.clip(slots, 1, options.max_slots)
    slots[~responsive] = 0
    s_max = int(slots.max())
    multiplier = np.ones((p, h, s_max + 1))
    grid = np.arange(s_max + 1) * slot_size
    for i in np.flatnonzero(responsive):
        curve = ExposureResponse(float(inputs.response_a[i]), float(inputs.response_e0[i]))
        at_base = exposure_response(baseline[i], curve)  # (H,)
        at_slots = exposure_response(grid, curve)  # (S+1,)
        multiplier[i] = at_slots[None, :] / at_base[:, None]
        multiplier[i, :, slots[i] + 1 :] = multiplier[i, :, slots[i], None]
    budget = np.floor(
        options.budget_factor * baseline[responsive].sum(axis=0) / slot_size + 0.5
    ).astype(np.int64)
    return slots, slot_size, multiplier, budget


def model_parameters(inputs: PlanInputs, settings: PlanSettings) -> ModelParameters:
    """Derive the scaled model parameters (see the module docstring).

    Raises:
        ValueError: the settings' confidence is above every redemption quantile available.
    """
    p, h = inputs.n_products, inputs.horizon
    demand_cny = np.asarray(inputs.demand, dtype=float)
    aum0_cny = np.asarray(inputs.aum_today, dtype=float)
    aum_ref_cny = np.maximum.reduce([aum0_cny, demand_cny.sum(axis=1), np.ones(p)])
    scale = _scale(aum_ref_cny)
    buckets = tuple(bucket(name) for name in settings.purchases.buckets)
    workday, maturity, liquid_until = _calendar(inputs, buckets, settings.liquidity.liquid_workdays)
    ladder_until = np.arange(h) + settings.liquidity.ladder_days
    cash0, held_today, held = _held_series(inputs, liquid_until, ladder_until, scale)

    slots, slot_size, multiplier, budget = _exposure(inputs, settings)
    top = multiplier.max(axis=2)
    demand_max_cny = demand_cny * np.maximum(top, 1.0)

    # Lots are round numbers of CNY, so they are computed before scaling.
    purchase_lot_cny = np.array([nice_floor(settings.purchases.lot_share * a) for a in aum_ref_cny])
    reach = aum_ref_cny + demand_max_cny.sum(axis=1)
    purchase_max = np.ceil(reach / purchase_lot_cny) + 1
    mean_demand = np.maximum(demand_cny.mean(axis=1), 1e-3 * aum_ref_cny)
    quota_lot_cny = np.array([nice_floor(settings.quota.lot_share * d) for d in mean_demand])
    quota_max = np.maximum(np.ceil(demand_max_cny.max(axis=1) / quota_lot_cny), 1)

    band = settings.targets.aum_band_pct / 100.0
    target_aum = np.asarray(inputs.target_aum, dtype=float) / scale

    sales = inputs.sales
    r = len(sales)
    sales_products = np.zeros((r, p), dtype=bool)
    sales_days = np.zeros((r, h), dtype=bool)
    sales_need = np.zeros(r)
    labels = []
    for i, row in enumerate(sales.itertuples(index=False)):
        sales_products[i] = np.asarray(inputs.channels) == row.channel
        sales_days[i, int(row.first_day) : int(row.last_day) + 1] = True
        sales_need[i] = float(row.need_cny) / scale
        labels.append(
            f"{row.channel} {pd.Timestamp(row.start):%Y-%m-%d}..{pd.Timestamp(row.end):%Y-%m-%d}"
        )

    # The regime: a product in defence plans at a higher confidence and floors, and buys no
    # long bucket (docs/optimize.md, "Defence").
    defence = (
        np.zeros(p, dtype=bool)
        if inputs.defence is None
        else np.asarray(inputs.defence, dtype=bool)
    )
    regime = settings.regime
    confidence = settings.liquidity.confidence
    defence_confidence = max(confidence, regime.confidence)
    calm_ladder = np.full(p, settings.liquidity.min_ladder_ratio)
    if inputs.worst_outflow is not None:
        calm_ladder = np.maximum(calm_ladder, np.asarray(inputs.worst_outflow, dtype=float))
    if settings.liquidity.managed_ladder_floor > 0 and inputs.managed_ladder_ratio is not None:
        managed_ladder = settings.liquidity.managed_ladder_floor * np.asarray(
            inputs.managed_ladder_ratio, dtype=float
        )
        calm_ladder = np.minimum(np.maximum(calm_ladder, managed_ladder), 1.0)
    min_ladder = np.where(defence, np.maximum(calm_ladder, regime.min_ladder_ratio), calm_ladder)
    min_liquid = np.asarray(inputs.min_liquid_ratio, dtype=float)
    floor = settings.liquidity.managed_floor
    if floor > 0 and inputs.managed_liquid_ratio is not None:
        managed = floor * np.asarray(inputs.managed_liquid_ratio, dtype=float)
        min_liquid = np.minimum(np.maximum(min_liquid, managed), 1.0)
    min_liquid = np.where(defence, np.maximum(min_liquid, regime.min_liquid_ratio), min_liquid)
    tenors = np.array([b.tenor_days for b in buckets], dtype=int)
    bucket_allowed = ~defence[:, None] | (tenors[None, :] <= regime.max_tenor_days)
    if settings.purchases.within_book and inputs.managed_max_tenor_days is not None:
        longest = np.asarray(inputs.managed_max_tenor_days, dtype=float)
        bucket_allowed &= tenors[None, :] <= longest[:, None]

    # The buffer's requirement (E15) and the cash before days off (E24), in model units.
    paths = inputs.redemption_paths
    if paths is not None:
        paths = np.asarray(paths, dtype=float) / scale
    quantiles = dict(inputs.redemption_quantiles)
    day_q = required_quantile(quantiles, confidence) / scale
    days = np.arange(h)
    if settings.liquidity.window == "5d":
        window_q = summed_quantile(paths, day_q, days + 1, liquid_until, confidence)
        required = np.maximum(window_q, day_q)
    else:
        required = day_q
    if defence.any():
        scaled = {q: np.asarray(v, dtype=float) / scale for q, v in quantiles.items()}
        day_q_hi = _daily_quantile(scaled, paths, defence_confidence)
        if settings.liquidity.window == "5d":
            window_hi = summed_quantile(paths, day_q_hi, days + 1, liquid_until, defence_confidence)
            required_hi = np.maximum(window_hi, day_q_hi)
        else:
            required_hi = day_q_hi
        required = np.where(defence[:, None], required_hi, required)
    flags = inputs.workday.loc[inputs.as_of :].to_numpy(dtype=bool)[: h + 1]
    last_work = days_off_runs(flags)
    off = last_work > np.iinfo(np.int32).min
    first = np.where(off, np.maximum(last_work + 1, 0), 0)
    off_need = summed_quantile(paths, day_q, first, days, confidence)
    credit_off = settings.liquidity.credit_days_off & ~defence
    if paths is not None and inputs.subscription_paths is not None and credit_off.any():
        # in calm the days off pay their redemptions net of the subscriptions settled by then
        subscribed = np.asarray(inputs.subscription_paths, dtype=float) / scale
        net_need = summed_net_quantile(paths, subscribed, first, days, confidence)
        off_need = np.where(credit_off[:, None], net_need, off_need)
    off_need = np.where(off[None, :], np.maximum(off_need, 0.0), 0.0)
    maturing_cum = np.concatenate([np.zeros((p, 1)), np.cumsum(held["maturing"], axis=1)], axis=1)
    off_held = np.where(
        off[None, :], maturing_cum[:, days + 1] - maturing_cum[:, np.maximum(first, 0)], 0.0
    )

    cumulative = cumulative_needs(inputs, settings, workday, defence, quantiles, scale)

    return ModelParameters(
        inputs=inputs,
        settings=settings,
        scale=scale,
        buckets=buckets,
        rate_pct=np.array([inputs.rates_pct[b.name] for b in buckets], dtype=float),
        cash_rate_pct=float(inputs.rates_pct["cash"]),
        workday=workday,
        maturity=maturity,
        liquid_until=liquid_until,
        ladder_until=ladder_until,
        min_ladder_ratio=min_ladder,
        defence=defence,
        bucket_allowed=bucket_allowed,
        needs=cumulative.needs,
        needs_credit=cumulative.credit,
        needs_confidence=cumulative.confidence,
        needs_basis=cumulative.basis,
        days_off_floor_cny=cumulative.days_off_floor_cny,
        demand=demand_cny / scale,
        redemptions=np.asarray(inputs.redemptions, dtype=float) / scale,
        required_buffer=required,
        day_quantile=day_q,
        days_off_last_workday=last_work,
        days_off_need=off_need,
        days_off_held_maturing=off_held,
        held_income_terminal=held["income_terminal"],
        aum_ref=aum_ref_cny / scale,
        aum0=aum0_cny / scale,
        cash0=cash0,
        held_outstanding=held["outstanding"],
        held_maturing=held["maturing"],
        held_income_pct=held["income"],
        held_liquid=held["liquid"],
        held_cash_like=held["cash_like"],
        held_maturity_days=held["days"],
        held_ladder=held["ladder"],
        held_today=held_today,
        fee_pct=np.asarray(inputs.fee_bp, dtype=float) / 100.0,
        purchase_lot=purchase_lot_cny / scale,
        purchase_max_lots=purchase_max,
        quota_lot=quota_lot_cny / scale,
        quota_max_lots=quota_max,
        slots=slots,
        slot_size=slot_size,
        multiplier=multiplier,
        budget=budget,
        demand_max=demand_max_cny / scale,
        target_yield_pct=np.asarray(inputs.target_yield_pct, dtype=float),
        purchase_rate_pct=_purchase_rates(inputs, buckets),
        band_lower=target_aum * (1 - band),
        band_upper=target_aum * (1 + band),
        min_liquid_ratio=min_liquid,
        min_cash_ratio=np.asarray(inputs.min_cash_ratio, dtype=float),
        max_wam_days=np.asarray(inputs.max_wam_days, dtype=float),
        open_today=np.asarray(inputs.open_today, dtype=bool),
        sales_products=sales_products,
        sales_days=sales_days,
        sales_need=sales_need,
        sales_labels=tuple(labels),
    )


def _daily_quantile(
    quantiles: dict[float, np.ndarray], paths: np.ndarray | None, level: float
) -> np.ndarray:
    """Each day's redemption quantile at ``level`` (P, H), in the unit of ``paths`` and
    ``quantiles``: over the sample paths when given, else interpolated between the forecast's
    levels, else its highest level (a forecast without paths or a p99 cannot say more)."""
    if paths is not None:
        return np.quantile(paths, level, axis=1)
    if level <= max(quantiles):
        return required_quantile(quantiles, level)
    return np.asarray(quantiles[max(quantiles)], dtype=float)


def stress_profile(
    redemptions: np.ndarray, workday: np.ndarray, in_full: np.ndarray | None = None
) -> np.ndarray:
    """(P, H) each day's weight in the stress floor of the needs (E27): 0 on day 0, then the
    forecast's expected redemptions of the day over their mean on the horizon's working days,
    at most 1 (1 where the horizon has no working day to compare with), and 1 on the days
    ``in_full`` (H,) flags (the ordinary weekends of :func:`ordinary_days_off`).

    The floor is a multiple of the recent mean daily redemptions, which are working days' for
    the most part; the days of a long holiday see a fraction of them (the sample's National
    Day 2020: about a third), and counting each at the full mean asked a product to hold 36 %
    of its AUM in cash, some of it borrowed, over the eight days (y2020 window). The
    forecast's own day shape (weekends, holidays) lowers the days it knows to be quiet and
    never raises one above the recent mean: the floor is there for what the forecast misses.

    What it missed, where a weekend went unpaid in calm, was a weekend as heavy as the week:
    the mean it multiplies is of calendar days (weekends in it), so the forecast's weekend
    shape (0.6 of a working day, say) discounted a weekend twice, and seed 23's P07 (August
    2020) and combined2020's P03 (May 2020) redeemed 0.9–1.2 × that mean on each weekend day.
    An ordinary weekend counted in full costs a little cash each week; a holiday's eight days
    counted in full would cost a third of the AUM, so holidays keep the forecast's shape.
    """
    r = np.asarray(redemptions, dtype=float)
    p, h = r.shape
    work = np.asarray(workday, dtype=bool)[:h]
    profile = np.ones((p, h))
    if work.any():
        base = r[:, work].mean(axis=1)
        ratio = np.divide(r, base[:, None], out=np.ones_like(r), where=base[:, None] > 0)
        profile = np.clip(ratio, 0.0, 1.0)
    if in_full is not None:
        profile[:, np.asarray(in_full, dtype=bool)[:h]] = 1.0
    profile[:, 0] = 0.0
    return profile


def ordinary_days_off(dates: pd.DatetimeIndex, workday: np.ndarray) -> np.ndarray:
    """(H,) the days off of ``dates`` outside a public holiday's stretch (ordinary weekends,
    and the lone day off a make-up working day leaves), by the Chinese calendar; ``workday``
    (H,) the plan's working-day flags of the same days."""
    if not len(dates):
        return np.zeros(0, dtype=bool)
    in_holiday = calendar_features(dates[0], dates[-1])["in_holiday"].to_numpy(dtype=bool)
    return ~np.asarray(workday, dtype=bool)[: len(dates)] & ~in_holiday[: len(workday)]


class CumulativeNeeds(NamedTuple):
    """The cumulative liquidity needs of (E27) and what sets them (:func:`cumulative_needs`).

    Attributes:
        needs: per product and day, model units (P, H); day 0 has need 0.
        credit: the day's row credits the subscriptions the plan accepts (P, H).
        confidence: the quantile level of the forecast's paths at each day (P, H).
        days_off_floor_cny: the worst days off of the last year kept through the days off
            right after day 0, CNY (P,); 0 where it does not apply.
        basis: what sets each day's need, an index into :data:`NEED_BASES` (P, H).
    """

    needs: np.ndarray
    credit: np.ndarray
    confidence: np.ndarray
    days_off_floor_cny: np.ndarray
    basis: np.ndarray


def cumulative_needs(
    inputs: PlanInputs,
    settings: PlanSettings,
    workday: np.ndarray,
    defence: np.ndarray,
    quantiles: dict[float, np.ndarray],
    scale: float,
) -> CumulativeNeeds:
    """The cumulative liquidity needs of (E27), in model units.

    For each day t ≥ 1 of the horizon, the money the product must be able to pay from the end
    of day 0 through day t: the quantile, over the forecast's joint sample paths, of
    ``needs_margin`` × the redemptions of days 1..t less the demand of days 1..t−1 (credited:
    it settles by day t), plus the mean of that demand (the plan credits what it accepts, a
    variable, in the row itself; a quota that refuses demand raises the need by as much).
    On the days off right after day 0 nothing matures or sells before the next working day:
    their redemptions are paid from day 0's cash, net of the subscriptions that settle on them
    in calm (``credit_days_off``), gross for a product in defence (a run dries them up).

    Through the next working day (what only day 0's cash and overnight repo can pay) the level
    is ``next_days_confidence`` and the need at least ``stress_multiple`` × the mean daily
    redemptions of the last ``stress_lookback_days`` days for each day, each day weighted by
    the forecast's day shape (:func:`stress_profile`: a holiday counts for what the forecast
    sees of it, never more than a full day); after it, the
    liquidity ``confidence`` (the regime's in defence). One bad day is likely, fourteen in a row
    are not: the quantile of the sum is far below the sum of the daily quantiles, and a path
    that keeps losing money (a run) keeps its whole trajectory. The days off right after day 0
    also keep at least ``managed_floor`` × the managed book's cash share of today's AUM, and, by
    their last, the largest net outflow of as many days off in the product's last
    ``days_off_lookback_days`` days (``inputs.worst_days_off``, share of today's AUM); the
    next working day at least its cash and overnight repo share.

    Without sample paths each day counts at its own quantile (an upper bound).

    Returns:
        The needs with their credit rows, confidence levels, days-off floor and, per day,
        which of the above sets the need (:class:`CumulativeNeeds`).
    """
    liquidity = settings.liquidity
    p, h = inputs.n_products, inputs.horizon
    days = np.arange(h)
    later = np.flatnonzero(workday[1:]) + 1
    back = int(later[0]) if workday[0] and len(later) else (0 if not workday[0] else h)
    off = days < back  # before the next working day: day 0's cash alone pays
    soon = days <= back
    # the days off right after day 0 that today's cash alone pays, subscriptions uncredited:
    # every product's in defence, none in calm with ``credit_days_off``
    credit_off = liquidity.credit_days_off & ~np.asarray(defence, dtype=bool)
    cash_only = off[None, :] & ~credit_off[:, None]
    calm_level = liquidity.confidence
    hi_level = max(calm_level, settings.regime.confidence)
    later_level = np.where(defence[:, None], hi_level, calm_level)
    soon_level = np.maximum(later_level, liquidity.next_days_confidence)
    level = np.where(soon[None, :], soon_level, later_level)
    margin = liquidity.needs_margin
    aum_today = np.asarray(inputs.aum_today, dtype=float)
    needs = np.zeros((p, h))
    basis = np.full((p, h), NEED_BASES.index("quantile"), dtype=np.int8)
    expected_credit = np.zeros((p, h))
    if inputs.redemption_paths is not None:
        redeemed = margin * np.asarray(inputs.redemption_paths, dtype=float)
        if inputs.subscription_paths is not None:
            demand = np.asarray(inputs.subscription_paths, dtype=float)
        else:
            demand = np.broadcast_to(np.asarray(inputs.demand, float)[:, None, :], redeemed.shape)
        paid = np.cumsum(redeemed[:, :, 1:], axis=2)
        credited = np.concatenate(
            [np.zeros((*demand.shape[:2], 1)), np.cumsum(demand[:, :, 1:-1], axis=2)], axis=2
        )
        credit_mean = credited.mean(axis=1)
        net = np.where(cash_only[:, None, 1:], paid, paid - credited)
        levels = np.unique(level[:, 1:])
        by_level = np.quantile(net, levels, axis=1)  # (L, P, H - 1)
        pick = np.searchsorted(levels, level[:, 1:])
        chosen = np.take_along_axis(by_level, pick[None], axis=0)[0]
        needs[:, 1:] = chosen + np.where(cash_only[:, 1:], 0.0, credit_mean)
        expected_credit[:, 1:] = credit_mean
    else:
        for lv in np.unique(level[:, 1:]):
            q_day = _daily_quantile(quantiles, None, float(lv))
            summed = margin * np.cumsum(q_day[:, 1:], axis=1)
            needs[:, 1:] = np.where(level[:, 1:] == lv, summed, needs[:, 1:])
    if inputs.recent_redemptions is not None and liquidity.stress_multiple > 0:
        mean = np.asarray(inputs.recent_redemptions, dtype=float)
        in_full = (
            ordinary_days_off(inputs.dates, workday) if liquidity.stress_weekends_in_full else None
        )
        per_day = stress_profile(np.asarray(inputs.redemptions, dtype=float), workday, in_full)
        stress = liquidity.stress_multiple * mean[:, None] * np.cumsum(per_day, axis=1)
        # ... but the holders cannot take more than they hold: today's AUM and, where the row
        # credits them, the subscriptions expected by then. The mean is of the past, when the
        # product may have been far larger: one emptied two weeks before (its last day's
        # redemptions in the 28 days' mean) was asked to keep CNY 1.27 bn with nothing in it
        held = aum_today[:, None] + np.where(cash_only, 0.0, expected_credit)
        needs = _raise(needs, basis, np.minimum(stress, held), soon, "stress")
    floor = liquidity.managed_floor
    if floor > 0 and inputs.managed_cash_ratio is not None:
        # the days off right after day 0 are paid from its cash alone: never less cash for
        # them than the product's own management keeps
        kept = floor * np.asarray(inputs.managed_cash_ratio, dtype=float) * aum_today
        # where the row credits the days' subscriptions, their expected amount comes on top
        kept = kept[:, None] + np.where(cash_only, 0.0, expected_credit)
        needs = _raise(needs, basis, kept, off, "managed_cash")
    days_off_floor = np.zeros(p)
    if inputs.worst_days_off is not None and 1 < back < h:
        # ... nor less than the worst such days off of the product's last year took (the
        # quantile of one weekend is passed about once in a hundred): net of subscriptions,
        # so where the row credits them their expected amount comes on top
        last_off = back - 1
        worst = np.asarray(inputs.worst_days_off, dtype=float) * aum_today
        days_off_floor = worst
        kept = worst + np.where(cash_only[:, last_off], 0.0, expected_credit[:, last_off])
        needs = _raise(needs, basis, kept[:, None], days == last_off, "worst_days_off")
    overnight = liquidity.managed_overnight_floor
    if overnight > 0 and inputs.managed_overnight_ratio is not None and back < h:
        # ... and on the next working day never less cash and overnight repo on hand
        kept = overnight * np.asarray(inputs.managed_overnight_ratio, dtype=float) * aum_today
        needs = _raise(needs, basis, kept[:, None], days == back, "managed_overnight")
    needs[:, 0] = 0.0
    basis[:, 0] = NEED_BASES.index("quantile")
    return CumulativeNeeds(needs / scale, ~cash_only, level, days_off_floor, basis)


def _raise(
    needs: np.ndarray, basis: np.ndarray, floor: np.ndarray, on: np.ndarray, name: str
) -> np.ndarray:
    """``max(needs, floor)`` on the days ``on`` (H,), recording in ``basis`` (in place) where
    ``floor`` (broadcast to (P, H)) set it: only where it is strictly larger, so a floor that
    merely equals the need leaves the earlier basis (the forecast's quantile first)."""
    above = on[None, :] & (floor > needs)
    basis[above] = NEED_BASES.index(name)
    return np.where(above, floor, needs)
