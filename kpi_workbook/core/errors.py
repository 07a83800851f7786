"""Exceptions of kpi-workbook: one base class, and problems that name file, entry and field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem with an input: where it is (file, entry, field) and what is wrong."""

    file: str
    message: str
    entry: str = ""
    field: str = ""

    def __str__(self) -> str:
        where = [self.file]
        if self.entry:
            where.append(self.entry)
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}"


class KpiWorkbookError(Exception):
    """Base class of every error kpi-workbook raises on purpose."""


class InputError(KpiWorkbookError):
    """An input (framework file, actuals file, parameter) cannot be used; lists every problem found."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(file="", message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(p).removeprefix(", ").removeprefix(": ") for p in self.problems)


class UnknownTeamError(InputError):
    """A team id that the framework does not define; the message lists the valid ones."""

    def __init__(self, team: str, valid: list[str]):
        self.team = team
        self.valid = valid
        super().__init__(
            f"unknown team '{team}'. Valid teams: {', '.join(valid) if valid else '(none defined)'}"
        )
