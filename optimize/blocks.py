"""The plan's compiled model cut into one block per product (for the product-by-product solve).

Below :mod:`optimize.model` (which caches the blocks of a built model) and
:mod:`optimize.decompose` (which solves them): it needs only the compiled arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimize.algebra import CompiledModel, LinearModel

__all__ = ["ProductBlocks", "product_blocks"]


def _groups(families: dict, attribute: str, size: int, dim: str = "product") -> np.ndarray:
    """Product index of every column (or row); -1 for those without a product dimension."""
    group = np.full(size, -1, dtype=np.int64)
    for family in families.values():
        if dim not in family.dims:
            continue
        ids = getattr(family, attribute)
        axis = family.dims.index(dim)
        position = np.indices(ids.shape)[axis]
        present = ids >= 0
        group[ids[present]] = position[present]
    return group


@dataclass(frozen=True)
class ProductBlocks:
    """The full model cut into one block of rows and columns per product.

    Attributes:
        columns: global column ids of each product, ascending.
        rows: global row ids of each product, ascending.
        models: each product's LP (its rows and columns only; coupling rows left out).
    """

    columns: list[np.ndarray]
    rows: list[np.ndarray]
    models: list[CompiledModel]


def product_blocks(c: CompiledModel, m: LinearModel, p: int) -> ProductBlocks:
    """Cut the compiled model ``c`` of ``m`` into ``p`` per-product LPs (integrality dropped)."""
    col_group = _groups(m.variables, "columns", c.n_cols)
    row_group = _groups(m.constraints, "rows", c.n_rows)
    entry_col = np.repeat(np.arange(c.n_cols), np.diff(c.col_start))
    entry_row = c.row_index
    group = col_group[entry_col]
    same = (group >= 0) & (row_group[entry_row] == group)
    crossing = (row_group[entry_row] >= 0) & ~same
    if crossing.any():
        raise ValueError("product_blocks: a product's row uses another product's column")
    col_local = np.zeros(c.n_cols, dtype=np.int64)
    row_local = np.zeros(c.n_rows, dtype=np.int64)
    columns, rows = [], []
    col_order = np.argsort(col_group, kind="stable")
    row_order = np.argsort(row_group, kind="stable")
    col_bounds = np.searchsorted(col_group[col_order], np.arange(p + 1))
    row_bounds = np.searchsorted(row_group[row_order], np.arange(p + 1))
    for i in range(p):
        cols = col_order[col_bounds[i] : col_bounds[i + 1]]
        rws = row_order[row_bounds[i] : row_bounds[i + 1]]
        col_local[cols] = np.arange(len(cols))
        row_local[rws] = np.arange(len(rws))
        columns.append(cols)
        rows.append(rws)
    e_group = group[same]
    e_col = col_local[entry_col[same]]
    e_row = row_local[entry_row[same]]
    e_val = c.value[same]
    order = np.lexsort((e_row, e_col, e_group))
    e_group, e_col, e_row, e_val = e_group[order], e_col[order], e_row[order], e_val[order]
    e_bounds = np.searchsorted(e_group, np.arange(p + 1))
    models = []
    for i in range(p):
        sl = slice(e_bounds[i], e_bounds[i + 1])
        cols, rws = columns[i], rows[i]
        start = np.zeros(len(cols) + 1, dtype=np.int64)
        np.cumsum(np.bincount(e_col[sl], minlength=len(cols)), out=start[1:])
        models.append(
            CompiledModel(
                cost=c.cost[cols],
                offset=0.0,
                col_start=start,
                row_index=e_row[sl],
                value=e_val[sl],
                row_lower=c.row_lower[rws],
                row_upper=c.row_upper[rws],
                col_lower=c.col_lower[cols],
                col_upper=c.col_upper[cols],
                integrality=np.zeros(len(cols), dtype=bool),
            )
        )
    return ProductBlocks(columns, rows, models)
