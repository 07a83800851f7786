"""`kpi-workbook evidence`: is the framework any good? Leading KPIs that lead, equally hard targets, gaming signals."""

from __future__ import annotations

__all__ = ["KPI_COLUMNS", "TITLES", "evidence"]

import json
from typing import TYPE_CHECKING, Annotated

import typer

from kpi_workbook.cli.app import OutputFormat, app, echo_table, fail, open_workspace_option
from kpi_workbook.cli.options import WorkspaceOption

if TYPE_CHECKING:
    import pandas as pd

    from kpi_workbook.analysis.evidence import Evidence
    from kpi_workbook.workspace.opener import Workspace

TITLES = {"leading": "1. Do the leading KPIs lead?", "targets": "2. Are targets equally hard?",
          "calibration": "2b. Calibration: scores per team and manager", "gaming": "3. Is a KPI being gamed?"}


def _with_managers(opened: Workspace) -> pd.DataFrame:
    """employees.csv's people, with its `manager` column when the file has one (read as the file was validated)."""
    from kpi_workbook.core.errors import Problem
    from kpi_workbook.core.issue_codes import Code
    from kpi_workbook.workspace.files import EMPLOYEES_FILE
    from kpi_workbook.workspace.tabular import cell_text, first_row, read_table

    people = opened.employees
    path = opened.root / EMPLOYEES_FILE
    if people.empty or not path.exists():
        return people
    table = read_table(path, EMPLOYEES_FILE, first_row(Problem(file=EMPLOYEES_FILE, row=1, code=Code.INPUT_EMPTY,
                                                                   message="no header row")))
    if "manager" not in table.names:
        return people
    rows = table.frame[["employee_id", "manager"]].map(cell_text)
    managers = dict(zip(rows["employee_id"], rows["manager"], strict=True))
    return people.assign(manager=people["employee_id"].map(managers).fillna(""))


def _tables(evidence: Evidence) -> dict[str, pd.DataFrame]:
    from kpi_workbook.analysis.evidence.gaming import findings_frame

    return {"leading": evidence.leads.frame(), "targets": evidence.difficulty.attainment,
            "target_flags": evidence.difficulty.flags, "target_changes": evidence.difficulty.changes,
            "calibration": evidence.calibration,
            "gaming": findings_frame(evidence.gaming)}


KPI_COLUMNS = ("leading", "lagging", "kpi_id", "guardrail")


#: Role titles and team names by id, under "role" and "team".
GroupNames = dict[str, dict[str, str]]


def _shown(frame: pd.DataFrame, names: dict[str, str], groups: GroupNames) -> str:
    """A table as text: KPIs by name (their id in brackets), roles and teams by name, headings in words, no value as
    a dash."""
    if not len(frame):
        return "  (none)"
    named = frame.assign(**{c: frame[c].map(lambda k: f"{names.get(k, k)} ({k})") for c in KPI_COLUMNS
                            if c in frame.columns})
    named = named.assign(**{c: named[c].map(lambda g, c=c: groups[c].get(g, g)) for c in groups if c in named})
    if {"level", "group"} <= set(named.columns):  # a group is a role, a team or (calibration) a manager
        named["group"] = [groups.get(level, {}).get(group, group)
                          for level, group in zip(named["level"], named["group"], strict=True)]
    named = named.rename(columns=lambda c: str(c).replace("_", " "))
    return named.to_string(index=False, float_format=lambda v: f"{v:.3g}", na_rep="—")


def _listed(kpis: list[str], names: dict[str, str]) -> str:
    return ", ".join(names.get(k, k) for k in kpis) or "none"


def _scope(scope: str, groups: GroupNames) -> str:
    """A gaming signal's scope ('role ID', 'team ID' or a text) with the role's or team's name."""
    level, _, group = scope.partition(" ")
    return f"{level} {groups[level].get(group, group)}" if level in groups else scope


def _changes(changes: pd.DataFrame, names: dict[str, str], groups: GroupNames) -> list[str]:
    """The target changes that would even each flagged group out, a line each."""
    from kpi_workbook.analysis.evidence.difficulty import plain_number

    if not len(changes):
        return []
    return ["Targets that would even them out:", *(
        f"  {groups[c.level].get(c.group, c.group)}: {names.get(c.kpi_id, c.kpi_id)} ({c.kpi_id}) "
        f"{plain_number(c.target)} → {plain_number(c.even_target)}" for c in changes.itertuples())]


def _text(evidence: Evidence, names: dict[str, str], groups: GroupNames) -> str:
    from kpi_workbook.analysis.evidence import calibration, difficulty, gaming, leading

    leads, hard = evidence.leads, evidence.difficulty
    pairs = leads.frame()
    tested = pairs[pairs["units"] >= leading.MIN_UNITS]
    untested = pairs[pairs["units"] < leading.MIN_UNITS]
    findings = gaming.findings_frame(evidence.gaming)
    blocks = [
        TITLES["leading"], leading.METHOD, _shown(tested.drop(columns=["declared", "q"]), names, groups),
        f"{len(untested)} more pair(s) could not be tested: not measured on the same people or teams in "
        f"{leading.MIN_UNITS} or more cases (listed with --format csv or json).",
        "Leading KPIs that lead nothing (yet): " + _listed(leads.idle_leading, names),
        "Lagging KPIs no leading KPI is shown to drive: " + _listed(leads.undriven_lagging, names),
        "", TITLES["targets"], difficulty.METHOD, _shown(hard.attainment, names, groups),
        f"Organization: {hard.organization:.0%} of values meet target; spread across roles "
        f"{hard.spread.get('role', float('nan')):.0%}, across teams {hard.spread.get('team', float('nan')):.0%}.",
        "Flagged:", _shown(hard.flags.drop(columns="target_changes"), names, groups),
        *_changes(hard.changes, names, groups),
        "", TITLES["calibration"], calibration.METHOD, _shown(evidence.calibration, names, groups),
        "", TITLES["gaming"], gaming.METHOD,
        f"Targets set in: {evidence.since or 'unknown (framework.yaml has no date): variance collapse not checked'}",
        *(f"- [{f.check}] {names.get(f.kpi_id, f.kpi_id)} ({f.kpi_id}), {_scope(f.scope, groups)}: {f.evidence} "
          f"(p = {f.p:.2g}). Look at: {f.look_at}." for f in evidence.gaming),
        "" if len(findings) else "No gaming signal found.",
    ]
    return "\n".join(blocks)


def _render(evidence: Evidence, output: OutputFormat, names: dict[str, str], groups: GroupNames) -> str:
    import pandas as pd

    tables = _tables(evidence)
    if output is OutputFormat.JSON:
        records = {name: json.loads(frame.to_json(orient="records")) for name, frame in tables.items()}
        records["idle_leading"] = evidence.leads.idle_leading
        records["undriven_lagging"] = evidence.leads.undriven_lagging
        records["organization_attainment"] = evidence.difficulty.organization
        return json.dumps(records, indent=2, ensure_ascii=False)
    if output is OutputFormat.CSV:
        from kpi_workbook.reports.safe_cells import safe_csv

        return safe_csv(pd.concat([f.assign(section=n) for n, f in tables.items() if len(f)], ignore_index=True))
    return _text(evidence, names, groups)


@app.command()
def evidence(
    workspace: WorkspaceOption = "",
    output: Annotated[OutputFormat, typer.Option("--format", help="text, csv or json.")] = OutputFormat.TEXT,
    seed: Annotated[int, typer.Option(help="Seed of the random shuffles (the same seed gives the same numbers).")] = 0,
) -> None:
    """Is the framework any good? Test on the stored history whether leading KPIs lead, whether targets are equally
    hard across roles and teams, and whether a KPI shows signs of being gamed; each section says its method."""
    from kpi_workbook.analysis.evidence import framework_evidence

    opened = open_workspace_option(workspace)
    actuals = opened.store().read_actuals()
    if actuals.empty:
        fail(f"{opened.name}: no actuals stored; import them with: kpi-workbook import-actuals FILE -w "
             f"{workspace or '.'}")
    framework = opened.framework
    names = {k.id: k.name for k in framework.kpis}
    groups = {"role": {r.id: r.title for r in framework.roles}, "team": {t.id: t.name for t in framework.teams}}
    echo_table(_render(framework_evidence(framework, actuals, _with_managers(opened), seed), output, names, groups))
