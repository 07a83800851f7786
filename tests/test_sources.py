"""Reading sources strictly: sources.yaml, date formats, team names, and every kind of bad source."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import openpyxl
import pandas as pd
import pytest
from measure_fixtures import measured_framework, write_workspace

from kpi_workbook.core.errors import InputError
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.workspace.sources import EMPLOYEE, TEAM, WHEN, fold, load_sources, read_source

EMPLOYEES = pd.DataFrame({"employee_id": ["E1", "E2", "R1"], "name": ["Ann", "Bo", "Rui"],
                          "team": ["sales", "sales", "rd"], "role": ["seller"] * 3})
FRAMEWORK = measured_framework()


def source_yaml(**fields: object) -> str:
    base = {"name": "orders", "file": "orders.csv", "when": "day", "employee": "owner",
            "columns": {"amount": "number"}} | fields
    base = {k: v for k, v in base.items() if v is not None}
    lines = ["sources:", "- " + "\n  ".join(f"{k}: {v!r}" if isinstance(v, str) else f"{k}: {v}"
                                             for k, v in base.items())]
    return "\n".join(lines) + "\n"


def read(tmp_path: Path, csv_text: str, **fields: object) -> pd.DataFrame:
    (tmp_path / "orders.csv").write_text(csv_text, encoding="utf-8")
    (tmp_path / "sources.yaml").write_text(source_yaml(**fields), encoding="utf-8")
    source = load_sources(tmp_path)["orders"]
    return read_source(source, tmp_path, FRAMEWORK, EMPLOYEES, ibis.duckdb.connect()).table.execute()


def problems(tmp_path: Path, csv_text: str, **fields: object) -> str:
    with pytest.raises(InputError) as caught:
        read(tmp_path, csv_text, **fields)
    return str(caught.value)


def test_several_date_formats_each_value_matching_one(tmp_path):
    table = read(tmp_path, "owner,day,amount\nE1,2025-01-31,1\nE1,4/15/2017,2\nE2,11-08-16,3\n",
                 date_formats=["%Y-%m-%d", "%m/%d/%Y", "%d-%m-%y"])
    assert list(pd.to_datetime(table[WHEN]).dt.date) == [dt.date(2025, 1, 31), dt.date(2017, 4, 15),
                                                           dt.date(2016, 8, 11)]
    assert list(table[TEAM]) == ["sales", "sales", "sales"] and list(table[EMPLOYEE]) == ["E1", "E1", "E2"]


def test_an_unparseable_date_is_named_with_its_row_and_the_formats(tmp_path):
    text = problems(tmp_path, "owner,day,amount\nE1,2025-01-31,1\nE1,31.01.2025,2\n")
    assert "orders.csv, row 3, field 'day': not a date in the format %Y-%m-%d (got '31.01.2025')" in text


def test_a_date_two_formats_read_differently_is_ambiguous_never_guessed(tmp_path):
    text = problems(tmp_path, "owner,day,amount\nE1,03/04/2025,1\n", date_formats=["%m/%d/%Y", "%d/%m/%Y"])
    assert "row 2, field 'day': ambiguous date" in text


def test_an_empty_when_cell_is_an_error(tmp_path):
    assert "row 2, field 'day': no date in the `when` column" in problems(tmp_path, "owner,day,amount\nE1,,1\n")


def test_text_in_a_number_column(tmp_path):
    text = problems(tmp_path, "owner,day,amount\nE1,2025-01-01,12%\nE1,2025-01-02,1,200\nE1,2025-01-03,abc\n")
    assert "row 2, field 'amount': not a number" in text and "(got '12%')" in text
    assert "row 4, field 'amount': not a number" in text


def test_a_missing_column_suggests_the_closest(tmp_path):
    text = problems(tmp_path, "owner,day,amont\nE1,2025-01-01,1\n")
    assert "orders.csv, field 'amount': missing column; did you mean 'amont'?" in text


def test_an_empty_source(tmp_path):
    assert "empty source: no rows below the header" in problems(tmp_path, "owner,day,amount\n")
    assert "empty source: no header row" in problems(tmp_path, "")


def test_unknown_employee(tmp_path):
    text = problems(tmp_path, "owner,day,amount\nX9,2025-01-01,1\n")
    assert "row 2, field 'owner': unknown employee (not in employees.csv) (got 'X9')" in text


def test_team_names_match_without_case_or_accents(tmp_path):
    table = read(tmp_path, "region,day,amount\nSALES WEST,2025-01-01,1\nrecherche & developpement,2025-01-01,2\n",
                 employee=None, team="region", team_match="name")
    assert list(table[TEAM]) == ["sales", "rd"]
    assert fold("Recherche & Développement") == "recherche & developpement"


def test_an_unknown_team_value_lists_the_closest_ids(tmp_path):
    text = problems(tmp_path, "region,day,amount\nSales Wst,2025-01-01,1\n", employee=None, team="region",
                    team_match="name")
    assert "row 2, field 'region': unknown team 'Sales Wst'" in text and "closest team ids: sales" in text


def test_team_map_and_ids(tmp_path):
    table = read(tmp_path, "region,day,amount\nWest,2025-01-01,1\nrd,2025-01-01,2\n", employee=None,
                 team="region", team_map={"West": "sales"})
    assert list(table[TEAM]) == ["sales", "rd"]


def test_a_team_map_to_an_unknown_team_is_refused(tmp_path):
    text = problems(tmp_path, "region,day,amount\nWest,2025-01-01,1\n", employee=None, team="region",
                    team_map={"West": "sails"})
    assert "sources.yaml, source 'orders', field 'team_map.West': 'sails' is not a team id" in text


def test_sources_yaml_is_strict(tmp_path):
    (tmp_path / "sources.yaml").write_text("sources:\n- name: orders\n  file: a.csv\n  wen: day\n  team: t\n")
    with pytest.raises(InputError, match=r"sources.yaml, source 'orders', field 'wen'"):
        load_sources(tmp_path)
    (tmp_path / "sources.yaml").write_text("sources:\n- name: orders\n  file: a.csv\n  team: t\n")
    with pytest.raises(InputError, match=r"give `when` \(a date column\), `period`"):
        load_sources(tmp_path)


def test_excel_and_parquet_sources_read_the_same_records(tmp_path):
    rows = [("E1", dt.date(2025, 1, 5), 1.5), ("R1", dt.date(2025, 4, 2), 2.0)]
    book = openpyxl.Workbook()
    book.active.append(["owner", "day", "amount"])
    for row in rows:
        book.active.append(list(row))
    book.save(tmp_path / "orders.xlsx")
    excel = read(tmp_path, "unused\n", file="orders.xlsx")
    pd.DataFrame(rows, columns=["owner", "day", "amount"]).to_parquet(tmp_path / "orders.parquet")
    parquet = read(tmp_path, "unused\n", file="orders.parquet")
    for table in (excel, parquet):
        assert list(table[TEAM]) == ["sales", "rd"] and list(table["amount"]) == [1.5, 2.0]
        assert list(pd.to_datetime(table[WHEN]).dt.date) == [r[1] for r in rows]


def test_a_parquet_column_of_the_wrong_type(tmp_path):
    pd.DataFrame({"owner": ["E1"], "day": ["2025-01-01"], "amount": [1.0]}).to_parquet(tmp_path / "o.parquet")
    assert "field 'day': declared date but the column holds string" in problems(tmp_path, "x\n", file="o.parquet")


def test_unknown_employees_of_a_parquet_source_are_listed_by_row_count_highest_first(tmp_path):
    owners = ["E1", "X2", "X1", "X1", None, "X2", "X1", "E2"]
    pd.DataFrame({"owner": owners, "day": [dt.date(2025, 1, 5)] * len(owners),
                  "amount": [1.0] * len(owners)}).to_parquet(tmp_path / "o.parquet")
    text = problems(tmp_path, "x\n", file="o.parquet")
    lines = [line for line in text.splitlines() if "unknown employee" in line]
    assert [line.split("(got ")[1] for line in lines] == ["'X1' in 3 rows)", "'X2' in 2 rows)"]
    assert "o.parquet, field 'owner': no employee id (got an empty cell in 1 of 8 rows)" in text


def test_empty_when_and_team_cells_of_a_parquet_source_are_errors_with_their_counts(tmp_path):
    days = [dt.date(2025, 1, 5), None, None, dt.date(2025, 2, 1)]
    pd.DataFrame({"day": days, "region": ["sales", None, "rd", "sales"],
                  "amount": [1.0] * 4}).to_parquet(tmp_path / "o.parquet")
    text = problems(tmp_path, "x\n", file="o.parquet", employee=None, team="region")
    assert ("o.parquet, field 'day': no date in the `when` column (give skip_undated: true to leave such rows out) "
            "(got an empty cell in 2 of 4 rows)") in text
    assert "o.parquet, field 'region': no team (got an empty cell in 1 of 4 rows)" in text
    assert "unknown team" not in text


def test_an_empty_team_cell_of_a_file_is_no_team_not_an_unknown_one(tmp_path):
    text = problems(tmp_path, "region,day,amount\nsales,2025-01-01,1\n,2025-01-02,2\n", employee=None,
                    team="region")
    assert "orders.csv, row 3, field 'region': no team (got '')" in text and "unknown team" not in text


def test_known_employees_of_a_parquet_source_read_with_their_teams(tmp_path):
    pd.DataFrame({"owner": ["R1", "E2"], "day": [dt.date(2025, 1, 5)] * 2,
                  "amount": [1.0, 2.0]}).to_parquet(tmp_path / "o.parquet")
    table = read(tmp_path, "x\n", file="o.parquet").sort_values("amount")
    assert list(table[EMPLOYEE]) == ["R1", "E2"] and list(table[TEAM]) == ["rd", "sales"]


def test_the_sample_style_workspace_reads(tmp_path):
    root = write_workspace(tmp_path / "ws")
    assert set(load_sources(root)) == {"deals", "headcount"}


def test_a_bad_snapshot_period_names_the_field_and_the_value(tmp_path):
    (tmp_path / "sources.yaml").write_text(source_yaml(when=None, period="2025-Q5"), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_sources(tmp_path)
    text = str(caught.value)
    assert "sources.yaml, source 'orders', field 'period': '2025-Q5' is not a period; write e.g." in text
    assert text.endswith("(got '2025-Q5')") and "Value error" not in text


def test_unknown_teams_of_a_parquet_source_say_how_many_rows_each(tmp_path):
    regions = ["Sales West", "Northwest", "Atlantis", "Northwest"]
    pd.DataFrame({"day": [dt.date(2025, 1, 5)] * 4, "region": regions,
                  "amount": [1.0] * 4}).to_parquet(tmp_path / "o.parquet")
    lines = problems(tmp_path, "x\n", file="o.parquet", employee=None, team="region", team_match="name").splitlines()
    assert [line.split(": not a team name")[0].split("field 'region': ")[1] for line in lines] == [
        "unknown team 'Northwest' in 2 rows", "unknown team 'Atlantis' in 1 row"]


def _problems_of(tmp_path: Path, csv_text: str) -> list[tuple[int | None, str, Code]]:
    with pytest.raises(InputError) as caught:
        read(tmp_path, csv_text)
    return [(p.row, p.field, p.code) for p in caught.value.problems]


def test_a_file_source_is_read_by_the_shared_reader_and_its_problems_are_coded(tmp_path):
    assert _problems_of(tmp_path, "") == [(None, "", Code.INPUT_EMPTY)]
    assert _problems_of(tmp_path, "owner,day,amount\n") == [(None, "", Code.INPUT_EMPTY)]
    assert _problems_of(tmp_path, "owner,day,day,amount\nE1,2025-01-01,x,1\n") == [(1, "header", Code.INPUT_HEADER)]
    assert _problems_of(tmp_path, "owner,day\nE1,2025-01-01\n") == [(None, "amount", Code.INPUT_HEADER)]
    assert _problems_of(tmp_path, "owner;day;amount\n\nE1;2025-01-01;x\n") == [(3, "amount", Code.INPUT_INVALID)]
    table = read(tmp_path, "owner;day;amount\n\nE1;2025-01-01;1\n")
    assert list(table["amount"]) == [1.0]


def test_a_source_file_that_is_not_utf8_is_coded(tmp_path):
    (tmp_path / "sources.yaml").write_text(source_yaml(), encoding="utf-8")
    (tmp_path / "orders.csv").write_bytes("owner,day,amount\nJos\xe9,2025-01-01,1\n".encode("latin-1"))
    with pytest.raises(InputError) as caught:
        read_source(load_sources(tmp_path)["orders"], tmp_path, FRAMEWORK, EMPLOYEES, ibis.duckdb.connect())
    assert [(p.file, p.code) for p in caught.value.problems] == [("orders.csv", Code.INPUT_ENCODING)]
