"""Two editors on one workspace (two facilitators, or steps 1 and 4 open at once): every save checks that the files
are still those it loaded; changes to different entries are merged, changes to the same entry refuse the save with
the entry and both values named, and `reload` takes the files as they are now."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from kpi_workbook.core.atomic_files import writing_folder
from kpi_workbook.widgets import FrameworkEditor, SavePanel
from kpi_workbook.workspace.files import load_framework

ROLE, KPI = "account_executive", "win_rate"
CLASH = f"role '{ROLE}': KPI '{KPI}' target was changed elsewhere (on disk 26, here 27)"


def _snapshot(workspace: Path) -> dict[str, bytes]:
    return {str(p.relative_to(workspace)): p.read_bytes() for p in sorted(workspace.rglob("*.yaml"))}


def _target(framework, role: str = ROLE, kpi: str = KPI) -> float:
    return next(k.target for k in framework.role(role).kpis if k.kpi == kpi)


def _set_target(editor: FrameworkEditor, value: float) -> None:
    editor.update_kpi(ROLE, KPI, target=value)


@pytest.fixture
def two(sample_workspace: Path) -> tuple[FrameworkEditor, FrameworkEditor]:
    """Two editors that loaded the same files."""
    return FrameworkEditor(sample_workspace), FrameworkEditor(sample_workspace)


def test_changes_to_different_entries_are_both_kept(two, sample_workspace):
    a, b = two
    _set_target(a, 26)
    b.add_objective("open_asia", "Open two offices in Asia", "customer", parent="new_customer_growth")
    first, second = a.save(draft=True), b.save(draft=True)
    assert first.saved and second.saved and not second.clashes
    assert "merged with changes saved elsewhere meanwhile" in second.message and "win_rate" in second.message
    on_disk = load_framework(sample_workspace)
    assert _target(on_disk) == 26 and on_disk.objective("open_asia") is not None
    assert b.framework == on_disk and not b.dirty  # the editor holds what it merged and saved
    assert on_disk.metadata.version == "2024.3"  # each save moved the version on, the second from the first's


def test_a_role_added_elsewhere_is_not_deleted_by_a_later_save(two, sample_workspace):
    a, b = two
    a.add_role("data_analyst", "Data Analyst", teams=["sales"])
    b.update_objective("revenue_growth", owner="CFO")
    assert a.save(draft=True).saved and b.save(draft=True).saved
    on_disk = load_framework(sample_workspace)
    assert on_disk.role("data_analyst") is not None and on_disk.objective("revenue_growth").owner == "CFO"
    assert (sample_workspace / "roles" / "data_analyst.yaml").exists()


def test_changes_to_the_same_entry_refuse_the_second_save(two, sample_workspace):
    a, b = two
    _set_target(a, 26)
    _set_target(b, 27)
    b.add_objective("open_asia", "Open two offices in Asia", "customer", parent="new_customer_growth")
    assert a.save(draft=True).saved
    before = _snapshot(sample_workspace)
    refused = b.save(draft=True)
    assert not refused.saved and refused.clashes == [CLASH]
    assert CLASH in refused.message and "Reload" in refused.message and "Traceback" not in refused.message
    assert _snapshot(sample_workspace) == before  # nothing written
    assert _target(b.framework) == 27  # nothing typed is lost by a refused save

    assert b.reload() == [CLASH]
    assert _target(b.framework) == 26  # the files' value
    assert b.framework.objective("open_asia") is not None and b.dirty  # the change that does not clash stays
    assert b.save(draft=True).saved
    on_disk = load_framework(sample_workspace)
    assert _target(on_disk) == 26 and on_disk.objective("open_asia") is not None


def test_an_entry_removed_elsewhere_and_changed_here_is_a_clash(two, sample_workspace):
    a, b = two
    a.remove_kpi(ROLE, KPI)
    _set_target(b, 27)
    assert a.save(draft=True).saved
    refused = b.save(draft=True)
    assert refused.clashes == [f"role '{ROLE}': KPI '{KPI}' was removed elsewhere but changed here (target here 27)"]
    assert all(k.kpi != KPI for k in load_framework(sample_workspace).role(ROLE).kpis)


def test_both_changing_one_objective_names_each_field(two):
    a, b = two
    a.update_objective("revenue_growth", owner="CFO")
    b.update_objective("revenue_growth", owner="CEO", horizon="2027")
    assert a.save(draft=True).saved
    [clash] = b.save(draft=True).clashes
    assert clash.startswith("objective 'revenue_growth' owner was changed elsewhere (on disk 'CFO', here 'CEO')")
    assert "horizon was changed here (here '2027'; on disk it is still" in clash


def test_a_merge_that_breaks_the_checks_is_not_saved(two, sample_workspace):
    a, b = two
    a.remove_objective("cost_efficiency")  # each change alone passes the checks; merged, a KPI serves a lost goal
    b.update_kpi(ROLE, KPI, objectives=["new_customer_growth", "cost_efficiency"])
    assert a.save(draft=True).saved
    on_disk = _snapshot(sample_workspace)
    refused = b.save()
    assert not refused.saved and "changes saved elsewhere" in refused.message and "Reload" in refused.message
    assert _snapshot(sample_workspace) == on_disk


def test_the_save_panel_refuses_a_clash_and_reloads(two, sample_workspace):
    a, b = two
    _set_target(a, 26)
    _set_target(b, 27)
    SavePanel(a).draft_button.click()
    panel = SavePanel(b)
    panel.draft_button.click()
    assert not panel.last_result.saved
    assert "target was changed elsewhere (on disk 26, here 27)" in panel.status.value
    assert "Press Reload" in panel.status.value
    panel.reload_button.click()
    assert "reloaded the files as they are now (version 2024.2)" in panel.status.value
    assert "target was changed elsewhere (on disk 26, here 27)" in panel.status.value
    assert _target(b.framework) == 26 and not b.dirty


def test_an_editor_of_a_workspace_opened_before_a_save_merges_with_it(sample_workspace):
    from kpi_workbook.workspace.opener import open_workspace

    opened = open_workspace(sample_workspace)  # e.g. a notebook's context, opened earlier
    other = FrameworkEditor(sample_workspace)
    _set_target(other, 26)
    assert other.save(draft=True).saved
    late = FrameworkEditor(opened)  # starts from what the notebook loaded, before that save
    late.update_objective("revenue_growth", owner="CFO")
    assert late.save(draft=True).saved
    on_disk = load_framework(sample_workspace)
    assert _target(on_disk) == 26 and on_disk.objective("revenue_growth").owner == "CFO"


WRITER = """
import sys, time
from pathlib import Path
from kpi_workbook.core.atomic_files import write_text_atomically
print(time.monotonic(), flush=True)
write_text_atomically(Path(sys.argv[1]) / "objectives.yaml", "objectives: []\\n")
print(time.monotonic(), flush=True)
"""


def test_no_other_writer_gets_between_the_check_and_the_write(sample_workspace):
    with writing_folder(sample_workspace):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(sample_workspace)], stdout=subprocess.PIPE,
                                  text=True)
        started = float(writer.stdout.readline())
        time.sleep(1.0)
        inside = yaml.safe_load((sample_workspace / "objectives.yaml").read_text())["objectives"]
        released = time.monotonic()
    wrote = float(writer.stdout.readline())
    assert writer.wait(timeout=30) == 0
    assert inside, "the other writer wrote while the lock was held"
    assert started < released <= wrote
    assert (sample_workspace / "objectives.yaml").read_text() == "objectives: []\n"
