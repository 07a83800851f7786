# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Step 1 · Strategic objectives
#
# Every KPI in the framework exists to show progress on a **strategic objective**. Before anyone talks about
# KPIs, write down what the organization wants to achieve, so each KPI chosen later can point to the objective
# it serves. This notebook shows the strategy map, the objectives by perspective, which role KPIs serve each of
# them, and where the strategy has no measure yet.

# %% [markdown] tags=["workshop", "notebook-help"]
# **How to use this notebook**
#
# - *In a workshop:* open it in JupyterLab and run all cells. The forms at the end add, edit and remove
#   objectives; **Save** checks the framework first and writes the framework files. The strategy map beside
#   the forms is drawn again at each change, and every table and chart of the notebook after each save.
# - *In batch:* `papermill notebooks/01_strategic_goals.ipynb out.ipynb -p team sales -p interactive False`,
#   or `kpi-workbook run --notebooks 01 --all-teams` for every team. Pass team ids that look like numbers as
#   raw text: `-r team 007` (with `-p`, papermill would read `007` as the number 7).
# - *Parameters:* `workspace` is the framework folder (absolute, or relative to the current folder; `sample` is
#   the bundled sample organization, read only); `team` limits the KPIs counted to one team's roles and
#   `department` to a department's teams (both empty mean the whole organization);
#   `period` is the period whose KPI scores colour the strategy map (empty: the latest with actuals);
#   `interactive` shows the forms. `papermill --help-notebook` lists them.

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
from kpi_workbook.steps import open_step, strategic_goals
from kpi_workbook.widgets import step_tables

# %%
mode.set_report_mode(not interactive)  # a report leaves the workshop's text out
ctx = open_step(workspace, team, period, department)
page = widgets.StepPage(ctx, interactive)  # in a workshop, every table below is drawn again after each save
record(team=ctx.team, roles=len(ctx.roles), people=len(ctx.employees))
mode.scope_line(ctx)

# %% [markdown]
# ## Strategy map
#
# The objectives by perspective, the cascade and the KPIs serving each objective, coloured by status.

# %%
page.show(step_tables.strategy_map(ctx))

# %% [markdown]
# An objective's status is the weighted score of the KPIs serving it in the period, scored as the review scores
# them: **✓ green** on target, **! amber** between the threshold and the target, **✗ red** below the threshold,
# **? no data** without scores (or *no KPI* when no KPI serves it). Each KPI carries its own symbol. For a team or a
# department, the map shows the objectives its roles' KPIs serve, with the objectives above them, scored over its
# people.

# %% [markdown] tags=["workshop"]
# ## Why it matters
#
# A KPI that serves no objective measures activity, not progress, and people soon learn to optimize it for its
# own sake. When the objective is revenue growth, the sales and marketing KPIs should reflect that first; when it
# is a skilled workforce, every role needs a learning measure.
#
# **What good looks like**
#
# - Four to eight objectives in all, spread over the four perspectives of a balanced scorecard: *financial*
#   (e.g. grow revenue), *customer* (e.g. keep customers), *internal process* (e.g. deliver on time) and
#   *learning & growth* (e.g. a skilled workforce).
# - Each objective is a result with a number and a date ("Grow revenue to EUR 60 million by the end of 2025"),
#   has one owner, and may be broken down into child objectives ("Win 120 new mid-market customers" under
#   revenue growth): the **cascade**.
# - Every objective is served by at least one role KPI, directly or through its children.
#
# **Common mistakes:** objectives that are activities ("run more campaigns"), objectives without a number or a
# date, only financial objectives, and twenty objectives where five would do.

# %% [markdown]
# ## The objectives, by perspective
#
# A child objective names the objective it is *part of*.

# %%
record(objectives=len(strategic_goals.objectives_by_perspective(ctx.framework)))
page.show(step_tables.objectives(ctx))

# %%
page.show(step_tables.perspectives(ctx))

# %% [markdown]
# ## Objective → KPI coverage
#
# For each objective: how many role KPIs serve it *directly*, how many serve it *through its child objectives*
# (the cascade), and which roles they belong to. *Coverage* is **direct** (green), **cascade** (amber: only
# through children) or **none** (red). For a team, only the team's roles count: the table shows which objectives
# the team contributes to. An objective with coverage *none* for the whole organization has no measure at all:
# add a KPI for it in step 3, or ask whether it is still an objective.

# %%
coverage = strategic_goals.objective_coverage(ctx.framework, ctx.roles)
record(covered_objectives=int((coverage["coverage"] != "none").sum()),
       uncovered=coverage.loc[coverage["coverage"] == "none", "objective"].tolist())
page.show(step_tables.coverage(ctx))

# %% [markdown]
# ## KPIs that serve no objective
#
# A role KPI that names no objective (or an objective that does not exist) cannot be explained to the person it
# measures. Link it to an objective in step 3, or remove it.

# %%
record(unlinked_kpis=len(strategic_goals.unlinked_kpis(ctx.framework, ctx.roles)))
page.show(step_tables.unlinked(ctx))

# %% [markdown] tags=["workshop"]
# ## Edit the objectives (live)
#
# Pick an objective to change it, or *(new objective)* to add one. Ids are short and stable (`grow_revenue`),
# because KPIs refer to them. Removing an objective unlinks it from the KPIs that served it and moves its child
# objectives up to its parent. Nothing is written until you press **Save**; errors found by the checks stop the
# save unless you choose **Save draft**, and what you typed stays in the form.

# %% tags=["workshop"]
if interactive:
    form = widgets.ObjectivesForm(page.editor)
    live_map = form.redrawn(step_tables.strategy_map(ctx))
    display(widgets.beside(form, live_map), widgets.SavePanel(page.editor, team=ctx.team),
            widgets.redrawn(page.editor, widgets.objectives_tables(ctx)))

# %% [markdown] tags=["workshop"]
# ## What to do next
#
# When every objective is served (or is about to be), go to **step 2, job descriptions**
# (`02_job_descriptions.ipynb`): the roles and the responsibilities the KPIs will come from.
