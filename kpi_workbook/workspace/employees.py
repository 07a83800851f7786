"""The people of a workspace: employees.csv (employee_id, name, team, role), checked against the framework."""

from __future__ import annotations

__all__ = ["EMPLOYEE_COLUMNS", "employee_problems", "load_employees", "read_employees"]

from pathlib import Path

import pandas as pd

from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.model import Framework
from kpi_workbook.workspace.files import EMPLOYEES_FILE

EMPLOYEE_COLUMNS = ["employee_id", "name", "team", "role"]


def read_employees(workspace: str | Path) -> pd.DataFrame:
    """Read employees.csv as strings (ids such as 007 stay text); an empty table when the file is absent. Like a
    source's file, it must not lead outside the workspace (see sources.workspace_file)."""
    # imported here: sources (pydantic) and the reader (DuckDB) are needed only to read the file
    from kpi_workbook.workspace.sources import workspace_file
    from kpi_workbook.workspace.tabular import cell_text, first_row, named_twice, read_table

    path = workspace_file(workspace, EMPLOYEES_FILE)
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype="string") for c in EMPLOYEE_COLUMNS})
    empty = Problem(file=EMPLOYEES_FILE, row=1, code=Code.INPUT_EMPTY,
                    message=f"the file is empty; expected the header row {','.join(EMPLOYEE_COLUMNS)}")
    table = read_table(path, EMPLOYEES_FILE, first_row(empty))
    missing = [c for c in EMPLOYEE_COLUMNS if c not in table.names]
    if missing:
        raise InputError(Problem(file=EMPLOYEES_FILE, row=table.header, code=Code.INPUT_HEADER,
                                 message=f"missing column(s): {', '.join(missing)}"))
    twice = named_twice(EMPLOYEES_FILE, table.header, [n for n in table.names if n in EMPLOYEE_COLUMNS])
    if twice:
        raise twice
    longer = table.extra[table.extra != ""]
    if len(longer):
        raise InputError(Problem(file=EMPLOYEES_FILE, row=int(longer.index[0]), code=Code.INPUT_NOT_CSV, message=(
            f"more cells than the header has columns ({', '.join(table.names)}): {longer.iloc[0]!r}")))
    written = table.frame.notna().any(axis=1)  # a blank line is no employee
    return table.frame.loc[written, EMPLOYEE_COLUMNS].map(cell_text).reset_index(drop=True).astype("string")


def employee_problems(employees: pd.DataFrame, framework: Framework) -> list[Problem]:
    """Problems with employees: empty or duplicate ids, unknown teams or roles (row numbers as in the file)."""
    problems = []
    teams = {t.id for t in framework.teams}
    roles = {r.id for r in framework.roles}
    rows = employees.reset_index(drop=True)
    row_number = rows.index + 2  # header is line 1
    checks = [
        (rows["employee_id"] == "", "employee_id", "employee id is empty"),
        (rows["employee_id"].duplicated(keep="first") & (rows["employee_id"] != ""), "employee_id",
         "duplicate employee id"),
        (~rows["team"].isin(teams), "team", "unknown team"),
        (~rows["role"].isin(roles), "role", "unknown role"),
    ]
    for mask, column, message in checks:
        for line, value in zip(row_number[mask.to_numpy()], rows.loc[mask, column], strict=True):
            problems.append(Problem(file=EMPLOYEES_FILE, row=int(line), field=column,
                                    message=f"{message} ({value!r})"))
    return problems


def load_employees(workspace: str | Path, framework: Framework) -> pd.DataFrame:
    """Read employees.csv and raise InputError if any row names an unknown team or role."""
    employees = read_employees(workspace)
    problems = employee_problems(employees, framework)
    if problems:
        raise InputError(problems)
    return employees
