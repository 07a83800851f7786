"""A KPI's passport: what one KPI is, how it is measured, where its values come from, its targets, the roles using it,
the evidence on it and its changes, gathered from the framework, its measure, the store and the change log (never
typed twice), in words a manager reads. `passport_html` (reports.passport_page) renders it."""

from __future__ import annotations

__all__ = [
    "AIMS", "Change", "EVERY", "GRAIN", "NO_FORMULA", "NO_MEASURE", "NO_OWNER", "NO_PURPOSE", "NO_UNIT", "Objective",
    "POLARITY_WORDS", "Passport", "PassportSources", "changes", "gather", "outcomes", "passport", "question",
    "unit_words",
]

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import pandas as pd

from kpi_workbook.analysis.measures.kinds import describe_measure
from kpi_workbook.core.model import Framework, KpiDefinition, Polarity
from kpi_workbook.core.periods import sort_periods
from kpi_workbook.reports.passport_evidence import GamingCheck, LeadRow, gaming_checks, indicator_words, lead_rows
from kpi_workbook.reports.passport_lineage import Lineage, kpi_lineage
from kpi_workbook.reports.passport_targets import RoleUse, TargetRow, role_uses, target_flags, target_rows
from kpi_workbook.reports.passport_words import Namer, find_kpi
from kpi_workbook.workspace.changelog import ChangeEntry

if TYPE_CHECKING:
    from kpi_workbook.analysis.evidence import Evidence
    from kpi_workbook.workspace.opener import Workspace
    from kpi_workbook.workspace.sources import Source

NO_MEASURE = ("no measure: its values are entered by hand or imported (kpi-workbook import-actuals); kpis.yaml gives "
              "no `measure` to compute them from")
NO_OWNER = "no owner named (kpis.yaml: owner)"
NO_UNIT = "no unit given (kpis.yaml: unit)"
NO_PURPOSE = "no description given (kpis.yaml: description)"
NO_FORMULA = "no formula in words (kpis.yaml: formula)"
POLARITY_WORDS = {Polarity.HIGHER_IS_BETTER: "higher is better", Polarity.LOWER_IS_BETTER: "lower is better",
                  Polarity.WITHIN_RANGE: "best within a target range"}
AIMS = {Polarity.HIGHER_IS_BETTER: "high enough to meet its target", Polarity.LOWER_IS_BETTER: "low enough to meet "
        "its target", Polarity.WITHIN_RANGE: "within its target range"}
EVERY = {"weekly": "each week", "monthly": "each month", "quarterly": "each quarter", "half_yearly": "each half-year",
         "yearly": "each year"}
GRAIN = {"employee": "for each person", "team": "for each team"}


@dataclass(frozen=True)
class Objective:
    """An objective the KPI serves, in words."""

    title: str
    perspective: str
    description: str


@dataclass(frozen=True)
class Change:
    """A change-log entry's lines about the KPI."""

    version: str
    date: str
    why: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Passport:
    """Everything a KPI's page shows, as text and rows (see the module docstring)."""

    kpi_id: str
    name: str
    organization: str
    purpose: str
    objectives: tuple[Objective, ...]
    question: str
    outcomes: tuple[str, ...]
    measure: str
    formula: str
    indicator: str
    category: str
    measure_type: str
    unit: str
    polarity: str
    frequency: str
    owner: str
    lineage: Lineage
    roles: tuple[RoleUse, ...]
    targets: tuple[TargetRow, ...]
    target_flags: tuple[str, ...]
    leads: tuple[LeadRow, ...]
    lead_summary: str
    gaming: tuple[GamingCheck, ...]
    changes: tuple[Change, ...]
    evidence_note: str


@dataclass(frozen=True)
class PassportSources:
    """What every passport of a workspace is made from, gathered once (see `gather`)."""

    framework: Framework
    sources: Mapping[str, Source]
    actuals: pd.DataFrame
    lineage: pd.DataFrame
    current_hashes: Mapping[str, str]
    suggestions: pd.DataFrame
    evidence: Evidence | None
    changelog: tuple[ChangeEntry, ...]

    @cached_property
    def namer(self) -> Namer:
        return Namer(self.framework)

    @cached_property
    def periods(self) -> list[str]:
        """The stored periods, oldest first."""
        return sort_periods(self.actuals["period"].astype(str).unique())


def gather(workspace: Workspace, seed: int = 0) -> PassportSources:
    """Read the framework, sources, stored values and lineage, change log, target suggestions and evidence once."""
    from kpi_workbook.analysis.evidence import framework_evidence
    from kpi_workbook.analysis.targets import suggest_for_framework
    from kpi_workbook.workspace.changelog import read_changelog
    from kpi_workbook.workspace.sources import definition_hash, load_sources
    from kpi_workbook.workspace.store import LINEAGE_COLUMNS, DuckDBStore

    framework, sources = workspace.framework, load_sources(workspace.root)
    store = workspace.store()
    actuals = store.read_actuals()
    lineage = store.read_lineage() if isinstance(store, DuckDBStore) else pd.DataFrame(columns=LINEAGE_COLUMNS)
    hashes = {k.id: definition_hash(k, framework, sources) for k in framework.kpis if k.measure is not None}
    employees = workspace.employees
    suggestions = suggest_for_framework(framework, actuals, employees)
    evidence = framework_evidence(framework, actuals, employees, seed) if len(actuals) else None
    return PassportSources(framework, sources, actuals, lineage, hashes, suggestions, evidence,
                           tuple(read_changelog(workspace.root)))


def question(kpi: KpiDefinition, framework: Framework) -> str:
    """The question the KPI answers, from its frequency, its measure's grain and its polarity."""
    when = EVERY[framework.frequency_of(kpi).value]
    grain = f", {GRAIN[kpi.measure.per.value]}" if kpi.measure is not None else ""
    return f"{when[:1].upper()}{when[1:]}{grain}: is {kpi.name} {AIMS[kpi.polarity]}?"


def outcomes(kpi: KpiDefinition, framework: Framework) -> tuple[str, ...]:
    """What the KPI shows per role: the responsibility it measures and the outcome expected from it."""
    found = []
    for role in framework.roles:
        for assignment in (a for a in role.kpis if a.kpi == kpi.id and a.responsibility):
            duty = next((r for r in role.responsibilities if r.id == assignment.responsibility), None)
            if duty is not None:
                expected = f"; expected outcome: {duty.expected_outcome}" if duty.expected_outcome else ""
                found.append(f"{role.title}: {duty.description}{expected}")
    return tuple(dict.fromkeys(found))


def _objectives(kpi: KpiDefinition, framework: Framework) -> tuple[Objective, ...]:
    ids = dict.fromkeys(o for a in framework.assignments if a.kpi.kpi == kpi.id for o in a.kpi.objectives)
    found = (framework.objective(i) for i in ids)
    return tuple(Objective(o.title, o.perspective.value.replace("_", " "), o.description) for o in found if o)


def _mentions(kpi_id: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.-]){re.escape(kpi_id)}(?![\w.-])")


def changes(kpi: KpiDefinition, entries: tuple[ChangeEntry, ...], namer: Namer) -> tuple[Change, ...]:
    """The change log's lines that name the KPI, per entry, newest first (ids in them given as names)."""
    mention = _mentions(kpi.id)
    found = []
    for entry in reversed(entries):
        lines = tuple(namer.change(line) for line in entry.changes if mention.search(line))
        if lines:
            found.append(Change(entry.version, entry.date.isoformat(), entry.why, lines))
    return tuple(found)


def passport(sources: PassportSources, kpi_id: str) -> Passport:
    """The passport of one KPI (InputError naming the id and the closest ones when kpis.yaml has no such KPI)."""
    framework, namer = sources.framework, sources.namer
    kpi = find_kpi(framework, kpi_id)
    evidence = sources.evidence
    leads, lead_summary = lead_rows(kpi, evidence, namer)
    flags = target_flags(kpi, evidence, namer, framework)
    own_frequency = "" if kpi.frequency else " (the framework's review cycle)"
    return Passport(
        kpi_id=kpi.id, name=kpi.name, organization=framework.metadata.organization,
        purpose=kpi.description or NO_PURPOSE, objectives=_objectives(kpi, framework),
        question=question(kpi, framework), outcomes=outcomes(kpi, framework),
        measure=describe_measure(kpi.measure) if kpi.measure is not None else NO_MEASURE,
        formula=kpi.formula or NO_FORMULA, indicator=indicator_words(kpi), category=kpi.category.value,
        measure_type=kpi.measure_type.value, unit=unit_words(kpi, framework), polarity=POLARITY_WORDS[kpi.polarity],
        frequency=framework.frequency_of(kpi).value.replace("_", "-") + own_frequency, owner=kpi.owner or NO_OWNER,
        lineage=kpi_lineage(kpi, sources.sources, sources.actuals, sources.lineage, sources.current_hashes),
        roles=role_uses(kpi, framework, namer), targets=target_rows(kpi, framework, sources.suggestions, namer),
        target_flags=flags, leads=leads, lead_summary=lead_summary,
        gaming=gaming_checks(kpi, framework, evidence, namer, sources.periods),
        changes=changes(kpi, sources.changelog, namer),
        evidence_note="" if evidence is not None else "No actuals are stored yet: nothing could be tested.",
    )


def unit_words(kpi: KpiDefinition, framework: Framework) -> str:
    """The KPI's unit as its values are shown, saying where a currency comes from."""
    unit = framework.unit_of(kpi)
    if not unit:
        return NO_UNIT
    if unit != kpi.unit:
        return f"{unit} (the framework's currency)"
    return unit
