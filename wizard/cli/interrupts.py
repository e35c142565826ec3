"""Ctrl-C while ``apply``, ``undo`` or ``power-on`` runs: stop at the next safe point."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wizard.vsphere.results import StepUpdate


class Interrupts:
    """Ctrl-C during a change: stop at the next safe point and say what that means now.

    Killing a run between "the change was sent" and "the VM is on again" is what leaves a VM
    off or a journal wrong, so the first Ctrl-C asks the executor to stop at its next safe
    point, and the message says what will happen given the step the run is in.
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self._last: tuple[str, str] = ("", "")
        self._changed = False
        self._presses = 0

    def seen(self, update: StepUpdate) -> None:
        self._last = (update.step, update.state)
        if update.step in ("reconfigure", "guest_resolution") and update.state in (
            "running",
            "done",
        ):
            self._changed = self._changed or update.state == "done" or "Sending" in update.message

    @contextlib.contextmanager
    def armed(self) -> Iterator[None]:
        previous = signal.signal(signal.SIGINT, self._on_interrupt)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def _on_interrupt(self, signum: int, frame: object) -> None:
        self._presses += 1
        self.event.set()
        step, state = self._last
        if self._presses > 1:
            text = (
                "still finishing safely; the VM must not be left half-way (the journal would "
                "then have to be settled by the next run)."
            )
        elif self._changed:
            text = (
                "too late to stop: the change has been sent to vCenter. Finishing it (power-on "
                "and verification), then stopping."
            )
        elif step in ("shutdown", "power_off") and state == "running":
            text = (
                "stopping after the shutdown: the guest is already going down. Once it is off "
                "it is powered on again, and nothing is changed."
            )
        else:
            text = "stopping before the next step; nothing more will be changed."
        print(f"checkpoint-wizard: Ctrl-C: {text}", file=sys.stderr, flush=True)
