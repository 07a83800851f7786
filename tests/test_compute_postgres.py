"""One definition, any engine: the same measures on the same records in a real PostgreSQL server and in DuckDB."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from measure_fixtures import write_workspace

from kpi_workbook.analysis.measures import compute
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import load_framework
from kpi_workbook.workspace.sources import load_sources, read_text_source

KEYS = ["period", "team", "employee_id", "kpi_id"]


SQL_TYPES = {"number": "double precision", "integer": "bigint", "text": "text", "date": "date",
             "datetime": "timestamp"}


def _load_into_postgres(root: Path, url: str) -> None:
    """The workspace's file sources, read strictly, as tables of the same names and types in PostgreSQL."""
    import psycopg

    framework = load_framework(root)
    employees = load_employees(root, framework)
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as con:
        for source in load_sources(root).values():
            frame = read_text_source(source, root, framework, employees)
            original = pd.read_csv(root / source.file, dtype=str, keep_default_na=False)
            types = {c: "text" for c in (source.employee, source.team) if c}
            types |= {c: SQL_TYPES[k.value] for c, k in source.value_types.items()}
            table = pd.DataFrame({c: original[c] if c in (source.employee, source.team) else frame[c]
                                  for c in types})
            for column, kind in source.value_types.items():
                if kind.value == "date":
                    table[column] = pd.to_datetime(table[column]).dt.date
            con.execute(f"DROP TABLE IF EXISTS {source.name}")
            con.execute(f"CREATE TABLE {source.name} (" + ", ".join(f"{c} {t}" for c, t in types.items()) + ")")
            rows = [tuple(None if pd.isna(v) else v.item() if hasattr(v, "item") else v for v in row)
                    for row in table.itertuples(index=False)]
            with con.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {source.name} VALUES ({', '.join(['%s'] * len(types))})", rows)


def _database_sources(root: Path, url: str) -> str:
    text = (root / "sources.yaml").read_text(encoding="utf-8")
    return text.replace("file: exports/deals.csv", f"url: {url}\n  table: deals").replace(
        "file: exports/headcount.csv", f"url: {url}\n  table: headcount")


def test_postgres_and_duckdb_compute_identical_values(tmp_path, postgres_url):
    local = write_workspace(tmp_path / "local")
    _load_into_postgres(local, postgres_url)
    remote = write_workspace(tmp_path / "remote", sources=_database_sources(local, postgres_url))
    framework = load_framework(local)
    employees = load_employees(local, framework)
    on_duckdb = compute(local, framework, employees)
    on_postgres = compute(remote, framework, employees)
    columns = [*KEYS, "value", "source_rows"]
    left = on_duckdb.values[columns].sort_values(KEYS).reset_index(drop=True)
    right = on_postgres.values[columns].sort_values(KEYS).reset_index(drop=True)
    assert len(left) == 53  # 38 from rows, 15 zeros of people and teams without a row in a covered quarter
    pd.testing.assert_frame_equal(left, right, check_exact=True)
    pd.testing.assert_frame_equal(on_duckdb.no_data.sort_values(KEYS).reset_index(drop=True),
                                  on_postgres.no_data.sort_values(KEYS).reset_index(drop=True))
