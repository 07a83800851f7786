"""A scratch DuckDB database for one import: the file's rows as tables, spilled to a temporary folder past a bound."""

from __future__ import annotations

__all__ = ["MEMORY_LIMIT", "PREFIX", "Scratch", "WHITESPACE", "literal", "remove_abandoned_folders"]

import os
import shutil
import tempfile
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


class Scratch:
    """An in-memory DuckDB connection whose data beyond MEMORY_LIMIT goes to a temporary folder, removed on close
    (or, when the import was killed, by the next import)."""

    def __init__(self) -> None:
        remove_abandoned_folders(Path(tempfile.gettempdir()))
        self._folder = tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-")
        self.folder = Path(self._folder.name)
        self.con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(self.folder / "spill"),
                                          "preserve_insertion_order": True})

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
        """Drop every table and view but those in `keep`, freeing their memory (files in the folder stay)."""
        found = self.con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall()
        for name, kind in sorted(found, key=lambda t: t[1] != "VIEW"):  # views first: they read the tables
            if name not in keep:
                self.con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {name}")

    def close(self) -> None:
        """Close the connection and remove the temporary folder."""
        self.con.close()
        self._folder.cleanup()

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
