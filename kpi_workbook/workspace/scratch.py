"""A scratch DuckDB database for one import: the file's rows as tables, spilled to a temporary folder past a bound.

Every scratch database of a process lives in one DuckDB instance: setting up an instance (its catalogue of built-in
functions) costs about 20 ms, attaching a fresh in-memory database to it about 1 ms, and a process reads many files.
Each `Scratch` is its own attached database on its own connection, so names never meet; a forked child makes an
instance of its own and never touches the one it inherited.
"""

from __future__ import annotations

__all__ = ["MEMORY_LIMIT", "PREFIX", "Scratch", "WHITESPACE", "literal", "remove_abandoned_folders"]

import atexit
import itertools
import os
import shutil
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import psutil

MEMORY_LIMIT = "512MB"
PREFIX = "kpi-import-"  # kpi-import-<pid>-<random>: the process that owns a scratch folder
# every character Python's str.strip() removes (the importer has always stripped cells with it)
WHITESPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())


def literal(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def remove_abandoned_folders(parent: Path) -> list[Path]:
    """Remove the scratch folders in `parent` whose import process is gone (killed before it could clean up)."""
    removed = []
    for folder in parent.glob(f"{PREFIX}*"):
        owner = folder.name[len(PREFIX):].split("-", 1)[0]
        if folder.is_dir() and owner.isdigit() and not psutil.pid_exists(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


class _Instance:
    """This process's DuckDB instance for scratch databases, with the folder it spills to (made by DuckDB when it
    first spills, removed at exit or, after a kill, by the next import)."""

    def __init__(self) -> None:
        self.spill = Path(tempfile.gettempdir()) / f"{PREFIX}{os.getpid()}-spill-{os.urandom(4).hex()}"
        self.con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(self.spill),
                                          "preserve_insertion_order": True})
        atexit.register(shutil.rmtree, self.spill, ignore_errors=True)


_lock = threading.Lock()
_instance: _Instance | None = None
_inherited: list[_Instance] = []  # a fork's copy of its parent's instance: kept, never used nor closed
_names = itertools.count(1)


def _forget_parent_instance() -> None:
    global _instance
    if _instance is not None:
        _inherited.append(_instance)
        _instance = None


os.register_at_fork(after_in_child=_forget_parent_instance)


def _connection() -> duckdb.DuckDBPyConnection:
    """A new connection to this process's scratch instance (made on first use)."""
    global _instance
    with _lock:
        if _instance is None:
            _instance = _Instance()
        return _instance.con.cursor()


def _release(pid: int, con: duckdb.DuckDBPyConnection, name: str, folder: tempfile.TemporaryDirectory) -> None:
    """Detach a scratch database and close its connection, then remove its folder (in the process that made it)."""
    if os.getpid() != pid:
        return  # a fork's copy: the parent's to release
    try:
        con.execute("USE memory")
        con.execute(f"DETACH {name}")
    finally:
        con.close()
        folder.cleanup()


class Scratch:
    """An in-memory DuckDB database of its own, whose data beyond MEMORY_LIMIT goes to a temporary folder, and a
    folder for the files an import hands over; both are freed on close (or when the Scratch is collected; when the
    import was killed, the next import removes the folders)."""

    def __init__(self) -> None:
        remove_abandoned_folders(Path(tempfile.gettempdir()))
        folder = tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-")
        self.folder = Path(folder.name)
        self.name = f"scratch_{next(_names)}"
        self.con = _connection()
        try:
            self.con.execute(f"ATTACH ':memory:' AS {self.name}")
            self.con.execute(f"USE {self.name}")
        except BaseException:
            self.con.close()
            folder.cleanup()
            raise
        self._release = weakref.finalize(self, _release, os.getpid(), self.con, self.name, folder)

    def frame(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """The result of a query as a DataFrame."""
        return self.con.execute(sql, params or []).df()

    def value(self, sql: str, params: list[Any] | None = None) -> Any:
        """The first cell of a query's result."""
        return self.con.execute(sql, params or []).fetchall()[0][0]

    def table(self, name: str, frame: pd.DataFrame) -> None:
        """Store `frame` as the table `name` (replacing it)."""
        self.con.register("_incoming_frame", frame)
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _incoming_frame")
        finally:
            self.con.unregister("_incoming_frame")

    def drop_tables(self, keep: tuple[str, ...] = ()) -> None:
        """Drop every table and view of this database but those in `keep`, freeing their memory (files in the folder
        stay)."""
        found = self.con.execute("SELECT table_name, table_type FROM information_schema.tables "
                                 "WHERE table_catalog = current_database()").fetchall()
        for name, kind in sorted(found, key=lambda t: t[1] != "VIEW"):  # views first: they read the tables
            if name not in keep:
                self.con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {name}")

    def close(self) -> None:
        """Free the database and its connection, and remove the temporary folder."""
        self._release()

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
