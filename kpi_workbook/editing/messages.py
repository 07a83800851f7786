"""Edits refused in people's words: each validation error becomes one sentence that names the field and the fix."""

from __future__ import annotations

__all__ = ["FORM", "ID_RULE", "label", "plain_problems", "suggest_id"]

import re
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from kpi_workbook.core.errors import Problem
from kpi_workbook.core.numbers import number_text

FORM = "form"
ID_RULE = ('use only letters, digits, "_", "." and "-" (no spaces or other signs), starting with a letter or '
           "a digit, at most 64 characters")
_LABELS = {"id": "id", "kpi": "KPI id", "expected_outcome": "expected outcome", "target_range": "target range",
           "threshold_range": "threshold range"}
_NAMING_FIELDS = ("title", "name", "description")


def label(field: str) -> str:
    """A field name as a person reads it: ``expected_outcome`` -> ``expected outcome``."""
    return _LABELS.get(field, field.replace("_", " "))


def suggest_id(text: str) -> str:
    """An id made from a title: lower case, words joined by ``_`` (``"Grow Revenue!"`` -> ``grow_revenue``)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:64].rstrip("_")


def _shown(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else number_text(value, 6) if isinstance(value, float) else str(value)


def _id_message(field: str, value: Any, data: dict[str, Any]) -> str:
    source = next((str(data[f]) for f in _NAMING_FIELDS if str(data.get(f) or "").strip()), str(value))
    suggestion = suggest_id(source)
    hint = f', for example "{suggestion}"' if suggestion and suggestion != value else ""
    return f"The {label(field)} {_shown(value)} cannot be used: {ID_RULE}{hint}."


def _sentence(error: ErrorDetails, field: str, data: dict[str, Any]) -> str:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    name = label(field)
    if kind == "string_pattern_mismatch":
        return _id_message(field, value, data)
    if kind == "string_too_short":
        return f"The {name} is empty: write one (it cannot be left blank)."
    if kind == "string_too_long":
        return f"The {name} is too long: at most {ctx.get('max_length')} characters."
    limits = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
              "greater_than": ("above", "gt"), "less_than": ("below", "lt")}
    if kind in limits:
        words, key = limits[kind]
        extra = " (it is a share of the role's total weight)" if field == "weight" else ""
        limit = number_text(ctx[key], 6)
        return (f"The {name} {_shown(value)} is out of range: it must be {words} {limit}{extra}. "
                "Nothing was changed; type a value in range.")
    if kind == "enum":
        return f"The {name} {_shown(value)} is not one of the choices: {ctx.get('expected')}."
    if kind in ("float_type", "float_parsing", "int_type", "int_parsing"):
        return f"The {name} must be a number (got {_shown(value)})."
    if kind == "finite_number":
        return f"The {name} must be an ordinary number (got {_shown(value)})."
    if kind == "missing":
        return f"The {name} is required."
    return f"The {name} is not valid: {error['msg']}."


def plain_problems(exc: ValidationError, entry: str, data: dict[str, Any]) -> list[Problem]:
    """The problems of a refused edit on `data` (the entry's fields), one plain sentence each, naming the field.

    `entry` names what was edited (``objective 'grow_revenue'``); a nested role KPI is named by its KPI id.
    """
    problems = []
    for error in exc.errors():
        loc, where, node = list(error["loc"]), entry, data
        while len(loc) > 1 and isinstance(node, dict) and isinstance(loc[1], int) and loc[0] in ("kpis",
                                                                                              "responsibilities"):
            item = node[loc[0]][loc[1]]
            where = f"{entry} {'KPI' if loc[0] == 'kpis' else 'responsibility'} '{item.get('kpi') or item.get('id')}'"
            node, loc = item, loc[2:]
        field = next((str(part) for part in loc if isinstance(part, str)), "")
        problems.append(Problem(file=FORM, entry=where, field=field, message=_sentence(error, field, node)))
    return problems
