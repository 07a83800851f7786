"""KPI passports as offline HTML: one page per KPI, an index of them, and an appendix for a report pack.

Every text from the framework and the data is escaped (Jinja's autoescape) and nothing becomes a link; the pages load
nothing (the reports' Content-Security-Policy); body text is 15 px, nothing smaller than 14 px. The passport's markup
uses only the tags the report sanitizer keeps (reports.html.ALLOWED_TAGS) and its stylesheet no at-rule, so the
appendix survives being put into a notebook report as an HTML output.
"""

from __future__ import annotations

__all__ = [
    "INDEX_FILE", "INDEX_TEMPLATE", "METHODS", "METHODS_TEMPLATE", "PAGE_CSS", "PAGE_TEMPLATE", "PASSPORT_CSS",
    "PASSPORT_TEMPLATE", "STATUS", "TARGETS_METHOD", "UNKNOWN", "html_page", "methods_html", "passport_file",
    "passport_fragment", "passport_html", "passport_pages", "passports_appendix_html",
]

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

import jinja2
from markupsafe import Markup

from kpi_workbook.analysis.evidence import difficulty, gaming, leading
from kpi_workbook.analysis.targets import CHALLENGING, NO_DATA, TOO_EASY, UNREALISTIC
from kpi_workbook.reports.html import CONTENT_SECURITY_POLICY
from kpi_workbook.reports.page_head import OFFLINE_PAGE_HEAD
from kpi_workbook.reports.passport import (
    NO_FORMULA,
    NO_MEASURE,
    NO_OWNER,
    NO_PURPOSE,
    NO_UNIT,
    Passport,
    PassportSources,
    gather,
    passport,
)
from kpi_workbook.reports.passport_evidence import NO_SIGNAL, NOT_TESTED, SIGNAL
from kpi_workbook.reports.passport_lineage import NO_DATA_SOURCE
from kpi_workbook.reports.tables import STATUS_COLOURS, STATUS_SYMBOLS
from kpi_workbook.reports.units import level_text

if TYPE_CHECKING:
    from kpi_workbook.workspace.opener import Workspace

INDEX_FILE = "index.html"
UNKNOWN = {NO_FORMULA, NO_MEASURE, NO_OWNER, NO_PURPOSE, NO_UNIT, NO_DATA_SOURCE}
STATUS = {  # a verdict or check's status → the colour of its chip (the word is always shown, with a symbol)
    leading.LEADS: "green", leading.NO_EVIDENCE: "grey", leading.DOES_NOT_LEAD: "amber",
    CHALLENGING: "green", TOO_EASY: "amber", UNREALISTIC: "red", NO_DATA: "grey",
    NO_SIGNAL: "green", SIGNAL: "red", NOT_TESTED: "grey",
}
METHODS = (("Do the leading KPIs lead?", leading.METHOD), ("Are targets equally hard?", difficulty.METHOD),
           ("Is a KPI being gamed?", gaming.METHOD))
TARGETS_METHOD = ("A target's probability of attainment is the share of the role's past values (one per person and "
                  "period) that meet it. It is judged too easy above the framework's achievable_high setting, "
                  "unrealistic below achievable_low, else challenging but achievable. The suggested bands are the "
                  "percentiles of those values (threshold P25, target P40, stretch P80 in the good direction), "
                  "moved into the achievable band when they fall outside it.")

# No at-rule: the stylesheet must pass the report sanitizer when the appendix goes into a pack.
PASSPORT_CSS = """
.kpi-passport { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
  font-size: 15px; line-height: 1.45; max-width: 1100px; }
.kpi-passport + .kpi-passport { break-before: page; margin-top: 3em; border-top: 2px solid #d1d9e0; }
.kpi-passport h2.kpi-passport-name { font-size: 1.7em; margin: 0.1em 0 0.1em 0; }
.kpi-passport h3 { font-size: 1.15em; margin: 1.4em 0 0.4em 0; border-bottom: 1px solid #d1d9e0;
  padding-bottom: 2px; break-after: avoid; }
.kpi-passport .kpi-kicker { color: #59636e; font-size: 14px; text-transform: uppercase; letter-spacing: 0.04em; }
.kpi-passport .kpi-question { font-size: 1.2em; font-weight: 600; margin: 0.5em 0; }
.kpi-passport .kpi-muted, .kpi-passport .kpi-unknown { color: #59636e; }
.kpi-passport .kpi-unknown { font-style: italic; }
.kpi-passport .kpi-small { font-size: 14px; color: #424a53; }
.kpi-passport dl.kpi-facts { display: grid; grid-template-columns: 11em 1fr; gap: 4px 16px; margin: 0.6em 0; }
.kpi-passport dl.kpi-facts dt { font-weight: 600; color: #424a53; }
.kpi-passport dl.kpi-facts dd { margin: 0; }
.kpi-passport table { border-collapse: collapse; margin: 0.4em 0 0.8em 0; width: 100%; }
.kpi-passport th, .kpi-passport td { border-bottom: 1px solid #d1d9e0; padding: 5px 8px; text-align: left;
  vertical-align: top; }
.kpi-passport th { background: #f6f8fa; font-weight: 600; }
.kpi-passport td.kpi-number { text-align: right; white-space: nowrap; }
.kpi-passport tr { break-inside: avoid; }
.kpi-passport ul { margin: 0.3em 0; padding-left: 1.3em; }
.kpi-passport .kpi-chip { border-radius: 4px; padding: 0 7px; font-weight: 600; white-space: nowrap;
  display: inline-block; }
.kpi-passport .kpi-method p { font-size: 14px; color: #424a53; margin: 0.3em 0 0.8em 0; }
""" + "".join(f".kpi-passport .kpi-chip-{name} {{ background: {bg}; color: {fg}; }}\n"
              for name, (bg, fg) in STATUS_COLOURS.items())

PAGE_CSS = """
body { margin: 2em auto; padding: 0 2em; max-width: 1100px; background: #fff; }
.kpi-index { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 15px; color: #1f2328; }
.kpi-index table { border-collapse: collapse; }
.kpi-index th, .kpi-index td { border-bottom: 1px solid #d1d9e0; padding: 6px 10px; text-align: left;
  vertical-align: top; }
.kpi-index th { background: #f6f8fa; }
.kpi-index a { color: #0969da; }
@page { size: A4; margin: 12mm 10mm 14mm 10mm; }
@media print { body { margin: 0; padding: 0; font-size: 10pt; } .kpi-passport { font-size: 10pt; }
  .kpi-passport + .kpi-passport { margin-top: 0; border-top: 0; }
  .kpi-passport :is(.kpi-small, .kpi-method p, .kpi-kicker) { font-size: 9pt; } }
"""

PASSPORT_TEMPLATE = """\
{%- macro chip(word) -%}
<span class="kpi-chip kpi-chip-{{ status.get(word, 'grey') }}">{{ symbols[status.get(word, 'grey')] }} {{ word }}</span>
{%- endmacro -%}
{%- macro fact(label, value) -%}
<dt>{{ label }}</dt><dd{% if value in unknown %} class="kpi-unknown"{% endif %}>{{ value }}</dd>
{%- endmacro -%}
<div class="kpi-passport" lang="en">
<div class="kpi-kicker">KPI passport · {{ p.organization }}</div>
<h2 class="kpi-passport-name" id="passport-{{ p.kpi_id }}">{{ p.name }}</h2>
<div class="kpi-small">KPI id {{ p.kpi_id }} · {{ p.indicator }}</div>
<p class="kpi-question">{{ p.question }}</p>
<dl class="kpi-facts">
{{ fact("Purpose", p.purpose) }}
{{ fact("Unit", p.unit) }}
{{ fact("Direction", p.polarity) }}
{{ fact("Measured", p.frequency) }}
{{ fact("Owner", p.owner) }}
{{ fact("Kind", p.category ~ ", " ~ p.measure_type) }}
</dl>

<h3>Objectives it serves</h3>
{%- if p.objectives %}
<ul>{% for o in p.objectives %}<li><strong>{{ o.title }}</strong> <span class="kpi-muted">({{ o.perspective }})</span>
{%- if o.description %}: {{ o.description }}{% endif %}</li>{% endfor %}</ul>
{%- else %}<p class="kpi-unknown">No role assignment names an objective for it.</p>{% endif %}
{%- if p.outcomes %}
<p>What it shows, per role (the responsibility it measures):</p>
<ul>{% for line in p.outcomes %}<li>{{ line }}</li>{% endfor %}</ul>
{%- endif %}

<h3>How it is measured</h3>
<dl class="kpi-facts">
{{ fact("Measure", p.measure) }}
{{ fact("Formula in words", p.formula) }}
</dl>

<h3>Source and lineage</h3>
<dl class="kpi-facts">
{{ fact("Data source", p.lineage.data_source) }}
<dt>Computed from</dt><dd>{% if p.lineage.computed_from %}{{ p.lineage.computed_from | join("; ") }}
{%- else %}<span class="kpi-unknown">nothing: its values are entered by hand or imported</span>{% endif %}</dd>
<dt>Stored values</dt><dd>{% if p.lineage.values %}{{ count(p.lineage.values) }} value(s), {{ p.lineage.periods }}
 ({{ count(p.lineage.computed) }} computed, {{ count(p.lineage.imported) }} imported)
{%- else %}<span class="kpi-unknown">none stored yet</span>{% endif %}</dd>
{%- if p.lineage.computed %}
<dt>Source rows</dt><dd>{{ count(p.lineage.source_rows) }} row(s) behind the computed values</dd>
<dt>Last computed</dt><dd>{{ p.lineage.computed_at }}</dd>
{%- endif %}
<dt>Definition</dt><dd>{{ p.lineage.definition }}</dd>
</dl>

<h3>Roles using it</h3>
{%- if p.roles %}
<table><thead><tr><th scope="col">Role</th><th scope="col">Teams</th><th scope="col">Weight</th>
<th scope="col">Bands</th><th scope="col">Objectives</th><th scope="col">Responsibility</th>
<th scope="col">Reviewed</th></tr></thead><tbody>
{%- for r in p.roles %}
<tr><td>{{ r.role }}</td><td>{{ r.teams }}</td>
<td class="kpi-number">{{ level(r.weight) }} of {{ level(r.weight_total) }}</td>
<td>{{ r.bands }}</td><td>{{ r.objectives }}</td><td>{{ r.responsibility }}</td><td>{{ r.review_period }}</td></tr>
{%- endfor %}
</tbody></table>
{%- else %}<p class="kpi-unknown">No role uses it: it has no weight, no target and no score.</p>{% endif %}

<h3>Targets and their evidence</h3>
{%- if p.targets %}
<table><thead><tr><th scope="col">Role</th><th scope="col">Current bands</th><th scope="col">Met in the past</th>
<th scope="col">Suggested bands</th><th scope="col">Met in the past</th><th scope="col">Based on</th></tr></thead>
<tbody>
{%- for t in p.targets %}
<tr><td>{{ t.role }}</td><td>{{ t.current }}</td><td>{{ t.current_probability }}<br>{{ chip(t.current_verdict) }}</td>
<td>{{ t.suggested }}</td><td>{{ t.probability }}<br>{{ chip(t.verdict) }}</td>
<td class="kpi-small">{{ t.basis }}{% if t.notes %}. {{ t.notes }}{% endif %}</td></tr>
{%- endfor %}
</tbody></table>
{%- else %}<p class="kpi-unknown">No role sets a target for it.</p>{% endif %}
{%- if p.target_flags %}
<p>Targets out of line across roles and teams:</p>
<ul>{% for line in p.target_flags %}<li>{{ line }}</li>{% endfor %}</ul>
{%- endif %}

<h3>Leading and lagging evidence</h3>
<p>{{ p.lead_summary }}</p>
{%- if p.leads %}
{%- set noted = p.leads | selectattr("note") | list %}
<table><thead><tr><th scope="col">Leading KPI</th><th scope="col">Lagging KPI</th><th scope="col">Verdict</th>
<th scope="col">Relation</th>{% if noted %}<th scope="col">Note</th>{% endif %}</tr></thead><tbody>
{%- for r in p.leads %}
<tr><td>{{ r.leading }}</td><td>{{ r.lagging }}<div class="kpi-small">{{ r.pairing }}</div></td>
<td>{{ chip(r.verdict) }}</td><td>{{ r.relation }}</td>
{%- if noted %}<td class="kpi-small">{{ r.note }}</td>{% endif %}</tr>
{%- endfor %}
</tbody></table>
{%- endif %}

<h3>Gaming checks</h3>
<table><thead><tr><th scope="col">Check</th><th scope="col">Result</th><th scope="col">What was looked at, and what
 was found</th></tr></thead><tbody>
{%- for g in p.gaming %}
<tr><td>{{ g.check }}</td><td>{{ chip(g.status) }}</td><td>{{ g.detail }}
{%- if g.findings %}<ul>{% for f in g.findings %}<li>{{ f }}</li>{% endfor %}</ul>{% endif %}</td></tr>
{%- endfor %}
</tbody></table>

<h3>Change history</h3>
{%- if p.changes %}
{%- for c in p.changes %}
<p><strong>Version {{ c.version }}</strong>, {{ c.date }}: {{ c.why }}</p>
<ul>{% for line in c.lines %}<li>{{ line }}</li>{% endfor %}</ul>
{%- endfor %}
{%- else %}<p class="kpi-muted">No recorded change names this KPI (changelog.yaml; changes are recorded with
kpi-workbook diff REV --record WHY).</p>{% endif %}
{%- if p.evidence_note %}<p class="kpi-unknown">{{ p.evidence_note }}</p>{% endif %}
{%- if methods %}{{ methods }}{% endif %}
</div>
"""

METHODS_TEMPLATE = """\
<div class="kpi-method">
<h3>How the evidence is tested</h3>
<p><strong>Targets.</strong> {{ targets }}</p>
{%- for title, text in methods %}<p><strong>{{ title }}</strong> {{ text }}</p>{% endfor %}
</div>
"""

PAGE_TEMPLATE = OFFLINE_PAGE_HEAD + """\
<style>{{ css }}</style>
</head>
<body>
{{ body }}
</body>
</html>
"""

INDEX_TEMPLATE = """\
<div class="kpi-index">
<div class="kpi-small">{{ organization }}</div>
<h1>KPI passports</h1>
<p>One page per KPI of the framework ({{ rows | length }} KPIs), generated from kpis.yaml, the roles, sources.yaml,
the actuals store and changelog.yaml.</p>
<table><thead><tr><th scope="col">KPI</th><th scope="col">Leading or lagging</th><th scope="col">Owner</th>
<th scope="col">Used by</th><th scope="col">Values</th><th scope="col">Gaming signals</th></tr></thead><tbody>
{%- for p, href in rows %}
<tr><td><a href="{{ href }}">{{ p.name }}</a></td><td>{{ p.indicator.split(":")[0] }}</td>
<td{% if p.owner in unknown %} class="kpi-unknown"{% endif %}>{{ p.owner }}</td><td>{{ p.roles | length }} role(s)</td>
<td>{{ "computed" if p.lineage.computed_from else "by hand or imported" }}</td>
<td>{{ p.gaming | selectattr("status", "equalto", signal) | list | length }}</td></tr>
{%- endfor %}
</tbody></table>
</div>
"""


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False)
    environment.globals.update(status=STATUS, symbols=STATUS_SYMBOLS, unknown=UNKNOWN, count=lambda n: f"{n:,}",
                               level=lambda v: level_text(v, ""))
    return environment


@cache
def _template(text: str) -> jinja2.Template:
    return _environment().from_string(text)


def _render(template: str, **values: object) -> str:
    return _template(template).render(**values)


def methods_html() -> str:
    """How the evidence on a passport is tested, in words (the methods of `kpi-workbook evidence`)."""
    return _render(METHODS_TEMPLATE, targets=TARGETS_METHOD, methods=METHODS)


def passport_fragment(shown: Passport, methods: bool = True) -> str:
    """One passport as an HTML fragment (its own stylesheet not included); with the methods at its end."""
    return _render(PASSPORT_TEMPLATE, p=shown, methods=Markup(methods_html()) if methods else "")


def html_page(title: str, body: str) -> str:
    """A whole offline page around a fragment: the reports' Content-Security-Policy, the passport stylesheet."""
    return _render(PAGE_TEMPLATE, title=title, body=Markup(body), csp=Markup(CONTENT_SECURITY_POLICY),
                   css=Markup(PASSPORT_CSS + PAGE_CSS))


def _sources(workspace: Workspace | PassportSources) -> PassportSources:
    return workspace if isinstance(workspace, PassportSources) else gather(workspace)


def passport_html(workspace: Workspace | PassportSources, kpi_id: str) -> str:
    """The passport of one KPI as a whole offline HTML page (InputError for an unknown KPI id)."""
    shown = passport(_sources(workspace), kpi_id)
    return html_page(f"{shown.name} · KPI passport · {shown.organization}", passport_fragment(shown))


def passports_appendix_html(workspace: Workspace | PassportSources, kpi_ids: Iterable[str] | None = None) -> str:
    """Every passport (or those of `kpi_ids`) as one HTML fragment for a report pack's appendix: a heading, the
    stylesheet, the methods once, then one passport per page."""
    sources = _sources(workspace)
    ids = list(kpi_ids) if kpi_ids is not None else [k.id for k in sources.framework.kpis]
    body = "".join(passport_fragment(passport(sources, k), methods=False) for k in ids)
    intro = _render('<h1 id="kpi-passports">Appendix: KPI passports</h1><p>One page per KPI ({{ n }}).</p>', n=len(ids))
    return f"<style>{PASSPORT_CSS}</style>\n{intro}\n<div class=\"kpi-passport\">{methods_html()}</div>\n{body}"


def passport_file(kpi_id: str) -> str:
    """The file name of a KPI's page in a folder of passports."""
    return f"passport-{kpi_id}.html"


def passport_pages(workspace: Workspace | PassportSources) -> dict[str, str]:
    """Every KPI's page and the index, by file name (INDEX_FILE and passport_file's names)."""
    sources = _sources(workspace)
    shown = [passport(sources, k.id) for k in sources.framework.kpis]
    pages = {passport_file(p.kpi_id): html_page(f"{p.name} · KPI passport · {p.organization}", passport_fragment(p))
             for p in shown}
    organization = sources.framework.metadata.organization
    index = _render(INDEX_TEMPLATE, organization=organization, signal=SIGNAL,
                    rows=[(p, passport_file(p.kpi_id)) for p in shown])
    pages[INDEX_FILE] = html_page(f"KPI passports · {organization}", index)
    return pages
