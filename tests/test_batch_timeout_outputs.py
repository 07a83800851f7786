"""A cell stopped by its time limit keeps what it printed until then as one output, ahead of the timeout's error,
however the kernel flushed it."""

from __future__ import annotations

import nbformat
import pytest
from batch_fixtures import make_workspace, write_notebook

from kpi_workbook.batch.execution import CELL_TIMEOUT_ERROR
from kpi_workbook.batch.records import Status
from kpi_workbook.batch.runner import RunRequest, run_reports

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runner")]

FLUSHED_PRINTS_THEN_A_HANG = """\
import sys, time
print("after", end="")
sys.stdout.flush()
time.sleep(0.3)  # the kernel sends what was flushed before the rest is written
print("", team)
sys.stdout.flush()
time.sleep(60)"""


def test_a_timed_out_cell_keeps_its_flushed_prints_as_one_output(tmp_path):
    workspace = make_workspace(tmp_path / "workspace")
    write_notebook(tmp_path / "notebooks" / "01_hang.ipynb", FLUSHED_PRINTS_THEN_A_HANG)
    summary = run_reports(RunRequest(workspace=workspace, notebooks_dir=tmp_path / "notebooks", out=tmp_path / "out",
                                     teams=("alpha",), jobs=1, cell_timeout=3, progress=False))
    [result] = summary.results
    assert (result.status, result.error) == (Status.TIMED_OUT, CELL_TIMEOUT_ERROR)
    executed = nbformat.read(summary.period_dir / result.ipynb, as_version=4)
    outputs = [(o.output_type, o.get("text", o.get("ename"))) for o in executed.cells[-1].outputs]
    assert outputs == [("stream", "after alpha\n"), ("error", CELL_TIMEOUT_ERROR)]
