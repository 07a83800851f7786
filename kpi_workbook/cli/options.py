"""The options several commands share, declared once so that each has one name, type and help text everywhere.

A command declares a parameter with one of these types, e.g. ``team: TeamOption = ""``; what an empty value means
(the whole organization, the latest period) is the workspace scope's rule (`Workspace.scope`).
"""

from __future__ import annotations

__all__ = ["DepartmentOption", "PeriodOption", "TeamOption", "WorkspaceOption"]

from typing import Annotated

import typer

WorkspaceOption = Annotated[str, typer.Option(
    "--workspace", "-w", show_default=False,
    help="Workspace folder (default: $KPI_WORKBOOK_WORKSPACE, else the current folder); 'sample' names the bundled "
         "sample organization (read only).")]

TeamOption = Annotated[str, typer.Option("--team", show_default=False, help="Only this team, by id.")]
DepartmentOption = Annotated[str, typer.Option(
    "--department", show_default=False, help="Only this department's teams, by id or name.")]
PeriodOption = Annotated[str, typer.Option(
    "--period", show_default=False, help="Period, e.g. 2025Q4 (default: the latest with actuals).")]
