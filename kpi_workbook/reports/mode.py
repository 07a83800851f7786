"""Report or workshop: what the package prints for a report (a batch run, `interactive` False) leaves out commands,
file names, the workspace's folder, code-like formulas and backticks; a live notebook (the workshop) keeps them.

A step notebook sets the mode once, from its `interactive` parameter, before it prints anything.
"""

from __future__ import annotations

__all__ = ["for_readers", "formula_text", "report_mode", "scope_line", "set_report_mode"]

import re

from IPython.display import Markdown

from kpi_workbook.workspace.scope import Scope

_mode = {"report": False}

_COMMAND = re.compile(r",?\s*`kpi-workbook [^`]*`")  # a quoted command, with the comma that introduces it
_EMPTY_BRACKETS = re.compile(r"\s*\(\s*\)")
_BACKTICKS = re.compile(r"`([^`]*)`")
# Comparisons of a measure's filter in words: stage == "Closed Won" reads stage is "Closed Won"
_OPERATORS = {"==": "is", "!=": "is not", ">=": "at least", "<=": "at most", ">": "above", "<": "below"}
_OPERATOR = re.compile(r"\s(==|!=|>=|<=|>|<)\s")


def set_report_mode(report: bool) -> None:
    """Print for a report (True) or for the workshop (False)."""
    _mode["report"] = bool(report)


def report_mode() -> bool:
    """True while printing for a report."""
    return _mode["report"]


def for_readers(text: str) -> str:
    """Text as a report shows it: without quoted commands (and the brackets they leave empty) and without
    backticks. In the workshop, the text unchanged."""
    if not report_mode():
        return text
    return _BACKTICKS.sub(r"\1", _EMPTY_BRACKETS.sub("", _COMMAND.sub("", text)))


def formula_text(text: str) -> str:
    """A measure's description as a report shows it: comparisons in words. In the workshop, unchanged."""
    if not report_mode():
        return text
    return _OPERATOR.sub(lambda m: f" {_OPERATORS[m.group(1)]} ", text)


def scope_line(scope: Scope) -> Markdown:
    """One line on what the notebook covers: scope, roles, people and period; the workspace too in the workshop."""
    parts = [f"**Scope:** {scope.name}", f"**Roles:** {len(scope.roles)}", f"**People:** {len(scope.employees)}"]
    if not report_mode():
        parts.insert(0, f"**Workspace:** `{scope.workspace.name}`")
    if scope.requested_period:
        parts.append(f"**Period:** {scope.requested_period}")
    return Markdown(" · ".join(parts))
