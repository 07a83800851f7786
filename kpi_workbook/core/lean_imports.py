"""Imports a process of kpi-workbook can leave out: jsonschema's IRI grammar.

nbformat validates every notebook with jsonschema, and jsonschema compiles the grammar of rfc3987_syntax at import
when that package is installed, to check `iri` formats: more than a second of CPU in every process that touches a
notebook. No schema kpi-workbook reads has such a format. A module set to None in `sys.modules` is one that cannot be
imported, which jsonschema expects and handles.
"""

from __future__ import annotations

__all__ = ["leave_out_iri_grammar"]

import sys


def leave_out_iri_grammar() -> None:
    """Keep jsonschema from building its IRI grammar in this process (call before anything imports jsonschema)."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
