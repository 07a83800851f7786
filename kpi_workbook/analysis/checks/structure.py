"""Structure rules: ids are unique and every reference points at something that exists (all errors)."""

from __future__ import annotations

__all__ = [
    "ERROR", "duplicate_assignments", "duplicate_ids", "duplicate_responsibilities", "parent_cycles", "unknown_kpis",
    "unknown_objectives", "unknown_parents", "unknown_responsibilities", "unknown_teams",
]

from collections.abc import Iterator, Sequence

from kpi_workbook.analysis.checks.common import duplicates, role_file, suggest
from kpi_workbook.analysis.checks.findings import Finding, Severity
from kpi_workbook.analysis.checks.registry import Found, rule
from kpi_workbook.core.model import Framework, KpiDefinition, Objective, Team
from kpi_workbook.workspace.files import KPIS_FILE, OBJECTIVES_FILE, TEAMS_FILE

ERROR = Severity.ERROR


@rule("structure.duplicate_id")
def duplicate_ids(framework: Framework, found: Found) -> Iterator[Finding]:
    """Error: two objectives, teams, KPI definitions or roles share an id (ids must be unique per kind)."""
    kinds: list[tuple[str, str, Sequence[Objective | Team | KpiDefinition]]] = [
        ("objective", OBJECTIVES_FILE, framework.objectives),
        ("team", TEAMS_FILE, framework.teams),
        ("KPI definition", KPIS_FILE, framework.kpis),
    ]
    for kind, file, entries in kinds:
        for ident, count in duplicates(e.id for e in entries):
            where = {"kpi": ident} if file == KPIS_FILE else {"entry": f"{kind} '{ident}'"}
            yield found(ERROR, f"{count} {kind}s have the id '{ident}'",
                        f"give each {kind} its own id, or merge the duplicates", file=file, field="id", **where)
    for ident, count in duplicates(r.id for r in framework.roles):
        yield found(ERROR, f"{count} roles have the id '{ident}'", "give each role its own id",
                    file=role_file(ident), role=ident, field="id")


@rule("structure.duplicate_responsibility")
def duplicate_responsibilities(framework: Framework, found: Found) -> Iterator[Finding]:
    """Error: a role lists two responsibilities with the same id."""
    for role in framework.roles:
        for ident, count in duplicates(r.id for r in role.responsibilities):
            yield found(ERROR, f"{count} responsibilities have the id '{ident}'",
                        "give each responsibility of the role its own id", file=role_file(role.id), role=role.id,
                        entry=f"responsibility '{ident}'", field="responsibilities")


@rule("structure.duplicate_assignment")
def duplicate_assignments(framework: Framework, found: Found) -> Iterator[Finding]:
    """Error: a role is assigned the same KPI more than once."""
    for role in framework.roles:
        for ident, count in duplicates(a.kpi for a in role.kpis):
            yield found(ERROR, f"the KPI is assigned {count} times to this role",
                        "keep one assignment of the KPI and merge the weights", file=role_file(role.id),
                        role=role.id, kpi=ident, field="kpis")


@rule("structure.unknown_team")
def unknown_teams(framework: Framework, found: Found) -> Iterator[Finding]:
    """Error: a role names a team that teams.yaml does not define."""
    known = {t.id for t in framework.teams}
    for role in framework.roles:
        for team in role.teams:
            if team not in known:
                yield found(ERROR, f"team '{team}' is not defined in {TEAMS_FILE}",
                            suggest(team, known, f"the team in {TEAMS_FILE}"), file=role_file(role.id),
                            role=role.id, field="teams")


@rule("structure.unknown_kpi")
def unknown_kpis(framework: Framework, found: Found) -> Iterator[Finding]:
    """Error: a role is assigned a KPI that kpis.yaml does not define."""
    known = {k.id for k in framework.kpis}
    for role in framework.roles:
        for assignment in role.kpis:
            if assignment.kpi not in known:
                yield found(ERROR, f"KPI '{assignment.kpi}' is not defined in {KPIS_FILE}",
                            suggest(assignment.kpi, known, f"the KPI in {KPIS_FILE}"), file=role_file(role.id),
                            role=role.id, kpi=assignment.kpi, field="kpi")


@rule("structure.unknown_objective")
def unknown_objectives(framework: Framework, found: Found) -> Iterator[Finding]:
    """Error: a role KPI assignment serves an objective that objectives.yaml does not define."""
    known = {o.id for o in framework.objectives}
    for role in framework.roles:
        for assignment in role.kpis:
            for objective in assignment.objectives:
                if objective not in known:
                    yield found(ERROR, f"objective '{objective}' is not defined in {OBJECTIVES_FILE}",
                                suggest(objective, known, f"the objective in {OBJECTIVES_FILE}"),
                                file=role_file(role.id), role=role.id, kpi=assignment.kpi, field="objectives")


@rule("structure.unknown_responsibility")
def unknown_responsibilities(framework: Framework, found: Found) -> Iterator[Finding]:
    """Error: a role KPI assignment serves a responsibility that the same role does not list."""
    for role in framework.roles:
        known = {r.id for r in role.responsibilities}
        for assignment in role.kpis:
            if assignment.responsibility is not None and assignment.responsibility not in known:
                yield found(ERROR, f"responsibility '{assignment.responsibility}' is not one of this role's "
                            "responsibilities", suggest(assignment.responsibility, known, "the responsibility"),
                            file=role_file(role.id), role=role.id, kpi=assignment.kpi, field="responsibility")


@rule("structure.unknown_parent")
def unknown_parents(framework: Framework, found: Found) -> Iterator[Finding]:
    """Error: an objective's parent is not a defined objective."""
    known = {o.id for o in framework.objectives}
    for objective in framework.objectives:
        if objective.parent is not None and objective.parent not in known:
            yield found(ERROR, f"parent objective '{objective.parent}' is not defined",
                        suggest(objective.parent, known - {objective.id}, "the parent objective"),
                        file=OBJECTIVES_FILE, entry=f"objective '{objective.id}'", field="parent")


@rule("structure.parent_cycle")
def parent_cycles(framework: Framework, found: Found) -> Iterator[Finding]:
    """Error: objectives' parents form a loop (the cascade must be a tree); reported once per loop."""
    parents = {o.id: o.parent for o in framework.objectives}
    reported: set[str] = set()
    for start in parents:
        path: list[str] = []
        node: str | None = start
        while node in parents and node not in path:
            path.append(node)
            node = parents[node]
        if node is None or node not in path:
            continue
        loop = path[path.index(node):]
        if reported.isdisjoint(loop):
            reported.update(loop)
            chain = " -> ".join([*loop, loop[0]])
            yield found(ERROR, f"the parent links form a loop: {chain}",
                        "remove or change the parent of one objective in the loop", file=OBJECTIVES_FILE,
                        entry=f"objective '{min(loop)}'", field="parent")
