"""A form to add, edit and remove roles and their responsibilities (the job descriptions)."""

from __future__ import annotations

__all__ = ["RolesForm"]

from typing import TypedDict

import ipywidgets as w

from kpi_workbook.editing.editor import FrameworkEditor
from kpi_workbook.editing.observers import Event
from kpi_workbook.widgets.common import NEW, STYLE, button, clear_on_change, dropdown, text
from kpi_workbook.widgets.following import Following


class _RoleFields(TypedDict):
    """A role's fields as typed in the form."""

    title: str
    teams: list[str]
    purpose: str


class RolesForm(Following, w.VBox):
    """Edit a role's title, teams and purpose, and its key responsibilities with their expected outcomes.

    With a team, only that team's roles are offered and a new role belongs to the team. It follows the editor: a
    discard or a reload shows the roles as they are then.
    """

    def __init__(self, editor: FrameworkEditor, team: str = ""):
        self.editor = editor
        self.team = team
        self.choice = dropdown("Role", [])
        self.id = text("Id", placeholder="e.g. account_executive")
        self.title = text("Title", placeholder="e.g. Account Executive")
        self.teams = w.TagsInput(allowed_tags=[t.id for t in editor.framework.teams], allow_duplicates=False)
        self.purpose = text("Purpose", area=True, placeholder="Why the role exists, in one or two sentences")
        self.add_button = button("Add role", "success")
        self.update_button = button("Update role", "primary")
        self.remove_button = button("Remove role", "danger")
        self.responsibility = dropdown("Responsibility", [])
        self.responsibility_id = text("Id", placeholder="e.g. close_new_business")
        self.description = text("Description", area=True, placeholder="e.g. Close new business with mid-size accounts")
        self.outcome = text("Expected outcome", area=True, placeholder="e.g. New annual recurring revenue on plan")
        self.add_responsibility_button = button("Add responsibility", "success")
        self.update_responsibility_button = button("Update responsibility", "primary")
        self.remove_responsibility_button = button("Remove responsibility", "danger")
        self.status = w.HTML()
        self.choice.observe(self._load_role, names="value")
        self.responsibility.observe(self._load_responsibility, names="value")
        clear_on_change(self.status, self.choice, self.id, self.title, self.responsibility, self.responsibility_id,
                        self.description)
        for control, handler in [
            (self.add_button, self._add_role), (self.update_button, self._update_role),
            (self.remove_button, self._remove_role), (self.add_responsibility_button, self._add_responsibility),
            (self.update_responsibility_button, self._update_responsibility),
            (self.remove_responsibility_button, self._remove_responsibility),
        ]:
            control.on_click(handler)
        self._refresh()
        self.follow()
        super().__init__([
            w.HTML("<b>Role</b>"), self.choice, self.id, self.title,
            w.HBox([w.Label("Teams", layout=w.Layout(width=STYLE["description_width"])), self.teams]), self.purpose,
            w.HBox([self.add_button, self.update_button, self.remove_button]),
            w.HTML("<b>Key responsibilities</b>"), self.responsibility, self.responsibility_id, self.description,
            self.outcome,
            w.HBox([self.add_responsibility_button, self.update_responsibility_button,
                    self.remove_responsibility_button]),
            self.status,
        ])

    def _roles(self) -> list:
        framework = self.editor.framework
        return framework.roles_of_team(self.team) if self.team else framework.roles

    def _refresh(self, selected: str = NEW) -> None:
        self.choice.options = [("(new role)", NEW)] + [(r.title, r.id) for r in self._roles()]
        self.choice.value = selected
        self._load_role()

    def redraw(self, event: Event) -> None:
        """The roles as the editor holds them, the role and responsibility being edited kept while they exist."""
        role, responsibility = self.choice.value, self.responsibility.value
        self._refresh(role if self.editor.framework.role(role or "") else NEW)
        if responsibility in [value for _label, value in self.responsibility.options]:
            self.responsibility.value = responsibility

    def _load_role(self, _change: object = None) -> None:
        role = self.editor.framework.role(self.choice.value or "")
        editing = role is not None
        self.id.disabled = self.add_button.disabled = editing
        self.update_button.disabled = self.remove_button.disabled = not editing
        for control in (self.responsibility, self.add_responsibility_button):
            control.disabled = not editing
        if role is not None:
            self.id.value, self.title.value, self.purpose.value = role.id, role.title, role.purpose
            self.teams.value = list(role.teams)
        elif not self.teams.value and self.team:
            self.teams.value = [self.team]
        self._refresh_responsibilities()

    def _refresh_responsibilities(self, selected: str = NEW) -> None:
        role = self.editor.framework.role(self.choice.value or "")
        items = role.responsibilities if role else []
        self.responsibility.options = [("(new responsibility)", NEW)] + [(r.description, r.id) for r in items]
        self.responsibility.value = selected
        self._load_responsibility()

    def _load_responsibility(self, _change: object = None) -> None:
        role = self.editor.framework.role(self.choice.value or "")
        found = next((r for r in (role.responsibilities if role else []) if r.id == self.responsibility.value), None)
        editing = found is not None
        self.responsibility_id.disabled = editing
        self.add_responsibility_button.disabled = editing or role is None
        self.update_responsibility_button.disabled = self.remove_responsibility_button.disabled = not editing
        if found is not None:
            self.responsibility_id.value = found.id
            self.description.value, self.outcome.value = found.description, found.expected_outcome

    def _role_fields(self) -> _RoleFields:
        return {"title": self.title.value.strip(), "teams": list(self.teams.value),
                "purpose": self.purpose.value.strip()}

    def _add_role(self, _button: w.Button) -> None:
        ident, title = self.id.value.strip(), self.title.value.strip()
        self.edit(self.status, lambda: self.editor.add_role(ident, **self._role_fields()), f"added the role {title}",
                  then=lambda: self._refresh(ident))

    def _update_role(self, _button: w.Button) -> None:
        ident, title = self.choice.value, self.title.value.strip()
        self.edit(self.status, lambda: self.editor.update_role(ident, **self._role_fields()),
                  f"updated the role {title}", then=lambda: self._refresh(ident))

    def _remove_role(self, _button: w.Button) -> None:
        ident, title = self.choice.value, self.choice.label
        self.edit(self.status, lambda: self.editor.remove_role(ident), f"removed the role {title}",
                  then=self._refresh)

    def _responsibility_fields(self) -> dict[str, str]:
        return {"description": self.description.value.strip(), "expected_outcome": self.outcome.value.strip()}

    def _add_responsibility(self, _button: w.Button) -> None:
        role, ident = self.choice.value, self.responsibility_id.value.strip()
        self.edit(self.status, lambda: self.editor.add_responsibility(role, ident, **self._responsibility_fields()),
                  f"added the responsibility “{self.description.value.strip()}” to {self.choice.label}",
                  then=lambda: self._refresh_responsibilities(ident))

    def _update_responsibility(self, _button: w.Button) -> None:
        role, ident = self.choice.value, self.responsibility.value
        self.edit(self.status,
                  lambda: self.editor.update_responsibility(role, ident, **self._responsibility_fields()),
                  f"updated the responsibility “{self.description.value.strip()}”",
                  then=lambda: self._refresh_responsibilities(ident))

    def _remove_responsibility(self, _button: w.Button) -> None:
        role, ident = self.choice.value, self.responsibility.value
        self.edit(self.status, lambda: self.editor.remove_responsibility(role, ident),
                  f"removed the responsibility “{self.responsibility.label}”", then=self._refresh_responsibilities)
