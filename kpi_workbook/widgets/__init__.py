"""Live forms (ipywidgets) over a FrameworkEditor: objectives, roles, KPIs, weights, bands, and saving."""

from kpi_workbook.widgets.bands import BandsForm
from kpi_workbook.widgets.editor import EditError, FrameworkEditor, SaveResult
from kpi_workbook.widgets.kpis import KpiPicker, WeightsForm
from kpi_workbook.widgets.objectives import ObjectivesForm
from kpi_workbook.widgets.roles import RolesForm
from kpi_workbook.widgets.save import SavePanel

__all__ = [
    "BandsForm", "EditError", "FrameworkEditor", "KpiPicker", "ObjectivesForm", "RolesForm", "SavePanel", "SaveResult",
    "WeightsForm",
]
