"""Attribution as of the event date: each row of a source placed under the team its employee was in on the row's
date, from a team history (one row per employee and spell in a team: `start`, `end`, employee, team).

A row whose employee has no spell on its date, or two spells (overlapping history rows), is an error naming the
source, the employee and the date: a guess would move values between teams silently. The two sources are joined
where they are: both files (CSV, Excel, Parquet) or tables of one database.
"""

from __future__ import annotations

__all__ = ["SHOWN", "attributed"]

from functools import partial

import ibis

from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.workspace.database_tables import reason as engine_reason
from kpi_workbook.workspace.database_urls import scrub
from kpi_workbook.workspace.sources import EMPLOYEE, SOURCES_FILE, SPAN_END, SPAN_START, TEAM, WHEN, ReadSource

SHOWN = 5


def attributed(events: ReadSource, history: ReadSource) -> ReadSource:
    """`events` with each row's team taken from `history` on the row's `when` date; InputError for rows with no
    spell or several spells there (one query counts them)."""
    table, spells = events.table, history.table
    end = spells[SPAN_END] if SPAN_END in spells.columns else ibis.null("date")
    spells = spells.select(__who=spells[EMPLOYEE], __team=spells[TEAM], __from=spells[SPAN_START], __to=end)
    numbered = table.drop(TEAM).mutate(__row=ibis.row_number())
    joined = numbered.left_join(spells, (numbered[EMPLOYEE] == spells["__who"])
                                & (spells["__from"] <= numbered[WHEN])
                                & (spells["__to"].isnull() | (spells["__to"] >= numbered[WHEN])))
    matches = joined.group_by("__row").aggregate(__spells=joined["__team"].count(), __who=joined[EMPLOYEE].first(),
                                                 __day=joined[WHEN].first())
    wrong = matches.filter(matches["__spells"] != 1).order_by(["__day", "__who"])
    try:
        found = wrong.aggregate(__n=wrong.count()).to_pyarrow()["__n"][0].as_py()
    except Exception as exc:  # noqa: BLE001 - engines raise their own types; the message names both sources
        said = scrub(engine_reason(exc), events.source.url or history.source.url or "")
        raise InputError(Problem(file=SOURCES_FILE, entry=f"source '{events.source.name}'", field="team_as_of",
                                 message=(f"cannot join it with the team history '{history.source.name}' ({said}): "
                                          "both must be files, or tables of one database; in a warehouse, join the "
                                          "history in the source's `query:`"))) from None
    if found:
        raise InputError(_problems(events, history, wrong, found))
    placed = joined.select(*[c for c in numbered.columns if c != "__row"], **{TEAM: joined["__team"]})
    return ReadSource(events.source, placed, events.rows)


def _problems(events: ReadSource, history: ReadSource, wrong: ibis.Table, found: int) -> list[Problem]:
    problem = partial(Problem, file=events.source.location, field=events.source.employee or "")
    first = wrong.limit(SHOWN).to_pyarrow().to_pylist()
    problems = [problem(message=(
        f"employee {row['__who']!r} has {'no' if row['__spells'] == 0 else row['__spells']} team spell(s) in "
        f"source '{history.source.name}' on {row['__day']}; fix the history (one spell per day) or the row's date"))
        for row in first]
    if found > SHOWN:
        problems.append(problem(message=f"... and {found - SHOWN} more rows like these"))
    problems.append(Problem(file=SOURCES_FILE, entry=f"source '{events.source.name}'", field="team_as_of",
                            message=f"{found:,} row(s) cannot be placed in a team as of their date"))
    return problems
