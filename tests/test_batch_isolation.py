"""Warm kernels keep their guarantees: one kernel per scope, nothing of one notebook reaches the next, nothing of a
team stays in the kernel after its notebooks (no module-level cache holds team data), and the suggestion vectors
cached on disk per library version are the library's alone."""

from __future__ import annotations

import json
import shutil

import nbformat
import numpy as np
import pytest
from batch_fixtures import make_workspace, write_notebook

from kpi_workbook.analysis import library
from kpi_workbook.batch.records import Status
from kpi_workbook.batch.runner import RunRequest, run_reports
from kpi_workbook.core.paths import NOTEBOOKS_DIR, SAMPLE_ORG_DIR

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runner")]

LEAVE = """\
import os
import matplotlib.pyplot as plt
leaked_value = "left by the first notebook"
def leaked_function():
    return leaked_value
import json as leaked_module
plt.figure()
print(leaked_module.dumps({"pid": os.getpid()}))
leaked_value"""
CHECK = """\
import json, os, sys
import matplotlib.pyplot as plt
names = sorted(n for n in globals() if not n.startswith("_") and n not in ("In", "Out", "exit", "quit", "get_ipython"))
print(json.dumps({"pid": os.getpid(), "names": names, "out": len(Out), "inputs": len(In),
                  "figures": plt.get_fignums(), "count": get_ipython().execution_count,
                  "last_value": repr(getattr(sys, "last_value", None))}))"""
# Every live object the kernel holds after a reset, searched for the scope's employee ids and names: containers'
# referents (strings, object arrays) and pandas objects, the objects the fork server froze included. The names come
# from the CSV with the csv module, so the probe itself caches nothing.
PROBE = """\
import csv, gc, json, os
import numpy as np
import pandas as pd
def _wanted():
    with open(os.path.join(workspace, "employees.csv"), newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["team"] == team]
    return frozenset(v for row in rows for v in (row["employee_id"], row["name"]))
def _holds(value, wanted):
    if isinstance(value, str):
        return value in wanted
    if isinstance(value, (pd.DataFrame, pd.Series, pd.Index)):
        return not wanted.isdisjoint(map(str, np.asarray(value, dtype=object).ravel()))
    if isinstance(value, np.ndarray) and value.dtype.kind in "OUS":
        return not wanted.isdisjoint(map(str, value.ravel()))
    return False
def _scan(wanted):
    gc.unfreeze()  # what the fork server froze before forking this kernel is searched too
    gc.collect()
    hits = set()
    for obj in gc.get_objects():
        if obj is wanted or isinstance(obj, frozenset) and obj == wanted:
            continue
        if _holds(obj, wanted) or any(_holds(ref, wanted) for ref in gc.get_referents(obj)):
            hits.add(f"{type(obj).__module__}.{type(obj).__qualname__}")
    return sorted(hits)
print(json.dumps({"hits": _scan(_wanted())}))"""


def printed(period_dir, folder: str, notebook: str, which: int = -1) -> dict:
    """A JSON line a notebook printed (the last by default)."""
    nb = nbformat.read(period_dir / folder / f"{notebook}.ipynb", as_version=4)
    lines = [line for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "stream"
             for line in o.text.splitlines() if line.startswith("{")]
    return json.loads(lines[which])


@pytest.fixture(scope="module")
def leak_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("leaks")
    workspace = make_workspace(root / "workspace")
    write_notebook(root / "notebooks" / "01_leave.ipynb", CHECK, LEAVE)  # what a notebook finds first, then leaves
    write_notebook(root / "notebooks" / "02_check.ipynb", CHECK)
    summary = run_reports(RunRequest(workspace=workspace, notebooks_dir=root / "notebooks", out=root / "out",
                                     teams=["alpha", "beta"], jobs=2, progress=False))
    return summary


def test_a_scope_runs_its_notebooks_in_one_kernel_and_each_scope_in_its_own(leak_run):
    assert [r for r in leak_run.results if r.status is not Status.OK] == []
    pids = {(team, nb): printed(leak_run.period_dir, team, nb)["pid"]
            for team in ("alpha", "beta") for nb in ("01_leave", "02_check")}
    assert pids["alpha", "01_leave"] == pids["alpha", "02_check"]
    assert pids["beta", "01_leave"] == pids["beta", "02_check"]
    assert pids["alpha", "02_check"] != pids["beta", "02_check"]


def test_no_value_of_one_notebook_reaches_the_next(leak_run):
    first = printed(leak_run.period_dir, "alpha", "01_leave", which=0)  # the first notebook, before it did anything
    seen = printed(leak_run.period_dir, "alpha", "02_check")
    assert not {"leaked_value", "leaked_function", "leaked_module"} & set(seen["names"])
    assert {**seen, "pid": 0} == {**first, "pid": 0}  # the second notebook finds the kernel as the first did
    assert (seen["out"], seen["figures"], seen["last_value"]) == (0, [], "None")
    assert {"team", "workspace", "json"} <= set(seen["names"])
    nb = nbformat.read(leak_run.period_dir / "alpha" / "02_check.ipynb", as_version=4)
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2, 3]  # counts from 1 again
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'team = "alpha"' in injected.source


SAMPLE_TEAM = "sales"


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    """The five step notebooks for one sample team, then a probe of the kernel; a control probe holds the team."""
    if not SAMPLE_ORG_DIR.is_dir():
        pytest.skip("data/sample_org is not there")
    root = tmp_path_factory.mktemp("probe")
    workspace = shutil.copytree(SAMPLE_ORG_DIR, root / "sample_org", ignore=shutil.ignore_patterns("*.duckdb*"))
    notebooks = root / "notebooks"
    notebooks.mkdir()
    for step in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")):
        shutil.copy(step, notebooks / step.name)
    write_notebook(notebooks / "06_probe.ipynb", PROBE)
    write_notebook(notebooks / "07_control.ipynb",
                   "from kpi_workbook.steps import open_step\nctx = open_step(workspace, team, period)\n"
                   "people = ctx.employees", PROBE)
    summary = run_reports(RunRequest(workspace=workspace, notebooks_dir=notebooks, out=root / "out",
                                     teams=[SAMPLE_TEAM], progress=False))
    return summary


def test_nothing_of_the_team_stays_in_the_kernel_after_its_notebooks(probed):
    assert [(r.notebook, r.error, r.message) for r in probed.results if r.status is not Status.OK] == []
    assert printed(probed.period_dir, SAMPLE_TEAM, "06_probe")["hits"] == []
    control = printed(probed.period_dir, SAMPLE_TEAM, "07_control")["hits"]
    assert "pandas.DataFrame" in control  # the probe does find the team's people when something holds them


# --- the suggestion vectors cached on disk --------------------------------------------------------------------


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    library._default_model.cache_clear()
    yield tmp_path / "cache"
    library._default_model.cache_clear()


QUERIES = ["hire the right people quickly", "keep the platform available", "reduce defects on the production line"]


def ranked() -> list[list[tuple[str, float]]]:
    return [list(zip(t["kpi_id"], t["similarity"].round(12), strict=True)) for t in library.rank_kpis(QUERIES)]


def test_vectors_are_fitted_once_cached_and_read_back_alike(cache_home):
    fitted = ranked()
    [cached] = (cache_home / library.CACHE_APP / "suggestions").glob("*.npz")
    written = cached.stat().st_mtime_ns
    library._default_model.cache_clear()  # as in the next kernel
    assert ranked() == fitted
    assert cached.stat().st_mtime_ns == written  # read, not fitted and written again
    assert cached == library._model_file()


def test_a_damaged_cache_is_fitted_and_written_anew(cache_home):
    fitted = ranked()
    cached = library._model_file()
    cached.write_bytes(cached.read_bytes()[:1000])
    library._default_model.cache_clear()
    assert ranked() == fitted
    with np.load(cached, allow_pickle=False) as data:
        assert set(data.files) >= {"data", "indices", "indptr", "shape", "words_terms", "chars_idf"}


def test_the_cache_is_the_library_s_own_in_the_user_cache(cache_home):
    library.prepare_suggestions()
    path = library._model_file()
    assert path.is_relative_to(cache_home / library.CACHE_APP)
    with np.load(path, allow_pickle=False) as data:
        assert data["shape"].tolist()[0] == len(library.load_library())  # one row per library KPI, nothing else
