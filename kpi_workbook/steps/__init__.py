"""One module per step notebook (01 strategic goals … 05 review), and the context a step notebook opens."""

__all__ = ["StepContext", "open_step"]

from kpi_workbook.steps.context import StepContext, open_step
