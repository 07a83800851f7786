"""Step 3 of the workshop app in a real browser (tests/workshop_browser.py): its forms agree after an add and a
discard, its table follows a save, and step 4 flags a target below its threshold.

Screenshots of steps 3 and 4 as a projector shows them (1280×800 and 1920×1080) go to $WORKSHOP_SCREENSHOTS when it
is set (else to the test's temporary folder)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from workshop_browser import CHROMIUM, _choose, _field, _labels, _no_python_wording, _open, _screens, _weights_rows

pytest.importorskip("playwright.sync_api")
pytest.importorskip("voila")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


def test_step_3_forms_agree_after_add_and_discard_and_its_table_follows_a_save(workshop_app, page, tmp_path):
    folder = Path(os.environ.get("WORKSHOP_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    _open(page, workshop_app, "03_kpi_design.ipynb")
    _choose(_field(page, "dropdown", "Role"), "Account Executive")
    page.wait_for_timeout(800)
    assert len(_weights_rows(page)) == 6 and "Total: 100 / 100 — complete" in page.locator("body").inner_text()
    _field(page, "text", "Search").fill("expansion")
    page.wait_for_timeout(800)
    library = _field(page, "select", "Library")
    library.select_option(index=next(i for i, name in enumerate(_labels(library)) if "Expansion revenue" in name))
    page.locator(".widget-text", has=page.locator("label", has_text=re.compile("^Weight$"))).locator("input").fill("10")
    page.get_by_role("button", name="Add KPI to role", exact=True).click()
    page.wait_for_selector("text=Total: 110 / 100 — remove 10", timeout=20_000)  # the weights form follows the add
    assert len(_weights_rows(page)) == 7 and any("Expansion revenue" in row for row in _weights_rows(page))
    live = page.locator(".jp-OutputArea-output", has_text="Each role's KPIs, as saved").first
    assert "Expansion revenue" not in live.inner_text()  # the table shows what is saved, not what is typed
    shots = _screens(page, folder, "step3_added", ["text=Find KPIs in the library", "text=The role's KPIs"])
    _no_python_wording(page)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Discard changes", exact=True).click()
    page.wait_for_selector("text=Total: 100 / 100 — complete", timeout=20_000)  # every form is reloaded
    assert len(_weights_rows(page)) == 6 and "re-run this cell" not in page.locator("body").inner_text()
    assert "Expansion revenue" not in " ".join(_labels(_field(page, "select", "Role's KPIs")))

    page.get_by_role("button", name="Add KPI to role", exact=True).click()  # again, and make room for it
    page.wait_for_selector("text=Total: 110 / 100 — remove 10", timeout=20_000)
    quota = page.locator(".widget-hbox", has_text="Quota attainment").locator("input").last
    quota.fill("20")
    page.wait_for_selector("text=Total: 100 / 100 — complete", timeout=20_000)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=saved, version", timeout=30_000)
    page.wait_for_function("() => [...document.querySelectorAll('.jp-OutputArea-output')].some(o => "
                           "o.innerText.includes(\"Each role's KPIs, as saved\") && "
                           "o.innerText.includes('Expansion revenue'))", timeout=30_000)  # redrawn, no reload
    shots += _screens(page, folder, "step3_saved",
                      ["button:text-is('Check')", "h4:has-text(\"Each role's KPIs, as saved\")"])
    _no_python_wording(page)

    page.set_viewport_size({"width": 1280, "height": 800})
    _open(page, workshop_app, "04_targets.ipynb")
    _choose(_field(page, "dropdown", "Role"), "Account Executive")
    _choose(_field(page, "dropdown", "KPI"), "Win rate")
    page.wait_for_timeout(1000)
    target = _field(page, "text", "Target")
    target.fill("")
    target.press_sequentially("15", delay=50)  # below the threshold (20 %): flagged with its fix, not "applied"
    page.wait_for_selector("text=understood: 15", timeout=20_000)  # the whole number's answer, not its first digit's
    page.wait_for_selector("text=is below the threshold", timeout=20_000)
    assert "raise the target to at least 20" in page.locator("body").inner_text().replace("\xa0", " ")
    assert "understood: 15" in page.locator("body").inner_text()
    shots += _screens(page, folder, "step4_flagged", ["text=Weights of Account Executive's KPIs",
                                                     ".widget-html b:text-is('Threshold, target and stretch')"])
    assert all(path.stat().st_size > 10_000 for path in shots)
