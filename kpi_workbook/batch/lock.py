"""One runner per period folder: a lock file holding the runner's PID, refused to a second runner while it lives.

The lock is created with O_EXCL (atomic, also on shared storage). A lock left by a runner that died (its PID gone,
or taken by a newer process) on this host is stale and taken over; a lock held from another host is refused, since
its holder cannot be checked from here.
"""

from __future__ import annotations

__all__ = ["LOCK_FILE", "run_lock"]

import contextlib
import json
import os
import socket
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psutil

from kpi_workbook.core.errors import InputError, Problem

LOCK_FILE = ".run.lock"


def _holder() -> dict[str, object]:
    me = psutil.Process()
    return {"pid": me.pid, "host": socket.gethostname(), "process_started": me.create_time(),
            "started": datetime.now().astimezone().isoformat(timespec="seconds")}


def _read(path: Path) -> dict | None:
    """The lock's holder, or None if the file is gone or unreadable (cut short by a kill during its write)."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
        return holder if isinstance(holder, dict) and isinstance(holder.get("pid"), int) else None
    except (OSError, ValueError):
        return None


def _alive(holder: dict) -> bool:
    """Whether the lock's holder still runs: its PID lives and is the same process (not a reused PID)."""
    try:
        return abs(psutil.Process(holder["pid"]).create_time() - float(holder.get("process_started", 0))) < 1
    except (psutil.Error, TypeError, ValueError):
        return False


def _refusal(path: Path, holder: dict) -> InputError:
    where = f" on {holder.get('host')}" if holder.get("host") != socket.gethostname() else ""
    return InputError(Problem(option=f"--out {path.parent}", message=(
        f"another kpi-workbook run (PID {holder['pid']}{where}, started {holder.get('started', '?')}) is writing "
        f"these reports; wait for it to finish or choose another --out (its lock: {path.name})")))


def _create(path: Path) -> bool:
    """Create the lock file with this process as holder; False if it exists already."""
    staged = path.with_name(f"{path.name}.{uuid.uuid4().hex[:12]}")
    staged.write_text(json.dumps(_holder()), encoding="utf-8")
    try:
        os.link(staged, path)  # atomic, and the lock never exists half written
        return True
    except FileExistsError:
        return False
    finally:
        staged.unlink(missing_ok=True)


@contextlib.contextmanager
def run_lock(folder: Path) -> Iterator[Path]:
    """Hold the run lock of `folder` for the block; raises InputError naming the holder if another runner has it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    while not _create(path):
        holder = _read(path)
        if holder is not None and (holder.get("host") != socket.gethostname() or _alive(holder)):
            raise _refusal(path, holder)
        stale = path.with_name(f"{path.name}.stale.{uuid.uuid4().hex[:12]}")
        with contextlib.suppress(FileNotFoundError):  # gone meanwhile: try again
            os.rename(path, stale)
            if _read(stale) != holder:  # another runner took the stale lock over first: give its lock back
                with contextlib.suppress(FileExistsError):
                    os.link(stale, path)
            stale.unlink()
    try:
        yield path
    finally:
        if (_read(path) or {}).get("pid") == os.getpid():
            path.unlink(missing_ok=True)
