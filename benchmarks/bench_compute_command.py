"""Benchmark of the whole `kpi-workbook compute` command against its engine alone, on bench_compute's order lines.

    .venv/bin/python benchmarks/bench_compute_command.py [--rows 1000000] [--employees 100000] [--repeat 3]

The command computes every KPI for teams, employees, departments and the organization, compares the values with the
store (new, changed, removed, unchanged) and stores them with their lineage in one transaction. Each repeat runs, as
child processes in turn: the command on an empty store (the first computation), the command again (a quarter's
rerun: every stored value is compared and replaced), and the engine alone (`compute` in a fresh Python process, the
framework and employees read first, as the command does). The script prints the median wall time and peak resident
memory of each and the ratio of each command run to the engine: what comparing and storing the values add.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from bench_compute import write_orders, write_workspace
from child_process import run_child

CLI = Path(sys.executable).parent / "kpi-workbook"
ENGINE = """
import sys
from kpi_workbook.analysis.measures import compute
from kpi_workbook.workspace.opener import open_workspace
opened = open_workspace(sys.argv[1])
compute(opened.root, opened.framework, opened.employees)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[tuple[float, float]]] = {"first": [], "rerun": [], "engine": []}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_orders(root / "orders.parquet", args.rows, args.employees)
        write_workspace(root, args.employees)
        command = [str(CLI), "compute", "-w", str(root)]
        for number in range(args.repeat):
            for stale in root.glob("actuals.duckdb*"):
                stale.unlink()
            for name, argv in (("first", command), ("rerun", command),
                               ("engine", [sys.executable, "-c", ENGINE, str(root)])):
                seconds, usage = run_child(argv)
                runs[name].append((seconds, usage.ru_maxrss / 1024))
            print(f"run {number + 1}: " + ", ".join(f"{name} {found[-1][0]:.1f} s {found[-1][1]:,.0f} MB"
                                                   for name, found in runs.items()), flush=True)
    medians = {name: [statistics.median(x[i] for x in found) for i in (0, 1)] for name, found in runs.items()}
    print(f"medians of {args.repeat} runs, {args.rows:,} order lines of {args.employees:,} employees:")
    labels = {"first": "compute, empty store", "rerun": "compute, rerun", "engine": "engine alone"}
    for name, (seconds, memory) in medians.items():
        ratio = "" if name == "engine" else f"   {seconds / medians['engine'][0]:.2f}x the engine"
        print(f"  {labels[name]:22s} {seconds:6.1f} s  {memory:7,.0f} MB peak RSS{ratio}")


if __name__ == "__main__":
    main()
