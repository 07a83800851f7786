"""SMART rules, per role KPI assignment: Specific, Measurable, Achievable, Relevant, Time-bound."""

from __future__ import annotations

__all__ = [
    "BandProblem", "MEASURED_FIELDS", "MEASURE_WORDS", "PER_YEAR", "VAGUE_WORDS", "achievable", "measurable",
    "relevant", "specific", "time_bound",
]

import re
from collections.abc import Iterator

from kpi_workbook.analysis.checks.common import resolved, role_file
from kpi_workbook.analysis.checks.findings import Finding, Severity
from kpi_workbook.analysis.checks.registry import Found, rule
from kpi_workbook.core.model import Framework, Frequency, KpiDefinition, Polarity, RoleKpi
from kpi_workbook.core.numbers import number_text
from kpi_workbook.workspace.files import KPIS_FILE

ERROR, WARNING = Severity.ERROR, Severity.WARNING

VAGUE_WORDS = re.compile(
    r"\b(improv(?:e|es|ed|ing)|better|various|good|enhanc(?:e|es|ed|ing)|optimi[sz](?:e|es|ed|ing)|etc"
    r"|effective(?:ly)?|appropriate(?:ly)?|adequate(?:ly)?|maximi[sz]e|minimi[sz]e|as needed)\b",
    re.IGNORECASE,
)
MEASURE_WORDS = re.compile(
    r"\d|%|\b(rate|ratio|percent\w*|share|number|count|time|days?|hours?|minutes?|score|cost|average|mean|median"
    r"|total|per|index|value|revenue|amount|volume)\b",
    re.IGNORECASE,
)
MEASURED_FIELDS = {
    "unit": "the unit the value is expressed in (e.g. '%', 'days', 'EUR', 'score 1-5')",
    "formula": "how the value is calculated, in words (e.g. 'deals won / deals closed x 100')",
    "data_source": "the system or record the value comes from (e.g. 'CRM opportunities report')",
}
PER_YEAR = {
    Frequency.WEEKLY: 52, Frequency.MONTHLY: 12, Frequency.QUARTERLY: 4, Frequency.HALF_YEARLY: 2, Frequency.YEARLY: 1,
}
_BAND_ORDER = {Polarity.HIGHER_IS_BETTER: "threshold <= target <= stretch",
               Polarity.LOWER_IS_BETTER: "threshold >= target >= stretch"}


def _vague(text: str, unit: str) -> str | None:
    """The first vague word of a text that names no measure, unit or number; None when the text is specific."""
    match = VAGUE_WORDS.search(text)
    if not match or MEASURE_WORDS.search(text) or (unit and unit.lower() in text.lower()):
        return None
    return match.group(0)


@rule("smart.specific")
def specific(framework: Framework, found: Found) -> Iterator[Finding]:
    """Warning: the KPI has no description, or its name or description uses vague words ("improve",
    "better", "various", "good", "enhance", "optimize", "etc", ...) without naming a measure, unit or number."""
    for role, _, kpi in resolved(framework):
        where = {"file": KPIS_FILE, "role": role.id, "kpi": kpi.id}
        if not kpi.description.strip():
            yield found(WARNING, "the KPI has no description",
                        "describe in one sentence what is measured and why it matters", field="description", **where)
        for field in ("name", "description"):
            word = _vague(getattr(kpi, field), kpi.unit)
            if word:
                yield found(WARNING, f"the {field} uses the vague word '{word}' without saying what is measured",
                            "name the measured quantity and its unit, e.g. 'Customer satisfaction score (1-5)' "
                            "instead of 'Improve customer satisfaction'", field=field, **where)


@rule("smart.measurable")
def measurable(framework: Framework, found: Found) -> Iterator[Finding]:
    """Warning: the KPI definition lacks a unit, a formula or a data source."""
    for role, _, kpi in resolved(framework):
        for field, hint in MEASURED_FIELDS.items():
            if not getattr(kpi, field).strip():
                yield found(WARNING, f"the KPI has no {field.replace('_', ' ')}", f"add {field}: {hint}",
                            file=KPIS_FILE, role=role.id, kpi=kpi.id, field=field)


BandProblem = tuple[Severity, str, str, str]


def _range_problems(a: RoleKpi) -> Iterator[BandProblem]:
    """(severity, field, message, fix) for the bands of a within_range KPI."""
    for field in ("threshold", "target", "stretch"):
        if getattr(a, field) is not None:
            yield ERROR, field, f"{field} does not apply to a within_range KPI", \
                "set target_range and threshold_range instead, and remove threshold/target/stretch"
    ranges = {"target_range": a.target_range, "threshold_range": a.threshold_range}
    missing = [f for f, v in ranges.items() if v is None]
    if missing:
        yield WARNING, missing[0], f"bands not set: {', '.join(missing)}", \
            "set target_range [lo, hi] (full score) and threshold_range [lo, hi] around it"
    reversed_ = {f: v for f, v in ranges.items() if v is not None and v[0] > v[1]}
    for field, (low, high) in reversed_.items():
        yield ERROR, field, f"{field} {[low, high]} has its low end above its high end", \
            "write the range as [low, high]"
    target_range, threshold_range = a.target_range, a.threshold_range
    if target_range is None or threshold_range is None or reversed_:  # bands missing or reversed
        return
    (lo, hi), (t_lo, t_hi) = target_range, threshold_range
    if not (t_lo <= lo and hi <= t_hi):
        yield ERROR, "threshold_range", f"threshold_range {[t_lo, t_hi]} does not enclose target_range {[lo, hi]}", \
            "widen threshold_range so that it contains target_range"


def _level_problems(a: RoleKpi, polarity: Polarity) -> Iterator[BandProblem]:
    """(severity, field, message, fix) for the threshold/target/stretch bands of a higher or lower KPI."""
    order = _BAND_ORDER[polarity]
    for field in ("target_range", "threshold_range"):
        if getattr(a, field) is not None:
            yield ERROR, field, f"{field} applies only to within_range KPIs, this KPI is {polarity}", \
                "set threshold, target and stretch instead, and remove the range"
    missing = [f for f in ("threshold", "target", "stretch") if getattr(a, f) is None]
    threshold, target, stretch = a.threshold, a.target, a.stretch
    if threshold is None or target is None or stretch is None:
        yield WARNING, missing[0], f"bands not set: {', '.join(missing)}", \
            f"set threshold, target and stretch ({order} for a {polarity} KPI)"
        return
    sign = 1 if polarity is Polarity.HIGHER_IS_BETTER else -1
    wrong = "target" if sign * (target - threshold) < 0 else "stretch" if sign * (stretch - target) < 0 else ""
    if wrong:
        yield ERROR, wrong, f"bands out of order: threshold {number_text(threshold, 6)}, " \
            f"target {number_text(target, 6)}, stretch {number_text(stretch, 6)}; a {polarity} KPI needs {order}", \
            f"change the values so that {order}"
    elif threshold == target == stretch:
        yield WARNING, "target", f"threshold, target and stretch are all {number_text(target, 6)}: any value past " \
            "it scores the full 100 and nothing earns more, nothing in between earns part", \
            "spread the levels: threshold the least acceptable value, stretch a value reached only by the best"
    elif stretch == target:
        yield WARNING, "stretch", f"stretch equals target ({number_text(target, 6)}): exceeding the target earns " \
            "nothing more", \
            "set stretch to an exceptional value beyond the target, one the best reach in a good period"


@rule("smart.achievable")
def achievable(framework: Framework, found: Found) -> Iterator[Finding]:
    """Bands fit the KPI's polarity. Error: out of order (higher_is_better: threshold <= target <= stretch;
    lower_is_better: threshold >= target >= stretch; within_range: lo <= hi and threshold_range enclosing
    target_range) or of the wrong kind for the polarity. Warning: bands not set yet; threshold = target = stretch
    (nothing in between earns part, nothing beyond earns more); stretch = target (exceeding earns nothing)."""
    for role, assignment, kpi in resolved(framework):
        problems = (_range_problems(assignment) if kpi.polarity is Polarity.WITHIN_RANGE
                    else _level_problems(assignment, kpi.polarity))
        for severity, field, message, fix in problems:
            yield found(severity, message, fix, file=role_file(role.id), role=role.id, kpi=kpi.id, field=field)


@rule("smart.relevant")
def relevant(framework: Framework, found: Found) -> Iterator[Finding]:
    """Warning: a role KPI assignment names no objective it serves, or no responsibility of the role."""
    for role, assignment, kpi in resolved(framework):
        where = {"file": role_file(role.id), "role": role.id, "kpi": kpi.id}
        if not assignment.objectives:
            yield found(WARNING, "the KPI serves no strategic objective",
                        "list the objective ids it serves under objectives (or remove the KPI from the role)",
                        field="objectives", **where)
        if assignment.responsibility is None:
            yield found(WARNING, "the KPI is not linked to a responsibility of the role",
                        "set responsibility to the id of the responsibility it measures", field="responsibility",
                        **where)


def _review_cycle(framework: Framework, assignment: RoleKpi) -> Frequency | None:
    """The cycle the assignment is reviewed on: its own review_period if that names a frequency, else the
    framework's review cycle; None for a review period that is not a frequency name."""
    if not assignment.review_period:
        return framework.metadata.review_cycle
    return Frequency(assignment.review_period) if assignment.review_period in PER_YEAR else None


def _frequency_gap(kpi: KpiDefinition, review: Frequency | None) -> str | None:
    if kpi.frequency is None or review is None or PER_YEAR[kpi.frequency] >= PER_YEAR[review]:
        return None
    return f"the KPI is measured {kpi.frequency} but reviewed {review}: some reviews will have no new value"


@rule("smart.time_bound")
def time_bound(framework: Framework, found: Found) -> Iterator[Finding]:
    """Warning: the KPI has no measurement frequency, the assignment's review_period is not a cycle name, or
    the KPI is measured less often than it is reviewed (review_period, else the framework's review_cycle)."""
    for role, assignment, kpi in resolved(framework):
        if kpi.frequency is None:
            yield found(WARNING, "the KPI has no measurement frequency",
                        f"set frequency to one of {', '.join(PER_YEAR)}", file=KPIS_FILE, role=role.id,
                        kpi=kpi.id, field="frequency")
        if assignment.review_period and assignment.review_period not in PER_YEAR:
            yield found(WARNING, f"review period '{assignment.review_period}' is not a known cycle",
                        f"set review_period to one of {', '.join(PER_YEAR)}, or leave it empty to use the "
                        "framework's review_cycle", file=role_file(role.id), role=role.id, kpi=kpi.id,
                        field="review_period")
        gap = _frequency_gap(kpi, _review_cycle(framework, assignment))
        if gap:
            yield found(WARNING, gap, f"measure it at least {_review_cycle(framework, assignment)}, or set this "
                        f"assignment's review_period to {kpi.frequency}", file=role_file(role.id), role=role.id,
                        kpi=kpi.id, field="review_period")
