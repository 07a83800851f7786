"""The index page of a period's reports: every team and notebook with its status, as one offline HTML file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from kpi_workbook.batch.records import DEPARTMENT_PREFIX
from kpi_workbook.core.atomic_files import write_text_atomically
from kpi_workbook.reports.html import CONTENT_SECURITY_POLICY

if TYPE_CHECKING:
    from kpi_workbook.batch.records import RunResult

MESSAGE_LIMIT = 300
STATUS_LABELS = {"ok": "ok", "failed": "failed", "timed_out": "timed out"}

INDEX_TEMPLATE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<title>KPI reports · {{ organization }} · {{ period }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em; color: #1f2328; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
.meta { color: #59636e; margin-bottom: 1.5em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d1d9e0; padding: 6px 10px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.status { display: inline-block; border-radius: 4px; padding: 0 6px; font-size: 0.85em; font-weight: 600; }
.status-ok { background: #dafbe1; color: #116329; }
.status-failed { background: #ffebe9; color: #a40e26; }
.status-timed_out { background: #fff8c5; color: #7d4e00; }
.error { font-family: ui-monospace, monospace; font-size: 0.85em; color: #a40e26; max-width: 28em; }
.small { font-size: 0.85em; color: #59636e; }
</style>
</head>
<body>
<h1>KPI reports · {{ organization }}</h1>
<div class="meta">Period {{ period }} · {{ counts.ok }} ok, {{ counts.failed }} failed, {{ counts.timed_out }} timed out
 · updated {{ updated }}</div>
<table>
<thead><tr><th>Team</th>{% for nb in notebooks %}<th>{{ nb }}</th>{% endfor %}</tr></thead>
<tbody>
{%- for team, name in teams %}
<tr id="team-{{ team or 'organization' }}">
<th>{{ name }}{% if team %} <span class="small">({{ team }})</span>{% endif %}</th>
{%- for nb in notebooks %}
{%- set run = cells.get((team, nb)) %}
<td>
{%- if run %}
<span class="status status-{{ run.status.value }}">{{ labels[run.status.value] }}</span>
{%- if run.html %} <a href="{{ run.html }}">report</a>{% endif %}
{%- if run.ipynb %} <a class="small" href="{{ run.ipynb }}">notebook</a>{% endif %}
<div class="small">{{ "%.1f" | format(run.duration) }} s ·
<span title="{{ run.finished }}">{{ run.finished[:16] | replace("T", " ") }}</span></div>
{%- if run.warnings %}
<div class="small" title="{{ run.warnings | join('\n') }}">{{ run.warnings | length }} warning(s)</div>
{%- endif %}
{%- if run.error %}
<div class="error" title="{{ run.message }}">{{ run.error }}: {{ run.message | truncate(limit) }}</div>
{%- endif %}
{%- else %}<span class="small">not run</span>{% endif %}
</td>
{%- endfor %}
</tr>
{%- endfor %}
</tbody>
</table>
</body>
</html>
"""

_TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(INDEX_TEMPLATE)


def render_index(runs: Sequence[RunResult], organization: str, period: str) -> str:
    """The index page: one row per scope (the whole organization first, then departments, then teams), one column
    per notebook."""
    names = {r.key[0]: r.team_name for r in runs}
    teams = sorted(names.items(), key=lambda pair: (pair[0] != "", not pair[0].startswith(DEPARTMENT_PREFIX), pair[0]))
    counts = {status: sum(r.status.value == status for r in runs) for status in STATUS_LABELS}
    return _TEMPLATE.render(
        organization=organization,
        period=period,
        teams=teams,
        notebooks=sorted({r.notebook for r in runs}),
        cells={r.key: r for r in runs},
        counts=counts,
        labels=STATUS_LABELS,
        limit=MESSAGE_LIMIT,
        updated=datetime.now().strftime("%Y-%m-%d %H:%M"),
        csp=CONTENT_SECURITY_POLICY,
    )


def write_index(path: Path, runs: Sequence[RunResult], organization: str, period: str) -> None:
    """Write the index page atomically."""
    write_text_atomically(path, render_index(runs, organization, period))
