"""Which computed values the framework uses: the employee's role, or a role of the team, has the KPI."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from kpi_workbook.core.measures import Per
from kpi_workbook.core.model import Framework

#: Columns of the staff table: the employee's home team and role (for assignments).
HOME, ROLE = "__home", "__role"
OTHER_TEAM = "the employee belongs to another team in employees.csv"
NOT_THE_ROLE = "KPI not assigned to the role"
NOT_THE_TEAM = "KPI not assigned to any role of the team"


def _within(column: Any, allowed: set[str]) -> Any:
    return column.isin(sorted(allowed)).fill_null(False) if allowed else ibis.literal(False)


class Assignments:
    """The roles and teams that have each KPI, and the employees' home teams and roles as a table to join."""

    def __init__(self, framework: Framework, employees: pd.DataFrame):
        people = employees.drop_duplicates("employee_id")
        role_kpis = {(a.role, a.kpi.kpi) for a in framework.assignments}
        pairs = people[["team", "role"]].drop_duplicates()
        team_roles = {(t, r.id) for r in framework.roles for t in r.teams} | set(
            zip(pairs["team"].tolist(), pairs["role"].tolist(), strict=True))
        self._roles: dict[str, set[str]] = {}
        for role, kpi in role_kpis:
            self._roles.setdefault(kpi, set()).add(role)
        self._teams: dict[str, set[str]] = {}
        for team, role in team_roles:
            for kpi, roles in self._roles.items():
                if role in roles:
                    self._teams.setdefault(kpi, set()).add(str(team))
        self.staff = ibis.memtable(pd.DataFrame({
            "__staff": people["employee_id"].astype(str).to_numpy(),
            HOME: people["team"].astype(str).to_numpy(),
            ROLE: people["role"].astype(str).to_numpy()}))

    def in_scopes(self, scope_of: dict[str, str]) -> Assignments:
        """The assignments one level up (`scope_of`: each team's department, or the organization): a scope has a
        KPI where one of its teams does, and its value is over all its records."""
        above = Assignments.__new__(Assignments)
        above._roles = {}
        above._teams = {kpi: {scope_of[t] for t in teams if t in scope_of} for kpi, teams in self._teams.items()}
        above.staff = ibis.memtable(pd.DataFrame({"__staff": pd.Series(dtype="str"), HOME: pd.Series(dtype="str"),
                                                  ROLE: pd.Series(dtype="str")}))
        return above

    def teams_with(self, kpi: str) -> tuple[str, ...]:
        """The teams (ids, sorted) where a role has the KPI."""
        return tuple(sorted(self._teams.get(kpi, set())))

    def roles_with(self, kpi: str) -> tuple[str, ...]:
        """The roles (ids, sorted) that have the KPI."""
        return tuple(sorted(self._roles.get(kpi, set())))

    def team_has(self, team: Any, kpi: str) -> Any:
        """Whether a role of the team has the KPI."""
        return _within(team, self._teams.get(kpi, set()))

    def left_out(self, table: ir.Table, kpi: str, per: Per) -> Any:
        """Why a value of the KPI in each row of `table` is left out, or NULL when the framework uses it."""
        if per is Per.TEAM:
            return ibis.ifelse(self.team_has(table.team, kpi), ibis.null("string"), ibis.literal(NOT_THE_TEAM))
        return ibis.cases((table[HOME].isnull() | (table[HOME] != table.team), ibis.literal(OTHER_TEAM)),
                          (~_within(table[ROLE], self._roles.get(kpi, set())), ibis.literal(NOT_THE_ROLE)),
                          else_=ibis.null("string"))
