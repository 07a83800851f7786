"""Where the bundled data lives: one place for paths, so notebooks and code never hard-code them."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("KPI_WORKBOOK_DATA", PROJECT_ROOT / "data"))
LIBRARY_FILE = DATA_DIR / "kpi_library.yaml"
CATEGORIES_FILE = DATA_DIR / "categories.yaml"
SAMPLE_ORG_DIR = DATA_DIR / "sample_org"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
REPORTS_DIR = PROJECT_ROOT / "reports"
