"""The relations planted in the sample organization (sample.relations) are what `kpi-workbook evidence`
finds on it: the leading KPI with its lag, the easier and harder roles, the bunching KPI and the guardrail pair."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kpi_workbook.analysis.evidence import Evidence, framework_evidence
from kpi_workbook.analysis.evidence.difficulty import EASIER, HARDER
from kpi_workbook.analysis.evidence.leading import LEADS as LEADS_VERDICT
from kpi_workbook.analysis.evidence.leading import MEANINGFUL_R
from kpi_workbook.core.model import Framework
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.sample.organization import NEVER_MET_KPIS, generate_actuals, generate_employees, quarter_labels
from kpi_workbook.sample.relations import BUNCHED, DRIFTS, LEADS, ROLE_OFFSETS
from kpi_workbook.workspace.files import ACTUALS_DB, load_framework
from kpi_workbook.workspace.opener import open_workspace


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Framework, Evidence]:
    """The sample's framework and the evidence on its stored actuals, as `kpi-workbook evidence` computes it."""
    root = tmp_path_factory.mktemp("evidence") / "sample_org"
    shutil.copytree(SAMPLE_ORG_DIR, root, ignore=shutil.ignore_patterns(f"{ACTUALS_DB}*"))
    opened = open_workspace(Path(root), notice=lambda _: None)
    return opened.framework, framework_evidence(opened.framework, opened.store().read_actuals(), opened.employees)


def test_the_planted_leading_kpi_leads_its_lagging_kpi_at_the_planted_lag(sample):
    framework, evidence = sample
    pairs = {(p.leading, p.lagging): p for p in evidence.leads.pairs}
    for lead in LEADS:
        assert lead.lagging in framework.kpi(lead.leading).leads, "kpis.yaml declares the planted pair"
        pair = pairs[lead.leading, lead.lagging]
        assert pair.declared and pair.verdict == LEADS_VERDICT
        assert pair.relation.lag == lead.lag
        assert pair.relation.low > 0 and pair.relation.r > MEANINGFUL_R
        assert lead.leading not in evidence.leads.idle_leading
        assert lead.lagging not in evidence.leads.undriven_lagging


def test_the_roles_with_planted_easy_and_hard_targets_are_flagged_their_way(sample):
    framework, evidence = sample
    flags = evidence.difficulty.flags
    roles = flags[flags["level"] == "role"].set_index("group")["direction"].to_dict()
    for role, offset in ROLE_OFFSETS.items():
        assert roles.get(role) == (EASIER if offset > 0 else HARDER), role
    # every other role flagged is harder and holds a KPI planted never to be met
    never_met = {a.role for a in framework.assignments if a.kpi.kpi in NEVER_MET_KPIS}
    others = {role: direction for role, direction in roles.items() if role not in ROLE_OFFSETS}
    assert set(others.values()) <= {HARDER} and set(others) <= never_met


def test_the_planted_bunching_at_a_target_is_flagged(sample):
    framework, evidence = sample
    bunching = {(f.scope, f.kpi_id): f for f in evidence.gaming if f.check == "bunching"}
    for role, kpi in BUNCHED:
        finding = bunching[f"role {role}", kpi]
        target = next(a.kpi.target for a in framework.assignments if (a.role, a.kpi.kpi) == (role, kpi))
        assert f"the target {target:.4g} " in finding.evidence and finding.p < 0.01


def test_the_planted_guardrail_pair_moving_apart_is_flagged_in_its_team_only(sample):
    framework, evidence = sample
    for (role, team), rates in DRIFTS.items():
        improving = next(k for k, rate in rates.items() if rate > 0)
        worsening = next(k for k, rate in rates.items() if rate < 0)
        assert framework.kpi(improving).guardrail == worsening, "kpis.yaml declares the guardrail"
        scopes = [f.scope for f in evidence.gaming if f.check == "guardrail" and f.kpi_id == improving]
        assert scopes == [f"team {team}"], "the role's other teams did not drift"
        assert role in {a.role for a in framework.assignments if a.kpi.kpi == improving}


def test_the_plants_change_only_the_planted_assignments():
    """The sample drawn again with the roles of the role plants renamed (so those plants do not apply) differs only
    in those plants' assignments: every other draw stays as it was. (A planted lead follows its KPIs, whatever the
    role is called, so it is in both draws.)"""
    framework = load_framework(SAMPLE_ORG_DIR)
    people = generate_employees(framework, 180, 42)
    periods = quarter_labels("2024Q1", 8)
    planted = ({(role, k.kpi) for role in ROLE_OFFSETS for k in framework.role(role).kpis} | set(BUNCHED)
               | {(role, kpi) for (role, _), rates in DRIFTS.items() for kpi in rates})
    hidden = {role: f"{role}_unplanted" for role, _ in planted}
    renamed = framework.model_copy(update={"roles": [r.model_copy(update={"id": hidden.get(r.id, r.id)})
                                                     for r in framework.roles]})
    keys = ["period", "team", "employee_id", "kpi_id"]
    with_plants = generate_actuals(framework, people, periods, 42).astype({k: str for k in keys})
    without = generate_actuals(renamed, people.assign(role=people["role"].replace(hidden)), periods, 42)
    both = with_plants.merge(without.astype({k: str for k in keys}), on=keys, suffixes=("", "_plain"),
                             validate="one_to_one")
    assert len(both) == len(with_plants) == len(without)
    changed = both[both["value"] != both["value_plain"]].merge(people[["employee_id", "role"]], on="employee_id")
    assert set(zip(changed["role"], changed["kpi_id"], strict=True)) == planted
