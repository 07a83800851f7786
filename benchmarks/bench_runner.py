"""Runner benchmark: every team × every step notebook through the runner, against the floor of papermill itself.

The floor is the same number of plain papermill executions of ``benchmarks/floor_notebook.ipynb`` (it only
imports pandas, matplotlib and kpi_workbook: one kernel per notebook) in a process pool of the same size. In one
run, as the median of ``--repeat`` rounds, with the peak memory of the whole process tree:

- floor: plain papermill runs of the floor notebook;
- runner, local: ``kpi-workbook run --all-teams`` on the step notebooks, HTML included (goal ≤ 1.0 × floor,
  moonshot ≤ 0.5 ×);
- runner, dask: the same on a ``distributed.LocalCluster`` of as many single-threaded process workers;
- scale: the runner on a workspace of ``--teams`` teams made with ``kpi-workbook sample`` (the sample's teams
  repeated), to show the seconds per notebook at 8 teams and at many (``--teams 0`` skips it).

Workspaces are copied to a temporary folder and their actuals stores built before timing starts; the suggestion
vectors are cached (as after any first run) in a temporary user cache.

    .venv/bin/python benchmarks/bench_runner.py [--workspace data/sample_org] [--jobs N] [--repeat 1] [--teams 24]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import papermill
import psutil

from kpi_workbook.batch.kernels import KERNEL_NAME
from kpi_workbook.batch.runner import RunRequest, RunSummary, discover_notebooks, run_reports
from kpi_workbook.core.paths import NOTEBOOKS_DIR, SAMPLE_ORG_DIR
from kpi_workbook.workspace.files import load_framework, save_framework
from kpi_workbook.workspace.store import open_store

FLOOR_NOTEBOOK = Path(__file__).with_name("floor_notebook.ipynb")
CLI = Path(sys.executable).with_name("kpi-workbook")
GOAL, MOONSHOT = 1.0, 0.5
SAMPLE_EMPLOYEES_PER_TEAM = 180 / 8


class PeakMemory:
    """The highest total memory of this process and all its descendants while the block runs: the sum of their
    proportional set sizes (a page shared by forked processes counted once), resident sizes where there are none."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # ended while we looked
                    info = process.memory_full_info()
                    total += getattr(info, "pss", info.rss)
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measured(run: Callable[..., object], *args: object, **kwargs: object) -> tuple[float, int]:
    """Seconds and peak memory (bytes) of one call."""
    with PeakMemory() as memory:
        started = time.perf_counter()
        run(*args, **kwargs)
        seconds = time.perf_counter() - started
    return seconds, memory.peak


def floor_run(args: tuple[Path, dict]) -> None:
    """One plain papermill execution of the floor notebook."""
    output, parameters = args
    papermill.execute_notebook(str(FLOOR_NOTEBOOK), str(output), parameters=parameters, kernel_name=KERNEL_NAME,
                               progress_bar=False, request_save_on_cell_execute=False, shutdown_kernel="immediate")


def floor(workspace: Path, teams: list[str], count: int, jobs: int, out: Path) -> None:
    """`count` floor executions (team parameters cycling over the teams) with `jobs` workers."""
    out.mkdir(parents=True)
    work = [(out / f"{i}.ipynb", {"workspace": str(workspace), "team": teams[i % len(teams)], "interactive": False})
            for i in range(count)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(floor_run, work))


def runner(request: RunRequest) -> RunSummary:
    """One runner invocation; exits if any run failed."""
    summary = run_reports(request)
    for run in summary.failed:
        print(f"FAILED {run.team} {run.notebook}: {run.error}: {run.message}", file=sys.stderr)
    if summary.failed:
        raise SystemExit(1)
    return summary


def many_teams(template: Path, teams: int, folder: Path) -> Path:
    """A workspace of `teams` teams made with `kpi-workbook sample`: the template's teams repeated (sales, sales_2,
    ...), each role in every copy of its teams, employees in the template's proportion."""
    framework = load_framework(template)
    base = framework.teams
    copies = [t if n == 0 else t.model_copy(update={"id": f"{t.id}_{n + 1}", "name": f"{t.name} {n + 1}"})
              for n in range(-(-teams // len(base))) for t in base][:teams]
    copied = {t.id: [c.id for c in copies if c.id == t.id or c.id.startswith(f"{t.id}_")] for t in base}
    roles = [r.model_copy(update={"teams": [c for t in r.teams for c in copied[t]]}) for r in framework.roles]
    save_framework(framework.model_copy(update={"teams": copies, "roles": roles}), folder / "template")
    employees = round(teams * SAMPLE_EMPLOYEES_PER_TEAM)
    subprocess.run([str(CLI), "sample", "--template", str(folder / "template"), "--out", str(folder / "workspace"),
                    "--employees", str(employees)], check=True, capture_output=True)
    return folder / "workspace"


def prepared(source: Path, root: Path) -> tuple[Path, list[str]]:
    """A copy of a workspace with its actuals store built, and its team ids."""
    workspace = Path(shutil.copytree(source, root, ignore=shutil.ignore_patterns("*.duckdb", "*.duckdb.wal", "*.lock")))
    open_store(workspace).periods()  # builds actuals.duckdb once, as the first run of a workspace would
    return workspace, [team.id for team in load_framework(workspace).teams]


def local_cluster(workers: int):
    """A LocalCluster of `workers` single-threaded process workers on 127.0.0.1, and a stop function."""
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    return cluster.scheduler_address, cluster.close


def line(label: str, seconds: float, memory: int, floor_s: float) -> str:
    return f"{label:<34} {seconds:7.1f} s   ×{seconds / floor_s:5.2f} of floor   peak {memory / 2**20:6.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", type=Path, default=SAMPLE_ORG_DIR)
    parser.add_argument("--notebooks-dir", type=Path, default=NOTEBOOKS_DIR)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--teams", type=int, default=24, help="teams of the scale run (0: skip it)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-runner-") as tmp:
        root = Path(tmp)
        os.environ["XDG_CACHE_HOME"] = str(root / "cache")  # the suggestion vectors: fitted once, as on first use
        workspace, teams = prepared(args.workspace, root / "workspace")
        steps = len(discover_notebooks(args.notebooks_dir))
        count = len(teams) * steps
        print(f"{count} runs ({len(teams)} teams × {steps} notebooks), {args.jobs} jobs, {args.repeat} round(s)")
        common = {"workspace": workspace, "all_teams": True, "jobs": args.jobs, "progress": False,
                  "notebooks_dir": args.notebooks_dir}
        runner(RunRequest(**{**common, "all_teams": False}, out=root / "warm-up", teams=teams[:1]))  # fills the cache
        address, stop_cluster = local_cluster(args.jobs)
        timings: dict[str, list[tuple[float, int]]] = {"floor": [], "local": [], "dask": []}
        try:
            for round_ in range(args.repeat):
                base = root / f"round{round_}"
                timings["floor"].append(measured(floor, workspace, teams, count, args.jobs, base / "floor"))
                timings["local"].append(measured(runner, RunRequest(**common, out=base / "local")))
                timings["dask"].append(measured(runner, RunRequest(**common, out=base / "dask", executor="dask",
                                                                   scheduler=address)))
        finally:
            stop_cluster()
        median = {name: (statistics.median(s for s, _ in runs), max(m for _, m in runs))
                  for name, runs in timings.items()}
        floor_s = median["floor"][0]
        print(line("floor (plain papermill)", *median["floor"], floor_s))
        print(line("runner, local pool", *median["local"], floor_s) + f"   goal ≤ {GOAL}, moonshot ≤ {MOONSHOT}")
        print(line("runner, dask LocalCluster", *median["dask"], floor_s))
        for name in ("local", "dask"):  # each round's runner against that round's floor
            ratios = sorted(s / f for (s, _), (f, _) in zip(timings[name], timings["floor"], strict=True))
            print(f"ratio per round, {name:<5}  median ×{statistics.median(ratios):.2f}  "
                  f"range ×{ratios[0]:.2f}–{ratios[-1]:.2f}  ({', '.join(f'{r:.2f}' for r in ratios)})")
        print(f"seconds per notebook (wall × jobs / notebooks): floor {floor_s * args.jobs / count:.2f}, "
              f"runner {median['local'][0] * args.jobs / count:.2f} at {len(teams)} teams")
        if args.teams:
            big, big_teams = prepared(many_teams(args.workspace, args.teams, root / "many"), root / "many-copy")
            seconds, memory = measured(runner, RunRequest(**{**common, "workspace": big}, out=root / "many-out"))
            runs = len(big_teams) * steps
            print(f"runner, {len(big_teams)} teams ({runs} notebooks)    {seconds:7.1f} s   "
                  f"{seconds * args.jobs / runs:.2f} s per notebook   peak {memory / 2**20:6.0f} MiB")


if __name__ == "__main__":
    main()
