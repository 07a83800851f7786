"""The framework's version (``metadata.version`` in framework.yaml) moves on with every save that changes it.

The bump is patch-level: the last number in the version text goes up by one (``1.2`` -> ``1.3``, ``1.2.0`` ->
``1.2.1``, ``2024.1`` -> ``2024.2``, ``1`` -> ``2``, ``v3-draft`` -> ``v4-draft``); a version without a number gets
``.1`` added (``draft`` -> ``draft.1``). A version typed by hand is kept as typed.
"""

from __future__ import annotations

__all__ = ["next_version", "with_next_version"]

import re

from kpi_workbook.core.model import Framework

_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")


def next_version(version: str) -> str:
    """The version after `version`, one patch level on (see the module's docstring)."""
    if not _LAST_NUMBER.search(version):
        return f"{version}.1" if version else "1"
    return _LAST_NUMBER.sub(lambda found: str(int(found.group(1)) + 1), version, count=1)


def with_next_version(framework: Framework, on_disk: Framework) -> Framework:
    """`framework` as it is to be saved over `on_disk`: with the next version when it changes anything and its
    version is still the one on disk (a version set by hand stays)."""
    if framework == on_disk or framework.metadata.version != on_disk.metadata.version:
        return framework
    metadata = framework.metadata.model_copy(update={"version": next_version(on_disk.metadata.version)})
    return framework.model_copy(update={"metadata": metadata})
