"""`kpi-workbook diff OLD NEW`: what changed between two framework versions (e.g. two review cycles)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kpi_workbook.analysis.diff import diff_frameworks, format_diff
from kpi_workbook.cli.app import OutputFormat, app, echo_table, fail, render_table
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.workspace.files import load_framework


def _located(problem: Problem, side: str, root: Path) -> Problem:
    """The problem with its file named inside its workspace and the side (old/new) it belongs to."""
    file = problem.file if problem.file.startswith(str(root)) else str(root / problem.file)
    return Problem(file=f"{file} ({side})", message=problem.message, entry=problem.entry, field=problem.field)


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="Workspace folder of the older framework version.")],
    new: Annotated[Path, typer.Argument(help="Workspace folder of the newer framework version.")],
    output: Annotated[OutputFormat, typer.Option("--format", help="text (grouped, +/-/~), csv or json.")] = (
        OutputFormat.TEXT
    ),
) -> None:
    """Show added (+), removed (-) and changed (~) objectives, teams, KPIs, roles, responsibilities and
    assignments (weights, bands) between two workspace folders.

    Exit code 0 whenever both folders load (with or without differences), 2 when either cannot be read.
    """
    frameworks = []
    problems: list[Problem] = []
    for side, path in (("old", old), ("new", new)):
        try:
            frameworks.append(load_framework(path))
        except InputError as exc:
            problems += [_located(p, side, path) for p in exc.problems]
    if problems:
        fail(InputError(problems))
    table = diff_frameworks(*frameworks)
    old_meta, new_meta = (f.metadata for f in frameworks)
    echo_table(render_table(table, output, lambda: format_diff(
        table, f"{old} (version {old_meta.version})", f"{new} (version {new_meta.version})")))
