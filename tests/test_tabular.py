"""The one tabular reader: CSV and Excel files read as text with their row numbers, and coded errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.workspace.employees import read_employees
from kpi_workbook.workspace.scratch import Scratch
from kpi_workbook.workspace.tabular import cell_text, first_row, named_twice, read_cells, read_table

NO_HEADER = Problem(file="t.csv", message="no header row", code=Code.INPUT_EMPTY)


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_cell_text_is_one_rule_for_every_cell():
    assert [cell_text(v) for v in (None, 3.0, 2.5, " a ", dt.date(2025, 1, 2), dt.datetime(2025, 1, 2, 0, 0))] == [
        "", "3", "2.5", "a", "2025-01-02", "2025-01-02"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_a_csv_table_keeps_row_numbers_across_blank_lines_and_short_rows(tmp_path, delimiter):
    text = "a,b,c\n1,,3\n\n4\n5,6,7,8,9\n".replace(",", delimiter)
    table = read_table(_csv(tmp_path / "t.csv", text), "t.csv", first_row(NO_HEADER))
    assert table.names == ["a", "b", "c"] and table.header == 1
    assert table.frame.index.tolist() == [2, 4, 5]
    assert table.frame.values.tolist() == [["1", "", "3"], ["4", None, None], ["5", "6", "7"]]
    assert table.extra.tolist() == ["", "", "8 | 9"]


def test_a_quoted_line_break_is_numbered_as_the_csv_module_numbers_it(tmp_path):
    table = read_table(_csv(tmp_path / "t.csv", 'a,b\n"x\ny",1\nz,2\n'), "t.csv", first_row(NO_HEADER))
    assert table.frame.index.tolist() == [2, 3] and table.frame["a"].tolist() == ["x\ny", "z"]


def test_an_excel_table_keeps_cell_values_and_read_cells_makes_them_text(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["day", "amount"])
    book.active.append([dt.date(2025, 1, 5), 2.0])
    book.save(tmp_path / "t.xlsx")
    table = read_table(tmp_path / "t.xlsx", "t.xlsx", first_row(NO_HEADER))
    assert table.frame.loc[2].tolist() == [dt.datetime(2025, 1, 5), 2]
    with Scratch() as scratch:
        cells = read_cells(tmp_path / "t.xlsx", "t.xlsx", scratch, first_row(NO_HEADER), 20)
        assert (cells.names, cells.header, cells.done) == (["day", "amount"], 1, False)
        assert scratch.frame("SELECT row, c0, c1 FROM cells").values.tolist() == [[2, "2025-01-05", "2"]]


@pytest.mark.parametrize(("content", "code"), [
    (b"", Code.INPUT_EMPTY),
    ("a,b\ncaf\xe9,1\n".encode("latin-1"), Code.INPUT_ENCODING),
    (b'a,b\n"' + b"9" * 200_000 + b'",1\n', Code.INPUT_NOT_CSV),
])
def test_a_csv_file_that_cannot_be_read_is_coded(tmp_path, content, code):
    (tmp_path / "t.csv").write_bytes(content)
    with pytest.raises(InputError) as caught:
        read_table(tmp_path / "t.csv", "t.csv", first_row(NO_HEADER))
    assert [p.code for p in caught.value.problems] == [code]


def test_workbooks_that_cannot_be_read_are_coded(tmp_path):
    for name in ("fake.xlsx", "old.xls"):
        (tmp_path / name).write_bytes(b"not a zip file")
        with pytest.raises(InputError) as caught:
            read_table(tmp_path / name, name, first_row(NO_HEADER))
        assert [p.code for p in caught.value.problems] == [Code.INPUT_NOT_A_WORKBOOK], name
    book = openpyxl.Workbook()
    book.save(tmp_path / "t.xlsx")
    with pytest.raises(InputError, match="no sheet 'Data'") as caught:
        read_table(tmp_path / "t.xlsx", "t.xlsx", first_row(NO_HEADER), sheet="Data")
    assert caught.value.problems[0].code is Code.INPUT_SHEET


def test_a_column_named_twice_names_the_header_row():
    [problem] = named_twice("t.csv", 1, ["a", "b", "a"]).problems
    assert (problem.row, problem.field, problem.code) == (1, "header", Code.INPUT_HEADER)
    assert named_twice("t.csv", 1, ["a", "b"]) is None


def test_employees_csv_is_read_by_the_same_reader(tmp_path):
    _csv(tmp_path / "employees.csv", "employee_id;name;team;role\n007;Ann;sales;ae\n\nE2;Bo;sales;ae\n")
    assert read_employees(tmp_path).values.tolist() == [["007", "Ann", "sales", "ae"], ["E2", "Bo", "sales", "ae"]]
    _csv(tmp_path / "employees.csv", "employee_id,name,team,role\nE1,Ann,sales,ae,extra\n")
    with pytest.raises(InputError) as caught:
        read_employees(tmp_path)
    assert [(p.row, p.code) for p in caught.value.problems] == [(2, Code.INPUT_NOT_CSV)]
    _csv(tmp_path / "employees.csv", "employee_id,name,team\nE1,Ann,sales\n")
    with pytest.raises(InputError) as caught:
        read_employees(tmp_path)
    assert [(p.row, p.code) for p in caught.value.problems] == [(1, Code.INPUT_HEADER)]
