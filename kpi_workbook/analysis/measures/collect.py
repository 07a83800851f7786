"""Assembling a computation's result from the engine's wide Arrow tables: one long table of values, one of groups
with no data, the slices covered and the counts of values left out, without per-group Python work."""

from __future__ import annotations

__all__ = ["Computation", "KpiColumns", "SCOPE_COLUMNS", "SKIPPED_COLUMNS", "SLICE", "collect"]

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kpi_workbook.analysis.measures.evaluate import KEYS, NO_DATA_COLUMNS, START, VALUE_COLUMNS

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
    """The groups of a wide table in period, team and employee order (the engine returns them in any order).

    Per key, `categories` are the table's distinct values, sorted, and `codes` each group's index into them; `order`
    is the table's row of each group; `pairs` are the distinct (period, team) in order, `bounds` the position of
    each pair's first group (and the number of groups, last); periods go by their first day (START), then name."""

    def __init__(self, table: pa.Table, pool: Executor):
        """The groups of `table`, its keys encoded in `pool`'s threads."""
        encoded = dict(zip(KEYS, pool.map(_encoded, (table[key] for key in KEYS)), strict=True))
        self.categories = {key: categories for key, (categories, _) in encoded.items()}
        codes = {key: values for key, (_, values) in encoded.items()}
        del encoded
        period_rank = _by_first_day(codes["period"], table[START] if START in table.column_names else None)
        teams, people = len(self.categories["team"]), len(self.categories["employee_id"])
        group = (period_rank[codes["period"]].astype("int64") * teams + codes["team"]) * people + codes["employee_id"]
        self.order = np.argsort(group, kind="stable")
        self.codes = {key: values[self.order] for key, values in codes.items()}
        period, team = self.codes["period"], self.codes["team"]
        changed = np.ones(table.num_rows, dtype=bool)
        changed[1:] = (period[1:] != period[:-1]) | (team[1:] != team[:-1])
        first = np.flatnonzero(changed)
        periods, team_names = self.categories["period"], self.categories["team"]
        self.pairs = [(periods[p], team_names[t]) for p, t in zip(period[first].tolist(), team[first].tolist(),
                                                                   strict=True)]
        self.bounds = np.append(first, table.num_rows)
        self.periods = list(dict.fromkeys(p for p, _ in self.pairs))

    def positions(self, mask: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Where a boolean mask of the table is true (NULL is false): the positions in group order (ascending), and
        the table's rows at them."""
        true = pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
        positions = np.flatnonzero(true[self.order])
        return positions, self.order[positions]

    def of(self, rows: np.ndarray) -> list[tuple[str, str]]:
        """The distinct pairs of the rows at the positions `rows` (ascending), in order: those whose span of
        positions holds any of them (a binary search per pair, not a pass over the rows)."""
        return [self.pairs[i] for i in np.flatnonzero(np.diff(np.searchsorted(rows, self.bounds)))]


def _encoded(column: pa.ChunkedArray) -> tuple[pd.Index, np.ndarray]:
    """A text column's distinct values, sorted, and each row's index into them."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    sorter = pc.array_sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(sorter), dtype="int32")
    rank[sorter] = np.arange(len(sorter), dtype="int32")
    return pd.Index(encoded.dictionary.take(sorter).to_pylist(), dtype="str"), rank[encoded.indices.to_numpy()]


def _by_first_day(codes: np.ndarray, starts: pa.ChunkedArray | None) -> np.ndarray:
    """Each period's rank (`codes` index the periods in name order): by its first day, then name; by name only
    without `starts`."""
    count = int(codes.max()) + 1 if len(codes) else 0
    if starts is None:
        return np.arange(count)
    first_row = np.zeros(count, dtype="int64")
    first_row[codes] = np.arange(len(codes))  # a row of each period (every period has one; all have its first day)
    days = pc.take(starts, pa.array(first_row)).cast(pa.int32()).to_numpy(zero_copy_only=False)
    rank = np.empty(count, dtype="int64")
    rank[np.lexsort((np.arange(count), days))] = np.arange(count)
    return rank


def _code_type(categories: int) -> np.dtype:
    """The narrowest signed integer type that holds a code of each of `categories` categories: the type pandas keeps
    a categorical's codes in (given wider codes, it makes a narrower copy)."""
    return next(np.dtype(t) for t in ("int8", "int16", "int32", "int64") if categories < np.iinfo(t).max)


def _keys(parts: list[tuple[_Groups, np.ndarray]]) -> dict[str, pd.Categorical]:
    """Period, team and employee of the groups at the positions of each part, one after the other, as categoricals
    (categories sorted)."""
    keys, tables = {}, {id(groups): groups for groups, _ in parts}
    ends = np.cumsum([len(rows) for _, rows in parts])
    for key in KEYS:
        found = [groups.categories[key] for groups in tables.values()]
        categories = functools.reduce(pd.Index.union, found)  # sorted
        code_type = _code_type(len(categories))
        recoded = {i: (groups.codes[key] if len(found) == 1  # each group's code among all the tables' values
                       else categories.get_indexer(groups.categories[key])[groups.codes[key]]).astype(code_type)
                   for i, groups in tables.items()}
        codes = np.empty(ends[-1], dtype=code_type)
        for (groups, rows), end in zip(parts, ends, strict=True):
            np.take(recoded[id(groups)], rows, out=codes[end - len(rows):end], mode="clip")
        keys[key] = pd.Categorical.from_codes(codes, categories=categories)
    return keys


def _category(kpi_index: np.ndarray, names: list[str]) -> pd.Categorical:
    """A categorical (categories sorted) of each row's KPI's name, from the row's index into `names`."""
    categories = sorted(set(names))
    position = np.array([categories.index(n) for n in names], dtype=_code_type(len(categories)))
    return pd.Categorical.from_codes(position[kpi_index], categories=categories)


@dataclass(frozen=True)
class _KpiRows:
    """One KPI's part of a wide table: the positions (in group order) of its groups with a value and the table's
    rows at them, the positions of those with no data, their no-data reasons and the counts of values left out by
    reason."""

    kept: np.ndarray
    kept_rows: np.ndarray
    lacking: np.ndarray
    reasons: tuple[list[str], np.ndarray]
    skipped: list[tuple[str, int]]


def _kpi_rows(table: pa.Table, groups: _Groups, kpi: KpiColumns) -> _KpiRows:
    """The KPI's groups with a value, with no data (a reason, on a team where a role has the KPI) and left out."""
    reason, left_out = table[kpi.reason], table[kpi.left_out]
    ok = pc.is_null(reason)
    is_no_data = pc.and_(pc.is_valid(reason), pc.fill_null(table[kpi.team_has], False))
    if kpi.exists is not None:
        ok, is_no_data = pc.and_(ok, table[kpi.exists]), pc.and_(is_no_data, table[kpi.exists])
    kept, kept_rows = groups.positions(pc.and_(ok, pc.is_null(left_out)))
    lacking, lacking_rows = groups.positions(is_no_data)
    from_rows = pc.greater(table[kpi.rows], 0)  # zeros of groups without rows are not values left out
    counts = pc.value_counts(left_out.filter(pc.and_(pc.and_(ok, pc.is_valid(left_out)), from_rows)))
    found = sorted(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True),
                   key=lambda pair: -pair[1])
    return _KpiRows(kept, kept_rows, lacking, _reasons(reason, lacking_rows), found)


def _tables(parts: list[tuple[pa.Table, KpiColumns]]) -> Iterator[tuple[pa.Table, list[KpiColumns]]]:
    """Each wide table with its KPIs, in the order of their first KPI; `parts` is emptied as it is read."""
    tables: dict[int, tuple[pa.Table, list[KpiColumns]]] = {}
    for table, kpi in parts:
        tables.setdefault(id(table), (table, []))[1].append(kpi)
    parts.clear()
    while tables:
        yield tables.pop(next(iter(tables)))


def collect(parts: list[tuple[pa.Table, KpiColumns]]) -> Computation:
    """The computation of the KPIs' wide tables, in the order given (each table's rows in any order).

    `parts` is emptied as it is read, so that each wide table is freed once its KPIs are taken from it. A table's
    KPIs are read, and their values copied, two at a time (Arrow and numpy work outside the interpreter's lock)."""
    values, no_data, missing_codes, reasons = [], [], [], []
    slices, later_slices, skipped = [], [], []
    numbers = _Numbers(sum(table.num_rows for table, _ in parts), [kpi for _, kpi in parts])
    kpis: list[KpiColumns] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for table, on_table in _tables(parts):
            groups = _Groups(table, pool)
            read = list(pool.map(functools.partial(_kpi_rows, table, groups), on_table))
            taken = [numbers.take(table, kpi, found.kept_rows) for kpi, found in zip(on_table, read, strict=True)]
            for kpi, found in zip(on_table, read, strict=True):
                index = len(kpis)
                kpis.append(kpi)
                values.append((groups, found.kept))
                no_data.append((groups, found.lacking))
                reasons.append(found.reasons)
                missing_codes.append(np.full(len(found.lacking), index, dtype="int16"))
                first = groups.of(found.kept)
                seen = set(first)
                slices += [(p, t, kpi.kpi_id) for p, t in first]
                later = [(p, t) for p, t in groups.of(found.lacking) if (p, t) not in seen]
                seen.update(later)
                # a team of the KPI without rows in a period the records cover: its slice is emptied (a corrected
                # export that moved rows to another team leaves nothing behind)
                later += [(p, t) for p in groups.periods for t in kpi.teams if (p, t) not in seen]
                later_slices += [(p, t, kpi.kpi_id) for p, t in later]
                skipped += [{"kpi_id": kpi.kpi_id, "reason": r, "values": int(n)} for r, n in found.skipped]
            list(pool.map(lambda copy: copy(), taken))
            del table, groups, taken
    frame = _values_frame(values, numbers)
    missing_frame = _no_data_frame(no_data, reasons, missing_codes, kpis)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    slices += later_slices  # slices with values first, then those with no data only
    slice_frame = pd.DataFrame(slices, columns=SLICE).astype("str") if slices else pd.DataFrame(columns=SLICE)
    return Computation(frame, missing_frame, slice_frame, pd.DataFrame(skipped, columns=SKIPPED_COLUMNS), now)


#: The columns of the values naming each value's KPI: its id, source text and definition hash.
_LABELS = ("kpi_id", "source", "definition_hash")


class _Numbers:
    """The values, source rows and KPI labels (_LABELS, as categorical codes) of the KPIs' groups with a value, one
    KPI after the other, taken from the wide tables straight into arrays with room for every group of every KPI
    (pages never written take no memory), so that no array per KPI is made and joined."""

    def __init__(self, size: int, kpis: list[KpiColumns]):
        self.value, self.rows, self.size = np.empty(size, dtype="float64"), np.empty(size, dtype="int64"), 0
        self.categories = {label: sorted({getattr(k, label) for k in kpis}) for label in _LABELS}
        self.codes = {label: np.empty(size, dtype=_code_type(len(found))) for label, found in self.categories.items()}

    def take(self, table: pa.Table, kpi: KpiColumns, rows: np.ndarray) -> Callable[[], None]:
        """Make room for the KPI's values, source rows and labels at the table's `rows`, next after those before;
        the copy to run (in any thread, in any order: each KPI has its own room)."""
        start, self.size = self.size, self.size + len(rows)
        room = slice(start, self.size)

        def copy() -> None:
            for column, target in ((kpi.value, self.value), (kpi.rows, self.rows)):
                np.take(table[column].to_numpy().astype(target.dtype, copy=False), rows, mode="clip", out=target[room])
            for label, codes in self.codes.items():
                codes[room] = self.categories[label].index(getattr(kpi, label))
        return copy

    def columns(self) -> dict[str, pd.Categorical | np.ndarray]:
        """The KPI labels (categoricals, categories sorted), values and source rows taken."""
        labels = {label: pd.Categorical.from_codes(codes[:self.size], categories=self.categories[label])
                  for label, codes in self.codes.items()}
        return {**labels, "value": self.value[:self.size], "source_rows": self.rows[:self.size]}


def _reasons(reason: pa.ChunkedArray, rows: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The reasons of the table's rows `rows` (none of them NULL): their distinct texts and each row's index into
    them (only these rows' texts are read; a dictionary column is read by its indices)."""
    if not len(rows):
        return [], np.empty(0, dtype="int64")
    taken = reason.take(pa.array(rows))
    if pa.types.is_dictionary(taken.type):
        taken = taken.unify_dictionaries()
    encoded = taken.combine_chunks()
    if not pa.types.is_dictionary(encoded.type):
        encoded = pc.dictionary_encode(encoded)
    texts, indices = encoded.dictionary.to_pylist(), encoded.indices.to_numpy(zero_copy_only=False)
    used = np.flatnonzero(np.bincount(indices, minlength=len(texts)))  # only the texts these rows have
    local = np.zeros(len(texts), dtype="int64")
    local[used] = np.arange(len(used))
    return [texts[i] for i in used], local[indices]


def _no_data_frame(parts: list[tuple[_Groups, np.ndarray]], reasons: list[tuple[list[str], np.ndarray]],
                   codes: list[np.ndarray], kpis: list[KpiColumns]) -> pd.DataFrame:
    """The groups with no data: each part's groups at its positions with their reasons, every column a categorical
    (categories sorted); the lists are emptied as they are read."""
    if not any(len(rows) for _, rows in parts):
        return pd.DataFrame({c: pd.Categorical([]) for c in NO_DATA_COLUMNS})
    keys = _keys(parts)
    parts.clear()
    texts = sorted({text for found, _ in reasons for text in found})
    reason = np.concatenate([np.searchsorted(texts, found).astype("int32")[local] if found else local
                             for found, local in reasons])
    reasons.clear()
    frame = pd.DataFrame({**keys, "kpi_id": _category(np.concatenate(codes), [k.kpi_id for k in kpis]),
                          "reason": pd.Categorical.from_codes(reason, categories=pd.Index(texts, dtype="str"))},
                         copy=False)
    codes.clear()
    return frame[NO_DATA_COLUMNS]


def _values_frame(parts: list[tuple[_Groups, np.ndarray]], numbers: _Numbers) -> pd.DataFrame:
    """The long table of values: each part's groups and positions of its rows with a value, with the values, source
    rows and KPI labels taken one part after the other."""
    columns = [*VALUE_COLUMNS, "definition_hash"]
    if not parts:
        return pd.DataFrame(columns=columns)
    keys = _keys(parts)
    parts.clear()
    return pd.DataFrame({**keys, **numbers.columns()}, copy=False)[columns]
