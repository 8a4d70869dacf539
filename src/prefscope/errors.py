"""Errors that tell the user exactly what to fix."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input, located as precisely as we can: file, row and column.

    Rows are reported 1-based as a person counts data rows (the header is not a row), so
    ``row 3`` is the third record of the table.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file, self.row, self.column = file, row, column
        where = []
        if file is not None:
            where.append(f"file {file!s}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class BudgetExceeded(RuntimeError):
    """A configured limit on paid calls or tokens was reached; the run stops cleanly."""
