"""Workshop open benchmark: seconds from the click to a usable step page in `kpi-workbook workshop --app`.

A copy of the sample organization is served by `kpi-workbook workshop --app --team sales` (a warmed kernel per
notebook, or with `--cold` cold kernels, see kpi_workbook/widgets/app_config.py), and Debian's Chromium (driven by
Playwright) opens each step page in turn in a fresh tab, timing from the request to the first button of its forms.
The floor is a trivial notebook in the same folder (one button, nothing imported but ipywidgets), opened the same
way in the same run: the cost of Voilà, the page and the browser alone.

After one warm-up round that is not counted, the rounds take the notebooks in turn, with a pause between opens so
that Voilà can warm the next kernel of each. The script prints the load average, each step's median seconds to
usable and its ratio to the floor's median, and whether the median meets the goal (3 s on a quiet machine). A page
not usable after HUNG_MS is counted as hung (a facilitator would reload it; see tests/test_workshop_browser.py), not
timed, and the count is printed.

    .venv/bin/python benchmarks/bench_workshop_open.py [--repeat 5] [--pause 4] [--cold]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from playwright.sync_api import Browser, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

GOAL_SECONDS = 3.0
CLI = Path(sys.executable).parent / "kpi-workbook"
CHROMIUM = "/usr/bin/chromium"
TOKEN = "bench-workshop-open"
FLOOR = "00_floor.ipynb"
STEPS = ["01_strategic_goals.ipynb", "02_job_descriptions.ipynb", "03_kpi_design.ipynb", "04_targets.ipynb",
         "05_review.ipynb"]
LIMIT_MS = 180_000
HUNG_MS = 90_000  # far above a cold open on a busy machine (about 30 s)


def floor_notebook() -> nbformat.NotebookNode:
    """A notebook that shows one button and does nothing else."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'import ipywidgets\n\nipywidgets.Button(description="Ready")')])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    return notebook


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_workshop(folder: Path, port: int, log: Path, warm: bool) -> subprocess.Popen:
    """A workspace copy of the sample with its step notebooks and the floor, served as an app; the server."""
    workspace = folder / "ws"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([str(CLI), "init", str(workspace), "--sample"], check=True, **quiet)
    subprocess.run([str(CLI), "notebooks", "-w", str(workspace)], check=True, **quiet)
    nbformat.write(floor_notebook(), workspace / "notebooks" / FLOOR)
    with log.open("w") as out:
        server = subprocess.Popen([str(CLI), "workshop", "-w", str(workspace), "--team", "sales", "--app",
                                   "--no-browser", "--port", str(port), "--token", TOKEN,
                                   "--warm" if warm else "--cold"],
                                  stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while "open: http" not in log.read_text():
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the workshop server did not start; its log: {log}")
        time.sleep(0.3)
    return server


def seconds_to_usable(browser: Browser, base: str, notebook: str) -> float | None:
    """Open `notebook` in a new tab; seconds until its first button shows (None: hung, not usable after HUNG_MS)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        start = time.monotonic()
        page.goto(f"{base}/voila/render/{notebook}?token={TOKEN}", timeout=LIMIT_MS, wait_until="commit")
        try:
            page.locator(".widget-button").first.wait_for(timeout=HUNG_MS)
        except PlaywrightTimeout:
            return None
        return time.monotonic() - start
    finally:
        page.close()


def measure(base: str, repeat: int, pause: float) -> dict[str, list[float | None]]:
    """Seconds to usable of the floor and of each step (None for a hung open), `repeat` rounds after a warm-up
    round."""
    times: dict[str, list[float | None]] = {name: [] for name in [FLOOR, *STEPS]}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM)
        for round_number in range(repeat + 1):
            for name in times:
                took = seconds_to_usable(browser, base, name)
                if round_number:
                    times[name].append(took)
                time.sleep(pause)
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds counted (after one warm-up round)")
    parser.add_argument("--pause", type=float, default=4.0, help="seconds between two opens")
    parser.add_argument("--cold", action="store_true", help="serve with cold kernels (workshop --app --cold)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-workshop-"))
    port = free_port()
    server = start_workshop(folder, port, folder / "server.log", not args.cold)
    try:
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        times = measure(f"http://127.0.0.1:{port}", args.repeat, args.pause)
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    timed = {name: [t for t in found if t is not None] for name, found in times.items()}
    floor = statistics.median(timed[FLOOR] or [float("nan")])
    print(f"{'notebook':<28} {'median s':>9} {'min s':>7} {'max s':>7} {'x floor':>8} {'hung':>5}  "
          f"goal ≤ {GOAL_SECONDS:g} s")
    for name, found in timed.items():
        hung = len(times[name]) - len(found)
        if not found:
            print(f"{name:<28} {'-':>9} {'-':>7} {'-':>7} {'-':>8} {hung:5d}  missed")
            continue
        median = statistics.median(found)
        verdict = "" if name == FLOOR else ("met" if median <= GOAL_SECONDS else "missed")
        print(f"{name:<28} {median:9.2f} {min(found):7.2f} {max(found):7.2f} {median / floor:8.2f} {hung:5d}  "
              f"{verdict}")


if __name__ == "__main__":
    main()
