"""Ctrl-C always ends a run: if the runner is still there FORCE_SECONDS after the first Ctrl-C (its cleanup stuck
on a worker or the process pool), a watcher thread kills its processes, releases its run locks and leaves.

The watcher reads the signal wakeup file descriptor, which the interpreter writes from its C signal handler, so it
sees a Ctrl-C even when the main thread is blocked where Python's own handler cannot run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from functools import cache

import psutil

from kpi_workbook.batch.lock import release_held_locks

FORCE_SECONDS = 15
EXIT_INTERRUPTED = 130


@cache
def watch_interrupts(message: str) -> None:
    """Once per process (from its main thread; elsewhere it does nothing): after a Ctrl-C, leave with exit code
    130 within FORCE_SECONDS, saying `message` if the run had to be stopped that way."""
    if threading.current_thread() is not threading.main_thread():
        return
    read, write = os.pipe()
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    threading.Thread(target=_watch, args=(read, message), name="interrupt-watch", daemon=True).start()


def _watch(read: int, message: str) -> None:
    while signal.SIGINT not in os.read(read, 64):
        pass
    if threading.Event().wait(FORCE_SECONDS):  # never set: the main thread's own unwinding has this long
        return
    for child in psutil.Process().children(recursive=True):  # workers, their fork servers and kernels
        with contextlib.suppress(psutil.Error):
            child.kill()
    release_held_locks()
    os.write(2, f"{message} (stopped after {FORCE_SECONDS} s: the workers did not end by themselves)\n".encode())
    os._exit(EXIT_INTERRUPTED)
