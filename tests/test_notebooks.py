"""Every step notebook run headless with papermill on a copy of the sample organization, for the whole organization
and for teams, in the latest and an earlier period. Each figure a notebook records is compared with the same figure
computed independently from the workspace's files (tests/notebook_helpers.py) or from the checks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_helpers import GROUP, ScopeFigures, WorkspaceFiles

from kpi_workbook.analysis.checks import check_workspace
from kpi_workbook.core.model import Team
from kpi_workbook.core.paths import NOTEBOOKS_DIR, SAMPLE_ORG_DIR
from kpi_workbook.reports.record import RECORD_MIME, read_records, record_bundle
from kpi_workbook.workspace.files import ACTUALS_DB, load_framework, save_framework
from kpi_workbook.workspace.opener import open_workspace

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("notebooks")]

NOTEBOOKS = ["01_strategic_goals", "02_job_descriptions", "03_kpi_design", "04_targets", "05_review"]
RUNS = {"organization": ("", ""), "sales": ("sales", ""), "finance-2025Q2": ("finance", "2025Q2")}
LIVE = "sales-live"  # the sales notebooks with interactive=True
WITH_FORMS = NOTEBOOKS[:4]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PAPERMILL = Path(sys.executable).parent / "papermill"
SCORE_ROUNDING = 0.05 + 1e-9  # the notebook records scores rounded to one decimal
SUGGESTIONS_PER_RESPONSIBILITY = 3


NOTEBOOK_SECONDS = 300  # a notebook run that hangs fails its tests instead of holding the suite
CELL_SECONDS = 120  # a cell without an answer (a kernel idle while its client waits) fails the run: tried once more


def _execute(source: Path, output: Path, parameters: dict) -> dict:
    """Run a notebook headless with papermill's command (a process of its own, never a thread sharing this one's
    kernel clients) and return the executed notebook as JSON, also when a cell failed."""
    parameters = {"interactive": False, **parameters}
    command = [str(PAPERMILL), str(source), str(output), "-k", "python3", "--no-progress-bar",
               "--execution-timeout", str(CELL_SECONDS), "-y", json.dumps(parameters)]
    environment = {**os.environ, "MPLBACKEND": "Agg"}  # the notebooks must still show figures
    done = subprocess.run(command, capture_output=True, text=True, timeout=NOTEBOOK_SECONDS, env=environment)
    if done.returncode != 0 and "timed out" in done.stderr.lower():
        subprocess.run(command, capture_output=True, text=True, timeout=NOTEBOOK_SECONDS, env=environment)
    return json.loads(output.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Path:
    """A private copy of the sample organization, with its actuals store built once before the parallel runs."""
    root = tmp_path_factory.mktemp("notebooks") / "sample_org"
    shutil.copytree(SAMPLE_ORG_DIR, root, ignore=shutil.ignore_patterns(f"{ACTUALS_DB}*"))
    open_workspace(root, notice=lambda _: None).store().periods()
    return root


@pytest.fixture(scope="session")
def executed(workspace, tmp_path_factory) -> dict[tuple[str, str], dict]:
    """Every notebook once per run of RUNS, and the ones with forms live for sales; two at a time, MPLBACKEND=Agg."""
    out = tmp_path_factory.mktemp("executed")
    jobs = [(name, run) for name in NOTEBOOKS for run in RUNS] + [(name, LIVE) for name in WITH_FORMS]

    def execute(job: tuple[str, str]) -> dict:
        name, run = job
        team, period = RUNS["sales" if run == LIVE else run]
        parameters = {"workspace": str(workspace), "team": team, "period": period, "interactive": run == LIVE,
                      **({"people": True} if name == "05_review" else {})}  # each person's score, as run --people
        return _execute(NOTEBOOKS_DIR / f"{name}.ipynb", out / f"{name}_{run}.ipynb", parameters)

    with ThreadPoolExecutor(max_workers=2) as pool:  # two papermill processes at a time
        return dict(zip(jobs, pool.map(execute, jobs), strict=True))


@pytest.fixture(scope="session")
def scopes(workspace) -> dict[str, ScopeFigures]:
    """What each run must see, read from the workspace's files without the package."""
    files = WorkspaceFiles(workspace)
    return {run: ScopeFigures(files, team, period) for run, (team, period) in RUNS.items()}


def _outputs(nb: dict, kind: str | None = None) -> list[dict]:
    found = [o for cell in nb["cells"] for o in cell.get("outputs", [])]
    return [o for o in found if kind is None or kind in o.get("data", {})]


def _errors(nb: dict) -> list[str]:
    return [f"{o['ename']}: {o['evalue']}" for o in _outputs(nb) if o["output_type"] == "error"]


def assert_figures(nb: dict, expected: dict[str, Any], unordered: tuple[str, ...] = ()) -> None:
    """The notebook ran clean and recorded exactly the expected figures: none unchecked, none missing, all equal.

    `unordered` names list figures whose order is only presentation (compared sorted)."""
    assert _errors(nb) == []
    records = read_records(nb)
    records.update({key: sorted(records[key]) for key in unordered if key in records})
    assert sorted(records) == sorted(expected), "every recorded figure has an independently computed value"
    wrong = {key: (records[key], value) for key, value in expected.items() if records[key] != value}
    assert wrong == {}, "recorded (left) and independently computed (right) figures differ"


def _scores(series: pd.Series) -> Any:
    """Weighted scores keyed like the notebook's records (team, or team/role), to one decimal."""
    keys = ["/".join(k) if isinstance(k, tuple) else k for k in series.index]
    return pytest.approx(dict(zip(keys, series.to_numpy(), strict=True)), abs=SCORE_ROUNDING)


ALL_RUNS = pytest.mark.parametrize("run", list(RUNS))


@pytest.mark.parametrize("name", NOTEBOOKS)
@ALL_RUNS
def test_notebook_runs_clean_and_records_key_figures(executed, name, run):
    nb = executed[name, run]
    assert _errors(nb) == []
    assert _outputs(nb, RECORD_MIME), "key figures are recorded"


@ALL_RUNS
def test_01_strategic_goals(executed, scopes, run):
    scope, nb = scopes[run], executed["01_strategic_goals", run]
    objectives = [o["id"] for o in scope.files.objectives]
    covered = scope.covered_objectives()
    assert_figures(nb, {
        **scope.header(), "objectives": len(objectives), "covered_objectives": len(covered),
        "uncovered": sorted(set(objectives) - covered), "unlinked_kpis": scope.unlinked_assignments(),
    }, unordered=("uncovered",))
    assert len(_outputs(nb, "image/png")) == 1, "the coverage chart"


@ALL_RUNS
def test_02_job_descriptions(executed, scopes, run):
    scope = scopes[run]
    roles = [r["id"] for r in scope.roles]
    holders = scope.employees["role"].value_counts()
    responsibilities = scope.responsibilities()
    assert_figures(executed["02_job_descriptions", run], {
        **scope.header(), "role_ids": roles, "people_by_role": {r: int(holders.get(r, 0)) for r in roles},
        "responsibilities": len(responsibilities),
        "uncovered_responsibilities": int((responsibilities["kpis"] == 0).sum()),
        "missing_outcomes": int((responsibilities["expected_outcome"].str.strip() == "").sum()),
        "kpis_without_responsibility": scope.kpis_without_responsibility(),
    })


@ALL_RUNS
def test_03_kpi_design(executed, scopes, workspace, run):
    scope, nb = scopes[run], executed["03_kpi_design", run]
    roles = {r["id"] for r in scope.roles}
    findings = [f for f in check_workspace(open_workspace(workspace)) if f.role in roles]
    assert_figures(nb, {
        **scope.header(), "role_kpis": len(scope.assignments),
        "weight_totals": scope.assignments.groupby("role")["weight"].sum().to_dict(),
        "roles_without_development": scope.roles_where(lambda rows: not rows["category"].eq("development").any()),
        "roles_not_mixing": scope.roles_where(
            lambda rows: not {"leading", "lagging"} <= set(rows["indicator"])),
        "findings": len(findings), "errors": sum(f.severity == "error" for f in findings),
        "suggestions": SUGGESTIONS_PER_RESPONSIBILITY * len(scope.responsibilities()),
        "computed_kpis": sorted({k for k in scope.assignments["kpi_id"] if "measure" in scope.files.kpis[k]}),
        "entered_kpis": len({k for k in scope.assignments["kpi_id"] if "measure" not in scope.files.kpis[k]}),
    }, unordered=("computed_kpis",))
    assert len(_outputs(nb, "image/png")) == 1, "the balance chart"


@ALL_RUNS
def test_04_targets(executed, scopes, run):
    scope, nb = scopes[run], executed["04_targets", run]
    assignments = len(scope.assignments)
    assert_figures(nb, {
        **scope.header(), "period": scope.period, "periods": len(scope.periods), "assignments": assignments,
        "weight_totals": scope.assignments.groupby("role")["weight"].sum().to_dict(),
        "current_verdicts": dict(scope.current_verdicts()), "history_charts": assignments if scope.team else 0,
    })
    charts = len(scope.roles) if scope.team else 0
    assert len(_outputs(nb, "image/png")) == charts, "one history chart per role for a team, none for all"


@ALL_RUNS
def test_05_review(executed, scopes, run):
    scope, nb = scopes[run], executed["05_review", run]
    people = scope.scores_by(["team", "role", "employee_id"])
    assert_figures(nb, {
        **scope.header(), "period": scope.period, "team_scores": _scores(scope.scores_by(["team"])),
        "role_scores": _scores(scope.scores_by(["team", "role"])),
        "kpi_status": dict(scope.statuses_by(GROUP)), "people_scored": len(people),
        "people_status": dict(scope.statuses_by(["team", "role", "employee_id"])),
        "flags": scope.flags()["flag"].value_counts().to_dict(),
        # the notebooks' workspace is never computed: every value of the period was imported from actuals.csv
        "values_by_origin": {"imported": int((scope.actuals["period"] == scope.period).sum())},
    })
    role_charts = len(scope.scores_by(["team", "role"])) if scope.team else 0
    assert len(_outputs(nb, "image/png")) == 2 + role_charts, "roles, trend, and one chart per role for a team"


def test_the_independent_figures_find_what_the_readme_documents(scopes, workspace):
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
    assert org.roles_where(lambda rows: not {"leading", "lagging"} <= set(rows["indicator"])) == ["financial_analyst"]
    uncovered = org.responsibilities().query("kpis == 0")
    assert uncovered[["role", "responsibility"]].values.tolist() == [["support_team_lead", "handle_escalations"]]
    assert (len(org.files.objectives), len(org.roles), len(org.employees), len(org.periods)) == (7, 16, 180, 8)
    findings = check_workspace(open_workspace(workspace))
    assert sorted((f.severity, f.role) for f in findings) == [("warning", "financial_analyst"),
                                                              ("warning", "support_team_lead")]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_forms_only_when_interactive(executed, name):
    for run in RUNS:
        assert not _outputs(executed[name, run], WIDGET_VIEW), "no widget in a headless run"
    if name in WITH_FORMS:
        live = executed[name, LIVE]
        assert _errors(live) == []
        assert len(_outputs(live, WIDGET_VIEW)) >= 2, "the forms and the save panel"
        assert read_records(live) == read_records(executed[name, "sales"]), "the forms change no reported figure"


def test_a_team_notebook_shows_only_its_own_people(executed, scopes):
    employees = scopes["organization"].employees
    others = set(employees.loc[employees["team"] != "sales", "employee_id"])
    mine = set(employees.loc[employees["team"] == "sales", "employee_id"])
    for name in NOTEBOOKS:
        text = json.dumps(_outputs(executed[name, "sales"]))
        assert not [e for e in others if e in text], f"{name} shows people of other teams"
    review_text = json.dumps(_outputs(executed["05_review", "sales"]))
    assert all(e in review_text for e in mine), "the team's own people are in its review"


def test_an_unknown_team_fails_with_the_valid_teams(workspace, tmp_path):
    nb = _execute(NOTEBOOKS_DIR / "01_strategic_goals.ipynb", tmp_path / "out.ipynb",
                  {"workspace": str(workspace), "team": "salez"})
    error = next(o for o in _outputs(nb) if o["output_type"] == "error")
    valid = ", ".join(sorted(t.id for t in load_framework(workspace).teams))
    assert error["ename"] == "UnknownTeamError" and f"Valid teams: {valid}" in error["evalue"]


def test_a_team_id_like_007_stays_text_with_raw_parameters(workspace, tmp_path):
    org = tmp_path / "org"
    shutil.copytree(workspace, org, ignore=shutil.ignore_patterns(f"{ACTUALS_DB}*"))
    fw = load_framework(org)
    fw.teams.append(Team(id="007", name="Special projects"))
    fw.role("account_executive").teams.append("007")
    save_framework(fw, org)
    with (org / "employees.csv").open("a", encoding="utf-8") as handle:
        handle.write("X007,Jane Bond,007,account_executive\n")
    notebook = str(NOTEBOOKS_DIR / "01_strategic_goals.ipynb")
    common = [str(PAPERMILL), notebook, str(tmp_path / "out.ipynb"), "-k", "python3", "-p", "workspace", str(org),
              "-p", "interactive", "False", "--no-progress-bar"]
    done = subprocess.run([*common, "-r", "team", "007"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    records = read_records(tmp_path / "out.ipynb")
    assert (records["team"], records["people"], records["roles"]) == ("007", 1, 1)
    done = subprocess.run([*common, "-p", "team", "007"], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "-r team 007" in done.stderr


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
