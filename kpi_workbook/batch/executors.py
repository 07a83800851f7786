"""Where batches run: a local process pool (the default) or an existing Dask cluster.

Both take one batch per scope (see `jobs.scope_batches`) and yield events as the runs start and finish:
``("started", job key)`` and ``("finished", RunResult)``, and on Dask ``("lost", worker address)`` for a worker
that left the cluster during the run. Results always come back to the caller, which alone writes the run record
and the index.

A Dask cluster is reached by its scheduler address (``tcp://HOST:8786``; dask-jobqueue starts one on a batch
system, dask-kubernetes on Kubernetes). Its workers need the installed package (with the same notebooks) and
must see the workspace and the output folder at the same absolute paths as the client: shared storage. A run
waits at most a worker timeout (DASK_WORKER_TIMEOUT_ENV, default 60 s) for a first worker, and fails the runs
left when the cluster has had no worker for that long during the run.

The workers of the local pool fork their kernels from one fork server the runner starts (see `forkserver`): one
preload of the kernels' imports per run, and its memory shared by every kernel. A Dask worker forks its kernels from
a server of its own, started with the worker and ended with it: a long-lived Dask worker pays the imports once, not
once per run.
"""

from __future__ import annotations

__all__ = [
    "DASK_SCHEDULER_ENV", "DASK_WORKER_TIMEOUT_ENV", "DaskExecutor", "Event", "Executor", "LocalExecutor",
    "NO_WORKER_ERROR", "POLL_SECONDS", "STOP_SECONDS", "WORKER_TIMEOUT", "make_executor",
]

import multiprocessing
import os
import queue
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Generator, Hashable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kpi_workbook.batch.execution import execute_batch, failed_result, prepare_process
from kpi_workbook.batch.forkserver import ForkServer
from kpi_workbook.batch.jobs import Batch
from kpi_workbook.batch.kernels import FORKS_KERNELS, stop_all
from kpi_workbook.batch.parent_death import on_death
from kpi_workbook.batch.records import RunResult
from kpi_workbook.core.errors import InputError, Problem

if TYPE_CHECKING:
    from distributed import Client, Future

Event = tuple[str, object]  # ("started", (scope key, notebook)), ("finished", RunResult) or ("lost", address)
POLL_SECONDS = 0.5
STOP_SECONDS = 5  # how long an interrupted worker may take to stop its kernels before it is killed
DASK_SCHEDULER_ENV = "KPI_WORKBOOK_DASK_SCHEDULER"
DASK_WORKER_TIMEOUT_ENV = "KPI_WORKBOOK_DASK_WORKER_TIMEOUT"
WORKER_TIMEOUT = 60.0  # seconds a Dask run waits for a worker
NO_WORKER_ERROR = "NoWorkerError"


class Executor(Protocol):
    """Runs batches and yields their events; every job of every batch gets exactly one "finished" event.

    Used as a context manager: entering it checks that the executor can run at all (a Dask scheduler is reached),
    before anything is written.
    """

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...

    def run(self, batches: Sequence[Batch]) -> Generator[Event, None, None]: ...


class _Reported:
    """Which jobs were reported finished, so a result that arrives twice (event and return value) counts once."""

    def __init__(self) -> None:
        self.finished: set[tuple[str, str]] = set()

    def event(self, kind: str, payload: object) -> Event | None:
        key = payload.key if isinstance(payload, RunResult) else payload
        if key in self.finished:
            return None
        if kind == "finished" and isinstance(payload, RunResult):  # a "finished" event's payload is its RunResult
            self.finished.add(payload.key)
        return kind, payload

    def rest(self, results: Sequence[RunResult]) -> Iterator[Event]:
        """The results of a finished batch not yet reported."""
        for result in results:
            if (event := self.event("finished", result)) is not None:
                yield event


class _BatchTask(Protocol):
    """A batch sent to a worker: a local pool's future or a Dask future."""

    def result(self) -> list[RunResult]: ...


def _batch_results(batch: Batch, future: _BatchTask) -> list[RunResult]:
    """A finished batch's results; when its worker died, a failed result for every job."""
    try:
        return future.result()
    except Exception as exc:  # the worker process itself died, or the cluster lost the task
        message = str(exc) or "the worker process ended unexpectedly"
        return [failed_result(job, type(exc).__name__, message) for job in batch]


# --- the local process pool -----------------------------------------------------------------------------------

_events: multiprocessing.Queue | None = None  # in a worker: where it reports starts and results


def _notify(kind: str, payload: object) -> None:
    if _events is None:
        raise RuntimeError("no event queue: _init_worker prepares a worker process")
    _events.put((kind, payload))


def _stop_worker(signum: int, frame: object = None) -> None:
    """SIGTERM from the runner (the run was interrupted), or the runner's death: kill this worker's kernels and
    leave at once.

    An exception would not do: the pool's worker loop catches it and takes the next job.
    """
    stop_all()
    os._exit(128 + signum)


def _init_worker(events: multiprocessing.Queue, runner: int, notebooks: Path, fork_server: str) -> None:
    """Prepare a worker process for the notebooks of the folder `notebooks`: its event queue, the engine, the
    runner's kernel fork server (at the address `fork_server`; none: a server of its own). Ctrl-C and a hang-up are
    left to the runner, which stops its workers; a worker stops as told when the runner dies, even by SIGKILL."""
    global _events
    _events = events
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):  # not on Windows
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    on_death(runner, lambda: _stop_worker(signal.SIGTERM))
    prepare_process(notebooks, fork_server)


def _stop_processes(processes: set[multiprocessing.process.BaseProcess]) -> None:
    """SIGTERM for each worker (it kills its kernels and leaves), then SIGKILL for any still there after
    STOP_SECONDS (its fork server, and so its kernels, end with it), so that Ctrl-C always ends the run."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join(STOP_SECONDS)


def _run_local_batch(batch: Batch, scratch: str) -> list[RunResult]:
    return execute_batch(batch, scratch, _notify)


def _pool_context() -> multiprocessing.context.BaseContext:
    """How workers start: forked when this process runs no other thread (no start-up cost: papermill and nbconvert
    are loaded already), else from a fork server that loads them once; spawned where neither exists."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["kpi_workbook.batch.worker_start", __name__])
    return context


class LocalExecutor:
    """A pool of worker processes on this machine, one batch (one scope, one warm kernel) per worker at a time."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def run(self, batches: Sequence[Batch]) -> Generator[Event, None, None]:
        if not batches:
            return
        workers = max(1, min(self.workers or os.cpu_count() or 1, len(batches)))
        context = _pool_context()
        events = context.Queue()
        others = set(multiprocessing.active_children())
        scratch = tempfile.TemporaryDirectory(prefix="kpi-run-")  # kernel sockets; removed even if workers are stopped
        notebooks = batches[0][0].notebook.parent
        fork_server = ForkServer.start(notebooks) if FORKS_KERNELS else ""  # one preload for all the workers
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                                   initargs=(events, os.getpid(), notebooks, fork_server))
        reported = _Reported()
        interrupted = False
        try:
            pending = {pool.submit(_run_local_batch, batch, scratch.name): batch for batch in batches}
            while pending:
                try:
                    kind, payload = events.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    pass
                else:
                    if (event := reported.event(kind, payload)) is not None:
                        yield event
                done, _ = wait_futures(list(pending), timeout=0)
                for future in done:
                    batch = pending.pop(future)
                    yield from reported.rest(_batch_results(batch, future))
        except (KeyboardInterrupt, GeneratorExit):
            interrupted = True
            _stop_processes(set(multiprocessing.active_children()) - others)
            raise
        finally:
            pool.shutdown(wait=not interrupted, cancel_futures=True)  # stopped workers leave nothing to wait for
            ForkServer.stop()
            events.close()
            scratch.cleanup()


# --- an existing Dask cluster ---------------------------------------------------------------------------------


class DaskExecutor:
    """The batches sent to a running Dask cluster (``distributed``), one task per batch."""

    def __init__(self, scheduler: str, worker_timeout: float = WORKER_TIMEOUT) -> None:
        self.scheduler = scheduler
        self.worker_timeout = worker_timeout
        self.client: Client | None = None

    def __enter__(self) -> DaskExecutor:
        """Connect to the scheduler and wait for a worker; InputError if `distributed` is missing, the scheduler
        does not answer, or no worker joins it within the worker timeout."""
        try:
            from distributed import Client
        except ImportError:
            raise InputError(Problem(option="--executor dask", message=(
                "the dask executor needs the 'distributed' package: pip install 'kpi-workbook[dask]'"))) from None
        try:
            client = Client(self.scheduler, set_as_default=False)  # waits Dask's distributed.comm.timeouts.connect
            self.client = client
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(Problem(option=f"--scheduler {self.scheduler}", message=(
                f"cannot reach the Dask scheduler: {exc}"))) from None
        try:
            client.wait_for_workers(1, timeout=self.worker_timeout)
        except TimeoutError:
            client.close()
            raise InputError(Problem(option=f"--scheduler {self.scheduler}", message=(
                f"no Dask worker joined the scheduler {self.scheduler} within {self.worker_timeout:g} s "
                f"(--worker-timeout or {DASK_WORKER_TIMEOUT_ENV})"))) from None
        return self

    def __exit__(self, *exc: object) -> None:
        self._connected().close()

    def _connected(self) -> Client:
        """The client `__enter__` connected."""
        if self.client is None:
            raise RuntimeError("the Dask executor is used outside its with block")
        return self.client

    def run(self, batches: Sequence[Batch]) -> Generator[Event, None, None]:
        if not batches:
            return
        reported = _Reported()
        run_id = uuid.uuid4().hex[:12]  # task keys of this run only, never shared with another client's
        client = self._connected()
        pending = {client.submit(execute_batch, batch, key=f"kpi-run-{run_id}-{index}"): batch
                   for index, batch in enumerate(batches)}
        running: set[Hashable] = set()  # the keys of the futures seen running
        workers = _Workers(client)
        try:
            while pending:
                time.sleep(POLL_SECONDS)
                for address in workers.poll():
                    yield "lost", address
                if workers.absent_for() > self.worker_timeout:
                    yield from self._no_worker(pending, reported)
                    return
                processing = {key for keys in client.processing().values() for key in keys}
                for future, batch in pending.items():  # a batch runs one notebook at a time: its first counts
                    if future.key in processing and future.key not in running:
                        running.add(future.key)
                        yield "started", batch[0].key
                for future in [f for f in pending if f.done()]:
                    batch = pending.pop(future)
                    yield from reported.rest(_batch_results(batch, future))
        finally:
            client.cancel(list(pending))  # interrupted or given up: nothing of this run is left queued

    def _no_worker(self, pending: dict[Future[list[RunResult]], Batch], reported: _Reported) -> Iterator[Event]:
        """Every job not finished yet, failed: the cluster has had no worker for the worker timeout."""
        message = (f"no Dask worker on the scheduler {self.scheduler} for {self.worker_timeout:g} s "
                   f"(--worker-timeout or {DASK_WORKER_TIMEOUT_ENV})")
        for batch in pending.values():
            yield from reported.rest([failed_result(job, NO_WORKER_ERROR, message) for job in batch])


class _Workers:
    """The workers of a Dask cluster as a run sees them: those that left, and how long it has had none."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.seen: set[str] = set()
        self.none_since: float | None = None

    def poll(self) -> list[str]:
        """Look again; the workers seen before that are gone now (each told once)."""
        now = set(self.client.nthreads())
        gone = sorted(self.seen - now)
        self.seen = (self.seen - set(gone)) | now
        if now:
            self.none_since = None
        elif self.none_since is None:
            self.none_since = time.monotonic()
        return gone

    def absent_for(self) -> float:
        """Seconds since the cluster last had a worker (0 while it has one)."""
        return 0.0 if self.none_since is None else time.monotonic() - self.none_since


def make_executor(name: str, workers: int | None = None, scheduler: str = "",
                  worker_timeout: float = WORKER_TIMEOUT) -> Executor:
    """The executor called `name` ("local" or "dask"); dask needs a scheduler address (or DASK_SCHEDULER_ENV) and
    waits `worker_timeout` seconds for a worker."""
    if name == "local":
        return LocalExecutor(workers)
    if name == "dask":
        address = scheduler or os.environ.get(DASK_SCHEDULER_ENV, "")
        if not address:
            raise InputError(Problem(option="--scheduler", message=(
                f"the dask executor needs a scheduler address: --scheduler tcp://HOST:PORT or {DASK_SCHEDULER_ENV}")))
        return DaskExecutor(address, worker_timeout)
    raise InputError(Problem(option="--executor",
                             message=f"unknown executor '{name}'. Valid: local, dask"))
