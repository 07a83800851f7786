"""The one front door: find the workspace folder a command or notebook means, and open it.

A workspace is named by a path (relative paths mean relative to the current folder, nothing else), by the
environment variable ``KPI_WORKBOOK_WORKSPACE``, or else it is the current folder. The bundled sample organization
is reached only on purpose, by the name ``sample``; it is read only, and its actuals store lives in the user's
cache folder instead of the installed package.
"""

from __future__ import annotations

__all__ = [
    "FileState", "Notice", "WORKSPACE_ENV", "Workspace", "check_workspace_folder", "files_state", "open_workspace",
    "workspace_folder",
]

import hashlib
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kpi_workbook.core.errors import InputError, KpiWorkbookError, Problem
from kpi_workbook.core.model import Framework
from kpi_workbook.core.paths import SAMPLE_ORG_DIR, SAMPLE_WORKSPACE_NAME
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import ACTUALS_CSV, ACTUALS_DB, FRAMEWORK_FILE, ROLES_DIR, load_framework
from kpi_workbook.workspace.store import URL_ENV, ActualsStore, DuckDBStore, build_missing, built_message, open_store

if TYPE_CHECKING:
    from kpi_workbook.workspace.scope import Scope

WORKSPACE_ENV = "KPI_WORKBOOK_WORKSPACE"
Notice = Callable[[str], None]
#: What tells a file's version apart: its path, inode (a save replaces the file), modification time and size.
FileState = tuple[str, int, int, int]


def _to_stderr(message: str) -> None:
    print(f"kpi-workbook: {message}", file=sys.stderr)


def workspace_folder(given: str | Path | None = None) -> tuple[Path, bool]:
    """The folder a workspace argument names, and whether it is the bundled sample.

    `given` (or $KPI_WORKBOOK_WORKSPACE, or the current folder) is taken relative to the current folder; the name
    ``sample`` means the bundled sample organization unless a folder of that name is right here.
    """
    text = str(given).strip() if given is not None else ""
    text = text or os.environ.get(WORKSPACE_ENV, "").strip() or "."
    path = Path(text).expanduser()
    if text == SAMPLE_WORKSPACE_NAME and not path.exists():
        return SAMPLE_ORG_DIR, True
    return path.absolute(), False


def check_workspace_folder(root: Path, given: str | Path | None = None) -> None:
    """InputError unless `root` is a workspace folder: it exists, is a folder and holds framework.yaml."""
    shown = str(given) if given not in (None, "") else str(root)
    if not root.exists():
        raise InputError(Problem(file=shown, field="workspace", message=(
            "workspace folder not found. Make one with: kpi-workbook init "
            f"{shown} (add --sample for a copy of the sample organization)")))
    if not root.is_dir():
        raise InputError(Problem(file=shown, field="workspace", message=(
            f"expected a workspace folder, not a file (give the folder that holds {FRAMEWORK_FILE})")))
    if not (root / FRAMEWORK_FILE).is_file():
        raise InputError(Problem(file=shown, field="workspace", message=(
            f"not a kpi-workbook workspace: it has no {FRAMEWORK_FILE}. Make one with: kpi-workbook init DIR "
            f"(add --sample for a copy of the sample organization), or pass -w/--workspace DIR")))


def _sample_store_path() -> Path:
    """Where the bundled sample's store is built: the user's cache, one folder per content of its actuals.csv."""
    from platformdirs import user_cache_path

    digest = hashlib.sha256((SAMPLE_ORG_DIR / ACTUALS_CSV).read_bytes()).hexdigest()[:16]
    return user_cache_path("kpi-workbook") / f"sample-{digest}" / ACTUALS_DB


@dataclass
class Workspace:
    """An opened workspace: its folder, its framework and people, and its actuals store."""

    root: Path
    framework: Framework
    is_sample: bool = False
    notice: Notice = field(default=_to_stderr, repr=False)

    @property
    def name(self) -> str:
        """A short name to show: the bundled sample's, or the folder's."""
        return "sample organization (bundled)" if self.is_sample else self.root.name

    @cached_property
    def employees(self) -> pd.DataFrame:
        """employees.csv, checked against the framework (an empty table when the file is absent)."""
        return load_employees(self.root, self.framework)

    @property
    def store_path(self) -> Path:
        """The DuckDB file of the workspace's actuals."""
        return _sample_store_path() if self.is_sample else self.root / ACTUALS_DB

    def require_writable(self) -> None:
        """KpiWorkbookError for the bundled sample: it is read only; changes go to a copy of one's own."""
        if self.is_sample:
            raise KpiWorkbookError("the bundled sample organization is read only; make a copy of your own with: "
                                   "kpi-workbook init my_org --sample")

    def store(self) -> ActualsStore:
        """The actuals store (a warehouse when $KPI_WORKBOOK_ACTUALS_URL is set), built first when it must be.

        Building the DuckDB file from the workspace's actuals.csv is said on stderr (see `build_store`).
        """
        store = open_store(self.store_path)
        if isinstance(store, DuckDBStore):
            self.build_store(store)
        return store

    def build_store(self, store: DuckDBStore) -> bool:
        """Build `store` from actuals.csv when the CSV exists and the store does not; True if this call built it."""
        from kpi_workbook.workspace.sources import workspace_file  # pydantic: only when a store may be built

        csv = workspace_file(self.root, ACTUALS_CSV)
        built = build_missing(store, csv, self.framework, self.employees)
        if built:
            self.notice(built_message(store, csv, built))
        return bool(built)

    def scope(self, team: object = "", department: object = "", period: object = "") -> Scope:
        """What a command or notebook covers: a team, a department, or the whole organization (both empty)."""
        from kpi_workbook.workspace.scope import Scope

        return Scope.resolve(self, team=team, department=department, period=period)


def files_state(given: str | Path | None = None) -> frozenset[FileState] | None:
    """The version of every file that opening the workspace `given` names and its scopes reads: the files of its
    folder and of `roles/`, and the actuals store with its write-ahead log. Equal states mean nothing was saved in
    between. None when the actuals are in a warehouse ($KPI_WORKBOOK_ACTUALS_URL), whose state no file tells."""
    if os.environ.get(URL_ENV, "").strip():
        return None
    root, is_sample = workspace_folder(given)
    store = _sample_store_path() if is_sample else root / ACTUALS_DB
    paths = [*_files_in(root), *_files_in(root / ROLES_DIR), store, store.with_name(f"{store.name}.wal")]
    found = set()
    for path in paths:
        try:
            status = path.stat()
        except OSError:
            continue  # absent (no store yet, no log): the absence is part of the state
        if stat.S_ISREG(status.st_mode):
            found.add((str(path), status.st_ino, status.st_mtime_ns, status.st_size))
    return frozenset(found)


def _files_in(folder: Path) -> list[Path]:
    return list(folder.iterdir()) if folder.is_dir() else []


def open_workspace(given: str | Path | None = None, notice: Notice = _to_stderr) -> Workspace:
    """Open the workspace `given` names (see `workspace_folder`): InputError when it is not one or cannot be read."""
    root, is_sample = workspace_folder(given)
    check_workspace_folder(root, given)
    return Workspace(root=root, framework=load_framework(root), is_sample=is_sample, notice=notice)
