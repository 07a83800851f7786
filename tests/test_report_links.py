"""Links between reports only point to reports a run made: a real `kpi-workbook run` of the review alone (with its
PDF pack) leaves no link to the steps it did not run, every href of every page it wrote (the reports, the pack's
page, the index) resolves to a file or to an anchor of the page; a later run of step 1 turns the links between the
two on, in both directions; and a link a page marks is shown again as soon as its file exists. The same run asks
for the KPI passports (`--passports`): the pack closes with those of the team's KPIs, and no others."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from kpi_workbook.reports.links import link_item, relink_page, relink_reports
from kpi_workbook.workspace.opener import open_workspace

CHROMIUM = Path("/usr/bin/chromium")
TEAM = "finance"


class Refs(HTMLParser):
    """Every href of a page, whether its element is hidden (an ancestor with `hidden`), and every id."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[tuple[str, bool]] = []
        self.ids: set[str] = set()
        self._hidden: list[bool] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if "id" in found:
            self.ids.add(found["id"])
        hidden = "hidden" in found or any(self._hidden)
        if tag not in ("br", "img", "meta", "link", "wbr", "input", "hr", "col"):
            self._hidden.append("hidden" in found)
        if found.get("href"):
            self.hrefs.append((found["href"], hidden))

    def handle_endtag(self, tag):
        if self._hidden and tag not in ("br", "img", "meta", "link", "wbr", "input", "hr", "col"):
            self._hidden.pop()


def _refs(page: Path) -> Refs:
    parser = Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _broken(period_dir: Path) -> list[tuple[str, str]]:
    """Every (page, href) of the period folder's HTML pages that resolves neither to a file nor to an id of the
    page (nbconvert writes a heading's id percent-encoded, as its contents list links it)."""
    broken = []
    for page in sorted(period_dir.rglob("*.html")):
        refs = _refs(page)
        for href, _ in refs.hrefs:
            anchor = href.startswith("#")
            found = {href[1:], unquote(href[1:])} & refs.ids  # a fragment matches an id as written or decoded
            if (anchor and not found) or (not anchor and not (page.parent / href).is_file()):
                broken.append((str(page.relative_to(period_dir)), href))
    return broken


def _step_links(page: Path) -> list[str]:
    """The links of a page to other reports (not to its own anchors), shown ones only."""
    return sorted(href for href, hidden in _refs(page).hrefs if not hidden and not href.startswith("#"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cli) -> Path:
    """A copy of the sample and the period folder of a run of step 5 only (with its PDF pack) for one team."""
    if not CHROMIUM.is_file():
        pytest.skip("needs Chromium at /usr/bin/chromium")
    root = tmp_path_factory.mktemp("links") / "sample_org"
    code, _, stderr = cli("init", root, "--sample")
    assert code == 0, stderr
    open_workspace(root).store()
    out = root.parent / "reports"
    code, _, stderr = cli("run", "-w", root, "--team", TEAM, "--notebooks", "05", "--pdf", "--passports",
                          "--out", out, "--no-progress", timeout=600)
    assert code == 0, stderr
    return root, next(p for p in out.iterdir() if p.is_dir())


def test_a_run_of_some_steps_links_only_to_files_it_made(runs):
    _, period_dir = runs
    pages = sorted(p.relative_to(period_dir).as_posix() for p in period_dir.rglob("*.html"))
    assert pages == [f"{TEAM}/05_review.html", "index.html", f"pdf/{TEAM}.html"]
    assert _broken(period_dir) == []
    assert _step_links(period_dir / TEAM / "05_review.html") == ["../index.html"]
    assert _step_links(period_dir / "pdf" / f"{TEAM}.html") == [f"../{TEAM}/05_review.html", "../index.html"]


def test_a_later_run_of_another_step_links_both_ways(runs, cli):
    root, period_dir = runs
    code, _, stderr = cli("run", "-w", root, "--team", TEAM, "--notebooks", "01", "--out", period_dir.parent,
                          "--no-progress", timeout=600)
    assert code == 0, stderr
    assert _broken(period_dir) == []
    assert _step_links(period_dir / TEAM / "05_review.html") == ["../index.html", "01_strategic_goals.html"]
    assert _step_links(period_dir / TEAM / "01_strategic_goals.html") == ["../index.html", "05_review.html"]


def test_a_marked_link_is_hidden_without_its_file_and_shown_with_it(tmp_path):
    page = tmp_path / "scope" / "05_review.html"
    page.parent.mkdir()
    header = link_item("../index.html", "All <reports>") + link_item("01_strategic_goals.html", "Step 1")
    page.write_text(f"<html><body><header><ol>{header}</ol></header><main>"
                    f"{link_item('01_strategic_goals.html', 'not in the header')}</main></body></html>")
    assert relink_reports([page, tmp_path / "missing.html"]) == 1
    assert _step_links(page) == ["01_strategic_goals.html"], "after the header, nothing is touched"
    assert "All &lt;reports&gt;" in page.read_text(), "the label stays escaped"
    (tmp_path / "index.html").write_text("")
    shutil.copy(page, page.with_name("01_strategic_goals.html"))
    assert relink_page(page)
    assert _step_links(page) == ["../index.html", "01_strategic_goals.html", "01_strategic_goals.html"]
    assert not relink_page(page), "nothing to change the second time"


def test_the_pack_closes_with_the_passports_of_the_teams_kpis_only(runs):
    root, period_dir = runs
    framework = open_workspace(root).framework
    mine = {a.kpi for role in framework.roles if TEAM in role.teams for a in role.kpis}
    assert mine, "the team's roles hold KPIs"
    page = (period_dir / "pdf" / f"{TEAM}.html").read_text(encoding="utf-8")
    assert page.count('id="kpi-passports"') == 1 and 'href="#kpi-passports"' in page  # in the contents, too
    assert set(re.findall(r'id="passport-([a-z0-9_]+)"', page)) == mine
    text = subprocess.run(["pdftotext", "-layout", period_dir / "pdf" / f"{TEAM}.pdf", "-"], capture_output=True,
                          text=True, check=True).stdout
    appendix = text[text.index("Appendix: KPI passports"):]
    assert all(framework.kpi(kpi).name in appendix for kpi in mine)


def test_passports_without_a_pdf_are_refused(cli, tmp_path):
    code, _, stderr = cli("run", "-w", "sample", "--team", TEAM, "--passports", "--out", tmp_path / "out")
    assert code == 2 and "--passports closes the PDF packs: give it with --pdf" in stderr
    assert not (tmp_path / "out").exists()
