"""Step 4's form: one role picker for the role's weights and for the levels of its KPIs."""

from __future__ import annotations

__all__ = ["TargetsForm"]

import ipywidgets as w
import pandas as pd

from kpi_workbook.editing.editor import FrameworkEditor
from kpi_workbook.editing.observers import Event
from kpi_workbook.widgets.bands import BandsForm
from kpi_workbook.widgets.common import dropdown, role_options
from kpi_workbook.widgets.following import Following, refresh_options
from kpi_workbook.widgets.kpis import WeightsForm


class TargetsForm(Following, w.VBox):
    """Choose a role once; set its weights (live total) and each KPI's threshold, target and stretch (live preview).

    `actuals` and `employees` are the history the preview uses (e.g. one team's, from the step context).
    """

    def __init__(self, editor: FrameworkEditor, actuals: pd.DataFrame, employees: pd.DataFrame, team: str = ""):
        self.editor = editor
        self.team = team
        self.role = dropdown("Role", role_options(editor, team))
        self.weights = WeightsForm(editor, team, role=self.role)
        self.bands = BandsForm(editor, actuals, employees, team, role=self.role)
        self.follow()
        super().__init__([self.role, self.weights, w.HTML("<b>Threshold, target and stretch</b>"), self.bands])

    def redraw(self, event: Event) -> None:
        """The roles offered as the editor holds them (the forms below redraw themselves)."""
        refresh_options(self.role, role_options(self.editor, self.team))
