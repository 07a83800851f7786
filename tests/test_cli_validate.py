"""Tests of `kpi-workbook validate`: exit codes, findings output and one clear message per bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from kpi_workbook.analysis.checks import FINDING_COLUMNS
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.model import Framework
from kpi_workbook.workspace.files import EMPLOYEES_FILE, load_framework, save_framework

ROLE = "roles/account_executive.yaml"
ROLE_ENTRY = "role 'account_executive'"
WIN_RATE_WEIGHT = "field 'kpis[1] (win_rate).weight'"


@pytest.fixture
def workspace(tmp_path: Path, small_framework: Framework) -> Path:
    """The small framework saved as a workspace; it has no findings."""
    save_framework(small_framework, tmp_path / "ws")
    return tmp_path / "ws"


def _edit(workspace: Path, name: str, old: str, new: str) -> None:
    path = workspace / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _error_lines(stderr: str) -> list[str]:
    lines = stderr.strip().splitlines()
    assert all(line.startswith("error: ") for line in lines), stderr
    return lines


def test_clean_workspace_exits_0(cli, workspace):
    code, out, err = cli("validate", "-w", workspace)
    assert (code, err) == (0, "")
    assert "Summary: 0 errors, 0 warnings, 0 info." in out and "No findings" in out


def test_sample_organization_exits_0(cli, sample_workspace):
    code, out, err = cli("validate", "-w", sample_workspace)
    assert code == 0, out + err
    assert "Summary: 0 errors" in out


BAD_INPUT = {
    "malformed YAML": (ROLE, "teams: [sales]", "teams: [sales", [f"{ROLE}: malformed YAML at line 4, column "]),
    "duplicate YAML key": (
        "kpis.yaml", "  unit: '%'\n", "  unit: '%'\n  unit: percent\n",
        ["kpis.yaml: malformed YAML at line 7, column 3: duplicate key 'unit'"],
    ),
    "misspelled field": (
        ROLE, "  weight: 30", "  wieght: 30",
        [f"{ROLE}, {ROLE_ENTRY}, {WIN_RATE_WEIGHT}: required field is missing",
         f"{ROLE}, {ROLE_ENTRY}, field 'kpis[1] (win_rate).wieght': unknown field; did you mean 'weight'?"],
    ),
    "missing field": (
        "kpis.yaml", "  name: Win rate\n", "", ["kpis.yaml, kpi 'win_rate', field 'name': required field is missing"],
    ),
    "wrong type": (ROLE, "  weight: 30", "  weight: lots", [f"{ROLE}, {ROLE_ENTRY}, {WIN_RATE_WEIGHT}: ", "'lots'"]),
    "unknown enum value": (
        "kpis.yaml", "polarity: higher_is_better", "polarity: up",
        ["kpis.yaml, kpi 'win_rate', field 'polarity': ", "'up'"],
    ),
    "NaN weight": (ROLE, "  weight: 30", "  weight: .nan", [f"{ROLE}, {ROLE_ENTRY}, {WIN_RATE_WEIGHT}: ", "nan"]),
    "negative weight": (
        ROLE, "  weight: 30", "  weight: -5",
        [f"{ROLE}, {ROLE_ENTRY}, {WIN_RATE_WEIGHT}: ", "greater than or equal to 0"],
    ),
    "bad id": (
        "objectives.yaml", "- id: grow_revenue", "- id: grow revenue",
        ["objectives.yaml, objective 'grow revenue', field 'id': ", "'grow revenue'"],
    ),
    "three-value range": (
        ROLE, "target_range: [5, 10]", "target_range: [5, 10, 12]",
        [f"{ROLE}, {ROLE_ENTRY}, field 'kpis[4] (average_discount).target_range': ", "[5, 10, 12]"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_unreadable_input_exits_2_with_one_message_per_problem(cli, workspace, case):
    file, old, new, expected = BAD_INPUT[case]
    _edit(workspace, file, old, new)
    before = sorted(p.name for p in workspace.rglob("*"))
    code, out, err = cli("validate", "-w", workspace, "--report", workspace / "report.md")
    assert code == 2 and out == ""
    assert "Traceback" not in err
    lines = _error_lines(err)
    messages = [e for e in expected if e.startswith(f"{file}")]
    assert len(lines) == len(messages)
    for line, message in zip(lines, messages, strict=True):
        assert line.startswith(f"error: {message}")
    assert all(part in err for part in expected)
    assert sorted(p.name for p in workspace.rglob("*")) == before  # no report, no temporary files


def test_problems_in_several_files_are_all_reported(cli, workspace):
    _edit(workspace, ROLE, "  weight: 30", "  weight: -5")
    _edit(workspace, "kpis.yaml", "polarity: higher_is_better", "polarity: up")
    _edit(workspace, "objectives.yaml", "perspective: financial", "perspective: money")
    code, _, err = cli("validate", "-w", workspace)
    assert code == 2
    assert [line.split(",")[0] for line in _error_lines(err)] == [
        "error: objectives.yaml", "error: kpis.yaml", f"error: {ROLE}",
    ]


def test_nan_weight_is_called_not_a_finite_number(cli, workspace):
    _edit(workspace, ROLE, "  weight: 30", "  weight: .nan")
    _, _, err = cli("validate", "-w", workspace)
    assert "finite" in err and "less than or equal" not in err


def test_impossible_date_is_named_without_traceback(cli, workspace):
    _edit(workspace, "framework.yaml", "organization: Example Ltd\n", "organization: Example Ltd\ndate: 2025-13-01\n")
    code, _, err = cli("validate", "-w", workspace)
    assert code == 2 and "Traceback" not in err and "framework.yaml" in err


FINDINGS = {
    "bands out of order": (
        ROLE, "  threshold: 20\n  target: 25", "  threshold: 30\n  target: 25",
        "smart.achievable** KPI `win_rate`, field `target`: bands out of order",
    ),
    "duplicate id": (
        "teams.yaml", "teams:\n", "teams:\n- id: sales\n  name: Sales again\n",
        "structure.duplicate_id** team 'sales', field `id`: 2 teams have the id 'sales'",
    ),
    "unknown team": (
        ROLE, "teams: [sales]", "teams: [salse]", "structure.unknown_team** field `teams`: team 'salse' is not defined",
        "Fix: did you mean 'sales'?",
    ),
    "unknown KPI": (
        ROLE, "- kpi: win_rate", "- kpi: win_rates", "structure.unknown_kpi** KPI `win_rates`, field `kpi`",
    ),
    "unknown objective": (
        ROLE, "objectives: [skilled_people]", "objectives: [skilled]",
        "structure.unknown_objective** KPI `training_hours`, field `objectives`: objective 'skilled' is not defined",
    ),
    "weights": (
        ROLE, "  weight: 30", "  weight: 35", "balance.weights** field `weight`: the KPI weights sum to 105, not 100",
    ),
}


@pytest.mark.parametrize("case", list(FINDINGS))
def test_framework_errors_exit_1_and_are_listed(cli, workspace, case):
    file, old, new, *expected = FINDINGS[case]
    _edit(workspace, file, old, new)
    code, out, err = cli("validate", "-w", workspace)
    assert (code, err) == (1, "")
    assert "## Errors (1)" in out and "Fix: " in out
    assert all(part in out for part in expected), out


def test_warnings_alone_exit_0(cli, workspace):
    _edit(workspace, "kpis.yaml", "  data_source: CRM\n", "  data_source: ''\n")
    code, out, _ = cli("validate", "-w", workspace)
    assert code == 0
    assert "## Warnings (1)" in out and "smart.measurable** in `kpis.yaml`, KPI `win_rate`, field `data_source`" in out


def test_employee_problems_exit_1(cli, workspace):
    (workspace / EMPLOYEES_FILE).write_text(
        "employee_id,name,team,role\nE1,Ann,sales,account_executive\nE2,Bob,sales,sales_director\n", encoding="utf-8"
    )
    code, out, _ = cli("validate", "-w", workspace)
    assert code == 1
    assert "### `employees.csv`" in out and "row 3, field `role`: unknown role ('sales_director')" in out


def test_sample_with_bands_out_of_order_exits_1(cli, sample_workspace):
    framework = load_framework(sample_workspace)
    role = framework.roles[0]
    first = role.kpis[0]
    first.threshold, first.target = first.target, first.threshold
    save_framework(framework, sample_workspace)
    code, out, _ = cli("validate", "-w", sample_workspace, "--format", "csv")
    assert code == 1
    frame = pd.read_csv(io.StringIO(out), keep_default_na=False)
    errors = frame[frame["severity"] == "error"]
    assert errors[["code", "file", "role", "kpi", "field"]].values.tolist() == [
        ["smart.achievable", f"roles/{role.id}.yaml", role.id, first.kpi, "target"]
    ]


def test_csv_and_json_output(cli, workspace):
    _edit(workspace, ROLE, "  weight: 30", "  weight: 35")
    code, out, _ = cli("validate", "-w", workspace, "--format", "csv")
    assert code == 1
    frame = pd.read_csv(io.StringIO(out), keep_default_na=False)
    assert list(frame.columns) == FINDING_COLUMNS and frame["code"].tolist() == ["balance.weights"]
    code, out, _ = cli("validate", "-w", workspace, "--format", "json")
    assert code == 1
    [record] = json.loads(out)
    assert (record["severity"], record["code"], record["role"]) == ("error", "balance.weights", "account_executive")
    assert Code(record["code"]).meaning  # a registered code


@pytest.mark.parametrize("output", ["json", "csv"])
def test_an_unreadable_workspace_is_listed_with_codes_in_json_and_csv(cli, workspace, output):
    _edit(workspace, ROLE, "  weight: 30", "  weight: [")
    code, out, err = cli("validate", "-w", workspace, "--format", output)
    assert code == 2 and "Traceback" not in err
    frame = (pd.DataFrame(json.loads(out)) if output == "json"
             else pd.read_csv(io.StringIO(out), keep_default_na=False))
    assert list(frame.columns) == FINDING_COLUMNS and len(frame) >= 1
    assert set(frame["severity"]) == {"error"} and frame["file"].str.contains("account_executive").any()
    assert all(Code(c).meaning for c in frame["code"])  # every problem has a registered code


def test_json_output_of_a_clean_workspace_is_an_empty_list(cli, workspace):
    code, out, _ = cli("validate", "-w", workspace, "--format", "json")
    assert (code, json.loads(out)) == (0, [])


def test_report_is_written_as_markdown(cli, workspace, tmp_path):
    _edit(workspace, ROLE, "  weight: 30", "  weight: 35")
    report = tmp_path / "reports" / "check.md"
    code, out, _ = cli("validate", "-w", workspace, "--format", "json", "--report", report)
    assert code == 1 and json.loads(out)
    text = report.read_text(encoding="utf-8")
    assert text.startswith(f"# Framework check: {workspace.name}\n")
    assert "Summary: 1 error, 0 warnings, 0 info." in text and "balance.weights" in text
    assert [p.name for p in report.parent.iterdir()] == ["check.md"]


def test_report_that_cannot_be_written_exits_2(cli, workspace, tmp_path):
    code, _, err = cli("validate", "-w", workspace, "--report", tmp_path)
    assert code == 2 and "cannot write the report" in err and "Traceback" not in err


def test_missing_workspace_exits_2(cli, tmp_path):
    code, out, err = cli("validate", "-w", tmp_path / "nowhere")
    assert (code, out) == (2, "")
    missing = tmp_path / "nowhere"
    assert _error_lines(err) == [
        f"error: {missing}, field 'workspace': workspace folder not found. Make one with: kpi-workbook init {missing} "
        "(add --sample for a copy of the sample organization)"
    ]


def test_a_folder_without_a_framework_exits_2_with_the_init_hint(cli, tmp_path):
    (tmp_path / "notes").mkdir()
    code, out, err = cli("validate", "-w", tmp_path / "notes")
    assert (code, out) == (2, "")
    [line] = _error_lines(err)
    assert line.startswith(f"error: {tmp_path / 'notes'}, field 'workspace': not a kpi-workbook workspace")
    assert "kpi-workbook init" in line


def test_the_workspace_is_an_option_not_a_positional_path(cli, workspace):
    code, out, err = cli("validate", workspace)
    assert code == 2 and out == "" and "Traceback" not in err
    assert "unexpected extra argument" in err.lower()
