"""KPI passports: every field against the framework and the store (computed here through the package's own API), the
planted evidence of the sample, the command's error cases, offline pages and escaped names."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
import yaml
from markupsafe import escape

from kpi_workbook.analysis.diff import changes_in_words, diff_frameworks
from kpi_workbook.analysis.evidence import framework_evidence, targets_set_in
from kpi_workbook.analysis.evidence.leading import LEADS
from kpi_workbook.analysis.history import role_history
from kpi_workbook.analysis.measures.kinds import describe_measure
from kpi_workbook.analysis.targets import attainment_probability
from kpi_workbook.reports.html import sanitize_html
from kpi_workbook.reports.passport import (
    NO_MEASURE,
    NO_OWNER,
    POLARITY_WORDS,
    Passport,
    PassportSources,
    gather,
    passport,
)
from kpi_workbook.reports.passport_evidence import NO_SIGNAL, NOT_TESTED, SIGNAL
from kpi_workbook.reports.passport_page import (
    INDEX_FILE,
    passport_file,
    passport_html,
    passport_pages,
    passports_appendix_html,
)
from kpi_workbook.workspace.changelog import ChangeEntry, record_change
from kpi_workbook.workspace.files import load_framework
from kpi_workbook.workspace.opener import Workspace, open_workspace
from kpi_workbook.workspace.store import DuckDBStore

PLANTED_LEAD = ("pipeline_coverage", "quota_attainment")  # the sample's planted relations (data/sample_org)
PLANTED_GUARDRAIL = ("code_review_turnaround", "escaped_defects")
PLANTED_BUNCHING = "on_time_delivery_rate"
HOSTILE = '<script>alert("x")</script><a href="https://evil.example/">click</a><img src="http://evil.example/i.png">'


@pytest.fixture(scope="module")
def computed(tmp_path_factory: pytest.TempPathFactory, cli) -> Workspace:
    """A copy of the sample organization with its KPIs computed, and a change-log entry about win rate."""
    root = tmp_path_factory.mktemp("passport") / "org"
    for args in (("init", root, "--sample"), ("compute", "-w", root)):
        code, _, err = cli(*args)
        assert code == 0, err
    before = load_framework(root)
    role = root / "roles" / "account_executive.yaml"
    data = yaml.safe_load(role.read_text())
    data["kpis"] = [{**k, "weight": k["weight"] + 5} if k["kpi"] == "win_rate" else
                    {**k, "weight": k["weight"] - 5} if k["kpi"] == "quota_attainment" else k for k in data["kpis"]]
    role.write_text(yaml.safe_dump(data, sort_keys=False))
    lines = changes_in_words(diff_frameworks(before, load_framework(root)), load_framework(root))
    record_change(root, ChangeEntry(version="2024.2", date="2024-07-01", why="More weight on winning", changes=lines))
    return open_workspace(root)


@pytest.fixture(scope="module")
def sources(computed: Workspace) -> PassportSources:
    return gather(computed)


@pytest.fixture(scope="module")
def passports(sources: PassportSources) -> dict[str, Passport]:
    return {k.id: passport(sources, k.id) for k in sources.framework.kpis}


def _text(page: str) -> str:
    """A page's visible text, tags gone and entities read, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_every_kpi_s_definition_fields_come_from_the_framework(computed: Workspace, passports: dict[str, Passport]):
    framework = computed.framework
    assert set(passports) == {k.id for k in framework.kpis}
    for kpi in framework.kpis:
        shown = passports[kpi.id]
        objectives = {framework.objective(o).title for a in framework.assignments if a.kpi.kpi == kpi.id
                      for o in a.kpi.objectives}
        assert (shown.name, shown.purpose, shown.formula) == (kpi.name, kpi.description, kpi.formula), kpi.id
        assert shown.owner == (kpi.owner or NO_OWNER)
        unit, frequency = framework.unit_of(kpi), framework.frequency_of(kpi).value.replace("_", "-")
        assert shown.unit in (unit, f"{unit} (the framework's currency)"), kpi.id
        assert shown.frequency in (frequency, f"{frequency} (the framework's review cycle)"), kpi.id
        assert shown.polarity == POLARITY_WORDS[kpi.polarity]
        assert {o.title for o in shown.objectives} == objectives
        assert shown.measure == (describe_measure(kpi.measure) if kpi.measure else NO_MEASURE)
        assert kpi.name in shown.question
        assert [(r.role, r.weight) for r in shown.roles] == [
            (framework.role(a.role).title, a.kpi.weight) for a in framework.assignments if a.kpi.kpi == kpi.id]


def test_money_is_shown_in_the_framework_s_currency(computed: Workspace, passports: dict[str, Passport]):
    currency = computed.framework.metadata.currency
    revenue = passports["new_business_revenue"]
    assert currency and revenue.unit.startswith(currency)
    target = next(a.kpi.target for a in computed.framework.assignments if a.kpi.kpi == "new_business_revenue")
    assert f"target {target:,.0f}\u00a0{currency}" in revenue.roles[0].bands


def test_lineage_counts_the_store_s_values_and_their_source_rows(computed: Workspace, passports: dict[str, Passport]):
    store = computed.store()
    assert isinstance(store, DuckDBStore)
    actuals, lineage = store.read_actuals(), store.read_lineage()
    computed_kpis = [k for k in computed.framework.kpis if k.measure is not None]
    assert computed_kpis
    for kpi in computed.framework.kpis:
        shown = passports[kpi.id].lineage
        mine = lineage[lineage["kpi_id"] == kpi.id]
        assert shown.values == int((actuals["kpi_id"] == kpi.id).sum()), kpi.id
        assert (shown.computed, shown.source_rows) == (len(mine), int(mine["source_rows"].sum())), kpi.id
        assert shown.imported == shown.values - shown.computed
        assert bool(shown.computed_from) == (kpi.measure is not None)
        if kpi.measure is not None and kpi.measure.sources:
            assert all(any(name in line for line in shown.computed_from) for name in kpi.measure.sources)
            assert "today's measure" in shown.definition


def test_target_evidence_is_the_share_of_past_values_meeting_each_target(computed: Workspace,
                                                                         passports: dict[str, Passport]):
    framework, actuals = computed.framework, computed.store().read_actuals()
    history = role_history(framework, actuals, computed.employees).astype({"role": str, "kpi_id": str})
    checked = 0
    for a in framework.assignments:
        kpi = framework.kpi(a.kpi.kpi)
        values = history.loc[(history["role"] == a.role) & (history["kpi_id"] == kpi.id), "value"].to_numpy()
        p = attainment_probability(values, kpi.polarity, a.kpi.target, a.kpi.target_range)
        row = next(t for t in passports[kpi.id].targets if t.role == framework.role(a.role).title)
        assert row.current_probability == (f"{100 * p:.0f}\u00a0%" if p is not None else "no data"), (a.role, kpi.id)
        checked += p is not None
    assert checked > 50


def test_leading_evidence_and_gaming_checks_are_those_of_the_evidence_command(computed: Workspace,
                                                                              passports: dict[str, Passport]):
    framework = computed.framework
    evidence = framework_evidence(framework, computed.store().read_actuals(), computed.employees, seed=0)
    for kpi in framework.kpis:
        tested = [p for p in evidence.leads.pairs if kpi.id in (p.leading, p.lagging) and p.relation is not None]
        shown = passports[kpi.id]
        assert [(r.leading, r.lagging, r.verdict) for r in shown.leads] == [
            (framework.kpi(p.leading).name, framework.kpi(p.lagging).name, p.verdict) for p in tested], kpi.id
        signals = [f for f in evidence.gaming if f.kpi_id == kpi.id or (
            f.check == "guardrail" and framework.kpi(f.kpi_id).guardrail == kpi.id)]
        assert sum(len(g.findings) for g in shown.gaming) == len(signals), kpi.id
        assert all((g.status == SIGNAL) == bool(g.findings) for g in shown.gaming if g.status != NOT_TESTED)
    flagged = evidence.difficulty.flags
    assert len(flagged)  # the sample plants easier and harder targets
    directions = flagged.set_index(["level", "group"])["direction"]
    for change in evidence.difficulty.changes.itertuples():
        group = framework.role(change.group).title if change.level == "role" else framework.team(change.group).name
        direction = directions[(change.level, change.group)]
        assert any(group in line and direction in line for line in passports[change.kpi_id].target_flags), change


def test_the_sample_s_planted_relations_show_on_their_passports(passports: dict[str, Passport]):
    leading, lagging = (passports[k] for k in PLANTED_LEAD)
    (pair,) = [r for r in leading.leads if r.lagging == lagging.name]
    assert pair.verdict == LEADS and pair.pairing.startswith("declared")
    assert f"lead {lagging.name}" in leading.lead_summary and f"led by {leading.name}" in lagging.lead_summary
    for kpi in PLANTED_GUARDRAIL:
        (check,) = [g for g in passports[kpi].gaming if g.check.startswith("A guardrail")]
        assert check.status == SIGNAL
        assert all(passports[k].name in check.findings[0] for k in PLANTED_GUARDRAIL)
    (bunching, *_) = passports[PLANTED_BUNCHING].gaming
    assert bunching.status == SIGNAL and "role_" not in bunching.findings[0]


def test_the_change_log_s_lines_about_a_kpi_are_its_history(passports: dict[str, Passport]):
    (change,) = passports["win_rate"].changes
    assert (change.version, change.date, change.why) == ("2024.2", "2024-07-01", "More weight on winning")
    assert change.lines == ("weight of Win rate for Account Executive: 15 → 20",)
    assert passports["pipeline_coverage"].changes == ()


def test_unknown_fields_are_said_plainly(sample_workspace: Path):
    kpis = sample_workspace / "kpis.yaml"
    data = yaml.safe_load(kpis.read_text())
    data["kpis"] = [{**k, "owner": ""} if k["id"] == "quota_attainment" else k for k in data["kpis"]]
    kpis.write_text(yaml.safe_dump(data, sort_keys=False))
    page = _text(passport_html(open_workspace(sample_workspace), "quota_attainment"))
    assert NO_OWNER in page and NO_MEASURE in page


def test_without_actuals_nothing_is_tested_and_the_page_says_so(sample_workspace: Path):
    (sample_workspace / "actuals.csv").unlink()
    shown = passport(gather(open_workspace(sample_workspace)), "win_rate")
    assert (shown.lineage.values, shown.lineage.computed) == (0, 0)
    assert shown.evidence_note and shown.leads == () and all(g.status == NOT_TESTED for g in shown.gaming)
    assert [t.current_probability for t in shown.targets] == ["no data"]


def test_a_page_shows_every_field_and_loads_nothing(computed: Workspace, sources: PassportSources,
                                                    passports: dict[str, Passport]):
    page = passport_html(sources, "win_rate")
    shown, text = passports["win_rate"], _text(page)
    for value in (shown.name, shown.purpose, shown.question, shown.measure, shown.formula, shown.owner,
                  shown.lineage.data_source, *shown.outcomes, *(o.title for o in shown.objectives),
                  *(r.role for r in shown.roles), *(t.current for t in shown.targets), shown.lead_summary,
                  *(g.check for g in shown.gaming), *shown.changes[0].lines):
        assert " ".join(value.split()) in text, value
    assert 'http-equiv="Content-Security-Policy"' in page and "default-src 'none'" in page
    assert not re.search(r"<(script|link|iframe|object)\b|\b(src|href)=\"(?!data:)", page, re.IGNORECASE)
    assert min(int(px) for px in re.findall(r"font-size: (\d+)px", page)) >= 14


def test_a_hostile_kpi_name_is_text_and_never_markup(sample_workspace: Path):
    kpis = sample_workspace / "kpis.yaml"
    data = yaml.safe_load(kpis.read_text())
    data["kpis"] = [{**k, "name": HOSTILE, "description": HOSTILE, "owner": HOSTILE} if k["id"] == "win_rate" else k
                    for k in data["kpis"]]
    kpis.write_text(yaml.safe_dump(data, sort_keys=False))
    opened = gather(open_workspace(sample_workspace))
    page = passport_html(opened, "win_rate")
    assert "<script" not in page and "<a " not in page and "<img" not in page
    assert escape(HOSTILE) in page
    assert HOSTILE in _text(page)
    index = passport_pages(opened)[INDEX_FILE]
    assert "<script" not in index and escape(HOSTILE) in index


def test_the_appendix_survives_the_report_sanitizer(sources: PassportSources):
    appendix = passports_appendix_html(sources, ["win_rate", "pipeline_coverage"])
    kept = sanitize_html(appendix)
    assert not re.search(r"&lt;/?(div|h\d|table|tr|td|th|dl|dt|dd|span|p|ul|li|style|br)\b", kept)  # none escaped
    assert len(re.findall(r'<h2 class="kpi-passport-name"', kept)) == 2
    assert "Win rate" in kept and "Pipeline coverage" in kept and ".kpi-passport" in kept


def test_the_command_writes_one_passport(computed: Workspace, cli, tmp_path: Path):
    out = tmp_path / "passports" / "win_rate.html"
    code, stdout, err = cli("passport", "win_rate", "-w", computed.root, "--out", out)
    assert code == 0, err
    assert f"wrote {out}" in stdout
    assert "Win rate" in _text(out.read_text())


def test_the_command_writes_every_passport_and_an_index(computed: Workspace, cli, tmp_path: Path):
    out = tmp_path / "all"
    out.mkdir()
    (out / passport_file("gone_kpi")).write_text("old")
    code, _, err = cli("passport", "--all", "-w", computed.root, "--out", out)
    assert code == 0, err
    ids = [k.id for k in computed.framework.kpis]
    assert sorted(p.name for p in out.iterdir()) == sorted([INDEX_FILE, *map(passport_file, ids)])
    index = (out / INDEX_FILE).read_text()
    assert set(re.findall(r'href="([^"]+)"', index)) == set(map(passport_file, ids))


@pytest.mark.parametrize(("args", "message"), [
    (("win_rat",), "unknown KPI 'win_rat' (not defined in kpis.yaml); did you mean win_rate"),
    ((), "give either a KPI id or --all"),
    (("win_rate", "--all"), "give either a KPI id or --all"),
])
def test_the_command_refuses_what_it_cannot_do(computed: Workspace, cli, tmp_path: Path, args, message):
    code, _, err = cli("passport", *args, "-w", computed.root, "--out", tmp_path / "p.html")
    assert code == 2
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "p.html").exists()


def test_the_command_checks_its_output_before_writing(computed: Workspace, cli, tmp_path: Path):
    a_file = tmp_path / "taken.html"
    a_file.write_text("mine")
    cases = [(("win_rate", "--out", tmp_path), "is a folder"),
             (("win_rate", "--out", tmp_path / "p.txt"), "names an HTML file"),
             (("win_rate", "--out", a_file / "p.html"), "is a file, not a folder"),
             (("--all", "--out", a_file), "is a file; with --all")]
    for args, message in cases:
        code, _, err = cli("passport", *args, "-w", computed.root)
        assert code == 2 and message in err, (args, err)
    assert a_file.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == ["taken.html"]


def test_pdf_without_chromium_fails_before_writing(computed: Workspace, cli, tmp_path: Path):
    out = tmp_path / "win_rate.html"
    code, _, err = cli("passport", "win_rate", "-w", computed.root, "--out", out, "--pdf",
                       env={"KPI_WORKBOOK_CHROMIUM": str(tmp_path / "no-chromium")})
    assert code == 2 and "cannot print PDFs" in err
    assert not out.exists()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Chromium")
def test_pdf_prints_the_passport_beside_its_page(computed: Workspace, cli, tmp_path: Path):
    out = tmp_path / "win_rate.html"
    code, stdout, err = cli("passport", "win_rate", "-w", computed.root, "--out", out, "--pdf")
    assert code == 0, err
    pdf = out.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and f"wrote {pdf}" in stdout


def test_the_gaming_checks_say_which_ran(computed: Workspace, passports: dict[str, Passport]):
    statuses = {g.status for p in passports.values() for g in p.gaming}
    assert statuses == {SIGNAL, NO_SIGNAL, NOT_TESTED}
    since, first = targets_set_in(computed.framework), computed.store().periods()[0]
    assert since == first  # the sample's targets date from its first period: nothing before them to compare with
    collapse = [p.gaming[2] for p in passports.values()]
    assert all(c.status == NOT_TESTED and f"set in {since}" in c.detail for c in collapse)
