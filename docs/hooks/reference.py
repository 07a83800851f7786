"""Reference pages generated at build time from the code, never retyped.

An MkDocs hook (``hooks:`` in mkdocs.yml). It adds these pages to the site:

- ``reference/cli.md``: every command of the ``kpi-workbook`` typer app with its arguments and options;
- ``reference/files.md``: every field of every workspace file, from the pydantic models and their field docstrings;
- ``reference/measure-kinds.md``: the measure kinds of ``kpi_workbook.analysis.measures.kinds.KINDS``;
- ``reference/checks.md``: the check rules of ``kpi_workbook.analysis.checks.RULES`` and the issue codes of
  ``kpi_workbook.core.issue_codes.Code``;
- ``notebooks/*.ipynb``: the five step notebooks of ``notebooks/`` (rendered by mkdocs-jupyter, not executed).

``tests/test_docs.py`` imports this module for the list of file models (``FILE_MODELS``) and the commands.
"""

from __future__ import annotations

import ast
import enum
import functools
import inspect
import textwrap
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


@dataclass(frozen=True)
class FileModels:
    """One workspace (or bundled) file: its name, how its entries sit in it, and the models of its fields."""

    file: str
    layout: str
    models: tuple[type[BaseModel], ...]


def file_models() -> list[FileModels]:
    """Every YAML file the package reads, with the models that check it (top model first, then nested ones)."""
    from kpi_workbook.analysis.categories import Taxonomy, Term
    from kpi_workbook.core.measures import Aggregate, Duration, Measure, PerEntity, Ratio
    from kpi_workbook.core.model import (
        KpiDefinition,
        Metadata,
        Objective,
        Responsibility,
        Role,
        RoleKpi,
        Settings,
        Team,
    )
    from kpi_workbook.workspace.changelog import ChangeEntry
    from kpi_workbook.workspace.sources import Source, TextToNumber

    return [
        FileModels("framework.yaml", "the fields at the top level; `settings:` holds the check settings",
                   (Metadata, Settings)),
        FileModels("objectives.yaml", "`objectives:`, a list of objectives", (Objective,)),
        FileModels("teams.yaml", "`teams:`, a list of teams", (Team,)),
        FileModels("kpis.yaml", "`kpis:`, a list of KPI definitions; a definition's `measure:` says how "
                   "`kpi-workbook compute` computes it (see [Measure kinds](measure-kinds.md))",
                   (KpiDefinition, Measure, Aggregate, Ratio, Duration, PerEntity)),
        FileModels("roles/<id>.yaml", "one role per file, its fields at the top level; `responsibilities:` and "
                   "`kpis:` are lists", (Role, Responsibility, RoleKpi)),
        FileModels("sources.yaml", "`sources:`, a list of the raw exports measures read", (Source, TextToNumber)),
        FileModels("changelog.yaml", "`entries:`, a list written by `kpi-workbook diff --record`", (ChangeEntry,)),
        FileModels("data/categories.yaml", "the bundled taxonomy: one section per classification, each value with "
                   "its documentation", (Taxonomy, Term)),
        FileModels("data/kpi_library.yaml", "the bundled KPI library: `kpis:`, a list of KPI definitions as in "
                   "kpis.yaml", (KpiDefinition,)),
    ]



# --- field descriptions ---------------------------------------------------------------------------------------

@functools.cache
def _attribute_docstrings(cls: type) -> dict[str, str]:
    """The docstring written under each annotated attribute of a class's own body, by attribute name."""
    try:
        body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
    except (OSError, TypeError, IndexError, AttributeError):
        return {}
    return {node.target.id: inspect.cleandoc(following.value.value)
            for node, following in zip(body, body[1:], strict=False)
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)}


def description(model: type[BaseModel], name: str) -> str:
    """A field's description: its `Field(description=...)`, else the docstring under it in its class (read here,
    at build time, so that building the models at run time never parses their source)."""
    given = model.model_fields[name].description
    if given:
        return given
    for cls in model.__mro__:
        if isinstance(cls, type) and issubclass(cls, BaseModel) and name in _attribute_docstrings(cls):
            return _attribute_docstrings(cls)[name]
    return ""


# --- types in words -------------------------------------------------------------------------------------------

def type_text(annotation: object, page: str = "") -> str:
    """A field's type as a reader of the YAML file needs it: `text`, `number`, a list of enum values, ..."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_text(args[0], page)
    if origin in (typing.Union, types.UnionType):
        parts = [type_text(a, page) for a in args if a is not type(None)]
        return " or ".join(dict.fromkeys(parts))
    if origin is typing.Literal:
        return " or ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list of {type_text(args[0], page)}"
    if origin is tuple:
        return f"[{', '.join(type_text(a, page) for a in args)}]"
    if origin is dict:
        return f"mapping of {type_text(args[0], page)} to {type_text(args[1], page)}"
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return ", ".join(f"`{m.value}`" for m in annotation)
        if issubclass(annotation, BaseModel):
            return f"[{annotation.__name__}]({page}#{annotation.__name__.lower()})"
        names = {str: "text", int: "integer", float: "number", bool: "true/false"}
        if annotation in names:
            return names[annotation]
        if annotation.__name__ == "date":
            return "date (YYYY-MM-DD)"
        return annotation.__name__
    return str(annotation)


def _default_text(field: object) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return "defaults below"
        return f"`{value}`" if value not in ([], {}) else "empty"
    value = field.default
    if value is None or value is PydanticUndefined:
        return "none"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, BaseModel):
        return "defaults below"
    return f"`{value}`" if value != "" else "empty"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def model_table(model: type[BaseModel], page: str = "") -> str:
    """A model's fields as a Markdown table: YAML key, type, default, description."""
    rows = ["| Field | Type | Default | Description |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        key = field.alias or name
        rows.append(f"| `{key}` | {_cell(type_text(field.annotation, page))} | {_default_text(field)} "
                    f"| {_cell(description(model, name))} |")
    return "\n".join(rows)


def files_page() -> str:
    parts = ["# Workspace files\n",
             "Generated from the pydantic models that read each file (`kpi_workbook.core.model`, "
             "`kpi_workbook.core.measures`, `kpi_workbook.workspace.sources`, `kpi_workbook.workspace.changelog`, "
             "`kpi_workbook.analysis.categories`): each field's description is the docstring under it in the "
             "model. Files are read strictly: an unknown field is an error.\n"]
    seen: set[type[BaseModel]] = set()
    for entry in file_models():
        parts.append(f"## `{entry.file}`\n\n{entry.layout[0].upper() + entry.layout[1:]}.\n")
        for model in entry.models:
            if model in seen:
                parts.append(f"Fields of {model.__name__}: see [above](#{model.__name__.lower()}).\n")
                continue
            seen.add(model)
            doc = inspect.getdoc(model) or ""
            parts.append(f"### {model.__name__}\n\n{doc}\n\n{model_table(model)}\n")
    return "\n".join(parts)


# --- the command line -------------------------------------------------------------------------------------------

def cli_command():
    """The click group of the `kpi-workbook` typer app, with every command module registered."""
    import typer.main

    from kpi_workbook.cli import _register_commands, app

    _register_commands()
    return typer.main.get_command(app)


def cli_page() -> str:
    import typer
    from typer.cli import get_docs_for_click

    command = cli_command()
    docs = get_docs_for_click(obj=command, ctx=typer.Context(command), name="kpi-workbook",
                              title="Command line")
    intro = ("Generated from the typer application (`kpi_workbook.cli.app`) at every build: the same text as "
             "`kpi-workbook COMMAND --help`. Every command that works on a workspace takes `--workspace/-w DIR` "
             "(default: `$KPI_WORKBOOK_WORKSPACE`, else the current folder; `sample` names the bundled sample, "
             "read only). Bad input gives one `error:` line per problem, never a traceback.\n")
    title, _, rest = docs.partition("\n")
    return f"{title}\n\n{intro}{rest}".replace(str(ROOT), "<checkout>")


# --- registries --------------------------------------------------------------------------------------------------

def measure_kinds_page() -> str:
    from kpi_workbook.analysis.measures.kinds import KINDS
    from kpi_workbook.core.measures import Measure

    parts = ["# Measure kinds\n",
             "Generated from the registry `kpi_workbook.analysis.measures.kinds.KINDS`: a KPI definition's "
             "`measure:` holds exactly one of these kinds, plus the fields every measure shares (below). "
             "Adding a kind: its model in `kpi_workbook.core.measures` and one module registered in `KINDS` "
             "(see [Add a measure kind](../how-to/new-measure.md)).\n"]
    for name, kind in KINDS.items():
        field = Measure.model_fields[name]
        parts.append(f"## `{name}`\n\n{description(Measure, name)}\n\nModule: `{type(kind).__module__}`, class "
                     f"`{type(kind).__name__}`.\n")
        model = next((a for a in typing.get_args(field.annotation) if isinstance(a, type)
                      and issubclass(a, BaseModel)), None)
        if model is not None:
            parts.append(f"{inspect.getdoc(model) or ''}\n\n{model_table(model, 'files.md')}\n")
        else:
            parts.append(f"Written as `{name}: <expression>`. {inspect.getdoc(type(kind)) or ''}\n")
    shared = [n for n in Measure.model_fields if n not in KINDS]
    parts.append("## Fields every measure shares\n\n| Field | Type | Default | Description |\n|---|---|---|---|")
    for name in shared:
        field = Measure.model_fields[name]
        parts.append(f"| `{name}` | {_cell(type_text(field.annotation, 'files.md'))} | {_default_text(field)} "
                     f"| {_cell(description(Measure, name))} |")
    return "\n".join(parts) + "\n"


def checks_page() -> str:
    from kpi_workbook.analysis.checks import RULES

    parts = ["# Check rules\n",
             "Generated from the registry `kpi_workbook.analysis.checks.RULES`: each rule is one function "
             "registered with `@rule(\"<id>\")`, and its docstring is what it checks (severity first). "
             "`kpi-workbook validate` runs them all; see [Check a framework](../how-to/validate.md).\n",
             "| Rule | Module | What it finds |", "|---|---|---|"]
    for rule in RULES:
        module = rule.check.__module__.rsplit(".", 1)[-1]
        parts.append(f"| `{rule.id}` | `{module}` | {_cell(rule.doc)} |")
    return "\n".join([*parts, "", issue_codes_text()]) + "\n"


def issue_codes_text() -> str:
    """Every issue code of the registry `kpi_workbook.core.issue_codes.Code`, with its meaning."""
    from kpi_workbook.core.issue_codes import Code

    parts = ["## Issue codes\n",
             "Generated from the registry `kpi_workbook.core.issue_codes.Code`. Every problem, finding and error "
             "carries one of these stable codes (`code` in `kpi-workbook validate --format json` or `csv`); a "
             "finding's code is the id of the rule that made it. Match on the code, not on the wording.\n",
             "| Code | Meaning |", "|---|---|"]
    parts += [f"| `{code}` | {_cell(code.meaning)} |" for code in Code]
    return "\n".join(parts)


def layers_text() -> str:
    """The import-linter contracts of pyproject.toml in words: the layers top to bottom, and the other contracts."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    lines = []
    for contract in config["contracts"]:
        if contract["type"] == "layers":
            lines.append(f"**{contract['name']}**\n")
            for i, layer in enumerate(contract["layers"], 1):
                names = " and ".join(f"`{name.strip()}/`" for name in layer.split("|"))
                side = " (side by side: neither imports the other)" if "|" in layer else ""
                lines.append(f"{i}. {names}{side}")
            lines.append("")
        else:
            lines.append(f"**{contract['name']}** (`{contract['type']}`)\n")
    return "\n".join(lines)


PLACEHOLDERS = {"<!-- layers -->": layers_text}


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Fill the placeholders of hand-written pages with text generated from the project's files."""
    for placeholder, make in PLACEHOLDERS.items():
        if placeholder in markdown:
            markdown = markdown.replace(placeholder, make())
    return markdown


# --- the hook -----------------------------------------------------------------------------------------------------

GENERATED = {
    "reference/cli.md": cli_page,
    "reference/files.md": files_page,
    "reference/measure-kinds.md": measure_kinds_page,
    "reference/checks.md": checks_page,
}


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns the notebooks into pages
def on_files(files: Files, config) -> Files:
    """Add the generated reference pages and the step notebooks to the site's files."""
    for uri, make in GENERATED.items():
        files.append(File.generated(config, uri, content=make()))
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        files.append(File(f"notebooks/{notebook.name}", src_dir=str(ROOT), dest_dir=config["site_dir"],
                          use_directory_urls=config["use_directory_urls"]))
    return files
