"""Whether a measure fits its source's columns: names that exist, types that go together, dates where dates are
needed. `validate` lists these problems and `compute` refuses a measure that has any, in the same words, so that
the engine never meets a comparison of a number with text or a mean of text.
"""

from __future__ import annotations

__all__ = [
    "Misfit", "aggregate_misfits", "duration_misfits", "filter_misfits", "placement_misfits", "spec_misfits",
    "where_misfits",
]

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from kpi_workbook.core.measures import (
    NUMERIC_FUNCTIONS,
    Aggregate,
    Column,
    Compare,
    Condition,
    Duration,
    FilterError,
    Function,
    Literal,
    Logical,
    Measure,
    Span,
    parse_filter,
)
from kpi_workbook.workspace.sources import (
    DATE_TYPES,
    NUMBER_TYPES,
    SOURCES_FILE,
    UNDECLARED_COLUMN_FIX,
    ColumnType,
    Source,
)


@dataclass(frozen=True)
class Misfit:
    """One way a measure does not fit its source: the field (below `measure.`), what is wrong and the fix."""

    field: str
    message: str
    fix: str


def _kind(kind: ColumnType) -> str:
    return "number" if kind in NUMBER_TYPES else "date" if kind in DATE_TYPES else "text"


def _is_iso_date(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _literal_misfit(column: str, kind: ColumnType, value: object) -> tuple[str, str] | None:
    """(why, fix) a constant cannot be compared with a column of this type (None: it can)."""
    values = value if isinstance(value, tuple) else (value,)
    for item in values:
        if item is None:
            continue
        if kind in NUMBER_TYPES and (isinstance(item, bool) or not isinstance(item, int | float)):
            return (f"compares the number column '{column}' with {item!r}",
                    f"write a number without quotes, or declare '{column}' as text in {SOURCES_FILE} (or map its "
                    "texts with text_to_number)")
        if kind is ColumnType.TEXT and not isinstance(item, str):
            return (f"compares the text column '{column}' with {item!r}, which is not text",
                    f"put it in quotes (\"{item}\"), or declare '{column}' as a number in {SOURCES_FILE}")
        if kind in DATE_TYPES and not _is_iso_date(item):
            return f"compares the date column '{column}' with {item!r}", 'write the date as "YYYY-MM-DD"'
    return None


def _compare_misfits(compare: Compare, types: dict[str, ColumnType]) -> Iterator[tuple[str, str]]:
    sides = (compare.left, compare.right)
    for side in sides:
        if isinstance(side, Span):
            for name in (side.start, side.end):
                if name in types and types[name] not in DATE_TYPES:
                    yield (f"{side.unit}({side.start}, {side.end}) needs two date columns, but '{name}' is a "
                           f"{_kind(types[name])} column", f"name two date columns in {side.unit}()")
    columns = [s for s in sides if isinstance(s, Column) and s.name in types]
    literal = next((s for s in sides if isinstance(s, Literal)), None)
    if len(columns) == 2 and _kind(types[columns[0].name]) != _kind(types[columns[1].name]):
        first, second = columns
        yield (f"compares the {_kind(types[first.name])} column '{first.name}' with the {_kind(types[second.name])} "
               f"column '{second.name}'", _SAME_TYPE)
    elif len(columns) == 1 and literal is not None:
        misfit = _literal_misfit(columns[0].name, types[columns[0].name], literal.value)
        if misfit:
            yield misfit


_SAME_TYPE = "compare values of the same type"


def filter_misfits(condition: Condition, types: dict[str, ColumnType]) -> list[tuple[str, str]]:
    """(what, fix) of each comparison in a parsed filter of values of different types (unknown columns are told
    apart elsewhere)."""
    if isinstance(condition, Logical):
        return [m for item in condition.items for m in filter_misfits(item, types)]
    return list(_compare_misfits(condition, types))


def _names(condition: Condition) -> Iterator[str]:
    if isinstance(condition, Logical):
        for item in condition.items:
            yield from _names(item)
        return
    for side in (condition.left, condition.right):
        if isinstance(side, Column):
            yield side.name
        elif isinstance(side, Span):
            yield from (side.start, side.end)


def _unknown(source: Source, column: str, field: str) -> Misfit:
    return Misfit(field, f"source '{source.name}' has no column '{column}' (its columns: "
                         f"{', '.join(source.measure_types)})", UNDECLARED_COLUMN_FIX)


def where_misfits(source: Source, text: str | None, field: str) -> list[Misfit]:
    """Unknown columns and type mismatches of a filter (one that does not parse is told apart)."""
    if not text:
        return []
    try:
        condition = parse_filter(text)
    except FilterError:
        return []
    types = source.measure_types
    found = [_unknown(source, c, field) for c in dict.fromkeys(_names(condition)) if c not in types]
    return found + [Misfit(field, message, fix) for message, fix in filter_misfits(condition, types)]


def _numeric(source: Source, column: str | None, function: Function, field: str) -> list[Misfit]:
    types = source.measure_types
    if column is None or column not in types or function not in NUMERIC_FUNCTIONS:
        return []
    if types[column] in NUMBER_TYPES:
        return []
    return [Misfit(field, f"{function.value} of '{column}', a {_kind(types[column])} column",
                   "aggregate a number column, count the rows, or map its texts to numbers with text_to_number in "
                   f"{SOURCES_FILE}")]


def _entity_misfits(source: Source, spec: Aggregate | Duration, field: str) -> list[Misfit]:
    entity = spec.per_entity
    if entity is None:
        return []
    found = [] if entity.column in source.measure_types else [_unknown(source, entity.column, f"{field}.per_entity")]
    if isinstance(spec, Aggregate):
        found += _numeric(source, spec.column, entity.function, f"{field}.column")
    return found


def aggregate_misfits(source: Source, spec: Aggregate, field: str) -> list[Misfit]:
    """Everything about an aggregation that does not fit its source."""
    types = source.measure_types
    found = [_unknown(source, spec.column, f"{field}.column")] if spec.column and spec.column not in types else []
    if spec.per_entity is None:  # else the function is of the entities' values, numbers by the per_entity function
        found += _numeric(source, spec.column, spec.function, f"{field}.column")
    found += where_misfits(source, spec.where, f"{field}.where") + _entity_misfits(source, spec, field)
    if spec.function is Function.HEADCOUNT and not source.has_spans:
        found.append(Misfit(field, f"a headcount needs rows valid over spans of days, but source '{source.name}' "
                                   f"has no `start` (and `end`) column", f"give the source `start` and `end` columns "
                                                                         f"in {SOURCES_FILE}"))
    if spec.date is not None and types.get(spec.date) not in DATE_TYPES:
        dates = [c for c, kind in types.items() if kind in DATE_TYPES]
        what = "is not a date column" if spec.date in types else "is not a column"
        found.append(Misfit(f"{field}.date", f"`date: {spec.date}` {what} of source '{source.name}' (its date "
                                             f"columns: {', '.join(dates) or 'none'})", UNDECLARED_COLUMN_FIX))
    return found


def duration_misfits(source: Source, spec: Duration, field: str = "duration") -> list[Misfit]:
    """Everything about a duration that does not fit its source."""
    types = source.measure_types
    found = []
    for column in (spec.start, spec.end):
        if column not in types:
            found.append(_unknown(source, column, field))
        elif types[column] not in DATE_TYPES:
            found.append(Misfit(field, f"'{column}' is not a date column of source '{source.name}'",
                                "measure durations between date columns"))
    return found + where_misfits(source, spec.where, f"{field}.where") + _entity_misfits(source, spec, field)


def placement_misfits(source: Source, spec: Aggregate | Duration, measure: Measure, field: str) -> list[Misfit]:
    """Whether the source can place the measure's rows in periods: by a date, on spans, over windows."""
    date = spec.date if isinstance(spec, Aggregate) else None
    headcount = isinstance(spec, Aggregate) and spec.function is Function.HEADCOUNT
    found = []
    if not headcount and date is None and source.when is None and source.fixed_period is None:
        found.append(Misfit(field, f"source '{source.name}' has validity spans but no `when` column",
                            f"name the date column that places each row in a period, e.g. "
                            f"`date: {source.end or source.start}` for leavers, `date: {source.start}` for hires"))
    if source.fixed_period is not None:
        if date is not None:
            found.append(Misfit(f"{field}.date", f"source '{source.name}' is a snapshot of {source.period}: its rows "
                                                 "are placed in that period, not by a `date`", "leave out `date`"))
        shifted = [name for name, on in (("window", measure.window), ("year_to_date", measure.year_to_date),
                                         ("offset", measure.offset)) if on]
        if shifted:
            found.append(Misfit(field, f"`{shifted[0]}` needs dated rows, but source '{source.name}' is a snapshot "
                                       f"of {source.period}", f"give the source a `when` column in {SOURCES_FILE}"))
    return found


def spec_misfits(source: Source, spec: Aggregate | Duration, measure: Measure, field: str) -> list[Misfit]:
    """Everything about one aggregation of a measure that does not fit its source."""
    fits = aggregate_misfits(source, spec, field) if isinstance(spec, Aggregate) else duration_misfits(source, spec,
                                                                                                        field)
    return fits + placement_misfits(source, spec, measure, field)
