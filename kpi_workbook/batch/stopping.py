"""How a run is stopped: Ctrl-C (SIGINT), SIGTERM (`kill`, a service manager) and SIGHUP (a closed terminal or SSH
session) all end it the same way, by an exception in the runner's main thread that stops the workers and their
kernels, keeps the record of the runs that finished, writes the index and releases the run lock.

Its exit code is 128 + the signal's number: 130, 143 or 129. A signal ignored when the runner started (``nohup``,
a background job of a non-interactive shell) stays ignored, as the one who started it asked.
"""

from __future__ import annotations

__all__ = ["STOP_SIGNALS", "Stopped", "exit_code", "signal_name", "stop_on_signals"]

import signal

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """A stop signal arrived; `signum` says which. A KeyboardInterrupt, so every Ctrl-C clean-up applies."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """The exit code of a run ended by `interrupt`: 128 + its signal's number (a plain KeyboardInterrupt: SIGINT)."""
    return 128 + getattr(interrupt, "signum", signal.SIGINT)


def signal_name(interrupt: KeyboardInterrupt) -> str:
    """The name of the signal that ended a run: SIGINT, SIGTERM or SIGHUP."""
    return signal.Signals(exit_code(interrupt) - 128).name


def stop_on_signals() -> None:
    """From the main thread, before a run starts: the stop signals unblocked (a mask inherited from a thread of the
    parent may block them) and, unless ignored, each raising Stopped once; later ones are ignored while the run
    winds down (in a bounded time), so they cannot cut its record or index short."""
    if hasattr(signal, "pthread_sigmask"):  # not on Windows
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _stop)


def _stop(signum: int, frame: object) -> None:
    for other in STOP_SIGNALS:
        if signal.getsignal(other) is _stop:
            signal.signal(other, signal.SIG_IGN)
    raise Stopped(signum)
