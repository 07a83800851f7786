"""A table or query of a database as an ibis table, read where the records are and creating nothing there.

ibis learns a query's columns by creating a temporary view (which needs PostgreSQL's TEMP privilege, and which
recent sqlglot releases drop with a statement missing its name) or by DuckDB calls that DuckDB 2 renamed. For
PostgreSQL and DuckDB the columns are asked of the database here instead: PostgreSQL describes the query's result
without running it (``LIMIT 0``), DuckDB with ``DESCRIBE``. A read-only user with CONNECT and SELECT is enough.
"""

from __future__ import annotations

__all__ = [
    "CONNECT_TIMEOUT_SECONDS", "FILES_REFUSED", "UnreadableTable", "backend_of", "database_table", "first_line",
    "reason",
]

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, cast
from urllib.parse import urlparse

from kpi_workbook.workspace.database_urls import missing_driver_hint, normalize_url, scrub

if TYPE_CHECKING:
    import ibis.expr.schema as sch
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend
    from ibis.backends.duckdb import Backend as DuckDBBackend
    from ibis.backends.postgres import Backend as PostgresBackend
    from ibis.backends.sql import SQLBackend

_IN_MEMORY = frozenset({"", ":memory:"})
# PostgreSQL's name of each result column's type (as ibis reads a table's: enums as 'enum'), in the columns' order.
_POSTGRES_TYPE_NAMES = """
SELECT CASE WHEN t.typtype = 'e' THEN 'enum' ELSE pg_catalog.format_type(c.oid, c.typmod) END
FROM unnest(%s::oid[], %s::integer[]) WITH ORDINALITY AS c(oid, typmod, position)
JOIN pg_catalog.pg_type AS t ON t.oid = c.oid
ORDER BY c.position"""


def backend_of(expr: ir.Table) -> BaseBackend | None:
    """The backend that holds the tables an expression reads; None when it reads only in-memory tables (which any
    backend runs)."""
    import ibis.expr.operations as ops

    tables = expr.op().find((ops.DatabaseTable, ops.SQLQueryResult))  # a table, or a query's rows, of a backend
    return tables[0].source if tables else None


class UnreadableTable(Exception):
    """A database table or query that cannot be read; the message hides the URL's password, `field` names the
    source's setting at fault ('' when it is the database or the URL)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def database_table(url: str, table: str | None = None, schema: str | None = None,
                   query: str | None = None) -> ir.Table:
    """The table (in `schema`, default: the connection's) or the query's rows at `url`; UnreadableTable saying why
    not, without a password."""
    from ibis.common.exceptions import TableNotFound

    con = _connect(url)
    try:
        return _query_table(con, query) if query is not None else con.table(table or "", database=schema)
    except TableNotFound:
        raise UnreadableTable(_no_table(table or "", schema), field="table") from None
    except UnreadableTable:
        raise
    except Exception as exc:  # noqa: BLE001 - drivers raise their own types; the message names the source
        raise UnreadableTable(scrub(reason(exc), url), field="query" if query is not None else "table") from None


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


FILES_REFUSED = ("a DuckDB source reads only the tables and views of its own database; reading files through it "
                 "(read_csv, read_parquet, read_json, glob, ATTACH, COPY, ...) is turned off")


def reason(exc: BaseException) -> str:
    """Why a table or query cannot be read: the first line of the message, explained when DuckDB refused a file."""
    return f"{FILES_REFUSED} ({first_line(exc)})" if _refused_file(exc) else first_line(exc)


def _refused_file(exc: BaseException) -> bool:
    """Whether DuckDB refused to touch a file because the connection's file access is turned off (see _confine)."""
    return type(exc).__name__ == "PermissionException" and "disabled by configuration" in str(exc)


def _no_table(table: str, schema: str | None) -> str:
    if schema is not None:
        return f"no table '{table}' in schema '{schema}'"
    if "." in table:
        first, rest = table.split(".", 1)
        return f"no table '{table}' in the default schema; for a table of schema '{first}' write `schema: {first}` " \
               f"and `table: {rest}`"
    return f"no table '{table}' in the default schema (give `schema:` for a table of another schema)"


def _connect(url: str) -> BaseBackend:
    """A connection to the database at `url` (any accepted spelling); UnreadableTable saying why not."""
    import ibis

    spelled = normalize_url(url, "ibis")
    try:
        return _confine(ibis.connect(spelled, **_connect_options(spelled)), spelled)
    except ImportError as exc:
        message = f"the database driver is missing: {exc}{missing_driver_hint(exc)}"
    except Exception as exc:  # noqa: BLE001 - drivers raise their own types
        message = first_line(exc)
    raise UnreadableTable(scrub(message, spelled), field="url")


CONNECT_TIMEOUT_SECONDS = 15  # a server that does not answer (a dropped packet, a wrong host) is named, not waited on


def _connect_options(url: str) -> dict[str, bool | int]:
    """A DuckDB file opens read-only: a source is only read, other readers may open it at the same time, and a
    mistyped path is an error rather than a new empty database. A PostgreSQL server gets CONNECT_TIMEOUT_SECONDS
    to answer unless the URL sets its own connect_timeout."""
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql"):
        return {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    where = (parsed.netloc + parsed.path).strip("/")
    if parsed.scheme != "duckdb" or where in _IN_MEMORY or _is_motherduck(url):
        return {}
    return {"read_only": True}


def _confine(con: BaseBackend, url: str) -> BaseBackend:
    """A DuckDB connection (but MotherDuck's) that reads no file of the machine: once its database is open, DuckDB's
    file access is turned off, so a query or a view of the database cannot read another file (read_csv('/etc/passwd'),
    glob, ATTACH, COPY, extensions). DuckDB refuses to turn it back on while the database is open (for every
    connection to it). Other backends are returned as they are."""
    if con.name != "duckdb" or _is_motherduck(url):
        return con
    cast("DuckDBBackend", con).con.execute("SET enable_external_access = false")
    return con


def _is_motherduck(url: str) -> bool:
    parsed = urlparse(url)
    return (parsed.netloc + parsed.path).strip("/").startswith(("md:", "motherduck:"))


def _query_table(con: BaseBackend, query: str) -> ir.Table:
    """The query's rows as a table whose columns the database describes (ibis's own way for other backends)."""
    query = query.strip().rstrip(";").rstrip()
    describe = _DESCRIBERS.get(con.name)
    return cast("SQLBackend", con).sql(query, schema=describe(con, query) if describe else None)


def _schema(con: SQLBackend, names: list[str], types: list[str]) -> sch.Schema:
    """The columns as ibis types by the backend's own type names; UnreadableTable for a name used twice."""
    import ibis

    twice = [name for name, count in Counter(names).items() if count > 1]
    if twice:
        raise UnreadableTable(f"the query returns more than one column named {', '.join(map(repr, twice))}; "
                              "name each column once (… AS another_name)", field="query")
    mapper = con.compiler.type_mapper
    return ibis.schema({name: mapper.from_string(kind) for name, kind in zip(names, types, strict=True)})


def _postgres_columns(con: BaseBackend, query: str) -> sch.Schema:
    """The query's columns from PostgreSQL's description of its result (run with LIMIT 0: no rows read)."""
    postgres = cast("PostgresBackend", con)  # _DESCRIBERS chose this by the backend's name
    with postgres.con.cursor() as cursor:
        cursor.execute(f"SELECT * FROM (\n{query}\n) AS source_query LIMIT 0")
        description, result = cursor.description, cursor.pgresult
        if description is None or result is None:
            raise UnreadableTable("the query returns no rows (it is not a SELECT)", field="query")
        names = [column.name for column in description]
        oids = [result.ftype(i) for i in range(result.nfields)]
        modifiers = [result.fmod(i) for i in range(result.nfields)]
        types = [row[0] for row in cursor.execute(_POSTGRES_TYPE_NAMES, (oids, modifiers)).fetchall()]
    return _schema(postgres, names, types)


def _duckdb_columns(con: BaseBackend, query: str) -> sch.Schema:
    """The query's columns by DuckDB's DESCRIBE (the query is planned, not run)."""
    duckdb = cast("DuckDBBackend", con)  # _DESCRIBERS chose this by the backend's name
    rows = duckdb.con.sql(f"DESCRIBE SELECT * FROM (\n{query}\n) AS source_query").fetchall()
    return _schema(duckdb, [row[0] for row in rows], [row[1] for row in rows])


_DESCRIBERS: dict[str, Callable[[BaseBackend, str], sch.Schema]] = {
    "postgres": _postgres_columns, "duckdb": _duckdb_columns}
