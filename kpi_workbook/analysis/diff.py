"""Differences between two framework versions: added, removed and changed entries, field by field.

Kinds compared: metadata, objectives, teams, KPI definitions, roles (title, teams, purpose), responsibilities
(``role/responsibility``) and assignments (``role/kpi``: weight, bands, objectives, responsibility, review period).
"""

from __future__ import annotations

__all__ = [
    "CHANGES", "DIFF_COLUMNS", "KINDS", "changes_in_words", "diff_frameworks", "diff_workspaces", "format_diff",
    "show_value",
]

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from kpi_workbook.core.model import Framework
from kpi_workbook.workspace.files import load_framework

DIFF_COLUMNS = ["kind", "id", "change", "field", "old", "new"]
KINDS = {
    "metadata": "Metadata",
    "objective": "Objectives",
    "team": "Teams",
    "kpi": "KPI definitions",
    "role": "Roles",
    "responsibility": "Responsibilities (role/responsibility)",
    "assignment": "Assignments (role/KPI)",
}
CHANGES = {"removed": "-", "added": "+", "changed": "~"}
_BAND_FIELDS = {"threshold", "target", "stretch", "target_range", "threshold_range"}
_SUMMARY_FIELDS = {"objective": "title", "team": "name", "kpi": "name", "role": "title",
                   "responsibility": "description"}


def _flat(model: BaseModel, exclude: set[str] | None = None) -> dict[str, Any]:
    """A model's fields as a flat dict; nested mappings (settings) get dotted keys."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else key, inner)
        else:
            flat[prefix] = value

    walk("", model.model_dump(mode="json", exclude=exclude))
    return flat


def _entries(framework: Framework) -> dict[str, dict[str, dict[str, Any]]]:
    """kind → id → fields, for every entry of a framework (a role's second assignment of a KPI gets ``#2``)."""
    entries: dict[str, dict[str, dict[str, Any]]] = {
        "metadata": {"metadata": _flat(framework.metadata)},
        "objective": {o.id: _flat(o) for o in framework.objectives},
        "team": {t.id: _flat(t) for t in framework.teams},
        "kpi": {k.id: _flat(k) for k in framework.kpis},
        "role": {r.id: _flat(r, exclude={"responsibilities", "kpis"}) for r in framework.roles},
        "responsibility": {},
        "assignment": {},
    }
    for role in framework.roles:
        for responsibility in role.responsibilities:
            entries["responsibility"][f"{role.id}/{responsibility.id}"] = _flat(responsibility)
        for assignment in role.kpis:
            key = f"{role.id}/{assignment.kpi}"
            n = 2
            while key in entries["assignment"]:
                key, n = f"{role.id}/{assignment.kpi}#{n}", n + 1
            entries["assignment"][key] = _flat(assignment, exclude={"kpi"})
    return entries


def show_value(value: Any) -> str:
    """A value as short text: empty for None, integral floats without decimals, lists as [a, b]."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _links(kind: str, fields: dict[str, Any]) -> list[str]:
    """The links an entry makes, in words: an objective's parent, an assignment's objectives and responsibility."""
    if kind == "objective" and fields.get("parent"):
        return [f"under {fields['parent']}"]
    if kind != "assignment":
        return []
    links = [f"serves {', '.join(fields['objectives'])}"] if fields.get("objectives") else []
    return links + ([f"responsibility {fields['responsibility']}"] if fields.get("responsibility") else [])


def _summary(kind: str, fields: dict[str, Any]) -> str:
    """An added or removed entry in short: its title (or an assignment's weight and bands), then its links."""
    if kind == "assignment":
        names = ("weight", "threshold", "target", "stretch", "target_range", "threshold_range")
        parts = [f"{name} {show_value(fields[name])}" for name in names if fields.get(name) is not None]
    else:
        parts = [show_value(fields.get(_SUMMARY_FIELDS.get(kind, ""), ""))]
    return ", ".join(part for part in (*parts, *_links(kind, fields)) if part)


def diff_frameworks(old: Framework, new: Framework) -> pd.DataFrame:
    """Every difference as a row: kind, id, change (added/removed/changed), field, old and new value as text.

    An added or removed entry is one row (field empty) with a short summary; a changed entry has one row per
    changed field.
    """
    before, after = _entries(old), _entries(new)
    rows = []
    for kind in KINDS:
        old_entries, new_entries = before[kind], after[kind]
        for ident, fields in old_entries.items():
            if ident not in new_entries:
                rows.append((kind, ident, "removed", "", _summary(kind, fields), ""))
        for ident, fields in new_entries.items():
            if ident not in old_entries:
                rows.append((kind, ident, "added", "", "", _summary(kind, fields)))
                continue
            previous = old_entries[ident]
            for name in dict.fromkeys([*previous, *fields]):
                if previous.get(name) != fields.get(name):
                    rows.append((kind, ident, "changed", name, show_value(previous.get(name)),
                                 show_value(fields.get(name))))
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


def diff_workspaces(old: str | Path, new: str | Path) -> pd.DataFrame:
    """The differences between the frameworks of two workspace folders (InputError if either cannot be read)."""
    return diff_frameworks(load_framework(old), load_framework(new))


def format_diff(table: pd.DataFrame, old_label: str = "old", new_label: str = "new") -> str:
    """A terminal report: a count line, then changes grouped by kind with + (added), - (removed), ~ (changed)."""
    if table.empty:
        return f"No changes between {old_label} and {new_label}.\n"
    counts = table.drop_duplicates(["kind", "id", "change"])["change"].value_counts()
    summary = ", ".join(f"{counts.get(change, 0)} {change}" for change in ("added", "removed", "changed"))
    lines = [f"Changes from {old_label} to {new_label}: {summary} entries"]
    for kind, of_kind in table.groupby("kind", sort=False):
        lines += ["", KINDS[kind]]
        for (ident, change), rows in of_kind.groupby(["id", "change"], sort=False):
            marker = CHANGES[change]
            if change == "changed":
                lines.append(f"  {marker} {ident}")
                lines += [f"      {r.field}: {r.old or '(none)'} -> {r.new or '(none)'}" for r in rows.itertuples()]
            else:
                text = rows["old"].iloc[0] if change == "removed" else rows["new"].iloc[0]
                lines.append(f"  {marker} {ident}" + (f": {text}" if text else ""))
    return "\n".join(lines) + "\n"


def _entry_words(kind: str, ident: str) -> str:
    if kind == "assignment":
        role, _, kpi = ident.partition("/")
        return f"{kpi} for {role}"
    if kind == "responsibility":
        role, _, item = ident.partition("/")
        return f"responsibility {item} of {role}"
    return ident if kind == "metadata" else f"{kind} {ident}"


def changes_in_words(table: pd.DataFrame, framework: Framework | None = None) -> list[str]:
    """One line per difference as a reviewer reads it, e.g. ``weight of win_rate for account_executive: 15 → 20``
    or ``target of time_to_hire for recruiter: 30 → 25 days`` (units from `framework`'s KPI definitions)."""
    lines = []
    for row in table.itertuples():
        what = _entry_words(row.kind, row.id)
        if row.change == "added":
            lines.append(f"added {what}" + (f": {row.new}" if row.new else ""))
        elif row.change == "removed":
            lines.append(f"removed {what}" + (f" (was: {row.old})" if row.old else ""))
        else:
            kpi = framework.kpi(row.id.partition("/")[2]) if framework is not None and row.kind == "assignment" \
                else None
            unit = f" {kpi.unit}" if kpi is not None and kpi.unit and row.field in _BAND_FIELDS else ""
            field = row.field.replace("_", " ")
            lines.append(f"{field} of {what}: {row.old or '(none)'} → {row.new or '(none)'}{unit}")
    return lines
