"""Runner benchmark: every team × every step notebook through the runner, against the floor of papermill itself.

The floor is the same number of plain papermill executions of ``benchmarks/floor_notebook.ipynb`` (it only
imports pandas, matplotlib and kpi_workbook) in a process pool of the same size. Printed, as the median of
``--repeat`` rounds:

- floor: plain papermill runs of the floor notebook;
- runner on the floor notebook: the runner's own overhead (planning, pool, HTML export, index), since the
  notebooks do the same work as the floor;
- runner on the step notebooks: what ``make run`` costs; its ratio to the floor is the figure to watch
  (goal ≤ 1.3);
- the HTML export cost per report, and the step notebooks' slowest cells (where the rest of the time goes).

The workspace is copied to a temporary folder and its actuals store is built before timing starts.

    .venv/bin/python benchmarks/bench_runner.py [--workspace data/sample_org] [--jobs N] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import papermill

from kpi_workbook.batch.runner import KERNEL_NAME, RunRequest, RunSummary, discover_notebooks, run_reports
from kpi_workbook.core.paths import NOTEBOOKS_DIR, SAMPLE_ORG_DIR
from kpi_workbook.reports.html import ReportHeading, notebook_to_html
from kpi_workbook.workspace.files import load_framework
from kpi_workbook.workspace.store import open_store

FLOOR_NOTEBOOK = Path(__file__).with_name("floor_notebook.ipynb")
GOAL = 1.3


def floor_run(args: tuple[Path, dict]) -> None:
    """One plain papermill execution of the floor notebook."""
    output, parameters = args
    papermill.execute_notebook(str(FLOOR_NOTEBOOK), str(output), parameters=parameters, kernel_name=KERNEL_NAME,
                               progress_bar=False, request_save_on_cell_execute=False, shutdown_kernel="immediate")


def time_floor(workspace: Path, teams: list[str], count: int, jobs: int, out: Path) -> float:
    """Seconds for `count` floor executions (team parameters cycling over the teams) with `jobs` workers."""
    out.mkdir(parents=True)
    work = [(out / f"{i}.ipynb", {"workspace": str(workspace), "team": teams[i % len(teams)], "interactive": False})
            for i in range(count)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(floor_run, work))
    return time.perf_counter() - started


def time_runner(request: RunRequest) -> tuple[float, RunSummary]:
    """Seconds for one runner invocation, end to end; exits if any run failed."""
    started = time.perf_counter()
    summary = run_reports(request)
    elapsed = time.perf_counter() - started
    if summary.failed:
        for run in summary.failed:
            print(f"FAILED {run.team} {run.notebook}: {run.error}: {run.message}", file=sys.stderr)
        raise SystemExit(1)
    return elapsed, summary


def floor_notebooks(folder: Path, count: int) -> Path:
    """A notebooks folder with `count` copies of the floor notebook, named like step notebooks."""
    folder.mkdir(parents=True)
    for number in range(1, count + 1):
        shutil.copy(FLOOR_NOTEBOOK, folder / f"{number:02d}_floor.ipynb")
    return folder


def export_cost(summary: RunSummary) -> float:
    """Mean seconds to render one executed notebook as HTML (in one process, after a warm-up export)."""
    notebooks = [nbformat.read(summary.period_dir / run.ipynb, as_version=4) for run in summary.results]
    notebook_to_html(notebooks[0])
    started = time.perf_counter()
    for run, nb in zip(summary.results, notebooks, strict=True):
        notebook_to_html(nb, ReportHeading(team=run.team_name, notebook=run.notebook, period=summary.period))
    return (time.perf_counter() - started) / len(notebooks)


def slowest_cells(summary: RunSummary, top: int = 8) -> list[tuple[float, str, int, str]]:
    """Mean duration of each step notebook cell over the teams, slowest first."""
    durations: dict[tuple[str, int, str], list[float]] = defaultdict(list)
    for run in summary.results:
        nb = nbformat.read(summary.period_dir / run.ipynb, as_version=4)
        for index, cell in enumerate(nb.cells):
            seconds = cell.metadata.get("papermill", {}).get("duration")
            if cell.cell_type == "code" and seconds:
                first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
                durations[run.notebook, index, first_line[:60]].append(seconds)
    means = [(statistics.mean(v), nb, index, line) for (nb, index, line), v in durations.items()]
    return sorted(means, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", type=Path, default=SAMPLE_ORG_DIR)
    parser.add_argument("--notebooks-dir", type=Path, default=NOTEBOOKS_DIR)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-runner-") as tmp:
        root = Path(tmp)
        workspace = Path(shutil.copytree(args.workspace, root / "workspace",
                                         ignore=shutil.ignore_patterns("*.duckdb", "*.duckdb.wal", "*.lock")))
        open_store(workspace).periods()  # builds actuals.duckdb once, as the first run of a workspace would
        teams = [team.id for team in load_framework(workspace).teams]
        steps = len(discover_notebooks(args.notebooks_dir))
        count = len(teams) * steps
        floor_dir = floor_notebooks(root / "floor_notebooks", steps)
        print(f"{count} runs ({len(teams)} teams × {steps} notebooks), {args.jobs} jobs, {args.repeat} round(s)")

        floor, runner_floor, runner = [], [], []
        for round_ in range(args.repeat):
            base = root / f"round{round_}"
            floor.append(time_floor(workspace, teams, count, args.jobs, base / "floor"))
            common = {"workspace": workspace, "all_teams": True, "jobs": args.jobs, "progress": False}
            runner_floor.append(time_runner(RunRequest(**common, notebooks_dir=floor_dir, out=base / "rf"))[0])
            seconds, summary = time_runner(RunRequest(**common, notebooks_dir=args.notebooks_dir, out=base / "rs"))
            runner.append(seconds)

        floor_s, runner_floor_s, runner_s = (statistics.median(x) for x in (floor, runner_floor, runner))
        export_s = export_cost(summary)
        print(f"floor (plain papermill, floor notebook)   {floor_s:7.1f} s")
        print(f"runner, floor notebook                    {runner_floor_s:7.1f} s   "
              f"runner overhead ×{runner_floor_s / floor_s:.2f}")
        print(f"runner, step notebooks                    {runner_s:7.1f} s")
        print(f"ratio runner / floor                      {runner_s / floor_s:7.2f}     goal ≤ {GOAL}")
        print(f"HTML export per report                    {export_s:7.2f} s   "
              f"{export_s * count / args.jobs:.1f} s of wall time over {args.jobs} workers")
        print("slowest step notebook cells (mean over teams):")
        for seconds, notebook, index, line in slowest_cells(summary):
            print(f"  {seconds:5.2f} s  {notebook} cell {index}: {line}")


if __name__ == "__main__":
    main()
