"""Reading a CSV file that people made in a spreadsheet: the generic part of every import.

The apps' imports (``pricing.imports``; ``inventory.imports`` reads files the same way) check
the *meaning* of each row; this module only turns bytes into numbered rows of named cells
and says what is wrong with the file itself. It imports no app.

The rules, the same for every import:

- UTF-8, with or without the byte-order mark that spreadsheet programs write;
- comma-separated, or semicolon-separated when the header has semicolons and no comma (as
  some spreadsheet programs save in locales that write a decimal comma);
- the first row is the header: column names, case-insensitive, in any order; a missing
  required column, an unknown column or a column named twice is an error of the file;
- rows are numbered as a spreadsheet shows them (the header is row 1; 0 means the file as a
  whole); blank lines are skipped; a row with more or fewer fields than the header is an
  error of that row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

LOOKUP_CHUNK = 2000  # keeps every IN (...) well under SQLite's parameter limit


@dataclass(frozen=True)
class RowError:
    """``row`` as a spreadsheet numbers it (the header is 1; 0 is the file as a whole);
    ``column`` is a header name, or empty for the whole row or file."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        return (
            f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"
        )


@dataclass(frozen=True)
class Record:
    """One data row: ``cells`` by column name, stripped, "" where the row is short.
    ``problem`` says what is wrong with its shape ("" when nothing is)."""

    row: int
    cells: dict[str, str]
    problem: str = ""


@dataclass
class Table:
    columns: list[str] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # of the file as a whole

    @property
    def ok(self) -> bool:
        return not self.errors


def decode(data: bytes) -> str | None:
    """The text of an uploaded file, or None when it is not UTF-8 (a BOM is dropped)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def read_table(
    content: str | bytes,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    max_rows: int | None = None,
) -> Table:
    """Read a whole file into numbered records. Never raises for bad input: what is wrong
    with the file is in ``Table.errors`` (and then ``records`` is empty)."""
    table = Table()
    if isinstance(content, bytes):
        text = decode(content)
        if text is None:
            table.errors.append(
                RowError(0, "", "The file is not UTF-8 text; save it as 'CSV UTF-8'.")
            )
            return table
        content = text
    content = content.removeprefix("\ufeff")
    try:
        _read(content, table, tuple(required), tuple(optional), max_rows)
    except csv.Error as exc:
        table.errors.append(RowError(0, "", f"Not a readable CSV file: {exc}."))
    if table.errors:
        table.records = []
    elif not table.records:
        table.errors.append(RowError(0, "", "The file has a header but no rows."))
    return table


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    yield from enumerate(reader, start=1)


def _read(
    text: str,
    table: Table,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    max_rows: int | None,
) -> None:
    rows = _rows(text)
    header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header[1]):
        table.errors.append(RowError(0, "", "The file is empty; the first row must be the header."))
        return
    columns = [cell.strip().lower() for cell in header[1]]
    known = required + optional
    for name in required:
        if name not in columns:
            table.errors.append(RowError(1, name, f"The header has no {name!r} column."))
    for name in sorted({c for c in columns if c not in known}):
        table.errors.append(
            RowError(1, name, f"Unknown column {name!r}; expected {', '.join(known)}.")
        )
    for name in sorted({c for c in columns if columns.count(c) > 1}):
        table.errors.append(RowError(1, name, f"The column {name!r} appears twice."))
    if table.errors:
        return
    table.columns = columns
    width = len(columns)
    for number, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, such as the one a spreadsheet leaves at the end
        if max_rows is not None and len(table.records) >= max_rows:
            table.errors.append(
                RowError(0, "", f"At most {max_rows:,} rows in one file; split it.")
            )
            return
        named = {
            name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(columns)
        }
        problem = (
            f"Expected {width} field(s) as in the header, found {len(cells)}."
            if len(cells) != width
            else ""
        )
        table.records.append(Record(row=number, cells=named, problem=problem))


def chunks(values: Iterable, size: int = LOOKUP_CHUNK) -> Iterator[list]:
    """``values`` in lists of at most ``size``: for ``filter(x__in=chunk)`` look-ups."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]
