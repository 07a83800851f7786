"""Step 5, review: the report's first section (summary, each KPI's actual against its target, what needs attention,
data quality), the scorecards and flags as tables a manager reads (names, formats, RAG colours), and whether the
framework works for the scope's roles and teams, built on `analysis.review`, step 4's verdicts on the targets
(`analysis.targets`) and `analysis.evidence`."""

from __future__ import annotations

__all__ = [
    "COVERAGE", "FURTHEST_SHORT", "HASH_SHOWN", "LINEAGE_SUMMARY_COLUMNS", "SCORE", "STATUS", "VALUE_KEYS",
    "VALUE_LINEAGE_COLUMNS", "VERDICTS_WHERE", "VERDICT_COLUMNS", "analysis", "computed_values_section",
    "computed_values_table", "current_definitions", "evidence_appendix", "evidence_section", "flags_table", "kpi_board",
    "kpi_section", "lineage_summary", "lineage_summary_table", "names", "people_section", "people_table",
    "ranked_attention", "role_table", "scope_evidence", "scope_values", "scope_values_section", "summary", "team_table",
    "value_lineage", "whose", "why_text", "with_names",
]

import html
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from IPython.display import Markdown

from kpi_workbook.analysis.review import (
    DATA_FLAGS,
    attention,
    kpi_actuals,
    review_flags,
    scope_kpi_values,
    scope_kpis,
)
from kpi_workbook.analysis.scoring import score_actuals
from kpi_workbook.analysis.targets import TOO_EASY, UNREALISTIC, suggest_for_framework
from kpi_workbook.core.model import Framework
from kpi_workbook.reports.mode import for_readers
from kpi_workbook.reports.scope_values import ScopeValues, scope_values_view
from kpi_workbook.reports.scorecard import attention_items, kpi_actuals_table, next_action, row_gap_text
from kpi_workbook.reports.summary import ReportSummary, scope_figures
from kpi_workbook.reports.tables import EMPTY_TEXT, Col, ReportTable, status_counts
from kpi_workbook.reports.units import level_text, range_text
from kpi_workbook.steps.context import StepContext
from kpi_workbook.workspace.changelog import read_changelog
from kpi_workbook.workspace.scope import ScopeKind, departments
from kpi_workbook.workspace.sources import definition_hash, load_sources
from kpi_workbook.workspace.store import LINEAGE_COLUMNS, SCOPE_VALUE_COLUMNS, ActualsStore, DuckDBStore

if TYPE_CHECKING:  # the evidence loads the statistics (scipy): imported when it is drawn, not when the step opens
    from kpi_workbook.reports.evidence_section import EvidenceAppendix, EvidenceSection, ScopeEvidence

SCORE = Col("Score", "score")
VALUE_KEYS = ["period", "team", "employee_id", "kpi_id"]
VALUE_LINEAGE_COLUMNS = [*VALUE_KEYS, "value", "origin", "source", "source_rows", "computed_at", "definition_hash"]
COMPUTED, IMPORTED = "computed", "imported"
HASH_SHOWN = 8  # characters of the definition hash a report shows
COVERAGE = Col("Data coverage", "share")
STATUS = Col("Status", "status")


def names(framework: Framework) -> dict[str, dict[str, str]]:
    """Readable names of the framework's teams, roles and KPIs, by id."""
    return {
        "team": {t.id: t.name for t in framework.teams},
        "role": {r.id: r.title for r in framework.roles},
        "kpi_id": {k.id: k.name for k in framework.kpis},
    }


def with_names(frame: pd.DataFrame, framework: Framework, employees: pd.DataFrame | None = None) -> pd.DataFrame:
    """A copy of a scorecard or flag table with `<column>_name` for its team, role, KPI (and person) ids."""
    out = frame.copy()
    for column, known in names(framework).items():
        if column in out.columns:
            ids = out[column].astype(str)
            out[f"{column}_name"] = [known.get(i, i) for i in ids]
    if employees is not None and "employee_id" in out.columns:
        people = dict(zip(employees["employee_id"], employees["name"], strict=True))
        out["person"] = [f"{people.get(i, '(not in employees.csv)')} ({i})" for i in out["employee_id"].astype(str)]
    return out


VERDICT_COLUMNS = ["role", "kpi_id", "current_probability", "current_verdict", "target", "target_range"]
FURTHEST_SHORT = 3  # KPIs the summary names
VERDICTS_WHERE = {False: "the table", True: "the table of each team's KPIs below"}  # where step 4's verdicts are


def analysis(ctx: StepContext) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The scope's scores (analysis.scoring.score_actuals), review flags (analysis.review.review_flags) and KPI
    board (`kpi_board`), worked out once per opened step: a kernel warmed ahead of the click works them out before
    the page asks (see steps.context.open_step)."""
    if "analysis" not in ctx.kept:
        scores = score_actuals(ctx.actuals_to_date, ctx.employees, ctx.framework)
        flags = review_flags(ctx.framework, scores, ctx.period, teams=[ctx.team] if ctx.team else None)
        ctx.kept["analysis"] = (scores, flags, kpi_board(ctx, scores))
    return ctx.kept["analysis"]  # type: ignore[return-value]


def kpi_board(ctx: StepContext, scores: pd.DataFrame) -> pd.DataFrame:
    """Each KPI's actual against its target per team and role in the period (analysis.review.kpi_actuals), with
    step 4's verdict on the current target (percentile evidence of the scope's history, as step 4 judges it: the
    chance past values met it, the verdict, and the target step 4 suggests)."""
    board = kpi_actuals(scores, ctx.actuals_to_date, ctx.framework, ctx.period)
    evidence = suggest_for_framework(ctx.framework, ctx.actuals_to_date, ctx.employees, method="percentile",
                                     roles=[r.id for r in ctx.roles])
    verdicts = evidence[VERDICT_COLUMNS].rename(columns={"target": "suggested_target",
                                                         "target_range": "suggested_range"})
    return board.merge(verdicts.drop_duplicates(["role", "kpi_id"]), on=["role", "kpi_id"], how="left")


def _where(rows: pd.DataFrame, framework: Framework, with_team: bool) -> pd.Series:
    """Whose KPI each row is, in words: the role's title, and the team's name for a department or organization."""
    known = names(framework)
    where = rows["role"].map(known["role"])
    return where + ", " + rows["team"].map(known["team"]) if with_team else where


def _suggested_text(target: float | None, suggested_range: object, unit: str) -> str:
    """A suggested range (a pair of levels) as text, else the suggested target."""
    if isinstance(suggested_range, tuple | list):
        low, high = suggested_range
        return range_text(low, high, unit)
    return level_text(target, unit)


def _suggested(rows: pd.DataFrame, framework: Framework) -> pd.Series:
    """Step 4's suggested target (or range) of each row as text with the KPI's unit."""
    units = {k.id: framework.unit_of(k) for k in framework.kpis}
    texts = [_suggested_text(t, r, units[k])
             for k, t, r in zip(rows["kpi_id"], rows["suggested_target"], rows["suggested_range"], strict=True)]
    return pd.Series(texts, index=rows.index, dtype=object)


def _never_met(rows: pd.DataFrame, flags: pd.DataFrame) -> pd.Series:
    """Whether each row's team, role and KPI has a never_met flag."""
    missed = flags[flags["flag"] == "never_met"]
    keys = set(zip(missed["team"], missed["role"], missed["kpi_id"], strict=True))
    return pd.Series([k in keys for k in zip(rows["team"], rows["role"], rows["kpi_id"], strict=True)],
                     index=rows.index)


def ranked_attention(board: pd.DataFrame, flags: pd.DataFrame, framework: Framework, with_team: bool) -> pd.DataFrame:
    """What needs attention first (analysis.review.attention) with what its next actions need: whose KPI it is in
    words, step 4's suggested target as text, and whether a never_met flag stands on it."""
    ranked = attention(board)
    return ranked.assign(where=_where(ranked, framework, with_team), suggested=_suggested(ranked, framework),
                         never_met=_never_met(ranked, flags))


def why_text(board: pd.DataFrame, ranked: pd.DataFrame, framework: Framework, many_teams: bool) -> str:
    """Why the scope's status is what it is, as HTML list items: how many KPIs meet their target and how many are
    short, the ones furthest short by weight, how many targets step 4 finds unrealistic or too easy, and the first
    thing to do (from `ranked`, see ranked_attention); nothing without KPIs."""
    if board.empty:
        return ""
    counts = status_counts(board["status"])
    short, total = counts["amber"] + counts["red"], len(board)
    red = f", {counts['red']} of them below the threshold" if counts["red"] else ""
    grey = f"; {counts['grey']} without data" if counts["grey"] else ""
    items = [f"{counts['green']} of {total} KPIs meet their target, {short} are short of it{red}{grey}."]
    units = {k.id: framework.unit_of(k) for k in framework.kpis}
    kpis = {k.id: k for k in framework.kpis}
    furthest = ranked[ranked["reason"] == "short"].head(FURTHEST_SHORT)
    if len(furthest):
        listed = [f"{kpis[row['kpi_id']].name} ({row['where']}) {row_gap_text(row, units[row['kpi_id']])}"
                  for _, row in furthest.iterrows()]
        items.append(f"Furthest short, by weight: {'; '.join(listed)}.")
    verdicts = board["current_verdict"].value_counts()
    unrealistic, easy = int(verdicts.get(UNREALISTIC, 0)), int(verdicts.get(TOO_EASY, 0))
    if unrealistic or easy:
        low = framework.metadata.settings.achievable_low
        items.append(f"On past values {unrealistic} of {total} targets are unrealistic (met less than "
                     f"{100 * low:.0f} % of the time) and {easy} too easy "
                     f"(last column of {VERDICTS_WHERE[many_teams]}).")
    if len(ranked):
        top = ranked.iloc[0]
        kpi = kpis[top["kpi_id"]]
        items.append(f"Start with {kpi.name} ({top['where']}): {next_action(top, kpi)}.")
    return "".join(f"<li>{html.escape(item)}</li>" for item in items)


def summary(ctx: StepContext, scores: pd.DataFrame, flags: pd.DataFrame, board: pd.DataFrame,
            values: pd.DataFrame) -> ReportSummary:
    """The first section of the review: the summary box (score, change, status counts of the KPI table and people,
    why, the first thing to do), each KPI's actual against its target (for a department or the organization: its
    KPI values with their targets, see scope_values_section), what needs attention with one next action each, the
    data-quality flags, and what changed in the framework (the latest entry of the workspace's change log)."""
    many_teams = ctx.kind is not ScopeKind.TEAM
    ranked = ranked_attention(board, flags, ctx.framework, many_teams)
    log = read_changelog(ctx.root)
    table = scope_values_section(values, ctx) if many_teams else kpi_actuals_table(board, ctx.framework,
                                                                                    names(ctx.framework))
    return ReportSummary(
        name=ctx.name, figures=scope_figures(scores, ctx.period), flags=flags[flags["flag"].isin(DATA_FLAGS)],
        names=names(ctx.framework), change=log[-1] if log else None, kpis=status_counts(board["status"]),
        why=why_text(board, ranked, ctx.framework, many_teams), table=table,
        table_title="" if many_teams else "Actual against target", attention=attention_items(ranked, ctx.framework),
    )


def kpi_section(board: pd.DataFrame, ctx: StepContext) -> ReportTable | Markdown:
    """Each team's role KPIs against their targets, one section per team when long (a department or the
    organization); for a team, a line pointing to the table at the top of the report."""
    if ctx.kind is ScopeKind.TEAM:
        return Markdown("The table of each KPI's actual against its target is at the top of this report.")
    return kpi_actuals_table(board, ctx.framework, names(ctx.framework), with_team=True)


def team_table(teams: pd.DataFrame, framework: Framework) -> ReportTable:
    """The team scorecard of the period."""
    return ReportTable(with_names(teams, framework), {
        "team_name": Col("Team"), "score": SCORE, "coverage": COVERAGE, "status": STATUS,
    }, noun=("team", "teams"), empty="No team has people with KPIs in this scope.")


def role_table(roles: pd.DataFrame, framework: Framework) -> ReportTable:
    """The role scorecards of the period, per team."""
    return ReportTable(with_names(roles, framework), {
        "team_name": Col("Team"), "role_name": Col("Role"), "score": SCORE, "coverage": COVERAGE, "status": STATUS,
    }, noun=("role", "roles"), empty="No role has people in this scope.", group_by="team_name")


def people_table(people: pd.DataFrame, employees: pd.DataFrame, framework: Framework) -> ReportTable:
    """One row per person, lowest score first (no score last): name and id, role, weighted score, data coverage and
    status; grouped by team when long."""
    ranked = people.sort_values("score", kind="stable", na_position="last")
    return ReportTable(with_names(ranked, framework, employees), {
        "team_name": Col("Team"), "person": Col("Person (id)"), "role_name": Col("Role"), "score": SCORE,
        "coverage": COVERAGE, "status": STATUS,
    }, noun=("person", "people"), empty="Nobody in this scope has KPIs.", group_by="team_name")


def flags_table(flags: pd.DataFrame, framework: Framework) -> ReportTable:
    """The review's flags with their recommendations, warnings first; grouped by flag when long."""
    table = with_names(flags, framework)
    table["flag_text"] = table["flag"].str.replace("_", " ")
    table["recommendation"] = table["recommendation"].map(for_readers)
    table["kpi_id_name"] = table["kpi_id_name"].where(table["kpi_id"].astype(str) != "", "")
    table["role_name"] = table["role_name"].where(table["role"].astype(str) != "", "")
    return ReportTable(table, {
        "severity": Col("Severity", "severity"), "flag_text": Col("Flag"), "team_name": Col("Team"),
        "role_name": Col("Role"), "kpi_id_name": Col("KPI"), "message": Col("What the data shows"),
        "recommendation": Col("Recommendation"),
    }, noun=("flag", "flags"), empty="No flags: nothing to change this period.", group_by="flag_text",
        group_above=25)


def value_lineage(actuals: pd.DataFrame, store: ActualsStore, period: str) -> pd.DataFrame:
    """Where each of the period's values in `actuals` comes from (VALUE_LINEAGE_COLUMNS): a computed value has the
    store's lineage (source, source rows, computed at, definition hash) and origin "computed"; any other value was
    imported (import-actuals, ratings, a warehouse's finished values) and has origin "imported" and no lineage."""
    rows = actuals.loc[actuals["period"].astype(str) == period, [*VALUE_KEYS, "value"]].astype(
        dict.fromkeys(VALUE_KEYS, str))
    kpis = sorted(rows["kpi_id"].unique())
    lineage = store.read_lineage(kpis) if isinstance(store, DuckDBStore) and kpis else pd.DataFrame(
        columns=LINEAGE_COLUMNS)
    lineage = lineage[lineage["period"].astype(str) == period].astype(dict.fromkeys(VALUE_KEYS, str))
    found = rows.merge(lineage, on=VALUE_KEYS, how="left", validate="one_to_one")
    found["origin"] = found["source"].notna().map({True: COMPUTED, False: IMPORTED})
    found["source_rows"] = pd.array(found["source_rows"], dtype="Int64")
    found["computed_at"] = pd.to_datetime(found["computed_at"])
    order = found.assign(first=found["origin"].ne(COMPUTED)).sort_values(["first", "kpi_id", "team", "employee_id"])
    return order[VALUE_LINEAGE_COLUMNS].reset_index(drop=True)


LINEAGE_SUMMARY_COLUMNS = ["kpi_id", "team", "origin", "values", "source", "source_rows", "computed_at",
                           "definition_hash"]


def lineage_summary(lineage: pd.DataFrame) -> pd.DataFrame:
    """Per KPI and team (LINEAGE_SUMMARY_COLUMNS): how many values of the period, computed or imported, the source,
    the source rows behind them all, when they were computed (the latest time) and the definition hash (a compute run
    replaces a period × team × KPI slice whole, so a slice has one origin and one hash; several are joined by ", ")."""
    groups = lineage.groupby(["kpi_id", "team"], sort=False, dropna=False)
    summary = groups.agg(origin=("origin", "first"), values=("value", "size"),
                         source=("source", lambda s: ", ".join(dict.fromkeys(s.dropna()))),
                         source_rows=("source_rows", lambda r: r.sum() if r.notna().any() else pd.NA),
                         computed_at=("computed_at", "max"),
                         definition_hash=("definition_hash", lambda h: ", ".join(dict.fromkeys(h.dropna()))))
    summary = summary.reset_index().astype({"source_rows": "Int64"})
    return summary[LINEAGE_SUMMARY_COLUMNS]


def _kpi_labels(kpi_ids: pd.Series, framework: Framework) -> list[str]:
    """'Win rate (%)': a KPI's name with its unit ('Collaboration rating, rating (1-5)' when the unit has brackets)."""
    kpis = {k.id: k for k in framework.kpis}
    labels = []
    for k in kpi_ids:
        name, unit = (kpis[k].name, framework.unit_of(kpis[k])) if k in kpis else (k, "")
        labels.append(f"{name}, {unit}" if "(" in unit else f"{name} ({unit})" if unit else name)
    return labels


def current_definitions(root: str | Path, framework: Framework) -> dict[str, str]:
    """Today's definition hash of each KPI that has a measure, with the workspace's sources as they are now."""
    sources = load_sources(root)
    return {k.id: definition_hash(k, framework, sources) for k in framework.kpis if k.measure is not None}


def _definition_text(kpi: str, hashes: str, current: Mapping[str, str] | None) -> str:
    """A slice's definition hash(es), short, with what has changed since it was computed (when `current` is given)."""
    if not hashes:
        return EMPTY_TEXT
    text = ", ".join(h[:HASH_SHOWN] for h in hashes.split(", "))
    if current is None:
        return text
    if kpi not in current:
        return f"{text}: the KPI has no measure now"
    return text if hashes == current[kpi] else f"{text}: changed since, run compute again"


def lineage_summary_table(summary: pd.DataFrame, framework: Framework,
                          current: Mapping[str, str] | None = None) -> ReportTable:
    """"Where do the numbers come from", per KPI and team: computed from which source, from how many source rows,
    when and by which definition (its hash's first characters, and whether it differs from today's definition in
    `current`, see current_definitions), or imported."""
    shown = with_names(summary, framework).assign(kpi_label=lambda f: _kpi_labels(f["kpi_id"], framework))
    shown["where"] = [f"computed from {s}" if o == COMPUTED else "imported: entered by hand or from a file"
                      for o, s in zip(shown["origin"], shown["source"], strict=True)]
    shown["definition"] = [_definition_text(k, h, current)
                           for k, h in zip(shown["kpi_id"], shown["definition_hash"], strict=True)]
    return ReportTable(shown, {
        "team_name": Col("Team"), "kpi_label": Col("KPI"), "where": Col("Where the values come from"),
        "values": Col("Values", "count"), "source_rows": Col("Source rows", "count"),
        "computed_at": Col("Computed at", "timestamp"), "definition": Col("Definition"),
    }, noun=("KPI", "KPIs"), empty="No values in this period.", group_by="team_name")


def people_section(people: pd.DataFrame, ctx: StepContext, shown: bool) -> ReportTable | Markdown:
    """The people's scorecards when `shown` (the run asked for each person's score), else a line saying they are
    left out and where the counts are."""
    if shown:
        return people_table(people, ctx.employees, ctx.framework)
    return Markdown(f"Each person's score is left out of this report; the summary counts the {len(people)} people by "
                    "status.")


def computed_values_section(lineage: pd.DataFrame, ctx: StepContext, shown: bool) -> ReportTable | Markdown:
    """Each computed value of the period when people are `shown`; else only the team values, or a line saying the
    people's values are left out."""
    if shown:
        return computed_values_table(lineage, ctx.employees, ctx.framework)
    teams = lineage[lineage["employee_id"].astype(str) == ""]
    if teams.empty:
        return Markdown("Each person's computed values are left out of this report.")
    return computed_values_table(teams, ctx.employees, ctx.framework)


def computed_values_table(lineage: pd.DataFrame, employees: pd.DataFrame, framework: Framework) -> ReportTable:
    """Each computed value of the period with the number of source rows behind it, one section per KPI."""
    computed = lineage[lineage["origin"] == COMPUTED]
    shown = with_names(computed, framework, employees)
    shown["kpi_label"] = [f"{label}, computed from {source}" for label, source in
                          zip(_kpi_labels(shown["kpi_id"], framework), shown["source"], strict=True)]
    shown["person"] = shown["person"].where(shown["employee_id"] != "", "team value")
    return ReportTable(shown, {
        "kpi_label": Col("KPI"), "team_name": Col("Team"), "person": Col("Person (id)"),
        "value": Col("Value", "level"), "source_rows": Col("Source rows", "count"),
    }, noun=("computed value", "computed values"), empty="No value of this period was computed: all were imported.",
        group_by="kpi_label", group_above=0)


def scope_values(ctx: StepContext, scores: pd.DataFrame) -> pd.DataFrame:
    """The KPIs of a department's or the organization's roles with their values over all the scope's records, as
    `kpi-workbook compute` stored them, and their scores (analysis.review.scope_kpi_values); no rows for a team."""
    kpis = [] if ctx.kind is ScopeKind.TEAM else scope_kpis(ctx.framework, ctx.roles)
    stored = pd.DataFrame(columns=SCOPE_VALUE_COLUMNS)
    if kpis and isinstance(ctx.store, DuckDBStore):
        stored = ctx.store.read_scope_values(ctx.kind.value, ctx.key or ctx.kind.value, kpis)
    return scope_kpi_values(stored, scores, ctx.framework, kpis, ctx.period, ctx.roles)


def whose(ctx: StepContext) -> str:
    """The scope named in a sentence: 'Sales', 'the Commercial department', the organization's name."""
    if ctx.kind is ScopeKind.TEAM:
        return ctx.name
    if ctx.kind is ScopeKind.DEPARTMENT:
        return f"the {departments(ctx.framework)[ctx.key][0]} department"
    return ctx.framework.metadata.organization


def scope_values_section(values: pd.DataFrame, ctx: StepContext) -> ScopeValues | None:
    """The report section of `values` (see scope_values) for a department or the organization: a table of the
    computed KPIs' values, how they are computed, and which KPIs are entered by hand; None for a team."""
    if ctx.kind is ScopeKind.TEAM:
        return None
    return scope_values_view(values, ctx.framework, ctx.kind.value, whose(ctx),
                             f"KPI values · {ctx.name} · {ctx.period}")


def scope_evidence(ctx: StepContext) -> ScopeEvidence | None:
    """Whether the framework works, for the scope's roles and teams: analysis.evidence over the whole organization's
    history up to the period (a relation between KPIs and a target's difficulty show across teams; only aggregates
    of the scope's own roles, teams and KPIs are kept); None without actuals."""
    from kpi_workbook.analysis.evidence import framework_evidence
    from kpi_workbook.reports.evidence_section import scope_evidence as scope_evidence_of

    organization = ctx.workspace.scope(period=ctx.period)
    actuals = organization.actuals_to_date
    if actuals.empty:
        return None
    found = framework_evidence(ctx.framework, actuals, organization.employees)
    return scope_evidence_of(found, ctx.framework, ctx.roles, ctx.team_ids, whose(ctx), ctx.period,
                             actuals["period"].nunique())


def evidence_section(evidence: ScopeEvidence | None, ctx: StepContext) -> EvidenceSection | Markdown:
    """The section 'Is the framework working?' (see scope_evidence), or a line saying there is no history yet."""
    from kpi_workbook.reports.evidence_section import EvidenceSection

    if evidence is None:
        return Markdown("No actuals yet: the framework cannot be tested before its KPIs have a history.")
    return EvidenceSection(evidence, ctx.framework)


def evidence_appendix(evidence: ScopeEvidence | None, ctx: StepContext) -> EvidenceAppendix | Markdown:
    """The evidence in detail (every pair tested, attainment per role and team, scores per team), or a line saying
    there is none."""
    from kpi_workbook.reports.evidence_section import EvidenceAppendix

    if evidence is None:
        return Markdown("No actuals yet: nothing to show.")
    return EvidenceAppendix(evidence, ctx.framework)
