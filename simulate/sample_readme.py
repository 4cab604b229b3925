"""The README.md written beside the synthetic sample: how the data were made, with the parameters
and the measured figures of the very files it sits next to."""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
import pandas as pd

from simulate.synthetic import (
    COMMON_NOISE_SIGMA,
    MIX_STYLES,
    PERSISTENT_PHI,
    PERSISTENT_SIGMA_REDEMPTIONS,
    PERSISTENT_SIGMA_SUBSCRIPTIONS,
    SampleData,
    yield_figures,
)

__all__ = ["README_TITLE", "render_readme"]

# The first line of every README this writes: how `rainmaker sample` knows a folder it wrote.
README_TITLE = "# Synthetic sample data set"


def _table(frame: pd.DataFrame) -> str:
    """A GitHub Markdown table of ``frame`` (values already formatted as text)."""
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _product_table(data: SampleData) -> str:
    rows = []
    for s in data.specs:
        mix = MIX_STYLES[s.mix_style]
        rows.append(
            {
                "product": s.product_id,
                "type": s.product_type,
                "fee bp": f"{s.fee_bp:.0f}",
                "channel": s.channel,
                "corp. share": f"{s.corporate_share:.1f}",
                "mix": s.mix_style + " (" + "/".join(f"{100 * mix[k]:.0f}" for k in mix) + ")",
                "max buy %": f"{s.max_daily_purchase_pct:.2f}",
                "AUM₀ bn": f"{s.aum0 / 1e9:.2f}",
                "level₀ m/day": f"{s.level0 / 1e6:.1f}",
                "red. rate %": f"{100 * s.redemption_rate:.2f}",
                "growth %/yr": f"{s.growth_pct:.1f}",
                "β_s": f"{s.beta_subscriptions:.2f}",
                "β_r": f"{s.beta_redemptions:.2f}",
                "σ_s": f"{s.sigma_subscriptions:.2f}",
                "σ_r": f"{s.sigma_redemptions:.2f}",
                "exposure base": f"{s.exposure_base:.0f}",
                "a": f"{s.response.a:.3f}",
                "e0": f"{s.response.e0:.0f}",
                "campaigns": str(len(s.campaigns)),
                "holiday cap": ""
                if math.isnan(s.holiday_cap_fraction)
                else f"{s.holiday_cap_fraction:.2f}",
                "standing cap": ""
                if s.standing_cap is None
                else f"{s.standing_cap[0]}..{s.standing_cap[1]} ×{s.standing_cap[2]}",
            }
        )
    return _table(pd.DataFrame(rows))


def _flow_summary(data: SampleData) -> str:
    flows = data.flows
    rows = []
    for product_id, g in flows.groupby("product_id", sort=True):
        aum_prev = g["aum"].shift(1)
        censored = g["quota"].notna() & (g["demand"] > g["quota"])
        rows.append(
            {
                "product": product_id,
                "days": str(len(g)),
                "AUM first bn": f"{g['aum'].iloc[0] / 1e9:.2f}",
                "AUM last bn": f"{g['aum'].iloc[-1] / 1e9:.2f}",
                "AUM min–max bn": f"{g['aum'].min() / 1e9:.2f}–{g['aum'].max() / 1e9:.2f}",
                "subs % AUM/day": f"{100 * np.nanmean(g['subscriptions'] / aum_prev):.2f}",
                "reds % AUM/day": f"{100 * np.nanmean(g['redemptions'] / aum_prev):.2f}",
                "quota days": str(int(g["quota"].notna().sum())),
                "censored days": str(int(censored.sum())),
                "lost demand m": f"{(g['demand'] - g['subscriptions']).sum() / 1e6:.0f}",
                "shortfall days": str(int((data.shortfall[product_id] > 0).sum())),
            }
        )
    return _table(pd.DataFrame(rows))


def _yield_summary(data: SampleData) -> tuple[str, str]:
    figures = yield_figures(data.flows, data.market)
    text = figures.copy()
    for column in figures.columns[2:]:
        text[column] = figures[column].map(lambda v: f"{v:.2f}")
    established = figures[figures["days"] >= 300]
    vol = established["yield_vol_bp"]
    summary = (
        "Over the products with a full year, `yield_vol_bp` is "
        f"{vol.median():.1f} bp (median; {vol.min():.1f}–{vol.max():.1f}) "
        f"against a `benchmark_vol_bp` of {established['benchmark_vol_bp'].iloc[0]:.1f} bp, "
        f"`relative_vol_bp` {established['relative_vol_bp'].median():.1f} bp (median) and "
        f"`tracking_bp` {established['tracking_bp'].median():.1f} bp (median)."
    )
    return _table(text), summary


def render_readme(data: SampleData, sizes: dict[str, int]) -> str:
    """The README text for ``data``; ``sizes`` are the written files' sizes in bytes."""
    c = data.config
    d = asdict(c.drivers)
    flows = data.flows
    market = data.market
    yields_table, yields_summary = _yield_summary(data)
    size_lines = "\n".join(f"- `{name}.csv`: {size:,} bytes" for name, size in sizes.items())
    settings = ", ".join(
        f"{key}={value!r}" for key, value in asdict(c).items() if key not in ("seed", "drivers")
    )
    stress_end = pd.Timestamp(c.stress_start) + pd.Timedelta(days=c.stress_days - 1)
    return f"""{README_TITLE}

A realistic, **synthetic** data set for rainmaker (SPEC §1): {len(data.specs)} products of
{c.n_issuers} invented wealth-management companies, daily flows from {c.start} to {c.end}
({flows["date"].nunique()} calendar days, {len(flows)} rows), and the **real** Shibor of
{market["date"].iloc[0].date()} to {market["date"].iloc[-1].date()} ({len(market)} publication
days). Nothing here is real flow data; the products, issuers and names are invented.

Generated by `simulate/synthetic.py` with seed **{c.seed}**; the files are bit-for-bit
reproducible. Regenerate with

    rainmaker sample --out data/sample
    # or
    python -m simulate.sample --out data/sample

This README is written by the generator too, so its parameters and figures are those of the files.
Configuration (`simulate.synthetic.SampleConfig`): seed={c.seed}, {settings}.

## Files

{size_lines}

- `products.csv`: product_id, issuer, product_type, fee_bp, name, channel, launch_date, t0_limit
  (10,000 CNY for cash-management products; 0 = no T+0 redemption for fixed-income ones).
- `flows.csv`: one row per product and calendar day: date, product_id, subscriptions,
  redemptions, aum (CNY, 2 decimals), quota (CNY; empty = no cap), exposure (page views),
  income_per_10k (万份收益, CNY, 4 decimals), yield_7d (七日年化, percent, 4 decimals; empty on a
  product's first six days), demand (CNY: subscriptions wanted before the quota). Rows are sorted
  by product_id, then date.
- `market.csv`: Shibor publication days: shibor_on … shibor_1y (percent, as published) and
  benchmark_yield_7d (percent, 4 decimals).
- `exposure_response.csv`: product_id, a, e0: the true exposure response curve
  1 + a·log(1 + e/e0) each product's demand was drawn with (an extension of SPEC §1: the
  synthetic world's ground truth, which the backtest uses to replay demand under another
  exposure; a forecaster should estimate the curve from `flows.csv` instead).
- `investment_mix.csv`: product_id, bucket, share, max_daily_purchase_pct: how each product's
  manager invests (`rainmaker/investment_mix.py`), one row per product and asset bucket of
  `rainmaker/assets.py`: the bucket's target share of AUM (a fraction, 4 decimals; a product's
  shares sum to 1) and the most new money put into one term bucket in a day (percent of AUM, the
  same on every row of a product). It is the `TargetMix` rule each product was simulated with
  (the "mix" and "max buy %" columns of the table below), a team table that is not part of
  SPEC §1; the backtest starts each product's portfolio from a ladder of its mix and lets the
  `none` policy keep investing by it, so that "doing nothing" means the product keeps being
  managed as it was.

## How the data were made

**Market.** Shibor rows are copied from `simulate/data/shibor.csv` (the real published series, see
`simulate/data/README.md`). `benchmark_yield_7d` is the 7-day yield of a synthetic *peer*
cash-management fund rolled day by day with the same portfolio model as the products
(`simulate/portfolio.py`): no flows, a mix of 5 % cash, 10 % 1-day repo, 10 % 7-day repo, 25 %
1-month NCD and 50 % 3-month NCD bought at each day's Shibor-based bucket rates
(`rainmaker/assets.py`), 30 bp of fees. It lags Shibor by the average age of its holdings, about
27 days, as peer money funds do. It starts from a steady ladder on 2018-09-01 so that every
market row has a value.

**Portfolios.** Each product is a `simulate.portfolio.Portfolio` (see its docstring for the daily
step): it starts from a steady ladder of its mix on {c.start} (the new product starts empty),
invests with `TargetMix` (tops up each term bucket to its share of AUM, longest first, keeps
the cash share in cash and lends the rest overnight; maturities roll over freely but new money
goes into a term bucket at most "max buy %" of AUM a day, so waves of new money wait in
overnight repo and dilute the yield; buys nothing on days off), pays redemptions from cash and
then by selling the lots
nearest maturity at a 10 bp haircut, and credits net income daily. New money earns from the next
working day. `income_per_10k` is the day's net income per 10,000 earning units, published to 4
decimals; `yield_7d` is `rainmaker.yields.yield_7d` of the published `income_per_10k`. `aum`
rolls forward exactly: aum(t) = aum(t−1) + subscriptions − redemptions + net income (to the fen).

**Flows.** All products are simulated jointly, one day at a time, because demand reacts to the
yields published the day before:

    demand      = level · calendar · stress · yield · exposure · noise
    subscriptions = min(demand, quota)
    redemptions = min(AUM(t−1) · redemption_rate · calendar · stress · yield · noise, ½·AUM(t−1))

- *level*: the product's customer base, starting at redemption_rate × AUM₀ (times the ratio of
  the mean calendar multipliers of redemptions and subscriptions, so flows balance at the
  start), growing at the product's growth rate with a random walk of σ = 0.6 % a day; the new
  product's level ramps up over its first two weeks.
- *calendar* (`simulate/flows.py`, real Chinese holidays and make-up days from
  `rainmaker.china_calendar`): ordinary weekends subscriptions ×{d["weekend_subscriptions"]} and
  redemptions ×{d["weekend_redemptions"]}; make-up working days ×{d["makeup_day"]}; inside a holiday
  stretch ×{d["holiday_subscriptions"]} and ×{d["holiday_redemptions"]}; subscriptions before a
  stretch ×{d["pre_holiday_subscriptions"]} (business days before → multiplier for a 7-day
  stretch, scaled by 0.5 + 0.5·min(length, 7)/7); redemptions ×{d["pre_holiday_redemptions"]} on
  the two business days before; both ×{d["post_holiday"]} on the first two business days after;
  redemptions ×{d["post_holiday_hot_money"]} instead after stretches of {d["hot_money_min_length"]}
  days or more (hot money that came for the holiday's income leaves);
  Spring Festival: redemptions ×{d["spring_festival_redemptions"]} on the
  {d["spring_festival_business_days"]} business days before, subscriptions
  ×{d["spring_festival_subscriptions"]} on the {d["spring_festival_business_days"]} after; month
  end redemptions ×{d["month_end_redemptions"]} (last {d["month_edge_days"]} days), month start
  subscriptions ×{d["month_start_subscriptions"]} (first {d["month_edge_days"]} days); quarter end:
  redemptions ×(1 + q·c) in the last {d["quarter_window_days"]} days of a quarter and
  subscriptions ×(1 + {d["quarter_return_share"]}·q·c) in the first
  {d["quarter_window_days"]} of the next, q = {d["quarter_end_size"]} for Q1..Q4, c = the
  channel's corporate share
  (mobile_app 0.3, partner_platform 0.5, corporate_portal 0.8); paydays (working day on or before
  the 10th and 15th) subscriptions ×{d["payday_subscriptions"]}; tax deadline redemptions
  ×{d["tax_day_redemptions"]}.
- *stress*: a redemption wave across all products from {c.stress_start} to
  {stress_end.date()} ({c.stress_days} days; modelled on the November 2020 bond sell-off):
  redemptions up to ×{d["stress_redemptions"]}, subscriptions ×{d["stress_subscriptions"]}, ramping
  up over {d["stress_ramp_days"]} days and fading over the last third.
- *yield*: subscriptions ×exp(β_s·s + 0.3·(rank − ½)), redemptions ×exp(−β_r·s − 0.15·(rank − ½)),
  where s is yesterday's published 7-day yield minus yesterday's benchmark (percentage points,
  saturating as 0.5·tanh(s/0.5)) and rank ∈ [0, 1] the product's place among all products
  publishing a yield (1 = highest).
- *exposure*: page views per day = base × 0.8 on days off × campaign multiplier × lognormal
  noise (σ = 0.1), whole views; about {c.campaigns_per_year:g} campaigns a year per product of
  5–15 days at ×2–6 (the new product also gets a 21-day ×5 launch campaign). Demand multiplier
  `rainmaker.response.exposure_response(e) / exposure_response(base)` with the concave curve
  1 + a·log(1 + e/e0).
- *noise*: lognormal with mean one: a factor common to all products (σ = {COMMON_NOISE_SIGMA}),
  a product's own daily factor (σ_s, σ_r) and a persistent one, AR(1) with φ = {PERSISTENT_PHI}
  and stationary σ = {PERSISTENT_SIGMA_SUBSCRIPTIONS} (subscriptions) and
  {PERSISTENT_SIGMA_REDEMPTIONS} (redemptions): flows come in waves lasting weeks.
- *quotas*: {c.n_holiday_capped} products cap subscriptions on the 1–2 business days before
  holidays of three days or more at "holiday cap" × level (rounded down to 1 million CNY);
  standing caps on working days in a window at a multiple of the level at the window's start
  (rounded to 10 million CNY). On censored days subscriptions == quota < demand.

### Product parameters

{_product_table(data)}

## What the data look like

Per product: AUM, mean daily flows as a share of the previous day's AUM, days with a quota,
censored days (demand above the quota) and the demand lost to quotas; "shortfall days" are days
on which redemptions had to be paid by selling assets early (not a column of the files: measured
by the generator's portfolios).

{_flow_summary(data)}

### Yield volatility against the benchmark, last 12 months

SPEC §4 figures (`rainmaker.yields.headline_figures`) of each product's `yield_7d` against
`benchmark_yield_7d` (carried forward to calendar days) over the 12 months ending {c.end}, bp.
{yields_summary}

{yields_table}
"""
