"""Writing the store on a full disk or in a read-only workspace ends with a message naming the folder and the
cause, exit 2, no traceback, and the workspace as it was (real tmpfs mounts)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_in_process import run_cli_in_process

ACTUALS = "period,team,employee_id,kpi_id,value\n2025Q1,sales,E00003,quota_attainment,1\n"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
            and p.name != ".actuals.duckdb.lock"}


def _size_kb(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) // 1024


@pytest.fixture
def actuals_file(tmp_path: Path) -> Path:
    path = tmp_path / "actuals.csv"
    path.write_text(ACTUALS)
    return path


@pytest.mark.parametrize("command", ["compute", "import-actuals"])
def test_a_full_disk_is_named_and_the_workspace_kept(small_filesystem, sample_workspace: Path, actuals_file: Path,
                                                     command: str):
    disk = small_filesystem("disk", size=f"{_size_kb(sample_workspace) + 200}k", content=sample_workspace)
    root = disk / sample_workspace.name
    before = _files(root)
    args = [command, "-w", str(root)] if command == "compute" else [command, str(actuals_file), "-w", str(root)]
    code, out, err = run_cli_in_process(*args)
    assert code == 2 and "Traceback" not in out + err, out + err
    assert f"error: {root}: cannot write the actuals store: No space left on device (" in err
    assert "the store is unchanged" in err
    assert _files(root) == before


@pytest.mark.parametrize("command", ["compute", "import-actuals", "score"])
def test_a_read_only_workspace_is_named_with_what_to_do(small_filesystem, sample_workspace: Path, actuals_file: Path,
                                                       command: str):
    disk = small_filesystem("ro", size="20m", read_only=True, content=sample_workspace)
    root = disk / sample_workspace.name
    args = [command, str(actuals_file), "-w", str(root)] if command == "import-actuals" else [command, "-w", str(root)]
    code, out, err = run_cli_in_process(*args)
    assert code == 2 and "Traceback" not in out + err, out + err
    assert f"error: {root}: cannot write the actuals store: Read-only file system: " in err
    assert "copy the workspace somewhere writable" in err
