"""Import benchmark: `kpi-workbook import-actuals` of a large valid long-layout CSV against a plain DuckDB load.

The workspace is a copy of the sample organization's framework with as many generated employees as the roles'
KPI counts need to reach ``--rows`` values over ``--periods`` quarters (``kpi_workbook.sample``'s
generators; the CSV is written by DuckDB). Each run is a whole process: the import (into a workspace without a
store) and the baseline, a hand-written DuckDB ``read_csv`` with typed columns inserted into a table of a new
DuckDB file, take turns. The script prints the median wall time and peak resident memory of each (from the
operating system's accounting of the finished child), the median of the pairwise time ratios, and the import's
figures against the goals: at most 2.5 times the plain load's time (that ratio, as both run in the same conditions)
and 1 GB of peak memory. The machine's load averages before and after are printed with the figures.

    .venv/bin/python benchmarks/bench_import.py [--rows 4000000] [--periods 38] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from child_process import run_child

from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.sample import generate_actuals, generate_employees, quarter_labels
from kpi_workbook.workspace.files import EMPLOYEES_FILE, load_framework

GOAL_RATIO = 2.5
GOAL_MB = 1024.0
CLI = Path(sys.executable).parent / "kpi-workbook"
BASELINE = """
import sys, duckdb
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE actuals (period TEXT, team TEXT, employee_id TEXT, kpi_id TEXT, value DOUBLE)")
con.execute("INSERT INTO actuals SELECT * FROM read_csv(?, header = true, columns = {'period': 'VARCHAR', "
            "'team': 'VARCHAR', 'employee_id': 'VARCHAR', 'kpi_id': 'VARCHAR', 'value': 'DOUBLE'})", [sys.argv[1]])
con.execute("CHECKPOINT")
"""


def build(root: Path, rows: int, periods: int, seed: int = 7) -> tuple[Path, Path, int]:
    """A workspace under `root` (the sample's framework, generated employees) and a valid actuals CSV beside it."""
    workspace = root / "ws"
    shutil.copytree(SAMPLE_ORG_DIR, workspace, ignore=shutil.ignore_patterns(
        "*.duckdb*", "*.lock", "actuals.csv", "exports", "sources.yaml"))
    framework = load_framework(workspace)
    sample_values_per_person = 7644 / 180 / 8  # the sample organization: 180 people, 8 quarters, 7644 values
    people = generate_employees(framework, max(1, round(rows / periods / sample_values_per_person)), seed)
    people.to_csv(workspace / EMPLOYEES_FILE, index=False, lineterminator="\n")
    actuals = generate_actuals(framework, people, quarter_labels("2010Q1", periods), seed)
    path = root / "actuals.csv"
    con = duckdb.connect()
    con.register("actuals", actuals)
    con.execute("COPY (SELECT period, team, NULLIF(CAST(employee_id AS VARCHAR), '') AS employee_id, kpi_id, "
                f"CAST(value AS VARCHAR) AS value FROM actuals) TO '{path}' (FORMAT csv, HEADER)")
    con.close()
    return workspace, path, len(actuals)


def run(command: list[str]) -> tuple[float, float]:
    """Run a command as a child process; its wall seconds and peak resident memory in MB (it must exit 0)."""
    seconds, usage = run_child(command)
    return seconds, usage.ru_maxrss / 1024


def _load() -> str:
    """The system's load averages over 1, 5 and 15 minutes."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--periods", type=int, default=38)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load averages (1, 5, 15 min) before: {_load()}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.perf_counter()
        workspace, csv, rows = build(root, args.rows, args.periods)
        size = csv.stat().st_size / 1e6
        print(f"generated {rows:,} rows, {size:.0f} MB in {time.perf_counter() - started:.1f} s", flush=True)
        imports, baselines = [], []
        for number in range(args.repeat):
            for stale in workspace.glob("actuals.duckdb*"):
                stale.unlink()
            imports.append(run([str(CLI), "import-actuals", str(csv), "-w", str(workspace)]))
            target = root / f"baseline{number}.duckdb"
            baselines.append(run([sys.executable, "-c", BASELINE, str(csv), str(target)]))
            target.unlink()
            print(f"run {number + 1}: import {imports[-1][0]:.1f} s {imports[-1][1]:.0f} MB, "
                  f"baseline {baselines[-1][0]:.1f} s {baselines[-1][1]:.0f} MB", flush=True)
    seconds, memory = (statistics.median(x[i] for x in imports) for i in (0, 1))
    base_seconds, base_memory = (statistics.median(x[i] for x in baselines) for i in (0, 1))
    ratio = statistics.median(a[0] / b[0] for a, b in zip(imports, baselines, strict=True))
    print(f"medians of {args.repeat} runs, {rows:,} rows ({size:.0f} MB), load averages after: {_load()}")
    print(f"  import-actuals  {seconds:6.1f} s  {memory:6.0f} MB peak RSS")
    print(f"  plain DuckDB    {base_seconds:6.1f} s  {base_memory:6.0f} MB peak RSS   (read_csv + insert)")
    print(f"  ratio import / plain DuckDB (median of pairs): {ratio:.2f}x time, {memory / base_memory:.2f}x memory")
    print(f"  goals: time ratio {ratio:.2f}x <= {GOAL_RATIO}x {'met' if ratio <= GOAL_RATIO else 'NOT met'}, "
          f"peak RSS {memory:.0f} MB <= {GOAL_MB:.0f} MB {'met' if memory <= GOAL_MB else 'NOT met'}")


if __name__ == "__main__":
    main()
