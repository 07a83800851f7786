"""Every step notebook run headless with papermill on a copy of the sample organization, and the checks of what each
run records: each figure is compared with the same figure computed independently from the workspace's files
(tests/notebook_helpers.py) or from the checks.

The runs are shared out between test files (tests/test_notebooks*.py), so that `pytest -n 2 --dist loadfile` can
give them to both workers: each file has one subclass of NotebookRuns naming its runs of RUNS (and whether it runs
the live forms), which runs them once and gets every check below for each of them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest
from notebook_helpers import GROUP, ScopeFigures, WorkspaceFiles
from python_tools import papermill_command

from kpi_workbook.analysis.checks import check_workspace
from kpi_workbook.core.paths import NOTEBOOKS_DIR, SAMPLE_ORG_DIR
from kpi_workbook.reports.record import RECORD_MIME, read_records
from kpi_workbook.workspace.files import ACTUALS_DB
from kpi_workbook.workspace.opener import open_workspace

NOTEBOOKS = ["01_strategic_goals", "02_job_descriptions", "03_kpi_design", "04_targets", "05_review"]
RUNS = {"organization": ("", ""), "sales": ("sales", ""), "finance-2025Q2": ("finance", "2025Q2")}
# The steps a run of RUNS takes when not all: an earlier period changes only the steps that read a period (the
# strategy map's colours, the targets, the review); steps 2 and 3 run for a team in the sales runs.
STEPS = {"finance-2025Q2": ("01_strategic_goals", "04_targets", "05_review")}
LIVE = "sales-live"  # the sales notebooks with interactive=True
WITH_FORMS = NOTEBOOKS[:4]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SCORE_ROUNDING = 0.05 + 1e-9  # the notebook records scores rounded to one decimal
SUGGESTIONS_PER_RESPONSIBILITY = 3


NOTEBOOK_SECONDS = 300  # a notebook run that hangs fails its tests instead of holding the suite
IN_TURN = Path(__file__).with_name("papermill_in_turn.py")
CELL_SECONDS = 120  # far above the slowest cell on a busy machine: a cell without an answer fails the run


def execute(source: Path, output: Path, parameters: dict) -> dict:
    """Run a notebook headless with papermill's command (a process of its own, never a thread sharing this one's
    kernel clients; the engine whose client cannot miss a cell's reply, see tests/python_tools.py) and return the
    executed notebook as JSON, also when a cell failed. It is written once, when the run ends (papermill writes it
    then also after a failed cell), not again after every cell."""
    parameters = {"interactive": False, **parameters}
    command = papermill_command(source, output, "-k", "python3", "--no-progress-bar",
                                "--no-request-save-on-cell-execute", "--execution-timeout", CELL_SECONDS,
                                "-y", json.dumps(parameters))
    environment = {**os.environ, "MPLBACKEND": "Agg"}  # the notebooks must still show figures
    subprocess.run(command, capture_output=True, text=True, timeout=NOTEBOOK_SECONDS, env=environment)
    return json.loads(output.read_text(encoding="utf-8"))


def execute_in_turn(runs: list[tuple[Path, Path, dict]]) -> None:
    """Run notebooks (source, output, parameters) one after another in one papermill process of its own, each as
    `execute` runs it (tests/papermill_in_turn.py); each executed notebook is written when its run ends."""
    jobs = runs[0][1].with_name(f".{runs[0][1].stem}.jobs.json")
    jobs.write_text(json.dumps([{"source": str(source), "output": str(output), "cell_seconds": CELL_SECONDS,
                                 "parameters": {"interactive": False, **parameters}}
                                for source, output, parameters in runs]), encoding="utf-8")
    environment = {**os.environ, "MPLBACKEND": "Agg"}  # the notebooks must still show figures
    done = subprocess.run([sys.executable, str(IN_TURN), str(jobs)], capture_output=True, text=True,
                          timeout=NOTEBOOK_SECONDS * len(runs), env=environment)
    missing = [output.name for _, output, _ in runs if not output.is_file()]
    assert done.returncode == 0 and not missing, f"not run: {missing}\n{done.stderr}"


def copy_of_the_sample(folder: Path) -> Path:
    """A private copy of the sample organization in `folder`, with its actuals store built (once, before any
    parallel run)."""
    root = folder / "sample_org"
    shutil.copytree(SAMPLE_ORG_DIR, root, ignore=shutil.ignore_patterns(f"{ACTUALS_DB}*"))
    open_workspace(root, notice=lambda _: None).store().periods()
    return root


def outputs(nb: dict, kind: str | None = None) -> list[dict]:
    found = [o for cell in nb["cells"] for o in cell.get("outputs", [])]
    return [o for o in found if kind is None or kind in o.get("data", {})]


def errors(nb: dict) -> list[str]:
    return [f"{o['ename']}: {o['evalue']}" for o in outputs(nb) if o["output_type"] == "error"]


def assert_figures(nb: dict, expected: dict[str, Any], unordered: tuple[str, ...] = ()) -> None:
    """The notebook ran clean and recorded exactly the expected figures: none unchecked, none missing, all equal.

    `unordered` names list figures whose order is only presentation (compared sorted)."""
    assert errors(nb) == []
    records = read_records(nb)
    records.update({key: sorted(records[key]) for key in unordered if key in records})
    assert sorted(records) == sorted(expected), "every recorded figure has an independently computed value"
    wrong = {key: (records[key], value) for key, value in expected.items() if records[key] != value}
    assert wrong == {}, "recorded (left) and independently computed (right) figures differ"


def _scores(series: pd.Series) -> Any:
    """Weighted scores keyed like the notebook's records (team, or team/role), to one decimal."""
    keys = ["/".join(k) if isinstance(k, tuple) else k for k in series.index]
    return pytest.approx(dict(zip(keys, series.to_numpy(), strict=True)), abs=SCORE_ROUNDING)


def _steps(run: str) -> tuple[str, ...]:
    return STEPS.get(run, tuple(NOTEBOOKS))


class NotebookRuns:
    """Every notebook (or the STEPS of a run) once per run of HEADLESS (names of RUNS), and with LIVE_FORMS the ones
    with forms live for sales, two at a time, MPLBACKEND=Agg; each check below runs for each run of HEADLESS that
    takes its step."""

    HEADLESS: ClassVar[tuple[str, ...]] = ()
    LIVE_FORMS: ClassVar[bool] = False

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "run" not in metafunc.fixturenames:
            return
        if "name" in metafunc.fixturenames:  # a check of every notebook of each run
            metafunc.parametrize(("name", "run"), [(name, run) for run in self.HEADLESS for name in _steps(run)])
            return
        step = metafunc.function.__name__.removeprefix("test_")  # a step's own check: the runs that take the step
        metafunc.parametrize("run", [run for run in self.HEADLESS if step not in NOTEBOOKS or step in _steps(run)])

    @pytest.fixture(scope="class")
    @classmethod
    def workspace(cls, tmp_path_factory) -> Path:
        return copy_of_the_sample(tmp_path_factory.mktemp("notebooks"))

    @pytest.fixture(scope="class")
    @classmethod
    def executed(cls, workspace, tmp_path_factory) -> dict[tuple[str, str], dict]:
        out = tmp_path_factory.mktemp("executed")
        jobs = [(name, run) for name in NOTEBOOKS for run in cls.HEADLESS if name in _steps(run)]
        jobs += [(name, LIVE) for name in WITH_FORMS] if cls.LIVE_FORMS else []

        def job_run(job: tuple[str, str]) -> tuple[Path, Path, dict]:
            name, run = job
            team, period = RUNS["sales" if run == LIVE else run]
            parameters = {"workspace": str(workspace), "team": team, "period": period, "interactive": run == LIVE,
                          **({"people": True} if name == "05_review" else {})}  # each person's score, as --people
            return NOTEBOOKS_DIR / f"{name}.ipynb", out / f"{name}_{run}.ipynb", parameters

        with ThreadPoolExecutor(max_workers=2) as pool:  # two papermill processes, each running half the jobs in turn
            list(pool.map(execute_in_turn, [[job_run(job) for job in jobs[half::2]] for half in (0, 1)]))
        return {job: json.loads(job_run(job)[1].read_text(encoding="utf-8")) for job in jobs}

    @pytest.fixture(scope="class")
    @classmethod
    def scopes(cls, workspace) -> dict[str, ScopeFigures]:
        """What each run of RUNS must see, read from the workspace's files without the package."""
        files = WorkspaceFiles(workspace)
        return {run: ScopeFigures(files, team, period) for run, (team, period) in RUNS.items()}

    def test_notebook_runs_clean_and_records_key_figures(self, executed, name, run):
        nb = executed[name, run]
        assert errors(nb) == []
        assert outputs(nb, RECORD_MIME), "key figures are recorded"

    def test_01_strategic_goals(self, executed, scopes, run):
        scope, nb = scopes[run], executed["01_strategic_goals", run]
        objectives = [o["id"] for o in scope.files.objectives]
        covered = scope.covered_objectives()
        assert_figures(nb, {
            **scope.header(), "objectives": len(objectives), "covered_objectives": len(covered),
            "uncovered": sorted(set(objectives) - covered), "unlinked_kpis": scope.unlinked_assignments(),
        }, unordered=("uncovered",))
        assert len(outputs(nb, "image/png")) == 1, "the coverage chart"

    def test_02_job_descriptions(self, executed, scopes, run):
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

    def test_03_kpi_design(self, executed, scopes, workspace, run):
        scope, nb = scopes[run], executed["03_kpi_design", run]
        roles = {r["id"] for r in scope.roles}
        findings = [f for f in check_workspace(open_workspace(workspace)) if f.role in roles]
        assert_figures(nb, {
            **scope.header(), "role_kpis": len(scope.assignments),
            "weight_totals": scope.assignments.groupby("role")["weight"].sum().to_dict(),
            "roles_without_development": scope.roles_where(
                lambda rows: not rows["category"].eq("development").any()),
            "roles_not_mixing": scope.roles_where(
                lambda rows: not {"leading", "lagging"} <= set(rows["indicator"])),
            "findings": len(findings), "errors": sum(f.severity == "error" for f in findings),
            "suggestions": SUGGESTIONS_PER_RESPONSIBILITY * len(scope.responsibilities()),
            "computed_kpis": sorted({k for k in scope.assignments["kpi_id"] if "measure" in scope.files.kpis[k]}),
            "entered_kpis": len({k for k in scope.assignments["kpi_id"] if "measure" not in scope.files.kpis[k]}),
        }, unordered=("computed_kpis",))
        assert len(outputs(nb, "image/png")) == 1, "the balance chart"

    def test_04_targets(self, executed, scopes, run):
        scope, nb = scopes[run], executed["04_targets", run]
        assignments = len(scope.assignments)
        assert_figures(nb, {
            **scope.header(), "period": scope.period, "periods": len(scope.periods), "assignments": assignments,
            "weight_totals": scope.assignments.groupby("role")["weight"].sum().to_dict(),
            "current_verdicts": dict(scope.current_verdicts()), "history_charts": assignments if scope.team else 0,
        })
        charts = len(scope.roles) if scope.team else 0
        assert len(outputs(nb, "image/png")) == charts, "one history chart per role for a team, none for all"

    def test_05_review(self, executed, scopes, run):
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
        assert len(outputs(nb, "image/png")) == 2 + role_charts, "roles, trend, and one chart per role for a team"

    def test_no_form_in_a_headless_run(self, executed, name, run):
        assert not outputs(executed[name, run], WIDGET_VIEW), "no widget in a headless run"
