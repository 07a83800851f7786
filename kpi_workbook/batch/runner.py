"""Batch runs: execute the step notebooks for each team with papermill, in parallel, into reports/<period>/.

Layout of a run::

    <out>/<period>/index.html                   every team and notebook with its status
    <out>/<period>/runs.json                    status, duration and error of each run (used by --retry-failed)
    <out>/<period>/<team>/<notebook>.ipynb      the executed notebook (kept with the error when it failed)
    <out>/<period>/<team>/<notebook>.html       the report: code hidden, opens offline

Each (team, notebook) pair runs in a worker process of a process pool, with its own kernel; one failing pair
(an exception, bad data, a timeout, a killed kernel) never stops the others.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat
import papermill
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.engines import NBClientEngine, papermill_engines
from papermill.exceptions import PapermillExecutionError
from tqdm import tqdm
from traitlets.config import Config

from kpi_workbook.batch.index import write_index
from kpi_workbook.batch.records import (
    UNDATED,
    RunResult,
    Status,
    load_runs,
    save_runs,
    scope_folder,
    scope_key,
)
from kpi_workbook.core.atomic_files import write_text_atomically
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.model import Framework
from kpi_workbook.core.paths import NOTEBOOKS_DIR, SAMPLE_WORKSPACE_NAME
from kpi_workbook.reports.html import ReportHeading, notebook_to_html
from kpi_workbook.workspace.opener import Workspace, open_workspace
from kpi_workbook.workspace.scope import Scope, departments

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
INDEX_FILE = "index.html"
KERNEL_NAME = "python3"
ENGINE_NAME = "kpi_workbook"
CELL_TIMEOUT = 600.0
NOTEBOOK_TIMEOUT = 1800.0
IOPUB_TIMEOUT = 30  # nbclient's 4 s default can fire on a loaded machine after a cell has finished
PAPERMILL_LOG = logging.getLogger("papermill")
SAFE_FOLDER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$")

CELL_TIMEOUT_ERROR = "CellTimeoutError"
NOTEBOOK_TIMEOUT_ERROR = "NotebookTimeoutError"
DEAD_KERNEL_ERROR = "DeadKernelError"


@dataclass(frozen=True)
class Job:
    """One notebook to run for one team (an empty team means the whole organization)."""

    notebook: Path
    team: str
    team_name: str
    workspace: Path
    period: str
    period_dir: Path
    cell_timeout: float = CELL_TIMEOUT
    notebook_timeout: float = NOTEBOOK_TIMEOUT
    department: str = ""

    @property
    def folder(self) -> str:
        return scope_folder(self.team, self.department)

    @property
    def key(self) -> tuple[str, str]:
        return scope_key(self.team, self.department), self.notebook.stem

    @property
    def parameters(self) -> dict[str, object]:
        scope = {"department": self.department} if self.department else {}  # step notebooks without it still run
        return {"workspace": str(self.workspace), "team": self.team, **scope, "period": self.period,
                "interactive": False}


@dataclass
class RunRequest:
    """What to run: which workspace, teams, notebooks and period, where to, and how."""

    workspace: Workspace | str | Path | None  # an opened workspace, or what names one (see open_workspace)
    out: Path = Path("reports")
    teams: Sequence[str] = ()
    all_teams: bool = False
    organization: bool = False
    departments: Sequence[str] = ()
    all_departments: bool = False
    notebooks: Sequence[str] = ()
    notebooks_dir: Path = NOTEBOOKS_DIR
    period: str = ""
    jobs: int | None = None
    cell_timeout: float = CELL_TIMEOUT
    notebook_timeout: float = NOTEBOOK_TIMEOUT
    retry_failed: bool = False
    progress: bool = True


@dataclass
class RunSummary:
    """Results of this invocation and the merged record of every run in the period folder."""

    period: str
    period_dir: Path
    results: list[RunResult]
    runs: list[RunResult]

    @property
    def index(self) -> Path:
        return self.period_dir / INDEX_FILE

    @property
    def failed(self) -> list[RunResult]:
        return [r for r in self.results if r.status is not Status.OK]


# --- planning: notebooks, teams, period, output folders -------------------------------------------------------


def discover_notebooks(folder: Path, selection: Sequence[str] = ()) -> list[Path]:
    """The step notebooks of a folder (``NN_name.ipynb``), in order; `selection` keeps some, by number or name.

    A selection item matches a notebook by its number (``01``), its file stem (``01_strategic_goals``) or its
    name without the number (``strategic_goals``).
    """
    if not folder.is_dir():
        raise InputError(Problem(file=str(folder), field="notebooks-dir", message="notebook folder not found"))
    found = sorted(folder.glob(NOTEBOOK_GLOB))
    if not found:
        raise InputError(Problem(file=str(folder), field="notebooks-dir",
                                 message=f"no step notebooks ({NOTEBOOK_GLOB}) in this folder"))
    if not selection:
        return found
    chosen, unknown = [], []
    for item in selection:
        matches = [nb for nb in found if item in (nb.stem, nb.stem[:2], nb.stem[3:])]
        chosen += [nb for nb in matches if nb not in chosen]
        if not matches:
            unknown.append(item)
    if unknown:
        valid = ", ".join(nb.stem for nb in found)
        raise InputError(Problem(file=str(folder), field="notebooks",
                                 message=f"unknown notebook(s) {', '.join(unknown)}. Valid: {valid}"))
    return sorted(chosen)


def resolve_scopes(workspace: Workspace, request: RunRequest) -> list[Scope]:
    """The scopes a request asks for, checked through the workspace (UnknownTeamError, unknown departments):
    the whole organization first (also when nothing else is chosen), then departments, then teams."""
    framework = workspace.framework
    teams = [t.id for t in framework.teams] if request.all_teams else list(dict.fromkeys(request.teams))
    wanted = list(departments(framework)) if request.all_departments else list(dict.fromkeys(request.departments))
    scopes = [workspace.scope(department=d) for d in wanted] + [workspace.scope(team=t) for t in teams]
    if request.organization or not scopes:
        scopes.insert(0, workspace.scope())
    return list({scope_key(s.team, s.department): s for s in scopes}.values())


def safe_subfolder(parent: Path, name: str, what: str) -> Path:
    """parent/name, refused unless name is one plain folder name and the result stays inside parent."""
    candidate = (parent / name).resolve()
    if not SAFE_FOLDER.match(name) or name in (".", "..") or candidate.parent != parent.resolve():
        raise InputError(Problem(file=str(parent), field=what,
                                 message=f"'{name}' cannot be used as a folder name (letters, digits, _ . - only)"))
    return candidate


# --- execution in a worker process ----------------------------------------------------------------------------


class GuardedEngine(NBClientEngine):
    """papermill's nbclient engine with a whole-notebook time limit.

    A cell timeout, the notebook's time limit or a dead kernel is written into the running cell as an error
    output, so papermill keeps the executed notebook with its error marker, as for an exception in a cell.
    """

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, notebook_timeout=None, **kwargs):
        """Run the notebook; each cell gets the per-cell limit or what is left of the notebook's, if less."""
        cell_limit = kwargs.pop("execution_timeout", None) or math.inf
        deadline = time.monotonic() + (notebook_timeout or math.inf)
        notebook_limit_applies = [False]  # whether the running cell got the rest of the notebook's time

        def timeout_for(cell) -> float | None:
            remaining = deadline - time.monotonic()
            notebook_limit_applies[0] = remaining < cell_limit
            limit = min(cell_limit, remaining)
            return None if limit == math.inf else max(limit, 0.01)

        try:
            return super().execute_managed_notebook(nb_man, kernel_name, timeout_func=timeout_for, **kwargs)
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
            cell = started[-1]
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


def _stop_worker(signum: int, frame: object) -> None:
    """SIGTERM from the parent (the run was interrupted): leave at once; the kernel notices and shuts down.

    An exception would not do: the pool's worker loop catches it and takes the next job.
    """
    os._exit(128 + signum)


def _init_worker() -> None:
    """Prepare a worker process: clean kernel environment, the guarded engine, papermill's log kept off stderr.

    Ctrl-C is left to the parent, which stops the workers it still needs to stop.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    os.environ.pop("MPLBACKEND", None)  # MPLBACKEND=Agg in a kernel drops every inline figure
    papermill_engines.register(ENGINE_NAME, GuardedEngine)
    PAPERMILL_LOG.propagate = False
    PAPERMILL_LOG.setLevel(logging.WARNING)


def _kernel_config(socket_dir: str) -> Config:
    """Kernels talk over local sockets in socket_dir: no TCP ports to race for between parallel kernels."""
    if sys.platform == "win32":
        return Config()
    return Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(socket_dir, "kernel")}})


def _status_of(error: str) -> Status:
    if not error:
        return Status.OK
    return Status.TIMED_OUT if error in (CELL_TIMEOUT_ERROR, NOTEBOOK_TIMEOUT_ERROR) else Status.FAILED


def execute_job(job: Job, scratch: str | None = None) -> RunResult:
    """Run one notebook for one team and export its report; never raises for a failing notebook.

    The kernel's sockets live in a new folder under `scratch` (default: the system's temporary folder).
    """
    stem = job.notebook.stem
    out_dir = job.period_dir / job.folder
    ipynb, html = out_dir / f"{stem}.ipynb", out_dir / f"{stem}.html"
    partial = out_dir / f".{stem}.partial.ipynb"
    error = message = ""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    socket_dir = tempfile.mkdtemp(prefix="k-", dir=scratch)
    collector = _WarningCollector()
    PAPERMILL_LOG.addHandler(collector)
    try:
        papermill.execute_notebook(
            str(job.notebook), str(partial), parameters=job.parameters, engine_name=ENGINE_NAME,
            kernel_name=KERNEL_NAME, progress_bar=False, request_save_on_cell_execute=False,
            cwd=str(job.notebook.parent), execution_timeout=job.cell_timeout, notebook_timeout=job.notebook_timeout,
            shutdown_kernel="immediate", iopub_timeout=IOPUB_TIMEOUT, config=_kernel_config(socket_dir),
        )
    except PapermillExecutionError as exc:
        error, message = exc.ename, exc.evalue
    except Exception as exc:  # the kernel did not start, the notebook cannot be read, ...
        error, message = type(exc).__name__, str(exc)
    finally:
        PAPERMILL_LOG.removeHandler(collector)
        shutil.rmtree(socket_dir, ignore_errors=True)
    result = RunResult(team=job.team, department=job.department, team_name=job.team_name, notebook=stem,
                       status=_status_of(error), duration=0.0, error=error, message=message,
                       warnings=collector.messages)
    if partial.exists():
        os.replace(partial, ipynb)
        result.ipynb = ipynb.relative_to(job.period_dir).as_posix()
        _export(job, ipynb, html, result)
    else:
        ipynb.unlink(missing_ok=True)  # no stale report from an earlier run may stand in for this one
        html.unlink(missing_ok=True)
    result.duration = round(time.perf_counter() - started, 3)
    return result


def _export(job: Job, ipynb: Path, html: Path, result: RunResult) -> None:
    """Write the HTML report of an executed notebook; an export failure fails the run unless it already failed."""
    try:
        heading = ReportHeading(team=job.team_name, notebook=ipynb.stem, period=job.period or UNDATED)
        write_text_atomically(html, notebook_to_html(nbformat.read(ipynb, as_version=4), heading, job.notebook.parent))
        result.html = html.relative_to(job.period_dir).as_posix()
    except Exception as exc:  # a report that cannot be rendered must not hide the run's own outcome
        html.unlink(missing_ok=True)
        if not result.error:
            result.status, result.error, result.message = Status.FAILED, "HtmlExportError", str(exc)


# --- the pool, the record, the index --------------------------------------------------------------------------


def _pool_context() -> multiprocessing.context.BaseContext:
    """How workers start: forked when this process runs no other thread (no start-up cost: papermill and nbconvert
    are loaded already), else from a fork server that loads them once; spawned where neither exists."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def run_jobs(jobs: Sequence[Job], workers: int | None = None, progress: bool = True) -> Iterator[RunResult]:
    """Run jobs in a process pool, yielding each result as it finishes, with a progress bar on stderr."""
    if not jobs:
        return
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    others = set(multiprocessing.active_children())
    scratch = tempfile.TemporaryDirectory(prefix="kpi-run-")  # removed even if workers are stopped
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(), initializer=_init_worker)
    try:
        futures = {pool.submit(execute_job, job, scratch.name): job for job in jobs}
        with tqdm(total=len(futures), unit="run", desc="notebooks", disable=None if progress else True) as bar:
            failed = 0
            for future in as_completed(futures):
                job = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # the worker process itself died
                    result = RunResult(team=job.team, department=job.department, team_name=job.team_name,
                                       notebook=job.notebook.stem, status=Status.FAILED, duration=0.0,
                                       error=type(exc).__name__,
                                       message=str(exc) or "the worker process ended unexpectedly")
                failed += result.status is not Status.OK
                bar.set_postfix(failed=failed)
                bar.update()
                yield result
    except KeyboardInterrupt:
        for process in set(multiprocessing.active_children()) - others:
            process.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        scratch.cleanup()


def _merge(old: Sequence[RunResult], new: Sequence[RunResult]) -> list[RunResult]:
    merged = {r.key: r for r in old}
    merged.update({r.key: r for r in new})
    return list(merged.values())


def plan_jobs(request: RunRequest) -> tuple[list[Job], str, Path, Framework]:
    """Check the request (workspace, scopes, notebooks, period, paths) and list the jobs it asks for.

    The period is resolved for the whole organization (its actuals store is built first if it must be, said on
    stderr), so every scope of a run reports on the same period.
    """
    workspace = request.workspace
    if not isinstance(workspace, Workspace):
        workspace = open_workspace(workspace)
    notebooks = discover_notebooks(request.notebooks_dir.resolve(), request.notebooks)
    period = workspace.scope(period=request.period).period
    period_dir = safe_subfolder(request.out.resolve(), period or UNDATED, "period")
    chosen = request.teams or request.all_teams or request.departments or request.all_departments
    retry_all = request.retry_failed and not (chosen or request.organization)
    scopes = resolve_scopes(workspace, _all_scopes(request) if retry_all else request)
    for scope in scopes:
        safe_subfolder(period_dir, scope_folder(scope.team, scope.department), "team")
    jobs = [
        Job(notebook=nb, team=scope.team, department=scope.department, team_name=scope.name,
            workspace=workspace.root if not workspace.is_sample else Path(SAMPLE_WORKSPACE_NAME), period=period,
            period_dir=period_dir, cell_timeout=request.cell_timeout, notebook_timeout=request.notebook_timeout)
        for scope in scopes for nb in notebooks
    ]
    if request.retry_failed:
        failed = {r.key for r in load_runs(period_dir) if r.status is not Status.OK}
        jobs = [job for job in jobs if job.key in failed]
    return jobs, period, period_dir, workspace.framework


def _all_scopes(request: RunRequest) -> RunRequest:
    """The request widened to every scope (to find the ones a retry must rerun)."""
    return replace(request, all_teams=True, all_departments=True, organization=True, teams=(), departments=())


def longest_first(jobs: Sequence[Job], previous: Sequence[RunResult]) -> list[Job]:
    """Jobs ordered by how long they took last time, longest first (new ones first), so no long one runs last."""
    last_duration = {r.key: r.duration for r in previous}
    return sorted(jobs, key=lambda job: -last_duration.get(job.key, math.inf))


def run_reports(request: RunRequest) -> RunSummary:
    """Run the requested notebooks for the requested teams; record them in runs.json and the index page.

    Raises InputError (or UnknownTeamError) before anything runs when the request cannot be used.
    """
    jobs, period, period_dir, framework = plan_jobs(request)
    previous = load_runs(period_dir)
    if not jobs:  # only a retry with nothing left to retry
        return RunSummary(period=period, period_dir=period_dir, results=[], runs=previous)
    period_dir.mkdir(parents=True, exist_ok=True)
    results: list[RunResult] = []
    try:
        results.extend(run_jobs(longest_first(jobs, previous), request.jobs, request.progress))
    finally:
        runs = _merge(previous, results)
        save_runs(period_dir, runs, jobs[0].workspace, period)
        write_index(period_dir / INDEX_FILE, runs, organization=framework.metadata.organization,
                    period=period or UNDATED)
    return RunSummary(period=period, period_dir=period_dir, results=results, runs=runs)
