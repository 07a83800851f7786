"""Settings for work that allocates a lot of short-lived objects and large arrays at once (compute's long tables).

Two things slow such work down without making it any safer:
- Python's cycle collector: the objects allocated set off full collections that walk every object of the process
  (about 3 % of a million order lines' time) and free nothing the end of the work would not.
- numpy's huge-page advice: numpy asks Linux for transparent huge pages for every array of 4 MB or more. Where the
  kernel's `transparent_hugepage/defrag` is `madvise` (the usual default), a first touch of such an array makes the
  kernel compact memory to find a free 2 MB page when none is at hand; on a machine whose memory is fragmented, the
  first touch of 100 MB then takes 0.25 s instead of 0.06 s. Plain pages are touched at a steady speed.
"""

from __future__ import annotations

__all__ = ["bulk_allocations"]

import contextlib
import gc
from collections.abc import Callable, Iterator

import numpy as np


def _huge_page_switch() -> Callable[[bool], bool] | None:
    """numpy's switch of its huge-page advice (it returns the previous setting), where this numpy has one."""
    multiarray = getattr(np, "_core", None) or getattr(np, "core", None)
    return getattr(getattr(multiarray, "multiarray", None), "_set_madvise_hugepage", None)


@contextlib.contextmanager
def bulk_allocations() -> Iterator[None]:
    """The cycle collector paused and numpy's huge-page advice off for the block; both as they were after it (what
    is left in cycles is collected then)."""
    collecting, switch = gc.isenabled(), _huge_page_switch()
    advised = switch(False) if switch is not None else False
    gc.disable()
    try:
        yield
    finally:
        if switch is not None:
            switch(advised)
        if collecting:
            gc.enable()
