"""kpi-workbook: a guided Jupyter workbook for role-based KPI frameworks."""

from kpi_workbook.core.errors import InputError, KpiWorkbookError, Problem
from kpi_workbook.core.model import Framework
from kpi_workbook.workspace.files import load_framework, save_framework

__all__ = ["Framework", "InputError", "KpiWorkbookError", "Problem", "load_framework", "save_framework"]
__version__ = "0.1.0"
