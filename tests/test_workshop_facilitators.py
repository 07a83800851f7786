"""Two facilitators in the workshop app at once, each in a browser session of their own (tests/workshop_browser.py):
the same entry saved twice is refused with both values named, a different entry is merged."""

from __future__ import annotations

import pytest
import yaml
from workshop_browser import (
    CHROMIUM,
    _another_session,
    _field,
    _forms,
    _no_python_wording,
    _open,
    _set_target,
    _status_after,
)

pytest.importorskip("playwright.sync_api")
pytest.importorskip("voila")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


def test_two_facilitators_saving_at_once_lose_nothing(workshop_app, page, sample_workspace, tmp_path):
    other, goals = _another_session(page), _another_session(page)  # a second person; step 1 open beside step 4
    for tab, notebook in ((page, "04_targets.ipynb"), (other, "04_targets.ipynb"), (goals, "01_strategic_goals.ipynb")):
        _open(tab, workshop_app, notebook)  # all three load the files before anyone saves

    _set_target(page, "26")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=saved, version", timeout=30_000)

    _set_target(other, "27")  # the same entry: refused, both values named, nothing written
    other.get_by_role("button", name="Save", exact=True).click()
    other.wait_for_selector("text=changed elsewhere", timeout=30_000)
    refused = other.locator("body").inner_text().replace("\xa0", " ")
    assert "role 'account_executive': KPI 'win_rate' target was changed elsewhere (on disk 26, here 27)" in refused
    assert "Press Reload" in refused
    _forms(other).last.screenshot(path=tmp_path / "step4_refused.png")
    other.get_by_role("button", name="Reload", exact=True).click()
    other.wait_for_selector("text=reloaded the files as they are now", timeout=30_000)
    _forms(other).last.screenshot(path=tmp_path / "step4_reloaded.png")
    _no_python_wording(other)

    _field(goals, "text", "Id").fill("open_asia")  # a different entry: merged with the target saved meanwhile
    _field(goals, "text", "Title").fill("Open two offices in Asia")
    status = _status_after(goals, "Add objective", "Add objective", ("added objective",))
    assert "added objective “Open two offices in Asia”" in status
    goals.get_by_role("button", name="Save", exact=True).click()
    goals.wait_for_selector("text=merged with changes saved elsewhere", timeout=30_000)
    _forms(goals).last.screenshot(path=tmp_path / "step1_merged.png")
    _no_python_wording(goals)

    saved = yaml.safe_load((sample_workspace / "roles" / "account_executive.yaml").read_text())["kpis"]
    assert next(k for k in saved if k["kpi"] == "win_rate")["target"] == 26
    objectives = yaml.safe_load((sample_workspace / "objectives.yaml").read_text())["objectives"]
    assert any(o["id"] == "open_asia" for o in objectives)
    assert yaml.safe_load((sample_workspace / "framework.yaml").read_text())["version"] == "2024.3"
