"""`run --out` that cannot hold reports (a file, a read-only folder) is an error naming it, before any run starts."""

from __future__ import annotations

from pathlib import Path


def test_a_file_as_the_reports_folder_is_refused(cli, sample_workspace: Path, tmp_path: Path):
    taken = tmp_path / "reports.txt"
    taken.write_text("mine")
    code, out, err = cli("run", "-w", sample_workspace, "--team", "sales", "--out", taken, "--no-progress")
    assert code == 2 and out == "" and "Traceback" not in err
    assert f"error: {taken}: is a file; --out names the folder for the reports" in err
    assert taken.read_text() == "mine"


def test_a_read_only_reports_folder_is_named(cli, sample_workspace: Path, small_filesystem):
    folder = small_filesystem("ro", read_only=True)
    code, _out, err = cli("run", "-w", sample_workspace, "--team", "sales", "--out", folder / "reports",
                          "--no-progress")
    assert code == 2 and "Traceback" not in err
    assert f"error: {folder / 'reports'}: cannot write the reports (Read-only file system)" in err
