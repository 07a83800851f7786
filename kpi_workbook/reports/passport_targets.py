"""The roles using a KPI and its targets, for its passport: each role's weight, objectives, responsibility and bands,
step 4's evidence on each target (its probability of attainment, verdict and a suggested target), and the roles or
teams whose targets are out of line with the organization's (`kpi-workbook evidence`, part 2)."""

from __future__ import annotations

__all__ = [
    "NO_BANDS", "RoleUse", "TargetRow", "bands_words", "percent_text", "role_uses", "target_flags", "target_rows",
]

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from kpi_workbook.analysis.targets import NO_DATA
from kpi_workbook.core.model import Framework, KpiDefinition
from kpi_workbook.reports.passport_words import Namer
from kpi_workbook.reports.units import UNIT_SPACE, level_text, range_text

if TYPE_CHECKING:
    from kpi_workbook.analysis.evidence import Evidence

NO_BANDS = "no bands set"


@dataclass(frozen=True)
class RoleUse:
    """One role's use of the KPI."""

    role: str
    teams: str
    weight: float
    weight_total: float
    objectives: str
    responsibility: str
    review_period: str
    bands: str


@dataclass(frozen=True)
class TargetRow:
    """One role's current and suggested target with the evidence behind them."""

    role: str
    current: str
    current_probability: str
    current_verdict: str
    suggested: str
    probability: str
    verdict: str
    basis: str
    notes: str


def _known(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def bands_words(row: Mapping[str, Any], unit: str, prefix: str = "") -> str:
    """Bands in words with their unit: 'threshold 20 %, target 25 %, stretch 32 %', or for a range KPI 'target
    range 40 to 60 %, threshold range 30 to 70 %'; `prefix` 'current_' reads a suggestion row's current bands."""
    parts = [f"{name} {level_text(row[prefix + name], unit)}" for name in ("threshold", "target", "stretch")
             if _known(row.get(prefix + name))]
    for name in ("target_range", "threshold_range"):
        if row.get(prefix + name) is not None:
            low, high = row[prefix + name]
            parts.append(f"{name.replace('_', ' ')} {range_text(low, high, unit)}")
    return ", ".join(parts) or NO_BANDS


def percent_text(value: Any) -> str:
    """A share as a whole percentage, '62 %'; 'no data' without one."""
    return f"{100 * value:.0f}{UNIT_SPACE}%" if _known(value) else "no data"


def role_uses(kpi: KpiDefinition, framework: Framework, namer: Namer) -> tuple[RoleUse, ...]:
    """Every role the KPI is assigned to, in file order."""
    unit, total, uses = framework.unit_of(kpi), framework.metadata.settings.weight_total, []
    for role in framework.roles:
        for assignment in (a for a in role.kpis if a.kpi == kpi.id):
            duty = next((r.description for r in role.responsibilities if r.id == assignment.responsibility), None)
            uses.append(RoleUse(
                role=role.title, teams=", ".join(namer.team(t) for t in role.teams) or "no team",
                weight=assignment.weight, weight_total=total,
                objectives=", ".join(namer.objective(o) for o in assignment.objectives) or "none named",
                responsibility=duty or "none named",
                review_period=(assignment.review_period or framework.metadata.review_cycle.value).replace("_", "-"),
                bands=bands_words(assignment.model_dump(), unit)))
    return tuple(uses)


def target_rows(kpi: KpiDefinition, framework: Framework, suggestions: pd.DataFrame,
                namer: Namer) -> tuple[TargetRow, ...]:
    """Per role, the current target's probability of attainment and verdict and the suggested bands (step 4's
    percentile method, moved into the framework's achievable band), with how many values they rest on."""
    unit, rows = framework.unit_of(kpi), []
    for row in suggestions[suggestions["kpi_id"] == kpi.id].to_dict("records"):
        basis = (f"{row['observations']} past values over {row['periods']} period(s), {row['method']} method"
                 if row["verdict"] != NO_DATA else "no past values")
        rows.append(TargetRow(
            role=namer.role(row["role"]), current=bands_words(row, unit, "current_"),
            current_probability=percent_text(row["current_probability"]), current_verdict=row["current_verdict"],
            suggested=bands_words(row, unit) if row["verdict"] != NO_DATA else "none: no past values",
            probability=percent_text(row["probability"]), verdict=row["verdict"], basis=basis,
            notes=row["notes"] or ""))
    return tuple(rows)


def target_flags(kpi: KpiDefinition, evidence: Evidence | None, namer: Namer, framework: Framework) -> tuple[str, ...]:
    """Roles or teams whose targets are flagged as easier or harder than the organization's, with the change to this
    KPI's target that would even them out (`kpi-workbook evidence`, part 2)."""
    if evidence is None:
        return ()
    unit, found = framework.unit_of(kpi), []
    flags = evidence.difficulty.flags.set_index(["level", "group"])
    for change in evidence.difficulty.changes[evidence.difficulty.changes["kpi_id"] == kpi.id].itertuples():
        flag = flags.loc[(change.level, change.group)]
        group = namer.role(change.group) if change.level == "role" else namer.team(change.group)
        found.append(f"{change.level.capitalize()} {group}: its targets are {flag['direction']} than the "
                     f"organization's ({percent_text(flag['attainment'])} of its values meet target, against "
                     f"{percent_text(flag['organization'])}); the target of {kpi.name} that evens this out: "
                     f"{level_text(change.target, unit)} → {level_text(change.even_target, unit)}")
    return tuple(found)
