"""Ctrl-C always ends a run: a runner whose cleanup hangs is stopped by the watcher, its processes killed and its
run lock released."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psutil

from kpi_workbook.batch.interrupts import EXIT_INTERRUPTED
from kpi_workbook.batch.lock import LOCK_FILE

STUCK_RUNNER = """
import subprocess, sys, time
from pathlib import Path
from kpi_workbook.batch import interrupts
from kpi_workbook.batch.lock import run_lock
interrupts.FORCE_SECONDS = 1
interrupts.watch_interrupts("interrupted")
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
with run_lock(Path(sys.argv[1])):
    print(child.pid, flush=True)
    try:
        time.sleep(300)
    except KeyboardInterrupt:
        time.sleep(300)  # a cleanup that never ends
"""


def test_a_runner_stuck_after_ctrl_c_is_stopped_with_its_processes_and_lock(tmp_path):
    runner = subprocess.Popen([sys.executable, "-c", STUCK_RUNNER, str(tmp_path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    child = int(runner.stdout.readline())
    assert (tmp_path / LOCK_FILE).exists()
    started = time.monotonic()
    runner.send_signal(signal.SIGINT)
    _, err = runner.communicate(timeout=30)
    assert runner.returncode == EXIT_INTERRUPTED
    assert time.monotonic() - started < 15
    assert "interrupted (stopped after 1 s: the workers did not end by themselves)" in err
    assert not (tmp_path / LOCK_FILE).exists()
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE
