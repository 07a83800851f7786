"""The batch runner: parallel papermill runs per team, failure isolation, retries, index, offline reports."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import signal
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import batch_fixtures
import nbformat
import pandas as pd
import psutil
import pytest
from run_processes import finish, kill_all, start_run, wait_for

from kpi_workbook.batch.records import ORGANIZATION_FOLDER, RunResult, Status, load_runs
from kpi_workbook.batch.runner import (
    RunRequest,
    discover_notebooks,
    longest_first,
    plan_jobs,
    run_reports,
    safe_subfolder,
)
from kpi_workbook.core.errors import InputError, UnknownTeamError
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.paths import NOTEBOOKS_DIR, SAMPLE_ORG_DIR

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runner")]

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
TEAMS, PEOPLE = batch_fixtures.TEAMS, batch_fixtures.PEOPLE  # gamma has no people: the people notebook divides by 0
DEPARTMENTS = {"alpha": "Field Sales", "beta": "Field Sales", "gamma": "Back Office"}
EMPLOYEE_ID = re.compile(r"\bX[AB]-\d\d\b")
FORK_SERVER = "kpi_workbook.batch.forkserver"


def make_workspace(root: Path) -> Path:
    """The batch fixtures' small organization, with alpha and beta in one department and gamma in another."""
    return batch_fixtures.make_workspace(root, DEPARTMENTS)


def notebook_folder(root: Path, **fixtures: str) -> Path:
    """A folder of step notebooks NN_name.ipynb copied from the fixture notebooks: name=fixture."""
    root.mkdir(parents=True)
    for number, (name, fixture) in enumerate(fixtures.items(), start=1):
        shutil.copy(FIXTURES / f"{fixture}.ipynb", root / f"{number:02d}_{name}.ipynb")
    return root


class Page(HTMLParser):
    """Links, sources and text of an HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.scripts: list[dict] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.refs += [(tag, name, values[name]) for name in ("src", "href") if values.get(name)]
        if tag == "script":
            self.scripts.append(values)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def hrefs(self) -> list[str]:
        return [value for tag, name, value in self.refs if tag == "a" and name == "href"]


def kernels_of(process: psutil.Process, servers: bool = False) -> list[psutil.Process]:
    """The kernels a process started, directly or through its workers and their fork servers (a forked kernel has
    its server's command line); with `servers`, the fork servers too."""
    kernels = []
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):  # a process may end while we look
            command, parent = " ".join(child.cmdline()), " ".join(child.parent().cmdline())
            forked = FORK_SERVER in command and (servers or FORK_SERVER in parent)
            if "ipykernel" in command or forked:
                kernels.append(child)
    return kernels


def alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def network_references(html: str) -> list[str]:
    """Every src or href a browser would fetch or follow off the page: all but #anchors and data: URIs."""
    return [value for _, _, value in Page(html).refs if not value.startswith(("#", "data:"))]


# --- one shared run: every team and the organization, two notebooks, one team breaks ---------------------------


@pytest.fixture(scope="module")
def main_run(tmp_path_factory, cli):
    root = tmp_path_factory.mktemp("main_run")
    workspace = make_workspace(root / "workspace")
    notebooks = notebook_folder(root / "notebooks", people="ok", chart="chart_and_widget")
    out = root / "reports"
    # MPLBACKEND=Agg must not reach the kernels, or the charts vanish from the reports.
    proc = cli("run", "--no-progress", "--workspace", workspace, "--notebooks-dir", notebooks, "--all-teams",
               "--organization", "--jobs", "2", "--out", out, env={"MPLBACKEND": "Agg"})
    return {"proc": proc, "workspace": workspace, "notebooks": notebooks, "out": out, "period_dir": out / "2025Q4"}


def test_failing_team_does_not_stop_the_others_and_the_command_exits_1(main_run):
    code, out, err = main_run["proc"]
    assert code == 1, err
    assert "7 of 8 runs ok" in out
    assert f"index: {main_run['period_dir'] / 'index.html'}" in out
    summary = [line.split() for line in err.splitlines() if line.startswith("gamma")]
    assert summary == [["gamma", "01_people", "failed", "ZeroDivisionError:", "division", "by", "zero"]]


def test_runs_json_records_every_pair(main_run):
    doc = json.loads((main_run["period_dir"] / "runs.json").read_text())
    assert doc["period"] == "2025Q4" and doc["workspace"] == str(main_run["workspace"].resolve())
    runs = {(r["team"], r["notebook"]): r for r in doc["runs"]}
    assert set(runs) == {(t, nb) for t in ("", *TEAMS) for nb in ("01_people", "02_chart")}
    failed = runs["gamma", "01_people"]
    assert (failed["status"], failed["error"], failed["message"]) == ("failed", "ZeroDivisionError", "division by zero")
    assert all(r["status"] == "ok" and r["error"] == "" for key, r in runs.items() if key != ("gamma", "01_people"))
    for run in runs.values():
        assert run["duration"] > 0
        assert (main_run["period_dir"] / run["ipynb"]).is_file() and (main_run["period_dir"] / run["html"]).is_file()
    assert runs["", "01_people"]["html"] == f"{ORGANIZATION_FOLDER}/01_people.html"
    assert runs["alpha", "01_people"]["team_name"] == "Alpha"
    assert runs["", "01_people"]["team_name"] == "Testing Ltd (whole organization)"


def test_notebooks_get_the_team_period_and_batch_parameters(main_run):
    nb = nbformat.read(main_run["period_dir"] / "alpha" / "01_people.ipynb", as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'team = "alpha"' in injected.source and 'period = "2025Q4"' in injected.source
    assert "interactive = False" in injected.source
    assert f'workspace = "{main_run["workspace"].resolve()}"' in injected.source
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "scope=alpha period=2025Q4 people=2 per_role=2.0" in printed


def test_failed_notebook_is_kept_with_its_error(main_run):
    nb = nbformat.read(main_run["period_dir"] / "gamma" / "01_people.ipynb", as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == ["ZeroDivisionError"]
    assert any("papermill-error-cell-tag" in c.metadata.get("tags", []) for c in nb.cells)
    html = (main_run["period_dir"] / "gamma" / "01_people.html").read_text()
    assert "ZeroDivisionError" in html and "An Exception was encountered" in html


def test_team_reports_show_only_the_team_people(main_run):
    period_dir = main_run["period_dir"]
    for team, ids in PEOPLE.items():
        shown = set(EMPLOYEE_ID.findall((period_dir / team / "01_people.html").read_text()))
        assert shown == set(ids), team
    everyone = set(EMPLOYEE_ID.findall((period_dir / ORGANIZATION_FOLDER / "01_people.html").read_text()))
    assert everyone == {eid for ids in PEOPLE.values() for eid in ids}


def test_index_links_every_report_with_its_status(main_run):
    period_dir = main_run["period_dir"]
    page = Page((period_dir / "index.html").read_text())
    text = " ".join(" ".join(page.text).split())
    reports = [h for h in page.hrefs() if h.endswith(".html")]
    assert sorted(reports) == sorted(f"{folder}/{nb}.html" for folder in (ORGANIZATION_FOLDER, *TEAMS)
                                     for nb in ("01_people", "02_chart"))
    assert all((period_dir / href).is_file() for href in page.hrefs())
    assert "7 ok, 1 failed, 0 timed out" in text
    assert "ZeroDivisionError: division by zero" in text
    assert "Testing Ltd (whole organization)" in text and "Gamma" in text


def test_reports_and_index_open_offline(main_run):
    pages = sorted(main_run["period_dir"].rglob("*.html"))
    assert len(pages) == 9
    for path in pages:
        html = path.read_text()
        page = Page(html)
        assert [s for s in page.scripts if s.get("src")] == [], path
        local = [ref for ref in network_references(html) if "://" in ref or ref.startswith("//")]
        assert local == [], path
        for ref in network_references(html):  # the remaining links are relative links between the pages
            assert (path.parent / ref).resolve().is_file(), (path, ref)
        assert all(src.startswith("data:") for tag, name, src in page.refs if name == "src"), path


def test_charts_survive_an_inherited_agg_backend_and_widgets_are_dropped(main_run):
    html = (main_run["period_dir"] / "alpha" / "02_chart.html").read_text()
    images = [src for tag, name, src in Page(html).refs if tag == "img"]
    assert len(images) == 1 and images[0].startswith("data:image/png;base64,")
    assert "widget-view+json" not in html and "IntSlider" not in html


@pytest.mark.skipif(not shutil.which("chromium"), reason="needs chromium (apt-get install chromium)")
def test_report_renders_in_a_browser_without_network(main_run, tmp_path):
    report = main_run["period_dir"] / "alpha" / "02_chart.html"
    proc = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={tmp_path}", "--virtual-time-budget=5000",
         "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    dom = proc.stdout
    assert dom.count('src="data:image/png;base64,') == 1
    assert "A chart and a widget" in dom and "Period 2025Q4" in dom


@pytest.fixture(scope="module")
def retried(main_run, tmp_path_factory, cli):
    """The main run copied, gamma given a person, then `--retry-failed`."""
    root = tmp_path_factory.mktemp("retried")
    workspace = shutil.copytree(main_run["workspace"], root / "workspace")
    out = shutil.copytree(main_run["out"], root / "reports")
    employees = pd.read_csv(workspace / "employees.csv", dtype=str)
    employees.loc[len(employees)] = ["XG-01", "Person XG-01", "gamma", "gamma_rep"]
    employees.to_csv(workspace / "employees.csv", index=False)
    before = {r.key: r for r in load_runs(out / "2025Q4")}
    proc = cli("run", "--no-progress", "--workspace", workspace, "--notebooks-dir", main_run["notebooks"],
               "--out", out, "--retry-failed")
    return {"proc": proc, "before": before, "after": {r.key: r for r in load_runs(out / "2025Q4")}, "out": out,
            "workspace": workspace, "notebooks": main_run["notebooks"]}


def test_retry_failed_reruns_only_what_failed(retried):
    code, out, err = retried["proc"]
    assert code == 0, err
    assert "1 of 1 runs ok" in out
    before, after = retried["before"], retried["after"]
    assert set(after) == set(before)
    assert after["gamma", "01_people"].status is Status.OK
    assert before["gamma", "01_people"].status is Status.FAILED
    assert all(after[key] == before[key] for key in before if key != ("gamma", "01_people"))
    text = " ".join(Page((retried["out"] / "2025Q4" / "index.html").read_text()).text)
    assert "8 ok, 0 failed, 0 timed out" in " ".join(text.split())


def test_retry_plans_nothing_once_everything_succeeded(retried):
    request = RunRequest(workspace=retried["workspace"], out=retried["out"], notebooks_dir=retried["notebooks"],
                         retry_failed=True)
    jobs, *_ = plan_jobs(request)
    assert jobs == []


# --- timeouts and a killed kernel -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limits_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("limits")
    workspace = make_workspace(root / "workspace")
    notebooks = notebook_folder(root / "notebooks", slow="slow", killed="killed", people="ok", steps="many_steps")
    request = RunRequest(workspace=workspace, notebooks_dir=notebooks, out=root / "reports", teams=["alpha"],
                         jobs=4, cell_timeout=4, notebook_timeout=7, progress=False)
    summary = run_reports(request)
    return summary, kernels_of(psutil.Process(), servers=True)


def test_timeouts_and_a_killed_kernel_are_recorded_and_isolated(limits_run):
    summary, _ = limits_run
    outcome = {r.notebook: (r.status, r.error, r.message) for r in summary.results}
    assert outcome == {
        "01_slow": (Status.TIMED_OUT, "CellTimeoutError", "the cell did not finish within 4 s"),
        "02_killed": (Status.FAILED, "DeadKernelError",
                      "the kernel died in this cell (killed, crashed or out of memory)"),
        "03_people": (Status.OK, "", ""),
        "04_steps": (Status.TIMED_OUT, "NotebookTimeoutError", "the notebook did not finish within 7 s"),
    }


def test_timed_out_and_killed_notebooks_keep_their_error(limits_run):
    summary, _ = limits_run
    for run in summary.failed:
        nb = nbformat.read(summary.period_dir / run.ipynb, as_version=4)
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert [(e.ename, e.evalue) for e in errors] == [(run.error, run.message)]
        assert run.message in (summary.period_dir / run.html).read_text()
    text = " ".join(" ".join(Page(summary.index.read_text()).text).split())
    assert "1 ok, 1 failed, 2 timed out" in text and "NotebookTimeoutError" in text


def test_no_kernel_outlives_the_run(limits_run):
    _, kernels = limits_run
    assert kernels == []  # nor a fork server


def test_ctrl_c_stops_every_worker_and_kernel_and_keeps_the_record(tmp_path):
    workspace = make_workspace(tmp_path / "workspace")
    notebooks = notebook_folder(tmp_path / "notebooks", slow="slow")
    proc = start_run("run", "--no-progress", "--workspace", workspace, "--notebooks-dir", notebooks, "--all-teams",
                     "--jobs", "2", "--out", tmp_path / "out")
    runner = psutil.Process(proc.pid)
    try:  # two jobs' kernels (a fork server may be forking a third at this moment)
        wait_for(lambda: len(kernels_of(runner)) >= 2, timeout=120, what="two kernels")
        started = runner.children(recursive=True)
        proc.send_signal(signal.SIGINT)
        _, err = finish(proc, 60, "end after Ctrl-C")
    finally:
        kill_all(proc)
    assert proc.returncode == 130
    assert "interrupted" in err
    psutil.wait_procs(started, timeout=15)
    assert [p.pid for p in started if alive(p)] == []
    assert load_runs(tmp_path / "out" / "2025Q4") == []  # nothing finished, and the record says so
    assert (tmp_path / "out" / "2025Q4" / "index.html").is_file()


# --- checks before anything runs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("small")
    return make_workspace(root / "workspace"), notebook_folder(root / "notebooks", people="ok", summary="ok")


def test_unknown_or_unsafe_team_is_refused_before_anything_runs(small, tmp_path, cli):
    workspace, notebooks = small
    code, _, err = cli("run", "--no-progress", "--workspace", workspace, "--notebooks-dir", notebooks,
                       "--out", tmp_path / "out", "--team", "alpha", "--team", "../beta")
    assert code == 2
    assert err.strip() == "error: unknown team '../beta'. Valid teams: alpha, beta, gamma"
    assert not (tmp_path / "out").exists()
    for team in ("/etc", "alpha/../beta", "", "ALPHA"):
        with pytest.raises(UnknownTeamError):
            plan_jobs(RunRequest(workspace=workspace, notebooks_dir=notebooks, teams=[team], out=tmp_path))


@pytest.mark.parametrize("name", ["..", ".", "a/b", "/abs", "../x", "", ".hidden", "x" * 65, "a\\b"])
def test_unsafe_folder_names_are_refused(name, tmp_path):
    with pytest.raises(InputError, match="cannot be used as a folder name"):
        safe_subfolder(tmp_path, name, "team")


def test_report_folders_stay_under_out(small, tmp_path):
    workspace, notebooks = small
    jobs, period, period_dir, _ = plan_jobs(RunRequest(workspace=workspace, notebooks_dir=notebooks, all_teams=True,
                                                       organization=True, out=tmp_path / "out"))
    assert period == "2025Q4" and period_dir == (tmp_path / "out" / "2025Q4").resolve()
    assert len(jobs) == 8
    assert {(period_dir / job.folder).parent for job in jobs} == {period_dir}
    assert {job.folder for job in jobs} == {ORGANIZATION_FOLDER, *TEAMS}


def test_jobs_that_took_longest_last_time_start_first(small, tmp_path):
    workspace, notebooks = small
    jobs, *_ = plan_jobs(RunRequest(workspace=workspace, notebooks_dir=notebooks, teams=["alpha", "beta"],
                                    out=tmp_path))
    last_time = {("alpha", "01_people"): 2.0, ("alpha", "02_summary"): 9.0, ("beta", "01_people"): 5.0}
    previous = [RunResult(team=t, team_name=t, notebook=nb, status=Status.OK, duration=d)
                for (t, nb), d in last_time.items()]
    assert [job.key for job in longest_first(jobs, previous)] == [
        ("beta", "02_summary"), ("alpha", "02_summary"), ("beta", "01_people"), ("alpha", "01_people")]


def test_period_is_the_latest_with_actuals_or_a_checked_label(small, tmp_path):
    workspace, notebooks = small

    def period(text: str) -> str:
        _, label, period_dir, _ = plan_jobs(RunRequest(workspace=workspace, notebooks_dir=notebooks, period=text,
                                                       out=tmp_path))
        assert period_dir == (tmp_path / label).resolve()
        return label

    assert period("") == "2025Q4"
    assert period("Q3 2025") == "2025Q3"
    with pytest.raises(InputError) as caught:
        period("2030Q1")
    assert [p.code for p in caught.value.problems] == [Code.INPUT_UNKNOWN_PERIOD]
    with pytest.raises(InputError) as caught:
        period("../../etc")
    assert [p.code for p in caught.value.problems] == [Code.INPUT_PERIOD]


def test_departments_run_their_teams_in_their_own_folders(small, tmp_path):
    workspace, notebooks = small
    jobs, _, period_dir, _ = plan_jobs(RunRequest(workspace=workspace, notebooks_dir=notebooks, all_departments=True,
                                                  notebooks=["01"], out=tmp_path))
    assert [(job.key, job.folder, job.team_name) for job in jobs] == [
        (("department:field_sales", "01_people"), "_department-field_sales", "Field Sales department"),
        (("department:back_office", "01_people"), "_department-back_office", "Back Office department"),
    ]
    assert jobs[0].parameters == {"workspace": str(workspace.resolve()), "team": "", "department": "field_sales",
                                  "period": "2025Q4", "interactive": False}
    both, *_ = plan_jobs(RunRequest(workspace=workspace, notebooks_dir=notebooks, departments=["Field Sales"],
                                    teams=["alpha"], organization=True, notebooks=["01"], out=tmp_path))
    assert [job.key[0] for job in both] == ["", "department:field_sales", "alpha"]
    with pytest.raises(InputError) as caught:
        plan_jobs(RunRequest(workspace=workspace, notebooks_dir=notebooks, departments=["Legal"], out=tmp_path))
    assert [p.code for p in caught.value.problems] == [Code.INPUT_UNKNOWN_DEPARTMENT]


def test_notebooks_are_chosen_by_number_or_name(small):
    _, notebooks = small
    assert [p.name for p in discover_notebooks(notebooks)] == ["01_people.ipynb", "02_summary.ipynb"]
    assert [p.stem for p in discover_notebooks(notebooks, ["02", "people"])] == ["01_people", "02_summary"]
    assert [p.stem for p in discover_notebooks(notebooks, ["02_summary"])] == ["02_summary"]
    with pytest.raises(InputError, match="unknown notebook.s. 07. Valid: 01_people, 02_summary"):
        discover_notebooks(notebooks, ["07"])


# --- the real step notebooks on the sample organization -------------------------------------------------------

REAL_NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
SAMPLE_READY = (SAMPLE_ORG_DIR / "employees.csv").exists() and (SAMPLE_ORG_DIR / "actuals.csv").exists()


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    workspace = shutil.copytree(SAMPLE_ORG_DIR, root / "sample_org",
                                ignore=shutil.ignore_patterns("actuals.duckdb*", ".actuals.duckdb*"))
    summary = run_reports(RunRequest(workspace=workspace, out=root / "reports", teams=["sales", "hr"],
                                     progress=False, people=True))  # people's scores shown: a leak would show
    return summary, workspace


@pytest.mark.skipif(not (REAL_NOTEBOOKS and SAMPLE_READY), reason="needs the step notebooks and the sample data")
def test_step_notebooks_run_for_two_teams(sample_run):
    summary, _ = sample_run
    assert [(r.team, r.notebook, r.status, r.error, r.message) for r in summary.failed] == []
    assert {(r.team, r.notebook) for r in summary.results} == {(t, p.stem) for t in ("sales", "hr")
                                                                for p in REAL_NOTEBOOKS}
    for run in summary.results:
        html = (summary.period_dir / run.html).read_text()
        assert [ref for ref in network_references(html) if "://" in ref] == [], run.html


@pytest.mark.skipif(not (REAL_NOTEBOOKS and SAMPLE_READY), reason="needs the step notebooks and the sample data")
def test_step_reports_name_no_one_from_another_team(sample_run):
    summary, workspace = sample_run
    employees = pd.read_csv(workspace / "employees.csv", dtype=str)
    shown_own = set()
    for run in summary.results:
        html = (summary.period_dir / run.html).read_text()
        tokens = set(re.findall(r"[\w-]+", html))
        own = employees["team"] == run.team
        leaked_ids = sorted(set(employees.loc[~own, "employee_id"]) & tokens)
        leaked_names = sorted(set(employees.loc[~own, "name"]) - set(employees.loc[own, "name"]))
        leaked_names = [name for name in leaked_names if name in html]
        assert (leaked_ids, leaked_names) == ([], []), (run.team, run.notebook)
        if set(employees.loc[own, "employee_id"]) & tokens:
            shown_own.add(run.team)
    assert shown_own == {"sales", "hr"}  # the check would be empty if no report showed people at all
