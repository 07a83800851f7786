"""`kpi-workbook run` as a process of its own in the tests: started as from a terminal, ended in bounded time, and
every process it left found, whatever session it moved to.

A suite started as a background job of a non-interactive shell (as a CI step may be) inherits SIGINT ignored, and
so does every process it starts: a runner started plainly would never see a test's Ctrl-C. `start_run` gives the
runner the default dispositions of SIGINT, SIGTERM and SIGHUP, unblocked, as a terminal does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil
import pytest

CLI = Path(sys.executable).parent / "kpi-workbook"
MARK = "KPI_WORKBOOK_TEST_RUN"  # set in a runner's environment; every process it starts inherits it
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
EXEC_WITH = """\
import os, signal, sys
for number in {stop}:
    signal.signal(number, signal.SIG_IGN if number in {ignored} else signal.SIG_DFL)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {stop})
os.execv(sys.argv[1], sys.argv[1:])
"""


class Run(subprocess.Popen):
    """A runner process, with the mark its processes carry in their environment."""

    mark: str


def start_run(*args: object, env: dict[str, str] | None = None, ignore: Sequence[int] = ()) -> Run:
    """`kpi-workbook ARGS` in a session of its own, stdout and stderr piped, Ctrl-C as in a terminal; the signals
    in `ignore` ignored (as by nohup)."""
    mark = uuid.uuid4().hex
    environment = {**os.environ, **(env or {}), MARK: mark}
    environment.pop("KPI_WORKBOOK_WORKSPACE", None)
    code = EXEC_WITH.format(stop=[int(s) for s in STOP_SIGNALS], ignored=[int(s) for s in ignore])
    proc = Run([sys.executable, "-c", code, str(CLI), *map(str, args)], stdout=subprocess.PIPE,
               stderr=subprocess.PIPE, text=True, env=environment, start_new_session=True)
    proc.mark = mark
    return proc


def processes_of(run: Run) -> list[psutil.Process]:
    """Every live process of a run: the runner's descendants, and any process carrying its mark (a kernel in a
    session of its own, an orphan adopted by another parent)."""
    found = {}
    for process in psutil.process_iter():
        try:
            if process.environ().get(MARK) == run.mark and process.status() != psutil.STATUS_ZOMBIE:
                found[process.pid] = process
        except psutil.Error:  # ended while we look, or not ours to read
            continue
    return list(found.values())


def describe(processes: Sequence[psutil.Process]) -> str:
    """One line per process: pid, parent, session, state, what it waits in, and its command line."""
    lines = []
    for process in processes:
        try:
            wchan = Path(f"/proc/{process.pid}/wchan").read_text() if sys.platform == "linux" else "?"
            lines.append(f"{process.pid} ppid={process.ppid()} sid={os.getsid(process.pid)} {process.status()} "
                         f"wchan={wchan} {' '.join(process.cmdline())[:200]}")
        except (psutil.Error, OSError):
            lines.append(f"{process.pid} (ended)")
    return "\n".join(lines)


def kill_all(run: Run) -> str:
    """SIGKILL for the runner and every process of its run; their description, as they were."""
    processes = processes_of(run)
    text = describe(processes)
    for process in processes:
        try:
            process.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(processes, timeout=10)
    return text


def finish(run: Run, timeout: float, what: str = "end") -> tuple[str, str]:
    """The run's stdout and stderr once it ends within `timeout` s; else every process of it is killed and the
    test fails with what they were doing."""
    try:
        return run.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        text = kill_all(run)
        try:
            _, err = run.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # a process out of reach still holds the pipes
            err = "(its pipes stayed open)"
        pytest.fail(f"the runner did not {what} within {timeout:g} s; its processes:\n{text}\n{err}")


def stop(run: Run, signum: int = signal.SIGINT, timeout: float = 60) -> tuple[str, str]:
    """Send `signum` to the runner's whole process group (Ctrl-C in its terminal) and `finish` it."""
    if run.poll() is None:
        os.killpg(run.pid, signum)
    return finish(run, timeout, f"end after {signal.Signals(signum).name}")


def wait_for(condition: Callable[[], object], timeout: float = 180, what: str = "the condition") -> None:
    """Poll `condition` until it holds; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.2)
