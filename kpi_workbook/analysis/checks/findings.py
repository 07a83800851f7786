"""Findings of the framework checks: what is wrong, where, how to fix it; as a table or a readable report."""

from __future__ import annotations

__all__ = [
    "FINDING_COLUMNS", "Finding", "Severity", "findings_frame", "format_findings", "has_errors", "sort_findings",
    "summary",
]

from collections.abc import Iterable
from dataclasses import asdict
from itertools import groupby

import pandas as pd

from kpi_workbook.analysis.checks.common import role_file
from kpi_workbook.core.issues import ISSUE_COLUMNS, SEVERITY_ORDER, Issue, Severity

Finding = Issue
"""A check result is an `Issue` whose code is the id of the rule that found it (see `checks.registry`)."""

FINDING_COLUMNS = ISSUE_COLUMNS
_HEADINGS = {Severity.ERROR: "Errors", Severity.WARNING: "Warnings", Severity.INFO: "Info"}


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when at least one finding is an error."""
    return any(f.severity is Severity.ERROR for f in findings)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings ordered by severity (errors first); the order within a severity is kept."""
    return sorted(findings, key=lambda f: SEVERITY_ORDER.index(f.severity))


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """One row per finding (FINDING_COLUMNS); ``severity`` is an ordered categorical (error < warning < info),
    ``row`` a nullable integer."""
    frame = pd.DataFrame([asdict(f) for f in findings], columns=FINDING_COLUMNS)
    frame["code"] = frame["code"].astype(object).map(str)
    frame["row"] = frame["row"].astype("Int64")
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
    where += [f"row {finding.row}"] if finding.row is not None else []
    where += [f"field `{finding.field}`"] if finding.field else []
    location = f" {', '.join(where)}:" if where else ""
    return f"- **{finding.code}**{location} {finding.message}\n  Fix: {finding.fix}"


def format_findings(findings: Iterable[Finding], title: str | None = None) -> str:
    """A readable markdown report: a summary line, then findings by severity and by role (or file)."""
    ordered = sort_findings(findings)
    lines = [f"# {title}", ""] if title else []
    lines.append(f"Summary: {summary(ordered)}.")
    if not ordered:
        lines += ["", "No findings: the framework passes every check."]
    for severity, grouped in groupby(ordered, key=lambda f: f.severity):
        of_severity = list(grouped)
        lines += ["", f"## {_HEADINGS[severity]} ({len(of_severity)})"]
        groups: dict[str, list[Finding]] = {}
        for finding in of_severity:
            groups.setdefault(_group(finding), []).append(finding)
        for heading, items in groups.items():
            lines += ["", f"### {heading}", ""]
            lines += [_item(f) for f in items]
    return "\n".join(lines) + "\n"
