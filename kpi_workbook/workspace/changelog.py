"""The framework's change log (changelog.yaml): one entry per review cycle — which version, when, why, what changed.

Entries are recorded by `kpi-workbook diff REV -w DIR --record WHY` (the changes in words come from the diff) and
shown by step 5 and its report. The file is read strictly, like every framework file.
"""

from __future__ import annotations

__all__ = ["CHANGELOG_FILE", "ChangeEntry", "read_changelog", "record_change"]

import datetime as dt
from pathlib import Path

from pydantic import Field, TypeAdapter, ValidationError

from kpi_workbook.core.atomic_files import write_text_atomically
from kpi_workbook.core.errors import InputError
from kpi_workbook.core.model import Text
from kpi_workbook.core.strict import Strict
from kpi_workbook.workspace.files import validation_problems
from kpi_workbook.workspace.yaml_io import dump_yaml, read_yaml

CHANGELOG_FILE = "changelog.yaml"


class ChangeEntry(Strict):
    """One review cycle's change to the framework."""

    version: Text
    """The framework's version the entry records."""
    date: dt.date
    """When it was recorded (YYYY-MM-DD)."""
    why: Text
    """The reason for the changes, as given to `kpi-workbook diff --record`."""
    changes: list[str] = Field(default_factory=list)
    """The changes in words, from the diff."""


def read_changelog(workspace: str | Path) -> list[ChangeEntry]:
    """The workspace's change log, oldest entry first (empty when there is no changelog.yaml)."""
    path = Path(workspace) / CHANGELOG_FILE
    if not path.exists():
        return []
    data = read_yaml(path, CHANGELOG_FILE) or {}
    entries = data.get("entries", []) if isinstance(data, dict) else data
    try:
        return TypeAdapter(list[ChangeEntry]).validate_python(entries)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, CHANGELOG_FILE, entries, "entry", list_key="entries")) from None


def record_change(workspace: str | Path, entry: ChangeEntry) -> None:
    """Append `entry` to the workspace's change log (the whole file is rewritten atomically)."""
    entries = [*read_changelog(workspace), entry]
    text = dump_yaml({"entries": [e.model_dump(mode="json") for e in entries]})
    write_text_atomically(Path(workspace) / CHANGELOG_FILE, text)
