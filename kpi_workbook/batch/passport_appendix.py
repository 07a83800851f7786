"""The KPI passports that close a scope's PDF pack (`kpi-workbook run --pdf --passports`)."""

from __future__ import annotations

__all__ = ["passport_appendix", "scope_kpis", "scope_of_folder"]

from collections.abc import Callable

from kpi_workbook.batch.records import DEPARTMENT_FOLDER, ORGANIZATION_FOLDER
from kpi_workbook.workspace.opener import Workspace
from kpi_workbook.workspace.scope import Scope


def scope_of_folder(workspace: Workspace, folder: str) -> Scope:
    """The scope whose reports a folder of a period holds (see batch.records.scope_folder)."""
    if folder == ORGANIZATION_FOLDER:
        return workspace.scope()
    if folder.startswith(DEPARTMENT_FOLDER):
        return workspace.scope(department=folder.removeprefix(DEPARTMENT_FOLDER))
    return workspace.scope(team=folder)


def scope_kpis(scope: Scope) -> list[str]:
    """The ids of the KPIs the scope's roles hold, in the order the roles list them."""
    return list(dict.fromkeys(assignment.kpi for role in scope.roles for assignment in role.kpis))


def passport_appendix(workspace: Workspace) -> Callable[[str], str]:
    """For a scope folder, the passports of its KPIs as an appendix; the workspace is read once for all scopes."""
    from kpi_workbook.reports.passport import gather
    from kpi_workbook.reports.passport_page import passports_appendix_html

    sources = gather(workspace)

    def appendix(folder: str) -> str:
        return passports_appendix_html(sources, scope_kpis(scope_of_folder(workspace, folder)))

    return appendix
