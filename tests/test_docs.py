"""The documentation: the site builds offline in strict mode, its reference pages cover every command, option and
model field, every field has a description, and the README stays a short front page."""

from __future__ import annotations

import functools
import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


@functools.cache
def _hook():
    """docs/hooks/reference.py, the MkDocs hook that generates the reference pages."""
    spec = importlib.util.spec_from_file_location("docs_reference_hook", ROOT / "docs" / "hooks" / "reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def _file_model_classes() -> list[type[BaseModel]]:
    """Every model of the files the package reads, and every other pydantic model of the modules defining them."""
    models = [model for entry in _hook().file_models() for model in entry.models]
    for module in {sys.modules[model.__module__] for model in models}:
        models += [value for value in vars(module).values() if isinstance(value, type) and issubclass(value, BaseModel)
                   and value is not BaseModel and value.__module__ == module.__name__]
    return list(dict.fromkeys(models))


def test_every_model_field_has_a_description():
    missing = [f"{model.__module__}.{model.__name__}.{name}" for model in _file_model_classes()
               for name in model.model_fields if not _hook().description(model, name).strip()]
    assert not missing, "fields without a description (write a docstring under each): " + ", ".join(missing)


def test_readme_is_a_short_front_page():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    blocks = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S))
    for command in ("make run", "make test", "pip install build", "make docs"):
        assert re.search(rf"^{re.escape(command)}\b", blocks, flags=re.M), command
    assert "site/index.html" in text


def _documented_command_lines() -> list[tuple[str, str]]:
    """(page, command line) of every `kpi-workbook` command in a code block of the docs and the README."""
    found = []
    for page in [README, *sorted((ROOT / "docs").rglob("*.md"))]:
        for block in re.findall(r"```[a-z]*\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S):
            for line in block.replace("\\\n", " ").splitlines():
                for part in re.split(r"&&|;|\|", line.split(" #")[0]):
                    if re.match(r"\s*(\S*/)?kpi-workbook \S", part):
                        found.append((page.name, part.strip()))
    return found


def test_documented_commands_and_options_exist():
    group = _hook().cli_command()
    lines = _documented_command_lines()
    wrong = []
    for page, line in lines:
        words = line.split()
        command = group.commands.get(words[1])
        if command is None:
            wrong.append(f"{page}: {line}")
            continue
        known = {opt for param in command.params for opt in (*param.opts, *getattr(param, "secondary_opts", []))}
        wrong += [f"{page}: {line} ({word})" for word in words[2:]
                  if re.fullmatch(r"--?[A-Za-z][\w-]*", word) and word.split("=")[0] not in known | {"--help"}]
    assert len(lines) > 20 and not wrong, wrong


def _text(page: Path) -> str:
    """A built page's text, without tags."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built once with `mkdocs build --strict` into a temporary folder, offline."""
    out = tmp_path_factory.mktemp("docs") / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
               "--site-dir", str(out)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "WARNING" not in done.stderr, done.stderr[-4000:]
    return out


@pytest.mark.slow
def test_site_has_every_page_and_no_network_reference(site):
    for page in ("index.html", "tutorials/facilitator.html", "tutorials/analyst.html", "tutorials/manager.html",
                 "reference/cli.html", "reference/files.html", "reference/measure-kinds.html",
                 "reference/checks.html", "reference/api.html", "explanation/architecture.html",
                 "notebooks/01_strategic_goals.html", "notebooks/05_review.html"):
        assert (site / page).is_file(), page
    fetched = {f"{page.relative_to(site)}: {url}" for page in site.rglob("*.html")
               for url in re.findall(r'(?:src|<link[^>]*href)="(https?://[^"]*)"', page.read_text(encoding="utf-8"))}
    assert not fetched, sorted(fetched)[:10]  # no script, stylesheet or font from the network, even in the browser


@pytest.mark.slow
def test_cli_reference_has_every_command_and_option(site):
    text = _text(site / "reference" / "cli.html")
    group = _hook().cli_command()
    missing = []
    for name, command in group.commands.items():
        if command.hidden:
            continue
        if f"kpi-workbook {name}" not in text:
            missing.append(name)
        for param in command.params:
            flags = [opt for opt in param.opts if opt.startswith("--")] or [param.name]
            if not getattr(param, "hidden", False) and not any(flag in text for flag in flags):
                missing.append(f"{name} {flags[0]}")
    assert group.commands and not missing, missing


@pytest.mark.slow
def test_files_reference_has_every_model_field(site):
    text = _text(site / "reference" / "files.html")
    missing = [f"{entry.file}: {model.__name__}.{name}" for entry in _hook().file_models() for model in entry.models
               for name, field in model.model_fields.items()
               if not re.search(rf"\b{re.escape(field.alias or name)}\b", text)]
    assert not missing, missing
    flat = re.sub(r"[\s`]", "", text)
    undescribed = [f"{model.__name__}.{name}" for entry in _hook().file_models() for model in entry.models
                   for name in model.model_fields
                   if re.sub(r"[\s`]", "", _hook().description(model, name)) not in flat]
    assert not undescribed, undescribed


@pytest.mark.slow
def test_registries_are_in_the_reference(site):
    from kpi_workbook.analysis.checks import RULES
    from kpi_workbook.analysis.measures.kinds import KINDS

    kinds = _text(site / "reference" / "measure-kinds.html")
    assert [kind for kind in KINDS if kind not in kinds] == []
    checks = _text(site / "reference" / "checks.html")
    assert [rule.id for rule in RULES if rule.id not in checks] == []
    api = _text(site / "reference" / "api.html")
    assert "open_workspace" in api and "score_actuals" in api
