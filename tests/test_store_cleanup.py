"""A writer killed mid-import leaves its staged copy of actuals.duckdb; the next write removes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd

from kpi_workbook.workspace.store import DuckDBStore

WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    import pandas as pd
    from kpi_workbook.workspace.store import DuckDBStore

    n = 500_000
    frame = pd.DataFrame({"period": "2025Q1", "team": "t", "employee_id": np.arange(n).astype(str),
                          "kpi_id": "k", "value": np.ones(n)})
    DuckDBStore(sys.argv[1]).replace_periods(frame)
""")


def _staged(store: Path) -> list[Path]:
    return sorted(store.parent.glob(f".{store.name}.*.tmp*"))


def test_a_killed_import_leaves_a_copy_that_the_next_import_removes(tmp_path: Path) -> None:
    path = tmp_path / "actuals.duckdb"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
    deadline = time.monotonic() + 120
    while not _staged(path) and writer.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    assert _staged(path), "the writer was killed while it wrote its staged copy"
    assert not path.exists()

    one = pd.DataFrame({"period": ["2025Q1"], "team": ["t"], "employee_id": ["e1"], "kpi_id": ["k"], "value": [2.0]})
    DuckDBStore(path).replace_periods(one)
    assert _staged(path) == []
    assert DuckDBStore(path).read_actuals()["value"].tolist() == [2.0]
