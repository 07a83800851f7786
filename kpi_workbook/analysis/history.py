"""Who a value counts for: actuals joined to the roles they measure (one rule, used by targets, charts and steps).

A person's value counts for the person's role (from employees.csv). A value with an empty employee id is a
**team-level** value: it counts for every role of that team that has the KPI assigned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi_workbook.core.model import Framework

HISTORY_COLUMNS = ["period", "employee_id", "value"]
TEAM_LEVEL = ""  # the employee id of a team-level value


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 where missing) and the distinct values as text, of a text or categorical column."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), column.cat.categories.astype(str).to_numpy(dtype=object)
    codes, uniques = pd.factorize(column)
    return codes, pd.Index(uniques).astype(str).to_numpy(dtype=object)


def role_history(framework: Framework, actuals: pd.DataFrame, employees: pd.DataFrame) -> pd.DataFrame:
    """Actuals with the role they count for: DataFrame[role, team, period, employee_id, kpi_id, value].

    A person's value counts for the person's role (from employees); a team-level value (empty employee id)
    counts for every role of that team that has the KPI assigned. Rows of unassigned (role, KPI) pairs are dropped.
    Vectorized over integer codes; the columns keep the dtypes of `actuals` and role is a categorical.
    """
    roles = pd.Index([r.id for r in framework.roles])
    people = employees.drop_duplicates("employee_id")
    employee_role = roles.get_indexer(people["role"].astype(str))
    e_codes, e_values = _codes(actuals["employee_id"])
    known = pd.Index(people["employee_id"].astype(str)).get_indexer(e_values)
    role_of_value = np.append(np.where(known >= 0, employee_role[known], -1), -1)  # last slot: missing id
    is_team = np.append(e_values == TEAM_LEVEL, True)[e_codes]
    row_role = role_of_value[e_codes]
    person_rows = np.flatnonzero(~is_team & (row_role >= 0))

    t_codes, t_values = _codes(actuals["team"])
    team_roles = [[i for i, r in enumerate(framework.roles) if team in r.teams] for team in t_values] + [[]]
    per_team = np.array([len(x) for x in team_roles])
    first = np.cumsum(per_team) - per_team
    flat = np.array([i for x in team_roles for i in x], dtype=int)
    team_rows = np.flatnonzero(is_team)
    reps = per_team[t_codes[team_rows]]
    offsets = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    team_role = flat[np.repeat(first[t_codes[team_rows]], reps) + offsets]

    rows = np.concatenate([person_rows, np.repeat(team_rows, reps)])
    row_roles = np.concatenate([row_role[person_rows], team_role])
    k_codes, k_values = _codes(actuals["kpi_id"])
    assigned = np.zeros((len(roles), len(k_values) + 1), dtype=bool)
    pairs = [(a.role, a.kpi.kpi) for a in framework.assignments]
    kpi_slot = pd.Index(k_values).get_indexer([k for _, k in pairs])
    role_slot = roles.get_indexer([r for r, _ in pairs])
    assigned[role_slot[kpi_slot >= 0], kpi_slot[kpi_slot >= 0]] = True
    keep = assigned[row_roles, k_codes[rows]]
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
