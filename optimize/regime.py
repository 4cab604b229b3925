"""The redemption regime: is a product in calm water or in a run, as known on the as-of day?

A cash product is paid out of its liquid assets; in calm times the plan may lengthen the book
for yield, in a run it must not. The plan therefore reads a **defence** flag per product from
the flows and the market up to the as-of day (no look-ahead) and, while it is set, plans as a
liquidity manager does in a run (:class:`optimize.settings.RegimeSettings`): no purchase longer
than ``max_tenor_days``, a higher maturity ladder and 5-day liquid floor, and its liquidity needs
at a higher confidence.

The signals, each judged against the product's own history rather than a fixed number, so that
one threshold fits a product whose holders redeem 2 % a week and one whose holders redeem 20 %:

- **own pressure** z: the median over the last ``pressure_days`` days of each day's share of AUM
  redeemed, as a robust z-score against the ``lookback_days`` before (median and 1.4826 × the
  median absolute deviation);
- **peers**: the share of the data set's products whose z over the last ``peer_days`` days
  (one by default) is at least ``enter_z``; at ``peer_share`` every product whose own z over
  those days is at least ``peer_z`` joins. A market-wide run shows at many products on the same
  day, which a single product's one bad day does not: in the sample's November 2020 wave 10 of
  15 products scored 3 or more on its first heavy day, so the plan of the next morning (a
  Friday) already held cash for the weekend in defence; the five-day own signal fired from
  three to seven days later, after the weekend that left money unpaid
  (benchmarks/regime_signal.py);
- **rates** (off by default, ``rate_rise_bp = 0``): the 5-day mean of 1-week Shibor above its
  60-day mean by ``rate_rise_bp``. A squeeze that comes with redemptions fires the own and
  peer signals within a day; a rate spike alone is no run, and defending through one (no
  term purchase at the spike's rates) let the yield follow the overnight rate up and down
  (the rates2013 scenario, docs/optimize.md "Defence").

The own signal must hold ``persist_days`` days running (a quarter-end spike lasts a day or
two and the forecast knows it; a run does not stop). A product enters defence on the first day
one signal fires and leaves it after ``calm_days``
days in a row on which none fires and z is below ``exit_z``. The state is rebuilt from the
signals of the last ``memory_days`` days every morning, so it depends on the data alone, not on
earlier runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimize.settings import RegimeSettings

__all__ = [
    "MAD_TO_SIGMA",
    "RegimeState",
    "flows_by_day",
    "pressure_scores",
    "pressure_windows",
    "redemption_regime",
]

MAD_TO_SIGMA = 1.4826  # the median absolute deviation of a normal sample is 0.6745 sigma
RATE_BASE_DAYS = 60  # the market's reference level: mean of the shortest rate over these days
RATE_RECENT_DAYS = 5  # ... against its mean over the last days


@dataclass(frozen=True)
class RegimeState:
    """The regime of every planned product on the as-of day.

    Attributes:
        product_ids: products, in array order.
        defence: the product plans in defence (P,).
        pressure_z: own redemption pressure, robust z-score (P,); 0 where history is too short.
        peer_share: share of the data set's products under pressure on the as-of day (0..1).
        rate_rise_bp: 5-day over 60-day mean of the shortest Shibor, bp (NaN without rates).
        days_in_defence: consecutive days the product has been in defence, 0 when calm (P,).
    """

    product_ids: tuple[str, ...]
    defence: np.ndarray
    pressure_z: np.ndarray
    peer_share: float
    rate_rise_bp: float
    days_in_defence: np.ndarray

    @classmethod
    def calm(cls, product_ids: tuple[str, ...]) -> RegimeState:
        """Every product calm (the regime switched off)."""
        n = len(product_ids)
        return cls(product_ids, np.zeros(n, bool), np.zeros(n), 0.0, np.nan, np.zeros(n, int))


def pressure_scores(flows: pd.DataFrame, settings: RegimeSettings) -> pd.DataFrame:
    """:func:`pressure_windows` over ``settings.pressure_days``."""
    return pressure_windows(flows, settings, (settings.pressure_days,))[0]


def pressure_windows(
    flows: pd.DataFrame, settings: RegimeSettings, windows: tuple[int, ...]
) -> tuple[pd.DataFrame, ...]:
    """Redemption pressure per product and day: the median, over the last n days, of each
    day's robust z-score of the share of AUM redeemed against the ``lookback_days`` before the
    window.

    The median of daily scores, not the score of a sum, so that one day of heavy redemptions
    (a quarter end, a tax day) moves nothing while three bad days in five do.

    Args:
        flows: flows rows (``date``, ``product_id``, ``redemptions``, ``aum``), one per product
            and calendar day.
        settings: the regime settings (``lookback_days``).
        windows: the numbers of days n of each score, ``pressure_days`` for the own signal,
            ``peer_days`` for the peers' (one pass over the history serves them all).

    Returns:
        One frame per window, indexed by date, one column per product; NaN where the history
        is too short.
    """
    dates, ids, wide = flows_by_day(flows, ("redemptions", "aum"))
    previous = _shifted(wide["aum"], 1)
    share = wide["redemptions"] / np.where(previous > 0, previous, np.nan)
    minimum = settings.lookback_days // 2
    # the baseline of a window of n days ends where the window starts: the statistics of the
    # share's history shifted by n (a rolling statistic of a shifted series is the shifted one)
    median = _rolling_median(share, settings.lookback_days, minimum)
    spread = MAD_TO_SIGMA * _rolling_median(np.abs(share - median), settings.lookback_days, minimum)
    index = pd.DatetimeIndex(dates, name="date")
    columns = pd.Index(ids, name="product_id")
    scores = []
    for n in windows:
        base, scale = _shifted(median, n), _shifted(spread, n)
        # a product whose redemptions never vary has no scale: a small floor keeps z finite
        # and makes any real jump count as pressure
        floor = 1e-6 + 0.01 * np.abs(base)
        with np.errstate(invalid="ignore"):
            daily = (share - base) / np.maximum(scale, floor)
        scores.append(pd.DataFrame(_rolling_median(daily, n, n), index=index, columns=columns))
    return tuple(scores)


def flows_by_day(
    flows: pd.DataFrame, columns: tuple[str, ...]
) -> tuple[pd.Index, pd.Index, dict[str, np.ndarray]]:
    """Flows rows laid out as (days × products) arrays, one per column of ``columns``.

    Placed by position, not pivoted: a pivot was most of the cost of the regime and of the
    ladder's worst outflow (:func:`optimize.inputs.worst_net_outflow`), read every morning of a
    backtest. The rows are one per product and day, as a valid data set has.

    Returns:
        ``(dates, ids, arrays)``: the dates the rows hold and the product ids, both sorted, and
        per column its values (NaN where a product has no row that day).
    """
    day, dates = pd.factorize(flows["date"], sort=True)
    column, ids = pd.factorize(flows["product_id"], sort=True)
    arrays = {}
    for name in columns:
        values = np.full((len(dates), len(ids)), np.nan)
        values[day, column] = flows[name].to_numpy(dtype=float)
        arrays[name] = values
    return dates, ids, arrays


def _shifted(values: np.ndarray, n: int) -> np.ndarray:
    """``values`` (days, products) moved ``n`` days later, NaN in the first ``n`` rows."""
    return np.vstack([np.full((min(n, len(values)), values.shape[1]), np.nan), values[:-n]])


def _rolling_median(values: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """Median of each column over the last ``window`` rows, NaN skipped, NaN where fewer
    than ``min_periods`` values are known (pandas' rolling median, column by column).

    One rolling pass over the columns laid end to end, each behind ``window − 1`` NaN rows, so
    no window reaches into the column before it: the same medians as one pass per column, a
    sixteenth of pandas' per-column overhead on a panel of sixteen products (the regime is read
    every morning of a backtest).
    """
    padded = np.vstack([np.full((window - 1, values.shape[1]), np.nan), values])
    laid_out = pd.Series(padded.ravel(order="F"))
    medians = laid_out.rolling(window, min_periods=min_periods).median().to_numpy()
    return medians.reshape(padded.shape, order="F")[window - 1 :]


def rate_rise_bp(market: pd.DataFrame) -> pd.Series:
    """5-day mean of 1-week Shibor (else overnight) less its 60-day mean, bp, by date.

    Args:
        market: daily market rows indexed by date (``shibor_1w`` or ``shibor_on``, percent).
    """
    # one week, not overnight: O/N jumps past 50 bp around most quarter ends and tax days,
    # 1W only in a real squeeze (on the sample's Shibor, 2019-2022: 0.5 % of days at 50 bp)
    column = "shibor_1w" if "shibor_1w" in market.columns else "shibor_on"
    if column not in market.columns:
        return pd.Series(np.nan, index=market.index)
    rate = market[column].astype(float)
    recent = rate.rolling(RATE_RECENT_DAYS, min_periods=1).mean()
    base = rate.rolling(RATE_BASE_DAYS, min_periods=RATE_RECENT_DAYS).mean()
    return 100.0 * (recent - base)


def redemption_regime(
    flows: pd.DataFrame,
    market: pd.DataFrame,
    as_of: pd.Timestamp,
    product_ids: tuple[str, ...],
    settings: RegimeSettings,
) -> RegimeState:
    """The regime of ``product_ids`` on ``as_of`` (see the module docstring).

    Args:
        flows: the data set's flows rows dated up to ``as_of`` (every product: the peers).
        market: daily market rows indexed by date, up to ``as_of``.
        as_of: the last known day.
        product_ids: the products planned.
        settings: the regime settings; ``enabled = false`` returns every product calm.
    """
    if not settings.enabled or not product_ids:
        return RegimeState.calm(product_ids)
    window = max(settings.pressure_days, settings.peer_days)
    reach = settings.lookback_days + 2 * window + settings.memory_days
    first = as_of - pd.Timedelta(days=reach)
    # the rows of the window, only the columns the scores read (a copy of every column of
    # them was a good part of the regime's cost, every morning of a backtest)
    in_window = ((flows["date"] > first) & (flows["date"] <= as_of)).to_numpy()
    recent = flows.loc[in_window, ["date", "product_id", "redemptions", "aum"]]
    days = pd.date_range(as_of - pd.Timedelta(days=settings.memory_days - 1), as_of, freq="D")
    own_z, peer_z = pressure_windows(recent, settings, (settings.pressure_days, settings.peer_days))
    rows = own_z.index.get_indexer(days)  # -1: a day without flows rows
    planned = own_z.columns.get_indexer(list(product_ids))  # -1: a product without rows
    every = np.arange(len(own_z.columns))
    z_peer_all = _take(peer_z.to_numpy(dtype=float), rows, every)
    hot = (z_peer_all >= settings.enter_z).sum(axis=1)
    peers = hot / np.maximum((~np.isnan(z_peer_all)).sum(axis=1), 1)
    rates = rate_rise_bp(market).reindex(days)
    squeeze = ((rates >= settings.rate_rise_bp) & (settings.rate_rise_bp > 0)).to_numpy()
    zv = _take(own_z.to_numpy(dtype=float), rows, planned)
    zv_peer = _take(peer_z.to_numpy(dtype=float), rows, planned)
    market_wide = (peers >= settings.peer_share)[:, None] & (zv_peer >= settings.peer_z)
    own = zv >= settings.enter_z
    held = own.copy()
    for lag in range(1, settings.persist_days):
        held[lag:] &= own[:-lag]
        held[:lag] = False
    fires = held | market_wide | squeeze[:, None]
    calm_day = ~fires & ~(zv >= settings.exit_z)
    fires = fires & np.isfinite(zv)  # a product without history raises no own signal
    defence = np.zeros(len(product_ids), dtype=bool)
    calm_run = np.zeros(len(product_ids), dtype=int)
    length = np.zeros(len(product_ids), dtype=int)
    for t in range(len(days)):
        start = fires[t] & ~defence
        defence = defence | fires[t]
        calm_run = np.where(defence & calm_day[t], calm_run + 1, 0)
        ended = defence & (calm_run >= settings.calm_days)
        defence = defence & ~ended
        length = np.where(defence, np.where(start, 1, length + 1), 0)
    last = np.nan_to_num(zv[-1], nan=0.0) if len(days) else np.zeros(len(product_ids))
    return RegimeState(
        product_ids=tuple(product_ids),
        defence=defence,
        pressure_z=last,
        peer_share=float(peers[-1]) if len(peers) else 0.0,
        rate_rise_bp=float(rates.iloc[-1]) if len(rates) else float("nan"),
        days_in_defence=length,
    )


def _take(values: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``values[rows][:, columns]``, NaN where a row or column index is -1 (not found)."""
    if values.size == 0:
        return np.full((len(rows), len(columns)), np.nan)
    out = values[np.ix_(np.maximum(rows, 0), np.maximum(columns, 0))]
    out[rows < 0, :] = np.nan
    out[:, columns < 0] = np.nan
    return out
