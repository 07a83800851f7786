"""Tests of KPI suggestions: library KPIs ranked by text similarity to a responsibility."""

from __future__ import annotations

import pytest

from kpi_workbook.analysis.library import SUGGESTION_COLUMNS, library_frame, load_library, search_library, suggest_kpis

# A responsibility (description plus expected outcome) and the KPIs a practitioner would expect near the top.
KNOWN_PAIRS = [
    ("close new business and meet quarterly sales quota", {"win_rate", "quota_attainment"}, 3),
    ("hire the right people quickly", {"time_to_hire"}, 3),
    ("keep production systems reliable and restore service fast", {"mean_time_to_restore", "system_availability"}, 3),
    ("resolve customer issues at first contact", {"first_contact_resolution_rate"}, 1),
    ("generate qualified leads for the sales team through campaigns", {"marketing_qualified_leads"}, 3),
    ("deliver customer orders on time", {"on_time_delivery_rate"}, 3),
    ("collect customer payments promptly", {"days_sales_outstanding"}, 3),
    ("close the monthly books accurately and on time", {"days_to_close"}, 3),
    ("ship software changes to production frequently and safely",
     {"deployment_frequency", "lead_time_for_changes", "change_failure_rate"}, 3),
    ("reduce employee attrition and keep top talent", {"voluntary_turnover_rate"}, 3),
    ("drive adoption of new product features", {"feature_adoption_rate"}, 3),
    ("manage the budget and control spending", {"budget_variance"}, 3),
    ("patch servers and fix security vulnerabilities", {"patch_compliance_rate", "vulnerability_remediation_time"}, 3),
    ("keep learning and complete professional certifications", {"certifications_earned"}, 3),
    ("coach and mentor junior team members", {"mentoring_hours"}, 3),
    ("negotiate with suppliers to reduce purchasing costs", {"purchase_price_variance", "procurement_cost_savings"}, 3),
    ("ensure purchases go through approved contracts and preferred suppliers", {"contract_compliance_rate"}, 3),
    ("place purchase orders quickly once requisitions are approved", {"purchase_order_cycle_time"}, 3),
    ("deliver projects on schedule and within budget", {"schedule_performance_index", "cost_performance_index"}, 3),
    ("track project costs against the approved budget", {"cost_performance_index"}, 3),
    ("control project scope and manage change requests", {"approved_change_requests"}, 3),
    ("identify project risks and make sure they are mitigated", {"risk_mitigation_rate"}, 3),
    ("keep data accurate and deliver reports on time", {"data_quality_score", "analytics_delivery_on_time"}, 3),
    ("build dashboards that business users actually use", {"dashboard_adoption_rate"}, 3),
    ("answer ad-hoc analysis requests from the business quickly", {"analysis_turnaround_time"}, 3),
    ("build and maintain predictive models and forecasts", {"predictive_model_accuracy"}, 3),
    ("ensure the company complies with regulations", {"regulatory_incidents", "compliance_monitoring_completion"}, 3),
    ("review and negotiate commercial contracts quickly", {"contract_turnaround_time"}, 3),
    ("make sure every employee completes the mandatory compliance training", {"compliance_training_completion"}, 1),
    ("follow up audit findings until remediation is closed", {"audit_findings_closed_on_time"}, 3),
    ("manage outside counsel and keep legal costs within budget", {"legal_spend_variance"}, 1),
]


@pytest.mark.parametrize(("text", "expected", "within"), KNOWN_PAIRS, ids=[p[0][:40] for p in KNOWN_PAIRS])
def test_known_pairs_rank_high(text, expected, within):
    ranked = suggest_kpis(text, top=within)
    assert expected & set(ranked["kpi_id"]), ranked["kpi_id"].tolist()


def test_job_advert_sentence_gets_kpis_of_its_family():
    text = ("Partner with hiring managers to source candidates, run phone screens and coordinate interviews; "
            "fill open positions with strong hires.")
    ranked = suggest_kpis(text, top=5)
    assert (ranked["family"] == "hr").sum() >= 4


@pytest.mark.parametrize(("text", "family"), [
    ("Act as the buyer for raw materials and components, placing orders and expediting deliveries with vendors.",
     "procurement"),
    ("Plan the project, track milestones, earned value and risks, and report progress to the sponsors.",
     "project_management"),
    ("Build dashboards and analyses for the business, keep the data clean and answer data requests quickly.",
     "data_analytics"),
    ("Make sure we comply with regulations and internal policies, run compliance training and follow up audit "
     "findings.", "legal_compliance"),
])
def test_job_advert_sentences_of_new_fields_get_kpis_of_their_family(text, family):
    ranked = suggest_kpis(text, top=5)
    assert (ranked["family"] == family).sum() >= 4, ranked[["kpi_id", "family"]].values.tolist()


def test_result_shape_order_and_top():
    ranked = suggest_kpis("reduce defects on the production line", top=7)
    assert list(ranked.columns) == SUGGESTION_COLUMNS
    assert len(ranked) == 7
    assert ranked["similarity"].is_monotonic_decreasing
    assert ranked["similarity"].between(0, 1).all() and (ranked["similarity"] > 0).all()
    assert ranked["kpi_id"].is_unique


def test_candidates_restrict_the_ranking():
    hr = search_library(family="hr")
    ranked = suggest_kpis("hire the right people quickly", candidates=hr, top=50)
    assert set(ranked["kpi_id"]) <= set(hr["id"])
    assert ranked["kpi_id"].iloc[0] == "time_to_hire"


def test_candidates_as_definitions_match_the_default_ranking():
    text = "respond quickly to customer tickets"
    defs = [kpi for kpi in load_library() if kpi.family == "customer_support"]
    from_defs = suggest_kpis(text, candidates=defs, top=3)
    from_library = suggest_kpis(text, candidates=library_frame(defs), top=3)
    assert from_defs["kpi_id"].tolist() == from_library["kpi_id"].tolist()
    assert from_defs["similarity"].tolist() == pytest.approx(from_library["similarity"].tolist())


def test_synonyms_bridge_different_words():
    ranked = suggest_kpis("recruit engineers", candidates=search_library(family=["hr", "it"]), top=3)
    assert set(ranked["family"]) == {"hr"}


@pytest.mark.parametrize("text", ["", "   ", "the and of"])
def test_text_without_content_gives_no_suggestion(text):
    ranked = suggest_kpis(text)
    assert ranked.empty and list(ranked.columns) == SUGGESTION_COLUMNS


def test_empty_candidates_give_no_suggestion():
    assert suggest_kpis("hire people", candidates=library_frame([])).empty
