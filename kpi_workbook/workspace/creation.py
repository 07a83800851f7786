"""A new workspace, made all or nothing: built in a hidden sibling folder, then moved into place.

A full disk, a read-only parent or a path that is a file ends with a message naming the folder and nothing
written: never half a workspace.
"""

from __future__ import annotations

__all__ = ["create_workspace"]

import os
import shutil
import tempfile
from datetime import date
from pathlib import Path

from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.model import Framework, Metadata
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.workspace.files import ACTUALS_DB, save_framework


def _refuse(directory: Path, reason: str) -> InputError:
    return InputError(Problem(file=str(directory), message=reason))


def _check_target(directory: Path) -> None:
    """Refuse a target that is a file or a folder holding anything but a fresh repository's .git."""
    if directory.is_symlink() and not directory.exists():
        raise _refuse(directory, "is a broken symbolic link; choose a new folder")
    if directory.exists() and not directory.is_dir():
        raise _refuse(directory, "is a file, not a folder; choose a new folder for the workspace")
    if directory.is_dir() and any(entry.name != ".git" for entry in directory.iterdir()):
        raise _refuse(directory, "folder exists and is not empty; choose a new folder (or one holding only .git)")


def _reason(exc: OSError | shutil.Error) -> str:
    """The first cause of a failed copy or write, in the system's words (e.g. 'No space left on device')."""
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list) and exc.args[0]:
        return str(exc.args[0][0][-1]).split("] ", 1)[-1].split(":", 1)[0]
    return exc.strerror or str(exc)


def _fill(staging: Path, sample: bool, organization: str) -> None:
    if sample:
        shutil.copytree(SAMPLE_ORG_DIR, staging, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(ACTUALS_DB, f"{ACTUALS_DB}.wal"))
    else:
        save_framework(Framework(metadata=Metadata(organization=organization, date=date.today())), staging)


def create_workspace(directory: Path, *, sample: bool = False, organization: str = "My organization") -> None:
    """Create a workspace at `directory`: a copy of the sample organization, or an empty framework template.

    Raises InputError naming the folder if it cannot be made; then nothing of it is left on disk.
    """
    directory = Path(directory)
    _check_target(directory)
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".partial", dir=directory.parent))
    except OSError as exc:
        raise _refuse(directory, f"cannot create the workspace here: {_reason(exc)}") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # a folder as mkdir makes it, not mkdtemp's private one
        _fill(staging, sample, organization)
        if directory.exists():  # a fresh repository: its .git stays, the files join it
            for entry in staging.iterdir():
                entry.rename(directory / entry.name)
            staging.rmdir()
        else:
            staging.rename(directory)
    except (OSError, shutil.Error) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise _refuse(directory, f"cannot create the workspace: {_reason(exc)}; nothing was written") from None
