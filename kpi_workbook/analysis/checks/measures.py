"""Rules for KPI measures: filters and derived expressions that parse, units that fit, sources and columns that exist.

The rules registered here need only the framework; `source_findings` also reads the workspace's sources.yaml
(unknown source or column, an aggregation of a text column).
"""

from __future__ import annotations

__all__ = ["ERROR", "connection_findings", "filters_parse", "source_findings", "units_fit"]

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from kpi_workbook.analysis.checks.common import suggest
from kpi_workbook.analysis.checks.findings import Finding, Severity
from kpi_workbook.analysis.checks.registry import Found, rule
from kpi_workbook.analysis.measures.kinds import kind_of
from kpi_workbook.analysis.measures.shapes import where_misfits
from kpi_workbook.core.errors import InputError
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.measures import (
    FilterError,
    Function,
    Measure,
    derived_kpis,
    parse_derived,
    parse_filter,
)
from kpi_workbook.core.model import Framework, KpiDefinition
from kpi_workbook.workspace.files import KPIS_FILE
from kpi_workbook.workspace.source_paths import SourcePathError
from kpi_workbook.workspace.sources import (
    SOURCES_FILE,
    Source,
    database_source_problems,
    load_sources,
)

ERROR = Severity.ERROR
_PERCENT = ("%", "percent")


def _measured(framework: Framework) -> Iterator[tuple[KpiDefinition, Measure]]:
    """The KPIs with a measure, each with its measure."""
    return ((k, k.measure) for k in framework.kpis if k.measure is not None)


def _filters(measure: Measure) -> Iterator[tuple[str, str, str]]:
    """(field, filter text, source) of every filter of a measure."""
    for field, spec in kind_of(measure).parts(measure):
        if spec.where:
            yield f"measure.{field}.where", spec.where, spec.source


@rule("measures.parse")
def filters_parse(framework: Framework, found: Found) -> Iterator[Finding]:
    """Error: every filter (`where`) of a measure is a condition, and every derived measure is arithmetic over KPI
    ids."""
    for kpi, measure in _measured(framework):
        for field, text, _ in _filters(measure):
            try:
                parse_filter(text)
            except FilterError as exc:
                yield found(ERROR, str(exc), "fix the filter", file=KPIS_FILE, kpi=kpi.id, field=field)
        if measure.derived is not None:
            try:
                names = derived_kpis(parse_derived(measure.derived))
            except FilterError as exc:
                yield found(ERROR, str(exc), "fix the expression", file=KPIS_FILE, kpi=kpi.id,
                            field="measure.derived")
                continue
            for name in names:
                if framework.kpi(name) is None:
                    yield found(ERROR, f"derived from unknown KPI '{name}'",
                                suggest(name, [k.id for k in framework.kpis], "KPI"), file=KPIS_FILE, kpi=kpi.id,
                                field="measure.derived")


def _unit_problem(kpi: KpiDefinition, measure: Measure) -> str | None:
    unit = kpi.unit.lower()
    percent = any(p in unit for p in _PERCENT)
    if measure.unit is not None and measure.unit.strip().lower() != unit.strip():
        return f"the measure gives '{measure.unit}' but the KPI's unit is '{kpi.unit}'"
    if measure.ratio is not None and measure.scale == 100 and unit and not percent:
        return f"a ratio × 100 is a percentage, but the unit is '{kpi.unit}'"
    if measure.ratio is not None and measure.scale == 1 and percent:
        return "the unit is a percentage but the ratio is not multiplied by 100 (add scale: 100)"
    if measure.aggregate is not None and measure.aggregate.function in (Function.COUNT, Function.COUNT_DISTINCT) \
            and measure.scale == 1 and (percent or "rating" in unit):
        return f"a count cannot be in '{kpi.unit}'"
    if measure.duration is not None and unit and measure.duration.unit.value not in unit:
        return f"the duration is in {measure.duration.unit.value} but the unit is '{kpi.unit}'"
    return None


@rule("measures.unit")
def units_fit(framework: Framework, found: Found) -> Iterator[Finding]:
    """Error: a measure gives values in the KPI's unit (a ratio × 100 is a %), and its polarity, if given, is the
    KPI's."""
    for kpi, measure in _measured(framework):
        problem = _unit_problem(kpi, measure)
        if problem:
            yield found(ERROR, problem, "make the measure and the unit agree", file=KPIS_FILE, kpi=kpi.id,
                        field="measure")
        if measure.polarity is not None and measure.polarity != kpi.polarity.value:
            yield found(ERROR, f"the measure says {measure.polarity} but the KPI is {kpi.polarity.value}",
                        "make the measure's polarity and the KPI's agree", file=KPIS_FILE, kpi=kpi.id,
                        field="measure.polarity")


def _finding(message: str, fix: str, kpi: str, field: str) -> Finding:
    return Finding(severity=ERROR, code=Code.MEASURES_SOURCE, message=message, fix=fix, file=KPIS_FILE, kpi=kpi,
                   field=field)


def _spec_findings(kpi: KpiDefinition, measure: Measure, sources: dict[str, Source]) -> Iterator[Finding]:
    """The measure against its sources: the same misfits `compute` refuses, in its words."""
    for misfit in kind_of(measure).misfits(measure, sources):
        yield _finding(misfit.message, misfit.fix, kpi.id, f"measure.{misfit.field}")


def _source_filter_findings(sources: dict[str, Source]) -> Iterator[Finding]:
    """A source's own `where` parses and names its columns."""
    for source in sources.values():
        if not source.where:
            continue
        entry = f"source '{source.name}'"
        try:
            parse_filter(source.where)
        except FilterError as exc:
            yield Finding(severity=ERROR, code=Code.MEASURES_SOURCE, message=str(exc), fix="fix the filter",
                          file=SOURCES_FILE, entry=entry, field="where")
            continue
        for misfit in where_misfits(source, source.where, "where"):
            yield Finding(severity=ERROR, code=Code.MEASURES_SOURCE, message=misfit.message, fix=misfit.fix,
                          file=SOURCES_FILE, entry=entry, field="where")


def source_findings(root: str | Path, framework: Framework) -> list[Finding]:
    """Measures against sources.yaml: unknown sources and columns, aggregations of text columns, date columns."""
    measured = list(_measured(framework))
    if not measured:
        return []
    try:
        sources = load_sources(root)
    except SourcePathError:
        raise  # files the workspace may not or cannot read make it unreadable, not merely wrong
    except InputError as exc:
        return [replace(p, severity=ERROR, code=Code.MEASURES_SOURCE, fix=f"fix {SOURCES_FILE}")
                for p in exc.problems]
    findings: list[Finding] = list(_source_filter_findings(sources))
    for kpi, measure in measured:
        findings += _spec_findings(kpi, measure, sources)
    return findings


def connection_findings(root: str | Path) -> list[Finding]:
    """Every database source reached (validate --connect): unreachable servers, missing tables, columns that are
    not there or hold another type."""
    return [replace(p, severity=ERROR, code=Code.MEASURES_SOURCE, file=SOURCES_FILE,
                    fix="fix the source's url, table or query, or the database's access")
            for p in database_source_problems(root)]

