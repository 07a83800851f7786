"""Optional parts of kpi-workbook and the extra that installs each, so a missing one is named, never a traceback."""

from __future__ import annotations

__all__ = ["EXTRAS"]

# The module a missing optional part raises ImportError for → the extra of kpi-workbook that installs it.
EXTRAS = {
    "psycopg": "postgres",
    "ibis.backends.postgres": "postgres",
    "distributed": "dask",
}
