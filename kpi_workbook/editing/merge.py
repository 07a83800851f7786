"""Three-way merge of frameworks: what an editor loaded (base), what it holds now (ours) and what the files hold now
(theirs, saved meanwhile by someone else).

Entries are merged one by one, keyed by id: objectives, teams, KPI definitions, roles (title, teams, purpose,
responsibilities) and each role's KPI assignments (by KPI id), plus the framework's metadata as one entry. An entry
changed on one side only takes that side's version; an entry changed on both sides in different ways is a clash,
described in plain words, and the merged framework then holds the files' version of it. The metadata version is
not compared: every save moves it on (see `editing.versions`).
"""

from __future__ import annotations

__all__ = ["E", "Merge", "describe_clash", "merge_frameworks"]

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from pydantic import BaseModel

from kpi_workbook.core.model import Framework, Metadata, Role, RoleKpi
from kpi_workbook.core.numbers import number_text
from kpi_workbook.editing.messages import label

E = TypeVar("E", bound=BaseModel)
_ITEM_NAMES = {"kpis": "KPI", "responsibilities": "responsibility"}
_SHOWN_LENGTH = 60


@dataclass(frozen=True)
class Merge:
    """A merged framework and the clashes found (each a sentence); with clashes, the files' version was kept."""

    framework: Framework
    clashes: list[str] = field(default_factory=list)


def merge_frameworks(base: Framework, ours: Framework, theirs: Framework) -> Merge:
    """Merge the changes `ours` and `theirs` made to `base`, entry by entry (see the module's docstring)."""
    clashes: list[str] = []
    metadata = _merge_metadata(base.metadata, ours.metadata, theirs.metadata, clashes)
    objectives = _merge_entries(base.objectives, ours.objectives, theirs.objectives, lambda o: o.id,
                                lambda key: f"objective '{key}'", clashes)
    teams = _merge_entries(base.teams, ours.teams, theirs.teams, lambda t: t.id, lambda key: f"team '{key}'", clashes)
    kpis = _merge_entries(base.kpis, ours.kpis, theirs.kpis, lambda k: k.id, lambda key: f"KPI '{key}'", clashes)
    roles = _merge_roles(base.roles, ours.roles, theirs.roles, clashes)
    merged = Framework(metadata=metadata, objectives=objectives, teams=teams, kpis=kpis, roles=roles)
    return Merge(merged, clashes)


@overload
def _pick(base: E, ours: E, theirs: E) -> tuple[E, bool]: ...


@overload
def _pick(base: E | None, ours: E | None, theirs: E | None) -> tuple[E | None, bool]: ...


def _pick(base: E | None, ours: E | None, theirs: E | None) -> tuple[E | None, bool]:
    """The merged version of one entry (None: absent) and whether it merged without a clash (else: theirs)."""
    if ours == theirs or theirs == base:
        return ours, True
    if ours == base:
        return theirs, True
    return theirs, False


def _keyed(entries: Iterable[E], key: Callable[[E], str]) -> dict[str, E]:
    """Entries by key; a repeated key gets ``#2``, ``#3``... so that no entry is dropped."""
    keyed: dict[str, E] = {}
    for entry in entries:
        ident, n = key(entry), 2
        while ident in keyed:
            ident, n = f"{key(entry)}#{n}", n + 1
        keyed[ident] = entry
    return keyed


def _merge_entries(base: list[E], ours: list[E], theirs: list[E], key: Callable[[E], str],
                   name: Callable[[str], str], clashes: list[str]) -> list[E]:
    """A merged list: ours' order, then the entries added in theirs; clashes are appended to `clashes`."""
    b, o, t = _keyed(base, key), _keyed(ours, key), _keyed(theirs, key)
    merged = []
    for ident in dict.fromkeys([*o, *t]):
        picked, merged_cleanly = _pick(b.get(ident), o.get(ident), t.get(ident))
        if not merged_cleanly:
            clashes.append(describe_clash(name(ident), b.get(ident), o.get(ident), t.get(ident)))
        if picked is not None:
            merged.append(picked)
    return merged


def _merge_metadata(base: Metadata, ours: Metadata, theirs: Metadata, clashes: list[str]) -> Metadata:
    """Merged metadata; its version is ours when set here by hand, else the files'."""
    def unversioned(metadata: Metadata) -> Metadata:
        return metadata.model_copy(update={"version": ""})

    picked, merged_cleanly = _pick(unversioned(base), unversioned(ours), unversioned(theirs))
    if not merged_cleanly:
        clashes.append(describe_clash("framework.yaml", unversioned(base), unversioned(ours), unversioned(theirs)))
    version = ours.version if ours.version != base.version else theirs.version
    return picked.model_copy(update={"version": version})


def _merge_roles(base: list[Role], ours: list[Role], theirs: list[Role], clashes: list[str]) -> list[Role]:
    """Merged roles: a role changed on both sides is merged field by field and assignment by assignment."""
    b, o, t = _keyed(base, lambda r: r.id), _keyed(ours, lambda r: r.id), _keyed(theirs, lambda r: r.id)
    merged = []
    for ident in dict.fromkeys([*o, *t]):
        picked, merged_cleanly = _pick(b.get(ident), o.get(ident), t.get(ident))
        if not merged_cleanly and all(ident in side for side in (b, o, t)):
            picked = _merge_role(b[ident], o[ident], t[ident], clashes)
        elif not merged_cleanly:
            clashes.append(describe_clash(f"role '{ident}'", b.get(ident), o.get(ident), t.get(ident)))
        if picked is not None:
            merged.append(picked)
    return merged


def _merge_role(base: Role, ours: Role, theirs: Role, clashes: list[str]) -> Role:
    """One role changed on both sides: its own fields as one entry, then its KPI assignments by KPI id."""
    def fields(role: Role) -> Role:
        return role.model_copy(update={"kpis": []})

    picked, merged_cleanly = _pick(fields(base), fields(ours), fields(theirs))
    if not merged_cleanly:
        clashes.append(describe_clash(f"role '{base.id}'", fields(base), fields(ours), fields(theirs)))
    kpis: list[RoleKpi] = _merge_entries(base.kpis, ours.kpis, theirs.kpis, lambda k: k.kpi,
                                         lambda key: f"role '{base.id}': KPI '{key.partition('#')[0]}'", clashes)
    return picked.model_copy(update={"kpis": kpis})


# describing a clash ------------------------------------------------------------------------------------------------

def describe_clash(name: str, base: BaseModel | None, ours: BaseModel | None, theirs: BaseModel | None) -> str:
    """One sentence on an entry changed both here and in the files, e.g. ``role 'account_executive': KPI 'win_rate'
    target was changed elsewhere (on disk 26, here 25)``."""
    b, o, t = (_flat(entry) if entry is not None else None for entry in (base, ours, theirs))
    if o is None:
        return f"{name} was removed here but changed elsewhere ({_changes(b or {}, t or {}, 'on disk')})"
    if t is None:
        return f"{name} was removed elsewhere but changed here ({_changes(b or {}, o, 'here')})"
    if b is None:
        differ = [f"{key} on disk {_shown(t.get(key))}, here {_shown(o.get(key))}" for key in _differing(o, t)]
        return f"{name} was added both here and elsewhere, differently: {'; '.join(differ)}"
    return f"{name} {'; '.join(_field_clash(key, b, o, t) for key in _differing(o, t))}"


def _field_clash(key: str, base: dict, ours: dict, theirs: dict) -> str:
    mine, disk = _shown(ours.get(key)), _shown(theirs.get(key))
    if ours.get(key) == base.get(key):
        return f"{key} was changed elsewhere (on disk {disk}; here it is still {mine})"
    if theirs.get(key) == base.get(key):
        return f"{key} was changed here (here {mine}; on disk it is still {disk})"
    return f"{key} was changed elsewhere (on disk {disk}, here {mine})"


def _differing(one: dict, other: dict) -> list[str]:
    return [key for key in dict.fromkeys([*one, *other]) if one.get(key) != other.get(key)]


def _changes(base: dict, changed: dict, where: str) -> str:
    return "; ".join(f"{key} {where} {_shown(changed.get(key))}" for key in _differing(base, changed))


def _flat(entry: BaseModel) -> dict[str, Any]:
    """An entry's fields by readable name: ``target``, ``settings weight total``, ``KPI 'win_rate' target``."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix} {label(key)}".strip(), inner)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            item = _ITEM_NAMES.get(prefix, prefix)
            for inner in value:
                ident = inner.get("id") or inner.get("kpi")
                walk(f"{item} '{ident}'", {k: v for k, v in inner.items() if k not in ("id", "kpi")})
        else:
            flat[prefix] = value

    walk("", entry.model_dump(mode="json"))
    return flat


def _shown(value: Any) -> str:
    """A value as a person reads it: numbers plain, texts quoted and cut, lists in brackets, nothing as (none)."""
    if value is None:
        return "(none)"
    if isinstance(value, float):
        return number_text(value, 6)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, str):
        text = value if len(value) <= _SHOWN_LENGTH else value[:_SHOWN_LENGTH - 1] + "…"
        return f"'{text}'"
    return str(value)
