"""The record of a period's runs: one result per scope and notebook, kept in runs.json, with the runs a runner
planned and has not finished (a killed or stopped runner leaves them there, for --retry-failed)."""

from __future__ import annotations

__all__ = [
    "DEPARTMENT_FOLDER", "DEPARTMENT_PREFIX", "ORGANIZATION_FOLDER", "RUNS_FILE", "RunResult", "Status", "UNDATED",
    "load_planned", "load_runs", "save_runs", "scope_folder", "scope_key",
]

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from kpi_workbook.core.atomic_files import write_text_atomically
from kpi_workbook.core.errors import InputError, Problem

ORGANIZATION_FOLDER = "_organization"  # framework ids cannot start with "_", so no team can clash with it
UNDATED = "undated"  # the period folder of a workspace without actuals
RUNS_FILE = "runs.json"
DEPARTMENT_PREFIX = "department:"  # ":" is never part of a team id, so a department's key cannot clash with one
DEPARTMENT_FOLDER = "_department-"


def scope_key(team: str, department: str = "") -> str:
    """The key of a run's scope in runs.json and the index: the team id, "department:<id>", or "" (organization)."""
    return f"{DEPARTMENT_PREFIX}{department}" if department else team


def scope_folder(team: str, department: str = "") -> str:
    """The report folder of a scope: the team id, "_department-<id>", or "_organization"."""
    return f"{DEPARTMENT_FOLDER}{department}" if department else team or ORGANIZATION_FOLDER


class Status(StrEnum):
    """Outcome of one run."""

    OK = "ok"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


@dataclass
class RunResult:
    """What happened when one notebook ran for one scope; paths are relative to the period folder."""

    team: str
    team_name: str
    notebook: str
    status: Status
    duration: float
    error: str = ""
    message: str = ""
    ipynb: str = ""
    html: str = ""
    warnings: list[str] = field(default_factory=list)
    finished: str = field(default_factory=lambda: datetime.now().astimezone().isoformat(timespec="seconds"))
    department: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return scope_key(self.team, self.department), self.notebook


def load_runs(period_dir: Path) -> list[RunResult]:
    """The runs recorded in a period folder's runs.json (none if there is no record yet)."""
    path = period_dir / RUNS_FILE
    if not path.exists():
        return []
    try:
        records = json.loads(path.read_text(encoding="utf-8"))["runs"]
        return [RunResult(**{**r, "status": Status(r["status"])}) for r in records]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(Problem(file=str(path), message=f"not a run record: {exc}")) from None


def load_planned(period_dir: Path) -> set[tuple[str, str]]:
    """The (scope key, notebook) of the runs planned and not finished, as runs.json lists them."""
    path = period_dir / RUNS_FILE
    if not path.exists():
        return set()
    try:
        planned = json.loads(path.read_text(encoding="utf-8")).get("planned", [])
        return {(scope, notebook) for scope, notebook in planned}
    except (ValueError, TypeError, AttributeError) as exc:
        raise InputError(Problem(file=str(path), message=f"not a run record: {exc}")) from None


def save_runs(period_dir: Path, runs: Sequence[RunResult], workspace: Path, period: str,
              planned: Iterable[tuple[str, str]] = ()) -> None:
    """Write runs.json: one record per (team, notebook), sorted, with the workspace and period, and the keys of the
    runs planned and not finished yet."""
    doc = {
        "workspace": str(workspace),
        "period": period,
        "runs": [{**asdict(r), "status": r.status.value} for r in sorted(runs, key=lambda r: r.key)],
        "planned": [list(key) for key in sorted(planned)],
    }
    write_text_atomically(period_dir / RUNS_FILE, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
