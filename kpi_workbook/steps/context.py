"""What a step notebook works on: the workspace's framework, seen for one team (or the whole organization).

A team's context holds only that team's roles, people and actuals, so a team's notebook and report never
see other teams' people.

Relative workspace paths are resolved against the current folder first and then against the project root,
so the default ``data/sample_org`` works from JupyterLab (whose folder is ``notebooks/``), from papermill
started anywhere, and from the project root.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from IPython.display import Markdown

from kpi_workbook.analysis.targets import HISTORY_COLUMNS, role_history
from kpi_workbook.core.errors import InputError, Problem, UnknownTeamError
from kpi_workbook.core.model import Framework, Role, RoleKpi
from kpi_workbook.core.paths import CHECKOUT_DIR as PROJECT_ROOT
from kpi_workbook.core.periods import parse_period, sort_periods
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import load_framework

if TYPE_CHECKING:
    from kpi_workbook.workspace.store import ActualsStore

WHOLE_ORGANIZATION = ""


def resolve_workspace(workspace: str | Path) -> Path:
    """The workspace folder: absolute as given, or relative to the current folder, else to the project root."""
    path = Path(workspace).expanduser()
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, PROJECT_ROOT / path]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    tried = " or ".join(str(c) for c in candidates)
    raise InputError(Problem(file=str(workspace), field="workspace", message=f"workspace folder not found ({tried})"))


def check_team(team: Any, framework: Framework) -> str:
    """The team id as text, or UnknownTeamError listing the valid ones; an empty id means the whole organization."""
    if not isinstance(team, str):
        raise InputError(Problem(
            file="parameters", field="team",
            message=f"team must be text, got {team!r} ({type(team).__name__}); with papermill pass ids such as "
                    "007 as raw text: -r team 007",
        ))
    team = team.strip()
    if team and framework.team(team) is None:
        raise UnknownTeamError(team, sorted(t.id for t in framework.teams))
    return team


def check_period(period: Any) -> str:
    """The canonical label of a period such as 2025Q4 (empty means the latest period with actuals)."""
    text = str(period).strip()
    return parse_period(text).label if text else ""


@dataclass
class StepContext:
    """The framework, roles, people and actuals one step notebook works on."""

    workspace: Path
    framework: Framework
    team: str
    employees: pd.DataFrame
    requested_period: str = ""

    @property
    def roles(self) -> list[Role]:
        """The team's roles (every role for the whole organization)."""
        return self.framework.roles_of_team(self.team) if self.team else list(self.framework.roles)

    @property
    def team_name(self) -> str:
        """A readable name of what the context covers."""
        team = self.framework.team(self.team)
        return f"{team.name} ({team.id})" if team else f"{self.framework.metadata.organization} (whole organization)"

    @cached_property
    def store(self) -> ActualsStore:
        """The workspace's actuals store, opened on first use (steps without actuals never load DuckDB)."""
        from kpi_workbook.workspace.store import open_store

        return open_store(self.workspace)

    @cached_property
    def actuals(self) -> pd.DataFrame:
        """Actuals of the team's people and the team's team-level values (all actuals for the organization)."""
        if not self.team:
            return self.store.read_actuals()
        frame = self.store.read_actuals(team=self.team)
        people = frame["employee_id"].isin(self.employees["employee_id"]) | frame["employee_id"].fillna("").eq("")
        return frame[people].reset_index(drop=True)

    @cached_property
    def periods(self) -> list[str]:
        """The periods with actuals for this context, oldest first."""
        return list(sort_periods(self.actuals["period"].unique().tolist()))

    @cached_property
    def period(self) -> str:
        """The period the step reports on: the requested one, or the latest with actuals."""
        if not self.requested_period:
            return self.periods[-1] if self.periods else ""
        if self.requested_period not in self.periods:
            available = ", ".join(self.periods) if self.periods else "(none)"
            raise InputError(Problem(file="parameters", field="period",
                                     message=f"no actuals for period '{self.requested_period}'. "
                                             f"Periods with actuals: {available}"))
        return self.requested_period

    @cached_property
    def actuals_to_date(self) -> pd.DataFrame:
        """The actuals of the step's period and the periods before it (the evidence a review may use)."""
        known = self.periods[: self.periods.index(self.period) + 1] if self.period else []
        return self.actuals[self.actuals["period"].isin(known)].reset_index(drop=True)

    @cached_property
    def role_history(self) -> pd.DataFrame:
        """Actuals to date with the role each value counts for: DataFrame[role, team, period, employee_id, kpi_id,
        value]."""
        return role_history(self.framework, self.actuals_to_date, self.employees)

    def history(self, role: str, kpi: str) -> pd.DataFrame:
        """The history of one role KPI: DataFrame[period, employee_id, value], oldest period first."""
        rows = self.role_history
        return rows.loc[(rows["role"] == role) & (rows["kpi_id"] == kpi), HISTORY_COLUMNS].reset_index(drop=True)

    def assignment(self, role: str, kpi: str) -> RoleKpi:
        """The assignment of a KPI to a role (its weight and bands)."""
        found = next((a for a in getattr(self.framework.role(role), "kpis", []) if a.kpi == kpi), None)
        if found is None:
            raise InputError(Problem(file="parameters", entry=f"role '{role}'", field="kpi",
                                     message=f"the role has no KPI '{kpi}'"))
        return found

    def describe(self) -> Markdown:
        """A one-line summary of what this notebook covers, for the top of a report."""
        parts = [f"**Workspace:** `{self.workspace.name}`", f"**Scope:** {self.team_name}",
                 f"**Roles:** {len(self.roles)}", f"**People:** {len(self.employees)}"]
        if self.requested_period:
            parts.append(f"**Period:** {self.requested_period}")
        return Markdown(" · ".join(parts))


def open_step(workspace: str | Path, team: str = WHOLE_ORGANIZATION, period: str = "") -> StepContext:
    """Load a workspace for one step: the framework, and the people of `team` (everyone when team is empty).

    Raises UnknownTeamError (listing the valid teams) for a team the framework does not define, and
    InputError for a missing workspace, unreadable framework files or a malformed period.
    """
    root = resolve_workspace(workspace)
    framework = load_framework(root)
    team = check_team(team, framework)
    employees = load_employees(root, framework)
    if team:
        employees = employees[employees["team"] == team].reset_index(drop=True)
    return StepContext(workspace=root, framework=framework, team=team, employees=employees,
                       requested_period=check_period(period))
