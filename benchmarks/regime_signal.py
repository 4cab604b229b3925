"""How early the redemption regime's own signal sees a run, and how often it fires in calm years.

The own-pressure signal of :mod:`optimize.regime` is the median over ``pressure_days`` days of
each day's robust z-score of the share of AUM redeemed, firing at ``enter_z`` held
``persist_days`` days running. Shorter windows see a run sooner and fire more often in calm
water. This script prints, for a grid of the three settings, on P01–P12 of the sample:

- the share of product-days the signal fires in the calm years (2019-06-16..2020-01-15 and
  2021-06-16..2022-06-15): each firing puts a product into defence for at least
  ``regime.calm_days`` days;
- the day of November 2020 (the sample's redemption wave) it first fires for each product, and
  in the ``run-30in5`` scenario (from 2021-11-01) the day of the run it first fires (the data of
  that day, so the plan of the next morning is the first in defence);

then, for the peers' signal (``peer_days``: at least ``peer_share`` of the products at
z ≥ ``enter_z`` over that many days), every day of the sample it fires and the first day of
the run scenario.

    .venv/bin/python benchmarks/regime_signal.py

The regime's defaults (``[regime]`` of ``optimize/defaults.toml``) were chosen from this table
(docs/optimize.md, "Defence"); it needs no solver and runs in a few seconds.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# this checkout's packages first, not the editable install's (another checkout)
sys.path.insert(0, str(ROOT))

from optimize.regime import pressure_scores, pressure_windows  # noqa: E402
from optimize.settings import load_settings  # noqa: E402
from rainmaker.dataset import load_dataset  # noqa: E402
from simulate.scenarios import apply_scenario  # noqa: E402

PRODUCTS = [f"P{i:02d}" for i in range(1, 13)]
CALM = (("2019-06-16", "2020-01-15"), ("2021-06-16", "2022-06-15"))
WAVE = ("2020-11-05", "2020-11-30")
RUN_START = "2021-11-01"
GRID = (
    (5, 2, 3.0),
    (5, 1, 3.0),
    (3, 2, 3.0),
    (3, 1, 3.0),
    (2, 2, 3.0),
    (2, 1, 3.5),
    (2, 1, 3.0),
    (2, 1, 2.5),
)


def fires(
    flows: pd.DataFrame, pressure_days: int, persist_days: int, enter_z: float
) -> pd.DataFrame:
    """Days (rows) × products (columns): the own signal fires on the day's data."""
    settings = dataclasses.replace(
        load_settings().regime,
        pressure_days=pressure_days,
        persist_days=persist_days,
        enter_z=enter_z,
    )
    z = pressure_scores(flows, settings)[PRODUCTS]
    own = z >= enter_z
    held = own.copy()
    for lag in range(1, persist_days):
        held &= own.shift(lag, fill_value=False)
    return held


def first_day(held: pd.DataFrame, start: str, end: str) -> list[str]:
    """Day of month each product's signal first fires within ``start..end`` (-- if never)."""
    part = held.loc[start:end]
    return [f"{part[p].idxmax():%d}" if part[p].any() else "--" for p in PRODUCTS]


def main() -> None:
    sample = load_dataset(ROOT / "data" / "sample")
    run = apply_scenario(sample, "run-30in5", start=RUN_START).dataset
    print(
        "pressure_days persist_days enter_z | calm days firing | first day: Nov 2020 wave"
        " (P01..P12) | run-30in5 from Nov 1 (P01..P12)"
    )
    for pressure_days, persist_days, enter_z in GRID:
        held = fires(sample.flows, pressure_days, persist_days, enter_z)
        calm = pd.concat([held.loc[a:b] for a, b in CALM]).to_numpy().mean()
        wave = " ".join(first_day(held, *WAVE))
        in_run = fires(run.flows, pressure_days, persist_days, enter_z)
        run_days = " ".join(first_day(in_run, RUN_START, "2021-11-30"))
        print(
            f"{pressure_days:13d} {persist_days:12d} {enter_z:7.1f} | {100 * calm:14.2f} % |"
            f" {wave} | {run_days}"
        )

    regime = load_settings().regime
    print(
        f"\npeer_days | days with >= {regime.peer_share:.0%} of the products at z >= "
        f"{regime.enter_z:g} | first in run-30in5"
    )
    for days in (1, 2, 5):
        market_days = []
        for flows in (sample.flows, run.flows):
            (z,) = pressure_windows(flows, regime, (days,))
            share = (z >= regime.enter_z).sum(axis=1) / z.notna().sum(axis=1).clip(lower=1)
            market_days.append(share.index[share >= regime.peer_share])
        listed = ", ".join(f"{d:%Y-%m-%d}" for d in market_days[0])
        in_run = [d for d in market_days[1] if d >= pd.Timestamp(RUN_START)]
        first = f"{in_run[0]:%Y-%m-%d}" if in_run else "--"
        print(f"{days:9d} | {len(market_days[0])}: {listed} | {first}")


if __name__ == "__main__":
    main()
