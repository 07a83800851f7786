"""SQL for the importer's text cells: stripped of whitespace exactly as Python's str.strip() strips them, at the cost
of two character codes for the many cells that need nothing removed."""

from __future__ import annotations

__all__ = ["holds_text", "stripped"]

from kpi_workbook.workspace.scratch import WHITESPACE, literal

# no character from '!' to U+0084 is whitespace to Python (the first below is U+0085)
PLAIN_FIRST, PLAIN_LAST = 0x21, 0x84


def stripped(expression: str) -> str:
    """SQL for `expression` as stripped text, '' for NULL (as pandas' fillna('').astype(str).str.strip()): a cell
    whose first and last characters are plainly not whitespace is kept as it is, any other is trimmed of every
    character Python's str.strip() removes (WHITESPACE)."""
    plain = " AND ".join(f"ord({end}) BETWEEN {PLAIN_FIRST} AND {PLAIN_LAST}"
                         for end in (expression, f"{expression}[-1]"))
    return (f"CASE WHEN {expression} IS NULL THEN '' WHEN {plain} THEN {expression} "
            f"ELSE trim({expression}, {literal(WHITESPACE)}) END")


def holds_text(cells: list[str]) -> str:
    """SQL true when one of `cells` holds more than whitespace: a first cell that begins with a character that is
    plainly not whitespace decides most rows, the others are joined and stripped once."""
    if not cells:
        return "false"
    joined = f"concat({', '.join(cells)})"
    return (f"CASE WHEN ord({cells[0]}) BETWEEN {PLAIN_FIRST} AND {PLAIN_LAST} THEN true "
            f"ELSE {stripped(joined)} <> '' END")
