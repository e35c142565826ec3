"""Facts about one VM and its surroundings, as read from vCenter.

These frozen dataclasses are the contract between ``wizard.vsphere`` (which fills them from
vCenter) and ``wizard.kb`` (which judges them). They hold plain values only: no managed object
ever reaches this module. Values from ``config.extraConfig`` stay strings, exactly as vCenter
stores them; ``wizard.kb.values`` parses them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class EvidenceKind(enum.StrEnum):
    """Where a piece of evidence was found."""

    EVENT = "event"
    TASK = "task"
    LOG = "log"


@dataclass(frozen=True)
class EvidenceItem:
    """One trace of the article's failure found for this VM.

    Attributes:
        kind: event, task or log line.
        source: where exactly, e.g. ``"event 4711 (VmFailedMigrateEvent)"`` or
            ``"vmware.log line 1234"``.
        signature: the article's signature that matched, e.g. ``"Failed to flush checkpoint data"``.
        text: the full message or log line (trimmed to a sensible length by the reader).
        time: when it happened, if known (timezone-aware).
    """

    kind: EvidenceKind
    source: str
    signature: str
    text: str
    time: datetime | None = None


@dataclass(frozen=True)
class VideoCard:
    """The VM's virtual video card (``VirtualMachineVideoCard``)."""

    num_displays: int
    video_ram_kb: int
    use_auto_detect: bool
    enable_3d_support: bool
    graphics_memory_kb: int | None = None
    key: int = 500


@dataclass(frozen=True)
class HostFacts:
    """An ESXi host the VM runs on or may move to.

    Attributes:
        sse41: True or False when the host says so (feature capability ``cpuid.SSE41`` or CPUID
            level 1 ECX bit 19 in ``hardware.cpuFeature``); None when neither is reported.
        sse41_source: the property the SSE4.1 answer came from, for the evidence.
    """

    name: str
    moref: str
    cpu_model: str
    sse41: bool | None
    sse41_source: str
    connection_state: str = "connected"
    in_maintenance: bool = False


@dataclass(frozen=True)
class ClusterFacts:
    """The VM's cluster: HA admission control, EVC and its hosts."""

    name: str
    moref: str
    ha_enabled: bool
    admission_control_enabled: bool
    evc_mode: str | None
    hosts: tuple[HostFacts, ...]


@dataclass(frozen=True)
class UpgradePolicy:
    """``config.scheduledHardwareUpgradeInfo``: ``never``, ``onSoftPowerOff`` or ``always``."""

    policy: str
    version_key: str | None = None
    status: str | None = None


class PowerState(enum.StrEnum):
    """``runtime.powerState``: the only three values vSphere uses, in its own spelling."""

    ON = "poweredOn"
    OFF = "poweredOff"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class VmFacts:
    """Everything the article's rules need about one VM, with where each value came from.

    Attributes:
        name: the VM's name as the user sees it (vSphere's ``%2f``-style escapes undone).
        moref: managed object id, e.g. ``"vm-42"``.
        instance_uuid: ``config.instanceUuid``.
        vcenter: the vCenter host[:port] the facts were read from.
        power_state: a :class:`PowerState` value (``poweredOn``, ``poweredOff``, ``suspended``).
        hardware_version: ``config.version``, e.g. ``"vmx-08"``.
        guest_id: the configured guest OS id, ``config.guestId``.
        tools_guest_id: the guest OS id VMware Tools report (``guest.guestId``), None when Tools
            do not report one.
        tools_running: ``guest.toolsRunningStatus == "guestToolsRunning"``.
        tools_version: ``guest.toolsVersion`` (an integer as a string), if known.
        screen: ``guest.screen`` (width, height) as Tools report it, None when not reported.
        video: the video card, None when the VM has none.
        extra_config: ``config.extraConfig`` as (key, value) string pairs, in vCenter's order.
        upgrade_policy: ``config.scheduledHardwareUpgradeInfo``, None when not set.
        change_version: ``config.changeVersion`` at the time of reading.
        interactive_guest_ops_ready: ``guest.interactiveGuestOperationsReady``.
        host: the host the VM runs on, None if unknown.
        cluster: the VM's cluster with all its hosts, None for a standalone host.
        privileges: privilege id -> whether this user holds it on this VM (from
            ``HasPrivilegeOnEntity``). A privilege that was not asked about is absent.
        evidence: traces of the failure in events, tasks and (on request) the log.
        datacenter: name of the VM's datacenter.
        vmx_path: ``config.files.vmPathName``, e.g. ``"[datastore1] vm/vm.vmx"``.
    """

    name: str
    moref: str
    instance_uuid: str
    vcenter: str
    power_state: str
    hardware_version: str
    guest_id: str
    tools_guest_id: str | None
    tools_running: bool
    screen: tuple[int, int] | None
    video: VideoCard | None
    extra_config: tuple[tuple[str, str], ...] = ()
    upgrade_policy: UpgradePolicy | None = None
    change_version: str = ""
    tools_version: str | None = None
    interactive_guest_ops_ready: bool = False
    host: HostFacts | None = None
    cluster: ClusterFacts | None = None
    privileges: tuple[tuple[str, bool], ...] = ()
    evidence: tuple[EvidenceItem, ...] = ()
    datacenter: str = ""
    vmx_path: str = ""
    read_at: datetime | None = field(default=None, compare=False)

    def extra(self, key: str) -> str | None:
        """Return the extra-config value for ``key`` (case-insensitive, as vSphere treats it)."""
        wanted = key.lower()
        found: str | None = None
        for k, v in self.extra_config:
            if k.lower() == wanted:
                found = v  # the last one wins, as in the .vmx file
        return found

    def holds(self, privilege: str) -> bool | None:
        """Whether this user holds ``privilege`` on the VM; None when it was not asked."""
        for k, v in self.privileges:
            if k == privilege:
                return v
        return None

    @property
    def candidate_hosts(self) -> tuple[HostFacts, ...]:
        """Hosts the VM may be moved to: the cluster's hosts, or just its own host."""
        if self.cluster is not None and self.cluster.hosts:
            return self.cluster.hosts
        return (self.host,) if self.host is not None else ()


@dataclass(frozen=True)
class VmSummary:
    """One row of the VM picker, from a single bulk read of the whole inventory.

    Attributes:
        prescreen: the cheap pre-screen flag (``wizard.kb.prescreen``): True when the VM may be
            affected or at risk on what the bulk read shows.
    """

    name: str
    moref: str
    power_state: str
    guest_id: str
    tools_guest_id: str | None
    hardware_version: str
    host: str
    cluster: str
    tools_running: bool
    prescreen: bool = False
