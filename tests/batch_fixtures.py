"""Small workspaces and notebooks for the batch runner's tests: three teams, notebooks written cell by cell."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import nbformat
import pandas as pd

from kpi_workbook.core.model import Framework, KpiDefinition, Metadata, Objective, Role, RoleKpi, Team
from kpi_workbook.workspace.files import save_framework

CLI = Path(sys.executable).parent / "kpi-workbook"
TEAMS = ("alpha", "beta", "gamma")  # gamma has no people
PEOPLE = {"alpha": ["XA-01", "XA-02"], "beta": ["XB-01", "XB-02", "XB-03"]}
PARAMETERS = """\
workspace: str = ""
team: str = ""
period: str = ""
interactive: bool = True
"""
PEOPLE_CELLS = (
    "from kpi_workbook.workspace.employees import read_employees\n"
    "people = read_employees(workspace)\npeople = people[people['team'] == team]",
    "per_role = len(people) / people['role'].nunique()  # no people: ZeroDivisionError\nprint('people', len(people))",
)


def make_workspace(root: Path, departments: Mapping[str, str] | None = None) -> Path:
    """Three teams, one role each, people in alpha and beta, two quarters of actuals; `departments` maps teams to
    their departments."""
    framework = Framework(
        metadata=Metadata(organization="Testing Ltd"),
        objectives=[Objective(id="grow", title="Grow revenue", perspective="financial")],
        teams=[Team(id=t, name=t.title(), department=(departments or {}).get(t, "")) for t in TEAMS],
        kpis=[KpiDefinition(id="win_rate", name="Win rate", unit="%", polarity="higher_is_better", category="output",
                            indicator="lagging")],
        roles=[Role(id=f"{t}_rep", title=f"{t.title()} rep", teams=[t],
                    kpis=[RoleKpi(kpi="win_rate", weight=100, threshold=10, target=20, stretch=30)]) for t in TEAMS],
    )
    save_framework(framework, root)
    people = [(eid, f"Person {eid}", team, f"{team}_rep") for team, ids in PEOPLE.items() for eid in ids]
    pd.DataFrame(people, columns=["employee_id", "name", "team", "role"]).to_csv(root / "employees.csv", index=False)
    actuals = [(period, team, eid, "win_rate", 15.0) for period in ("2025Q3", "2025Q4")
               for team, ids in PEOPLE.items() for eid in ids]
    pd.DataFrame(actuals, columns=["period", "team", "employee_id", "kpi_id", "value"]).to_csv(
        root / "actuals.csv", index=False)
    return root


def write_notebook(path: Path, *cells: str) -> Path:
    """A step-style notebook: papermill's parameters cell, then the given code cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
                *(nbformat.v4.new_code_cell(source) for source in cells)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def people_and_second_notebook(root: Path, name: str, *cells: str) -> tuple[Path, Path]:
    """A workspace and a notebooks folder with 01_people (prints the team's head count) and a second notebook
    `name` made of `cells`: what the runner's lock and signal tests run."""
    workspace = make_workspace(root / "workspace")
    notebooks = root / "notebooks"
    write_notebook(notebooks / "01_people.ipynb", *PEOPLE_CELLS[:1], "print(len(people))")
    write_notebook(notebooks / name, *cells)
    return workspace, notebooks
