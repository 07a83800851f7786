"""Workspace text cannot run script or fetch anything in the reports: every text field carries an attack.

A copy of the sample organization gets a payload appended to every free-text field of the framework (ids stay
ids: a field that refuses the payload is an id or an enum) and to every employee name; the organization and
team names carry all payloads. The reports of one team and of the organization are rendered by the CLI and
opened in headless Chromium: no dialog, no flag set by alert/confirm/prompt, no console message, no page error,
and no request other than file:, data: or about:. The reports still show their tables and PNG charts.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from pydantic import BaseModel, ValidationError

from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.workspace.files import ACTUALS_DB, EMPLOYEES_FILE, load_framework, save_framework

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runner")]

CLI = Path(sys.executable).parent / "kpi-workbook"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
REMOTE = "http://127.0.0.1:9"  # a closed local port: a request would show up without leaving the machine

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(2)>",
    "<details open ontoggle=alert(3)>",
    '<iframe srcdoc="<script>alert(4)</script>"></iframe>',
    "<body onload=alert(5)>",
    "<input autofocus onfocus=alert(6)>",
    "<script>alert(7)</script>",
    '<a href="javascript:alert(8)">click</a>',
    f'<img src="{REMOTE}/img.png">',
    f'<link rel="stylesheet" href="{REMOTE}/style.css">',
    f'<div style="background-image: url({REMOTE}/bg.png)">x</div>',
    f'<meta http-equiv="refresh" content="0;url={REMOTE}/refresh">',
    f'<object data="{REMOTE}/object.swf"></object>',
    f'<embed src="{REMOTE}/embed.swf">',
    f'<base href="{REMOTE}/">',
    f"![image]({REMOTE}/markdown.png)",
    f"[link]({REMOTE}/markdown-link) [js](javascript:alert(9))",
    f"<style>@import url({REMOTE}/import.css); body {{ background: url({REMOTE}/style-bg.png) }}</style>",
    f'<video src="{REMOTE}/video.mp4" autoplay onerror=alert(10)></video>',
    f'<audio src="{REMOTE}/a.mp3" onerror=confirm(11)></audio>',
    '<marquee onstart=prompt(12)>x</marquee>',
    f'<form action="{REMOTE}/form"><button autofocus onfocus=alert(13)>b</button></form>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(14)></style></mglyph></table></mtext></math>',
    f'<p style="cursor: url({REMOTE}/cursor.cur), auto">x</p>',
    '"><img src=x onerror=alert(15)>',
    "</textarea><script>alert(16)</script>",
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMTcpPjwvc3ZnPg==" onload=alert(17)>',
    f'<picture><source srcset="{REMOTE}/srcset.png"><img></picture>',
]

INIT_SCRIPT = """
window.__payloadRan = 0;
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = () => { window.__payloadRan += 1; };
}
"""


def _inject(value: str, payload: str) -> str:
    return f"{value} {payload}"


def _poison(model: BaseModel, payloads: list[str], counter: list[int]) -> None:
    """Append a payload (in turn) to every free-text field of a model, recursively; ids and enums refuse it."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            _poison(value, payloads, counter)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, BaseModel):
                    _poison(item, payloads, counter)
        elif isinstance(value, str):
            try:
                setattr(model, name, _inject(value, payloads[counter[0] % len(payloads)]))
                counter[0] += 1
            except ValidationError:
                pass  # an id or an enum: it must stay valid


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory) -> tuple[Path, int]:
    """The poisoned copy of the sample organization, and how many text fields got a payload."""
    root = tmp_path_factory.mktemp("poisoned") / "ws"
    shutil.copytree(SAMPLE_ORG_DIR, root, ignore=shutil.ignore_patterns(f"{ACTUALS_DB}*"))
    framework = load_framework(root)
    counter = [0]
    _poison(framework, PAYLOADS, counter)
    everything = " ".join(PAYLOADS)
    framework.metadata.organization = _inject("Alderbrook", everything)
    for team in framework.teams:
        team.name = _inject(team.name.split(" ")[0], everything)
    save_framework(framework, root)
    employees = pd.read_csv(root / EMPLOYEES_FILE, dtype="string", keep_default_na=False)
    employees["name"] = [_inject(name, PAYLOADS[i % len(PAYLOADS)]) for i, name in enumerate(employees["name"])]
    employees.to_csv(root / EMPLOYEES_FILE, index=False)
    assert load_framework(root).metadata.organization.endswith(PAYLOADS[-1])
    return root, counter[0]


@pytest.fixture(scope="module")
def reports(poisoned, tmp_path_factory) -> list[Path]:
    root, _ = poisoned
    out = tmp_path_factory.mktemp("reports")
    done = subprocess.run([str(CLI), "run", "--workspace", root, "--team", "sales", "--organization", "--out", out],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    pages = sorted(out.rglob("*.html"))
    assert len(pages) == 11  # 5 notebooks for the team, 5 for the organization, the index
    return pages


def test_every_text_field_carries_a_payload(poisoned):
    _, fields = poisoned
    assert len(PAYLOADS) >= 20 and fields >= 10 * len(PAYLOADS)  # every payload lands in many kinds of field


def _browse(pages: list[Path]) -> tuple[list[str], dict[str, int]]:
    """Open every page in headless Chromium: what payloads did (dialogs, calls, console, errors, requests) and how
    many tables and rendered PNG charts the pages show. The pages are all opened first (each its own tab), then
    given time to run what they hold, then read."""
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed")
    events: list[str] = []
    shown = {"tables": 0, "charts": 0}
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.add_init_script(INIT_SCRIPT)
        opened = []
        for page_file in pages:
            page = context.new_page()
            name = f"{page_file.parent.name}/{page_file.name}"
            page.on("dialog", lambda dialog, name=name: (events.append(f"{name}: dialog {dialog.message}"),
                                                         dialog.dismiss()))
            page.on("console", lambda message, name=name: events.append(f"{name}: console {message.text}"))
            page.on("pageerror", lambda error, name=name: events.append(f"{name}: error {error}"))
            page.on("request", lambda request, name=name: None if request.url.startswith(("file:", "data:", "about:"))
                    else events.append(f"{name}: request {request.url}"))
            page.goto(page_file.as_uri(), wait_until="load")
            opened.append((name, page))
        opened[-1][1].wait_for_timeout(300)  # let autofocus, ontoggle and refresh fire if anything survived
        for name, page in opened:
            try:
                ran = page.evaluate("window.__payloadRan")
                shown["tables"] += page.locator("table").count()
                shown["charts"] += page.evaluate(
                    "[...document.images].filter(i => i.src.startsWith('data:image/png') && i.naturalWidth).length")
            except playwright.Error as exc:  # a refresh or a script navigated away
                ran = f"navigation ({exc.message.splitlines()[0]})"
            if ran:
                events.append(f"{name}: payload calls: {ran}")
            page.close()
        browser.close()
    return events, shown


def test_the_browser_probe_sees_what_an_unescaped_page_does(tmp_path):
    """One raw page per payload (on one page, the refresh payload can navigate away before the probe reads it)."""
    pages = []
    for number, payload in enumerate(PAYLOADS):
        pages.append(tmp_path / f"raw{number}.html")
        pages[-1].write_text(f"<!DOCTYPE html><html><body>{payload}</body></html>")
    events, _ = _browse(pages)
    ran = {e.split("/")[-1].split(":")[0] for e in events if "payload calls" in e}
    assert len(ran) >= 8, events
    assert any(f"request {REMOTE}" in e for e in events)


def test_reports_run_no_payload_and_fetch_nothing_in_a_browser(reports):
    events, shown = _browse(reports)
    assert events == []
    assert shown["tables"] >= 20 and shown["charts"] >= 5  # the reports still render their tables and charts


def test_the_payload_text_is_shown_not_dropped(reports):
    html = next(p for p in reports if p.name == "01_strategic_goals.html" and p.parent.name == "sales").read_text()
    assert "&lt;svg onload=alert(2)&gt;" in html and "<svg" not in html
    assert "Content-Security-Policy" in html and "script-src 'none'" in html
