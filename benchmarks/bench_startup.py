"""Start-up benchmark: ``kpi-workbook --help`` and every command's ``--help`` against ``python -c "import typer"``.

Each run is a whole process. In every round the baseline (a Python that only imports typer) and the help of the
application and of each command take turns, after one warm-up run of each that is not counted. The script prints,
per command, the median wall time, the median CPU time (user + system, from the operating system's accounting of
the finished child), the median of the rounds' wall-time ratios to the baseline, and whether the median wall time
meets the goal (0.5 s). On a busy machine (see the load average it prints) the wall times grow with the wait for a
processor; the CPU times and the ratios hold better.

    .venv/bin/python benchmarks/bench_startup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import typer
from child_process import run_child

from kpi_workbook.cli import _register_commands, app

GOAL_SECONDS = 0.5
CLI = Path(sys.executable).parent / "kpi-workbook"
BASELINE = [sys.executable, "-c", "import typer"]
BASELINE_LABEL = 'python -c "import typer"'


def help_commands() -> list[list[str]]:
    """`kpi-workbook --help`, then `kpi-workbook COMMAND --help` for every command the help lists."""
    _register_commands()
    group = typer.main.get_command(app)
    names = sorted(name for name, command in group.commands.items() if not command.hidden)
    return [[str(CLI), "--help"], *([str(CLI), name, "--help"] for name in names)]


def run(command: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of a command run as a child process (it must exit 0)."""
    wall, usage = run_child(command)
    return wall, usage.ru_utime + usage.ru_stime


def label(command: list[str]) -> str:
    """How a command is shown: its program's name and its arguments."""
    return " ".join([Path(command[0]).name, *command[1:]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="counted rounds (default 7)")
    args = parser.parse_args()
    commands = help_commands()
    for command in [BASELINE, *commands]:
        run(command)
    baseline: list[tuple[float, float]] = []
    timings: dict[str, list[tuple[float, float]]] = {label(c): [] for c in commands}
    for _ in range(args.repeat):
        baseline.append(run(BASELINE))
        for command in commands:
            timings[label(command)].append(run(command))
    base_wall, base_cpu = (statistics.median(t[i] for t in baseline) for i in (0, 1))
    width = max(len(name) for name in [BASELINE_LABEL, *timings])
    print(f"medians of {args.repeat} rounds; ratio: median of each round's wall time over the baseline's; "
          f"load average over the last minute {os.getloadavg()[0]:.1f} on {os.cpu_count()} processors")
    print(f"  {'command':<{width}}  {'wall s':>7}  {'cpu s':>7}  {'ratio':>6}")
    print(f"  {BASELINE_LABEL:<{width}}  {base_wall:7.3f}  {base_cpu:7.3f}  {1:6.2f}")
    for name, runs in timings.items():
        wall, cpu = (statistics.median(t[i] for t in runs) for i in (0, 1))
        ratio = statistics.median(t[0] / b[0] for t, b in zip(runs, baseline, strict=True))
        verdict = "met" if wall <= GOAL_SECONDS else "NOT met"
        print(f"  {name:<{width}}  {wall:7.3f}  {cpu:7.3f}  {ratio:6.2f}   goal {GOAL_SECONDS} s: {verdict}")


if __name__ == "__main__":
    main()
