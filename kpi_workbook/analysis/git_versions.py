"""Framework versions kept in git: a workspace's framework as it was at a revision, or as one framework file holds it.

Reading a revision runs ``git archive`` on the workspace's folder (the files at that commit, not the work tree), so
``kpi-workbook diff main feature -w my_org`` compares two branches without checking either out.
"""

from __future__ import annotations

__all__ = ["PART_FILES", "framework_at", "framework_part"]

import dataclasses
import io
import subprocess
import tarfile
import tempfile
from pathlib import Path

from pydantic import ValidationError

from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.model import Framework, Metadata
from kpi_workbook.workspace.files import load_framework, validation_problems
from kpi_workbook.workspace.yaml_io import read_yaml

PART_FILES = {"objectives.yaml": "objectives", "teams.yaml": "teams", "kpis.yaml": "kpis"}
_PLACEHOLDER = {"organization": "-"}


def _git(folder: Path, *args: str) -> bytes:
    """The output of `git ARGS` run in `folder`; InputError with git's own first line when it fails."""
    try:
        done = subprocess.run(["git", *args], cwd=folder, capture_output=True, check=False)
    except FileNotFoundError:
        raise InputError(Problem(file=str(folder), field="revision", message=(
            "comparing revisions needs git, and git is not installed"))) from None
    if done.returncode != 0:
        first = (done.stderr.decode(errors="replace").strip().splitlines() or ["git failed"])[0]
        raise InputError(Problem(file=str(folder), field="revision", message=first.removeprefix("fatal: ")))
    return done.stdout


def framework_at(revision: str, workspace: str | Path) -> Framework:
    """The framework of the workspace folder `workspace` as committed at `revision` (a branch, tag or commit).

    InputError when the folder is not in a git repository, the revision is unknown, the folder did not exist at
    that revision or its framework files then were not valid (each problem names the file and the revision).
    """
    folder = Path(workspace).absolute()
    if not folder.is_dir():
        raise InputError(Problem(file=str(workspace), field="workspace", message="workspace folder not found"))
    prefix = _git(folder, "rev-parse", "--show-prefix").decode().strip()
    _git(folder, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    listed = _git(folder, "ls-tree", "--name-only", revision, "--", ".").decode().split()
    if not listed:
        raise InputError(Problem(file=str(workspace), field="revision", message=(
            f"the workspace folder holds no files at revision {revision}")))
    archive = _git(folder, "archive", "--format=tar", revision, "--", ".")
    with tempfile.TemporaryDirectory() as copy:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(copy, filter="data")
        try:
            return load_framework(Path(copy))  # the archive of a subfolder holds its files at the top
        except InputError as exc:
            raise InputError([dataclasses.replace(p, file=f"{revision}:{prefix}{Path(p.file).name if p.file else ''}")
                              for p in exc.problems]) from None


def framework_part(path: str | Path, name: str) -> Framework:
    """The part of a framework one file holds (`name` says which: objectives.yaml, teams.yaml, kpis.yaml,
    framework.yaml, or a role file such as roles/sales.yaml), as a framework with nothing else in it.

    For git's external diff: git hands over two copies of one file. An empty or missing file (/dev/null: the file
    was added or deleted) holds nothing.
    """
    source = Path(path)
    data = read_yaml(source) if source.is_file() and source.stat().st_size else None
    data = data or {}
    base = Path(name).name
    try:
        if base == "framework.yaml":
            return Framework(metadata=Metadata.model_validate({**_PLACEHOLDER, **data}))
        if base in PART_FILES:
            key = PART_FILES[base]
            return Framework.model_validate({"metadata": _PLACEHOLDER, key: data.get(key) or []})
        return Framework.model_validate({"metadata": _PLACEHOLDER, "roles": [data] if data else []})
    except ValidationError as exc:
        raise InputError(validation_problems(exc, name, data, "entry")) from None
