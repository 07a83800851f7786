"""The head of a whole offline page that kpi-workbook writes itself (the run's index, a KPI's passport)."""

from __future__ import annotations

__all__ = ["OFFLINE_PAGE_HEAD"]

#: A Jinja template's opening up to its title: renders `csp` (the page's Content-Security-Policy) and `title`; the
#: page goes on with its own styles and closes the head.
OFFLINE_PAGE_HEAD = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<title>{{ title }}</title>
"""
