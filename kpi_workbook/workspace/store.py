"""The actuals store: a DuckDB file in the workspace (read and write), or any SQLAlchemy database (read only).

The DuckDB file is never written in place. A change is made on a copy under an exclusive lock file and
renamed over the old file, so readers (several notebook processes at once, each opening the file
read-only for each query) always see a whole database, and two writers never interleave.
"""

from __future__ import annotations

__all__ = [
    "ACTUALS_COLUMNS", "ActualsStore", "CREATE_LINEAGE", "CREATE_SCOPE_VALUES", "CREATE_TABLE", "DEFAULT_QUERY",
    "DuckDBStore", "FULL_DISK_BYTES", "LINEAGE_COLUMNS", "NUMBER_TYPES", "QUERY_ENV", "ReplaceResult",
    "SCOPE_VALUE_COLUMNS", "STAGED", "SqlStore", "URL_ENV", "WRITE_MEMORY_LIMIT", "build_from_csv", "build_missing",
    "built_message", "open_store", "workspace_store",
]

import contextlib
import errno
import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, overload

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from kpi_workbook.core.atomic_files import staged_path
from kpi_workbook.core.errors import InputError, KpiWorkbookError, Problem
from kpi_workbook.core.model import Framework
from kpi_workbook.core.periods import period_table, sort_periods
from kpi_workbook.workspace.arrow_results import arrow_table
from kpi_workbook.workspace.database_urls import missing_driver_hint, normalize_url, redact, scrub
from kpi_workbook.workspace.files import ACTUALS_DB

if TYPE_CHECKING:
    from kpi_workbook.workspace.actuals_checked import ValidatedActuals
    from kpi_workbook.workspace.actuals_reader import RawActuals

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt
else:
    import fcntl

ACTUALS_COLUMNS = ["period", "team", "employee_id", "kpi_id", "value"]
WRITE_MEMORY_LIMIT = "400MB"  # DuckDB spills to disk beyond it, so a write of millions of rows stays small
URL_ENV = "KPI_WORKBOOK_ACTUALS_URL"
QUERY_ENV = "KPI_WORKBOOK_ACTUALS_QUERY"
DEFAULT_QUERY = "SELECT period, team, employee_id, kpi_id, value FROM actuals"
CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS actuals (
    period TEXT NOT NULL, period_start DATE NOT NULL, team TEXT NOT NULL, employee_id TEXT,
    kpi_id TEXT NOT NULL, value DOUBLE NOT NULL
)"""
LINEAGE_COLUMNS = ["period", "team", "employee_id", "kpi_id", "source", "source_rows", "computed_at",
                   "definition_hash"]
CREATE_LINEAGE = """
CREATE TABLE IF NOT EXISTS lineage (
    period TEXT NOT NULL, team TEXT NOT NULL, employee_id TEXT, kpi_id TEXT NOT NULL, source TEXT NOT NULL,
    source_rows BIGINT NOT NULL, computed_at TIMESTAMP NOT NULL, definition_hash TEXT NOT NULL
)"""

SCOPE_VALUE_COLUMNS = ["level", "scope", "period", "kpi_id", "value", "source_rows"]
CREATE_SCOPE_VALUES = """
CREATE TABLE IF NOT EXISTS scope_values (
    level TEXT NOT NULL, scope TEXT NOT NULL, period TEXT NOT NULL, kpi_id TEXT NOT NULL, value DOUBLE NOT NULL,
    source_rows BIGINT NOT NULL
)"""


@dataclass(frozen=True)
class ReplaceResult:
    """What a replace did: rows removed (of the replaced period × team × KPI slices) and rows written."""

    removed: int
    inserted: int
    slices: int


@overload
def _as_list(value: str | Iterable[str]) -> list[str]: ...


@overload
def _as_list(value: None) -> None: ...


def _as_list(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64" if c == "value" else "str") for c in ACTUALS_COLUMNS})


class ActualsStore:
    """Reads actuals as a DataFrame[period, team, employee_id, kpi_id, value], oldest period first.

    employee_id is "" for team-level values; periods are canonical labels (see kpi_workbook.core.periods).
    """

    location: str = ""
    writable: bool = False

    def read_actuals(self, team: str | Iterable[str] | None = None, periods: str | Iterable[str] | None = None,
                     kpis: str | Iterable[str] | None = None) -> pd.DataFrame:
        """Actuals, optionally only of some teams, periods (any accepted spelling) and KPI ids."""
        labels = sort_periods(_as_list(periods)) if periods is not None else None
        frame = self._read(_as_list(team), labels, _as_list(kpis))
        return frame.reset_index(drop=True)

    def actuals_table(self, kpis: str | Iterable[str]) -> pa.Table:
        """The stored values of these KPIs (ACTUALS_COLUMNS; employee_id "" for team values) in no order, as an
        Arrow table: what a comparison of many values reads (see read_actuals for a frame in order)."""
        return pa.Table.from_pandas(self.read_actuals(kpis=kpis), preserve_index=False)

    def periods(self) -> list[str]:
        """The periods that have actuals, oldest first."""
        return sort_periods(self._period_labels())

    def replace_periods(self, frame: pd.DataFrame) -> ReplaceResult:
        """Store rows, replacing what was stored for the same period × team × KPI slices."""
        raise KpiWorkbookError(f"the actuals store {self.location} is read only; load data there with its own tools")

    def close(self) -> None:
        """Release connections (the DuckDB store holds none between calls)."""

    def __enter__(self) -> ActualsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self, teams: list[str] | None, periods: list[str] | None, kpis: list[str] | None) -> pd.DataFrame:
        raise NotImplementedError

    def _period_labels(self) -> list[str]:
        return list(pd.unique(self._read(None, None, None)["period"]))


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the duration of the block."""
    try:
        handle = open(path, "a+b")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise _unwritable(path.parent, exc) from None
    with handle:
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
        else:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if sys.platform == "win32":  # pragma: no cover
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                fcntl.flock(handle, fcntl.LOCK_UN)


class DuckDBStore(ActualsStore):
    """Actuals in a DuckDB file: table actuals(period, period_start, team, employee_id, kpi_id, value)."""

    writable = True

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.location = str(self.path)
        self.lock_path = self.path.with_name(f".{self.path.name}.lock")

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as exc:
            raise InputError(Problem(file=self.path.name, message=f"cannot open the actuals store: {exc}")) from None

    def _connect_checked(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection to a store whose actuals table has the expected columns and a number value."""
        con = self._connect()
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'actuals'").fetchall())
        missing = [c for c in ("period", "period_start", *ACTUALS_COLUMNS[1:]) if c not in types]
        problem = ("it has no table 'actuals'" if not types else
                   f"its table 'actuals' lacks the column(s) {', '.join(missing)}" if missing else
                   f"its column 'value' holds {types['value']}, not numbers"
                   if types["value"] not in NUMBER_TYPES and not types["value"].startswith("DECIMAL") else "")
        if problem:
            con.close()
            raise InputError(Problem(file=str(self.path), message=f"not an actuals store of kpi-workbook: {problem}; "
                                     "move the file away and run compute (or import-actuals) to build it again"))
        return con

    def _read(self, teams: list[str] | None, periods: list[str] | None, kpis: list[str] | None) -> pd.DataFrame:
        if not self.path.exists():
            return _empty()
        where, params = [], []
        for column, values in (("team", teams), ("period", periods), ("kpi_id", kpis)):
            if values is not None:
                where.append(f"list_contains(?, {column})")
                params.append(values)
        sql = ("SELECT period, team, coalesce(employee_id, '') AS employee_id, kpi_id, value FROM actuals"
               + (f" WHERE {' AND '.join(where)}" if where else "")
               + " ORDER BY period_start, period, team, employee_id, kpi_id")
        with self._connect_checked() as con:
            frame = con.execute(sql, params).df()
        return frame.astype({c: "str" for c in ACTUALS_COLUMNS[:-1]}) if len(frame) else _empty()

    def actuals_table(self, kpis: str | Iterable[str]) -> pa.Table:
        if not self.path.exists():
            return pa.Table.from_pandas(_empty(), preserve_index=False)
        sql = ("SELECT period, team, coalesce(employee_id, '') AS employee_id, kpi_id, value FROM actuals "
               "WHERE list_contains(?, kpi_id)")
        with self._connect_checked() as con:
            return arrow_table(con.sql(sql, params=[_as_list(kpis)]))

    def _period_labels(self) -> list[str]:
        if not self.path.exists():
            return []
        with self._connect_checked() as con:
            return [row[0] for row in con.execute("SELECT DISTINCT period FROM actuals").fetchall()]

    def count(self) -> int:
        """Number of stored values."""
        if not self.path.exists():
            return 0
        with self._connect_checked() as con:
            return _first_value(con.execute("SELECT count(*) FROM actuals"))

    def replace_periods(self, frame: pd.DataFrame, slices: pd.DataFrame | None = None,
                        lineage: pd.DataFrame | None = None, scopes: pd.DataFrame | None = None,
                        unique: bool = False) -> ReplaceResult:
        """Store the rows of `frame`; the stored rows of each period × team × KPI it holds are replaced.

        All or nothing: the change is made on a copy of the file in one transaction and the copy is renamed
        over the store. Raises InputError if `frame` has two rows for the same period, team, employee and KPI.
        `slices` (period, team, kpi_id) are replaced too, even where `frame` has no row for them; `lineage`
        (LINEAGE_COLUMNS) says where computed values come from; replaced slices lose their old lineage.
        `scopes` (SCOPE_VALUE_COLUMNS) are computed values of departments and the organization: each level ×
        period × KPI they hold replaces the stored one.
        `frame` may also be the path of a Parquet file of rows in store form (see _incoming), as an import writes.
        `unique` says the caller has refused rows sharing period, team, employee and KPI already (an import's
        validation does), so the store does not look for them again: as whole slices are replaced, rows of a
        duplicate-free `frame` cannot meet a kept row.
        """
        incoming = _incoming(frame)
        with _exclusive(self.lock_path):
            return self._rewrite(incoming, replace_existing=True, slices=slices, lineage=lineage, scopes=scopes,
                                 unique=unique)

    def replace_from(self, con: duckdb.DuckDBPyConnection, table: str, unique: bool = False) -> ReplaceResult:
        """Store the rows of the table or view `table` of the open connection `con` (in store form, see _incoming), as
        replace_periods does: the copy of the store is attached to `con` and written by it, so the rows are never
        copied out of `con`'s database first (an import's scratch database hands its valid rows over so)."""
        database = _first_value(con.execute("SELECT current_database()"))
        with _exclusive(self.lock_path):
            return self._rewrite(f"{_quoted(database)}.main.{_quoted(table)}", replace_existing=True, unique=unique,
                                 through=con)

    def read_scope_values(self, level: str | None = None, scope: str | None = None,
                          kpis: str | Iterable[str] | None = None) -> pd.DataFrame:
        """Computed values of departments and the organization (SCOPE_VALUE_COLUMNS), oldest period first; empty if
        none were computed."""
        empty = pd.DataFrame({c: pd.Series(dtype="float64" if c == "value" else "object")
                              for c in SCOPE_VALUE_COLUMNS})
        wanted = _as_list(kpis)
        frame = self._select("scope_values", (
            "SELECT level, scope, period, kpi_id, value, source_rows FROM scope_values WHERE "
            "(? IS NULL OR level = ?) AND (? IS NULL OR scope = ?) AND (? IS NULL OR list_contains(?, kpi_id))"),
            [level, level, scope, scope, wanted, wanted])
        if frame is None or frame.empty:
            return empty
        order = {label: i for i, label in enumerate(sort_periods(frame["period"].unique()))}
        return frame.sort_values(["level", "scope", "kpi_id"]).sort_values(
            "period", key=lambda p: p.map(order), kind="stable").reset_index(drop=True)

    def read_lineage(self, kpis: str | Iterable[str] | None = None) -> pd.DataFrame:
        """Where computed values come from (LINEAGE_COLUMNS; employee_id "" for team values); empty if none."""
        wanted = _as_list(kpis)
        sql = ("SELECT period, team, coalesce(employee_id, '') AS employee_id, kpi_id, source, source_rows, "
               "computed_at, definition_hash FROM lineage"
               + (" WHERE list_contains(?, kpi_id)" if wanted is not None else "")
               + " ORDER BY kpi_id, period, team, employee_id")
        frame = self._select("lineage", sql, [wanted] if wanted is not None else [])
        return pd.DataFrame({c: pd.Series(dtype="object") for c in LINEAGE_COLUMNS}) if frame is None else frame

    def _select(self, table: str, sql: str, parameters: list[object]) -> pd.DataFrame | None:
        """What `sql` selects, or None where the store or its `table` does not exist yet (older stores lack the
        newer tables)."""
        if not self.path.exists():
            return None
        with self._connect() as con:
            return con.execute(sql, parameters).df() if _has_table(con, table) else None

    def create_from(self, frame: pd.DataFrame) -> bool:
        """Build the store from `frame` unless another process made it first; True if this call made it."""
        incoming = _incoming(frame)
        with _exclusive(self.lock_path):
            if self.path.exists():
                return False
            self._rewrite(incoming, replace_existing=False)
            return True

    def _remove_stale_copies(self) -> None:
        """Delete copies left by a writer that was killed (``.actuals.duckdb.<id>.tmp.duckdb``, its WAL).

        Called under the exclusive lock, so no other writer can be using one.
        """
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp{self.path.suffix}*"):
            stale.unlink(missing_ok=True)

    def _rewrite(self, incoming: pd.DataFrame | Path | str, replace_existing: bool, slices: pd.DataFrame | None = None,
                 lineage: pd.DataFrame | None = None, scopes: pd.DataFrame | None = None, unique: bool = False,
                 through: duckdb.DuckDBPyConnection | None = None) -> ReplaceResult:
        if self.path.is_dir():
            raise InputError(Problem(file=str(self.path), message="the actuals store is a folder, not a DuckDB file: "
                                     "move it away and import again"))
        self._remove_stale_copies()
        try:
            with staged_path(self.path) as tmp:
                try:
                    if replace_existing and self.path.exists():
                        shutil.copyfile(self.path, tmp)
                    with _writing(tmp, through) as con:
                        result = _replace(con, incoming, slices, lineage, scopes, unique)
                except duckdb.Error as exc:
                    if _disk_full(self.path.parent, exc):
                        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)) from None
                    message = str(exc).splitlines()[0].replace(str(tmp), str(self.path))
                    raise InputError(Problem(file=str(self.path), message=f"the actuals store cannot be updated "
                                             f"(corrupt or not a DuckDB file?): {message}")) from None
                finally:
                    Path(f"{tmp}.wal").unlink(missing_ok=True)
        except OSError as exc:
            raise _unwritable(self.path.parent, exc) from None
        return result


STAGED = "staged_store"  # the name of the store's copy while another connection writes it (and a suffix)


@contextlib.contextmanager
def _writing(tmp: Path, through: duckdb.DuckDBPyConnection | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection whose default database is the file `tmp`, checkpointed at the end of the block: a new one, or
    `through` with the file attached for the block (its own default database restored after)."""
    if through is None:
        with duckdb.connect(str(tmp), config={"memory_limit": WRITE_MEMORY_LIMIT}) as con:
            yield con
            con.execute("CHECKPOINT")
        return
    database = _first_value(through.execute("SELECT current_database()"))
    staged = f"{STAGED}_{os.urandom(6).hex()}"  # its own name: `through`'s instance may hold other databases
    through.execute(f"ATTACH '{str(tmp).replace(chr(39), chr(39) * 2)}' AS {staged}")
    try:
        through.execute(f"USE {staged}")
        yield through
        through.execute(f"CHECKPOINT {staged}")
    finally:
        through.execute(f"USE {_quoted(database)}")
        through.execute(f"DETACH {staged}")


def _quoted(name: str) -> str:
    """A name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


FULL_DISK_BYTES = 1 << 20  # a failed write with less free space than this is put down to a full disk


def _disk_full(folder: Path, exc: Exception) -> bool:
    """Whether a failed database write ran out of disk space (DuckDB may report only the rollback after it)."""
    return "No space left" in str(exc) or shutil.disk_usage(folder).free < FULL_DISK_BYTES


def _unwritable(folder: Path, exc: OSError) -> InputError:
    """The error for a store that cannot be written: read-only folder, full disk, no permission; the store is
    left as it was."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        reason += f" ({shutil.disk_usage(folder).free // 1024:,} kB free): free some space"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        reason += ": the store is written in the workspace folder; copy the workspace somewhere writable"
    return InputError(Problem(file=str(folder), message=f"cannot write the actuals store: {reason}; the store "
                              "is unchanged"))


NUMBER_TYPES = {"DOUBLE", "FLOAT", "REAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT",
                "UINTEGER", "USMALLINT", "UTINYINT"}


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the store has the table (older stores lack the newer ones)."""
    return bool(_first_value(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                                         [name])))


def _first_value(result: duckdb.DuckDBPyConnection) -> Any:
    """The first value of the one row a query returns (a count, the database's name)."""
    row = result.fetchone()
    if row is None:
        raise RuntimeError("the query returned no row")
    return row[0]


def _incoming(frame: pd.DataFrame | Path) -> pd.DataFrame | Path:
    """Rows to store: a DataFrame normalized (see _normalized), or a Parquet file taken as it is, whose columns are
    period (canonical labels), period_start, team, employee_id ('' for team values), kpi_id and value."""
    return frame if isinstance(frame, Path) else _normalized(frame)


def _normalized(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in store columns with canonical periods; InputError for unknown periods or missing columns. Each column is
    worked out per distinct value (a computation's keys are categoricals), so that millions of rows never become
    Python objects."""
    missing = [c for c in ACTUALS_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"actuals to store lack column(s): {', '.join(missing)}")
    codes, distinct = _distinct(frame["period"])
    periods = period_table(distinct)
    bad = np.flatnonzero(periods["label"].isna().to_numpy()[codes])
    if len(bad):
        raise InputError(f"actuals to store have a value that is not a period: {distinct[codes[bad[0]]]!r}")
    return pd.DataFrame({
        "period": pd.array(periods["label"].astype(str), dtype="str").take(codes),
        "period_start": periods["start"].to_numpy().take(codes),
        "team": _text(frame["team"]),
        "employee_id": _text(frame["employee_id"], strip=True),
        "kpi_id": _text(frame["kpi_id"]),
        "value": frame["value"].astype("float64").to_numpy(),
    })


def _distinct(column: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Each row's index into the column's distinct values, and those values as text (a missing value is '')."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, values = column.cat.codes.to_numpy(), column.cat.categories
    else:
        codes, values = pd.factorize(column)
    texts = [*map(str, values)]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(texts), codes)
        texts.append("")
    return codes, pd.Series(texts, dtype="str")


def _text(column: pd.Series, strip: bool = False) -> pd.api.extensions.ExtensionArray:
    """The column as text, stripped if `strip`, worked out per distinct value."""
    codes, texts = _distinct(column)
    return pd.array(texts.str.strip() if strip else texts, dtype="str").take(codes)


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """A frame as an Arrow table (its text and categorical columns without a copy), which DuckDB scans in parallel."""
    return pa.Table.from_pandas(frame, preserve_index=False)


def _replace(con: duckdb.DuckDBPyConnection, incoming: pd.DataFrame | Path | str,
             extra_slices: pd.DataFrame | None = None,
             lineage: pd.DataFrame | None = None, scopes: pd.DataFrame | None = None,
             unique: bool = False) -> ReplaceResult:
    """In one transaction: delete the slices incoming (a DataFrame, a Parquet file or the qualified name of a table of
    `con`) and extra_slices cover, insert it, refuse duplicates (unless the caller vouches that incoming has none:
    `unique`); the same for the scope values of each level × period × KPI in `scopes`."""
    con.execute(CREATE_TABLE)
    con.execute(CREATE_LINEAGE)
    con.execute(CREATE_SCOPE_VALUES)
    con.register("incoming_scopes", scopes[SCOPE_VALUE_COLUMNS] if scopes is not None
                 else pd.DataFrame({c: pd.Series(dtype="object") for c in SCOPE_VALUE_COLUMNS}))
    if isinstance(incoming, Path):  # read by DuckDB itself, within its memory limit
        parquet = str(incoming).replace("'", "''")
        con.execute(f"CREATE OR REPLACE TEMP VIEW incoming AS SELECT * FROM read_parquet('{parquet}')")
    elif isinstance(incoming, str):  # a table of the database `con` writes from
        con.execute(f"CREATE OR REPLACE TEMP VIEW incoming AS SELECT * FROM {incoming}")
    else:
        con.register("incoming", _arrow(incoming))
    extra = extra_slices if extra_slices is not None else pd.DataFrame(columns=["period", "team", "kpi_id"])
    con.register("extra_slices", extra[["period", "team", "kpi_id"]].astype(str))
    con.register("incoming_lineage", _arrow(lineage) if lineage is not None
                 else pd.DataFrame({c: pd.Series(dtype="object") for c in LINEAGE_COLUMNS}))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("""CREATE TEMP TABLE replaced AS SELECT DISTINCT period, team, kpi_id FROM incoming
                       UNION SELECT period, team, kpi_id FROM extra_slices""")
        slices = _first_value(con.execute("SELECT count(*) FROM replaced"))
        removed = _first_value(con.execute("""
            DELETE FROM actuals WHERE (period, team, kpi_id) IN (SELECT period, team, kpi_id FROM replaced)
        """))
        con.execute("DELETE FROM lineage WHERE (period, team, kpi_id) IN (SELECT period, team, kpi_id FROM replaced)")
        if lineage is not None and len(lineage):
            con.execute("""INSERT INTO lineage SELECT period, team, nullif(employee_id, ''), kpi_id, source,
                           source_rows, computed_at, definition_hash FROM incoming_lineage""")
        con.execute("DROP TABLE replaced")
        if scopes is not None and len(scopes):
            con.execute("""DELETE FROM scope_values WHERE (level, period, kpi_id) IN
                           (SELECT DISTINCT level, period, kpi_id FROM incoming_scopes)""")
            con.execute("""INSERT INTO scope_values SELECT level, scope, period, kpi_id, value, source_rows
                           FROM incoming_scopes""")
        inserted = con.execute("""
            INSERT INTO actuals SELECT period, period_start::DATE, team, nullif(employee_id, ''), kpi_id, value
            FROM incoming
        """).fetchall()[0][0]
        duplicate = None if unique else con.execute("""
            SELECT period, team, coalesce(employee_id, ''), kpi_id FROM actuals
            GROUP BY ALL HAVING count(*) > 1 LIMIT 1
        """).fetchone()
        if duplicate:
            raise InputError(f"actuals to store have more than one value for period {duplicate[0]}, team "
                             f"{duplicate[1]}, employee '{duplicate[2]}', KPI {duplicate[3]}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in ("incoming", "extra_slices", "incoming_lineage", "incoming_scopes"):
            con.unregister(name)
    return ReplaceResult(removed=removed, inserted=inserted, slices=slices)


class SqlStore(ActualsStore):
    """Actuals read through SQLAlchemy from any database (e.g. a PostgreSQL warehouse); read only.

    No connection is held between reads (a DuckDB file is opened read-only). A PostgreSQL URL may be spelled
    ``postgres://``, ``postgresql://`` or ``postgresql+psycopg://`` (see database_urls); messages show it without
    its password.

    `query` must return the columns period, team, employee_id, kpi_id and value (default: the table
    ``actuals``); periods in any accepted spelling are turned into canonical labels.
    """

    def __init__(self, url: str, query: str | None = None):
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError
        from sqlalchemy.pool import NullPool

        self._url = url.strip()
        self.location = redact(self._url)
        try:
            parsed = make_url(normalize_url(self._url, "sqlalchemy"))
            options = {"read_only": True} if parsed.get_backend_name() == "duckdb" else {}
            self._engine = create_engine(parsed, poolclass=NullPool, connect_args=options)
        except ImportError as exc:  # the database driver is an optional part
            self._refuse(f"{exc}{missing_driver_hint(exc)}")
        except (ArgumentError, NoSuchModuleError) as exc:
            self._refuse(str(exc))
        self.query = (query or DEFAULT_QUERY).strip().rstrip(";")

    def _refuse(self, reason: str) -> NoReturn:
        message = scrub(f"cannot use {self.location!r}: {reason}", self._url)
        raise InputError(Problem(file="actuals URL", message=message)) from None

    def _query(self, sql: str, params: dict[str, list[str]]) -> pd.DataFrame:
        """Run `sql` over the source query (as `source`); list parameters expand to IN lists."""
        from sqlalchemy import bindparam, text
        from sqlalchemy.exc import SQLAlchemyError

        statement = text(sql.replace("{source}", f"({self.query}) AS source"))
        statement = statement.bindparams(*(bindparam(name, expanding=True) for name in params))
        try:
            with self._engine.connect() as con:
                return pd.read_sql(statement, con, params=params)
        except (SQLAlchemyError, pd.errors.DatabaseError) as exc:
            cause = getattr(exc, "orig", None) or exc.__cause__ or exc
            message = scrub(str(getattr(cause, "orig", None) or cause).splitlines()[0], self._url)
            raise InputError(Problem(file=self.location, message=f"cannot read actuals: {message}")) from None

    def _labels(self, periods: pd.Series) -> pd.DataFrame:
        table = period_table(periods.astype(str))
        bad = table["label"].isna()
        if bad.any():
            raise InputError(Problem(file=self.location, field="period",
                                     message=f"not a period: {periods[bad].iloc[0]!r}"))
        return table

    def _read(self, teams: list[str] | None, periods: list[str] | None, kpis: list[str] | None) -> pd.DataFrame:
        params = {name: values for name, values in (("team", teams), ("kpi_id", kpis)) if values is not None}
        where = " AND ".join(f"{name} IN :{name}" for name in params)
        frame = self._query("SELECT period, team, employee_id, kpi_id, value FROM {source}"
                            + (f" WHERE {where}" if where else ""), params)
        labels = self._labels(frame["period"])
        frame = frame.assign(period=labels["label"], start=labels["start"],
                             employee_id=frame["employee_id"].fillna("").astype(str))
        if periods is not None:
            frame = frame[frame["period"].isin(periods)]
        frame = frame.sort_values(["start", "period", "team", "employee_id", "kpi_id"], kind="stable")
        frame = frame[ACTUALS_COLUMNS].astype({"team": "str", "kpi_id": "str", "period": "str", "value": "float64"})
        return frame if len(frame) else _empty()

    def _period_labels(self) -> list[str]:
        distinct = self._query("SELECT DISTINCT period FROM {source}", {})["period"]
        return list(dict.fromkeys(self._labels(distinct)["label"]))

    def close(self) -> None:
        self._engine.dispose()


def open_store(location: str | Path, url: str | None = None, query: str | None = None) -> ActualsStore:
    """The actuals store at `location`: a workspace folder (its actuals.duckdb) or the DuckDB file itself.

    With `url` (or the environment variable KPI_WORKBOOK_ACTUALS_URL) actuals are read through SQLAlchemy
    with `query` (or KPI_WORKBOOK_ACTUALS_QUERY; default: the table ``actuals``) instead. Opening never builds or
    changes anything; `build_from_csv` builds a missing DuckDB file, and `Workspace.store` does so visibly.
    """
    url = url or os.environ.get(URL_ENV, "")
    if url:
        return SqlStore(url, query or os.environ.get(QUERY_ENV) or None)
    return workspace_store(location)


def workspace_store(location: str | Path) -> DuckDBStore:
    """The DuckDB store of a workspace folder (its actuals.duckdb), or of a DuckDB file given by its path."""
    path = Path(location)
    return DuckDBStore(path if path.suffix == ".duckdb" else path / ACTUALS_DB)


def built_message(store: DuckDBStore, csv: Path, values: int) -> str:
    """What a command says when it built `store` from `csv`."""
    return f"built the actuals store {store.path} from {csv} ({values} values)"


def build_missing(store: DuckDBStore, csv: Path, framework: Framework, employees: pd.DataFrame) -> int:
    """Build `store` from `csv` when the CSV exists and the store does not (see build_from_csv); the number of
    values stored, 0 when there was nothing to build."""
    if store.path.exists() or not csv.exists():
        return 0
    store.path.parent.mkdir(parents=True, exist_ok=True)
    return build_from_csv(store, csv, framework, employees)


def build_from_csv(store: DuckDBStore, csv: Path, framework: Framework, employees: pd.DataFrame) -> int:
    """Validate `csv` (the long import format) and build `store` from it, unless another process made it first.

    Returns the number of values stored (0 when the store was there already); RejectedRowsError lists every bad row.
    """
    # imported here: reading and checking are only needed when a store is built, and readers should not pay for them
    from kpi_workbook.workspace.actuals_checked import RejectedRowsError
    from kpi_workbook.workspace.actuals_precheck import clean_actuals
    from kpi_workbook.workspace.actuals_reader import read_actuals_file
    from kpi_workbook.workspace.scratch import Scratch

    with Scratch() as scratch:
        raw = read_actuals_file(csv, scratch=scratch)
        # as an import does: a file without a bad row needs no row-by-row validation (pandera) and no report
        validated = clean_actuals(raw, framework, employees) or _validated(raw, framework, employees)
        if len(validated.report):
            raise RejectedRowsError(validated)
        return validated.valid_count if store.create_from(validated.valid_rows()) else 0


def _validated(raw: RawActuals, framework: Framework, employees: pd.DataFrame) -> ValidatedActuals:
    """Every row of `raw` checked by the schema (see actuals_schema.validate_actuals)."""
    from kpi_workbook.workspace.actuals_schema import validate_actuals  # pandera: only for a file with a doubtful row

    return validate_actuals(raw, framework, employees)
