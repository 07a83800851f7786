"""The registry of issue codes: every problem, finding and error of kpi-workbook carries one of these.

A code is ``<area>.<name>`` in lower case, stable across releases (scripts may match on it; the wording of a
message may change). The areas:

- ``input``: a file, folder or parameter that cannot be used (the command stops);
- ``option``: a command-line option whose value cannot be used (the command stops);
- ``run``: a step of a run that failed for a reason other than its inputs;
- ``structure``, ``coverage``, ``smart``, ``balance``, ``measures``, ``workspace``: findings of the framework
  checks (``kpi-workbook validate``); the code of a finding is the id of the check rule that made it.
"""

from __future__ import annotations

__all__ = ["Code"]

from enum import StrEnum


class Code(StrEnum):
    """An issue code; ``meaning`` is its one-line description (listed in the documentation's reference)."""

    meaning: str

    def __new__(cls, value: str, meaning: str = "") -> Code:  # Code("input.shape") looks a member up instead
        code = str.__new__(cls, value)
        code._value_ = value
        code.meaning = meaning
        return code

    # --- inputs and options: the command stops --------------------------------------------------------------
    INPUT_INVALID = "input.invalid", "an input cannot be used (the message says why)"
    INPUT_NOT_FOUND = "input.not_found", "a file or folder that must exist is not there"
    INPUT_NOT_A_FOLDER = "input.not_a_folder", "a workspace was given as a file, not as the folder that holds it"
    INPUT_UNREADABLE = "input.unreadable", "a file or folder exists but cannot be read (e.g. no permission)"
    INPUT_SHAPE = "input.shape", "a YAML file is not the mapping or list of entries its kind needs"
    INPUT_FIELD = "input.field", "a field of a workspace file is missing, unknown or holds a wrong value"
    INPUT_FILE_NAME = "input.file_name", "a role file is not named after the id of the role it holds"
    INPUT_FILTER = "input.filter", "a filter or derived expression does not parse"
    INPUT_PERIOD = "input.period", "a text that is not a period label (e.g. 2026Q3, 2026-09, 2026-W05)"
    INPUT_PARAMETER = "input.parameter", "a notebook parameter is not text, or team and department are both given"
    INPUT_UNKNOWN_TEAM = "input.unknown_team", "a team id that teams.yaml does not define"
    INPUT_UNKNOWN_DEPARTMENT = "input.unknown_department", "a department that no team of teams.yaml names"
    INPUT_UNKNOWN_PERIOD = "input.unknown_period", "a period for which the workspace holds no actuals"
    INPUT_REJECTED_ROW = "input.rejected_row", "a row of an actuals file fails validation; nothing was imported"
    INPUT_ENCODING = "input.encoding", "a CSV file is not UTF-8 text (save it as 'CSV UTF-8')"
    INPUT_NOT_CSV = "input.not_csv", "a CSV file's text is not CSV (e.g. a cell over the field limit, a row too wide)"
    INPUT_NOT_A_WORKBOOK = "input.not_a_workbook", "an Excel file is not an .xlsx workbook (or is an old .xls one)"
    INPUT_SHEET = "input.sheet", "an Excel workbook has no sheet of the name given"
    INPUT_HEADER = "input.header", "a table lacks a column it needs, names one twice, or has no header row"
    INPUT_EMPTY = "input.empty", "a file or source holds no rows below its header, or no header at all"
    OPTION_INVALID = "option.invalid", "the value of a command-line option cannot be used"

    # --- runs ------------------------------------------------------------------------------------------------
    RUN_FAILED = "run.failed", "a step failed for a reason other than its inputs (the message says which)"
    RUN_KERNEL_RESET = "run.kernel_reset", "a notebook kernel did not reset cleanly between two notebooks"

    # --- findings of the framework checks (the code is the id of the check rule) --------------------------
    STRUCTURE_DUPLICATE_ID = "structure.duplicate_id", "two objectives, teams, KPI definitions or roles share an id"
    STRUCTURE_DUPLICATE_RESPONSIBILITY = (
        "structure.duplicate_responsibility", "a role lists two responsibilities with the same id")
    STRUCTURE_DUPLICATE_ASSIGNMENT = "structure.duplicate_assignment", "a role is assigned the same KPI twice"
    STRUCTURE_UNKNOWN_TEAM = "structure.unknown_team", "a role names a team that teams.yaml does not define"
    STRUCTURE_UNKNOWN_KPI = "structure.unknown_kpi", "a role is assigned a KPI that kpis.yaml does not define"
    STRUCTURE_UNKNOWN_OBJECTIVE = (
        "structure.unknown_objective", "a role KPI serves an objective that objectives.yaml does not define")
    STRUCTURE_UNKNOWN_RESPONSIBILITY = (
        "structure.unknown_responsibility", "a role KPI serves a responsibility its role does not list")
    STRUCTURE_UNKNOWN_PARENT = "structure.unknown_parent", "an objective's parent is not a defined objective"
    STRUCTURE_PARENT_CYCLE = "structure.parent_cycle", "objectives' parents form a loop"
    COVERAGE_OBJECTIVE = "coverage.objective", "no KPI serves an objective (or only through child objectives)"
    COVERAGE_UNUSED_KPI = "coverage.unused_kpi", "a KPI definition is assigned to no role"
    COVERAGE_RESPONSIBILITY = "coverage.responsibility", "no KPI of a role measures one of its responsibilities"
    COVERAGE_TEAM = "coverage.team", "no role belongs to a team"
    COVERAGE_ROLE_TEAM = "coverage.role_team", "a role belongs to no team"
    SMART_SPECIFIC = "smart.specific", "a KPI's name or description is vague"
    SMART_MEASURABLE = "smart.measurable", "a KPI definition lacks a unit, a formula or a data source"
    SMART_ACHIEVABLE = "smart.achievable", "a role KPI's bands are missing, out of order or of the wrong kind"
    SMART_RELEVANT = "smart.relevant", "a role KPI serves no objective or no responsibility of the role"
    SMART_TIME_BOUND = "smart.time_bound", "a KPI has no frequency, or is measured less often than reviewed"
    BALANCE_KPI_COUNT = "balance.kpi_count", "a role has fewer or more KPIs than the settings allow"
    BALANCE_WEIGHTS = "balance.weights", "the weights of a role's KPIs do not add up to the settings' total"
    BALANCE_DEVELOPMENT = "balance.development", "a role has no learning/development KPI"
    BALANCE_LEADING_LAGGING = "balance.leading_lagging", "a role's KPIs are all leading or all lagging"
    MEASURES_PARSE = "measures.parse", "a measure's filter or derived expression does not parse"
    MEASURES_UNIT = "measures.unit", "a measure's values are not in the KPI's unit, or its polarity differs"
    MEASURES_SOURCE = "measures.source", "a measure or a source does not fit sources.yaml or the data it names"
    WORKSPACE_EMPLOYEES = "workspace.employees", "employees.csv cannot be read or has a wrong row"
