"""Every step notebook run headless with papermill on a copy of the sample organization for the whole
organization and for finance in an earlier period (tests/notebook_runs.py: each figure a notebook records is compared
with the same figure computed independently); a notebook asked for an unknown team; the key-figure records.
The sales runs and the live forms are in tests/test_notebooks_sales.py."""

from __future__ import annotations

import json

import numpy as np
import pytest
from notebook_runs import NotebookRuns, execute, outputs

from kpi_workbook.analysis.checks import check_workspace
from kpi_workbook.core.paths import NOTEBOOKS_DIR
from kpi_workbook.reports.record import RECORD_MIME, read_records, record_bundle
from kpi_workbook.workspace.files import load_framework
from kpi_workbook.workspace.opener import open_workspace

pytestmark = pytest.mark.slow


class TestOrganizationAndAnEarlierPeriod(NotebookRuns):
    HEADLESS = ("organization", "finance-2025Q2")

    def test_the_independent_figures_find_what_the_readme_documents(self, scopes, workspace):
        """The computations the notebooks are checked against reproduce the sample's documented facts."""
        org = scopes["organization"]
        flags = org.flags()
        assert set(zip(flags["flag"], flags["team"], flags["role"], flags["kpi_id"], flags["objective"],
                       strict=True)) >= {
            ("target_too_easy", "sales", "sales_development_rep", "meetings_booked", ""),
            ("target_too_easy", "it", "site_reliability_engineer", "system_availability", ""),
            ("never_met", "hr", "recruiter", "time_to_hire", ""),
            ("never_met", "finance", "accounts_receivable_specialist", "days_sales_outstanding", ""),
            ("no_data", "marketing", "marketing_specialist", "content_engagement_rate", ""),
            ("objective_all_red", "finance", "", "", "revenue_growth"),
        }
        assert "values_behaviour_rating" in set(flags.loc[flags["flag"] == "no_variation", "kpi_id"])
        assert org.roles_where(lambda rows: not {"leading", "lagging"} <= set(rows["indicator"])) == [
            "financial_analyst"]
        uncovered = org.responsibilities().query("kpis == 0")
        assert uncovered[["role", "responsibility"]].values.tolist() == [["support_team_lead", "handle_escalations"]]
        assert (len(org.files.objectives), len(org.roles), len(org.employees), len(org.periods)) == (7, 16, 180, 8)
        findings = check_workspace(open_workspace(workspace))
        assert sorted((f.severity, f.role) for f in findings) == [("warning", "financial_analyst"),
                                                                  ("warning", "support_team_lead")]

    def test_an_unknown_team_fails_with_the_valid_teams(self, workspace, tmp_path):
        nb = execute(NOTEBOOKS_DIR / "01_strategic_goals.ipynb", tmp_path / "out.ipynb",
                      {"workspace": str(workspace), "team": "salez"})
        error = next(o for o in outputs(nb) if o["output_type"] == "error")
        valid = ", ".join(sorted(t.id for t in load_framework(workspace).teams))
        assert error["ename"] == "UnknownTeamError" and f"Valid teams: {valid}" in error["evalue"]


def test_records_are_plain_json_with_a_readable_line(tmp_path):
    bundle = record_bundle(team="", people=np.int64(3), scores={"sales": np.float64(99.5)}, ids=("a", "b"))
    assert bundle[RECORD_MIME] == {"team": "", "people": 3, "scores": {"sales": 99.5}, "ids": ["a", "b"]}
    assert bundle["text/plain"] == ("Key figures — team: (whole organization) · people: 3 · scores: sales 99.5 · "
                                    "ids: a, b")
    assert bundle["text/html"] == "<span hidden></span>"  # a page (JupyterLab, Voilà) shows no debug-like line
    with pytest.raises(TypeError):
        record_bundle(when=object())
    nb = {"cells": [{"cell_type": "code", "outputs": [{"output_type": "display_data", "data": record_bundle(n=1)},
                                                      {"output_type": "display_data", "data": record_bundle(n=2)}]},
                    {"cell_type": "markdown", "source": ""}]}
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb))
    assert read_records(nb) == read_records(tmp_path / "nb.ipynb") == {"n": 2}
