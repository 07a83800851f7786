"""The first module the runner's fork server imports: its workers leave out jsonschema's IRI grammar, as the command
line does (`core.lean_imports`), before papermill and nbformat are loaded."""

from __future__ import annotations

__all__: list[str] = []

from kpi_workbook.core.lean_imports import leave_out_iri_grammar

leave_out_iri_grammar()
