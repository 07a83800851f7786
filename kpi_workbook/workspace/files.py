"""Framework files on disk: load a workspace into the model and save it back, atomically.

A workspace is a folder::

    framework.yaml        metadata: organization, version, review cycle, date, settings
    objectives.yaml       objectives:  [ ... ]
    teams.yaml            teams:       [ ... ]
    kpis.yaml             kpis:        [ ... ]   (KPI definitions the roles use)
    roles/<role id>.yaml  one role: job description and its KPI assignments
    employees.csv         employee_id, name, team, role
    actuals.csv           optional: actuals in the long import format
    actuals.duckdb        the actuals store (made by import-actuals; not committed)

Every file above but the last three is required (a file may be empty, meaning no entries; ``roles/`` may
be empty): a missing one is an error, never an empty list. Saving is one transaction (see
``core.atomic_files``): a failed or killed save leaves the previous version or the new one, whole, and
loading first finishes or cleans up a save that was interrupted. ``load_framework_and_hashes`` also gives the
content hash of every framework file read, so a writer can tell later whether the files are still those it loaded.
"""

from __future__ import annotations

__all__ = [
    "ACTUALS_CSV", "ACTUALS_DB", "EMPLOYEES_FILE", "FRAMEWORK_FILE", "KEEP_FILE", "KPIS_FILE", "OBJECTIVES_FILE",
    "ROLES_DIR", "TEAMS_FILE", "framework_files", "framework_hashes", "load_framework", "load_framework_and_hashes",
    "save_framework", "validation_problems",
]

import difflib
import hashlib
import reprlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from kpi_workbook.core.atomic_files import consistent_folder, write_files_atomically
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.model import Framework, KpiDefinition, Metadata, Objective, Role, Strict, Team
from kpi_workbook.workspace.yaml_io import dump_yaml, read_yaml

FRAMEWORK_FILE = "framework.yaml"
OBJECTIVES_FILE = "objectives.yaml"
TEAMS_FILE = "teams.yaml"
KPIS_FILE = "kpis.yaml"
ROLES_DIR = "roles"
KEEP_FILE = ".gitkeep"
EMPLOYEES_FILE = "employees.csv"
ACTUALS_CSV = "actuals.csv"
ACTUALS_DB = "actuals.duckdb"

# each list file with the validator of its entries
_LIST_FILES: dict[str, tuple[str, TypeAdapter[list[Any]]]] = {
    "objectives": (OBJECTIVES_FILE, TypeAdapter(list[Objective])),
    "teams": (TEAMS_FILE, TypeAdapter(list[Team])),
    "kpis": (KPIS_FILE, TypeAdapter(list[KpiDefinition])),
}


def _known_fields() -> set[str]:
    fields: set[str] = set()
    pending = list(Strict.__subclasses__())
    while pending:
        model = pending.pop()
        fields |= set(model.model_fields)
        pending += model.__subclasses__()
    return fields


def _unknown_field_message(field: str) -> str:
    name = field.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(name, _known_fields(), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else " (check the spelling)"
    return f"unknown field{hint}"


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel, _SHORT_REPR.maxstring, _SHORT_REPR.maxother = 2, 50, 50
_SHORT_REPR.maxdict = _SHORT_REPR.maxlist = _SHORT_REPR.maxtuple = _SHORT_REPR.maxset = 4


def _describe_value(value: Any) -> str:
    """A short repr of an input value; bounded in time and size whatever the value holds."""
    text = _SHORT_REPR.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validation_problems(
    exc: ValidationError, file: str, data: Any, entry_kind: str, list_key: str | None = None
) -> list[Problem]:
    """Turn a pydantic ValidationError into problems naming file, entry (by id) and field."""
    problems = []
    for error in exc.errors():
        loc = list(error["loc"])
        entry = entry_kind
        node = data
        if list_key is not None and loc and isinstance(index := loc[0], int):
            del loc[0]
            node = data[index] if isinstance(data, list) and index < len(data) else None
            ident = node.get("id") if isinstance(node, dict) else None
            entry = f"{entry_kind} '{ident}'" if ident else f"{entry_kind} #{index + 1}"
        elif isinstance(data, dict) and data.get("id"):
            entry = f"{entry_kind} '{data['id']}'"
        parts: list[str] = []
        for part in loc:
            if isinstance(part, int):
                sub = node[part] if isinstance(node, list) and part < len(node) else None
                label = sub.get("kpi") or sub.get("id") if isinstance(sub, dict) else None
                parts[-1:] = [f"{parts[-1] if parts else ''}[{part + 1}]" + (f" ({label})" if label else "")]
                node = sub
            else:
                parts.append(str(part))
                node = node.get(part) if isinstance(node, dict) else None
        field = ".".join(parts)
        message = error["msg"].removeprefix("Value error, ")  # our validators' own words, without pydantic's tag
        if error["type"] == "extra_forbidden":
            message = _unknown_field_message(field)
        elif error["type"] == "missing":
            message = "required field is missing"
        elif "input" in error and error["type"] not in ("model_type",) and not isinstance(error["input"], dict):
            message = f"{message} (got {_describe_value(error['input'])})"  # a whole entry is not worth repeating
        problems.append(Problem(file=file, entry=entry, field=field, message=message, code=Code.INPUT_FIELD))
    return problems


def _entries(data: Any, key: str, file: str) -> tuple[list, list[Problem]]:
    if data is None:
        return [], []
    if not isinstance(data, dict) or set(data) != {key}:
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        return [], [Problem(file=file, message=f"expected a mapping with the single key '{key}', found {found}",
                            code=Code.INPUT_SHAPE)]
    entries = data[key] or []
    if not isinstance(entries, list):
        return [], [Problem(file=file, field=key, message="expected a list of entries", code=Code.INPUT_SHAPE)]
    return entries, []


def _missing(root: Path, name: str, what: str = "file", hint: str = "") -> Problem:
    """A required framework file or folder that is not there; names the backup an old interrupted save left."""
    backup = root / f".{name}.bak"
    if backup.exists():
        hint = f"an interrupted save left {backup.name}: check it and rename it to {name}"
    return Problem(file=name, message=f"required {what} not found" + (f" ({hint})" if hint else ""),
                   code=Code.INPUT_NOT_FOUND)


def load_framework(path: str | Path) -> Framework:
    """Load a workspace folder into a Framework; every problem found is raised in one InputError."""
    return load_framework_and_hashes(path)[0]


def load_framework_and_hashes(path: str | Path) -> tuple[Framework, dict[str, str]]:
    """Load a workspace folder (see `load_framework`) with the `framework_hashes` of the files read, both taken
    under one read lock, so the hashes are those of the files the framework came from."""
    root = Path(path)
    if root.is_file():
        raise InputError(Problem(file=str(root), message="expected a workspace folder, not a file "
                                 f"(give the folder that holds {FRAMEWORK_FILE})", code=Code.INPUT_NOT_A_FOLDER))
    if not root.is_dir():
        raise InputError(Problem(file=str(root), message="workspace folder not found", code=Code.INPUT_NOT_FOUND))
    try:
        with consistent_folder(root):
            return _read_framework(root), framework_hashes(root)
    except PermissionError as exc:
        raise InputError(Problem(file=str(root), message=f"cannot be read: {exc.strerror}",
                                 code=Code.INPUT_UNREADABLE)) from None


def framework_hashes(path: str | Path) -> dict[str, str]:
    """The SHA-256 of every framework file in a workspace folder, by path relative to it (absent files left out)."""
    root = Path(path)
    names = [FRAMEWORK_FILE, *(file for file, _ in _LIST_FILES.values())]
    paths = [root / name for name in names] + sorted((root / ROLES_DIR).glob("*.yaml"))
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in paths if path.is_file()}


def _read_framework(root: Path) -> Framework:
    problems: list[Problem] = []
    parts: dict[str, Any] = {}

    if not (root / FRAMEWORK_FILE).exists():
        problems.append(_missing(root, FRAMEWORK_FILE))
    else:
        try:
            meta = read_yaml(root / FRAMEWORK_FILE, FRAMEWORK_FILE)
            parts["metadata"] = Metadata.model_validate(meta if meta is not None else {})
        except InputError as exc:
            problems += exc.problems
        except ValidationError as exc:
            problems += validation_problems(exc, FRAMEWORK_FILE, meta, "metadata")

    for key, (file, entries_adapter) in _LIST_FILES.items():
        if not (root / file).exists():
            problems.append(_missing(root, file))
            continue
        try:
            data = read_yaml(root / file, file)
        except InputError as exc:
            problems += exc.problems
            continue
        entries, found = _entries(data, key, file)
        problems += found
        try:
            parts[key] = entries_adapter.validate_python(entries)
        except ValidationError as exc:
            problems += validation_problems(exc, file, entries, key.rstrip("s"), list_key=key)

    roles = []
    if not (root / ROLES_DIR).is_dir():
        problems.append(_missing(root, f"{ROLES_DIR}/", "folder",
                                 "one file per role; make it empty when there are none"))
    for role_file in sorted((root / ROLES_DIR).glob("*.yaml")):
        display = f"{ROLES_DIR}/{role_file.name}"
        try:
            data = read_yaml(role_file, display)
            role = Role.model_validate(data if data is not None else {})
        except InputError as exc:
            problems += exc.problems
            continue
        except ValidationError as exc:
            problems += validation_problems(exc, display, data, "role")
            continue
        if role.id != role_file.stem:
            problems.append(
                Problem(file=display, entry=f"role '{role.id}'", field="id", code=Code.INPUT_FILE_NAME,
                        message=f"the file of role '{role.id}' must be named {ROLES_DIR}/{role.id}.yaml")
            )
        roles.append(role)
    if problems:
        raise InputError(problems)
    return Framework(roles=roles, **parts)


def framework_files(framework: Framework) -> dict[str, str]:
    """The text of every framework file, keyed by its path relative to the workspace."""
    def dump(model: BaseModel) -> dict:
        return model.model_dump(mode="json", exclude_none=True)

    metadata = dump(framework.metadata)
    if framework.metadata.date is not None:
        metadata["date"] = framework.metadata.date  # a YAML date, not a quoted string
    files = {FRAMEWORK_FILE: dump_yaml(metadata)}
    for key, (file, _) in _LIST_FILES.items():
        files[file] = dump_yaml({key: [dump(entry) for entry in getattr(framework, key)]})
    for role in framework.roles:
        files[f"{ROLES_DIR}/{role.id}.yaml"] = dump_yaml(_role_data(dump(role)))
    return files


def _role_data(role: dict) -> dict:
    """A role as written: an assignment without its own review period has no review_period key (it is reviewed
    on the framework's review_cycle), never an empty one."""
    role["kpis"] = [{k: v for k, v in kpi.items() if k != "review_period" or v} for kpi in role.get("kpis", [])]
    return role


def save_framework(framework: Framework, path: str | Path) -> None:
    """Save a framework into a workspace folder atomically; role files of removed roles are deleted."""
    root = Path(path)
    files = framework_files(framework)
    (root / ROLES_DIR).mkdir(parents=True, exist_ok=True)
    if not framework.roles:
        (root / ROLES_DIR / KEEP_FILE).touch()  # git keeps no empty folder, and roles/ is required
    stale = [
        f for f in (root / ROLES_DIR).glob("*.yaml") if f"{ROLES_DIR}/{f.name}" not in files
    ]
    write_files_atomically(((root / name, text) for name, text in files.items()), remove=stale)
