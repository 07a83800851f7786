"""The mini-workshop in a real browser, shared by tests/test_workshop_*.py: `kpi-workbook workshop` serves a copied
workspace on 127.0.0.1 (the workshop_app fixture) and Chromium (Debian's, driven by Playwright: the page fixture)
fills the forms as a facilitator would, through the helpers here. One test per file, so that `pytest -n 2 --dist
loadfile` can run them side by side. tests/conftest.py loads this module as a plugin (its fixtures)."""

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
from conftest import CLI_SCRIPT, cli_environment

from kpi_workbook.widgets.app_config import CELL_SECONDS

CHROMIUM = Path("/usr/bin/chromium")
try:  # the test files skip without Playwright or Voilà (pytest.importorskip); this plugin loads without them
    from playwright import sync_api as playwright_api
except ImportError:
    playwright_api = None

TOKEN = "workshop-test-token"
# Python's wording, and how to run a notebook (the app leaves the notebooks' usage out: the room works in the page)
PYTHON_WORDING = re.compile(r"Traceback|String should|Input should|pydantic|TraitError|KeyError|'None'|\bNone\b"
                            r"|papermill|-p team|How to use this notebook")
LOAD_TIMEOUT_MS = (CELL_SECONDS + 60) * 1000  # a lost reply shows as Voilà's time-out error before this
TIMED_OUT = "Cell execution timed out"
REOPEN_AFTER_MS = 75_000  # far above a cold open on a busy machine (about 20 s)
HISTORY_BUTTON = "Show each KPI's history against its levels"
PROJECTORS = ((1280, 800), (1920, 1080))
NEXT_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"  # drawn once more


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
    """`kpi-workbook workshop --app --cold --team sales` on a copy of the sample: the base address of the Voilà app.
    Cold: the tests open a few steps once each, where warmed kernels would start two kernels per step opened (the
    one taken and its replacement); the warm configuration is checked in tests/test_workshop_command.py and timed by
    benchmarks/bench_workshop_open.py."""
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [str(CLI_SCRIPT), "workshop", "-w", str(sample_workspace), "--team", "sales", "--app", "--cold", "--no-browser",
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


def _open(page, base: str, notebook: str) -> float:
    """Open a step in the app until its forms show; the seconds from the click to a usable page (printed).

    A cell whose reply never comes shows Voilà's time-out error after its limit (widgets.app_config): the test then
    fails on that error, never waits for ever. A page still loading after REOPEN_AFTER_MS is opened once more, as a
    facilitator would reload it (a guard: the kernel client's missed replies that made Voilà wait on an idle kernel
    are fixed, see kpi_workbook/batch/kernel_client.py; the new page gets a kernel of its own).
    """
    start = time.monotonic()
    usable = page.locator(".widget-button").or_(page.get_by_text(TIMED_OUT)).first
    address = f"{base}/voila/render/{notebook}?token={TOKEN}"
    page.goto(address, timeout=LOAD_TIMEOUT_MS, wait_until="commit")
    try:
        usable.wait_for(timeout=REOPEN_AFTER_MS)
    except playwright_api.TimeoutError:
        print(f"{notebook}: not usable after {REOPEN_AFTER_MS / 1000:g} s, opened once more")
        page.goto(address, timeout=LOAD_TIMEOUT_MS, wait_until="commit")
        usable.wait_for(timeout=LOAD_TIMEOUT_MS)
    assert TIMED_OUT not in page.locator("body").inner_text(), f"{notebook}: a cell timed out"
    seconds = time.monotonic() - start
    print(f"{notebook}: usable {seconds:.1f} s after the click")
    return seconds


CELL_AFTER = """heading => {
    const cells = [...document.querySelectorAll('[cell-index]')];
    const at = cells.findIndex(cell => cell.innerText.includes(heading));
    return at >= 0 && at + 1 < cells.length ? cells[at + 1].innerText : '';
}"""


def _cell_after(page, heading: str) -> str:
    """The text of the notebook cell that follows the cell holding `heading` (a table higher up the page)."""
    return page.evaluate(CELL_AFTER, heading)


def _redrawn_after(page, heading: str, before: str, text: str) -> str:
    """Wait until the cell after `heading` is no longer `before` and holds `text` (no reload); its text."""
    page.wait_for_function(f"([heading, before, text]) => {{ const now = ({CELL_AFTER})(heading); "
                           "return now !== before && now.includes(text); }", arg=[heading, before, text],
                           timeout=30_000)
    return _cell_after(page, heading)


def _field(page, kind: str, label: str, nth: int = 0):
    """The input of the `nth` widget of `kind` (text, dropdown, ...) whose label reads `label`."""
    box = page.locator(f".widget-{kind}", has=page.locator("label.widget-label", has_text=re.compile(f"^{label}$")))
    return box.nth(nth).locator("select" if kind in ("dropdown", "select") else "input, textarea").first


def _labels(select) -> list[str]:
    """The option labels of a dropdown as a person reads them (ipywidgets draws spaces as no-break spaces)."""
    return [text.replace("\xa0", " ") for text in select.evaluate("s => [...s.options].map(o => o.text)")]


def _chosen(select) -> str:
    return _labels(select)[select.evaluate("s => s.selectedIndex")]


def _choose(select, label: str) -> None:
    select.select_option(index=_labels(select).index(label))


def _status_after(page, button: str, below: str, shows: tuple[str, ...]) -> str:
    """Click the button labelled `button`, wait until the form that holds the text `below` shows every text of
    `shows`, and return the form's text."""
    page.get_by_role("button", name=button, exact=True).click()
    form = page.locator(".widget-vbox", has_text=below)
    for text in shows:
        form.filter(has_text=text).last.wait_for(timeout=20_000)
    return form.last.inner_text()


def _forms(page):
    """The notebook outputs that hold a form."""
    return page.locator(".jp-OutputArea-output:has(.widget-vbox)")


def _no_python_wording(page) -> None:
    text = page.locator("body").inner_text()
    assert not PYTHON_WORDING.search(text), PYTHON_WORDING.search(text).group(0)


def _another_session(page):
    """A tab in a browser session of its own (its own cookies and Voilà kernel), as a second person has."""
    tab = page.context.browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    tab.set_default_timeout(20_000)
    return tab


def _set_target(page, value: str) -> None:
    """Step 4 on the account executive's win rate: type the target (no Enter) and wait for the preview."""
    _choose(_field(page, "dropdown", "Role"), "Account Executive")
    _choose(_field(page, "dropdown", "KPI"), "Win rate")
    page.wait_for_timeout(1000)
    target = _field(page, "text", "Target")
    target.fill("")
    target.press_sequentially(value, delay=50)
    page.wait_for_selector(f"text=target {value}, stretch", timeout=20_000)


def _screens(page, folder: Path, name: str, anchors: list[str]) -> list[Path]:
    """What a projector shows, at each size, with each of `anchors` (a selector) scrolled to the top of the screen."""
    written = []
    for width, height in PROJECTORS:
        page.set_viewport_size({"width": width, "height": height})
        for n, anchor in enumerate(anchors):
            page.locator(anchor).first.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.evaluate(NEXT_FRAMES)
            written.append(folder / f"{name}_{n + 1}_{width}x{height}.png")
            page.screenshot(path=written[-1])
    return written


def _weights_rows(page) -> list[str]:
    """The KPI names of the weights form's rows (the form under the picker's list of the role's KPIs)."""
    form = page.locator(".widget-vbox", has=page.locator("text=/^Total: /")).last
    return [row.inner_text().strip() for row in form.locator(".widget-hbox").all()]
