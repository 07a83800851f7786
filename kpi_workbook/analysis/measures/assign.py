"""Which computed values the framework uses, as ibis expressions: the rule of `workspace.assignments` (the
employee's role, or a role of the team, holds the KPI) over a computed table."""

from __future__ import annotations

__all__ = ["Assignments"]

from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from kpi_workbook.core.measures import Per
from kpi_workbook.core.model import Framework
from kpi_workbook.workspace.assignments import NOT_THE_ROLE, NOT_THE_TEAM, OTHER_TEAM, UNKNOWN_EMPLOYEE, KpiHolders

#: Columns of the staff table: the employee's home team and role (for assignments).
HOME, ROLE = "__home", "__role"


def _within(column: Any, allowed: tuple[str, ...]) -> Any:
    return column.isin(list(allowed)).fill_null(False) if allowed else ibis.literal(False)


def _staff(people: pd.DataFrame) -> ir.Table:
    frame = pd.DataFrame({"__staff": people["employee_id"], HOME: people["team"], ROLE: people["role"]})
    return ibis.memtable(frame, schema={"__staff": "string", HOME: "string", ROLE: "string"})


class Assignments:
    """The roles and teams that hold each KPI, and the employees' home teams and roles as a table to join."""

    def __init__(self, framework: Framework, employees: pd.DataFrame):
        holders = KpiHolders.of(framework, employees)
        self._roles = {kpi: holders.roles_with(kpi) for kpi in holders.kpi_roles}
        self._teams = {kpi: holders.teams_with(kpi) for kpi in holders.kpi_teams}
        self.staff = _staff(holders.staff)

    def in_scopes(self, scopes_of: dict[str, tuple[str, ...]]) -> Assignments:
        """The assignments of the levels up (`scopes_of`: each team's scopes, such as its department and the
        organization): a scope has a KPI where one of its teams does, and its value is over all its records."""
        above = Assignments.__new__(Assignments)
        above._roles = {}
        above._teams = {kpi: tuple(sorted({s for t in teams for s in scopes_of.get(t, ())}))
                        for kpi, teams in self._teams.items()}
        above.staff = _staff(pd.DataFrame(columns=["employee_id", "team", "role"]))
        return above

    def teams_with(self, kpi: str) -> tuple[str, ...]:
        """The teams (ids, sorted) where a role holds the KPI."""
        return self._teams.get(kpi, ())

    def roles_with(self, kpi: str) -> tuple[str, ...]:
        """The roles (ids, sorted) that hold the KPI."""
        return self._roles.get(kpi, ())

    def team_has(self, team: Any, kpi: str) -> Any:
        """Whether a role of the team holds the KPI."""
        return _within(team, self.teams_with(kpi))

    def left_out(self, table: ir.Table, kpi: str, per: Per) -> Any:
        """Why a value of the KPI in each row of `table` is left out (a reason of `workspace.assignments`), or NULL
        when the framework uses it."""
        if per is Per.TEAM:
            return ibis.ifelse(self.team_has(table.team, kpi), ibis.null("string"), ibis.literal(NOT_THE_TEAM))
        return ibis.cases((table[HOME].isnull(), ibis.literal(UNKNOWN_EMPLOYEE)),
                          ((table[HOME] != table.team).fill_null(True), ibis.literal(OTHER_TEAM)),
                          (~_within(table[ROLE], self.roles_with(kpi)), ibis.literal(NOT_THE_ROLE)),
                          else_=ibis.null("string"))
