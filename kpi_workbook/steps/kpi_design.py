"""Step 3, categories and role KPIs: each role's KPIs, their balance, SMART findings, library suggestions, and the
evidence from past periods that leading KPIs lead and guardrails hold (`steps.design_evidence`, which loads the
statistics only when the evidence is asked for)."""

from __future__ import annotations

__all__ = [
    "BAND_COLUMNS", "CATEGORIES", "CATEGORY_COLORS", "COMPUTED", "DESIGN_COLUMNS", "ENTERED", "EVIDENCE_NAMES",
    "INDICATORS", "MEASURE_COLUMNS", "ROLE_KPI_COLUMNS", "balance_chart", "balance_report", "categories_report",
    "category_balance", "design_findings", "findings_report", "indicator_mix", "measure_table", "measures_report",
    "mix_report", "responsibility_suggestions", "role_kpi_table", "role_kpis_report", "suggestions_report",
]

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from kpi_workbook.analysis.categories import load_categories
from kpi_workbook.analysis.checks import check_framework, findings_frame
from kpi_workbook.analysis.library import ranked_table
from kpi_workbook.analysis.measures.kinds import describe_measure
from kpi_workbook.core.measures import derived_kpis, parse_derived
from kpi_workbook.core.model import Category, Framework, Indicator, KpiDefinition, MeasureType, Role
from kpi_workbook.core.numbers import number_text
from kpi_workbook.reports.alt_text import stacked_alt
from kpi_workbook.reports.figures import ChartFigure
from kpi_workbook.reports.mode import formula_text, report_mode
from kpi_workbook.reports.tables import Col, ReportTable
from kpi_workbook.workspace.sources import Source, load_sources

ROLE_KPI_COLUMNS = [
    "role", "kpi", "name", "category", "indicator", "measure_type", "polarity", "unit", "frequency", "weight",
    "threshold", "target", "stretch", "target_range", "threshold_range", "objectives", "responsibility",
]
DESIGN_COLUMNS = ["role", "kpi", "name", "category", "indicator", "measure_type", "unit", "frequency", "weight",
                  "objectives", "responsibility"]
BAND_COLUMNS = ["role", "kpi", "name", "polarity", "unit", "weight", "threshold", "target", "stretch",
                "target_range", "threshold_range"]
MEASURE_COLUMNS = ["kpi", "name", "unit", "roles", "origin", "measure", "how", "source"]
COMPUTED = "computed"
ENTERED = "entered by hand"
CATEGORIES = [c.value for c in Category]
INDICATORS = [i.value for i in Indicator]
CATEGORY_COLORS = {"output": "#1f77b4", "quality": "#2ca02c", "efficiency": "#ff7f0e", "behaviour": "#8c564b",
                   "development": "#9467bd"}


def _range(value: tuple[float, float] | None) -> str:
    return f"{number_text(value[0], 6)}–{number_text(value[1], 6)}" if value else ""


def role_kpi_table(framework: Framework, roles: Sequence[Role] | None = None) -> pd.DataFrame:
    """One row per role KPI: the definition's classification, the assignment's weight and bands, what it serves.

    A KPI id the framework does not define shows with empty classification (the checks report it).
    """
    roles = framework.roles if roles is None else roles
    rows = []
    for role in roles:
        for a in role.kpis:
            definition = framework.kpi(a.kpi)
            info = definition.model_dump(mode="json") if definition else {}
            rows.append({
                "role": role.id, "kpi": a.kpi, "name": info.get("name", ""), "category": info.get("category", ""),
                "indicator": info.get("indicator", ""), "measure_type": info.get("measure_type", ""),
                "polarity": info.get("polarity", ""), "unit": info.get("unit", ""),
                "frequency": info.get("frequency") or "", "weight": a.weight, "threshold": a.threshold,
                "target": a.target, "stretch": a.stretch, "target_range": _range(a.target_range),
                "threshold_range": _range(a.threshold_range), "objectives": ", ".join(a.objectives),
                "responsibility": a.responsibility or "",
            })
    frame = pd.DataFrame(rows, columns=ROLE_KPI_COLUMNS)
    return frame.astype({"weight": float, "threshold": float, "target": float, "stretch": float})


def category_balance(table: pd.DataFrame) -> pd.DataFrame:
    """Per role: the share of weight (%) in each category, plus the number of KPIs and the weight total."""
    weights = table.pivot_table(index="role", columns="category", values="weight", aggfunc="sum", fill_value=0.0)
    weights = weights.reindex(columns=CATEGORIES, fill_value=0.0)
    total = weights.sum(axis=1)
    shares = weights.div(total.where(total > 0), axis=0).mul(100).round(1).fillna(0.0)
    shares.columns = [f"{c} %" for c in CATEGORIES]
    shares.insert(0, "weight_total", total)
    shares.insert(0, "kpis", table.groupby("role").size())
    order = list(dict.fromkeys(table["role"]))
    return shares.reindex(order).rename_axis("role").reset_index()


def indicator_mix(table: pd.DataFrame) -> pd.DataFrame:
    """Per role: how many leading and lagging KPIs, how many qualitative ones, and whether it mixes both kinds."""
    counts = pd.crosstab(table["role"], table["indicator"]).reindex(columns=INDICATORS, fill_value=0)
    counts["qualitative"] = table.groupby("role")["measure_type"].agg(lambda m: int((m == "qualitative").sum()))
    counts["development"] = table.groupby("role")["category"].agg(lambda c: int((c == "development").sum()))
    counts["mixes_leading_and_lagging"] = (counts["leading"] > 0) & (counts["lagging"] > 0)
    order = list(dict.fromkeys(table["role"]))
    return counts.reindex(order).rename_axis("role").reset_index().rename_axis(columns=None)


def balance_chart(table: pd.DataFrame) -> Figure:
    """Stacked bars: each role's weight by category, with its leading share in the label."""
    weights = table.pivot_table(index="role", columns="category", values="weight", aggfunc="sum", fill_value=0.0)
    weights = weights.reindex(columns=CATEGORIES, fill_value=0.0).reindex(list(dict.fromkeys(table["role"])))[::-1]
    leading = table.assign(lead=table["indicator"].eq("leading")).groupby("role")["lead"].mean()
    fig = ChartFigure(figsize=(9, 0.4 * len(weights) + 1.2), layout="constrained")
    ax = fig.subplots()
    left = pd.Series(0.0, index=weights.index)
    for category in CATEGORIES:
        ax.barh(weights.index, weights[category], left=left, color=CATEGORY_COLORS[category], label=category)
        left += weights[category]
    ax.set_yticks(range(len(weights)), [f"{r} ({leading.get(r, 0):.0%} leading)" for r in weights.index])
    ax.set_xlabel("weight")
    ax.set_title("Balance of each role's KPIs across categories")
    fig.legend(loc="outside right upper", frameon=False)
    fig.alt = stacked_alt("of each role's KPI weight by category", weights[::-1])
    return fig


def _source_text(definition: KpiDefinition, framework: Framework, sources: Mapping[str, Source]) -> str:
    """Where a KPI's value comes from: its sources (with file or table) if computed, else the system it is read in."""
    measure = definition.measure
    if measure is None:
        return definition.data_source
    if measure.derived is not None:
        operands = [getattr(framework.kpi(k), "name", k) for k in derived_kpis(parse_derived(measure.derived))]
        return "the KPIs " + ", ".join(operands)
    located = not report_mode()  # a report names the source, not its file or table
    return ", ".join(f"{s} ({sources[s].location})" if located and s in sources else s for s in measure.sources)


def _how(definition: KpiDefinition) -> str:
    """How a KPI's values reach the store: the command, or the ratings form for a rating (in a report, in words)."""
    words = report_mode()
    if definition.measure is not None:
        return "computed from the source's records" if words else "kpi-workbook compute"
    if definition.measure_type is MeasureType.QUALITATIVE:
        return "rated in the review" if words else "rated: step 5's form or import-actuals"
    return "imported as finished values" if words else "kpi-workbook import-actuals"


def measure_table(framework: Framework, roles: Sequence[Role] | None = None, root: Path | None = None) -> pd.DataFrame:
    """One row per KPI the roles use: whether `kpi-workbook compute` computes it or its values are entered by hand
    (import-actuals; ratings always), the measure in words (Measure.describe), how the values come in and where
    from.

    `root`: the workspace folder; its sources.yaml adds each source's file or table to the source's name. Computed
    KPIs come first, then the others, each in the order the roles list them; a KPI id the framework does not define
    is left out (the checks report it).
    """
    roles = framework.roles if roles is None else roles
    sources = load_sources(root) if root is not None else {}
    users: dict[str, list[str]] = {}
    for role in roles:
        for a in role.kpis:
            users.setdefault(a.kpi, []).append(role.title)
    rows = []
    for kpi_id, titles in users.items():
        definition = framework.kpi(kpi_id)
        if definition is None:
            continue
        measure = definition.measure
        rows.append({
            "kpi": kpi_id, "name": definition.name, "unit": framework.unit_of(definition),
            "roles": ", ".join(dict.fromkeys(titles)),
            "origin": ENTERED if measure is None else COMPUTED,
            "measure": ENTERED if measure is None else formula_text(describe_measure(measure)),
            "how": _how(definition), "source": _source_text(definition, framework, sources),
        })
    frame = pd.DataFrame(rows, columns=MEASURE_COLUMNS)
    return frame.sort_values("origin", key=lambda o: o.ne(COMPUTED), kind="stable").reset_index(drop=True)


def design_findings(framework: Framework, roles: Sequence[Role] | None = None) -> pd.DataFrame:
    """The checks' findings (SMART per assignment and framework rules), limited to the given roles if any."""
    frame = findings_frame(check_framework(framework))
    if roles is not None:
        frame = frame[frame["role"].isin([r.id for r in roles])]
    return frame.sort_values("severity", kind="stable").reset_index(drop=True)


def responsibility_suggestions(framework: Framework, roles: Sequence[Role] | None = None, top: int = 3) -> pd.DataFrame:
    """For each responsibility, the `top` library KPIs whose text best matches its description and expected outcome.

    `in_role` marks a suggestion the role already has; `measures_it` marks one the role already assigned to
    this responsibility.
    """
    roles = framework.roles if roles is None else roles
    pairs = [(role, resp) for role in roles for resp in role.responsibilities]
    found = ranked_table([f"{resp.description}. {resp.expected_outcome}" for _, resp in pairs], top=top)
    assigned = {role.id: {a.kpi: a.responsibility for a in role.kpis} for role in roles}
    asked = [(pairs[position][0].id, pairs[position][1].id, kpi)
             for position, kpi in zip(found["text"], found["kpi_id"], strict=True)]
    found = found.assign(role=[role for role, _, _ in asked], responsibility=[duty for _, duty, _ in asked],
                         rank=found.groupby("text").cumcount() + 1,
                         in_role=[kpi in assigned[role] for role, _, kpi in asked],
                         measures_it=[assigned[role].get(kpi) == duty for role, duty, kpi in asked])
    columns = ["role", "responsibility", "rank", "kpi_id", "name", "family", "category", "indicator", "similarity",
               "in_role", "measures_it"]
    return found[columns].reset_index(drop=True)


# --- the step's tables as a report shows them ---------------------------------------------------------------------


def categories_report(categories: pd.DataFrame | None = None) -> ReportTable:
    """The KPI categories (by default the bundled ones) with their description, examples and guidance in full."""
    if categories is None:
        categories = load_categories().frame("categories")
    return ReportTable(categories, {
        "label": Col("Category"), "description": Col("Description"), "examples": Col("Examples"),
        "guidance": Col("Guidance"),
    }, noun=("category", "categories"))


def role_kpis_report(table: pd.DataFrame) -> ReportTable:
    """Each role's KPIs: name, classification, unit, frequency, weight, and what the KPI serves."""
    return ReportTable(table, {
        "role": Col("Role"), "name": Col("KPI"), "category": Col("Category"), "indicator": Col("Indicator"),
        "unit": Col("Unit"),
        "frequency": Col("Frequency"), "weight": Col("Weight", "count"), "objectives": Col("Objectives"),
        "responsibility": Col("Responsibility"),
    }, noun=("role KPI", "role KPIs"), empty="No role KPIs in this scope.", group_by="role")


def balance_report(balance: pd.DataFrame) -> ReportTable:
    """Per role: the KPIs, the weight total and the share of weight in each category."""
    columns = {"role": Col("Role"), "kpis": Col("KPIs", "count"), "weight_total": Col("Weight total", "count")}
    columns |= {f"{c} %": Col(c.capitalize(), "percent") for c in CATEGORIES}
    return ReportTable(balance, columns, noun=("role", "roles"), empty="No role KPIs in this scope.")


def mix_report(mix: pd.DataFrame) -> ReportTable:
    """Per role: leading, lagging, qualitative and development KPIs, and whether it mixes leading and lagging."""
    return ReportTable(mix, {
        "role": Col("Role"), "leading": Col("Leading", "count"), "lagging": Col("Lagging", "count"),
        "qualitative": Col("Qualitative", "count"), "development": Col("Development", "count"),
        "mixes_leading_and_lagging": Col("Leading and lagging", "yesno"),
    }, noun=("role", "roles"), empty="No role KPIs in this scope.")


def findings_report(findings: pd.DataFrame) -> ReportTable:
    """The checks' findings: severity as a colour, where, the message and the fix in full."""
    shown = findings.assign(severity=findings["severity"].astype(str),
                            where=[" / ".join(p for p in (r, k, f) if p) for r, k, f in
                                   zip(findings["role"], findings["kpi"], findings["field"], strict=True)])
    return ReportTable(shown, {
        "severity": Col("Severity", "severity"), "code": Col("Code"), "where": Col("Role / KPI / field"),
        "message": Col("Finding"), "fix": Col("How to fix it"),
    }, noun=("finding", "findings"), empty="No findings: every role KPI passes the checks.", group_by="role")


def suggestions_report(suggestions: pd.DataFrame) -> ReportTable:
    """The library's suggestions per responsibility: rank, KPI, its classification and how well its text matches."""
    shown = suggestions.assign(similarity=suggestions["similarity"].astype(float))
    return ReportTable(shown, {
        "role": Col("Role"), "responsibility": Col("Responsibility"), "rank": Col("Rank", "count"),
        "name": Col("Suggested KPI"), "kpi_id": Col("Id"), "category": Col("Category"),
        "indicator": Col("Indicator"), "similarity": Col("Text match", "share"),
        "in_role": Col("In the role", "yesno"), "measures_it": Col("Measures it", "yesno"),
    }, noun=("suggestion", "suggestions"), empty="No responsibilities to suggest KPIs for.", group_by="role")


def measures_report(measures: pd.DataFrame) -> ReportTable:
    """The scope's KPIs, computed first: the measure in words (or "entered by hand"), how the values come in and
    where from; in a section for computed and one for entered KPIs when long."""
    shown = measures.assign(section=measures["origin"].map({COMPUTED: "Computed from the systems' records",
                                                            ENTERED: "Entered by hand"}))
    return ReportTable(shown, {
        "section": Col("Computed or entered"), "name": Col("KPI"), "unit": Col("Unit"), "measure": Col("Measure"),
        "source": Col("Source"), "how": Col("How the values come in"), "roles": Col("Roles"),
    }, noun=("KPI", "KPIs"), empty="No role KPIs in this scope.", group_by="section", group_above=0)


EVIDENCE_NAMES = frozenset({
    "APART", "DECLARED", "DesignEvidence", "EVIDENCE_HEADING", "EvidenceOf", "GUARDRAIL_COLUMNS", "HOLDS",
    "PAIR_COLUMNS", "SAME_OBJECTIVE", "design_evidence", "evidence_view", "guardrails_report", "lead_gaps",
    "lead_pairs_report", "scope_evidence",
})


def __getattr__(name: str) -> object:
    """The evidence part of step 3 under its former names here (notebook copies made before it moved to
    `steps.design_evidence`), loaded when first asked for."""
    if name not in EVIDENCE_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from kpi_workbook.steps import design_evidence

    return getattr(design_evidence, name)
