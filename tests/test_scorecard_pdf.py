"""The review's first section and the PDF packs of a team and a department, from the sample's reports the browser
tests read too (tests/sample_reports.py, one run per test run): every table
cell of a pack's HTML is in its PDF's text (nothing cut at the page edge), every page says "page N of M", the
headings are the PDF's outline, no link points to a local file, and the review's table of actuals against targets
holds, for every role KPI with data, the actual, target and gap computed here from the store and the role files."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from sample_reports import CHROMIUM, DEPARTMENT, sample_reports

from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.reports.pdf import PACKS_FOLDER
from kpi_workbook.reports.scorecard import TREND_HEADING
from kpi_workbook.workspace.opener import open_workspace

pypdf = pytest.importorskip("pypdf")

TEAM = "customer_support"
DEPARTMENT_FOLDER = f"_department-{DEPARTMENT}"  # its teams: sales and marketing
NUMBER = re.compile(r"[−+-]?\d[\d,]*(?:\.\d+)?")
IGNORED = re.compile(r"[\s\-\u00ad\u2010\u2011¶]+")  # whitespace, hyphens a line break may add, heading anchors
KPI_COLUMNS = ["KPI", "Role", "Actual", "Actual is", "Threshold", "Target", "Stretch", "Gap to target (− short of it)",
               "Status", "Target on past values"]


class Tables(HTMLParser):
    """Every table of a page (its header cells and its rows of cells, as text) and every h1 to h3 heading."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self.headings: list[str] = []
        self._cell: list[str] | None = None
        self._heading: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in ("h1", "h2", "h3"):
            self._heading = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            headers, rows = self.tables[-1]
            (headers if tag == "th" else rows[-1]).append(text)
            self._cell = None
        elif tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append("".join(self._heading))
            self._heading = None

    def handle_data(self, data):
        for part in (self._cell, self._heading):
            if part is not None:
                part.append(data)


def _parsed(html: Path) -> Tables:
    parser = Tables()
    parser.feed(html.read_text(encoding="utf-8"))
    return parser


def _plain(text: str) -> str:
    """Text as compared between HTML and PDF: NFKC (ligatures), without whitespace, hyphens or anchors."""
    return IGNORED.sub("", unicodedata.normalize("NFKC", text))


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path, Path]:
    """The bundled sample's folder, its actuals store and the period folder of the sample's reports (four teams,
    the Commercial department and the organization, made once by `kpi-workbook run --pdf` in the test run)."""
    if not CHROMIUM.is_file() or not shutil.which("pdftotext"):
        pytest.skip("needs Chromium at /usr/bin/chromium and pdftotext")
    period_dir = sample_reports(tmp_path_factory)
    return SAMPLE_ORG_DIR, open_workspace("sample").store_path, period_dir


@pytest.fixture(scope="module")
def packs(run) -> list[Path]:
    found = [run[2] / PACKS_FOLDER / f"{stem}.pdf" for stem in (TEAM, f"department-{DEPARTMENT}")]
    assert [p.name for p in found if p.is_file()] == [f"{TEAM}.pdf", f"department-{DEPARTMENT}.pdf"]
    return found


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_every_table_cell_of_a_pack_is_in_its_pdf(packs):
    for pdf in packs:
        text = _plain(_pdf_text(pdf))
        tables = _parsed(pdf.with_suffix(".html")).tables
        cells = [c for headers, rows in tables for c in [*headers, *(c for row in rows for c in row)]]
        assert len(tables) > 20 and len(cells) > 500, pdf.name
        missing = [c for c in cells if _plain(c) not in text]
        assert missing == [], f"{pdf.name}: {len(missing)} cell(s) cut off, e.g. {missing[:3]}"


def test_every_page_is_numbered_and_the_headings_are_the_outline(packs):
    for pdf in packs:
        pages = _pdf_text(pdf).split("\f")[:-1]
        assert len(pages) > 5
        unnumbered = [n for n, page in enumerate(pages, 1) if f"page {n} of {len(pages)}" not in page]
        assert unnumbered == [], pdf.name
        outline = {_plain(entry.title) for entry in _flat(pypdf.PdfReader(pdf).outline)}
        headings = [h for h in _parsed(pdf.with_suffix(".html")).headings if _plain(h)]
        assert len(headings) > 20 and [h for h in headings if _plain(h) not in outline] == [], pdf.name


def _flat(outline: list) -> list:
    return [e for item in outline for e in (_flat(item) if isinstance(item, list) else [item])]


def test_no_link_of_a_pack_points_to_a_local_file(packs):
    for pdf in packs:
        links = [annotation.get_object().get("/A", {}).get("/URI", "") for page in pypdf.PdfReader(pdf).pages
                 for annotation in page.get("/Annots") or []]
        assert [u for u in links if str(u).startswith("file:")] == [], pdf.name


# --- the table of actuals against targets, computed here from the store and the role files -------------------


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _actuals(store_path: Path, period: str) -> pd.DataFrame:
    with duckdb.connect(str(store_path), read_only=True) as store:
        rows = store.execute("SELECT team, employee_id, kpi_id, value FROM actuals WHERE period = ?", [period]).df()
    return rows.assign(employee_id=rows["employee_id"].fillna(""))


def _expected(root: Path, store_path: Path, teams: list[str], period: str) -> dict[tuple[str, str, str], dict]:
    """(team name, role title, KPI name) → the KPI's actual (the team's own value, else the median of the role's
    people in the team), bands and polarity, for every role KPI of `teams` whose role has people there."""
    actuals = _actuals(store_path, period)
    employees = pd.read_csv(root / "employees.csv", dtype=str)
    kpis = {k["id"]: k for k in _yaml(root / "kpis.yaml")["kpis"]}
    names = {t["id"]: t["name"] for t in _yaml(root / "teams.yaml")["teams"]}
    found = {}
    for role in (_yaml(path) for path in sorted((root / "roles").glob("*.yaml"))):
        for team in set(teams) & set(role["teams"]):
            people = employees.loc[(employees["team"] == team) & (employees["role"] == role["id"]), "employee_id"]
            if people.empty:
                continue
            for assignment in role["kpis"]:
                rows = actuals[(actuals["team"] == team) & (actuals["kpi_id"] == assignment["kpi"])]
                own = rows.loc[rows["employee_id"] == "", "value"]
                values = rows.loc[rows["employee_id"].isin(people), "value"]
                actual = own.iloc[0] if len(own) else values.median() if len(values) else math.nan
                kpi = kpis[assignment["kpi"]]
                found[names[team], role["title"], kpi["name"]] = {**assignment, "actual": actual,
                                                                  "polarity": kpi["polarity"]}
    return found


def _gap(row: dict) -> float:
    """The gap to the target in the good direction (within a range: the distance outside it, negative)."""
    actual = row["actual"]
    if row["polarity"] == "within_range":
        low, high = row["target_range"]
        return actual - low if actual < low else high - actual if actual > high else 0.0
    sign = 1.0 if row["polarity"] == "higher_is_better" else -1.0
    return sign * (actual - row["target"])


def _numbers(text: str) -> list[tuple[float, int]]:
    """The numbers of a cell with their decimals shown: '−1.3 min (−13 %) short' → [(-1.3, 1), (-13.0, 0)]."""
    found = [m.replace("−", "-").replace(",", "") for m in NUMBER.findall(text)]
    return [(float(m), len(m.split(".")[1]) if "." in m else 0) for m in found]


def _shown_as(number: tuple[float, int], value: float) -> bool:
    """Whether a number shown with its decimals is `value` rounded to them."""
    shown, places = number
    return abs(shown - value) <= 0.5 * 10 ** -places + 1e-9


def _check_row(cells: dict[str, str], row: dict) -> None:
    """The table's cells of one KPI against the figures computed here."""
    assert _shown_as(_numbers(cells["Actual"])[0], row["actual"]), cells
    gap, text = _gap(row), cells["Gap to target (− short of it)"]
    if row["polarity"] == "within_range":
        assert [n for n, _ in _numbers(cells["Target"])] == [float(v) for v in row["target_range"]], cells
        if gap == 0:
            assert text == "in range", cells
        else:
            assert _shown_as(_numbers(text)[0], gap) and text.endswith(("below range", "above range")), cells
        return
    assert _numbers(cells["Target"])[0][0] == pytest.approx(row["target"]), cells
    if text == "on target":
        assert _shown_as((0.0, _numbers(cells["Actual"])[0][1]), gap), cells
        return
    (shown, places), share = _numbers(text)
    assert _shown_as((shown, places), gap) and text.endswith("short" if shown < 0 else "ahead"), cells
    assert _shown_as(share, 100 * gap / abs(row["target"])), cells


@pytest.mark.parametrize(("folder", "teams"), [(TEAM, [TEAM]), (DEPARTMENT_FOLDER, ["sales", "marketing"])])
def test_the_review_shows_each_role_kpis_actual_target_and_gap(run, folder, teams):
    root, store_path, period_dir = run
    own_team = next(t["name"] for t in _yaml(root / "teams.yaml")["teams"] if t["id"] == TEAM)
    tables = [t for t in _parsed(period_dir / folder / "05_review.html").tables if "Actual is" in t[0]]
    assert tables, "a table of actuals against targets"
    shown = {}
    for headers, rows in tables:
        assert [h for h in headers if h != TREND_HEADING][-len(KPI_COLUMNS):] == KPI_COLUMNS
        assert (TREND_HEADING in headers) == ("Team" not in headers)  # a team's table shows each KPI's trend
        for cells in (dict(zip(headers, r, strict=True)) for r in rows if r):
            team = cells.get("Team", own_team)
            shown[team, cells["Role"], cells["KPI"]] = cells
    expected = _expected(root, store_path, teams, period_dir.name)
    assert set(shown) == set(expected)
    with_data = {key: row for key, row in expected.items() if not math.isnan(row["actual"])}
    assert len(expected) > 10 and len(with_data) >= len(expected) - 1, "every KPI but one has data"
    for key, row in with_data.items():
        assert "—" not in (shown[key]["Actual"], shown[key]["Target"], shown[key]["Gap to target (− short of it)"])
        _check_row(shown[key], row)


# --- the order of the review and the unit of scores ---------------------------------------------------------------

INTRODUCTION = "After what a manager acts on"  # the first words of step 5's introduction, below the summary
SCORE_CELL = re.compile(r"^(\d[\d,]*\.\d pts|—)$")  # one decimal and the unit, or a dash without a score


def _text_of(html: Path) -> str:
    """A page's visible text in order (no style or script), whitespace as single spaces."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", html.read_text(encoding="utf-8"), flags=re.DOTALL)
    return " ".join(unicodedata.normalize("NFKC", re.sub(r"<[^>]+>", " ", page)).split())


@pytest.mark.parametrize("folder", [TEAM, DEPARTMENT_FOLDER])
def test_the_review_opens_with_its_summary_and_tests_the_framework_before_the_appendices(run, folder):
    html = run[2] / folder / "05_review.html"
    text = _text_of(html)
    main = text[text.index("Step 5 · Review Summary ·"):]  # the heading, then at once the summary box
    order = ["Summary ·", "What needs attention", INTRODUCTION, "Scope:", "Flags and recommendations",
             "Is the framework working?", "Do the leading KPIs lead?", "Are targets equally hard?", "Signs of gaming",
             "Appendix: where the numbers come from", "Appendix: is the framework working?"]
    positions = [main.index(part) for part in order]
    assert positions == sorted(positions), dict(zip(order, positions, strict=True))


@pytest.mark.parametrize("pack", ["customer_support", "department-commercial"])
def test_page_one_of_a_pack_is_the_summary_and_the_introduction_follows_it(packs, pack):
    text = _pdf_text(next(p for p in packs if p.stem == pack))
    first = " ".join(unicodedata.normalize("NFKC", text.split("\f")[0]).split())
    assert "Step 5 · Review" in first and "Summary ·" in first and INTRODUCTION not in first
    assert re.search(r"Score \d+\.\d pts", first), "the score with its unit"
    whole = " ".join(unicodedata.normalize("NFKC", text).split())
    assert whole.index("Summary ·") < whole.index(INTRODUCTION) < whole.index("Is the framework working?")


@pytest.mark.parametrize("folder", [TEAM, DEPARTMENT_FOLDER])
def test_every_score_a_review_shows_has_one_decimal_and_its_unit(run, folder):
    tables = _parsed(run[2] / folder / "05_review.html").tables
    scores = [row[headers.index(h)] for headers, rows in tables for h in ("Score", "Median score") if h in headers
              for row in rows if len(row) == len(headers)]
    assert len(scores) >= 3 and [s for s in scores if not SCORE_CELL.match(s)] == []
    text = _text_of(run[2] / folder / "05_review.html")
    change = re.search(r"Score (\d+\.\d) pts .{0,40}?([▲▼►]) ([−+]\d+\.\d) pts from (\d{4}Q\d) \((\d+\.\d) pts\)", text)
    assert change, "the summary's score, change and previous score in points"
    score, _, moved, _, before = change.groups()
    assert float(moved.replace("−", "-")) == pytest.approx(float(score) - float(before), abs=0.11)
