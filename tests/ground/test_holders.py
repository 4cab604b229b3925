"""Tests of the optional holders table (rainmaker/holders.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from rainmaker.dataset import load_dataset
from rainmaker.errors import DataError
from rainmaker.holders import HolderShare, latest_top10, top10_shares
from tests.conftest import write_dataset


def _with_holders(folder, shares: list[str]):
    write_dataset(folder, n_products=2, n_days=10)
    rows = "".join(f"2021-03-0{i + 1},P001,{s}\n" for i, s in enumerate(shares))
    (folder / "holders.csv").write_text("date,product_id,top10_share\n" + rows)
    return load_dataset(folder)


def test_a_share_of_one_is_accepted(tmp_path):
    # a product whose ten largest holders hold every unit: a share of 1, the top of [0, 1]
    dataset = _with_holders(tmp_path / "d", ["0", "1.0"])
    assert top10_shares(dataset, pd.Timestamp("2021-03-10")) == {"P001": 1.0}


@pytest.mark.parametrize("share", ["1.0001", "-0.01", "", "half"])
def test_a_share_outside_zero_to_one_is_refused_with_its_line(tmp_path, share):
    dataset = _with_holders(tmp_path / "d", ["0.5", share])
    with pytest.raises(DataError) as raised:
        top10_shares(dataset, pd.Timestamp("2021-03-10"))
    said = str(raised.value)
    assert "holders.csv" in said and "'top10_share'" in said
    assert "0 ≤ x ≤ 1" in said and "[line 3]" in said


def test_the_latest_row_on_or_before_the_day_is_kept_with_its_date(tmp_path):
    # rows of 2021-03-01 (0.2) and 2021-03-02 (0.3): as of 2021-03-10 the second, 8 days old;
    # as of 2021-03-01 the first, of the day itself (0 days)
    dataset = _with_holders(tmp_path / "d", ["0.2", "0.3"])
    row = latest_top10(dataset, pd.Timestamp("2021-03-10"))["P001"]
    assert row == HolderShare(0.3, pd.Timestamp("2021-03-02"))
    assert row.days_old(pd.Timestamp("2021-03-10")) == 8
    first = latest_top10(dataset, pd.Timestamp("2021-03-01"))["P001"]
    assert first.share == 0.2 and first.days_old(pd.Timestamp("2021-03-01")) == 0
