"""What a batch run executes: one job per (scope, notebook), grouped into one batch per scope."""

from __future__ import annotations

__all__ = ["Batch", "CELL_TIMEOUT", "Job", "NOTEBOOK_TIMEOUT", "PEOPLE_NOTEBOOK", "scope_batches"]

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kpi_workbook.batch.records import scope_folder, scope_key

CELL_TIMEOUT = 600.0
PEOPLE_NOTEBOOK = "05_review"  # the notebook with a `people` parameter: each person's score and values
NOTEBOOK_TIMEOUT = 1800.0


@dataclass(frozen=True)
class Job:
    """One notebook to run for one team (an empty team means the whole organization)."""

    notebook: Path
    team: str
    team_name: str
    workspace: Path
    period: str
    period_dir: Path
    cell_timeout: float = CELL_TIMEOUT
    notebook_timeout: float = NOTEBOOK_TIMEOUT
    department: str = ""
    people: bool = False

    @property
    def folder(self) -> str:
        return scope_folder(self.team, self.department)

    @property
    def key(self) -> tuple[str, str]:
        return scope_key(self.team, self.department), self.notebook.stem

    @property
    def parameters(self) -> dict[str, object]:
        scope = {"department": self.department} if self.department else {}  # step notebooks without it still run
        people = {"people": True} if self.people and self.notebook.stem == PEOPLE_NOTEBOOK else {}
        return {"workspace": str(self.workspace), "team": self.team, **scope, "period": self.period,
                "interactive": False, **people}


Batch = tuple[Job, ...]  # one scope's notebooks, in notebook order, run one after the other in one kernel


def scope_batches(jobs: Sequence[Job]) -> list[Batch]:
    """The jobs grouped by scope, scopes in the order of their first job, each scope's notebooks in order."""
    grouped: dict[str, list[Job]] = {}
    for job in jobs:
        grouped.setdefault(job.key[0], []).append(job)
    return [tuple(sorted(group, key=lambda job: job.notebook.name)) for group in grouped.values()]
