"""What a cell prints is one output in the executed notebook and one block in its report, however the kernel
flushed it (also in a cell stopped by its time limit, ahead of the timeout's error), and prints around a table stay on
their own sides of it."""

from __future__ import annotations

import re

import nbformat
import pytest
from batch_fixtures import make_workspace, write_notebook

from kpi_workbook.batch.execution import CELL_TIMEOUT_ERROR
from kpi_workbook.batch.records import Status
from kpi_workbook.batch.runner import RunRequest, run_reports

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runner")]

FLUSHED = """\
import sys, time
print("after", end="")
sys.stdout.flush()
time.sleep(0.3)  # the kernel sends what was flushed before the rest is written
print("", team)
sys.stdout.flush()
"""
FLUSHED_PRINTS = FLUSHED + 'time.sleep(0.3)\nprint("done")'
FLUSHED_PRINTS_THEN_A_HANG = FLUSHED + "time.sleep(60)"
PRINTS_AROUND_A_TABLE = """\
import pandas as pd
from IPython.display import display
print("before the table")
display(pd.DataFrame({"x": [1]}))
print("after the table")"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("outputs")
    workspace = make_workspace(root / "workspace")
    write_notebook(root / "notebooks" / "01_prints.ipynb", FLUSHED_PRINTS, PRINTS_AROUND_A_TABLE)
    summary = run_reports(RunRequest(workspace=workspace, notebooks_dir=root / "notebooks", out=root / "out",
                                     teams=("alpha",), jobs=1, progress=False))
    assert [r.status for r in summary.results] == [Status.OK]
    return summary


def _cells(run):
    executed = nbformat.read(run.period_dir / run.results[0].ipynb, as_version=4)
    return [[(o.output_type, o.get("text", "")) for o in c.outputs] for c in executed.cells[-2:]]


def test_flushed_prints_are_one_output(run):
    prints, _ = _cells(run)
    assert prints == [("stream", "after alpha\ndone\n")]


def test_prints_around_a_table_keep_their_order(run):
    _, around = _cells(run)
    assert [kind for kind, _ in around] == ["stream", "display_data", "stream"]
    assert [text for kind, text in around if kind == "stream"] == ["before the table\n", "after the table\n"]


def test_the_report_shows_the_flushed_prints_in_one_block(run):
    html = (run.period_dir / run.results[0].html).read_text(encoding="utf-8")
    assert re.search(r"<pre>after alpha\ndone\n</pre>", html)


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
