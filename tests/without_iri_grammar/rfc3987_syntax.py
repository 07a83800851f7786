"""Stands in for the rfc3987_syntax package in Python processes the tests do not start themselves (the nbstripout
filter and the nbdime drivers git starts in tests/test_workspace_git.py): with this folder on PYTHONPATH, importing
it fails as if the package were not installed, and jsonschema, which expects that, leaves out its IRI grammar
(see tests/python_tools.py)."""

raise ImportError("rfc3987_syntax is left out of this test's processes (tests/python_tools.py)")
