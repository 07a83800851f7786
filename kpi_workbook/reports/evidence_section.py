"""Is the framework working? The evidence of `analysis.evidence` for one scope's roles and teams, as a review shows
it: which of their leading KPIs lead (lag, size with its interval, verdict), which of their targets are out of line
with the organization's (with the change that evens them out) and any gaming signal (role or team level only), each
with its method in one plain sentence; then an appendix with every pair tested, the share of past values meeting
target per role and team, and the scores per team (calibration). KPIs, roles and teams by name, never by id."""

from __future__ import annotations

__all__ = [
    "CHECKS", "EvidenceAppendix", "EvidenceSection", "METHODS", "Names", "SECTION_CSS", "SETTLED", "ScopeEvidence",
    "VERDICT_ORDER", "attainment_table", "calibration_table", "changes_text", "finding_item", "flag_item", "needs_text",
    "pair_item", "pairs_table", "scope_evidence", "size_text", "units_text",
]

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from kpi_workbook.analysis.evidence import Evidence
from kpi_workbook.analysis.evidence.difficulty import EASIER
from kpi_workbook.analysis.evidence.gaming import GamingSignal
from kpi_workbook.analysis.evidence.leading import DOES_NOT_LEAD, LEADS, MIN_UNITS, NO_EVIDENCE
from kpi_workbook.core.model import Framework, Role
from kpi_workbook.reports.tables import REPORT_CSS, Col, ReportTable
from kpi_workbook.reports.units import EMPTY_TEXT, MINUS, decimals, score_text, value_text

SETTLED = (LEADS, DOES_NOT_LEAD)  # verdicts the section names; pairs with no evidence yet are in the appendix
VERDICT_ORDER = {LEADS: 0, DOES_NOT_LEAD: 1, NO_EVIDENCE: 2}
CHECKS = {"bunching": "values pile up just past a band", "guardrail": "improves while its guardrail worsens",
          "variance collapse": "spread across people collapsed after the targets were set"}
METHODS = {
    "leading": "Method: for the people (or teams) measured on both KPIs, each period's change of the leading KPI is "
               "set against the change of the lagging KPI one to three periods later, beyond what moved everyone, "
               "and compared with 999 shuffles of whose history is whose; r is the correlation, from 0 (no link) to "
               "1 (a perfect one), and its interval comes from re-drawing people.",
    "targets": "Method: every past value of a role's KPIs is checked against the role's current target, and a role "
               "or team is out of line when its share of values meeting target differs from the organization's by "
               "15 points or more and by more than chance.",
    "gaming": "Method: three checks per role or team, never per person: values piling up just past a target or "
              "threshold, a KPI improving while its guardrail KPI worsens for the same people, and a spread across "
              "people that fell by half or more after the targets were set.",
}
SECTION_CSS = """<style>
.kpi-evidence li { margin-bottom: 0.4em; break-inside: avoid; }
.kpi-evidence .kpi-method { color: #424a53; font-style: italic; }
</style>"""


@dataclass(frozen=True)
class ScopeEvidence:
    """The evidence on one scope's roles and teams, tested over the organization's history up to `period`.

    `pairs` are the tested pairs (analysis.evidence.leading.PAIR_COLUMNS) whose leading KPI a role of the scope
    holds, `untested` counts such pairs without enough shared data; `flags` are the target flags
    (difficulty.FLAG_COLUMNS) of the scope's roles and teams and `changes` their target changes
    (difficulty.CHANGE_COLUMNS); `attainment` and `calibration` keep the scope's teams' rows; `gaming` the findings on
    its roles, teams and KPIs.
    """

    whose: str
    period: str
    periods: int
    pairs: pd.DataFrame
    untested: int
    idle: list[str]
    undriven: list[str]
    flags: pd.DataFrame
    changes: pd.DataFrame
    organization: float
    spread: Mapping[str, float]
    attainment: pd.DataFrame
    calibration: pd.DataFrame
    gaming: list[GamingSignal]
    since: str | None


def _in_scope(finding: GamingSignal, roles: set[str], teams: set[str], kpis: set[str]) -> bool:
    """Whether a gaming finding concerns the scope: one of its roles, one of its teams, or its KPI across teams."""
    level, _, group = finding.scope.partition(" ")
    if level == "role":
        return group in roles
    if level == "team":
        return group in teams
    return finding.kpi_id in kpis


def _of_scope(rows: pd.DataFrame, roles: set[str], teams: set[str]) -> pd.Series:
    """Which rows (with a `level` and `group`) are of one of the roles or teams."""
    role, team = rows["level"] == "role", rows["level"] == "team"
    return (role & rows["group"].isin(roles)) | (team & rows["group"].isin(teams))


def scope_evidence(evidence: Evidence, framework: Framework, roles: Sequence[Role], team_ids: Sequence[str],
                   whose: str, period: str, periods: int) -> ScopeEvidence:
    """The part of the organization's `evidence` that concerns `roles` and the teams `team_ids` (see ScopeEvidence);
    `whose` names the scope in a sentence, `periods` is the number of periods of history tested."""
    role_ids, teams = {r.id for r in roles}, set(team_ids)
    kpis = {a.kpi for r in roles for a in r.kpis}
    pairs = evidence.leads.frame()
    mine = pairs[pairs["leading"].isin(kpis)]
    tested = mine[mine["units"] >= MIN_UNITS]
    tested = tested.assign(order=tested["verdict"].map(VERDICT_ORDER)).sort_values(
        ["order", "q", "leading", "lagging"], kind="stable").drop(columns="order").reset_index(drop=True)
    flags, changes = evidence.difficulty.flags, evidence.difficulty.changes
    flags = flags[_of_scope(flags, role_ids, teams)].reset_index(drop=True)
    changes = changes[_of_scope(changes, role_ids, teams)].reset_index(drop=True)
    attainment = evidence.difficulty.attainment
    calibration = evidence.calibration
    return ScopeEvidence(
        whose=whose, period=period, periods=periods, pairs=tested, untested=len(mine) - len(tested),
        idle=[k for k in evidence.leads.idle_leading if k in kpis],
        undriven=[k for k in evidence.leads.undriven_lagging if k in kpis],
        flags=flags, changes=changes, organization=evidence.difficulty.organization, spread=evidence.difficulty.spread,
        attainment=attainment[attainment["team"].isin(teams) & attainment["role"].isin(role_ids)].reset_index(
            drop=True),
        calibration=calibration[(calibration["level"] == "team") & calibration["group"].isin(teams)].reset_index(
            drop=True),
        gaming=[f for f in evidence.gaming if _in_scope(f, role_ids, teams, kpis)], since=evidence.since,
    )


# --- words and numbers -------------------------------------------------------------------------------------------


class Names:
    """Readable names of a framework's KPIs, roles and teams, and text with KPI ids replaced by their names."""

    def __init__(self, framework: Framework) -> None:
        self.framework = framework
        self.kpis = {k.id: k.name for k in framework.kpis}
        self.roles = {r.id: r.title for r in framework.roles}
        self.teams = {t.id: t.name for t in framework.teams}
        ids = sorted(self.kpis, key=len, reverse=True)
        self._ids = re.compile(rf"(?<![\w])({'|'.join(map(re.escape, ids))})(?![\w])") if ids else None

    def kpi(self, kpi_id: str) -> str:
        return self.kpis.get(kpi_id, kpi_id)

    def group(self, level: str, group: str) -> str:
        """A role's title or a team's name, with what it is: 'Support Agent (role)', 'Sales (team)'."""
        if level == "role":
            return f"{self.roles.get(group, group)} (role)"
        if level == "team":
            return f"{self.teams.get(group, group)} (team)"
        return "across teams"

    def text(self, text: str) -> str:
        """Text with every KPI id in it replaced by the KPI's name."""
        return self._ids.sub(lambda m: self.kpis[m[1]], text) if self._ids else text

    def change(self, kpi_id: str, old: float, new: float) -> str:
        """A target's change in the KPI's unit, both levels with the decimals they need side by side: '45.0 days →
        59.9 days', '300 → 341'."""
        kpi = self.framework.kpi(kpi_id)
        unit = self.framework.unit_of(kpi) if kpi else ""
        places = decimals([old, new], unit)
        return f"{value_text(old, unit, places)} → {value_text(new, unit, places)}"


def _signed(value: float) -> str:
    """A correlation with two decimals and a true minus sign: '0.26', '−0.04'."""
    return f"{value:.2f}".replace("-", MINUS)


def _share(value: float) -> str:
    """A share 0–1 as a whole percentage: '36 %'."""
    return EMPTY_TEXT if value is None or math.isnan(value) else f"{100 * value:.0f}\u00a0%"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def units_text(units: int, level: str) -> str:
    """What a pair was measured on: '21 people', '3 teams'."""
    return _plural(int(units), "person", "people") if level == "people" else _plural(int(units), "team")


def size_text(row: Mapping) -> str:
    """A pair's relation in words: 'r = 0.26 (95 % interval −0.04 to 0.53) at a lag of 3 periods, from 78 pairs of
    changes of 21 people'."""
    units = units_text(row["units"], row["level"])
    return (f"r = {_signed(row['r'])} (95\u00a0% interval {_signed(row['low'])} to {_signed(row['high'])}) at a lag "
            f"of {_plural(int(row['lag']), 'period')}, from {_plural(int(row['n']), 'pair')} of changes of {units}")


def needs_text(row: Mapping) -> str:
    """What a pair without evidence yet still needs, or why a verdict stands: 'about 9 more periods: 28 pairs of
    changes; about 68 are needed to see r = 0.3'."""
    periods = row["periods_needed"]
    more = (f"about {_plural(int(periods), 'more period')}" if periods is not None and not pd.isna(periods)
            else "")
    return ": ".join(part for part in (more, str(row["note"] or "")) if part) or EMPTY_TEXT


def pair_item(row: Mapping, names: Names) -> str:
    """One pair as an HTML list item: its KPIs, verdict and size."""
    pair = f"{names.kpi(row['leading'])} → {names.kpi(row['lagging'])}"
    verdict = {LEADS: "leads", DOES_NOT_LEAD: "does not lead"}.get(row["verdict"], row["verdict"])
    why = f"; {row['note']}" if row["verdict"] == DOES_NOT_LEAD and row["note"] else ""
    return (f"<li><strong>{html.escape(pair)}</strong>: {html.escape(verdict)}, "
            f"{html.escape(size_text(row))}{html.escape(why)}.</li>")


def changes_text(changes: pd.DataFrame, names: Names) -> str:
    """Target changes (difficulty.CHANGE_COLUMNS) with names and units: 'Days sales outstanding 45.0 days → 59.9
    days; …'."""
    return "; ".join(f"{names.kpi(row.kpi_id)} {names.change(row.kpi_id, row.target, row.even_target)}"
                     for row in changes.itertuples())


def flag_item(row: Mapping, changes: pd.DataFrame, names: Names) -> str:
    """One role or team whose targets are out of line, with the target changes (`changes`, all of the row's group)
    that would even it out."""
    side = "easier" if row["direction"] == EASIER else "harder"
    suggested = changes_text(changes, names)
    suggested = f" Suggested: {suggested}." if suggested else ""
    return (f"<li><strong>{html.escape(names.group(row['level'], row['group']))}</strong>: "
            f"{_share(row['attainment'])} of past values meet target against {_share(row['organization'])} across "
            f"the organization, so its targets are {side} than most.{html.escape(suggested)}</li>")


def finding_item(finding: GamingSignal, names: Names) -> str:
    """One gaming signal: the KPI, whose, what the check saw and what to look at."""
    where = names.group(*finding.scope.partition(" ")[::2]) if finding.scope != "teams" else "across teams"
    check = CHECKS.get(finding.check, finding.check)
    return (f"<li><strong>{html.escape(names.kpi(finding.kpi_id))}</strong> · {html.escape(where)}: "
            f"{html.escape(check)}: {html.escape(names.text(finding.evidence))}. "
            f"<em>Look at</em> {html.escape(names.text(finding.look_at))}.</li>")


# --- the section ---------------------------------------------------------------------------------------------------


def _list(items: Sequence[str]) -> str:
    return f"<ul>{''.join(items)}</ul>"


def _method(key: str) -> str:
    return f'<p class="kpi-method">{html.escape(METHODS[key])}</p>'


@dataclass(frozen=True)
class EvidenceSection:
    """The review's section 'Is the framework working?' for one scope; shows as HTML."""

    evidence: ScopeEvidence
    framework: Framework

    def _leading(self, names: Names) -> str:
        pairs = self.evidence.pairs
        settled = pairs[pairs["verdict"].isin(SETTLED)]
        found = _list([pair_item(row, names) for row in settled.to_dict("records")]) if len(settled) else ""
        waiting = len(pairs) - len(settled)
        if waiting:
            which = _plural(waiting, "more pair") if len(settled) else f"The {_plural(waiting, 'pair')} tested"
            found += (f"<p>{html.escape(which)} {'has' if waiting == 1 else 'have'} no evidence either way yet; the "
                      "appendix lists them with the periods each still needs.</p>")
        elif pairs.empty:
            found = "<p>No leading KPI of these roles could be tested against a lagging one yet.</p>"
        return f"<h3>Do the leading KPIs lead?</h3>{found}{_method('leading')}"

    def _targets(self, names: Names) -> str:
        spread = self.evidence.spread
        across = (f"Across the organization {_share(self.evidence.organization)} of past values meet their target; "
                  f"the share differs by up to {100 * spread.get('role', math.nan):.0f} points between roles and "
                  f"{100 * spread.get('team', math.nan):.0f} between teams.")
        flags, changes = self.evidence.flags, self.evidence.changes
        found = (_list([flag_item(row, changes[(changes["level"] == row["level"]) & (changes["group"] == row["group"])],
                                  names) for row in flags.to_dict("records")]) if len(flags)
                 else f"<p>No role or team of {html.escape(self.evidence.whose)} has targets out of line with the "
                      "organization's.</p>")
        return f"<h3>Are targets equally hard?</h3><p>{html.escape(across)}</p>{found}{_method('targets')}"

    def _gaming(self, names: Names) -> str:
        found = (_list([finding_item(f, names) for f in self.evidence.gaming]) if self.evidence.gaming
                 else "<p>No gaming signal on the KPIs of these roles.</p>")
        unchecked = ("" if self.evidence.since else "<p>Whether a spread collapsed is not checked: the framework "
                                                    "has no date, so when its targets were set is not known.</p>")
        return f"<h3>Signs of gaming</h3>{found}{unchecked}{_method('gaming')}"

    def _repr_html_(self) -> str:
        names = Names(self.framework)
        found = self.evidence
        intro = (f"Tested on the whole organization's history, {_plural(found.periods, 'period')} up to "
                 f"{found.period}, for the KPIs, roles and teams of {found.whose}.")
        return (f'{REPORT_CSS}{SECTION_CSS}<div class="kpi-evidence"><p>{html.escape(intro)}</p>'
                f"{self._leading(names)}{self._targets(names)}{self._gaming(names)}</div>")

    def __repr__(self) -> str:
        return (f"<framework evidence of {self.evidence.whose}: {len(self.evidence.pairs)} pairs, "
                f"{len(self.evidence.flags)} target flags, {len(self.evidence.gaming)} gaming signals>")


# --- the appendix --------------------------------------------------------------------------------------------------


def pairs_table(evidence: ScopeEvidence, names: Names) -> ReportTable:
    """Every tested pair of the scope's leading KPIs: KPIs, measured on, lag, r with its interval, pairs of changes,
    verdict and what it still needs."""
    rows = evidence.pairs
    shown = rows.assign(
        leading_name=rows["leading"].map(names.kpi), lagging_name=rows["lagging"].map(names.kpi),
        measured=[units_text(u, level) for u, level in zip(rows["units"], rows["level"], strict=True)],
        size=[f"{_signed(r)}\u00a0({_signed(lo)}\u00a0to\u00a0{_signed(hi)})"
              for r, lo, hi in zip(rows["r"], rows["low"], rows["high"], strict=True)],
        needs=[needs_text(r) for r in rows.to_dict("records")],
    )
    return ReportTable(shown, {
        "leading_name": Col("Leading KPI"), "lagging_name": Col("Lagging KPI"), "measured": Col("Measured on"),
        "lag": Col("Lag (periods)", "count"), "size": Col("r (95 % interval)", "figure"),
        "n": Col("Pairs of changes", "count"), "verdict": Col("Verdict"), "needs": Col("Still needed or why"),
    }, noun=("pair", "pairs"), empty="No leading KPI of these roles could be tested.")


def attainment_table(evidence: ScopeEvidence, names: Names) -> ReportTable:
    """The share of past values meeting the current target per role and team of the scope."""
    rows = evidence.attainment
    shown = rows.assign(role_name=rows["role"].map(lambda r: names.roles.get(r, r)),
                        team_name=rows["team"].map(lambda t: names.teams.get(t, t)))
    return ReportTable(shown, {
        "team_name": Col("Team"), "role_name": Col("Role"), "people": Col("People", "count"),
        "observations": Col("Past values", "count"), "attainment": Col("Meeting target", "share"),
    }, noun=("role", "roles"), empty="No role of this scope has past values with a target.")


def calibration_table(evidence: ScopeEvidence, names: Names) -> ReportTable:
    """Each team's distribution of people's mean scores: median, middle half, share at or above 100 pts, people
    outside the organization's fences, and whether the team stands out."""
    rows = evidence.calibration
    shown = rows.assign(
        team_name=rows["group"].map(lambda t: names.teams.get(t, t)),
        middle=[f"{score_text(lo)} to {score_text(hi)}" for lo, hi in zip(rows["p25"], rows["p75"], strict=True)],
        stands_out=rows["mark"].map({"high": "higher than the rest", "low": "lower than the rest"}).fillna(""),
    )
    return ReportTable(shown, {
        "team_name": Col("Team"), "people": Col("People", "count"), "median": Col("Median score", "score"),
        "middle": Col("Middle half", "figure"), "on_target": Col("At or above 100 pts", "share"),
        "outliers": Col("Outliers", "count"), "stands_out": Col("Stands out"),
    }, noun=("team", "teams"), empty="No team of this scope has scores yet.")


@dataclass(frozen=True)
class EvidenceAppendix:
    """The appendix with the evidence in detail: every pair tested, attainment per role and team, and the scores
    per team; shows as HTML."""

    evidence: ScopeEvidence
    framework: Framework

    def _repr_html_(self) -> str:
        names = Names(self.framework)
        found = self.evidence
        untested = (f"<p>{html.escape(_plural(found.untested, 'more pair'))} of these leading KPIs could not be "
                    f"tested: the two KPIs are measured on the same people or teams in fewer than {MIN_UNITS} "
                    "cases.</p>") if found.untested else ""
        idle = ", ".join(names.kpi(k) for k in found.idle) or "none"
        undriven = ", ".join(names.kpi(k) for k in found.undriven) or "none"
        return (f'{REPORT_CSS}{SECTION_CSS}<div class="kpi-evidence">'
                f"<h3>Leading and lagging KPIs: every pair tested</h3>{pairs_table(found, names)._repr_html_()}"
                f"{untested}<p>Leading KPIs of these roles not shown to lead anything yet: {html.escape(idle)}.</p>"
                f"<p>Lagging KPIs of these roles no leading KPI is shown to drive: {html.escape(undriven)}.</p>"
                f"<h3>Past values meeting target, per role and team</h3>"
                f"{attainment_table(found, names)._repr_html_()}"
                f"<h3>Scores per team (calibration)</h3>{calibration_table(found, names)._repr_html_()}"
                '<p class="kpi-method">Each person\'s score is their weighted score averaged over the periods scored; '
                "a team stands out when its mean differs from everyone else's by more than chance, and outliers "
                "are counted, never named.</p></div>")

    def __repr__(self) -> str:
        return f"<framework evidence in detail of {self.evidence.whose}>"
