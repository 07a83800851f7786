"""The index page of a period's reports, as a dashboard: per scope its score, status, trend and red KPIs (computed
from the workspace), beside the links to its notebooks' reports and their run status; one offline HTML file."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from kpi_workbook.analysis.scoring import score_actuals
from kpi_workbook.batch.records import DEPARTMENT_PREFIX, RUNS_FILE, UNDATED
from kpi_workbook.core.atomic_files import write_text_atomically
from kpi_workbook.core.errors import KpiWorkbookError
from kpi_workbook.reports.html import CONTENT_SECURITY_POLICY
from kpi_workbook.reports.summary import ScopeFigures, scope_figures
from kpi_workbook.reports.tables import STATUS_COLOURS
from kpi_workbook.workspace.opener import Workspace, open_workspace

if TYPE_CHECKING:
    from kpi_workbook.batch.records import RunResult

MESSAGE_LIMIT = 300
STATUS_LABELS = {"ok": "ok", "failed": "failed", "timed_out": "timed out"}

# Sorts the rows of the scopes' table body by a column (click a heading; again for the other direction). The page
# allows this one script by its hash and nothing else.
SORT_SCRIPT = """
document.querySelectorAll("th[data-column]").forEach(function (th) {
  th.addEventListener("click", function () {
    var body = document.getElementById("scopes"), column = Number(th.dataset.column);
    var down = th.dataset.order !== "ascending";
    th.dataset.order = down ? "ascending" : "descending";
    var key = function (row) { var v = row.children[column].dataset.value; return v === undefined ? "" : v; };
    var rows = Array.from(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
      var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return down ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(SORT_SCRIPT.encode()).digest()).decode()
INDEX_POLICY = CONTENT_SECURITY_POLICY.replace("script-src 'none'", f"script-src 'sha256-{_SCRIPT_HASH}'")

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
th[data-column] { cursor: pointer; }
th[data-column]::after { content: " ⇅"; color: #8c959f; }
td.number { text-align: right; white-space: nowrap; }
tbody.organization th, tbody.organization td { background: #f6f8fa; border-bottom: 2px solid #8c959f; }
.chip { display: inline-block; border-radius: 4px; padding: 0 8px; font-weight: 600; }
{%- for status, (background, colour) in colours.items() %}
.chip-{{ status }} { background: {{ background }}; color: {{ colour }}; }
{%- endfor %}
.up { color: #116329; } .down { color: #a40e26; } .steady { color: #59636e; }
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
 · updated {{ updated }}{% if problem %} · figures not available: {{ problem }}{% endif %}</div>
<table>
<thead><tr><th data-column="0">Scope</th><th data-column="1">Score</th><th data-column="2">Status</th>
<th data-column="3" title="change of the score from the previous period">Trend</th>
<th data-column="4">Red KPIs</th>
{%- for nb in notebooks %}<th data-column="{{ 5 + loop.index0 }}">{{ nb | replace("_", " ") }}</th>{% endfor %}
</tr></thead>
{%- for group in (organization_rows, scope_rows) %}
<tbody{% if loop.first %} class="organization"{% else %} id="scopes"{% endif %}>
{%- for row in group %}
<tr id="team-{{ row.anchor }}">
<th data-value="{{ row.name }}">{{ row.name }}</th>
{%- set f = row.figures %}
{%- if f and f.score == f.score %}
<td class="number" data-value="{{ '%.3f' | format(f.score) }}">{{ "%.1f" | format(f.score) }}</td>
<td data-value="{{ status_rank[f.status] }}"><span class="chip chip-{{ f.status }}">{{ f.status }}</span></td>
{%- if f.trend %}
<td class="number" data-value="{{ '%.3f' | format(f.change) }}"
 title="{{ '%+.1f' | format(f.change) }} points from {{ f.previous_period }} ({{ '%.1f' | format(f.previous_score) }})">
<span class="{{ trend_class[f.trend] }}">{{ f.trend }}</span> {{ "%+.1f" | format(f.change) }}</td>
{%- else %}<td class="small" data-value="">no earlier period</td>{% endif %}
<td class="number" data-value="{{ f.red_kpis }}">{{ f.red_kpis }}</td>
{%- else %}
<td class="small" data-value="">{% if f %}no data{% else %}—{% endif %}</td><td data-value="9">—</td>
<td data-value="">—</td><td data-value="">—</td>
{%- endif %}
{%- for nb in notebooks %}
{%- set run = cells.get((row.key, nb)) %}
<td data-value="{{ run.status.value if run else 'not run' }}">
{%- if run %}
<span class="status status-{{ run.status.value }}"
 title="{{ '%.1f' | format(run.duration) }} s, finished {{ run.finished[:16] | replace('T', ' ') }}">
{{- labels[run.status.value] }}</span>
{%- if run.html %} <a href="{{ run.html }}">report</a>{% endif %}
{%- if run.ipynb %} <a class="small" href="{{ run.ipynb }}">notebook</a>{% endif %}
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
{%- endfor %}
</table>
<p class="small">Score: the weighted score of the scope's people in the period (100 = every target met). Trend: ▲ up,
▼ down, ► steady (less than half a point) from the previous period. Red KPIs: a team's role KPIs whose mean score is
below the threshold. Run status: hover it for the duration and time. Click a heading to sort.</p>
<script>{{ script | safe }}</script>
</body>
</html>
"""

_TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(INDEX_TEMPLATE)


@dataclass(frozen=True)
class ScopeRow:
    """One row of the dashboard: a scope's key in runs.json, its name, and its figures (None when unknown)."""

    key: str
    name: str
    figures: ScopeFigures | None

    @property
    def anchor(self) -> str:
        return self.key.replace(DEPARTMENT_PREFIX, "department-") or "organization"


def dashboard_figures(workspace: Workspace, period: str, keys: Sequence[str]) -> dict[str, ScopeFigures]:
    """The figures of each scope key ("" organization, "department:<id>", a team id) in `period`, all scored in
    one pass over the organization's actuals up to the period."""
    organization = workspace.scope(period=period)
    scores = score_actuals(organization.actuals_to_date, organization.employees, workspace.framework)
    found = {}
    for key in keys:
        department = key.removeprefix(DEPARTMENT_PREFIX) if key.startswith(DEPARTMENT_PREFIX) else ""
        scope = workspace.scope(team="" if department else key, department=department)
        rows = scores if scope.is_organization else scores[scores["team"].isin(list(scope.team_ids))]
        found[key] = scope_figures(rows, organization.period)
    return found


def _recorded_workspace(period_dir: Path) -> Workspace:
    """The workspace the period folder's runs.json names (the runner writes it before the index)."""
    record = json.loads((period_dir / RUNS_FILE).read_text(encoding="utf-8"))
    return open_workspace(record["workspace"])


def _rows(runs: Sequence[RunResult], figures: dict[str, ScopeFigures]) -> tuple[list[ScopeRow], list[ScopeRow]]:
    names = {r.key[0]: r.team_name for r in runs}
    rows = [ScopeRow(key=key, name=name, figures=figures.get(key)) for key, name in names.items()]
    rows.sort(key=lambda r: (r.key != "", not r.key.startswith(DEPARTMENT_PREFIX), r.key))
    return [r for r in rows if not r.key], [r for r in rows if r.key]


def render_index(runs: Sequence[RunResult], organization: str, period: str,
                 figures: dict[str, ScopeFigures] | None = None, problem: str = "") -> str:
    """The dashboard: the whole organization on top, then departments and teams (sortable), one column per
    notebook. `figures` maps scope keys to their figures; `problem` says why there are none."""
    organization_rows, scope_rows = _rows(runs, figures or {})
    counts = {status: sum(r.status.value == status for r in runs) for status in STATUS_LABELS}
    return _TEMPLATE.render(
        organization=organization, period=period, organization_rows=organization_rows, scope_rows=scope_rows,
        notebooks=sorted({r.notebook for r in runs}), cells={r.key: r for r in runs}, counts=counts,
        labels=STATUS_LABELS, limit=MESSAGE_LIMIT, updated=datetime.now().strftime("%Y-%m-%d %H:%M"),
        csp=INDEX_POLICY, script=SORT_SCRIPT, colours=STATUS_COLOURS, problem=problem,
        status_rank={status: rank for rank, status in enumerate(["red", "amber", "green", "grey"])},
        trend_class={"▲": "up", "▼": "down", "►": "steady"},
    )


def write_index(path: Path, runs: Sequence[RunResult], organization: str, period: str,
                workspace: Workspace | None = None) -> None:
    """Write the dashboard atomically. Its figures come from `workspace` (by default the one runs.json next to the
    index names); when it cannot be opened or scored, the page says why and still lists every run."""
    figures: dict[str, ScopeFigures] = {}
    problem = ""
    if period != UNDATED:
        try:
            opened = workspace or _recorded_workspace(path.parent)
            figures = dashboard_figures(opened, period, sorted({r.key[0] for r in runs}))
        except (KpiWorkbookError, OSError, ValueError, KeyError) as exc:
            problem = str(exc) or type(exc).__name__
    write_text_atomically(path, render_index(runs, organization, period, figures, problem))

