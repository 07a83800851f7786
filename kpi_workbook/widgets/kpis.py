"""Forms to pick a role's KPIs from the library (with filters), set their categories, and set their weights."""

from __future__ import annotations

__all__ = ["ANY", "DETAILS", "KpiPicker", "WeightsForm", "weight_field"]

import html
from functools import partial

import ipywidgets as w

from kpi_workbook.analysis.library import FAMILIES, library_frame, search_library
from kpi_workbook.core.model import Category, Indicator, Polarity
from kpi_workbook.editing.editor import FrameworkEditor
from kpi_workbook.editing.observers import Event
from kpi_workbook.widgets.common import (
    NEW,
    STYLE,
    WIDTH,
    button,
    clear_on_change,
    dropdown,
    role_options,
    set_status,
    text,
)
from kpi_workbook.widgets.following import Following, refresh_options

ANY = ""
DETAILS = {"description": "Description", "formula": "Formula", "unit": "Unit", "polarity": "Direction",
           "indicator": "Indicator", "frequency": "Frequency", "data_source": "Data source"}


def _words(value: str) -> str:
    """A code word as people read it: higher_is_better -> higher is better."""
    return value.replace("_", " ")


def _beside(*children: w.Widget) -> w.HBox:
    """Buttons and the message they cause, on one line (the message wraps in the room left)."""
    return w.HBox(list(children), layout=w.Layout(align_items="center", width="100%"))


class KpiPicker(Following, w.VBox):
    """Filter the library by family, category, polarity and words; add the chosen KPI to a role.

    Also takes a KPI off a role, and sets the category and leading/lagging of a role's KPI. It follows the editor:
    weights typed in another form, a discard or a reload show in the role's list at once.
    """

    def __init__(self, editor: FrameworkEditor, team: str = ""):
        self.editor = editor
        self.team = team
        self.role = dropdown("Role", role_options(editor, team))
        self.family = dropdown("Family", [("(any)", ANY), *[(f, f) for f in FAMILIES]], ANY)
        self.category = dropdown("Category", [("(any)", ANY), *[(c.value, c.value) for c in Category]], ANY)
        self.polarity = dropdown("Direction", [("(any)", ANY), *[(_words(p.value), p.value) for p in Polarity]], ANY)
        self.search = text("Search", placeholder="words in name, description or formula, e.g. revenue")
        self.results = w.Select(options=[], rows=8, description="Library", layout=w.Layout(width=WIDTH))
        self.details = w.HTML()
        self.responsibility = dropdown("Responsibility", [])
        self.objectives = w.SelectMultiple(options=[], rows=4, description="Objectives", layout=w.Layout(width=WIDTH))
        self.weight = weight_field(0, "Weight")
        self.add_button = button("Add KPI to role", "success")
        self.added = w.HTML(layout=w.Layout(flex="1 1 auto"))
        self.assigned = w.Select(options=[], rows=8, description="Role's KPIs", layout=w.Layout(width=WIDTH))
        self.kpi_category = dropdown("Category", [c.value for c in Category])
        self.kpi_indicator = dropdown("Indicator", [i.value for i in Indicator])
        self.classify_button = button("Set category", "primary")
        self.remove_button = button("Remove KPI from role", "danger")
        self.status = w.HTML(layout=w.Layout(flex="1 1 auto"))
        for control in (self.family, self.category, self.polarity, self.search):
            control.observe(self._filter, names="value")
        self.results.observe(self._show_details, names="value")
        self.role.observe(self._load_role, names="value")
        self.assigned.observe(self._load_assigned, names="value")
        clear_on_change(self.status, self.role, self.results, self.assigned)
        clear_on_change(self.added, self.role, self.results)
        self.add_button.on_click(self._add)
        self.classify_button.on_click(self._classify)
        self.remove_button.on_click(self._remove)
        self.objectives.options = [(o.title, o.id) for o in editor.framework.objectives]
        self._filter()
        self._load_role()
        self.follow()
        finder = w.VBox([self.role, self.family, self.category, self.polarity, self.search, self.results,
                         self.responsibility, self.objectives, self.weight], layout=w.Layout(flex="0 0 37em"))
        details = w.Box([self.details], layout=w.Layout(flex="1 1 20em", min_width="0", padding="0 0 0 1em"))
        super().__init__([
            w.HTML("<b>Find KPIs in the library</b>"), w.HBox([finder, details]), _beside(self.add_button, self.added),
            w.HTML("<b>The role's KPIs</b>"), self.assigned, self.kpi_category, self.kpi_indicator,
            _beside(self.classify_button, self.remove_button, self.status),
        ])

    def _filter(self, _change: object = None) -> None:
        found = search_library(family=self.family.value or None, category=self.category.value or None,
                               polarity=self.polarity.value or None, text=self.search.value.strip() or None)
        self.results.options = [(f"{row.name} [{row.family}, {row.category}]", row.id) for row in found.itertuples()]
        self._show_details()

    def _show_details(self, _change: object = None) -> None:
        frame = library_frame()
        row = frame[frame["id"] == self.results.value]
        if row.empty:
            self.details.value = f"<i>{len(self.results.options)} KPIs match.</i>"
            return
        kpi = row.iloc[0]
        items = "".join(f"<li><b>{label}</b>: {html.escape(_words(str(kpi[f])))}</li>" for f, label in DETAILS.items())
        self.details.value = f"<b>{html.escape(kpi['name'])}</b><ul>{items}</ul>"

    def redraw(self, event: Event) -> None:
        """The roles, objectives and the role's KPIs as the editor holds them, choices kept where they exist."""
        refresh_options(self.role, role_options(self.editor, self.team))
        chosen = [o for o in self.objectives.value if self.editor.framework.objective(o)]
        self.objectives.options = [(o.title, o.id) for o in self.editor.framework.objectives]
        self.objectives.value = chosen
        self._load_role()

    def _load_role(self, _change: object = None) -> None:
        role = self.editor.framework.role(self.role.value or "")
        refresh_options(self.responsibility, [("(none)", NEW)] + [
            (r.description, r.id) for r in (role.responsibilities if role else [])
        ])
        refresh_options(self.assigned, [(f"{getattr(self.editor.framework.kpi(k.kpi), 'name', k.kpi)} "
                                         f"(weight {k.weight:g})", k.kpi) for k in (role.kpis if role else [])])
        self._load_assigned()

    def _load_assigned(self, _change: object = None) -> None:
        definition = self.editor.framework.kpi(self.assigned.value or "")
        self.classify_button.disabled = self.remove_button.disabled = definition is None
        if definition is not None:
            self.kpi_category.value = Category(definition.category).value
            self.kpi_indicator.value = Indicator(definition.indicator).value

    def _add(self, _button: w.Button) -> None:
        role, kpi = self.role.value, self.results.value
        if not kpi:
            set_status(self.added, "choose a KPI in the library list first", ok=False)
            return
        fields = {"objectives": list(self.objectives.value), "responsibility": self.responsibility.value or None}
        self.edit(self.added, lambda: self.editor.add_kpi(role, kpi, self.weight.value, **fields),
                  f"added {self._kpi_name(kpi)} to {self._role_title()}; set its weight below and its levels in "
                  "step 4", then=self._load_role)

    def _classify(self, _button: w.Button) -> None:
        kpi = self.assigned.value
        self.edit(self.status, lambda: self.editor.update_definition(
                  kpi, category=self.kpi_category.value, indicator=self.kpi_indicator.value),
                  f"{self._kpi_name(kpi)} is now {self.kpi_category.value}, {self.kpi_indicator.value} (for every "
                  "role using it)", then=self._load_assigned)

    def _remove(self, _button: w.Button) -> None:
        role, kpi = self.role.value, self.assigned.value
        name, title = self._kpi_name(kpi), self._role_title()
        self.edit(self.status, lambda: self.editor.remove_kpi(role, kpi), f"removed {name} from {title}",
                  then=self._load_role)

    def _kpi_name(self, kpi: str) -> str:
        """A KPI's name, from the framework or else from the library."""
        library = library_frame()
        named = library.loc[library["id"] == kpi, "name"]
        return getattr(self.editor.framework.kpi(kpi), "name", None) or (named.iloc[0] if len(named) else kpi)

    def _role_title(self) -> str:
        return getattr(self.editor.framework.role(self.role.value or ""), "title", self.role.value)


class WeightsForm(Following, w.VBox):
    """One weight per KPI of the chosen role, labelled with the KPI's name, with a live total that must reach the
    framework's weight total. A value out of range is refused with a message (the field keeps what was typed).

    `role` is a role picker shared with another form (step 3's KPI picker, step 4's targets form). It follows the
    editor: a KPI added or removed in another form, a discard or a reload redraw the rows and the total at once.
    """

    def __init__(self, editor: FrameworkEditor, team: str = "", role: w.Dropdown | None = None):
        self.editor = editor
        self.team = team
        self.own_role = role is None
        self.role = role if role is not None else dropdown("Role", role_options(editor, team))
        self.weights: dict[str, w.FloatText] = {}
        self.heading = w.HTML()
        self.rows = w.VBox()
        self.total = w.HTML()
        self.status = w.HTML()
        self.role.observe(self._load, names="value")
        self._load()
        self.follow()
        super().__init__([*([self.role] if self.own_role else []), self.heading, self.rows, self.total, self.status])

    def redraw(self, event: Event) -> None:
        """The chosen role's KPIs and weights as the editor holds them."""
        if self.own_role:
            refresh_options(self.role, role_options(self.editor, self.team))
        self._load()

    def _load(self, _change: object = None) -> None:
        role = self.editor.framework.role(self.role.value or "")
        self.weights, rows = {}, []
        for assignment in role.kpis if role else []:
            name = getattr(self.editor.framework.kpi(assignment.kpi), "name", assignment.kpi)
            field = weight_field(assignment.weight)
            field.observe(partial(self._changed, assignment.kpi, name), names="value")
            self.weights[assignment.kpi] = field
            rows.append(w.HBox([w.HTML(html.escape(name), layout=w.Layout(width="24em")), field]))
        self.heading.value = f"<b>Weights of {html.escape(role.title)}'s KPIs</b>" if role else ""
        self.rows.children = rows
        self.status.value = ""
        self._show_total()

    def _changed(self, kpi: str, name: str, change: dict) -> None:
        value = change["new"]
        self.edit(self.status, lambda: self.editor.set_weight(self.role.value, kpi, value),
                  f"{name}: weight {value:g}")
        self._show_total()

    def _show_total(self) -> None:
        if not self.role.value:
            self.total.value = "<i>No role to weigh.</i>"
            return
        total = self.editor.weight_total(self.role.value)
        goal = self.editor.framework.metadata.settings.weight_total
        gap = goal - total
        ok = abs(gap) < 1e-9
        note = "complete" if ok else (f"add {gap:g}" if gap > 0 else f"remove {-gap:g}")
        color = "#2e7d32" if ok else "#c62828"
        self.total.value = f'<b style="color:{color}">Total: {total:g} / {goal:g} — {note}</b>'


def weight_field(value: float, description: str = "") -> w.FloatText:
    """A weight field that reports every keystroke; range checks are the editor's, so nothing is clamped."""
    return w.FloatText(value=value, step=5, description=description, continuous_update=True, style=STYLE,
                       layout=w.Layout(width="16em" if description else "8em"))
