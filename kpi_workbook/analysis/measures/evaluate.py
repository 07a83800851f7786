"""Evaluating one KPI's measure on read sources: one grouped query per source, then ratios and "no data" reasons."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from kpi_workbook.analysis.measures.compile import NUMBER, WEEK, YEAR, aggregation, duration, period_keys
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.measures import ZERO_WHEN_NONE_MATCH, Aggregate, Duration, Measure, Per
from kpi_workbook.core.model import Frequency, KpiDefinition
from kpi_workbook.core.periods import period_table
from kpi_workbook.workspace.sources import EMPLOYEE, TEAM, WHEN, ReadSource

KEYS = ["period", "team", "employee_id"]
VALUE_COLUMNS = [*KEYS, "kpi_id", "value", "source", "source_rows"]
NO_DATA_COLUMNS = [*KEYS, "kpi_id", "reason"]


@dataclass(frozen=True)
class Evaluation:
    """A KPI's computed values (with source and number of source rows) and the groups with no data and why."""

    values: pd.DataFrame
    no_data: pd.DataFrame


def _labels(frame: pd.DataFrame, frequency: Frequency) -> pd.Series:
    """Canonical period labels of the grouping keys a query returned."""
    if frequency is Frequency.WEEKLY:
        return pd.to_datetime(frame[WEEK]).map(lambda d: "{}-W{:02d}".format(*d.isocalendar()[:2]))
    year, n = frame[YEAR].astype(int).astype(str), frame[NUMBER].astype(int)
    formats = {Frequency.YEARLY: lambda: year, Frequency.HALF_YEARLY: lambda: year + "H" + n.astype(str),
               Frequency.QUARTERLY: lambda: year + "Q" + n.astype(str),
               Frequency.MONTHLY: lambda: year + "-" + n.astype(str).str.zfill(2)}
    return formats[frequency]()


def _source_query(read: ReadSource, specs: list[tuple[str, Aggregate | Duration]], kpi: KpiDefinition,
                  measure: Measure, frequency: Frequency, span: tuple[dt.date, dt.date] | None) -> pd.DataFrame:
    """One grouped query for the metrics a KPI takes from one source; a frame keyed by period, team, employee."""
    source, table = read.source, read.table
    if measure.per is Per.EMPLOYEE and source.employee is None:
        raise InputError(Problem(file="kpis.yaml", entry=f"KPI '{kpi.id}'", field="measure.per",
                                 message=f"per employee, but source '{source.name}' has no employee column"))
    snapshot = source.fixed_period
    if snapshot is not None:
        if snapshot.frequency is not frequency:
            raise InputError(Problem(file="kpis.yaml", entry=f"KPI '{kpi.id}'", field="frequency", message=(
                f"the KPI is {frequency.value} but source '{source.name}' is a snapshot of {snapshot.label}")))
        if span is not None and not (span[0] <= snapshot.start and snapshot.end <= span[1]):
            table = table.filter(ibis.literal(False))
        keys = {}
    else:
        if span is not None:
            table = table.filter((table[WHEN] >= span[0]) & (table[WHEN] <= span[1]))
        keys = period_keys(table, frequency)
    keys[TEAM] = table[TEAM]
    if measure.per is Per.EMPLOYEE:
        keys[EMPLOYEE] = table[EMPLOYEE]
    metrics = {}
    for name, spec in specs:
        field = name if name in ("aggregate", "duration") else f"ratio.{name}"
        value, used = (duration(table, source, spec, kpi.id) if isinstance(spec, Duration)
                       else aggregation(table, source, spec, kpi.id, field))
        metrics[name], metrics[f"{name}__used"] = value, used
    frame = table.group_by(**keys).aggregate(**metrics).execute()
    periods = pd.Series(snapshot.label, index=frame.index) if snapshot is not None else _labels(frame, frequency)
    employee = frame[EMPLOYEE].astype(str) if measure.per is Per.EMPLOYEE else ""
    result = pd.DataFrame({"period": periods, "team": frame[TEAM].astype(str), "employee_id": employee})
    for name in metrics:
        result[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return result


def _specs(measure: Measure) -> list[tuple[str, Aggregate | Duration]]:
    if measure.aggregate is not None:
        return [("aggregate", measure.aggregate)]
    if measure.ratio is not None:
        return [("numerator", measure.ratio.numerator), ("denominator", measure.ratio.denominator)]
    return [("duration", measure.duration)]


def _metric(frame: pd.DataFrame, name: str, spec: Aggregate | Duration) -> tuple[pd.Series, pd.Series]:
    """A metric's values and the reason where it has none: groups where no row matched are 0 for sum and counts."""
    values, used = frame[name], frame[f"{name}__used"].fillna(0)
    zero_ok = isinstance(spec, Aggregate) and spec.function in ZERO_WHEN_NONE_MATCH
    if zero_ok:
        values = values.where(used > 0, 0.0)
    absent = frame[f"{name}__used"].isna()
    what = spec.describe() if isinstance(spec, Aggregate) else (
        f"the duration from {spec.start} to {spec.end} in {spec.source}" + (f" where {spec.where}" if spec.where
                                                                             else ""))
    reason = pd.Series("", index=frame.index, dtype="object")
    reason[values.isna() & ~absent] = f"no rows for {what}"
    reason[absent] = f"no rows of {spec.source} in this period for this team or employee"
    if zero_ok:
        reason[absent] = ""
        values = values.fillna(0.0)
    return values, reason


def evaluate_measure(kpi: KpiDefinition, frequency: Frequency, sources: dict[str, ReadSource],
                     span: tuple[dt.date, dt.date] | None = None) -> Evaluation:
    """Evaluate an aggregate, ratio or duration measure per period and employee or team (not derived)."""
    measure = kpi.measure
    specs = _specs(measure)
    frames = []
    for name in measure.sources:
        if name not in sources:
            raise InputError(Problem(file="kpis.yaml", entry=f"KPI '{kpi.id}'", field="measure",
                                     message=f"unknown source '{name}' (not in sources.yaml)"))
        mine = [(n, s) for n, s in specs if s.source == name]
        frames.append(_source_query(sources[name], mine, kpi, measure, frequency, span).set_index(KEYS))
    frame = pd.concat(frames, axis=1).reset_index() if len(frames) > 1 else frames[0].reset_index()
    reason = pd.Series("", index=frame.index, dtype="object")
    if measure.ratio is not None:
        numerator, why_n = _metric(frame, "numerator", measure.ratio.numerator)
        denominator, why_d = _metric(frame, "denominator", measure.ratio.denominator)
        reason = why_d.where(why_d != "", why_n)
        zero = (denominator == 0) & (reason == "")
        reason[zero] = f"division by zero: {measure.ratio.denominator.describe()} is 0"
        with np.errstate(divide="ignore", invalid="ignore"):
            value = numerator / denominator.where(denominator != 0)
    else:
        name, spec = specs[0]
        value, reason = _metric(frame, name, spec)
    value = value * measure.scale
    reason[~np.isfinite(value) & (reason == "")] = "not a finite number"
    used = sum(frame[f"{n}__used"].fillna(0) for n, _ in specs)
    ok = reason == ""
    values = frame.loc[ok, KEYS].assign(kpi_id=kpi.id, value=value[ok].astype("float64"),
                                        source=", ".join(measure.sources), source_rows=used[ok].astype("int64"))
    no_data = frame.loc[~ok, KEYS].assign(kpi_id=kpi.id, reason=reason[~ok])
    return Evaluation(_sorted(values[VALUE_COLUMNS]), _sorted(no_data[NO_DATA_COLUMNS]))


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame.reset_index(drop=True)
    starts = period_table(frame["period"])["start"]
    return frame.assign(__start=starts).sort_values(["__start", *KEYS], kind="stable").drop(
        columns="__start").reset_index(drop=True)


def empty_evaluation() -> Evaluation:
    """An evaluation without values or no-data groups."""
    values = pd.DataFrame({c: pd.Series(dtype="float64" if c == "value" else "int64" if c == "source_rows"
                                        else "object") for c in VALUE_COLUMNS})
    return Evaluation(values, pd.DataFrame({c: pd.Series(dtype="object") for c in NO_DATA_COLUMNS}))

