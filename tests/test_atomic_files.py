"""All-or-nothing files: staged paths and multi-file writes leave either the new files or the old ones."""

import json
import os
import stat
from pathlib import Path

import pytest

from kpi_workbook.core.atomic_files import consistent_folder, staged_path, write_files_atomically, write_text_atomically
from kpi_workbook.core.errors import InputError


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


def test_a_multi_file_write_replaces_and_removes_together_and_leaves_nothing_behind(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "gone.yaml").write_text("old")
    (tmp_path / "same.yaml").write_text("same")
    write_files_atomically([(tmp_path / "a.yaml", "new a"), (tmp_path / "sub" / "b.yaml", "new b"),
                            (tmp_path / "same.yaml", "same")], remove=[tmp_path / "sub" / "gone.yaml"])
    assert (tmp_path / "a.yaml").read_text() == "new a" and (tmp_path / "sub" / "b.yaml").read_text() == "new b"
    assert not (tmp_path / "sub" / "gone.yaml").exists()
    assert sorted(p.name for p in tmp_path.rglob(".*")) == []


def test_a_committed_journal_is_replayed_and_leftovers_are_cleaned_before_reading(tmp_path):
    (tmp_path / "roles").mkdir()
    (tmp_path / "kpis.yaml").write_text("old kpis")
    (tmp_path / "roles" / "a.yaml").write_text("old a")
    (tmp_path / ".kpis.yaml.0123456789ab.staged").write_text("new kpis")
    (tmp_path / "roles" / ".a.yaml.0123456789ab.staged").write_text("new a")
    (tmp_path / ".kpi-workbook-journal").write_text(json.dumps(
        {"replace": [[".kpis.yaml.0123456789ab.staged", "kpis.yaml"], ["roles/.a.yaml.0123456789ab.staged",
                                                                        "roles/a.yaml"]],
         "remove": ["roles/old.yaml"]}))
    (tmp_path / "roles" / "old.yaml").write_text("removed by the journal")
    # leftovers: an uncommitted journal and staged file, and the old scheme's .bak and mkstemp files
    (tmp_path / ".kpi-workbook-journal.ffffffffffff").write_text("{}")
    (tmp_path / ".teams.yaml.ffffffffffff.staged").write_text("half")
    (tmp_path / "teams.yaml").write_text("teams")
    (tmp_path / ".teams.yaml.bak").write_text("older teams")
    (tmp_path / "roles" / ".a.yaml.k3j_x9q2.tmp").write_text("half")
    (tmp_path / ".notes.bak").write_text("a user's file: no notes beside it, so not ours")
    with consistent_folder(tmp_path):
        assert (tmp_path / "kpis.yaml").read_text() == "new kpis"
        assert (tmp_path / "roles" / "a.yaml").read_text() == "new a"
        assert not (tmp_path / "roles" / "old.yaml").exists()
        assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob(".*")) == [".notes.bak"]


def test_an_unreadable_journal_is_named(tmp_path):
    (tmp_path / ".kpi-workbook-journal").write_text("not json")
    with pytest.raises(InputError, match="kpi-workbook-journal: unreadable journal of an interrupted save"), \
            consistent_folder(tmp_path):
        pass
