"""Tests of the issue model: every code is registered and used, errors sit under one root, raise sites are coded."""

from __future__ import annotations

import ast
import importlib.util
import pickle
import re
import sys
from pathlib import Path

import pytest

import kpi_workbook
from kpi_workbook.analysis.checks import RULES, check_workspace
from kpi_workbook.analysis.checks.registry import rule
from kpi_workbook.batch.kernels import KernelResetError
from kpi_workbook.core.errors import InputError, KpiWorkbookError, UnknownTeamError
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.issues import Issue, Severity
from kpi_workbook.core.measures import FilterError, parse_filter
from kpi_workbook.core.model import Framework
from kpi_workbook.core.periods import PeriodError, parse_period
from kpi_workbook.workspace.files import load_framework, save_framework
from kpi_workbook.workspace.importer import import_actuals
from kpi_workbook.workspace.opener import open_workspace
from kpi_workbook.workspace.scope import Scope

PACKAGE = Path(kpi_workbook.__file__).parent
CODE_FORM = re.compile(r"^[a-z]+\.[a-z_]+$")


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(PACKAGE.rglob("*.py"))}


def _codes_named(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, text) of every code a module names: ``Code.X`` (as the value ``Code.X`` has, or ``Code.X`` when
    there is no such member), ``Code("...")``, a text passed as ``code=`` and a rule id of ``@rule("...")``."""
    members = {c.name: str(c) for c in Code}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Code" \
                and node.attr.isupper():
            found.append((node.lineno, members.get(node.attr, f"Code.{node.attr}")))
        elif isinstance(node, ast.Call):
            texts = [k.value for k in node.keywords if k.arg == "code"]
            if isinstance(node.func, ast.Name) and node.func.id in ("Code", "rule"):
                texts += node.args[:1]
            found += [(t.lineno, t.value) for t in texts if isinstance(t, ast.Constant) and isinstance(t.value, str)]
    return found


def test_every_code_has_the_dotted_form_and_a_meaning():
    for code in Code:
        assert CODE_FORM.match(code), code
        assert code.meaning and not code.meaning.endswith("."), code
    assert len({str(c) for c in Code}) == len(Code)


def test_every_code_named_in_the_package_is_registered():
    registered = {str(c) for c in Code}
    unknown = [f"{path.relative_to(PACKAGE)}:{line}: {text}" for path, tree in _trees().items()
               for line, text in _codes_named(tree) if text not in registered]
    assert unknown == []


def test_every_registered_code_is_used_in_the_package():
    used = {text for tree in _trees().values() for _, text in _codes_named(tree)}
    assert sorted(str(c) for c in Code if str(c) not in used) == []


def test_the_checks_reference_lists_every_code_with_its_meaning():
    spec = importlib.util.spec_from_file_location("issue_codes_docs_hook", PACKAGE.parent / "docs/hooks/reference.py")
    hook = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = hook  # its dataclass looks its module up there
    spec.loader.exec_module(hook)
    page = hook.checks_page()
    assert [str(c) for c in Code if f"| `{c}` | {c.meaning} |" not in page] == []


def test_the_scan_finds_the_codes_of_a_module():
    tree = ast.parse('@rule("smart.specific")\ndef f(): raise InputError(Problem(message="m", code=Code.INPUT_SHAPE))\n'
                     'Issue(message="m", code="input.nonsense")\nCode.NO_SUCH_CODE\n')
    assert sorted(text for _, text in _codes_named(tree)) == [
        "Code.NO_SUCH_CODE", "input.nonsense", "input.shape", "smart.specific"]


def test_every_check_rule_is_a_code_and_codes_its_findings(small_framework: Framework):
    assert {r.id for r in RULES} <= {str(c) for c in Code}
    small_framework.roles[0].kpis[0].weight += 5
    [finding] = [f for r in RULES for f in r.run(small_framework)]
    assert (finding.code, finding.severity) == (Code.BALANCE_WEIGHTS, Severity.ERROR)


def test_a_rule_is_registered_only_under_a_code():
    with pytest.raises(ValueError, match="'smart.nonsense' is not a code"):
        rule("smart.nonsense")(lambda framework, found: [])
    assert [r.id for r in RULES if r.id == "smart.nonsense"] == []
    assert all(isinstance(r.id, Code) and r.id.meaning for r in RULES)


def test_an_issue_takes_only_a_registered_code():
    assert Issue(message="m", code="input.shape").code is Code.INPUT_SHAPE
    with pytest.raises(ValueError, match="input.nonsense"):
        Issue(message="m", code="input.nonsense")


def test_an_issue_names_where_it_is():
    issue = Issue(message="not a number", file="q3.csv", row=7, field="value")
    assert str(issue) == "q3.csv, row 7, field 'value': not a number"
    option = Issue(message="'x' is not a KPI with a measure", option="--kpi")
    assert str(option) == "--kpi: 'x' is not a KPI with a measure" and option.code is Code.OPTION_INVALID
    assert str(Issue(message="alone")) == "alone"


def test_an_input_error_has_at_least_one_problem():
    with pytest.raises(ValueError, match="at least one problem"):
        InputError([])
    assert InputError("bad").issues == [Issue(message="bad", code=Code.INPUT_INVALID)]
    assert InputError("bad", code=Code.INPUT_PARAMETER).issues[0].code is Code.INPUT_PARAMETER


@pytest.mark.parametrize(("raise_it", "kind", "code"), [
    (lambda: parse_filter("amount >"), FilterError, Code.INPUT_FILTER),
    (lambda: parse_period("2026Q9"), PeriodError, Code.INPUT_PERIOD),
    (lambda: (_ for _ in ()).throw(KernelResetError("the kernel could not reset")), KernelResetError,
     Code.RUN_KERNEL_RESET),
    (lambda: (_ for _ in ()).throw(UnknownTeamError("x", ["sales"])), UnknownTeamError, Code.INPUT_UNKNOWN_TEAM),
])
def test_every_error_is_under_the_root_and_coded(raise_it, kind, code):
    with pytest.raises(KpiWorkbookError) as caught:
        raise_it()
    assert isinstance(caught.value, kind)
    assert [i.code for i in caught.value.issues] == [code]


@pytest.mark.parametrize("error", [
    UnknownTeamError("x", ["sales"]),
    InputError([Issue(message="m", code=Code.INPUT_SHAPE, file="teams.yaml"), Issue(message="n", row=3)]),
    PeriodError("'x' is not a period"),
    FilterError("'x >' does not parse"),
])
def test_an_error_crosses_processes_whole(error: KpiWorkbookError):
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.issues, vars(copy)) == (type(error), str(error), error.issues, vars(error))


def _codes(error: InputError) -> list[tuple[str, str]]:
    return [(str(p.code), p.file) for p in error.problems]


def test_loading_a_workspace_codes_its_problems(tmp_path: Path, small_framework: Framework):
    with pytest.raises(InputError) as caught:
        load_framework(tmp_path / "nowhere")
    assert [str(p.code) for p in caught.value.problems] == ["input.not_found"]
    (tmp_path / "file.txt").write_text("", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_framework(tmp_path / "file.txt")
    assert [str(p.code) for p in caught.value.problems] == ["input.not_a_folder"]

    root = tmp_path / "ws"
    save_framework(small_framework, root)
    role = next((root / "roles").glob("*.yaml"))
    role.rename(role.with_name("renamed.yaml"))
    (root / "teams.yaml").write_text("- id: sales\n", encoding="utf-8")
    (root / "kpis.yaml").write_text((root / "kpis.yaml").read_text(encoding="utf-8").replace(
        "polarity: higher_is_better", "polarity: up", 1), encoding="utf-8")
    (root / "objectives.yaml").unlink()
    with pytest.raises(InputError) as caught:
        load_framework(root)
    assert sorted(_codes(caught.value)) == [
        ("input.field", "kpis.yaml"), ("input.file_name", "roles/renamed.yaml"), ("input.not_found", "objectives.yaml"),
        ("input.shape", "teams.yaml")]


@pytest.mark.parametrize(("given", "code"), [
    ({"team": "nowhere"}, Code.INPUT_UNKNOWN_TEAM),
    ({"department": "nowhere"}, Code.INPUT_UNKNOWN_DEPARTMENT),
    ({"team": 7}, Code.INPUT_PARAMETER),
    ({"team": "sales", "department": "Sales"}, Code.INPUT_PARAMETER),
])
def test_a_scope_codes_what_it_cannot_resolve(sample_workspace: Path, given: dict, code: Code):
    with pytest.raises(InputError) as caught:
        Scope.resolve(open_workspace(sample_workspace), **given)
    assert [p.code for p in caught.value.problems] == [code]


def test_a_period_without_actuals_is_coded(tmp_path: Path, small_framework: Framework):
    save_framework(small_framework, tmp_path)
    with pytest.raises(InputError) as caught:
        _ = Scope.resolve(open_workspace(tmp_path), period="2025Q1").period
    assert [p.code for p in caught.value.problems] == [Code.INPUT_UNKNOWN_PERIOD]


def test_rejected_rows_are_coded_with_their_row(tmp_path: Path, small_framework: Framework):
    root = tmp_path / "ws"
    save_framework(small_framework, root)
    (root / "employees.csv").write_text("employee_id,name,team,role\nE1,Ann,sales,account_executive\n",
                                        encoding="utf-8")
    actuals = tmp_path / "q1.csv"
    actuals.write_text("period,team,employee_id,kpi_id,value\n2025Q1,sales,E1,win_rate,12\n"
                       "2025Q1,sales,E1,no_such_kpi,3\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        import_actuals(actuals, root)
    [problem] = caught.value.problems
    assert (problem.code, problem.row, problem.field) == (Code.INPUT_REJECTED_ROW, 3, "kpi_id")


def test_employee_problems_are_findings_coded_by_their_check(tmp_path: Path, small_framework: Framework):
    save_framework(small_framework, tmp_path)
    (tmp_path / "employees.csv").write_text("employee_id,name,team,role\nE1,Ann,salse,account_executive\n",
                                            encoding="utf-8")
    [finding] = check_workspace(open_workspace(tmp_path))
    assert (finding.code, finding.file, finding.field) == (Code.WORKSPACE_EMPLOYEES, "employees.csv", "team")
