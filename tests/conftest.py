"""Shared fixtures: the sample data set's folder and a builder of small valid data sets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO_ROOT / "data" / "sample"


@pytest.fixture(autouse=True)
def _no_calendar_arrangement_left() -> Iterator[None]:
    """A data set with a calendar.csv registers its holiday arrangement for the process
    (rainmaker.china_calendar.use_arrangement): no test leaves one to the next."""
    yield
    from rainmaker.china_calendar import use_arrangement

    use_arrangement({}, {})


def write_dataset(
    folder: Path,
    n_products: int = 3,
    n_days: int = 60,
    seed: int = 0,
    start: str = "2021-03-01",
) -> Path:
    """Write a small valid data set (SPEC §1) into ``folder`` and return the folder.

    Amounts are CNY rounded to cents and ``aum`` rolls forward exactly:
    aum(t) = aum(t-1) + subscriptions(t) - redemptions(t) + income(t), with income at about
    2 % a year. ``quota`` is set (and respected) on every seventh day, empty otherwise. The
    market is published on weekdays only, from a week before the first flows day.
    ``flows.csv`` is ordered by date then product, so loading has to sort it.

    Args:
        folder: where to write (created when missing).
        n_products: number of products, ids ``P001``, ``P002``, ...
        n_days: number of calendar days of flows.
        seed: seed of the random amounts.
        start: first flows day, ISO.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"P{i + 1:03d}" for i in range(n_products)]
    pd.DataFrame(
        {
            "product_id": ids,
            "issuer": [f"WMC-{'AB'[i % 2]}" for i in range(n_products)],
            "product_type": [
                "fixed_income" if i % 3 == 2 else "cash_management" for i in range(n_products)
            ],
            "fee_bp": np.round(rng.uniform(15, 40, n_products), 1),
        }
    ).to_csv(folder / "products.csv", index=False)

    days = pd.date_range(start, periods=n_days, freq="D")
    aum = np.round(rng.uniform(5e7, 5e8, n_products), 2)
    rate = rng.uniform(0.015, 0.025, n_products)  # annual income rate of each product
    rows = []
    for t, day in enumerate(days):
        subs = np.round(aum * rng.uniform(0.0, 0.03, n_products), 2)
        reds = np.round(aum * rng.uniform(0.0, 0.03, n_products), 2)
        income = np.round(aum * rate / 365, 2)
        aum = np.round(aum + subs - reds + income, 2)
        capped = t % 7 == 3
        for i, pid in enumerate(ids):
            rows.append(
                {
                    "date": f"{day:%Y-%m-%d}",
                    "product_id": pid,
                    "subscriptions": f"{subs[i]:.2f}",
                    "redemptions": f"{reds[i]:.2f}",
                    "aum": f"{aum[i]:.2f}",
                    "quota": f"{np.ceil(subs[i]) + 1000:.2f}" if capped else "",
                    "exposure": str(int(rng.integers(0, 5000))),
                }
            )
    pd.DataFrame(rows).to_csv(folder / "flows.csv", index=False)

    published = pd.bdate_range(days[0] - pd.Timedelta(days=7), days[-1])
    n = len(published)
    shibor_on = np.round(1.8 + np.cumsum(rng.normal(0, 0.03, n)), 4)
    pd.DataFrame(
        {
            "date": published.strftime("%Y-%m-%d"),
            "shibor_on": shibor_on,
            "shibor_1w": np.round(shibor_on + 0.25, 4),
            "shibor_1m": np.round(shibor_on + 0.55, 4),
            "shibor_3m": np.round(shibor_on + 0.75, 4),
            "benchmark_yield_7d": np.round(shibor_on + 0.1, 4),
        }
    ).to_csv(folder / "market.csv", index=False)
    return folder


def copy_closing_early(source: Path, folder: Path, product: str) -> str:
    """Copy the data set ``source`` into ``folder`` without ``product``'s row of the last
    flows day (a product closed before the as-of day); return that day, ISO."""
    folder.mkdir()
    for path in source.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    flows = pd.read_csv(folder / "flows.csv", dtype=str, keep_default_na=False)
    last = str(flows["date"].max())
    flows = flows.loc[~((flows["product_id"] == product) & (flows["date"] == last))]
    flows.to_csv(folder / "flows.csv", index=False)
    return last


@pytest.fixture
def make_dataset() -> Callable[..., Path]:
    """``make_dataset(folder, n_products=3, n_days=60, seed=0)``: write a small valid data set."""
    return write_dataset


@pytest.fixture
def sample_dir() -> Path:
    """The project's sample data set, ``data/sample``."""
    return SAMPLE_DIR
