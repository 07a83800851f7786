"""papermill's nbclient engine with a kernel client that cannot miss a cell's reply (see `kernel_client`).

The package registers it as papermill engine ENGINE_NAME (the `papermill.engine` entry point in pyproject.toml), so
papermill's own command can run a step notebook with it:

    papermill --engine kpi_workbook_rechecking notebooks/03_kpi_design.ipynb out.ipynb -p team sales

Everything else is papermill's default engine: the kernel is started for the notebook and shut down after it.
"""

from __future__ import annotations

__all__ = ["ENGINE_NAME", "RecheckingEngine"]

from typing import Any

from papermill.engines import NBClientEngine

from kpi_workbook.batch.kernel_client import RecheckingKernelManager

ENGINE_NAME = "kpi_workbook_rechecking"


class RecheckingEngine(NBClientEngine):
    """papermill's nbclient engine on a `RecheckingKernelManager`, whose clients re-read a socket after each send."""

    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
        kwargs.setdefault("kernel_manager_class", RecheckingKernelManager)
        return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
