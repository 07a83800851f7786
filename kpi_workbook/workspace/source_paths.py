"""Where a workspace may read files: inside its own folder, or in the folders its sources.yaml allows.

A path that a workspace's configuration gives (a source's `file:` in sources.yaml) is taken relative to the
workspace folder, or as it is when absolute, and resolved with every symlink followed. It must land inside the
workspace, or inside one of the folders listed under `allowed_folders:` at the top of sources.yaml (absolute, or
relative to the workspace; ``~`` is the home folder; each must be an existing folder)::

    allowed_folders:
    - /srv/exports/crm
    - ../shared/hris
    sources:
    - name: crm_opportunities
      file: /srv/exports/crm/opportunities.csv
      ...

The workspace's own employees.csv and actuals.csv follow the same rule (a symlink may lead to an allowed folder,
nowhere else). Anything else is refused before it is opened: a workspace copied from elsewhere cannot make
kpi-workbook read `../../.ssh/id_rsa` or `/etc/passwd`. A file must also be a regular file; a folder, a named pipe
(FIFO), a socket or a device is refused by its type, without opening it (opening a FIFO would wait for a writer
forever).
"""

from __future__ import annotations

__all__ = [
    "ALLOWED_FOLDERS", "GLOB_CHARACTERS", "ReadableFolders", "SourcePathError", "confined", "file_kind",
    "has_glob_characters", "readable_folders", "regular_file",
]

import dataclasses
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from kpi_workbook.core.errors import InputError, Problem

ALLOWED_FOLDERS = "allowed_folders"
#: Characters DuckDB's readers take as a glob pattern (a path holding one may read other files than it names).
GLOB_CHARACTERS = frozenset("*?[")


class SourcePathError(InputError):
    """A path of a workspace's configuration that may not or cannot be read: outside the folders the workspace may
    read, not a regular file, or missing. It makes a workspace unreadable (validate exits 2), not merely wrong."""


@dataclass(frozen=True)
class ReadableFolders:
    """The folders a workspace reads files in: the workspace itself and the allowed ones, all resolved."""

    workspace: Path
    allowed: tuple[Path, ...] = ()

    def holds(self, path: Path) -> bool:
        """Whether a resolved path is inside one of the folders."""
        return any(path.is_relative_to(folder) for folder in (self.workspace, *self.allowed))


def readable_folders(root: Path, listed: object, config: str) -> ReadableFolders:
    """The workspace `root` and the folders `listed` under allowed_folders in the file `config` (None: none);
    SourcePathError with one problem per entry that is not the path of an existing folder."""
    workspace = root.resolve()
    if listed is None:
        return ReadableFolders(workspace)
    if not isinstance(listed, list):
        raise SourcePathError(Problem(file=config, field=ALLOWED_FOLDERS, message=(
            "expected a list of folders (absolute, or relative to the workspace)")))
    folders, problems = [], []
    for number, entry in enumerate(listed, start=1):
        where = Problem(file=config, field=f"{ALLOWED_FOLDERS}[{number}]", message="")
        if not isinstance(entry, str) or not entry.strip():
            problems.append(dataclasses.replace(where, message="expected the path of a folder"))
            continue
        folder = _resolved(workspace / Path(entry.strip()).expanduser(), entry, where)
        if not folder.is_dir():
            problems.append(dataclasses.replace(where, message=f"'{entry}' is not a folder (looked for {folder})"))
            continue
        folders.append(folder)
    if problems:
        raise SourcePathError(problems)
    return ReadableFolders(workspace, tuple(folders))


def confined(folders: ReadableFolders, name: str, where: Problem, config: str | None = None) -> Path:
    """The path `name` of a configuration (relative to the workspace, or absolute) with its symlinks resolved;
    SourcePathError at `where` when it lands outside the readable folders, or is there but is not a regular file. A
    missing file passes (reading it says so: see regular_file). `config` is the file that lists the allowed folders
    (default: `where`'s file)."""
    path = _resolved(folders.workspace / name, name, where)
    if not folders.holds(path):
        shown = "" if path == Path(name) else f" (it resolves to {path})"
        raise SourcePathError(dataclasses.replace(where, message=(
            f"'{name}' is outside the workspace{shown}: a workspace reads only its own files. Move the file into "
            f"the workspace folder, or list the folder that holds it under `{ALLOWED_FOLDERS}:` at the top of "
            f"{config or where.file}")))
    kind = file_kind(path)
    if kind not in ("", "missing"):
        raise SourcePathError(dataclasses.replace(where, message=f"'{name}' is not a regular file but {kind}"))
    return path


def regular_file(path: Path, name: str, where: Problem) -> Path:
    """`path` when it is a regular file; SourcePathError at `where` when it is missing or of another type (a folder, a
    FIFO, a device, a socket), found by its type alone: the file is not opened."""
    kind = file_kind(path)
    if kind == "missing":
        raise SourcePathError(dataclasses.replace(where, message=f"'{name}': file not found"))
    if kind:
        raise SourcePathError(dataclasses.replace(where, message=f"'{name}' is not a regular file but {kind}"))
    return path


def has_glob_characters(path: Path) -> bool:
    """Whether DuckDB would read `path` as a glob pattern (matching other files than the one it names)."""
    return not GLOB_CHARACTERS.isdisjoint(str(path))


def _resolved(path: Path, name: str, where: Problem) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
        message = f"'{name}' cannot be resolved (a symlink loop)"
        raise SourcePathError(dataclasses.replace(where, message=message)) from None


def file_kind(path: Path) -> str:
    """'' for a regular file, 'missing' when there is nothing (or a dangling symlink), else what it is ('a folder',
    'a named pipe (FIFO)', ...), from its type alone: the file is not opened."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except OSError as exc:
        return f"a path that cannot be examined ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return ""
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))
    return next((kind for test, kind in kinds if test(mode)), "of an unknown type")
