"""Who is told when the framework being edited changes: forms, tables and charts subscribe to an editor."""

from __future__ import annotations

__all__ = ["Event", "Listener", "Observable", "P", "R", "S", "notifies"]

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar


class Event(StrEnum):
    """What happened to the working copy: an edit, a save that wrote files, a discard, or a reload of the files."""

    CHANGED = "changed"
    SAVED = "saved"
    DISCARDED = "discarded"
    RELOADED = "reloaded"


Listener = Callable[[Event], Any]
P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="Observable")


class Observable:
    """Listeners called, in the order they subscribed, after each event."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Listener:
        """Call `listener(event)` after every event from now on; returns it."""
        self._listeners.append(listener)
        return listener

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling `listener` (nothing happens when it was not subscribed)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def notify(self, event: Event) -> None:
        """Tell every listener about `event`."""
        for listener in list(self._listeners):
            listener(event)


def notifies(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """An edit method that tells the listeners (Event.CHANGED) once it has succeeded; a refused edit tells nobody."""

    @wraps(method)
    def edit(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        result = method(self, *args, **kwargs)
        self.notify(Event.CHANGED)
        return result

    return edit
