"""kpi-workbook: a guided Jupyter workbook for role-based KPI frameworks.

The names below are imported on first use, so that importing any part of the package (the command line's start,
for one) does not build the framework's pydantic models first.
"""

from __future__ import annotations

__all__ = ["Framework", "InputError", "KpiWorkbookError", "Problem", "load_framework", "save_framework"]

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kpi_workbook.core.errors import InputError, KpiWorkbookError, Problem
    from kpi_workbook.core.model import Framework
    from kpi_workbook.workspace.files import load_framework, save_framework

_MODULES = {
    "Framework": "kpi_workbook.core.model",
    "InputError": "kpi_workbook.core.errors",
    "KpiWorkbookError": "kpi_workbook.core.errors",
    "Problem": "kpi_workbook.core.errors",
    "load_framework": "kpi_workbook.workspace.files",
    "save_framework": "kpi_workbook.workspace.files",
}
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """One of __all__, imported from its module the first time it is asked for."""
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_MODULES[name]), name)
