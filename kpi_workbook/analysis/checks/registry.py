"""The list of check rules: each rule is one small documented function registered under a stable id."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from kpi_workbook.analysis.checks.findings import Finding, Severity
from kpi_workbook.core.model import Framework


class Found(Protocol):
    """Makes a Finding of the calling rule: ``found(severity, message, fix, file=..., role=..., ...)``."""

    def __call__(self, severity: Severity, message: str, fix: str, **where: str) -> Finding: ...


Check = Callable[[Framework, Found], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A registered check: its stable id (e.g. ``smart.specific``) and the function that runs it."""

    id: str
    check: Check

    @property
    def doc(self) -> str:
        """The rule's documentation: its function's docstring."""
        return inspect.getdoc(self.check) or ""

    def run(self, framework: Framework) -> list[Finding]:
        """The findings of this rule on a framework."""
        return list(self.check(framework, partial(_finding, self.id)))


RULES: list[Rule] = []


def _finding(rule_id: str, severity: Severity, message: str, fix: str, **where: str) -> Finding:
    return Finding(severity=severity, rule=rule_id, message=message, fix=fix, **where)


def rule(rule_id: str) -> Callable[[Check], Check]:
    """Register the decorated function as the check with id ``rule_id``."""
    def register(check: Check) -> Check:
        if any(r.id == rule_id for r in RULES):
            raise ValueError(f"rule id '{rule_id}' is registered twice")
        RULES.append(Rule(rule_id, check))
        return check
    return register
