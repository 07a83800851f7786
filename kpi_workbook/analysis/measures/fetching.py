"""Fetching a table of the local DuckDB connection as Arrow, with each text column that can only hold a few texts
written in the definitions (no-data and left-out reasons) as a dictionary column: DuckDB casts it to an ENUM of
those texts, so that neither side copies or hashes the same sentence for each of a million groups."""

from __future__ import annotations

__all__ = ["literal_texts", "to_arrow"]

import itertools
from typing import Any

import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa

from kpi_workbook.workspace.arrow_results import arrow_table

_names = itertools.count()


def literal_texts(expr: ir.Value) -> tuple[str, ...] | None:
    """The texts a text expression can take, in order of appearance, when they are all literals of the expression
    (NULL aside): the results of its CASEs, IFs and COALESCEs; None when any value may come from elsewhere."""
    found: dict[str, None] = {}
    return tuple(found) if _collect(expr.op(), found) else None


def _collect(node: ops.Node, found: dict[str, None]) -> bool:
    if isinstance(node, ops.Literal):
        if node.value is not None:
            found[str(node.value)] = None
        return True
    if isinstance(node, ops.SearchedCase | ops.SimpleCase):
        return all(_collect(result, found) for result in (*node.results, node.default))
    if isinstance(node, ops.IfElse):
        return _collect(node.true_expr, found) and _collect(node.false_null_expr, found)
    if isinstance(node, ops.Coalesce):
        return all(_collect(arg, found) for arg in node.arg)
    if isinstance(node, ops.Cast) and node.arg.dtype.is_string():
        return _collect(node.arg, found)
    return isinstance(node, ops.Cast) and isinstance(node.arg, ops.Literal) and node.arg.value is None


def to_arrow(con: Any, table: ir.Table, texts: dict[str, tuple[str, ...]]) -> pa.Table:
    """`table` (a query of the ibis DuckDB connection `con`) as Arrow, each column named in `texts` as a dictionary
    of its texts (a column whose texts are not all listed is an error of the engine, never a silent NULL)."""
    texts = {column: values for column, values in texts.items() if values}
    if not texts:
        return con.to_pyarrow(table)
    types: dict[tuple[str, ...], str] = {}
    for values in texts.values():
        if values not in types:
            types[values] = f"__kpi_texts_{next(_names)}"
            con.raw_sql(f"CREATE TYPE {types[values]} AS ENUM ({', '.join(_quoted(v) for v in values)})")
    view = f"__kpi_fetched_{next(_names)}"
    con.create_view(view, table)  # registers the in-memory tables the query reads
    casts = ", ".join(f"CAST({_identifier(c)} AS {types[v]}) AS {_identifier(c)}" for c, v in texts.items())
    relation = con.con.sql(f"SELECT * REPLACE ({casts}) FROM {_identifier(view)}")
    try:
        return arrow_table(relation)
    finally:
        con.raw_sql(f"DROP VIEW {_identifier(view)}")  # ibis 12's drop_view loses the name with sqlglot 30.18+


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
