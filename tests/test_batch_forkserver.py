"""The kernel fork server: kernels forked from one preloaded process start with the libraries loaded, share
nothing a kernel changes, and end with their server or with the worker that asked for them; the workers of a run
share one server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import nbformat
import psutil
import pytest
from batch_fixtures import make_workspace, write_notebook

from kpi_workbook.batch.forkserver import ForkServer, notebook_imports
from kpi_workbook.batch.kernels import FORKS_KERNELS, WarmKernel
from kpi_workbook.batch.records import Status
from kpi_workbook.batch.runner import RunRequest, run_reports
from kpi_workbook.core.paths import NOTEBOOKS_DIR

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runner"),
              pytest.mark.skipif(not FORKS_KERNELS, reason="kernels are forked only where os.fork exists")]

# What a kernel finds first, then leaves behind in modules every kernel imports (a module attribute, a library's
# module-level cache, an environment variable), for the next scope's kernel to find if the state were shared.
FIND_AND_LEAVE = """\
import json, os, sys
import psutil
import kpi_workbook
import kpi_workbook.steps  # the step notebooks' package: the server preloads their libraries
from kpi_workbook.analysis import library
found = {"attribute": getattr(kpi_workbook, "left_by", None), "cached": library._default_model.cache_info().currsize,
         "environment": os.environ.get("LEFT_BY"), "pid": os.getpid(),
         "parent": " ".join(psutil.Process().parent().cmdline()), "server": os.getppid(),
         "worker": os.environ["JPY_PARENT_PID"],
         "preloaded": [m for m in ("sklearn", "kpi_workbook.steps.design_evidence", "matplotlib.pyplot")
                       if m in sys.modules]}
kpi_workbook.left_by = os.environ["LEFT_BY"] = team
library._default_model.cache_clear()
print(json.dumps(found))"""


def printed(path) -> dict:
    nb = nbformat.read(path, as_version=4)
    [line] = [line for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "stream"
              for line in o.text.splitlines() if line.startswith("{")]
    return json.loads(line)


def find_and_leave_run(root, jobs: int, *cells: str):
    """The three teams of a small workspace, each in a kernel that runs FIND_AND_LEAVE and `cells`."""
    workspace = make_workspace(root / "workspace")
    write_notebook(root / "notebooks" / "01_find_and_leave.ipynb", FIND_AND_LEAVE, *cells)
    return run_reports(RunRequest(workspace=workspace, notebooks_dir=root / "notebooks", out=root / "out",
                                  all_teams=True, jobs=jobs, progress=False))


@pytest.fixture(scope="module")
def one_worker_run(tmp_path_factory):
    """Three teams one after the other in one worker: three kernels forked from the same server."""
    return find_and_leave_run(tmp_path_factory.mktemp("forks"), 1)


# Each kernel says it started, then waits (at most 2 minutes) until two have: the first two scopes run at once, so in
# two workers.
TWO_AT_ONCE = """\
import pathlib, time
started = pathlib.Path(workspace).parent / "started"
started.mkdir(exist_ok=True)
(started / team).touch()
deadline = time.monotonic() + 120
while len(list(started.iterdir())) < 2 and time.monotonic() < deadline:
    time.sleep(0.05)"""


def test_the_workers_of_a_run_share_one_fork_server(tmp_path):
    run = find_and_leave_run(tmp_path, 2, TWO_AT_ONCE)
    assert [r.status for r in run.results] == [Status.OK] * 3
    found = [printed(run.period_dir / r.ipynb) for r in run.results]
    assert len({f["worker"] for f in found}) == 2
    assert len({f["server"] for f in found}) == 1  # one preload for the whole run
    assert not psutil.pid_exists(found[0]["server"])  # stopped with the run


# A worker that joins the server at sys.argv[1] (notebooks sys.argv[2]), asks it for a kernel, says its pid and waits.
ASKING_WORKER = """import os, sys, time
from pathlib import Path
from kpi_workbook.batch.forkserver import ForkServer
ForkServer.join(sys.argv[1], Path(sys.argv[2]))
print(ForkServer.fork(["-f", sys.argv[3]], os.getcwd(), dict(os.environ)), flush=True)
time.sleep(120)"""


def test_a_kernel_ends_with_the_worker_that_asked_for_it_and_the_server_serves_on(tmp_path):
    write_notebook(tmp_path / "01_plain.ipynb", "x = 1")
    address, workers = ForkServer.start(tmp_path), []
    try:
        server = ForkServer._process
        workers = [subprocess.Popen([sys.executable, "-c", ASKING_WORKER, address, str(tmp_path),
                                     str(tmp_path / f"kernel{n}.json")], stdout=subprocess.PIPE, text=True)
                   for n in (1, 2)]
        kernels = [psutil.Process(int(worker.stdout.readline())) for worker in workers]
        assert {kernel.ppid() for kernel in kernels} == {server.pid}
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        kernels[0].wait(timeout=15)  # ended with its worker, without waiting for the server to end
        time.sleep(0.5)
        assert kernels[1].is_running() and server.poll() is None  # the other worker's kernel and the server go on
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(10)
        ForkServer.stop()
    kernels[1].wait(timeout=15)


def test_each_scope_gets_a_kernel_forked_with_the_libraries_loaded(one_worker_run):
    assert [(r.team, r.status) for r in one_worker_run.results] == [(t, Status.OK) for t in ("alpha", "beta", "gamma")]
    found = [printed(one_worker_run.period_dir / r.ipynb) for r in one_worker_run.results]
    assert len({f["pid"] for f in found}) == 3
    assert all("kpi_workbook.batch.forkserver" in f["parent"] for f in found)
    assert all(f["preloaded"] == ["kpi_workbook.steps.design_evidence", "matplotlib.pyplot"] for f in found)
    assert all(f["cached"] == 1 for f in found)  # the suggestion vectors, loaded once in the server


def test_nothing_a_kernel_leaves_reaches_the_next_scope_s_kernel(one_worker_run):
    found = [printed(one_worker_run.period_dir / r.ipynb) for r in one_worker_run.results]
    assert [(f["attribute"], f["environment"]) for f in found] == [(None, None)] * 3


def test_kernels_end_with_their_fork_server(tmp_path):
    kernel = WarmKernel(tmp_path)
    try:
        kernel.ready()
        process = psutil.Process(kernel.manager.provisioner.pid)
        assert process.ppid() != os.getpid()  # the server's child, not this process's
        ForkServer.stop()
        process.wait(timeout=15)  # its parent-death signal (Linux) or its parent poller ends it
        assert not kernel.alive
    finally:
        kernel.shutdown()


def test_the_server_preloads_the_step_notebooks_import_statements(tmp_path):
    write_notebook(tmp_path / "01_first.ipynb", "%matplotlib inline\nimport json\nfrom os import path\nx = 1",
                   "from . import nothing\ndef f():\n    import csv")
    write_notebook(tmp_path / "02_second.ipynb", "import json", "!ls\nimport this is not python")
    (tmp_path / "notes.ipynb").write_text((tmp_path / "02_second.ipynb").read_text())
    assert notebook_imports(tmp_path) == ["import json", "from os import path"]
    assert "from kpi_workbook.steps import kpi_design, open_step" in notebook_imports(NOTEBOOKS_DIR)


PRELOADED = """\
import sys
from pathlib import Path
from kpi_workbook.batch.forkserver import preload
preload(Path(sys.argv[1]))
print(" ".join(m for m in ("pandas", "matplotlib.pyplot", "kpi_workbook.steps.design_evidence", "ibis", "sklearn")
               if m in sys.modules))"""


@pytest.mark.parametrize(("cells", "loaded"), [
    ("import time\ntime.sleep(0.1)", ""),
    ("from kpi_workbook.workspace.employees import read_employees", "pandas"),
    ("import kpi_workbook.widgets.views", "pandas matplotlib.pyplot kpi_workbook.steps.design_evidence"),
    ("from kpi_workbook import reports", "pandas matplotlib.pyplot kpi_workbook.steps.design_evidence"),
    (None, "pandas matplotlib.pyplot kpi_workbook.steps.design_evidence"),
])
def test_the_server_loads_the_step_libraries_only_for_notebooks_that_import_the_steps(tmp_path, cells, loaded):
    folder = NOTEBOOKS_DIR if cells is None else tmp_path
    if cells is not None:
        write_notebook(folder / "01_plain.ipynb", cells)
    done = subprocess.run([sys.executable, "-c", PRELOADED, str(folder)], capture_output=True, text=True, check=True,
                          timeout=120)
    assert done.stdout.strip() == loaded
