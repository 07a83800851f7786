"""`kpi-workbook workshop` starts its server (as root too), prints the address only once the server answers there,
stops with its process group, and refuses a port that cannot be one."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import CLI_SCRIPT, cli_environment

from kpi_workbook.cli.cmd_workshop import free_port

START_SECONDS = 240


def _line_starting(stream, prefix: str, process: subprocess.Popen, seconds: float) -> str:
    """The first line of `stream` that starts with `prefix`, read as the process writes it."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"no line starting with {prefix!r} (exit {process.poll()})")


def _stop(process: subprocess.Popen) -> None:
    """Stop the command by its PID's process group, as a supervisor would."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def test_the_workshop_starts_as_root_and_prints_its_address_once_it_answers(sample_workspace: Path, tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [str(CLI_SCRIPT), "workshop", "-w", str(sample_workspace), "--team", "sales", "--no-browser", "--port",
         str(port)], stdout=subprocess.PIPE, stderr=(tmp_path / "stderr.log").open("w"), text=True,
        env=cli_environment(), start_new_session=True)
    try:
        line = _line_starting(process.stdout, "open: ", process, START_SECONDS)
        url = line.removeprefix("open: ")
        assert url.startswith(f"http://127.0.0.1:{port}/lab?token=")
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 only, never a proxy
        with direct.open(url, timeout=30) as answer:
            assert answer.status == 200
    finally:
        _stop(process)
    log = (tmp_path / "stderr.log").read_text()
    as_root = "running as root: JupyterLab is started with --allow-root"
    assert (as_root in log) == (os.geteuid() == 0)
    assert "Use --allow-root" not in log and "Traceback" not in log


@pytest.mark.parametrize("port", ["99999", "-1", "eighty", "80.5"])
def test_a_port_that_cannot_be_one_is_refused(cli, sample_workspace, port):
    code, out, err = cli("workshop", "-w", sample_workspace, "--no-browser", "--port", port)
    assert code == 2 and out == ""
    assert err.startswith("error: --port must be a whole number from 1 to 65535") and "Traceback" not in err


def test_a_port_in_use_is_refused(cli, sample_workspace):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _out, err = cli("workshop", "-w", sample_workspace, "--no-browser", "--port", port)
    assert code == 2 and err.startswith(f"error: --port {port}: cannot listen on 127.0.0.1:{port}")


def test_the_app_s_voila_configuration_limits_every_cell_but_the_waiting_one_and_warms_kernels_on_request(tmp_path):
    from nbformat.v4 import new_code_cell
    from traitlets.config.loader import PyFileConfigLoader

    from kpi_workbook.widgets.app_config import CELL_SECONDS, NOTEBOOK_HELP_TAG, write_config

    cold = PyFileConfigLoader("voila.py", path=str(write_config(tmp_path))).load_config()  # as Voilà reads it
    assert "preheat_kernel" not in cold.VoilaConfiguration and cold.VoilaExecutor.timeout_func is not None
    config = PyFileConfigLoader("voila.py", path=str(write_config(tmp_path, warm=True))).load_config()
    assert config.VoilaConfiguration.preheat_kernel is True and config.VoilaConfiguration.default_pool_size == 1
    limit = config.VoilaExecutor.timeout_func
    assert limit(new_code_cell("ctx = open_step(workspace, team, period, department)")) is None
    assert limit(new_code_cell("page.show(step_tables.levels(ctx))")) == CELL_SECONDS
    assert config.MappingKernelManager.cull_idle_timeout > 0
    assert cold.TagRemovePreprocessor.remove_cell_tags == {NOTEBOOK_HELP_TAG}  # the notebooks' usage stays out


def test_every_step_notebook_tags_its_usage_as_notebook_help():
    import nbformat

    from kpi_workbook.core.paths import NOTEBOOKS_DIR
    from kpi_workbook.widgets.app_config import NOTEBOOK_HELP_TAG

    for path in sorted(NOTEBOOKS_DIR.glob("0*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        tagged = [c.source for c in cells if NOTEBOOK_HELP_TAG in c.metadata.get("tags", [])]
        assert [s.splitlines()[0] for s in tagged] == ["**How to use this notebook**"], path.name
        assert not [c for c in cells if "papermill" in c.source and NOTEBOOK_HELP_TAG not in c.metadata.get("tags", [])
                    and c.cell_type == "markdown"], path.name
