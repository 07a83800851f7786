"""Scratch databases share one DuckDB instance per process: each is still a database of its own (same table names,
other rows), freed on close or when collected, usable from threads at once, and a forked child gets its own."""

from __future__ import annotations

import gc
import multiprocessing
from concurrent.futures import ThreadPoolExecutor

import duckdb
import pytest

from kpi_workbook.workspace.scratch import Scratch


def _databases(scratch: Scratch) -> set[str]:
    return {name for (name,) in scratch.con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}


def _rows(scratch: Scratch, table: str = "raw") -> list[int]:
    return [n for (n,) in scratch.con.execute(f"SELECT n FROM {table} ORDER BY n").fetchall()]


def test_two_open_scratches_keep_their_own_tables():
    with Scratch() as first, Scratch() as second:
        first.con.execute("CREATE TABLE raw AS SELECT range AS n FROM range(3)")
        second.con.execute("CREATE TABLE raw AS SELECT range + 10 AS n FROM range(2)")
        second.con.execute("CREATE VIEW cells AS SELECT * FROM raw")
        assert (_rows(first), _rows(second)) == ([0, 1, 2], [10, 11])
        first.drop_tables()
        assert _rows(second, "cells") == [10, 11]
        with pytest.raises(duckdb.CatalogException, match="raw"):
            first.con.execute("SELECT * FROM raw")
        assert first.name != second.name and {first.name, second.name} <= _databases(first)  # one instance


def test_a_closed_or_collected_scratch_frees_its_database_and_folder():
    watcher = Scratch()
    closed = Scratch()
    closed.con.execute("CREATE TABLE raw AS SELECT range AS n FROM range(1000)")
    name, folder = closed.name, closed.folder
    closed.close()
    assert name not in _databases(watcher) and not folder.exists()
    dropped = Scratch()
    name, folder = dropped.name, dropped.folder
    del dropped
    gc.collect()
    assert name not in _databases(watcher) and not folder.exists()
    watcher.close()


def test_scratches_in_threads_at_once_each_read_their_own_rows():
    def own_rows(k: int) -> list[int]:
        with Scratch() as scratch:
            scratch.con.execute(f"CREATE TABLE raw AS SELECT range * {k} AS n FROM range(2000)")
            scratch.drop_tables(keep=("raw",))
            return _rows(scratch)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(own_rows, range(1, 9)))
    assert results == [[n * k for n in range(2000)] for k in range(1, 9)]


def _child_reads(queue: multiprocessing.Queue) -> None:
    with Scratch() as scratch:
        scratch.con.execute("CREATE TABLE raw AS SELECT range AS n FROM range(4)")
        queue.put(_rows(scratch))


def test_a_forked_child_makes_its_own_instance_and_the_parent_keeps_working():
    with Scratch() as parent:
        parent.con.execute("CREATE TABLE raw AS SELECT range AS n FROM range(2)")
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_child_reads, args=(queue,))
        child.start()
        assert queue.get(timeout=60) == [0, 1, 2, 3]
        child.join(timeout=60)
        assert child.exitcode == 0
        assert _rows(parent) == [0, 1]
