"""How the report writes its figures: percents, yields, quantile bands, alerts as records.

Pure functions of their arguments (no view, no words): the sections, alerts and charts of the
report share them. Ratios are fractions (shown as percent), yields percent per annum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from rainmaker.quantiles import quantile_level

__all__ = [
    "alert",
    "band_columns",
    "level",
    "percent",
    "status_ok",
    "status_usable",
    "weighted",
    "width",
    "yield_pct",
]


def weighted(values: pd.DataFrame, weights: pd.DataFrame) -> pd.Series:
    """Per date, the mean of ``values`` across columns weighted by ``weights`` (AUM, clipped at
    0); NaN where no weight."""
    weights = weights.reindex_like(values).clip(lower=0).where(values.notna())
    total = weights.sum(axis=1, min_count=1)
    return (values * weights).sum(axis=1, min_count=1) / total.where(total > 0)


def level(column: str) -> float:
    """Quantile level of a quantile column (:func:`rainmaker.quantiles.quantile_level`)."""
    found = quantile_level(column)
    assert found is not None, column
    return found


def width(low: str, high: str) -> str:
    """Coverage of the band between two quantile columns, in percent as text (``90``)."""
    return f"{(level(high) - level(low)) * 100:g}"


def band_columns(quantiles: Sequence[str]) -> tuple[str, str, str, str]:
    """(outer low, inner low, inner high, outer high) quantile columns of a forecast.

    The outer band is the widest the forecast has (e.g. p05–p95), the inner one the narrowest
    around the median (e.g. p10–p90).
    """
    lows = sorted((q for q in quantiles if level(q) < 0.5), key=level)
    highs = sorted((q for q in quantiles if level(q) > 0.5), key=level)
    if not lows or not highs:
        raise ValueError(
            f"the forecast needs quantile columns below and above p50 for its bands, got "
            f"{quantiles}"
        )
    return (lows[0], lows[-1], highs[0], highs[-1])


def status_ok(status: str) -> bool:
    return str(status).lower() in ("optimal", "ok")


def status_usable(status: str) -> bool:
    """A plan the solver found but did not prove optimal (a time limit, a decomposition)."""
    return str(status).lower() == "feasible"


def alert(severity: str, kind: str, product: str, text: str) -> dict[str, str]:
    return {"severity": severity, "kind": kind, "product_id": product, "text": text}


def percent(ratio: float) -> str:
    return f"{ratio * 100:.1f}%" if ratio is not None and math.isfinite(ratio) else "—"


def yield_pct(value: float) -> str:
    return f"{value:.3f}%" if value is not None and math.isfinite(value) else "—"
