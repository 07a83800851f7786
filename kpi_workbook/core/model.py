"""The KPI framework model: objectives, teams, roles, KPI definitions and role KPI assignments."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from kpi_workbook.core.measures import Measure
from kpi_workbook.core.strict import Strict

Identifier = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"),
]
Text = Annotated[str, Field(min_length=1)]


# Strict: a quoted number ('30') or a boolean (true) in a file is an error, not silently a number.
FiniteNumber = Annotated[float, Field(allow_inf_nan=False, strict=True)]
Count = Annotated[int, Field(strict=True)]


def _number_as_text(value: object) -> object:
    """Let `version: 2` in YAML mean the text "2"."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


VersionText = Annotated[str, BeforeValidator(_number_as_text)]


class Perspective(StrEnum):
    """Balanced-scorecard perspective of a strategic objective."""

    FINANCIAL = "financial"
    CUSTOMER = "customer"
    INTERNAL_PROCESS = "internal_process"
    LEARNING_GROWTH = "learning_growth"


class Polarity(StrEnum):
    """Which direction of a KPI's value is good."""

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"
    WITHIN_RANGE = "within_range"


class Category(StrEnum):
    """What kind of contribution a KPI measures (see data/categories.yaml)."""

    OUTPUT = "output"
    QUALITY = "quality"
    EFFICIENCY = "efficiency"
    BEHAVIOUR = "behaviour"
    DEVELOPMENT = "development"


class Indicator(StrEnum):
    """Whether a KPI predicts an outcome (leading) or records it (lagging)."""

    LEADING = "leading"
    LAGGING = "lagging"


class MeasureType(StrEnum):
    """Whether a KPI is counted (quantitative) or rated (qualitative)."""

    QUANTITATIVE = "quantitative"
    QUALITATIVE = "qualitative"


class Frequency(StrEnum):
    """How often a KPI is measured."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


class Objective(Strict):
    """A strategic objective of the organization; every KPI must serve at least one."""

    id: Identifier
    title: Text
    description: str = ""
    perspective: Perspective
    owner: str = ""
    horizon: str = ""
    parent: Identifier | None = None


class Team(Strict):
    """A team: the unit a report is made for (a department can be a team)."""

    id: Identifier
    name: Text
    department: str = ""


class Responsibility(Strict):
    """A key responsibility in a job description and the outcome expected from it."""

    id: Identifier
    description: Text
    expected_outcome: str = ""


class KpiDefinition(Strict):
    """A KPI: what is measured, how, from where, and which direction is good."""

    id: Identifier
    name: Text
    description: str = ""
    formula: str = ""
    unit: str = ""
    polarity: Polarity
    category: Category
    indicator: Indicator
    measure_type: MeasureType = MeasureType.QUANTITATIVE
    frequency: Frequency | None = None
    data_source: str = ""
    owner: str = ""
    family: str = ""
    measure: Measure | None = None  # how the value is computed from source records (see core/measures.py)


class RoleKpi(Strict):
    """A KPI assigned to a role: its weight, performance bands and what it serves.

    For ``higher_is_better`` and ``lower_is_better`` KPIs the bands are ``threshold``, ``target`` and
    ``stretch``. For ``within_range`` KPIs they are ``target_range`` (full score inside) and
    ``threshold_range`` (the outer edges where the score reaches the threshold level).
    """

    kpi: Identifier
    weight: FiniteNumber = Field(ge=0, le=100)
    threshold: FiniteNumber | None = None
    target: FiniteNumber | None = None
    stretch: FiniteNumber | None = None
    target_range: tuple[FiniteNumber, FiniteNumber] | None = None
    threshold_range: tuple[FiniteNumber, FiniteNumber] | None = None
    objectives: list[Identifier] = Field(default_factory=list)
    responsibility: Identifier | None = None
    review_period: str = ""


class Role(Strict):
    """A role's job description (purpose, responsibilities) and its KPI set."""

    id: Identifier
    title: Text
    teams: list[Identifier] = Field(default_factory=list)
    purpose: str = ""
    responsibilities: list[Responsibility] = Field(default_factory=list)
    kpis: list[RoleKpi] = Field(default_factory=list)


class Settings(Strict):
    """Rules the framework checks use; each organization may tune them."""

    min_kpis_per_role: Count = Field(default=3, ge=0)
    max_kpis_per_role: Count = Field(default=8, ge=1)
    weight_total: FiniteNumber = Field(default=100.0, gt=0)
    achievable_low: FiniteNumber = Field(default=0.5, ge=0, le=1)
    achievable_high: FiniteNumber = Field(default=0.8, ge=0, le=1)

    @model_validator(mode="after")
    def _lower_bounds_not_above_upper(self) -> Settings:
        """min_kpis_per_role <= max_kpis_per_role and achievable_low <= achievable_high, named by field."""
        for low, high in (("min_kpis_per_role", "max_kpis_per_role"), ("achievable_low", "achievable_high")):
            if getattr(self, low) > getattr(self, high):
                error = PydanticCustomError("bound_order", "{low} ({value}) is above {high} ({limit})",
                                            {"low": low, "high": high, "value": getattr(self, low),
                                             "limit": getattr(self, high)})
                raise ValidationError.from_exception_data(
                    type(self).__name__, [InitErrorDetails(type=error, loc=(low,), input=getattr(self, low))])
        return self


class Metadata(Strict):
    """Who the framework belongs to and which review cycle it is."""

    organization: Text
    version: VersionText = "1"
    review_cycle: Frequency = Frequency.QUARTERLY
    date: dt.date | None = None
    description: str = ""
    settings: Settings = Field(default_factory=Settings)


class Assignment(BaseModel):
    """A flattened role KPI assignment: the role it belongs to plus the assignment itself."""

    model_config = ConfigDict(frozen=True)

    role: str
    index: int
    kpi: RoleKpi


class Framework(BaseModel):
    """A whole KPI framework: metadata, objectives, teams, KPI definitions and roles."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    metadata: Metadata
    objectives: list[Objective] = Field(default_factory=list)
    teams: list[Team] = Field(default_factory=list)
    kpis: list[KpiDefinition] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list)

    @property
    def assignments(self) -> list[Assignment]:
        """Every role KPI assignment, in file order."""
        return [
            Assignment(role=role.id, index=i, kpi=kpi)
            for role in self.roles
            for i, kpi in enumerate(role.kpis)
        ]

    def objective(self, objective_id: str) -> Objective | None:
        return next((o for o in self.objectives if o.id == objective_id), None)

    def team(self, team_id: str) -> Team | None:
        return next((t for t in self.teams if t.id == team_id), None)

    def kpi(self, kpi_id: str) -> KpiDefinition | None:
        return next((k for k in self.kpis if k.id == kpi_id), None)

    def frequency_of(self, kpi: KpiDefinition) -> Frequency:
        """How often a KPI is measured (and computed): its own frequency, else the review cycle."""
        return kpi.frequency or self.metadata.review_cycle

    def role(self, role_id: str) -> Role | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def roles_of_team(self, team_id: str) -> list[Role]:
        return [r for r in self.roles if team_id in r.teams]
