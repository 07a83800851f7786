"""Key figures a notebook records, so tests and the runner can read them back from the executed notebook."""
from __future__ import annotations

__all__ = ["RECORD_MIME", "read_records", "record", "record_bundle"]

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from IPython.display import display

from kpi_workbook.core.numbers import number_text

RECORD_MIME = "application/vnd.kpi-workbook.record+json"


def _plain(value: Any) -> Any:
    """A JSON-ready copy of value (numpy scalars and arrays, tuples and sets become plain Python)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray)):
        items = sorted(value) if isinstance(value, set) else value
        return [_plain(v) for v in items]
    return value


def _readable(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_readable(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        return ", ".join(_readable(v) for v in value) or "none"
    if isinstance(value, float):
        return number_text(value, 6)
    return str(value) if value != "" else "(whole organization)"


def record_bundle(**values: Any) -> dict[str, Any]:
    """The display bundle for key figures: JSON for machines, one readable line (plain text: a console, a test's
    output) and nothing visible on a page (JupyterLab and Voilà draw the HTML, an empty hidden element)."""
    data = _plain(values)
    json.dumps(data)  # fail here, in the notebook, if a value cannot be recorded
    text = " · ".join(f"{name.replace('_', ' ')}: {_readable(value)}" for name, value in data.items())
    return {RECORD_MIME: data, "text/plain": f"Key figures — {text}", "text/html": "<span hidden></span>"}


def record(**values: Any) -> None:
    """Show key figures of a step (e.g. ``record(objectives=8)``) and record them in the notebook's outputs."""
    display(record_bundle(**values), raw=True)


def read_records(notebook: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """Every key figure an executed notebook (a path, or the notebook as loaded) recorded; later values win."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8")) if isinstance(notebook, str | Path) else notebook
    found: dict[str, Any] = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RECORD_MIME in data:
                found.update(data[RECORD_MIME])
    return found
