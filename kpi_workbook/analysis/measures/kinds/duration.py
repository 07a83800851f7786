"""The duration kind: the time from one date column to another of each row, aggregated."""

from __future__ import annotations

import ibis.expr.types as ir

from kpi_workbook.analysis.measures.kinds.base import Columns, Valued, parts_misfits, single
from kpi_workbook.analysis.measures.shapes import Misfit
from kpi_workbook.core.measures import Duration, Measure
from kpi_workbook.workspace.sources import Source

FIELD = "duration"


class DurationKind:
    """`duration: {source, start, end, function, unit, where, per_entity}`."""

    name = FIELD

    def parts(self, measure: Measure) -> list[tuple[str, Duration]]:
        return [(FIELD, measure.duration)]

    def misfits(self, measure: Measure, sources: dict[str, Source]) -> list[Misfit]:
        return parts_misfits(self, measure, sources)

    def value(self, table: ir.Table, measure: Measure, columns: Columns) -> Valued:
        return single(table, measure, columns, FIELD, measure.duration)

    def describe(self, measure: Measure) -> str:
        return measure.duration.describe()
