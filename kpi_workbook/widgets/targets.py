"""Step 4's form: one role picker for the role's weights and for the levels of its KPIs."""

from __future__ import annotations

import ipywidgets as w
import pandas as pd

from kpi_workbook.editing.editor import FrameworkEditor
from kpi_workbook.widgets.bands import BandsForm
from kpi_workbook.widgets.common import dropdown, role_options
from kpi_workbook.widgets.kpis import WeightsForm


class TargetsForm(w.VBox):
    """Choose a role once; set its weights (live total) and each KPI's threshold, target and stretch (live preview).

    `actuals` and `employees` are the history the preview uses (e.g. one team's, from the step context).
    """

    def __init__(self, editor: FrameworkEditor, actuals: pd.DataFrame, employees: pd.DataFrame, team: str = ""):
        self.role = dropdown("Role", role_options(editor, team))
        self.weights = WeightsForm(editor, team, role=self.role)
        self.bands = BandsForm(editor, actuals, employees, team, role=self.role)
        super().__init__([self.role, w.HTML("<b>Weights</b>"), self.weights,
                          w.HTML("<b>Threshold, target and stretch</b>"), self.bands])
