"""Computed KPIs: measures compiled to ibis expressions, evaluated per period and team or employee, and stored."""

from kpi_workbook.analysis.measures.compute import Computation, changes, compute, span_of, write
from kpi_workbook.analysis.measures.evaluate import Evaluation, evaluate_measure

__all__ = ["Computation", "Evaluation", "changes", "compute", "evaluate_measure", "span_of", "write"]
