"""Sources of KPI measures: `sources.yaml` in a workspace, and strict readers of the records each source names.

A source is a file (CSV, Excel sheet, Parquet; its path relative to the workspace) or a table (``table:``, in
``schema:``) or ``query:`` of a database given by an ibis URL (``postgres://user@host/db`` in any spelling,
``duckdb:///file.duckdb``, ...; see database_urls and database_tables)::

    sources:
    - name: crm_opportunities
      file: exports/crm_opportunities.csv
      when: closed_on                 # the date column that places a row in a period (or `period: 2025Q4`)
      date_formats: ['%Y-%m-%d', '%m/%d/%Y']   # each date must match one; never guessed
      employee: owner_id              # who: an employee id column ...
      team: region                    # ... and/or a team column
      team_match: name                # id (default), name (case- and accent-insensitive) or map
      team_map: {EMEA West: sales}    # explicit values, used with any team_match
      columns: {amount: number, stage: text, created_on: date}
      where: 'stage != "Test"'         # rows every measure of the source leaves out first
    - name: roster                    # an HRIS roster: one row per person and employment spell
      file: exports/roster.csv
      start: hire_date                # each row is valid from `start` to `end` (an empty end: still employed)
      end: termination_date
      as_of: 2025-06-30               # the day of the export (default: the latest date in it)
      covers_from: 2024-01-01         # the first day it is complete for (default: the earliest date in it)
      team: department
      team_match: name

A `file` must resolve (symlinks followed) inside the workspace, or inside a folder listed under a top-level
``allowed_folders:`` (absolute or relative to the workspace), and be a regular file; see source_paths. The workspace's
own employees.csv and actuals.csv follow the same rule (see workspace_file). A DuckDB database (a file or in memory)
is read with DuckDB's file access turned off, so its `query:` or a view of it reads only the database's own tables
(see database_tables).

Reading is strict: a missing column, a column name used twice in the header, an unparseable or ambiguous date,
text in a number column, an unknown team or employee, or an empty source is an error naming the file, row, column
and value. A read source is an ibis table
with the standard columns ``__when`` (date), ``__team`` (team id), ``__employee`` (employee id, when given) and
``__span_start``/``__span_end`` (the validity span, when given), plus its typed value columns.
"""

from __future__ import annotations

__all__ = [
    "ColumnType", "DATE_TYPES", "NUMBER_TYPES", "ReadSource", "SHOWN_PER_COLUMN", "SOURCES_FILE", "Source", "TeamMatch",
    "TextToNumber", "UNDECLARED_COLUMN_FIX", "closest_teams", "database_source_problems", "definition_hash", "fold",
    "load_sources", "parse_dates", "read_engine_source", "read_source", "read_text_source", "source_path",
    "team_lookup", "workspace_file",
]

import contextlib
import dataclasses
import datetime as dt
import difflib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.measures import SourceName
from kpi_workbook.core.model import Framework, KpiDefinition
from kpi_workbook.core.periods import Period, PeriodError, parse_period
from kpi_workbook.workspace.database_tables import (
    UnreadableTable,
    backend_of,
    database_table,
    first_line,
    reason,
)
from kpi_workbook.workspace.database_urls import redact, scrub
from kpi_workbook.workspace.files import validation_problems
from kpi_workbook.workspace.source_paths import (
    ALLOWED_FOLDERS,
    ReadableFolders,
    SourcePathError,
    confined,
    has_glob_characters,
    readable_folders,
    regular_file,
)
from kpi_workbook.workspace.tabular import cell_text, first_row, named_twice, read_table
from kpi_workbook.workspace.yaml_io import read_yaml

if TYPE_CHECKING:
    import ibis.expr.types as ir

SOURCES_FILE = "sources.yaml"
#: What to do about a column a measure names that a source does not declare (its file may well have it).
UNDECLARED_COLUMN_FIX = f"declare the column under `columns` in {SOURCES_FILE} or fix the name"
WHEN, TEAM, EMPLOYEE = "__when", "__team", "__employee"
SPAN_START, SPAN_END = "__span_start", "__span_end"
SHOWN_PER_COLUMN = 5


class ColumnType(StrEnum):
    """The type of a source's value column."""

    NUMBER = "number"
    INTEGER = "integer"
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"


DATE_TYPES = frozenset({ColumnType.DATE, ColumnType.DATETIME})
NUMBER_TYPES = frozenset({ColumnType.NUMBER, ColumnType.INTEGER})


class TeamMatch(StrEnum):
    """How a source's team values become team ids."""

    ID = "id"
    NAME = "name"
    MAP = "map"


class TextToNumber(BaseModel):
    """A number column made from a text column by a declared table, e.g. ratings: {Exceeds: 4, Fully Meets: 3}.
    Texts match with case and extra spaces ignored; an empty cell is no value; any other text is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(min_length=1)
    """The text column read, e.g. `rating`."""
    values: dict[str, float] = Field(min_length=1)
    """Each text and its number, e.g. `{Exceeds: 4, Fully Meets: 3}`; case and extra spaces are ignored."""

    @field_validator("values")
    @classmethod
    def _distinct_texts(cls, values: dict[str, float]) -> dict[str, float]:
        folded: dict[str, str] = {}
        for text in values:
            if not _fold_case(text):
                raise ValueError("an empty text cannot be mapped (an empty cell is no value)")
            if _fold_case(text) in folded:
                raise ValueError(f"'{folded[_fold_case(text)]}' and '{text}' are the same text (case and extra "
                                 "spaces are ignored)")
            folded[_fold_case(text)] = text
        return values

    def lookup(self) -> dict[str, float]:
        """Text in lower case with single spaces → number."""
        return {_fold_case(text): number for text, number in self.values.items()}


def _fold_case(text: str) -> str:
    return " ".join(text.lower().split())


class Source(BaseModel):
    """One entry of sources.yaml: where the records are, and which columns say when, who and what."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: SourceName
    """The source's name, used by measures (letters, digits and `_`)."""
    file: str | None = None
    """A CSV, Excel (.xlsx) or Parquet file, relative to the workspace; or give `url`."""
    sheet: str | None = None
    """The sheet of an Excel file (default: the first)."""
    url: str | None = None
    """A database URL instead of a file: `postgres://reader@host/db`, `duckdb:///file.duckdb`, any ibis URL."""
    table: str | None = None
    """The table a database source reads."""
    db_schema: str | None = Field(default=None, alias="schema", min_length=1)  # `schema:` of the table
    """`schema:` the schema of `table` (default: the connection's)."""
    query: str | None = None
    """A SELECT a database source reads instead of a table."""
    when: str | None = None
    """The date column that places each row in a period."""
    period: str | None = None
    """A fixed period for every row (a snapshot), instead of `when`."""
    start: str | None = None
    """The date column where each row's validity span starts (an HRIS roster's hire date)."""
    end: str | None = None
    """The date column where the span ends (its last day); an empty cell: still valid."""
    as_of: dt.date | None = None
    """The day of the export (default: the latest date in it)."""
    covers_from: dt.date | None = None  # the first day the records are complete for
    """The first day the records are complete for (default: the earliest date in them)."""
    where: str | None = None
    """A filter every measure of this source applies first, e.g. `status != "Contractor"`."""
    skip_undated: bool = False
    """Leave out rows whose `when` cell is empty instead of refusing them."""
    date_formats: list[Annotated[str, Field(min_length=2)]] = Field(default_factory=lambda: ["%Y-%m-%d"])
    """The formats dates are read with (default `%Y-%m-%d`); each date must match one."""
    employee: str | None = None
    """The column holding employee ids."""
    team: str | None = None
    """The column holding teams."""
    team_match: TeamMatch = TeamMatch.ID
    """How team values become team ids: `id` (default), `name` (case- and accent-insensitive) or `map`."""
    team_map: dict[str, str] = Field(default_factory=dict)
    """Explicit team values and their team ids, e.g. `{EMEA West: sales}`."""
    columns: dict[str, ColumnType] = Field(default_factory=dict)
    """Types of the other columns measures use: number, integer, text, date or datetime."""
    text_to_number: dict[str, TextToNumber] = Field(default_factory=dict)
    """Number columns made from text columns by a table of values, by new column name."""
    team_as_of: SourceName | None = None  # the source of team histories that places each row's team
    """A source of team histories (`start`/`end`): each row counts for its employee's team on its date."""

    @field_validator("period")
    @classmethod
    def _a_period(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_period(value)
            except PeriodError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Source:
        if (self.file is None) == (self.url is None):
            raise ValueError("give either a file or a database url")
        if self.url is not None and (self.table is None) == (self.query is None):
            raise ValueError("a database source needs either a table or a query")
        if self.file is not None and (self.table or self.query):
            raise ValueError("table and query are for database sources (url); a file source has neither")
        if self.db_schema is not None and self.table is None:
            raise ValueError("`schema` names the schema of a `table`; a query names its schemas itself")
        if self.when is not None and self.period is not None:
            raise ValueError("give either `when` (a date column) or `period` (a fixed period for a snapshot)")
        if self.when is None and self.period is None and self.start is None:
            raise ValueError("give `when` (a date column), `period` (a fixed period for a snapshot) or `start` and "
                             "`end` (the columns of each row's validity span)")
        if self.end is not None and self.start is None:
            raise ValueError("`end` goes with `start`: the first day of each row's validity span")
        if self.start is not None and self.period is not None:
            raise ValueError("a source with validity spans (`start`/`end`) is not a snapshot of one `period`")
        if self.skip_undated and self.when is None:
            raise ValueError("skip_undated is about empty cells of the `when` column; give `when`")
        for role in ("start", "end"):
            column = getattr(self, role)
            if column is not None and self.columns.get(column, ColumnType.DATE) not in DATE_TYPES:
                raise ValueError(f"`{role}` column '{column}' must be a date or datetime column")
        if self.employee is None and self.team is None:
            raise ValueError("give an employee column, a team column or both (who each row is about)")
        if self.team_match is TeamMatch.MAP and not self.team_map:
            raise ValueError("team_match: map needs a team_map")
        if self.when is not None and self.columns.get(self.when, ColumnType.DATE) not in DATE_TYPES:
            raise ValueError(f"`when` column '{self.when}' must be a date or datetime column")
        if self.team_as_of is not None and (self.employee is None or self.when is None or self.team is not None):
            raise ValueError("team_as_of places each row under the team its employee was in on the row's date: it "
                             "needs an employee column and `when`, and no team column")
        if self.covers_from is not None and self.as_of is not None and self.covers_from > self.as_of:
            raise ValueError(f"covers_from ({self.covers_from}) is after as_of ({self.as_of})")
        if self.covers_from is not None and self.fixed_period is not None:
            raise ValueError("a snapshot covers its `period`; covers_from is for dated records")
        for name, mapping in self.text_to_number.items():
            if name in self.value_types or name in (self.employee, self.team):
                raise ValueError(f"text_to_number: '{name}' is already a column; name the number column anew")
            if self.columns.get(mapping.column, ColumnType.TEXT) is not ColumnType.TEXT:
                raise ValueError(f"text_to_number '{name}': '{mapping.column}' must be a text column")
        return self

    @property
    def location(self) -> str:
        """The file or the database table/query, for messages (the URL without its password)."""
        if self.file is not None:
            return self.file
        table = f"{self.db_schema}.{self.table}" if self.db_schema and self.table else self.table
        return f"{table or 'query'} at {redact(self.url or '')}"

    @property
    def value_types(self) -> dict[str, ColumnType]:
        """Every typed column of the records a measure may use, including the `when` column (a date unless declared)
        and the text columns that text_to_number maps."""
        types = dict(self.columns)
        for column in (self.when, self.start, self.end):
            if column is not None:
                types.setdefault(column, ColumnType.DATE)
        for mapping in self.text_to_number.values():
            types.setdefault(mapping.column, ColumnType.TEXT)
        return types

    @property
    def measure_types(self) -> dict[str, ColumnType]:
        """The columns a measure may name: the typed ones, the employee and team columns as text, and the numbers
        text_to_number makes."""
        extra = {c: ColumnType.TEXT for c in (self.employee, self.team) if c and c not in self.value_types}
        return {**self.value_types, **extra, **{name: ColumnType.NUMBER for name in self.text_to_number}}

    @property
    def has_spans(self) -> bool:
        """Whether each row is valid over a span of days (an HRIS roster), so that headcounts can be taken."""
        return self.start is not None

    @property
    def fixed_period(self) -> Period | None:
        """The snapshot's period, if the source has one."""
        return parse_period(self.period) if self.period else None


def load_sources(root: str | Path) -> dict[str, Source]:
    """The sources of a workspace by name (empty without sources.yaml); InputError naming entry and field, also for a
    `file` outside the folders the workspace may read (see source_paths)."""
    data = _sources_yaml(Path(root))
    if data is None:
        return {}
    try:
        sources = TypeAdapter(list[Source]).validate_python(data["sources"])
    except ValidationError as exc:
        named = [{"id": e.get("name"), **e} if isinstance(e, dict) else e for e in data["sources"]]
        problems = validation_problems(exc, SOURCES_FILE, named, "source", list_key="sources")
        raise InputError(problems) from None
    folders = readable_folders(Path(root), data.get(ALLOWED_FOLDERS), SOURCES_FILE)
    problems = []
    for source in sources:
        if source.file is not None:
            try:
                confined(folders, source.file, _file_field(source))
            except SourcePathError as exc:
                problems += exc.problems
    if problems:
        raise SourcePathError(problems)
    seen: dict[str, Source] = {}
    for source in sources:
        if source.name in seen:
            raise InputError(Problem(file=SOURCES_FILE, entry=f"source '{source.name}'", field="name",
                                     message="the name is used twice", code=Code.INPUT_FIELD))
        seen[source.name] = source
    history_problems = [_history_problem(source, source.team_as_of, seen) for source in sources
                        if source.team_as_of is not None]
    if any(history_problems):
        raise InputError([p for p in history_problems if p is not None])
    return seen


def _sources_yaml(root: Path) -> dict[str, Any] | None:
    """sources.yaml as read (None when there is none); InputError unless it holds `sources` (and `allowed_folders`)."""
    path = root / SOURCES_FILE
    if not path.exists():
        return None
    data = read_yaml(path, SOURCES_FILE)
    if (not isinstance(data, dict) or "sources" not in data or not set(data) <= {"sources", ALLOWED_FOLDERS}
            or not isinstance(data["sources"], list)):
        raise InputError(Problem(file=SOURCES_FILE, code=Code.INPUT_SHAPE, message=(
            f"expected a mapping with the key 'sources' holding a list of sources (and, if the workspace reads files "
            f"outside its folder, '{ALLOWED_FOLDERS}' listing the folders it may read)")))
    return data


def _file_field(source: Source) -> Problem:
    """Where a problem with the source's `file` is: its entry of sources.yaml (the message is filled in)."""
    return Problem(file=SOURCES_FILE, entry=f"source '{source.name}'", field="file", message="")


def _readable_folders(root: Path) -> ReadableFolders:
    """The folders the workspace `root` may read files in: its own and those of `allowed_folders`."""
    data = _sources_yaml(root)
    return readable_folders(root, data.get(ALLOWED_FOLDERS) if data else None, SOURCES_FILE)


def source_path(source: Source, root: str | Path) -> Path:
    """The regular file a file source reads, resolved; InputError naming the source's `file` in sources.yaml when
    it is outside the folders the workspace may read (its own and `allowed_folders`), missing or not a regular
    file (a folder, a FIFO, a device: never opened)."""
    where = _file_field(source)
    return regular_file(confined(_readable_folders(Path(root)), source.file or "", where), source.file or "", where)


def workspace_file(root: str | Path, name: str) -> Path:
    """The path of the workspace's own file `name` (actuals.csv, employees.csv), by the rule of a source's `file`:
    SourcePathError naming the file when its symlinks lead outside the workspace and the folders `allowed_folders`
    lists, or when it is there but is not a regular file (a FIFO is never opened). A missing file passes.
    sources.yaml is read only for a file that leads outside the workspace."""
    root = Path(root)
    folders = ReadableFolders(root.resolve())
    with contextlib.suppress(OSError, RuntimeError):  # a symlink loop: confined names it
        if not folders.holds((root / name).resolve()):
            folders = _readable_folders(root)
    return confined(folders, name, Problem(file=name, message=""), config=SOURCES_FILE)


def _history_problem(source: Source, team_as_of: str, sources: dict[str, Source]) -> Problem | None:
    """Why the source `team_as_of` (the source's) names cannot give each employee's team on a day (None: it can)."""
    history = sources.get(team_as_of)
    problem = partial(Problem, file=SOURCES_FILE, entry=f"source '{source.name}'", field="team_as_of",
                      code=Code.INPUT_FIELD)
    if history is None:
        return problem(message=f"unknown source '{team_as_of}' (sources.yaml has: {', '.join(sources)})")
    if not (history.has_spans and history.employee and history.team) or history.team_as_of is not None:
        return problem(message=f"source '{history.name}' is not a team history: it needs `start` (and `end`), an "
                               "employee column and a team column")
    return None


def definition_hash(kpi: KpiDefinition, framework: Framework, sources: dict[str, Source]) -> str:
    """The hash a computed value's lineage keeps: the KPI's measure, its frequency and the settings of its sources
    (a stored value whose hash differs from today's was computed by a definition that has changed since)."""
    measure = kpi.measure
    if measure is None:
        raise ValueError(f"KPI '{kpi.id}' has no measure to hash")
    extra = {"frequency": framework.frequency_of(kpi).value,  # settings left at their defaults are not hashed, so a
             "sources": [sources[s].model_dump(mode="json", exclude_defaults=True)  # new setting changes no hash
                         for s in measure.sources if s in sources]}
    return measure.digest(extra)


# --- team and employee mapping ---------------------------------------------------------------------------------

def fold(text: object) -> str:
    """Text compared case- and accent-insensitively, spaces collapsed: 'Recherche & Développement' → 'recherche &
    developpement'."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def team_lookup(source: Source, framework: Framework) -> dict[str, str]:
    """Folded team value → team id, by the source's team_match and team_map."""
    ids = {t.id for t in framework.teams}
    lookup: dict[str, str] = {}
    if source.team_match is TeamMatch.ID:
        lookup = {t.id: t.id for t in framework.teams}
    elif source.team_match is TeamMatch.NAME:
        lookup = {fold(t.name): t.id for t in framework.teams}
    for value, team in source.team_map.items():
        if team not in ids:
            raise InputError(Problem(file=SOURCES_FILE, entry=f"source '{source.name}'", field=f"team_map.{value}",
                                     code=Code.INPUT_UNKNOWN_TEAM,
                                     message=f"'{team}' is not a team id of teams.yaml ({', '.join(sorted(ids))})"))
        lookup[value if source.team_match is TeamMatch.ID else fold(value)] = team
    return lookup


def _team_key(source: Source, value: object) -> str:
    return str(value).strip() if source.team_match is TeamMatch.ID else fold(value)


def closest_teams(value: object, framework: Framework) -> str:
    """The closest team ids (by id and name) to an unknown team value, for error messages."""
    by_text = {fold(t.id): t.id for t in framework.teams} | {fold(t.name): t.id for t in framework.teams}
    close = difflib.get_close_matches(fold(value), list(by_text), n=3, cutoff=0.4)
    ids = list(dict.fromkeys(by_text[c] for c in close))
    return f"closest team ids: {', '.join(ids)}" if ids else f"team ids: {', '.join(sorted(set(by_text.values())))}"


def _unknown_team(source: Source, framework: Framework, value: object, row: int | None = None,
                  rows: int | None = None) -> Problem:
    how = {"id": "a team id", "name": "a team name (case and accents ignored)", "map": "a value of team_map"}
    count = f" in {_rows(rows)}" if rows is not None else ""
    return Problem(file=source.location, row=row, field=source.team or "",
                   message=f"unknown team {value!r}{count}: not {how[source.team_match.value]}; "
                           f"{closest_teams(value, framework)} (or map it in team_map)")


# --- reading files ---------------------------------------------------------------------------------------------

#: What an empty cell of a source's when, employee or team column leaves out (files and engine sources alike).
_EMPTY_CELL_MESSAGES = {"when": "no date in the `when` column (give skip_undated: true to leave such rows out)",
                        "start": "no date in the `start` column", "employee": "no employee id", "team": "no team"}

@dataclass(frozen=True)
class ReadSource:
    """A source ready for measures: its definition and its records as an ibis table (standard columns added)."""

    source: Source
    table: ir.Table
    rows: int


def _missing_columns(source: Source, present: list[str]) -> list[Problem]:
    wanted = [c for c in (source.when, source.start, source.end, source.employee, source.team, *source.value_types)
              if c]
    problems = []
    for column in dict.fromkeys(wanted):
        if column not in present:
            close = difflib.get_close_matches(column, present, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; the columns are: {', '.join(present)}"
            problems.append(Problem(file=source.location, field=column, message=f"missing column{hint}",
                                    code=Code.INPUT_HEADER))
    return problems


def _text_table(source: Source, root: Path) -> pd.DataFrame:
    """A CSV or Excel source's cells below its header (CSV cells as text, Excel cells as values), indexed by their
    row number in the file; rows whose cells are all empty are left out."""
    file = source.location
    empty = Problem(file=file, message="empty source: no header row", code=Code.INPUT_EMPTY)
    table = read_table(source_path(source, root), file, first_row(empty), source.sheet)
    twice = named_twice(file, table.header, table.names)
    if twice:
        raise twice
    filled = table.frame.apply(_filled).any(axis=1) | table.extra.ne("")
    return table.frame[filled]


def _as_text(values: pd.Series) -> pd.Series:
    return values.map(cell_text)


def _filled(values: pd.Series) -> pd.Series:
    """Which cells are not empty as text (`cell_text`): a column of text (as every CSV column is) by pandas' string
    methods, any other cell by cell."""
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return _as_text(values).ne("")
    missing = values.isna()
    filled = values.where(~missing, "").str.strip().ne("")
    if missing.any():  # None is empty; another missing marker (NaN) reads as text
        filled[missing] = [cell_text(value) != "" for value in values[missing]]
    return filled


def _bad(source: Source, column: str, values: pd.Series, message: str) -> list[Problem]:
    """One problem per bad row (the first few), then one saying how many more."""
    problems = [Problem(file=source.location, row=int(row), field=column, message=f"{message} (got {v!r})")
                for row, v in values.head(SHOWN_PER_COLUMN).items()]
    if len(values) > SHOWN_PER_COLUMN:
        problems.append(Problem(file=source.location, field=column,
                                message=f"... and {len(values) - SHOWN_PER_COLUMN} more rows like these"))
    return problems


def parse_dates(values: pd.Series, formats: list[str], with_time: bool) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Dates (or date-times) of text cells by the formats: (parsed, cells matching none, cells two formats read
    differently). Empty cells stay empty; Excel date cells are taken as they are."""
    native = values.map(lambda v: isinstance(v, dt.date))
    text = _as_text(values.where(~native, None))
    results = [pd.to_datetime(text.where(~native & (text != "")), format=f, errors="coerce") for f in formats]
    stacked = pd.concat(results, axis=1) if results else pd.DataFrame(index=values.index)
    parsed = stacked.bfill(axis=1).iloc[:, 0] if len(formats) else pd.Series(pd.NaT, index=values.index)
    # Two formats read a cell differently where some format's date differs from the first one found.
    ambiguous = (stacked.notna() & stacked.ne(parsed, axis=0)).any(axis=1)
    parsed = parsed.where(~native, pd.to_datetime(values.where(native), errors="coerce"))
    unmatched = (text != "") & ~native & parsed.isna()
    if not with_time:
        parsed = parsed.dt.normalize()
    return parsed, values[unmatched], values[ambiguous]


_NUMBER_HELP = "write a plain number with a decimal point and no thousands separator or % sign (1234.5)"


def _parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = _as_text(values)
    numbers = pd.to_numeric(text.where(~text.str.contains(r"[,%\s]|^[+-]?(?:nan|inf)", case=False, regex=True)),
                            errors="coerce")
    return numbers.astype("float64"), values[(text != "") & numbers.isna()]


def _typed_columns(source: Source, frame: pd.DataFrame) -> tuple[dict[str, pd.Series], list[Problem]]:
    problems: list[Problem] = []
    typed: dict[str, pd.Series] = {}
    for column, kind in source.value_types.items():
        values = frame[column]
        if kind in DATE_TYPES:
            parsed, unmatched, ambiguous = parse_dates(values, source.date_formats, kind is ColumnType.DATETIME)
            formats = " or ".join(source.date_formats)
            problems += _bad(source, column, unmatched, f"not a date in the format {formats}")
            problems += _bad(source, column, ambiguous, f"ambiguous date: the formats {formats} read it differently")
            typed[column] = parsed
        elif kind in NUMBER_TYPES:
            numbers, bad = _parse_numbers(values)
            problems += _bad(source, column, bad, f"not a number: {_NUMBER_HELP}")
            if kind is ColumnType.INTEGER:
                fraction = numbers.notna() & (numbers % 1 != 0)
                problems += _bad(source, column, values[fraction], "not a whole number")
            typed[column] = numbers
        else:
            typed[column] = _as_text(values).replace("", None)
    return typed, problems


def _who(source: Source, frame: pd.DataFrame, framework: Framework, employees: pd.DataFrame,
         problems: list[Problem]) -> dict[str, pd.Series]:
    who: dict[str, pd.Series] = {}
    people = employees.drop_duplicates("employee_id").set_index("employee_id")["team"]
    if source.employee is not None:
        ids = _as_text(frame[source.employee])
        problems += _bad(source, source.employee, ids[ids == ""], _EMPTY_CELL_MESSAGES["employee"])
        unknown = ids[(ids != "") & ~ids.isin(people.index)]
        problems += _bad(source, source.employee, unknown, "unknown employee (not in employees.csv)")
        who[EMPLOYEE] = ids
    if source.team is not None:
        lookup = team_lookup(source, framework)
        raw = _as_text(frame[source.team])
        teams = raw.map(lambda v: lookup.get(_team_key(source, v)))
        problems += _bad(source, source.team, raw[raw == ""], _EMPTY_CELL_MESSAGES["team"])
        missing = raw[teams.isna() & (raw != "")]
        for row, value in missing.head(SHOWN_PER_COLUMN).items():
            problems.append(_unknown_team(source, framework, value, row=int(row)))
        if len(missing) > SHOWN_PER_COLUMN:
            problems.append(Problem(file=source.location, field=source.team,
                                    message=f"... and {len(missing) - SHOWN_PER_COLUMN} more unknown team values"))
        who[TEAM] = teams
    elif EMPLOYEE in who:
        who[TEAM] = who[EMPLOYEE].map(people)
    return who


def read_text_source(source: Source, root: Path, framework: Framework, employees: pd.DataFrame) -> pd.DataFrame:
    """A CSV or Excel source as a typed table with the standard columns; InputError listing every problem."""
    frame = _text_table(source, root)
    problems = _missing_columns(source, list(frame.columns))
    if problems:
        raise InputError(problems)
    if frame.empty:
        raise InputError(Problem(file=source.location, message="empty source: no rows below the header",
                                 code=Code.INPUT_EMPTY))
    if source.skip_undated and source.when is not None:  # skip_undated comes with `when`
        frame = frame[_as_text(frame[source.when]) != ""]
        if frame.empty:
            raise InputError(Problem(file=source.location, field=source.when, code=Code.INPUT_EMPTY,
                                     message="no row has a date in the `when` column"))
    typed, problems = _typed_columns(source, frame)
    who = _who(source, frame, framework, employees, problems)
    for role in ("when", "start"):
        column = getattr(source, role)
        if column is not None:
            blank = typed[column].isna() & (_as_text(frame[column]) == "")
            problems += _bad(source, column, frame[column][blank], _EMPTY_CELL_MESSAGES[role])
    if problems:
        raise InputError(problems)
    table = pd.DataFrame(typed, index=frame.index)
    for column, values in who.items():
        table[column] = values
    for standard, column in ((WHEN, source.when), (SPAN_START, source.start), (SPAN_END, source.end)):
        if column is not None:
            table[standard] = typed[column].dt.normalize()
    return table.reset_index(drop=True)


# --- reading Parquet files and database tables with ibis ---------------------------------------------------------

_IBIS_KINDS = {
    ColumnType.NUMBER: ("is_numeric",), ColumnType.INTEGER: ("is_integer",), ColumnType.TEXT: ("is_string",),
    ColumnType.DATE: ("is_date", "is_timestamp"), ColumnType.DATETIME: ("is_timestamp", "is_date"),
}


def _engine_table(source: Source, root: Path, duckdb_con: Any) -> ir.Table:
    if source.file is not None:
        path = source_path(source, root)
        if has_glob_characters(path):
            raise InputError(dataclasses.replace(_file_field(source), message=(
                f"the path {path} holds one of the characters * ? [ that the Parquet reader takes as a pattern "
                "matching other files; rename the file or its folders")))
        try:
            return duckdb_con.read_parquet(str(path))
        except Exception as exc:  # noqa: BLE001 - any reader error becomes a message naming the file
            message = f"cannot be read as Parquet: {first_line(exc)}"
            raise InputError(Problem(file=source.file, message=message)) from None
    try:
        return database_table(source.url or "", table=source.table, schema=source.db_schema, query=source.query)
    except UnreadableTable as exc:
        raise InputError(Problem(file=source.location, entry=f"source '{source.name}'", field=exc.field,
                                 message=f"cannot read the source: {exc}")) from None


def database_source_problems(root: str | Path) -> list[Problem]:
    """Reach every database source (`url:`) of the workspace: its table or query opened where the records are and
    its declared columns and types checked; one problem per source that cannot be reached or does not fit."""
    problems: list[Problem] = []
    for source in load_sources(root).values():
        if source.url is None:
            continue
        entry = f"source '{source.name}'"
        try:
            table = _engine_table(source, Path(root), None)
            table.limit(0).to_pyarrow()  # the columns are described to anyone; reading them needs SELECT
        except InputError as exc:
            problems += exc.problems
            continue
        except Exception as exc:  # noqa: BLE001 - drivers raise their own types; the message names the source
            problems.append(Problem(file=source.location, entry=entry, field="query" if source.query else "table",
                                    message=f"cannot read the source: {scrub(reason(exc), source.url)}"))
            continue
        problems += [dataclasses.replace(p, entry=p.entry or entry) for p in _check_schema(source, table)]
    return problems


def _check_schema(source: Source, table: ir.Table) -> list[Problem]:
    problems = _missing_columns(source, list(table.columns))
    if problems:
        return problems
    for column, kind in source.value_types.items():
        dtype = table[column].type()
        if not any(getattr(dtype, test)() for test in _IBIS_KINDS[kind]):
            problems.append(Problem(file=source.location, field=column,
                                    message=f"declared {kind.value} but the column holds {dtype}"))
    return problems


def _distinct(table: ir.Table, column: str) -> list[str | None]:
    """The distinct values of a column as text (None for NULL), from one query where the records are."""
    return table.select(__value=table[column].cast("string")).distinct().to_pyarrow()["__value"].to_pylist()


def _rows_and_empty_dates(source: Source, table: ir.Table) -> tuple[int, list[str]]:
    """The number of rows, and which of the when and start columns have empty cells, from one query where the
    records are."""
    dated = {role: getattr(source, role) for role in ("when", "start") if getattr(source, role) is not None}
    counts = table.aggregate(__rows=table.count(), **{f"__{role}": table[column].isnull().sum()
                                                      for role, column in dated.items()}).to_pyarrow().to_pylist()[0]
    return int(counts["__rows"]), [role for role in dated if counts[f"__{role}"]]


def _empty_cells(source: Source, table: ir.Table, roles: list[str], rows: int) -> list[Problem]:
    """One problem per when, employee or team column (by role) known to have empty cells (NULL), with how many;
    a database table has no row numbers to name."""
    columns = {role: getattr(source, role) for role in roles}
    counts = table.aggregate(**{f"__{role}": table[column].isnull().sum() for role, column in columns.items()}
                             ).to_pyarrow().to_pylist()[0]
    return [Problem(file=source.location, field=column, message=(
        f"{_EMPTY_CELL_MESSAGES[role]} (got an empty cell in {counts[f'__{role}']:,} of {rows:,} rows)"))
        for role, column in columns.items()]


def _unknown_employees(source: Source, column: str, table: ir.Table, seen: list[str | None],
                       staff: set[str]) -> list[Problem]:
    """One problem per unknown employee id among the distinct ones `seen` in the source's employee `column` (the most
    rows first, the first few); only when some are unknown are the rows of each counted. Empty cells are told apart
    by _empty_cells."""
    if not set(seen).difference(staff, [None]):
        return []
    unknown = _most_rows(table, column, lambda value: value not in staff)
    return [Problem(file=source.location, field=column,
                    message=f"unknown employee (not in employees.csv) (got {value!r} in {_rows(count)})")
            for value, count in unknown[:SHOWN_PER_COLUMN]]


def _rows(count: int) -> str:
    return f"{count:,} row" if count == 1 else f"{count:,} rows"


def _most_rows(table: ir.Table, column: str, wanted: Callable[[str], bool]) -> list[tuple[str, int]]:
    """The column's values (as text, empty cells aside) that are `wanted`, with their numbers of rows, the most
    rows first (one grouped query where the records are)."""
    counts = table.group_by(__value=table[column].cast("string")).aggregate(__rows=table.count()).to_pyarrow()
    found = [(v, n) for v, n in zip(counts["__value"].to_pylist(), counts["__rows"].to_pylist(), strict=True)
             if v is not None and wanted(v)]
    return sorted(found, key=lambda item: (-item[1], item[0]))


def _unknown_teams(source: Source, column: str, framework: Framework, table: ir.Table,
                   unknown: set[str]) -> list[Problem]:
    """One problem per unknown team value of the source's team `column` with its number of rows (the most rows
    first, the first few)."""
    if not unknown:
        return []
    found = _most_rows(table, column, lambda value: value in unknown)
    problems = [_unknown_team(source, framework, value, rows=count) for value, count in found[:SHOWN_PER_COLUMN]]
    if len(found) > SHOWN_PER_COLUMN:
        problems.append(Problem(file=source.location, field=column,
                                message=f"... and {len(found) - SHOWN_PER_COLUMN} more unknown team values"))
    return problems


def read_engine_source(source: Source, root: Path, framework: Framework, employees: pd.DataFrame,
                       duckdb_con: Any) -> tuple[ir.Table, int]:
    """A Parquet or database source as an ibis table with the standard columns, and its number of rows; the checks
    run as queries there (row count, distinct teams, distinct employee ids)."""
    import ibis

    table = _engine_table(source, root, duckdb_con)
    problems = _check_schema(source, table)
    if problems:
        raise InputError(problems)
    if source.skip_undated:
        table = table.filter(table[source.when].notnull())
    rows, empty = _rows_and_empty_dates(source, table)
    if rows == 0:
        raise InputError(Problem(file=source.location, message="empty source: no rows", code=Code.INPUT_EMPTY))
    extra: dict[str, Any] = {}
    people = employees.drop_duplicates("employee_id").set_index("employee_id")["team"]
    if source.employee is not None:
        seen = _distinct(table, source.employee)
        empty += ["employee"] if None in seen else []
        problems += _unknown_employees(source, source.employee, table, seen, set(people.index.tolist()))
        extra[EMPLOYEE] = table[source.employee].cast("string")
    if source.team is not None:
        lookup = team_lookup(source, framework)
        seen = _distinct(table, source.team)
        empty += ["team"] if None in seen else []
        mapping = {v: lookup.get(_team_key(source, v)) for v in sorted(seen, key=str) if v is not None}
        unknown = {v for v, team in mapping.items() if team is None}
        problems += _unknown_teams(source, source.team, framework, table, unknown)
        renamed = {k: v for k, v in mapping.items() if v and k != v}  # team ids used as they are need no CASE
        extra[TEAM] = table[source.team].cast("string")
        extra[TEAM] = extra[TEAM].substitute(renamed) if renamed else extra[TEAM]
    if empty:
        problems = _empty_cells(source, table, empty, rows) + problems
    if problems:
        raise InputError(problems)
    for standard, column in ((WHEN, source.when), (SPAN_START, source.start), (SPAN_END, source.end)):
        if column is not None:
            extra[standard] = table[column].cast("date") if table[column].type().is_timestamp() else table[column]
    table = table.mutate(**extra)
    backend = backend_of(table)
    if source.team is None and (backend is None or backend.name == "duckdb"):
        staff = ibis.memtable(pd.DataFrame({"__staff": people.index.astype(str), TEAM: people.to_numpy()}))
        table = table.left_join(staff, table[EMPLOYEE] == staff["__staff"]).drop("__staff")
    elif source.team is None:  # the people's teams travel in the query, as a CASE expression the database runs
        table = table.mutate(**{TEAM: table[EMPLOYEE].substitute(people.astype(str).to_dict())})
    return table, rows


def read_source(source: Source, root: str | Path, framework: Framework, employees: pd.DataFrame,
                duckdb_con: Any) -> ReadSource:
    """Read one source strictly: CSV and Excel files in Python, Parquet files and database tables where they are.

    `duckdb_con` is the ibis DuckDB connection that CSV, Excel and Parquet sources are queried in.
    """
    import ibis

    root = Path(root)
    suffix = Path(source.file).suffix.lower() if source.file else ""
    if source.file is not None and suffix != ".parquet":
        frame = read_text_source(source, root, framework, employees)
        table = ibis.memtable(frame)
        dates = [c for c in (WHEN, SPAN_START, SPAN_END) if c in frame]
        if dates:
            table = table.mutate(**{c: table[c].cast("date") for c in dates})
        rows = len(frame)
    else:
        table, rows = read_engine_source(source, root, framework, employees, duckdb_con)
    return ReadSource(source, _numbers_from_text(source, table), rows)


def _folded(column: ir.StringValue) -> ir.StringValue:
    """Text in lower case with single spaces, where the records are (as TextToNumber's lookup)."""
    return column.strip().re_replace(r"\s+", " ").lower()


def _numbers_from_text(source: Source, table: ir.Table) -> ir.Table:
    """The table with each text_to_number column added; InputError naming every text the table does not map (one
    query where the records are)."""
    if not source.text_to_number:
        return table
    import ibis

    added, problems = {}, []
    for name, mapping in source.text_to_number.items():
        lookup = mapping.lookup()
        text = _folded(table[mapping.column].cast("string"))
        # ibis takes plain values for notin though its hints name only its own expressions
        unmapped = _most_rows(table.filter(text.notin(list(lookup)) & (text != "")),  # type: ignore[arg-type]
                              mapping.column, lambda _: True)
        problems += [Problem(file=source.location, field=mapping.column, message=(
            f"{value!r} in {_rows(count)} is not in text_to_number '{name}' (it maps: {', '.join(mapping.values)}); "
            f"add it to `values` in {SOURCES_FILE}, or leave the cell empty for no value"))
            for value, count in unmapped[:SHOWN_PER_COLUMN]]
        if len(unmapped) > SHOWN_PER_COLUMN:
            problems.append(Problem(file=source.location, field=mapping.column, message=(
                f"... and {len(unmapped) - SHOWN_PER_COLUMN} more texts text_to_number '{name}' does not map")))
        added[name] = text.substitute(lookup, else_=ibis.null("float64")).cast("float64")
    if problems:
        raise InputError(problems)
    return table.mutate(**added)
