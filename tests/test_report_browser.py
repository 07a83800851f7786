"""Every report of a run on the sample organization (tests/sample_reports.py: three teams, a department, the
organization) in headless Chromium, as a manager sees it: complete tables without an
index column or cut-off text, nothing wider than the page at 1280 px, no workshop text, command, file name or
scientific notation (report mode), a text alternative on every chart, no link from content, body text of at least
14 px, no network request, no console error; the index with each team under its department and every pack linked;
screenshots of two teams' summaries and of the first screen of two teams, a department and the organization for a
person to look at ($KPI_WORKBOOK_SCREENSHOTS keeps them). And the PDF packs of the same run (one run of the sample
serves both, in one test worker), with page 1 of each photographed by pdftoppm."""

from __future__ import annotations

import os
import re
import subprocess
import unicodedata
from pathlib import Path

import pytest
from sample_reports import CHROMIUM, DEPARTMENT, TEAMS, sample_reports

from kpi_workbook.analysis.scoring import roll_up, score_actuals
from kpi_workbook.batch.records import ORGANIZATION_FOLDER
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.reports.pdf import PACKS_FOLDER, PdfError, find_chromium, pack_order
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import load_framework
from kpi_workbook.workspace.opener import open_workspace
from kpi_workbook.workspace.scope import departments

sync_api = pytest.importorskip("playwright.sync_api")
pypdf = pytest.importorskip("pypdf")

WIDTH = 1280
SCREENSHOTS_ENV = "KPI_WORKBOOK_SCREENSHOTS"
SUMMARY_TEAMS = ("sales", "finance")
FIRST_SCREENS = (*SUMMARY_TEAMS, f"_department-{DEPARTMENT}", ORGANIZATION_FOLDER)  # photographed as opened
ELLIPSIS = re.compile(r"(…|\.\.\.)$")
# What a report leaves to the workshop: teaching text, live forms, commands, notebook files, the workspace folder,
# code-like formulas and backticks
WORKSHOP_TEXT = ("How to use", "(live)", "Why it matters", "What good looks like", "Common mistakes", "Good reviews",
                 "go to step", "live form", "kpi-workbook", "papermill", ".ipynb", "Workspace:", "sources.yaml",
                 "employees.csv", " == ", " != ", "`")
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")
CHART_ALT = re.compile(r"^(Bar|Line) charts? .{20,}|^Strategy map\b.{20,}")
SMALLEST_TEXT = 14.0
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run"]

# What one page shows: every table cell's text, the tables with a header cell in their body (an index column),
# the visible elements reaching past the window's right edge, and the page's text.
INSPECT = """() => {
  const tables = Array.from(document.querySelectorAll('.jp-OutputArea-output table'));
  const cells = tables.flatMap(t => Array.from(t.querySelectorAll('td, th')).map(c => c.innerText.trim()));
  const indexed = tables.filter(t => t.querySelector('tbody th')).length;
  const wide = Array.from(document.querySelectorAll('body *'))
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .map(e => e.tagName + '.' + e.className).slice(0, 5);
  const charts = Array.from(document.querySelectorAll('main img, main svg'))
    .filter(e => !e.parentElement.closest('svg'))
    .map(e => e.tagName === 'IMG' ? e.alt : (e.getAttribute('aria-label') || ''));
  const links = Array.from(document.querySelectorAll('main a')).filter(a => !a.closest('.kpi-report-header'))
    .map(a => a.outerHTML.slice(0, 80));
  const small = Array.from(document.querySelectorAll('main :is(p, li, td, th), .kpi-report-header'))
    .filter(e => e.innerText.trim() && parseFloat(getComputedStyle(e).fontSize) < SMALLEST)
    .map(e => e.tagName + ' ' + getComputedStyle(e).fontSize + ' ' + e.innerText.slice(0, 30)).slice(0, 5);
  const header = document.querySelector('.kpi-report-header');  // its contents list repeats the headings
  const text = document.body.innerText.replace(header ? header.innerText : '', '');
  return {cells, indexed, wide, charts, links, small, tables: tables.length, text};
}""".replace("SMALLEST", str(SMALLEST_TEXT))


# The index: each group's head row and its teams' rows, the PDF links, the sort order of the first heading, and
# what is wider than the window.
INDEX = """() => {
  const groups = {};
  document.querySelectorAll('tbody.scopes').forEach(body => {
    const head = body.querySelector('tr.head');
    groups[head ? head.id.replace('team-', '') : ''] = Array.from(body.querySelectorAll('tr.member'))
      .map(r => r.id.replace('team-', ''));
  });
  const pdfs = Array.from(document.querySelectorAll('a[href$=".pdf"]')).map(a => a.getAttribute('href'));
  const sorted = document.querySelector('th[data-column="0"]').getAttribute('aria-sort');
  const wide = Array.from(document.querySelectorAll('body *'))
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName).slice(0, 5);
  return {groups, pdfs, sorted, wide};
}"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, dict]:
    """Every report page of the run, inspected in one browser: folder/notebook → what INSPECT found, plus the
    requests and console errors of the page; screenshots of the summaries of SUMMARY_TEAMS."""
    period_dir = sample_reports(tmp_path_factory)
    shots = tmp_path_factory.mktemp("screenshots")
    keep = Path(os.environ[SCREENSHOTS_ENV]) if os.environ.get(SCREENSHOTS_ENV) else None
    found: dict[str, dict] = {}
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        requests: list[str] = []
        errors: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        for html in sorted(period_dir.glob("*/0*.html")):
            requests.clear()
            errors.clear()
            page.goto(html.as_uri(), wait_until="load")
            key = f"{html.parent.name}/{html.stem}"
            found[key] = {**page.evaluate(INSPECT), "url": html.as_uri(), "requests": list(requests),
                          "errors": list(errors)}
            for folder in filter(None, (shots, keep)) if html.stem == "05_review" else ():
                folder.mkdir(parents=True, exist_ok=True)
                if html.parent.name in FIRST_SCREENS:
                    page.screenshot(path=str(folder / f"{html.parent.name.lstrip('_')}_first_screen.png"))
                if html.parent.name in SUMMARY_TEAMS:
                    page.locator(".kpi-summary").screenshot(path=str(folder / f"{html.parent.name}_summary.png"))
        requests.clear()
        errors.clear()
        index = period_dir / "index.html"
        page.goto(index.as_uri(), wait_until="load")
        page.keyboard.press("Tab")  # the first heading's button, by keyboard: sorts by scope name
        page.keyboard.press("Enter")
        found["index"] = {**page.evaluate(INDEX), "url": index.as_uri(), "requests": list(requests),
                          "errors": list(errors), "period_dir": period_dir}
        for folder in filter(None, (shots, keep)):
            page.screenshot(path=str(folder / "index.png"), full_page=True)
        browser.close()
    found["screenshots"] = {"folder": shots}
    return found


def _reports(pages: dict) -> dict[str, dict]:
    return {k: v for k, v in pages.items() if k not in ("screenshots", "index")}


def test_every_team_the_department_and_the_organization_has_five_reports(pages):
    folders = {key.split("/")[0] for key in _reports(pages)}
    assert folders == {ORGANIZATION_FOLDER, f"_department-{DEPARTMENT}", *TEAMS}
    assert len(_reports(pages)) == 5 * len(folders)


def test_no_cut_off_text_no_index_column_no_row_count_of_pandas(pages):
    for key, page in _reports(pages).items():
        assert page["tables"] > 0, key
        assert [c for c in page["cells"] if ELLIPSIS.search(c)] == [], f"{key}: text cut off"
        assert page["indexed"] == 0, f"{key}: a table with an index column"
        assert not re.search(r"\d+ rows × \d+ columns", page["text"]), key


def test_nothing_is_wider_than_the_page(pages):
    for key, page in _reports(pages).items():
        assert page["wide"] == [], f"{key}: wider than {WIDTH} px"


def test_report_mode_leaves_workshop_text_and_key_figure_lines_out(pages):
    for key, page in _reports(pages).items():
        assert [t for t in WORKSHOP_TEXT if t in page["text"]] == [], key
        assert "Key figures —" not in page["text"], key
        assert SCIENTIFIC.findall(page["text"]) == [], f"{key}: a number in scientific notation"


def test_every_chart_says_what_it_shows(pages):
    for key, page in _reports(pages).items():
        assert [alt for alt in page["charts"] if not CHART_ALT.match(alt)] == [], key
    review = pages["sales/05_review"]["charts"]
    assert any(alt.startswith("Line chart Weighted score by period") for alt in review)


def test_no_link_comes_from_content_and_body_text_is_at_least_14_px(pages):
    for key, page in _reports(pages).items():
        assert page["links"] == [], f"{key}: a link inside the report's content"
        assert page["small"] == [], f"{key}: text smaller than {SMALLEST_TEXT} px"


def test_the_index_groups_teams_under_departments_and_links_every_pack(pages):
    framework = load_framework(SAMPLE_ORG_DIR)
    index = pages["index"]
    expected = {f"department-{d}": [t for t in teams if t in TEAMS] for d, (_, teams) in departments(framework).items()
                if set(teams) & set(TEAMS)}  # the teams of the run, under their departments
    assert {head: sorted(members) for head, members in index["groups"].items() if head} == {
        head: sorted(members) for head, members in expected.items()}
    packs = sorted(p.stem for p in (index["period_dir"] / PACKS_FOLDER).glob("*.pdf"))
    assert sorted(index["pdfs"]) == sorted(f"{PACKS_FOLDER}/{stem}.pdf" for stem in packs)
    assert len(packs) == len(TEAMS) + 2
    assert index["sorted"] == "ascending", "the first heading's button sorts by keyboard"
    assert [u for u in index["requests"] if u != index["url"]] == [] and index["errors"] == []
    assert index["wide"] == []


def test_offline_and_without_console_errors(pages):
    for key, page in _reports(pages).items():
        assert [u for u in page["requests"] if not u.startswith("data:") and u != page["url"]] == [], key
        assert page["errors"] == [], key


def test_every_role_kpi_of_the_scope_is_in_its_review_and_no_persons_score_without_people(pages):
    framework = load_framework(SAMPLE_ORG_DIR)
    employees = load_employees(SAMPLE_ORG_DIR, framework)
    kpi_names = {k.id: k.name for k in framework.kpis}
    for team in [*(t for t in framework.teams if t.id in TEAMS), None]:
        folder = team.id if team else ORGANIZATION_FOLDER
        text = pages[f"{folder}/05_review"]["text"]
        people = employees if team is None else employees[employees["team"] == team.id]
        section = text[text.index("Scorecards per person"):text.index("Flags and recommendations")]
        assert "Each person's score is left out of this report" in section, folder
        assert [e for e in people["employee_id"] if e in section] == [], f"{folder}: a person's score"
        roles = [r for r in framework.roles if team is None or team.id in r.teams]
        assert [a.kpi for r in roles for a in r.kpis if kpi_names[a.kpi] not in text] == [], folder


def test_the_summary_opens_the_review_and_is_photographed(pages):
    for key, page in _reports(pages).items():
        if key.endswith("05_review"):
            text = page["text"]
            assert text.index("Summary ·") < text.index("What needs attention") < text.index("How a period is scored")
            assert re.search(r"Score \d+\.\d", text) and "Data quality" in text, key
    shots = pages["screenshots"]["folder"]
    for team in SUMMARY_TEAMS:
        assert (shots / f"{team}_summary.png").stat().st_size > 10_000


# --- the PDF packs of the same run (one run of the sample serves both) ---------------------------------------


A4_POINTS = (595, 842)


def _score(team: str) -> str:
    """The scope's score in its latest period, computed here from the workspace, as the summary shows it."""
    scope = open_workspace("sample").scope(team=team)
    scores = score_actuals(scope.actuals_to_date, scope.employees, scope.framework)
    return f"{roll_up(scores[scores['period'] == scope.period], ())['score'].iloc[0]:.1f}"


@pytest.fixture(scope="module")
def packs(tmp_path_factory) -> Path:
    return sample_reports(tmp_path_factory) / PACKS_FOLDER


@pytest.mark.parametrize(("pack", "team", "name"), [("sales", "sales", "Sales"),
                                                    ("finance", "finance", "Finance"),
                                                    ("organization", "", "(whole organization)")])
def test_a_pack_opens_with_its_name_and_score_on_a4(packs, pack, team, name):
    reader = pypdf.PdfReader(packs / f"{pack}.pdf")
    assert len(reader.pages) > 0
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == A4_POINTS
    first = unicodedata.normalize("NFKC", " ".join(reader.pages[0].extract_text().split()))  # ligatures: fi, fl
    assert name in first and f"Score {_score(team)}" in first
    every_page = subprocess.run(["pdftotext", str(packs / f"{pack}.pdf"), "-"], capture_output=True, text=True,
                                check=True, timeout=60).stdout  # poppler: seconds faster than pypdf on 70 pages
    assert "Step 1 · Strategic objectives" in " ".join(every_page.split()), "all five steps"


def test_every_scope_has_a_pack_and_its_offline_html(packs):
    pdfs = sorted(p.stem for p in packs.glob("*.pdf"))
    assert len(pdfs) == len(TEAMS) + 2 and "organization" in pdfs  # the teams, a department and the organization
    assert all((packs / f"{stem}.html").is_file() for stem in pdfs)


# Elements that print as a scroll box with a scroll bar: an output area runs over pages as a scroll box, and a bar's
# width cuts off the last column of the tables in it.
SCROLL_BARS = """() => Array.from(document.querySelectorAll('body, body *')).filter(e => {
  const style = getComputedStyle(e);
  return [style.overflowX, style.overflowY].some(v => ['auto', 'scroll', 'overlay'].includes(v))
    && style.scrollbarWidth !== 'none';
}).map(e => e.tagName + '.' + e.className).slice(0, 5)"""
A4_CONTENT_PX = 718  # A4 less the packs' 10 mm side margins, at 96 px per inch


def test_a_printed_pack_shows_no_scroll_bar(packs):
    found = {}
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": A4_CONTENT_PX, "height": 1000})
        page.emulate_media(media="print")
        for html in sorted(packs.glob("*.html")):
            page.goto(html.as_uri(), wait_until="load")
            found[html.stem] = page.evaluate(SCROLL_BARS)
        browser.close()
    assert len(found) == len(TEAMS) + 2 and found == {stem: [] for stem in found}


def test_the_review_comes_first():
    assert pack_order(["01_strategic_goals", "05_review", "03_kpi_design"]) == [
        "05_review", "01_strategic_goals", "03_kpi_design"]


def test_without_chromium_the_error_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("KPI_WORKBOOK_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(PdfError, match="not a file. Install Chromium"):
        find_chromium()


def test_page_one_of_each_pack_is_photographed(packs, pages):
    keep = os.environ.get(SCREENSHOTS_ENV)
    shots = pages["screenshots"]["folder"]
    for pack in ("sales", "finance", f"department-{DEPARTMENT}", "organization"):
        for folder in filter(None, (shots, Path(keep) if keep else None)):
            subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                            str(packs / f"{pack}.pdf"), str(folder / f"{pack}_pdf_page1")], check=True, timeout=60)
        assert (shots / f"{pack}_pdf_page1.png").stat().st_size > 10_000
