"""The list of check rules: each rule is one small documented function registered under a stable id."""

from __future__ import annotations

__all__ = ["Check", "Found", "RULES", "Rule", "rule"]

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from kpi_workbook.analysis.checks.findings import Finding, Severity
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.model import Framework


class Found(Protocol):
    """Makes a Finding of the calling rule, coded with its id: ``found(severity, message, fix, file=..., ...)``."""

    def __call__(self, severity: Severity, message: str, fix: str, **where: Any) -> Finding: ...


Check = Callable[[Framework, Found], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A registered check: its stable id, the code of its findings (e.g. ``smart.specific``; ``id.meaning`` says
    it in one line), and the function that runs it."""

    id: Code
    check: Check

    @property
    def doc(self) -> str:
        """The rule's documentation: its function's docstring."""
        return inspect.getdoc(self.check) or ""

    def run(self, framework: Framework) -> list[Finding]:
        """The findings of this rule on a framework."""
        return list(self.check(framework, partial(_finding, self.id)))


RULES: list[Rule] = []


def _finding(code: Code, severity: Severity, message: str, fix: str, **where: Any) -> Finding:
    return Finding(severity=severity, code=code, message=message, fix=fix, **where)


def rule(rule_id: str) -> Callable[[Check], Check]:
    """Register the decorated function as the check with id ``rule_id``, a code of `Code` (its findings' code)."""
    def register(check: Check) -> Check:
        if any(r.id == rule_id for r in RULES):
            raise ValueError(f"rule id '{rule_id}' is registered twice")
        if rule_id not in set(Code):
            raise ValueError(f"rule id '{rule_id}' is not a code of kpi_workbook.core.issue_codes")
        RULES.append(Rule(Code(rule_id), check))
        return check
    return register
