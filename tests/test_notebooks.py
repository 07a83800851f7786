"""Every step notebook run headless with papermill on the sample organization, for the whole organization and
for one team; the key figures the notebooks record are compared with the package's own results."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import papermill as pm
import pytest

from kpi_workbook.analysis import review, scoring, targets
from kpi_workbook.core.model import Team
from kpi_workbook.core.paths import NOTEBOOKS_DIR, SAMPLE_ORG_DIR
from kpi_workbook.reports.record import RECORD_MIME, read_records, record_bundle
from kpi_workbook.steps import job_descriptions, kpi_design, strategic_goals
from kpi_workbook.steps.context import StepContext, open_step
from kpi_workbook.workspace.employees import read_employees
from kpi_workbook.workspace.files import ACTUALS_DB, load_framework, save_framework
from kpi_workbook.workspace.store import open_store

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("notebooks")]

NOTEBOOKS = ["01_strategic_goals", "02_job_descriptions", "03_kpi_design", "04_targets", "05_review"]
TEAM = "sales"
SCOPES = ["", TEAM]
LIVE = "live"  # the team's notebook with interactive=True
WITH_FORMS = NOTEBOOKS[:4]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PAPERMILL = Path(sys.executable).parent / "papermill"


def _execute(source: Path, output: Path, parameters: dict) -> dict:
    """Run a notebook headless and return the executed notebook as JSON (also when a cell failed)."""
    with contextlib.suppress(pm.PapermillExecutionError):
        pm.execute_notebook(str(source), str(output), parameters={"interactive": False, **parameters},
                            kernel_name="python3", progress_bar=False, shutdown_kernel="immediate")
    return json.loads(output.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A private copy of the sample organization, with its actuals store built once before the parallel runs."""
    root = tmp_path_factory.mktemp("notebooks") / "sample_org"
    shutil.copytree(SAMPLE_ORG_DIR, root, ignore=shutil.ignore_patterns(f"{ACTUALS_DB}*"))
    open_store(root).periods()
    return root


@pytest.fixture(scope="module")
def executed(workspace, tmp_path_factory) -> dict[tuple[str, str], dict]:
    """Every notebook headless for the whole organization and for one team, and the ones with forms live for the
    team; two at a time, with MPLBACKEND=Agg set."""
    out = tmp_path_factory.mktemp("executed")
    jobs = [(name, scope) for name in NOTEBOOKS for scope in SCOPES] + [(name, LIVE) for name in WITH_FORMS]

    def run(job: tuple[str, str]) -> dict:
        name, scope = job
        parameters = {"workspace": str(workspace), "team": TEAM if scope == LIVE else scope,
                      "interactive": scope == LIVE}
        return _execute(NOTEBOOKS_DIR / f"{name}.ipynb", out / f"{name}_{scope or 'org'}.ipynb", parameters)

    with pytest.MonkeyPatch.context() as env, ThreadPoolExecutor(max_workers=2) as pool:
        env.setenv("MPLBACKEND", "Agg")  # inherited by the kernels: the notebooks must still show figures
        return dict(zip(jobs, pool.map(run, jobs), strict=True))


def _outputs(nb: dict, kind: str | None = None) -> list[dict]:
    found = [o for cell in nb["cells"] for o in cell.get("outputs", [])]
    return [o for o in found if kind is None or kind in o.get("data", {})]


@pytest.fixture(scope="module")
def contexts(workspace) -> dict[str, StepContext]:
    return {scope: open_step(workspace, scope) for scope in SCOPES}


@pytest.mark.parametrize("name", NOTEBOOKS)
@pytest.mark.parametrize("scope", SCOPES, ids=["organization", TEAM])
def test_notebook_runs_clean_and_records_its_scope(executed, contexts, name, scope):
    nb = executed[name, scope]
    errors = [o for o in _outputs(nb) if o["output_type"] == "error"]
    assert errors == [], errors and f"{errors[0]['ename']}: {errors[0]['evalue']}"
    ctx = contexts[scope]
    records = read_records(nb)
    assert (records["team"], records["roles"], records["people"]) == (scope, len(ctx.roles), len(ctx.employees))
    assert _outputs(nb, RECORD_MIME), "key figures are recorded"


@pytest.mark.parametrize("scope", SCOPES, ids=["organization", TEAM])
def test_01_strategic_goals(executed, contexts, scope):
    ctx, records = contexts[scope], read_records(executed["01_strategic_goals", scope])
    coverage = strategic_goals.objective_coverage(ctx.framework, ctx.roles)
    assert records["objectives"] == len(ctx.framework.objectives)
    assert records["covered_objectives"] == (coverage["coverage"] != "none").sum()
    assert records["uncovered"] == coverage.loc[coverage["coverage"] == "none", "objective"].tolist()
    assert records["unlinked_kpis"] == len(strategic_goals.unlinked_kpis(ctx.framework, ctx.roles))
    assert len(_outputs(executed["01_strategic_goals", scope], "image/png")) == 1


@pytest.mark.parametrize("scope", SCOPES, ids=["organization", TEAM])
def test_02_job_descriptions(executed, contexts, scope):
    ctx, records = contexts[scope], read_records(executed["02_job_descriptions", scope])
    assert records["role_ids"] == [r.id for r in ctx.roles]
    assert records["people_by_role"] == ctx.employees["role"].value_counts().reindex(records["role_ids"],
                                                                                      fill_value=0).to_dict()
    assert records["responsibilities"] == sum(len(r.responsibilities) for r in ctx.roles)
    assert records["uncovered_responsibilities"] == len(job_descriptions.uncovered_responsibilities(ctx.roles))


@pytest.mark.parametrize("scope", SCOPES, ids=["organization", TEAM])
def test_03_kpi_design(executed, contexts, scope):
    ctx, records = contexts[scope], read_records(executed["03_kpi_design", scope])
    table = kpi_design.role_kpi_table(ctx.framework, ctx.roles)
    assert records["role_kpis"] == sum(len(r.kpis) for r in ctx.roles) == len(table)
    assert records["weight_totals"] == pytest.approx(table.groupby("role")["weight"].sum().to_dict())
    findings = kpi_design.design_findings(ctx.framework, ctx.roles)
    assert (records["findings"], records["errors"]) == (len(findings), (findings["severity"] == "error").sum())
    assert records["suggestions"] == len(kpi_design.responsibility_suggestions(ctx.framework, ctx.roles, top=3))
    assert len(_outputs(executed["03_kpi_design", scope], "image/png")) == 1


@pytest.mark.parametrize("scope", SCOPES, ids=["organization", TEAM])
def test_04_targets(executed, contexts, scope):
    ctx, nb = contexts[scope], executed["04_targets", scope]
    records = read_records(nb)
    assert (records["period"], records["periods"]) == (ctx.period, len(ctx.periods)) == ("2025Q4", 8)
    evidence = targets.suggest_for_framework(ctx.framework, ctx.actuals_to_date, ctx.employees, method="percentile",
                                             roles=[r.id for r in ctx.roles])
    assert records["current_verdicts"] == evidence["current_verdict"].value_counts().to_dict()
    assert records["assignments"] == len(evidence)
    charted = evidence if scope else evidence.iloc[:0]
    assert records["history_charts"] == len(charted)
    assert len(_outputs(nb, "image/png")) == charted["role"].nunique(), "one chart per role, a panel per KPI"


@pytest.mark.parametrize("scope", SCOPES, ids=["organization", TEAM])
def test_05_review(executed, contexts, scope):
    ctx, nb = contexts[scope], executed["05_review", scope]
    records = read_records(nb)
    scores = scoring.score_actuals(ctx.actuals_to_date, ctx.employees, ctx.framework)
    teams = review.scorecard(scores, ctx.period, "team")
    assert records["team_scores"] == pytest.approx(dict(zip(teams["team"], teams["score"].round(1), strict=True)))
    people = review.scorecard(scores, ctx.period, "employee")
    assert records["people_scored"] == len(people) == len(ctx.employees)
    assert records["people_status"] == people["status"].astype(str).value_counts().to_dict()
    flags = review.review_flags(ctx.framework, scores, ctx.period, teams=[scope] if scope else None)
    assert records["flags"] == flags["flag"].value_counts().to_dict()
    roles = len(review.scorecard(scores, ctx.period, "role"))
    assert len(_outputs(nb, "image/png")) == 2 + (roles if scope else 0)  # roles, trend, one per role for a team


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_forms_only_when_interactive(executed, name):
    for scope in SCOPES:
        assert not _outputs(executed[name, scope], WIDGET_VIEW), "no widget in a headless run"
    if name in WITH_FORMS:
        live = executed[name, LIVE]
        assert [o for o in _outputs(live) if o["output_type"] == "error"] == []
        assert len(_outputs(live, WIDGET_VIEW)) >= 2, "the forms and the save panel"
        assert read_records(live) == read_records(executed[name, TEAM]), "the forms change no reported figure"


def test_a_team_notebook_shows_only_its_own_people(executed, workspace):
    employees = read_employees(workspace)
    others = set(employees.loc[employees["team"] != TEAM, "employee_id"])
    mine = set(employees.loc[employees["team"] == TEAM, "employee_id"])
    for name in NOTEBOOKS:
        text = json.dumps(_outputs(executed[name, TEAM]))
        assert not [e for e in others if e in text], f"{name} shows people of other teams"
    review_text = json.dumps(_outputs(executed["05_review", TEAM]))
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
    with pytest.raises(TypeError):
        record_bundle(when=object())
    nb = {"cells": [{"cell_type": "code", "outputs": [{"output_type": "display_data", "data": record_bundle(n=1)},
                                                      {"output_type": "display_data", "data": record_bundle(n=2)}]},
                    {"cell_type": "markdown", "source": ""}]}
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb))
    assert read_records(nb) == read_records(tmp_path / "nb.ipynb") == {"n": 2}
