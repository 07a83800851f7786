"""The front door: which workspace a command or notebook opens, from any folder, and the scopes it resolves.

Every command is run from a scratch folder outside the checkout on a fresh `kpi-workbook init ws --sample`, once
with `-w ws` and once from inside ws with no option; none may read or write the bundled data/sample_org.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from notebook_helpers import ScopeFigures, WorkspaceFiles

from kpi_workbook.core.errors import InputError, KpiWorkbookError
from kpi_workbook.core.paths import CHECKOUT_DIR, SAMPLE_ORG_DIR
from kpi_workbook.workspace.files import ACTUALS_DB
from kpi_workbook.workspace.opener import WORKSPACE_ENV, open_workspace, workspace_folder
from kpi_workbook.workspace.scope import department_id

LATEST = "2025Q4"  # the sample organization's last quarter
EMPLOYEE_ID = re.compile(r"\bE\d{5}\b")
NOT_A_WORKSPACE = "not a kpi-workbook workspace"
INIT_HINT = "kpi-workbook init"


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file under `folder`: its modification time and the hash of its bytes."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scratch")
    assert CHECKOUT_DIR not in folder.resolve().parents
    return folder


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """The user cache in a temporary folder, so the bundled sample's store is never built in the real one."""
    return {"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}


@pytest.fixture(scope="module")
def run(cli, env):
    """The cli fixture with the temporary user cache; `extra` adds environment variables."""
    def call(*args: object, cwd: Path, extra: dict[str, str] | None = None) -> tuple[int, str, str]:
        return cli(*args, cwd=cwd, env={**env, **(extra or {})})
    return call


@pytest.fixture(scope="module")
def ws(scratch, run) -> Path:
    code, out, err = run("init", "ws", "--sample", cwd=scratch)
    assert code == 0, err
    assert not (scratch / "ws" / ACTUALS_DB).exists()
    # the hr rows of the latest quarter, as a file to import again (the store ends up the same)
    actuals = pd.read_csv(scratch / "ws" / "actuals.csv", dtype=str, keep_default_na=False)
    actuals[(actuals["team"] == "hr") & (actuals["period"] == LATEST)].to_csv(scratch / "hr.csv", index=False)
    return scratch / "ws"


@pytest.fixture
def sample_untouched():
    """Fails the test if data/sample_org changed in it, or got an actuals store."""
    before = snapshot(SAMPLE_ORG_DIR)
    yield
    assert snapshot(SAMPLE_ORG_DIR) == before
    assert not [p for p in SAMPLE_ORG_DIR.iterdir() if p.name.startswith((ACTUALS_DB, f".{ACTUALS_DB}"))
                and p.name not in before]


# --- every workspace command, with -w ws and from inside ws -------------------------------------------------------

# command → (arguments with {out} for a per-mode output name and {hr} for the file to import, what must hold)
COMMANDS = {
    "validate": (["validate"], lambda out, cwd, name: "Summary: 0 errors" in out),
    "score": (["score", "--by", "team", "--format", "csv"],
              lambda out, cwd, name: set(pd.read_csv(io.StringIO(out))["period"]) == {LATEST}),
    "review": (["review"], lambda out, cwd, name: out.startswith(f"Review of {LATEST} (")),
    "targets": (["targets", "--team", "hr"], lambda out, cwd, name: "time_to_hire" in out),
    "export": (["export", "--team", "it", "--out", "{out}.xlsx"],
               lambda out, cwd, name: (cwd / f"{name}.xlsx").is_file()),
    "run": (["run", "--no-progress", "--notebooks", "01", "--out", "{out}"],
            lambda out, cwd, name: (cwd / name / LATEST / "_organization" / "01_strategic_goals.html").is_file()),
    "import-actuals": (["import-actuals", "{hr}"],
                       lambda out, cwd, name: f"for {LATEST} from " in out and "imported " in out),
    "notebooks": (["notebooks", "--out", "{out}"],
                  lambda out, cwd, name: len(list((cwd / name).glob("0[1-5]_*.ipynb"))) == 5),
}


def _arguments(command: str, name: str, hr: str) -> list[str]:
    return [a.format(out=name, hr=hr) for a in COMMANDS[command][0]]


@pytest.mark.parametrize("mode", ["option", "cwd"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_opens_the_workspace_it_is_given(ws, run, command, mode, sample_untouched):
    name = f"{command}_{mode}_out"
    if mode == "option":
        cwd, args = ws.parent, [*_arguments(command, name, "hr.csv"), "-w", "ws"]
    else:
        cwd, args = ws, _arguments(command, name, "../hr.csv")
    code, out, err = run(*args, cwd=cwd)
    assert code == 0, err
    assert "Traceback" not in err and "bundled sample" not in err
    assert COMMANDS[command][1](out, cwd, name), out
    if command not in ("validate", "notebooks"):
        assert (ws / ACTUALS_DB).is_file()  # the workspace's own store, built from its own actuals.csv
    if command == "run":  # the run's record names the workspace's folder
        assert json.loads((cwd / name / LATEST / "runs.json").read_text())["workspace"] == str(ws)


def test_notebook_copies_point_at_the_workspace_folder(ws, run, sample_untouched):
    code, _, err = run("notebooks", cwd=ws)
    assert code == 0, err
    copies = sorted((ws / "notebooks").glob("0[1-5]_*.ipynb"))
    assert len(copies) == 5
    for path in copies:
        cells = nbformat.read(path, as_version=4).cells
        [parameters] = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
        assert 'workspace: str = ".."' in parameters.source, path.name  # relative to the copies' folder
        assert (path.parent / "..").resolve() == ws.resolve()


def test_an_import_into_the_workspace_replaces_its_own_values_only(ws, run, sample_untouched):
    code, out, err = run("import-actuals", ws.parent / "hr.csv", "-w", ws, cwd=ws.parent)
    rows = len(pd.read_csv(ws.parent / "hr.csv"))
    assert code == 0, err
    assert f"imported {rows} value(s) for {LATEST}" in out and f"(replaced {rows} stored value(s))" in out


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_folder_that_is_not_a_workspace_exits_2_with_the_init_hint(scratch, ws, run, command, sample_untouched):
    empty = scratch / f"empty_{command}"
    empty.mkdir()
    code, out, err = run(*_arguments(command, "out", str(ws.parent / "hr.csv")), cwd=empty)
    assert code == 2 and out == ""
    assert NOT_A_WORKSPACE in err and INIT_HINT in err and str(empty) in err and "Traceback" not in err
    assert list(empty.iterdir()) == []


def test_the_environment_variable_names_the_workspace_and_the_option_wins(scratch, ws, run, sample_untouched):
    code, out, err = run("score", "--by", "organization", "--format", "csv", cwd=scratch, extra={WORKSPACE_ENV: "ws"})
    assert code == 0, err
    assert pd.read_csv(io.StringIO(out))["period"].tolist() == [LATEST]
    (scratch / "elsewhere").mkdir(exist_ok=True)
    code, out, err = run("validate", cwd=scratch / "elsewhere", extra={WORKSPACE_ENV: str(ws)})
    assert code == 0 and "Summary: 0 errors" in out, err
    code, _, err = run("validate", "-w", ws, cwd=scratch, extra={WORKSPACE_ENV: str(scratch / "elsewhere")})
    assert code == 0, err
    code, _, err = run("validate", cwd=ws, extra={WORKSPACE_ENV: str(scratch / "elsewhere")})
    assert code == 2 and NOT_A_WORKSPACE in err and str(scratch / "elsewhere") in err


def test_the_bundled_sample_only_by_name_read_only_with_its_store_in_the_cache(scratch, ws, run, env,
                                                                                 sample_untouched):
    code, out, err = run("score", "-w", "sample", "--by", "organization", "--format", "csv", cwd=scratch)
    assert code == 0, err
    assert "note: using the bundled sample organization (read only)" in err
    cache = Path(env["XDG_CACHE_HOME"]) / "kpi-workbook"
    assert re.search(rf"built the actuals store {re.escape(str(cache))}/sample-[0-9a-f]{{16}}/{ACTUALS_DB} ", err)
    assert pd.read_csv(io.StringIO(out))["period"].tolist() == [LATEST]
    code, _, err = run("import-actuals", scratch / "hr.csv", "-w", "sample", cwd=scratch)
    assert code == 2 and "read only" in err and "kpi-workbook init my_org --sample" in err
    code, _, err = run("notebooks", "-w", "sample", cwd=scratch)
    assert code == 2 and "read only" in err and not (SAMPLE_ORG_DIR / "notebooks").exists()


# --- a workspace whose periods are not the sample's ----------------------------------------------------------------


@pytest.fixture(scope="module")
def ws2(scratch, run) -> Path:
    code, _, err = run("sample", "--out", "ws2", "--first-period", "2017Q1", "--periods", "4", cwd=scratch)
    assert code == 0, err
    return scratch / "ws2"


@pytest.mark.parametrize("mode", ["option", "cwd"])
def test_periods_are_the_workspace_s_own(ws2, run, mode, sample_untouched):
    cwd, where = (ws2.parent, ["-w", "ws2"]) if mode == "option" else (ws2, [])
    code, out, err = run("review", "--period", "2017Q4", "--team", "sales", *where, cwd=cwd)
    assert code == 0, err
    assert out.startswith("Review of 2017Q4 (")
    code, out, err = run("review", "--period", "2024Q1", *where, cwd=cwd)
    assert code == 2 and out == ""
    assert "no actuals for period '2024Q1'" in err and "Periods with actuals: 2017Q1, 2017Q2, 2017Q3, 2017Q4" in err
    assert not re.search(r"202[45]Q", err.replace("'2024Q1'", ""))


# --- in process: the folder a name means -------------------------------------------------------------------------


def test_relative_paths_mean_relative_to_the_current_folder_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert workspace_folder("data/sample_org") == (tmp_path / "data" / "sample_org", False)
    with pytest.raises(InputError, match="workspace folder not found") as error:
        open_workspace("data/sample_org")
    assert "data/sample_org" in str(error.value) and str(CHECKOUT_DIR) not in str(error.value)
    assert workspace_folder() == (tmp_path, False) and workspace_folder("") == (tmp_path, False)
    monkeypatch.setenv(WORKSPACE_ENV, "mine")
    assert workspace_folder() == (tmp_path / "mine", False)
    assert workspace_folder("other") == (tmp_path / "other", False)


def test_a_folder_without_framework_yaml_is_not_a_workspace(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "actuals.csv").write_text("period,team,employee_id,kpi_id,value\n")
    with pytest.raises(InputError, match=NOT_A_WORKSPACE) as error:
        open_workspace(tmp_path / "notes")
    assert str(tmp_path / "notes") in str(error.value) and INIT_HINT in str(error.value)
    with pytest.raises(InputError, match="not a file"):
        open_workspace(tmp_path / "notes" / "actuals.csv")


def test_the_name_sample_opens_the_bundled_sample_read_only(tmp_path, monkeypatch, sample_untouched):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    sample = open_workspace("sample")
    assert sample.is_sample and sample.root == SAMPLE_ORG_DIR and "bundled" in sample.name
    assert SAMPLE_ORG_DIR not in sample.store_path.parents and (tmp_path / "cache") in sample.store_path.parents
    with pytest.raises(KpiWorkbookError, match="read only"):
        sample.require_writable()
    said: list[str] = []
    sample.notice = said.append
    assert sample.store().periods()[-1] == LATEST and said and str(tmp_path / "cache") in said[0]
    (tmp_path / "sample").mkdir()  # a folder of that name right here is what the name means
    assert workspace_folder("sample") == (tmp_path / "sample", False)


# --- department scopes ---------------------------------------------------------------------------------------------


def _departments(root: Path) -> dict[str, list[str]]:
    """Department name → its team ids, read from teams.yaml."""
    found: dict[str, list[str]] = {}
    for team in yaml.safe_load((root / "teams.yaml").read_text(encoding="utf-8"))["teams"]:
        found.setdefault(team["department"], []).append(team["id"])
    return found


def test_a_department_holds_exactly_the_people_of_its_teams(ws):
    employees = pd.read_csv(ws / "employees.csv", dtype=str, keep_default_na=False)
    workspace = open_workspace(ws)
    departments = _departments(ws)
    assert len(departments) > 1
    for name, teams in departments.items():
        scope = workspace.scope(department=name)
        assert scope.department == department_id(name) and sorted(scope.team_ids) == sorted(teams)
        expected = employees.loc[employees["team"].isin(teams), "employee_id"]
        assert sorted(scope.employees["employee_id"]) == sorted(expected)
        assert set(scope.actuals["employee_id"]) - {""} <= set(expected)


def _weighted(rows: pd.DataFrame) -> tuple[float, float]:
    """Σ weight × score / Σ weight over scored rows, and the share of the weight that has a score."""
    scored = rows[rows["score"].notna()]
    return (scored["weight"] * scored["score"]).sum() / scored["weight"].sum(), scored["weight"].sum() / \
        rows["weight"].sum()


def test_score_rolls_up_team_department_organization_like_a_weighted_mean(ws, run):
    scores = ScopeFigures(WorkspaceFiles(ws), team="", period="").period_scores
    department_of = {team: name for name, teams in _departments(ws).items() for team in teams}
    scores = scores.assign(department=scores["team"].map(department_of))
    tables = {}
    for level in ("team", "department", "organization"):
        code, out, err = run("score", "-w", ws, "--by", level, "--format", "csv", cwd=ws.parent)
        assert code == 0, err
        tables[level] = pd.read_csv(io.StringIO(out), keep_default_na=False)
        assert set(tables[level]["period"]) == {LATEST}
    for level in ("team", "department"):
        table = tables[level].set_index(level)
        assert sorted(table.index) == sorted(scores[level].unique())
        for key, rows in scores.groupby(level):
            score, coverage = _weighted(rows)
            assert table.loc[key, "score"] == pytest.approx(score, abs=1e-9), (level, key)
            assert table.loc[key, "coverage"] == pytest.approx(coverage, abs=1e-9), (level, key)
    [organization] = tables["organization"].to_dict("records")
    assert organization["score"] == pytest.approx(_weighted(scores)[0], abs=1e-9)
    teams = tables["team"].assign(department=tables["team"]["team"].map(department_of))
    for name, table in teams.groupby("department"):  # a department lies within its teams' range
        score = tables["department"].set_index("department").loc[name, "score"]
        assert table["score"].min() - 1e-9 <= score <= table["score"].max() + 1e-9


def test_department_reports_show_no_one_from_another_department(ws, run, sample_untouched):
    code, out, err = run("run", "--no-progress", "--all-departments", "--notebooks", "05", "--out", "by_department",
                         "-w", "ws", "--people", cwd=ws.parent)  # people's scores shown: a leak would show
    assert code == 0, out + err
    period_dir = ws.parent / "by_department" / LATEST
    employees = pd.read_csv(ws / "employees.csv", dtype=str, keep_default_na=False)
    index = (period_dir / "index.html").read_text(encoding="utf-8")
    departments = _departments(ws)
    shown_own = 0
    for name, teams in departments.items():
        folder = f"_department-{department_id(name)}"
        html = (period_dir / folder / "05_review.html").read_text(encoding="utf-8")
        assert f'href="{folder}/05_review.html"' in index, folder
        own = set(employees.loc[employees["team"].isin(teams), "employee_id"])
        shown = set(EMPLOYEE_ID.findall(html))
        assert shown <= own, (name, sorted(shown - own)[:5])
        shown_own += bool(shown)
    assert shown_own == len(departments)  # every report shows its own people, so the check is not empty
    assert sorted(p.name for p in period_dir.iterdir() if p.is_dir()) == sorted(
        f"_department-{department_id(name)}" for name in departments)
