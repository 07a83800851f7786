"""The aggregate kind: one aggregation of a source's rows (sum, count, mean, ..., headcount)."""

from __future__ import annotations

import ibis.expr.types as ir

from kpi_workbook.analysis.measures.kinds.base import Columns, Valued, parts_misfits, single
from kpi_workbook.analysis.measures.shapes import Misfit
from kpi_workbook.core.measures import Aggregate, Measure
from kpi_workbook.workspace.sources import Source

FIELD = "aggregate"


class AggregateKind:
    """`aggregate: {source, function, column, where, date, at, per_entity}`."""

    name = FIELD

    def parts(self, measure: Measure) -> list[tuple[str, Aggregate]]:
        return [(FIELD, measure.aggregate)]

    def misfits(self, measure: Measure, sources: dict[str, Source]) -> list[Misfit]:
        return parts_misfits(self, measure, sources)

    def value(self, table: ir.Table, measure: Measure, columns: Columns) -> Valued:
        return single(table, measure, columns, FIELD, measure.aggregate)

    def describe(self, measure: Measure) -> str:
        return measure.aggregate.describe()
