"""Signals that stop a long-running command (the lab, a check on the lab) cleanly.

The command unwinds its ``with`` blocks (the lab process is stopped), says which signal stopped
it and exits 128 + the signal, as a shell expects.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator


class Stopped(BaseException):
    """A signal asked the command to stop. A BaseException, like KeyboardInterrupt: no
    ``except Exception`` on the way swallows it, and every ``with`` block (the lab's) unwinds."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def stop_on_signals(*names: str) -> Iterator[None]:
    """Turn the named signals (those this system has) into :class:`Stopped` while the block
    runs. Only the first: a second one while the lab is being stopped is ignored, so the stop
    runs to its end."""
    fired = False

    def handler(signum: int, frame: object) -> None:
        nonlocal fired
        if not fired:
            fired = True
            raise Stopped(signum)

    previous = {}
    for name in names:
        sig = getattr(signal, name, None)
        if isinstance(sig, signal.Signals):
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def stopped(exc: Stopped, outcome: str) -> int:
    """Say which signal stopped the command and what that left; exit 128 + the signal."""
    name = signal.Signals(exc.signum).name
    print(f"checkpoint-wizard: stopped by {name}; {outcome}.", file=sys.stderr)
    return 128 + exc.signum
