"""Computed KPIs: measures compiled to ibis expressions, evaluated per period and team or employee, and stored.

The engine (ibis and what it compiles to) loads on first use of these names: checking a measure against its sources
(`kinds`, `shapes`), as validation and the step notebooks do, loads none of it.
"""

from __future__ import annotations

__all__ = ["Computation", "changes", "compute", "span_of", "write"]

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpi_workbook.analysis.measures.collect import Computation
    from kpi_workbook.analysis.measures.levels import compute
    from kpi_workbook.analysis.measures.plan import span_of
    from kpi_workbook.analysis.measures.storing import changes, write

#: The module of each name above.
_MODULES = {"Computation": "collect", "compute": "levels", "span_of": "plan", "changes": "storing",
            "write": "storing"}


def __getattr__(name: str) -> Any:
    """A name of `__all__`, imported from its module when first asked for."""
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    globals()[name] = value
    return value
