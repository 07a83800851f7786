"""compute's settings for bulk work: inside the block the cycle collector is paused and numpy's huge-page advice is
off; after it (also after an error) both are as they were."""

from __future__ import annotations

import gc

import pytest

from kpi_workbook.core.bulk_memory import _huge_page_switch, bulk_allocations


def _advice() -> bool:
    """numpy's current huge-page advice, read by setting it to itself."""
    switch = _huge_page_switch()
    assert switch is not None, "this numpy has no huge-page switch"
    current = switch(True)
    switch(current)
    return current


@pytest.mark.parametrize("advised", [True, False])
def test_inside_the_block_nothing_is_advised_or_collected_and_after_it_all_is_as_before(advised: bool) -> None:
    switch = _huge_page_switch()
    assert switch is not None
    before = switch(advised)
    try:
        with bulk_allocations():
            assert not gc.isenabled()
            assert _advice() is False
        assert gc.isenabled()
        assert _advice() is advised
    finally:
        switch(before)


def test_an_error_in_the_block_leaves_the_settings_as_they_were() -> None:
    advised, collecting = _advice(), gc.isenabled()
    with pytest.raises(ZeroDivisionError), bulk_allocations():
        _ = 1 / 0
    assert (_advice(), gc.isenabled()) == (advised, collecting)


def test_a_paused_collector_stays_paused() -> None:
    gc.disable()
    try:
        with bulk_allocations():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
