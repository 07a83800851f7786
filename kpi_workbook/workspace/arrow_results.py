"""A DuckDB query's result as an Arrow table, by the name each supported DuckDB version gives the method."""

from __future__ import annotations

__all__ = ["arrow_table"]

from typing import Any

import pyarrow as pa


def arrow_table(relation: Any) -> pa.Table:
    """The rows of a DuckDB relation as an Arrow table (DuckDB 2 calls it to_arrow_table, 1.x arrow)."""
    return (getattr(relation, "to_arrow_table", None) or relation.arrow)()
