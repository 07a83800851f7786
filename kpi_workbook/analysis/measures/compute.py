"""Computing every measured KPI of a workspace from its sources, comparing with the store, and writing the values.

Values go into the store in one transaction that replaces exactly the period × team × KPI slices computed, with
their lineage (source, number of source rows, computed at, definition hash).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kpi_workbook.analysis.measures.derived import evaluate_derived
from kpi_workbook.analysis.measures.evaluate import KEYS, NO_DATA_COLUMNS, VALUE_COLUMNS, Evaluation, evaluate_measure
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.measures import FilterError, Per, derived_kpis, parse_derived
from kpi_workbook.core.model import Framework, Frequency, KpiDefinition
from kpi_workbook.core.periods import parse_period
from kpi_workbook.workspace.sources import ReadSource, Source, load_sources, read_source
from kpi_workbook.workspace.store import ActualsStore, DuckDBStore, ReplaceResult

SLICE = ["period", "team", "kpi_id"]
CHANGE_COLUMNS = ["kpi_id", "new", "changed", "removed", "unchanged", "no_data"]


@dataclass(frozen=True)
class Computation:
    """What compute found: values (with lineage), no-data groups with reasons, the slices it covers, and values
    left out because the framework does not assign the KPI there (kpi_id, reason, values)."""

    values: pd.DataFrame
    no_data: pd.DataFrame
    slices: pd.DataFrame
    skipped: pd.DataFrame
    computed_at: dt.datetime


def frequency_of(kpi: KpiDefinition, framework: Framework) -> Frequency:
    """The frequency a KPI is computed at: its own, else the framework's review cycle."""
    return kpi.frequency or framework.metadata.review_cycle


def span_of(first: str | None, last: str | None) -> tuple[dt.date, dt.date] | None:
    """The days from the first day of period `first` to the last day of period `last` (None: all)."""
    if first is None and last is None:
        return None
    start = parse_period(first or last).start
    end = parse_period(last or first).end
    if end < start:
        raise InputError(Problem(file="--from/--to", message=f"{last} ends before {first} starts"))
    return start, end


def _definition(framework: Framework, kpi_id: str) -> KpiDefinition:
    kpi = framework.kpi(kpi_id)
    if kpi is None or kpi.measure is None:
        measured = ", ".join(k.id for k in framework.kpis if k.measure is not None) or "none"
        raise InputError(Problem(file="--kpi", message=f"'{kpi_id}' is not a KPI with a measure (measured: "
                                                       f"{measured})"))
    return kpi


def _operands(kpi: KpiDefinition) -> list[str]:
    try:
        return derived_kpis(parse_derived(kpi.measure.derived))
    except FilterError as exc:
        raise InputError(Problem(file="kpis.yaml", entry=f"KPI '{kpi.id}'", field="measure.derived",
                                 message=str(exc))) from None


def evaluation_order(framework: Framework, wanted: list[str] | None) -> list[KpiDefinition]:
    """The measured KPIs to evaluate (the wanted ones and the measured KPIs derived ones use), operands first."""
    order: list[KpiDefinition] = []
    visiting: list[str] = []

    def visit(kpi_id: str) -> None:
        if any(k.id == kpi_id for k in order):
            return
        if kpi_id in visiting:
            cycle = " → ".join([*visiting[visiting.index(kpi_id):], kpi_id])
            raise InputError(Problem(file="kpis.yaml", entry=f"KPI '{kpi_id}'", field="measure.derived",
                                     message=f"derived measures form a cycle: {cycle}"))
        kpi = _definition(framework, kpi_id)
        visiting.append(kpi_id)
        if kpi.measure.derived is not None:
            for operand in _operands(kpi):
                known = framework.kpi(operand)
                if known is None:
                    raise InputError(Problem(file="kpis.yaml", entry=f"KPI '{kpi_id}'", field="measure.derived",
                                             message=f"unknown KPI '{operand}'"))
                if known.measure is not None:
                    visit(operand)
        visiting.pop()
        order.append(kpi)

    for kpi_id in wanted or [k.id for k in framework.kpis if k.measure is not None]:
        visit(kpi_id)
    return order


class _Assigned:
    """Which employee and team values the framework uses: the employee's role, or a role of the team, has the KPI."""

    def __init__(self, framework: Framework, employees: pd.DataFrame):
        people = employees.drop_duplicates("employee_id").set_index("employee_id")
        self.team = people["team"]
        self.role = people["role"]
        self.role_kpis = {(a.role, a.kpi.kpi) for a in framework.assignments}
        team_roles = {(t, r.id) for r in framework.roles for t in r.teams} | set(zip(people["team"], people["role"],
                                                                                   strict=True))
        self.team_kpis = {(t, k) for t, r in team_roles for (role, k) in self.role_kpis if role == r}
        self._role_keys = pd.Index([f"{r}\x1f{k}" for r, k in self.role_kpis])
        self._team_keys = pd.Index([f"{t}\x1f{k}" for t, k in self.team_kpis])

    def team_has(self, teams: pd.Series, kpi_ids: pd.Series) -> np.ndarray:
        """Whether a role of each team has each KPI."""
        return (teams.astype(str) + "\x1f" + kpi_ids.astype(str)).isin(self._team_keys).to_numpy()

    def split(self, values: pd.DataFrame, per: Per) -> tuple[pd.Series, pd.Series]:
        """(kept, reason left out) for each value row."""
        reason = pd.Series("", index=values.index, dtype="object")
        if per is Per.EMPLOYEE:
            home = values["employee_id"].map(self.team)
            reason[(home != values["team"]).to_numpy()] = "the employee belongs to another team in employees.csv"
            keys = values["employee_id"].map(self.role).astype(str) + "\x1f" + values["kpi_id"].astype(str)
            missing = ~keys.isin(self._role_keys).to_numpy()
            reason[missing & (reason == "").to_numpy()] = "KPI not assigned to the role"
        else:
            reason[~self.team_has(values["team"], values["kpi_id"])] = "KPI not assigned to any role of the team"
        return reason == "", reason


def _in_span(frame: pd.DataFrame, span: tuple[dt.date, dt.date] | None) -> pd.DataFrame:
    if span is None or frame.empty:
        return frame
    inside = {p: span[0] <= parse_period(p).start and parse_period(p).end <= span[1]
              for p in frame["period"].unique()}
    return frame[frame["period"].map(inside).astype(bool).to_numpy()]


def compute(root: str | Path, framework: Framework, employees: pd.DataFrame, kpis: list[str] | None = None,
            span: tuple[dt.date, dt.date] | None = None, store: ActualsStore | None = None,
            sources: dict[str, Source] | None = None) -> Computation:
    """Evaluate the measured KPIs (all, or `kpis`) in `span` (all periods when None).

    Derived KPIs use this run's values of the KPIs they name, and the store's for KPIs entered by hand.
    """
    import ibis

    order = evaluation_order(framework, kpis)
    wanted = set(kpis) if kpis else {k.id for k in order}
    sources = load_sources(root) if sources is None else sources
    con = ibis.duckdb.connect()
    read: dict[str, ReadSource] = {}
    assigned = _Assigned(framework, employees)
    evaluations: dict[str, Evaluation] = {}
    for kpi in order:
        if kpi.measure.derived is not None:
            names = _operands(kpi)
            mine = [evaluations[n].values for n in names if n in evaluations]
            entered = [n for n in names if n not in evaluations]
            if entered and store is not None:
                mine.append(_in_span(store.read_actuals(kpis=entered), span))
            operands = pd.concat(mine, ignore_index=True) if mine else pd.DataFrame(columns=VALUE_COLUMNS)
            evaluations[kpi.id] = evaluate_derived(kpi, operands)
            continue
        for name in kpi.measure.sources:
            if name not in read:
                if name not in sources:
                    raise InputError(Problem(file="kpis.yaml", entry=f"KPI '{kpi.id}'", field="measure",
                                             message=f"unknown source '{name}' (sources.yaml has: "
                                                     f"{', '.join(sources) or 'none'})"))
                read[name] = read_source(sources[name], root, framework, employees, con)
        evaluations[kpi.id] = evaluate_measure(kpi, frequency_of(kpi, framework), read, span)
    return _combine(framework, sources, order, wanted, evaluations, assigned)


def _combine(framework: Framework, sources: dict[str, Source], order: list[KpiDefinition],
             wanted: set[str], evaluations: dict[str, Evaluation], assigned: _Assigned) -> Computation:
    values, no_data, skipped = [], [], []
    for kpi in order:
        if kpi.id not in wanted:
            continue
        evaluation = evaluations[kpi.id]
        kept, reason = assigned.split(evaluation.values, kpi.measure.per)
        if (~kept).any():
            counts = reason[~kept].value_counts()
            skipped += [{"kpi_id": kpi.id, "reason": r, "values": int(n)} for r, n in counts.items()]
        extra = {"frequency": frequency_of(kpi, framework).value,
                 "sources": [sources[s].model_dump(mode="json") for s in kpi.measure.sources if s in sources]}
        values.append(evaluation.values[kept].assign(definition_hash=kpi.measure.digest(extra)))
        missing = evaluation.no_data
        no_data.append(missing[assigned.team_has(missing["team"], missing["kpi_id"])])
    values_frame = pd.concat(values, ignore_index=True) if values else pd.DataFrame(
        columns=[*VALUE_COLUMNS, "definition_hash"])
    no_data_frame = pd.concat(no_data, ignore_index=True) if no_data else pd.DataFrame(columns=NO_DATA_COLUMNS)
    slices = pd.concat([values_frame[SLICE], no_data_frame[SLICE]]).drop_duplicates().reset_index(drop=True)
    skipped_frame = pd.DataFrame(skipped, columns=["kpi_id", "reason", "values"])
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return Computation(values_frame.reset_index(drop=True), no_data_frame.reset_index(drop=True), slices,
                       skipped_frame, now)


def changes(computation: Computation, store: ActualsStore) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per KPI: new, changed, removed, unchanged and no-data counts; every value that would change).

    The detail has period, team, employee_id, kpi_id, old, new and change ('new', 'changed' or 'removed').
    """
    kpi_ids = list(dict.fromkeys(computation.slices["kpi_id"]))
    stored = store.read_actuals(kpis=kpi_ids) if kpi_ids else pd.DataFrame(columns=[*KEYS, "kpi_id", "value"])
    stored = stored.merge(computation.slices, on=SLICE)
    merged = stored.rename(columns={"value": "old"}).merge(
        computation.values[[*KEYS, "kpi_id", "value"]].rename(columns={"value": "new"}),
        on=[*KEYS, "kpi_id"], how="outer")
    same = np.isclose(merged["old"], merged["new"], rtol=1e-12, atol=0) & merged["old"].notna()
    merged["change"] = np.select([merged["old"].isna(), merged["new"].isna(), ~same],
                                 ["new", "removed", "changed"], "unchanged")
    counts = merged.groupby(["kpi_id", "change"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=["new", "changed", "removed", "unchanged"], fill_value=0)
    counts = counts.reindex(kpi_ids, fill_value=0)
    counts["no_data"] = computation.no_data.groupby("kpi_id").size().reindex(counts.index, fill_value=0)
    summary = counts.rename_axis("kpi_id").reset_index()
    detail = merged[merged["change"] != "unchanged"].reset_index(drop=True)
    return summary[CHANGE_COLUMNS], detail


def write(computation: Computation, store: DuckDBStore) -> ReplaceResult:
    """Store the computed values with their lineage in one transaction, replacing exactly the computed slices."""
    values = computation.values
    lineage = values[[*KEYS, "kpi_id", "source", "source_rows"]].assign(
        computed_at=pd.Timestamp(computation.computed_at), definition_hash=values["definition_hash"])
    return store.replace_periods(values[[*KEYS, "kpi_id", "value"]], slices=computation.slices, lineage=lineage)
