"""Every kind of measure is one registered module that lists its parts, finds its misfits, values and describes it."""

from __future__ import annotations

import inspect

import pytest

from kpi_workbook.analysis.measures.kinds import KINDS, describe_measure, kind_of
from kpi_workbook.analysis.measures.kinds.base import MeasureKind
from kpi_workbook.core.measures import MEASURE_KINDS, Measure
from kpi_workbook.workspace.sources import Source

EXAMPLES = {
    "aggregate": {"aggregate": {"source": "crm", "function": "sum", "column": "amount", "where": 'stage == "won"'}},
    "ratio": {"ratio": {"numerator": {"source": "crm", "function": "count", "where": 'stage == "won"'},
                        "denominator": {"source": "crm", "function": "count"}}, "scale": 100},
    "duration": {"duration": {"source": "crm", "start": "created_on", "end": "closed_on", "function": "median"}},
    "derived": {"derived": "won_revenue / headcount", "per": "team"},
}
CRM = Source.model_validate({"name": "crm", "file": "crm.csv", "when": "closed_on", "employee": "owner",
                             "columns": {"amount": "number", "stage": "text", "created_on": "date"}})


def test_every_kind_of_the_model_is_registered_once_with_all_it_must_provide():
    assert list(KINDS) == list(MEASURE_KINDS) == list(EXAMPLES)
    wanted = {name for name, _ in inspect.getmembers(MeasureKind, inspect.isfunction) if not name.startswith("_")}
    assert wanted == {"parts", "misfits", "value", "describe"}
    for name, kind in KINDS.items():
        assert kind.name == name
        for method in wanted:
            assert callable(getattr(type(kind), method)) and getattr(type(kind), method) is not getattr(
                MeasureKind, method), (name, method)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_each_kind_lists_its_parts_fits_its_source_and_says_itself_in_words(name):
    measure = Measure.model_validate(EXAMPLES[name])
    kind = kind_of(measure)
    assert kind.name == name
    parts = kind.parts(measure)
    assert all(field.split(".")[0] == name for field, _ in parts) and (name == "derived") == (not parts)
    assert kind.misfits(measure, {"crm": CRM}) == []
    words = describe_measure(measure)
    assert words.startswith(kind.describe(measure)) and words.endswith(f"per {measure.per.value}")
    if parts:
        [unknown, *_] = kind.misfits(measure, {})
        assert unknown.message == "unknown source 'crm'"
