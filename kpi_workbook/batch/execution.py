"""Running notebooks with papermill in a worker: one scope's batch in one warm kernel, each report rendered there.

Every notebook keeps papermill's conventions (parameters cell, injected-parameters cell, error markers). A failure,
a timeout or a dead kernel fails only its own notebook: the kernel is replaced before the scope's next notebook.
"""

from __future__ import annotations

__all__ = [
    "CELL_TIMEOUT_ERROR", "DEAD_KERNEL_ERROR", "ENGINE_NAME", "GuardedEngine", "IOPUB_TIMEOUT", "KERNEL_START_ERROR",
    "NOTEBOOK_TIMEOUT_ERROR", "Notify", "PAPERMILL_LOG", "coalesce_streams", "execute_batch", "execute_job",
    "export_report", "failed_result", "prepare_process",
]

import contextlib
import logging
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import nbformat
import papermill
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.preprocessors import CoalesceStreamsPreprocessor
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import Engine, NotebookExecutionManager, papermill_engines
from papermill.exceptions import PapermillExecutionError
from papermill.log import logger as papermill_logger

from kpi_workbook.batch.forkserver import ForkServer
from kpi_workbook.batch.jobs import Batch, Job
from kpi_workbook.batch.kernels import FORKS_KERNELS, KERNEL_NAME, WarmKernel, new_kernel
from kpi_workbook.batch.records import UNDATED, RunResult, Status
from kpi_workbook.core.atomic_files import write_text_atomically
from kpi_workbook.core.paths import NOTEBOOKS_DIR
from kpi_workbook.reports.html import ReportHeading, notebook_to_html

ENGINE_NAME = "kpi_workbook"
IOPUB_TIMEOUT = 30  # nbclient's 4 s default can fire on a loaded machine after a cell has finished
PAPERMILL_LOG = logging.getLogger("papermill")

CELL_TIMEOUT_ERROR = "CellTimeoutError"
NOTEBOOK_TIMEOUT_ERROR = "NotebookTimeoutError"
DEAD_KERNEL_ERROR = "DeadKernelError"
KERNEL_START_ERROR = "KernelStartError"

Notify = Callable[[str, object], None]  # ("started", job key) or ("finished", RunResult), as they happen


_STREAMS = CoalesceStreamsPreprocessor()


def coalesce_streams(cell: nbformat.NotebookNode, cell_index: int, **_reply: object) -> None:
    """A cell's consecutive prints as one output, however the kernel happened to flush them (as in JupyterLab)."""
    _STREAMS.preprocess_cell(cell, {}, cell_index)


class _WarmClient(PapermillNotebookClient):
    """papermill's notebook client on a kernel that is already running: it neither starts nor stops it. Each cell's
    prints are coalesced once it has run (nbclient's on_cell_executed hook)."""

    def __init__(self, nb_man: NotebookExecutionManager, kernel: WarmKernel, **kwargs: Any) -> None:
        super().__init__(nb_man, km=kernel.manager, on_cell_executed=coalesce_streams, **kwargs)
        self.kc = kernel.client


class GuardedEngine(Engine):
    """papermill's engine on a warm kernel, with a whole-notebook time limit.

    A cell timeout, the notebook's time limit or a dead kernel is written into the running cell as an error
    output, so papermill keeps the executed notebook with its error marker, as for an exception in a cell.
    """

    @classmethod
    def execute_managed_notebook(cls, nb_man: NotebookExecutionManager, kernel_name: str, *, kernel: WarmKernel,
                                 notebook_timeout: float | None = None, execution_timeout: float | None = None,
                                 iopub_timeout: float = IOPUB_TIMEOUT, **_ignored: object) -> nbformat.NotebookNode:
        """Run the notebook; each cell gets the per-cell limit or what is left of the notebook's, if less."""
        cell_limit = execution_timeout or math.inf
        deadline = time.monotonic() + (notebook_timeout or math.inf)
        notebook_limit_applies = [False]  # whether the running cell got the rest of the notebook's time

        def timeout_for(cell: nbformat.NotebookNode) -> float | None:
            remaining = deadline - time.monotonic()
            notebook_limit_applies[0] = remaining < cell_limit
            limit = min(cell_limit, remaining)
            return None if limit == math.inf else max(limit, 0.01)

        client = _WarmClient(nb_man, kernel, kernel_name=kernel_name, timeout_func=timeout_for,
                             iopub_timeout=iopub_timeout, log=papermill_logger)
        try:
            return client.execute()
        except (CellTimeoutError, DeadKernelError) as exc:
            started = [c for c in nb_man.nb.cells if c.metadata.get("papermill", {}).get("status") != nb_man.PENDING]
            if not started:  # the kernel failed before any cell ran
                raise
            if isinstance(exc, DeadKernelError):
                ename, evalue = DEAD_KERNEL_ERROR, "the kernel died in this cell (killed, crashed or out of memory)"
            elif notebook_limit_applies[0]:
                ename, evalue = NOTEBOOK_TIMEOUT_ERROR, f"the notebook did not finish within {notebook_timeout:g} s"
            else:
                ename, evalue = CELL_TIMEOUT_ERROR, f"the cell did not finish within {cell_limit:g} s"
            index, cell = len(started) - 1, started[-1]  # the cells up to the running one have started
            coalesce_streams(cell, index)  # on_cell_executed runs only for a cell that got its reply
            cell.outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                                       traceback=[f"{ename}: {evalue}"]))
            nb_man.cell_exception(cell)
            return nb_man.nb


class _WarningCollector(logging.Handler):
    """Keeps papermill's warnings (unknown parameter, no parameters cell) for the run record."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.WARNING:  # errors are the run's outcome, recorded on their own
            self.messages.append(record.getMessage())


def prepare_process(notebooks: Path = NOTEBOOKS_DIR, fork_server: str = "") -> None:
    """Once per worker process: the guarded engine registered, papermill's log kept off stderr, the kernel fork
    server for the notebooks of the folder `notebooks` joined (at the address `fork_server`, the runner's) or
    started (it loads their libraries while this process compiles the report templates)."""
    papermill_engines.register(ENGINE_NAME, GuardedEngine)
    PAPERMILL_LOG.propagate = False
    PAPERMILL_LOG.setLevel(logging.WARNING)
    if FORKS_KERNELS and fork_server:
        ForkServer.join(fork_server, notebooks)
    _warm_up(notebooks)


@cache
def _warm_up(notebooks: Path) -> None:
    if FORKS_KERNELS:
        ForkServer.start(notebooks)  # nothing to start when joined
    with contextlib.suppress(Exception):  # a template that does not render fails each report, in its own record
        notebook_to_html(nbformat.v4.new_notebook(), ReportHeading(team="", notebook="", period=UNDATED))


def _status_of(error: str) -> Status:
    if not error:
        return Status.OK
    return Status.TIMED_OUT if error in (CELL_TIMEOUT_ERROR, NOTEBOOK_TIMEOUT_ERROR) else Status.FAILED


def failed_result(job: Job, error: str, message: str) -> RunResult:
    """The record of a job that could not run at all (its kernel did not start, its worker died)."""
    return RunResult(team=job.team, department=job.department, team_name=job.team_name, notebook=job.notebook.stem,
                     status=Status.FAILED, duration=0.0, error=error, message=message)


def execute_job(job: Job, kernel: WarmKernel) -> tuple[RunResult, nbformat.NotebookNode | None]:
    """Run one notebook for one scope on a ready kernel; never raises for a failing notebook.

    Returns its record and the executed notebook (None when none was written), whose report `export_report`
    renders; the record's duration so far is the notebook's run.
    """
    stem = job.notebook.stem
    out_dir = job.period_dir / job.folder
    ipynb, html = out_dir / f"{stem}.ipynb", out_dir / f"{stem}.html"
    partial = out_dir / f".{stem}.partial.ipynb"
    error = message = ""
    executed = None
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    collector = _WarningCollector()
    PAPERMILL_LOG.addHandler(collector)
    try:
        executed = papermill.execute_notebook(
            str(job.notebook), str(partial), parameters=job.parameters, engine_name=ENGINE_NAME,
            kernel_name=KERNEL_NAME, progress_bar=False, request_save_on_cell_execute=False,
            execution_timeout=job.cell_timeout, notebook_timeout=job.notebook_timeout, kernel=kernel,
        )
    except PapermillExecutionError as exc:
        error, message = exc.ename, exc.evalue
    except Exception as exc:  # the notebook cannot be read, the kernel died before the first cell, ...
        error, message = type(exc).__name__, str(exc)
    finally:
        PAPERMILL_LOG.removeHandler(collector)
    result = RunResult(team=job.team, department=job.department, team_name=job.team_name, notebook=stem,
                       status=_status_of(error), duration=round(time.perf_counter() - started, 3), error=error,
                       message=message, warnings=collector.messages)
    if partial.exists():
        os.replace(partial, ipynb)
        result.ipynb = ipynb.relative_to(job.period_dir).as_posix()
        if executed is None:  # a failed run: papermill wrote the notebook with its error marker, and raised
            executed = nbformat.read(ipynb, as_version=4)
    else:
        executed = None
        ipynb.unlink(missing_ok=True)  # no stale report from an earlier run may stand in for this one
        html.unlink(missing_ok=True)
    return result, executed


def export_report(job: Job, executed: nbformat.NotebookNode, result: RunResult) -> None:
    """Write the HTML report of an executed notebook and add its time to the record's duration; an export failure
    fails the run unless it already failed."""
    started = time.perf_counter()
    html = job.period_dir / job.folder / f"{job.notebook.stem}.html"
    try:
        heading = ReportHeading(team=job.team_name, notebook=job.notebook.stem, period=job.period or UNDATED)
        write_text_atomically(html, notebook_to_html(executed, heading, job.notebook.parent))
        result.html = html.relative_to(job.period_dir).as_posix()
    except Exception as exc:  # a report that cannot be rendered must not hide the run's own outcome
        html.unlink(missing_ok=True)
        if not result.error:
            result.status, result.error, result.message = Status.FAILED, "HtmlExportError", str(exc)
    result.duration = round(result.duration + time.perf_counter() - started, 3)


def _ready_kernel(kernel: WarmKernel | None, cwd: Path, scratch: str | None) -> WarmKernel:
    """The scope's kernel reset for the next notebook, or a new one when there is none yet."""
    if kernel is None:
        return new_kernel(cwd, scratch)
    kernel.reset()
    return kernel


def execute_batch(batch: Batch, scratch: str | None = None, notify: Notify | None = None) -> list[RunResult]:
    """Run one scope's notebooks in order in one kernel, reset between notebooks; a new kernel after a failure.

    Each report is rendered in a thread while the kernel runs the next notebook; a record is final (and told
    "finished") once its report is written. scratch: where kernel sockets go (default: the system's temporary
    folder); notify: told of each start and result as it happens. Never raises for a failing notebook or kernel.
    """
    prepare_process(batch[0].notebook.parent if batch else NOTEBOOKS_DIR)
    results: list[RunResult] = []
    kernel: WarmKernel | None = None

    def finished(result: RunResult) -> None:
        if notify:
            notify("finished", result)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="report") as reports:
        try:
            for job in batch:
                if notify:
                    notify("started", job.key)
                try:
                    kernel = _ready_kernel(kernel, job.notebook.parent, scratch)
                except Exception as exc:  # no kernel, or it died or hangs: this one fails, the next gets a new one
                    result = failed_result(job, KERNEL_START_ERROR, f"the kernel did not start or reset: {exc}")
                    if kernel is not None:
                        kernel.shutdown()
                    kernel = None
                    executed = None
                else:
                    result, executed = execute_job(job, kernel)
                    if result.status is not Status.OK:  # a timed-out cell may still run, a dead kernel is gone
                        kernel.shutdown()
                        kernel = None
                results.append(result)
                if executed is None:
                    finished(result)
                else:
                    reports.submit(_export_and_tell, job, executed, result, finished)
        finally:
            if kernel is not None:
                kernel.shutdown()
    return results


def _export_and_tell(job: Job, executed: nbformat.NotebookNode, result: RunResult,
                     finished: Callable[[RunResult], None]) -> None:
    export_report(job, executed, result)
    finished(result)
