"""A cell's reply that reaches the client while it sends on the same channel is not slept through.

nbclient (papermill, Voilà) waits for a cell's `execute_reply` on the shell channel while it handles the cell's IOPub
messages; its stand-in for an ipywidgets Output widget sends the widget's state back on the shell channel after each
output the widget captures. jupyter_client sends through a synchronous shadow of the asyncio socket, which clears the
socket's edge-triggered wake-up: a reply that arrived just before such a send was seen only at the cell's time limit
(kernel idle, client waiting; see kpi_workbook/batch/kernel_client.py). Here a real kernel and a client held back at
the captured output, until the reply is in its socket, make that happen every time: the fixed client answers at
once, jupyter_client's own `AsyncKernelClient` only after CELL_LIMIT."""

from __future__ import annotations

import select
import time
from importlib.metadata import entry_points
from typing import Any

import nbformat
import papermill
import pytest
import zmq
from nbclient import NotebookClient
from traitlets.config import Config

from kpi_workbook.batch.kernel_client import RecheckingChannel, RecheckingKernelClient, RecheckingKernelManager
from kpi_workbook.batch.papermill_engine import ENGINE_NAME, RecheckingEngine
from kpi_workbook.widgets.app_config import configure

CELL_LIMIT = 10  # seconds nbclient waits for a cell's reply; jupyter_client's own client takes all of them here
PROMPT = 3.0  # a reply is handled within this long once it is in the socket (milliseconds, on a quiet machine)
WAIT_FOR_REPLY = 10.0
# One output captured by an Output widget (nbclient sends the widget's state on the shell channel when it handles
# it), then a pause, so the reply comes after the client has taken that output in hand.
CELL = """\
import time
import ipywidgets
from IPython.display import display
out = ipywidgets.Output()
display(out)
with out:
    display("captured")
time.sleep(0.5)
"""


class HeldBackClient(NotebookClient):
    """nbclient, held back at the first output an Output widget captures until the cell's reply is in its shell
    socket, as a client on a loaded machine lags behind its kernel. Records when the reply was in and when the cell
    was done."""

    reply_in: float | None = None
    cell_done: float | None = None
    client_class: type | None = None

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
        if self.reply_in is None and self.output_hook_stack.get(msg["parent_header"].get("msg_id")):
            self.client_class = type(self.kc)
            # the socket's wake-up is set once a message is in; looking does not clear it (reading the socket would)
            socket = self.kc.shell_channel.socket
            if select.select([socket.getsockopt(zmq.FD)], [], [], WAIT_FOR_REPLY)[0]:
                self.reply_in = time.monotonic()
        return super().output(outs, msg, display_id, cell_index)

    async def async_execute_cell(self, cell: Any, cell_index: int, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().async_execute_cell(cell, cell_index, *args, **kwargs)
        finally:
            self.cell_done = time.monotonic()


def _widget_notebook() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def test_a_reply_that_arrives_during_a_send_is_handled_at_once():
    client = HeldBackClient(_widget_notebook(), kernel_name="python3", timeout=CELL_LIMIT,
                            kernel_manager_class=RecheckingKernelManager)
    executed = client.execute()
    assert client.client_class is RecheckingKernelClient
    assert client.reply_in is not None, "the reply did not reach the client while it was held back"
    waited = client.cell_done - client.reply_in
    assert waited < PROMPT, f"the cell's reply was in the socket {waited:.1f} s before the client took it"
    widget_outputs = [o for o in executed.cells[0].outputs if "application/vnd.jupyter.widget-view+json" in
                      o.get("data", {})]
    assert len(widget_outputs) == 1, "the Output widget is shown"


def test_the_engine_the_runner_and_the_app_use_the_rechecking_client():
    engines = entry_points(group="papermill.engine", name=ENGINE_NAME)
    assert [e.load() for e in engines] == [RecheckingEngine], "pyproject.toml's entry point (re-install to get it)"
    assert RecheckingKernelManager(kernel_name="python3").client().shell_channel_class is RecheckingChannel
    server = pytest.importorskip("jupyter_server.services.kernels.kernelmanager")  # Voilà's kernels' managers
    config = Config()
    configure(config, warm=True)
    assert isinstance(server.ServerKernelManager(config=config, kernel_name="python3").client(),
                      RecheckingKernelClient)


def test_papermill_runs_a_notebook_with_the_engine(tmp_path):
    source, output = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    notebook = _widget_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("print(6 * 7)")]
    nbformat.write(notebook, source)
    executed = papermill.execute_notebook(str(source), str(output), engine_name=ENGINE_NAME, kernel_name="python3",
                                          progress_bar=False, execution_timeout=CELL_LIMIT)
    assert executed.cells[0].outputs[0]["text"] == "42\n"

