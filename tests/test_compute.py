"""`kpi-workbook compute`: dry run, one-transaction replace of exactly the computed slices, lineage, bad input."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
from measure_fixtures import DEALS, write_workspace

from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import ACTUALS_DB, load_framework
from kpi_workbook.workspace.store import DuckDBStore


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return write_workspace(tmp_path / "ws")


def store(root: Path) -> DuckDBStore:
    return DuckDBStore(root / ACTUALS_DB)


def test_dry_run_shows_new_values_and_stores_nothing(cli, workspace):
    code, out, err = cli("compute", "-w", workspace, "--dry-run")
    assert code == 0, err
    assert "won_revenue    7" in out and "dry run: nothing stored" in out  # 4 from deals, 3 zeros
    assert not (workspace / ACTUALS_DB).exists()
    # why a group has no value, per KPI and reason, with the first such group (E3 closed no deal in 2025Q1)
    assert ('note: win_rate: no data in 4 group(s): division by zero: number of rows in deals where stage in ("won", '
            '"lost") is 0 (first: 2025Q1 sales E3)') in err.splitlines()


def test_compute_stores_values_with_lineage_and_a_rerun_never_duplicates(cli, workspace):
    assert cli("compute", "-w", workspace)[0] == 0
    first = store(workspace).read_actuals()
    code, out, _ = cli("compute", "-w", workspace)
    assert code == 0 and "replaced 53 stored value(s)" in out
    again = store(workspace).read_actuals()
    assert len(first) == len(again) == 53 and first.equals(again)
    lineage = store(workspace).read_lineage("won_revenue")
    lineage = lineage[lineage["period"] == "2025Q1"].set_index("employee_id")
    assert lineage.loc["E1", "source"] == "deals" and lineage.loc["E1", "source_rows"] == 2
    assert lineage["definition_hash"].nunique() == 1 and lineage["computed_at"].notna().all()


def test_a_corrected_export_changes_and_removes_exactly_its_slices(cli, workspace):
    cli("import-actuals", write_long(workspace), "-w", workspace)  # a value entered by hand, another KPI
    assert cli("compute", "-w", workspace)[0] == 0
    corrected = DEALS.replace("2,E1,sales west,won,300", "2,E1,sales west,won,310").replace(
        "4,E2,Sales West,lost,80,2025-03-01,2025-03-15\n", "")
    (workspace / "exports" / "deals.csv").write_text(corrected, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "'str' is not supported as a fill value", pd.errors.Pandas4Warning)
        code, out, _ = cli("compute", "-w", workspace, "--dry-run", "--kpi", "won_revenue")
    assert code == 0
    # E1 changed; E2, whose only deal is gone, loses its 2025Q1 value and its 2025Q2 zero
    row = next(line.split() for line in out.splitlines() if line.startswith("won_revenue"))
    assert row[1:5] == ["0", "1", "2", "4"] and row[6] == "0"  # new, changed, removed, unchanged; no data
    assert cli("compute", "-w", workspace)[0] == 0
    values = store(workspace).read_actuals(kpis="won_revenue")
    assert sorted(zip(values["period"], values["employee_id"], values["value"], strict=True)) == [
        ("2025Q1", "E1", 410.0), ("2025Q1", "E3", 0.0), ("2025Q2", "E1", 0.0), ("2025Q2", "E3", 0.0),
        ("2025Q2", "R1", 700.0)]
    entered = store(workspace).read_actuals(kpis="deals", periods="2024Q4")
    assert entered["value"].tolist() == [9.0]  # a period no source covers is untouched


def _zeros_without_rows(root: Path) -> list[tuple[str, str]]:
    """The (period, team) groups whose team_revenue would be 0 from no rows at all."""
    from kpi_workbook.analysis.measures import compute

    fw = load_framework(root)
    values = compute(root, fw, load_employees(root, fw), kpis=["team_revenue"], scopes=False).values
    zeros = values[(values["value"] == 0) & (values["source_rows"] == 0)]
    return sorted(zip(zeros["period"].astype(str), zeros["team"].astype(str), strict=True))


def test_a_team_left_without_rows_in_a_period_the_export_covers_loses_its_values(cli, workspace):
    assert cli("compute", "-w", workspace)[0] == 0
    revenue = store(workspace).read_actuals(kpis="team_revenue", periods="2025Q2")
    assert dict(zip(revenue["team"], revenue["value"], strict=True)) == {"rd": 700.0, "sales": 0.0}
    moved = DEALS  # R1's deals were labelled with the wrong region: the corrected export puts them in Sales West
    for region in ("Recherche & Développement", "recherche & developpement", "Recherche et Développement"):
        moved = moved.replace(f"R1,{region},", "R1,Sales West,")
    (workspace / "exports" / "deals.csv").write_text(moved, encoding="utf-8")
    code, out, _ = cli("compute", "-w", workspace, "--dry-run", "--kpi", "team_revenue")
    assert code == 0
    row = next(line.split() for line in out.splitlines() if line.startswith("team_revenue"))
    assert row[1:] == ["0", "2", "0", "2", "2", "0"]  # 2025Q2: sales 0 → 700, rd 700 → 0; 2025Q1 unchanged
    assert _zeros_without_rows(workspace) == [("2025Q1", "rd"), ("2025Q2", "rd")]  # the dry run counts true zeros
    assert cli("compute", "-w", workspace)[0] == 0
    revenue = store(workspace).read_actuals(kpis="team_revenue", periods="2025Q2")
    assert dict(zip(revenue["team"], revenue["value"], strict=True)) == {"sales": 700.0, "rd": 0.0}
    r1 = store(workspace).read_actuals(kpis="won_revenue", periods="2025Q2", team="rd")
    assert r1["value"].tolist() == [0.0]  # R1's own deals now say another team: left out; in rd R1 closed nothing
    headcount = store(workspace).read_actuals(kpis="headcount")
    assert set(headcount["team"]) == {"sales", "rd"}  # its own export still has both teams


def write_long(root: Path) -> Path:
    path = root / "entered.csv"
    path.write_text("period,team,employee_id,kpi_id,value\n2024Q4,sales,E1,deals,9\n", encoding="utf-8")
    return path


def test_period_and_kpi_options(cli, workspace):
    assert cli("compute", "-w", workspace, "--period", "2025Q2", "--kpi", "deals")[0] == 0
    stored = store(workspace).read_actuals()
    assert set(stored["period"]) == {"2025Q2"} and set(stored["kpi_id"]) == {"deals"}
    code, _, err = cli("compute", "-w", workspace, "--kpi", "nope")
    assert code == 2 and "'nope' is not a KPI with a measure" in err and "Traceback" not in err
    code, _, err = cli("compute", "-w", workspace, "--period", "2025Q2", "--from", "2025Q1")
    assert code == 2 and "either --period or --from/--to" in err


def test_workspace_defaults_to_the_current_folder(cli, workspace):
    code, out, err = cli("compute", "--dry-run", cwd=workspace)
    assert code == 0, err
    code, _, err = cli("compute", "--dry-run", cwd=workspace.parent)
    assert code == 2 and "framework.yaml" in err


@pytest.mark.parametrize(("deals_csv", "message"), [
    ("deal_id,owner,region,stage,amount,created_on,closed_on\n1,E1,Sales West,won,1e,2025-01-01,2025-01-02\n",
     "deals.csv, row 2, field 'amount': not a number"),
    ("deal_id,owner,region,stage,amount,created_on,closed_on\n1,E1,Sales West,won,1,2025-01-01,02.01.2025\n",
     "deals.csv, row 2, field 'closed_on': not a date in the format %Y-%m-%d (got '02.01.2025')"),
    ("deal_id,owner,region,stage,amount,created_on,closed_on\n1,E1,Sals Wst,won,1,2025-01-01,2025-01-02\n",
     "unknown team 'Sals Wst'"),
    ("deal_id,owner,stage,amount,created_on,closed_on\n1,E1,won,1,2025-01-01,2025-01-02\n",
     "deals.csv, field 'region': missing column"),
    ("deal_id,owner,region,stage,amount,created_on,closed_on\n", "deals.csv: empty source"),
])
def test_bad_sources_give_one_clear_error_and_store_nothing(cli, tmp_path, deals_csv, message):
    root = write_workspace(tmp_path / "ws", deals_csv=deals_csv)
    code, _, err = cli("compute", "-w", root)
    assert code == 2 and message in err and "Traceback" not in err, err
    assert not (root / ACTUALS_DB).exists()
