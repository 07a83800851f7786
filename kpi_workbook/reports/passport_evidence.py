"""The evidence on one KPI, for its passport: does it lead (or is it led by) the KPIs it is paired with, and did a
gaming check find a signal (from `kpi-workbook evidence`, parts 1 and 3), in names and words."""

from __future__ import annotations

__all__ = [
    "CHECK_TITLES", "GamingCheck", "LeadRow", "MIN_BEFORE", "NOT_TESTED", "NO_SIGNAL", "SIGNAL", "gaming_checks",
    "indicator_words", "lead_rows", "relation_words",
]

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kpi_workbook.analysis.evidence.gaming import GamingSignal
from kpi_workbook.analysis.evidence.leading import LEADS, MIN_UNITS, PairResult
from kpi_workbook.core.model import Framework, Indicator, KpiDefinition, MeasureType, Polarity
from kpi_workbook.reports.passport_words import Namer

if TYPE_CHECKING:
    from kpi_workbook.analysis.evidence import Evidence

BUNCHING, GUARDRAIL, COLLAPSE = "bunching", "guardrail", "variance collapse"
CHECK_TITLES = {BUNCHING: "Bunching just past a target or threshold", GUARDRAIL: "A guardrail KPI moving the wrong "
                "way", COLLAPSE: "Spread across people collapsing after the target was set"}
MIN_BEFORE = 2  # periods before the targets were set that the variance-collapse check needs (gaming.collapse_findings)
NOT_TESTED = "not tested"
NO_SIGNAL = "no signal"
SIGNAL = "signal found"


@dataclass(frozen=True)
class LeadRow:
    """One tested pair the KPI belongs to."""

    leading: str
    lagging: str
    pairing: str
    verdict: str
    relation: str
    note: str


@dataclass(frozen=True)
class GamingCheck:
    """One gaming check on the KPI: what it is, whether it ran, and its findings in words."""

    check: str
    status: str
    detail: str
    findings: tuple[str, ...]


def _minus(value: float) -> str:
    return f"{value:.2f}".replace("-", "\u2212")


def relation_words(pair: PairResult) -> str:
    """The strongest lagged relation in words: lag, r with its interval, and what it rests on."""
    rel = pair.relation
    if rel is None:
        return "not measured"
    units = "people" if pair.level == "people" else "teams"
    adjusted = "" if math.isnan(pair.q) else f", q = {pair.q:.2g}"
    return (f"strongest {_periods(rel.lag)} later: r = {_minus(rel.r)} (95 % interval {_minus(rel.low)} to "
            f"{_minus(rel.high)}; p = {rel.p:.2g}{adjusted}), from {rel.n} pairs of changes across {rel.units} {units}")


def _periods(count: int) -> str:
    return f"{count} period" if count == 1 else f"{count} periods"


def _note(pair: PairResult) -> str:
    needed = pair.periods_needed
    more = [f"about {needed} more period{'s' * (needed != 1)} of data needed"] if needed else []
    return "; ".join([pair.note, *more] if pair.note else more)


def lead_rows(kpi: KpiDefinition, evidence: Evidence | None, namer: Namer) -> tuple[tuple[LeadRow, ...], str]:
    """The pairs the KPI is in (as leading or lagging KPI), and a line saying what they add up to."""
    if evidence is None:
        return (), "Not tested: no actuals are stored."
    pairs = [p for p in evidence.leads.pairs if kpi.id in (p.leading, p.lagging)]
    rows = tuple(
        LeadRow(namer.kpi(p.leading), namer.kpi(p.lagging),
                "declared (kpis.yaml: leads)" if p.declared else "candidate: serves the same objective",
                p.verdict, relation_words(p), _note(p))
        for p in pairs if p.relation is not None)
    untested = [namer.kpi(p.lagging if p.leading == kpi.id else p.leading) for p in pairs if p.relation is None]
    return rows, _lead_summary(kpi, evidence, rows, untested, namer)


def _lead_summary(kpi: KpiDefinition, evidence: Evidence, rows: tuple[LeadRow, ...], untested: list[str],
                  namer: Namer) -> str:
    """What the KPI's pairs add up to: whom it is shown to lead or be led by, or that it leads or is led by none."""
    followers = [r.lagging for r in rows if r.verdict == LEADS and r.leading == kpi.name]
    drivers = [r.leading for r in rows if r.verdict == LEADS and r.lagging == kpi.name]
    parts = []
    if followers:
        parts.append(f"Shown on the stored history to lead {', '.join(followers)}.")
    if drivers:
        parts.append(f"Shown on the stored history to be led by {', '.join(drivers)}.")
    if kpi.id in evidence.leads.idle_leading:
        parts.append("A leading KPI that no lagging KPI is shown to follow yet.")
    if kpi.id in evidence.leads.undriven_lagging:
        parts.append("A lagging KPI that no leading KPI is shown to drive yet.")
    if untested:
        parts.append(f"Could not be tested against {', '.join(untested)}: not measured on the same people or teams "
                     f"in {MIN_UNITS} or more cases.")
    elif not rows:
        parts.append("In no pair: it declares no `leads`, and no KPI of the other kind serves one of its objectives "
                     "in a role.")
    if kpi.leads:
        parts.append(f"Declared to drive {', '.join(namer.kpi(k) for k in kpi.leads)} (kpis.yaml: leads).")
    return " ".join(parts)


def _finding(finding: GamingSignal, framework: Framework, namer: Namer) -> str:
    """A finding in words: its scope, evidence, p-value and what to look at, KPIs by name (a guardrail finding names
    the KPI and its guardrail by id)."""
    kpi = framework.kpi(finding.kpi_id)
    ids = [finding.kpi_id, *([kpi.guardrail] if kpi and kpi.guardrail else [])]
    scope = namer.scope(finding.scope)
    return (f"{scope[:1].upper()}{scope[1:]}: {namer.words(finding.evidence, ids)} (p = {finding.p:.2g}). Look at "
            f"{namer.words(finding.look_at, ids)}.")


def _check(check: str, found: list[GamingSignal], words: Callable[[GamingSignal], str], tested: str,
           untested: str = "") -> GamingCheck:
    if untested:
        return GamingCheck(CHECK_TITLES[check], NOT_TESTED, untested, ())
    return GamingCheck(CHECK_TITLES[check], SIGNAL if found else NO_SIGNAL, tested, tuple(map(words, found)))


def _uncollapsible(since: str | None, periods: list[str], used: bool) -> str:
    """Why the variance-collapse check cannot run on a KPI ("" when it can): it compares the periods from the one the
    targets were set in (`since`) with at least two before."""
    if since is None:
        return "framework.yaml has no date, so when the targets were set is unknown"
    if since not in periods or periods.index(since) < MIN_BEFORE:
        return (f"the targets were set in {since}, and the store holds fewer than {MIN_BEFORE} periods of values "
                "before it to compare with")
    return "" if used else "no role uses it"


def gaming_checks(kpi: KpiDefinition, framework: Framework, evidence: Evidence | None, namer: Namer,
                  periods: list[str]) -> tuple[GamingCheck, ...]:
    """The three gaming checks on the KPI, each with its findings (per role or team, never per person); `periods`
    are the stored periods, oldest first."""
    if evidence is None:
        return tuple(GamingCheck(CHECK_TITLES[c], NOT_TESTED, "no actuals are stored", ())
                     for c in (BUNCHING, GUARDRAIL, COLLAPSE))
    used = any(a.kpi.kpi == kpi.id for a in framework.assignments)
    mine = [f for f in evidence.gaming if f.kpi_id == kpi.id]
    guarded = [k.id for k in framework.kpis if k.guardrail == kpi.id]
    as_guardrail = [f for f in evidence.gaming if f.check == GUARDRAIL and f.kpi_id in guarded]
    unbunched = ("ranges are not tested" if kpi.polarity is Polarity.WITHIN_RANGE else "rated KPIs are not tested"
                 if kpi.measure_type is MeasureType.QUALITATIVE else "no role uses it" if not used else "")
    pairs = [f"its guardrail is {namer.kpi(kpi.guardrail)}"] if kpi.guardrail else []
    pairs += [f"it is the guardrail of {', '.join(namer.kpi(k) for k in guarded)}"] if guarded else []
    since = evidence.since

    def words(finding: GamingSignal) -> str:
        return _finding(finding, framework, namer)

    return (
        _check(BUNCHING, [f for f in mine if f.check == BUNCHING], words,
               "each role's values around its target and threshold (where there are enough values near them)",
               unbunched),
        _check(GUARDRAIL, [f for f in mine if f.check == GUARDRAIL] + as_guardrail, words, "; ".join(pairs),
               "" if pairs else "no guardrail declared (kpis.yaml: guardrail)"),
        _check(COLLAPSE, [f for f in mine if f.check == COLLAPSE], words,
               f"the spread across each role's people from {since} on, against the periods before",
               _uncollapsible(since, periods, used)),
    )


def indicator_words(kpi: KpiDefinition) -> str:
    """Leading or lagging, in words."""
    return ("leading: meant to predict an outcome" if kpi.indicator is Indicator.LEADING
            else "lagging: records an outcome")
