"""Warm kernels: one kernel per scope runs that scope's notebooks one after the other, its namespace reset between.

A kernel is forked from the worker's fork server (see `forkserver`), which has imported the libraries the step
notebooks use and nothing about any team, so the first notebook of a scope finds them imported, and the next
notebooks skip the kernel start altogether.
Between two notebooks the user namespace, the output history, open figures and the execution counter are reset,
so one notebook never sees a value of the one before. Kernels talk over local sockets (IPC) where the platform
has them: no TCP ports to race for, and no "running over TCP without encryption" warning on the terminal. Their
clients are `kernel_client.RecheckingKernelClient`s, which cannot miss a cell's reply that arrived while they sent
something on the same channel.
"""

from __future__ import annotations

__all__ = [
    "FORKS_KERNELS", "KERNEL_NAME", "KernelResetError", "PRELOAD", "RESET", "RESET_TIMEOUT", "START_TIMEOUT",
    "WarmKernel", "new_kernel", "stop_ahead", "stop_all",
]

import contextlib
import multiprocessing.util
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from functools import cache
from pathlib import Path

from jupyter_client.asynchronous import AsyncKernelClient
from nbclient.util import run_sync

from kpi_workbook.batch.forkserver import ForkedKernelProvisioner, ForkServer
from kpi_workbook.batch.kernel_client import RecheckingKernelManager
from kpi_workbook.core.errors import KpiWorkbookError
from kpi_workbook.core.issue_codes import Code

KERNEL_NAME = "python3"
FORKS_KERNELS = hasattr(os, "fork")  # kernels forked from a fork server; elsewhere started the usual way
START_TIMEOUT = 120.0  # the kernel's start and its preload; generous, for a loaded machine
RESET_TIMEOUT = 60.0
# Team-independent work done as soon as a kernel starts: the inline backend; the imports and the library's cached
# suggestion vectors are there already in a forked kernel (and loaded here in one started the usual way).
PRELOAD = """\
%matplotlib inline
import matplotlib.pyplot, pandas
import kpi_workbook.steps, kpi_workbook.widgets, kpi_workbook.analysis.review, kpi_workbook.reports.charts
from kpi_workbook.analysis.library import prepare_suggestions
prepare_suggestions()
"""
# What a notebook leaves behind, cleared before the next one: figures, the last exception, and (IPython's reset
# with a new session) the user namespace, In/Out and the input history; the execution counter starts at 1 again,
# as in a kernel of the notebook's own.
RESET = """\
__import__("matplotlib.pyplot").pyplot.close("all") if "matplotlib.pyplot" in __import__("sys").modules else None
__import__("sys").last_exc = __import__("sys").last_type = __import__("sys").last_value = None
__import__("sys").last_traceback = None
get_ipython().reset(new_session=True)
__import__("gc").collect()
"""

_live: set[WarmKernel] = set()  # the kernels this process runs, stopped by stop_all when the process must end


class KernelResetError(KpiWorkbookError, RuntimeError):
    """The kernel did not reset cleanly; it must not run another notebook."""

    code = Code.RUN_KERNEL_RESET


class WarmKernel:
    """A started kernel (manager and client) that runs one scope's notebooks in `cwd`."""

    def __init__(self, cwd: Path, scratch: str | None = None) -> None:
        """Start the kernel and send it PRELOAD; return without waiting (see `ready`)."""
        self.cwd, self.scratch = cwd, scratch
        self._socket_dir = tempfile.mkdtemp(prefix="k-", dir=scratch)
        transport = {} if sys.platform == "win32" else {"transport": "ipc",
                                                        "ip": os.path.join(self._socket_dir, "kernel")}
        self.manager = RecheckingKernelManager(kernel_name=KERNEL_NAME, kernel_id=uuid.uuid4().hex, **transport)
        if FORKS_KERNELS:
            self.manager.provisioner = ForkedKernelProvisioner(kernel_id=self.manager.kernel_id,
                                                               kernel_spec=self.manager.kernel_spec,
                                                               parent=self.manager)
        self.client: AsyncKernelClient | None = None
        self._ready = False
        run_sync(self._start)()
        _live.add(self)

    async def _start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # Agg would drop every inline figure
        await self.manager.start_kernel(cwd=str(self.cwd), env=env,
                                        extra_arguments=["--HistoryManager.hist_file=:memory:"])
        self.client = client = self.manager.client()
        client.start_channels()
        client.execute(PRELOAD, silent=True, store_history=False)

    def _started_client(self) -> AsyncKernelClient:
        """The kernel's client, made once the kernel started (in __init__)."""
        if self.client is None:
            raise RuntimeError("the kernel has no client: it did not start")
        return self.client

    def ready(self) -> None:
        """Wait until the kernel answers (its preload done); raises RuntimeError if it died or did not answer."""
        if not self._ready:
            run_sync(self._started_client().wait_for_ready)(timeout=START_TIMEOUT)
            self.reset()
            self._ready = True

    def reset(self) -> None:
        """Clear what the last notebook left (see RESET); raises KernelResetError if the kernel cannot."""
        run_sync(self._reset)()

    async def _reset(self) -> None:
        client = self._started_client()
        msg_id = client.execute(RESET, silent=True, store_history=False)
        deadline = time.monotonic() + RESET_TIMEOUT
        while True:
            try:
                reply = await client.get_shell_msg(timeout=max(deadline - time.monotonic(), 0.01))
            except Exception as exc:  # queue.Empty on a timeout; the kernel died or hangs
                raise KernelResetError(f"the kernel did not reset within {RESET_TIMEOUT:g} s") from exc
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        if reply["content"]["status"] != "ok":
            raise KernelResetError(f"the kernel could not reset: {reply['content'].get('evalue', '')}")

    @property
    def alive(self) -> bool:
        return bool(run_sync(self.manager.is_alive)())

    def shutdown(self) -> None:
        """Stop the kernel at once and remove its sockets."""
        _live.discard(self)
        try:
            if self.client is not None:
                self.client.stop_channels()
            run_sync(self.manager.shutdown_kernel)(now=True)  # also removes its connection file
        except RuntimeError:  # no kernel running any more
            run_sync(self.manager.cleanup_resources)()
        finally:
            shutil.rmtree(self._socket_dir, ignore_errors=True)


_ahead: list[WarmKernel] = []  # the kernel started ahead for this process's next scope (none, or one)


def new_kernel(cwd: Path, scratch: str | None = None) -> WarmKernel:
    """A ready kernel for a scope, and another one started for the next scope while this one runs.

    The kernel started ahead has run nothing but PRELOAD, as a kernel started when it is needed; it is used if it
    is alive and has the same folders, else replaced. Raises RuntimeError if no kernel starts.
    """
    kernel = _ahead.pop() if _ahead else None
    if kernel is None or (kernel.cwd, kernel.scratch) != (cwd, scratch) or not kernel.alive:
        if kernel is not None:
            kernel.shutdown()
        kernel = WarmKernel(cwd, scratch)
    try:
        kernel.ready()
    except Exception:
        kernel.shutdown()
        raise
    with contextlib.suppress(Exception):  # no kernel ahead: the next scope starts its own, or fails on its own
        _ahead.append(WarmKernel(cwd, scratch))
        _stop_ahead_at_exit()
    return kernel


@cache
def _stop_ahead_at_exit() -> None:
    """Once: `stop_ahead` when this process ends, also as a worker process (which skips atexit)."""
    multiprocessing.util.Finalize(None, stop_ahead, exitpriority=1)  # before the fork server stops


def stop_ahead() -> None:
    """Shut the kernel started ahead down (this process takes no more scopes)."""
    while _ahead:
        _ahead.pop().shutdown()


def stop_all() -> None:
    """Kill every kernel this process started, and its fork server (a worker asked to stop cannot wait for polite
    shutdowns)."""
    ForkServer.kill()
    for kernel in list(_live):
        provisioner = kernel.manager.provisioner
        pid = getattr(getattr(provisioner, "process", None), "pid", None)
        if pid:
            with contextlib.suppress(OSError):  # gone already
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(kernel._socket_dir, ignore_errors=True)
