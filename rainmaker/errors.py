"""Exceptions that the command line maps to exit statuses.

``DataError`` (bad input, exit 2) carries every problem found, so a user fixes a data set in
one pass instead of one error per run. Anything else that escapes a command exits 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in a data set.

    Attributes:
        file: file name inside the data-set folder, e.g. ``flows.csv``.
        column: the offending column, or ``""`` when the problem is the whole file.
        message: what is wrong and what is expected, in one sentence.
        rows: line numbers in the file (header is line 1, so the first data row is line 2);
            at most a handful are kept, ``n_rows`` says how many there were in all.
        n_rows: total number of offending rows (0 when the problem is not about rows).
    """

    file: str
    column: str
    message: str
    rows: tuple[int, ...] = field(default=())
    n_rows: int = 0

    def __str__(self) -> str:
        where = self.file + (f", column '{self.column}'" if self.column else "")
        text = f"{where}: {self.message}"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows)
            more = (
                f" (and {self.n_rows - len(self.rows)} more)"
                if self.n_rows > len(self.rows)
                else ""
            )
            text += f" [line{'s' if self.n_rows > 1 else ''} {shown}{more}]"
        return text


# Lines a problem shows; it says how many it has in all (Problem.n_rows).
MAX_ROWS_SHOWN = 5


def table_lines(mask: Sequence[bool] | np.ndarray) -> tuple[tuple[int, ...], int]:
    """The file lines of the rows ``mask`` flags in a table read in file order, as a
    :class:`Problem` takes them: the first :data:`MAX_ROWS_SHOWN`, and how many in all. The
    header is line 1, so row i is line i + 2."""
    where = np.flatnonzero(np.asarray(mask, dtype=bool))
    return tuple(int(i) + 2 for i in where[:MAX_ROWS_SHOWN]), len(where)


def first_few(names: Sequence[str], n: int = 5) -> str:
    """The first ``n`` names of a message, comma-separated, with ", ..." when there are more
    (the products, files or days a warning or an error is about)."""
    return ", ".join(names[:n]) + (", ..." if len(names) > n else "")


class RainmakerError(Exception):
    """Base class of the errors rainmaker raises on purpose."""

    exit_code = 1


class DataError(RainmakerError):
    """The input does not meet the data contract (SPEC §1). Exit status 2."""

    exit_code = 2

    def __init__(self, problems: Sequence[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(file="", column="", message=problems)]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self.describe())

    def __reduce__(self) -> tuple[type[DataError], tuple[tuple[Problem, ...]]]:
        # Rebuilt from its problems, not from the message (the default), so that an error
        # raised in a worker process keeps its file, column and rows.
        return DataError, (self.problems,)

    def lines(self) -> list[str]:
        """The head and one indented line per problem: what :meth:`describe` joins, kept
        apart for a log, which escapes a line break inside a problem (a path's, an id's)."""
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input:"
        return [head, *(f"  - {p}" for p in self.problems)]

    def describe(self) -> str:
        return "\n".join(self.lines())


class UsageError(RainmakerError):
    """A command was called with arguments that cannot work. Exit status 2."""

    exit_code = 2
