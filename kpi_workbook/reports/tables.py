"""Tables people read: pandas Styler with column labels in words, a format per column, RAG status as coloured cells,
no index column, text left-aligned and wrapped in full, a row count, and long tables grouped into sections."""

from __future__ import annotations

__all__ = [
    "Col", "FORMATS", "GROUP_ABOVE", "NUMERIC_KINDS", "REPORT_CSS", "ReportTable", "SEVERITY_COLOURS", "STATUS_COLOURS",
    "STATUS_SYMBOLS", "TABLE_STYLES", "count_text", "status_counts", "styled",
]

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from kpi_workbook.reports.units import EMPTY_TEXT, score_text

STATUS_COLOURS = {  # background, text: readable on screen and in print
    "green": ("#dafbe1", "#116329"),
    "amber": ("#fff1c2", "#7d4e00"),
    "red": ("#ffebe9", "#a40e26"),
    "grey": ("#eaeef2", "#424a53"),
}
SEVERITY_COLOURS = {"error": STATUS_COLOURS["red"], "warning": STATUS_COLOURS["amber"], "info": STATUS_COLOURS["grey"]}
# A status is never told by colour alone: its word, and a symbol read in black and white too.
STATUS_SYMBOLS = {"green": "\u2713", "amber": "!", "red": "\u2717", "grey": "?"}
GROUP_ABOVE = 40  # a table longer than this is shown in one open, collapsible section per group

TABLE_STYLES = [
    {"selector": "", "props": "table-layout: auto; width: auto; max-width: 100%; margin: 0.4em 0 1em 0;"
                              " border-collapse: collapse;"},
    {"selector": "th", "props": "text-align: left; vertical-align: bottom; white-space: normal; padding: 4px 8px;"
                                " background: #f6f8fa; border-bottom: 1px solid #d1d9e0;"},
    # no white-space here: "#table td" would outweigh the cells' own nowrap (numbers, status); text wraps by default
    {"selector": "td", "props": "vertical-align: top; overflow-wrap: break-word; padding: 4px 8px;"
                                " border-bottom: 1px solid #eaeef2; max-width: none;"},
    {"selector": "caption", "props": "caption-side: top; text-align: left; font-weight: 600; padding: 0 0 4px 0;"},
]


# Class rules for what the tables and the summary put around Styler's tables (the report keeps <style> blocks
# without at-rules; style attributes keep only a few properties). Print rules are in the report template.
REPORT_CSS = """<style>
.kpi-table-count { color: #59636e; margin: 0.2em 0; }
.kpi-table-group h4 { margin: 0.8em 0 0.2em 0; }
.kpi-chip { border-radius: 4px; padding: 1px 8px; font-weight: 600; white-space: nowrap; display: inline-block; }
.kpi-summary { border: 1px solid #d1d9e0; border-radius: 6px; padding: 10px 14px; margin: 0.5em 0 1em 0; }
.kpi-summary h2 { margin-top: 0; }
.kpi-summary .kpi-score { font-size: 1.4em; margin: 0.2em 0; }
.kpi-summary .kpi-change { font-size: 0.7em; color: #424a53; }
.kpi-first li { margin-bottom: 0.4em; }
.kpi-summary .kpi-why { margin: 0.4em 0 0 0; padding-left: 1.2em; }
.kpi-summary .kpi-why li { margin-bottom: 0.1em; }
</style>"""


def _number(decimals: int, suffix: str = "") -> Callable[[Any], str]:
    def show(value: Any) -> str:
        if value is None or pd.isna(value):
            return EMPTY_TEXT
        return f"{value:,.{decimals}f}{suffix}"
    return show


def _text(value: Any) -> str:
    """The value as text; nothing there (None, NaN, blank text) shows as a dash, like a missing number."""
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return EMPTY_TEXT
    return str(value) if str(value).strip() else EMPTY_TEXT


def _yes_no(value: Any) -> str:
    if value is None or pd.isna(value):
        return EMPTY_TEXT
    return "yes" if bool(value) else "no"


def _level(value: Any) -> str:
    """A band level or measured value: whole numbers with separators, others with up to two decimals."""
    if value is None or pd.isna(value):
        return EMPTY_TEXT
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")


def _share(value: Any) -> str:
    """A share 0–1 as a whole percentage."""
    return EMPTY_TEXT if value is None or pd.isna(value) else f"{100 * value:.0f} %"


def _timestamp(value: Any) -> str:
    """A date and time to the minute, e.g. 2025-12-31 09:30."""
    return EMPTY_TEXT if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


FORMATS: dict[str, Callable[[Any], str]] = {
    "text": _text,
    "status": _text,
    "severity": _text,
    "count": _number(0),
    "number": _number(2),
    "decimal1": _number(1),
    "score": score_text,  # one decimal and its unit: 94.2 pts
    "percent": _number(0, " %"),  # a value already in percent (0–100)
    "share": _share,  # a value 0–1, shown as a percentage
    "money": _number(0),
    "level": _level,
    "yesno": _yes_no,
    "timestamp": _timestamp,
    # a number already written with its unit (reports/units.py): aligned as a number; it may wrap at its spaces,
    # never at the no-break space between the number and its unit
    "figure": _text,
}
NUMERIC_KINDS = {"count", "number", "decimal1", "score", "percent", "share", "money", "level", "figure"}


@dataclass(frozen=True)
class Col:
    """How one column shows: its label in words, its kind (a key of FORMATS) and its unit, if any."""

    label: str
    kind: str = "text"
    unit: str = ""
    palette: Mapping[str, str] = field(default_factory=dict)  # kind "status": a value → the status colour it takes

    @property
    def heading(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit and self.kind in NUMERIC_KINDS else self.label


def _status_text(palette: Mapping[str, str]) -> Callable[[Any], str]:
    """A status cell's text with the symbol of its colour in front: '✓ green', '✗ unrealistic'."""
    def show(value: Any) -> str:
        text = _text(value)
        symbol = STATUS_SYMBOLS.get(palette.get(text, text))
        return f"{symbol}\u00a0{text}" if symbol else text  # a no-break space: the symbol stays with its word
    return show


def _status_css(colours: Mapping[str, tuple[str, str]], palette: Mapping[str, str]) -> Callable[[Any], str]:
    def css(value: Any) -> str:
        found = colours.get(palette.get(str(value), str(value)))
        return f"background-color: {found[0]}; color: {found[1]}; font-weight: 600;" if found else ""
    return css


def _column_css(spec: Col) -> str:
    """The rule of a column's data cells: numbers right-aligned and, except figures, on one line; text left-aligned;
    a status on one line."""
    numeric = spec.kind in NUMERIC_KINDS
    whole = (numeric and spec.kind != "figure") or spec.kind in ("status", "severity")
    return f"text-align: {'right' if numeric else 'left'};" + (" white-space: nowrap;" if whole else "")


def styled(frame: pd.DataFrame, columns: Mapping[str, Col], caption: str = "") -> Styler:
    """A Styler of `frame` showing only `columns` (in that order), labelled, formatted and coloured, no index."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"table has no column(s) {', '.join(missing)}; it has {', '.join(map(str, frame.columns))}")
    shown = frame[list(columns)].reset_index(drop=True)
    shown.columns = [columns[c].heading for c in columns]
    specs = dict(zip(shown.columns, columns.values(), strict=True))
    # cell ids only where a cell has a style of its own (a status colour): the other rules go by column
    style = Styler(shown, cell_ids=False).hide(axis="index").set_table_styles(TABLE_STYLES)
    style = style.format({label: _status_text(spec.palette) if spec.kind == "status" else FORMATS[spec.kind]
                          for label, spec in specs.items()}, escape="html")
    style = style.format_index(escape="html", axis=1)
    style = style.set_table_styles({label: [{"selector": "td", "props": _column_css(spec)}]
                                    for label, spec in specs.items()}, overwrite=False)
    for label, spec in specs.items():
        if spec.kind in ("status", "severity"):
            colours = STATUS_COLOURS if spec.kind == "status" else SEVERITY_COLOURS
            style = style.map(_status_css(colours, spec.palette), subset=[label])
    return style.set_caption(html.escape(caption)) if caption else style


def count_text(rows: int, noun: tuple[str, str]) -> str:
    """'1 person', '12 people'."""
    return f"{rows:,} {noun[0] if rows == 1 else noun[1]}"


class ReportTable:
    """A table for a report: a count line, the formatted table (grouped into sections when long) or a sentence
    when it is empty. Shows as HTML in JupyterLab and in the exported report."""

    def __init__(self, frame: pd.DataFrame, columns: Mapping[str, Col], *, noun: tuple[str, str] = ("row", "rows"),
                 empty: str = "None.", group_by: str = "", group_label: Callable[[Any], str] = str, note: str = "",
                 group_above: int = GROUP_ABOVE) -> None:
        self.frame = frame
        self.columns = dict(columns)
        self.noun = noun
        self.empty = empty
        self.group_by = group_by
        self.group_label = group_label
        self.note = note
        self.group_above = group_above

    @property
    def grouped(self) -> bool:
        return bool(self.group_by) and len(self.frame) > self.group_above

    def _sections(self) -> str:
        shown = {c: spec for c, spec in self.columns.items() if c != self.group_by}
        parts = []
        for key, rows in self.frame.groupby(self.group_by, sort=False, observed=True):
            summary = f"{self.group_label(key)} · {count_text(len(rows), self.noun)}"
            parts.append(f'<div class="kpi-table-group"><h4>{html.escape(summary)}</h4>'
                         f"{styled(rows, shown).to_html()}</div>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        note = f" {html.escape(self.note)}" if self.note else ""
        if self.frame.empty:
            return f'<p class="kpi-table-empty">{html.escape(self.empty)}</p>'
        groups = self.frame[self.group_by].nunique() if self.grouped else 0
        count = count_text(len(self.frame), self.noun) + (f", in {groups} sections" if groups else "")
        body = self._sections() if self.grouped else styled(self.frame, self.columns).to_html()
        return (f'{REPORT_CSS}<div class="kpi-table"><p class="kpi-table-count">{html.escape(count)}.{note}</p>'
                f"{body}</div>")

    def __repr__(self) -> str:
        return f"<table of {count_text(len(self.frame), self.noun)}>"


def status_counts(statuses: pd.Series) -> dict[str, int]:
    """How many of each RAG status, every status listed (zero included), in green, amber, red, grey order."""
    counts = statuses.astype(str).value_counts()
    return {status: int(counts.get(status, 0)) for status in STATUS_COLOURS}
