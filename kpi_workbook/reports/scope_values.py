"""The KPIs' values over a whole department or the organization, as a review report shows them: the roles holding
each KPI, the period's value and the one before with the KPI's unit, the change (better or worse by the KPI's
polarity), the target and the gap to it where the value compares with the roles' target, the KPI's rolled-up score,
how the value is computed over all the scope's records, and which KPIs are entered by hand (they have none)."""

from __future__ import annotations

__all__ = ["LISTED_BY_HAND", "OF_ALL_RECORDS", "ScopeValues", "TOTALS", "computed_as", "kpi_label", "scope_values_view"]

import html
from dataclasses import dataclass

import pandas as pd

from kpi_workbook.analysis.review import BY_ROLE, COMPARED
from kpi_workbook.core.measures import Function, Measure
from kpi_workbook.core.model import Framework, KpiDefinition, Polarity
from kpi_workbook.reports.mode import report_mode
from kpi_workbook.reports.tables import EMPTY_TEXT, REPORT_CSS, Col, ReportTable
from kpi_workbook.reports.units import (
    NO_CHANGE,
    change_text,
    decimals,
    gap_text,
    label_unit,
    level_text,
    range_text,
    value_text,
)

LISTED_BY_HAND = 10  # more KPIs entered by hand than this are counted, not named
TOTALS = {Function.SUM, Function.COUNT, Function.COUNT_DISTINCT}
OF_ALL_RECORDS = {Function.MEAN: "mean", Function.MEDIAN: "median", Function.MIN: "lowest",
                  Function.MAX: "highest"}


def _over_records(function: Function) -> str:
    return "total" if function in TOTALS else f"{OF_ALL_RECORDS[function]} of all records"


def computed_as(measure: Measure) -> str:
    """How a department's or the organization's value of the measure is computed from all its records, in a few
    words: 'ratio of totals', 'total', 'median of all records'."""
    if measure.ratio is not None:
        text = "ratio of totals"
    elif measure.duration is not None:
        text = _over_records(measure.duration.function)
    elif measure.aggregate is None:
        text = "formula of its values"  # derived
    elif measure.aggregate.function is Function.HEADCOUNT:
        text = "headcount"
    else:
        text = _over_records(measure.aggregate.function)
    return ", ".join([text, *_periods(measure)])


def _periods(measure: Measure) -> list[str]:
    """Which periods' records a value covers, when not only its own: 'last 4 periods', 'year to date', 'a year
    before'."""
    spans = [f"last {measure.window} periods" if measure.window else "", "year to date" if measure.year_to_date else ""]
    if measure.offset is not None:
        spans.append("a year before" if measure.offset == "year" else f"{measure.offset} period(s) before")
    return [span for span in spans if span]


def kpi_label(kpi: KpiDefinition, unit: str | None = None) -> str:
    """The KPI's name, with its unit (`unit`, else the KPI's own) when the values are shown without it: 'New
    business revenue (currency)'."""
    unit = label_unit(kpi.unit if unit is None else unit)
    if not unit:
        return kpi.name
    return f"{kpi.name}, {unit}" if "(" in unit else f"{kpi.name} ({unit})"


def _direction(change: float, polarity: Polarity) -> str:
    """'better' or 'worse' for a change of a KPI with this polarity ("" within a range: either way can be good)."""
    if polarity is Polarity.WITHIN_RANGE:
        return ""
    return "better" if (change > 0) == (polarity is Polarity.HIGHER_IS_BETTER) else "worse"


def _figures(value: float, previous: float, kpi: KpiDefinition, unit: str) -> tuple[str, str, str]:
    """The value, the previous value and the change between them as text in `unit`, with as many decimals each: the
    change with whether it is better or worse ('+3.1 pts, better')."""
    places = decimals([value, previous], unit)
    change = change_text(value, previous, unit, places)
    direction = _direction(value - previous, kpi.polarity) if change not in (NO_CHANGE, EMPTY_TEXT) else ""
    return (value_text(value, unit, places), value_text(previous, unit, places),
            f"{change}, {direction}" if direction else change)


def _target(row: dict, unit: str) -> str:
    """The target the scope's value is read against: '25 %', '40–60 %'; 'differs by role'; '200,000 per person' for
    a total of the scope (see analysis.review.scope_kpi_values)."""
    if row["compared"] == BY_ROLE:
        return "differs by role"
    within = row["polarity"] == Polarity.WITHIN_RANGE.value
    level = range_text(row["range_low"], row["range_high"], unit) if within else level_text(row["target"], unit)
    return level if row["compared"] == COMPARED or level == EMPTY_TEXT else f"{level} {row['compared']}"


def _gap(row: dict, unit: str) -> str:
    """The gap of the scope's value to the target, in the value's decimals, where they compare."""
    if row["compared"] != COMPARED:
        return EMPTY_TEXT
    side = None
    if row["polarity"] == Polarity.WITHIN_RANGE.value:
        value = row["value"]
        side = "below" if value < row["range_low"] else "above" if value > row["range_high"] else ""
    places = decimals([row["value"], row["previous_value"]], unit)
    return gap_text(row["gap"], row["gap_share"], unit, places, side)


def _shown(values: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """The measured KPIs' rows with their label, roles, values, change, target, gap and how they are computed as
    text."""
    kpis = {k.id: k for k in framework.kpis}
    titles = {r.id: r.title for r in framework.roles}
    rows = values[values["measured"]]
    defined = [kpis[k] for k in rows["kpi_id"]]
    units = [framework.unit_of(k) for k in defined]
    records = rows.to_dict("records")
    figures = [_figures(v, p, k, u) for v, p, k, u in zip(rows["value"], rows["previous_value"], defined, units,
                                                            strict=True)]
    return rows.assign(
        kpi_label=[kpi_label(k, u) for k, u in zip(defined, units, strict=True)], value_text=[f[0] for f in figures],
        previous_text=[f[1] for f in figures], change_text=[f[2] for f in figures],
        how=[computed_as(k.measure) if k.measure is not None else EMPTY_TEXT for k in defined],
        role_names=[", ".join(titles.get(r, r) for r in str(roles).split(", ") if r) for roles in rows["roles"]],
        target_text=[_target(r, u) for r, u in zip(records, units, strict=True)],
        gap_text=[_gap(r, u) for r, u in zip(records, units, strict=True)],
    )


def _columns(period: str, previous: str) -> dict[str, Col]:
    before = {"previous_text": Col(previous, "figure"), "value_text": Col(period, "figure"),
              "change_text": Col("Change", "figure")} if previous else {"value_text": Col(period, "figure")}
    return {"kpi_label": Col("KPI"), "role_names": Col("Roles"), **before, "target_text": Col("Target", "figure"),
            "gap_text": Col("Gap to target (− short of it)", "figure"), "score": Col("Score", "score"),
            "status": Col("Status", "status"), "how": Col("Computed as")}


def _intro(level: str, whose: str) -> str:
    return (f"Over all records of {whose}: a rate is the ratio of the {level}'s totals (all its leavers ÷ its whole "
            f"headcount), not an average of rates; a count or an amount is its total. The gap compares a rate or an "
            f"average with the roles' target, never a total; the score and status are the KPI's over the {level}'s "
            f"people, as in the tables below.")


def _by_hand_text(values: pd.DataFrame, framework: Framework, level: str, whose: str) -> str:
    """What the KPIs entered by hand (no measure) have instead of a value, naming them when they are few."""
    by_hand = values.loc[~values["measured"], "kpi_id"]
    if by_hand.empty:
        return ""
    if by_hand.size == len(values):
        return (f"None of the {len(values)} KPIs of {whose} is computed from records: all are entered by hand "
                f"(imported or rated), so none has a value of the {level}; their scores are in the tables below.")
    names = {k.id: k.name for k in framework.kpis}
    listed = (": " + ", ".join(names[k] for k in by_hand) if by_hand.size <= LISTED_BY_HAND
              else ", and the KPI design report (step 3) lists them")
    return (f"{by_hand.size} of the {len(values)} KPIs of {whose} are entered by hand (imported or rated), so they "
            f"have no value of the {level}; their scores are in the tables below{listed}.")


@dataclass(frozen=True)
class ScopeValues:
    """The section of a department's or the organization's review with its KPIs' values; shows as HTML."""

    title: str
    before: str  # plain text, above the table
    table: ReportTable | None = None
    after: str = ""  # plain text, below the table

    def _repr_html_(self) -> str:
        parts = [f'<h2 id="scope-values">{html.escape(self.title)}</h2>', f"<p>{html.escape(self.before)}</p>",
                 self.table._repr_html_() if self.table is not None else "",
                 f"<p>{html.escape(self.after)}</p>" if self.after else ""]
        return f'{REPORT_CSS}<div class="kpi-scope-values">{"".join(parts)}</div>'

    def __repr__(self) -> str:
        table = repr(self.table) if self.table is not None else ""
        return " ".join(part for part in (self.title, self.before, table, self.after) if part)


def scope_values_view(values: pd.DataFrame, framework: Framework, level: str, whose: str, title: str) -> ScopeValues:
    """The section titled `title` for `values` (analysis.review.scope_kpi_values) of a department or the
    organization (`level`), `whose` naming it in a sentence ('the Commercial department')."""
    if values.empty:
        return ScopeValues(title, f"No role of {whose} has KPIs.")
    by_hand = _by_hand_text(values, framework, level, whose)
    if not values["measured"].any():
        return ScopeValues(title, by_hand)
    if values[["value", "previous_value"]].isna().all(axis=None):
        how = ("" if report_mode() else
               f": kpi-workbook compute computes each KPI's value over all the {level}'s records")
        return ScopeValues(title, f"No value of {whose} as a whole is available yet{how}.", after=by_hand)
    period, previous = values["period"].iloc[0], values["previous_period"].iloc[0]
    table = ReportTable(_shown(values, framework), _columns(period, previous), noun=("KPI", "KPIs"))
    return ScopeValues(title, _intro(level, whose), table, by_hand)
