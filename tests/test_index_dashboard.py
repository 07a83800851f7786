"""The index as a dashboard: figures per scope from the workspace, organization first, teams under their
department, each scope's printed pack linked when it exists, sortable by keyboard in a real browser under the page's
Content-Security-Policy, zero console errors."""

from __future__ import annotations

import base64
import hashlib
import re
from html import unescape
from pathlib import Path

import pytest

from kpi_workbook.analysis.review import GROUP
from kpi_workbook.analysis.scoring import roll_up, score_actuals
from kpi_workbook.batch.index import SORT_SCRIPT, write_index
from kpi_workbook.batch.records import RunResult, Status, scope_key
from kpi_workbook.workspace.opener import open_workspace

CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOKS = ["01_strategic_goals", "05_review"]
COMMERCIAL_SCORES = "tbody:has(#team-department-commercial) tr.member td:nth-child(2)"


def _independent(workspace, team: str) -> tuple[float, float, int]:
    """Score in the latest period, score in the one before, red KPI groups — from the team's own scope."""
    scope = workspace.scope(team=team)
    scores = score_actuals(scope.actuals_to_date, scope.employees, workspace.framework)
    now, before = scope.periods[-1], scope.periods[-2]
    score = roll_up(scores[scores["period"] == now], ())["score"].iloc[0]
    previous = roll_up(scores[scores["period"] == before], ())["score"].iloc[0]
    red = int((roll_up(scores[scores["period"] == now], GROUP)["status"].astype(str) == "red").sum())
    return score, previous, red


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory) -> tuple[Path, object]:
    workspace = open_workspace("sample")
    period = workspace.scope().period
    folder = tmp_path_factory.mktemp("reports") / period
    folder.mkdir()
    scopes = [workspace.scope(), workspace.scope(department="commercial"),
              *(workspace.scope(team=t.id) for t in workspace.framework.teams)]
    runs = [RunResult(team=s.team, department=s.department, team_name=s.name, notebook=nb, status=Status.OK,
                      duration=1.0, html=f"x/{nb}.html") for s in scopes for nb in NOTEBOOKS]
    runs.append(RunResult(team="", team_name=scopes[0].name, notebook="03_kpi_design", status=Status.FAILED,
                          duration=2.0, error="ValueError", message="bad <value>"))
    (folder / "pdf").mkdir()
    (folder / "pdf" / "sales.pdf").write_bytes(b"%PDF-1.4")  # only sales has a printed pack
    write_index(folder / "index.html", runs, workspace.framework.metadata.organization, period, workspace)
    return folder / "index.html", workspace


def _rows(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr id="team-([^"]+)"[^>]*>(.*?)</tr>', html, flags=re.S))


def test_every_team_shows_its_score_trend_and_red_kpis_computed_from_the_workspace(dashboard):
    path, workspace = dashboard
    rows = _rows(path.read_text())
    for team in workspace.framework.teams:
        score, previous, red = _independent(workspace, team.id)
        row = rows[team.id]
        assert f">{score:.1f}\u00a0pts</td>" in row, team.id  # every score with its unit, one decimal
        arrow = "▲" if score - previous >= 0.5 else "▼" if score - previous <= -0.5 else "►"
        change = f"{score - previous:+.1f}".replace("-", "\u2212")
        assert f"{arrow}</span> {change}\u00a0pts</td>" in row, team.id
        assert f"from {workspace.scope(team=team.id).periods[-2]} ({previous:.1f}\u00a0pts)" in row, team.id
        assert f'data-value="{red}">{red}</td>' in row, team.id


def test_the_organization_comes_first_and_failures_are_shown_escaped(dashboard):
    path, workspace = dashboard
    html = path.read_text()
    assert list(_rows(html))[0] == "organization"
    assert html.index('class="organization"') < html.index('class="scopes"')
    assert "ValueError: bad &lt;value&gt;" in html
    assert "Commercial department" in html and scope_key("", "commercial") not in re.findall(r'id="team-([^"]+)"',
                                                                                          html)


def test_the_sort_script_is_the_only_one_the_policy_allows(dashboard):
    html = dashboard[0].read_text()
    digest = base64.b64encode(hashlib.sha256(SORT_SCRIPT.encode()).digest()).decode()
    policy = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
    assert f"script-src 'sha256-{digest}'" in policy and "default-src 'none'" in policy
    assert re.findall(r"<script>(.*?)</script>", html, flags=re.S) == [SORT_SCRIPT]


@pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's Chromium")
def test_clicking_a_heading_sorts_the_scopes_in_a_browser(dashboard):
    sync_api = pytest.importorskip("playwright.sync_api")
    path, workspace = dashboard
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(path.as_uri())
        page.focus("th[data-column='1'] button")  # score, lowest first, by keyboard
        page.keyboard.press("Enter")
        values = "cells => cells.map(c => c.dataset.value)"
        ascending = page.eval_on_selector_all("tr.member td:nth-child(2)", values)
        within_up = page.eval_on_selector_all(COMMERCIAL_SCORES, values)
        sort = page.get_attribute("th[data-column='1']", "aria-sort")
        page.click("th[data-column='1'] button")
        within_down = page.eval_on_selector_all(COMMERCIAL_SCORES, values)
        first = page.eval_on_selector("tbody tr", "row => row.id")
        wide = page.evaluate("document.documentElement.scrollWidth")
        commercial = page.eval_on_selector_all("tbody:has(#team-department-commercial) tr",
                                               "rows => rows.map(r => r.id)")
        browser.close()
    commercial_teams = ["sales", "marketing"]
    assert commercial[0] == "team-department-commercial" and sorted(commercial[1:]) == [
        f"team-{t}" for t in sorted(commercial_teams)], "the department's teams in its group, sorted within it"
    within = [float(v) for v in within_up]
    assert within == sorted(within) and len(within) == 2 and sort == "ascending"
    assert len(ascending) == len(workspace.framework.teams), "every team under its department"
    assert [float(v) for v in within_down] == sorted(within, reverse=True)
    assert first == "team-organization", "the organization stays on top"
    assert errors == [], "no console error (a script the policy blocks would log one)"
    assert wide <= 1280


def test_each_scope_links_its_printed_pack_when_there_is_one(dashboard):
    rows = _rows(dashboard[0].read_text())
    assert '<a href="pdf/sales.pdf">PDF</a>' in rows["sales"]
    assert "not printed" in rows["finance"] and "pdf/finance" not in rows["finance"]
