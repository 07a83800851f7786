"""Fetching a computation's wide table: reason columns made only of written texts come back as dictionaries holding
exactly the same texts, on a real DuckDB connection."""

from __future__ import annotations

import ibis
import pandas as pd
import pyarrow as pa

from kpi_workbook.analysis.measures.fetching import literal_texts, to_arrow

FRAME = pd.DataFrame({"used": [3, 0, None, 2, 5], "value": [1.5, None, None, float("inf"), 2.0],
                      "home": ["a", "b", None, "a", "c"], "team": ["a", "a", "b", "a", "c"]})


def _reason(table: ibis.Table) -> ibis.Value:
    reason = ibis.cases((table.used.isnull(), ibis.literal("no rows of orders")),
                        (table.value.isnull(), ibis.literal("no rows for sum of 'amount'")), else_=ibis.null("string"))
    return ibis.ifelse(reason.isnull() & table.value.isinf(), ibis.literal("not a finite number"), reason)


def test_the_texts_of_a_reason_are_its_literals_in_order() -> None:
    table = ibis.memtable(FRAME)
    assert literal_texts(_reason(table)) == ("not a finite number", "no rows of orders", "no rows for sum of 'amount'")
    left_out = ibis.cases((table.home.isnull(), ibis.literal("unknown employee")),
                          (table.home != table.team, ibis.literal("another team")), else_=ibis.null("string"))
    assert literal_texts(left_out) == ("unknown employee", "another team")  # conditions may read columns


def test_a_text_that_may_come_from_a_column_has_no_fixed_texts() -> None:
    table = ibis.memtable(FRAME)
    assert literal_texts(table.home) is None
    assert literal_texts(table.home.fill_null("nobody")) is None
    assert literal_texts(ibis.ifelse(table.used > 0, table.team, ibis.literal("none"))) is None
    assert literal_texts(table.used.cast("string")) is None


def test_fetched_reasons_are_dictionaries_with_the_same_values() -> None:
    con = ibis.duckdb.connect()
    table = ibis.memtable(FRAME)
    query = table.select("team", reason=_reason(table), copy=table.home)
    plain = con.to_pyarrow(query)
    fetched = to_arrow(con, query, {"reason": literal_texts(_reason(table)) or (), "absent": ()})
    assert pa.types.is_dictionary(fetched.schema.field("reason").type)
    assert fetched["reason"].to_pylist() == plain["reason"].to_pylist() == [
        None, "no rows for sum of 'amount'", "no rows of orders", "not a finite number", None]
    assert fetched.drop_columns("reason").equals(plain.drop_columns("reason"))
    views = con.con.sql("SELECT view_name FROM duckdb_views() WHERE view_name LIKE '__kpi_%'").fetchall()
    assert views == []  # the view it reads through is gone
