"""A throw-away PostgreSQL 15 cluster for the warehouse tests: started as the postgres user, stopped by its PID."""

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

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")


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
