"""Tests of rainmaker.quantiles: the one home of quantile levels and their column labels."""

from __future__ import annotations

import pytest

from rainmaker.quantiles import (
    DEFAULT_QUANTILES,
    quantile_columns,
    quantile_label,
    quantile_level,
)


@pytest.mark.parametrize(
    "level, label",
    [(0.05, "p05"), (0.1, "p10"), (0.5, "p50"), (0.95, "p95"), (0.975, "p97.5"), (0.99, "p99")],
)
def test_label_and_level_are_inverse(level: float, label: str) -> None:
    assert quantile_label(level) == label
    assert quantile_level(label) == level


@pytest.mark.parametrize("column", ["mean", "p", "p0", "p100", "q95", "p9x", "date", "p-5"])
def test_other_columns_are_no_quantile(column: str) -> None:
    assert quantile_level(column) is None


def test_columns_in_level_order() -> None:
    columns = ["mean", "p97.5", "p05", "p50", "product_id", "p10"]
    assert quantile_columns(columns) == ["p05", "p10", "p50", "p97.5"]
    assert [
        quantile_level(c) for c in quantile_columns(map(quantile_label, DEFAULT_QUANTILES))
    ] == [*DEFAULT_QUANTILES]
