"""`kpi-workbook validate`: check a workspace and print the findings (exit 0 clean, 1 errors, 2 unreadable)."""

from __future__ import annotations

__all__ = ["EXIT_FINDINGS", "validate"]

from pathlib import Path
from typing import Annotated

import typer

from kpi_workbook.cli.app import (
    EXIT_UNREADABLE,
    OutputFormat,
    app,
    echo_table,
    fail,
    open_workspace_option,
    render_table,
)
from kpi_workbook.cli.options import WorkspaceOption
from kpi_workbook.core.atomic_files import write_text_atomically

EXIT_FINDINGS = 1


@app.command()
def validate(
    workspace: WorkspaceOption = "",
    output: Annotated[OutputFormat, typer.Option("--format", help="Output: readable text, csv or json.")] = (
        OutputFormat.TEXT
    ),
    report: Annotated[Path | None, typer.Option(help="Also write the readable report (markdown) here.")] = None,
    connect: Annotated[bool, typer.Option("--connect", help="Also reach every database source of sources.yaml and "
                                                            "check its table's columns and types there.")] = False,
) -> None:
    """Check a workspace: SMART per KPI assignment, structure, coverage and balance of the framework."""
    from kpi_workbook.analysis.checks import check_workspace, findings_frame, format_findings, has_errors
    from kpi_workbook.core.errors import InputError

    try:
        opened = open_workspace_option(workspace)
        findings = check_workspace(opened, connect=connect)
    except InputError as exc:  # csv and json list an unreadable workspace's problems with their codes, too
        if output is OutputFormat.TEXT:
            raise
        echo_table(render_table(findings_frame(exc.issues), output, str))
        raise typer.Exit(EXIT_UNREADABLE) from None
    echo_table(render_table(findings_frame(findings), output, lambda: format_findings(findings)))
    if report is not None:
        try:
            write_text_atomically(report, format_findings(findings, title=f"Framework check: {opened.name}"))
        except OSError as exc:
            fail(f"{report}: cannot write the report ({exc.strerror or exc})")
    raise typer.Exit(EXIT_FINDINGS if has_errors(findings) else 0)
