"""Step 1's strategy map: its data against the sample's YAML files and the store's scores read independently, the SVG
(well-formed, nothing that runs or loads, one node per objective by name, hostile names escaped), the note without
Graphviz, the live redraw, and the map in the executed step 1 notebook."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import papermill as pm
import pytest
import yaml
from IPython.display import Markdown

from kpi_workbook.analysis.scoring import score_actuals
from kpi_workbook.analysis.strategy_map import StrategyMap, strategy_map
from kpi_workbook.core.model import Framework, Perspective
from kpi_workbook.core.paths import NOTEBOOKS_DIR, SAMPLE_ORG_DIR
from kpi_workbook.editing.editor import FrameworkEditor
from kpi_workbook.reports.strategy_map import alt_text, strategy_map_svg, strategy_map_view
from kpi_workbook.steps import open_step
from kpi_workbook.widgets.objectives import ObjectivesForm
from kpi_workbook.workspace.files import ACTUALS_DB

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert(1)</script> & "x"'
PERIOD = "2025Q4"  # the sample's latest quarter
GREEN_AT, AMBER_AT = 100.0, 50.0


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A copy of the sample organization with its actuals store built."""
    root = tmp_path_factory.mktemp("strategy_map") / "sample_org"
    shutil.copytree(SAMPLE_ORG_DIR, root, ignore=shutil.ignore_patterns(f"{ACTUALS_DB}*"))
    open_step(root).store.periods()
    return root


class YamlFiles:
    """The sample's objectives, role KPI assignments and KPI names, read from its YAML files without the package."""

    def __init__(self, root: Path):
        self.objectives = yaml.safe_load((root / "objectives.yaml").read_text())["objectives"]
        self.roles = [yaml.safe_load(p.read_text()) for p in sorted((root / "roles").glob("*.yaml"))]
        self.kpi_names = {k["id"]: k["name"] for k in yaml.safe_load((root / "kpis.yaml").read_text())["kpis"]}

    def roles_of(self, team: str) -> list[dict]:
        return [r for r in self.roles if not team or team in r.get("teams", [])]

    def links(self, team: str = "") -> set[tuple[str, str, str]]:
        """(objective, role, KPI) of every assignment of the team's roles (every role for no team)."""
        return {(o, r["id"], a["kpi"]) for r in self.roles_of(team) for a in r.get("kpis", [])
                for o in a.get("objectives", [])}

    def shown(self, team: str) -> set[str]:
        """The objectives a team's map shows: those its KPIs serve and every objective above them."""
        parent = {o["id"]: o.get("parent") for o in self.objectives}
        found, pending = set(), [o for o, _, _ in self.links(team)]
        while pending:
            current = pending.pop()
            if current and current not in found:
                found.add(current)
                pending.append(parent[current])
        return found


@pytest.fixture(scope="module")
def files(workspace) -> YamlFiles:
    return YamlFiles(workspace)


def _scope(workspace: Path, team: str) -> tuple[Framework, object, list | None]:
    """The framework, the store's scores of the scope's people and the scope's roles (None: the organization)."""
    ctx = open_step(workspace, team, PERIOD)
    scores = score_actuals(ctx.actuals_to_date, ctx.employees, ctx.framework)
    return ctx.framework, scores, None if ctx.is_organization else ctx.roles


@pytest.fixture(scope="module")
def maps(workspace) -> dict[str, tuple[StrategyMap, object]]:
    """The map and the scores behind it, for the organization and the sales team."""
    found = {}
    for team in ("", "sales"):
        framework, scores, roles = _scope(workspace, team)
        found[team] = strategy_map(framework, scores, PERIOD, roles), scores
    return found


@pytest.mark.parametrize("team", ["", "sales"])
def test_map_holds_each_objective_in_its_perspective_every_parent_edge_and_every_kpi_serving_it(maps, files, team):
    data, _ = maps[team]
    wanted = files.shown(team) if team else {o["id"] for o in files.objectives}
    assert {o.id for o in data.objectives} == wanted
    by_id = {o["id"]: o for o in files.objectives}
    assert {o.id: (o.title, o.perspective.value) for o in data.objectives} == {
        i: (by_id[i]["title"], by_id[i]["perspective"]) for i in wanted}
    assert sorted(data.edges) == sorted((by_id[i]["parent"], i) for i in wanted if by_id[i].get("parent"))
    serving = {i: {files.kpi_names[k] for o, _, k in files.links(team) if o == i} for i in wanted}
    assert {o.id: {k.name for k in o.kpis} for o in data.objectives} == serving
    assert all(len(o.kpis) == len({k.id for k in o.kpis}) for o in data.objectives), "each KPI once"
    for perspective in Perspective:
        assert all(o.perspective is perspective for o in data.in_perspective(perspective))


def _weighted(scores, links: set[tuple[str, str, str]], objective: str, kpi: str = "") -> tuple[float, str]:
    """Σ weight × score / Σ weight over the period's scored rows of the role KPIs serving the objective, and its
    status (green at 100, amber at 50, red below, grey without a score)."""
    pairs = {(r, k) for o, r, k in links if o == objective and (not kpi or k == kpi)}
    rows = scores[scores["period"].astype(str) == PERIOD]
    mine = np.array([(r, k) in pairs for r, k in zip(rows["role"].astype(str), rows["kpi_id"].astype(str),
                                                        strict=True)], dtype=bool)
    score, weight = rows["score"].to_numpy()[mine], rows["weight"].to_numpy()[mine]
    has = ~np.isnan(score)
    if not has.any() or weight[has].sum() == 0:
        return math.nan, "grey"
    value = float((weight[has] * score[has]).sum() / weight[has].sum())
    return value, "green" if value >= GREEN_AT else "amber" if value >= AMBER_AT else "red"


@pytest.mark.parametrize("team", ["", "sales"])
def test_status_of_an_objective_is_the_weighted_status_of_the_kpis_serving_it(maps, files, team):
    data, scores = maps[team]
    links = files.links(team)
    assert data.period == PERIOD
    for objective in data.objectives:
        score, status = _weighted(scores, links, objective.id)
        assert objective.status == status, objective.id
        assert objective.score == pytest.approx(score, nan_ok=True), objective.id
        for kpi in objective.kpis:
            assert kpi.status == _weighted(scores, links, objective.id, kpi.id)[1], (objective.id, kpi.id)
    assert {o.status for o in data.objectives} - {"grey"}, "the sample's scores colour the map"


def _svg(data: StrategyMap, scope: str = "") -> tuple[str, ElementTree.Element]:
    text = strategy_map_svg(data, scope)
    return text, ElementTree.fromstring(text)


def _nodes(root: ElementTree.Element) -> dict[str, str]:
    """Each node group's title and all the text drawn in it."""
    return {g.find(f"{SVG}title").text: " ".join(t.text or "" for t in g.iter(f"{SVG}text"))
            for g in root.iter(f"{SVG}g") if g.get("class") == "node"}


@pytest.mark.parametrize("team", ["", "sales"])
def test_svg_is_well_formed_runs_and_loads_nothing_and_has_one_named_node_per_objective(maps, team):
    data, _ = maps[team]
    text, root = _svg(data)
    tags = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert not tags & {"script", "foreignObject", "a", "image", "use", "style"}
    links = [(e.tag, name) for e in root.iter() for name in e.attrib if name.endswith("href") or name == "src"]
    assert links == []
    assert not [e for e in root.iter() for v in e.attrib.values() if "http" in v or "url(" in v]
    assert "<!DOCTYPE" not in text and "<?xml" not in text
    nodes = _nodes(root)
    assert sorted(nodes) == sorted(o.title for o in data.objectives), "one node per objective, named by title"
    for objective in data.objectives:
        drawn = nodes[objective.title]
        assert objective.id not in drawn.split() or objective.id in objective.title.split(), "names, not ids"
        assert objective.title.split()[0] in drawn
        assert {"green": "✓ green", "amber": "! amber", "red": "✗ red", "grey": "? no data"}[objective.status] in drawn
        assert all(k.name.split()[0] in drawn for k in objective.kpis)
    assert root.get("role") == "img" and root.get("aria-label") == root.find(f"{SVG}title").text


def test_alt_text_says_what_the_map_shows(maps):
    data, _ = maps[""]
    counts = data.status_counts()
    alt = alt_text(data, "Alderbrook")
    assert alt.startswith(f"Strategy map of Alderbrook: {len(data.objectives)} objectives in 4 perspectives; ")
    assert all(f"{n} {'no data' if s == 'grey' else s}" in alt for s, n in counts.items() if n)
    assert f"in {PERIOD}" in alt


def test_hostile_names_are_escaped(small_framework):
    framework = small_framework.model_copy(deep=True)
    framework.objectives[0] = framework.objectives[0].model_copy(update={"title": HOSTILE})
    framework.kpis[0] = framework.kpis[0].model_copy(update={"name": f"Win {HOSTILE}"})
    framework.metadata.organization = HOSTILE
    data = strategy_map(framework)
    text, root = _svg(data, HOSTILE)
    assert "<script" not in text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in text
    assert not [e for e in root.iter() if e.tag.removeprefix(SVG) == "script"]
    assert HOSTILE in _nodes(root)
    drawn = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "<script>alert(1)</script>" in drawn and '"x"' in drawn
    assert HOSTILE in root.get("aria-label")


def test_a_map_without_scores_is_grey_and_names_every_perspective(small_framework):
    data = strategy_map(small_framework)
    assert {o.status for o in data.objectives} == {"grey"} and data.period == ""
    _, root = _svg(data)
    notes = [g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g") if g.get("class") == "note"]
    assert notes == ["No customer objective", "No internal process objective"]
    drawn = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert all(label in drawn for label in ("Financial", "Customer", "Internal process", "Learning & growth"))


def test_without_graphviz_a_one_line_note_says_how_to_install_it(small_framework, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on the path
    shown = strategy_map_view(strategy_map(small_framework))
    assert isinstance(shown, Markdown)
    assert "\n" not in shown.data
    assert "apt-get install graphviz" in shown.data and "conda install graphviz" in shown.data


def test_the_live_map_is_drawn_again_when_the_objectives_change(workspace):
    editor = FrameworkEditor(workspace)
    form = ObjectivesForm(editor)
    drawn: list[list[str]] = []
    form.redrawn(lambda framework: drawn.append([o.id for o in framework.objectives]))
    form.id.value, form.title.value, form.perspective.value = "happy_staff", "Engaged staff", "learning_growth"
    form.add_button.click()
    assert len(drawn) == 2 and "happy_staff" not in drawn[0] and "happy_staff" in drawn[1]
    form.remove_button.click()
    assert len(drawn) == 3 and "happy_staff" not in drawn[2]


@pytest.mark.slow
def test_step_1_notebook_shows_the_map_first(workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    output = tmp_path / "01.ipynb"
    pm.execute_notebook(str(NOTEBOOKS_DIR / "01_strategic_goals.ipynb"), str(output), kernel_name="python3",
                        parameters={"workspace": str(workspace), "team": "sales", "interactive": False},
                        progress_bar=False)
    nb = json.loads(output.read_text(encoding="utf-8"))
    outputs = [o for cell in nb["cells"] for o in cell.get("outputs", []) if o.get("output_type") != "stream"]
    pictures = [i for i, o in enumerate(outputs) if "image/svg+xml" in o.get("data", {})]
    assert pictures, "the notebook shows the strategy map as SVG"
    svg = "".join(outputs[pictures[0]]["data"]["image/svg+xml"])
    root = ElementTree.fromstring(svg)
    titles = yaml.safe_load((workspace / "objectives.yaml").read_text())["objectives"]
    assert sorted(_nodes(root)) == sorted(o["title"] for o in titles if o["id"] in YamlFiles(workspace).shown("sales"))
    first_figure = next(i for i, o in enumerate(outputs) if {"image/png", "image/svg+xml"} & set(o.get("data", {})))
    assert first_figure == pictures[0], "the map comes before the other figures"
