"""Who a value counts for: which teams, roles and employees hold which KPIs, and why a value is left out.

The one rule that import validation, scoring, the history behind target suggestions and compute all follow:

* a role holds the KPIs assigned to it in its role file;
* a team's roles are the roles listed for the team in the role files plus the roles its employees hold in
  employees.csv (someone whose role does not list their team still brings the role to the team);
* a person's value (an employee id) counts for the person's role when the row's team is the person's team in
  employees.csv and the role holds the KPI;
* a team-level value (empty employee id) counts for every role of the team that holds the KPI, and so for each
  employee of the team in such a role who has no own value of the KPI;
* any other value is left out, with one of the reasons below (checked in this order for a person's value).
"""

from __future__ import annotations

__all__ = [
    "KpiHolders", "NOT_THE_ROLE", "NOT_THE_TEAM", "OTHER_TEAM", "REASONS", "STAFF_COLUMNS", "TEAM_LEVEL",
    "UNKNOWN_EMPLOYEE", "is_team_level",
]

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi_workbook.core.model import Framework

TEAM_LEVEL = ""  # the employee id of a team-level value
STAFF_COLUMNS = ["employee_id", "team", "role"]
UNKNOWN_EMPLOYEE = "unknown employee (not in employees.csv)"
OTHER_TEAM = "the employee belongs to another team in employees.csv"
NOT_THE_ROLE = "KPI not assigned to the employee's role"
NOT_THE_TEAM = "KPI not assigned to any role of the team"
REASONS = (UNKNOWN_EMPLOYEE, OTHER_TEAM, NOT_THE_ROLE, NOT_THE_TEAM)


def is_team_level(employee_ids: pd.Series) -> np.ndarray:
    """Whether each employee id marks a team-level value (empty or missing)."""
    return employee_ids.astype(object).fillna(TEAM_LEVEL).eq(TEAM_LEVEL).to_numpy(dtype=bool)


def _pairs(left: Iterable[object], right: Iterable[object]) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([_objects(left), _objects(right)])


def _objects(values: Iterable[object]) -> pd.Index:
    """An object index of `values`; a pandas column (Arrow-backed text included) is converted at once, not walked
    value by value in Python."""
    if isinstance(values, pd.Series | pd.Index):
        return pd.Index(values.to_numpy(dtype=object), dtype=object)
    return pd.Index(list(values), dtype=object)


def _held(holders: dict[str, frozenset[str]]) -> pd.MultiIndex:
    """(holder, KPI) pairs of a mapping from each KPI to the roles or teams that hold it."""
    return _pairs([h for ids in holders.values() for h in ids], [k for k, ids in holders.items() for _ in ids])


@dataclass(frozen=True)
class KpiHolders:
    """The teams, roles and employees that hold each KPI, by the rule of this module.

    `roles`: the framework's role ids in file order; `staff`: each employee's home team and role (STAFF_COLUMNS,
    text; the first row of a repeated id); the dicts give each KPI's roles and teams and each team's roles."""

    roles: tuple[str, ...]
    staff: pd.DataFrame
    kpi_roles: dict[str, frozenset[str]]
    kpi_teams: dict[str, frozenset[str]]
    team_roles: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, framework: Framework, employees: pd.DataFrame) -> KpiHolders:
        """The holders of a framework's KPIs with these employees (employee_id, team, role)."""
        staff = employees.drop_duplicates("employee_id")[STAFF_COLUMNS].astype(str).reset_index(drop=True)
        roles = tuple(r.id for r in framework.roles)
        pairs = {(team, r.id) for r in framework.roles for team in r.teams}
        held = staff[["team", "role"]].drop_duplicates()
        pairs |= set(zip(held["team"].tolist(), held["role"].tolist(), strict=True))
        team_roles = {team: tuple(r for r in roles if (team, r) in pairs) for team in sorted({t for t, _ in pairs})}
        kpi_roles: dict[str, set[str]] = {}
        for assignment in framework.assignments:
            kpi_roles.setdefault(assignment.kpi.kpi, set()).add(assignment.role)
        kpi_teams = {kpi: frozenset(t for t, of_team in team_roles.items() if with_kpi.intersection(of_team))
                     for kpi, with_kpi in kpi_roles.items()}
        return cls(roles=roles, staff=staff, kpi_roles={k: frozenset(v) for k, v in kpi_roles.items()},
                   kpi_teams=kpi_teams, team_roles=team_roles)

    def roles_with(self, kpi: str) -> tuple[str, ...]:
        """The roles (ids, sorted) that hold the KPI."""
        return tuple(sorted(self.kpi_roles.get(kpi, ())))

    def teams_with(self, kpi: str) -> tuple[str, ...]:
        """The teams (ids, sorted) where a role of the team holds the KPI."""
        return tuple(sorted(self.kpi_teams.get(kpi, ())))

    def roles_of(self, team: str) -> tuple[str, ...]:
        """The team's roles, in file order: listed for the team in the role files or held there by an employee."""
        return self.team_roles.get(team, ())

    def holds(self, roles: Iterable[str], kpis: Iterable[str]) -> np.ndarray:
        """A boolean matrix: whether role i of `roles` holds KPI j of `kpis`."""
        role_index, kpi_index = pd.Index(list(roles), dtype=object), pd.Index(list(kpis), dtype=object)
        held = _held(self.kpi_roles)
        matrix = np.zeros((len(role_index), len(kpi_index)), dtype=np.bool_)
        at_role = role_index.get_indexer(held.get_level_values(0))
        at_kpi = kpi_index.get_indexer(held.get_level_values(1))
        known = (at_role >= 0) & (at_kpi >= 0)
        matrix[at_role[known], at_kpi[known]] = True
        return matrix

    def knows(self, employee_ids: pd.Series) -> np.ndarray:
        """Whether each employee id is in employees.csv."""
        return _objects(employee_ids.astype(str)).isin(_objects(self.staff["employee_id"]))

    def in_home_team(self, teams: pd.Series, employee_ids: pd.Series) -> np.ndarray:
        """Whether each row's team is the employee's team in employees.csv (False for an unknown employee)."""
        home = employee_ids.astype(str).map(self.staff.set_index("employee_id")["team"])
        return (home == teams.astype(str)).to_numpy()

    def role_holds(self, employee_ids: pd.Series, kpi_ids: pd.Series) -> np.ndarray:
        """Whether each employee's role holds the row's KPI (False for an unknown employee)."""
        role = employee_ids.astype(str).map(self.staff.set_index("employee_id")["role"])
        return _pairs(role, kpi_ids.astype(str)).isin(_held(self.kpi_roles))

    def team_holds(self, teams: pd.Series, kpi_ids: pd.Series) -> np.ndarray:
        """Whether a role of each row's team holds the row's KPI."""
        return _pairs(teams.astype(str), kpi_ids.astype(str)).isin(_held(self.kpi_teams))

    def left_out(self, values: pd.DataFrame) -> pd.Series:
        """Why each value (a frame with team, employee_id and kpi_id) is left out: one of REASONS, or None when it
        counts."""
        team, employee, kpi = values["team"], values["employee_id"], values["kpi_id"]
        team_level = is_team_level(employee)
        person = ~team_level
        reason = np.full(len(values), None, dtype=object)
        for lacking, text in [(person & ~self.role_holds(employee, kpi), NOT_THE_ROLE),  # a later one wins
                              (person & ~self.in_home_team(team, employee), OTHER_TEAM),
                              (person & ~self.knows(employee), UNKNOWN_EMPLOYEE),
                              (team_level & ~self.team_holds(team, kpi), NOT_THE_TEAM)]:
            reason[lacking] = text
        return pd.Series(reason, index=values.index, dtype=object)
