"""The index page of a period's reports, as a dashboard: per scope its score, status, trend and red KPIs (computed
from the workspace), beside the links to its printed pack (PDF, when made) and its notebooks' reports and their run
status; the organization first, then each department with its teams; one offline HTML file."""

from __future__ import annotations

__all__ = [
    "INDEX_FILE", "INDEX_POLICY", "INDEX_TEMPLATE", "MESSAGE_LIMIT", "PACK_LINKS", "SORT_SCRIPT", "STATUS_LABELS",
    "ScopeRow", "dashboard_figures", "refresh_index", "render_index", "write_index",
]

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from kpi_workbook.analysis.scoring import score_actuals
from kpi_workbook.batch.records import DEPARTMENT_PREFIX, RUNS_FILE, UNDATED, load_runs
from kpi_workbook.core.atomic_files import write_text_atomically
from kpi_workbook.core.errors import KpiWorkbookError
from kpi_workbook.reports.html import CONTENT_SECURITY_POLICY, step_title
from kpi_workbook.reports.links import relink_reports
from kpi_workbook.reports.page_head import OFFLINE_PAGE_HEAD
from kpi_workbook.reports.pdf import PACKS_FOLDER
from kpi_workbook.reports.summary import ScopeFigures, scope_figures
from kpi_workbook.reports.tables import STATUS_COLOURS, STATUS_SYMBOLS
from kpi_workbook.reports.units import score_change_text, score_text
from kpi_workbook.workspace.opener import Workspace, open_workspace
from kpi_workbook.workspace.scope import departments

if TYPE_CHECKING:
    from kpi_workbook.batch.records import RunResult

INDEX_FILE = "index.html"
MESSAGE_LIMIT = 300
PACK_LINKS = (("PDF", "pdf"), ("HTML", "html"))  # a scope's pack: label and file suffix
STATUS_LABELS = {"ok": "ok", "failed": "failed", "timed_out": "timed out"}

# Sorts by a column (a heading's button, by mouse or keyboard; again for the other direction): the departments by
# their own row, the teams within their department; the organization stays on top and teams without a department
# last. The heading's aria-sort says the order. The page allows this one script by its hash and nothing else.
SORT_SCRIPT = """
document.querySelectorAll("th[data-column] button").forEach(function (button) {
  button.addEventListener("click", function () {
    var th = button.parentElement, column = Number(th.dataset.column);
    var down = th.getAttribute("aria-sort") !== "ascending";
    document.querySelectorAll("th[data-column]").forEach(function (other) { other.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", down ? "ascending" : "descending");
    var key = function (row) { var v = row.children[column].dataset.value; return v === undefined ? "" : v; };
    var compare = function (a, b) {
      var x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
      var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return down ? order : -order;
    };
    var groups = Array.from(document.querySelectorAll("tbody.scopes"));
    groups.forEach(function (body) {
      Array.from(body.querySelectorAll("tr.member")).sort(compare).forEach(function (row) { body.appendChild(row); });
    });
    var heads = groups.filter(function (body) { return body.rows[0].classList.contains("head"); });
    heads.sort(function (a, b) { return compare(a.rows[0], b.rows[0]); });
    heads.concat(groups.filter(function (body) { return heads.indexOf(body) < 0; })).forEach(function (body) {
      body.parentElement.appendChild(body);
    });
  });
});
"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(SORT_SCRIPT.encode()).digest()).decode()
INDEX_POLICY = CONTENT_SECURITY_POLICY.replace("script-src 'none'", f"script-src 'sha256-{_SCRIPT_HASH}'")

INDEX_TEMPLATE = OFFLINE_PAGE_HEAD + """\
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em; color: #1f2328;
  font-size: 15px; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
.meta { color: #59636e; margin-bottom: 1.5em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d1d9e0; padding: 6px 10px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; color: inherit; }
th button:focus-visible { outline: 2px solid #0969da; outline-offset: 2px; }
th[aria-sort="none"] button::after { content: " ⇅"; color: #59636e; }
th[aria-sort="ascending"] button::after { content: " ▲"; }
th[aria-sort="descending"] button::after { content: " ▼"; }
tbody.scopes tr.head th, tbody.scopes tr.head td { background: #f6f8fa; border-top: 2px solid #8c959f; }
tr.member th { padding-left: 1.6em; font-weight: normal; }
td.number { text-align: right; white-space: nowrap; }
tbody.organization th, tbody.organization td { background: #f6f8fa; border-bottom: 2px solid #8c959f; }
.chip { display: inline-block; border-radius: 4px; padding: 0 8px; font-weight: 600; white-space: nowrap; }
{%- for status, (background, colour) in colours.items() %}
.chip-{{ status }} { background: {{ background }}; color: {{ colour }}; }
{%- endfor %}
.up { color: #116329; } .down { color: #a40e26; } .steady { color: #59636e; }
.status { display: inline-block; border-radius: 4px; padding: 0 6px; font-weight: 600; }
.status-ok { background: #dafbe1; color: #116329; }
.status-failed { background: #ffebe9; color: #a40e26; }
.status-timed_out { background: #fff8c5; color: #7d4e00; }
.error { font-family: ui-monospace, monospace; font-size: 14px; color: #a40e26; max-width: 28em; }
.small { font-size: 14px; color: #59636e; }
</style>
</head>
<body>
<h1>KPI reports · {{ organization }}</h1>
<div class="meta">Period {{ period }} · {{ counts.ok }} ok, {{ counts.failed }} failed, {{ counts.timed_out }} timed out
 · updated {{ updated }}{% if problem %} · figures not available: {{ problem }}{% endif %}</div>
<table>
{%- macro sortable(column, label, title="") -%}
<th scope="col" data-column="{{ column }}" aria-sort="none"{% if title %} title="{{ title }}"{% endif %}>
<button type="button">{{ label }}</button></th>
{%- endmacro %}
<thead><tr>{{ sortable(0, "Scope") }}{{ sortable(1, "Score") }}{{ sortable(2, "Status") }}
{{- sortable(3, "Trend", "change of the score from the previous period") }}{{ sortable(4, "Red KPIs") }}
<th scope="col">Report pack</th>
{%- for nb in notebooks %}{{ sortable(6 + loop.index0, step_titles[nb]) }}{% endfor %}
</tr></thead>
{%- for group in groups %}
<tbody class="{{ 'organization' if loop.first else 'scopes' }}">
{%- for row in group %}
<tr id="team-{{ row.anchor }}" class="{{ 'member' if row.member else 'head' }}">
<th scope="row" data-value="{{ row.name }}">{{ row.name }}</th>
{%- set f = row.figures %}
{%- if f and f.score == f.score %}
<td class="number" data-value="{{ '%.3f' | format(f.score) }}">{{ f.score | score }}</td>
<td data-value="{{ status_rank[f.status] }}">
<span class="chip chip-{{ f.status }}">{{ symbols[f.status] }} {{ f.status }}</span></td>
{%- if f.trend %}
<td class="number" data-value="{{ '%.3f' | format(f.change) }}"
 title="{{ f.change | change }} from {{ f.previous_period }} ({{ f.previous_score | score }})">
<span class="{{ trend_class[f.trend] }}">{{ f.trend }}</span> {{ f.change | change }}</td>
{%- else %}<td class="small" data-value="">no earlier period</td>{% endif %}
<td class="number" data-value="{{ f.red_kpis }}">{{ f.red_kpis }}</td>
{%- else %}
<td class="small" data-value="">{% if f %}no data{% else %}—{% endif %}</td><td data-value="9">—</td>
<td data-value="">—</td><td data-value="">—</td>
{%- endif %}
<td>{% for label, href in packs.get(row.anchor, ()) %}{% if not loop.first %} · {% endif %}<a href="{{ href }}">
{{- label }}</a>{% else %}<span class="small">not printed</span>{% endfor %}</td>
{%- for nb in notebooks %}
{%- set run = cells.get((row.key, nb)) %}
<td data-value="{{ run.status.value if run else 'not run' }}">
{%- if run %}
<span class="status status-{{ run.status.value }}"
 title="{{ '%.1f' | format(run.duration) }} s, finished {{ run.finished[:16] | replace('T', ' ') }}">
{{- labels[run.status.value] }}</span>
{%- if run.html %} <a href="{{ run.html }}">HTML</a>{% endif %}
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
<p class="small">Score: the weighted score of the scope's people in the period, in points (100 pts = every target
met). Trend: ▲ up, ▼ down, ► steady (less than half a point) from the previous period. Red KPIs: a team's role KPIs
whose mean score is below the threshold. Teams are listed under their department. Report pack: the scope's reports in
one file, as PDF to print and as one HTML page. Run status: hover it for the duration and time. Sort by a column with
its heading's button.</p>
<script>{{ script | safe }}</script>
</body>
</html>
"""

_ENVIRONMENT = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_ENVIRONMENT.filters.update(score=score_text, change=score_change_text)  # scores with their unit: 94.2 pts, −5.1 pts
_TEMPLATE = _ENVIRONMENT.from_string(INDEX_TEMPLATE)


@dataclass(frozen=True)
class ScopeRow:
    """One row of the dashboard: a scope's key in runs.json, its name, its figures (None when unknown), and whether
    it is a team listed under a department (or among the teams without one)."""

    key: str
    name: str
    figures: ScopeFigures | None
    member: bool = False

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


def _groups(runs: Sequence[RunResult], figures: dict[str, ScopeFigures],
            teams_of: Mapping[str, tuple[str, Sequence[str]]]) -> list[list[ScopeRow]]:
    """The rows in groups: the organization's; one per department with a team that ran (the department's row, run
    or not, then those teams); the teams without a department. `teams_of` maps department ids to their name and
    team ids."""
    names = {r.key[0]: r.team_name for r in runs}
    row = {key: ScopeRow(key, name, figures.get(key)) for key, name in names.items()}
    groups: list[list[ScopeRow]] = [[row[""]] if "" in row else []]
    placed = {""}
    for department, (name, teams) in teams_of.items():
        key = f"{DEPARTMENT_PREFIX}{department}"
        members = [replace(row[t], member=True) for t in teams if t in row]
        if key in row or members:
            groups.append([row.get(key, ScopeRow(key, f"{name} department", None)), *members])
        placed |= {key, *teams}
    rest = sorted(key for key in row if key not in placed)
    if rest:
        groups.append([replace(row[key], member=not key.startswith(DEPARTMENT_PREFIX)) for key in rest])
    return groups


def _packs(period_dir: Path | None, groups: list[list[ScopeRow]]) -> dict[str, list[tuple[str, str]]]:
    """Each scope's printed pack, by row anchor: links to its PDF and its one-page HTML, when they exist."""
    if period_dir is None:
        return {}
    found = {}
    for row in (r for group in groups for r in group):
        links = [(label, f"{PACKS_FOLDER}/{row.anchor}.{suffix}") for label, suffix in PACK_LINKS]
        found[row.anchor] = [(label, href) for label, href in links if (period_dir / href).is_file()]
    return found


def render_index(runs: Sequence[RunResult], organization: str, period: str,
                 figures: dict[str, ScopeFigures] | None = None, problem: str = "",
                 teams_of: Mapping[str, tuple[str, Sequence[str]]] | None = None,
                 period_dir: Path | None = None) -> str:
    """The dashboard: the whole organization on top, then each department with its teams (sortable), a column
    with the scope's printed pack, one column per notebook. `figures` maps scope keys to their figures; `problem`
    says why there are none; `teams_of` maps departments to their name and teams; `period_dir` is where packs are
    found."""
    groups = _groups(runs, figures or {}, teams_of or {})
    counts = {status: sum(r.status.value == status for r in runs) for status in STATUS_LABELS}
    notebooks = sorted({r.notebook for r in runs})
    return _TEMPLATE.render(
        title=f"KPI reports · {organization} · {period}", organization=organization, period=period, groups=groups,
        packs=_packs(period_dir, groups),
        step_titles={nb: step_title(nb) for nb in notebooks},
        notebooks=notebooks, cells={r.key: r for r in runs}, counts=counts,
        labels=STATUS_LABELS, limit=MESSAGE_LIMIT, updated=datetime.now().strftime("%Y-%m-%d %H:%M"),
        csp=INDEX_POLICY, script=SORT_SCRIPT, colours=STATUS_COLOURS, symbols=STATUS_SYMBOLS, problem=problem,
        status_rank={status: rank for rank, status in enumerate(["red", "amber", "green", "grey"])},
        trend_class={"▲": "up", "▼": "down", "►": "steady"},
    )


def write_index(path: Path, runs: Sequence[RunResult], organization: str, period: str,
                workspace: Workspace | None = None) -> None:
    """Write the dashboard atomically, then link each report of the period folder to those of its scope that exist
    (reports.links: a run of some steps never leaves a link to a report it did not make). Its figures come from
    `workspace` (by default the one runs.json next to the index names); when it cannot be opened or scored, the page
    says why and still lists every run."""
    figures: dict[str, ScopeFigures] = {}
    teams_of: dict[str, tuple[str, list[str]]] = {}
    problem = ""
    try:
        opened = workspace or _recorded_workspace(path.parent)
        teams_of = departments(opened.framework)
        if period != UNDATED:
            figures = dashboard_figures(opened, period, sorted({r.key[0] for r in runs}))
    except (KpiWorkbookError, OSError, ValueError, KeyError) as exc:
        problem = str(exc) or type(exc).__name__
    write_text_atomically(path, render_index(runs, organization, period, figures, problem, teams_of, path.parent))
    relink_reports(sorted(path.parent.glob("*/*.html")))


def refresh_index(period_dir: Path, period: str) -> None:
    """Write a period folder's index again from its runs.json (once its packs are printed, to link them)."""
    workspace = _recorded_workspace(period_dir)
    write_index(period_dir / INDEX_FILE, load_runs(period_dir), workspace.framework.metadata.organization,
                period or UNDATED, workspace)

