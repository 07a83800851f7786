"""Kernel fork server: one process imports the notebooks' libraries once, then forks a fresh kernel for each scope.

Starting a kernel costs seconds of imports (pandas, matplotlib, pydantic, scipy, the package). The
server pays them once per run, before any notebook runs, and never runs notebook code nor receives a
parameter: it only gets a kernel's connection file, folder, environment and arguments. Each kernel is a fork of
that untouched process, so it starts with the libraries loaded and nothing of any team, exactly as a kernel
started from scratch would. Kernels talk to their worker over their connection file as usual.

The process that starts the server owns it (the runner, or a worker of its own, e.g. on a Dask cluster); it and
the processes it hands the server's address to (`ForkServer.join`: the local pool's workers) each connect to its
socket, and get the new kernel's process id for each request. One server for all the workers of a run: one
preload, and its memory shared by every kernel. The server ends when its owner closes the pipe to its stdin or dies
(on Linux at once, by a parent-death signal, when the owner's main thread started it); its kernels end with it,
and each kernel also ends with the worker that asked for it.

    python -m kpi_workbook.batch.forkserver NOTEBOOKS_FOLDER LISTENING_FD [OWNER_PID]   (started by `ForkServer`)
"""

from __future__ import annotations

__all__ = [
    "ForkServer", "ForkedKernelProvisioner", "ForkedProcess", "INLINE_BACKEND", "KERNEL_LIBRARIES", "KERNEL_MODULE",
    "LIBRARIES", "READY", "STDIN", "STEP_MODULES", "notebook_imports", "preload", "serve",
]

import ast
import contextlib
import gc
import importlib
import io
import json
import multiprocessing.util
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from functools import cache
from pathlib import Path
from typing import Any, cast

import psutil
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner

from kpi_workbook.batch.parent_death import end_with, on_death
from kpi_workbook.core.paths import NOTEBOOKS_DIR

KERNEL_MODULE = "ipykernel_launcher"  # the kernels a fork can stand in for: `python -m ipykernel_launcher ...`
READY = "ready"
STDIN = 0  # the server's life line: it ends when its owner closes it
# What every kernel loads, whatever it runs.
KERNEL_LIBRARIES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell")
# What the step notebooks load besides their own import cells (imports made inside functions): loaded ahead only for
# notebooks that import the package.
LIBRARIES = ("matplotlib_inline.backend_inline", "matplotlib.pyplot", "pandas.io.formats.style",
             "pyarrow.pandas_compat", "kpi_workbook.steps.design_evidence",
             "kpi_workbook.reports.evidence_section")  # the statistics
# The package's modules whose functions import LIBRARIES (charts, styled tables, statistics): what the step notebooks
# import. Notebooks that import only other parts of the package (a workspace reader, say) get their own imports.
STEP_MODULES = ("kpi_workbook.steps", "kpi_workbook.widgets", "kpi_workbook.reports")
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


def _imported_modules(statement: str) -> list[str]:
    """The modules an import statement names: `from a import b` names a and a.b (b may be a submodule)."""
    node = ast.parse(statement).body[0]
    if isinstance(node, ast.ImportFrom):
        return [node.module or "", *(f"{node.module}.{alias.name}" for alias in node.names)]
    return [alias.name for alias in cast(ast.Import, node).names]


def _uses_the_steps(statements: list[str]) -> bool:
    return any(module == step or module.startswith(f"{step}.")
               for statement in statements for module in _imported_modules(statement) for step in STEP_MODULES)


def preload(folder: Path = NOTEBOOKS_DIR) -> None:
    """Team-independent work done once for the notebooks of `folder`: the kernel's libraries and the notebooks'
    imports; for notebooks that import the package's steps, widgets or reports (STEP_MODULES), also the libraries
    those use, the library's cached suggestion vectors, one figure drawn (fonts found and loaded) and one table
    styled (templates compiled)."""
    statements = notebook_imports(folder)
    for name in KERNEL_LIBRARIES:
        importlib.import_module(name)
    uses_the_steps = _uses_the_steps(statements)
    for name in LIBRARIES if uses_the_steps else ():
        importlib.import_module(name)
    for statement in statements:
        exec(statement, {})  # noqa: S102 - an import statement of a notebook the run was given
    if uses_the_steps:
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
    when its server ends or the worker that asked for it does."""
    os.setsid()
    end_with(server, signal.SIGKILL)
    on_death(int(request["worker"]), lambda: os.kill(os.getpid(), signal.SIGKILL))
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the kernel's own subprocesses are waited for as usual
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # the server's stdout is no one's: the kernel's goes where stderr goes
    os.close(devnull)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    # ipykernel read JPY_PARENT_PID when the server imported it: the kernel is told its parent (the server, which
    # ends with its owner) here, so it ends when that parent does, and prints no banner to the terminal.
    sys.argv = [KERNEL_MODULE, *request["argv"], f"--IPKernelApp.parent_handle={server}"]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


def serve(listener: socket.socket, folder: Path = NOTEBOOKS_DIR, owner: int | None = None) -> None:
    """Preload for the notebooks of `folder`, then say READY to each connection to `listener` (a listening Unix
    socket) and fork one kernel per request line it sends (JSON: argv, cwd, env, worker); reply with its pid; stop at
    the end of stdin.

    owner: the process that started the server from its main thread; the server is killed when it ends.
    """
    if owner is not None:
        end_with(owner, signal.SIGKILL)
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    preload(folder)
    del os.environ["MPLBACKEND"]
    gc.collect()
    gc.freeze()  # what every kernel shares stays out of its collections (and its pages shared)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels that end are reaped by the system, never zombies
    with selectors.DefaultSelector() as selector:
        selector.register(STDIN, selectors.EVENT_READ)
        selector.register(listener, selectors.EVENT_READ)
        while _serve_ready(selector, listener):
            pass


def _serve_ready(selector: selectors.BaseSelector, listener: socket.socket) -> bool:
    """Answer what is ready to read: a new connection, a client's requests, or stdin (False at its end)."""
    for key, _ in selector.select():
        if key.fd == STDIN:
            if not os.read(STDIN, 4096):
                return False
        elif key.fileobj is listener:
            connection, _ = listener.accept()
            connection.sendall(f"{READY}\n".encode())
            selector.register(connection, selectors.EVENT_READ, bytearray())
        else:
            connection, pending = cast("socket.socket", key.fileobj), cast("bytearray", key.data)
            received = connection.recv(65536)
            if not received:  # the client ended
                selector.unregister(connection)
                connection.close()
                continue
            pending += received
            while b"\n" in pending:
                line, _, rest = bytes(pending).partition(b"\n")
                pending[:] = rest
                connection.sendall(f"{_fork_kernel(json.loads(line), selector)}\n".encode())
    return True


def _fork_kernel(request: dict[str, Any], selector: selectors.BaseSelector) -> int:
    """Fork a kernel for `request`; its pid. The child keeps none of the server's sockets."""
    server = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            for key in list(selector.get_map().values()):
                if key.fd != STDIN:
                    cast("socket.socket", key.fileobj).close()
            _kernel_child(request, server)
        finally:
            os._exit(0)
    return pid


# --- the workers' side ----------------------------------------------------------------------------------------


class ForkServer:
    """The fork server this process uses: its own, started on first use (or ahead, by `start`) and replaced if it
    died, or one another process owns (`join`)."""

    _lock = threading.Lock()
    _process: subprocess.Popen[bytes] | None = None  # the server this process started
    _owner = 0  # the pid of the process that started `_process` (a forked worker inherits it, but does not own it)
    _address = ""  # the server's socket
    _connection: tuple[int, socket.socket, io.BufferedReader] | None = None  # this process's pid, its connection
    _answered = False  # whether the server said READY on that connection (its preload done)

    _folder: Path = NOTEBOOKS_DIR  # whose notebooks' imports it loads

    @classmethod
    def start(cls, folder: Path = NOTEBOOKS_DIR) -> str:
        """Start a server for the notebooks of `folder` (replacing one of another folder) unless one is running or
        joined, without waiting for its preload; its address, for `join`."""
        with cls._lock:
            if folder != cls._folder:
                cls._leave()
            cls._folder = folder
            cls._start()
            return cls._address

    @classmethod
    def join(cls, address: str, folder: Path) -> None:
        """Use the server for the notebooks of `folder` that another process started at `address` (the runner's,
        for its workers)."""
        with cls._lock:
            cls._leave()
            cls._address, cls._folder = address, folder

    @classmethod
    def fork(cls, argv: list[str], cwd: str, env: dict[str, str]) -> int:
        """A new kernel's pid, once the server is ready; RuntimeError if the server cannot start one."""
        with cls._lock:
            connection, replies = cls._connected()
            try:
                if not cls._answered:
                    if (answer := replies.readline().decode().strip()) != READY:
                        raise RuntimeError(f"the kernel fork server did not start (it answered {answer!r})")
                    cls._answered = True
                request = {"argv": argv, "cwd": cwd, "env": env, "worker": os.getpid()}
                connection.sendall(json.dumps(request).encode() + b"\n")
                reply = replies.readline().decode().strip()
                if not reply.isdigit():
                    raise RuntimeError(f"the kernel fork server did not start a kernel (it answered {reply!r})")
            except (OSError, RuntimeError):
                cls._disconnect()
                if cls._owns():
                    cls._leave()
                raise
        return int(reply)

    @classmethod
    def stop(cls) -> None:
        """Kill the server if this process started it; its kernels notice within a second that their parent is
        gone, and end."""
        with cls._lock:
            cls._leave()

    @classmethod
    def kill(cls) -> None:
        """Kill the server at once if this process started it, taking no lock (from a signal handler, when this
        process must end)."""
        if cls._process is not None and cls._owns():
            with contextlib.suppress(OSError):
                os.kill(cls._process.pid, signal.SIGKILL)

    @classmethod
    def _owns(cls) -> bool:
        return cls._process is not None and cls._owner == os.getpid()

    @classmethod
    def _connected(cls) -> tuple[socket.socket, io.BufferedReader]:
        """This process's connection to the server, made on first use (a server of its own started first unless
        it joined one)."""
        if cls._connection is not None and cls._connection[0] == os.getpid():
            return cls._connection[1:]
        cls._start()
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            client.connect(cls._address)
        except OSError as exc:
            client.close()
            raise RuntimeError(f"cannot reach the kernel fork server at {cls._address}: {exc}") from None
        cls._connection, cls._answered = (os.getpid(), client, client.makefile("rb")), False
        return client, cls._connection[2]

    @classmethod
    def _disconnect(cls) -> None:
        if cls._connection is not None and cls._connection[0] == os.getpid():
            with contextlib.suppress(OSError):
                cls._connection[2].close()
                cls._connection[1].close()
        cls._connection, cls._answered = None, False

    @classmethod
    def _start(cls) -> None:
        """Start a server of this process's own unless it has one running or joined another's."""
        if cls._address and (not cls._owns() or cls._process is not None and cls._process.poll() is None):
            return
        cls._leave()
        folder = tempfile.mkdtemp(prefix="kpi-forks-")
        address = os.path.join(folder, "server")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(address)  # listening before the server starts: clients connect at once and wait for READY
            listener.listen()
            # a parent-death signal follows the thread that started the server: asked for only by a main thread
            owner = [str(os.getpid())] if threading.current_thread() is threading.main_thread() else []
            cls._process = subprocess.Popen(  # its own session: Ctrl-C goes to the runner, which stops its kernels
                [sys.executable, "-m", __name__, str(cls._folder), str(listener.fileno()), *owner],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, pass_fds=[listener.fileno()],
                start_new_session=True)
        cls._owner, cls._address = os.getpid(), address
        _stop_at_exit()

    @classmethod
    def _leave(cls) -> None:
        """Close this process's connection; kill the server if this process started it."""
        cls._disconnect()
        if cls._process is not None and cls._owns():
            with contextlib.suppress(OSError):
                cls._process.kill()
            cls._process.wait()
            with contextlib.suppress(OSError):
                os.unlink(cls._address)
                os.rmdir(os.path.dirname(cls._address))
        cls._process, cls._owner, cls._address = None, 0, ""


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
    serve(socket.socket(fileno=int(sys.argv[2])), Path(sys.argv[1]), int(sys.argv[3]) if len(sys.argv) > 3 else None)
