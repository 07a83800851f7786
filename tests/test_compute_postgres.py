"""One definition, any engine: the same measures on the same records in a real PostgreSQL server and in DuckDB."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from measure_fixtures import write_workspace

from kpi_workbook.analysis.measures import compute
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import load_framework
from kpi_workbook.workspace.sources import load_sources, read_text_source

PG_BIN = Path("/usr/lib/postgresql/15/bin")
KEYS = ["period", "team", "employee_id", "kpi_id"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL 15 cluster on 127.0.0.1 and a free port, stopped by its PID and removed after."""
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        pytest.skip(f"PostgreSQL 15 binaries not found in {PG_BIN} (or no runuser)")
    folder = Path(tempfile.mkdtemp(prefix="kpi-pg-"))
    shutil.chown(folder, "postgres")
    data = folder / "data"
    init = _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    assert init.returncode == 0, init.stderr
    port = _free_port()
    started = _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "log"), "-o",
                           f"-p {port} -h 127.0.0.1 -k {folder}", "start")
    assert started.returncode == 0, started.stderr + (folder / "log").read_text(errors="replace")
    pid = int((data / "postmaster.pid").read_text().split()[0])
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        shutil.rmtree(folder, ignore_errors=True)


SQL_TYPES = {"number": "double precision", "integer": "bigint", "text": "text", "date": "date",
             "datetime": "timestamp"}


def _load_into_postgres(root: Path, url: str) -> None:
    """The workspace's file sources, read strictly, as tables of the same names and types in PostgreSQL."""
    import psycopg

    framework = load_framework(root)
    employees = load_employees(root, framework)
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as con:
        for source in load_sources(root).values():
            frame = read_text_source(source, root, framework, employees)
            original = pd.read_csv(root / source.file, dtype=str, keep_default_na=False)
            types = {c: "text" for c in (source.employee, source.team) if c}
            types |= {c: SQL_TYPES[k.value] for c, k in source.value_types.items()}
            table = pd.DataFrame({c: original[c] if c in (source.employee, source.team) else frame[c]
                                  for c in types})
            for column, kind in source.value_types.items():
                if kind.value == "date":
                    table[column] = pd.to_datetime(table[column]).dt.date
            con.execute(f"DROP TABLE IF EXISTS {source.name}")
            con.execute(f"CREATE TABLE {source.name} (" + ", ".join(f"{c} {t}" for c, t in types.items()) + ")")
            rows = [tuple(None if pd.isna(v) else v.item() if hasattr(v, "item") else v for v in row)
                    for row in table.itertuples(index=False)]
            with con.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {source.name} VALUES ({', '.join(['%s'] * len(types))})", rows)


def _database_sources(root: Path, url: str) -> str:
    text = (root / "sources.yaml").read_text(encoding="utf-8")
    return text.replace("file: exports/deals.csv", f"url: {url}\n  table: deals").replace(
        "file: exports/headcount.csv", f"url: {url}\n  table: headcount")


def test_postgres_and_duckdb_compute_identical_values(tmp_path, postgres_url):
    local = write_workspace(tmp_path / "local")
    _load_into_postgres(local, postgres_url)
    remote = write_workspace(tmp_path / "remote", sources=_database_sources(local, postgres_url))
    framework = load_framework(local)
    employees = load_employees(local, framework)
    on_duckdb = compute(local, framework, employees)
    on_postgres = compute(remote, framework, employees)
    columns = [*KEYS, "value", "source_rows"]
    left = on_duckdb.values[columns].sort_values(KEYS).reset_index(drop=True)
    right = on_postgres.values[columns].sort_values(KEYS).reset_index(drop=True)
    assert len(left) == 39
    pd.testing.assert_frame_equal(left, right, check_exact=True)
    pd.testing.assert_frame_equal(on_duckdb.no_data.sort_values(KEYS).reset_index(drop=True),
                                  on_postgres.no_data.sort_values(KEYS).reset_index(drop=True))
