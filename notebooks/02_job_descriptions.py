# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Step 2 · Job descriptions
#
# KPIs come from what a role is **responsible for**. A job description that lists each key responsibility with
# the **outcome** expected from it is the raw material of step 3: a KPI that measures none of a role's
# responsibilities is not relevant to the person who holds the role, and a responsibility that no KPI measures
# is work nobody will see. This notebook lists the roles, their responsibilities and outcomes, and the
# responsibilities that no KPI measures yet.

# %% [markdown] tags=["workshop", "notebook-help"]
# **How to use this notebook**
#
# - *In a workshop:* run all cells; the form at the end adds, edits and removes roles and their
#   responsibilities, and **Save** checks the framework and writes the role files (`roles/<role>.yaml`); every
#   table of the notebook is drawn again after each save.
# - *In batch:* `papermill notebooks/02_job_descriptions.ipynb out.ipynb -p team hr -p interactive False`.
#   Pass team ids that look like numbers as raw text: `-r team 007` (`-p team 007` would give the number 7).
# - *Parameters:* `workspace` (framework folder), `team` (one team's roles; empty means the whole
#   organization), `period` (not used in this step), `interactive` (show the forms).

# %% tags=["parameters"]
workspace: str = "sample"  # workspace folder (relative to the current folder); "sample": the bundled sample
team: str = ""  # team id such as sales; empty means the whole organization (or the department)
department: str = ""  # department id or name such as commercial: all its teams; empty means no department
period: str = ""  # reporting period such as 2025Q4; empty means the latest with actuals
interactive: bool = True  # show the live forms; False for batch runs and reports

# %%
from IPython.display import display

from kpi_workbook import widgets
from kpi_workbook.reports import mode
from kpi_workbook.reports.record import record
from kpi_workbook.steps import job_descriptions, open_step
from kpi_workbook.widgets import step_tables

# %%
mode.set_report_mode(not interactive)  # a report leaves the workshop's text out
ctx = open_step(workspace, team, period, department)
page = widgets.StepPage(ctx, interactive)  # in a workshop, every table below is drawn again after each save
record(team=ctx.team, roles=len(ctx.roles), people=len(ctx.employees))
mode.scope_line(ctx)

# %% [markdown] tags=["workshop"]
# ## What good looks like
#
# - **A purpose** in one or two sentences: why the role exists ("Win new mid-market customers for our sensors").
# - **Three to six key responsibilities**, each a verb and an object ("Close new business with mid-size
#   accounts"), not a list of tasks or tools.
# - **An expected outcome for each**, observable and, where possible, with a number ("Quarterly quota met with
#   at least one in four qualified deals won"). The outcome is what the KPI will measure.
# - One responsibility about **learning and development** ("Keep product knowledge and sales skills current"),
#   so that step 3 can give every role a development KPI.
#
# **Examples.** *Recruiter:* "Fill open positions quickly" → "Offers accepted within 45 days of opening".
# *Software engineer:* "Ship changes safely" → "Weekly deployments with fewer than one in ten failing".
# *Support agent:* "Solve customer questions at first contact" → "Three in four tickets solved without a
# follow-up".
#
# **Common mistakes:** responsibilities copied from a job advert ("dynamic team player"), outcomes missing or
# vague ("good results"), the same responsibility under two names, and roles defined by the person who holds
# them today rather than by the work.

# %% [markdown]
# ## The roles
#
# *People* is the number of people who hold the role (in this team, when a team is chosen).

# %%
roles = job_descriptions.roles_table(ctx.roles, ctx.employees)
record(role_ids=roles["role"].tolist(), people_by_role=dict(zip(roles["role"], roles["people"], strict=True)))
page.show(step_tables.roles(ctx))

# %% [markdown]
# ## Responsibilities and expected outcomes
#
# One row per responsibility, with the KPIs of the role that measure it.

# %%
record(responsibilities=len(job_descriptions.responsibilities_table(ctx.roles)))
page.show(step_tables.responsibilities(ctx))

# %% [markdown]
# ## Responsibilities no KPI measures yet
#
# Each of these needs a KPI in step 3, unless the responsibility is not really part of the role. The library
# suggestions in step 3 start from the description and the expected outcome, so write them well first.

# %%
record(uncovered_responsibilities=len(job_descriptions.uncovered_responsibilities(ctx.roles)))
page.show(step_tables.uncovered(ctx))

# %% [markdown]
# ## Responsibilities without an expected outcome, and KPIs without a responsibility

# %%
record(missing_outcomes=len(job_descriptions.missing_outcomes(ctx.roles)),
       kpis_without_responsibility=len(job_descriptions.kpis_without_responsibility(ctx.roles)))
page.show(step_tables.gaps(ctx))

# %% [markdown] tags=["workshop"]
# ## Edit the roles and responsibilities (live)
#
# Choose a role to edit it or *(new role)* to add one, then its responsibilities below. Ids are short and
# stable (`account_executive`, `close_new_business`): KPIs and `employees.csv` refer to them. A role that people
# still hold in `employees.csv` cannot be removed. Nothing is written until you press **Save**.

# %% tags=["workshop"]
if interactive:
    display(widgets.RolesForm(page.editor, team=ctx.team), widgets.SavePanel(page.editor, team=ctx.team),
            widgets.redrawn(page.editor, widgets.roles_tables(ctx)))

# %% [markdown] tags=["workshop"]
# ## What to do next
#
# When every responsibility has a clear expected outcome, go to **step 3, categories and role KPIs**
# (`03_kpi_design.ipynb`): choose each role's KPIs, with suggestions from the library for every responsibility.
