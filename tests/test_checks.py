"""Tests of the framework checks: every rule fails on a broken framework and passes on a good one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from kpi_workbook.analysis.checks import (
    FINDING_COLUMNS,
    RULES,
    Finding,
    Severity,
    check_framework,
    check_workspace,
    findings_frame,
    format_findings,
    has_errors,
)
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.measures import Measure
from kpi_workbook.core.model import Framework, Objective, Polarity, Responsibility, RoleKpi, Team
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.workspace.files import EMPLOYEES_FILE, load_framework, save_framework
from kpi_workbook.workspace.opener import open_workspace

RULES_BY_ID = {r.id: r for r in RULES}


def _role_file(fw: Framework) -> str:
    return f"roles/{fw.roles[0].id}.yaml"


def _first(fw: Framework) -> RoleKpi:
    """The first KPI of the first role (a higher_is_better KPI with full bands in both test frameworks)."""
    return fw.roles[0].kpis[0]


def _role_defs(fw: Framework):
    return [fw.kpi(a.kpi) for a in fw.roles[0].kpis]


# Each mutation breaks one rule of a good framework and returns what the finding must say.
def _too_few_kpis(fw):
    fw.roles[0].kpis = fw.roles[0].kpis[:2]
    return {"severity": "warning", "file": _role_file(fw), "role": fw.roles[0].id, "field": "kpis"}


def _weights_off(fw):
    _first(fw).weight += 5
    return {"severity": "error", "file": _role_file(fw), "role": fw.roles[0].id, "field": "weight"}


def _no_development(fw):
    for definition in _role_defs(fw):
        if definition.category == "development":
            definition.category = "behaviour"
    return {"severity": "warning", "role": fw.roles[0].id, "field": "kpis"}


def _all_lagging(fw):
    for definition in _role_defs(fw):
        definition.indicator = "lagging"
    return {"severity": "warning", "role": fw.roles[0].id, "field": "kpis"}


def _objective_without_kpi(fw):
    fw.objectives.append(Objective(id="enter_new_market", title="Enter a new market", perspective="customer"))
    return {"severity": "warning", "file": "objectives.yaml", "entry": "objective 'enter_new_market'"}


def _unused_definition(fw):
    fw.kpis.append(fw.kpis[0].model_copy(update={"id": "unused_measure"}))
    return {"severity": "info", "file": "kpis.yaml", "kpi": "unused_measure"}


def _unmeasured_responsibility(fw):
    fw.roles[0].responsibilities.append(Responsibility(id="mentor_juniors", description="Mentor juniors"))
    return {"severity": "warning", "role": fw.roles[0].id, "entry": "responsibility 'mentor_juniors'"}


def _team_without_role(fw):
    fw.teams.append(Team(id="legal", name="Legal"))
    return {"severity": "warning", "file": "teams.yaml", "entry": "team 'legal'"}


def _role_without_team(fw):
    fw.roles[0].teams = []
    return {"severity": "warning", "role": fw.roles[0].id, "field": "teams"}


def _vague_name(fw):
    fw.kpi(_first(fw).kpi).name = "Improve sales"
    return {"severity": "warning", "file": "kpis.yaml", "kpi": _first(fw).kpi, "field": "name"}


def _no_data_source(fw):
    fw.kpi(_first(fw).kpi).data_source = ""
    return {"severity": "warning", "file": "kpis.yaml", "kpi": _first(fw).kpi, "field": "data_source"}


def _bands_swapped(fw):
    a = _first(fw)
    a.threshold, a.target = a.target, a.threshold
    return {"severity": "error", "file": _role_file(fw), "kpi": a.kpi, "field": "target"}


def _no_objective(fw):
    _first(fw).objectives = []
    return {"severity": "warning", "kpi": _first(fw).kpi, "field": "objectives"}


def _no_frequency(fw):
    fw.kpi(_first(fw).kpi).frequency = None
    return {"severity": "warning", "kpi": _first(fw).kpi, "field": "frequency"}


def _duplicate_objective(fw):
    fw.objectives.append(fw.objectives[0].model_copy())
    return {"severity": "error", "file": "objectives.yaml", "entry": f"objective '{fw.objectives[0].id}'"}


def _duplicate_responsibility(fw):
    role = fw.roles[0]
    role.responsibilities.append(role.responsibilities[0].model_copy())
    return {"severity": "error", "role": role.id, "entry": f"responsibility '{role.responsibilities[0].id}'"}


def _duplicate_assignment(fw):
    fw.roles[0].kpis.append(_first(fw).model_copy())
    return {"severity": "error", "role": fw.roles[0].id, "kpi": _first(fw).kpi, "field": "kpis"}


def _unknown_team(fw):
    fw.roles[0].teams = [*fw.roles[0].teams, "legal_dept"]
    return {"severity": "error", "file": _role_file(fw), "field": "teams"}


def _unknown_kpi(fw):
    _first(fw).kpi = "no_such_kpi"
    return {"severity": "error", "file": _role_file(fw), "kpi": "no_such_kpi", "field": "kpi"}


def _unknown_objective(fw):
    _first(fw).objectives = ["no_such_objective"]
    return {"severity": "error", "kpi": _first(fw).kpi, "field": "objectives"}


def _unknown_responsibility(fw):
    _first(fw).responsibility = "no_such_duty"
    return {"severity": "error", "kpi": _first(fw).kpi, "field": "responsibility"}


def _unknown_parent(fw):
    fw.objectives[0].parent = "no_such_objective"
    return {"severity": "error", "file": "objectives.yaml", "field": "parent"}


def _parent_loop(fw):
    first, second = fw.objectives[0], fw.objectives[1]
    first.parent, second.parent = second.id, first.id
    return {"severity": "error", "file": "objectives.yaml", "field": "parent"}


def _filter_that_does_not_parse(fw):
    definition = fw.kpi(_first(fw).kpi)
    definition.measure = Measure.model_validate(
        {"aggregate": {"source": "deals", "function": "count", "where": 'stage = "won"'}})
    return {"severity": "error", "file": "kpis.yaml", "kpi": definition.id, "field": "measure.aggregate.where"}


def _measure_in_another_unit(fw):
    definition = fw.kpi(_first(fw).kpi)
    definition.measure = Measure.model_validate(
        {"aggregate": {"source": "deals", "function": "sum", "column": "amount"}, "unit": f"{definition.unit} x"})
    return {"severity": "error", "file": "kpis.yaml", "kpi": definition.id, "field": "measure"}


MUTATIONS: dict[str, Callable[[Framework], dict]] = {
    "balance.kpi_count": _too_few_kpis,
    "balance.weights": _weights_off,
    "balance.development": _no_development,
    "balance.leading_lagging": _all_lagging,
    "coverage.objective": _objective_without_kpi,
    "coverage.unused_kpi": _unused_definition,
    "coverage.responsibility": _unmeasured_responsibility,
    "coverage.team": _team_without_role,
    "coverage.role_team": _role_without_team,
    "smart.specific": _vague_name,
    "smart.measurable": _no_data_source,
    "smart.achievable": _bands_swapped,
    "smart.relevant": _no_objective,
    "smart.time_bound": _no_frequency,
    "structure.duplicate_id": _duplicate_objective,
    "structure.duplicate_responsibility": _duplicate_responsibility,
    "structure.duplicate_assignment": _duplicate_assignment,
    "structure.unknown_team": _unknown_team,
    "structure.unknown_kpi": _unknown_kpi,
    "structure.unknown_objective": _unknown_objective,
    "structure.unknown_responsibility": _unknown_responsibility,
    "structure.unknown_parent": _unknown_parent,
    "structure.parent_cycle": _parent_loop,
    "measures.parse": _filter_that_does_not_parse,
    "measures.unit": _measure_in_another_unit,
}


@pytest.fixture(scope="module")
def sample_framework() -> Framework:
    if not SAMPLE_ORG_DIR.is_dir():
        pytest.skip("data/sample_org is not there")
    return load_framework(SAMPLE_ORG_DIR)


@pytest.fixture(params=["small", "sample"])
def good_framework(request, small_framework) -> Framework:
    """The small framework built in code, or a fresh copy of the sample organization."""
    if request.param == "small":
        return small_framework
    return request.getfixturevalue("sample_framework").model_copy(deep=True)


def _rule_findings(framework: Framework, rule_id: str) -> list[Finding]:
    return RULES_BY_ID[rule_id].run(framework)


def test_small_framework_has_no_findings(small_framework):
    assert check_framework(small_framework) == []


def test_sample_organization_has_no_errors(sample_framework):
    findings = check_framework(sample_framework)
    assert not has_errors(findings), format_findings(findings)


def test_every_rule_has_a_failing_case_and_documentation():
    assert set(MUTATIONS) == set(RULES_BY_ID)
    for rule in RULES:
        assert rule.doc and any(word in rule.doc for word in ("Error", "Warning", "Info")), rule.id


@pytest.mark.parametrize("rule_id", list(MUTATIONS))
def test_rule_fails_on_broken_framework(good_framework, rule_id):
    before = set(_rule_findings(good_framework, rule_id))
    expected = MUTATIONS[rule_id](good_framework)
    new = [f for f in _rule_findings(good_framework, rule_id) if f not in before]
    assert new, f"{rule_id} found nothing"
    matching = [f for f in new if all(str(getattr(f, key)) == value for key, value in expected.items())]
    assert matching, f"expected {expected}, got {new}"
    assert all(f.message and f.fix and f.code == rule_id for f in new)


@pytest.mark.parametrize("rule_id", list(MUTATIONS))
def test_rule_passes_on_good_framework(small_framework, rule_id):
    assert _rule_findings(small_framework, rule_id) == []


@pytest.mark.parametrize(
    ("name", "unit", "vague"),
    [
        ("Improve customer satisfaction", "", True),
        ("Better results in various areas etc", "", True),
        ("Optimise the process", "score", True),
        ("Improve first-contact resolution rate", "%", False),
        ("Enhance NPS", "NPS", False),
        ("Good deliveries above 95", "", False),
        ("Improvement ideas submitted", "ideas", False),
        ("Customer satisfaction score", "score 1-5", False),
    ],
)
def test_specific_flags_vague_words_only_without_a_measure(small_framework, name, unit, vague):
    definition = small_framework.kpi("win_rate")
    definition.name, definition.unit = name, unit
    findings = [f for f in _rule_findings(small_framework, "smart.specific") if f.field == "name"]
    assert bool(findings) is vague
    if vague:
        assert "vague word" in findings[0].message


def test_specific_asks_for_a_description(small_framework):
    small_framework.kpi("win_rate").description = ""
    [finding] = _rule_findings(small_framework, "smart.specific")
    assert (finding.field, finding.kpi, finding.role) == ("description", "win_rate", "account_executive")


@pytest.mark.parametrize(
    ("kpi", "bands", "problem"),
    [
        ("win_rate", {"threshold": 20, "target": 20, "stretch": 20}, ("warning", "target")),
        ("win_rate", {"threshold": 20, "target": 25, "stretch": 25}, ("warning", "stretch")),
        ("win_rate", {"threshold": 25, "target": 25, "stretch": 30}, None),
        ("win_rate", {"threshold": 30, "target": 25, "stretch": 35}, ("error", "target")),
        ("win_rate", {"threshold": 20, "target": 25, "stretch": 24}, ("error", "stretch")),
        ("win_rate", {"threshold": None}, ("warning", "threshold")),
        ("win_rate", {"target_range": (1, 2)}, ("error", "target_range")),
        ("sales_cycle_days", {"threshold": 90, "target": 75, "stretch": 60}, None),
        ("sales_cycle_days", {"threshold": 60, "target": 75, "stretch": 90}, ("error", "target")),
        ("sales_cycle_days", {"threshold": 90, "target": 75, "stretch": 80}, ("error", "stretch")),
        ("average_discount", {"target_range": (10, 5)}, ("error", "target_range")),
        ("average_discount", {"threshold_range": (6, 15)}, ("error", "threshold_range")),
        ("average_discount", {"threshold_range": (5, 10)}, None),
        ("average_discount", {"threshold_range": None}, ("warning", "threshold_range")),
        ("average_discount", {"target": 7}, ("error", "target")),
    ],
)
def test_achievable_checks_band_order_for_each_polarity(small_framework, kpi, bands, problem):
    assignment = next(a for a in small_framework.roles[0].kpis if a.kpi == kpi)
    for field, value in bands.items():
        setattr(assignment, field, value)
    found = [(str(f.severity), f.field) for f in _rule_findings(small_framework, "smart.achievable")]
    assert found == ([problem] if problem else [])


def test_achievable_message_states_the_order_the_polarity_needs(small_framework):
    small_framework.roles[0].kpis[2].target = 95
    [finding] = _rule_findings(small_framework, "smart.achievable")
    assert small_framework.kpi(finding.kpi).polarity is Polarity.LOWER_IS_BETTER
    assert "threshold >= target >= stretch" in finding.message
    assert "90" in finding.message and "95" in finding.message


def test_time_bound_flags_kpis_measured_less_often_than_reviewed(small_framework):
    small_framework.kpi("training_hours").frequency = "yearly"
    [finding] = _rule_findings(small_framework, "smart.time_bound")
    assert (finding.kpi, finding.field) == ("training_hours", "review_period")
    assert "yearly" in finding.message and "quarterly" in finding.message
    small_framework.roles[0].kpis[4].review_period = "yearly"
    assert _rule_findings(small_framework, "smart.time_bound") == []
    small_framework.roles[0].kpis[4].review_period = "quaterly"
    [finding] = _rule_findings(small_framework, "smart.time_bound")
    assert "'quaterly' is not a known cycle" in finding.message and "quarterly" in finding.fix


def test_relevant_asks_for_a_responsibility(small_framework):
    small_framework.roles[0].kpis[1].responsibility = None
    relevant = _rule_findings(small_framework, "smart.relevant")
    assert [(f.kpi, f.field) for f in relevant] == [("pipeline_coverage", "responsibility")]
    # the responsibility it measured is now measured by nothing
    coverage = _rule_findings(small_framework, "coverage.responsibility")
    assert [f.entry for f in coverage] == ["responsibility 'build_pipeline'"]


@pytest.mark.parametrize(("last_weight", "ok"), [(15.005, True), (14.995, True), (15.02, False), (14.9, False)])
def test_weights_sum_within_tolerance(small_framework, last_weight, ok):
    small_framework.roles[0].kpis[-1].weight = last_weight
    assert (_rule_findings(small_framework, "balance.weights") == []) is ok


def test_weights_follow_the_configured_total(small_framework):
    small_framework.metadata.settings.weight_total = 1
    for assignment in small_framework.roles[0].kpis:
        assignment.weight /= 100
    assert _rule_findings(small_framework, "balance.weights") == []


def test_kpi_count_limits_come_from_settings(small_framework):
    small_framework.metadata.settings.max_kpis_per_role = 4
    [finding] = _rule_findings(small_framework, "balance.kpi_count")
    assert "5 KPI" in finding.message and "3 to 4" in finding.message


def test_objective_served_through_a_child_names_the_child(small_framework):
    small_framework.objectives.append(Objective(id="growth", title="Profitable growth", perspective="financial"))
    small_framework.objectives[0].parent = "growth"
    [finding] = _rule_findings(small_framework, "coverage.objective")
    assert finding.severity is Severity.INFO
    assert finding.entry == "objective 'growth'" and "'grow_revenue'" in finding.message


def test_unknown_ids_suggest_the_close_match(small_framework):
    small_framework.roles[0].kpis[0].kpi = "win_rat"
    small_framework.roles[0].teams = ["sale"]
    fixes = {f.code: f.fix for f in check_framework(small_framework)}
    assert "'win_rate'" in fixes["structure.unknown_kpi"]
    assert "'sales'" in fixes["structure.unknown_team"]


def test_unknown_kpi_is_not_also_checked_for_smart(small_framework):
    small_framework.roles[0].kpis[0].kpi = "no_such_kpi"
    rules = {f.code for f in check_framework(small_framework) if f.kpi == "no_such_kpi"}
    assert rules == {"structure.unknown_kpi"}


def test_parent_loop_is_reported_once(small_framework):
    _parent_loop(small_framework)
    findings = _rule_findings(small_framework, "structure.parent_cycle")
    assert len(findings) == 1 and "->" in findings[0].message


def test_findings_come_errors_first(small_framework):
    _bands_swapped(small_framework)
    _unused_definition(small_framework)
    _no_data_source(small_framework)
    severities = [f.severity for f in check_framework(small_framework)]
    assert severities == sorted(severities, key=list(Severity).index)
    assert set(severities) == set(Severity)


def test_findings_frame_and_report(small_framework):
    _bands_swapped(small_framework)
    _team_without_role(small_framework)
    _unused_definition(small_framework)
    findings = check_framework(small_framework)
    frame = findings_frame(findings)
    assert list(frame.columns) == FINDING_COLUMNS
    assert frame["severity"].tolist() == ["error", "warning", "info"]
    assert frame["severity"].cat.ordered and frame["severity"].min() == "error"
    first = json.loads(frame.to_json(orient="records"))[0]
    assert first["code"] == "smart.achievable" and first["row"] is None

    report = format_findings(findings, title="Check")
    assert report.startswith("# Check\n") and "Summary: 1 error, 1 warning, 1 info." in report
    assert report.index("## Errors (1)") < report.index("## Warnings (1)") < report.index("## Info (1)")
    assert "### Role `account_executive` (roles/account_executive.yaml)" in report
    assert "### `teams.yaml`" in report and "Fix: " in report
    assert has_errors(findings) and not has_errors(findings[1:])


def test_empty_findings_frame_and_report():
    frame = findings_frame([])
    assert frame.empty and list(frame.columns) == FINDING_COLUMNS
    assert "No findings" in format_findings([])


def test_finding_accepts_severity_and_code_text_and_rejects_unknown():
    finding = Finding(severity="warning", code="smart.relevant", message="m", fix="f", file="roles/a.yaml", role="a",
                      kpi="k", field="weight")
    assert finding.severity is Severity.WARNING and finding.code is Code.SMART_RELEVANT
    assert str(finding) == "roles/a.yaml, role 'a', KPI 'k', field 'weight': m"
    with pytest.raises(ValueError, match="fatal"):
        Finding(severity="fatal", code="smart.relevant", message="m")
    with pytest.raises(ValueError, match="smart.nonsense"):
        Finding(severity="warning", code="smart.nonsense", message="m")


def test_check_workspace_adds_employee_problems(tmp_path: Path, small_framework):
    save_framework(small_framework, tmp_path)
    (tmp_path / EMPLOYEES_FILE).write_text(
        "employee_id,name,team,role\nE1,Ann,sales,account_executive\nE1,Bob,sales,account_executive\n"
        "E3,Cy,salse,account_executive\n", encoding="utf-8")
    findings = check_workspace(open_workspace(tmp_path))
    frame = findings_frame(findings)
    assert frame[["severity", "code", "file", "row", "field"]].values.tolist() == [
        ["error", "workspace.employees", "employees.csv", 3, "employee_id"],
        ["error", "workspace.employees", "employees.csv", 4, "team"],
    ]


def test_check_workspace_reports_unreadable_employees_as_finding(tmp_path: Path, small_framework):
    save_framework(small_framework, tmp_path)
    (tmp_path / EMPLOYEES_FILE).write_text("id,name\n1,Ann\n", encoding="utf-8")
    [finding] = check_workspace(open_workspace(tmp_path))
    assert finding.severity is Severity.ERROR and "missing column" in finding.message


def test_check_workspace_on_the_sample_copy(sample_workspace: Path):
    framework = load_framework(sample_workspace)
    _bands_swapped(framework)
    save_framework(framework, sample_workspace)
    errors = findings_frame(check_workspace(open_workspace(sample_workspace))).query("severity == 'error'")
    assert errors[["code", "file", "field"]].values.tolist() == [
        ["smart.achievable", _role_file(framework), "target"]
    ]
