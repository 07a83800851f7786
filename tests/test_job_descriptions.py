"""Step 2: roles, responsibilities and outcomes, and responsibilities no KPI measures."""

from __future__ import annotations

import pandas as pd

from kpi_workbook.analysis.checks import check_framework
from kpi_workbook.core.model import Framework, Responsibility
from kpi_workbook.steps.job_descriptions import (
    kpis_without_responsibility,
    missing_outcomes,
    responsibilities_table,
    roles_table,
    uncovered_responsibilities,
)
from kpi_workbook.workspace.files import load_framework


def test_roles_table_counts_responsibilities_kpis_and_people(small_framework: Framework):
    people = pd.DataFrame({"employee_id": ["1", "2", "3"], "role": ["account_executive"] * 2 + ["other"]})
    table = roles_table(small_framework.roles, people)
    assert table.loc[0, ["role", "teams", "responsibilities", "kpis", "people"]].tolist() == [
        "account_executive", "sales", 4, 5, 2]
    assert roles_table(small_framework.roles).loc[0, "people"] == 0


def test_responsibilities_list_the_kpis_measuring_them(small_framework):
    table = responsibilities_table(small_framework.roles).set_index("responsibility")
    assert table.loc["close_deals", "kpis"] == "win_rate, sales_cycle_days"
    assert table.loc["close_deals", "kpi_count"] == 2
    assert table.loc["learn", "kpis"] == "training_hours"


def test_uncovered_responsibilities_are_the_ones_without_a_kpi(small_framework):
    role = small_framework.roles[0]
    role.responsibilities = [*role.responsibilities,
                             Responsibility(id="mentor", description="Mentor new hires", expected_outcome="Ramp-up")]
    role.kpis = [k for k in role.kpis if k.responsibility != "price_deals"]
    found = uncovered_responsibilities(small_framework.roles)
    assert found["responsibility"].tolist() == ["price_deals", "mentor"]
    assert found.loc[1, "expected_outcome"] == "Ramp-up"


def test_uncovered_responsibilities_agree_with_the_checks_on_the_sample(sample_workspace):
    fw = load_framework(sample_workspace)
    assert len(responsibilities_table(fw.roles)) == sum(len(r.responsibilities) for r in fw.roles)
    found = uncovered_responsibilities(fw.roles)
    flagged = [f for f in check_framework(fw) if f.code == "coverage.responsibility"]
    assert len(found) == len(flagged)
    assert all(f"'{row.responsibility}'" in f.entry and f.role == row.role
               for row, f in zip(found.itertuples(), flagged, strict=True))
    assert missing_outcomes(fw.roles).empty


def test_missing_outcomes_and_kpis_without_responsibility(small_framework):
    role = small_framework.roles[0]
    assert missing_outcomes(small_framework.roles)["responsibility"].tolist() == [
        "close_deals", "build_pipeline", "price_deals", "learn"]
    role.kpis[0] = role.kpis[0].model_copy(update={"responsibility": None})
    role.kpis[1] = role.kpis[1].model_copy(update={"responsibility": "gone"})
    found = kpis_without_responsibility(small_framework.roles)
    assert found[["kpi", "responsibility"]].values.tolist() == [["win_rate", ""], ["pipeline_coverage", "gone"]]
