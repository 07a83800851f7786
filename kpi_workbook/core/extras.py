"""Optional parts of kpi-workbook and the extra that installs each: a missing one is named, never a traceback."""

from __future__ import annotations

import importlib
from types import ModuleType

from kpi_workbook.core.errors import KpiWorkbookError

EXTRAS = {
    "psycopg2": "postgres",
    "ibis.backends.postgres": "postgres",
    "distributed": "dask",
}


class MissingExtraError(KpiWorkbookError):
    """An optional dependency is not installed; the message names the extra that installs it."""


def require(module: str, purpose: str) -> ModuleType:
    """Import `module` for `purpose`, or raise MissingExtraError naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRAS.get(module, "")
        how = f"pip install 'kpi-workbook[{extra}]'" if extra else f"pip install {module.split('.')[0]}"
        raise MissingExtraError(f"{purpose} needs the optional package '{module}', which is not installed: {how}") \
            from None
