"""The sample organization (data/sample_org) and its seeded generator (kpi_workbook.sample, `kpi-workbook sample`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpi_workbook.analysis.checks import check_framework
from kpi_workbook.analysis.library import load_library
from kpi_workbook.core.errors import InputError
from kpi_workbook.core.model import Category, Frequency, Indicator, Perspective, Polarity
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.sample.organization import (
    ACTUALS_COLUMNS,
    ALWAYS_EXCEEDED_KPIS,
    DISCONTINUED_KPIS,
    FLAT_KPIS,
    NEVER_MET_KPIS,
    TEAM_LEVEL_KPIS,
    generate_actuals,
    generate_employees,
    quarter_labels,
    team_level_kpis,
    write_sample,
)
from kpi_workbook.workspace.files import ACTUALS_CSV, ACTUALS_DB, EMPLOYEES_FILE, framework_files, load_framework
from kpi_workbook.workspace.sources import SOURCES_FILE

TEAMS = ["sales", "marketing", "hr", "operations", "it", "finance", "customer_support", "product"]
SAMPLE_PERIODS = quarter_labels("2024Q1", 8)


@pytest.fixture(scope="module")
def framework():
    return load_framework(SAMPLE_ORG_DIR)


@pytest.fixture(scope="module")
def actuals() -> pd.DataFrame:
    """The committed actuals.csv, read the way an import reads it (ids as text, empty ids kept)."""
    return pd.read_csv(SAMPLE_ORG_DIR / ACTUALS_CSV, dtype={"employee_id": str}, keep_default_na=False)


@pytest.fixture(scope="module")
def employees() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_ORG_DIR / EMPLOYEES_FILE, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def scored(actuals, employees, framework) -> pd.DataFrame:
    """Employee-level actuals with the role and the assignment's bands (team-level KPIs joined per team)."""
    bands = pd.DataFrame([
        {"role": a.role, "kpi_id": a.kpi.kpi, "threshold": a.kpi.threshold, "target": a.kpi.target,
         "stretch": a.kpi.stretch, "polarity": framework.kpi(a.kpi.kpi).polarity.value}
        for a in framework.assignments
    ])
    people = actuals[actuals["employee_id"] != ""].merge(employees[["employee_id", "role"]], on="employee_id")
    return people.merge(bands, on=["role", "kpi_id"], validate="many_to_one")


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- the framework -------------------------------------------------------------------------------------------


def test_sample_framework_round_trips_byte_for_byte(framework):
    for name, text in framework_files(framework).items():
        assert (SAMPLE_ORG_DIR / name).read_text(encoding="utf-8") == text, name
    on_disk = {str(p.relative_to(SAMPLE_ORG_DIR)) for p in SAMPLE_ORG_DIR.rglob("*.yaml")}
    assert on_disk == {*framework_files(framework), SOURCES_FILE}  # sources.yaml declares the raw exports


def test_sample_framework_shape(framework):
    assert {o.perspective for o in framework.objectives} == set(Perspective)
    assert len(framework.objectives) >= 5
    assert any(o.parent and framework.objective(o.parent) for o in framework.objectives)
    assert [t.id for t in framework.teams] == TEAMS
    assert all(t.department for t in framework.teams)
    assert len(framework.roles) >= 14
    for team in TEAMS:
        assert framework.roles_of_team(team), team


def test_every_role_has_a_complete_job_description_and_kpi_set(framework):
    for role in framework.roles:
        assert role.purpose and 3 <= len(role.responsibilities) <= 5, role.id
        assert all(r.description and r.expected_outcome for r in role.responsibilities), role.id
        assert 4 <= len(role.kpis) <= framework.metadata.settings.max_kpis_per_role, role.id
        assert sum(k.weight for k in role.kpis) == 100, role.id
        kpis = [framework.kpi(k.kpi) for k in role.kpis]
        assert any(k.category is Category.DEVELOPMENT for k in kpis), role.id
        responsibilities = {r.id for r in role.responsibilities}
        for assignment, kpi in zip(role.kpis, kpis, strict=True):
            assert assignment.objectives and assignment.responsibility in responsibilities, (role.id, kpi.id)
            if kpi.polarity is Polarity.WITHIN_RANGE:
                (lo, hi), (outer_lo, outer_hi) = assignment.target_range, assignment.threshold_range
                assert outer_lo < lo < hi < outer_hi, (role.id, kpi.id)
            else:
                sign = 1 if kpi.polarity is Polarity.HIGHER_IS_BETTER else -1
                bands = [sign * assignment.threshold, sign * assignment.target, sign * assignment.stretch]
                assert bands[0] < bands[1] < bands[2], (role.id, kpi.id)


def test_checks_find_only_the_two_deliberate_warnings(framework):
    findings = [f for f in check_framework(framework) if f.severity.value in ("error", "warning")]
    assert {(f.severity.value, f.code, f.role) for f in findings} == {
        ("warning", "balance.leading_lagging", "financial_analyst"),
        ("warning", "coverage.responsibility", "support_team_lead"),
    }
    no_leading = [r.id for r in framework.roles
                  if all(framework.kpi(k.kpi).indicator is Indicator.LAGGING for k in r.kpis)]
    assert no_leading == ["financial_analyst"]


def test_kpi_definitions_are_the_library_ones_and_all_used(framework):
    library = {k.id: k for k in load_library()}
    used = {a.kpi.kpi for a in framework.assignments}
    assert [k.id for k in framework.kpis if k.id in used] == [k.id for k in framework.kpis]
    assert used == {k.id for k in framework.kpis}
    same = {"name", "unit", "polarity", "category", "indicator", "measure_type", "family"}
    for kpi in framework.kpis:
        # copied from the library, except that Alderbrook measures every KPI at least quarterly (check-ins)
        assert kpi.frequency in (Frequency.WEEKLY, Frequency.MONTHLY, Frequency.QUARTERLY), kpi.id
        assert kpi.model_dump(include=same) == library[kpi.id].model_dump(include=same), kpi.id


# --- the committed data -------------------------------------------------------------------------------------


def test_committed_sample_equals_regeneration_with_defaults(tmp_path):
    summary = write_sample(tmp_path / "again")
    assert summary.employees >= 150 and summary.periods == SAMPLE_PERIODS
    committed = {name: data for name, data in _files(SAMPLE_ORG_DIR).items()
                 if ACTUALS_DB not in name}  # the store and its lock file are made on use, not committed
    assert _files(tmp_path / "again") == committed


def test_employees_are_spread_over_every_role_and_team(employees, framework):
    assert len(employees) >= 150 and list(employees.columns) == ["employee_id", "name", "team", "role"]
    assert employees["employee_id"].is_unique and employees["employee_id"].str.fullmatch(r"E\d{5}").all()
    assert set(employees["role"]) == {r.id for r in framework.roles}
    assert set(employees["team"]) == set(TEAMS)
    assert all(t in framework.role(r).teams for r, t in zip(employees["role"], employees["team"], strict=True))
    sizes = employees["role"].value_counts()
    assert sizes["support_agent"] > 5 * sizes["support_team_lead"]


def test_actuals_cover_eight_quarters_for_every_employee(actuals, employees):
    assert list(actuals.columns) == ACTUALS_COLUMNS
    assert sorted(actuals["period"].unique()) == SAMPLE_PERIODS
    per_employee = actuals[actuals["employee_id"] != ""].groupby("employee_id")["period"].nunique()
    assert set(per_employee.index) == set(employees["employee_id"]) and (per_employee == 8).all()
    assert not actuals.duplicated(["period", "team", "employee_id", "kpi_id"]).any()


def test_values_stay_in_valid_ranges(actuals, framework):
    assert np.isfinite(actuals["value"]).all()
    unit = actuals["kpi_id"].map({k.id: k.unit for k in framework.kpis})
    ratings, counts = unit.str.startswith("rating"), unit == "count"
    assert actuals.loc[ratings, "value"].between(1, 5).all() and ratings.any()
    assert (actuals.loc[counts, "value"] >= 0).all() and (actuals.loc[counts, "value"] % 1 == 0).all()
    beyond_100 = actuals["kpi_id"].isin(["quota_attainment", "marketing_roi", "budget_variance"])
    shares = (unit == "%") & ~beyond_100
    assert actuals.loc[shares, "value"].between(0, 100).all() and shares.mean() > 0.3
    assert (actuals.loc[beyond_100 & (actuals["kpi_id"] != "budget_variance"), "value"] > 100).any()
    assert (actuals.loc[actuals["kpi_id"] == "budget_variance", "value"] < 0).any()
    assert actuals.loc[unit.str.contains("-100"), "value"].between(-100, 100).all()
    assert (actuals.loc[(unit != "%") & ~unit.str.contains("-100"), "value"] > 0).all()


def test_some_kpis_are_always_exceeded(scored):
    for kpi in ALWAYS_EXCEEDED_KPIS - TEAM_LEVEL_KPIS:
        rows = scored[scored["kpi_id"] == kpi]
        assert len(rows) and (rows["value"] >= rows["stretch"]).all(), kpi
        assert (rows.groupby("employee_id")["period"].nunique() >= 4).all()


def test_some_kpis_are_never_met(scored):
    for kpi in NEVER_MET_KPIS:
        rows = scored[scored["kpi_id"] == kpi]
        sign = np.where(rows["polarity"] == "lower_is_better", -1, 1)
        assert len(rows) and (sign * rows["value"] < sign * rows["threshold"]).all(), kpi


def test_regular_kpis_have_both_good_and_bad_quarters(scored):
    regular = scored[~scored["kpi_id"].isin(ALWAYS_EXCEEDED_KPIS | NEVER_MET_KPIS | FLAT_KPIS)].dropna(
        subset=["target"])
    sign = np.where(regular["polarity"] == "lower_is_better", -1, 1)
    met = sign * regular["value"] >= sign * regular["target"]
    assert 0.4 < met.mean() < 0.8
    assert (sign * regular["value"] < sign * regular["threshold"]).mean() > 0.03


def test_team_level_kpis_have_one_value_per_team_and_period(actuals, framework):
    team_level = team_level_kpis(framework)
    team_rows = actuals[actuals["employee_id"] == ""]
    assert set(team_rows["kpi_id"]) == team_level > TEAM_LEVEL_KPIS  # entered per team, and measured per team
    assert not actuals[(actuals["employee_id"] != "") & actuals["kpi_id"].isin(team_level)].size
    periods = team_rows.groupby(["team", "kpi_id"])["period"].nunique()
    windows = {k.id: k.measure.window for k in framework.kpis if k.measure is not None and k.measure.window}
    expected = [8 - windows.get(kpi, 1) + 1 for _, kpi in periods.index]  # a window's first periods have none
    assert periods.tolist() == expected and windows == {"voluntary_turnover_rate_t12m": 4}
    assert set(team_rows.loc[team_rows["kpi_id"] == "deployment_frequency", "team"]) == {"it", "product"}


def test_gaps_flat_kpi_and_discontinued_kpi(actuals, employees, framework):
    special = ALWAYS_EXCEEDED_KPIS | NEVER_MET_KPIS | FLAT_KPIS | team_level_kpis(framework) | set(DISCONTINUED_KPIS)
    expected = sum((employees["role"] == a.role).sum() * len(SAMPLE_PERIODS) for a in framework.assignments
                   if a.kpi.kpi not in special)
    regular = actuals[~actuals["kpi_id"].isin(special)]
    assert 0.01 < 1 - len(regular) / expected < 0.04
    for kpi, last in DISCONTINUED_KPIS.items():
        periods = set(actuals.loc[actuals["kpi_id"] == kpi, "period"])
        assert periods == set(SAMPLE_PERIODS[:-last])
    for kpi in FLAT_KPIS:
        assert actuals.loc[actuals["kpi_id"] == kpi, "value"].std() < 0.1


def test_trends_and_q4_sales_season(actuals):
    means = actuals.groupby(["kpi_id", "period"])["value"].mean().unstack()
    change = (means[SAMPLE_PERIODS[-2:]].mean(axis=1) - means[SAMPLE_PERIODS[:2]].mean(axis=1)) / means.abs().mean(
        axis=1)
    assert (change > 0.05).any() and (change < -0.05).any()
    quota = means.loc["quota_attainment"]
    assert quota["2024Q4"] > quota["2024Q1"] + 5 and quota["2025Q4"] > quota["2025Q1"] + 5


# --- the generator --------------------------------------------------------------------------------------------


def test_same_seed_same_bytes_and_another_seed_differs(tmp_path):
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        write_sample(tmp_path / name, employees=60, periods=5, seed=seed, first_period="2023Q3")
    first, second, other = (_files(tmp_path / n) for n in "abc")
    assert first == second
    assert other[ACTUALS_CSV] != first[ACTUALS_CSV] and other[EMPLOYEES_FILE] != first[EMPLOYEES_FILE]
    assert first[ACTUALS_CSV].decode().splitlines()[1].startswith("2023Q3,")


def test_generator_scales_to_twenty_thousand_employees(framework):
    people = generate_employees(framework, 20_000, seed=3)
    periods = quarter_labels("2024Q1", 10)
    actuals = generate_actuals(framework, people, periods, seed=3)
    assert people["employee_id"].iloc[-1] == "E20000" and people["employee_id"].is_unique
    assert actuals["employee_id"].dtype == "category" and actuals["value"].dtype == np.float64
    team_level = team_level_kpis(framework)
    kpis_per_role = {r.id: len([k for k in r.kpis if k.kpi not in team_level]) for r in framework.roles}
    full = people["role"].map(kpis_per_role).sum() * len(periods)
    assert 0.9 * full < (actuals["employee_id"] != "").sum() < full
    assert actuals["employee_id"].nunique() == 20_001  # every employee plus the empty team-level id


def test_quarter_labels():
    assert quarter_labels("2024Q4", 3) == ["2024Q4", "2025Q1", "2025Q2"]
    assert quarter_labels("q2 2025", 1) == ["2025Q2"]
    with pytest.raises(InputError, match="not a quarter"):
        quarter_labels("2024-03")
    with pytest.raises(InputError, match="not a period"):
        quarter_labels("2024Q5")


def test_unknown_role_of_an_employee_is_named(framework):
    people = generate_employees(framework, 20, seed=1)
    people.loc[3, "role"] = "wizard"
    with pytest.raises(InputError) as caught:
        generate_actuals(framework, people, SAMPLE_PERIODS, seed=1)
    assert [(p.file, p.row, p.field) for p in caught.value.problems] == [("employees.csv", 5, "role")]


def test_a_broken_template_writes_nothing(tmp_path):
    template = tmp_path / "template"
    shutil.copytree(SAMPLE_ORG_DIR, template)
    role_file = template / "roles" / "recruiter.yaml"
    role_file.write_text(role_file.read_text().replace("kpi: cost_per_hire", "kpi: cost_per_hires"))
    with pytest.raises(InputError) as caught:
        write_sample(tmp_path / "out", template=template)
    problem = caught.value.problems[0]
    assert (problem.file, problem.field) == ("roles/recruiter.yaml", "kpi") and "cost_per_hires" in problem.entry
    assert not (tmp_path / "out").exists()


# --- the command line -----------------------------------------------------------------------------------------


def test_cli_writes_a_workspace_and_refuses_to_overwrite(tmp_path, cli):
    out = tmp_path / "ws"
    code, stdout, _ = cli("sample", "--out", out, "--employees", 40, "--periods", 3, "--seed", 5)
    assert code == 0 and "40 employees" in stdout and "2024Q1..2024Q3" in stdout
    written = _files(out)
    assert load_framework(out).metadata.organization == "Alderbrook Instruments"
    assert pd.read_csv(out / EMPLOYEES_FILE).shape == (40, 4)

    code, _, stderr = cli("sample", "--out", out, "--seed", 6)
    assert code == 2 and "not empty" in stderr and "--force" in stderr
    assert _files(out) == written

    code, _, _ = cli("sample", "--out", out, "--employees", 40, "--periods", 3, "--seed", 6, "--force")
    assert code == 0 and _files(out)[ACTUALS_CSV] != written[ACTUALS_CSV]


@pytest.mark.parametrize(("args", "message"), [
    (["--employees", "0"], "--employees"),
    (["--first-period", "2024-07"], "--first-period: first period '2024-07' is not a quarter"),
    (["--template", "no_such_folder"], "no_such_folder: workspace folder not found"),
])
def test_cli_rejects_bad_values_with_a_clear_message(tmp_path, cli, args, message):
    code, _, stderr = cli("sample", "--out", tmp_path / "ws", *args, cwd=tmp_path)
    assert code == 2 and message in stderr and "Traceback" not in stderr
    assert not (tmp_path / "ws").exists()
