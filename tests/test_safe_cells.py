"""Spreadsheet-safe cells: formula starts are neutralized, numbers and harmless texts are kept."""

import csv
import io

import pandas as pd

from kpi_workbook.reports.safe_cells import FORMULA_PREFIXES, neutralize, neutralize_frame, safe_csv

MALICIOUS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"]


def test_neutralize_prefixes_every_formula_start():
    for text in MALICIOUS:
        assert neutralize(text) == "'" + text
    for safe in ["Anna", "1-2", "a=b", "", 5, -3.5, None]:
        assert neutralize(safe) == safe
    assert set(FORMULA_PREFIXES) == {"=", "+", "-", "@", "\t", "\r"}


def test_neutralize_frame_covers_labels_and_keeps_numbers():
    frame = neutralize_frame(pd.DataFrame({"=label": ["=x", "ok"], "n": [-1.0, 2.0]}))
    assert list(frame.columns) == ["'=label", "n"]
    assert frame["'=label"].tolist() == ["'=x", "ok"] and frame["n"].tolist() == [-1.0, 2.0]


def test_safe_csv_quotes_text_so_a_line_break_cannot_start_a_formula_row():
    text = safe_csv(pd.DataFrame({"name": ["Ann\r=1+1", "@x"], "value": [1.5, -2.0]}))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["name", "value"], ["Ann\r=1+1", "1.5"], ["'@x", "-2.0"]]
