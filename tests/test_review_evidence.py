"""The review's "Is the framework working?" section and its appendix on the sample organization: exactly the pairs,
target flags and gaming signals that `kpi_workbook.analysis.evidence` finds over the organization's history, kept for
each scope's roles and teams (read here from the role files), by name and never by id, each with its method; and
the planted relations of the sample shown where they belong."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from kpi_workbook.analysis.evidence import framework_evidence
from kpi_workbook.analysis.evidence.leading import DOES_NOT_LEAD, LEADS, MIN_UNITS
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.reports import mode
from kpi_workbook.steps import open_step
from kpi_workbook.steps import review as step
from kpi_workbook.workspace.opener import open_workspace

SCOPES = {"sales": ("sales", ""), "customer_support": ("customer_support", ""), "finance": ("finance", ""),
          "commercial": ("", "commercial"), "organization": ("", "")}


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


class Section(HTMLParser):
    """The text of each h3 part of a section: its list items' bold names and full texts, its paragraphs, and the
    rows of its tables (cells as text)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: dict[str, dict[str, list]] = {}
        self._part = ""
        self._open: dict[str, list[str]] = {}
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("h3", "li", "strong", "p", "td"):
            self._open[tag] = []
        if tag == "tr":
            self._row = []

    def handle_endtag(self, tag):
        if tag not in self._open:
            if tag == "tr" and self._row:
                self.parts[self._part]["rows"].append(self._row)
            return
        text = " ".join("".join(self._open.pop(tag)).split())
        if tag == "h3":
            self._part = text
            self.parts[text] = {"items": [], "names": [], "paragraphs": [], "rows": []}
        elif self._part and tag == "td" and self._row is not None:
            self._row.append(text)
        elif self._part and tag in ("li", "p"):
            self.parts[self._part]["items" if tag == "li" else "paragraphs"].append(text)
        elif self._part and tag == "strong" and "li" in self._open:
            self.parts[self._part]["names"].append(text)

    def handle_data(self, data):
        for part in self._open.values():
            part.append(data)


def _parts(html: str) -> dict[str, dict[str, list]]:
    parser = Section()
    parser.feed(html)
    return parser.parts


@pytest.fixture(scope="module")
def sample() -> dict:
    """The analysis over the whole sample (organization's actuals), and the sample's names and roles from its files."""
    workspace = open_workspace("sample")
    organization = workspace.scope()
    found = framework_evidence(workspace.framework, organization.actuals_to_date, organization.employees)
    roles = [_yaml(p) for p in sorted((SAMPLE_ORG_DIR / "roles").glob("*.yaml"))]
    return {"evidence": found, "roles": roles,
            "kpis": {k["id"]: k["name"] for k in _yaml(SAMPLE_ORG_DIR / "kpis.yaml")["kpis"]},
            "teams": {t["id"]: t for t in _yaml(SAMPLE_ORG_DIR / "teams.yaml")["teams"]},
            "titles": {r["id"]: r["title"] for r in roles}}


def _team_ids(sample: dict, team: str, department: str) -> set[str]:
    if team:
        return {team}
    teams = sample["teams"].values()
    return {t["id"] for t in teams if not department or str(t.get("department", "")).lower() == department}


def _scope(sample: dict, name: str) -> tuple[set[str], set[str], set[str]]:
    """The scope's team ids, role ids (roles in one of its teams) and KPI ids (those roles' KPIs), from the files."""
    teams = _team_ids(sample, *SCOPES[name])
    roles = [r for r in sample["roles"] if set(r["teams"]) & teams]
    return teams, {r["id"] for r in roles}, {a["kpi"] for r in roles for a in r["kpis"]}


@pytest.fixture(scope="module")
def shown() -> dict[str, tuple[str, str]]:
    """Each scope's section and appendix as the report shows them (report mode)."""
    mode.set_report_mode(True)
    found = {}
    for name, (team, department) in SCOPES.items():
        ctx = open_step("sample", team, "", department)
        evidence = step.scope_evidence(ctx)
        found[name] = (step.evidence_section(evidence, ctx)._repr_html_(),
                       step.evidence_appendix(evidence, ctx)._repr_html_())
    mode.set_report_mode(False)
    return found


def _pairs(sample: dict, kpis: set[str]) -> list:
    """The pairs the analysis tested whose leading KPI the scope's roles hold."""
    return [p for p in sample["evidence"].leads.pairs if p.leading in kpis and p.relation is not None
            and p.relation.units >= MIN_UNITS]


def _minus(value: float) -> str:
    return f"{value:.2f}".replace("-", "\u2212")


@pytest.mark.parametrize("name", list(SCOPES))
def test_the_section_names_exactly_the_settled_pairs_of_the_scopes_leading_kpis(sample, shown, name):
    _, _, kpis = _scope(sample, name)
    part = _parts(shown[name][0])["Do the leading KPIs lead?"]
    names = sample["kpis"]
    tested = _pairs(sample, kpis)
    settled = [p for p in tested if p.verdict in (LEADS, DOES_NOT_LEAD)]
    assert sorted(part["names"]) == sorted(f"{names[p.leading]} → {names[p.lagging]}" for p in settled)
    for pair in settled:
        item = next(i for i in part["items"] if i.startswith(f"{names[pair.leading]} → {names[pair.lagging]}:"))
        rel = pair.relation
        assert item.split(":")[1].strip().startswith("leads" if pair.verdict == LEADS else "does not lead")
        assert f"r = {_minus(rel.r)} (95 % interval {_minus(rel.low)} to {_minus(rel.high)})" in item
        assert f"lag of {rel.lag} period" in item and f"from {rel.n} pairs of changes of {rel.units} " in item
    waiting = len(tested) - len(settled)
    text = " ".join(part["paragraphs"])
    assert (f"{waiting} " in text and "no evidence either way yet" in text) if waiting else "no evidence" not in text
    assert any(p.startswith("Method:") for p in part["paragraphs"]), "its method in a sentence"


def test_the_sample_s_planted_leading_relation_is_shown_where_its_kpis_are(sample, shown):
    leads = [p for p in sample["evidence"].leads.pairs if p.verdict == LEADS]
    assert leads, "the sample plants a leading KPI that leads"
    for pair in leads:
        label = f"{sample['kpis'][pair.leading]} → {sample['kpis'][pair.lagging]}"
        for name in SCOPES:
            names = _parts(shown[name][0])["Do the leading KPIs lead?"]["names"]
            assert (label in names) == (pair.leading in _scope(sample, name)[2]), (name, label)


@pytest.mark.parametrize("name", list(SCOPES))
def test_targets_out_of_line_are_the_scope_s_flagged_roles_and_teams_with_their_changes(sample, shown, name):
    teams, roles, _ = _scope(sample, name)
    flags = sample["evidence"].difficulty.flags
    mine = flags[((flags["level"] == "role") & flags["group"].isin(roles))
                 | ((flags["level"] == "team") & flags["group"].isin(teams))]
    part = _parts(shown[name][0])["Are targets equally hard?"]
    expected = [f"{sample['titles'][g]} (role)" if level == "role" else f"{sample['teams'][g]['name']} (team)"
                for level, g in zip(mine["level"], mine["group"], strict=True)]
    assert part["names"] == expected
    for item, row in zip(part["items"], mine.to_dict("records"), strict=True):
        assert f"{100 * row['attainment']:.0f} % of past values meet target against " \
               f"{100 * row['organization']:.0f} %" in item
        assert ("easier" if row["direction"] == "easier" else "harder") in item
        changes = sample["evidence"].difficulty.changes
        mine_changes = changes[(changes["level"] == row["level"]) & (changes["group"] == row["group"])]
        for kpi, new in zip(mine_changes["kpi_id"], mine_changes["even_target"], strict=True):
            shown_new = re.search(rf"{re.escape(sample['kpis'][kpi])} \S+(?: \S+)? → ([\d,]+)(\.\d+)?", item)
            assert shown_new, item
            places = len(shown_new[2] or ".") - 1  # the new level as shown, rounded to its decimals
            value = float(shown_new[1].replace(",", "") + (shown_new[2] or ""))
            assert value == pytest.approx(float(new), abs=0.5 * 10 ** -places + 1e-9), item
    assert any(p.startswith("Method:") for p in part["paragraphs"])


@pytest.mark.parametrize("name", list(SCOPES))
def test_gaming_signals_are_the_scope_s_by_role_or_team_never_by_person(sample, shown, name):
    teams, roles, kpis = _scope(sample, name)

    def mine(scope: str, kpi: str) -> bool:
        level, _, group = scope.partition(" ")
        return group in roles if level == "role" else group in teams if level == "team" else kpi in kpis

    findings = [f for f in sample["evidence"].gaming if mine(f.scope, f.kpi_id)]
    part = _parts(shown[name][0])["Signs of gaming"]
    assert part["names"] == [sample["kpis"][f.kpi_id] for f in findings]
    people = set(open_workspace("sample").employees["employee_id"])
    assert not [p for p in people if p in " ".join(part["items"])], "no person named"
    assert any(p.startswith("Method:") for p in part["paragraphs"])


def test_the_organization_shows_every_kind_of_signal_the_sample_plants(shown):
    parts = _parts(shown["organization"][0])
    assert parts["Are targets equally hard?"]["names"] and parts["Signs of gaming"]["names"]
    assert any(": leads," in i for i in parts["Do the leading KPIs lead?"]["items"])


@pytest.mark.parametrize("name", list(SCOPES))
def test_names_never_ids(sample, shown, name):
    ids = [*sample["kpis"], *sample["titles"], *(t for t in sample["teams"] if "_" in t)]
    for html in shown[name]:
        text = re.sub(r"<[^>]+>", " ", html)
        assert [i for i in ids if re.search(rf"(?<!\w){re.escape(i)}(?!\w)", text)] == [], name


@pytest.mark.parametrize("name", list(SCOPES))
def test_the_appendix_has_every_tested_pair_and_the_scope_s_attainment_and_calibration(sample, shown, name):
    teams, roles, kpis = _scope(sample, name)
    parts = _parts(shown[name][1])
    names = sample["kpis"]
    rows = parts["Leading and lagging KPIs: every pair tested"]["rows"]
    assert sorted((r[0], r[1]) for r in rows) == sorted(
        (names[p.leading], names[p.lagging]) for p in _pairs(sample, kpis))
    attainment = sample["evidence"].difficulty.attainment
    kept = attainment[attainment["team"].isin(teams) & attainment["role"].isin(roles)]
    rows = parts["Past values meeting target, per role and team"]["rows"]
    assert sorted((r[0], r[1], r[4]) for r in rows) == sorted(
        (sample["teams"][t]["name"], sample["titles"][r], f"{100 * a:.0f} %")
        for t, r, a in zip(kept["team"], kept["role"], kept["attainment"], strict=True))
    calibration = sample["evidence"].calibration
    kept = calibration[(calibration["level"] == "team") & calibration["group"].isin(teams)]
    rows = parts["Scores per team (calibration)"]["rows"]
    assert sorted((r[0], r[2]) for r in rows) == sorted(
        (sample["teams"][t]["name"], f"{m:.1f} pts") for t, m in zip(kept["group"], kept["median"], strict=True))
