"""Team exports: Excel and CSV on the sample organization, formula injection, privacy, atomic writes, CLI."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from cli_in_process import run_cli_in_process

from kpi_workbook.analysis.review import FLAG_COLUMNS
from kpi_workbook.core.errors import InputError, UnknownTeamError
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.reports.excel import STATUS_FILLS, export_team, team_tables, write_csv, write_excel
from kpi_workbook.reports.safe_cells import FORMULA_PREFIXES
from kpi_workbook.sample import generate_actuals, generate_employees, quarter_labels, write_sample
from kpi_workbook.workspace.files import load_framework

PERIODS = quarter_labels("2024Q1", 8)
MALICIOUS = ['=HYPERLINK("http://evil.example","click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
             "\t=1+1", "\r=1+1"]
EVIL_KPI_NAME = "=cmd|' /C calc'!A0"


@pytest.fixture(scope="module")
def sample():
    framework = load_framework(SAMPLE_ORG_DIR)
    next(k for k in framework.kpis if k.id == "win_rate").name = EVIL_KPI_NAME
    employees = generate_employees(framework, 180, 42)
    sales = employees.index[employees["team"] == "sales"][: len(MALICIOUS)]
    employees.loc[sales, "name"] = MALICIOUS
    other = employees.index[employees["team"] == "hr"][0]
    employees.loc[other, "name"] = "Hr Only Person"
    actuals = generate_actuals(framework, employees, PERIODS, 42)
    return framework, employees, actuals


@pytest.fixture(scope="module")
def sales_tables(sample):
    return team_tables(*sample, "sales")


def cell_values(path: Path) -> list[tuple[str, openpyxl.cell.Cell]]:
    book = openpyxl.load_workbook(path)
    return [(sheet.title, cell) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def test_team_tables_hold_only_the_team(sample, sales_tables):
    framework, employees, _ = sample
    assert list(sales_tables) == ["Scorecard", "KPI definitions", "Targets", "Flags"]
    sales_people = set(employees.loc[employees["team"] == "sales", "employee_id"])
    card = sales_tables["Scorecard"]
    assert set(card["employee_id"]) == sales_people and set(card["team"]) == {"sales"}
    assert (card["period"] == PERIODS[-1]).all()
    roles = {r.id for r in framework.roles_of_team("sales")}
    assert set(sales_tables["Targets"]["role"]) == roles
    assert set(sales_tables["Flags"]["team"]) <= {"sales"}
    assert list(sales_tables["Flags"].columns) == FLAG_COLUMNS
    assert {"probability", "current_probability", "verdict"} <= set(sales_tables["Targets"].columns)
    assert "win_rate" in set(sales_tables["KPI definitions"]["id"])
    assert "time_to_hire" not in set(sales_tables["KPI definitions"]["id"])


def test_excel_export_neutralizes_formulas_and_keeps_numbers(sales_tables, tmp_path):
    path = write_excel(sales_tables, tmp_path / "sales.xlsx")
    cells = cell_values(path)
    assert not [c.coordinate for _, c in cells if c.data_type == "f"]
    texts = {c.value for _, c in cells if isinstance(c.value, str)}
    for text in MALICIOUS + [EVIL_KPI_NAME]:
        stored = text.replace("\r", "\n")  # XML keeps no bare carriage return
        assert "'" + stored in texts and stored not in texts
    book = openpyxl.load_workbook(path)
    card = book["Scorecard"]
    header = [c.value for c in card[1]]
    value = card.cell(row=2, column=header.index("value") + 1)
    assert isinstance(value.value, float)
    assert "Hr Only Person" not in texts


def test_excel_layout_frozen_header_widths_and_rag_fills(sales_tables, tmp_path):
    path = write_excel(sales_tables, tmp_path / "sales.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Scorecard", "KPI definitions", "Targets", "Flags"]
    card = book["Scorecard"]
    assert card.freeze_panes == "A2" and card["A1"].font.bold
    header = [c.value for c in card[1]]
    name_column = openpyxl.utils.get_column_letter(header.index("kpi_name") + 1)
    assert card.column_dimensions[name_column].width > len("kpi_name") + 2
    status = header.index("status") + 1
    seen = set()
    for row in range(2, card.max_row + 1):
        cell = card.cell(row=row, column=status)
        assert cell.fill.start_color.rgb.endswith(STATUS_FILLS[cell.value])
        seen.add(cell.value)
    assert {"green", "red"} <= seen
    targets = book["Targets"]
    header = [c.value for c in targets[1]]
    assert targets.cell(row=2, column=header.index("probability") + 1).number_format == "0%"


def test_csv_export_neutralizes_and_keeps_the_team(sales_tables, tmp_path):
    files = write_csv(sales_tables, tmp_path / "sales")
    assert [f.name for f in files] == ["scorecard.csv", "kpi_definitions.csv", "targets.csv", "flags.csv"]
    card = pd.read_csv(files[0], dtype=str, keep_default_na=False)
    names = set(card["name"])
    for text in MALICIOUS:
        assert "'" + text in names and text not in names
    assert "Hr Only Person" not in names
    assert not any(v.startswith(FORMULA_PREFIXES) for column in ("name", "kpi_name", "role") for v in card[column])
    assert len(card) == len(sales_tables["Scorecard"])


def test_failed_excel_write_leaves_the_old_file_and_no_temporaries(sales_tables, tmp_path):
    path = tmp_path / "sales.xlsx"
    write_excel(sales_tables, path)
    before = path.read_bytes()
    with pytest.raises(ValueError):
        write_excel({"Scorecard": sales_tables["Scorecard"], "bad/name": sales_tables["Flags"]}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sales.xlsx"]


def test_export_team_checks_team_period_and_format(sample, tmp_path):
    framework, employees, actuals = sample
    with pytest.raises(UnknownTeamError, match="unknown team 'nope'. Valid teams: customer_support"):
        export_team(framework, employees, actuals, "nope", tmp_path / "x.xlsx")
    with pytest.raises(InputError, match="no scores for period '2030Q1'"):
        export_team(framework, employees, actuals, "hr", tmp_path / "x.xlsx", period="2030Q1")
    with pytest.raises(ValueError, match="unknown export format"):
        export_team(framework, employees, actuals, "hr", tmp_path / "x.pdf", fmt="pdf")
    with pytest.raises(InputError, match="no actuals for team 'hr'"):
        export_team(framework, employees, actuals[actuals["team"] != "hr"], "hr", tmp_path / "x.xlsx")
    assert not any(tmp_path.iterdir())
    files = export_team(framework, employees, actuals, "hr", tmp_path / "hr.xlsx", period="2025Q2")
    card = pd.read_excel(files[0], sheet_name="Scorecard")
    assert set(card["period"]) == {"2025Q2"} and set(card["team"]) == {"hr"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("export") / "ws"
    write_sample(root)
    return root


def test_cli_export_xlsx_and_csv(workspace, tmp_path, cli):
    out = tmp_path / "reports" / "it.xlsx"
    code, stdout, err = cli("export", "--workspace", workspace, "--team", "it", "--out", out)
    assert code == 0, err
    assert f"wrote {out}" in stdout
    card = pd.read_excel(out, sheet_name="Scorecard", dtype={"employee_id": str})
    people = pd.read_csv(workspace / "employees.csv", dtype=str)
    assert set(card["employee_id"]) == set(people.loc[people["team"] == "it", "employee_id"])
    folder = tmp_path / "it_csv"
    code, _, err = cli("export", "--workspace", workspace, "--team", "it", "--out", folder, "--format", "csv",
                       "--period", "2025Q1")
    assert code == 0, err
    assert set(pd.read_csv(folder / "scorecard.csv")["period"]) == {"2025Q1"}


def test_cli_export_unknown_team_exits_2(workspace, tmp_path, cli):
    code, _, err = cli("export", "--workspace", workspace, "--team", "legal", "--out", tmp_path / "x.xlsx")
    assert code == 2
    assert "unknown team 'legal'" in err and "Traceback" not in err
    assert not (tmp_path / "x.xlsx").exists()


def test_cli_export_all_teams_writes_one_private_workbook_per_team(workspace, tmp_path, cli):
    code, _, err = cli("export", "--workspace", workspace, "--all-teams", "--out", tmp_path)
    assert code == 0, err
    people = pd.read_csv(workspace / "employees.csv", dtype=str)
    teams = load_framework(workspace).teams
    assert sorted(p.name for p in tmp_path.glob("*.xlsx")) == sorted(f"{t.id}.xlsx" for t in teams)
    for team in teams:
        card = pd.read_excel(tmp_path / f"{team.id}.xlsx", sheet_name="Scorecard", dtype={"employee_id": str})
        assert set(card["employee_id"]) <= set(people.loc[people["team"] == team.id, "employee_id"])


def test_cli_export_needs_exactly_one_of_team_and_all_teams(workspace, tmp_path, cli):
    for extra in ([], ["--team", "it", "--all-teams"]):
        code, _, err = cli("export", "--workspace", workspace, "--out", tmp_path / "x", *extra)
        assert code == 2 and "--all-teams" in err and "Traceback" not in err


def test_cli_export_all_teams_on_a_full_disk_writes_no_team(workspace, small_filesystem, tmp_path):
    disk = small_filesystem("disk", size="60k")  # room for a team or two, not for every team
    code, out, err = run_cli_in_process("export", "--workspace", str(workspace), "--all-teams", "--out",
                                        str(disk / "x"))
    assert code == 2 and "Traceback" not in out + err
    assert f"error: {disk / 'x'}: cannot write the export (No space left on device); nothing was written" in err
    assert list(disk.iterdir()) == []


def test_cli_export_all_teams_replaces_an_earlier_export_whole(workspace, tmp_path):
    out = tmp_path / "exports"
    for _ in range(2):
        code, stdout, err = run_cli_in_process("export", "--workspace", str(workspace), "--all-teams", "--out",
                                               str(out), "--format", "csv")
        assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports"]  # no staging folder left
    teams = sorted(t.id for t in load_framework(workspace).teams)
    assert sorted(p.name for p in out.iterdir()) == teams
    assert f"wrote {out / teams[0] / 'scorecard.csv'}" in stdout


def test_cli_export_all_teams_into_a_file_is_refused(workspace, tmp_path):
    taken = tmp_path / "taken.xlsx"
    taken.write_text("mine")
    code, _out, err = run_cli_in_process("export", "--workspace", str(workspace), "--all-teams", "--out", str(taken))
    assert code == 2 and "is a file; --all-teams writes one export per team into a folder" in err
    assert taken.read_text() == "mine"
