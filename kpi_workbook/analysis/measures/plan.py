"""Planning a computation: which measured KPIs to evaluate, in which order, at which frequency and over which days."""

from __future__ import annotations

__all__ = ["derived_of", "evaluation_order", "measure_of", "operands", "span_of"]

import datetime as dt
import difflib

from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.measures import FilterError, Measure, derived_kpis, parse_derived
from kpi_workbook.core.model import Framework, KpiDefinition
from kpi_workbook.core.periods import parse_period


def span_of(first: str | None, last: str | None) -> tuple[dt.date, dt.date] | None:
    """The days from the first day of period `first` to the last day of period `last` (None: all)."""
    if first is None:
        if last is None:
            return None
        first_given, last_given = last, last
    else:
        first_given, last_given = first, last or first
    start = parse_period(first_given).start
    end = parse_period(last_given).end
    if end < start:
        raise InputError(Problem(option="--from/--to", message=f"{last} ends before {first} starts"))
    return start, end


def _definition(framework: Framework, kpi_id: str) -> KpiDefinition:
    kpi = framework.kpi(kpi_id)
    if kpi is None or kpi.measure is None:
        measured = ", ".join(k.id for k in framework.kpis if k.measure is not None) or "none"
        raise InputError(Problem(option="--kpi", message=f"'{kpi_id}' is not a KPI with a measure (measured: "
                                                       f"{measured})"))
    return kpi


def measure_of(kpi: KpiDefinition) -> Measure:
    """The measure of a KPI that is computed (evaluation_order gives only measured KPIs)."""
    if kpi.measure is None:
        raise ValueError(f"KPI '{kpi.id}' has no measure")
    return kpi.measure


def derived_of(kpi: KpiDefinition) -> str:
    """The expression of a derived KPI's measure."""
    derived = measure_of(kpi).derived
    if derived is None:
        raise ValueError(f"KPI '{kpi.id}' is not derived")
    return derived


def operands(kpi: KpiDefinition) -> list[str]:
    """The KPI ids a derived KPI uses; InputError naming the KPI when its expression does not parse."""
    try:
        return derived_kpis(parse_derived(derived_of(kpi)))
    except FilterError as exc:
        raise InputError(Problem(file="kpis.yaml", entry=f"KPI '{kpi.id}'", field="measure.derived",
                                 message=str(exc))) from None


def evaluation_order(framework: Framework, wanted: list[str] | None) -> list[KpiDefinition]:
    """The measured KPIs to evaluate (the wanted ones and the measured KPIs derived ones use), operands first."""
    order: list[KpiDefinition] = []
    visiting: list[str] = []

    def visit(kpi_id: str) -> None:
        if any(k.id == kpi_id for k in order):
            return
        if kpi_id in visiting:
            cycle = " → ".join([*visiting[visiting.index(kpi_id):], kpi_id])
            raise InputError(Problem(file="kpis.yaml", entry=f"KPI '{kpi_id}'", field="measure.derived",
                                     message=f"derived measures form a cycle: {cycle}"))
        kpi = _definition(framework, kpi_id)
        visiting.append(kpi_id)
        if measure_of(kpi).derived is not None:
            for operand in operands(kpi):
                known = framework.kpi(operand)
                if known is None:
                    close = difflib.get_close_matches(operand, [k.id for k in framework.kpis], n=1)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    raise InputError(Problem(file="kpis.yaml", entry=f"KPI '{kpi_id}'", field="measure.derived",
                                             message=f"unknown KPI '{operand}'{hint}"))
                if known.measure is not None:
                    visit(operand)
        visiting.pop()
        order.append(kpi)

    for kpi_id in wanted or [k.id for k in framework.kpis if k.measure is not None]:
        visit(kpi_id)
    return order
