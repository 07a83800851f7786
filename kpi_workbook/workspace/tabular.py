"""The one reader of tabular files, CSV and Excel, shared by sources, employees.csv and the actuals importer.

A CSV file's first rows give its delimiter (comma, semicolon or tab) and its header row; DuckDB then reads every
cell below as text, the rows numbered as Python's csv module numbers them (see csv_scan), and the csv module reads
the files DuckDB would number otherwise. An Excel sheet (.xlsx, .xlsm) is read with openpyxl. A cell becomes text
by one rule (cell_text). A file that cannot be read is an InputError naming it (see unreadable).
"""

from __future__ import annotations

__all__ = [
    "Cells", "DELIMITERS", "EXCEL_SUFFIXES", "HeaderFinder", "SNIFFED_LINES", "Table", "TableSql", "cell_text",
    "column_names", "first_row", "named_twice", "read_cells", "read_table",
]

import csv
import datetime as dt
import io
import itertools
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.workspace import csv_scan
from kpi_workbook.workspace.scratch import Scratch
from kpi_workbook.workspace.source_paths import file_kind
from kpi_workbook.workspace.unreadable import not_a_workbook, not_csv, not_utf8, old_workbook, unreadable

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
DELIMITERS = (",", ";", "\t")
SNIFFED_LINES = 20  # the delimiter is the one giving the most cells on a line among the first lines

HeaderFinder = Callable[[list[list[Any]]], int]
"""The 1-based row number of the header among a file's first rows (cells as read); raises InputError if none."""
TableSql = Callable[[list[str], int], str | csv_scan.LineRows]
"""The caller's rows for the header's column names and row number: SQL over the view `cells`, or LineRows (see
read_cells)."""


@dataclass(frozen=True)
class Cells:
    """A file's header (`names`, row `header`) and whether its rows went straight into the caller's table (`done`);
    otherwise they are in the scratch table or view `cells`: row, c0… (the header's width) and extra (the non-empty
    cells beyond it, joined with ' | ')."""

    names: list[str]
    header: int
    done: bool


@dataclass(frozen=True)
class Table:
    """A file's rows below its header (row `header`): `frame` indexed by row number with the columns `names`, and
    `extra`, the non-empty cells of each row beyond the header's width joined with ' | ' ('' for none)."""

    names: list[str]
    header: int
    frame: pd.DataFrame
    extra: pd.Series


def cell_text(value: Any) -> str:
    """A cell as text: whole numbers without '.0', dates as ISO dates, empty cells as '', no surrounding spaces."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()
    return str(value).strip()


def column_names(cells: list[Any]) -> list[str]:
    """A header row's cells as column names; an empty one is unnamed_N (N its 1-based position)."""
    return [cell_text(c) or f"unnamed_{i + 1}" for i, c in enumerate(cells)]


def first_row(missing: Problem) -> HeaderFinder:
    """A HeaderFinder for files whose header is their first row: InputError(`missing`) when there is none (no rows,
    or a first row of empty cells)."""

    def header(rows: list[list[Any]]) -> int:
        if not rows or not any(cell_text(c) for c in rows[0]):
            raise InputError(missing)
        return 1

    return header


def named_twice(file: str, header: int, names: list[str]) -> InputError | None:
    """The error for a header that gives two columns the same name (None when each name is its own)."""
    twice = [name for name in dict.fromkeys(names) if names.count(name) > 1]
    if not twice:
        return None
    return InputError(Problem(file=file, row=header, field="header", code=Code.INPUT_HEADER, message=(
        f"column(s) named twice: {', '.join(twice)}; give each column its own name")))


def _check_file(path: Path) -> None:
    """InputError naming the path when it is missing or not a regular file (a folder, a FIFO: never opened)."""
    kind = file_kind(path)
    if kind == "missing":
        raise InputError(Problem(file=str(path), message="file not found", code=Code.INPUT_NOT_FOUND))
    if kind:
        raise InputError(Problem(file=str(path), message=f"not a regular file but {kind}", code=Code.INPUT_UNREADABLE))


def read_cells(path: Path, file: str, scratch: Scratch, find_header: HeaderFinder, head_rows: int,
               sheet: str | None = None, table_sql: TableSql | None = None) -> Cells:
    """Every cell below a file's header, as text, into `scratch`: into the view `raw` as `table_sql` gives it when
    the file can be read straight into it (CSV only; see csv_scan.scan_once), else into `cells` for the caller's SQL
    (see csv_scan.rows_from_cells). The header is found by
    `find_header` among the first `head_rows` rows (all rows of an Excel sheet); `sheet` picks an Excel sheet
    (default: the first). InputError naming `file` when it cannot be read."""
    _check_file(path)
    suffix = path.suffix.lower()
    try:
        if suffix in EXCEL_SUFFIXES:
            rows = _excel_rows(path, file, sheet)
            header = find_header(rows)
            names = column_names(rows[header - 1])
            scratch.table("cells", _cells_frame(rows, header, len(names), cell=cell_text))
            return Cells(names, header, done=False)
        if suffix == ".xls":
            raise old_workbook(file)
        return _read_csv(path, file, scratch, find_header, head_rows, table_sql)
    except OSError as exc:
        raise unreadable(file, exc) from None


def read_table(path: Path, file: str, find_header: HeaderFinder, sheet: str | None = None) -> Table:
    """A file's rows below its header (found by `find_header` among the first rows): CSV cells as text (None where
    a row is short), Excel cells as the workbook holds them (a date cell stays a date whatever format it shows)."""
    _check_file(path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        rows = _excel_rows(path, file, sheet)
        header = find_header(rows)
        names = column_names(rows[header - 1])
        frame = _cells_frame(rows, header, len(names))
    else:
        with Scratch() as scratch:
            found = read_cells(path, file, scratch, find_header, SNIFFED_LINES)
            names, header = found.names, found.header
            read = scratch.frame("SELECT * FROM cells ORDER BY row")
            frame = read.astype("object").where(read.notna(), None)  # an empty cell of a short row is None
    frame = frame.set_index("row").rename_axis(None)
    cells = frame[[f"c{i}" for i in range(len(names))]].set_axis(names, axis="columns")
    return Table(names, header, cells, frame["extra"])


@dataclass(frozen=True)
class _CsvHead:
    """The first rows of a CSV file: their cells, the delimiter, and the physical lines up to each row's end."""

    rows: list[list[str]]
    delimiter: str
    line_ends: list[int]


def _width(lines: list[str], delimiter: str) -> int:
    """The most cells a line of `lines` has with this delimiter (0 when the lines do not parse with it: the read
    itself then names the row)."""
    try:
        return max((len(r) for r in csv.reader(lines, delimiter=delimiter)), default=0)
    except csv.Error:
        return 0


def _read_head(path: Path, file: str, limit: int) -> _CsvHead:
    """The first `limit` rows of a CSV file, read as Python's csv module reads them, and its delimiter."""
    sniffed = max(limit, SNIFFED_LINES)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            lines = "".join(itertools.islice(handle, sniffed)).splitlines()[:sniffed]
            delimiter = max(DELIMITERS, key=lambda d: _width(lines, d))
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            rows, ends = [], []
            try:
                for row in itertools.islice(reader, limit):
                    rows.append(row)
                    ends.append(reader.line_num)
            except csv.Error as exc:
                raise not_csv(file, reader.line_num, str(exc)) from None
    except UnicodeDecodeError:
        raise not_utf8(file) from None
    return _CsvHead(rows, delimiter, ends)


def _read_csv(path: Path, file: str, scratch: Scratch, find_header: HeaderFinder, head_rows: int,
              table_sql: TableSql | None) -> Cells:
    """A CSV file's rows below its header into the view `raw` (by `table_sql`) or `cells`, read by DuckDB where it
    numbers the rows exactly, else by the csv module."""
    head = _read_head(path, file, head_rows)
    header = find_header(head.rows)
    names = column_names(head.rows[header - 1])
    skip, width = head.line_ends[header - 1], len(names)
    try:
        sql = table_sql(names, header) if table_sql else None
    except InputError:  # raised again once the rows are read: an unreadable file is named first
        sql = None
    if sql is not None and csv_scan.scan_once(scratch, path, file, head.delimiter, skip, header, width, sql):
        return Cells(names, header, done=True)
    if not csv_scan.scan(scratch, path, file, head.delimiter, skip, header, width):
        scratch.table("cells", _cells_frame(_csv_rows(path, file, head.delimiter), header, width))
    return Cells(names, header, done=False)


def _csv_rows(path: Path, file: str, delimiter: str) -> list[list[str]]:
    """Every row of a CSV file as Python's csv module reads it (for files DuckDB does not number exactly)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise not_utf8(file) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return list(reader)
    except csv.Error as exc:
        raise not_csv(file, reader.line_num, str(exc)) from None


def _cells_frame(rows: list[list[Any]], header: int, width: int,
                cell: Callable[[Any], Any] | None = None) -> pd.DataFrame:
    """The rows below the header as the `cells` table: row number, c0… (the header's width, each cell as `cell`
    gives it, as read without), and `extra` (the non-empty cells beyond the header's width, joined with ' | ')."""
    text = cell or (lambda c: c)
    body = [[*(text(c) for c in r[:width]), *[None] * (width - len(r)),
             " | ".join(cell_text(c) for c in r[width:] if c)] for r in rows[header:]]
    frame = pd.DataFrame(body, columns=[*(f"c{i}" for i in range(width)), "extra"], dtype="object")
    return frame.assign(row=range(header + 1, header + 1 + len(frame))).astype(
        {f"c{i}": "object" for i in range(width)})


def _excel_rows(path: Path, file: str, sheet: str | None) -> list[list[Any]]:
    """The cell values of a sheet (default: the first) of an .xlsx workbook, row by row; InputError naming the file
    (and the sheets there are) when it cannot be read."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise not_a_workbook(file, exc) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise InputError(Problem(file=file, field="sheet", code=Code.INPUT_SHEET,
                                     message=f"no sheet '{sheet}'; the sheets are: {', '.join(book.sheetnames)}"))
        return [list(r) for r in book[sheet or book.sheetnames[0]].iter_rows(values_only=True)]
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:  # a sheet's XML, read row by row
        raise not_a_workbook(file, exc) from None
    finally:
        book.close()
