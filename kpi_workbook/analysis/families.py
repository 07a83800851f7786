"""The role families of the KPI library (`analysis.library`), apart from its code: listing them (the help of
`kpi-workbook library --family`) loads neither pandas nor the framework's pydantic models."""

__all__ = ["FAMILIES"]

FAMILIES = (
    "sales", "hr", "marketing", "operations", "it", "finance", "customer_support", "product",
    "procurement", "project_management", "data_analytics", "legal_compliance", "general",
)
