"""The KPI framework model: objectives, teams, roles, KPI definitions and role KPI assignments."""

from __future__ import annotations

__all__ = [
    "Assignment", "CURRENCY_CODE", "CURRENCY_UNIT", "Category", "Count", "FiniteNumber", "Framework", "Frequency",
    "Identifier", "Indicator", "KpiDefinition", "MeasureType", "Metadata", "Objective", "Perspective", "Polarity",
    "Responsibility", "Role", "RoleKpi", "Settings", "Team", "Text", "VersionText",
]

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.measures import Measure
from kpi_workbook.core.strict import Strict

Identifier = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"),
]
Text = Annotated[str, Field(min_length=1)]
CURRENCY_UNIT = "currency"  # a KPI unit for money in the framework's currency (metadata.currency)
CURRENCY_CODE = re.compile(r"[A-Z]{3}")


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
    """Unique id (letters, digits, `_`, `.`, `-`; at most 64 characters), named by role KPIs' `objectives`."""
    title: Text
    """Short title, e.g. 'Grow recurring revenue'."""
    description: str = ""
    """What the objective means and how success looks."""
    perspective: Perspective
    """Balanced-scorecard perspective: `financial`, `customer`, `internal_process` or `learning_growth`."""
    owner: str = ""
    """Who is accountable for the objective."""
    horizon: str = ""
    """When it should be reached, e.g. '2026' or '3 years'."""
    parent: Identifier | None = None
    """Id of the objective it cascades from (its parent in the strategy map), if any."""


class Team(Strict):
    """A team: the unit a report is made for (a department can be a team)."""

    id: Identifier
    """Unique id of the team, used by roles, employees.csv and actuals."""
    name: Text
    """The team's name as people say it; imports and sources may match teams by it."""
    department: str = ""
    """The department the team belongs to; teams naming the same department form a department scope."""


class Responsibility(Strict):
    """A key responsibility in a job description and the outcome expected from it."""

    id: Identifier
    """Id of the responsibility, unique within its role; role KPIs name it in `responsibility`."""
    description: Text
    """The key responsibility, as written in the job description."""
    expected_outcome: str = ""
    """The outcome expected from it; KPIs are suggested from this text and the description."""


class KpiDefinition(Strict):
    """A KPI: what is measured, how, from where, and which direction is good."""

    id: Identifier
    """Unique id of the KPI, used by roles, actuals and derived measures."""
    name: Text
    """The KPI's name, e.g. 'Win rate'."""
    description: str = ""
    """What the KPI measures and why it matters (checked by `smart.specific`)."""
    formula: str = ""
    """How the value is calculated, in words (checked by `smart.measurable`)."""
    unit: str = ""
    """The unit of its values, e.g. `%`, `days`, `EUR` or `rating (1-5)`."""
    polarity: Polarity
    """Which direction is good: `higher_is_better`, `lower_is_better` or `within_range`."""
    category: Category
    """`output`, `quality`, `efficiency`, `behaviour` or `development` (see data/categories.yaml)."""
    indicator: Indicator
    """`leading` (predicts an outcome) or `lagging` (records it)."""
    measure_type: MeasureType = MeasureType.QUANTITATIVE
    """`quantitative` (counted) or `qualitative` (rated, e.g. on a 1-5 scale)."""
    frequency: Frequency | None = None
    """How often it is measured: `weekly` ... `yearly` (default: the framework's review cycle)."""
    data_source: str = ""
    """The system or report the values come from."""
    owner: str = ""
    """Who owns the KPI's definition and data."""
    family: str = ""
    """The role family it belongs to in the KPI library, e.g. `sales` or `general`."""
    measure: Measure | None = None  # how the value is computed from source records (see core/measures.py)
    """How `kpi-workbook compute` computes it from the raw exports in sources.yaml (optional)."""
    leads: list[Identifier] = Field(default_factory=list, exclude_if=lambda ids: not ids)  # unwritten when empty
    """Ids of the lagging KPIs this leading KPI is meant to drive; `kpi-workbook evidence` tests whether it does."""
    guardrail: Identifier | None = None
    """Id of a KPI that must not get worse while this one improves; `kpi-workbook evidence` watches the pair."""


class RoleKpi(Strict):
    """A KPI assigned to a role: its weight, performance bands and what it serves.

    For ``higher_is_better`` and ``lower_is_better`` KPIs the bands are ``threshold``, ``target`` and
    ``stretch``. For ``within_range`` KPIs they are ``target_range`` (full score inside) and
    ``threshold_range`` (the outer edges where the score reaches the threshold level).
    """

    kpi: Identifier
    """Id of the KPI definition in kpis.yaml."""
    weight: FiniteNumber = Field(ge=0, le=100)
    """Its weight in the role's score, 0-100; a role's weights sum to `settings.weight_total`."""
    threshold: FiniteNumber | None = None
    """The minimum acceptable value (score 50); `higher_is_better` and `lower_is_better` KPIs."""
    target: FiniteNumber | None = None
    """The expected value (score 100)."""
    stretch: FiniteNumber | None = None
    """The outstanding value (score 150, the cap)."""
    target_range: tuple[FiniteNumber, FiniteNumber] | None = None
    """`[low, high]`: the range that scores 100; `within_range` KPIs."""
    threshold_range: tuple[FiniteNumber, FiniteNumber] | None = None
    """`[low, high]` enclosing `target_range`: its edges score 50; `within_range` KPIs."""
    objectives: list[Identifier] = Field(default_factory=list)
    """Ids of the objectives this KPI serves for the role."""
    responsibility: Identifier | None = None
    """Id of the role's responsibility this KPI measures."""
    review_period: str = ""
    """How often the assignment is reviewed (a frequency); empty means the framework's `review_cycle`."""


class Role(Strict):
    """A role's job description (purpose, responsibilities) and its KPI set."""

    id: Identifier
    """Unique id of the role; also the name of its file, `roles/<id>.yaml`."""
    title: Text
    """The role's title, e.g. 'Account Executive'."""
    teams: list[Identifier] = Field(default_factory=list)
    """Ids of the teams the role works in."""
    purpose: str = ""
    """Why the role exists, in one or two sentences."""
    responsibilities: list[Responsibility] = Field(default_factory=list)
    """The job description's key responsibilities, each with its expected outcome."""
    kpis: list[RoleKpi] = Field(default_factory=list)
    """The role's KPI assignments: weight, bands, objectives and responsibility of each."""


class Settings(Strict):
    """Rules the framework checks use; each organization may tune them."""

    min_kpis_per_role: Count = Field(default=3, ge=0)
    """Fewest KPIs a role should have (`balance.kpi_count`)."""
    max_kpis_per_role: Count = Field(default=8, ge=1)
    """Most KPIs a role should have (`balance.kpi_count`)."""
    weight_total: FiniteNumber = Field(default=100.0, gt=0)
    """What a role's weights must sum to (`balance.weights`, tolerance 0.01)."""
    achievable_low: FiniteNumber = Field(default=0.5, ge=0, le=1)
    """Below this probability of attainment a target is judged unrealistic (step 4)."""
    achievable_high: FiniteNumber = Field(default=0.8, ge=0, le=1)
    """Above this probability of attainment a target is judged too easy (step 4)."""

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
    """The organization's name."""
    version: VersionText = "1"
    """The framework's version; each save that changes the framework moves its last number on by one."""
    review_cycle: Frequency = Frequency.QUARTERLY
    """How often the framework is reviewed: a frequency such as `quarterly`."""
    date: dt.date | None = None
    """The date of this version (YYYY-MM-DD)."""
    currency: str | None = None
    """The ISO 4217 code (e.g. EUR) that KPIs with `unit: currency` are shown in; without it they show a bare
    amount."""
    description: str = ""
    """A note on the framework."""
    settings: Settings = Field(default_factory=Settings)
    """Numbers the checks and target verdicts use (below)."""

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str | None) -> str | None:
        """A three-letter code in capitals, as ISO 4217 writes it."""
        if value is not None and not CURRENCY_CODE.fullmatch(value):
            raise PydanticCustomError("currency_code", "a three-letter ISO 4217 code in capitals, such as EUR or USD")
        return value


class Assignment(BaseModel):
    """A flattened role KPI assignment: the role it belongs to plus the assignment itself."""

    model_config = ConfigDict(frozen=True)

    role: str
    """Id of the role the assignment belongs to."""
    index: int
    """Its position in the role's `kpis` list."""
    kpi: RoleKpi
    """The assignment itself."""


class Framework(BaseModel):
    """A whole KPI framework: metadata, objectives, teams, KPI definitions and roles."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    metadata: Metadata
    """framework.yaml: organization, version, review cycle and settings."""
    objectives: list[Objective] = Field(default_factory=list)
    """objectives.yaml: the strategic objectives."""
    teams: list[Team] = Field(default_factory=list)
    """teams.yaml: the teams."""
    kpis: list[KpiDefinition] = Field(default_factory=list)
    """kpis.yaml: the KPI definitions the roles use."""
    roles: list[Role] = Field(default_factory=list)
    """roles/<id>.yaml: one role per file."""

    @property
    def assignments(self) -> list[Assignment]:
        """Every role KPI assignment, in file order."""
        return [
            Assignment(role=role.id, index=i, kpi=kpi)
            for role in self.roles
            for i, kpi in enumerate(role.kpis)
        ]

    @model_validator(mode="after")
    def _kpi_links_known(self) -> Framework:
        """Every KPI's `leads` and `guardrail` name another KPI of kpis.yaml (InputError naming KPI and field)."""
        known = {k.id for k in self.kpis}
        problems = [
            Problem(file="kpis.yaml", entry=f"KPI '{kpi.id}'", field=field,
                    message=f"'{other}' is the KPI itself" if other == kpi.id
                    else f"unknown KPI '{other}' (not defined in kpis.yaml)")
            for kpi in self.kpis
            for field, others in (("leads", kpi.leads), ("guardrail", [kpi.guardrail] if kpi.guardrail else []))
            for other in others if other == kpi.id or other not in known
        ]
        if problems:
            raise InputError(problems)
        return self

    def objective(self, objective_id: str) -> Objective | None:
        return next((o for o in self.objectives if o.id == objective_id), None)

    def team(self, team_id: str) -> Team | None:
        return next((t for t in self.teams if t.id == team_id), None)

    def kpi(self, kpi_id: str) -> KpiDefinition | None:
        return next((k for k in self.kpis if k.id == kpi_id), None)

    def unit_of(self, kpi: KpiDefinition) -> str:
        """The unit a KPI's values are shown in: its own, with `currency` read as the framework's currency code."""
        return self.metadata.currency if kpi.unit == CURRENCY_UNIT and self.metadata.currency else kpi.unit

    def frequency_of(self, kpi: KpiDefinition) -> Frequency:
        """How often a KPI is measured (and computed): its own frequency, else the review cycle."""
        return kpi.frequency or self.metadata.review_cycle

    def role(self, role_id: str) -> Role | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def roles_of_team(self, team_id: str) -> list[Role]:
        return [r for r in self.roles if team_id in r.teams]
