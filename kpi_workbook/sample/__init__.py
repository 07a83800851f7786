"""The seeded sample organization: its people, quarterly actuals, raw system exports and planted relations, written
as a workspace for demos, tests and benchmarks."""

__all__ = ["SampleSummary", "generate_actuals", "generate_employees", "quarter_labels", "write_sample"]

from kpi_workbook.sample.organization import (
    SampleSummary,
    generate_actuals,
    generate_employees,
    quarter_labels,
    write_sample,
)
