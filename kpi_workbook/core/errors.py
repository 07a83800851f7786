"""Exceptions of kpi-workbook: one root class whose errors all carry coded issues (see `core.issues`)."""

from __future__ import annotations

__all__ = ["InputError", "KpiWorkbookError", "Problem", "UnknownTeamError"]

from typing import Any, ClassVar

from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.issues import Issue

Problem = Issue
"""An input problem is an `Issue` (severity error); the name reads well where inputs are checked."""


class KpiWorkbookError(Exception):
    """Base class of every error kpi-workbook raises on purpose; `issues` lists what went wrong, coded.

    A subclass that is not an `InputError` sets `code`; its message becomes its one issue.
    """

    code: ClassVar[Code] = Code.RUN_FAILED

    @property
    def issues(self) -> list[Issue]:
        """What went wrong, as coded issues."""
        return [Issue(message=str(self), code=self.code)]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled by state, not by constructor arguments (subclasses take their own), so that an error crosses
        to another process (a batch executor) whole."""
        return _restored, (type(self), self.args, self.__dict__)


def _restored(kind: type[KpiWorkbookError], args: tuple[Any, ...], state: dict[str, Any]) -> KpiWorkbookError:
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error


class InputError(KpiWorkbookError):
    """An input (framework file, actuals file, parameter, option) cannot be used; lists every problem found.

    Takes at least one problem: a list of issues, one issue, or a message (coded `code`, else ``input.invalid``).
    """

    def __init__(self, problems: list[Issue] | Issue | str, code: Code = Code.INPUT_INVALID):
        if isinstance(problems, str):
            problems = [Issue(message=problems, code=code)]
        elif isinstance(problems, Issue):
            problems = [problems]
        if not problems:
            raise ValueError("an InputError needs at least one problem")
        self.problems = list(problems)
        super().__init__(str(self))

    @property
    def issues(self) -> list[Issue]:
        """Every problem found."""
        return self.problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class UnknownTeamError(InputError):
    """A team id that the framework does not define; the message lists the valid ones."""

    def __init__(self, team: str, valid: list[str]):
        self.team = team
        self.valid = valid
        super().__init__(f"unknown team '{team}'. Valid teams: {', '.join(valid) if valid else '(none defined)'}",
                         code=Code.INPUT_UNKNOWN_TEAM)
