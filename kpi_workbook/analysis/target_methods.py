"""The names of the target-suggestion methods of `analysis.targets`, apart from their code: listing them (the
choices of `kpi-workbook targets --method`) imports neither pandas nor numpy."""

__all__ = ["METHODS"]

METHODS = ("baseline", "percentile", "trend", "peer", "fixed")
