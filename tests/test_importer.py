"""Importing actuals: every kind of bad file and row, all or nothing, skipping bad rows, layouts and the CLI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from openpyxl.styles import Font

from kpi_workbook.core.errors import InputError
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.model import Framework, KpiDefinition, Team
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.sample import generate_actuals, generate_employees, quarter_labels
from kpi_workbook.workspace.actuals_checked import PLAIN_NUMBER, RejectedRowsError
from kpi_workbook.workspace.actuals_reader import LONG_COLUMNS, ColumnMap, read_actuals_file
from kpi_workbook.workspace.assignments import NOT_THE_ROLE, NOT_THE_TEAM, OTHER_TEAM, UNKNOWN_EMPLOYEE
from kpi_workbook.workspace.csv_scan import RAW_TABLE
from kpi_workbook.workspace.files import ACTUALS_DB, load_framework, save_framework
from kpi_workbook.workspace.importer import default_rejects_path, import_actuals
from kpi_workbook.workspace.scratch import Scratch
from kpi_workbook.workspace.store import DuckDBStore

HEADER = "period,team,employee_id,kpi_id,value"
GOOD = [
    "2025Q1,sales,E1,win_rate,24",
    "2025Q1,sales,E2,win_rate,31.5",
    "2025Q1,sales,E1,sales_cycle_days,80",
    "2025Q1,sales,,pipeline_coverage,3.2",
    "2025Q2,sales,E1,win_rate,26",
]


@pytest.fixture
def workspace(tmp_path: Path, small_framework: Framework) -> Path:
    """The small framework plus a team hr and a KPI no role has; people E1, E2 in sales and H1 in hr."""
    framework = small_framework.model_copy(deep=True)
    framework.teams = [*framework.teams, Team(id="hr", name="HR")]
    framework.kpis = [*framework.kpis, KpiDefinition(id="nps", name="Net promoter score", polarity="higher_is_better",
                                                     category="output", indicator="lagging")]
    root = tmp_path / "ws"
    save_framework(framework, root)
    (root / "employees.csv").write_text("employee_id,name,team,role\nE1,Ann,sales,account_executive\n"
                                        "E2,Bo,sales,account_executive\nH1,Hal,hr,account_executive\n")
    return root


def write(path: Path, *lines: str, encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def stored(workspace: Path) -> pd.DataFrame:
    return DuckDBStore(workspace / ACTUALS_DB).read_actuals()


def rejected(path: Path, workspace: Path, **options) -> pd.DataFrame:
    with pytest.raises(RejectedRowsError) as caught:
        import_actuals(path, workspace, **options)
    return caught.value.report


def test_a_valid_file_is_imported(workspace, tmp_path):
    result = import_actuals(write(tmp_path / "q1.csv", HEADER, *GOOD), workspace)
    assert (result.read, result.imported, result.rejected, result.replaced) == (5, 5, 0, 0)
    assert result.periods == ["2025Q1", "2025Q2"]
    actuals = stored(workspace)
    assert len(actuals) == 5
    assert actuals.loc[actuals["kpi_id"] == "pipeline_coverage", "employee_id"].tolist() == [""]


def test_reimporting_replaces_and_never_duplicates(workspace, tmp_path):
    path = write(tmp_path / "q1.csv", HEADER, *GOOD)
    import_actuals(path, workspace)
    again = import_actuals(path, workspace)
    assert again.replaced == 5 and len(stored(workspace)) == 5
    # a corrected export of the sales win rates for 2025Q1 without E2 removes E2's old value
    import_actuals(write(tmp_path / "fix.csv", HEADER, "2025Q1,sales,E1,win_rate,25"), workspace)
    actuals = stored(workspace).set_index(["period", "employee_id", "kpi_id"])["value"]
    assert len(actuals) == 4
    assert actuals[("2025Q1", "E1", "win_rate")] == 25
    assert actuals[("2025Q1", "E1", "sales_cycle_days")] == 80


def test_headers_ignore_case_spaces_and_a_byte_order_mark_and_extra_columns(workspace, tmp_path):
    path = write(tmp_path / "bom.csv", "\ufeff Period ;Team; Employee ID ;KPI;Value;Comment",
                 "2025Q1;sales;E1;win_rate;24;first", "2025-Q1;sales;E2;win_rate;25;", encoding="utf-8")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert import_actuals(path, workspace).imported == 2
    assert stored(workspace)["period"].unique().tolist() == ["2025Q1"]


def test_a_missing_column_makes_the_file_unreadable(workspace, tmp_path):
    path = write(tmp_path / "no_value.csv", "period,team,employee_id,kpi_id", "2025Q1,sales,E1,win_rate")
    with pytest.raises(InputError) as caught:
        import_actuals(path, workspace)
    message = str(caught.value)
    assert "no_value.csv" in message and "period, team, employee_id, kpi_id, value" in message
    assert "--header-row" in message
    assert not (workspace / ACTUALS_DB).exists()


@pytest.mark.parametrize(("value", "reason"), [
    ("lots", "not a number"),
    ('"1,5"', "a comma in a number"),
    ('"1,200"', "a comma in a number"),
    ("12%", "a percent sign"),
    ("", "value is empty"),
    ("NaN", "not a finite number"),
    ("-inf", "not a finite number"),
])
def test_values_that_are_not_plain_finite_numbers_are_rejected(workspace, tmp_path, value, reason):
    report = rejected(write(tmp_path / "values.csv", HEADER, GOOD[0], f"2025Q1,sales,E2,win_rate,{value}"), workspace)
    assert report["row"].tolist() == [3]
    assert report["column"].tolist() == ["value"]
    assert report["reason"].iloc[0].startswith(reason)
    assert not (workspace / ACTUALS_DB).exists()


def test_numbers_in_other_plain_forms_are_accepted(workspace, tmp_path):
    path = write(tmp_path / "forms.csv", HEADER, "2025Q1,sales,E1,win_rate, 2.4e1 ", "2025Q1,sales,E2,win_rate,-0.5")
    import_actuals(path, workspace)
    assert stored(workspace)["value"].tolist() == [24.0, -0.5]


@pytest.mark.parametrize(("line", "column", "reason"), [
    ("2025Q5,sales,E1,win_rate,20", "period", "not a period"),
    ("soon,sales,E1,win_rate,20", "period", "not a period"),
    ("2025Q1,legal,E1,win_rate,20", "team", "unknown team: not a team id or name of teams.yaml (ids: hr, sales)"),
    ("2025Q1,,E1,win_rate,20", "team", "team is empty"),
    ("2025Q1,sales,E77,win_rate,20", "employee_id", UNKNOWN_EMPLOYEE),
    ("2025Q1,sales,H1,win_rate,20", "employee_id", OTHER_TEAM),
    ("2025Q1,sales,E1,win_rat,20", "kpi_id", "unknown KPI id"),
    ("2025Q1,sales,E1,,20", "kpi_id", "KPI id is empty"),
    ("2025Q1,sales,E1,nps,20", "kpi_id", NOT_THE_ROLE),
    ("2025Q1,sales,,nps,20", "kpi_id", NOT_THE_TEAM),
    ("2025Q1,sales,E2,sales_cycle_days,1,5", "extra", "more cells than the header has columns"),
])
def test_bad_rows_are_reported_with_row_column_value_and_reason(workspace, tmp_path, line, column, reason):
    path = write(tmp_path / "bad.csv", HEADER, *GOOD, line)
    with pytest.raises(RejectedRowsError) as caught:
        import_actuals(path, workspace)
    report = caught.value.report
    assert report["row"].unique().tolist() == [7]
    assert report["column"].tolist() == [column]
    assert report["reason"].iloc[0].startswith(reason)
    assert f"bad.csv, row 7, field '{column}': {reason}" in str(caught.value)
    assert not (workspace / ACTUALS_DB).exists()


def test_duplicate_rows_are_rejected_even_with_different_period_spellings(workspace, tmp_path):
    report = rejected(write(tmp_path / "dup.csv", HEADER, *GOOD, "2025-Q1,sales,E1,win_rate,99"), workspace)
    assert report["row"].tolist() == [2, 7]
    assert report["reason"].str.startswith("duplicate").all()


def test_all_or_nothing_keeps_the_store_as_it_was(workspace, tmp_path):
    import_actuals(write(tmp_path / "q1.csv", HEADER, *GOOD), workspace)
    before = stored(workspace)
    rows = [f"2025Q3,sales,E1,win_rate,{n}" for n in range(1)] + ["2025Q3,sales,E2,win_rate,oops"]
    rejected(write(tmp_path / "q3.csv", HEADER, *rows, "2025Q1,sales,E1,win_rate,1"), workspace)
    pd.testing.assert_frame_equal(stored(workspace), before)


def test_skip_invalid_imports_good_slices_and_writes_the_rest_with_reasons(workspace, tmp_path):
    path = write(tmp_path / "mixed.csv", HEADER, *GOOD, "2025Q1,sales,E2,sales_cycle_days,slow",
                 "2025Q1,legal,E1,win_rate,20")
    result = import_actuals(path, workspace, skip_invalid=True)
    assert result.rejects_path == default_rejects_path(path) == tmp_path / "mixed.rejects.csv"
    # E1's sales_cycle_days shares its period × team × KPI with the rejected row 7, so it waits with it; row 8's
    # team cannot be read, so 2025Q1's win rates of every team wait with it (it may belong to any of them)
    assert result.imported == 2
    rejects = pd.read_csv(result.rejects_path, dtype=str, keep_default_na=False)
    assert list(rejects.columns) == ["row", "period", "team", "employee_id", "kpi_id", "value", "reason"]
    assert rejects["row"].tolist() == ["2", "3", "4", "7", "8"]
    reasons = rejects["reason"].tolist()
    assert reasons[0] == reasons[1] == ("kpi_id: held back with rejected row 8 (its team cannot be read, so every row "
                                        "with the same period and KPI waits with it); fix that row and import the "
                                        "rejects file")
    assert reasons[2].startswith("kpi_id: held back with rejected row 7 (same period, team and KPI)")
    assert reasons[3] == "value: not a number" and reasons[4].startswith("team: unknown team")
    assert set(stored(workspace)["kpi_id"]) == {"win_rate", "pipeline_coverage"}
    assert set(stored(workspace)["period"]) == {"2025Q1", "2025Q2"} and len(stored(workspace)) == 2

    fixed = rejects.drop(columns="reason").iloc[:4].assign(value=["24", "31.5", "80", "85"])  # row 8 was junk
    fixed.drop(columns="row").to_csv(tmp_path / "fixed.csv", index=False)
    import_actuals(tmp_path / "fixed.csv", workspace)
    cycle = stored(workspace).query("kpi_id == 'sales_cycle_days'")
    assert cycle["employee_id"].tolist() == ["E1", "E2"] and cycle["value"].tolist() == [80, 85]
    wins = stored(workspace).query("kpi_id == 'win_rate' and period == '2025Q1'")
    assert wins["employee_id"].tolist() == ["E1", "E2"] and wins["value"].tolist() == [24, 31.5]


def test_a_rejected_row_with_an_unknown_kpi_holds_back_its_whole_period_and_team(workspace, tmp_path):
    path = write(tmp_path / "typo.csv", HEADER, *GOOD, "2025Q1,sales,E2,win_rat,28")
    result = import_actuals(path, workspace, skip_invalid=True)
    rejects = pd.read_csv(result.rejects_path, dtype=str, keep_default_na=False)
    assert rejects["row"].tolist() == ["2", "3", "4", "5", "7"]  # every 2025Q1 sales row; 2025Q2 goes in
    assert set(stored(workspace)["period"]) == {"2025Q2"}
    fixed = rejects.drop(columns=["row", "reason"]).replace({"win_rat": "win_rate"})
    fixed = fixed[~((fixed["employee_id"] == "E2") & (fixed["kpi_id"] == "win_rate") & (fixed["value"] == "31.5"))]
    fixed.to_csv(tmp_path / "fixed.csv", index=False)  # the typo was E2's corrected win rate
    import_actuals(tmp_path / "fixed.csv", workspace)
    wins = stored(workspace).query("kpi_id == 'win_rate' and period == '2025Q1'")
    assert wins["employee_id"].tolist() == ["E1", "E2"] and wins["value"].tolist() == [24, 28]
    assert len(stored(workspace)) == 5  # nothing of the slices lost on the way


def test_rejects_path_can_be_given_and_is_written_without_skipping(workspace, tmp_path):
    target = tmp_path / "out" / "why.csv"
    rejected(write(tmp_path / "bad.csv", HEADER, "2025Q1,sales,E1,win_rate,x"), workspace, rejects=target)
    assert pd.read_csv(target)["reason"].tolist() == ["value: not a number"]
    assert not (workspace / ACTUALS_DB).exists()


def test_wide_layout_is_melted_and_empty_cells_are_no_data(workspace, tmp_path):
    path = write(tmp_path / "wide.csv", "Period,Team,Employee ID,Name,win_rate,sales_cycle_days,pipeline_coverage",
                 "2025Q1,sales,E1,Ann,24,80,", "2025Q1,sales,E2,Bo,31.5,,", "2025Q1,sales,,,,,3.2")
    result = import_actuals(path, workspace, layout="wide")
    assert result.imported == 4
    actuals = stored(workspace).set_index(["employee_id", "kpi_id"])["value"]
    assert actuals[("E1", "sales_cycle_days")] == 80 and actuals[("", "pipeline_coverage")] == 3.2


def test_an_export_with_its_own_headers_is_mapped_fixed_and_trimmed(workspace, tmp_path):
    path = write(tmp_path / "hr_export.csv", "Staff No;Full name;Win rate %;Cycle (days)",
                 "E1;Ann;24;80", "E2;Bo;31.5;")
    rename = {"staff no": "employee_id", "Win rate %": "win_rate", "Cycle (days)": "sales_cycle_days"}
    columns = ColumnMap(rename=rename, fixed={"period": "2025Q3", "team": "sales"}, ignore=("Full Name",))
    result = import_actuals(path, workspace, layout="wide", columns=columns)
    assert (result.imported, result.periods) == (3, ["2025Q3"])
    actuals = stored(workspace).set_index(["employee_id", "kpi_id"])["value"]
    assert actuals[("E1", "sales_cycle_days")] == 80 and actuals[("E2", "win_rate")] == 31.5


def test_a_fixed_column_is_only_used_where_the_file_lacks_it(workspace, tmp_path):
    path = write(tmp_path / "q1.csv", HEADER, *GOOD)
    result = import_actuals(path, workspace, columns=ColumnMap(fixed={"period": "2030Q1"}))
    assert result.periods == ["2025Q1", "2025Q2"]
    with pytest.raises(InputError, match="cannot fix value for every row"):
        import_actuals(path, workspace, columns=ColumnMap(fixed={"value": "1"}))


def test_cli_maps_columns_and_refuses_malformed_pairs(workspace, tmp_path, cli):
    path = write(tmp_path / "export.csv", "Quarter,Person,Metric,Amount", "2025Q1,E1,win_rate,24")
    code, out, err = cli("import-actuals", path, "-w", workspace, "--column", "Quarter=period", "--column",
                         "Person=employee_id", "--column", "Metric=kpi_id", "--column", "Amount=value",
                         "--set", "team=sales")
    assert code == 0, err
    assert "imported 1 value(s) for 2025Q1" in out
    code, out, err = cli("import-actuals", path, "-w", workspace, "--column", "Quarter")
    assert code == 2 and "--column 'Quarter': expected NAME=VALUE" in err and "Traceback" not in err


def test_wide_kpi_columns_may_name_kpis_by_name_or_id_in_any_case(workspace, tmp_path):
    path = write(tmp_path / "bi.csv", "period,team,employee_id,Win rate, SALES-CYCLE-DAYS ,Pipeline Coverage Ratio",
                 "2025Q1,sales,E1,24,80,", "2025Q1,sales,,,,3.2")
    assert import_actuals(path, workspace, layout="wide").imported == 3
    actuals = stored(workspace).set_index(["employee_id", "kpi_id"])["value"]
    assert actuals.to_dict() == {("E1", "win_rate"): 24, ("E1", "sales_cycle_days"): 80, ("", "pipeline_coverage"): 3.2}
    twice = write(tmp_path / "twice.csv", "period,team,employee_id,win_rate,Win rate", "2025Q1,sales,E1,24,25")
    with pytest.raises(InputError, match="columns 'win_rate', 'Win rate' all name the KPI 'win_rate'"):
        import_actuals(twice, workspace, layout="wide")


def test_wide_layout_reports_the_kpi_column_of_a_bad_cell(workspace, tmp_path):
    path = write(tmp_path / "wide.csv", "period,team,employee_id,win_rate,sales_cycle_days", "2025Q1,sales,E1,2x,7")
    report = rejected(path, workspace, layout="wide")
    assert report[["row", "column"]].values.tolist() == [[2, "win_rate"]]
    assert report["reason"].tolist() == ["not a number"]


def test_wide_layout_gives_one_error_per_unknown_column_not_per_cell(workspace, tmp_path):
    rows = [f"2025Q1,sales,E{1 + i % 2},{i},{i},{i},{i}" for i in range(20_000)]
    path = write(tmp_path / "wide.csv", "period,team,employee_id,win_rate,nps_typo,Head count,notes", *rows)
    with pytest.raises(InputError) as caught:
        import_actuals(path, workspace, layout="wide")
    problems = caught.value.problems
    assert [(p.file, p.row, p.field, p.code) for p in problems] == [
        ("wide.csv", 1, "nps_typo", Code.INPUT_HEADER), ("wide.csv", 1, "Head count", Code.INPUT_HEADER),
        ("wide.csv", 1, "notes", Code.INPUT_HEADER)]
    assert "closest KPI ids: nps" in problems[0].message and "--ignore 'notes'" in problems[2].message
    assert not (workspace / ACTUALS_DB).exists()


def test_wide_layout_without_employee_column_holds_team_level_values(workspace, tmp_path):
    path = write(tmp_path / "teams.csv", "period,team,pipeline_coverage", "2025Q1,sales,3.2", "2025Q2,Sales,2.9")
    assert import_actuals(path, workspace, layout="wide").imported == 2
    assert stored(workspace)[["period", "team", "employee_id", "value"]].values.tolist() == [
        ["2025Q1", "sales", "", 3.2], ["2025Q2", "sales", "", 2.9]]


def test_teams_by_name_ignore_case_accents_and_spaces(workspace, tmp_path):
    teams = workspace / "teams.yaml"
    teams.write_text(teams.read_text().replace("name: HR", "name: Ressources Humaines & Développement"))
    path = write(tmp_path / "names.csv", HEADER, "2025Q1,SALES,E1,win_rate,24",
                 "2025Q1,  ressources  humaines & developpement ,H1,win_rate,20", "2025Q2,Saless,E2,win_rate,30")
    report = rejected(path, workspace)
    assert report[["row", "column", "value"]].values.tolist() == [[4, "team", "Saless"]]
    assert import_actuals(path, workspace, skip_invalid=True).imported == 2
    assert stored(workspace)[["team", "employee_id"]].values.tolist() == [["hr", "H1"], ["sales", "E1"]]


def test_date_formats_given_with_an_option_read_the_period_column(workspace, tmp_path):
    path = write(tmp_path / "dated.csv", HEADER, "4/15/2025,sales,E1,win_rate,24", "2025-05,sales,E2,win_rate,30",
                 "11-08-16,sales,E1,sales_cycle_days,80")
    report = rejected(path, workspace)
    assert report["row"].tolist() == [2, 4] and "--date-format '%m/%d/%Y'" in report["reason"].iloc[0]
    result = import_actuals(path, workspace, date_formats=["%m/%d/%Y", "%d-%m-%y"])
    assert result.imported == 3 and result.periods == ["2016-08", "2025-04", "2025-05"]
    wrong = write(tmp_path / "wrong.csv", HEADER, "15/04/2025,sales,E1,win_rate,24")
    report = rejected(wrong, workspace, date_formats=["%m/%d/%Y"])
    assert report["reason"].tolist() == ["not a period, nor a date in the format %m/%d/%Y (periods are written e.g. "
                                         "2026Q3 (quarter), 2026-09 (month), 2026H2 (half year), 2026 (year) or "
                                         "2026-W05 (ISO week))"]
    ambiguous = write(tmp_path / "ambiguous.csv", HEADER, "4/5/2025,sales,E1,win_rate,24")
    with pytest.raises(InputError, match="row 2, field 'period': ambiguous date '4/5/2025'"):
        import_actuals(ambiguous, workspace, date_formats=["%m/%d/%Y", "%d/%m/%Y"])


def test_skip_invalid_hint_says_what_it_would_import_and_hold_back(workspace, tmp_path, cli):
    bad = write(tmp_path / "bad.csv", HEADER, *GOOD, "2025Q1,sales,E2,sales_cycle_days,12%")
    code, _, err = cli("import-actuals", bad, "-w", workspace)
    assert code == 1 and "--skip-invalid: it would import 4 value(s) and hold back 1 valid row(s)" in err
    hopeless = write(tmp_path / "hopeless.csv", HEADER, "2025Q1,sales,E1,win_rate,24",
                     "2025Q1,sales,E2,win_rate,x")
    for options in ((), ("--skip-invalid",)):
        code, _, err = cli("import-actuals", hopeless, "-w", workspace, *options)
        assert code == 1 and "No row can be imported" in err, err
        assert "use --skip-invalid" not in err and "imports nothing" not in err
    assert not (workspace / ACTUALS_DB).exists()


def test_skip_invalid_says_how_many_rows_were_invalid_and_how_many_wait_with_them(workspace, tmp_path, cli):
    bad = write(tmp_path / "bad.csv", HEADER, *GOOD, "2025Q1,sales,E2,sales_cycle_days,12%")
    code, out, err = cli("import-actuals", bad, "-w", workspace, "--skip-invalid")
    assert code == 0, err
    assert (f"rejected 1 invalid row(s) and held back 1 valid row(s) that may share a period, team and KPI with "
            f"them; all are in {tmp_path / 'bad.rejects.csv'}") in out
    code, _, err = cli("import-actuals", bad, "-w", workspace, "--rejects", tmp_path / "given.csv")
    assert code == 1 and f"the rejected rows are in {tmp_path / 'given.csv'}" in err
    assert (tmp_path / "given.csv").is_file()


def test_an_import_into_a_workspace_whose_store_is_not_built_keeps_its_actuals_csv(workspace, tmp_path, cli):
    write(workspace / "actuals.csv", HEADER, *GOOD[:2])  # the workspace's history, not yet in a store
    code, out, err = cli("import-actuals", write(tmp_path / "q2.csv", HEADER, GOOD[4]), "-w", workspace)
    assert code == 0 and "built the actuals store" in err and "(2 values) before importing" in err, err
    assert sorted(stored(workspace)["period"]) == ["2025Q1", "2025Q1", "2025Q2"]


def test_team_ids_in_other_case_and_future_periods(workspace, tmp_path, cli):
    code, out, err = cli("import-actuals", write(tmp_path / "t.csv", HEADER, "2025Q1,SALES,E1,win_rate,24",
                                                 "2025Q1,Hr,H1,win_rate,30", "2062Q1,sales,E2,win_rate,1"),
                         "-w", workspace)
    assert code == 0, err
    assert sorted(stored(workspace)["team"]) == ["hr", "sales", "sales"]
    assert "note: period(s) not begun yet (today is " in err and "): 2062Q1; their values are stored" in err


@pytest.mark.parametrize("store", ["corrupt", "folder"])
def test_a_broken_store_gives_a_clean_error_and_stays_as_it_was(workspace, tmp_path, cli, store):
    path = workspace / ACTUALS_DB
    if store == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"not a database" * 100)
    code, _, err = cli("import-actuals", write(tmp_path / "q1.csv", HEADER, *GOOD), "-w", workspace)
    assert code == 2 and f"{ACTUALS_DB}: " in err and "Traceback" not in err, err
    assert path.is_dir() if store == "folder" else path.read_bytes() == b"not a database" * 100
    assert [p.name for p in workspace.iterdir() if p.name.startswith(f".{ACTUALS_DB}")] in ([], [f".{ACTUALS_DB}.lock"])


def test_the_bundled_sample_is_read_only(tmp_path, cli):
    code, _, err = cli("import-actuals", write(tmp_path / "q1.csv", HEADER, *GOOD), "-w", "sample", cwd=tmp_path)
    assert code == 2 and "read only" in err and "kpi-workbook init my_org --sample" in err, err


def excel(path: Path, rows: list[list], title_rows: bool = True, sheet: str = "Actuals") -> Path:
    """An .xlsx like an HR export: a merged title row, a blank row, a merged group row, then the header."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    if title_rows:
        ws["A1"] = "KPI actuals — Q1 2025"
        ws["A1"].font = Font(bold=True, size=14)
        ws.merge_cells("A1:E1")
        ws["A3"], ws["D3"] = "Who", "What"
        ws.merge_cells("A3:C3")
        ws.merge_cells("D3:E3")
    for row in rows:
        ws.append(row)
    book.create_sheet("Notes")["A1"] = "exported from the HR system"
    book.save(path)
    return path


def test_excel_with_merged_title_rows_finds_its_header(workspace, tmp_path):
    rows = [["Period", "Team", "Employee ID", "KPI ID", "Value"], ["2025Q1", "sales", "E1", "win_rate", 24],
            [pd.Timestamp("2025-03-31").to_pydatetime(), "sales", "E2", "win_rate", 31.5],
            [None] * 5, ["2025Q1", "sales", "E2", "sales_cycle_days", "n/a"]]
    path = excel(tmp_path / "export.xlsx", rows)
    raw = read_actuals_file(path)
    assert raw.header_row == 4 and raw.frame["row"].tolist() == [5, 6, 8]
    report = rejected(path, workspace)
    assert report[["row", "column", "value"]].values.tolist() == [[8, "value", "n/a"]]
    assert import_actuals(path, workspace, skip_invalid=True).imported == 2
    assert stored(workspace)["period"].tolist() == ["2025Q1", "2025-03"]  # a date means its month


def test_excel_numbers_as_ids_and_header_row_option(workspace, tmp_path):
    (workspace / "employees.csv").write_text("employee_id,name,team,role\n1001,Ann,sales,account_executive\n")
    rows = [["exported 2025-04-02"], [], ["period", "team", "employee_id", "kpi_id", "value"],
            [2025, "sales", 1001, "win_rate", 24.0]]
    path = excel(tmp_path / "ids.xlsx", rows, title_rows=False)
    result = import_actuals(path, workspace, header_row=3)
    assert result.imported == 1
    assert stored(workspace)[["period", "employee_id"]].values.tolist() == [["2025", "1001"]]


def test_excel_without_a_findable_header_asks_for_header_row(workspace, tmp_path):
    rows = [["Zeitraum", "Team", "Mitarbeiter", "Kennzahl", "Wert"], ["2025Q1", "sales", "E1", "win_rate", 24]]
    path = excel(tmp_path / "german.xlsx", rows, title_rows=False)
    with pytest.raises(InputError, match=r"german.xlsx.*no header row.*--header-row N"):
        import_actuals(path, workspace)
    with pytest.raises(InputError, match="row 1, .*missing column.*period.*Zeitraum"):
        import_actuals(path, workspace, header_row=1)
    with pytest.raises(InputError, match="no sheet 'Data'; the sheets are: Actuals, Notes"):
        import_actuals(path, workspace, sheet="Data")


def _raised(path: Path, workspace: Path, **options: object) -> InputError:
    with pytest.raises(InputError) as caught:
        import_actuals(path, workspace, **options)
    return caught.value


def test_unreadable_files_raise_input_errors_coded_by_what_is_wrong(workspace, tmp_path):
    (tmp_path / "fake.xlsx").write_bytes(b"not a zip file")
    (tmp_path / "old.xls").write_bytes(b"not a zip file")
    (tmp_path / "latin.csv").write_bytes((HEADER + "\n2025Q1,sales,Jos\xe9,win_rate,1\n").encode("latin-1"))
    cases = [
        (tmp_path / "fake.xlsx", {}, "fake.xlsx: cannot be read as an Excel workbook", Code.INPUT_NOT_A_WORKBOOK),
        (tmp_path / "old.xls", {}, "old.xls: old .xls workbooks are not supported", Code.INPUT_NOT_A_WORKBOOK),
        (tmp_path / "latin.csv", {}, "latin.csv: not UTF-8 text", Code.INPUT_ENCODING),
        (tmp_path / "absent.csv", {}, "file not found", Code.INPUT_NOT_FOUND),
        (tmp_path, {}, "not a regular file but a folder", Code.INPUT_UNREADABLE),
        (write(tmp_path / "empty.csv", HEADER), {}, "no data rows below the header", Code.INPUT_EMPTY),
        (write(tmp_path / "blank.csv", "", ""), {}, "the first row holds: nothing", Code.INPUT_EMPTY),
        (write(tmp_path / "short.csv", "period,team", "2025Q1,sales"), {}, "no header row with the columns",
         Code.INPUT_HEADER),
        (write(tmp_path / "twice.csv", HEADER + ",value", *GOOD), {}, "column(s) named twice: value",
         Code.INPUT_HEADER),
        (write(tmp_path / "far.csv", HEADER, *GOOD), {"header_row": 40}, "row 40 is not in the file",
         Code.INPUT_HEADER),
    ]
    for path, options, message, code in cases:
        error = _raised(path, workspace, **options)
        assert message in str(error) and [p.code for p in error.problems] == [code], (path, str(error))


def test_a_header_row_without_a_column_names_its_row(workspace, tmp_path):
    [problem] = _raised(write(tmp_path / "q.csv", "period,team,employee_id,kpi_id", "2025Q1,sales,E1,win_rate"),
                        workspace, header_row=1).problems
    assert (problem.row, problem.field, problem.code) == (1, "header", Code.INPUT_HEADER)


def test_cli_exit_codes_and_messages(workspace, tmp_path, cli):
    good = write(tmp_path / "good.csv", HEADER, *GOOD)
    code, out, err = cli("import-actuals", good, "--workspace", workspace)
    assert code == 0, err
    assert "imported 5 value(s) for 2025Q1, 2025Q2 from good.csv" in out

    bad = write(tmp_path / "bad.csv", HEADER, *GOOD, "2025Q1,sales,E2,sales_cycle_days,12%")
    code, out, err = cli("import-actuals", bad, "-w", workspace)
    assert code == 1
    assert "error: bad.csv, row 7, field 'value': a percent sign" in err
    assert "1 row(s) rejected; nothing imported" in err and "Traceback" not in err

    code, out, err = cli("import-actuals", bad, "-w", workspace, "--skip-invalid")
    assert code == 0, err
    assert f"all are in {tmp_path / 'bad.rejects.csv'}" in out and (tmp_path / "bad.rejects.csv").exists()

    code, out, err = cli("import-actuals", tmp_path / "missing.xlsx", "-w", workspace)
    assert code == 2 and "missing.xlsx: file not found" in err and "Traceback" not in err

    code, out, err = cli("import-actuals", good, "-w", workspace, "--layout", "sideways")
    assert code == 2 and "Traceback" not in err


@pytest.mark.parametrize("row", [2, 32])
def test_a_huge_cell_anywhere_gives_a_clean_error(workspace, tmp_path, row):
    lines = [HEADER, *["2025Q1,sales,E1,win_rate,24"] * 40]
    lines[row - 1] = "2025Q1,sales,E1,win_rate,\"" + "9" * 200_000 + "\""
    [problem] = _raised(write(tmp_path / "huge.csv", *lines), workspace).problems
    assert "cannot be read as CSV: field larger than field limit" in problem.message
    assert (problem.file, problem.row, problem.code) == ("huge.csv", row, Code.INPUT_NOT_CSV)


def test_rejects_never_land_on_a_folder_or_a_workspace_file(workspace, tmp_path):
    bad = write(tmp_path / "bad.csv", HEADER, "2025Q1,sales,E1,win_rate,abc")
    before = (workspace / "kpis.yaml").read_bytes()
    for target, message in [(tmp_path, "is a folder"), (workspace / "kpis.yaml", "is a file of the workspace"),
                            (workspace / "employees.csv", "is a file of the workspace")]:
        with pytest.raises(InputError, match=message):
            import_actuals(bad, workspace, skip_invalid=True, rejects=target)
    assert (workspace / "kpis.yaml").read_bytes() == before


def test_an_existing_rejects_file_is_overwritten_only_when_asked(workspace, tmp_path):
    bad = write(tmp_path / "bad.csv", HEADER, *GOOD, "2025Q3,sales,E1,win_rate,abc")
    target = write(tmp_path / "mine.csv", "keep me")
    with pytest.raises(InputError, match="exists; choose another file or pass --overwrite-rejects"):
        import_actuals(bad, workspace, skip_invalid=True, rejects=target)
    assert target.read_text() == "keep me\n"
    import_actuals(bad, workspace, skip_invalid=True, rejects=target, overwrite_rejects=True)
    assert "abc" in target.read_text()


# --- large files: read by DuckDB, numbered as the csv module numbers them, every value stored -------------------

@pytest.fixture(scope="module")
def large(tmp_path_factory) -> tuple[Path, list[str]]:
    """The sample organization's framework with 4,700 generated people, and 8 quarters of their actuals as CSV
    lines (about 200,000 rows; the header first)."""
    root = tmp_path_factory.mktemp("large") / "ws"
    shutil.copytree(SAMPLE_ORG_DIR, root, ignore=shutil.ignore_patterns("*.duckdb*", "actuals.csv"))
    framework = load_framework(root)
    people = generate_employees(framework, 4_700, seed=3)
    people.to_csv(root / "employees.csv", index=False, lineterminator="\n")
    actuals = generate_actuals(framework, people, quarter_labels("2024Q1", 8), seed=3)
    employee = actuals["employee_id"].astype(str)
    lines = (actuals["period"].astype(str) + "," + actuals["team"].astype(str) + "," + employee + ","
             + actuals["kpi_id"].astype(str) + "," + actuals["value"].map(repr)).tolist()
    return root, [HEADER, *lines]


def _copy(workspace: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(workspace, tmp_path / "ws_copy"))


def test_a_large_valid_file_stores_every_value(large, tmp_path):
    workspace, lines = large
    workspace = _copy(workspace, tmp_path)
    result = import_actuals(write(tmp_path / "large.csv", *lines), workspace)
    assert result.read == result.imported == len(lines) - 1 > 190_000
    expected = pd.read_csv(tmp_path / "large.csv", dtype={"employee_id": str}, keep_default_na=False)
    key = ["period", "team", "employee_id", "kpi_id"]
    merged = stored(workspace).merge(expected, on=key, how="outer", suffixes=("", "_file"), indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["value"] == merged["value_file"]).all()  # the same doubles, to the last bit


def test_a_large_file_reports_exactly_its_bad_rows(large, tmp_path):
    workspace, lines = large
    lines = list(lines)
    bad = {2: ("value", "abc", "not a number"), 60_001: ("team", "legal", "unknown team"),
           123_457: ("kpi_id", "happiness", "unknown KPI id"), len(lines): ("value", "12%", "a percent sign")}
    for row, (column, value, _) in bad.items():
        cells = lines[row - 1].split(",")
        cells[LONG_COLUMNS.index(column)] = value
        lines[row - 1] = ",".join(cells)
    path = write(tmp_path / "large_bad.csv", *lines)
    report = rejected(path, _copy(workspace, tmp_path))
    assert report[["row", "column", "value"]].values.tolist() == [[r, c, v] for r, (c, v, _) in bad.items()]
    assert [reason.split(" (")[0].split(":")[0] for reason in report["reason"]] == [
        reason for _, _, reason in bad.values()]


def test_rows_after_blank_lines_and_quoted_line_breaks_keep_the_file_numbers(workspace, tmp_path):
    blank = write(tmp_path / "blank.csv", "Title", "", HEADER, GOOD[0], "", "", GOOD[1], "\r", "2025Q1,sales,E1,x,1",
                  "   ", ",,,,", "2025Q2,sales,E2,win_rate,n/a")
    assert read_actuals_file(blank).frame["row"].tolist() == [4, 7, 9, 12]
    assert rejected(blank, workspace)["row"].tolist() == [9, 12]
    quoted = write(tmp_path / "quoted.csv", HEADER, GOOD[0], '2025Q1,sales,E2,"win\nrate",1', "", GOOD[2],
                   "2025Q1,sales,E2,win_rate,bad")
    assert rejected(quoted, workspace)["row"].tolist() == [3, 6]



def test_lines_of_empty_cells_are_read_in_one_pass_and_later_rows_keep_their_numbers(workspace, tmp_path):
    path = write(tmp_path / "empty_cells.csv", HEADER, GOOD[0], ",,,,", " , ,\t, ,", GOOD[1].replace("sales", "Sales"),
                 "2025Q2,sales,E2,win_rate,n/a", ",,,,")
    raw = read_actuals_file(path)
    assert raw.frame[["row", "team"]].values.tolist() == [[2, "sales"], [5, "Sales"], [6, "sales"]]
    assert "row" not in raw.scratch.frame(f"DESCRIBE {RAW_TABLE}")["column_name"].tolist()  # numbered by row ids
    raw.recode("team", "(SELECT 'Sales' AS name, 'sales' AS id)", old="name", new="id")
    assert raw.frame[["row", "team"]].values.tolist() == [[2, "sales"], [5, "sales"], [6, "sales"]]
    assert rejected(path, workspace)[["row", "value"]].values.tolist() == [[6, "n/a"]]

def test_cells_beyond_the_header_are_one_extra_problem_however_many(workspace, tmp_path):
    path = write(tmp_path / "wide_row.csv", HEADER, GOOD[0], GOOD[1] + "," * 20 + "x", GOOD[2] + ", 1 ,,2")
    report = rejected(path, workspace)
    assert report[["row", "column", "value"]].values.tolist() == [[3, "extra", "x"], [4, "extra", "1 | 2"]]


@pytest.mark.parametrize("text", ["0.1", "2.675", "-0", "1e-320", "9007199254740993", "1.7976931348623157e308",
                                  "+.5", "5.", "1E+05", "123456789.123456789"])
def test_plain_numbers_read_by_duckdb_equal_what_pandas_reads(text):
    assert re.fullmatch(PLAIN_NUMBER, text)
    cast = duckdb.sql(f"SELECT CAST('{text}' AS DOUBLE)").fetchall()[0][0]
    assert cast == pd.to_numeric(pd.Series([text])).iloc[0] == float(text)


def test_an_import_killed_mid_way_leaves_a_scratch_folder_that_the_next_import_removes(workspace, tmp_path, cli,
                                                                                         monkeypatch):
    """kill -9 gives an import no chance to clean up its scratch database; the next import removes what it left,
    and never a folder of an import that is still running (this process's own)."""
    temp = tmp_path / "temp"
    temp.mkdir()
    holder = ("import sys, time\nfrom kpi_workbook.workspace.scratch import Scratch\n"
              "scratch = Scratch()\nscratch.con.execute('CREATE TABLE rows AS SELECT range AS n FROM range(1000)')\n"
              "print(scratch.folder, flush=True)\ntime.sleep(600)\n")
    child = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "TMPDIR": str(temp)})
    abandoned = Path(child.stdout.readline().strip())
    child.kill()
    child.wait(timeout=30)
    child.stdout.close()
    assert abandoned.is_dir() and abandoned.parent == temp
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    with Scratch() as running:
        code, _, err = cli("import-actuals", write(tmp_path / "good.csv", HEADER, *GOOD), "-w", workspace)
        assert code == 0, err
        assert not abandoned.exists() and running.folder.is_dir()
    assert list(temp.iterdir()) == []


# --- the whole-file check: a clean file skips the row-by-row report, and nothing it passes would be rejected --------

def _validated_both_ways(path: Path, workspace: Path) -> tuple[pd.DataFrame | None, pd.DataFrame, int]:
    """The valid rows as the whole-file check gives them (None: it sends the file to validation), as validation
    gives them, and how many rows validation rejects."""
    from kpi_workbook.workspace.actuals_precheck import clean_actuals
    from kpi_workbook.workspace.actuals_schema import validate_actuals
    from kpi_workbook.workspace.employees import load_employees

    framework = load_framework(workspace)
    employees = load_employees(workspace, framework)
    order = "SELECT * EXCLUDE (id) FROM {} ORDER BY row, kpi_id"
    with Scratch() as scratch:
        clean = clean_actuals(read_actuals_file(path, scratch=scratch), framework, employees)
        fast = None if clean is None else scratch.frame(order.format(clean.valid_table))
    with Scratch() as scratch:
        checked = validate_actuals(read_actuals_file(path, scratch=scratch), framework, employees)
        return fast, scratch.frame(order.format(checked.valid_table)), checked.rejected_count


CLEAN_FILES = {
    "ids": GOOD,
    "team names and spaces": ["2025Q1, SALES ,E1,win_rate, 24", "2025Q1,Sales,,pipeline_coverage,3.2 "],
    "periods spelled otherwise": ["2025-Q1,sales,E1,win_rate,24", "2025-Q2,sales,E1,win_rate,26"],
    "a true zero and exponents": ["2025Q1,sales,E1,win_rate,0", "2025Q1,sales,E2,win_rate,-0.0",
                                  "2025Q2,sales,E1,win_rate,1e1"],
}
DOUBTFUL_FILES = {
    "thousands separator": ['2025Q1,sales,E1,win_rate,"1,200"'],
    "duplicate": [GOOD[0], GOOD[0]],
    "duplicate by a team name": [GOOD[0], GOOD[0].replace("sales", "Sales")],
    "duplicate by a period spelling": [GOOD[0], GOOD[0].replace("2025Q1", "2025-Q1")],
    "unknown KPI": ["2025Q1,sales,E1,happiness,1"],
    "KPI of no role": ["2025Q1,sales,E1,nps,1"],
    "employee of another team": ["2025Q1,sales,H1,win_rate,1"],
    "unknown employee": ["2025Q1,sales,X9,win_rate,1"],
    "team without the KPI": ["2025Q1,sales,,nps,1"],
    "unknown team": ["2025Q1,nowhere,E1,win_rate,1"],
    "not a period": ["2025-Q9,sales,E1,win_rate,1"],
    "percent": ["2025Q1,sales,E1,win_rate,12%"],
    "infinity": ["2025Q1,sales,E1,win_rate,inf"],
    "empty value": ["2025Q1,sales,E1,win_rate,"],
    "an extra cell": ["2025Q1,sales,E1,win_rate,1,5"],
}


@pytest.mark.parametrize("lines", list(CLEAN_FILES.values()), ids=list(CLEAN_FILES))
def test_the_whole_file_check_passes_a_clean_file_with_the_rows_validation_gives(workspace, tmp_path, lines):
    fast, validated, rejects = _validated_both_ways(write(tmp_path / "clean.csv", HEADER, *lines), workspace)
    assert rejects == 0 and fast is not None
    pd.testing.assert_frame_equal(fast, validated)


@pytest.mark.parametrize("lines", list(DOUBTFUL_FILES.values()), ids=list(DOUBTFUL_FILES))
def test_the_whole_file_check_sends_every_file_with_a_bad_row_to_validation(workspace, tmp_path, lines):
    fast, _, rejects = _validated_both_ways(write(tmp_path / "bad.csv", HEADER, *lines), workspace)
    assert rejects > 0 and fast is None


def test_a_period_spelled_two_ways_goes_to_validation_which_imports_it(workspace, tmp_path):
    path = write(tmp_path / "spellings.csv", HEADER, GOOD[0], GOOD[1].replace("2025Q1", "2025-Q1"))
    fast, validated, rejects = _validated_both_ways(path, workspace)
    assert fast is None and rejects == 0 and validated["period"].tolist() == ["2025Q1", "2025Q1"]


WHITESPACE_CELLS = ["\u3000sales\u00a0", "\x85E1\u2028", "\u205fwin_rate\x1c", "\t24\u202f", "é\u2000", "\u1680é", "ü",
                    " \u2029 ", "x\u0301", "\x1fa b\x0b", "\x7f", "\x84", "", "\U0001F469\u200d\U0001F467 "]


@pytest.mark.parametrize("cell", WHITESPACE_CELLS, ids=[repr(c) for c in WHITESPACE_CELLS])
def test_cells_lose_exactly_the_whitespace_python_strips(tmp_path, cell):
    path = tmp_path / "cells.csv"
    path.write_text(f"{HEADER}\n2025Q1,{cell},E1,{cell}x,{cell}\n", encoding="utf-8")
    frame = read_actuals_file(path).frame
    assert frame[["team", "kpi_id", "value"]].values.tolist() == [[cell.strip(), f"{cell}x".strip(), cell.strip()]]
