"""Where a finding is, said as the room says it (role title · KPI name · field), and whose team it concerns."""

from __future__ import annotations

__all__ = ["concerns", "place"]

import re

from kpi_workbook.analysis.checks import Finding
from kpi_workbook.core.model import Framework
from kpi_workbook.editing.messages import label

_ENTRY = re.compile(r"^(\w+) '(.+)'$")
_FIELDS = {"kpis": "KPIs", "kpi": "KPI"}
_FILES = {"framework.yaml": "framework settings", "objectives.yaml": "objectives", "kpis.yaml": "KPI definitions",
          "teams.yaml": "teams", "sources.yaml": "data sources"}


def _entry_words(framework: Framework, entry: str, role: str) -> str:
    """``objective 'grow_revenue'`` as "objective Grow revenue by 15 %", a responsibility by its description."""
    found = _ENTRY.match(entry)
    if found is None:
        return entry
    kind, ident = found.groups()
    if kind == "objective":
        return f"objective {getattr(framework.objective(ident), 'title', ident)}"
    if kind == "team":
        return f"team {getattr(framework.team(ident), 'name', ident)}"
    if kind == "responsibility":
        owner = framework.role(role)
        item = next((r for r in (owner.responsibilities if owner else []) if r.id == ident), None)
        return f"responsibility “{item.description}”" if item else f"responsibility {ident}"
    return f"{kind} {ident}"


def place(finding: Finding, framework: Framework) -> str:
    """"Account Executive · KPI Quota attainment · weight": the role, KPI, entry and field in words, no file path."""
    parts = []
    if finding.role:
        parts.append(getattr(framework.role(finding.role), "title", finding.role))
    if finding.kpi:
        parts.append(f"KPI {getattr(framework.kpi(finding.kpi), 'name', finding.kpi)}")
    if finding.entry:
        parts.append(_entry_words(framework, finding.entry, finding.role))
    if not parts:
        parts.append(_FILES.get(finding.file, "the framework"))
    if finding.field:
        parts.append(_FIELDS.get(finding.field, label(finding.field)))
    return " · ".join(parts)


def concerns(finding: Finding, framework: Framework, team: str) -> bool:
    """Whether a finding concerns `team`: its roles, the KPIs its roles use, the team itself, or everyone (an
    objective, a setting, a KPI no role uses)."""
    role = framework.role(finding.role) if finding.role else None
    if role is not None:
        return team in role.teams
    entry = _ENTRY.match(finding.entry)
    if entry is not None and entry.group(1) == "team":
        return entry.group(2) == team
    if finding.kpi:
        users = [r for r in framework.roles if any(k.kpi == finding.kpi for k in r.kpis)]
        return not users or any(team in r.teams for r in users)
    return True
