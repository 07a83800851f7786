"""A form for step 5: the period's ratings per person and KPI, as the review meeting decides them."""

from __future__ import annotations

__all__ = ["RatingsForm"]

import html

import ipywidgets as w

from kpi_workbook.core.errors import InputError, KpiWorkbookError
from kpi_workbook.editing.ratings import RatingSheet, is_rated
from kpi_workbook.widgets.common import (
    STYLE,
    button,
    clear_on_change,
    dropdown,
    plain,
    set_status,
    text,
    typed_number,
)
from kpi_workbook.workspace.opener import Workspace


def _parse(name: str, typed: str) -> float | None:
    """A typed rating (blank: none); InputError in plain words otherwise."""
    return typed_number(name, typed, "4 or 3.5, or leave it blank")


class RatingsForm(w.VBox):
    """Pick a period and a rated KPI (rated on a scale such as 1-5); type each person's rating; Save stores them
    through the actuals import, with who rated and when. Values off the scale are refused with a message.

    `team` is the team whose people are rated; `periods` the periods offered (the latest first is chosen).
    """

    def __init__(self, workspace: Workspace, team: str, periods: list[str]):
        self.workspace = workspace
        self.team = team
        framework = workspace.framework
        roles = framework.roles_of_team(team)
        definitions = [framework.kpi(k.kpi) for r in roles for k in r.kpis]
        rated = {d.id: d.name for d in definitions if d is not None and is_rated(d)}
        self.period = dropdown("Period", list(reversed(periods)))
        self.kpi = dropdown("KPI", [(rated[k], k) for k in sorted(rated)])
        self.rated_by = text("Rated by", placeholder="e.g. sales review meeting, J. Smith")
        self.rows = w.VBox()
        self.fields: dict[str, w.Text] = {}
        self.scale = w.HTML()
        self.save_button = button("Save ratings", "primary", "check the ratings and store them for this period")
        self.save_button.layout.align_self = "flex-start"  # as wide as its label, not the whole page
        self.status = w.HTML()
        self.period.observe(self._load, names="value")
        self.kpi.observe(self._load, names="value")
        clear_on_change(self.status, self.rated_by)
        self.save_button.on_click(lambda _b: self._save())
        self._load()
        super().__init__([self.period, self.kpi, self.scale, self.rows, self.rated_by, self.save_button, self.status])

    def sheet(self) -> RatingSheet | None:
        """The sheet the form shows (None without a rated KPI or a period)."""
        definition = self.workspace.framework.kpi(self.kpi.value or "")
        if definition is None or not self.period.value:
            return None
        return RatingSheet(self.workspace, self.period.value, self.team, definition)

    def _shown_sheet(self) -> RatingSheet:
        """The sheet whose fields the form shows (it has fields and Save only while it shows one)."""
        sheet = self.sheet()
        if sheet is None:
            raise InputError("Choose a period and a rated KPI first.")
        return sheet

    def _load(self, _change: object = None) -> None:
        """Show the sheet's people with their stored ratings, and clear any earlier message."""
        sheet = self.sheet()
        self.status.value = ""
        if sheet is None:
            self.scale.value = "<i>No KPI of this team is rated on a scale (e.g. unit 'rating (1-5)').</i>"
            self.rows.children, self.fields = [], {}
            self.save_button.disabled = True
            return
        low, high = sheet.scale
        self.scale.value = f"{html.escape(sheet.kpi.name)}: a rating from <b>{low:g}</b> to <b>{high:g}</b>; blank " \
                           "means not rated"
        stored = sheet.current()
        self.fields, rows = {}, []
        for person, name in sheet.people().itertuples(index=False):
            value = stored.get(person)
            field = w.Text(value="" if value is None else f"{value:g}", placeholder="not rated",
                           continuous_update=True, style=STYLE, layout=w.Layout(width="8em"))
            field.observe(lambda _change: self._check(), names="value")
            self.fields[person] = field
            rows.append(w.HBox([w.HTML(f"{html.escape(name)} <small>({html.escape(person)})</small>",
                                       layout=w.Layout(width="24em")), field]))
        self.rows.children = rows
        self.save_button.disabled = not rows

    def ratings(self) -> dict[str, float | None]:
        """The ratings as typed, by employee id; InputError (plain words) for what is not a number."""
        names: dict[str, str] = dict(zip(*self._shown_sheet().people().to_dict("list").values(), strict=True))
        problems, values = [], {}
        for person, field in self.fields.items():
            try:
                values[person] = _parse(names[person], field.value)
            except InputError as exc:
                problems += exc.problems
        if problems:
            raise InputError(problems)
        return values

    def _check(self) -> bool:
        """Check what was typed as it is typed: show the problems, or clear the message."""
        try:
            problems = self._shown_sheet().check(self.ratings())
        except InputError as exc:
            problems = exc.problems
        if problems:
            set_status(self.status, plain(InputError(problems)), ok=False)
        else:
            self.status.value = ""
        return not problems

    def _save(self) -> None:
        try:
            result = self._shown_sheet().save(self.ratings(), self.rated_by.value)
        except InputError as exc:
            set_status(self.status, plain(exc), ok=False)
            return
        except KpiWorkbookError as exc:
            set_status(self.status, f"not saved: {exc}", ok=False)
            return
        set_status(self.status, f"{result.imported} ratings of {self._shown_sheet().kpi.name} for {self.period.value} "
                                f"saved (rated by {self.rated_by.value.strip()}); the review uses them when re-run")
