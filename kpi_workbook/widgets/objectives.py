"""A form to add, edit and remove strategic objectives."""

from __future__ import annotations

__all__ = ["ObjectivesForm", "TOP"]

from collections.abc import Callable
from typing import TypedDict

import ipywidgets as w

from kpi_workbook.core.model import Framework, Perspective
from kpi_workbook.editing.editor import FrameworkEditor
from kpi_workbook.editing.observers import Event
from kpi_workbook.steps.strategic_goals import PERSPECTIVE_LABELS
from kpi_workbook.widgets.common import NEW, button, clear_on_change, dropdown, text
from kpi_workbook.widgets.following import Following
from kpi_workbook.widgets.live import ALWAYS, redrawn


class _ObjectiveFields(TypedDict):
    """An objective's fields as typed in the form."""

    title: str
    perspective: str
    description: str
    owner: str
    horizon: str
    parent: str | None

TOP = "(none: a top objective)"


class ObjectivesForm(Following, w.VBox):
    """Pick an objective to edit it, or "(new objective)" to add one; changes stay in the editor until saved.

    It follows the editor: a discard or a reload shows the objectives as they are then.
    """

    def __init__(self, editor: FrameworkEditor):
        self.editor = editor
        self.choice = dropdown("Objective", [])
        self.id = text("Id", placeholder="e.g. grow_revenue")
        self.title = text("Title", placeholder="e.g. Grow recurring revenue by 15 %")
        self.perspective = dropdown("Perspective", [(label, p.value) for p, label in PERSPECTIVE_LABELS.items()])
        self.description = text("Description", area=True)
        self.owner = text("Owner", placeholder="e.g. CEO")
        self.horizon = text("Horizon", placeholder="e.g. 2026")
        self.parent = dropdown("Parent", [(TOP, NEW)], NEW)
        self.add_button = button("Add objective", "success")
        self.update_button = button("Update objective", "primary")
        self.remove_button = button("Remove objective", "danger")
        self.status = w.HTML()
        self.choice.observe(self._load, names="value")
        clear_on_change(self.status, self.choice, self.id, self.title, self.perspective, self.parent)
        self.add_button.on_click(self._add)
        self.update_button.on_click(self._update)
        self.remove_button.on_click(self._remove)
        self._refresh()
        self.follow()
        super().__init__([
            self.choice, self.id, self.title, self.perspective, self.description, self.owner, self.horizon,
            self.parent, w.HBox([self.add_button, self.update_button, self.remove_button]), self.status,
        ])

    def _refresh(self, selected: str = NEW) -> None:
        objectives = self.editor.framework.objectives
        self.choice.options = [("(new objective)", NEW)] + [(o.title, o.id) for o in objectives]
        self.parent.options = [(TOP, NEW)] + [(o.title, o.id) for o in objectives]
        self.parent.value = NEW
        self.choice.value = selected
        self._load()

    def redraw(self, event: Event) -> None:
        """The objectives as the editor holds them, the one being edited kept while it exists."""
        chosen = self.choice.value
        self._refresh(chosen if self.editor.framework.objective(chosen or "") else NEW)

    def redrawn(self, draw: Callable[[Framework], object]) -> w.Output:
        """An output showing `draw(framework)` of the framework being edited, drawn again after each change."""
        return redrawn(self.editor, draw, ALWAYS)

    def _load(self, _change: object = None) -> None:
        objective = self.editor.framework.objective(self.choice.value or "")
        editing = objective is not None
        self.id.disabled = editing
        self.add_button.disabled = editing
        self.update_button.disabled = self.remove_button.disabled = not editing
        if objective is not None:
            self.id.value, self.title.value = objective.id, objective.title
            self.perspective.value = Perspective(objective.perspective).value
            self.description.value, self.owner.value = objective.description, objective.owner
            self.horizon.value, self.parent.value = objective.horizon, objective.parent or NEW
        else:
            self.parent.value = NEW

    def _fields(self) -> _ObjectiveFields:
        return {"title": self.title.value.strip(), "perspective": self.perspective.value,
                "description": self.description.value.strip(), "owner": self.owner.value.strip(),
                "horizon": self.horizon.value.strip(), "parent": self.parent.value or None}

    def _add(self, _button: w.Button) -> None:
        ident, title = self.id.value.strip(), self.title.value.strip()
        self.edit(self.status, lambda: self.editor.add_objective(ident, **self._fields()),
                  f"added objective “{title}”", then=lambda: self._refresh(ident))

    def _update(self, _button: w.Button) -> None:
        ident, title = self.choice.value, self.title.value.strip()
        self.edit(self.status, lambda: self.editor.update_objective(ident, **self._fields()),
                  f"updated objective “{title}”", then=lambda: self._refresh(ident))

    def _remove(self, _button: w.Button) -> None:
        ident, title = self.choice.value, self.choice.label
        self.edit(self.status, lambda: self.editor.remove_objective(ident),
                  f"removed objective “{title}”; its KPIs and child objectives were relinked", then=self._refresh)
