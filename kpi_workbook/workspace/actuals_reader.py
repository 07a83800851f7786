"""Reading actuals files (CSV or Excel, long or wide layout) into one raw table that keeps the file's row numbers."""

from __future__ import annotations

__all__ = [
    "ALIASES", "ColumnMap", "EMPTY_TEXT", "HEADER_SCAN_ROWS", "LAYOUTS", "LONG_COLUMNS", "RAW_COLUMNS", "RAW_SELECT",
    "RawActuals", "WIDE_ID_COLUMNS", "WIDE_IGNORED", "WIDE_REQUIRED", "kpi_headers", "normalize_header",
    "read_actuals_file", "strip_text",
]

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.workspace.csv_scan import RAW_TABLE, RAW_VIEW, LineRows, rows_from_cells
from kpi_workbook.workspace.scratch import Scratch, literal
from kpi_workbook.workspace.sql_text import holds_text, stripped
from kpi_workbook.workspace.tabular import read_cells

LONG_COLUMNS = ["period", "team", "employee_id", "kpi_id", "value"]
WIDE_ID_COLUMNS = ["period", "team", "employee_id"]
WIDE_REQUIRED = ["period", "team"]  # without an employee_id column, every value of a wide file is a team's
RAW_COLUMNS = ["row", "column", *LONG_COLUMNS, "extra"]
RAW_SELECT = ", ".join(f'"{c}"' for c in RAW_COLUMNS)
EMPTY_TEXT = ", ".join(f"'' AS {c}" for c in ['"column"', *LONG_COLUMNS, "extra"])
LAYOUTS = ("long", "wide")
ALIASES = {"employee": "employee_id", "employeeid": "employee_id", "kpi": "kpi_id", "kpiid": "kpi_id"}
WIDE_IGNORED = {"name", "employee_name", "role", "row", "reason"}
HEADER_SCAN_ROWS = 20


@dataclass(frozen=True)
class RawActuals:
    """Actuals as read, in the scratch view `raw`: one row per value (RAW_COLUMNS and a unique `id`) with its
    row number and column in the file, all cells unchecked text without surrounding whitespace. Cells are changed
    with `recode` (the view reads the table csv_scan.RAW_TABLE)."""

    file: str
    scratch: Scratch
    header_row: int

    def __len__(self) -> int:
        return self.scratch.value("SELECT count(*) FROM raw")

    @property
    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame in file order (for small files and tests)."""
        return self.scratch.frame(f"SELECT {RAW_SELECT} FROM raw ORDER BY id")

    def recode(self, column: str, mapping: str, old: str, new: str) -> None:
        """Replace each cell of `column` that the scratch table `mapping` holds in its column `old` with that row's
        `new` (e.g. team names with team ids)."""
        self.scratch.con.execute(f"UPDATE {RAW_TABLE} SET {column} = m.{new} FROM {mapping} m "
                                 f"WHERE {RAW_TABLE}.{column} = m.{old} AND m.{new} <> m.{old}")


def normalize_header(name: Any) -> str:
    """A header cell as a column name: case, spaces, hyphens and a byte-order mark do not matter."""
    text = re.sub(r"[\s\-]+", "_", str(name or "").replace("\ufeff", "").strip().lower())
    return ALIASES.get(text, text)


@dataclass(frozen=True)
class ColumnMap:
    """How a file's columns map onto the import format.

    `rename` maps a file's header (any case or spacing) to a format column or, in the wide layout, to a KPI id,
    e.g. {"Quarter": "period", "Staff no": "employee_id", "Quota %": "quota_attainment"}. `fixed` gives a
    column one value for every row when the file has no such column, e.g. {"period": "2025Q3", "team": "sales"}.
    `ignore` lists headers of columns to leave out (e.g. a name column in the wide layout).
    """

    rename: dict[str, str] | None = None
    fixed: dict[str, str] | None = None
    ignore: tuple[str, ...] = ()

    def name(self, header: Any) -> str:
        """The column name a header cell stands for."""
        key = normalize_header(header)
        mapped = {normalize_header(k): v.strip() for k, v in (self.rename or {}).items()}
        return mapped.get(key, key)

    def required(self, layout: str) -> list[str]:
        """The columns the file itself must have in this layout."""
        if layout not in LAYOUTS:
            raise InputError(Problem(file="", field="layout", message=f"unknown layout '{layout}'; use long or wide"))
        unknown = sorted(set(self.fixed or {}) - set(WIDE_ID_COLUMNS))
        if unknown:
            raise InputError(Problem(file="", field="fixed column", message=f"cannot fix {', '.join(unknown)} for "
                                     f"every row; only {', '.join(WIDE_ID_COLUMNS)} can be fixed"))
        columns = LONG_COLUMNS if layout == "long" else WIDE_REQUIRED
        return [c for c in columns if c not in (self.fixed or {})]


def _find_header(rows: list[list[Any]], required: list[str], header_row: int | None, file: str,
                 columns: ColumnMap) -> int:
    """The 1-based number of the header row: the given one, or the first of the top rows naming every column."""
    wanted = ", ".join(required)
    if header_row is not None:
        if not 1 <= header_row <= len(rows):
            raise InputError(Problem(file=file, field="header row", code=Code.INPUT_HEADER,
                                     message=f"row {header_row} is not in the file"))
        names = {columns.name(c) for c in rows[header_row - 1]}
        missing = [c for c in required if c not in names]
        if missing:
            found = ", ".join(str(c) for c in rows[header_row - 1] if c not in (None, "")) or "nothing"
            raise InputError(Problem(file=file, row=header_row, field="header", code=Code.INPUT_HEADER,
                                     message=f"missing column(s) {', '.join(missing)}; the row holds: {found}"))
        return header_row
    for number, cells in enumerate(rows[:HEADER_SCAN_ROWS], start=1):
        if set(required) <= {columns.name(c) for c in cells}:
            return number
    first = next((r for r in rows if any(c not in (None, "") for c in r)), [])
    found = ", ".join(str(c) for c in first if c not in (None, "")) or "nothing"
    raise InputError(Problem(
        file=file, field="header", code=Code.INPUT_HEADER if first else Code.INPUT_EMPTY,  # empty: no cell at all
        message=f"no header row with the columns {wanted} in the first {HEADER_SCAN_ROWS} rows (the first row "
                f"holds: {found}); name the columns so or map them with --column 'HEADER=column', or give the "
                "header's row number with --header-row N"))


def kpi_headers(kpis: Collection[str] | Mapping[str, str]) -> dict[str, str]:
    """Header text (as normalize_header gives it) → KPI id, for the KPI columns of a wide file: each id, and each
    name when `kpis` maps ids to names (`Win rate`, `WIN-RATE` and `win_rate` all name win_rate); an id wins."""
    names = {normalize_header(name): kpi for kpi, name in kpis.items()} if isinstance(kpis, Mapping) else {}
    return names | {normalize_header(kpi): kpi for kpi in kpis}


def _kpi_of_columns(kpi_columns: list[str], kpis: Collection[str] | Mapping[str, str] | None, header: int,
                    file: str) -> dict[str, str]:
    """Each KPI column of a wide file → the KPI id it names (itself when `kpis` is None); InputError with one
    problem per column that names no KPI, or per KPI that two columns name."""
    if kpis is None:
        return {c: c for c in kpi_columns}
    by_header = kpi_headers(kpis)
    found = {c: c if c in kpis else by_header.get(normalize_header(c)) for c in kpi_columns}
    problems = _unknown_kpi_columns([c for c, kpi in found.items() if kpi is None], kpis, header, file)
    for kpi in dict.fromkeys(k for k in found.values() if k):
        named = [c for c, k in found.items() if k == kpi]
        if len(named) > 1:
            problems.append(Problem(file=file, row=header, field=named[1], code=Code.INPUT_HEADER, message=(
                f"columns {', '.join(repr(c) for c in named)} all name the KPI '{kpi}'; keep one (--ignore the rest)")))
    if problems:
        raise InputError(problems)
    return {c: kpi for c, kpi in found.items() if kpi}


def _unknown_kpi_columns(kpi_columns: list[str], kpis: Collection[str], header: int, file: str) -> list[Problem]:
    """One problem per column of a wide file that names no KPI id or name, with the closest ids."""
    problems = []
    for column in kpi_columns:
        close = difflib.get_close_matches(normalize_header(column), list(kpis), n=3, cutoff=0.5)
        hint = f"closest KPI ids: {', '.join(close)}; " if close else ""
        problems.append(Problem(file=file, row=header, field=column, code=Code.INPUT_HEADER, message=(
            f"column is not a KPI id or name of kpis.yaml ({hint}map it with --column '{column}=KPI_ID' or leave it "
            f"out with --ignore '{column}')")))
    return problems


def _long_sql(names: list[str], layout: str, header: int, file: str, columns: ColumnMap,
              kpis: Collection[str] | Mapping[str, str] | None) -> str | LineRows:
    """One row per value (RAW_COLUMNS and a unique `id`): in the long layout the file's lines (LineRows), in the wide
    one SQL over the scratch table `cells`.

    In the wide layout every column that is not an id column must be a KPI id of `kpis` (when given); an
    employee_id column may be left out for team-level values."""
    known = {*LONG_COLUMNS, *WIDE_IGNORED, "extra"}
    mapped = {normalize_header(k) for k in columns.rename or {}}
    ignored = {normalize_header(c) for c in columns.ignore}
    kept = [(f"c{i}", n) for i, n in enumerate(names) if normalize_header(n) not in ignored]
    if "extra" not in ignored:
        kept.append(("extra", "extra"))
    named = [(source, columns.name(n) if columns.name(n) in known or normalize_header(n) in mapped else str(n).strip())
             for source, n in kept]
    given = [n for _, n in named]
    duplicated = sorted({c for c in given if given.count(c) > 1 and c})
    if duplicated:
        raise InputError(Problem(file=file, row=header, field="header", code=Code.INPUT_HEADER,
                                 message=f"column(s) named twice: {', '.join(duplicated)}"))
    fixed = {c: v for c, v in (columns.fixed or {}).items() if c not in given}
    source = {n: s for s, n in reversed(named)}
    text = {c: stripped(source[c]) if c in source else literal(strip_text(fixed.get(c, "")))
            for c in [*LONG_COLUMNS, "extra"]}
    if layout == "long":
        own = [c for c in [*LONG_COLUMNS, "extra"] if c not in fixed]
        fields = ", ".join(f"{text[c]} AS {c}" for c in [*LONG_COLUMNS, "extra"])
        condition = holds_text([source[c] for c in own if c in source]) if own else "true"
        return LineRows(columns=f"'value' AS \"column\", {fields}", kept=condition)
    kpi_columns = [n for n in given if n not in {"extra", *WIDE_ID_COLUMNS, *WIDE_IGNORED}
                   and not n.startswith("unnamed_")]
    kpi_of = _kpi_of_columns(kpi_columns, kpis, header, file)
    if not kpi_columns:
        return f"SELECT 0::BIGINT AS id, 0::BIGINT AS row, {EMPTY_TEXT} WHERE false"
    ids = ", ".join(f"{text[c]} AS {c}" for c in [*WIDE_ID_COLUMNS, "extra"])
    melted = (f"SELECT row, {ids}, unnest([{', '.join(literal(kpi_of[k]) for k in kpi_columns)}]) AS kpi_id, "
              f"unnest([{', '.join(source[k] for k in kpi_columns)}]) AS cell, "
              f"unnest(range({len(kpi_columns)})) AS position FROM cells")
    filled = f"SELECT *, {stripped('cell')} AS value FROM ({melted}) WHERE cell <> ''"  # most cells are empty
    return (f"SELECT row * {len(kpi_columns)} + position AS id, row, kpi_id AS \"column\", "
            f"{', '.join(LONG_COLUMNS)}, extra FROM ({filled}) WHERE value <> ''")


def strip_text(value: Any) -> str:
    """A fixed value as the cells are read: text without surrounding whitespace."""
    return str(value).strip()


def read_actuals_file(path: str | Path, layout: str = "long", sheet: str | None = None,
                      header_row: int | None = None, columns: ColumnMap | None = None,
                      kpis: Collection[str] | Mapping[str, str] | None = None,
                      scratch: Scratch | None = None) -> RawActuals:
    """Read a CSV or Excel file of actuals into the scratch table `raw`; raise InputError (naming the file) when it
    cannot be read.

    `layout` is "long" (columns period, team, employee_id, kpi_id, value; other columns are ignored) or
    "wide" (period, team, optionally employee_id, then one column per KPI id; empty cells are no data, a file
    without employee_id holds team-level values; columns name, employee_name, role, row and reason are ignored;
    with `kpis` (ids, or ids → names), each other column names a KPI by id or name, case and spacing aside, or is
    one InputError problem). Header names ignore case,
    spaces and a byte-order mark; the header row is found among the first 20 rows (title rows above it are
    skipped) unless `header_row` (1-based) is given. `sheet` picks an Excel sheet (default: the first).
    `columns` maps other header names onto these and fixes a period, team or employee for files without that
    column (see ColumnMap). The file is read by workspace.tabular (CSV by DuckDB, Excel with openpyxl); the rows
    live in `scratch` (a new one unless given), never all at once as Python objects.
    """
    path = Path(path)
    file = path.name
    columns = columns or ColumnMap()
    required = columns.required(layout)
    scratch = scratch or Scratch()

    def table_sql(names: list[str], header: int) -> str | LineRows:
        return _long_sql(names, layout, header, file, columns, kpis)

    def find_header(rows: list[list[Any]]) -> int:
        return _find_header(rows, required, header_row, file, columns)

    cells = read_cells(path, file, scratch, find_header, max(HEADER_SCAN_ROWS, header_row or 0), sheet, table_sql)
    if not cells.done:
        rows_from_cells(scratch, table_sql(cells.names, cells.header))
    scratch.drop_tables(keep=(RAW_VIEW, RAW_TABLE))
    raw = RawActuals(file=file, scratch=scratch, header_row=cells.header)
    if not len(raw):
        raise InputError(Problem(file=file, message=f"no data rows below the header (row {cells.header})",
                                 code=Code.INPUT_EMPTY))
    return raw
