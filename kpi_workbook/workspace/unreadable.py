"""The errors for a tabular file that cannot be read at all: not UTF-8, not CSV, not an Excel workbook."""

from __future__ import annotations

__all__ = ["field_too_large", "not_a_workbook", "not_csv", "not_utf8", "old_workbook", "unreadable"]

import zipfile

from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.issue_codes import Code


def not_utf8(file: str) -> InputError:
    """A CSV file that does not decode as UTF-8."""
    return InputError(Problem(file=file, message="not UTF-8 text; save it as 'CSV UTF-8'", code=Code.INPUT_ENCODING))


def not_csv(file: str, row: int, reason: str) -> InputError:
    """A CSV file the csv module stops reading at `row` (1-based), for `reason`."""
    return InputError(Problem(file=file, row=row, message=f"cannot be read as CSV: {reason}",
                              code=Code.INPUT_NOT_CSV))


def field_too_large(file: str, row: int, limit: int) -> InputError:
    """A CSV file with a cell in `row` longer than the csv module's field limit."""
    return not_csv(file, row, f"field larger than field limit ({limit})")


def not_a_workbook(file: str, exc: Exception) -> InputError:
    """A file openpyxl cannot read; its own message is left out, as it may quote a cell."""
    why = "not a zip archive" if isinstance(exc, zipfile.BadZipFile) else "its parts are not a workbook's"
    return InputError(Problem(file=file, message=f"cannot be read as an Excel workbook (.xlsx): {why}",
                              code=Code.INPUT_NOT_A_WORKBOOK))


def old_workbook(file: str) -> InputError:
    """An Excel 97-2003 (.xls) workbook."""
    return InputError(Problem(file=file, message="old .xls workbooks are not supported; save it as .xlsx",
                              code=Code.INPUT_NOT_A_WORKBOOK))


def unreadable(file: str, exc: OSError) -> InputError:
    """A file the operating system does not let us read."""
    return InputError(Problem(file=file, message=f"cannot be read: {exc.strerror or exc}",
                              code=Code.INPUT_UNREADABLE))
