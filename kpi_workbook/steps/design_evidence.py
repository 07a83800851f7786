"""Step 3's evidence from the stored history: do the leading KPIs lead, do the guardrails hold. A module of its own,
so that a step opens without loading the statistics (scipy) until the evidence is drawn."""

from __future__ import annotations

__all__ = [
    "DesignEvidence", "EvidenceOf", "design_evidence", "evidence_view", "guardrails_report", "lead_gaps",
    "lead_pairs_report", "scope_evidence",
]

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from IPython.display import Markdown

from kpi_workbook.analysis.evidence.gaming import guardrail_findings
from kpi_workbook.analysis.evidence.leading import DOES_NOT_LEAD, LEADS, NO_EVIDENCE, PairResult, lead_evidence
from kpi_workbook.core.model import Framework, Role
from kpi_workbook.reports.passport_words import Namer
from kpi_workbook.reports.tables import Col, ReportTable

if TYPE_CHECKING:
    from kpi_workbook.analysis.evidence.gaming import GamingSignal
    from kpi_workbook.steps.context import StepContext

PAIR_COLUMNS = ["leading", "lagging", "leading_name", "lagging_name", "pairing", "verdict", "lag", "r", "low", "high",
                "changes", "units", "note", "tested"]
GUARDRAIL_COLUMNS = ["kpi", "guardrail", "name", "guardrail_name", "status", "where", "evidence", "look_at"]
DECLARED = "declared in kpis.yaml"
SAME_OBJECTIVE = "same objective"
VERDICT_PALETTE = {LEADS: "green", NO_EVIDENCE: "grey", DOES_NOT_LEAD: "amber"}
VERDICT_ORDER = {LEADS: 0, DOES_NOT_LEAD: 1, NO_EVIDENCE: 2}
APART, HOLDS = "moving apart", "no sign"
GUARDRAIL_PALETTE = {APART: "red", HOLDS: "green"}


@dataclass(frozen=True)
class DesignEvidence:
    """The evidence step 3 shows for the scope's roles: each leading → lagging pair, the leading KPIs shown to lead
    nothing and the lagging KPIs no leading KPI is shown to drive (by name), and each declared guardrail."""

    pairs: pd.DataFrame
    idle_leading: list[str]
    undriven_lagging: list[str]
    guardrails: pd.DataFrame


def _used(framework: Framework, roles: Sequence[Role] | None) -> set[str]:
    """The KPIs the roles use (every role's when None)."""
    return {a.kpi for role in (framework.roles if roles is None else roles) for a in role.kpis}


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def _pair_note(pair: PairResult) -> str:
    """How much more history a pair needs, else the analysis's note."""
    if pair.periods_needed:
        return f"about {_plural(pair.periods_needed, 'more period')} of data needed"
    return pair.note


def _pair_row(pair: PairResult, namer: Namer) -> dict[str, object]:
    rel = pair.relation
    return {"leading": pair.leading, "lagging": pair.lagging, "leading_name": namer.kpi(pair.leading),
            "lagging_name": namer.kpi(pair.lagging), "pairing": DECLARED if pair.declared else SAME_OBJECTIVE,
            "verdict": pair.verdict, "lag": rel.lag if rel else None, "r": rel.r if rel else None,
            "low": rel.low if rel else None, "high": rel.high if rel else None, "changes": rel.n if rel else 0,
            "units": f"{rel.units} {pair.level}" if rel else "", "note": _pair_note(pair), "tested": rel is not None}


def _guardrail_rows(framework: Framework, findings: list[GamingSignal], used: set[str], namer: Namer) -> list[dict]:
    """One row per finding on a used KPI with a guardrail, or one row saying there is no sign of it."""
    rows = []
    for kpi in framework.kpis:
        if not (kpi.guardrail and kpi.id in used):
            continue
        pair = {"kpi": kpi.id, "guardrail": kpi.guardrail, "name": kpi.name, "guardrail_name": namer.kpi(kpi.guardrail)}
        found = [f for f in findings if f.kpi_id == kpi.id]
        rows += [{**pair, "status": APART, "where": namer.scope(f.scope),
                  "evidence": f"{namer.words(f.evidence, pair.values())} (p = {f.p:.2g})",
                  "look_at": namer.words(f.look_at, pair.values())} for f in found]
        if not found:
            rows.append({**pair, "status": HOLDS, "where": "", "look_at": "",
                         "evidence": f"{kpi.name} is not seen improving while {pair['guardrail_name']} worsens"})
    return rows


def design_evidence(framework: Framework, actuals: pd.DataFrame, roles: Sequence[Role] | None = None,
                    seed: int = 0) -> DesignEvidence:
    """Do the leading KPIs lead (kpi-workbook evidence, part 1) and does a KPI improve at its guardrail's expense
    (part 3), on `actuals`, shown for the pairs with a KPI of the roles (every role's when None)."""
    namer, used = Namer(framework), _used(framework, roles)
    leads = lead_evidence(framework, actuals, seed)
    pairs = pd.DataFrame([_pair_row(p, namer) for p in leads.pairs if {p.leading, p.lagging} & used],
                         columns=PAIR_COLUMNS)
    guardrails = _guardrail_rows(framework, guardrail_findings(framework, actuals, seed), used, namer)
    return DesignEvidence(pairs, [namer.kpi(k) for k in leads.idle_leading if k in used],
                          [namer.kpi(k) for k in leads.undriven_lagging if k in used],
                          pd.DataFrame(guardrails, columns=GUARDRAIL_COLUMNS))


def scope_evidence(ctx: StepContext, seed: int = 0) -> DesignEvidence:
    """The evidence on the scope's history up to its period, for the scope's roles."""
    return design_evidence(ctx.framework, ctx.actuals_to_date, ctx.roles, seed)


def lead_pairs_report(pairs: pd.DataFrame) -> ReportTable:
    """The tested leading → lagging pairs, those that lead first and those with no evidence yet last: verdict as a
    colour, the lag and strength with its interval, what it rests on; how many more pairs could not be tested in the
    count line."""
    tested = pairs[pairs["tested"]].sort_values("verdict", key=lambda v: v.map(VERDICT_ORDER), kind="stable")
    shown = tested.assign(lag=[_plural(int(lag), "period") for lag in tested["lag"]],
                          interval=[f"{low:.2f} to {high:.2f}" for low, high in zip(tested["low"], tested["high"],
                                                                                 strict=True)])
    untested = len(pairs) - len(tested)
    note = (f"{_plural(untested, 'more pair')} could not be tested: the two KPIs are not measured on the same people "
            "or teams." if untested else "")
    return ReportTable(shown, {
        "leading_name": Col("Leading KPI"), "lagging_name": Col("Lagging KPI it should drive"),
        "pairing": Col("Paired because"), "verdict": Col("Verdict", "status", palette=VERDICT_PALETTE),
        "lag": Col("Strongest after"), "r": Col("Strength r", "number"), "interval": Col("95 % interval"),
        "changes": Col("Changes compared", "count"), "units": Col("Across"), "note": Col("Note"),
    }, noun=("tested pair", "tested pairs"), note=note,
        empty="No pair could be tested: no leading and lagging KPI is measured on the same people or teams.")


def lead_gaps(evidence: DesignEvidence) -> Markdown:
    """The leading KPIs shown to lead nothing yet and the lagging KPIs no leading KPI is shown to drive."""
    return Markdown(f"**Leading KPIs not shown to lead anything yet:** {', '.join(evidence.idle_leading) or 'none'}."
                    f"\n\n**Lagging KPIs no leading KPI is shown to drive yet:** "
                    f"{', '.join(evidence.undriven_lagging) or 'none'}.")


def guardrails_report(guardrails: pd.DataFrame) -> ReportTable:
    """Each declared guardrail of the scope's KPIs: moving apart (where, the evidence, what to look at) or not."""
    return ReportTable(guardrails, {
        "name": Col("KPI"), "guardrail_name": Col("Its guardrail"),
        "status": Col("Status", "status", palette=GUARDRAIL_PALETTE), "where": Col("Where"),
        "evidence": Col("Evidence"), "look_at": Col("Look at"),
    }, noun=("guardrail", "guardrails"),
        empty="No KPI of these roles names a guardrail (kpis.yaml: guardrail).")


EVIDENCE_HEADING = "#### Do the leading KPIs lead, do the guardrails hold? As saved\n*Drawn again after each **Save**.*"


def _evidence_key(framework: Framework) -> str:
    """What the evidence depends on: the KPI definitions, and which roles (in which teams) use which KPIs."""
    roles = sorted((r.id, tuple(r.teams), tuple(a.kpi for a in r.kpis)) for r in framework.roles)
    return framework.model_dump_json(include={"kpis"}) + repr(roles)


class EvidenceOf:
    """Step 3's evidence for a framework as the workshop saves it, kept per framework: the history is analysed
    again only when the KPIs or the roles' KPIs changed, so that every table showing it draws it from one analysis.

    `first`: the evidence already found for the framework as opened.
    """

    def __init__(self, ctx: StepContext, first: DesignEvidence | None = None) -> None:
        self.ctx = ctx
        self.found: dict[str, DesignEvidence] = {_evidence_key(ctx.framework): first} if first is not None else {}

    def __call__(self, framework: Framework) -> DesignEvidence:
        key = _evidence_key(framework)
        if key not in self.found:
            ctx = self.ctx
            roles = framework.roles if ctx.is_organization else [
                r for r in framework.roles if set(r.teams) & set(ctx.team_ids)]
            self.found[key] = design_evidence(framework, ctx.actuals_to_date, roles)
        return self.found[key]


def evidence_view(ctx: StepContext, first: DesignEvidence | EvidenceOf | None = None,
                  ) -> Callable[[Framework], tuple[object, ...]]:
    """Step 3's evidence drawn from a framework as the workshop saves it (`first`: the evidence already shown for
    the framework as opened, or the analyses kept so far); the history is analysed again only when the KPIs or the
    roles' KPIs changed."""
    evidence = first if isinstance(first, EvidenceOf) else EvidenceOf(ctx, first)

    def draw(framework: Framework) -> tuple[object, ...]:
        found = evidence(framework)
        return (Markdown(EVIDENCE_HEADING), lead_pairs_report(found.pairs), lead_gaps(found),
                guardrails_report(found.guardrails))
    return draw
