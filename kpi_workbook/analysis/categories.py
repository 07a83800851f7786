"""The KPI taxonomy: categories, leading/lagging, measure types, polarities, perspectives and frequencies."""

from __future__ import annotations

__all__ = ["SECTIONS", "Taxonomy", "Term", "load_categories"]

from enum import StrEnum
from functools import cache
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from kpi_workbook.core.errors import InputError
from kpi_workbook.core.model import Category, Frequency, Indicator, MeasureType, Perspective, Polarity
from kpi_workbook.core.paths import CATEGORIES_FILE
from kpi_workbook.workspace.files import validation_problems
from kpi_workbook.workspace.yaml_io import read_yaml

SECTIONS: dict[str, type[StrEnum]] = {
    "categories": Category,
    "indicators": Indicator,
    "measure_types": MeasureType,
    "polarities": Polarity,
    "perspectives": Perspective,
    "frequencies": Frequency,
}


class Term(BaseModel):
    """One value of the taxonomy: how to call it, what it means, examples and how to use it."""

    model_config = ConfigDict(extra="forbid")

    label: str
    """How the value is called in reports."""
    description: str
    """What it means."""
    examples: list[str]
    """Example KPIs or uses."""
    guidance: str
    """How to use it when designing KPIs."""


class Taxonomy(BaseModel):
    """Every documented value of every classification a KPI or objective uses, keyed by its model value."""

    model_config = ConfigDict(extra="forbid")

    categories: dict[Category, Term]
    """The five KPI categories."""
    indicators: dict[Indicator, Term]
    """Leading and lagging indicators."""
    measure_types: dict[MeasureType, Term]
    """Quantitative and qualitative measures."""
    polarities: dict[Polarity, Term]
    """The three polarities."""
    perspectives: dict[Perspective, Term]
    """The four balanced-scorecard perspectives."""
    frequencies: dict[Frequency, Term]
    """The measurement frequencies."""

    @model_validator(mode="after")
    def _complete(self) -> Taxonomy:
        for section, enum in SECTIONS.items():
            missing = [member.value for member in enum if member not in getattr(self, section)]
            if missing:
                raise ValueError(f"section '{section}' does not document: {', '.join(missing)}")
        return self

    def frame(self, section: str = "categories") -> pd.DataFrame:
        """One section as a table: value, label, description, examples (comma-separated) and guidance."""
        if section not in SECTIONS:
            raise InputError(f"unknown taxonomy section '{section}'. Valid sections: {', '.join(SECTIONS)}")
        rows = [
            {"value": value.value, **term.model_dump(), "examples": ", ".join(term.examples)}
            for value, term in getattr(self, section).items()
        ]
        return pd.DataFrame(rows, columns=["value", "label", "description", "examples", "guidance"])


def _read(path: Path) -> Taxonomy:
    data = read_yaml(path, str(path))
    try:
        return Taxonomy.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise InputError(validation_problems(exc, str(path), data, "taxonomy")) from None


@cache
def _default() -> Taxonomy:
    return _read(CATEGORIES_FILE)


def load_categories(path: str | Path | None = None) -> Taxonomy:
    """Load the taxonomy (data/categories.yaml by default, cached); problems raise InputError naming the field."""
    return _default() if path is None else _read(Path(path))
