"""Tests of the KPI library file, the taxonomy, library search and the `library` command."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kpi_workbook.analysis.categories import SECTIONS, load_categories
from kpi_workbook.analysis.library import FAMILIES, FIELDS, library_frame, load_library, search_library
from kpi_workbook.core.errors import InputError
from kpi_workbook.core.model import Category, Indicator, KpiDefinition, MeasureType, Polarity
from kpi_workbook.core.paths import CATEGORIES_FILE, LIBRARY_FILE
from kpi_workbook.workspace.yaml_io import dump_yaml

# KPIs the sample organization uses: id -> (family, polarity)
H, L, R = "higher_is_better", "lower_is_better", "within_range"
REQUIRED = {
    "quota_attainment": ("sales", H), "win_rate": ("sales", H), "pipeline_coverage": ("sales", H),
    "average_deal_size": ("sales", H), "sales_cycle_length": ("sales", L), "new_business_revenue": ("sales", H),
    "sales_qualified_leads": ("sales", H), "meetings_booked": ("sales", H), "customer_retention_rate": ("sales", H),
    "sales_forecast_accuracy": ("sales", H),
    "time_to_hire": ("hr", L), "voluntary_turnover_rate": ("hr", L), "training_hours_per_employee": ("hr", H),
    "offer_acceptance_rate": ("hr", H), "employee_engagement_score": ("hr", H), "cost_per_hire": ("hr", L),
    "quality_of_hire": ("hr", H),
    "cost_per_lead": ("marketing", L), "marketing_qualified_leads": ("marketing", H),
    "mql_to_sql_conversion_rate": ("marketing", H), "website_conversion_rate": ("marketing", H),
    "marketing_roi": ("marketing", H), "content_engagement_rate": ("marketing", H),
    "on_time_delivery_rate": ("operations", H), "inventory_turnover": ("operations", H),
    "order_cycle_time": ("operations", L), "defect_rate": ("operations", L), "cost_per_unit": ("operations", L),
    "capacity_utilization": ("operations", R),
    "deployment_frequency": ("it", H), "change_failure_rate": ("it", L), "lead_time_for_changes": ("it", L),
    "mean_time_to_restore": ("it", L), "code_review_turnaround": ("it", L), "system_availability": ("it", H),
    "escaped_defects": ("it", L),
    "days_sales_outstanding": ("finance", L), "budget_variance": ("finance", R), "days_to_close": ("finance", L),
    "invoice_processing_cost": ("finance", L), "finance_forecast_accuracy": ("finance", H),
    "first_contact_resolution_rate": ("customer_support", H), "customer_satisfaction_score": ("customer_support", H),
    "average_handle_time": ("customer_support", L), "first_response_time": ("customer_support", L),
    "net_promoter_score": ("customer_support", H), "ticket_backlog": ("customer_support", L),
    "feature_adoption_rate": ("product", H), "release_on_schedule_rate": ("product", H),
    "customer_churn_rate": ("product", L), "time_to_market": ("product", L), "roadmap_delivery_rate": ("product", H),
    "training_hours_completed": ("general", H), "certifications_earned": ("general", H),
    "skills_assessment_score": ("general", H), "learning_plan_completion": ("general", H),
    "mentoring_hours": ("general", H), "peer_feedback_score": ("general", H), "collaboration_rating": ("general", H),
    "values_behaviour_rating": ("general", H),
}
RATED = {"peer_feedback_score", "collaboration_rating", "values_behaviour_rating", "quality_of_hire"}
# Role families added after the sample organization was built: key KPIs -> (family, polarity)
ADDED = {
    "purchase_price_variance": ("procurement", L), "procurement_cost_savings": ("procurement", H),
    "spend_under_management": ("procurement", H), "purchase_order_cycle_time": ("procurement", L),
    "supplier_defect_rate": ("procurement", L), "contract_compliance_rate": ("procurement", H),
    "supplier_lead_time": ("procurement", L),
    "schedule_performance_index": ("project_management", H), "cost_performance_index": ("project_management", H),
    "milestones_on_time_rate": ("project_management", H), "approved_change_requests": ("project_management", L),
    "stakeholder_satisfaction_score": ("project_management", H), "risk_mitigation_rate": ("project_management", H),
    "analytics_delivery_on_time": ("data_analytics", H), "data_quality_score": ("data_analytics", H),
    "dashboard_adoption_rate": ("data_analytics", H), "analysis_turnaround_time": ("data_analytics", L),
    "self_service_analytics_rate": ("data_analytics", H), "predictive_model_accuracy": ("data_analytics", H),
    "contract_turnaround_time": ("legal_compliance", L), "compliance_training_completion": ("legal_compliance", H),
    "audit_findings_closed_on_time": ("legal_compliance", H), "policy_exceptions": ("legal_compliance", L),
    "regulatory_incidents": ("legal_compliance", L), "legal_spend_variance": ("legal_compliance", R),
}
ADDED_FAMILIES = ("procurement", "project_management", "data_analytics", "legal_compliance")


@pytest.fixture(scope="module")
def raw_entries() -> list[dict]:
    return yaml.safe_load(LIBRARY_FILE.read_text(encoding="utf-8"))["kpis"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return library_frame()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "library.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- the library file

def test_library_is_large_with_unique_ids(raw_entries):
    ids = [entry["id"] for entry in raw_entries]
    assert len(ids) >= 90
    assert len(ids) == len(set(ids))


def test_every_field_of_every_kpi_is_filled(raw_entries):
    # a measure reads a workspace's own sources, so library KPIs describe their formula in words and have none;
    # leads and guardrail link KPIs of one framework, so library KPIs have none either
    written = [field for field in FIELDS if field not in ("measure", "leads", "guardrail")]
    for entry in raw_entries:
        assert list(entry) == written, entry["id"]
        empty = [field for field, value in entry.items() if not str(value).strip()]
        assert not empty, f"{entry['id']}: empty {empty}"


def test_every_family_is_present_and_balanced(frame):
    assert set(frame["family"]) == set(FAMILIES)
    for family, rows in frame.groupby("family"):
        assert {"leading", "lagging"} <= set(rows["indicator"]), family
        assert {"output", "quality", "efficiency"} <= set(rows["category"]), family
    general = frame[frame["family"] == "general"]
    assert {"development", "behaviour"} <= set(general["category"])
    for category in ("development", "behaviour"):
        assert (frame[frame["category"] == category]["family"] != "general").any(), category


@pytest.mark.parametrize("required", [REQUIRED, ADDED], ids=["sample_organization", "added_families"])
def test_key_kpis_have_their_family_and_polarity(frame, required):
    indexed = frame.set_index("id")
    missing = sorted(set(required) - set(indexed.index))
    assert not missing
    for kpi_id, (family, polarity) in required.items():
        assert (indexed.at[kpi_id, "family"], indexed.at[kpi_id, "polarity"]) == (family, polarity), kpi_id


def test_families_are_listed_with_general_last_and_kept_together_in_the_file(raw_entries):
    assert len(FAMILIES) == len(set(FAMILIES)) == 13 and FAMILIES[-1] == "general"
    assert set(ADDED_FAMILIES) <= set(FAMILIES)
    blocks = [family for i, family in enumerate(e["family"] for e in raw_entries)
              if i == 0 or raw_entries[i - 1]["family"] != family]
    assert len(blocks) == len(set(blocks)) == len(FAMILIES)
    assert blocks[-len(ADDED_FAMILIES):] == list(ADDED_FAMILIES)


@pytest.mark.parametrize("family", ADDED_FAMILIES)
def test_added_families_are_complete_role_sets(frame, family):
    rows = frame[frame["family"] == family]
    assert 6 <= len(rows) <= 8
    assert {"development", "behaviour"} & set(rows["category"])
    assert (rows["unit"] != "rating (1-5)").all() and set(rows["measure_type"]) == {"quantitative"}
    assert rows["owner"].nunique() >= 2 and rows["data_source"].nunique() >= 3


def test_rated_kpis_are_qualitative_on_a_one_to_five_scale(frame):
    rated = frame[frame["unit"] == "rating (1-5)"]
    assert set(rated["id"]) >= RATED
    assert set(rated["measure_type"]) == {"qualitative"}
    assert set(frame[frame["measure_type"] == "qualitative"]["id"]) == set(rated["id"])


def test_key_formulas_are_the_professional_ones(frame):
    formula = frame.set_index("id")["formula"].str.lower()
    assert "closed-won revenue" in formula["quota_attainment"] and "quota" in formula["quota_attainment"]
    assert "closed-lost" in formula["win_rate"]
    assert "remaining" in formula["pipeline_coverage"] or "closed-won revenue to date" in formula["pipeline_coverage"]
    assert "average headcount" in formula["voluntary_turnover_rate"]
    assert "offer acceptance" in formula["time_to_hire"]
    assert "commit" in formula["lead_time_for_changes"]
    assert "standard unit price" in formula["purchase_price_variance"]
    spi, cpi = formula["schedule_performance_index"], formula["cost_performance_index"]
    assert spi.startswith("earned value") and "/ planned value" in spi
    assert cpi.startswith("earned value") and "/ actual cost" in cpi
    assert "addressable" in formula["spend_under_management"]
    assert "budgeted legal spend" in formula["legal_spend_variance"]


def test_library_file_is_canonical(raw_entries):
    defs = load_library()
    text = dump_yaml({"kpis": [kpi.model_dump(mode="json", exclude_none=True) for kpi in defs]})
    assert text == LIBRARY_FILE.read_text(encoding="utf-8")


def test_library_frame_has_a_row_per_kpi_and_every_field(raw_entries, frame):
    assert list(frame.columns) == list(FIELDS)
    assert len(frame) == len(raw_entries)
    small = library_frame([KpiDefinition(id="x", name="X", polarity="lower_is_better", category="quality",
                                         indicator="lagging")])
    assert small.loc[0, "polarity"] == "lower_is_better" and small.loc[0, "frequency"] == ""


# ---------------------------------------------------------------- loading errors

def test_duplicate_ids_are_rejected(tmp_path):
    entry = "  - {id: win_rate, name: Win rate, polarity: higher_is_better, category: quality, indicator: lagging}\n"
    path = write(tmp_path, "kpis:\n" + entry + entry)
    with pytest.raises(InputError) as info:
        load_library(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.field) == (str(path), "id")
    assert "win_rate" in problem.entry and "duplicate" in problem.message


def test_schema_problems_name_entry_and_field(tmp_path):
    path = write(tmp_path, "kpis:\n"
                 "  - {id: a, name: A, polarity: up, category: quality, indicator: lagging}\n"
                 "  - {id: b, name: B, polarity: lower_is_better, categry: quality, indicator: lagging}\n")
    with pytest.raises(InputError) as info:
        load_library(path)
    found = {(p.entry, p.field) for p in info.value.problems}
    assert ("kpi 'a'", "polarity") in found
    assert ("kpi 'b'", "categry") in found and ("kpi 'b'", "category") in found
    assert all(p.file == str(path) for p in info.value.problems)


@pytest.mark.parametrize("text", ["- just a list\n", "kpis: {a: 1}\n", "kpis: [\n"])
def test_unusable_files_raise_input_error(tmp_path, text):
    with pytest.raises(InputError) as info:
        load_library(write(tmp_path, text))
    assert info.value.problems[0].file.endswith("library.yaml")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_library(tmp_path / "nope.yaml")


# ---------------------------------------------------------------- search

def test_search_by_family_category_and_polarity_combine():
    found = search_library(family="it", category="efficiency", polarity="lower_is_better")
    assert {"lead_time_for_changes", "mean_time_to_restore", "code_review_turnaround"} <= set(found["id"])
    assert set(found["family"]) == {"it"} and set(found["category"]) == {"efficiency"}
    assert set(found["polarity"]) == {"lower_is_better"}


def test_search_accepts_several_values_and_loose_spelling(frame):
    found = search_library(family=["Sales", "", "customer support"], category="behavior")
    assert set(found["family"]) <= {"sales", "customer_support"} and set(found["category"]) == {"behaviour"}
    assert len(found) >= 2
    assert len(search_library(polarity="within_range")) == (frame["polarity"] == "within_range").sum()


def test_search_text_needs_every_keyword_case_insensitively():
    found = search_library(text="Pipeline QUOTA")
    assert "pipeline_coverage" in set(found["id"])
    haystack = found[["id", "name", "description", "formula"]].agg(" ".join, axis=1).str.lower()
    assert haystack.str.contains("pipeline").all() and haystack.str.contains("quota").all()
    assert search_library(text="dora", family="it")["id"].tolist()[:1] == ["deployment_frequency"]
    assert search_library(text="no-such-word-anywhere").empty


@pytest.mark.parametrize(("spelling", "family"), [
    ("Procurement", "procurement"), ("project management", "project_management"),
    ("data-analytics", "data_analytics"), ("LEGAL_COMPLIANCE", "legal_compliance"),
])
def test_added_families_can_be_searched_by_loose_spelling(frame, spelling, family):
    found = search_library(family=spelling)
    assert set(found["family"]) == {family}
    assert len(found) == (frame["family"] == family).sum()


def test_search_on_a_given_frame(frame):
    subset = frame[frame["family"] == "hr"]
    found = search_library(category="efficiency", frame=subset)
    assert set(found["id"]) == set(subset[subset["category"] == "efficiency"]["id"])


@pytest.mark.parametrize(("field", "kwargs", "valid"), [
    ("family", {"family": "sale"}, "customer_support"),
    ("category", {"category": "speed"}, "development"),
    ("polarity", {"polarity": "up"}, "within_range"),
])
def test_unknown_filter_values_list_the_valid_ones(field, kwargs, valid):
    with pytest.raises(InputError) as info:
        search_library(**kwargs)
    message = str(info.value)
    assert f"unknown {field}" in message and valid in message


# ---------------------------------------------------------------- taxonomy

def test_taxonomy_documents_every_model_value_and_nothing_else():
    raw = yaml.safe_load(CATEGORIES_FILE.read_text(encoding="utf-8"))
    assert set(raw) == set(SECTIONS)
    for section, enum in SECTIONS.items():
        assert set(raw[section]) == {member.value for member in enum}, section
    taxonomy = load_categories()
    for term in taxonomy.categories.values():
        assert term.label and term.description and term.guidance and term.examples


def test_taxonomy_examples_are_library_kpis_of_that_kind(frame):
    indexed = frame.set_index("id")
    taxonomy = load_categories()
    columns = {"categories": "category", "indicators": "indicator", "measure_types": "measure_type",
               "polarities": "polarity", "frequencies": "frequency"}
    for section, column in columns.items():
        for value, term in getattr(taxonomy, section).items():
            for kpi_id in term.examples:
                assert indexed.at[kpi_id, column] == value.value, (section, kpi_id)


def test_taxonomy_frame_and_enums_agree():
    table = load_categories().frame("categories")
    assert table["value"].tolist() == [c.value for c in Category]
    assert list(table.columns) == ["value", "label", "description", "examples", "guidance"]
    assert load_categories().frame("indicators")["value"].tolist() == [i.value for i in Indicator]
    assert load_categories().frame("measure_types")["value"].tolist() == [m.value for m in MeasureType]
    assert load_categories().frame("polarities")["value"].tolist() == [p.value for p in Polarity]
    with pytest.raises(InputError, match="Valid sections"):
        load_categories().frame("colours")


def test_categories_file_is_canonical():
    text = CATEGORIES_FILE.read_text(encoding="utf-8")
    assert dump_yaml(yaml.safe_load(text)) == text


def test_incomplete_taxonomy_is_rejected(tmp_path):
    raw = yaml.safe_load(CATEGORIES_FILE.read_text(encoding="utf-8"))
    del raw["categories"]["behaviour"]
    raw["polarities"]["sideways"] = copy.deepcopy(raw["polarities"]["within_range"])  # written out, no alias
    path = tmp_path / "categories.yaml"
    path.write_text(dump_yaml(raw), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_categories(path)
    text = str(info.value)
    assert "polarities" in text and "sideways" in text
    del raw["polarities"]["sideways"]
    path.write_text(dump_yaml(raw), encoding="utf-8")
    with pytest.raises(InputError, match="does not document: behaviour"):
        load_categories(path)


# ---------------------------------------------------------------- CLI

def test_cli_table_lists_key_columns_aligned(cli):
    code, out, err = cli("library", "--family", "it")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["id", "name", "family", "category", "polarity", "unit"]
    assert len(lines) - 1 == len(search_library(family="it"))
    column = lines[0].index("family")
    assert all(line[column:].startswith("it ") for line in lines[1:])


def test_cli_csv_has_every_field_and_applies_filters(cli):
    code, out, err = cli("library", "--category", "quality", "--polarity", "lower_is_better", "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out), dtype=str)
    assert list(table.columns) == list(FIELDS)
    assert set(table["category"]) == {"quality"} and set(table["polarity"]) == {"lower_is_better"}
    assert "defect_rate" in set(table["id"])


def test_cli_json_search(cli):
    code, out, err = cli("library", "--search", "turnover", "--format", "json")
    assert code == 0, err
    records = json.loads(out)
    assert {r["id"] for r in records} >= {"voluntary_turnover_rate", "inventory_turnover"}
    assert set(records[0]) == set(FIELDS)


def test_cli_suggest_ranks_kpis(cli):
    code, out, err = cli("library", "--suggest", "resolve customer issues at first contact", "--top", "3",
                         "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    assert table["kpi_id"].iloc[0] == "first_contact_resolution_rate"
    assert len(table) == 3 and table["similarity"].is_monotonic_decreasing


@pytest.mark.parametrize(("args", "expected"), [
    (["--family", "sale"], "Valid values: sales, hr"),
    (["--format", "xml"], "xml"),
])
def test_cli_bad_options_exit_2(args, expected, cli):
    code, out, err = cli("library", *args)
    assert code == 2
    assert expected in err and "Traceback" not in err


def test_cli_bad_library_file_names_entry_and_field(tmp_path, cli):
    path = write(tmp_path, "kpis:\n  - {id: a, name: A, polarity: up, category: quality, indicator: lagging}\n")
    code, out, err = cli("library", "--library", path)
    assert code == 2
    assert f"error: {path}, kpi 'a', field 'polarity'" in err
    assert "Traceback" not in err


# --- suggestions: the fitted vectors read back without scikit-learn ----------------------------------------------

SUGGESTION_TEXTS = ["Hire the right people quickly. Offers accepted within 45 days", "Café résumé naïve façade",
                    "a it is", "", "   ", "x y zz", "On-call outage & downtime; Bug-fixes!!", " tabs\t\tand\nlines "]


def test_suggestion_vectors_are_those_of_the_fitted_scikit_learn_model():
    from sklearn.preprocessing import normalize

    from kpi_workbook.analysis import library

    vectorizer = library._vectorizer()
    fitted = normalize(vectorizer.fit_transform(library._documents(library.library_frame()))).toarray()
    model = library._default_model()
    assert abs(model.library.T - fitted).max() < 1e-12
    texts = [*library._documents(library.library_frame().head(20)), *SUGGESTION_TEXTS]
    assert abs(model.transform(texts) - normalize(vectorizer.transform(texts)).toarray()).max() < 1e-12


def test_suggesting_from_the_cached_vectors_does_not_import_scikit_learn(tmp_path):
    import subprocess
    import sys

    from kpi_workbook.analysis.library import prepare_suggestions

    prepare_suggestions()  # the cache file exists, as after the first suggestion on this machine
    code = ("import sys\nfrom kpi_workbook.analysis.library import rank_kpis\n"
            "print(len(rank_kpis(['hire people quickly'])[0]), 'sklearn' in sys.modules, 'scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.split() == ["5", "False", "False"]


def test_ranked_table_holds_each_text_s_suggestions_best_first():
    from kpi_workbook.analysis.library import rank_kpis, ranked_table

    texts = ["hire people quickly", "", "keep the platform available", "zzzz qqqq"]
    table = ranked_table(texts, top=3)
    assert table["text"].tolist() == [0, 0, 0, 2, 2, 2]
    for position, found in enumerate(rank_kpis(texts, top=3)):
        expected = table[table["text"] == position].drop(columns="text").reset_index(drop=True)
        pd.testing.assert_frame_equal(found, expected)
    assert ranked_table([]).columns.tolist() == ["text", "kpi_id", "name", "family", "category", "indicator",
                                                 "similarity"]
