# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Step 3 · Categories and role KPIs
#
# Now each role gets its own KPIs, chosen from its responsibilities (step 2) and tied to the objectives
# (step 1). This notebook shows each role's KPIs with their **category**, the **balance** across categories and
# between leading and lagging indicators, the **SMART findings** of the checks, and **suggestions from the KPI
# library** for every responsibility, ranked by how well the KPI's text matches the responsibility and its
# expected outcome. From past periods it shows the **evidence** that the leading KPIs lead and that the
# guardrails hold.

# %% [markdown] tags=["workshop", "notebook-help"]
# **How to use this notebook**
#
# - *In a workshop:* run all cells; the forms at the end pick KPIs from the library (filtered by family,
#   category, polarity and words), set their categories and the weights, and **Save** the role files after
#   the checks.
# - *In batch:* `papermill notebooks/03_kpi_design.ipynb out.ipynb -p team it -p interactive False`. Pass team
#   ids that look like numbers as raw text: `-r team 007`.
# - *Parameters:* `workspace` (framework folder), `team` (one team's roles; empty means the whole
#   organization), `period` (not used in this step), `interactive` (show the forms).

# %% tags=["parameters"]
workspace: str = "sample"  # workspace folder (relative to the current folder); "sample": the bundled sample
team: str = ""  # team id such as sales; empty means the whole organization (or the department)
department: str = ""  # department id or name such as commercial: all its teams; empty means no department
period: str = ""  # reporting period such as 2025Q4; empty means the latest with actuals
interactive: bool = True  # show the live forms; False for batch runs and reports

# %%
# %matplotlib inline
from IPython.display import display

from kpi_workbook import widgets
from kpi_workbook.reports import mode
from kpi_workbook.reports.record import record
from kpi_workbook.steps import kpi_design, open_step
from kpi_workbook.widgets import step_tables

# %%
mode.set_report_mode(not interactive)  # a report leaves the workshop's text out
ctx = open_step(workspace, team, period, department)
page = widgets.StepPage(ctx, interactive)  # in a workshop, every table below is drawn again after each save
record(team=ctx.team, roles=len(ctx.roles), people=len(ctx.employees))
mode.scope_line(ctx)

# %% [markdown]
# ## The categories
#
# Categories give the framework structure and balance. A role measured only on output pushes people to hit
# numbers at any cost; a role with quality, efficiency, behaviour and development measures as well is judged on
# how the results were reached and whether the person grows.

# %%
kpi_design.categories_report()

# %% [markdown]
# Two more classifications matter. **Leading** indicators predict a result (meetings booked, pipeline
# coverage, training hours) and can be acted on during the quarter; **lagging** indicators record it (revenue,
# churn, defects). A role needs both. **Qualitative** KPIs are ratings (e.g. peer feedback on a 1–5 scale);
# use them for behaviour and competencies, with a clear rating guide.

# %% [markdown]
# ## Each role's KPIs

# %% [markdown] tags=["workshop"]
# **What good looks like:** three to eight KPIs per role (a longer list dilutes attention), each tied to a
# responsibility and an objective, weights that add up to 100, at least one development KPI, and a mix of
# leading and lagging indicators. **Common mistakes:** a KPI nobody can measure yet ("customer happiness"), two
# KPIs that measure the same thing, and a 5 % weight that nobody will notice.

# %%
kpis = kpi_design.role_kpi_table(ctx.framework, ctx.roles)
record(role_kpis=len(kpis), weight_totals=kpis.groupby("role")["weight"].sum().to_dict())
page.show(step_tables.role_kpis(ctx))

# %% [markdown]
# ## Computed or entered by hand
#
# Where each KPI's values will come from. A **computed** KPI has a *measure* that is run on the records the HR and
# business systems export (the *sources*), the same way every period, and each value keeps its lineage (step 5
# shows it). Every other KPI is **entered by hand** as a finished value, and ratings (qualitative KPIs) always are.
# A KPI entered by hand whose source system exports records is a candidate for a measure: it saves work every
# quarter and leaves no room for copying mistakes.

# %% [markdown] tags=["workshop"]
# `kpi-workbook compute` runs the measures on the sources named in `sources.yaml`; values entered by hand come in
# through `kpi-workbook import-actuals`.

# %%
measures = kpi_design.measure_table(ctx.framework, ctx.roles, ctx.root)
record(computed_kpis=measures.loc[measures["origin"] == "computed", "kpi"].tolist(),
       entered_kpis=int((measures["origin"] == "entered by hand").sum()))
page.show(step_tables.measures(ctx, measures))

# %% [markdown]
# ## Balance across categories, and leading versus lagging
#
# The share of each role's weight in each category, and how many leading, lagging, qualitative and
# development KPIs it has. A role whose weight sits almost entirely in *output* needs a quality or behaviour
# measure; a role without leading KPIs only learns at the end of the quarter that it is behind.

# %%
page.show(step_tables.balance(ctx))

# %%
mix = kpi_design.indicator_mix(kpis)
record(roles_without_development=mix.loc[mix["development"] == 0, "role"].tolist(),
       roles_not_mixing=mix.loc[~mix["mixes_leading_and_lagging"], "role"].tolist())
page.show(step_tables.mix(ctx))

# %%
page.show(step_tables.balance_chart(ctx))

# %% [markdown]
# ## Do the leading KPIs lead? Evidence from past periods
#
# A leading KPI earns its place if it moves before the result it should drive: the lagging KPI it names in
# `leads` (kpis.yaml) or one serving the same objective. **How it is tested:** among the people measured on both,
# do those whose leading KPI improved more than others' see their lagging KPI improve more one to three periods
# later? **r** is the strength of that relation (0 none, 1 perfect); the verdict says whether it is more than
# chance.

# %% [markdown] tags=["workshop"]
# In a workshop the tests below run when you press their button (they take a few seconds on a long history), so
# that the step opens at once; once shown, they run again on the KPIs as saved after each save.

# %%
evidence = step_tables.design_evidence(ctx)  # the history is analysed once, and again only when the KPIs change
page.show(step_tables.lead_pairs(evidence), on_demand="Test the leading KPIs on past periods")

# %% [markdown] tags=["workshop"]
# **What to do with it:** a declared pair that *leads* is worth keeping and watching; a leading KPI that *does not
# lead* measures activity that does not pay off, so replace it or rethink what it should drive. `kpi-workbook
# evidence` prints the full method and every number behind the verdicts.

# %% [markdown]
# ## Guardrails
#
# A guardrail is a KPI that must not get worse while another improves (`guardrail` in kpis.yaml), e.g. quality
# while speed is pushed. **How it is tested:** within each team, for the people measured on both, we ask whether
# the KPI improved and its guardrail worsened at the same time, more than chance would make them. A finding is
# about a team, never a person.

# %%
page.show(step_tables.guardrails(evidence), on_demand="Test the guardrails on past periods")

# %% [markdown]
# ## SMART findings
#
# The checks test every role KPI: **S**pecific (a named measure, no vague words), **M**easurable (unit, formula,
# data source), **A**chievable (threshold, target and stretch in the right order), **R**elevant (linked to an
# objective and a responsibility) and **T**ime-bound (frequency and review period), plus the framework rules
# above. Errors must be fixed before the framework is used; warnings are design gaps worth a discussion.

# %%
findings = kpi_design.design_findings(ctx.framework, ctx.roles)
record(findings=len(findings), errors=int((findings["severity"] == "error").sum()))
page.show(step_tables.findings(ctx, findings))

# %% [markdown]
# ## Suggestions from the KPI library, for each responsibility
#
# For every responsibility, the three library KPIs whose name, description and formula best match the
# responsibility and its expected outcome (*text match*: TF-IDF similarity, 0 to 100 %). *In the role* marks a KPI
# the role already has; *measures it* marks one already assigned to this responsibility. Treat the list as a
# starting point for the discussion, not as an answer: a low similarity means the wording differs, not that the
# KPI is wrong.

# %%
suggestions = kpi_design.responsibility_suggestions(ctx.framework, ctx.roles, top=3)
record(suggestions=len(suggestions))
page.show(step_tables.suggestions(ctx, suggestions))

# %% [markdown] tags=["workshop"]
# ## Choose KPIs and weights (live)
#
# Filter the library, pick a KPI, choose the responsibility and objectives it serves, and add it to the role.
# Then set the weights: the total shows live and must reach 100. **Save** runs the checks first; errors stop
# the save unless you choose **Save draft**, and nothing you set is lost.

# %% tags=["workshop"]
if interactive:
    picker = widgets.KpiPicker(page.editor, team=ctx.team)
    display(picker, widgets.WeightsForm(page.editor, role=picker.role), widgets.SavePanel(page.editor, team=ctx.team),
            widgets.redrawn(page.editor, widgets.kpi_tables(ctx)))

# %% [markdown] tags=["workshop"]
# ## What to do next
#
# With every role's KPIs chosen and balanced, go to **step 4, targets** (`04_targets.ipynb`): weights and
# threshold, target and stretch levels, set from the evidence of past periods.
