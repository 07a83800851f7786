"""What every measure kind provides, and the pieces kinds share.

A kind is a typed model in `core.measures` (the YAML a KPI's `measure` holds) and one module here that lists the
aggregations it needs (`parts`), says what of it does not fit its sources (`misfits`, for validate and compute),
turns its grouped aggregations into the KPI's value (`value`) and describes it in words (`describe`).
"""

from __future__ import annotations

__all__ = ["Columns", "MeasureKind", "Valued", "metric", "not_finite", "parts_misfits", "scaled", "single"]

from typing import TYPE_CHECKING, Any, Protocol

from kpi_workbook.analysis.measures.shapes import Misfit, spec_misfits
from kpi_workbook.core.measures import ZERO_WHEN_NONE_MATCH, Aggregate, Duration, Measure
from kpi_workbook.workspace.sources import SOURCES_FILE, Source

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: The value of a KPI in each group: (value, reason it has none or NULL, number of source rows).
Valued = tuple[Any, Any, Any]
#: The columns of a grouped table holding each part's aggregate and its number of rows, by the part's field.
Columns = dict[str, tuple[str, str]]


class MeasureKind(Protocol):
    """One kind of measure: aggregate, ratio, duration or derived."""

    name: str

    def parts(self, measure: Measure) -> list[tuple[str, Aggregate | Duration]]:
        """(field below `measure.`, aggregation) of each aggregation of a source the measure needs."""

    def misfits(self, measure: Measure, sources: dict[str, Source]) -> list[Misfit]:
        """What in the measure does not fit the workspace's sources."""

    def value(self, table: ir.Table, measure: Measure, columns: Columns) -> Valued:
        """The measure's value in each group of `table` from its parts' columns."""

    def describe(self, measure: Measure) -> str:
        """The measure in words (without its scale, window and grain)."""


def parts_misfits(kind: MeasureKind, measure: Measure, sources: dict[str, Source]) -> list[Misfit]:
    """Every part against its source: an unknown source, or what of the aggregation does not fit it."""
    found = []
    for field, spec in kind.parts(measure):
        if spec.source not in sources:
            found.append(Misfit(field, f"unknown source '{spec.source}'", f"declare it in {SOURCES_FILE} "
                                f"({', '.join(sources) or 'no sources yet'})"))
        else:
            found += spec_misfits(sources[spec.source], spec, measure, field)
    return found


def _what(spec: Aggregate | Duration) -> str:
    if isinstance(spec, Aggregate):
        return spec.describe()
    return f"the duration from {spec.start} to {spec.end} in {spec.source}" + (f" where {spec.where}" if spec.where
                                                                               else "")


def metric(table: ir.Table, columns: tuple[str, str], spec: Aggregate | Duration) -> Valued:
    """(value, reason it has none or NULL, rows used) of one aggregate; groups where no row matched are 0 for sum
    and counts, and a source without rows for the group is "no data" for the other functions."""
    import ibis  # only when computing: checking a measure needs no engine

    value, used = table[columns[0]].cast("float64"), table[columns[1]]
    absent = used.isnull()
    zero_ok = isinstance(spec, Aggregate) and spec.function in ZERO_WHEN_NONE_MATCH
    if zero_ok:
        value = ibis.ifelse(used.fill_null(0) > 0, value, 0.0)
    missing = value.isnull() | value.isnan()
    absent_reason = ibis.null("string") if zero_ok else ibis.literal(
        f"no rows of {spec.source} in this period for this team or employee")
    reason = ibis.cases((absent, absent_reason), (missing, ibis.literal(f"no rows for {_what(spec)}")),
                        else_=ibis.null("string"))
    return value, reason, used.fill_null(0)


def not_finite(value: Any) -> Any:
    """Whether a float value is NULL, NaN or ±inf."""
    return value.isnull() | value.isnan() | value.isinf()


def scaled(value: Any, reason: Any, rows: Any, measure: Measure) -> Valued:
    """The value × the measure's scale, "not a finite number" where it is not one, and the rows as integers."""
    import ibis

    value = value * measure.scale
    reason = ibis.ifelse(reason.isnull() & not_finite(value), ibis.literal("not a finite number"), reason)
    return value, reason, rows.cast("int64")


def single(table: ir.Table, measure: Measure, columns: Columns, field: str, spec: Aggregate | Duration) -> Valued:
    """The value of a measure of one aggregation (an aggregate or a duration)."""
    return scaled(*metric(table, columns[field], spec), measure)
