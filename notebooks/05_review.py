# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Step 5 · Review

# %% [markdown] tags=["workshop", "notebook-help"]
# **How to use this notebook**
#
# - *In a review meeting:* import the period's actuals (`kpi-workbook import-actuals FILE`), run all cells, walk
#   through the scorecards and the flags, and agree on the changes; make them in steps 1 to 4.
# - *In batch:* `papermill notebooks/05_review.ipynb out.ipynb -p team sales -p period 2025Q4 -p interactive
#   False`, or `kpi-workbook run --all-teams --period 2025Q4` for every team. Pass team ids that look like
#   numbers as raw text: `-r team 007`.
# - *Parameters:* `workspace` (framework folder), `team` (one team's people only; empty means the whole
#   organization), `department` (all its teams), `period` (e.g. 2025Q4; empty means the latest period with
#   actuals), `interactive` (the live ratings form), `people` (each person's score).

# %% tags=["parameters"]
workspace: str = "sample"  # workspace folder (relative to the current folder); "sample": the bundled sample
team: str = ""  # team id such as sales; empty means the whole organization (or the department)
department: str = ""  # department id or name such as commercial: all its teams; empty means no department
period: str = ""  # reporting period such as 2025Q4; empty means the latest with actuals
interactive: bool = True  # show the live forms; False for batch runs and reports
people: bool = False  # show each person's score and values (kpi-workbook run --people); off: counts only

# %%
# %matplotlib inline
from kpi_workbook import widgets
from kpi_workbook.analysis import review, scoring
from kpi_workbook.reports import mode
from kpi_workbook.reports.record import record
from kpi_workbook.steps import open_step
from kpi_workbook.steps import review as step
from kpi_workbook.widgets import review_tables

# %%
mode.set_report_mode(not interactive)  # a report leaves the workshop's text out
ctx = open_step(workspace, team, period, department, ahead=step.analysis)  # in the app: worked out ahead
page = widgets.StepPage(ctx, interactive, editing=False)  # the review edits no framework: drawn once, from the files
record(team=ctx.team, roles=len(ctx.roles), people=len(ctx.employees), period=ctx.period)

# %%
scores, flags, board = step.analysis(ctx)  # the scores, review flags and each KPI's actual against its target
record(flags=flags["flag"].value_counts().to_dict())
page.show(review_tables.summary(ctx, scores, flags, board))

# %% [markdown]
# After what a manager acts on (above), the period's actuals against the targets in detail: how a period is scored,
# the scorecards per team, role and KPI, the trends, **the flags** (targets always exceeded or never met, data gaps,
# framework gaps), whether the framework works, and where the numbers come from.

# %%
mode.scope_line(ctx)

# %% [markdown]
# ## How a period is scored
#
# Each KPI value gets a score from its bands: below the threshold it scores nothing, from threshold to target it
# rises from 50 % to 100 %, from target to stretch from 100 % to 150 %, and it is capped there. Lower-is-better
# and within-range KPIs are scored the same way in their own direction. A person's score is the weighted mean of
# their KPI scores; roles and teams are scored over all their people's KPIs. **Green** means the target was met,
# **amber** between threshold and target, **red** below the threshold, **grey** no data (never counted as zero).
#
# **Actual against target.** A team's actual of a KPI is the team's own value when the KPI is measured per team,
# else the median of the role's people; its status is that actual scored against the bands. The gap is signed in the
# KPI's good direction, so a negative gap is short of the target whether higher or lower is better; within a range
# it is the distance outside the target range. *What needs attention* ranks the KPIs by weight × shortfall (the gap
# in band widths, target to threshold), then those that worsened most since the previous period. The last column
# repeats step 4's verdict where past values met the target too seldom (*unrealistic*) or too often (*too easy*).

# %% [markdown] tags=["workshop"]
# **Good reviews** look at trends, not a single period; ask first whether the data is right; and change a target
# only with the evidence of step 4. **Common mistakes:** reading a red score as a verdict on the person without
# looking at the KPI (a target nobody meets is a target problem), ignoring grey KPIs, and changing five things at
# once.

# %% [markdown]
# ## Scorecards per team

# %%
teams = review.scorecard(scores, ctx.period, "team")
record(team_scores=dict(zip(teams["team"], teams["score"].round(1), strict=True)))
page.show(review_tables.teams(teams))

# %% [markdown]
# ## Scorecards per role
#
# The weighted score of each role in the period (per team), with the share of the weight that had data
# (*data coverage*).

# %%
roles = review.scorecard(scores, ctx.period, "role")
record(role_scores={f"{t}/{r}": s for t, r, s in zip(roles["team"], roles["role"], roles["score"].round(1),
                                                       strict=True)})
page.show(review_tables.roles(roles))

# %%
page.show(review_tables.roles_chart(roles, ctx))

# %% [markdown]
# ## Each role's KPIs in the period
#
# Each team's role KPIs against their targets (for a team, the table at the top). A KPI that is short for the whole
# role points to the target or to an obstacle, rarely to the people. For a team, one chart per role follows with the
# mean score of each KPI across the role's people (in a workshop, one role at a time: pick it above the chart).

# %%
kpis = scoring.roll_up(scores[scores["period"].astype(str) == ctx.period], ("team", "role", "kpi_id"))
record(kpi_status=kpis["status"].astype(str).value_counts().to_dict())
page.show(review_tables.kpis(board, kpis, ctx))

# %% [markdown]
# ## Trends
#
# Weighted scores over the past periods: one line per role for a team, one per team for the whole organization.

# %%
level = "role" if ctx.team else "team"
page.show(review_tables.trends(review.trends(scores, level), level))

# %% [markdown]
# ## Scorecards per person
#
# Each person's weighted score and status, lowest score first, when the report is made with people's scores (one
# row per person of the team; everyone, for the whole organization). Discuss these one to one, not in the team
# meeting.

# %%
scorecards = review.scorecard(scores, ctx.period, "employee")
record(people_scored=len(scorecards), people_status=scorecards["status"].astype(str).value_counts().to_dict())
page.show(review_tables.people(scorecards, ctx, people))

# %% [markdown]
# ## Flags and recommendations
#
# What the review should change, with a recommendation each: a target met at stretch level three periods
# running is too easy; one missed three periods running is never met; a KPI without data is not measured; and so
# on. Work through the warnings first.

# %%
page.show(review_tables.flags(flags))

# %% [markdown]
# ## Is the framework working?
#
# Do the leading KPIs of these roles drive the lagging ones, are their targets as hard as elsewhere, does a KPI show
# signs of being gamed? Each is tested on the stored history; the appendix has every test in detail.

# %% [markdown] tags=["workshop"]
# In a review meeting the tests run when you press the button below (they take a few seconds on the whole
# organization's history), so that the review opens at once; the appendix shows them in detail with its own button.

# %%
evidence = review_tables.evidence(ctx)  # tested once, when first shown
page.show(review_tables.evidence_section(ctx, evidence), on_demand="Test whether the framework works")

# %% [markdown] tags=["workshop"]
# ## Enter the period's ratings (live)
#
# Behaviour and competency KPIs are rated in the review meeting, not exported by a system. Choose the period and
# the rated KPI, type each person's rating on the KPI's scale and your name, and **Save**: the ratings go into the
# actuals store through the same checked import as a file would (the file is kept in `ratings/` with who rated and
# when). Re-run the notebook to see them scored.

# %% tags=["workshop"]
if interactive and ctx.team:
    page.show(review_tables.ratings_form(ctx))

# %% [markdown]
# ## What to do next
#
# Agree on the changes, make them in steps 1 to 4 (objectives, job descriptions, KPIs, targets), and save a new
# version of the framework for the next review cycle.

# %% [markdown] tags=["workshop"]
# `kpi-workbook diff OLD NEW` shows what changed. The per-team Excel export (`kpi-workbook export`) hands the
# scorecards and flags to the teams.

# %% [markdown]
# ## Appendix: where the numbers come from
#
# Before discussing a score, check its data. A **computed** value was calculated from the records a system exported
# (the *source*); the tables show how many source rows were behind it, when it was computed, and the first
# characters of its *definition* hash. Values with the same hash were computed by the same measure on the same
# source settings; a different hash means the measure, its source or the KPI's frequency changed in between, and a
# value computed before today's definition says so: it needs computing again. An **imported** value was entered by
# hand, rated in the review or came from a file of finished values: ask who supplied it. A computed value from very
# few source rows (a person with two deals) deserves care before anyone reads much into it.

# %% [markdown] tags=["workshop"]
# `kpi-workbook compute` computes the values again; `kpi-workbook import-actuals` imports finished values.

# %%
lineage = step.value_lineage(ctx.actuals, ctx.store, ctx.period)
record(values_by_origin=lineage["origin"].value_counts().to_dict())
page.show(review_tables.lineage(lineage, ctx, people))

# %% [markdown]
# ## Appendix: is the framework working? The evidence in detail
#
# Every pair of a leading and a lagging KPI tested, with what it still needs; the share of past values that meet the
# current target per role and team; and each team's spread of scores.

# %%
page.show(review_tables.evidence_appendix(ctx, evidence), on_demand="Show the evidence in detail")
