"""All-or-nothing files: staged paths and multi-file writes leave either the new files or the old ones."""

import os
import stat
from pathlib import Path

import pytest

from kpi_workbook.core.atomic_files import staged_path, write_files_atomically, write_text_atomically


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_staged_path_replaces_the_target_only_when_the_block_succeeds(tmp_path):
    target = tmp_path / "report.xlsx"
    target.write_text("old")
    with pytest.raises(RuntimeError), staged_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer failed")
    assert target.read_text() == "old" and _leftovers(tmp_path) == []
    with staged_path(target) as tmp:
        assert not tmp.exists() and tmp.suffix == ".xlsx" and tmp.parent == tmp_path
        tmp.write_text("new")
    assert target.read_text() == "new" and _leftovers(tmp_path) == []


def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(tmp_path):
    umask = os.umask(0o022)
    try:
        write_text_atomically(tmp_path / "new.csv", "a\n")
        kept = tmp_path / "kept.csv"
        kept.write_text("x")
        kept.chmod(0o640)
        with staged_path(kept) as tmp:
            tmp.write_text("y")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640


def test_a_failed_rename_restores_every_file_already_replaced(tmp_path):
    (tmp_path / "a.yaml").write_text("old a")
    (tmp_path / "b.yaml").mkdir()  # a folder where a file must go: caught before anything is renamed
    with pytest.raises(IsADirectoryError):
        write_files_atomically([(tmp_path / "a.yaml", "new a"), (tmp_path / "b.yaml", "new b")])
    assert (tmp_path / "a.yaml").read_text() == "old a" and _leftovers(tmp_path) == []
