"""Processes that end with the process they work for, even when it is killed with SIGKILL and can clean nothing up.

A fork server and its kernels ask for a parent-death signal (Linux's ``prctl(PR_SET_PDEATHSIG)``, sent when the
thread that started the process ends); elsewhere they end as before: a fork server at the end of its request pipe,
a kernel through ipykernel's parent poller. A worker of the local pool may be the child of multiprocessing's fork
server rather than of the runner, so it watches the runner itself (`on_death`).
"""

from __future__ import annotations

__all__ = ["PR_SET_PDEATHSIG", "end_with", "on_death"]

import contextlib
import ctypes
import os
import select
import sys
import threading
from collections.abc import Callable

import psutil

PR_SET_PDEATHSIG = 1


def end_with(owner: int, signum: int) -> None:
    """Have `signum` sent to this process when its parent ends; sent at once if `owner` (the process it works for,
    its parent or an ancestor) has ended already, before the request took effect."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if _gone(owner):
        os.kill(os.getpid(), signum)


def _gone(owner: int) -> bool:
    """Whether `owner` has ended: it is no longer this process's parent, and is no process or a zombie."""
    if os.getppid() == owner:
        return False
    try:
        return psutil.Process(owner).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def on_death(owner: int, action: Callable[[], None]) -> None:
    """Call `action` in a daemon thread as soon as process `owner` ends (at once if it has ended already)."""
    threading.Thread(target=_wait_then, args=(owner, action), name="owner-watch", daemon=True).start()


def _wait_then(owner: int, action: Callable[[], None]) -> None:
    try:
        handle = os.pidfd_open(owner)  # Linux: readable once the process has ended, no polling
    except ProcessLookupError:
        pass
    except (AttributeError, OSError):  # another system, or an older kernel
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(owner).wait()
    else:
        waiting = select.poll()
        waiting.register(handle, select.POLLIN)
        waiting.poll()
        os.close(handle)
    action()
