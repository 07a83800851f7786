"""Step 2, job descriptions: roles, their responsibilities and expected outcomes, and responsibilities without a KPI."""

from __future__ import annotations

__all__ = [
    "kpis_without_responsibility", "missing_outcomes", "orphans_report", "responsibilities_report",
    "responsibilities_table", "roles_report", "roles_table", "uncovered_responsibilities",
]

from collections.abc import Sequence

import pandas as pd

from kpi_workbook.core.model import Role
from kpi_workbook.reports.tables import Col, ReportTable


def roles_table(roles: Sequence[Role], employees: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per role: title, teams, purpose, how many responsibilities and KPIs it has and who holds it.

    `people` counts the rows of `employees` (e.g. one team's people) holding the role; 0 without employees.
    """
    frame = pd.DataFrame(
        [(r.id, r.title, ", ".join(r.teams), r.purpose, len(r.responsibilities), len(r.kpis)) for r in roles],
        columns=["role", "title", "teams", "purpose", "responsibilities", "kpis"],
    )
    holders = employees["role"].value_counts() if employees is not None else pd.Series(dtype=int)
    frame["people"] = frame["role"].map(holders).fillna(0).astype(int)
    return frame


def responsibilities_table(roles: Sequence[Role]) -> pd.DataFrame:
    """One row per responsibility: its description, expected outcome and the role KPIs that measure it."""
    rows = []
    for role in roles:
        for resp in role.responsibilities:
            kpis = [a.kpi for a in role.kpis if a.responsibility == resp.id]
            rows.append((role.id, resp.id, resp.description, resp.expected_outcome, ", ".join(kpis), len(kpis)))
    return pd.DataFrame(
        rows, columns=["role", "responsibility", "description", "expected_outcome", "kpis", "kpi_count"]
    )


def uncovered_responsibilities(roles: Sequence[Role]) -> pd.DataFrame:
    """Responsibilities that no KPI of their role measures yet."""
    table = responsibilities_table(roles)
    columns = ["role", "responsibility", "description", "expected_outcome"]
    return table.loc[table["kpi_count"] == 0, columns].reset_index(drop=True)


def missing_outcomes(roles: Sequence[Role]) -> pd.DataFrame:
    """Responsibilities whose expected outcome is not written down (KPIs are hard to derive without one)."""
    table = responsibilities_table(roles)
    columns = ["role", "responsibility", "description"]
    return table.loc[table["expected_outcome"].str.strip() == "", columns].reset_index(drop=True)


def kpis_without_responsibility(roles: Sequence[Role]) -> pd.DataFrame:
    """Role KPIs that name no responsibility of their role (or one the role does not have)."""
    rows = [
        (role.id, a.kpi, a.responsibility or "")
        for role in roles
        for a in role.kpis
        if a.responsibility not in {r.id for r in role.responsibilities}
    ]
    return pd.DataFrame(rows, columns=["role", "kpi", "responsibility"])


# --- the step's tables as a report shows them ---------------------------------------------------------------------


def roles_report(roles: pd.DataFrame) -> ReportTable:
    """The roles with their purpose in full."""
    return ReportTable(roles, {
        "title": Col("Role"), "role": Col("Id"), "teams": Col("Teams"), "purpose": Col("Purpose"),
        "responsibilities": Col("Responsibilities", "count"), "kpis": Col("KPIs", "count"),
        "people": Col("People", "count"),
    }, noun=("role", "roles"), empty="No roles in this scope.")


def responsibilities_report(table: pd.DataFrame, noun: tuple[str, str] = ("responsibility", "responsibilities"),
                            empty: str = "No responsibilities in this scope.") -> ReportTable:
    """Responsibilities with their description and expected outcome in full, and the KPIs measuring them."""
    columns = {"role": Col("Role"), "responsibility": Col("Responsibility"), "description": Col("Description"),
               "expected_outcome": Col("Expected outcome"), "kpis": Col("KPIs measuring it")}
    return ReportTable(table, {c: spec for c, spec in columns.items() if c in table.columns}, noun=noun, empty=empty,
                       group_by="role")


def orphans_report(orphans: pd.DataFrame) -> ReportTable:
    """Role KPIs that name no responsibility of their role."""
    return ReportTable(orphans.assign(responsibility=orphans["responsibility"].replace("", "(none)")), {
        "role": Col("Role"), "kpi": Col("KPI"), "responsibility": Col("Responsibility named"),
    }, noun=("role KPI", "role KPIs"), empty="Every role KPI names one of its role's responsibilities.")
