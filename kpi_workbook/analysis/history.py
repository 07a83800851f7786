"""Actuals joined to the roles they count for (one table, used by targets, charts and steps).

Who a value counts for is the rule of `kpi_workbook.workspace.assignments`: a person's value counts for the
person's role when the row is of the person's team; a team-level value (empty employee id) counts for every role
of the team that holds the KPI, the team's roles being those listed for it in the role files and those its
employees hold.
"""

from __future__ import annotations

__all__ = ["Codes", "HISTORY_COLUMNS", "kpi_history", "role_history"]

import numpy as np
import pandas as pd

from kpi_workbook.core.model import Framework
from kpi_workbook.workspace.assignments import KpiHolders, is_team_level

HISTORY_COLUMNS = ["period", "employee_id", "value"]
Codes = tuple[np.ndarray, np.ndarray]  # integer codes per row and the distinct values (or rows and role codes)


def _codes(column: pd.Series) -> Codes:
    """Integer codes (-1 where missing) and the distinct values as text, of a text or categorical column."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), column.cat.categories.astype(str).to_numpy(dtype=object)
    codes, uniques = pd.factorize(column)
    return codes, pd.Index(uniques).astype(str).to_numpy(dtype=object)


def _person_rows(holders: KpiHolders, roles: pd.Index, employees: Codes, teams: Codes) -> Codes:
    """The rows of a known employee in the employee's own team, and the employee's role (a code of `roles`)."""
    (e_codes, e_values), (t_codes, t_values), staff = employees, teams, holders.staff
    known = pd.Index(staff["employee_id"]).get_indexer(e_values)  # -1: not in employees.csv
    role = np.append(roles.get_indexer(staff["role"]), -1)[known]
    home = np.append(pd.Index(t_values).get_indexer(staff["team"]), -1)[known]
    # -2 is never a row's team code (-1 for a missing team): no person of a role, or a team no row names
    home[(role < 0) | (home < 0) | is_team_level(pd.Series(e_values, dtype=object))] = -2
    rows = np.flatnonzero(np.append(home, -2)[e_codes] == t_codes)  # last slot: a missing employee id
    return rows, role[e_codes[rows]]


def _team_rows(holders: KpiHolders, roles: pd.Index, employees: Codes, teams: Codes) -> Codes:
    """Each team-level row once per role of its team, and that role (a code of `roles`)."""
    (e_codes, e_values), (t_codes, t_values) = employees, teams
    team_roles = [roles.get_indexer(holders.roles_of(team)) for team in t_values] + [np.array([], dtype=int)]
    per_team = np.array([len(x) for x in team_roles])
    first = np.cumsum(per_team) - per_team
    flat = np.concatenate(team_roles).astype(int)
    team_rows = np.flatnonzero(np.append(is_team_level(pd.Series(e_values, dtype=object)), True)[e_codes])
    reps = per_team[t_codes[team_rows]]
    offsets = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    return np.repeat(team_rows, reps), flat[np.repeat(first[t_codes[team_rows]], reps) + offsets]


def role_history(framework: Framework, actuals: pd.DataFrame, employees: pd.DataFrame) -> pd.DataFrame:
    """Actuals with the role they count for: DataFrame[role, team, period, employee_id, kpi_id, value].

    A value counts by the rule of `workspace.assignments`: a person's value for the person's role (rows of another
    team are dropped), a team-level value (empty employee id) for every role of the team. Rows of roles that do not
    hold the KPI are dropped. Vectorized over integer codes; the columns keep the dtypes of `actuals` and role is a
    categorical.
    """
    holders = KpiHolders.of(framework, employees)
    roles = pd.Index(holders.roles)
    codes = _codes(actuals["employee_id"]), _codes(actuals["team"])
    person_rows, person_roles = _person_rows(holders, roles, *codes)
    team_rows, team_roles = _team_rows(holders, roles, *codes)
    rows = np.concatenate([person_rows, team_rows])
    row_roles = np.concatenate([person_roles, team_roles])
    k_codes, k_values = _codes(actuals["kpi_id"])
    held = np.append(holders.holds(roles, k_values), np.zeros((len(roles), 1), dtype=bool), axis=1)
    keep = held[row_roles, k_codes[rows]]
    frame = actuals.iloc[rows[keep]][["team", "period", "employee_id", "kpi_id", "value"]].reset_index(drop=True)
    frame.insert(0, "role", pd.Categorical.from_codes(row_roles[keep], categories=roles))
    return frame


def kpi_history(framework: Framework, actuals: pd.DataFrame, employees: pd.DataFrame, role: str,
                kpi: str) -> pd.DataFrame:
    """The history of one role KPI: DataFrame[period, employee_id, value] (employee_id "" for team-level values)."""
    rows = role_history(framework, actuals, employees)
    rows = rows[(rows["role"] == role) & (rows["kpi_id"].astype(str) == kpi)]
    frame = rows[HISTORY_COLUMNS].astype({"period": str}).reset_index(drop=True)
    return frame.assign(employee_id=frame["employee_id"].astype(object).fillna("").astype(str))
