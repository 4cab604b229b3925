"""Tests of the optional holders table (rainmaker/holders.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from rainmaker.dataset import load_dataset
from rainmaker.errors import DataError
from rainmaker.holders import top10_shares
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
