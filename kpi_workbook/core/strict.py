"""The base of every model read from a workspace file: unknown fields are errors, values are checked on assignment."""

from __future__ import annotations

__all__ = ["Strict"]

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Base for framework entries: unknown fields are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)
