"""The sample organization's whole path: its raw exports, computed by the KPIs' measures, give its actuals exactly."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.sample import write_sample
from kpi_workbook.sample.exports import EXPORTS_DIR
from kpi_workbook.workspace.files import ACTUALS_CSV, load_framework
from kpi_workbook.workspace.sources import SOURCES_FILE, load_sources
from kpi_workbook.workspace.store import workspace_store

KEYS = ["period", "team", "employee_id", "kpi_id"]
EXPORTS = {"crm_opportunities", "hris_employees", "requisitions", "helpdesk_tickets", "deployments", "hris_roster",
           "absences", "training"}


def _actuals(root: Path) -> pd.DataFrame:
    return pd.read_csv(root / ACTUALS_CSV, dtype={"employee_id": str}, keep_default_na=False)


def _measured(root: Path) -> set[str]:
    return {k.id for k in load_framework(root).kpis if k.measure is not None}


def _computed_equals_actuals(root: Path, cli) -> pd.DataFrame:
    """Run compute on `root` and check the store holds exactly actuals.csv's values of every measured KPI."""
    code, stdout, stderr = cli("compute", "-w", root)
    assert code == 0, stderr
    assert "stored" in stdout and "Traceback" not in stderr
    measured = _measured(root)
    expected = _actuals(root)
    expected = expected[expected["kpi_id"].isin(measured)].sort_values(KEYS).reset_index(drop=True)
    stored = workspace_store(root).read_actuals(kpis=sorted(measured)).sort_values(KEYS).reset_index(drop=True)
    assert len(stored) == len(expected) > 0
    pd.testing.assert_frame_equal(stored[KEYS], expected[KEYS], check_dtype=False)
    assert (stored["value"].to_numpy() == expected["value"].to_numpy()).all()  # exactly, not nearly
    return stored


def test_compute_on_a_copy_of_the_sample_gives_its_actuals_exactly(tmp_path, cli):
    root = tmp_path / "alderbrook"
    code, _, stderr = cli("init", root, "--sample")
    assert code == 0, stderr
    stored = _computed_equals_actuals(root, cli)
    assert set(stored["kpi_id"]) == _measured(root) and len(_measured(root)) >= 9
    assert set(stored["team"]) == {"sales", "marketing", "hr", "operations", "customer_support", "it", "product"}
    lineage = workspace_store(root).read_lineage()
    assert len(lineage) == len(stored) and (lineage["source_rows"] > 0).all()
    assert {name for names in lineage["source"] for name in names.split(", ")} == EXPORTS  # a ratio may read two
    code, stdout, stderr = cli("compute", "-w", root, "--dry-run")
    assert code == 0 and "dry run: nothing stored" in stdout, stderr
    rows = re.findall(r"^\s*(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", stdout, re.M)
    assert {r[0] for r in rows} == _measured(root)
    assert all(r[1:4] == ("0", "0", "0") and int(r[4]) > 0 for r in rows)  # new, changed, removed; unchanged


def test_another_seed_and_size_computes_its_own_actuals(tmp_path, cli):
    root = tmp_path / "small"
    write_sample(root, employees=70, periods=5, seed=11, first_period="2023Q3")
    stored = _computed_equals_actuals(root, cli)
    assert sorted(stored["period"].unique()) == ["2023Q3", "2023Q4", "2024Q1", "2024Q2", "2024Q3"]


def test_the_sample_ships_small_raw_exports_in_real_world_formats():
    sources = load_sources(SAMPLE_ORG_DIR)
    assert set(sources) == EXPORTS
    files = sorted((SAMPLE_ORG_DIR / EXPORTS_DIR).glob("*.csv"))
    assert {f"{EXPORTS_DIR}/{f.name}" for f in files} == {s.file for s in sources.values()}
    assert sum(f.stat().st_size for f in SAMPLE_ORG_DIR.rglob("*") if f.is_file()) < 3_000_000
    crm = pd.read_csv(SAMPLE_ORG_DIR / sources["crm_opportunities"].file, dtype=str)
    assert set(crm["team_name"]) == {"Sales"} and sources["crm_opportunities"].team_match.value == "name"
    assert crm["closed_on"].str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}").all()
    assert (~crm["closed_on"].str.match(r"0")).all() and crm["closed_on"].str.match(r"\d/").any()
    hris = pd.read_csv(SAMPLE_ORG_DIR / sources["hris_employees"].file, dtype=str, keep_default_na=False)
    leavers = hris[hris["leave_date"] != ""]
    assert set(leavers["leave_reason"]) == {"voluntary", "involuntary"}
    assert not leavers["employee_id"].isin(pd.read_csv(SAMPLE_ORG_DIR / "employees.csv")["employee_id"]).any()
    assert hris["as_of"].str.fullmatch(r"\d{2}\.\d{2}\.\d{4}").all()


def test_the_sample_validates_its_measures_against_its_sources(cli):
    code, stdout, stderr = cli("validate", "-w", "sample")
    assert "measures." not in stdout + stderr, stdout + stderr
    assert code == 0, stderr


def test_regenerating_with_the_seed_gives_identical_exports(tmp_path):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        write_sample(tmp_path / name, employees=50, periods=3, seed=seed)
    read = {n: {p.name: p.read_bytes() for p in (tmp_path / n / EXPORTS_DIR).iterdir()} for n in "abc"}
    assert read["a"] == read["b"] and len(read["a"]) == len(EXPORTS)
    assert all(read["a"][f] != read["c"][f] for f in read["a"])
    as_of = b"as_of: 2024-09-30"  # the roster's export day: the end of the last of the three quarters
    assert (tmp_path / "a" / SOURCES_FILE).read_bytes() == (SAMPLE_ORG_DIR / SOURCES_FILE).read_bytes().replace(
        b"as_of: 2025-12-31", as_of)


def test_the_excel_export_shows_where_each_value_comes_from(tmp_path, cli):
    from openpyxl import load_workbook

    from kpi_workbook.reports.excel import LINEAGE_COLUMNS, export_team
    from kpi_workbook.workspace.opener import open_workspace

    root = tmp_path / "alderbrook"
    assert cli("init", root, "--sample")[0] == 0
    code, _, stderr = cli("compute", "-w", root, "--period", "2025Q4", "--kpi", "win_rate")
    assert code == 0, stderr
    scope = open_workspace(root).scope(team="sales", period="2025Q4")
    lineage = scope.store.read_lineage()
    out = export_team(scope.framework, scope.employees, scope.actuals, "sales", tmp_path / "sales.xlsx",
                      period="2025Q4", lineage=lineage)[0]
    sheet = load_workbook(out, read_only=True)["Scorecard"]
    rows = list(sheet.iter_rows(values_only=True))
    card = pd.DataFrame(rows[1:], columns=rows[0])
    assert list(card.columns[-3:]) == LINEAGE_COLUMNS
    computed = card[card["kpi_id"] == "win_rate"]
    imported = card[card["kpi_id"] != "win_rate"]
    assert len(computed) and (computed["source"] == "crm_opportunities").all()
    assert (computed["source_rows"] >= 10).all() and computed["computed_at"].notna().all()
    expected = lineage.set_index("employee_id").loc[computed["employee_id"], "source_rows"].to_numpy()
    assert (computed["source_rows"].to_numpy() == expected).all()
    assert len(imported) and imported[LINEAGE_COLUMNS].isna().all().all()
