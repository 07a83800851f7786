"""Names instead of ids in a passport: a KPI's, a role's, a team's or an objective's name, also inside the lines the
change log and the evidence write with ids ("weight of win_rate for account_executive: 15 → 20"); only the ids a
line is known to hold are replaced, so a word that happens to be an id (a team called `it`) stays a word."""

from __future__ import annotations

__all__ = ["Namer", "VALUES_START", "find_kpi"]

import difflib
import re
from collections.abc import Iterable
from functools import cached_property

from kpi_workbook.core.errors import InputError
from kpi_workbook.core.model import Framework, KpiDefinition

VALUES_START = re.compile(r": | \(was: ")  # where a change line's values begin (diff.changes_in_words)


class Namer:
    """The framework's names by id (KPIs, roles, teams, objectives)."""

    def __init__(self, framework: Framework):
        self.framework = framework

    @cached_property
    def _names(self) -> dict[str, str]:
        """Every id → its name; a KPI's name wins over a role's or a team's of the same id."""
        framework = self.framework
        return {**{o.id: o.title for o in framework.objectives}, **{t.id: t.name for t in framework.teams},
                **{r.id: r.title for r in framework.roles}, **{k.id: k.name for k in framework.kpis}}

    def kpi(self, kpi_id: str) -> str:
        kpi = self.framework.kpi(kpi_id)
        return kpi.name if kpi else kpi_id

    def role(self, role_id: str) -> str:
        role = self.framework.role(role_id)
        return role.title if role else role_id

    def team(self, team_id: str) -> str:
        team = self.framework.team(team_id)
        return team.name if team else team_id

    def objective(self, objective_id: str) -> str:
        objective = self.framework.objective(objective_id)
        return objective.title if objective else objective_id

    def scope(self, scope: str) -> str:
        """An evidence finding's scope ('role support_agent', 'team sales', 'teams') in names."""
        level, _, ident = scope.partition(" ")
        if level == "role":
            return f"role {self.role(ident)}"
        if level == "team":
            return f"team {self.team(ident)}"
        return scope

    def words(self, line: str, ids: Iterable[str]) -> str:
        """A generated line with each of `ids` (whole words only) replaced by its name."""
        known = sorted((i for i in set(ids) if i in self._names), key=len, reverse=True)
        if not known:
            return line
        pattern = re.compile(rf"(?<![\w.-])({'|'.join(map(re.escape, known))})(?![\w.-])")
        return pattern.sub(lambda found: self._names[found[1]], line)

    def change(self, line: str) -> str:
        """A change-log line ("weight of win_rate for account_executive: 15 → 20") with the KPIs, roles and
        objectives it names given by name; the values after the colon stay as they were written."""
        found = VALUES_START.search(line)
        cut = found.start() if found else len(line)
        framework = self.framework
        ids = [*(k.id for k in framework.kpis), *(r.id for r in framework.roles), *(o.id for o in framework.objectives)]
        return self.words(line[:cut], ids) + line[cut:]


def find_kpi(framework: Framework, kpi_id: str) -> KpiDefinition:
    """The KPI of kpis.yaml with this id; InputError naming it and the closest ids otherwise."""
    kpi = framework.kpi(kpi_id)
    if kpi is not None:
        return kpi
    ids = [k.id for k in framework.kpis]
    close = difflib.get_close_matches(kpi_id, ids, n=3, cutoff=0.5)
    close += [i for i in ids if kpi_id.casefold() in i.casefold() and i not in close][:3 - len(close)]
    hint = f"; did you mean {', '.join(close)}?" if close else f"; kpis.yaml defines {len(ids)} KPI(s)"
    raise InputError(f"unknown KPI '{kpi_id}' (not defined in kpis.yaml){hint}")
