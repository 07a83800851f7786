"""A scope: what one command, notebook or report covers — a team, a department, or the whole organization.

A scope holds only its teams' roles, people and actuals, so a team's (or a department's) report never sees other
teams' people. The period is resolved here too: the requested one must have actuals in the scope; empty means the
latest period with actuals. No other place checks teams, departments or periods.
"""

from __future__ import annotations

__all__ = ["Scope", "ScopeKind", "department_id", "departments"]

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING

import pandas as pd

from kpi_workbook.core.errors import InputError, Problem, UnknownTeamError
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.model import Framework, Role
from kpi_workbook.core.periods import parse_period, sort_periods

if TYPE_CHECKING:
    from kpi_workbook.workspace.opener import Workspace
    from kpi_workbook.workspace.store import ActualsStore


class ScopeKind(StrEnum):
    """What a scope covers."""

    ORGANIZATION = "organization"
    DEPARTMENT = "department"
    TEAM = "team"


def department_id(name: str) -> str:
    """The id of a department, made from its name: 'Customer Success' → 'customer_success'."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


def departments(framework: Framework) -> dict[str, tuple[str, list[str]]]:
    """Every department of the framework: id → (name, its team ids), in the order teams are listed."""
    found: dict[str, tuple[str, list[str]]] = {}
    for team in framework.teams:
        if team.department.strip():
            name, teams = found.setdefault(department_id(team.department), (team.department.strip(), []))
            teams.append(team.id)
    return found


def _text_parameter(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise InputError(Problem(
            file="parameters", field=name, code=Code.INPUT_PARAMETER,
            message=f"{name} must be text, got {value!r} ({type(value).__name__}); with papermill pass ids such as "
                    f"007 as raw text: -r {name} 007",
        ))
    return value.strip()


def _department_of(framework: Framework, wanted: str) -> str:
    """The id of the department named `wanted` (by id, or by name ignoring case and accents)."""
    known = departments(framework)
    key = wanted if wanted in known else department_id(wanted)
    if key not in known:
        valid = ", ".join(f"{k} ({name})" for k, (name, _) in known.items()) or "(none: no team names a department)"
        raise InputError(Problem(file="teams.yaml", field="department", code=Code.INPUT_UNKNOWN_DEPARTMENT,
                                 message=f"unknown department '{wanted}'. Valid departments: {valid}"))
    return key


@dataclass
class Scope:
    """The teams, roles, people and actuals of one scope of an opened workspace, and its period."""

    workspace: Workspace
    kind: ScopeKind
    key: str  # the team id, the department id, or "" for the organization
    team_ids: tuple[str, ...]
    requested_period: str = ""

    @classmethod
    def resolve(cls, workspace: Workspace, team: object = "", department: object = "", period: object = "") -> Scope:
        """The scope `team` or `department` names (both empty: the whole organization); InputError for unknown
        ones, both at once, or a malformed period."""
        framework = workspace.framework
        team = _text_parameter(team, "team")
        department = _text_parameter(department, "department")
        if team and department:
            raise InputError(Problem(file="parameters", field="team", code=Code.INPUT_PARAMETER,
                                     message="give a team or a department, not both"))
        teams: tuple[str, ...]
        if team:
            if framework.team(team) is None:
                raise UnknownTeamError(team, sorted(t.id for t in framework.teams))
            kind, key, teams = ScopeKind.TEAM, team, (team,)
        elif department:
            key = _department_of(framework, department)
            kind, teams = ScopeKind.DEPARTMENT, tuple(departments(framework)[key][1])
        else:
            kind, key, teams = ScopeKind.ORGANIZATION, "", tuple(t.id for t in framework.teams)
        text = str(period).strip()
        return cls(workspace=workspace, kind=kind, key=key, team_ids=teams,
                   requested_period=parse_period(text).label if text else "")

    @property
    def framework(self) -> Framework:
        return self.workspace.framework

    @property
    def team(self) -> str:
        """The team id of a team scope ("" otherwise)."""
        return self.key if self.kind is ScopeKind.TEAM else ""

    @property
    def department(self) -> str:
        """The department id of a department scope ("" otherwise)."""
        return self.key if self.kind is ScopeKind.DEPARTMENT else ""

    @property
    def is_organization(self) -> bool:
        return self.kind is ScopeKind.ORGANIZATION

    @property
    def name(self) -> str:
        """A readable name of what the scope covers, e.g. 'Sales', 'Commercial department' or 'Alderbrook (whole
        organization)': names, as a report's reader knows them (a team's id is its folder's name)."""
        if self.kind is ScopeKind.TEAM:
            team = self.framework.team(self.key)
            if team is None:
                raise UnknownTeamError(self.key, sorted(t.id for t in self.framework.teams))
            return team.name
        if self.kind is ScopeKind.DEPARTMENT:
            return f"{departments(self.framework)[self.key][0]} department"
        return f"{self.framework.metadata.organization} (whole organization)"

    @property
    def roles(self) -> list[Role]:
        """The roles of the scope's teams (every role for the whole organization)."""
        if self.is_organization:
            return list(self.framework.roles)
        return [r for r in self.framework.roles if set(r.teams) & set(self.team_ids)]

    @cached_property
    def employees(self) -> pd.DataFrame:
        """The people of the scope's teams (everyone for the whole organization)."""
        people = self.workspace.employees
        if self.is_organization:
            return people
        return people[people["team"].isin(self.team_ids)].reset_index(drop=True)

    @cached_property
    def store(self) -> ActualsStore:
        """The workspace's actuals store, opened on first use (steps without actuals never load DuckDB)."""
        return self.workspace.store()

    @cached_property
    def actuals(self) -> pd.DataFrame:
        """The scope's people's actuals and its teams' team-level values (every actual for the organization)."""
        if self.is_organization:
            return self.store.read_actuals()
        frame = self.store.read_actuals(team=list(self.team_ids))
        people = frame["employee_id"].isin(self.employees["employee_id"]) | frame["employee_id"].fillna("").eq("")
        return frame[people].reset_index(drop=True)

    @cached_property
    def periods(self) -> list[str]:
        """The periods with actuals in this scope, oldest first."""
        return list(sort_periods(self.actuals["period"].unique().tolist()))

    @cached_property
    def period(self) -> str:
        """The period the scope reports on: the requested one, or the latest with actuals ("" without actuals)."""
        if not self.requested_period:
            return self.periods[-1] if self.periods else ""
        if self.requested_period not in self.periods:
            available = ", ".join(self.periods) if self.periods else "(none)"
            raise InputError(Problem(file=self.workspace.name, field="period", code=Code.INPUT_UNKNOWN_PERIOD,
                                     message=f"no actuals for period '{self.requested_period}' in {self.name}. "
                                             f"Periods with actuals: {available}"))
        return self.requested_period

    @cached_property
    def actuals_to_date(self) -> pd.DataFrame:
        """The actuals of the scope's period and the periods before it (the evidence a review may use)."""
        known = self.periods[: self.periods.index(self.period) + 1] if self.period else []
        return self.actuals[self.actuals["period"].isin(known)].reset_index(drop=True)
