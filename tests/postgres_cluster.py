"""A throw-away PostgreSQL 15 cluster for the warehouse tests: started as the postgres user once per test process
(each xdist worker has its own), stopped by its PID; each test module gets a new database of its own in it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[str, int]]:
    """A throw-away PostgreSQL 15 cluster on 127.0.0.1 and a free port, stopped by its PID and removed after: its
    socket folder and port."""
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
        yield str(folder), port
    finally:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_url(postgres_server: tuple[str, int], request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, empty database in the cluster for the test module (nothing another module made is in it), dropped
    after the module."""
    folder, port = postgres_server
    name = re.sub(r"\W", "_", request.module.__name__).lower()
    made = _as_postgres(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", name)
    assert made.returncode == 0, made.stderr + (Path(folder) / "log").read_text(errors="replace")
    yield f"postgres://postgres@127.0.0.1:{port}/{name}"
    _as_postgres(str(PG_BIN / "dropdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "--force", name)
