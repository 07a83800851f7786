"""Measures on generated deals with known answers: every aggregation, ratio, duration and derived kind, no data."""

from __future__ import annotations

import math

import pytest
from measure_fixtures import DEALS, MEASURES, SOURCES, measured_framework, write_workspace

from kpi_workbook.analysis.measures import compute
from kpi_workbook.analysis.measures.kinds import describe_measure
from kpi_workbook.core.errors import InputError
from kpi_workbook.core.measures import (
    Column,
    Compare,
    FilterError,
    Literal,
    Logical,
    Measure,
    parse_derived,
    parse_filter,
)
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import load_framework


@pytest.fixture(scope="module")
def computed(tmp_path_factory: pytest.TempPathFactory):
    root = write_workspace(tmp_path_factory.mktemp("measures") / "ws")
    framework = load_framework(root)
    return compute(root, framework, load_employees(root, framework))


def value(computation, kpi: str, period: str, team: str, employee: str = "") -> float:
    values = computation.values
    row = values[(values["kpi_id"] == kpi) & (values["period"] == period) & (values["team"] == team)
                 & (values["employee_id"] == employee)]
    assert len(row) == 1, f"{kpi} {period} {team} {employee}: {len(row)} values"
    return float(row["value"].iloc[0])


def reason(computation, kpi: str, period: str, team: str, employee: str = "") -> str:
    rows = computation.no_data
    row = rows[(rows["kpi_id"] == kpi) & (rows["period"] == period) & (rows["team"] == team)
               & (rows["employee_id"] == employee)]
    assert len(row) == 1, f"{kpi} {period} {team} {employee} is not 'no data'"
    return str(row["reason"].iloc[0])


@pytest.mark.parametrize(("kpi", "employee", "expected"), [
    ("won_revenue", "E1", 400), ("won_revenue", "E2", 0),      # a sum over no matching row is 0
    ("deals", "E1", 3), ("deals", "E2", 1),
    ("stages", "E1", 2),
    ("mean_won", "E1", 200),
    ("median_deal", "E1", 100), ("smallest_deal", "E1", 50), ("largest_deal", "E1", 300),
    ("win_rate", "E1", 200 / 3), ("win_rate", "E2", 0),
    ("cycle_days", "E1", 20),                                     # median of 10 and 30 days
])
def test_every_aggregation_gives_the_known_answer(computed, kpi, employee, expected):
    assert value(computed, kpi, "2025Q1", "sales", employee) == pytest.approx(expected, rel=1e-12)


def test_team_measures_and_derived_kpis(computed):
    assert value(computed, "team_revenue", "2025Q1", "sales") == 400
    assert value(computed, "team_revenue", "2025Q2", "rd") == 700
    assert value(computed, "team_deal_size", "2025Q1", "sales") == 200
    assert value(computed, "team_deal_size", "2025Q2", "rd") == 350
    assert value(computed, "headcount", "2025Q2", "sales") == 3


def test_empty_groups_and_division_by_zero_are_no_data_with_a_reason(computed):
    assert "no rows for mean of amount" in reason(computed, "mean_won", "2025Q1", "sales", "E2")
    assert "division by zero" in reason(computed, "win_rate", "2025Q1", "sales", "E3")
    assert "no rows for the duration" in reason(computed, "cycle_days", "2025Q1", "sales", "E3")
    assert "division by zero" in reason(computed, "revenue_per_head", "2025Q2", "rd")
    assert reason(computed, "revenue_per_head", "2025Q1", "sales") == "no value of KPI headcount"
    assert computed.values["value"].map(math.isfinite).all()
    no_value = computed.no_data.merge(computed.values, on=["period", "team", "employee_id", "kpi_id"])
    assert no_value.empty


def test_team_names_match_case_and_accent_insensitively_and_by_map(computed):
    rd = computed.values[(computed.values["kpi_id"] == "deals") & (computed.values["team"] == "rd")]
    assert rd["value"].tolist() == [3]  # 'Recherche & Développement', lower case without accents, and the map entry


def test_lineage_names_source_rows_and_definition(computed):
    row = computed.values[(computed.values["kpi_id"] == "won_revenue") & (computed.values["employee_id"] == "E1")]
    assert row["source"].iloc[0] == "deals" and row["source_rows"].iloc[0] == 2
    hashes = computed.values.groupby("kpi_id")["definition_hash"].nunique()
    assert (hashes == 1).all() and computed.values["definition_hash"].nunique() == len(MEASURES)


def test_a_team_or_person_without_rows_in_a_covered_period_has_zero_counts_and_sums(computed):
    values = computed.values.set_index(["period", "team", "employee_id", "kpi_id"])["value"]
    assert values[("2025Q2", "sales", "", "team_revenue")] == 0  # sales closed nothing in 2025Q2
    assert values[("2025Q2", "sales", "", "revenue_per_head")] == 0  # 0 won revenue over 3 people
    assert values[("2025Q2", "sales", "E1", "deals")] == 0 and values[("2025Q1", "sales", "E3", "won_revenue")] == 0
    assert ("2025Q1", "rd", "R1", "deals") not in values.index  # R1's first row is in 2025Q2: no zeros before it
    assert "no rows of deals in this period" in reason(computed, "mean_won", "2025Q2", "sales", "E1")


def test_a_person_with_rows_only_in_another_team_has_zero_groups_in_their_home_team(tmp_path):
    elsewhere = "9,E2,Recherche & Développement,won,60,2025-05-01,2025-05-10\n"  # E2 is of sales
    root = write_workspace(tmp_path / "ws", deals_csv=DEALS + elsewhere)
    framework = load_framework(root)
    computed = compute(root, framework, load_employees(root, framework), kpis=["deals"])
    assert value(computed, "deals", "2025Q2", "sales", "E2") == 0
    assert value(computed, "deals", "2025Q1", "sales", "E2") == 1
    other = computed.values[(computed.values["team"] == "rd") & (computed.values["employee_id"] == "E2")]
    assert other.empty and computed.skipped["values"].sum() == 1  # the rd row is left out, not a value


def test_a_changed_definition_changes_its_hash():
    first = Measure.model_validate(MEASURES["won_revenue"][1])
    second = Measure.model_validate({"aggregate": {"source": "deals", "function": "sum", "column": "amount"}})
    assert first.digest() != second.digest() and first.digest() == Measure.model_validate(
        MEASURES["won_revenue"][1]).digest()


def test_period_follows_the_kpi_frequency(tmp_path):
    measures = {"deals": ("count", {"aggregate": {"source": "deals", "function": "count"}})}
    framework = measured_framework(measures)
    framework.kpis[0].frequency = "monthly"
    root = write_workspace(tmp_path / "ws", framework)
    result = compute(root, framework, load_employees(root, framework))
    e1 = result.values[result.values["employee_id"] == "E1"].set_index("period")["value"]
    # the deals cover January to June: the months E1 closed nothing in are 0
    assert e1.to_dict() == {"2025-01": 1, "2025-02": 1, "2025-03": 1, "2025-04": 0, "2025-05": 0, "2025-06": 0}


def test_span_limits_the_periods(tmp_path):
    root = write_workspace(tmp_path / "ws")
    framework = load_framework(root)
    from kpi_workbook.analysis.measures import span_of

    result = compute(root, framework, load_employees(root, framework), kpis=["deals"],
                     span=span_of("2025Q2", "2025Q2"))
    assert set(result.values["period"]) == {"2025Q2"} and set(result.values["kpi_id"]) == {"deals"}


@pytest.mark.parametrize("text", ['stage == "won"', 'stage in ("won", "lost") and not amount > 5',
                                  "amount >= 10 or closed_on == null", "0 < amount < 100"])
def test_filters_parse(text):
    parse_filter(text)


@pytest.mark.parametrize("text", ["__import__('os').system('x')", "stage = 'won'", "amount + 1", "stage.upper()",
                                  "'a' == 'b'", "stage in won", "lambda: 1"])
def test_filters_that_are_not_conditions_are_refused(text):
    with pytest.raises(FilterError):
        parse_filter(text)


def test_backticks_name_columns_with_spaces_and_symbols():
    assert parse_filter('`Ship Mode` == "First Class" and `Discount %` > 0') == Logical("and", (
        Compare(Column("Ship Mode"), "==", Literal("First Class")), Compare(Column("Discount %"), ">", Literal(0))))
    assert parse_filter('note == "a `b` c"') == Compare(Column("note"), "==", Literal("a `b` c"))  # text stays text
    assert parse_filter("`null` != null") == Compare(Column("null"), "!=", Literal(None))
    for bad, says in (("`Ship Mode == 1", "not closed"), ("`` == 1", "empty backticks")):
        with pytest.raises(FilterError, match=says):
            parse_filter(bad)


def test_a_filter_on_a_column_with_a_space_computes(tmp_path):
    measures = {"won_revenue": MEASURES["won_revenue"][0:1] + ({"aggregate": {
        "source": "deals", "function": "sum", "column": "amount", "where": '`Deal Stage` == "won"'}},)}
    framework = measured_framework(measures)
    header = DEALS.splitlines()[0]
    root = write_workspace(tmp_path / "ws", framework, deals_csv=DEALS.replace(header, header.replace(
        "stage", "Deal Stage")), sources=SOURCES.replace("stage: text", "Deal Stage: text"))
    result = compute(root, framework, load_employees(root, framework))
    assert value(result, "won_revenue", "2025Q1", "sales", "E1") == 400.0  # deals 1 and 2 of E1 were won
    assert value(result, "won_revenue", "2025Q2", "rd", "R1") == 700.0


def test_every_kpi_with_a_problem_is_named_at_once(tmp_path):
    measures = {"deals": ("count", {"aggregate": {"source": "deals", "function": "count", "where": 'stag == "won"'}}),
                "revenue": ("currency", {"aggregate": {"source": "deals", "function": "sum", "column": "amont"}}),
                "people": ("count", {"aggregate": {"source": "staff", "function": "count"}})}
    framework = measured_framework(measures)
    root = write_workspace(tmp_path / "ws", framework)
    with pytest.raises(InputError) as caught:
        compute(root, framework, load_employees(root, framework))
    assert [(p.entry, p.field) for p in caught.value.problems] == [
        ("KPI 'deals'", "measure.aggregate.where"), ("KPI 'revenue'", "measure.aggregate.column"),
        ("KPI 'people'", "measure")]


def test_a_bad_source_is_told_once_whatever_number_of_kpis_use_it(tmp_path):
    root = write_workspace(tmp_path / "ws", deals_csv=DEALS.replace("won,100,", "won,1 00,"))
    framework = load_framework(root)
    with pytest.raises(InputError) as caught:
        compute(root, framework, load_employees(root, framework))
    assert [str(p) for p in caught.value.problems] == [
        "exports/deals.csv, row 2, field 'amount': not a number: write a plain number with a decimal point and no "
        "thousands separator or % sign (1234.5) (got '1 00')"]


def test_a_misspelled_operand_suggests_the_closest_kpi(tmp_path):
    measures = dict(MEASURES) | {"team_deal_size": ("currency", {"derived": "team_revenu / team_deals", "per": "team"})}
    framework = measured_framework(measures)
    root = write_workspace(tmp_path / "ws", framework)
    with pytest.raises(InputError, match=r"KPI 'team_deal_size', field 'measure.derived': unknown KPI 'team_revenu'; "
                                         r"did you mean 'team_revenue'\?"):
        compute(root, framework, load_employees(root, framework))


def test_derived_expressions_allow_only_arithmetic():
    parse_derived("(a + b) / c * 100")
    for bad in ("a ** 2", "f(a)", "a.b", "'x'"):
        with pytest.raises(FilterError):
            parse_derived(bad)


def test_a_filter_on_an_unknown_column_names_the_kpi(tmp_path):
    measures = {"deals": ("count", {"aggregate": {"source": "deals", "function": "count", "where": 'stag == "won"'}})}
    framework = measured_framework(measures)
    root = write_workspace(tmp_path / "ws", framework)
    with pytest.raises(InputError, match=r"KPI 'deals', field 'measure.aggregate.where': source 'deals' has no "
                                         r"column 'stag' \(its columns: .*\); declare the column under `columns` in "
                                         r"sources.yaml or fix the name"):
        compute(root, framework, load_employees(root, framework))


def test_values_for_unassigned_kpis_are_left_out_and_counted(tmp_path):
    framework = measured_framework()
    framework.roles[0].kpis = [k for k in framework.roles[0].kpis if k.kpi != "deals"]
    root = write_workspace(tmp_path / "ws", framework)
    result = compute(root, framework, load_employees(root, framework))
    assert "deals" not in set(result.values["kpi_id"])
    skipped = result.skipped.set_index("kpi_id")
    assert skipped.loc["deals", "values"] == 4 and "not assigned" in skipped.loc["deals", "reason"]


def test_measure_needs_exactly_one_kind():
    with pytest.raises(ValueError, match="exactly one"):
        Measure.model_validate({"derived": "a / b", "aggregate": {"source": "x", "function": "count"}})
    with pytest.raises(ValueError, match="needs a column"):
        Measure.model_validate({"aggregate": {"source": "x", "function": "sum"}})


def test_describe_in_words():
    text = describe_measure(Measure.model_validate(MEASURES["win_rate"][1]))
    assert text == ('(number of rows in deals where stage == "won") / (number of rows in deals where stage in '
                    '("won", "lost")) × 100, per employee')


def _rules(framework, root=None) -> dict[str, list[str]]:
    from kpi_workbook.analysis.checks import check_framework
    from kpi_workbook.analysis.checks.measures import source_findings

    findings = check_framework(framework) + (source_findings(root, framework) if root else [])
    found: dict[str, list[str]] = {}
    for f in findings:
        if f.code.startswith("measures."):
            found.setdefault(f.code, []).append(f"{f.kpi}: {f.message}")
    return found


def test_validate_checks_measures(tmp_path):
    measures = dict(MEASURES)
    measures["won_revenue"] = ("currency", {"aggregate": {"source": "deals", "function": "sum", "column": "stage",
                                                          "where": 'stage = "won"'}})
    measures["deals"] = ("%", {"aggregate": {"source": "crm", "function": "count"}})
    measures["win_rate"] = ("ratio", MEASURES["win_rate"][1] | {"polarity": "lower_is_better"})
    measures["team_deal_size"] = ("currency", {"derived": "team_revenue / nope", "per": "team"})
    framework = measured_framework(measures)
    root = write_workspace(tmp_path / "ws", framework)
    found = _rules(framework, root)
    assert any("won_revenue: 'stage = \"won\"' does not parse" in m for m in found["measures.parse"])
    assert "team_deal_size: derived from unknown KPI 'nope'" in found["measures.parse"]
    assert "won_revenue: sum of 'stage', a text column" in found["measures.source"]
    assert "deals: unknown source 'crm'" in found["measures.source"]
    assert "deals: a count cannot be in '%'" in found["measures.unit"]
    assert "win_rate: a ratio × 100 is a percentage, but the unit is 'ratio'" in found["measures.unit"]
    assert any("says lower_is_better" in m for m in found["measures.unit"])


def test_the_fixture_framework_has_no_measure_findings(tmp_path):
    framework = measured_framework()
    assert _rules(framework, write_workspace(tmp_path / "ws", framework)) == {}


def test_a_ratio_of_two_sources_joins_their_groups(tmp_path):
    measures = {"won_per_head": ("ratio", {"ratio": {"numerator": {"source": "deals", "function": "sum",
                                                                   "column": "amount", "where": 'stage == "won"'},
                                                     "denominator": {"source": "headcount", "function": "mean",
                                                                     "column": "people"}}, "per": "team"})}
    framework = measured_framework(measures)
    root = write_workspace(tmp_path / "ws", framework)
    result = compute(root, framework, load_employees(root, framework))
    assert value(result, "won_per_head", "2025Q2", "sales") == 0  # headcount rows, no deals: a sum of none is 0
    assert reason(result, "won_per_head", "2025Q1", "sales") == (  # deals, but no headcount rows for the mean
        "no rows of headcount in this period for this team or employee")
    assert reason(result, "won_per_head", "2025Q2", "rd") == "division by zero: mean of people in headcount is 0"
    assert reason(result, "won_per_head", "2025Q1", "rd") == (  # neither deals nor headcount rows: 0 ÷ nothing
        "no rows of headcount in this period for this team or employee")
    assert len(result.values) == 1 and len(result.no_data) == 3


@pytest.mark.parametrize(("text", "parse", "said"), [
    (" or ".join(["contacts == 1"] * 3000), parse_filter, "longer than 20,000 characters"),
    (" or ".join(["contacts == 1"] * 250), parse_filter, "has 251 operations; at most 200"),
    ("not " * 400 + "won == 1", parse_filter, "operations; at most 200"),
    ("contacts == " + "9" * 4000, parse_filter, "is too large for any engine"),
    ("contacts < 1e999", parse_filter, "is too large for any engine"),
    ("1" + "0" * 5000 + " * revenue", parse_derived, "does not parse (Exceeds the limit"),
    (" + ".join(["revenue"] * 1500), parse_derived, "has 1,499 operations; at most 200"),
])
def test_an_expression_no_engine_could_run_is_refused_with_its_size(text, parse, said):
    with pytest.raises(FilterError) as refused:
        parse(text)
    message = str(refused.value)
    assert said in message and len(message) < 500  # the expression is shortened, never echoed whole


def test_the_largest_whole_number_an_engine_stores_is_accepted():
    assert parse_filter(f"amount <= {2**63 - 1}") == Compare(Column("amount"), "<=", Literal(2**63 - 1))
