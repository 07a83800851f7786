"""`kpi-workbook run`: execute the step notebooks per team into HTML reports, in parallel."""

from __future__ import annotations

__all__ = ["EXIT_FAILED_RUNS", "run"]

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kpi_workbook.cli.app import app, echo_table, fail, open_workspace_option
from kpi_workbook.cli.options import PeriodOption, WorkspaceOption
from kpi_workbook.core.errors import UnknownTeamError
from kpi_workbook.core.paths import NOTEBOOKS_DIR

if TYPE_CHECKING:
    from kpi_workbook.batch.runner import RunResult

EXIT_FAILED_RUNS = 1


def _split(values: list[str] | None) -> list[str]:
    """Repeated options and comma-separated lists both work: --team a --team b, --team a,b."""
    return [item.strip() for value in values or [] for item in value.split(",") if item.strip()]


def _failure_table(failed: list[RunResult]) -> str:
    rows = [("team", "notebook", "status", "error")]
    rows += [(r.key[0] or "(organization)", r.notebook, r.status.value,
              f"{r.error}: {r.message.splitlines()[0] if r.message else ''}"[:100]) for r in failed]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)), row[3]])
                     for row in rows)


@app.command()
def run(
    workspace: WorkspaceOption = "",
    team: Annotated[list[str] | None, typer.Option(
        "--team", help="Team id to run (repeat it or separate ids by commas).")] = None,
    all_teams: Annotated[bool, typer.Option("--all-teams", help="Run every team of the framework.")] = False,
    department: Annotated[list[str] | None, typer.Option(
        "--department", help="Department to run, by id or name (repeat it or separate by commas).")] = None,
    all_departments: Annotated[bool, typer.Option(
        "--all-departments", help="Run every department (all its teams' people in one report).")] = False,
    organization: Annotated[bool, typer.Option(
        "--organization", help="Also run the whole organization (the default when nothing else is chosen).")] = False,
    notebooks: Annotated[str, typer.Option(
        help="Notebooks to run, by number or name, comma-separated (e.g. 01,05); default all.")] = "",
    notebooks_dir: Annotated[Path, typer.Option(help="Folder of the step notebooks (NN_name.ipynb).")] = (
        NOTEBOOKS_DIR),
    period: PeriodOption = "",
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", min=1, help="Notebooks run at the same time; default one per CPU core.")] = None,
    out: Annotated[Path, typer.Option(help="Reports folder; reports go to OUT/<period>/<team>/.")] = Path("reports"),
    timeout: Annotated[float | None, typer.Option(
        min=1, help="Time limit of one cell, in seconds (default 600)")] = None,
    notebook_timeout: Annotated[float | None, typer.Option(
        min=1, help="Time limit of one notebook, in seconds (default 1800)")] = None,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Rerun only the runs that failed or timed out (from OUT/<period>/runs.json).")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    executor: Annotated[str, typer.Option(
        help="Where the notebooks run: local (processes on this machine) or dask (an existing Dask cluster; the "
             "workspace and --out must be on storage its workers share, at the same paths).")] = "local",
    scheduler: Annotated[str, typer.Option(
        envvar="KPI_WORKBOOK_DASK_SCHEDULER",
        help="Address of the Dask scheduler for --executor dask, e.g. tcp://10.0.0.5:8786.")] = "",
    worker_timeout: Annotated[float, typer.Option(
        min=0.1, envvar="KPI_WORKBOOK_DASK_WORKER_TIMEOUT",
        help="Seconds --executor dask waits for a worker: at the start, and when the cluster has none left.")] = 60.0,
    pdf: Annotated[bool, typer.Option(
        "--pdf", help="Also print each scope's report (review first) to OUT/<period>/pdf/<scope>.pdf with headless "
                      "Chromium ($KPI_WORKBOOK_CHROMIUM, or chromium on the PATH).")] = False,
    people: Annotated[bool, typer.Option(
        "--people", help="Show each person's score and values in the review (left out by default).")] = False,
    passports: Annotated[bool, typer.Option(
        "--passports", help="With --pdf: close each scope's PDF with the KPI passports of its roles' KPIs (see "
                            "kpi-workbook passport).")] = False,
) -> None:
    """Run the step notebooks for teams with papermill; write HTML reports and an index page.

    Each team (department, organization) runs its notebooks in order in one kernel of its own, reset between
    notebooks. Exit 0 when every run succeeded, 1 when some failed (the others still ran), 2 for unusable input or
    when another run is writing the same period folder, 130 / 143 / 129 when stopped by Ctrl-C / SIGTERM / SIGHUP.
    """
    from kpi_workbook.batch.stopping import exit_code, signal_name, stop_on_signals

    stop_on_signals()  # before anything slow: a stop signal from here on ends the run cleanly
    teams, departments = _split(team), _split(department)
    if teams and all_teams:
        raise typer.BadParameter("give either --team or --all-teams, not both")
    if departments and all_departments:
        raise typer.BadParameter("give either --department or --all-departments, not both")
    if passports and not pdf:
        raise typer.BadParameter("--passports closes the PDF packs: give it with --pdf")
    if out.exists() and not out.is_dir():
        fail(f"{out}: is a file; --out names the folder for the reports")
    limits = {"cell_timeout": timeout, "notebook_timeout": notebook_timeout}
    try:
        from kpi_workbook.batch.runner import RunRequest, run_reports  # papermill and nbconvert load slowly

        opened = open_workspace_option(workspace)
        request = RunRequest(
            workspace=opened, out=out, teams=teams, all_teams=all_teams,
            departments=departments, all_departments=all_departments, organization=organization,
            notebooks=_split([notebooks]), notebooks_dir=notebooks_dir, period=period, jobs=jobs,
            retry_failed=retry_failed, progress=progress, executor=executor, scheduler=scheduler, people=people,
            worker_timeout=worker_timeout, **{k: v for k, v in limits.items() if v is not None},
        )
        summary = run_reports(request)
    except UnknownTeamError as exc:
        fail(str(exc))
    except OSError as exc:  # a read-only or full reports folder: said, never a traceback
        fail(f"{exc.filename or out}: cannot write the reports ({exc.strerror or exc})")
    except KeyboardInterrupt as exc:
        typer.echo(f"interrupted ({signal_name(exc)}): the runs that finished are recorded in runs.json and the "
                   "index; --retry-failed runs those left", err=True)
        raise typer.Exit(exit_code(exc)) from None
    if not summary.results:
        echo_table(f"nothing to retry: no failed or unfinished runs in {summary.period_dir}")
        return
    ok = len(summary.results) - len(summary.failed)
    echo_table(f"{ok} of {len(summary.results)} runs ok; reports in {summary.period_dir}\nindex: {summary.index}")
    if summary.lost_workers:
        echo_table(f"Dask workers lost during the run: {summary.lost_workers}")
    if pdf:
        from kpi_workbook.batch.index import refresh_index
        from kpi_workbook.reports.pdf import print_run_packs  # Chromium is needed only for --pdf

        appendix = None
        if passports:
            from kpi_workbook.batch.passport_appendix import passport_appendix

            appendix = passport_appendix(opened)
        echo_table(print_run_packs(summary, on_error=fail, appendix=appendix))
        refresh_index(summary.period_dir, summary.period)  # the index links the packs just printed
    if summary.failed:
        typer.echo(_failure_table(sorted(summary.failed, key=lambda r: r.key)), err=True)
        typer.echo("rerun only these with --retry-failed", err=True)
        raise typer.Exit(EXIT_FAILED_RUNS)
