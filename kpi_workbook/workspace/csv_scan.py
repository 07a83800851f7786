"""Reading the rows of a CSV file below its header with DuckDB, numbered exactly as Python's csv module numbers them.

DuckDB reads every cell as text. Most files are read once, straight into the caller's rows (see scan_once); the
others through a table of their cells (see scan). DuckDB's rows are kept only when they match the file's physical
lines one to one (no quoted line breaks, no lone carriage returns, no row with more cells than it was given room
for): the number of rows it read is checked against the lines of the file, and blank lines (which DuckDB skips but
Python counts) shift the row numbers after them. Otherwise `scan` returns False and workspace.tabular reads the
file with the csv module, as it does for a path DuckDB would take as a glob pattern and for a CSV error DuckDB
words otherwise (its messages quote the line at fault).

The caller's rows are kept in the table RAW_TABLE and read through the view RAW_VIEW, which gives each its number.
Rows that are the file's lines one to one (LineRows) are read in parallel, in the file's order, and numbered by
the table's row ids: numbering them while reading would take one thread.
"""

from __future__ import annotations

__all__ = [
    "BLOCK", "LINE", "LineRows", "ODD_ROW", "RAW_TABLE", "RAW_VIEW", "SPARE_CELLS", "rows_from_cells", "scan",
    "scan_once",
]

import csv
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from kpi_workbook.core.errors import InputError
from kpi_workbook.workspace.scratch import Scratch, literal
from kpi_workbook.workspace.source_paths import has_glob_characters
from kpi_workbook.workspace.sql_text import stripped
from kpi_workbook.workspace.unreadable import field_too_large, not_utf8

SPARE_CELLS = 8  # room for cells beyond the header's width (they go to `extra`); a row filling it is read by Python
BLOCK = 1 << 24
LINE = re.compile(r"CSV Error on Line: (\d+)")
ODD_ROW = "kpi-workbook: a row for the cells table"  # error() raised by a row scan_once leaves to scan
RAW_TABLE = "raw_rows"  # the caller's rows as read; changed in place (UPDATE) by the caller
RAW_VIEW = "raw"  # the rows of RAW_TABLE with their `id` and `row`: what the caller reads


@dataclass(frozen=True)
class LineRows:
    """Rows that are a file's data lines one to one, each with its line number as `id` and `row`: `columns`, a
    select list over the cells c0… and extra, and `kept`, SQL true for a line that holds a row (a line of empty
    cells holds none)."""

    columns: str
    kept: str

    def over_cells(self) -> str:
        """The rows as SQL over the view `cells` (row, c0…, extra)."""
        return f"SELECT row AS id, row, {self.columns} FROM cells WHERE {self.kept}"


def rows_from_cells(scratch: Scratch, rows: str | LineRows) -> None:
    """The table RAW_TABLE and the view RAW_VIEW as `rows` (SQL over the view `cells`, giving `id` and `row`)."""
    scratch.con.execute(f"CREATE OR REPLACE TABLE {RAW_TABLE} AS "
                        f"{rows.over_cells() if isinstance(rows, LineRows) else rows}")
    scratch.con.execute(f"CREATE OR REPLACE VIEW {RAW_VIEW} AS SELECT * FROM {RAW_TABLE}")


@dataclass(frozen=True)
class _Lines:
    """Physical lines of a file: how many, which are blank (1-based), and whether a lone carriage return ends one."""

    count: int
    blank: list[int]
    lone_cr: bool


def _lines(path: Path, find_blank: bool = True) -> _Lines:
    """Count the lines of a file block by block (without decoding it) and, if `find_blank`, find its blank lines."""
    newlines = carriage = crlf = 0
    blank: list[int] = []
    tail, last = b"", b""
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            returns = block.count(b"\r") if b"\r" in block else 0  # most files have none: their passes are left out
            carriage += returns
            crlf_possible = bool(returns) or b"\r" in tail
            if crlf_possible or find_blank:
                window = tail + block
                crlf += window.count(b"\r\n") - tail.count(b"\r\n") if crlf_possible else 0
            if find_blank:
                before, seen, counted = newlines - tail.count(b"\n"), 0, 0
                patterns = (b"\n\n", b"\n\r\n") if crlf_possible else (b"\n\n",)
                for position in sorted({p for pattern in patterns for p in _finds(window, pattern, len(tail))}):
                    counted += window.count(b"\n", seen, position)
                    seen = position
                    blank.append(before + counted + 2)  # the line after the one this newline ends
            newlines += block.count(b"\n")
            tail, last = (tail + block[-2:])[-2:], block[-1:]
    count = newlines + (1 if last not in (b"", b"\n") else 0)
    return _Lines(count=count, blank=blank, lone_cr=carriage != crlf)


def _finds(window: bytes, pattern: bytes, tail: int) -> list[int]:
    """Positions of `pattern` in `window` that reach past the first `tail` bytes (seen with the previous block)."""
    positions, start = [], 0
    while (position := window.find(pattern, start)) >= 0:
        if position + len(pattern) > tail:
            positions.append(position)
        start = position + 1
    return positions


def _read_error(exc: duckdb.Error, file: str) -> InputError | None:
    """A DuckDB CSV error that the csv module's reading would also give, in its words (file, row, reason); None for
    any other (the csv module then reads the file and says what is wrong). DuckDB's message quotes the line at
    fault, so nothing of it but the row number is shown."""
    text = str(exc)
    if "unicode" in text.lower():
        return not_utf8(file)
    line = LINE.search(text)
    if "maximum line size" in text.lower() and line:
        return field_too_large(file, int(line.group(1)), csv.field_size_limit())
    return None


def _read_sql(path: Path, delimiter: str, skip: int, width: int, spare: int = SPARE_CELLS,
              line_limit: int | None = None) -> str:
    """DuckDB's reading of the rows after the first `skip` lines as text cells c0… (`width` and `spare` more); a line
    longer than `line_limit` bytes (if given) is a DuckDB error."""
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width + spare)) + "}"
    limit = f", max_line_size = {line_limit}" if line_limit else ""
    return f"""read_csv({literal(str(path))}, header = false, auto_detect = false, columns = {columns},
        delim = {literal(delimiter)}, quote = '"', escape = '"', nullstr = {literal(chr(0))}, null_padding = true,
        strict_mode = false, skip = {skip}, parallel = true{limit})"""


def _extra(width: int) -> str:
    """SQL for the non-empty cells beyond the header's `width`, stripped and joined with ' | ' ('' for none)."""
    spare = ", ".join(f"CASE WHEN c{i} <> '' THEN {stripped(f'c{i}')} END" for i in range(width, width + SPARE_CELLS))
    return f"CASE WHEN c{width} IS NULL THEN '' ELSE concat_ws(' | ', {spare}) END"


def scan_once(scratch: Scratch, path: Path, file: str, delimiter: str, skip: int, header: int, width: int,
              rows: str | LineRows) -> bool:
    """Create the scratch view RAW_VIEW of `rows` (SQL over the view `cells`: row, c0…, extra; or LineRows), reading
    the file once; False (nothing kept) for a file whose rows need `scan`: blank lines, a header over several lines,
    a row with a cell beyond the header's width (even an empty one), a line longer than the csv module's field limit
    (so no cell can pass it), or fewer rows than lines. The file's lines are counted while DuckDB reads it."""
    if skip != header or has_glob_characters(path):
        return False
    with ThreadPoolExecutor(max_workers=1) as pool:
        counted = pool.submit(_lines, path, False)  # file reads and DuckDB's work leave the GIL to each other
        read = _read_once(scratch, path, file, delimiter, skip, header, width, rows)
        lines = counted.result()
    # DuckDB's rows end at lone carriage returns; a blank line (which DuckDB skips) or a quoted line break (which
    # joins two lines) leaves fewer rows than lines
    if read is not None and (lines.lone_cr or read != lines.count):
        scratch.con.execute(f"DROP VIEW {RAW_VIEW}")
        scratch.con.execute(f"DROP TABLE {RAW_TABLE}")
        return False
    return read is not None


def _read_once(scratch: Scratch, path: Path, file: str, delimiter: str, skip: int, header: int, width: int,
               rows: str | LineRows) -> int | None:
    """The view RAW_VIEW of `rows` over the file's rows numbered in DuckDB's order, and the line number of the last
    row read; None (no view) when a row has a cell beyond the header's width or a line is longer than the field
    limit; InputError for a CSV error the csv module would also give."""
    cells = ", ".join(f"c{i}" for i in range(width))
    read = (f"SELECT {cells}, '' AS extra FROM "
            f"{_read_sql(path, delimiter, skip, width, spare=1, line_limit=csv.field_size_limit())} "
            f"WHERE CASE WHEN c{width} IS NOT NULL THEN error({literal(ODD_ROW)}) ELSE true END")
    if isinstance(rows, LineRows):  # read in parallel, in order: row ids count the lines
        create = f"SELECT {rows.columns}, {rows.kept} AS kept FROM ({read})"
    else:
        scratch.con.execute(f"CREATE OR REPLACE VIEW cells AS SELECT row_number() OVER () + {header} AS row, * "
                            f"FROM ({read})")
        create = rows
    try:
        scratch.con.execute(f"CREATE OR REPLACE TABLE {RAW_TABLE} AS {create}")
    except duckdb.Error as exc:
        text = str(exc)
        known = None if any(s in text for s in (ODD_ROW, "quoted new lines", "aximum line size")) else \
            _read_error(exc, file)
        if known is None:
            return None
        raise known from None
    finally:
        scratch.con.execute("DROP VIEW IF EXISTS cells")
    if not isinstance(rows, LineRows):
        scratch.con.execute(f"CREATE OR REPLACE VIEW {RAW_VIEW} AS SELECT * FROM {RAW_TABLE}")
        return scratch.value(f"SELECT coalesce(max(row), {header}) FROM {RAW_VIEW}")
    lines, kept = scratch.con.execute(f"SELECT count(*), coalesce(bool_and(kept), true) FROM {RAW_TABLE}").fetchall()[0]
    number = f"rowid + {header + 1}"
    scratch.con.execute(f"""CREATE OR REPLACE VIEW {RAW_VIEW} AS
        SELECT {number} AS id, {number} AS row, * EXCLUDE (kept) FROM {RAW_TABLE} {'' if kept else 'WHERE kept'}""")
    return header + lines


def scan(scratch: Scratch, path: Path, file: str, delimiter: str, skip: int, header: int, width: int) -> bool:
    """Read the rows after the first `skip` lines (header row number `header`, `width` cells) into the scratch view
    `cells` (row, c0…, extra); False when DuckDB's rows do not match the file's lines (nothing is then kept)."""
    lines = _lines(path)
    if lines.lone_cr or has_glob_characters(path):  # DuckDB would read a path holding * ? [ as a pattern
        return False
    try:
        scratch.con.execute(f"CREATE OR REPLACE TABLE csv_cells AS SELECT * FROM "
                            f"{_read_sql(path, delimiter, skip, width)}")
    except duckdb.Error as exc:
        known = None if "quoted new lines" in str(exc) else _read_error(exc, file)
        if known is None:
            return False
        raise known from None
    blank = [b for b in lines.blank if b > skip]
    read = scratch.value("SELECT count(*) FROM csv_cells")
    full = scratch.value(f"SELECT count(*) FROM csv_cells WHERE c{width + SPARE_CELLS - 1} IS NOT NULL")
    if read != lines.count - skip - len(blank) or full:
        scratch.con.execute("DROP TABLE csv_cells")
        return False
    # blank line j (0-based) follows this many data rows; every row after it is one further down the file
    shifts = pd.DataFrame({"before": [b - skip - 1 - j for j, b in enumerate(blank)],
                           "shift": range(1, len(blank) + 1)}, dtype="int64")
    scratch.table("blank_lines", shifts.drop_duplicates("before", keep="last"))
    shifted = ("SELECT c.*, c.rowid AS number, b.shift FROM csv_cells c ASOF LEFT JOIN blank_lines b "
               "ON c.rowid >= b.before" if blank else "SELECT *, rowid AS number, 0 AS shift FROM csv_cells")
    scratch.con.execute(f"""CREATE OR REPLACE VIEW cells AS
        SELECT number + {header + 1} + coalesce(shift, 0) AS row, {", ".join(f"c{i}" for i in range(width))},
               {_extra(width)} AS extra
        FROM ({shifted})""")
    _check_field_sizes(scratch, file, width)
    return True


def _check_field_sizes(scratch: Scratch, file: str, width: int) -> None:
    """InputError naming the first row with a cell longer than the csv module's field limit (as it would fail)."""
    limit = csv.field_size_limit()
    longest = " OR ".join(f"length(c{i}) > {limit}" for i in range(width + SPARE_CELLS))
    if not scratch.value(f"SELECT count(*) FROM csv_cells WHERE {longest}"):
        return
    spare = " OR ".join(f"length(c{i}) > {limit}" for i in range(width)) + f" OR length(extra) > {limit}"
    row = scratch.value(f"SELECT min(row) FROM cells WHERE {spare}")
    if row is not None:
        raise field_too_large(file, row, limit)
