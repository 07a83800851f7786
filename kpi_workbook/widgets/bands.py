"""A form to set a role KPI's threshold, target and stretch (or ranges), previewed live against its history."""

from __future__ import annotations

from functools import partial

import ipywidgets as w
import pandas as pd
from IPython.display import display
from matplotlib.figure import Figure

from kpi_workbook.analysis.history import HISTORY_COLUMNS, role_history
from kpi_workbook.analysis.targets import attainment_probability, verdict
from kpi_workbook.core.model import Polarity
from kpi_workbook.editing.editor import FrameworkEditor
from kpi_workbook.reports.charts import history_chart
from kpi_workbook.widgets.common import attempt, button, dropdown

_LEVELS = ("threshold", "target", "stretch")
_RANGE_ENDS = ("target_low", "target_high", "threshold_low", "threshold_high")


def _number(description: str) -> w.FloatText:
    return w.FloatText(description=description, style={"description_width": "10em"}, layout=w.Layout(width="22em"))


class BandsForm(w.VBox):
    """Threshold, target and stretch of a role's KPI with a live preview: the history chart with the typed bands
    and the share of past values that would have met the typed target (its probability of attainment).

    `actuals` and `employees` are the history the preview uses (e.g. one team's, from the step context).
    """

    def __init__(self, editor: FrameworkEditor, actuals: pd.DataFrame, employees: pd.DataFrame, team: str = ""):
        self.editor = editor
        framework = editor.framework
        self.history = role_history(framework, actuals, employees)
        roles = framework.roles_of_team(team) if team else framework.roles
        self.role = dropdown("Role", [(f"{r.id} — {r.title}", r.id) for r in roles])
        self.kpi = dropdown("KPI", [])
        self.fields = {name: _number(name.replace("_", " ")) for name in _LEVELS + _RANGE_ENDS}
        self.probability = w.HTML()
        self.preview = w.Output()
        self.figure: Figure | None = None
        self.apply_button = button("Apply bands", "primary", "keep these bands in the framework (then Save)")
        self.status = w.HTML()
        self.role.observe(self._load_role, names="value")
        self.kpi.observe(self._load_kpi, names="value")
        for field in self.fields.values():
            field.observe(self._refresh_preview, names="value")
        self.apply_button.on_click(self._apply)
        self._loading = False
        self._load_role()
        super().__init__([self.role, self.kpi, *self.fields.values(), self.apply_button, self.status,
                          self.probability, self.preview])

    def _assignment(self):
        role = self.editor.framework.role(self.role.value or "")
        return next((k for k in role.kpis if k.kpi == self.kpi.value), None) if role else None

    def _polarity(self) -> Polarity:
        definition = self.editor.framework.kpi(self.kpi.value or "")
        return Polarity(definition.polarity) if definition else Polarity.HIGHER_IS_BETTER

    def _load_role(self, _change: object = None) -> None:
        role = self.editor.framework.role(self.role.value or "")
        self.kpi.options = [(k.kpi, k.kpi) for k in role.kpis] if role else []
        self._load_kpi()

    def _load_kpi(self, _change: object = None) -> None:
        assignment = self._assignment()
        ranged = self._polarity() is Polarity.WITHIN_RANGE
        for name, field in self.fields.items():
            field.layout.display = "" if (name in _RANGE_ENDS) == ranged else "none"
        if assignment is not None:
            self._loading = True
            values = {"threshold": assignment.threshold, "target": assignment.target, "stretch": assignment.stretch}
            for prefix in ("target", "threshold"):
                pair = getattr(assignment, f"{prefix}_range") or (None, None)
                values |= {f"{prefix}_low": pair[0], f"{prefix}_high": pair[1]}
            for name, value in values.items():
                self.fields[name].value = 0.0 if value is None else value
            self._loading = False
        self._refresh_preview()

    def bands(self) -> dict[str, object]:
        """The bands as typed: threshold/target/stretch, or target_range/threshold_range for a within-range KPI."""
        v = {name: field.value for name, field in self.fields.items()}
        if self._polarity() is Polarity.WITHIN_RANGE:
            return {"target_range": (v["target_low"], v["target_high"]),
                    "threshold_range": (v["threshold_low"], v["threshold_high"])}
        return {name: v[name] for name in _LEVELS}

    def _refresh_preview(self, _change: object = None) -> None:
        if self._loading or self._assignment() is None:
            return
        rows = self.history[(self.history["role"] == self.role.value) & (self.history["kpi_id"] == self.kpi.value)]
        bands, polarity = self.bands(), self._polarity()
        probability = attainment_probability(rows["value"], polarity, bands.get("target"), bands.get("target_range"))
        settings = self.editor.framework.metadata.settings
        judged = verdict(probability, settings.achievable_low, settings.achievable_high)
        share = "no history" if probability is None else f"{probability:.0%} of {rows['value'].notna().sum()} values"
        self.probability.value = f"Past values meeting this target: <b>{share}</b> — <b>{judged}</b>"
        definition = self.editor.framework.kpi(self.kpi.value)
        self.figure = history_chart(rows[HISTORY_COLUMNS], polarity, bands=bands, title=definition.name,
                                    unit=definition.unit)
        self.preview.clear_output(wait=True)
        with self.preview:
            display(self.figure)

    def _apply(self, _button: w.Button) -> None:
        role, kpi, bands = self.role.value, self.kpi.value, self.bands()
        if "target_range" in bands:
            action = partial(self.editor.set_ranges, role, kpi, bands["target_range"], bands["threshold_range"])
        else:
            action = partial(self.editor.set_bands, role, kpi, **bands)
        attempt(self.status, action, f"bands of {kpi} for {role} applied; press Save to write them")
