"""FrameworkEditor: the editable state behind the forms (objectives, roles, responsibilities, role KPIs, bands).

Every edit is validated before it changes anything, so a rejected edit leaves the state as it was; saving
checks the whole framework first and writes the files atomically. Every edit, save, discard and reload is told to
the subscribed listeners (`editing.observers`), so the forms of a notebook follow one state.

Several editors may work on one workspace at once (two people, two notebooks). Each remembers the framework it
loaded and the content hashes of its files. A save first looks whether the files are still those: if someone saved
meanwhile, the changes made here and there are merged entry by entry (see `editing.merge`) when they touch
different entries; when they touch the same entry the save is refused, naming the entries and both values, and
nothing is written. `reload` then takes the files as they are now, keeping the changes made here that do not
clash. Every save that changes the framework moves its version on (see `editing.versions`).
"""

from __future__ import annotations

__all__ = ["EditError", "FrameworkEditor", "M", "SHOWN_CHANGES", "SaveResult", "changes_made", "clash_message"]

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kpi_workbook.analysis.checks import Finding, check_framework, has_errors
from kpi_workbook.analysis.diff import changes_in_words, diff_frameworks
from kpi_workbook.analysis.library import load_library
from kpi_workbook.core.atomic_files import writing_folder
from kpi_workbook.core.errors import InputError, KpiWorkbookError, Problem
from kpi_workbook.core.model import Framework, KpiDefinition, Objective, Role, RoleKpi
from kpi_workbook.editing.merge import merge_frameworks
from kpi_workbook.editing.messages import FORM, plain_problems
from kpi_workbook.editing.observers import Event, Observable, notifies
from kpi_workbook.editing.versions import with_next_version
from kpi_workbook.workspace.employees import read_employees
from kpi_workbook.workspace.files import framework_hashes, load_framework, load_framework_and_hashes, save_framework
from kpi_workbook.workspace.opener import Workspace, open_workspace

M = TypeVar("M", bound=BaseModel)
SHOWN_CHANGES = 8  # changes saved elsewhere that a merged save names, at most


class EditError(InputError):
    """An edit that cannot be applied; the state is left unchanged."""


@dataclass(frozen=True)
class SaveResult:
    """What a save did: whether files were written, as a draft or not, the findings of the checks, and the entries
    that were changed both here and in the files (the save was then refused: see `FrameworkEditor.reload`)."""

    saved: bool
    draft: bool
    findings: list[Finding] = field(default_factory=list)
    message: str = ""
    clashes: list[str] = field(default_factory=list)


def _problem(entry: str, message: str, field_name: str = "") -> EditError:
    return EditError(Problem(file=FORM, entry=entry, field=field_name, message=message))


def _rebuild(model: M, entry: str, changes: dict[str, Any]) -> M:
    """A validated copy of model with changes applied; invalid values raise EditError naming the field."""
    data = {**model.model_dump(), **changes}
    try:
        return type(model).model_validate(data)
    except ValidationError as exc:
        raise EditError(plain_problems(exc, entry, data)) from None


def _create(model: type[M], entry: str, data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise EditError(plain_problems(exc, entry, data)) from None


def _index(items: list, ident: str, attr: str, entry: str) -> int:
    for i, item in enumerate(items):
        if getattr(item, attr) == ident:
            return i
    if not ident:
        raise _problem(entry, f"Choose a {entry.split()[-1]} first.")
    raise _problem(f"{entry} '{ident}'", f"There is no {entry.split()[-1]} '{ident}' (it may have been removed).")


class FrameworkEditor(Observable):
    """Holds a working copy of a workspace's framework; forms call its methods, `save` writes the files.

    Forms, tables and charts `subscribe` to it: every edit, save, discard and reload tells them (see `Event`), so
    every form on one editor shows the same state.
    """

    def __init__(self, workspace: Workspace | str | Path, framework: Framework | None = None):
        """Edit the framework of `workspace` (its files as opened); `framework`, when given, is the working copy to
        start from instead (its differences from the files are unsaved changes)."""
        super().__init__()
        self.opened = workspace if isinstance(workspace, Workspace) else open_workspace(workspace)
        self.workspace = self.opened.root
        self._saved = self.opened.framework.model_copy(deep=True)
        self._hashes = self._hashes_of(self._saved)
        self.framework = (framework if framework is not None else self._saved).model_copy(deep=True)

    def _hashes_of(self, loaded: Framework) -> dict[str, str]:
        """The content hashes of the files `loaded` came from; none ({}) when the files hold something else now
        (or cannot be read now), so that the first save merges with them (or says why it cannot)."""
        try:
            on_disk, hashes = load_framework_and_hashes(self.workspace)
        except InputError:
            return {}
        return hashes if on_disk == loaded else {}

    @property
    def dirty(self) -> bool:
        """True when the working copy differs from the files last loaded or saved."""
        return self.framework != self._saved

    # objectives -------------------------------------------------------------------------------------------
    @notifies
    def add_objective(self, id: str, title: str, perspective: str, **fields: Any) -> Objective:
        """Add an objective (fields: description, owner, horizon, parent)."""
        if self.framework.objective(id) is not None:
            raise _problem(f"objective '{id}'", f'The id "{id}" exists already (another objective has it): '
                           "choose another id.", "id")
        objective = _create(Objective, f"objective '{id}'", {"id": id, "title": title, "perspective": perspective,
                                                             **fields})
        self._check_parent(objective)
        self.framework.objectives.append(objective)
        return objective

    @notifies
    def update_objective(self, id: str, **changes: Any) -> Objective:
        """Change fields of an objective (its id stays)."""
        i = _index(self.framework.objectives, id, "id", "objective")
        objective = _rebuild(self.framework.objectives[i], f"objective '{id}'", {**changes, "id": id})
        self._check_parent(objective)
        self.framework.objectives[i] = objective
        return objective

    def _check_parent(self, objective: Objective) -> None:
        parent, seen = objective.parent, {objective.id}
        while parent:
            if parent in seen:
                raise _problem(f"objective '{objective.id}'", "This parent would make a cycle (an objective below "
                               "its own child): choose another parent.", "parent")
            current = self.framework.objective(parent)
            if current is None:
                raise _problem(f"objective '{objective.id}'", f"There is no objective '{parent}' to be the parent.",
                               "parent")
            seen.add(parent)
            parent = current.parent

    @notifies
    def remove_objective(self, id: str) -> None:
        """Remove an objective; role KPIs stop referring to it and its children move up to its parent."""
        i = _index(self.framework.objectives, id, "id", "objective")
        removed = self.framework.objectives.pop(i)
        self.framework.objectives = [
            o.model_copy(update={"parent": removed.parent}) if o.parent == id else o for o in self.framework.objectives
        ]
        for role in self.framework.roles:
            role.kpis = [k.model_copy(update={"objectives": [o for o in k.objectives if o != id]}) for k in role.kpis]

    # roles and responsibilities ---------------------------------------------------------------------------
    def role(self, id: str) -> Role:
        """The role with this id (EditError if there is none)."""
        return self.framework.roles[_index(self.framework.roles, id, "id", "role")]

    @notifies
    def add_role(self, id: str, title: str, teams: Iterable[str] = (), purpose: str = "") -> Role:
        """Add a role without responsibilities or KPIs yet."""
        if self.framework.role(id) is not None:
            raise _problem(f"role '{id}'", f'The id "{id}" exists already (another role has it): '
                           "choose another id.", "id")
        self._check_teams(id, teams)
        role = _create(Role, f"role '{id}'", {"id": id, "title": title, "teams": list(teams), "purpose": purpose})
        self.framework.roles.append(role)
        return role

    @notifies
    def update_role(self, id: str, **changes: Any) -> Role:
        """Change title, teams or purpose of a role."""
        i = _index(self.framework.roles, id, "id", "role")
        if "teams" in changes:
            changes["teams"] = list(changes["teams"])
            self._check_teams(id, changes["teams"])
        role = _rebuild(self.framework.roles[i], f"role '{id}'", {**changes, "id": id})
        self.framework.roles[i] = role
        return role

    def _check_teams(self, role: str, teams: Iterable[str]) -> None:
        unknown = [t for t in teams if self.framework.team(t) is None]
        if unknown:
            known = ", ".join(t.id for t in self.framework.teams)
            raise _problem(f"role '{role}'", f"There is no such team (unknown team(s) {', '.join(unknown)}): "
                           f"choose among {known}.", "teams")

    @notifies
    def remove_role(self, id: str) -> None:
        """Remove a role; refused while people in employees.csv still hold it."""
        i = _index(self.framework.roles, id, "id", "role")
        holders = read_employees(self.workspace).query("role == @id")
        if len(holders):
            raise _problem(f"role '{id}'", f"{len(holders)} people in employees.csv hold this role; "
                                           "give them another role first.")
        self.framework.roles.pop(i)

    @notifies
    def add_responsibility(self, role: str, id: str, description: str, expected_outcome: str = "") -> None:
        """Add a key responsibility and its expected outcome to a role's job description."""
        current = self.role(role)
        if any(r.id == id for r in current.responsibilities):
            raise _problem(f"role '{role}'", f'The responsibility id "{id}" exists already: choose another id.', "id")
        responsibility = {"id": id, "description": description, "expected_outcome": expected_outcome}
        self._replace_role(role, responsibilities=[*current.model_dump()["responsibilities"], responsibility])

    @notifies
    def update_responsibility(self, role: str, id: str, **changes: Any) -> None:
        """Change the description or expected outcome of a responsibility."""
        current = self.role(role)
        items = current.model_dump()["responsibilities"]
        i = _index(current.responsibilities, id, "id", f"role '{role}' responsibility")
        items[i] = {**items[i], **changes, "id": id}
        self._replace_role(role, responsibilities=items)

    @notifies
    def remove_responsibility(self, role: str, id: str) -> None:
        """Remove a responsibility; the role's KPIs that measured it no longer name it."""
        current = self.role(role)
        _index(current.responsibilities, id, "id", f"role '{role}' responsibility")
        kpis = [{**k, "responsibility": None if k["responsibility"] == id else k["responsibility"]}
                for k in current.model_dump()["kpis"]]
        responsibilities = [r for r in current.model_dump()["responsibilities"] if r["id"] != id]
        self._replace_role(role, responsibilities=responsibilities, kpis=kpis)

    def _replace_role(self, role: str, **changes: Any) -> None:
        i = _index(self.framework.roles, role, "id", "role")
        self.framework.roles[i] = _rebuild(self.framework.roles[i], f"role '{role}'", changes)

    # role KPIs --------------------------------------------------------------------------------------------
    @notifies
    def add_kpi(self, role: str, kpi: str, weight: float = 0, **fields: Any) -> RoleKpi:
        """Assign a KPI to a role (fields: objectives, responsibility, bands, review_period).

        A KPI the framework does not define yet is copied from the library.
        """
        current = self.role(role)
        if any(k.kpi == kpi for k in current.kpis):
            raise _problem(f"role '{role}'", f"The KPI '{kpi}' is assigned already: change its weight or bands.",
                           "kpi")
        definition = self.framework.kpi(kpi) or self._library_kpi(kpi)
        assignment = _create(RoleKpi, f"role '{role}' KPI '{kpi}'", {"kpi": kpi, "weight": weight, **fields})
        if self.framework.kpi(kpi) is None:
            self.framework.kpis.append(definition)
        self._replace_role(role, kpis=[*current.model_dump()["kpis"], assignment.model_dump()])
        return assignment

    def _library_kpi(self, kpi: str) -> KpiDefinition:
        found = next((d for d in load_library() if d.id == kpi), None)
        if found is None:
            raise _problem(f"KPI '{kpi}'", "This KPI is not defined in the framework nor in the KPI library.", "kpi")
        return found

    @notifies
    def update_kpi(self, role: str, kpi: str, **changes: Any) -> RoleKpi:
        """Change fields of a role's KPI assignment (weight, bands, objectives, responsibility, review period)."""
        current = self.role(role)
        items = current.model_dump()["kpis"]
        i = _index(current.kpis, kpi, "kpi", f"role '{role}' KPI")
        items[i] = {**items[i], **changes, "kpi": kpi}
        self._replace_role(role, kpis=items)
        return self.role(role).kpis[i]

    @notifies
    def remove_kpi(self, role: str, kpi: str) -> None:
        """Take a KPI off a role (its definition stays in the framework for other roles)."""
        current = self.role(role)
        _index(current.kpis, kpi, "kpi", f"role '{role}' KPI")
        self._replace_role(role, kpis=[k for k in current.model_dump()["kpis"] if k["kpi"] != kpi])

    def set_weight(self, role: str, kpi: str, value: float) -> RoleKpi:
        """Set the weight of a role's KPI (a role's weights should sum to the framework's weight total)."""
        return self.update_kpi(role, kpi, weight=value)

    def weight_total(self, role: str) -> float:
        """The sum of a role's KPI weights."""
        return float(sum(k.weight for k in self.role(role).kpis))

    def set_bands(self, role: str, kpi: str, threshold: float | None = None, target: float | None = None,
                  stretch: float | None = None) -> RoleKpi:
        """Set threshold, target and stretch of a role's KPI (higher or lower is better)."""
        return self.update_kpi(role, kpi, threshold=threshold, target=target, stretch=stretch)

    def set_ranges(self, role: str, kpi: str, target_range: tuple[float, float] | None,
                   threshold_range: tuple[float, float] | None) -> RoleKpi:
        """Set the target range and the enclosing threshold range of a within-range KPI."""
        return self.update_kpi(role, kpi, target_range=target_range, threshold_range=threshold_range)

    def set_category(self, kpi: str, category: str) -> KpiDefinition:
        """Set the category of a KPI definition (output, quality, efficiency, behaviour, development)."""
        return self.update_definition(kpi, category=category)

    @notifies
    def update_definition(self, kpi: str, **changes: Any) -> KpiDefinition:
        """Change fields of a KPI definition (category, indicator, unit, formula, ...)."""
        i = _index(self.framework.kpis, kpi, "id", "KPI")
        definition = _rebuild(self.framework.kpis[i], f"KPI '{kpi}'", {**changes, "id": kpi})
        self.framework.kpis[i] = definition
        return definition

    # validation and saving --------------------------------------------------------------------------------
    def findings(self) -> list[Finding]:
        """The checks' findings on the working copy."""
        return check_framework(self.framework)

    def save(self, draft: bool = False) -> SaveResult:
        """Check, then write the framework files atomically, merged with changes saved meanwhile by others.

        With errors among the findings nothing is written unless `draft` is true. When the files changed since they
        were loaded, changes to different entries are merged (the editor then holds the merged framework) and
        changes to the same entry refuse the save, naming them (`SaveResult.clashes`). A save that changes the
        framework moves its version on. A failed or refused save leaves the files and the working copy as they were.
        """
        findings = self.findings()
        if has_errors(findings) and not draft:
            return SaveResult(False, False, findings, "not saved: fix the errors below, or save as a draft")
        try:
            self.opened.require_writable()
            with writing_folder(self.workspace):
                result = self._save_locked(findings, draft)
        except (OSError, KpiWorkbookError) as exc:
            return SaveResult(False, draft, findings, f"not saved: {exc}")
        if result.saved:
            self.notify(Event.SAVED)
        return result

    def _save_locked(self, findings: list[Finding], draft: bool) -> SaveResult:
        """The save, under the workspace's writer lock: compare, merge when needed, write, remember the new files."""
        framework, on_disk, incoming = self.framework, self._saved, ""
        if framework_hashes(self.workspace) != self._hashes:
            on_disk = load_framework(self.workspace)
            merge = merge_frameworks(self._saved, self.framework, on_disk)
            if merge.clashes:
                return SaveResult(False, draft, findings, clash_message(merge.clashes), merge.clashes)
            framework, incoming = merge.framework, changes_made(self._saved, on_disk)
            if framework != self.framework:
                findings = check_framework(framework)
                if has_errors(findings) and not draft:
                    return SaveResult(False, False, findings, "not saved: with the changes saved elsewhere "
                                      "meanwhile, the checks find errors (below); press Reload to take those changes "
                                      "in here, then fix the errors, or save as a draft")
        framework = with_next_version(framework, on_disk)
        save_framework(framework, self.workspace)
        self._take(framework, framework_hashes(self.workspace))
        errors = has_errors(findings)
        kind = "draft saved (with errors)" if errors else "saved"
        version = f", version {framework.metadata.version}" if framework != on_disk else " (nothing had changed)"
        merged = f"; merged with changes saved elsewhere meanwhile: {incoming}" if incoming else ""
        return SaveResult(True, draft and errors, findings, f"{kind}{version}{merged}")

    def _take(self, framework: Framework, hashes: dict[str, str], saved: Framework | None = None) -> None:
        """Hold `framework`, with `saved` (default: the same) as the files' content and `hashes` as their hashes."""
        self.framework = framework.model_copy(deep=True)
        self._saved = (saved if saved is not None else framework).model_copy(deep=True)
        self._hashes = hashes

    def reload(self) -> list[str]:
        """Take the framework files as they are now, keeping the changes made here that do not clash with them.

        Returns the clashes: the entries where the files' version replaced what was changed here (empty when none
        did). InputError when the files cannot be read.
        """
        on_disk, hashes = load_framework_and_hashes(self.workspace)
        merge = merge_frameworks(self._saved, self.framework, on_disk)
        self._take(merge.framework, hashes, saved=on_disk)
        self.notify(Event.RELOADED)
        return merge.clashes

    def discard(self) -> None:
        """Forget unsaved edits: back to the files last loaded or saved."""
        self.framework = self._saved.model_copy(deep=True)
        self.notify(Event.DISCARDED)


def clash_message(clashes: list[str]) -> str:
    """Why a save was refused, in plain words: the entries changed both here and in the files, and what to do."""
    listed = "\n".join(f"- {clash}" for clash in clashes)
    return ("not saved: someone saved the framework since you loaded it, and changed the same entries as you:\n"
            f"{listed}\nNothing was written. Press Reload to take the files as they are now (your other changes "
            "stay), then make these changes again if they should stand")


def changes_made(before: Framework, after: Framework) -> str:
    """The changes from `before` to `after` in words, the version left out; at most SHOWN_CHANGES, then a count."""
    table = diff_frameworks(before, after)
    table = table[~((table["kind"] == "metadata") & (table["field"] == "version"))]
    lines = changes_in_words(table, after)
    more = f"; and {len(lines) - SHOWN_CHANGES} more" if len(lines) > SHOWN_CHANGES else ""
    return "; ".join(lines[:SHOWN_CHANGES]) + more
