"""Every step notebook run headless with papermill on a copy of the sample organization for the sales team, and
the ones with forms live (tests/notebook_runs.py: each figure a notebook records is compared with the same figure
computed independently); a team notebook shows only its own people; a team id like 007 stays text. The whole
organization and an earlier period are in tests/test_notebooks.py."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from notebook_runs import LIVE, NOTEBOOKS, WIDGET_VIEW, WITH_FORMS, NotebookRuns, errors, outputs
from python_tools import papermill_command

from kpi_workbook.core.model import Team
from kpi_workbook.core.paths import NOTEBOOKS_DIR
from kpi_workbook.reports.record import read_records
from kpi_workbook.workspace.files import ACTUALS_DB, load_framework, save_framework

pytestmark = pytest.mark.slow


class TestSalesAndTheLiveForms(NotebookRuns):
    HEADLESS = ("sales",)
    LIVE_FORMS = True

    @pytest.mark.parametrize("name", WITH_FORMS)
    def test_forms_only_when_interactive(self, executed, name):
        live = executed[name, LIVE]
        assert errors(live) == []
        assert len(outputs(live, WIDGET_VIEW)) >= 2, "the forms and the save panel"
        assert read_records(live) == read_records(executed[name, "sales"]), "the forms change no reported figure"

    def test_a_team_notebook_shows_only_its_own_people(self, executed, scopes):
        employees = scopes["organization"].employees
        others = set(employees.loc[employees["team"] != "sales", "employee_id"])
        mine = set(employees.loc[employees["team"] == "sales", "employee_id"])
        for name in NOTEBOOKS:
            text = json.dumps(outputs(executed[name, "sales"]))
            assert not [e for e in others if e in text], f"{name} shows people of other teams"
        review_text = json.dumps(outputs(executed["05_review", "sales"]))
        assert all(e in review_text for e in mine), "the team's own people are in its review"

    def test_a_team_id_like_007_stays_text_with_raw_parameters(self, workspace, tmp_path):
        org = tmp_path / "org"
        shutil.copytree(workspace, org, ignore=shutil.ignore_patterns(f"{ACTUALS_DB}*"))
        fw = load_framework(org)
        fw.teams.append(Team(id="007", name="Special projects"))
        fw.role("account_executive").teams.append("007")
        save_framework(fw, org)
        with (org / "employees.csv").open("a", encoding="utf-8") as handle:
            handle.write("X007,Jane Bond,007,account_executive\n")
        notebook = str(NOTEBOOKS_DIR / "01_strategic_goals.ipynb")
        common = [notebook, tmp_path / "out.ipynb", "-k", "python3", "-p", "workspace", org, "-p", "interactive",
                  "False", "--no-progress-bar"]
        done = subprocess.run(papermill_command(*common, "-r", "team", "007"), capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        records = read_records(tmp_path / "out.ipynb")
        assert (records["team"], records["people"], records["roles"]) == ("007", 1, 1)
        done = subprocess.run(papermill_command(*common, "-p", "team", "007"), capture_output=True, text=True,
                              timeout=300)
        assert done.returncode != 0 and "-r team 007" in done.stderr
