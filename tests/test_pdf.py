"""PDF packs of `kpi-workbook run --pdf` on the sample organization: A4 pages, the scope's name and score on page 1,
text that can be extracted; and a clear error without Chromium."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from kpi_workbook.analysis.scoring import roll_up, score_actuals
from kpi_workbook.reports.pdf import PACKS_FOLDER, PdfError, find_chromium, pack_order
from kpi_workbook.workspace.opener import open_workspace
from tests.sample_reports import sample_reports

pypdf = pytest.importorskip("pypdf")

A4_POINTS = (595, 842)


def _score(team: str) -> str:
    """The scope's score in its latest period, computed here from the workspace, as the summary shows it."""
    scope = open_workspace("sample").scope(team=team)
    scores = score_actuals(scope.actuals_to_date, scope.employees, scope.framework)
    return f"{roll_up(scores[scores['period'] == scope.period], ())['score'].iloc[0]:.1f}"


@pytest.fixture(scope="module")
def packs(tmp_path_factory) -> Path:
    return sample_reports(tmp_path_factory) / PACKS_FOLDER


@pytest.mark.parametrize(("pack", "team", "name"), [("sales", "sales", "Sales (sales)"),
                                                    ("finance", "finance", "Finance (finance)"),
                                                    ("organization", "", "(whole organization)")])
def test_a_pack_opens_with_its_name_and_score_on_a4(packs, pack, team, name):
    reader = pypdf.PdfReader(packs / f"{pack}.pdf")
    assert len(reader.pages) > 0
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == A4_POINTS
    first = unicodedata.normalize("NFKC", " ".join(reader.pages[0].extract_text().split()))  # ligatures: fi, fl
    assert name in first and f"Score {_score(team)}" in first
    assert "Step 1 · Strategic objectives" in " ".join(p.extract_text() for p in reader.pages), "all five steps"


def test_every_scope_has_a_pack_and_its_offline_html(packs):
    pdfs = sorted(p.stem for p in packs.glob("*.pdf"))
    assert len(pdfs) == 9 and "organization" in pdfs  # eight teams and the organization
    assert all((packs / f"{stem}.html").is_file() for stem in pdfs)


def test_the_review_comes_first():
    assert pack_order(["01_strategic_goals", "05_review", "03_kpi_design"]) == [
        "05_review", "01_strategic_goals", "03_kpi_design"]


def test_without_chromium_the_error_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("KPI_WORKBOOK_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(PdfError, match="not a file. Install Chromium"):
        find_chromium()
