"""A form to set a role KPI's threshold, target and stretch (or ranges), previewed live against its history."""

from __future__ import annotations

__all__ = ["BandsForm", "LEVELS", "RANGE_ENDS"]

from typing import TypedDict, cast

import ipywidgets as w
import pandas as pd
from matplotlib.figure import Figure

from kpi_workbook.analysis.history import HISTORY_COLUMNS, role_history
from kpi_workbook.analysis.targets import attainment_probability, verdict
from kpi_workbook.core.errors import InputError
from kpi_workbook.core.model import Polarity, RoleKpi
from kpi_workbook.core.numbers import number_text
from kpi_workbook.editing.editor import FrameworkEditor
from kpi_workbook.editing.observers import Event
from kpi_workbook.reports.charts import history_chart
from kpi_workbook.reports.figures import ChartFigure
from kpi_workbook.reports.units import level_text
from kpi_workbook.widgets.band_order import order_problems
from kpi_workbook.widgets.common import STYLE, dropdown, plain, role_options, set_status, typed_number
from kpi_workbook.widgets.following import Following, refresh_options

LEVELS = ("threshold", "target", "stretch")
RANGE_ENDS = ("target_low", "target_high", "threshold_low", "threshold_high")
_LABELS = {"threshold": "Threshold", "target": "Target", "stretch": "Stretch", "target_low": "Target from",
           "target_high": "Target to", "threshold_low": "Threshold from", "threshold_high": "Threshold to"}


def _number(name: str) -> w.Text:
    return w.Text(description=_LABELS[name], placeholder="not set", continuous_update=True, style=STYLE,
                  layout=w.Layout(width="20em"))


def _quiet(name: str, text: str) -> float | None | str:
    """The number typed, or the text itself when it is not one (for comparing without raising)."""
    try:
        return _parse(name, text)
    except InputError:
        return text


def _parse(name: str, text: str) -> float | None:
    """The number typed in a level field (blank: not set); InputError in plain words otherwise."""
    return typed_number(_LABELS[name], text)


def _shown(value: float | None) -> str:
    return "" if value is None else number_text(value, 15, grouped=False)


def _levels_of(assignment: RoleKpi | None) -> tuple[object, ...] | None:
    """The levels of an assignment (threshold, target, stretch and ranges), to see whether they changed."""
    if assignment is None:
        return None
    return tuple(getattr(assignment, name) for name in (*LEVELS, "target_range", "threshold_range"))


class _TypedBands(TypedDict, total=False):
    """The bands as typed: threshold, target and stretch, or the two ranges of a within-range KPI."""

    threshold: float | None
    target: float | None
    stretch: float | None
    target_range: tuple[float, float] | None
    threshold_range: tuple[float, float] | None


def _pair(low: float | None, high: float | None) -> tuple[float, float] | None:
    """A range typed as its two ends, or None while an end is not set."""
    return None if low is None or high is None else (low, high)


def _levels(value: object) -> str:
    """A level or a range as the status line says it: 25, 20 to 30, or "not set"."""
    if isinstance(value, tuple):
        return " to ".join(number_text(v, 6) for v in value)
    if isinstance(value, float | int):
        return number_text(value, 6)
    return "not set"


class BandsForm(Following, w.VBox):
    """Threshold, target and stretch of a role's KPI with a live preview: the history chart with the typed bands
    and the share of past values that would have met the typed target (its probability of attainment).

    It opens on the first role that has KPIs and its first KPI, showing their current levels; every valid value
    typed is applied to the editor at once (Save writes it), echoed in the KPI's unit, and flagged with its fix when
    the levels are out of order. `actuals` and `employees` are the history the preview uses (e.g. one team's, from
    the step context); `role` is a role picker shared with another form. It follows the editor: a discard or a
    reload shows the levels as they are then, and a KPI added in another form is offered at once.
    """

    def __init__(self, editor: FrameworkEditor, actuals: pd.DataFrame, employees: pd.DataFrame, team: str = "",
                 role: w.Dropdown | None = None):
        self.editor = editor
        self.team = team
        self.own_role = role is None
        self.history = role_history(editor.framework, actuals, employees)
        self.role = role if role is not None else dropdown("Role", role_options(editor, team))
        self.kpi = dropdown("KPI", [])
        self.fields = {name: _number(name) for name in LEVELS + RANGE_ENDS}
        self.echoes = {name: w.HTML(layout=w.Layout(width="14em")) for name in self.fields}
        self.rows = {name: w.HBox([field, self.echoes[name]]) for name, field in self.fields.items()}
        self.probability = w.HTML()
        self.preview = w.Image(format="png", layout=w.Layout(width="100%"))  # a value, not an output stream
        self.figure: Figure | None = None
        self._shown: tuple[object, ...] = ()  # the KPI and levels the fields and the chart show
        self.status = w.HTML()
        self._loading = False
        self.role.observe(self._load_role, names="value")
        self.kpi.observe(self._kpi_chosen, names="value")
        for field in self.fields.values():
            field.observe(self._typed, names="value")
        self._load_role()
        self.follow()
        fields = w.VBox([*([self.role] if self.own_role else []), self.kpi, *self.rows.values(), self.status,
                         self.probability], layout=w.Layout(flex="0 0 37em"))
        chart = w.Box([self.preview], layout=w.Layout(flex="1 1 auto", min_width="0", max_width="60em"))
        super().__init__([w.HBox([fields, chart],
                                 layout=w.Layout(width="100%", align_items="flex-start"))])

    def redraw(self, event: Event) -> None:
        """The role's KPIs and the chosen KPI's levels as the editor holds them; a field whose text reads as the
        level held is left as typed."""
        if self.own_role:
            refresh_options(self.role, role_options(self.editor, self.team))
        role = self.editor.framework.role(self.role.value or "")
        options = [(getattr(self.editor.framework.kpi(k.kpi), "name", k.kpi), k.kpi) for k in role.kpis] if role else []
        self._loading = True
        refresh_options(self.kpi, options)
        self._loading = False
        if self._shown != (self.kpi.value, _levels_of(self._assignment())) or event is not Event.CHANGED:
            self._load_kpi(keep_typed=True)  # a weight typed elsewhere leaves the levels and the chart as they are

    def _assignment(self) -> RoleKpi | None:
        role = self.editor.framework.role(self.role.value or "")
        return next((k for k in role.kpis if k.kpi == self.kpi.value), None) if role else None

    def _polarity(self) -> Polarity:
        definition = self.editor.framework.kpi(self.kpi.value or "")
        return Polarity(definition.polarity) if definition else Polarity.HIGHER_IS_BETTER

    def _load_role(self, _change: object = None) -> None:
        role = self.editor.framework.role(self.role.value or "")
        options = [(getattr(self.editor.framework.kpi(k.kpi), "name", k.kpi), k.kpi) for k in role.kpis] if role else []
        self._loading = True  # the KPI is loaded once, below, not once per trait change
        self.kpi.options = options
        self.kpi.value = options[0][1] if options else None
        self._loading = False
        self._load_kpi()

    def _kpi_chosen(self, _change: object = None) -> None:
        if not self._loading:
            self._load_kpi()

    def _load_kpi(self, _change: object = None, keep_typed: bool = False) -> None:
        """Show the chosen KPI's current levels (blank where none is set) and clear any earlier message."""
        assignment = self._assignment()
        ranged = self._polarity() is Polarity.WITHIN_RANGE
        for name, field in self.fields.items():
            self.rows[name].layout.display = "" if (name in RANGE_ENDS) == ranged else "none"
            field.disabled = assignment is None
        values: dict[str, float | None] = dict.fromkeys(LEVELS + RANGE_ENDS)
        if assignment is not None:
            values |= {name: getattr(assignment, name) for name in LEVELS}
            for prefix in ("target", "threshold"):
                pair = getattr(assignment, f"{prefix}_range") or (None, None)
                values |= {f"{prefix}_low": pair[0], f"{prefix}_high": pair[1]}
        self._loading = True
        for name, value in values.items():
            if not (keep_typed and _quiet(name, self.fields[name].value) == value):
                self.fields[name].value = _shown(value)
        self._loading = False
        self._echo()
        self.status.value = ""
        if assignment is None:
            self.probability.value = "<i>This role has no KPIs yet: add some in step 3.</i>"
            self.preview.value = b""
            self._shown = (self.kpi.value, None)
            return
        self._refresh_preview()

    def bands(self) -> _TypedBands:
        """The bands as typed: threshold/target/stretch, or target_range/threshold_range for a within-range KPI.

        InputError (in plain words) when a field holds something that is not a number.
        """
        problems = []
        values: dict[str, float | None] = {}
        for name, field in self.fields.items():
            try:
                values[name] = _parse(name, field.value)
            except InputError as exc:
                problems += exc.problems
        if problems:
            raise InputError(problems)
        if self._polarity() is Polarity.WITHIN_RANGE:
            return {"target_range": _pair(values["target_low"], values["target_high"]),
                    "threshold_range": _pair(values["threshold_low"], values["threshold_high"])}
        return {"threshold": values["threshold"], "target": values["target"], "stretch": values["stretch"]}

    def _unit(self) -> str:
        definition = self.editor.framework.kpi(self.kpi.value or "")
        return "" if definition is None else self.editor.framework.unit_of(definition)

    def _echo(self) -> None:
        """Beside each field, the number as it was understood, in the KPI's unit ("understood: 160,000 EUR")."""
        for name, field in self.fields.items():
            value = _quiet(name, field.value)
            echo = "" if value is None else (
                f"understood: <b>{level_text(value, self._unit())}</b>" if isinstance(value, float) else
                '<span style="color:#c62828">not a number</span>')
            self.echoes[name].value = f'<span style="line-height:28px">{echo}</span>'

    def _typed(self, _change: object = None) -> None:
        """Apply what was typed when it is a set of numbers, flag levels out of order, then redraw the preview."""
        if self._loading or self._assignment() is None:
            return
        self._echo()
        try:
            bands = self.bands()
        except InputError as exc:
            set_status(self.status, plain(exc), ok=False)
            return
        role, kpi = self.role.value, self.kpi.value
        typed = ", ".join(f"{name.replace('_', ' ')} {_levels(value)}" for name, value in bands.items())
        success = f"levels of {self._name()} applied ({typed}); press Save to write them"
        if "target_range" in bands:
            applied = self.edit(self.status, lambda: self.editor.set_ranges(role, kpi, bands["target_range"],
                                                                            bands["threshold_range"]), success)
        else:
            applied = self.edit(self.status, lambda: self.editor.set_bands(
                role, kpi, threshold=bands.get("threshold"), target=bands.get("target"), stretch=bands.get("stretch")),
                success)
        problems = order_problems(bands, self._polarity(), self._unit())
        if applied and problems:
            set_status(self.status, "\n".join([*problems, "Not ready to save: Save refuses levels out of order."]),
                       ok=False)
        self._refresh_preview(bands)

    def _name(self) -> str:
        return getattr(self.editor.framework.kpi(self.kpi.value or ""), "name", self.kpi.value)

    def _refresh_preview(self, bands: _TypedBands | None = None) -> None:
        self._shown = (self.kpi.value, _levels_of(self._assignment()))
        if bands is None:
            bands = self.bands()
        rows = self.history[(self.history["role"] == self.role.value) & (self.history["kpi_id"] == self.kpi.value)]
        polarity = self._polarity()
        probability = attainment_probability(rows["value"], polarity, bands.get("target"), bands.get("target_range"))
        settings = self.editor.framework.metadata.settings
        judged = verdict(probability, settings.achievable_low, settings.achievable_high)
        if rows["value"].notna().sum() == 0:
            share = "no history for this role and KPI"
        elif probability is None:
            share = "no target typed yet"
        else:
            share = f"{probability:.0%} of {rows['value'].notna().sum()} values"
        self.probability.value = f"Past values meeting this target: <b>{share}</b> — <b>{judged}</b>"
        figure = cast(ChartFigure, history_chart(rows[HISTORY_COLUMNS], polarity, bands=bands, title=self._name(),
                                                 unit=self._unit()))  # the package's charts are ChartFigures
        self.figure = figure
        self.preview.value = figure.png()

