"""Batch runs: execute the step notebooks for each scope with papermill, in parallel, into reports/<period>/.

Layout of a run::

    <out>/<period>/index.html                   every team and notebook with its status
    <out>/<period>/runs.json                    status, duration and error of each run (used by --retry-failed)
    <out>/<period>/<team>/<notebook>.ipynb      the executed notebook (kept with the error when it failed)
    <out>/<period>/<team>/<notebook>.html       the report: code hidden, opens offline

Each scope (a team, a department, the organization) runs its notebooks in order in one kernel of its own, reset
between notebooks, on a local process pool or a Dask cluster (see `executors`); one failing notebook (an exception,
bad data, a timeout, a killed kernel) never stops the others. runs.json is rewritten as each run finishes, with the
runs planned and not finished yet, and one runner at a time writes a period folder (see `lock`). A stop signal
(see `stopping`) stops the workers before the record and the index are written for the last time.
"""

from __future__ import annotations

__all__ = [
    "INDEX_FILE", "NOTEBOOK_GLOB", "RunRequest", "RunSummary", "SAFE_FOLDER", "discover_notebooks", "longest_first",
    "plan_jobs", "resolve_scopes", "run_reports", "safe_subfolder",
]

import contextlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from kpi_workbook.batch.executors import WORKER_TIMEOUT, make_executor
from kpi_workbook.batch.index import write_index
from kpi_workbook.batch.jobs import CELL_TIMEOUT, NOTEBOOK_TIMEOUT, Job, scope_batches
from kpi_workbook.batch.lock import run_lock
from kpi_workbook.batch.progress import Progress
from kpi_workbook.batch.records import (
    UNDATED,
    RunResult,
    Status,
    load_planned,
    load_runs,
    save_runs,
    scope_folder,
    scope_key,
)
from kpi_workbook.core.errors import InputError, Problem, UnknownTeamError
from kpi_workbook.core.model import Framework
from kpi_workbook.core.paths import NOTEBOOKS_DIR, SAMPLE_WORKSPACE_NAME
from kpi_workbook.workspace.opener import Workspace, open_workspace
from kpi_workbook.workspace.scope import Scope, departments

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
INDEX_FILE = "index.html"
SAFE_FOLDER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$")


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
    executor: str = "local"  # "local" (a process pool) or "dask" (an existing cluster, see scheduler)
    scheduler: str = ""  # the Dask scheduler's address, e.g. tcp://10.0.0.5:8786 (default: the environment)
    worker_timeout: float = WORKER_TIMEOUT  # how long a Dask run waits for a worker, at its start or later
    people: bool = False  # the review shows each person's score and values


@dataclass
class RunSummary:
    """Results of this invocation and the merged record of every run in the period folder."""

    period: str
    period_dir: Path
    results: list[RunResult]
    runs: list[RunResult]
    lost_workers: int = 0  # Dask workers that left the cluster during the run

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
    if "" in teams:  # an empty team id would silently widen the run to the whole organization
        raise UnknownTeamError("", sorted(t.id for t in framework.teams))
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


# --- the jobs, their run, the record --------------------------------------------------------------------------


def plan_jobs(request: RunRequest) -> tuple[list[Job], str, Path, Framework]:
    """Check the request (workspace, scopes, notebooks, period, paths) and list the jobs it asks for.

    The period is resolved for the whole organization (its actuals store is built first if it must be, said on
    stderr), so every scope of a run reports on the same period.
    """
    workspace = request.workspace
    if not isinstance(workspace, Workspace):
        workspace = open_workspace(workspace)
    notebooks = discover_notebooks(request.notebooks_dir.resolve(), request.notebooks)
    chosen = request.teams or request.all_teams or request.departments or request.all_departments
    retry_all = request.retry_failed and not (chosen or request.organization)
    scopes = resolve_scopes(workspace, _all_scopes(request) if retry_all else request)  # unknown teams: before a store
    period = workspace.scope(period=request.period).period
    period_dir = safe_subfolder(request.out.resolve(), period or UNDATED, "period")
    for scope in scopes:
        safe_subfolder(period_dir, scope_folder(scope.team, scope.department), "team")
    jobs = [
        Job(notebook=nb, team=scope.team, department=scope.department, team_name=scope.name,
            workspace=workspace.root if not workspace.is_sample else Path(SAMPLE_WORKSPACE_NAME), period=period,
            period_dir=period_dir, cell_timeout=request.cell_timeout, notebook_timeout=request.notebook_timeout,
            people=request.people)
        for scope in scopes for nb in notebooks
    ]
    if request.retry_failed:  # the runs that failed, and those a stopped or killed runner did not finish
        retry = {r.key for r in load_runs(period_dir) if r.status is not Status.OK} | load_planned(period_dir)
        jobs = [job for job in jobs if job.key in retry]
    return jobs, period, period_dir, workspace.framework


def _all_scopes(request: RunRequest) -> RunRequest:
    """The request widened to every scope (to find the ones a retry must rerun)."""
    return replace(request, all_teams=True, all_departments=True, organization=True, teams=(), departments=())


def longest_first(jobs: Sequence[Job], previous: Sequence[RunResult]) -> list[Job]:
    """Jobs ordered by how long they took last time, longest first (new ones first), so no long one runs last."""
    last_duration = {r.key: r.duration for r in previous}
    return sorted(jobs, key=lambda job: -last_duration.get(job.key, math.inf))


def run_reports(request: RunRequest) -> RunSummary:
    """Run the requested notebooks for the requested scopes; record them in runs.json and the index page.

    Raises InputError (or UnknownTeamError) before anything runs when the request cannot be used, and when another
    runner is writing the same period folder.
    """
    jobs, period, period_dir, framework = plan_jobs(request)
    executor = make_executor(request.executor, request.jobs, request.scheduler, request.worker_timeout)
    if not jobs:  # only a retry with nothing left to retry
        return RunSummary(period=period, period_dir=period_dir, results=[], runs=load_runs(period_dir))
    with executor, run_lock(period_dir):  # the executor first: a Dask scheduler that does not answer writes nothing
        previous = load_runs(period_dir)  # read under the lock: what the last runner recorded
        runs = {r.key: r for r in previous}
        planned = load_planned(period_dir) | {job.key for job in jobs}

        def record() -> None:  # a kill loses only the runs not finished, which stay planned
            save_runs(period_dir, list(runs.values()), jobs[0].workspace, period, planned)

        record()
        results: list[RunResult] = []
        lost_workers = 0
        progress = Progress(len(jobs), request.progress)
        try:
            with contextlib.closing(executor.run(scope_batches(longest_first(jobs, previous)))) as events:
                for kind, payload in events:  # closed on the way out: the workers stop before the last record
                    if kind == "started" and isinstance(payload, tuple):  # the job's key
                        progress.started(payload)
                    elif kind == "lost":
                        lost_workers += 1
                    elif isinstance(payload, RunResult):  # "finished"
                        results.append(payload)
                        runs[payload.key] = payload
                        planned.discard(payload.key)
                        record()
                        progress.finished(payload)
        finally:
            progress.close()
            record()
            write_index(period_dir / INDEX_FILE, list(runs.values()), organization=framework.metadata.organization,
                        period=period or UNDATED)
    return RunSummary(period=period, period_dir=period_dir, results=results, runs=list(runs.values()),
                      lost_workers=lost_workers)
