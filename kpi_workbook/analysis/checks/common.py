"""Helpers the check rules share: file names, resolved assignments and suggestions for misspelled ids."""

from __future__ import annotations

__all__ = ["Resolved", "duplicates", "resolved", "role_file", "suggest"]

import difflib
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from kpi_workbook.core.model import Framework, KpiDefinition, Role, RoleKpi
from kpi_workbook.workspace.files import ROLES_DIR


class Resolved(NamedTuple):
    """A role KPI assignment whose KPI definition exists."""

    role: Role
    assignment: RoleKpi
    definition: KpiDefinition


def role_file(role_id: str) -> str:
    """The workspace file of a role."""
    return f"{ROLES_DIR}/{role_id}.yaml"


def resolved(framework: Framework, role: Role | None = None) -> Iterator[Resolved]:
    """Assignments (of one role, or of all) whose KPI is defined; unknown KPIs are the reference rules' job."""
    definitions: dict[str, KpiDefinition] = {}
    for definition in framework.kpis:
        definitions.setdefault(definition.id, definition)
    for each in [role] if role else framework.roles:
        for assignment in each.kpis:
            if assignment.kpi in definitions:
                yield Resolved(each, assignment, definitions[assignment.kpi])


def duplicates(ids: Iterable[str]) -> list[tuple[str, int]]:
    """Ids that occur more than once, with their count, in first-seen order."""
    return [(ident, n) for ident, n in Counter(ids).items() if n > 1]


def suggest(unknown: str, known: Iterable[str], what: str) -> str:
    """A fix for an unknown id: the closest known ids, or the list of valid ones."""
    known = sorted(set(known))
    close = difflib.get_close_matches(unknown, known, n=3, cutoff=0.6)
    if close:
        return f"did you mean {' or '.join(repr(c) for c in close)}? Otherwise define {what} '{unknown}'"
    listed = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    return f"use one of the defined ids ({listed})" if known else f"define {what} '{unknown}' first"
