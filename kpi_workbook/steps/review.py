"""Step 5, review: the report's summary and the scorecards and flags as tables a manager reads (names, formats,
RAG colours), built on `analysis.review`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kpi_workbook.core.model import Framework
from kpi_workbook.reports.summary import ReportSummary, scope_figures
from kpi_workbook.reports.tables import Col, ReportTable
from kpi_workbook.workspace.changelog import read_changelog

SCORE = Col("Score", "score")
COVERAGE = Col("Data coverage", "share")
STATUS = Col("Status", "status")


def names(framework: Framework) -> dict[str, dict[str, str]]:
    """Readable names of the framework's teams, roles and KPIs, by id."""
    return {
        "team": {t.id: t.name for t in framework.teams},
        "role": {r.id: r.title for r in framework.roles},
        "kpi_id": {k.id: k.name for k in framework.kpis},
    }


def with_names(frame: pd.DataFrame, framework: Framework, employees: pd.DataFrame | None = None) -> pd.DataFrame:
    """A copy of a scorecard or flag table with `<column>_name` for its team, role, KPI (and person) ids."""
    out = frame.copy()
    for column, known in names(framework).items():
        if column in out.columns:
            ids = out[column].astype(str)
            out[f"{column}_name"] = [known.get(i, i) for i in ids]
    if employees is not None and "employee_id" in out.columns:
        people = dict(zip(employees["employee_id"], employees["name"], strict=True))
        out["person"] = [f"{people.get(i, '(not in employees.csv)')} ({i})" for i in out["employee_id"].astype(str)]
    return out


def summary(name: str, scores: pd.DataFrame, period: str, flags: pd.DataFrame, framework: Framework,
            workspace: Path | None = None) -> ReportSummary:
    """The summary a review report opens with (score, change, status counts, top flags, and what changed in the
    framework: the latest entry of the workspace's change log)."""
    log = read_changelog(workspace) if workspace is not None else []
    return ReportSummary(name=name, figures=scope_figures(scores, period), flags=flags, names=names(framework),
                         change=log[-1] if log else None)


def team_table(teams: pd.DataFrame, framework: Framework) -> ReportTable:
    """The team scorecard of the period."""
    return ReportTable(with_names(teams, framework), {
        "team_name": Col("Team"), "score": SCORE, "coverage": COVERAGE, "status": STATUS,
    }, noun=("team", "teams"), empty="No team has people with KPIs in this scope.")


def role_table(roles: pd.DataFrame, framework: Framework) -> ReportTable:
    """The role scorecards of the period, per team."""
    return ReportTable(with_names(roles, framework), {
        "team_name": Col("Team"), "role_name": Col("Role"), "score": SCORE, "coverage": COVERAGE, "status": STATUS,
    }, noun=("role", "roles"), empty="No role has people in this scope.", group_by="team_name")


def kpi_table(kpis: pd.DataFrame, framework: Framework) -> ReportTable:
    """Each role's KPIs in the period (mean score across the role's people), grouped by team when long."""
    return ReportTable(with_names(kpis, framework), {
        "team_name": Col("Team"), "role_name": Col("Role"), "kpi_id_name": Col("KPI"), "score": SCORE,
        "coverage": COVERAGE, "status": STATUS,
    }, noun=("KPI", "KPIs"), empty="No role KPI in this scope.", group_by="team_name")


def people_table(people: pd.DataFrame, employees: pd.DataFrame, framework: Framework) -> ReportTable:
    """One row per person: name and id, role, weighted score, data coverage and status; grouped by team when long."""
    return ReportTable(with_names(people, framework, employees), {
        "team_name": Col("Team"), "person": Col("Person (id)"), "role_name": Col("Role"), "score": SCORE,
        "coverage": COVERAGE, "status": STATUS,
    }, noun=("person", "people"), empty="Nobody in this scope has KPIs.", group_by="team_name")


def flags_table(flags: pd.DataFrame, framework: Framework) -> ReportTable:
    """The review's flags with their recommendations, warnings first; grouped by flag when long."""
    table = with_names(flags, framework)
    table["flag_text"] = table["flag"].str.replace("_", " ")
    table["kpi_id_name"] = table["kpi_id_name"].where(table["kpi_id"].astype(str) != "", "")
    table["role_name"] = table["role_name"].where(table["role"].astype(str) != "", "")
    return ReportTable(table, {
        "severity": Col("Severity", "severity"), "flag_text": Col("Flag"), "team_name": Col("Team"),
        "role_name": Col("Role"), "kpi_id_name": Col("KPI"), "message": Col("What the data shows"),
        "recommendation": Col("Recommendation"),
    }, noun=("flag", "flags"), empty="No flags: nothing to change this period.", group_by="flag_text",
        group_above=25)
