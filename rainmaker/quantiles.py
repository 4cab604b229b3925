"""Quantile levels and their column labels: the one home of the ``p05`` … ``p97.5`` names.

The forecast writes a quantile column per level (:func:`quantile_label`), the optimizer reads
the redemption quantiles back (:func:`quantile_level`) and the report picks columns by level:
all three go through this module, so a label one writes is a label the others read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "DEFAULT_QUANTILES",
    "path_quantiles",
    "quantile_columns",
    "quantile_label",
    "quantile_level",
]

# The levels a forecast reports by default (forecast.DEFAULT_QUANTILES).
DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.1, 0.5, 0.9, 0.95)

_LABEL = re.compile(r"^p(\d+(?:\.\d+)?)$")


def quantile_label(q: float) -> str:
    """Column name of quantile level ``q``: 0.05 → ``p05``, 0.5 → ``p50``, 0.975 → ``p97.5``."""
    return f"p{q * 100:02g}"


def quantile_level(label: str) -> float | None:
    """Quantile level of a column name, the inverse of :func:`quantile_label`: ``p05`` → 0.05,
    ``p95`` → 0.95, ``p97.5`` → 0.975; ``None`` for anything else (``mean``, ``p0``, ``p100``)."""
    match = _LABEL.match(label)
    if match is None:
        return None
    level = float(match.group(1)) / 100
    return level if 0.0 < level < 1.0 else None


def quantile_columns(columns: Iterable[object]) -> list[str]:
    """The quantile columns among ``columns``, by ascending level."""
    found = [str(c) for c in columns if quantile_level(str(c)) is not None]
    return sorted(found, key=lambda c: quantile_level(c) or 0.0)


def path_quantiles(paths: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """Quantiles over the paths axis, as ``np.quantile(paths, levels, axis=1)`` (linear
    interpolation) but sorting once for all levels.

    Args:
        paths: (n_products, n_paths, horizon).
        levels: quantile levels in [0, 1].

    Returns:
        (n_levels, n_products, horizon); ordered along the levels by construction.
    """
    ordered = np.sort(np.swapaxes(paths, 1, 2), axis=2)  # (n_products, horizon, n_paths)
    n = ordered.shape[2]
    out = np.empty((len(levels), paths.shape[0], paths.shape[2]))
    for i, q in enumerate(levels):
        position = q * (n - 1)
        below = int(np.floor(position))
        above = min(below + 1, n - 1)
        weight = position - below
        out[i] = ordered[:, :, below] + weight * (ordered[:, :, above] - ordered[:, :, below])
    return out
