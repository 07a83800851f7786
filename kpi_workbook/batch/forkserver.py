"""Kernel fork server: one process imports the notebooks' libraries once, then forks a fresh kernel for each scope.

Starting a kernel costs seconds of imports (pandas, matplotlib, pydantic, scipy, the package). The
server pays them once per worker process, before any notebook runs, and never runs notebook code nor receives a
parameter: it only gets a kernel's connection file, folder, environment and arguments. Each kernel is a fork of
that untouched process, so it starts with the libraries loaded and nothing of any team, exactly as a kernel
started from scratch would. Kernels talk to the worker over their connection file as usual; the server answers
each request with the new kernel's process id on a pipe, and ends when the worker closes that pipe or dies (on
Linux at once, by a parent-death signal, when the worker's main thread started it); its kernels end with it.

    python -m kpi_workbook.batch.forkserver NOTEBOOKS_FOLDER [WORKER_PID]     (started by `ForkServer`, not by hand)
"""

from __future__ import annotations

__all__ = [
    "ForkServer", "ForkedKernelProvisioner", "ForkedProcess", "INLINE_BACKEND", "KERNEL_LIBRARIES", "KERNEL_MODULE",
    "LIBRARIES", "PACKAGE", "READY", "notebook_imports", "preload", "serve",
]

import ast
import contextlib
import gc
import importlib
import io
import json
import multiprocessing.util
import os
import signal
import subprocess
import sys
import threading
from functools import cache
from pathlib import Path
from typing import IO, Any, cast

import psutil
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner

from kpi_workbook.batch.parent_death import end_with
from kpi_workbook.core.paths import NOTEBOOKS_DIR

KERNEL_MODULE = "ipykernel_launcher"  # the kernels a fork can stand in for: `python -m ipykernel_launcher ...`
READY = "ready"
# What every kernel loads, whatever it runs.
KERNEL_LIBRARIES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell")
# What the step notebooks load besides their own import cells (imports made inside functions): loaded ahead only for
# notebooks that import the package.
LIBRARIES = ("matplotlib_inline.backend_inline", "matplotlib.pyplot", "pandas.io.formats.style",
             "pyarrow.pandas_compat", "kpi_workbook.steps.design_evidence",
             "kpi_workbook.reports.evidence_section")  # the statistics
PACKAGE = "kpi_workbook"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # a kernel's own default


def notebook_imports(folder: Path) -> list[str]:
    """The top-level import statements of the code cells of the step notebooks in `folder`, each once.

    The notebooks are read as plain JSON: nbformat's validator would cost the server a second of imports.
    """
    statements: dict[str, None] = {}
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            lines = "".join(source).splitlines() if isinstance(source, list) else source.splitlines()
            code = "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))
            with contextlib.suppress(SyntaxError):  # a cell that is not plain Python imports nothing here
                for node in ast.parse(code).body:
                    if isinstance(node, ast.Import) or isinstance(node, ast.ImportFrom) and not node.level:
                        statements[ast.unparse(node)] = None
    return list(statements)


def preload(folder: Path = NOTEBOOKS_DIR) -> None:
    """Team-independent work done once for the notebooks of `folder`: the kernel's libraries and the notebooks'
    imports; for notebooks that import the package, also the libraries they use, the library's cached suggestion
    vectors, one figure drawn (fonts found and loaded) and one table styled (templates compiled)."""
    statements = notebook_imports(folder)
    for name in KERNEL_LIBRARIES:
        importlib.import_module(name)
    uses_the_package = any(PACKAGE in statement.split() or f"{PACKAGE}." in statement for statement in statements)
    for name in LIBRARIES if uses_the_package else ():
        importlib.import_module(name)
    for statement in statements:
        exec(statement, {})  # noqa: S102 - an import statement of a notebook the run was given
    if uses_the_package:
        _warm_the_package()


def _warm_the_package() -> None:
    import matplotlib.pyplot as plt
    import pandas as pd

    from kpi_workbook.analysis.library import prepare_suggestions

    prepare_suggestions()
    figure = plt.figure()
    figure.add_subplot().plot([0, 1], [0, 1], label="warm-up")
    figure.legend()
    figure.savefig(io.BytesIO(), format="png")
    plt.close(figure)
    pd.DataFrame({"warm-up": [1.5]}).style.format("{:.1f}").hide(axis="index").to_html()


# --- the server process ---------------------------------------------------------------------------------------


def _kernel_child(request: dict[str, Any], server: int) -> None:
    """In the forked child: become a kernel as `python -m ipykernel_launcher ARGV` would, in its own session, killed
    when its server ends."""
    os.setsid()
    end_with(server, signal.SIGKILL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the kernel's own subprocesses are waited for as usual
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # the pipe to the worker is the server's, never the kernel's: its stdout goes where stderr goes
    os.close(devnull)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    # ipykernel read JPY_PARENT_PID when the server imported it: the kernel is told its parent (the server, which
    # ends with the worker) here, so it ends when that parent does, and prints no banner to the terminal.
    sys.argv = [KERNEL_MODULE, *request["argv"], f"--IPKernelApp.parent_handle={server}"]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


def serve(requests: IO[str], replies: IO[str], folder: Path = NOTEBOOKS_DIR, worker: int | None = None) -> None:
    """Preload for the notebooks of `folder`, then fork one kernel per request line (JSON: argv, cwd, env); reply
    with its pid; stop at EOF.

    worker: the process that started the server from its main thread; the server is killed when it ends.
    """
    if worker is not None:
        end_with(worker, signal.SIGKILL)
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    preload(folder)
    del os.environ["MPLBACKEND"]
    gc.collect()
    gc.freeze()  # what every kernel shares stays out of its collections (and its pages shared)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels that end are reaped by the system, never zombies
    replies.write(READY + "\n")
    replies.flush()
    server = os.getpid()
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                _kernel_child(request, server)
            finally:
                os._exit(0)
        replies.write(f"{pid}\n")
        replies.flush()


# --- the worker's side ----------------------------------------------------------------------------------------


class ForkServer:
    """This process's fork server, started on first use (or ahead, by `start`) and replaced if it died."""

    _lock = threading.Lock()
    _process: subprocess.Popen[str] | None = None
    _answered = False  # whether it said READY (its preload done)

    _folder: Path = NOTEBOOKS_DIR  # whose notebooks' imports it loads

    @classmethod
    def start(cls, folder: Path = NOTEBOOKS_DIR) -> None:
        """Start the server for the notebooks of `folder` if it is not running, without waiting for its preload."""
        with cls._lock:
            cls._folder = folder
            cls._start()

    @classmethod
    def fork(cls, argv: list[str], cwd: str, env: dict[str, str]) -> int:
        """A new kernel's pid, once the server is ready; RuntimeError if the server cannot start one."""
        with cls._lock:
            requests, answers = _pipes(cls._start())
            if not cls._answered:
                if (answer := answers.readline().strip()) != READY:
                    cls._stop()
                    raise RuntimeError(f"the kernel fork server did not start (it answered {answer!r})")
                cls._answered = True
            requests.write(json.dumps({"argv": argv, "cwd": cwd, "env": env}) + "\n")
            requests.flush()
            reply = answers.readline().strip()
            if not reply.isdigit():
                cls._stop()
                raise RuntimeError(f"the kernel fork server did not start a kernel (it answered {reply!r})")
        return int(reply)

    @classmethod
    def stop(cls) -> None:
        """Kill the server; its kernels notice within a second that their parent is gone, and end."""
        with cls._lock:
            cls._stop()

    @classmethod
    def kill(cls) -> None:
        """Kill the server at once, taking no lock (from a signal handler, when this process must end)."""
        if cls._process is not None:
            with contextlib.suppress(OSError):
                os.kill(cls._process.pid, signal.SIGKILL)

    @classmethod
    def _start(cls) -> subprocess.Popen[str]:
        if cls._process is None or cls._process.poll() is not None:
            cls._answered = False
            # a parent-death signal follows the thread that started the server: asked for only by a main thread
            owner = [str(os.getpid())] if threading.current_thread() is threading.main_thread() else []
            cls._process = subprocess.Popen(  # its own session: Ctrl-C goes to the runner, which stops its kernels
                [sys.executable, "-m", __name__, str(cls._folder), *owner], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True, start_new_session=True)
            _stop_at_exit()
        return cls._process

    @classmethod
    def _stop(cls) -> None:
        if cls._process is not None:
            with contextlib.suppress(OSError):
                cls._process.kill()
            cls._process.wait()
            cls._process = None


def _pipes(process: subprocess.Popen[str]) -> tuple[IO[str], IO[str]]:
    """The server's stdin and stdout (`ForkServer._start` opens both as pipes)."""
    if process.stdin is None or process.stdout is None:
        raise RuntimeError("the kernel fork server has no pipes")
    return process.stdin, process.stdout


@cache
def _stop_at_exit() -> None:
    """Once: the server stopped when this process ends, also as a worker process (which skips atexit)."""
    multiprocessing.util.Finalize(None, ForkServer.stop, exitpriority=0)


class ForkedProcess:
    """What the provisioner needs of a `subprocess.Popen` for a kernel that is not this process's child."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        try:
            self._process: psutil.Process | None = psutil.Process(pid)  # its start time guards against pid reuse
        except psutil.NoSuchProcess:
            self._process = None

    def poll(self) -> int | None:
        """None while the kernel runs; its exit code is its parent's to know, so -1 once it ended."""
        try:
            running = self._process is not None and self._process.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            running = False
        return None if running else -1

    def wait(self, timeout: float | None = None) -> int:
        if self._process is not None:
            with contextlib.suppress(psutil.NoSuchProcess):
                self._process.wait(timeout)
        return -1

    def send_signal(self, signum: int) -> None:
        if self._process is not None and self.poll() is None:  # poll() is None only for a process found
            self._process.send_signal(signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkedKernelProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, with the kernel forked by the fork server instead of started anew.

    A kernel spec that is not `python -m ipykernel_launcher` for this interpreter is started the usual way.
    """

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        if cmd[:3] != [sys.executable, "-m", KERNEL_MODULE]:
            return await super().launch_kernel(cmd, **kwargs)
        env = {**kwargs.get("env", os.environ), "JPY_PARENT_PID": str(os.getpid())}  # it ends when this process does
        cwd = str(kwargs.get("cwd") or os.getcwd())
        pid = ForkServer.fork(cmd[3:], cwd, env)
        # not a Popen, but what the provisioner uses of one (see ForkedProcess)
        self.process = cast("subprocess.Popen[Any]", ForkedProcess(pid))
        self.pid = self.pgid = pid  # its own session: signals go to its whole process group
        self.cwd = cwd
        return self.connection_info


if __name__ == "__main__":
    serve(sys.stdin, sys.stdout, Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
