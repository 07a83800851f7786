"""A small workspace with raw CRM deals, a snapshot of headcount and every kind of measure, with known answers."""

from __future__ import annotations

from pathlib import Path

from kpi_workbook.core.model import Framework, KpiDefinition, Metadata, Objective, Role, RoleKpi, Team
from kpi_workbook.workspace.files import save_framework

DEALS = """deal_id,owner,region,stage,amount,created_on,closed_on
1,E1,Sales West,won,100,2025-01-01,2025-01-11
2,E1,sales west,won,300,2025-01-05,2025-02-04
3,E1,SALES WEST,lost,50,2025-02-01,2025-03-01
4,E2,Sales West,lost,80,2025-03-01,2025-03-15
5,E3,Sales West,open,40,2025-03-02,2025-03-20
6,R1,Recherche & Développement,won,200,2025-04-01,2025-04-21
7,R1,recherche & developpement,won,500,2025-04-03,2025-05-03
8,R1,Recherche et Développement,lost,70,2025-05-01,2025-06-30
"""
HEADCOUNT = """team,people
Sales West,3
R&D,0
"""
EMPLOYEES = "employee_id,name,team,role\nE1,Ann,sales,seller\nE2,Bo,sales,seller\nE3,Cy,sales,seller\n" \
            "R1,Rui,rd,seller\n"
SOURCES = """sources:
- name: deals
  file: exports/deals.csv
  when: closed_on
  employee: owner
  team: region
  team_match: name
  team_map: {Recherche et Développement: rd}
  columns: {deal_id: integer, stage: text, amount: number, created_on: date}
- name: headcount
  file: exports/headcount.csv
  period: 2025Q2
  team: team
  team_match: name
  team_map: {R&D: rd}
  columns: {people: integer}
"""


def deals(function: str, column: str | None = None, where: str | None = None) -> dict:
    spec = {"source": "deals", "function": function}
    spec |= {"column": column} if column else {}
    return spec | ({"where": where} if where else {})


WON = 'stage == "won"'
CLOSED = 'stage in ("won", "lost")'
MEASURES: dict[str, tuple[str, dict]] = {
    "won_revenue": ("currency", {"aggregate": deals("sum", "amount", WON)}),
    "deals": ("count", {"aggregate": deals("count")}),
    "stages": ("count", {"aggregate": deals("count_distinct", "stage")}),
    "mean_won": ("currency", {"aggregate": deals("mean", "amount", WON)}),
    "median_deal": ("currency", {"aggregate": deals("median", "amount")}),
    "smallest_deal": ("currency", {"aggregate": deals("min", "amount")}),
    "largest_deal": ("currency", {"aggregate": deals("max", "amount")}),
    "win_rate": ("%", {"ratio": {"numerator": deals("count", where=WON), "denominator": deals("count", where=CLOSED)},
                       "scale": 100}),
    "cycle_days": ("days", {"duration": {"source": "deals", "start": "created_on", "end": "closed_on",
                                         "function": "median", "where": WON}}),
    "team_revenue": ("currency", {"aggregate": deals("sum", "amount", WON), "per": "team"}),
    "team_deals": ("count", {"aggregate": deals("count", where=WON), "per": "team"}),
    "team_deal_size": ("currency", {"derived": "team_revenue / team_deals", "per": "team"}),
    "headcount": ("count", {"aggregate": {"source": "headcount", "function": "sum", "column": "people"},
                            "per": "team"}),
    "revenue_per_head": ("currency", {"derived": "team_revenue / headcount", "per": "team"}),
}


def measured_framework(measures: dict[str, tuple[str, dict]] | None = None) -> Framework:
    """Teams sales ('Sales West') and rd ('Recherche & Développement'); one role with every measured KPI."""
    measures = MEASURES if measures is None else measures
    kpis = [KpiDefinition(id=k, name=k.replace("_", " ").capitalize(), unit=unit, polarity="higher_is_better",
                          category="output", indicator="lagging", frequency="quarterly", measure=m)
            for k, (unit, m) in measures.items()]
    role = Role(id="seller", title="Seller", teams=["sales", "rd"],
                kpis=[RoleKpi(kpi=k.id, weight=100 / len(kpis), target=1) for k in kpis])
    return Framework(metadata=Metadata(organization="Deals Ltd"),
                     objectives=[Objective(id="grow", title="Grow", perspective="financial")],
                     teams=[Team(id="sales", name="Sales West"), Team(id="rd", name="Recherche & Développement")],
                     kpis=kpis, roles=[role])


def write_workspace(root: Path, framework: Framework | None = None, deals_csv: str = DEALS,
                    sources: str = SOURCES) -> Path:
    """Write the framework, employees, sources.yaml and the raw exports to `root`."""
    save_framework(framework or measured_framework(), root)
    (root / "employees.csv").write_text(EMPLOYEES, encoding="utf-8")
    (root / "exports").mkdir(exist_ok=True)
    (root / "exports" / "deals.csv").write_text(deals_csv, encoding="utf-8")
    (root / "exports" / "headcount.csv").write_text(HEADCOUNT, encoding="utf-8")
    (root / "sources.yaml").write_text(sources, encoding="utf-8")
    return root
