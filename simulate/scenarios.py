"""Stress scenarios: turn any valid data set into a stressed copy that is still valid (SPEC §1).

Three kinds, each a pure function of a :class:`~rainmaker.dataset.Dataset` that returns a
:class:`Scenario` (the new data set, a record of what was applied, and the day-by-day effects):

- :func:`stress_run` — a market-wide redemption run on cash products: from ``start`` the
  redemptions of every product rise to a peak multiple and decay, subscriptions dip;
- :func:`rate_shock` — a shock on ``market.csv`` shaped like June 2013 (a spike in the overnight
  rate, gone within weeks) or late 2016 (a climb of the 3-month rate that stays); the benchmark
  follows with the lag of a peer fund's book;
- :func:`holders_leave` — the largest holders of one product leave over a few working days.

:func:`write_dataset` writes the result as a data-set folder, atomically, with a
``scenario.json`` and a ``SCENARIO.md`` saying what was applied. The named presets the panel
benchmark uses are in :data:`PRESETS` (the only place their numbers live).

How flows are re-rolled (run and holders-leave). Nothing changes before the first stressed day.
From then on each product is replayed day by day: with ``k(t) = aum_new(t−1) / aum(t−1)`` the
product's size relative to the input, its ordinary flows are the input's scaled by ``k`` (a product
that lost a third of its holders has a third less ordinary traffic; keeping the input's absolute
flows instead would drive a shrunken product's AUM below zero), plus the scenario's extra
redemptions, minus its subscription dip. The day's income is the input's observed income
(``aum(t) − aum(t−1) − subscriptions + redemptions``) times ``k``: that is the income per unit times
the units held, so it keeps ``income_per_10k`` and the input's rule for when new money starts to
earn, reproduces the input exactly where nothing is stressed, and keeps the validator's
roll-forward warnings what they were on the input. ``aum`` then rolls forward exactly:
``aum(t) = aum(t−1) + subscriptions − redemptions + income``. Redemptions never exceed what the
product holds (``aum(t−1) + subscriptions + income``). Published ``income_per_10k`` and
``yield_7d`` are per unit and are kept; the replay computes its own yields from its portfolio.
``quota`` is the manager's cap and is kept; where the input's quota bound (subscriptions = quota
< demand), subscriptions stay ``min(demand, quota)``.

Amounts are CNY (the data set's unit), rates percent per annum, shocks basis points.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import os
import re
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rainmaker import __version__
from rainmaker.assets import bucket, rate_fallbacks
from rainmaker.china_calendar import Workdays, day_number, to_timestamp
from rainmaker.dataset import Dataset, DateLike, load_dataset, parse_day
from rainmaker.errors import DataError, Problem, UsageError
from rainmaker.validation import VALUE_RANGES, read_cells, table_files
from simulate.market import PEER_MIX

__all__ = [
    "KINDS",
    "PRESETS",
    "RATE_SHAPES",
    "RUN_SHAPES",
    "TERM_STRUCTURE",
    "Preset",
    "Scenario",
    "apply_scenario",
    "check_out",
    "holders_leave",
    "parse_share",
    "rate_shock",
    "stress_run",
    "write_dataset",
]

KINDS = ("run", "rate-shock", "holders-leave")
RUN_SHAPES = ("ramp", "spike", "plateau")
RATE_SHAPES = ("spike", "climb")
RECORD_FILE = "scenario.json"
NOTE_FILE = "SCENARIO.md"


@dataclass(frozen=True)
class Preset:
    """A named scenario: its kind and the parameters it fixes (the caller chooses ``start``)."""

    kind: str
    params: Mapping[str, Any]
    about: str


# The presets of the panel benchmark (issue 11 item 7). Every default of the functions below
# that a preset covers is read from here, so a number lives in one place.
PRESETS: dict[str, Preset] = {
    "run-30in5": Preset(
        "run",
        {
            "depth": 0.30,  # share of AUM (start − 1) leaving beyond normal in the first `days`
            "days": 5,
            "length": 30,  # calendar days until the run is over
            "shape": "ramp",
            "half_life": 2.5,  # calendar days of the decay after the peak
            "subscription_dip": 0.20,  # subscriptions at the peak: −20 %
        },
        "market-wide run on cash products: 30 % of AUM beyond normal redemptions within "
        "5 days (peak on day 3), decaying over the rest of a month; subscriptions −20 % at the "
        "peak",
    ),
    "rates-2013": Preset(
        "rate-shock",
        {"shape": "spike", "size_bp": 800.0, "days": 10, "length": 28},
        "June 2013 money crunch: Shibor O/N +800 bp at the peak (day 10), shorter tenors up "
        "more than longer ones, gone after 4 weeks",
    ),
    "rates-2016": Preset(
        "rate-shock",
        {"shape": "climb", "size_bp": 100.0, "days": 61},
        "late 2016: Shibor 3M +100 bp over two months, and staying",
    ),
}
_RUN_DEFAULTS = PRESETS["run-30in5"].params
_RATE_DEFAULTS = {p.params["shape"]: p.params for p in PRESETS.values() if p.kind == "rate-shock"}
# Reference tenor of each shape: the rate `size_bp` is the shock of.
RATE_REFERENCE = {"spike": "shibor_on", "climb": "shibor_3m"}
# A spike decays from its peak as 2^(−DECAY_HALVINGS·x), x = 0 at the peak and 1 at the end,
# shifted to reach exactly zero on the last day: about four half-lives, so it fades, not drops.
DECAY_HALVINGS = 4.0
# The largest holders of holders-leave, and how their sizes are spread: holder i (1 = largest)
# holds a share ∝ 1 / i of what leaves (a Zipf law, the usual shape of holder concentration).
DEFAULT_HOLDERS = 10
DEFAULT_HOLDER_DAYS = 5

# Shock of each tenor (calendar days) relative to the shape's reference tenor, measured on the
# real Shibor (DOMAIN.md; ../shared/data/shibor.csv):
# - spike: largest rise over 2013-06-06..06-28 above 2013-06-05, divided by O/N's +882 bp
#   (1W +627, 2W +370, 1M +519, 3M +192, 6M +16, 9M +3, 1Y +3 bp); 2W is raised to lie between
#   1W and 1M, so the loading falls with tenor;
# - climb: change 2016-10-20 → 2017-01-20 divided by 3M's +102 bp (O/N +17, 1W +20, 2W +45,
#   1M +110, 6M +85, 9M +71, 1Y +64 bp), rounded to 0.05.
# Tenors in between are interpolated in log(tenor); outside, the nearest loading is used.
TERM_STRUCTURE: dict[str, dict[int, float]] = {
    "spike": {1: 1.00, 7: 0.70, 14: 0.62, 30: 0.59, 91: 0.22, 182: 0.02, 273: 0.0, 365: 0.0},
    "climb": {1: 0.15, 7: 0.20, 14: 0.45, 30: 1.05, 91: 1.00, 182: 0.85, 273: 0.70, 365: 0.65},
}
# 7-day yield: the published figure averages the income of the last 7 calendar days.
YIELD_WINDOW_DAYS = 7
DEFAULT_DECIMALS = {"flows": 2, "market": 4}  # when the input column shows none (CNY fen; rates)
_NOT_RATES = ("date", "benchmark_yield_7d")


@dataclass(frozen=True)
class Scenario:
    """A stressed data set and what was done to it.

    Attributes:
        dataset: the stressed copy; frames are new, ``root`` and ``fingerprint`` are the
            source's (write it with :func:`write_dataset` to get a folder of its own).
        record: what was applied, JSON-ready: ``kind``, ``preset``, ``parameters``, ``seed``,
            the source's fingerprint, and figures (``summary``) measured on the result.
        effects: day-by-day effects. Run and holders-leave: one row per stressed (product_id,
            date) with ``extra_redemptions`` (CNY beyond the scaled ordinary redemptions),
            ``subscription_factor`` and ``size_ratio`` (k). Rate shock: one row per market row
            from ``start`` with the shock of every rate column, percentage points.
    """

    dataset: Dataset
    record: dict[str, Any]
    effects: pd.DataFrame = field(repr=False)

    def summary(self) -> str:
        """One line for a person: what was applied and its headline effect."""
        return str(self.record["summary"]["line"])


# --------------------------------------------------------------------------------- the run
# The largest σ of the depth's log-normal spread: at 3 the median product already loses 1 % of
# the depth; 1e308 overflowed exp(σ²/2) (exit 1 'unexpected error').
MAX_DISPERSION = 3.0
# The largest share of a product's AUM a run takes beyond its ordinary redemptions: the rest
# keeps the product alive so its 7-day yield is still defined. --depth above it is refused (it
# was cut to it without a word: --depth 0.99 took 95 %); a product's draw under --dispersion
# that exceeds it is capped, and its depth is recorded in the summary's depth_by_product.
MAX_RUN_DEPTH = 0.95


def stress_run(
    dataset: Dataset,
    start: DateLike,
    *,
    depth: float = _RUN_DEFAULTS["depth"],
    days: int = _RUN_DEFAULTS["days"],
    length: int = _RUN_DEFAULTS["length"],
    shape: str = _RUN_DEFAULTS["shape"],
    half_life: float | None = None,
    subscription_dip: float = _RUN_DEFAULTS["subscription_dip"],
    products: Sequence[str] | None = None,
    dispersion: float = 0.0,
    seed: int = 0,
    preset: str | None = None,
) -> Scenario:
    """A market-wide redemption run on cash products.

    Extra redemptions of product p on day d of the run (d = 0 on ``start``) are
    ``(M_p − 1) · f(d) · r(t)``: its input redemptions ``r`` times a profile ``f`` (peak 1) times
    a peak excess ``M_p − 1`` set so that their sum over the first ``days`` days is exactly
    ``depth × aum_p(start − 1)`` (``depth × that`` times a seeded lognormal of mean 1 and
    σ = ``dispersion`` when products should not all lose the same share). Following the input's
    redemptions keeps their weekday and holiday pattern. Profiles, with ``h`` the half-life:

    - ``ramp``: rises linearly to the peak on day ⌈days/2⌉ − 1, then halves every ``h`` days;
    - ``spike``: peak on ``start``, then halves every ``h`` days;
    - ``plateau``: at the peak for ``days`` days, then halves every ``h`` days;

    all zero from day ``length`` on. Subscriptions (and demand) are multiplied by
    ``1 − subscription_dip · f(d)``. Flows are then re-rolled as the module docstring says.

    Args:
        dataset: the input.
        start: first day of the run.
        depth: share of AUM on the day before ``start`` that leaves beyond normal redemptions in
            the first ``days`` days (0 < depth ≤ :data:`MAX_RUN_DEPTH`; 0.30 = "30 % in 5
            days"); a product's depth under ``dispersion`` is capped at that bound.
        days: calendar days over which ``depth`` leaves (≥ 1).
        length: calendar days until the run is over (≥ ``days``).
        shape: ``ramp``, ``spike`` or ``plateau``.
        half_life: calendar days; default ``days / 2``.
        subscription_dip: fall of subscriptions at the peak, a share (0 ≤ x < 1).
        products: products hit (default: every ``cash_management`` product with flows on the
            day before ``start``; products listed must have them).
        dispersion: σ of the product-to-product spread of the depth (0: every product loses
            ``depth``; at most :data:`MAX_DISPERSION`).
        seed: seed of the dispersion draw.
        preset: name recorded when called from a preset.

    Returns:
        The :class:`Scenario`; ``effects`` per product and day of the run.

    Raises:
        UsageError: a parameter is out of range, ``start`` is outside the flows, a product
            is unknown, or the first ``days`` days run past a hit product's last day.
    """
    first = _start_day(dataset, start)
    _check(
        0.0 < depth <= MAX_RUN_DEPTH,
        f"--depth must be a share above 0 and at most {MAX_RUN_DEPTH:g} (0.30 = 30 %: a run "
        f"takes at most {MAX_RUN_DEPTH:.0%} of a product's AUM), got {depth}",
    )
    _check(days >= 1, f"--days must be at least 1, got {days}")
    _check(length >= days, f"--length ({length}) must be at least --days ({days})")
    _check(shape in RUN_SHAPES, f"--shape must be one of {', '.join(RUN_SHAPES)}, got {shape!r}")
    half = days / 2.0 if half_life is None else float(half_life)
    _check(half > 0, f"--half-life must be positive (days), got {half_life}")
    _check(
        0.0 <= subscription_dip < 1.0,
        f"--subscription-dip must be a share in [0, 1), got {subscription_dip}",
    )
    _check(
        0.0 <= dispersion <= MAX_DISPERSION,
        f"--dispersion must be from 0 to {MAX_DISPERSION:g}, got {dispersion}",
    )
    hit = _products_hit(dataset, first, products, cash_only=True)
    profile = run_profile(shape, days, length, half)
    rng = np.random.default_rng(seed)
    # one draw per hit product, in id order, so adding a product does not move the others' draws
    spread = np.exp(dispersion * rng.standard_normal(len(hit)) - dispersion**2 / 2)

    flows = dataset.flows
    extra = np.zeros(len(flows))
    factor = np.ones(len(flows))
    depth_of: dict[str, float] = {}
    depth_end = first + pd.Timedelta(days=days - 1)
    for product, draw in zip(hit, spread, strict=True):
        rows = _product_rows(flows, product)
        dates = flows["date"].to_numpy()[rows]
        offset = _days_since(dates, first)
        # the depth is normalised over the days present: without all of them it would leave in
        # fewer days than asked (30 % in 5 days on the last day was 30 % in one)
        _check(
            offset.max() >= days - 1,
            f"the run's {days} days from {first:%Y-%m-%d} end on {depth_end:%Y-%m-%d}, after "
            f"product {product}'s last day {pd.Timestamp(dates.max()):%Y-%m-%d}; expected an "
            "earlier --start, fewer --days, or --products without it",
        )
        inside = (offset >= 0) & (offset < length)
        shaped = np.zeros(len(rows))
        shaped[inside] = profile[offset[inside]]
        weight = shaped * flows["redemptions"].to_numpy()[rows]
        in_depth = inside & (offset < days)
        if weight[in_depth].sum() <= 0:  # no redemptions in the input to follow: a flat calendar
            weight = shaped
        aum_before = float(flows["aum"].to_numpy()[rows][offset == -1][0])
        depth_p = min(depth * float(draw), MAX_RUN_DEPTH)
        depth_of[product] = depth_p
        extra[rows] = depth_p * aum_before * weight / weight[in_depth].sum()
        factor[rows] = 1.0 - subscription_dip * shaped
    new_flows, effects = _reroll(flows, hit, first, extra, factor)
    params = {
        "start": f"{first:%Y-%m-%d}",
        "depth": depth,
        "days": days,
        "length": length,
        "shape": shape,
        "half_life": half,
        "subscription_dip": subscription_dip,
        "products": list(hit),
        "dispersion": dispersion,
    }
    result = dataclasses.replace(dataset, flows=new_flows)
    figures = _flow_figures(dataset, result, effects, first, days, length)
    figures["depth_by_product"] = {p: round(v, 6) for p, v in depth_of.items()}
    name = preset or "run"
    figures["line"] = (
        f"scenario {name} from {first:%Y-%m-%d} on {len(hit)} products: extra redemptions "
        f"{_cny(figures['extra_in_depth_days'])} in {days} days "
        f"({100 * figures['extra_in_depth_days_share']:.1f} % of AUM), "
        f"{_cny(figures['extra_total'])} in all; peak redemptions "
        f"×{figures['peak_multiple_median']:.2f} (median product); total AUM trough "
        f"{100 * figures['trough_share']:.1f} % of {first - pd.Timedelta(days=1):%Y-%m-%d} "
        f"on {figures['trough_date']}"
    )
    record = _record("run", preset, params, seed, dataset, figures)
    return Scenario(result, record, effects)


def run_profile(shape: str, days: int, length: int, half_life: float) -> np.ndarray:
    """The run's profile ``f(d)`` for d = 0 .. length − 1 (peak 1), see :func:`stress_run`."""
    d = np.arange(length, dtype=float)
    peak = {"spike": 0, "ramp": math.ceil(days / 2) - 1, "plateau": days - 1}[shape]
    rising = (d + 1) / (peak + 1) if shape == "ramp" else np.ones(length)
    falling = 0.5 ** ((d - peak) / half_life)
    return np.where(d <= peak, rising, falling)


# -------------------------------------------------------------------------- holders leave
def holders_leave(
    dataset: Dataset,
    product: str,
    start: DateLike,
    *,
    share: float,
    days: int = DEFAULT_HOLDER_DAYS,
    holders: int = DEFAULT_HOLDERS,
    seed: int = 0,
    preset: str | None = None,
) -> Scenario:
    """The largest holders of one product leave: ``share`` of its AUM over ``days`` working days.

    What leaves is ``share × aum(start − 1)`` CNY beyond the ordinary redemptions. It is split
    among ``holders`` holders, holder i (1 = largest) taking a part ∝ 1/i, and each holder
    redeems all at once on one of the first ``days`` Chinese working days on or after ``start``,
    drawn with ``seed`` (large holders leave in lumps, not in even slices). Flows are then
    re-rolled as the module docstring says; other products are untouched.

    Args:
        dataset: the input.
        product: the product's id.
        start: first day holders may leave (the first working day on or after it counts).
        share: share of AUM on the day before ``start`` that leaves (0 < share < 1).
        days: working days over which they leave (≥ 1).
        holders: how many holders leave (≥ 1; 10 = the top-10 of the regulation's
            concentration rules).
        seed: seed of the days drawn.
        preset: name recorded when called from a preset.

    Returns:
        The :class:`Scenario`; ``effects`` per day of the product from the first working day on.

    Raises:
        UsageError: unknown product, a parameter out of range, or the working days run past the
            product's last day.
    """
    first = _start_day(dataset, start)
    _check(
        0.0 < share < 1.0,
        f"--share must be a share above 0 and below 1 (0.3 = 30 % of the product's AUM; 1 "
        f"would redeem it whole), got {share}",
    )
    _check(days >= 1, f"--days must be at least 1, got {days}")
    _check(holders >= 1, f"--holders must be at least 1, got {holders}")
    (hit,) = _products_hit(dataset, first, [product], cash_only=False)
    calendar = Workdays()
    work = [calendar.on_or_after(day_number(first))]
    while len(work) < days:
        work.append(calendar.next_workday(work[-1]))
    leave_days = [to_timestamp(n) for n in work]
    flows = dataset.flows
    rows = _product_rows(flows, hit)
    dates = flows["date"].to_numpy()[rows]
    _check(
        leave_days[-1] <= pd.Timestamp(dates[-1]),
        f"the {days} working days from {first:%Y-%m-%d} end on {leave_days[-1]:%Y-%m-%d}, after "
        f"product {hit}'s last day {pd.Timestamp(dates[-1]):%Y-%m-%d}",
    )
    # above 0: _products_hit refuses a product without assets (it was a ZeroDivisionError)
    aum_before = float(flows["aum"].to_numpy()[rows][_days_since(dates, first) == -1][0])
    sizes = 1.0 / np.arange(1, holders + 1)
    sizes = share * aum_before * sizes / sizes.sum()
    chosen = np.random.default_rng(seed).integers(0, days, size=holders)
    extra = np.zeros(len(flows))
    for size, which in zip(sizes, chosen, strict=True):
        extra[rows[_days_since(dates, leave_days[which]) == 0]] += size
    # re-roll from the first working day: the days off before it are not stressed
    new_flows, effects = _reroll(flows, (hit,), leave_days[0], extra, np.ones(len(flows)))
    params = {
        "start": f"{first:%Y-%m-%d}",
        "product": hit,
        "share": share,
        "days": days,
        "holders": holders,
        "leave_days": [f"{leave_days[i]:%Y-%m-%d}" for i in chosen],
        "holder_sizes": [round(float(s), 2) for s in sizes],
    }
    result = dataclasses.replace(dataset, flows=new_flows)
    span = (leave_days[-1] - leave_days[0]).days + 1
    figures = _flow_figures(dataset, result, effects, leave_days[0], span, span + 7)
    name = preset or "holders-leave"
    figures["line"] = (
        f"scenario {name}: {holders} holders of {hit} leave over {days} working days from "
        f"{leave_days[0]:%Y-%m-%d}: extra redemptions {_cny(figures['extra_total'])} "
        f"({100 * figures['extra_total'] / aum_before:.1f} % of its AUM); its AUM trough "
        f"{100 * figures['trough_share']:.1f} % of {leave_days[0] - pd.Timedelta(days=1):%Y-%m-%d}"
        f" on {figures['trough_date']}"
    )
    record = _record("holders-leave", preset, params, seed, dataset, figures)
    return Scenario(result, record, effects)


# ----------------------------------------------------------------------------- rate shock
def rate_shock(
    dataset: Dataset,
    start: DateLike,
    *,
    shape: str = "spike",
    size_bp: float | None = None,
    days: int | None = None,
    length: int | None = None,
    tenor: str | None = None,
    seed: int = 0,
    preset: str | None = None,
) -> Scenario:
    """A rate shock on ``market.csv``: a June-2013 spike or a late-2016 climb.

    The shock of calendar day d from ``start`` (d = 0 on ``start``) on the reference tenor is
    ``size_bp × g(d)``:

    - ``spike``: g rises linearly to 1 on day ``days − 1``, then decays as
      2^(−4x) (x from 0 at the peak to 1 on day ``length``, shifted to end at exactly 0): about
      four half-lives, gone from day ``length`` on;
    - ``climb``: g follows a smoothstep from 0 to 1 over ``days`` days and stays at 1.

    Every rate column whose tenor can be read from its name (``shibor_on``, ``*_1w``, ``*_3m``,
    ``*_1y``, ``dr007``, ``r001`` …) moves by the reference shock times
    ``TERM_STRUCTURE[shape][tenor] / TERM_STRUCTURE[shape][reference tenor]``; other columns are
    left as they are and listed in the record. ``benchmark_yield_7d`` moves as a peer fund's
    7-day yield would (the peer book of :data:`simulate.market.PEER_MIX`): each bucket's share of
    the book times the average shock of its rate over its tenor (a ladder bought day by day
    reprices as it rolls over), averaged over the last 7 days as the published yield is. The
    benchmark therefore takes a smaller, lagged share of a spike and ends a climb about 80 % of
    3M's rise higher, 3–4 months later. Shocks are applied to the publication rows of the input
    (carried forward over days without one, as the contract reads them); flows are untouched.

    Args:
        dataset: the input.
        start: first day of the shock.
        shape: ``spike`` or ``climb``.
        size_bp: shock of the reference tenor at its peak, bp (default: the shape's preset,
            :data:`PRESETS`); negative for a fall.
        days: calendar days to the peak (spike) or to the full rise (climb).
        length: spike only: calendar days until the shock is gone (> ``days``).
        tenor: the reference rate column (default ``shibor_on`` for a spike, ``shibor_3m`` for
            a climb, or ``shibor_1w`` when the data set has no ``shibor_3m``).
        seed: recorded; the shock is deterministic.
        preset: name recorded when called from a preset.

    Returns:
        The :class:`Scenario`; ``effects`` has the shock of every shocked column, percentage
        points, per market row from ``start``.

    Raises:
        UsageError: a parameter is out of range, ``start`` or the peak (``days`` from it) is
            not in the market's span, or the reference tenor is not a rate column of the data
            set.
    """
    _check(shape in RATE_SHAPES, f"--shape must be one of {', '.join(RATE_SHAPES)}, got {shape!r}")
    defaults = _RATE_DEFAULTS[shape]
    size = float(defaults["size_bp"] if size_bp is None else size_bp)
    rise = int(defaults["days"] if days is None else days)
    _check(math.isfinite(size) and size != 0, f"--size-bp must be a non-zero number, got {size_bp}")
    _check(abs(size) <= 5000, f"--size-bp must be within ±5000 bp, got {size}")
    _check(rise >= 1, f"--days must be at least 1, got {rise}")
    if shape == "spike":
        end = int(defaults["length"] if length is None else length)
        _check(end > rise, f"--length ({end}) must be more than --days ({rise}) for a spike")
    else:
        _check(length is None, "--length applies to a spike only: a climb stays")
        end = None
    market = dataset.market
    first = parse_day(start, "--start")
    m_last = market["date"].iloc[-1]
    _check(
        first <= m_last,
        f"--start {first:%Y-%m-%d} is after the last market day {m_last:%Y-%m-%d}; expected a "
        "day the market covers",
    )
    # past the market's end no row carries the shock: the peak must be published to be applied
    peak = first + pd.Timedelta(days=rise - 1)
    _check(
        peak <= m_last,
        f"the shock's {rise} days to its peak from {first:%Y-%m-%d} end on {peak:%Y-%m-%d}, after "
        f"the last market day {m_last:%Y-%m-%d}; expected an earlier --start or fewer --days",
    )
    rates = [c for c in market.columns if c not in _NOT_RATES]
    tenors = {c: t for c in rates if (t := tenor_days(c)) is not None}
    _check_rates_are_numbers(market, list(tenors), dataset.file_name("market"))
    reference = tenor or RATE_REFERENCE[shape]
    if tenor is None and reference not in market.columns:
        reference = "shibor_1w"  # the contract requires only shibor_on and shibor_1w
    _check(
        reference in tenors,
        f"--tenor {reference!r} is not a rate column with a tenor in market "
        f"(have: {', '.join(tenors)})",
    )
    loadings = {c: _loading(shape, t) for c, t in tenors.items()}
    ref_loading = loadings[reference]
    _check(ref_loading > 0, f"--tenor {reference} does not move in a {shape} (loading 0)")

    offset = _days_since(market["date"].to_numpy(), first)
    g = shock_profile(shape, offset, rise, end)
    new_market = market.copy()
    shocks = {}
    for column, loading in loadings.items():
        shocks[column] = size / 100.0 * loading / ref_loading * g
        new_market[column] = market[column] + shocks[column]
    bench = benchmark_response(market["date"], shocks)
    new_market["benchmark_yield_7d"] = market["benchmark_yield_7d"] + bench
    moved = offset >= 0
    _check_rates_in_range(new_market.loc[moved], [*shocks, "benchmark_yield_7d"])
    effects = pd.DataFrame({"date": market["date"], **shocks, "benchmark_yield_7d": bench})
    effects = effects.loc[moved].reset_index(drop=True)

    params = {
        "start": f"{first:%Y-%m-%d}",
        "shape": shape,
        "size_bp": size,
        "days": rise,
        "length": end,
        "tenor": reference,
        "loadings": {c: round(v / ref_loading, 4) for c, v in loadings.items()},
        "not_shocked": [c for c in rates if c not in tenors],
    }
    result = dataclasses.replace(dataset, market=new_market)
    peak_row = int(np.argmax(np.abs(effects[reference].to_numpy())))
    bench_row = int(np.argmax(np.abs(bench.to_numpy())))
    figures = {
        "peak_date": f"{effects['date'].iloc[peak_row]:%Y-%m-%d}",
        "peak_reference_pct": round(float(new_market.loc[moved, reference].iloc[peak_row]), 4),
        "benchmark_peak_shock_bp": round(100 * float(bench.iloc[bench_row]), 2),
        "benchmark_peak_date": f"{market['date'].iloc[bench_row]:%Y-%m-%d}",
        "rows_changed": int((np.abs(np.column_stack([*shocks.values(), bench])) > 0).any(1).sum()),
    }
    name = preset or f"rate-shock {shape}"
    figures["line"] = (
        f"scenario {name} from {first:%Y-%m-%d}: {reference} {size:+.0f} bp at the peak "
        f"({figures['peak_reference_pct']:.4f} % on {figures['peak_date']}), "
        f"benchmark_yield_7d {figures['benchmark_peak_shock_bp']:+.1f} bp at its peak on "
        f"{figures['benchmark_peak_date']}; {figures['rows_changed']} market rows changed"
    )
    record = _record("rate-shock", preset, params, seed, dataset, figures)
    return Scenario(result, record, effects)


def _check_rates_are_numbers(market: pd.DataFrame, columns: Sequence[str], file: str) -> None:
    """Refuse a rate column with text in it: validation keeps a column the contract does not
    check as it is (``dr007`` with ``n/a`` on a holiday, SPEC §1: kept and ignored), but the
    shock moves every column whose name has a tenor, and text cannot move (it stopped with an
    unexpected error, exit 1).

    Raises:
        DataError: naming the file, each such column, its first days and values.
    """
    problems = []
    for column in columns:
        cells = market[column]
        numbers = pd.to_numeric(cells, errors="coerce")
        text = (cells.notna() & numbers.isna()).to_numpy()
        if text.any():
            days = ", ".join(
                f"{day:%Y-%m-%d} ({value!r})"
                for day, value in zip(
                    market["date"].loc[text].head(3), cells.loc[text].head(3), strict=True
                )
            )
            problems.append(
                Problem(
                    file,
                    column,
                    f"text on {int(text.sum())} day(s), first {days}: a rate-shock moves every "
                    "rate column whose name has a tenor; expected numbers, percent p.a., empty "
                    "cells, or the column left out",
                )
            )
    if problems:
        raise DataError(problems)


def _check_rates_in_range(market: pd.DataFrame, columns: Sequence[str]) -> None:
    """Refuse a shock that takes a rate beyond the range validation accepts
    (:data:`rainmaker.validation.VALUE_RANGES`): the copy would not be a valid data set (it
    was written, then refused with exit 1, a flattened message, and the folder left behind).

    Raises:
        UsageError: naming the first column, its day and value, and the range.
    """
    low, high, unit = VALUE_RANGES["rate"]
    for column in columns:
        values = market[column].to_numpy(dtype=float)
        outside = np.flatnonzero((values < low) | (values > high))
        if outside.size:
            i = int(outside[0])
            raise UsageError(
                f"the shock takes {column} to {values[i]:.4f} on "
                f"{pd.Timestamp(market['date'].iloc[i]):%Y-%m-%d} ({outside.size} day(s) out "
                f"of range), beyond the {low:g} to {high:g} {unit} a rate may hold; expected a "
                "smaller --size-bp"
            )


def shock_profile(shape: str, offset: np.ndarray, days: int, length: int | None) -> np.ndarray:
    """``g(d)`` of :func:`rate_shock` for day offsets from the start (0 before it)."""
    d = np.asarray(offset, dtype=float)
    if shape == "climb":
        x = np.clip((d + 1) / days, 0.0, 1.0)
        g = 3 * x**2 - 2 * x**3
    else:
        assert length is not None
        x = np.clip((d - (days - 1)) / (length - (days - 1)), 0.0, 1.0)
        floor = 2.0**-DECAY_HALVINGS
        falling = (2.0 ** (-DECAY_HALVINGS * x) - floor) / (1 - floor)
        g = np.where(d < days - 1, (d + 1) / days, falling)
    return np.where(d >= 0, g, 0.0)


def tenor_days(column: str) -> int | None:
    """Calendar days of the tenor a rate column's name says (``shibor_3m`` → 91), else None."""
    name = column.lower()
    if re.search(r"(^|_)(on|o/n|overnight)$", name):
        return 1
    if m := re.search(r"_(\d+)([dwmy])$", name):
        n, unit = int(m.group(1)), m.group(2)
        return n * {"d": 1, "w": 7, "y": 365}.get(unit, 0) or round(n * 365 / 12)
    if m := re.fullmatch(r"(?:dr|r|fr|gc|fdr)(\d{3})", name):  # repo fixings: dr007, r001
        return int(m.group(1))
    return None


def benchmark_response(dates: pd.Series, shocks: Mapping[str, np.ndarray]) -> pd.Series:
    """The shock of ``benchmark_yield_7d`` on each market row, percentage points.

    Args:
        dates: the market's publication days (sorted).
        shocks: shock of each rate column on those rows, percentage points.

    Returns:
        Series aligned with ``dates``: Σ over the peer buckets of share × (mean of the bucket's
        rate shock over its tenor), then averaged over the last 7 calendar days.
    """
    days = pd.date_range(dates.iloc[0], dates.iloc[-1], freq="D")
    daily = pd.DataFrame(shocks, index=pd.DatetimeIndex(dates)).reindex(days, method="ffill")
    total = pd.Series(0.0, index=days)
    for name, weight in PEER_MIX.items():
        b = bucket(name)
        # priced as rainmaker.assets.bucket_rates prices it
        column = rate_fallbacks(daily.columns, (b,)).get(name, b.rate_column)
        if column not in daily.columns:
            continue
        held = max(b.tenor_days, 1)  # cash and overnight repo reprice every day
        total += weight * daily[column].rolling(held, min_periods=1).mean()
    published = total.rolling(YIELD_WINDOW_DAYS, min_periods=1).mean()
    return pd.Series(published.loc[pd.DatetimeIndex(dates)].to_numpy(), index=dates.index)


def _loading(shape: str, tenor: int) -> float:
    table = TERM_STRUCTURE[shape]
    known = np.array(sorted(table), dtype=float)
    values = np.array([table[int(t)] for t in known])
    return float(np.interp(math.log(tenor), np.log(known), values))


# ------------------------------------------------------------------------------- presets
def apply_scenario(dataset: Dataset, kind: str, *, seed: int = 0, **params: Any) -> Scenario:
    """Apply a kind (``run``, ``rate-shock``, ``holders-leave``) or a preset of :data:`PRESETS`.

    A preset fills its parameters; ``params`` given here override them (``start`` is always the
    caller's). Parameters set to None are left at their defaults.

    Raises:
        UsageError: unknown kind or preset, or a parameter the kind does not take.
    """
    preset = None
    given = {k: v for k, v in params.items() if v is not None}
    if kind in PRESETS:
        preset = kind
        kind = PRESETS[preset].kind
        given = {**PRESETS[preset].params, **given}
    functions = {"run": stress_run, "rate-shock": rate_shock, "holders-leave": holders_leave}
    _check(
        kind in functions,
        f"--kind must be one of {', '.join([*KINDS, *PRESETS])}, got {kind!r}",
    )
    function = functions[kind]
    signature = inspect.signature(function).parameters
    allowed = set(signature) - {"dataset", "seed", "preset"}
    unknown = sorted(set(given) - allowed)
    _check(
        not unknown,
        f"{kind} does not take {', '.join('--' + u.replace('_', '-') for u in unknown)}",
    )
    required = [
        name
        for name in sorted(allowed - set(given))
        if signature[name].default is inspect.Parameter.empty
    ]
    _check(
        not required,
        f"{kind} needs {', '.join('--' + r.replace('_', '-') for r in required)}",
    )
    return function(dataset, seed=seed, preset=preset, **given)


# --------------------------------------------------------------------------------- writing
def write_dataset(
    dataset: Dataset,
    out: str | Path,
    *,
    record: Mapping[str, Any] | None = None,
    force: bool = False,
    check: Callable[[Path], None] | None = None,
) -> Path:
    """Write a data set (e.g. :attr:`Scenario.dataset`) as a folder, atomically.

    ``products``, ``flows`` and ``market`` are compared with the files of ``dataset.root``: an
    unchanged table is copied byte for byte, a changed CSV keeps the text of every unchanged
    cell and writes changed numbers with the decimals the input column uses (Parquet is written
    whole). Every other table of ``dataset.tables`` is copied byte for byte (the scenarios never
    change them). With a ``record``, ``scenario.json`` and ``SCENARIO.md`` say what was applied.
    Everything is written to a temporary folder beside ``out`` and renamed into place, so ``out``
    is never half-written.

    Args:
        dataset: the data set; its ``root`` must still hold the files it was loaded from.
        out: the folder to write.
        record: :attr:`Scenario.record`.
        force: replace a non-empty ``out``.
        check: called with the written folder before it is renamed into place (e.g. to
            validate it); what it raises propagates and ``out`` is left as it was.

    Returns:
        ``out``.

    Raises:
        UsageError: ``out`` is a file, a non-empty folder without ``force``, the source folder
            itself, or the source files changed since loading.
    """
    target = Path(out)
    source_root = Path(dataset.root)
    check_out(target, force=force)
    _check(
        not target.exists() or target.resolve() != source_root.resolve(),
        f"--out {target} is the input folder; write the scenario elsewhere",
    )
    source = load_dataset(source_root)
    _check(
        source.fingerprint == dataset.fingerprint,
        f"the files in {source_root} changed since the data set was loaded; load it again",
    )
    files = table_files(source_root)
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target.parent.glob(f".{target.name}.tmp-*"):  # from a killed earlier write
        shutil.rmtree(leftover, ignore_errors=True)
    staging = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        tables = {
            "products": (dataset.products, source.products, ["product_id"]),
            "flows": (dataset.flows, source.flows, ["product_id", "date"]),
            "market": (dataset.market, source.market, ["date"]),
        }
        for stem, (new, old, keys) in tables.items():
            _write_table(files[stem], staging, new, old, keys, DEFAULT_DECIMALS.get(stem, 4))
        for stem, frame in sorted(dataset.tables.items()):
            if stem in files:  # the scenarios never change these: a byte-for-byte copy
                shutil.copyfile(files[stem], staging / files[stem].name)
            else:  # a table added in memory
                frame.to_csv(staging / f"{stem}.csv", index=False, lineterminator="\n")
        if record is not None:
            text = json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            (staging / RECORD_FILE).write_text(text, encoding="utf-8", newline="\n")
            (staging / NOTE_FILE).write_text(_note(record), encoding="utf-8", newline="\n")
        if check is not None:
            check(staging)
        _publish(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def check_out(out: str | Path, *, force: bool = False) -> None:
    """Refuse an ``out`` that is a file, or a non-empty folder without ``force`` (UsageError)."""
    target = Path(out)
    if target.exists():
        _check(target.is_dir(), f"--out {target} is a file; expected a folder")
        _check(
            force or not any(target.iterdir()),
            f"--out {target} is not empty; choose an empty or new folder, or pass --force",
        )


def parse_share(text: str | float, what: str) -> float:
    """A share given as ``0.3`` or ``30%``, as a fraction (UsageError naming ``what``)."""
    value = str(text).strip()
    scale = 100.0 if value.endswith("%") else 1.0
    try:
        share = float(value.rstrip("%").strip()) / scale
    except ValueError:
        raise UsageError(f"{what} {text!r} is not a share; expected e.g. 0.3 or 30%") from None
    _check(math.isfinite(share), f"{what} {text!r} is not a share; expected e.g. 0.3 or 30%")
    return share


def _write_table(
    src: Path,
    folder: Path,
    new: pd.DataFrame,
    old: pd.DataFrame,
    keys: list[str],
    default_decimals: int,
) -> None:
    if new is old or (new.shape == old.shape and new.equals(old)):
        shutil.copyfile(src, folder / src.name)
        return
    if src.suffix.lower() == ".parquet":
        new.to_parquet(folder / src.name, index=False)
        return
    # the file's text as the validator reads it (every cell as text, headers stripped, blank
    # lines skipped), so the copy keeps its columns as they are: an empty header (a trailing
    # comma on every line, as Excel writes a blank column) stays empty, not "Unnamed: 10"
    raw, problems = read_cells(src)
    if raw is None:  # not after load_dataset read it; unless it changed since
        raise DataError(problems)
    position = pd.Series(np.arange(len(raw)), index=_key_index(raw, keys, text=True))
    new_k = new.set_index(_key_index(new, keys, text=False))
    old_k = old.set_index(_key_index(old, keys, text=False)).reindex(new_k.index)
    for column in new.columns:
        if column in keys or not pd.api.types.is_float_dtype(new[column]):
            continue
        a, b = new_k[column].to_numpy(), old_k[column].to_numpy()
        changed = ~((a == b) | (np.isnan(a) & np.isnan(b)))
        if not changed.any():
            continue
        decimals = _decimals(raw[column], default_decimals)
        where = position.loc[new_k.index[changed]].to_numpy()
        raw.loc[raw.index[where], column] = [_fmt(v, decimals) for v in a[changed]]
    raw.to_csv(folder / src.name, index=False, lineterminator="\n")


def _key_index(frame: pd.DataFrame, keys: list[str], *, text: bool) -> pd.MultiIndex:
    parts = []
    for key in keys:
        column = frame[key]
        if not text and pd.api.types.is_datetime64_any_dtype(column):
            parts.append(column.dt.strftime("%Y-%m-%d"))
        else:
            parts.append(column.astype(str).str.strip())
    return pd.MultiIndex.from_arrays(parts, names=keys)


def _decimals(column: pd.Series, default: int) -> int:
    """Most decimals the column's text shows (at most 6), else ``default``."""
    text = column.astype(str).str.strip()
    shown = text.str.extract(r"\.(\d+)$")[0].dropna().str.len()
    return min(int(shown.max()), 6) if len(shown) else default


def _fmt(value: float, decimals: int) -> str:
    if math.isnan(value):
        return ""
    return f"{round(float(value), decimals) + 0.0:.{decimals}f}"  # + 0.0: no "-0.00"


def _publish(staging: Path, target: Path) -> None:
    """Rename the complete staging folder to ``target``, setting aside what was there."""
    if not target.exists():
        os.replace(staging, target)
        return
    aside = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    os.replace(target, aside)
    os.replace(staging, target)
    shutil.rmtree(aside, ignore_errors=True)


def _note(record: Mapping[str, Any]) -> str:
    params = "\n".join(f"- `{k}`: {json.dumps(v)}" for k, v in record["parameters"].items())
    about = f"\n{record['about']}\n" if record.get("about") else ""
    return (
        f"# Scenario: {record.get('preset') or record['kind']}\n{about}\n"
        f"{record['summary']['line']}.\n\n"
        f"Made by `simulate/scenarios.py` (rainmaker {record['rainmaker_version']}), kind "
        f"`{record['kind']}`, seed {record['seed']}, from a data set with fingerprint "
        f"`{record['source_fingerprint'][:16]}`. Parameters:\n\n{params}\n\n"
        "Every figure and parameter is also in `scenario.json`. Tables not listed as changed "
        'there are byte-for-byte copies of the input; see docs/backtest.md, "Scenarios".\n'
    )


# --------------------------------------------------------------------------------- helpers
def _check(ok: bool, message: str) -> None:
    if not ok:
        raise UsageError(message)


def _start_day(dataset: Dataset, start: DateLike) -> pd.Timestamp:
    first = parse_day(start, "--start")
    _check(
        dataset.first_date < first <= dataset.last_date,
        f"--start {first:%Y-%m-%d} must be after the first flows day "
        f"{dataset.first_date:%Y-%m-%d} (the day before gives the AUM that leaves) and on or "
        f"before the last {dataset.last_date:%Y-%m-%d}",
    )
    return first


def _products_hit(
    dataset: Dataset, start: pd.Timestamp, products: Sequence[str] | None, *, cash_only: bool
) -> tuple[str, ...]:
    """Products stressed: listed ones (checked) or every cash product live the day before: with
    a flows row that day and AUM above 0 (a product fully redeemed has nothing to lose: it was
    hit, its depth recorded, and nothing applied to it)."""
    on_day, nothing_held = dataset.products_on(start - pd.Timedelta(days=1))
    rows, empty = set(on_day), set(nothing_held)
    live = rows - empty
    if products:
        wrong = dataset.without_flows(products)
        _check(wrong is None, wrong or "")
        idle = sorted(set(products) - rows)
        _check(
            not idle,
            f"product(s) {', '.join(idle)} have no flows on {start - pd.Timedelta(days=1):%Y-%m-%d}"
            ", the day before --start; expected products live then",
        )
        nothing = sorted(set(products) & empty)
        _check(
            not nothing,
            f"product(s) {', '.join(nothing)} have no assets (AUM 0) on "
            f"{start - pd.Timedelta(days=1):%Y-%m-%d}, the day before --start: nothing to "
            "redeem; expected products with assets then",
        )
        return tuple(sorted(set(products)))
    kinds = dataset.products.set_index("product_id")["product_type"]
    hit = tuple(p for p in sorted(live) if not cash_only or kinds.get(p) == "cash_management")
    _check(
        bool(hit),
        f"no cash-management product has flows and assets on the day before {start:%Y-%m-%d}",
    )
    return hit


def _product_rows(flows: pd.DataFrame, product: str) -> np.ndarray:
    return np.flatnonzero(flows["product_id"].to_numpy() == product)


def _days_since(dates: np.ndarray, day: pd.Timestamp) -> np.ndarray:
    return ((dates - np.datetime64(day.to_datetime64(), "ns")) // np.timedelta64(1, "D")).astype(
        int
    )


def _reroll(
    flows: pd.DataFrame,
    products: Sequence[str],
    first: pd.Timestamp,
    extra: np.ndarray,
    factor: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Re-roll the products' flows from ``first`` (see the module docstring).

    Args:
        flows: the input's flows (sorted by product, date, as a Dataset holds them).
        products: products re-rolled; others are copied.
        first: first day re-rolled; its previous day must be a row of each product.
        extra: extra redemptions per row of ``flows``, CNY (0 where none).
        factor: subscription and demand multiplier per row (1 where none).

    Returns:
        The new flows (same rows and order) and the effects per re-rolled row.
    """
    out = flows.copy()
    subs_in = flows["subscriptions"].to_numpy()
    reds_in = flows["redemptions"].to_numpy()
    aum_in = flows["aum"].to_numpy()
    has_demand = "demand" in flows.columns
    demand_in = flows["demand"].to_numpy() if has_demand else subs_in
    quota = flows["quota"].to_numpy() if "quota" in flows.columns else np.full(len(flows), np.nan)
    subs, reds, aum, demand = subs_in.copy(), reds_in.copy(), aum_in.copy(), demand_in.copy()
    effects = []
    for product in products:
        rows = _product_rows(flows, product)
        offset = _days_since(flows["date"].to_numpy()[rows], first)
        for i in rows[offset >= 0]:
            k = aum[i - 1] / aum_in[i - 1] if aum_in[i - 1] > 0 else 1.0
            f = k * factor[i]
            demand[i] = demand_in[i] * f
            subs[i] = subs_in[i] * f
            if np.isfinite(quota[i]):
                # where the quota bound in the input, demand above it is still refused
                censored = subs_in[i] >= quota[i] * (1 - 1e-9) and demand_in[i] > subs_in[i]
                subs[i] = min(demand[i], quota[i]) if censored else min(subs[i], quota[i])
            if has_demand:
                subs[i] = min(subs[i], demand[i])
            income = (aum_in[i] - aum_in[i - 1] - subs_in[i] + reds_in[i]) * k
            wanted = reds_in[i] * k + extra[i]
            held = max(aum[i - 1] + subs[i] + income, 0.0)
            reds[i] = min(wanted, held)  # nobody can take out more than the product holds
            aum[i] = max(aum[i - 1] + subs[i] - reds[i] + income, 0.0)
            effects.append(
                (
                    flows["date"].iat[i],
                    product,
                    reds[i] - reds_in[i] * k,
                    wanted - reds[i],
                    factor[i],
                    k,
                    reds_in[i] * k,
                )
            )
    out["subscriptions"], out["redemptions"], out["aum"] = subs, reds, aum
    if has_demand:
        out["demand"] = demand
    columns = [
        "date",
        "product_id",
        "extra_redemptions",
        "unpaid_extra",
        "subscription_factor",
        "size_ratio",
        "ordinary_redemptions",
    ]
    return out, pd.DataFrame(effects, columns=columns)


def _flow_figures(
    source: Dataset,
    result: Dataset,
    effects: pd.DataFrame,
    first: pd.Timestamp,
    days: int,
    window: int,
) -> dict[str, Any]:
    """Headline figures of a flows scenario, measured on the result.

    ``days``: the depth window (extra outflow counted); ``window``: calendar days from ``first``
    searched for the trough of the stressed products' total AUM.
    """
    products = sorted(effects["product_id"].unique())
    before = first - pd.Timedelta(days=1)
    old, new = source.flows, result.flows
    aum0 = float(old.loc[(old["date"] == before) & old["product_id"].isin(products), "aum"].sum())
    in_depth = effects["date"] < first + pd.Timedelta(days=days)
    hit_new = new.loc[new["product_id"].isin(products)]
    hit_old = old.loc[old["product_id"].isin(products)]
    total = hit_new.groupby("date")["aum"].sum()
    total = total.loc[(total.index >= first) & (total.index < first + pd.Timedelta(days=window))]
    trough = total.idxmin()
    input_total = float(hit_old.loc[hit_old["date"] == trough, "aum"].sum())
    ordinary = effects["ordinary_redemptions"].to_numpy()
    extra = effects["extra_redemptions"].to_numpy()
    multiple = np.full(len(ordinary), np.nan)
    paid = ordinary > 0
    multiple[paid] = (ordinary[paid] + extra[paid]) / ordinary[paid]
    peaks = pd.Series(multiple).groupby(effects["product_id"].to_numpy()).max()
    extra_depth = float(effects.loc[in_depth, "extra_redemptions"].sum())
    return {
        "products": products,
        "aum_before": round(aum0, 2),
        "extra_in_depth_days": round(extra_depth, 2),
        "extra_in_depth_days_share": round(extra_depth / aum0, 6) if aum0 else 0.0,
        "extra_total": round(float(effects["extra_redemptions"].sum()), 2),
        "unpaid_extra": round(float(effects["unpaid_extra"].sum()), 2),
        "capped_days": int((effects["unpaid_extra"] > 0).sum()),
        "peak_multiple_median": round(float(peaks.median()), 4),
        "peak_multiple_by_product": {p: round(float(v), 4) for p, v in peaks.items()},
        "trough_share": round(float(total.min()) / aum0, 6) if aum0 else 0.0,
        "trough_date": f"{trough:%Y-%m-%d}",
        "input_share_on_trough_date": round(input_total / aum0, 6) if aum0 else 0.0,
    }


def _record(
    kind: str,
    preset: str | None,
    params: Mapping[str, Any],
    seed: int,
    source: Dataset,
    figures: Mapping[str, Any],
) -> dict[str, Any]:
    changed = ["market.csv"] if kind == "rate-shock" else ["flows.csv"]
    return {
        "kind": kind,
        "preset": preset,
        "about": PRESETS[preset].about if preset else None,
        "parameters": dict(params),
        "seed": seed,
        "changed_tables": [source.files.get(c.split(".")[0], c) for c in changed],
        "source": str(source.root),
        "source_fingerprint": source.fingerprint,
        "rainmaker_version": __version__,
        "summary": dict(figures),
    }


def _cny(amount: float) -> str:
    return f"CNY {amount / 1e9:,.1f} bn" if abs(amount) >= 1e8 else f"CNY {amount:,.0f}"
