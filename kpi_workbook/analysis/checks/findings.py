"""Findings of the framework checks: what is wrong, where, how to fix it; as a table or a readable report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from itertools import groupby

import pandas as pd

from kpi_workbook.analysis.checks.common import role_file


class Severity(StrEnum):
    """How much a finding matters: errors block use, warnings are design gaps, info is for the record."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_ORDER = list(Severity)
FINDING_COLUMNS = ["severity", "rule", "file", "role", "kpi", "entry", "field", "message", "fix"]
_HEADINGS = {Severity.ERROR: "Errors", Severity.WARNING: "Warnings", Severity.INFO: "Info"}


@dataclass(frozen=True)
class Finding:
    """One check result: severity, the rule that found it, what is wrong, how to fix it, and where.

    ``file`` is relative to the workspace (e.g. ``roles/sales_rep.yaml``); ``role`` and ``kpi`` are ids;
    ``entry`` names an entry that is neither a role nor a KPI (e.g. ``objective 'grow_revenue'``);
    ``field`` is the field to change.
    """

    severity: Severity
    rule: str
    message: str
    fix: str
    file: str = ""
    role: str = ""
    kpi: str = ""
    field: str = ""
    entry: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))

    @property
    def where(self) -> str:
        """File, role, KPI, entry and field, as far as they are known."""
        parts = [self.file] if self.file else []
        parts += [f"role '{self.role}'"] if self.role else []
        parts += [f"KPI '{self.kpi}'"] if self.kpi else []
        parts += [self.entry] if self.entry else []
        parts += [f"field '{self.field}'"] if self.field else []
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message} [{self.rule}]"


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when at least one finding is an error."""
    return any(f.severity is Severity.ERROR for f in findings)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings ordered by severity (errors first); the order within a severity is kept."""
    return sorted(findings, key=lambda f: SEVERITY_ORDER.index(f.severity))


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """One row per finding; ``severity`` is an ordered categorical (error < warning < info)."""
    frame = pd.DataFrame([asdict(f) for f in findings], columns=FINDING_COLUMNS)
    frame["severity"] = pd.Categorical(
        frame["severity"].astype(object).map(str), categories=[str(s) for s in SEVERITY_ORDER], ordered=True
    )
    return frame


def summary(findings: Iterable[Finding]) -> str:
    """A one-line count such as ``2 errors, 5 warnings, 1 info``."""
    counts = {s: 0 for s in SEVERITY_ORDER}
    for finding in findings:
        counts[finding.severity] += 1
    return ", ".join(f"{n} {s}{'s' if n != 1 and s is not Severity.INFO else ''}" for s, n in counts.items())


def _group(finding: Finding) -> str:
    if finding.role:
        return f"Role `{finding.role}` ({role_file(finding.role)})"
    return f"`{finding.file}`" if finding.file else "Workspace"


def _item(finding: Finding) -> str:
    elsewhere = finding.role and finding.file and finding.file != role_file(finding.role)
    where = [f"in `{finding.file}`"] if elsewhere else []
    where += [f"KPI `{finding.kpi}`"] if finding.kpi else []
    where += [finding.entry] if finding.entry else []
    where += [f"field `{finding.field}`"] if finding.field else []
    location = f" {', '.join(where)}:" if where else ""
    return f"- **{finding.rule}**{location} {finding.message}\n  Fix: {finding.fix}"


def format_findings(findings: Iterable[Finding], title: str | None = None) -> str:
    """A readable markdown report: a summary line, then findings by severity and by role (or file)."""
    ordered = sort_findings(findings)
    lines = [f"# {title}", ""] if title else []
    lines.append(f"Summary: {summary(ordered)}.")
    if not ordered:
        lines += ["", "No findings: the framework passes every check."]
    for severity, of_severity in groupby(ordered, key=lambda f: f.severity):
        of_severity = list(of_severity)
        lines += ["", f"## {_HEADINGS[severity]} ({len(of_severity)})"]
        groups: dict[str, list[Finding]] = {}
        for finding in of_severity:
            groups.setdefault(_group(finding), []).append(finding)
        for heading, items in groups.items():
            lines += ["", f"### {heading}", ""]
            lines += [_item(f) for f in items]
    return "\n".join(lines) + "\n"
