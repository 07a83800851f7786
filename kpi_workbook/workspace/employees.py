"""The people of a workspace: employees.csv (employee_id, name, team, role), checked against the framework."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.model import Framework
from kpi_workbook.workspace.files import EMPLOYEES_FILE

EMPLOYEE_COLUMNS = ["employee_id", "name", "team", "role"]


def read_employees(workspace: str | Path) -> pd.DataFrame:
    """Read employees.csv as strings (ids such as 007 stay text); an empty table when the file is absent. Like a
    source's file, it must not lead outside the workspace (see sources.workspace_file)."""
    # imported here: sources (pydantic) is needed only to read the file, not to import this module
    from kpi_workbook.workspace.sources import workspace_file

    path = workspace_file(workspace, EMPLOYEES_FILE)
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype="string") for c in EMPLOYEE_COLUMNS})
    try:
        frame = pd.read_csv(path, dtype="string", keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError(Problem(file=EMPLOYEES_FILE, entry="row 1", message="the file is empty; expected the "
                                 f"header row {','.join(EMPLOYEE_COLUMNS)}")) from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise InputError(Problem(file=EMPLOYEES_FILE, message=f"cannot be read: {exc}")) from None
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in EMPLOYEE_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(Problem(file=EMPLOYEES_FILE, message=f"missing column(s): {', '.join(missing)}"))
    return frame[EMPLOYEE_COLUMNS].apply(lambda col: col.str.strip())


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
            problems.append(Problem(file=EMPLOYEES_FILE, entry=f"row {line}", field=column,
                                    message=f"{message} ({value!r})"))
    return problems


def load_employees(workspace: str | Path, framework: Framework) -> pd.DataFrame:
    """Read employees.csv and raise InputError if any row names an unknown team or role."""
    employees = read_employees(workspace)
    problems = employee_problems(employees, framework)
    if problems:
        raise InputError(problems)
    return employees
