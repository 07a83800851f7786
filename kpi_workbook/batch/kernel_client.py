"""A kernel client that cannot miss a reply because it sent something on the same channel while it waited.

jupyter_client's `Session.send` writes to an asyncio zmq socket through a plain (synchronous) shadow of it, past
pyzmq's asyncio bookkeeping. libzmq's send processes the socket's pending commands and so clears the socket's
edge-triggered file descriptor (ZMQ_FD): when a message has just arrived on that socket, the event loop is never
told, and a `get_msg` already waiting on the socket sleeps until its time limit, though the message is there. pyzmq's
own asyncio send re-reads the socket's events afterwards for that reason; the shadow send does not.

nbclient (papermill, Voilà) waits for each cell's `execute_reply` on the shell channel while it handles the cell's
IOPub messages, and its stand-in for an ipywidgets `Output` widget sends the widget's state back to the kernel, on the
shell channel, after every output the widget captures from the running cell. When the client lags behind the kernel
(a loaded machine, many captured outputs), the reply can arrive just before such a send: the kernel is idle, the
client has seen its `idle` status, and the reply waits in the client's socket until the cell's time limit (120 s in
the tests and in the workshop app), or for ever without one.

`RecheckingKernelClient` re-reads a socket's events after each send on it (`zmq.asyncio.Socket.get(zmq.EVENTS)`,
which makes pyzmq wake a waiting receive when a message is there), in the loop the socket's receives wait in, on
every channel it sends on. `RecheckingKernelManager` hands it out; `papermill_engine.RecheckingEngine` is papermill's
engine with it.
"""

from __future__ import annotations

__all__ = ["RecheckingChannel", "RecheckingKernelClient", "RecheckingKernelManager"]

import asyncio
import contextlib
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Type


class RecheckingChannel(AsyncZMQSocketChannel):
    """An asyncio channel whose sends cannot hide a message that arrived meanwhile from a receive waiting on it."""

    def send(self, msg: dict[str, Any]) -> None:
        super().send(msg)
        socket = self.socket
        loop = getattr(socket, "_current_loop", None)  # pyzmq's: the loop the socket's receives wait in
        if socket is None or socket.closed or loop is None or loop.is_closed():
            return  # never waited on: a receive to come looks at the socket first
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._recheck()
        else:  # sent from another thread, or while the loop is stopped: look again in the loop, where it waits
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                loop.call_soon_threadsafe(self._recheck)

    def _recheck(self) -> None:
        socket = self.socket
        if socket is not None and not socket.closed:
            # socket.EVENTS is socket.get(zmq.EVENTS): pyzmq's asyncio socket then wakes a waiting receive if a message
            # is there (pyzmq comes with jupyter_client; the package names none of its constants)
            _ = socket.EVENTS


class RecheckingKernelClient(AsyncKernelClient):
    """jupyter_client's asyncio kernel client with `RecheckingChannel` on the channels it sends on (it only receives
    on IOPub)."""

    shell_channel_class = Type(RecheckingChannel)
    control_channel_class = Type(RecheckingChannel)
    stdin_channel_class = Type(RecheckingChannel)


class RecheckingKernelManager(AsyncKernelManager):
    """jupyter_client's asyncio kernel manager whose `client()` is a `RecheckingKernelClient`."""

    client_class = DottedObjectName(f"{__name__}.RecheckingKernelClient", config=True)
    client_factory = Type(RecheckingKernelClient, klass=AsyncKernelClient, config=True)
