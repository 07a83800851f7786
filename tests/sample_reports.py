"""The sample organization's reports, made once per test session by `kpi-workbook run --pdf` (teams, one department
and the whole organization), for the browser and PDF tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(sys.executable).parent / "kpi-workbook"
CHROMIUM = Path("/usr/bin/chromium")
RUN_TIMEOUT = 1500
DEPARTMENT = "commercial"  # the department whose reports are made too


def sample_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The period folder of one run of every team, DEPARTMENT and the organization (made on first use in the
    session)."""
    if not CHROMIUM.is_file():
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium")
    out = tmp_path_factory.getbasetemp() / "sample-reports"
    done = out / "done"
    if not done.is_file():
        env = {k: v for k, v in os.environ.items() if k != "KPI_WORKBOOK_WORKSPACE"}
        run = subprocess.run([str(CLI), "run", "-w", "sample", "--all-teams", "--department", DEPARTMENT,
                              "--organization", "--pdf",
                              "--out", str(out), "--no-progress"], capture_output=True, text=True, env=env,
                             timeout=RUN_TIMEOUT)
        assert run.returncode == 0, run.stderr
        done.write_text(run.stdout)
    return next(p for p in out.iterdir() if p.is_dir())
