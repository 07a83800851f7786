"""Framework diff between two workspace versions: the table, the terminal report and the CLI."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from kpi_workbook.analysis.diff import DIFF_COLUMNS, changes_in_words, diff_frameworks, diff_workspaces, format_diff
from kpi_workbook.core.model import Objective, Perspective, Responsibility, RoleKpi
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.workspace.files import load_framework, save_framework


def next_cycle(framework):
    """A copy of the framework with one change of every kind, as a review cycle would make them."""
    new = framework.model_copy(deep=True)
    new.metadata.version = "2025.1"
    new.objectives.append(Objective(id="market_expansion", title="Enter two new markets",
                                    perspective=Perspective.CUSTOMER))
    new.teams = [t for t in new.teams if t.id != "product"]
    kpi = next(k for k in new.kpis if k.id == "win_rate")
    kpi.description = "Share of closed opportunities that were won"
    role = new.role("account_executive")
    role.title = "Senior Account Executive"
    role.responsibilities.append(Responsibility(id="forecast", description="Forecast the quarter's bookings"))
    win_rate = next(a for a in role.kpis if a.kpi == "win_rate")
    win_rate.weight, win_rate.target = 20, 27
    role.kpis = [a for a in role.kpis if a.kpi != "pipeline_coverage"]
    role.kpis.append(RoleKpi(kpi="average_deal_size", weight=5, threshold=20000, target=25000, stretch=30000,
                             objectives=["revenue_growth"]))
    return new


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    root = tmp_path_factory.mktemp("versions")
    old = load_framework(SAMPLE_ORG_DIR)
    save_framework(old, root / "2024Q4")
    save_framework(next_cycle(old), root / "2025Q1")
    return root / "2024Q4", root / "2025Q1"


def rows(table, kind, ident):
    return table[(table["kind"] == kind) & (table["id"] == ident)]


def test_identical_frameworks_have_no_differences():
    framework = load_framework(SAMPLE_ORG_DIR)
    table = diff_frameworks(framework, framework.model_copy(deep=True))
    assert table.empty and list(table.columns) == DIFF_COLUMNS
    assert format_diff(table).startswith("No changes")


def test_every_kind_of_change_is_listed_with_old_and_new_values(versions):
    table = diff_workspaces(*versions)
    assert list(table.columns) == DIFF_COLUMNS
    version = rows(table, "metadata", "metadata")
    assert version[["field", "old", "new"]].values.tolist() == [["version", "2024.1", "2025.1"]]
    added = rows(table, "objective", "market_expansion")
    assert added["change"].tolist() == ["added"] and added["new"].iloc[0] == "Enter two new markets"
    assert rows(table, "team", "product")["change"].tolist() == ["removed"]
    described = rows(table, "kpi", "win_rate")
    assert described["field"].tolist() == ["description"]
    assert rows(table, "role", "account_executive")[["field", "new"]].values.tolist() == [
        ["title", "Senior Account Executive"]]
    assert rows(table, "responsibility", "account_executive/forecast")["change"].tolist() == ["added"]
    changed = rows(table, "assignment", "account_executive/win_rate").set_index("field")
    assert changed.loc["weight", "old"] == "15" and changed.loc["weight", "new"] == "20"
    assert changed.loc["target", "old"] == "25" and changed.loc["target", "new"] == "27"
    removed = rows(table, "assignment", "account_executive/pipeline_coverage")
    assert removed["change"].tolist() == ["removed"] and "weight 15" in removed["old"].iloc[0]
    new = rows(table, "assignment", "account_executive/average_deal_size")
    assert new["new"].iloc[0] == "weight 5, threshold 20000, target 25000, stretch 30000, serves revenue_growth"


def test_the_terminal_report_groups_changes_with_markers(versions):
    text = format_diff(diff_workspaces(*versions), "2024Q4", "2025Q1")
    assert text.splitlines()[0] == "Changes from 2024Q4 to 2025Q1: 3 added, 2 removed, 4 changed entries"
    assert "Objectives\n  + market_expansion: Enter two new markets" in text
    assert "Teams\n  - product: Product" in text
    assert "  ~ account_executive/win_rate\n      weight: 15 -> 20\n      target: 25 -> 27" in text
    assert text.index("Metadata") < text.index("Objectives") < text.index("Assignments (role/KPI)")


def test_words_name_every_changed_link():
    old = load_framework(SAMPLE_ORG_DIR)
    new = old.model_copy(deep=True)
    child = next(o for o in new.objectives if o.parent)
    before = child.parent
    child.parent = "cost_efficiency"
    new.objectives.append(Objective(id="market_expansion", title="Enter two new markets",
                                    perspective=Perspective.CUSTOMER, parent="revenue_growth"))
    role = new.role("account_executive")
    win_rate = next(a for a in role.kpis if a.kpi == "win_rate")
    win_rate.objectives, win_rate.responsibility = ["revenue_growth", "new_customer_growth"], "build_pipeline"
    dropped = next(a for a in role.kpis if a.kpi == "pipeline_coverage")
    role.kpis.remove(dropped)
    role.kpis.append(RoleKpi(kpi="average_deal_size", weight=5, objectives=["revenue_growth"],
                             responsibility="close_new_business"))
    lines = changes_in_words(diff_frameworks(old, new), new)
    assert f"parent of objective {child.id}: {before} → cost_efficiency" in lines
    assert "added objective market_expansion: Enter two new markets, under revenue_growth" in lines
    assert "objectives of win_rate for account_executive: [new_customer_growth] → [revenue_growth, " \
           "new_customer_growth]" in lines
    assert "responsibility of win_rate for account_executive: close_new_business → build_pipeline" in lines
    assert "added average_deal_size for account_executive: weight 5, serves revenue_growth, responsibility " \
           "close_new_business" in lines
    removed = next(line for line in lines if line.startswith("removed pipeline_coverage for account_executive"))
    assert f"serves {', '.join(dropped.objectives)}, responsibility {dropped.responsibility})" in removed


def test_range_bands_show_as_pairs():
    old = load_framework(SAMPLE_ORG_DIR)
    new = old.model_copy(deep=True)
    assignment = next(a for a in new.role("operations_manager").kpis if a.kpi == "capacity_utilization")
    before = assignment.target_range
    assignment.target_range = (78.0, 88.0)
    change = rows(diff_frameworks(old, new), "assignment", "operations_manager/capacity_utilization")
    assert change[["field", "old", "new"]].values.tolist() == [
        ["target_range", f"[{before[0]:g}, {before[1]:g}]", "[78, 88]"]]


def test_cli_prints_text_csv_and_json(versions, cli):
    old, new = versions
    code, out, err = cli("diff", old, new)
    assert code == 0, err
    assert "(version 2024.1)" in out and "~ account_executive/win_rate" in out
    code, out, _ = cli("diff", old, new, "--format", "csv")
    assert code == 0
    table = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    assert list(table.columns) == DIFF_COLUMNS and len(table) == len(diff_workspaces(*versions))
    code, out, _ = cli("diff", old, new, "--format", "json")
    assert code == 0
    assert {"kind": "team", "id": "product", "change": "removed", "field": "", "old": "Product",
            "new": ""} in json.loads(out)
    code, out, _ = cli("diff", old, old)
    assert code == 0 and "No changes" in out


def test_cli_takes_folders_relative_to_the_current_folder(versions, cli):
    old, new = versions
    code, out, err = cli("diff", old.name, new.name, cwd=old.parent)
    assert code == 0, err
    assert "~ account_executive/win_rate" in out


def test_cli_exits_2_naming_the_side_that_cannot_be_read(versions, tmp_path, cli):
    old, _ = versions
    code, _, err = cli("diff", old, tmp_path / "missing")
    assert code == 2
    assert f"{tmp_path / 'missing'} (new): workspace folder not found" in err
    broken = tmp_path / "broken"
    save_framework(load_framework(old), broken)
    (broken / "teams.yaml").write_text("teams: [\n", encoding="utf-8")
    code, _, err = cli("diff", broken, old)
    assert code == 2
    assert f"{broken / 'teams.yaml'} (old): malformed YAML" in err
    assert "Traceback" not in err
