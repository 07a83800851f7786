"""One issue model for input problems and check findings: a severity, a code, what is wrong, how to fix it, where."""

from __future__ import annotations

__all__ = ["ISSUE_COLUMNS", "SEVERITY_ORDER", "Issue", "Severity"]

from dataclasses import dataclass
from enum import StrEnum

from kpi_workbook.core.issue_codes import Code


class Severity(StrEnum):
    """How much an issue matters: errors block use, warnings are design gaps, info is for the record."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_ORDER = list(Severity)
ISSUE_COLUMNS = ["severity", "code", "file", "role", "kpi", "entry", "row", "field", "option", "message", "fix"]


@dataclass(frozen=True, kw_only=True)
class Issue:
    """One problem with an input, or one finding of a check.

    ``code`` is a registered `Code` (a plain string of one is accepted; left out, ``input.invalid``, or
    ``option.invalid`` for an issue with an ``option``); ``message`` says what is wrong and
    ``fix`` how to fix it (may be empty). Where it is: ``file`` (relative to the workspace when inside it), the
    ``role`` and ``kpi`` ids, ``entry`` for any other entry (e.g. ``objective 'grow'``), the 1-based ``row`` of a
    table, the ``field`` to change; or, for a command-line option, ``option`` (e.g. ``--kpi``).
    """

    message: str
    code: Code = Code.INPUT_INVALID
    severity: Severity = Severity.ERROR
    fix: str = ""
    file: str = ""
    role: str = ""
    kpi: str = ""
    entry: str = ""
    row: int | None = None
    field: str = ""
    option: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))
        code = Code(self.code)  # a code that is not registered is a programming error
        object.__setattr__(self, "code", Code.OPTION_INVALID if self.option and code is Code.INPUT_INVALID else code)

    @property
    def where(self) -> str:
        """Option, file, role, KPI, entry, row and field, as far as they are known."""
        parts = [p for p in (self.option, self.file) if p]
        parts += [f"role '{self.role}'"] if self.role else []
        parts += [f"KPI '{self.kpi}'"] if self.kpi else []
        parts += [self.entry] if self.entry else []
        parts += [f"row {self.row}"] if self.row is not None else []
        parts += [f"field '{self.field}'"] if self.field else []
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message
