"""A mini-workshop in a real browser: `kpi-workbook workshop` serves a copied workspace on 127.0.0.1 and Chromium
(Debian's, driven by Playwright) fills the forms of steps 1 and 4 as a facilitator would, saves, and re-runs."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import CLI_SCRIPT, cli_environment

CHROMIUM = Path("/usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("voila")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")

TOKEN = "workshop-test-token"
PYTHON_WORDING = re.compile(r"Traceback|String should|Input should|pydantic|TraitError|KeyError|'None'|\bNone\b")
LOAD_TIMEOUT_MS = 240_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the workshop server stopped (exit {process.returncode})"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


@pytest.fixture
def workshop_app(sample_workspace: Path, tmp_path: Path) -> Iterator[str]:
    """`kpi-workbook workshop --app --team sales` on a copy of the sample: the base address of the Voilà app."""
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [str(CLI_SCRIPT), "workshop", "-w", str(sample_workspace), "--team", "sales", "--app", "--no-browser",
         "--port", str(port), "--token", TOKEN], stdout=log, stderr=subprocess.STDOUT, env=cli_environment())
    try:
        _wait_for_port(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.kill(server.pid, signal.SIGTERM)  # the command execs the server: this PID is the server's
        server.wait(timeout=30)
        log.close()


@pytest.fixture
def page():
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM))
        tab = browser.new_page(viewport={"width": 1280, "height": 1000})
        tab.set_default_timeout(20_000)
        yield tab
        browser.close()


def _open(page, base: str, notebook: str) -> None:
    page.goto(f"{base}/voila/render/{notebook}?token={TOKEN}", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(".widget-button", timeout=LOAD_TIMEOUT_MS)


def _field(page, kind: str, label: str, nth: int = 0):
    """The input of the `nth` widget of `kind` (text, dropdown, ...) whose label reads `label`."""
    box = page.locator(f".widget-{kind}", has=page.locator("label.widget-label", has_text=re.compile(f"^{label}$")))
    return box.nth(nth).locator("select" if kind == "dropdown" else "input, textarea").first


def _labels(select) -> list[str]:
    """The option labels of a dropdown as a person reads them (ipywidgets draws spaces as no-break spaces)."""
    return [text.replace("\xa0", " ") for text in select.evaluate("s => [...s.options].map(o => o.text)")]


def _chosen(select) -> str:
    return _labels(select)[select.evaluate("s => s.selectedIndex")]


def _choose(select, label: str) -> None:
    select.select_option(index=_labels(select).index(label))


def _status_after(page, button: str, below: str) -> str:
    """Click the button labelled `button` and return the text of the first status line under the form that holds
    the text `below`."""
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_timeout(800)
    return page.locator(".widget-vbox", has_text=below).last.inner_text()


def _forms(page):
    """The notebook outputs that hold a form."""
    return page.locator(".jp-OutputArea-output:has(.widget-vbox)")


def _no_python_wording(page) -> None:
    text = page.locator("body").inner_text()
    assert not PYTHON_WORDING.search(text), PYTHON_WORDING.search(text).group(0)


def test_a_mini_workshop_in_the_browser(workshop_app, page, sample_workspace, tmp_path):
    # step 1: a bad id is explained with a suggestion; the message goes when the id is fixed; add, save
    _open(page, workshop_app, "01_strategic_goals.ipynb")
    assert _chosen(_field(page, "dropdown", "Parent")) == "(none: a top objective)"
    _field(page, "text", "Id").fill("Grow Revenue!")
    _field(page, "text", "Title").fill("Open two offices in Asia")
    text = _status_after(page, "Add objective", "Add objective")
    assert "open_two_offices_in_asia" in text and "letters, digits" in text
    _no_python_wording(page)
    _field(page, "text", "Id").press_sequentially("x")
    page.wait_for_timeout(500)
    assert "letters, digits" not in page.locator("body").inner_text()  # no stale message
    _field(page, "text", "Id").fill("open_asia")
    assert "added objective open_asia" in _status_after(page, "Add objective", "Add objective")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=saved to", timeout=30_000)
    assert "objective 'open_asia'" in page.locator(".kpi-findings").inner_text()
    _forms(page).last.screenshot(path=tmp_path / "step1_saved.png")
    objectives = yaml.safe_load((sample_workspace / "objectives.yaml").read_text())
    assert any(o["id"] == "open_asia" for o in objectives["objectives"])

    # step 4: weights typed (out of range refused, then 100 in all), levels typed, save, re-run
    _open(page, workshop_app, "04_targets.ipynb")
    role_file = sample_workspace / "roles" / "account_executive.yaml"
    before = yaml.safe_load(role_file.read_text())["kpis"]
    _choose(_field(page, "dropdown", "Role"), "Account Executive (account_executive)")
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
    _forms(page).first.screenshot(path=tmp_path / "step4_levels.png")
    _no_python_wording(page)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=saved to", timeout=30_000)
    saved = next(k for k in yaml.safe_load(role_file.read_text())["kpis"] if k["kpi"] == "win_rate")
    assert saved["target"] == 27 and saved["weight"] == win["weight"]

    _open(page, workshop_app, "04_targets.ipynb")  # re-run: the form opens on the saved values
    _choose(_field(page, "dropdown", "Role"), "Account Executive (account_executive)")
    _choose(_field(page, "dropdown", "KPI"), "Win rate")
    page.wait_for_timeout(1000)
    assert _field(page, "text", "Target").input_value() == "27"
    _no_python_wording(page)


def _another_session(page):
    """A tab in a browser session of its own (its own cookies and Voilà kernel), as a second person has."""
    tab = page.context.browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    tab.set_default_timeout(20_000)
    return tab


def _set_target(page, value: str) -> None:
    """Step 4 on the account executive's win rate: type the target (no Enter) and wait for the preview."""
    _choose(_field(page, "dropdown", "Role"), "Account Executive (account_executive)")
    _choose(_field(page, "dropdown", "KPI"), "Win rate")
    page.wait_for_timeout(1000)
    target = _field(page, "text", "Target")
    target.fill("")
    target.press_sequentially(value, delay=50)
    page.wait_for_selector(f"text=target {value}, stretch", timeout=20_000)


def test_two_facilitators_saving_at_once_lose_nothing(workshop_app, page, sample_workspace, tmp_path):
    other, goals = _another_session(page), _another_session(page)  # a second person; step 1 open beside step 4
    for tab, notebook in ((page, "04_targets.ipynb"), (other, "04_targets.ipynb"), (goals, "01_strategic_goals.ipynb")):
        _open(tab, workshop_app, notebook)  # all three load the files before anyone saves

    _set_target(page, "26")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=saved to", timeout=30_000)

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
    assert "added objective open_asia" in _status_after(goals, "Add objective", "Add objective")
    goals.get_by_role("button", name="Save", exact=True).click()
    goals.wait_for_selector("text=merged with changes saved elsewhere", timeout=30_000)
    _forms(goals).last.screenshot(path=tmp_path / "step1_merged.png")
    _no_python_wording(goals)

    saved = yaml.safe_load((sample_workspace / "roles" / "account_executive.yaml").read_text())["kpis"]
    assert next(k for k in saved if k["kpi"] == "win_rate")["target"] == 26
    objectives = yaml.safe_load((sample_workspace / "objectives.yaml").read_text())["objectives"]
    assert any(o["id"] == "open_asia" for o in objectives)
    assert yaml.safe_load((sample_workspace / "framework.yaml").read_text())["version"] == "2024.3"
