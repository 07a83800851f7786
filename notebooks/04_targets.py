# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Step 4 · Weights and targets
#
# A KPI steers only with a level to reach. For every role KPI this step sets a **weight** (how much it counts in
# the role's score) and three levels: the **threshold** (the minimum acceptable result; below it the KPI scores
# nothing), the **target** (what a good period looks like; 100 %) and the **stretch** (an exceptional result;
# the score is capped there). A KPI that should stay *within a range* (e.g. capacity utilization between 75 and
# 85 %) has a target range and a wider threshold range instead. The notebook shows the current weights and
# levels, each KPI's history against them, and **evidence-based suggestions** with the probability that the
# target is reached.

# %% [markdown] tags=["workshop", "notebook-help"]
# **How to use this notebook**
#
# - *In a workshop:* run all cells; the forms at the end set weights (the total must reach 100) and the levels,
#   with a live preview of the history and of how often past values met the level you type; every table and chart
#   of the notebook is drawn again after each save.
# - *In batch:* `papermill notebooks/04_targets.ipynb out.ipynb -p team operations -p interactive False`.
#   Pass team ids that look like numbers as raw text: `-r team 007`.
# - *Parameters:* `workspace` (framework folder), `team` (one team's roles and people; empty means the whole
#   organization), `period` (the last period of history to show; empty means the latest), `interactive`.

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
from kpi_workbook.steps import kpi_design, open_step, targets
from kpi_workbook.widgets import step_tables

# %%
mode.set_report_mode(not interactive)  # a report leaves the workshop's text out
ctx = open_step(workspace, team, period, department)
page = widgets.StepPage(ctx, interactive)  # in a workshop, every table below is drawn again after each save
record(team=ctx.team, roles=len(ctx.roles), people=len(ctx.employees), period=ctx.period, periods=len(ctx.periods))
mode.scope_line(ctx)

# %% [markdown]
# ## Targets that challenge but remain achievable
#
# A target everybody beats every quarter no longer steers anything; a target nobody reaches demotivates and burns
# people out. Good targets come from **evidence**: what the role's people achieved in past periods, how the KPI
# trends, and what the best peers reach. A useful test is the **probability of attainment**: the share of past
# values (or of peers) that would have met the target. Between 50 % and 80 % is *challenging but achievable*;
# above is *too easy*; below is *unrealistic* (the framework's settings can move these limits).

# %% [markdown] tags=["workshop"]
# **Weights** say what matters most: they add up to 100 per role; the role's main outcome usually carries 25–40,
# a development KPI 10–15. **Common mistakes:** the target set to last year's average (half the people miss it
# by definition), a stretch that equals the target, bands in the wrong order for a lower-is-better KPI
# (threshold 10 days, target 7, stretch 5 is right), and weights spread evenly because nobody chose.

# %% [markdown]
# ## Current weights and levels, per role

# %%
bands = kpi_design.role_kpi_table(ctx.framework, ctx.roles)
record(assignments=len(bands), weight_totals=bands.groupby("role")["weight"].sum().to_dict())
page.show(step_tables.levels(ctx))

# %% [markdown]
# ## Evidence-based suggestions
#
# For each role KPI, three methods suggest threshold, target and stretch from the history up to the period:
# **percentile** (levels among all past values), **trend** (the trend line projected one period ahead) and
# **peer** (the spread across the role's people in the latest period). Levels read threshold/target/stretch
# (for a within-range KPI: the target range in the threshold range). *Chance met* is the share of past values
# that meet the target, and the *verdict* judges it: 50–80 % is challenging but achievable (green), above is too
# easy (amber), below unrealistic (red); once for the current target and once for the suggestion. The notes say
# when the history is short, has gaps or a baseline at zero. The first table judges the current levels; the second
# shows each method's suggestion.

# %%
evidence = targets.evidence(ctx)
record(current_verdicts=targets.current(evidence)["current_verdict"].value_counts().to_dict())
page.show(step_tables.evidence(ctx, evidence))

# %% [markdown]
# ## History against the levels
#
# One chart per role, with a panel per KPI. Each panel shows the KPI's median per period across the role's people
# (the shaded area holds the middle half), the current threshold, target and stretch (or ranges) as bold lines, and
# the percentile suggestion as thin lines. Charts are drawn for one team at a time: for the whole organization
# they would run into the hundreds, so each team's report has its own.

# %% [markdown] tags=["workshop"]
# Run this notebook per team (`kpi-workbook run --all-teams`), or chart any KPI with the live form below. In a
# workshop the charts are drawn when you press the button below, so that the step opens at once.

# %%
record(history_charts=len(targets.current(evidence)) if ctx.team else 0)
page.show(step_tables.history_charts(ctx, evidence), on_demand="Show each KPI's history against its levels")

# %% [markdown] tags=["workshop"]
# ## Set weights and levels (live)
#
# Choose a role and set its weights until the total reads 100. Then choose a KPI and type its levels: the chart
# and the share of past values meeting the target update as you type, and what you type is kept in the
# framework at once; **Save** checks everything first (bands in the wrong order are an error) and writes the
# role files.

# %% tags=["workshop"]
if interactive:
    display(widgets.TargetsForm(page.editor, ctx.actuals, ctx.employees, team=ctx.team),
            widgets.SavePanel(page.editor, team=ctx.team), widgets.redrawn(page.editor, widgets.targets_tables(ctx)))

# %% [markdown] tags=["workshop"]
# ## What to do next
#
# Share the levels with the people they apply to before the period starts. At the end of each period, import
# the actuals (`kpi-workbook import-actuals`) and go to **step 5, review** (`05_review.ipynb`).
