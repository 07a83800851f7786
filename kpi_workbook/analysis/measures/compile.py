"""Compiling measures to ibis expressions: filters, aggregations, durations and period keys.

Everything here builds expressions only; the backend of the source's table (DuckDB by default, PostgreSQL or any
other ibis backend for database sources) runs them, so the aggregation happens where the records are.
"""

from __future__ import annotations

__all__ = [
    "aggregation", "column", "duration", "entities", "filter_of", "headcount", "over_entities", "period_keys",
    "period_of_keys", "predicate", "source_filter", "span",
]

import datetime as dt
from typing import Any, TypedDict

import ibis
import ibis.expr.types as ir

from kpi_workbook.analysis.measures.placement import weight_column
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.measures import (
    Aggregate,
    Column,
    Condition,
    Duration,
    DurationUnit,
    FilterError,
    Function,
    Literal,
    Logical,
    PerEntity,
    Span,
    parse_filter,
)
from kpi_workbook.core.model import Frequency
from kpi_workbook.workspace.sources import (
    DATE_TYPES,
    SOURCES_FILE,
    UNDECLARED_COLUMN_FIX,
    WHEN,
    ColumnType,
    Source,
)

#: Names of the grouping columns a measure's query returns.
YEAR, NUMBER, WEEK = "__year", "__n", "__week"


class _Where(TypedDict):
    """Where a KPI's measure setting is, for its errors."""

    file: str
    entry: str
    field: str


def _where(kpi: str, field: str) -> _Where:
    return {"file": "kpis.yaml", "entry": f"KPI '{kpi}'", "field": f"measure.{field}"}


def column(table: ir.Table, source: Source, name: str, kpi: str, field: str) -> ir.Column:
    """A column of a source, or InputError naming the KPI and the known columns."""
    known = source.measure_types
    if name not in known:
        raise InputError(Problem(message=f"source '{source.name}' has no column '{name}' (its columns: "
                                         f"{', '.join(known)}); {UNDECLARED_COLUMN_FIX}", **_where(kpi, field)))
    # a warehouse's numeric(p, s) is aggregated as a float: Arrow cannot rescale every decimal mean or product
    return table[name].cast("float64") if table[name].type().is_decimal() else table[name]


def _literal(value: object, kind: ColumnType | None) -> Any:
    if kind in DATE_TYPES and isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value)
        return ibis.literal(parsed.date() if kind is ColumnType.DATE else parsed)
    return ibis.literal(value)


def span(table: ir.Table, source: Source, start_name: str, end_name: str, hours: bool, kpi: str, field: str) -> Any:
    """The time from one date column to another of each row, in days or hours (a float; NULL without both)."""
    start = column(table, source, start_name, kpi, field)
    end = column(table, source, end_name, kpi, field)
    types = source.measure_types
    if ColumnType.DATETIME in (types[start_name], types[end_name]):
        # ibis's hints give every cast a string's type (its `type[str]` names the method `type`)
        seconds = (end.cast("timestamp").epoch_seconds()  # type: ignore[attr-defined]
                   - start.cast("timestamp").epoch_seconds())  # type: ignore[attr-defined]
        return seconds.cast("float64") / (3600.0 if hours else 86400.0)
    days = end.cast("date").delta(start.cast("date"), unit="day").cast("float64")  # type: ignore[attr-defined]
    return days * 24.0 if hours else days


def _side(table: ir.Table, source: Source, side: Column | Literal | Span, other: Column | Literal | Span, kpi: str,
          field: str) -> Any:
    if isinstance(side, Span):
        return span(table, source, side.start, side.end, side.unit == "hours", kpi, field)
    if isinstance(side, Column):
        return column(table, source, side.name, kpi, field)
    other_name = other.name if isinstance(other, Column) else None
    kind = source.measure_types.get(other_name) if other_name is not None else None
    try:
        return _literal(side.value, kind)
    except ValueError:  # only a date column's `kind` parses the value
        raise InputError(Problem(message=f"{side.value!r} is not an ISO date (YYYY-MM-DD) to compare with the date "
                                         f"column '{other_name}'", **_where(kpi, field))) from None


def predicate(table: ir.Table, source: Source, condition: Condition, kpi: str, field: str) -> ir.BooleanValue:
    """The ibis condition of a parsed filter; `== null` and `!= null` test for empty cells."""
    if isinstance(condition, Logical):
        parts = [predicate(table, source, c, kpi, field) for c in condition.items]
        if condition.op == "not":
            return ~parts[0]
        result = parts[0]
        for part in parts[1:]:
            result = result & part if condition.op == "and" else result | part
        return result
    left = _side(table, source, condition.left, condition.right, kpi, field)
    if isinstance(condition.right, Literal) and condition.right.value is None:
        if condition.op not in ("==", "!="):
            raise InputError(Problem(message="null is compared only with == or !=", **_where(kpi, field)))
        return left.isnull() if condition.op == "==" else left.notnull()
    if condition.op in ("in", "not in"):
        kind = source.measure_types.get(getattr(condition.left, "name", ""))
        listed = condition.right
        if not isinstance(listed, Literal) or not isinstance(listed.value, tuple):
            raise TypeError(f"`{condition.op}` takes a list of constants, not {listed!r}")
        values = [_literal(v, kind) for v in listed.value]
        return left.isin(values) if condition.op == "in" else left.notin(values)
    right = _side(table, source, condition.right, condition.left, kpi, field)
    operators = {"==": "__eq__", "!=": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__"}
    return getattr(left, operators[condition.op])(right)


def filter_of(table: ir.Table, source: Source, text: str | None, kpi: str, field: str) -> ir.BooleanValue | None:
    """The ibis condition of a `where` text (None when there is none); InputError when it does not parse."""
    if not text:
        return None
    try:
        condition = parse_filter(text)
    except FilterError as exc:
        raise InputError(Problem(message=str(exc), **_where(kpi, field))) from None
    return predicate(table, source, condition, kpi, field)


def source_filter(table: ir.Table, source: Source) -> ir.Table:
    """The rows of a source that its own `where` keeps (all without one); InputError naming sources.yaml."""
    if not source.where:
        return table
    try:
        return table.filter(predicate(table, source, parse_filter(source.where), "", "where"))
    except (FilterError, InputError) as exc:
        messages = [p.message for p in exc.problems] if isinstance(exc, InputError) else [str(exc)]
        raise InputError([Problem(file=SOURCES_FILE, entry=f"source '{source.name}'", field="where", message=m)
                          for m in messages]) from None


def headcount(table: ir.Table, source: Source, spec: Aggregate, kpi: str, field: str) -> tuple[Any, Any]:
    """(the weighted number of active rows, or weighted sum of `column` over them; the number of (row, day) pairs
    counted) of a headcount over a table placed on the days it counts."""
    weight = table[weight_column(spec.counted_at)]
    where = _both(filter_of(table, source, spec.where, kpi, f"{field}.where"), weight > 0)
    if spec.column is not None:
        values = column(table, source, spec.column, kpi, f"{field}.column")
        return (weight * values).sum(where=where), table.count(where=_both(where, values.notnull()))
    return weight.sum(where=where), table.count(where=where)


def _both(first: ir.BooleanValue | None, second: ir.BooleanValue | None) -> ir.BooleanValue | None:
    if first is None or second is None:
        return first if second is None else second
    return first & second


#: The ibis reduction of each function of a column's values (a headcount is not one: see `headcount`).
_REDUCTIONS = {Function.SUM: "sum", Function.COUNT: "count", Function.COUNT_DISTINCT: "nunique",
               Function.MEAN: "mean", Function.MEDIAN: "median", Function.MIN: "min", Function.MAX: "max"}


def _reduced(values: ir.Column, function: Function, where: ir.BooleanValue | None) -> Any:
    """`function` of `values` over the rows `where` holds (all when None)."""
    return getattr(values, _REDUCTIONS[function])(where=where)


def aggregation(table: ir.Table, source: Source, spec: Aggregate, kpi: str, field: str) -> tuple[Any, Any]:
    """(the aggregate, the number of rows it uses) of an aggregation over `table`."""
    where = filter_of(table, source, spec.where, kpi, f"{field}.where")
    if spec.column is None:
        return table.count(where=where), table.count(where=where)
    values = column(table, source, spec.column, kpi, f"{field}.column")
    used = table.count(where=_both(where, values.notnull()))
    return _reduced(values, spec.function, where), used


def duration(table: ir.Table, source: Source, spec: Duration, kpi: str) -> tuple[Any, Any]:
    """(the aggregated duration, the number of rows it uses): time from `start` to `end` in days or hours."""
    time = span(table, source, spec.start, spec.end, spec.unit is DurationUnit.HOURS, kpi, "duration")
    where = _both(filter_of(table, source, spec.where, kpi, "duration.where"), time.notnull())
    return _reduced(time, spec.function, where), table.count(where=where)


def period_keys(table: ir.Table, frequency: Frequency) -> dict[str, Any]:
    """Grouping expressions that place each row's `when` date in a period of the frequency (run where the rows are)."""
    when = table[WHEN]
    if frequency is Frequency.WEEKLY:
        return {WEEK: when.truncate("W")}
    numbers = {
        Frequency.YEARLY: lambda: ibis.literal(1),
        Frequency.HALF_YEARLY: lambda: (when.month() + 5) // 6,
        Frequency.QUARTERLY: when.quarter,
        Frequency.MONTHLY: when.month,
    }
    return {YEAR: when.year(), NUMBER: numbers[frequency]()}


def period_of_keys(table: ir.Table, frequency: Frequency) -> tuple[Any, Any]:
    """(canonical label such as 2025Q1 or 2025-W05, first day) of the period keys a grouped query returned."""
    if frequency is Frequency.WEEKLY:
        monday = table[WEEK].cast("date")
        iso_year = (monday + ibis.interval(days=3)).year()  # an ISO week belongs to the year of its Thursday
        return iso_year.cast("string") + "-W" + monday.week_of_year().cast("string").lpad(2, "0"), monday
    year, n = table[YEAR].cast("int64"), table[NUMBER].cast("int64")
    text = year.cast("string")
    labels = {
        Frequency.YEARLY: (text, 1),
        Frequency.HALF_YEARLY: (text + "H" + n.cast("string"), (n - 1) * 6 + 1),
        Frequency.QUARTERLY: (text + "Q" + n.cast("string"), (n - 1) * 3 + 1),
        Frequency.MONTHLY: (text + "-" + n.cast("string").lpad(2, "0"), n),
    }
    label, month = labels[frequency]
    return label, ibis.date(year, month, 1)


# --- aggregating per entity first (order lines → orders) -----------------------------------------------------------

#: Columns of a table of entities: each entity's value and its number of source rows.
ENTITY_VALUE, ENTITY_ROWS = "__entity_value", "__entity_rows"

def _per_entity(spec: Aggregate | Duration) -> PerEntity:
    """How an aggregate taken per entity first reduces each entity's rows."""
    if spec.per_entity is None:
        raise ValueError("the aggregate is not taken per entity")
    return spec.per_entity


def _inner(table: ir.Table, source: Source, spec: Aggregate | Duration, kpi: str, field: str) -> tuple[Any, Any]:
    """(each entity's value by the per_entity function, its number of rows) as aggregates over an entity's rows."""
    function = _per_entity(spec).function
    if isinstance(spec, Duration):
        values = span(table, source, spec.start, spec.end, spec.unit is DurationUnit.HOURS, kpi, field)
        where = _both(filter_of(table, source, spec.where, kpi, f"{field}.where"), values.notnull())
    else:
        where = filter_of(table, source, spec.where, kpi, f"{field}.where")
        if spec.column is None:
            return table.count(where=where), table.count(where=where)
        values = column(table, source, spec.column, kpi, f"{field}.column")
        where = _both(where, values.notnull())
    used = table.count(where=where)
    if function is Function.COUNT:
        return used, used
    return _reduced(values, function, where), used


def entities(table: ir.Table, source: Source, spec: Aggregate | Duration, kpi: str, field: str, keys: dict[str, Any],
             keep: dict[str, Any]) -> ir.Table:
    """One row per group (`keys`) and entity (the per_entity column; rows without one are left out) with the
    entity's value (ENTITY_VALUE) and rows (ENTITY_ROWS), and the `keep` aggregates."""
    name = _per_entity(spec).column
    entity = column(table, source, name, kpi, f"{field}.per_entity")
    value, used = _inner(table, source, spec, kpi, field)
    grouped = table.group_by(**keys, __entity=entity).aggregate(
        **{ENTITY_VALUE: value.cast("float64"), ENTITY_ROWS: used}, **keep)
    return grouped.filter(grouped["__entity"].notnull())


def over_entities(table: ir.Table, spec: Aggregate | Duration) -> tuple[Any, Any]:
    """(the measure's function over the entities that have rows, the number of source rows) of a table of
    entities."""
    has_rows = table[ENTITY_ROWS] > 0
    used = table[ENTITY_ROWS].sum()
    if spec.function is Function.COUNT:
        return table.count(where=has_rows), used
    return _reduced(table[ENTITY_VALUE], spec.function, has_rows), used
