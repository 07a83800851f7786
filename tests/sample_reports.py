"""The sample organization's reports, made once per test run by `kpi-workbook run --pdf` (TEAMS, one department and
the whole organization), for the browser and PDF tests.

The run's folder sits in the folder the test workers of one `pytest -n N` run share (the parent of each worker's
base temporary folder), behind a file lock: the first worker to ask makes the reports, the others wait for it and
read the same files. Without xdist it sits in the run's own base temporary folder."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(sys.executable).parent / "kpi-workbook"
CHROMIUM = Path("/usr/bin/chromium")
RUN_TIMEOUT = 1500
# Three of the eight teams, from three departments (one of DEPARTMENT's two): the department's and the organization's
# reports still read every team's data. tests/test_scorecard_pdf.py reads customer_support's pack.
TEAMS = ("sales", "finance", "customer_support")
DEPARTMENT = "commercial"  # the department whose reports are made too
FOLDER = "sample-reports"


def shared_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder every worker of this test run shares (the base folder itself without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def sample_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The period folder of one run of TEAMS, DEPARTMENT and the organization on the bundled sample (made on
    first use in the test run, by whichever worker asks first)."""
    if not CHROMIUM.is_file():
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium")
    out = shared_temp(tmp_path_factory) / FOLDER
    out.mkdir(exist_ok=True)
    done, failed = out / "done", out / "failed"
    with (out.parent / f"{FOLDER}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this worker dies
        if not done.is_file() and not failed.is_file():
            env = {k: v for k, v in os.environ.items() if k != "KPI_WORKBOOK_WORKSPACE"}
            run = subprocess.run([str(CLI), "run", "-w", "sample", "--team", ",".join(TEAMS), "--department",
                                  DEPARTMENT, "--organization", "--pdf", "--out", str(out), "--no-progress"],
                                 capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT)
            if run.returncode == 0:
                done.write_text(run.stdout)
            else:
                failed.write_text(f"exit {run.returncode}\n{run.stderr}")
    # a failed run fails every test that reads it, with its error, and is not tried again in this test run
    assert not failed.is_file(), failed.read_text()
    return next(p for p in out.iterdir() if p.is_dir())
