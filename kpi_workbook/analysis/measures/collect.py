"""Assembling a computation's result from the engine's wide Arrow tables: one long table of values, one of groups
with no data, the slices covered and the counts of values left out, without per-group Python work."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kpi_workbook.analysis.measures.evaluate import KEYS, NO_DATA_COLUMNS, VALUE_COLUMNS

SLICE = ["period", "team", "kpi_id"]
SKIPPED_COLUMNS = ["kpi_id", "reason", "values"]


@dataclass(frozen=True)
class Computation:
    """What compute found: values (with lineage), no-data groups with reasons, the slices it covers, and values
    left out because the framework does not assign the KPI there (kpi_id, reason, values).

    In `values`, kpi_id, source and definition_hash (the same for all values of a KPI) are categoricals."""

    values: pd.DataFrame
    no_data: pd.DataFrame
    slices: pd.DataFrame
    skipped: pd.DataFrame
    computed_at: dt.datetime


@dataclass(frozen=True)
class KpiColumns:
    """Where one KPI's results are in a wide table: its value, source rows, reason, left-out reason and whether a
    role of the row's team has it; with the KPI's id, source text and definition hash. A derived KPI computed on its
    operands' table also has `exists`: whether the row has a value of any operand (other rows are not its groups)."""

    kpi_id: str
    source: str
    definition_hash: str
    value: str
    rows: str
    reason: str
    left_out: str
    team_has: str
    exists: str | None = None


class _Pairs:
    """The distinct (period, team) of a wide table, in order, and each row's index into them (the rows come sorted
    so that equal pairs are adjacent)."""

    def __init__(self, table: pa.Table):
        period, team = table["period"].combine_chunks(), table["team"].combine_chunks()
        codes = [pc.dictionary_encode(keys).indices.to_numpy() for keys in (period, team)]
        changed = np.ones(table.num_rows, dtype=bool)
        changed[1:] = (codes[0][1:] != codes[0][:-1]) | (codes[1][1:] != codes[1][:-1])
        starts = pa.array(np.flatnonzero(changed))
        self.pairs = list(zip(period.take(starts).to_pylist(), team.take(starts).to_pylist(), strict=True))
        self.index = np.cumsum(changed) - 1

    def of(self, rows: pa.ChunkedArray | pa.Array) -> list[tuple[str, str]]:
        """The distinct pairs of the rows where `rows` (a boolean mask) is true, in order."""
        ids = self.index[pc.fill_null(rows, False).to_numpy(zero_copy_only=False)]
        first = np.ones(len(ids), dtype=bool)
        first[1:] = ids[1:] != ids[:-1]
        return [self.pairs[i] for i in ids[first]]


def _category(kpi_index: np.ndarray, names: list[str]) -> pd.Categorical:
    """A categorical (categories sorted) of each row's KPI's name, from the row's index into `names`."""
    categories = sorted(set(names))
    position = np.array([categories.index(n) for n in names], dtype="int16")
    return pd.Categorical.from_codes(position[kpi_index], categories=categories)


def collect(parts: list[tuple[pa.Table, KpiColumns]]) -> Computation:
    """The computation of the KPIs' wide tables, in the order given (each table in period, team, employee order).

    `parts` is emptied as it is read, so that each wide table is freed once its KPIs are taken from it."""
    values, no_data, codes, slices, later_slices, skipped, kpis = [], [], [], [], [], [], []
    uses = Counter(id(table) for table, _ in parts)
    pairs: dict[int, _Pairs] = {}
    parts.reverse()
    while parts:
        table, kpi = parts.pop()
        if id(table) not in pairs:
            pairs[id(table)] = _Pairs(table)
        groups = pairs[id(table)]
        uses[id(table)] -= 1
        if not uses[id(table)]:
            del pairs[id(table)]
        index = len(kpis)
        kpis.append(kpi)
        reason, left_out = table[kpi.reason], table[kpi.left_out]
        ok = pc.is_null(reason)
        is_no_data = pc.and_(pc.is_valid(reason), pc.fill_null(table[kpi.team_has], False))
        if kpi.exists is not None:
            ok, is_no_data = pc.and_(ok, table[kpi.exists]), pc.and_(is_no_data, table[kpi.exists])
        is_value = pc.and_(ok, pc.is_null(left_out))
        kept = table.select([*KEYS, kpi.value, kpi.rows]).filter(is_value).rename_columns(
            [*KEYS, "value", "source_rows"])
        missing = table.select([*KEYS, kpi.reason]).filter(is_no_data).rename_columns([*KEYS, "reason"])
        values.append(kept)
        no_data.append(missing.append_column("kpi_id", pa.array([kpi.kpi_id] * missing.num_rows, pa.large_string())))
        codes.append(np.full(kept.num_rows, index, dtype="int16"))
        first = groups.of(is_value)
        seen = set(first)
        slices += [(p, t, kpi.kpi_id) for p, t in first]
        later_slices += [(p, t, kpi.kpi_id) for p, t in groups.of(is_no_data) if (p, t) not in seen]
        counts = pc.value_counts(left_out.filter(pc.and_(ok, pc.is_valid(left_out))))
        found = sorted(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True),
                       key=lambda pair: -pair[1])
        skipped += [{"kpi_id": kpi.kpi_id, "reason": r, "values": int(n)} for r, n in found]
        del table, reason, left_out, ok, is_no_data, is_value
    frame = _values_frame(values, codes, kpis)
    missing_frame = _concat(no_data, NO_DATA_COLUMNS)
    missing_frame["reason"] = missing_frame["reason"].astype(object)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    slices += later_slices  # slices with values first, then those with no data only
    slice_frame = pd.DataFrame(slices, columns=SLICE).astype("str") if slices else pd.DataFrame(columns=SLICE)
    return Computation(frame, missing_frame, slice_frame, pd.DataFrame(skipped, columns=SKIPPED_COLUMNS), now)


def _concat(tables: list[pa.Table], columns: list[str]) -> pd.DataFrame:
    """The tables one after the other as a pandas frame; `tables` is emptied (Arrow buffers freed as converted)."""
    if not tables:
        return pd.DataFrame(columns=columns)
    whole = pa.concat_tables([t.select(columns) for t in tables], promote_options="permissive")
    tables.clear()
    return whole.to_pandas(self_destruct=True, split_blocks=True)


def _values_frame(tables: list[pa.Table], codes: list[np.ndarray], kpis: list[KpiColumns]) -> pd.DataFrame:
    if not tables:
        return pd.DataFrame(columns=[*VALUE_COLUMNS, "definition_hash"])
    frame = _concat(tables, [*KEYS, "value", "source_rows"])
    flat = np.concatenate(codes)
    codes.clear()
    frame.insert(3, "kpi_id", _category(flat, [k.kpi_id for k in kpis]))
    frame.insert(5, "source", _category(flat, [k.source for k in kpis]))
    frame["definition_hash"] = _category(flat, [k.definition_hash for k in kpis])
    return frame
