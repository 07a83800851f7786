"""How `kpi-workbook workshop --app` runs Voilà: a time limit on each cell and (unless `--cold`) a warmed kernel per
step.

Warm (the default), Voilà keeps a kernel warmed for each step notebook ahead of the click (its pre-heated kernels):
the kernel imports the libraries, then waits in the cell that opens the workspace (`open_step`) until a page asks for
it, so the files are read as they are when the page is opened and only the step's own work is left after the click.
It costs a kernel's memory per step, and a page opened while its kernel still warms (just after the server starts)
waits for the warming to end. `--cold` starts a step's kernel when its page is opened.

Voilà runs a page's cells with nbclient, which waits for each cell's reply on the shell channel while its stand-in
for an Output widget sends the widget's state there. With jupyter_client's own client, a reply that arrived during
such a send was noticed only at the cell's time limit: a page (its forms' cells, on a busy machine) waited two
minutes. The kernels' clients are KERNEL_CLIENT (see kpi_workbook.batch.kernel_client), which looks again after each
send. A reply lost between Voilà and a kernel all the same shows as a time-out error in its cell instead of a page
that never finishes. The cell that waits for the page has no limit, since a warmed kernel may wait there for hours.
Cells tagged NOTEBOOK_HELP_TAG (how to run the notebook in batch) are left out of the page.
"""

from __future__ import annotations

__all__ = [
    "CELL_SECONDS", "CONFIG_FILE", "IDLE_SECONDS", "KERNEL_CLIENT", "LOADER", "NOTEBOOK_HELP_TAG", "WAITING_CALL",
    "cell_time_limit", "configure", "write_config",
]

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from traitlets.config import Config

CELL_SECONDS = 120  # far above the slowest cell on a busy machine (about 20 s), far below a facilitator's patience
IDLE_SECONDS = 600
WAITING_CALL = "open_step("  # the call that waits, in a warmed kernel, for the page to be asked for
CONFIG_FILE = "voila.py"
#: The tag of a step notebook's cells that explain how to run the notebook itself (papermill, parameters): the app
#: leaves them out, since the room works in the page, not in the notebook.
NOTEBOOK_HELP_TAG = "notebook-help"
#: The kernel client Voilà's kernel managers hand out (named, not imported: the command line does not load it).
KERNEL_CLIENT = "kpi_workbook.batch.kernel_client.RecheckingKernelClient"
LOADER = "from kpi_workbook.widgets.app_config import configure\n\nconfigure(get_config(), warm={warm})  # noqa: F821\n"


def cell_time_limit(cell: dict) -> int | None:
    """Seconds Voilà waits for a cell's reply before it shows a time-out error: none for the cell that waits for
    the page to be asked for, CELL_SECONDS for every other."""
    return None if WAITING_CALL in cell.get("source", "") else CELL_SECONDS


def configure(config: Config, warm: bool = False) -> None:
    """Set Voilà's options for a workshop in `config` (the configuration a Jupyter config file is given); `warm`
    keeps a kernel warmed per step."""
    if warm:
        config.VoilaConfiguration.preheat_kernel = True
        config.VoilaConfiguration.default_pool_size = 1
    config.TagRemovePreprocessor.remove_cell_tags = {NOTEBOOK_HELP_TAG}
    config.AsyncKernelManager.client_factory = KERNEL_CLIENT  # Voilà's kernel managers derive from it
    config.VoilaExecutor.timeout_func = cell_time_limit
    config.VoilaExecutor.cell_timeout_instruction = "Reload the page to open the step again."
    # A closed page's kernel is shut down once idle for IDLE_SECONDS (Voilà's own shutdown on leaving a page is
    # refused for want of an XSRF token): kernels do not pile up over a day of workshop. A warmed kernel waiting
    # for its page is busy, and a page still open holds a connection: neither is shut down.
    config.MappingKernelManager.cull_idle_timeout = IDLE_SECONDS
    config.MappingKernelManager.cull_interval = IDLE_SECONDS // 10


def write_config(folder: Path, warm: bool = False) -> Path:
    """Write the configuration file that makes Voilà call `configure` into `folder`; the folder, for Voilà's
    --Voila.config_file_paths."""
    (folder / CONFIG_FILE).write_text(LOADER.format(warm=bool(warm)), encoding="utf-8")
    return folder
