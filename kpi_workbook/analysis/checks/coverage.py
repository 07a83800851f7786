"""Coverage rules: every objective, responsibility, team and KPI definition is used by the framework."""

from __future__ import annotations

__all__ = ["objective_coverage", "responsibility_coverage", "role_team", "team_coverage", "unused_kpis"]

from collections.abc import Iterator

from kpi_workbook.analysis.checks.common import role_file
from kpi_workbook.analysis.checks.findings import Finding, Severity
from kpi_workbook.analysis.checks.registry import Found, rule
from kpi_workbook.core.model import Framework
from kpi_workbook.workspace.files import KPIS_FILE, OBJECTIVES_FILE, TEAMS_FILE

WARNING, INFO = Severity.WARNING, Severity.INFO


def _descendants(children: dict[str, list[str]], objective_id: str) -> list[str]:
    """Ids of the objectives below one in the cascade (children, their children, ...), loops ignored."""
    below: list[str] = []
    queue = list(children.get(objective_id, []))
    while queue:
        node = queue.pop(0)
        if node != objective_id and node not in below:
            below.append(node)
            queue += children.get(node, [])
    return below


@rule("coverage.objective")
def objective_coverage(framework: Framework, found: Found) -> Iterator[Finding]:
    """Warning: no KPI serves an objective, directly or through a child objective in the cascade.
    Info: an objective is served only through child objectives (the finding names them)."""
    served = {o for a in framework.assignments for o in a.kpi.objectives}
    children: dict[str, list[str]] = {}
    for objective in framework.objectives:
        if objective.parent is not None:
            children.setdefault(objective.parent, []).append(objective.id)
    for objective in framework.objectives:
        if objective.id in served:
            continue
        where = {"file": OBJECTIVES_FILE, "entry": f"objective '{objective.id}'"}
        through = [c for c in _descendants(children, objective.id) if c in served]
        if through:
            names = ", ".join(f"'{c}'" for c in through)
            yield found(INFO, f"no KPI serves the objective directly; it is served through child objective(s) "
                        f"{names}", "nothing to do if the cascade is intended; otherwise link a KPI to it", **where)
        else:
            yield found(WARNING, "no KPI serves this objective, directly or through a child objective",
                        "add the objective's id to the objectives of at least one role KPI, or remove the objective",
                        **where)


@rule("coverage.unused_kpi")
def unused_kpis(framework: Framework, found: Found) -> Iterator[Finding]:
    """Info: a KPI definition is not assigned to any role."""
    used = {a.kpi.kpi for a in framework.assignments}
    for kpi in framework.kpis:
        if kpi.id not in used:
            yield found(INFO, "the KPI definition is not assigned to any role",
                        "assign it to a role, or remove it from kpis.yaml", file=KPIS_FILE, kpi=kpi.id)


@rule("coverage.responsibility")
def responsibility_coverage(framework: Framework, found: Found) -> Iterator[Finding]:
    """Warning: a responsibility of a role is measured by none of the role's KPIs."""
    for role in framework.roles:
        measured = {a.responsibility for a in role.kpis}
        for responsibility in role.responsibilities:
            if responsibility.id not in measured:
                yield found(WARNING, "no KPI of the role measures this responsibility",
                            "assign a KPI that measures it (set the KPI's responsibility to this id)",
                            file=role_file(role.id), role=role.id, entry=f"responsibility '{responsibility.id}'",
                            field="responsibilities")


@rule("coverage.team")
def team_coverage(framework: Framework, found: Found) -> Iterator[Finding]:
    """Warning: a team has no role (no role lists it under teams), so its report would be empty."""
    staffed = {t for r in framework.roles for t in r.teams}
    for team in framework.teams:
        if team.id not in staffed:
            yield found(WARNING, "no role belongs to this team",
                        "add the team's id to the teams of its roles, or remove the team", file=TEAMS_FILE,
                        entry=f"team '{team.id}'")


@rule("coverage.role_team")
def role_team(framework: Framework, found: Found) -> Iterator[Finding]:
    """Warning: a role belongs to no team, so no team report includes it."""
    for role in framework.roles:
        if not role.teams:
            yield found(WARNING, "the role belongs to no team", "list the ids of its teams under teams",
                        file=role_file(role.id), role=role.id, field="teams")
