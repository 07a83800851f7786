"""`init` makes a workspace all or nothing: a full disk, a read-only folder or a path that is a file ends with a
message naming the folder, exit 2, no traceback and nothing left behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_in_process import run_cli_in_process

from kpi_workbook.core.paths import SAMPLE_ORG_DIR


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_init_on_a_full_disk_leaves_nothing(small_filesystem):
    disk = small_filesystem("full", size="300k")  # the sample's files need more
    code, out, err = run_cli_in_process("init", str(disk / "ws"), "--sample")
    assert code == 2 and "Traceback" not in out + err
    assert f"error: {disk / 'ws'}: cannot create the workspace: No space left on device; nothing was written" in err
    assert _files(disk) == []


def test_init_in_a_read_only_folder_says_so(small_filesystem):
    folder = small_filesystem("ro", read_only=True)
    code, _out, err = run_cli_in_process("init", str(folder / "ws"))
    assert code == 2 and f"error: {folder / 'ws'}: cannot create the workspace here: Read-only file system" in err
    assert _files(folder) == []


@pytest.mark.parametrize(("target", "said"), [
    ("framework.yaml", "is a file, not a folder"),
    (".", "folder exists and is not empty"),
])
def test_init_over_a_file_or_a_workspace_is_refused(sample_workspace: Path, target: str, said: str):
    before = _files(sample_workspace)
    code, _out, err = run_cli_in_process("init", str(sample_workspace / target), "--sample")
    assert code == 2 and said in err and "Traceback" not in err
    assert _files(sample_workspace) == before


def test_init_copies_the_whole_sample_and_leaves_no_staging_folder(tmp_path: Path):
    code, _out, err = run_cli_in_process("init", str(tmp_path / "ws"), "--sample")
    assert code == 0, err
    copied = {p for p in _files(tmp_path / "ws") if not p.startswith(".git") and "actuals.duckdb" not in p}
    bundled = {p for p in _files(SAMPLE_ORG_DIR) if "actuals.duckdb" not in p}
    assert bundled <= copied
    assert [p.name for p in tmp_path.iterdir()] == ["ws"]
    assert oct((tmp_path / "ws").stat().st_mode & 0o777) != oct(0o700)  # an ordinary folder, not a private one
