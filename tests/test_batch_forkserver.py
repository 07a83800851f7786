"""The kernel fork server: kernels forked from one preloaded process start with the libraries loaded, share
nothing a kernel changes, and end with their server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
from kpi_workbook.analysis import library
found = {"attribute": getattr(kpi_workbook, "left_by", None), "cached": library._default_model.cache_info().currsize,
         "environment": os.environ.get("LEFT_BY"), "pid": os.getpid(),
         "parent": " ".join(psutil.Process().parent().cmdline()),
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


@pytest.fixture(scope="module")
def one_worker_run(tmp_path_factory):
    """Three teams one after the other in one worker: three kernels forked from the same server."""
    root = tmp_path_factory.mktemp("forks")
    workspace = make_workspace(root / "workspace")
    write_notebook(root / "notebooks" / "01_find_and_leave.ipynb", FIND_AND_LEAVE)
    return run_reports(RunRequest(workspace=workspace, notebooks_dir=root / "notebooks", out=root / "out",
                                  all_teams=True, jobs=1, progress=False))


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


@pytest.mark.parametrize(("folder", "loaded"), [
    (None, ""),
    (NOTEBOOKS_DIR, "pandas matplotlib.pyplot kpi_workbook.steps.design_evidence"),
])
def test_the_server_loads_the_step_libraries_only_for_notebooks_that_import_the_package(tmp_path, folder, loaded):
    if folder is None:
        folder = tmp_path
        write_notebook(folder / "01_plain.ipynb", "import time\ntime.sleep(0.1)")
    done = subprocess.run([sys.executable, "-c", PRELOADED, str(folder)], capture_output=True, text=True, check=True,
                          timeout=120)
    assert done.stdout.strip() == loaded
