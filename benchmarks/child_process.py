"""A command run as a child process for a benchmark: its wall seconds and the operating system's accounting of it."""

from __future__ import annotations

import os
import resource
import subprocess
import time


def run_child(command: list[str]) -> tuple[float, resource.struct_rusage]:
    """Wall seconds and resource usage (CPU times, peak RSS) of `command`, which must exit 0."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    error = child.stderr.read().decode() if child.stderr else ""
    if child.stderr:
        child.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"{' '.join(command)} failed ({code}): {error}")
    return wall, usage
