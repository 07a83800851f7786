"""Step 3's "computed or entered by hand" table and step 5's "where do the numbers come from" tables, on the sample
organization: the measures against kpis.yaml read with PyYAML, the lineage against the store read with plain SQL."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from kpi_workbook.analysis.measures.kinds import describe_measure
from kpi_workbook.core.model import KpiDefinition
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.steps import kpi_design, open_step, review
from kpi_workbook.workspace.files import ACTUALS_DB, load_framework

PERIOD = "2025Q4"
KEYS = ["period", "team", "employee_id", "kpi_id"]
LINEAGE_SQL = """
SELECT a.period, a.team, coalesce(a.employee_id, '') AS employee_id, a.kpi_id, a.value, l.source, l.source_rows,
       l.computed_at, l.definition_hash
FROM actuals a LEFT JOIN lineage l
  ON l.period = a.period AND l.team = a.team AND l.kpi_id = a.kpi_id
 AND coalesce(l.employee_id, '') = coalesce(a.employee_id, '')
WHERE a.period = ? AND list_contains(?, a.team)
ORDER BY a.kpi_id, a.team, employee_id
"""


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _measure_sources(measure: dict) -> list[str]:
    """The source names a measure in kpis.yaml reads, in order."""
    parts = [measure.get("aggregate"), *(measure.get("ratio") or {}).values(), measure.get("duration")]
    return list(dict.fromkeys(p["source"] for p in parts if p))


# --- step 3: computed or entered by hand -----------------------------------------------------------------------------

def test_every_sample_kpi_shows_its_measure_in_words_or_entered_by_hand():
    framework = load_framework(SAMPLE_ORG_DIR)
    kpis = {k["id"]: k for k in _yaml(SAMPLE_ORG_DIR / "kpis.yaml")["kpis"]}
    used = {a["kpi"] for path in (SAMPLE_ORG_DIR / "roles").glob("*.yaml") for a in _yaml(path)["kpis"]}
    sources = {s["name"]: s for s in _yaml(SAMPLE_ORG_DIR / "sources.yaml")["sources"]}
    table = kpi_design.measure_table(framework, root=SAMPLE_ORG_DIR).set_index("kpi")
    assert set(table.index) == used and table.index.is_unique
    measured = [k for k in table.index if "measure" in kpis[k]]
    assert len(measured) >= 9 and set(table.loc[measured, "origin"]) == {"computed"}
    for kpi_id in measured:
        assert table.loc[kpi_id, "measure"] == describe_measure(KpiDefinition.model_validate(kpis[kpi_id]).measure)
        names = _measure_sources(kpis[kpi_id]["measure"])
        assert table.loc[kpi_id, "source"] == ", ".join(f"{n} ({sources[n]['file']})" for n in names)
    entered = table.drop(index=measured)
    assert (entered["measure"] == "entered by hand").all() and (entered["origin"] == "entered by hand").all()
    assert (entered["source"] == [kpis[k]["data_source"] for k in entered.index]).all()
    ratings = [k for k in entered.index if kpis[k].get("measure_type") == "qualitative"]
    assert ratings and entered.loc[ratings, "how"].str.startswith("rated: ").all()
    assert set(entered.drop(index=ratings)["how"]) == {"kpi-workbook import-actuals"}
    assert list(table["origin"]) == sorted(table["origin"], key=lambda o: o != "computed"), "computed KPIs first"


def test_a_team_sees_only_its_roles_kpis_with_the_roles_that_use_them():
    ctx = open_step(SAMPLE_ORG_DIR, "sales")
    table = kpi_design.measure_table(ctx.framework, ctx.roles, ctx.root).set_index("kpi")
    roles = [_yaml(p) for p in sorted((SAMPLE_ORG_DIR / "roles").glob("*.yaml")) if "sales" in _yaml(p)["teams"]]
    users: dict[str, set[str]] = {}
    for role in roles:
        for a in role["kpis"]:
            users.setdefault(a["kpi"], set()).add(role["title"])
    assert {k: set(t.split(", ")) for k, t in table["roles"].items()} == users
    assert set(table.index[table["origin"] == "computed"]) == {"new_business_revenue", "win_rate", "headcount",
                                                               "turnover_rate"}


def test_the_report_table_has_a_section_for_computed_and_one_for_entered_kpis():
    ctx = open_step(SAMPLE_ORG_DIR, "sales")
    page = kpi_design.measures_report(kpi_design.measure_table(ctx.framework, ctx.roles, ctx.root))._repr_html_()
    assert "row_heading" not in page, "no index column"
    text = html.unescape(page)
    assert "Computed from the systems' records · 4 KPIs" in text and "Entered by hand · 13 KPIs" in text
    assert "crm_opportunities (exports/crm_opportunities.csv)" in text
    assert 'sum of amount in crm_opportunities where stage == "Closed Won", per employee' in text
    assert "How the values come in" in text


# --- step 5: where do the numbers come from ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def computed(tmp_path_factory, cli) -> Path:
    """A copy of the sample organization whose measured KPIs were computed from its raw exports."""
    root = tmp_path_factory.mktemp("lineage") / "alderbrook"
    for args in (("init", root, "--sample"), ("compute", "-w", root)):
        code, _, stderr = cli(*args)
        assert code == 0, stderr
    return root


def _stored(root: Path, teams: list[str]) -> pd.DataFrame:
    """The period's values of `teams` with their lineage, read from the DuckDB file with SQL only."""
    with duckdb.connect(str(root / ACTUALS_DB), read_only=True) as con:
        return con.execute(LINEAGE_SQL, [PERIOD, teams]).df()


@pytest.mark.parametrize("team", ["sales", ""], ids=["sales", "organization"])
def test_value_lineage_is_the_stores_lineage_row_for_row(computed, team):
    ctx = open_step(computed, team, PERIOD)
    shown = review.value_lineage(ctx.actuals, ctx.store, ctx.period)
    stored = _stored(computed, list(ctx.team_ids))
    stored = stored[stored["employee_id"].isin(ctx.employees["employee_id"]) | stored["employee_id"].eq("")]
    mine = shown.sort_values(["kpi_id", "team", "employee_id"]).reset_index(drop=True)
    theirs = stored.reset_index(drop=True)
    assert len(mine) == len(theirs) > 0
    assert mine[[*KEYS, "value"]].equals(theirs[[*KEYS, "value"]].astype(mine[[*KEYS, "value"]].dtypes))
    assert (mine["origin"] == theirs["source"].notna().map({True: "computed", False: "imported"})).all()
    computed_rows = theirs["source"].notna()
    for column in ("source", "source_rows", "definition_hash"):
        assert mine.loc[computed_rows, column].tolist() == theirs.loc[computed_rows, column].tolist()
    assert (mine.loc[computed_rows, "computed_at"] == pd.to_datetime(theirs.loc[computed_rows, "computed_at"])).all()
    assert mine.loc[~computed_rows, ["source", "source_rows", "computed_at", "definition_hash"]].isna().all().all()
    assert computed_rows.any() and (~computed_rows).any()


def test_summary_per_kpi_and_team_matches_a_grouped_query(computed):
    ctx = open_step(computed, "customer_support", PERIOD)
    summary = review.lineage_summary(review.value_lineage(ctx.actuals, ctx.store, ctx.period)).set_index("kpi_id")
    with duckdb.connect(str(computed / ACTUALS_DB), read_only=True) as con:
        expected = con.execute("""SELECT kpi_id, source, count(*) AS n, sum(source_rows) AS source_rows,
                                         count(DISTINCT definition_hash) AS hashes, any_value(definition_hash) AS hash
                                  FROM lineage WHERE period = ? AND team = 'customer_support' GROUP BY ALL""",
                               [PERIOD]).df().set_index("kpi_id")
    computed_kpis = summary[summary["origin"] == "computed"]
    assert set(computed_kpis.index) == set(expected.index) and (expected["hashes"] == 1).all()
    for kpi_id, row in expected.iterrows():
        assert computed_kpis.loc[kpi_id, ["source", "values", "source_rows", "definition_hash"]].tolist() == [
            row["source"], row["n"], row["source_rows"], row["hash"]]
    imported = summary[summary["origin"] == "imported"]
    assert len(imported) > 0 and imported["source"].eq("").all() and imported["source_rows"].isna().all()


def test_a_slice_imported_over_computed_values_says_it_was_imported(computed, cli, tmp_path):
    root = shutil.copytree(computed, tmp_path / "alderbrook")  # the other tests keep the computed store
    before = open_step(root, "sales", PERIOD)
    assert set(review.value_lineage(before.actuals, before.store, PERIOD).query("kpi_id == 'win_rate'")["origin"]) == {
        "computed"}
    person = before.employees.loc[before.employees["role"] == "account_executive", "employee_id"].iloc[0]
    file = tmp_path / "win_rate.csv"
    file.write_text(f"period,team,employee_id,kpi_id,value\n{PERIOD},sales,{person},win_rate,41.5\n", encoding="utf-8")
    code, _, stderr = cli("import-actuals", file, "-w", root)
    assert code == 0, stderr
    after = open_step(root, "sales", PERIOD)
    rows = review.value_lineage(after.actuals, after.store, PERIOD).query("kpi_id == 'win_rate'")
    assert rows[["employee_id", "value", "origin"]].values.tolist() == [[person, 41.5, "imported"]]
    page = review.lineage_summary_table(review.lineage_summary(rows), after.framework)._repr_html_()
    assert "imported: entered by hand or from a file" in page and "computed from" not in page


def test_report_tables_name_source_rows_time_and_short_hash(computed):
    ctx = open_step(computed, "sales", PERIOD)
    lineage = review.value_lineage(ctx.actuals, ctx.store, ctx.period)
    hashes = lineage.loc[lineage["origin"] == "computed", "definition_hash"].unique()
    summary = html.unescape(review.lineage_summary_table(review.lineage_summary(lineage), ctx.framework)._repr_html_())
    assert "computed from crm_opportunities" in summary and "Win rate (%)" in summary
    assert all(h[:review.HASH_SHOWN] in summary and h not in summary for h in hashes)
    stamp = pd.Timestamp(lineage["computed_at"].dropna().iloc[0]).strftime("%Y-%m-%d %H:%M")
    assert stamp in summary and "Collaboration rating, rating (1-5)" in summary
    detail = html.unescape(review.computed_values_table(lineage, ctx.employees, ctx.framework)._repr_html_())
    assert "Win rate (%), computed from crm_opportunities · 21 computed values" in detail
    people = ctx.employees.set_index("employee_id")["name"]
    first = lineage[(lineage["origin"] == "computed") & (lineage["employee_id"] != "")].iloc[0]
    assert f"{people[first['employee_id']]} ({first['employee_id']})" in detail and "team value" in detail


def test_a_workspace_never_computed_shows_every_value_as_imported(sample_workspace):
    ctx = open_step(sample_workspace, "it", PERIOD)
    lineage = review.value_lineage(ctx.actuals, ctx.store, ctx.period)
    assert len(lineage) == int((ctx.actuals["period"] == PERIOD).sum()) > 0
    assert set(lineage["origin"]) == {"imported"}
    page = review.computed_values_table(lineage, ctx.employees, ctx.framework)._repr_html_()
    assert "No value of this period was computed: all were imported." in page


def test_values_computed_before_a_measure_changed_say_so_until_computed_again(computed, cli, tmp_path):
    root = shutil.copytree(computed, tmp_path / "alderbrook")

    def definitions(kpi: str) -> str:
        ctx = open_step(root, "sales", PERIOD)
        lineage = review.value_lineage(ctx.actuals, ctx.store, PERIOD)
        table = review.lineage_summary_table(review.lineage_summary(lineage), ctx.framework,
                                             review.current_definitions(root, ctx.framework))
        return table.frame.set_index("kpi_id")["definition"][kpi]  # one team: one row per KPI

    assert "changed since" not in definitions("win_rate") + definitions("new_business_revenue")
    kpis = root / "kpis.yaml"
    denominator = "      denominator:\n        source: crm_opportunities\n        function: count\n"
    text = kpis.read_text(encoding="utf-8")
    assert text.count(denominator) == 1  # the win rate's: its share of the closed deals only, from now on
    kpis.write_text(text.replace(denominator, denominator + '        where: stage != "Open"\n'), encoding="utf-8")
    stale = definitions("win_rate")
    assert stale.endswith(": changed since, run compute again"), stale
    assert "changed since" not in definitions("new_business_revenue")
    code, _, stderr = cli("compute", "-w", root)
    assert code == 0, stderr
    assert "changed since" not in definitions("win_rate")
