"""Live forms (ipywidgets) over a FrameworkEditor: objectives, roles, KPIs, weights, bands, and saving; and a step's
tables and charts (`StepPage`), drawn again after each save.

The forms are imported on first use (``widgets.ObjectivesForm``), so a notebook that imports this package and
runs with ``interactive=False`` never loads ipywidgets. In a kernel that Voilà warms ahead of a page (``workshop
--app``, unless ``--cold``), which only ever shows a workshop, importing this package imports every form and the
editor and reads the KPI library and its suggestion vectors at once: that is done before the click, not after it.
"""

from __future__ import annotations

__all__ = [
    "BandsForm", "EditError", "FrameworkEditor", "KpiPicker", "ObjectivesForm", "RatingsForm", "RolesForm", "SavePanel",
    "SaveResult", "StepPage", "TargetsForm", "WeightsForm", "beside", "kpi_tables", "objectives_tables", "redrawn",
    "roles_tables", "targets_tables",
]

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpi_workbook.editing.editor import EditError, FrameworkEditor, SaveResult
    from kpi_workbook.widgets.bands import BandsForm
    from kpi_workbook.widgets.kpis import KpiPicker, WeightsForm
    from kpi_workbook.widgets.live import beside, redrawn
    from kpi_workbook.widgets.objectives import ObjectivesForm
    from kpi_workbook.widgets.ratings import RatingsForm
    from kpi_workbook.widgets.roles import RolesForm
    from kpi_workbook.widgets.save import SavePanel
    from kpi_workbook.widgets.step_tables import kpi_tables, objectives_tables, roles_tables, targets_tables
    from kpi_workbook.widgets.targets import TargetsForm
    from kpi_workbook.widgets.views import StepPage

MODULE_OF = {
    "BandsForm": "widgets.bands", "EditError": "editing.editor", "FrameworkEditor": "editing.editor",
    "SaveResult": "editing.editor", "KpiPicker": "widgets.kpis", "WeightsForm": "widgets.kpis",
    "ObjectivesForm": "widgets.objectives", "RolesForm": "widgets.roles", "SavePanel": "widgets.save",
    "TargetsForm": "widgets.targets", "RatingsForm": "widgets.ratings", "redrawn": "widgets.live",
    "beside": "widgets.live", "StepPage": "widgets.views",
    "objectives_tables": "widgets.step_tables", "roles_tables": "widgets.step_tables",
    "kpi_tables": "widgets.step_tables", "targets_tables": "widgets.step_tables",
}


def __getattr__(name: str) -> Any:
    """Import the module of a form or of the editor when it is first asked for."""
    if name not in MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"kpi_workbook.{MODULE_OF[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


_WARMED = ("widgets.bands", "widgets.kpis", "widgets.live", "widgets.objectives", "widgets.ratings", "widgets.roles",
          "widgets.save", "widgets.step_tables", "widgets.targets", "widgets.views", "widgets.review_tables")


def _warm() -> None:
    """Import every form, the editor and the step tables, read the KPI library and its suggestion vectors, and draw
    a chart with a word on it (what the first chart of a page would load: the PNG writer and the fonts)."""
    from kpi_workbook.analysis.library import library_frame, prepare_suggestions
    from kpi_workbook.reports.figures import ChartFigure

    for name in sorted({*MODULE_OF.values(), *_WARMED}):
        import_module(f"kpi_workbook.{name}")
    import_module("xml.dom.minidom")  # the strategy map's drawing
    library_frame()
    prepare_suggestions()
    figure = ChartFigure(figsize=(1, 1))
    figure.text(0.5, 0.5, "KPI")
    figure.png()


# steps.context.WARMED_KERNEL, spelled out: importing steps here would load pandas wherever the workshop command
# reads this package's app_config
if os.environ.get("VOILA_PREHEAT") == "True":  # a kernel Voilà warms ahead of a page
    _warm()
