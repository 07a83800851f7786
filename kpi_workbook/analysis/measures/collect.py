"""Assembling a computation's result from the engine's wide Arrow tables: one long table of values, one of groups
with no data, the slices covered and the counts of values left out, without per-group Python work."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kpi_workbook.analysis.measures.evaluate import KEYS, NO_DATA_COLUMNS, VALUE_COLUMNS

SLICE = ["period", "team", "kpi_id"]
SKIPPED_COLUMNS = ["kpi_id", "reason", "values"]
#: Values of departments and of the organization: level, scope id, period, KPI, value and source rows.
SCOPE_COLUMNS = ["level", "scope", "period", "kpi_id", "value", "source_rows"]


def _no_scopes() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64" if c == "value" else "int64" if c == "source_rows" else "str")
                         for c in SCOPE_COLUMNS})


@dataclass(frozen=True)
class Computation:
    """What compute found: values (with lineage), no-data groups with reasons, the slices it covers, and values
    left out because the framework does not assign the KPI there (kpi_id, reason, values).

    In `values`, period, team, employee_id, kpi_id, source and definition_hash are categoricals (categories
    sorted)."""

    values: pd.DataFrame
    no_data: pd.DataFrame
    slices: pd.DataFrame
    skipped: pd.DataFrame
    computed_at: dt.datetime
    scopes: pd.DataFrame = field(default_factory=_no_scopes)


@dataclass(frozen=True)
class KpiColumns:
    """Where one KPI's results are in a wide table: its value, source rows, reason, left-out reason and whether a
    role of the row's team has it; with the KPI's id, source text and definition hash. A derived KPI computed on its
    operands' table also has `exists`: whether the row has a value of any operand (other rows are not its groups).
    `teams`: the teams where a role has the KPI."""

    kpi_id: str
    source: str
    definition_hash: str
    value: str
    rows: str
    reason: str
    left_out: str
    team_has: str
    exists: str | None = None
    teams: tuple[str, ...] = ()


class _Groups:
    """The groups of a wide table: each row's period, team and employee as codes into the table's distinct values of
    each, and the distinct (period, team) in order with each row's index into them (the rows come sorted so that
    equal pairs are adjacent)."""

    def __init__(self, table: pa.Table):
        self.keys = table.select(KEYS).combine_chunks()  # one chunk each: a take from many is slow
        encoded = {k: pc.dictionary_encode(self.keys[k].chunk(0)) for k in KEYS}
        self.codes = {k: e.indices.to_numpy() for k, e in encoded.items()}
        self.names = {k: e.dictionary.to_pylist() for k, e in encoded.items()}
        period, team = self.codes["period"], self.codes["team"]
        changed = np.ones(table.num_rows, dtype=bool)
        changed[1:] = (period[1:] != period[:-1]) | (team[1:] != team[:-1])
        starts = np.flatnonzero(changed)
        self.pairs = [(self.names["period"][p], self.names["team"][t])
                      for p, t in zip(period[starts].tolist(), team[starts].tolist(), strict=True)]
        self.index = np.cumsum(changed) - 1
        self.periods = list(dict.fromkeys(p for p, _ in self.pairs))

    def of(self, rows: np.ndarray) -> list[tuple[str, str]]:
        """The distinct pairs of the rows at the positions `rows` (ascending), in order."""
        ids = self.index[rows]
        first = np.ones(len(ids), dtype=bool)
        first[1:] = ids[1:] != ids[:-1]
        return [self.pairs[i] for i in ids[first]]


def _positions(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """The positions where a boolean mask is true (NULL is false)."""
    return np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))


def _keys(parts: list[tuple[_Groups, np.ndarray]]) -> dict[str, pd.Categorical]:
    """Period, team and employee of the rows at the positions of each part's groups, one after the other, as
    categoricals (categories sorted)."""
    keys, tables = {}, {id(groups): groups for groups, _ in parts}
    ends = np.cumsum([len(rows) for _, rows in parts])
    for key in KEYS:
        categories = pd.Index(sorted({name for groups in tables.values() for name in groups.names[key]}))
        recoded = {i: categories.get_indexer(groups.names[key]).astype("int32")[groups.codes[key]]
                   for i, groups in tables.items()}  # each wide row's code among all the tables' names
        codes = np.empty(ends[-1], dtype="int32")
        for (groups, rows), end in zip(parts, ends, strict=True):
            np.take(recoded[id(groups)], rows, out=codes[end - len(rows):end], mode="clip")
        keys[key] = pd.Categorical.from_codes(codes, categories=categories.astype("str"))
    return keys


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
    capacity = sum(table.num_rows for table, _ in parts)  # pages never written are never allocated
    value, rows, filled = np.empty(capacity, "float64"), np.empty(capacity, "int64"), 0
    groups_of: dict[int, _Groups] = {}
    parts.reverse()
    while parts:
        table, kpi = parts.pop()
        if id(table) not in groups_of:
            groups_of[id(table)] = _Groups(table)
        groups = groups_of[id(table)]
        uses[id(table)] -= 1
        if not uses[id(table)]:
            del groups_of[id(table)]
        index = len(kpis)
        kpis.append(kpi)
        reason, left_out = table[kpi.reason], table[kpi.left_out]
        ok = pc.is_null(reason)
        is_no_data = pc.and_(pc.is_valid(reason), pc.fill_null(table[kpi.team_has], False))
        if kpi.exists is not None:
            ok, is_no_data = pc.and_(ok, table[kpi.exists]), pc.and_(is_no_data, table[kpi.exists])
        kept, lacking = _positions(pc.and_(ok, pc.is_null(left_out))), _positions(is_no_data)
        values.append((groups, kept))
        for column, out in ((kpi.value, value), (kpi.rows, rows)):
            out[filled:filled + len(kept)] = table[column].to_numpy()[kept]
        filled += len(kept)
        missing = groups.keys.take(lacking).append_column("reason", reason.combine_chunks().take(lacking))
        no_data.append(missing.append_column("kpi_id", pa.array([kpi.kpi_id] * missing.num_rows, pa.large_string())))
        codes.append(np.full(len(kept), index, dtype="int16"))
        first = groups.of(kept)
        seen = set(first)
        slices += [(p, t, kpi.kpi_id) for p, t in first]
        later = [(p, t) for p, t in groups.of(lacking) if (p, t) not in seen]
        seen.update(later)
        # a team of the KPI without rows in a period the records cover: its slice is emptied (a corrected export
        # that moved rows to another team leaves nothing behind)
        later += [(p, t) for p in groups.periods for t in kpi.teams if (p, t) not in seen]
        later_slices += [(p, t, kpi.kpi_id) for p, t in later]
        from_rows = pc.greater(table[kpi.rows], 0)  # zeros of groups without rows are not values left out
        counts = pc.value_counts(left_out.filter(pc.and_(pc.and_(ok, pc.is_valid(left_out)), from_rows)))
        found = sorted(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True),
                       key=lambda pair: -pair[1])
        skipped += [{"kpi_id": kpi.kpi_id, "reason": r, "values": int(n)} for r, n in found]
        del table, reason, left_out, ok, is_no_data
    frame = _values_frame(values, value[:filled], rows[:filled], codes, kpis)
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


def _values_frame(parts: list[tuple[_Groups, np.ndarray]], value: np.ndarray, rows: np.ndarray,
                  codes: list[np.ndarray], kpis: list[KpiColumns]) -> pd.DataFrame:
    """The long table of values: each part's groups and positions of its rows with a value, then all the parts'
    values and source rows one after the other."""
    if not parts:
        return pd.DataFrame(columns=[*VALUE_COLUMNS, "definition_hash"])
    keys = _keys(parts)
    parts.clear()
    flat = np.concatenate(codes)
    codes.clear()
    return pd.DataFrame({**keys, "kpi_id": _category(flat, [k.kpi_id for k in kpis]),
                         "value": value,
                         "source": _category(flat, [k.source for k in kpis]),
                         "source_rows": rows,
                         "definition_hash": _category(flat, [k.definition_hash for k in kpis])}, copy=False)
