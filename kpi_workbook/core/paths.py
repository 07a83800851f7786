"""Where the bundled files live: the KPI library, the category taxonomy, the sample organization, the notebooks.

An installed wheel carries them inside the package (``kpi_workbook/data``, ``kpi_workbook/notebooks``); a source
checkout (an editable install) has them at the project's root (``data/``, ``notebooks/``). This module is the one
place that knows both.
"""

from __future__ import annotations

__all__ = [
    "CATEGORIES_FILE", "CHECKOUT_DIR", "DATA_DIR", "LIBRARY_FILE", "NOTEBOOKS_DIR", "PACKAGE_DIR", "SAMPLE_ORG_DIR",
    "SAMPLE_WORKSPACE_NAME",
]

from importlib.resources import files
from pathlib import Path

PACKAGE_DIR = Path(str(files("kpi_workbook")))
CHECKOUT_DIR = PACKAGE_DIR.parent


def _bundled(name: str) -> Path:
    """The bundled folder `name`: inside the installed package, else at the source checkout's root."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else CHECKOUT_DIR / name


DATA_DIR = _bundled("data")
NOTEBOOKS_DIR = _bundled("notebooks")
LIBRARY_FILE = DATA_DIR / "kpi_library.yaml"
CATEGORIES_FILE = DATA_DIR / "categories.yaml"
SAMPLE_ORG_DIR = DATA_DIR / "sample_org"
SAMPLE_WORKSPACE_NAME = "sample"  # `--workspace sample` opens the bundled sample organization, on purpose
