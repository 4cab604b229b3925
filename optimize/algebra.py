"""A small sparse-block container for linear and mixed-integer models.

The plan's formulation is written once, as *families*: a variable family is an n-dimensional
array of columns over named dimensions (e.g. ``cash[product, day]``), present only where a mask
says so (sparse index sets: purchases exist on working days only); a constraint family is a
block of rows over named dimensions, built from vectorised terms ``coefficient × column`` that
broadcast over the rows. :class:`LinearModel` collects the families and compiles them into the
arrays a solver takes (costs, a CSC matrix, row and column bounds, integrality). From the same
families :mod:`optimize.pyomo_model` builds a Pyomo model with one named component per family,
and :mod:`optimize.solve` hands the arrays to HiGHS directly: one formulation, two writers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["INF", "CompiledModel", "ConstraintFamily", "LinearModel", "RowBlock", "VariableFamily"]

INF = float("inf")
KINDS = ("continuous", "integer", "binary")
SENSES = ("==", "<=", ">=")


@dataclass(frozen=True)
class VariableFamily:
    """A named block of columns.

    Attributes:
        name: the family's name (also the Pyomo component name).
        dims: dimension names, e.g. ``("product", "day")``.
        columns: column number of every index position, -1 where the variable does not exist.
        kind: ``continuous``, ``integer`` or ``binary``.
        unit: what one unit of the variable is, for documentation and reports.
    """

    name: str
    dims: tuple[str, ...]
    columns: np.ndarray
    kind: str
    unit: str = ""

    def values(self, solution: np.ndarray) -> np.ndarray:
        """The family's values from a full column vector, NaN where absent."""
        out = np.full(self.columns.shape, np.nan)
        present = self.columns >= 0
        out[present] = solution[self.columns[present]]
        return out


@dataclass(frozen=True)
class ConstraintFamily:
    """A named block of rows.

    Attributes:
        name: the family's name (also the Pyomo component name).
        dims: dimension names of the rows.
        rows: row number of every index position, -1 where the row does not exist.
        sense: ``==``, ``<=`` or ``>=``.
        soft: the family has an elastic slack (a violation is priced, not forbidden).
    """

    name: str
    dims: tuple[str, ...]
    rows: np.ndarray
    sense: str
    soft: bool = False

    def values(self, row_values: np.ndarray) -> np.ndarray:
        """The family's row values (activities or duals), NaN where absent."""
        out = np.full(self.rows.shape, np.nan)
        present = self.rows >= 0
        out[present] = row_values[self.rows[present]]
        return out


class RowBlock:
    """The rows of one constraint family while they are being written.

    Args:
        shape: shape of the row index (one entry per dimension).
        mask: which positions hold a row (default: all).
    """

    def __init__(self, shape: tuple[int, ...], mask: np.ndarray | None = None) -> None:
        self.shape = shape
        self.mask = np.ones(shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        if self.mask.shape != shape:
            raise ValueError(f"RowBlock: mask shape {self.mask.shape} is not {shape}")
        self.local = np.full(shape, -1, dtype=np.int64)
        self.local[self.mask] = np.arange(int(self.mask.sum()))
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []

    @property
    def n_rows(self) -> int:
        return int(self.mask.sum())

    def add(self, coefficient: np.ndarray | float, columns: np.ndarray) -> RowBlock:
        """Add ``coefficient × column`` to every row; both broadcast to the row shape.

        Entries whose column is -1 (variable absent) or whose coefficient is 0 are skipped.
        """
        cols = np.broadcast_to(np.asarray(columns, dtype=np.int64), self.shape)
        coef = np.broadcast_to(np.asarray(coefficient, dtype=float), self.shape)
        keep = self.mask & (cols >= 0) & (coef != 0)
        self._rows.append(self.local[keep])
        self._cols.append(cols[keep])
        self._vals.append(coef[keep])
        return self

    def add_at(
        self, index: tuple[np.ndarray, ...], coefficient: np.ndarray | float, columns: np.ndarray
    ) -> RowBlock:
        """Add scattered entries: ``coefficient × column`` to the rows at ``index`` (one array
        per dimension, all of one length; repeated rows add up)."""
        rows = self.local[index]
        cols = np.asarray(columns, dtype=np.int64)
        coef = np.broadcast_to(np.asarray(coefficient, dtype=float), rows.shape)
        keep = (rows >= 0) & (cols >= 0) & (coef != 0)
        self._rows.append(rows[keep])
        self._cols.append(cols[keep])
        self._vals.append(coef[keep])
        return self

    def entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(local row, column, coefficient) of every entry written so far."""
        if not self._rows:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        return np.concatenate(self._rows), np.concatenate(self._cols), np.concatenate(self._vals)


@dataclass(frozen=True)
class CompiledModel:
    """The arrays a MILP solver takes: minimise ``cost · x + offset`` subject to
    ``row_lower ≤ A x ≤ row_upper``, ``col_lower ≤ x ≤ col_upper``, ``x_j`` integer where
    ``integrality[j]``. ``A`` is stored column-wise (CSC): the entries of column j are
    ``value[col_start[j]:col_start[j+1]]`` in rows ``row_index[...]``."""

    cost: np.ndarray
    offset: float
    col_start: np.ndarray
    row_index: np.ndarray
    value: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray

    @property
    def n_cols(self) -> int:
        return len(self.cost)

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)

    def rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The matrix row-wise (CSR): (row_start, col_index, value)."""
        counts = np.diff(self.col_start)
        cols = np.repeat(np.arange(self.n_cols), counts)
        order = np.lexsort((cols, self.row_index))
        row_start = np.zeros(self.n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.row_index, minlength=self.n_rows), out=row_start[1:])
        return row_start, cols[order], self.value[order]

    def activities(self, x: np.ndarray) -> np.ndarray:
        """``A x`` for a column vector ``x``."""
        counts = np.diff(self.col_start)
        contributions = self.value * np.repeat(np.asarray(x, dtype=float), counts)
        return np.bincount(self.row_index, weights=contributions, minlength=self.n_rows)


@dataclass
class LinearModel:
    """Variable and constraint families, an objective, and the coordinates of dimensions.

    Attributes:
        coords: labels of every dimension (e.g. ``"product"`` → product ids), used to name
            Pyomo indices and report rows.
    """

    coords: dict[str, Sequence[object]] = field(default_factory=dict)
    variables: dict[str, VariableFamily] = field(default_factory=dict)
    constraints: dict[str, ConstraintFamily] = field(default_factory=dict)
    n_cols: int = 0
    n_rows: int = 0
    offset: float = 0.0
    _lower: list[np.ndarray] = field(default_factory=list)
    _upper: list[np.ndarray] = field(default_factory=list)
    _integer: list[np.ndarray] = field(default_factory=list)
    _cost_cols: list[np.ndarray] = field(default_factory=list)
    _cost_vals: list[np.ndarray] = field(default_factory=list)
    _a_rows: list[np.ndarray] = field(default_factory=list)
    _a_cols: list[np.ndarray] = field(default_factory=list)
    _a_vals: list[np.ndarray] = field(default_factory=list)
    _row_lower: list[np.ndarray] = field(default_factory=list)
    _row_upper: list[np.ndarray] = field(default_factory=list)

    def add_variables(
        self,
        name: str,
        dims: tuple[str, ...],
        mask: np.ndarray | None = None,
        *,
        lower: np.ndarray | float = 0.0,
        upper: np.ndarray | float = INF,
        kind: str = "continuous",
        unit: str = "",
    ) -> np.ndarray:
        """Declare a family; return its column array (-1 where ``mask`` is False).

        Args:
            name: unique family name.
            dims: dimension names; their sizes come from :attr:`coords`.
            mask: where the variable exists (default: everywhere).
            lower, upper: bounds, broadcast to the family's shape.
            kind: ``continuous``, ``integer`` or ``binary`` (bounds 0..1 are imposed).
            unit: unit of one unit of the variable.
        """
        if name in self.variables or name in self.constraints:
            raise ValueError(f"add_variables: the name {name!r} is taken")
        if kind not in KINDS:
            raise ValueError(f"add_variables: kind must be one of {', '.join(KINDS)}, not {kind!r}")
        shape = tuple(len(self.coords[d]) for d in dims)
        present = np.ones(shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        if present.shape != shape:
            raise ValueError(f"add_variables {name}: mask shape {present.shape} is not {shape}")
        columns = np.full(shape, -1, dtype=np.int64)
        n = int(present.sum())
        columns[present] = np.arange(self.n_cols, self.n_cols + n)
        lo = np.broadcast_to(np.asarray(lower, dtype=float), shape)[present]
        hi = np.broadcast_to(np.asarray(upper, dtype=float), shape)[present]
        if kind == "binary":
            lo, hi = np.maximum(lo, 0.0), np.minimum(hi, 1.0)
        if (lo > hi).any():
            raise ValueError(f"add_variables {name}: a lower bound exceeds its upper bound")
        self._lower.append(lo)
        self._upper.append(hi)
        self._integer.append(np.full(n, kind != "continuous"))
        self.n_cols += n
        self.variables[name] = VariableFamily(name, dims, columns, kind, unit)
        return columns

    def add_constraints(
        self,
        name: str,
        dims: tuple[str, ...],
        block: RowBlock,
        sense: str,
        rhs: np.ndarray | float,
        *,
        soft: bool = False,
    ) -> ConstraintFamily:
        """Add a family of rows ``Σ terms (sense) rhs``.

        Args:
            name: unique family name.
            dims: dimension names of the rows (matching ``block.shape``).
            block: the rows' terms.
            sense: ``==``, ``<=`` or ``>=``.
            rhs: right-hand side, broadcast to the row shape.
            soft: the rows carry an elastic slack (for reports).
        """
        if name in self.variables or name in self.constraints:
            raise ValueError(f"add_constraints: the name {name!r} is taken")
        if sense not in SENSES:
            raise ValueError(
                f"add_constraints: sense must be one of {', '.join(SENSES)}, not {sense!r}"
            )
        shape = tuple(len(self.coords[d]) for d in dims)
        if shape != block.shape:
            raise ValueError(f"add_constraints {name}: block shape {block.shape} is not {shape}")
        right = np.broadcast_to(np.asarray(rhs, dtype=float), shape)[block.mask]
        if not np.isfinite(right).all():
            raise ValueError(f"add_constraints {name}: right-hand side is not finite")
        local, cols, vals = block.entries()
        start = self.n_rows
        self._a_rows.append(local + start)
        self._a_cols.append(cols)
        self._a_vals.append(vals)
        self._row_lower.append(right if sense in ("==", ">=") else np.full(len(right), -INF))
        self._row_upper.append(right if sense in ("==", "<=") else np.full(len(right), INF))
        rows = np.where(block.local >= 0, block.local + start, -1)
        self.n_rows += block.n_rows
        family = ConstraintFamily(name, dims, rows, sense, soft)
        self.constraints[name] = family
        return family

    def add_cost(self, coefficient: np.ndarray | float, columns: np.ndarray) -> None:
        """Add ``coefficient × column`` to the objective (minimised); broadcasts, skips -1."""
        cols = np.asarray(columns, dtype=np.int64)
        coef = np.broadcast_to(np.asarray(coefficient, dtype=float), cols.shape)
        keep = cols >= 0
        self._cost_cols.append(cols[keep])
        self._cost_vals.append(coef[keep])

    def add_offset(self, value: float) -> None:
        """Add a constant to the objective."""
        self.offset += float(value)

    def compile(self) -> CompiledModel:
        """The arrays of the whole model (duplicate matrix entries are summed)."""
        cost = np.zeros(self.n_cols)
        if self._cost_cols:
            np.add.at(cost, np.concatenate(self._cost_cols), np.concatenate(self._cost_vals))
        rows = np.concatenate(self._a_rows) if self._a_rows else np.zeros(0, dtype=np.int64)
        cols = np.concatenate(self._a_cols) if self._a_cols else np.zeros(0, dtype=np.int64)
        vals = np.concatenate(self._a_vals) if self._a_vals else np.zeros(0)
        # CSC: sort by (column, row), then sum repeated (row, column) entries.
        order = np.lexsort((rows, cols))
        rows, cols, vals = rows[order], cols[order], vals[order]
        if len(rows):
            new = np.empty(len(rows), dtype=bool)
            new[0] = True
            new[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
            group = np.cumsum(new) - 1
            vals = np.bincount(group, weights=vals)
            rows, cols = rows[new], cols[new]
            nonzero = vals != 0
            rows, cols, vals = rows[nonzero], cols[nonzero], vals[nonzero]
        col_start = np.zeros(self.n_cols + 1, dtype=np.int64)
        np.cumsum(np.bincount(cols, minlength=self.n_cols), out=col_start[1:])

        def cat(parts: list[np.ndarray], dtype: type = float) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

        return CompiledModel(
            cost=cost,
            offset=self.offset,
            col_start=col_start,
            row_index=rows.astype(np.int64),
            value=vals.astype(float),
            row_lower=cat(self._row_lower),
            row_upper=cat(self._row_upper),
            col_lower=cat(self._lower),
            col_upper=cat(self._upper),
            integrality=cat(self._integer, bool),
        )

    def labels(self, dims: tuple[str, ...], index: tuple[np.ndarray, ...]) -> list[tuple]:
        """Coordinate labels of index positions, one tuple per position."""
        parts = [
            np.asarray(self.coords[d], dtype=object)[i] for d, i in zip(dims, index, strict=True)
        ]
        return list(zip(*parts, strict=True))
