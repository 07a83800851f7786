"""Computed KPIs: measures compiled to ibis expressions, evaluated per period and team or employee, and stored."""

__all__ = ["Computation", "changes", "compute", "span_of", "write"]

from kpi_workbook.analysis.measures.changes import changes, write
from kpi_workbook.analysis.measures.collect import Computation
from kpi_workbook.analysis.measures.compute import compute
from kpi_workbook.analysis.measures.plan import span_of
