"""What ``wizard.vsphere`` hands out besides the facts: plain frozen records, no pyVmomi.

The GUI shows these (a VM found by a search, the hosts a vMotion test may go to, how the test
ended) and its tests build them, so they live apart from the code that reads them from vCenter:
importing this module loads nothing but the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

CONNECTED = "connected"
"""A host's ``runtime.connectionState`` when it can take VMs."""


@dataclass(frozen=True)
class VmRef:
    """A VM found by a search: its name as the user sees it and its managed object id."""

    name: str
    moref: str


@dataclass(frozen=True)
class HostChoice:
    """A host the VM could be moved to.

    Attributes:
        name: the host's name as the vSphere Client shows it.
        moref: its managed object id, e.g. ``"host-21"``.
        connection_state: ``connected``, ``disconnected`` or ``notResponding``.
        in_maintenance: whether the host is in maintenance mode (it takes no VMs).
    """

    name: str
    moref: str
    connection_state: str
    in_maintenance: bool

    @property
    def usable(self) -> bool:
        """Whether vCenter would accept the VM on this host."""
        return self.connection_state == CONNECTED and not self.in_maintenance

    @property
    def why_not(self) -> str:
        """Why the host cannot take the VM (``""`` when it can)."""
        if self.connection_state != CONNECTED:
            return self.connection_state or "not connected"
        if self.in_maintenance:
            return "in maintenance mode"
        return ""


@dataclass(frozen=True)
class MigrationOutcome:
    """How one vMotion test ended.

    Attributes:
        succeeded: the VM now runs on the destination host.
        message: vCenter's own words when it failed (the task's ``localizedMessage``, e.g.
            "A general system error occurred: Failed to flush checkpoint data!"); a short
            sentence of ours when it worked.
        task_id: the migration task, e.g. ``"task-123"``.
        vm_name: the VM.
        source_host: the host it ran on before.
        destination_host: the host it was sent to.
        duration_s: seconds from submitting the task to its end.
        fault: the vSphere fault type of a failure, e.g. ``"SystemError"`` (``""`` when none).
        finished_at: when the task ended (UTC, our clock).
    """

    succeeded: bool
    message: str
    task_id: str
    vm_name: str
    source_host: str
    destination_host: str
    duration_s: float
    fault: str = ""
    finished_at: datetime | None = None
