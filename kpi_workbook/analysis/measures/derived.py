"""Derived measures in the engine: arithmetic over other KPIs' values of the same period, team and employee."""

from __future__ import annotations

__all__ = ["DIVISION_BY_ZERO", "derived_columns", "derived_table"]

from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir

from kpi_workbook.analysis.measures.evaluate import KEYS
from kpi_workbook.analysis.measures.kinds.base import not_finite
from kpi_workbook.analysis.measures.plan import derived_of, measure_of
from kpi_workbook.core.measures import Column, Literal, Per, Term, derived_kpis, parse_derived
from kpi_workbook.core.model import KpiDefinition

DIVISION_BY_ZERO = "division by zero: the divisor is 0"


def _value(term: Term, operand: Callable[[str], Any], divisors: list[Any]) -> Any:
    """The term over the operands' values; divisors collects every divisor (a zero one gives NULL)."""
    if isinstance(term, Literal):
        if not isinstance(term.value, int | float | str):
            raise TypeError(f"not a number: {term.value!r}")
        return ibis.literal(float(term.value), "float64")
    if isinstance(term, Column):
        return operand(term.name)
    parts = [_value(item, operand, divisors) for item in term.items]
    if term.op == "-" and len(parts) == 1:
        return -parts[0]
    left, right = parts
    if term.op == "/":
        divisors.append(right)
        return left / ibis.ifelse(right == 0, ibis.null("float64"), right)
    return {"+": left + right, "-": left - right, "*": left * right}[term.op]


def derived_columns(kpi: KpiDefinition, operand: Callable[[str], Any]) -> tuple[Any, Any]:
    """(value, reason for no data or NULL) of a derived measure, given each operand KPI's value (NULL: none).

    A group missing one of them is "no value of KPI x" (the first missing, in the expression's order); a zero divisor
    is "division by zero"."""
    term = parse_derived(derived_of(kpi))
    names = derived_kpis(term)
    divisors: list[Any] = []
    value = _value(term, operand, divisors) * measure_of(kpi).scale
    cases = [(operand(n).isnull(), ibis.literal(f"no value of KPI {n}")) for n in names]
    if divisors:
        zero = divisors[0] == 0
        for divisor in divisors[1:]:
            zero = zero | (divisor == 0)
        cases.append((zero.fill_null(False), ibis.literal(DIVISION_BY_ZERO)))
    cases.append((not_finite(value), ibis.literal("not a finite number")))
    return value, ibis.cases(*cases, else_=ibis.null("string"))


def derived_table(kpi: KpiDefinition, operands: ir.Table) -> tuple[ir.Table, Any, Any]:
    """(one row per period, team and employee that has a value of an operand; the value; the reason for no data or
    NULL) of a derived measure. `operands` holds period, team, employee_id, kpi_id and value of the KPIs it uses."""
    names = derived_kpis(parse_derived(derived_of(kpi)))
    employee = operands.employee_id
    level = employee != "" if measure_of(kpi).per is Per.EMPLOYEE else employee == ""
    used = operands.filter(level & operands.kpi_id.isin(names))
    table = used.group_by(KEYS).aggregate(**{n: used.value.cast("float64").max(where=used.kpi_id == n)
                                            for n in names})
    value, reason = derived_columns(kpi, lambda name: table[name])
    return table, value, reason
