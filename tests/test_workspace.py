"""Tests of the workspace files: load and save give back identical bytes, saves are atomic, problems are named."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from kpi_workbook.core.errors import InputError
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.model import Framework, Metadata, Objective, Perspective
from kpi_workbook.workspace.files import (
    FRAMEWORK_FILE,
    KPIS_FILE,
    OBJECTIVES_FILE,
    ROLES_DIR,
    TEAMS_FILE,
    framework_files,
    load_framework,
    save_framework,
)

HAND_WRITTEN = {
    "framework.yaml": """\
organization: Hand Made Ltd
version: '3'
review_cycle: half_yearly
date: 2025-02-01
description: A framework typed by hand, with whole numbers for the weights.
settings:
  min_kpis_per_role: 2
  max_kpis_per_role: 6
  weight_total: 100
  achievable_low: 0.5
  achievable_high: 0.8
""",
    "objectives.yaml": """\
objectives:
- id: on_time
  title: Deliver on time
  description: ''
  perspective: internal_process
  owner: COO
  horizon: '2025'
""",
    "teams.yaml": """\
teams:
- id: logistics
  name: Logistics
  department: Operations
""",
    "kpis.yaml": """\
kpis:
- id: on_time_delivery
  name: On-time delivery rate
  description: Share of orders delivered by the promised date.
  formula: orders delivered on time / orders delivered x 100
  unit: '%'
  polarity: higher_is_better
  category: output
  indicator: lagging
  measure_type: quantitative
  frequency: monthly
  data_source: ERP shipments
  owner: Logistics lead
  family: operations
- id: stock_days
  name: Days of stock on hand
  description: Inventory held, in days of average demand.
  formula: inventory value / average daily cost of goods sold
  unit: days
  polarity: within_range
  category: efficiency
  indicator: leading
  measure_type: quantitative
  frequency: monthly
  data_source: ERP inventory
  owner: Logistics lead
  family: operations
""",
    "roles/dispatcher.yaml": """\
id: dispatcher
title: Dispatcher
teams: [logistics]
purpose: |-
  Plan the day's deliveries.
  Keep the stock lean.
responsibilities:
- id: plan_routes
  description: Plan delivery routes
  expected_outcome: Orders leave on the promised day
kpis:
- kpi: on_time_delivery
  weight: 60
  threshold: 90
  target: 95
  stretch: 98.5
  objectives: [on_time]
  responsibility: plan_routes
  review_period: monthly
- kpi: stock_days
  weight: 40
  target_range: [10, 14]
  threshold_range: [7, 20]
  objectives: [on_time]
""",
}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _temporaries(root: Path) -> list[Path]:
    """Hidden files: staged copies, journals, backups; a workspace holds none after a save, failed or not."""
    return [p for p in root.rglob(".*")]


def test_sample_organization_round_trips_byte_for_byte(sample_workspace: Path, tmp_path: Path):
    framework = load_framework(sample_workspace)
    on_disk = {name: data for name, data in _snapshot(sample_workspace).items() if name in framework_files(framework)}
    assert len(on_disk) == 4 + len(framework.roles)
    assert {name: text.encode() for name, text in framework_files(framework).items()} == on_disk
    save_framework(framework, tmp_path / "copy")
    assert _snapshot(tmp_path / "copy") == on_disk


def test_hand_written_files_with_int_weights_round_trip(tmp_path: Path):
    _write(tmp_path, HAND_WRITTEN)
    framework = load_framework(tmp_path)
    assert framework.roles[0].kpis[0].weight == 60.0 and framework.roles[0].kpis[0].stretch == 98.5
    assert framework.roles[0].kpis[1].target_range == (10.0, 14.0)
    assert framework_files(framework) == HAND_WRITTEN
    save_framework(framework, tmp_path)
    assert _snapshot(tmp_path) == {name: text.encode() for name, text in HAND_WRITTEN.items()}


def test_integral_floats_are_saved_as_whole_numbers(tmp_path: Path):
    files = dict(HAND_WRITTEN)
    files["roles/dispatcher.yaml"] = files["roles/dispatcher.yaml"].replace("weight: 60", "weight: 60.0")
    _write(tmp_path, files)
    save_framework(load_framework(tmp_path), tmp_path)
    assert (tmp_path / "roles/dispatcher.yaml").read_text(encoding="utf-8") == HAND_WRITTEN["roles/dispatcher.yaml"]


def test_small_framework_saves_loads_and_saves_identically(tmp_path: Path, small_framework: Framework):
    save_framework(small_framework, tmp_path / "a")
    loaded = load_framework(tmp_path / "a")
    assert loaded == small_framework
    save_framework(loaded, tmp_path / "b")
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")


def test_save_deletes_the_file_of_a_removed_role(tmp_path: Path):
    _write(tmp_path, HAND_WRITTEN)
    framework = load_framework(tmp_path)
    framework.roles = []
    save_framework(framework, tmp_path)
    assert not (tmp_path / "roles/dispatcher.yaml").exists()
    assert load_framework(tmp_path).roles == []


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_failed_save_of_an_unserializable_value_leaves_files_untouched(tmp_path: Path):
    _write(tmp_path, HAND_WRITTEN)
    before = _snapshot(tmp_path)
    framework = load_framework(tmp_path)
    framework.metadata.organization = "Renamed Ltd"
    framework.objectives.append(
        Objective.model_construct(id="broken", title=object(), perspective=Perspective.FINANCIAL)
    )
    with pytest.raises(Exception, match="serialize"):
        save_framework(framework, tmp_path)
    assert _snapshot(tmp_path) == before
    assert _temporaries(tmp_path) == []


def test_failed_save_into_an_unwritable_folder_leaves_files_untouched(tmp_path: Path):
    _write(tmp_path, HAND_WRITTEN)
    framework = load_framework(tmp_path)
    framework.metadata.organization = "Renamed Ltd"
    shutil.rmtree(tmp_path / ROLES_DIR)
    (tmp_path / ROLES_DIR).write_text("not a folder", encoding="utf-8")
    before = _snapshot(tmp_path)
    with pytest.raises(OSError):
        save_framework(framework, tmp_path)
    assert _snapshot(tmp_path) == before
    assert _temporaries(tmp_path) == []


def test_failed_rename_leaves_files_untouched(tmp_path: Path):
    _write(tmp_path, HAND_WRITTEN)
    framework = load_framework(tmp_path)
    framework.metadata.organization = "Renamed Ltd"
    (tmp_path / TEAMS_FILE).unlink()
    (tmp_path / TEAMS_FILE).mkdir()
    before = _snapshot(tmp_path)
    with pytest.raises(OSError):
        save_framework(framework, tmp_path)
    assert _temporaries(tmp_path) == []
    assert _snapshot(tmp_path) == before


def _problems(root: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(InputError) as caught:
        load_framework(root)
    return [(p.file, p.entry, p.field) for p in caught.value.problems]


def test_every_problem_of_every_file_is_reported_at_once(tmp_path: Path):
    files = dict(HAND_WRITTEN)
    files["kpis.yaml"] = files["kpis.yaml"].replace("polarity: higher_is_better", "polarity: up")
    files["roles/dispatcher.yaml"] = files["roles/dispatcher.yaml"].replace("weight: 40", "wieght: 40")
    _write(tmp_path, files)
    assert _problems(tmp_path) == [
        ("kpis.yaml", "kpi 'on_time_delivery'", "polarity"),
        ("roles/dispatcher.yaml", "role 'dispatcher'", "kpis[2] (stock_days).weight"),
        ("roles/dispatcher.yaml", "role 'dispatcher'", "kpis[2] (stock_days).wieght"),
    ]


def test_role_file_must_be_named_after_the_role(tmp_path: Path):
    files = dict(HAND_WRITTEN)
    files["roles/planner.yaml"] = files.pop("roles/dispatcher.yaml")
    _write(tmp_path, files)
    assert _problems(tmp_path) == [("roles/planner.yaml", "role 'dispatcher'", "id")]


def test_list_file_with_a_misspelled_top_key_is_named(tmp_path: Path):
    files = dict(HAND_WRITTEN)
    files[OBJECTIVES_FILE] = files[OBJECTIVES_FILE].replace("objectives:", "objective:")
    _write(tmp_path, files)
    with pytest.raises(InputError, match="single key 'objectives'") as caught:
        load_framework(tmp_path)
    assert [p.file for p in caught.value.problems] == [OBJECTIVES_FILE]


def test_missing_metadata_file_and_folder_are_named(tmp_path: Path):
    save_framework(Framework(metadata=Metadata(organization="X")), tmp_path)
    (tmp_path / FRAMEWORK_FILE).unlink()
    with pytest.raises(InputError) as caught:
        load_framework(tmp_path)
    assert [(p.code, p.file) for p in caught.value.problems] == [(Code.INPUT_NOT_FOUND, FRAMEWORK_FILE)]
    with pytest.raises(InputError) as caught:
        load_framework(tmp_path / "nowhere")
    assert [(p.code, p.file) for p in caught.value.problems] == [(Code.INPUT_NOT_FOUND, str(tmp_path / "nowhere"))]


@pytest.mark.parametrize("missing", [FRAMEWORK_FILE, OBJECTIVES_FILE, TEAMS_FILE, KPIS_FILE, ROLES_DIR])
def test_a_missing_required_file_is_an_error_not_an_empty_list(tmp_path: Path, missing: str):
    _write(tmp_path, HAND_WRITTEN)
    shutil.rmtree(tmp_path / missing) if missing == ROLES_DIR else (tmp_path / missing).unlink()
    assert _problems(tmp_path) == [(missing + ("/" if missing == ROLES_DIR else ""), "", "")]


def test_a_backup_left_by_an_old_interrupted_save_is_named(tmp_path: Path):
    _write(tmp_path, HAND_WRITTEN)
    (tmp_path / TEAMS_FILE).rename(tmp_path / f".{TEAMS_FILE}.bak")
    with pytest.raises(InputError, match=r"teams.yaml: required file not found \(an interrupted save left "
                                         r"\.teams\.yaml\.bak"):
        load_framework(tmp_path)


def test_a_new_workspace_has_every_required_file(tmp_path: Path):
    save_framework(Framework(metadata=Metadata(organization="New")), tmp_path / "new")
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == [
        FRAMEWORK_FILE, KPIS_FILE, OBJECTIVES_FILE, ROLES_DIR, TEAMS_FILE]
    assert load_framework(tmp_path / "new") == Framework(metadata=Metadata(organization="New"))


def test_empty_list_files_load_as_empty(tmp_path: Path):
    _write(tmp_path, {FRAMEWORK_FILE: "organization: Empty\n", OBJECTIVES_FILE: "", TEAMS_FILE: "teams:\n",
                      KPIS_FILE: "kpis: []\n"})
    (tmp_path / ROLES_DIR).mkdir()
    framework = load_framework(tmp_path)
    assert (framework.objectives, framework.teams, framework.kpis, framework.roles) == ([], [], [], [])


def test_a_shared_value_is_written_without_an_alias_so_the_reader_takes_it_back(tmp_path):
    from kpi_workbook.workspace.yaml_io import dump_yaml, read_yaml

    shared = {"id": "x", "title": "Shared"}
    path = tmp_path / "shared.yaml"
    path.write_text(dump_yaml({"objectives": [shared, shared]}))
    assert "&" not in path.read_text() and "*" not in path.read_text()
    assert read_yaml(path, "shared.yaml") == {"objectives": [shared, shared]}


def test_a_text_read_again_gives_equal_data_that_shares_nothing_and_a_changed_text_is_parsed_anew(tmp_path):
    from kpi_workbook.workspace.yaml_io import read_yaml

    path = tmp_path / "kpis.yaml"
    path.write_text("kpis:\n- id: a\n  tags: [x, y]\n  since: 2025-01-31\n  stages: !!set {lead: null}\n")
    first = read_yaml(path)
    first["kpis"][0]["tags"].append("changed by a reader")
    first["kpis"].append({"id": "added by a reader"})
    again = read_yaml(path)
    assert again == {"kpis": [{"id": "a", "tags": ["x", "y"], "since": dt.date(2025, 1, 31), "stages": {"lead"}}]}
    path.write_text("kpis:\n- id: b\n")
    assert read_yaml(path) == {"kpis": [{"id": "b"}]}
    path.write_text("kpis:\n- id: b\n  id: c\n")
    with pytest.raises(InputError, match="duplicate key 'id'"):
        read_yaml(path)


def test_data_rendered_again_gives_the_same_text_and_data_differing_only_in_type_does_not():
    from kpi_workbook.workspace.yaml_io import dump_yaml

    texts = [dump_yaml({"weight": value}) for value in (1, "1", True, 1.0, 1, [1], (1,))]
    assert texts == ["weight: 1\n", "weight: '1'\n", "weight: true\n", "weight: 1\n", "weight: 1\n",
                     "weight: [1]\n", "weight: [1]\n"]
    assert dump_yaml({1: "a"}) == "1: a\n" and dump_yaml({"1": "a"}) == "'1': a\n"
    assert dump_yaml({"a": 1, "b": 2}) != dump_yaml({"b": 2, "a": 1})
