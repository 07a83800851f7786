"""What a step notebook works on: a scope of an opened workspace (a team, a department or the whole organization).

A team's context holds only that team's roles, people and actuals, so a team's notebook and report never see other
teams' people. Notebooks open it with `open_step`, through the same front door as every command.
"""

from __future__ import annotations

__all__ = ["StepContext", "WARMED_KERNEL", "open_step", "wait_for_the_page"]

import os
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

import pandas as pd
from IPython.display import Markdown

from kpi_workbook.analysis.history import HISTORY_COLUMNS, role_history
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.model import RoleKpi
from kpi_workbook.workspace.opener import FileState, files_state, open_workspace
from kpi_workbook.workspace.scope import Scope


class StepContext(Scope):
    """A scope with what the step notebooks ask of it: role histories, assignments and a summary line."""

    @property
    def root(self) -> Path:
        """The workspace folder."""
        return self.workspace.root

    @cached_property
    def role_history(self) -> pd.DataFrame:
        """Actuals to date with the role each value counts for: DataFrame[role, team, period, employee_id, kpi_id,
        value]."""
        return role_history(self.framework, self.actuals_to_date, self.employees)

    @cached_property
    def kept(self) -> dict[str, object]:
        """What a step page drew for the framework as opened, by name, kept for as long as the page: a chart shown
        both higher up the page and beside or under the forms is drawn once when the page opens."""
        return {}

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
        parts = [f"**Workspace:** `{self.workspace.name}`", f"**Scope:** {self.name}",
                 f"**Roles:** {len(self.roles)}", f"**People:** {len(self.employees)}"]
        if self.requested_period:
            parts.append(f"**Period:** {self.requested_period}")
        return Markdown(" · ".join(parts))


WARMED_KERNEL = "VOILA_PREHEAT"  # set to "True" by Voilà in a kernel it warms ahead of a page


def wait_for_the_page() -> None:
    """In a kernel that Voilà warms ahead of the click (its pre-heated kernels), wait until a page asks for it;
    elsewhere (JupyterLab, papermill, a Voilà page opened cold) return at once."""
    if os.environ.get(WARMED_KERNEL) == "True":
        from voila.utils import wait_for_request

        wait_for_request()


def open_step(workspace: str | Path, team: object = "", period: object = "", department: object = "",
              ahead: Callable[[StepContext], object] | None = None) -> StepContext:
    """Open a workspace for one step notebook, for a team, a department or the whole organization (both empty).

    In a Voilà kernel warmed ahead of the click, the step is opened ahead, `ahead` (the step's own work that keeps
    its results in the context, such as steps.review.analysis) is done, and all is kept only if no file it read has
    changed by the time a page asks for it (see `wait_for_the_page`); else it is opened again. Either way the page
    shows the files as they are when it is opened, not as they were when the kernel was warmed.

    Raises UnknownTeamError (listing the valid teams) for an unknown team, and InputError for a folder that is not a
    workspace, unreadable framework files, an unknown department or a malformed period.
    """
    read = _read_ahead(workspace, team, period, department, ahead) if os.environ.get(WARMED_KERNEL) == "True" else None
    wait_for_the_page()
    if read is not None and read[1] == files_state(workspace):
        return read[0]
    return _opened(workspace, team, period, department)


def _opened(workspace: str | Path, team: object, period: object, department: object) -> StepContext:
    opened = open_workspace(workspace)
    scope = opened.scope(team=team, department=department, period=period)
    return StepContext(workspace=opened, kind=scope.kind, key=scope.key, team_ids=scope.team_ids,
                       requested_period=scope.requested_period)


def _read_ahead(workspace: str | Path, team: object, period: object, department: object,
                ahead: Callable[[StepContext], object] | None) -> tuple[StepContext, frozenset[FileState]] | None:
    """The step opened with its people and actuals read and `ahead` done, and the state of the files it read (taken
    first, so that a save while reading shows as a change); None when that state cannot be known or opening fails
    (opened again after the wait, where the page shows the error)."""
    try:
        state = files_state(workspace)
        if state is None:
            return None
        context = _opened(workspace, team, period, department)
        context.actuals_to_date  # noqa: B018 - read now: the page need not wait for it
        context.employees  # noqa: B018
        if ahead is not None:
            ahead(context)
    except Exception:  # noqa: BLE001 - any failure is met again, and shown, when the step is opened for the page
        return None
    return context, state
