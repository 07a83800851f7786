"""A mini-workshop in a real browser (tests/workshop_browser.py): `kpi-workbook workshop` serves a copied workspace
on 127.0.0.1 and Chromium fills the forms of steps 1 and 4 as a facilitator would, saves, and re-runs.

Screenshots of step 1 as a projector shows it (1280×800 and 1920×1080) go to $WORKSHOP_SCREENSHOTS when it is set
(else to the test's temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from workshop_browser import (
    CHROMIUM,
    HISTORY_BUTTON,
    _cell_after,
    _choose,
    _chosen,
    _field,
    _no_python_wording,
    _open,
    _redrawn_after,
    _screens,
    _status_after,
)

pytest.importorskip("playwright.sync_api")
pytest.importorskip("voila")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


def test_a_mini_workshop_in_the_browser(workshop_app, page, sample_workspace, tmp_path):
    # step 1: a bad id is explained with a suggestion; the message goes when the id is fixed; add, save
    _open(page, workshop_app, "01_strategic_goals.ipynb")
    assert _chosen(_field(page, "dropdown", "Parent")) == "(none: a top objective)"
    _field(page, "text", "Id").fill("Grow Revenue!")
    _field(page, "text", "Title").fill("Open two offices in Asia")
    text = _status_after(page, "Add objective", "Add objective", ("open_two_offices_in_asia", "letters, digits"))
    assert "open_two_offices_in_asia" in text and "letters, digits" in text
    _no_python_wording(page)
    _field(page, "text", "Id").press_sequentially("x")
    page.wait_for_function("() => !document.body.innerText.includes('letters, digits')",
                           timeout=20_000)  # no stale message
    _field(page, "text", "Id").fill("open_asia")
    assert "added objective “Open two offices in Asia”" in _status_after(page, "Add objective", "Add objective",
                                                                         ("added objective",))
    objectives_table = _cell_after(page, "The objectives, by perspective")
    assert "Open two offices in Asia" not in objectives_table
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=saved, version", timeout=30_000)
    assert "objective Open two offices in Asia" in page.locator(".kpi-findings").inner_text()
    _redrawn_after(page, "The objectives, by perspective", objectives_table, "Open two offices in Asia")
    _screens(page, Path(os.environ.get("WORKSHOP_SCREENSHOTS") or tmp_path), "step1_saved",
             [".widget-dropdown:has(label:text-is('Objective'))"])
    page.set_viewport_size({"width": 1280, "height": 1000})
    objectives = yaml.safe_load((sample_workspace / "objectives.yaml").read_text())
    assert any(o["id"] == "open_asia" for o in objectives["objectives"])

    # step 4: weights typed (out of range refused, then 100 in all), levels typed, save, re-run
    _open(page, workshop_app, "04_targets.ipynb")
    role_file = sample_workspace / "roles" / "account_executive.yaml"
    before = yaml.safe_load(role_file.read_text())["kpis"]
    _choose(_field(page, "dropdown", "Role"), "Account Executive")
    page.wait_for_timeout(1000)
    weight = page.locator(".widget-hbox", has_text="Win rate").locator("input").first
    weight.fill("150")
    page.wait_for_timeout(800)
    assert "out of range" in page.locator("body").inner_text() and weight.input_value() == "150"
    win = next(k for k in before if k["kpi"] == "win_rate")
    weight.fill(f"{win['weight']:g}")
    page.wait_for_timeout(800)
    assert "complete" in page.locator("body").inner_text()
    _choose(_field(page, "dropdown", "KPI"), "Win rate")
    page.wait_for_timeout(1000)
    chart = page.locator(".widget-image").first
    drawn = chart.get_attribute("src")
    target = _field(page, "text", "Target")
    target.fill("")
    target.press_sequentially("27", delay=50)  # no Enter, no Tab: the preview follows the keys
    page.wait_for_selector("text=target 27, stretch", timeout=20_000)
    page.wait_for_timeout(500)
    assert chart.get_attribute("src") != drawn  # the chart was redrawn with the typed target
    page.locator(".jp-OutputArea-output", has=chart).first.screenshot(path=tmp_path / "step4_levels.png")
    _no_python_wording(page)
    levels_table = _cell_after(page, "Current weights and levels, per role")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=saved, version", timeout=30_000)
    _redrawn_after(page, "Current weights and levels, per role", levels_table, "27")  # higher up, no reload
    show = page.get_by_role("button", name=HISTORY_BUTTON)
    cell = page.locator("[cell-index]", has=show).get_attribute("cell-index")
    show.click()  # drawn on demand, so that the step opens sooner
    page.locator(f'[cell-index="{cell}"] img').first.wait_for(timeout=60_000)
    saved = next(k for k in yaml.safe_load(role_file.read_text())["kpis"] if k["kpi"] == "win_rate")
    assert saved["target"] == 27 and saved["weight"] == win["weight"]

    _open(page, workshop_app, "04_targets.ipynb")  # re-run: the form opens on the saved values
    _choose(_field(page, "dropdown", "Role"), "Account Executive")
    _choose(_field(page, "dropdown", "KPI"), "Win rate")
    page.wait_for_timeout(1000)
    assert _field(page, "text", "Target").input_value() == "27"
    _no_python_wording(page)
