"""Framework checks: SMART per role KPI assignment, plus structure, coverage and balance of the whole framework."""

from __future__ import annotations

__all__ = [
    "FINDING_COLUMNS", "RULES", "Finding", "Rule", "Severity", "check_framework", "check_workspace",
    "findings_frame", "format_findings", "has_errors", "sort_findings", "summary",
]

from dataclasses import replace

from kpi_workbook.analysis.checks import balance, coverage, measures, smart, structure  # noqa: F401  (registers rules)
from kpi_workbook.analysis.checks.findings import (
    FINDING_COLUMNS,
    Finding,
    Severity,
    findings_frame,
    format_findings,
    has_errors,
    sort_findings,
    summary,
)
from kpi_workbook.analysis.checks.registry import RULES, Rule
from kpi_workbook.core.errors import InputError
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.issues import Issue
from kpi_workbook.core.model import Framework
from kpi_workbook.workspace.employees import employee_problems, read_employees
from kpi_workbook.workspace.files import EMPLOYEES_FILE
from kpi_workbook.workspace.opener import Workspace
from kpi_workbook.workspace.source_paths import SourcePathError

_EMPLOYEE_FIXES = {
    "employee_id": "give every employee a unique, non-empty employee_id",
    "team": "use a team id from teams.yaml",
    "role": "use a role id from roles/",
}


def check_framework(framework: Framework) -> list[Finding]:
    """Run every registered rule; findings come errors first, then warnings, then info."""
    return sort_findings(f for r in RULES for f in r.run(framework))


def _employee_finding(problem: Issue) -> Finding:
    return replace(problem, severity=Severity.ERROR, code=Code.WORKSPACE_EMPLOYEES,
                   fix=_EMPLOYEE_FIXES.get(problem.field, f"correct {EMPLOYEES_FILE}"))


def check_workspace(workspace: Workspace, connect: bool = False) -> list[Finding]:
    """Check an opened workspace: its framework and, if present, its employees.csv; with `connect`, also reach
    every database source and check its columns there.

    Problems with employees.csv become error findings (code ``workspace.employees``).
    """
    framework = workspace.framework
    findings = check_framework(framework)
    if (workspace.root / EMPLOYEES_FILE).exists():
        try:
            problems = employee_problems(read_employees(workspace.root), framework)
        except SourcePathError:
            raise  # a file the workspace may not read makes it unreadable (exit 2), as for sources
        except InputError as exc:
            problems = exc.problems
        findings += [_employee_finding(p) for p in problems]
    findings += measures.source_findings(workspace.root, framework)
    if connect:
        findings += measures.connection_findings(workspace.root)
    return sort_findings(findings)
