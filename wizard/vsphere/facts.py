"""Everything the article's rules need about one VM, in a fixed number of requests.

:func:`collect_facts` makes, whatever the size of the inventory, three requests at the same
time (see :func:`~wizard.vsphere.collector.together`: a slow link costs one latency for all
three):

1. one ``RetrievePropertiesEx``: the VM, and through traversal specs in the same request its
   compute resource (cluster or standalone host) with all of its hosts, and the datacenter with
   the folders above it (a second one only in the odd case that the VM's own host was not
   reached that way);
2. one ``HasPrivilegeOnEntities`` for every privilege the remedies need (a separate call, not a
   property-collector round trip; the plural form because it names each privilege in its
   answer);
3. one ``EventManager.QueryEvents`` for the VM's failure events of the last days.

Recent tasks are not queried separately: a failed vMotion or relocation posts a
``VmFailedMigrateEvent``/``VmRelocateFailedEvent`` whose ``reason`` carries the task's fault and
its error stack, which is what the article's signatures are matched against.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from wizard.kb.facts import (
    ClusterFacts,
    EvidenceItem,
    HostFacts,
    UpgradePolicy,
    VideoCard,
    VmFacts,
)
from wizard.kb.model import RULE_EXTRA_KEYS, Privilege
from wizard.vsphere._pyvmomi import PC, vim
from wizard.vsphere.collector import (
    Held,
    ObjectProps,
    climb_to_root,
    datacenter_path,
    gc_paused,
    held_of,
    inventory_filter,
    moref_of,
    privileges_held,
    retrieve,
    together,
)
from wizard.vsphere.errors import VmGone
from wizard.vsphere.evidence import EVENT_TYPES, evidence_from_events
from wizard.vsphere.inventory import TOOLS_RUNNING
from wizard.vsphere.names import unescape_name
from wizard.vsphere.session import Session

log = logging.getLogger(__name__)

T = TypeVar("T")

VM_PROPS = (
    "name",
    "config.version",
    "config.guestId",
    "config.instanceUuid",
    "config.changeVersion",
    "config.extraConfig",
    "config.hardware.device",
    "config.scheduledHardwareUpgradeInfo",
    "config.files.vmPathName",
    "guest.guestId",
    "guest.toolsRunningStatus",
    "guest.toolsVersion",
    "guest.screen",
    "guest.interactiveGuestOperationsReady",
    "runtime.powerState",
    "runtime.host",
)
HOST_PROPS = (
    "name",
    "summary.hardware.cpuModel",
    "config.featureCapability",
    "hardware.cpuFeature",
    "runtime.connectionState",
    "runtime.inMaintenanceMode",
)
# configurationEx and summary are read whole: their declared types (ComputeResourceConfigInfo,
# ComputeResourceSummary) lack the cluster fields, so vCenter may refuse deeper paths into them.
CLUSTER_PROPS = ("name", "configurationEx", "summary")
# A scan parses only the video card of each VM's devices (all the rules look at), and of the
# dozens of entries a VM's extraConfig holds (PCI bridges, NUMA sizing, Tools versions...) only
# those the rules read: the lean reader cuts the rest from the text first. For the lab's 10,000
# VMs the other devices are a quarter of the answer's 96 MB, the other entries over half.
_VIDEO_CARDS_ONLY = {"config.hardware.device": vim.vm.device.VirtualVideoCard}
_RULE_OPTIONS_ONLY = {"config.extraConfig": RULE_EXTRA_KEYS}
SCAN_PAGE_SIZE = 1_000
"""Objects per page of a scan's read (``check --all``): the server puts each next page together
while this side reads the one before (see :func:`~wizard.vsphere.collector.retrieve`), so a
scan of 10,000 VMs waits for the server's first page only, not for all ten. Larger pages wait
longer for the first; smaller ones cost more round trips over a slow link."""
SSE41_BIT = 19
"""SSE4.1 is CPUID level 1, ECX bit 19; without it 3D is not recommended (the article)."""


def _facts_filter(vm: Any) -> Any:
    """The VM, its compute resource and all its hosts, and the folders up to the root."""
    cr_hosts = PC.TraversalSpec(name="crHosts", type=vim.ComputeResource, path="host", skip=False)
    cr_up = PC.TraversalSpec(
        name="crUp", type=vim.ComputeResource, path="parent", skip=True, selectSet=[climb_to_root()]
    )
    pool_owner = PC.TraversalSpec(
        name="poolOwner",
        type=vim.ResourcePool,
        path="owner",
        skip=False,
        selectSet=[cr_hosts, cr_up],
    )
    vm_pool = PC.TraversalSpec(
        name="vmPool",
        type=vim.VirtualMachine,
        path="resourcePool",
        skip=True,
        selectSet=[pool_owner],
    )
    return PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=vm, skip=False, selectSet=[vm_pool])],
        propSet=[
            PC.PropertySpec(type=vim.VirtualMachine, pathSet=list(VM_PROPS)),
            PC.PropertySpec(type=vim.HostSystem, pathSet=list(HOST_PROPS)),
            PC.PropertySpec(type=vim.ClusterComputeResource, pathSet=list(CLUSTER_PROPS)),
            PC.PropertySpec(type=vim.Datacenter, pathSet=["name", "parent"]),
            PC.PropertySpec(type=vim.Folder, pathSet=["name", "parent"]),
        ],
    )


def _host_filter(host: Any) -> Any:
    return PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=host, skip=False)],
        propSet=[PC.PropertySpec(type=vim.HostSystem, pathSet=list(HOST_PROPS))],
    )


def sse41_from_cpuid_ecx(ecx: str) -> bool | None:
    """SSE4.1 from a CPUID ECX register string, bit 31 first (``"0000:0000:0001:…"``).

    vSphere writes 32 characters, grouped by 4 with ``:``; ``1``/``0`` are known bits, anything
    else (``-``, ``x``, ``R``, …) says nothing. Returns None when bit 19 is not a plain 0 or 1.
    """
    bits = ecx.replace(":", "").strip()
    if len(bits) != 32:
        return None
    char = bits[31 - SSE41_BIT]
    return True if char == "1" else False if char == "0" else None


def host_facts(o: ObjectProps) -> HostFacts:
    """A host's CPU and state, with where its SSE4.1 answer came from."""
    sse41: bool | None = None
    source = "not reported"
    for cap in o.get("config.featureCapability") or ():
        if str(getattr(cap, "key", "")).lower() == "cpuid.sse41":
            value = str(getattr(cap, "value", "")).strip()
            if value in ("0", "1"):
                sse41 = value == "1"
                source = "config.featureCapability[cpuid.SSE41]"
                break
    if sse41 is None:
        for feature in o.get("hardware.cpuFeature") or ():
            if getattr(feature, "level", None) == 1 and getattr(feature, "ecx", None):
                sse41 = sse41_from_cpuid_ecx(str(feature.ecx))
                if sse41 is not None:
                    source = "hardware.cpuFeature[level 1].ecx bit 19"
                break
    return HostFacts(
        name=unescape_name(str(o.get("name", ""))),
        moref=o.moref,
        cpu_model=str(o.get("summary.hardware.cpuModel") or ""),
        sse41=sse41,
        sse41_source=source,
        connection_state=str(o.get("runtime.connectionState") or ""),
        in_maintenance=bool(o.get("runtime.inMaintenanceMode")),
    )


def _cluster_facts(o: ObjectProps, hosts: tuple[HostFacts, ...]) -> ClusterFacts:
    das = getattr(o.get("configurationEx"), "dasConfig", None)
    evc = getattr(o.get("summary"), "currentEVCModeKey", None)
    return ClusterFacts(
        name=unescape_name(str(o.get("name", ""))),
        moref=o.moref,
        ha_enabled=bool(getattr(das, "enabled", False)),
        admission_control_enabled=bool(getattr(das, "admissionControlEnabled", False)),
        evc_mode=str(evc) if evc else None,
        hosts=hosts,
    )


def _video_card(devices: Any) -> VideoCard | None:
    for device in devices or ():
        if isinstance(device, vim.vm.device.VirtualVideoCard):
            graphics = getattr(device, "graphicsMemorySizeInKB", None)
            return VideoCard(
                num_displays=int(device.numDisplays or 0),
                video_ram_kb=int(device.videoRamSizeInKB or 0),
                use_auto_detect=bool(device.useAutoDetect),
                enable_3d_support=bool(device.enable3DSupport),
                graphics_memory_kb=int(graphics) if graphics is not None else None,
                key=int(device.key),
            )
    return None


def _upgrade_policy(info: Any) -> UpgradePolicy | None:
    if info is None or not getattr(info, "upgradePolicy", None):
        return None
    return UpgradePolicy(
        policy=str(info.upgradePolicy),
        version_key=str(info.versionKey) if getattr(info, "versionKey", None) else None,
        status=str(info.scheduledHardwareUpgradeStatus)
        if getattr(info, "scheduledHardwareUpgradeStatus", None)
        else None,
    )


def _datacenter_name(objects: list[ObjectProps]) -> str:
    path = datacenter_path(objects)
    return unescape_name(path.rsplit("/", 1)[-1]) if path else ""


def _events_filter(vm: Any, begin: datetime) -> Any:
    spec = vim.event.EventFilterSpec
    return spec(
        entity=spec.ByEntity(entity=vm, recursion="self"),
        time=spec.ByTime(beginTime=begin),
        eventTypeId=list(EVENT_TYPES),
    )


def vm_facts(
    vm_obj: ObjectProps,
    *,
    vcenter: str,
    host: HostFacts | None,
    cluster: ClusterFacts | None,
    datacenter: str,
    privileges: tuple[tuple[str, bool], ...],
    evidence: tuple[EvidenceItem, ...],
    read_at: datetime,
) -> VmFacts:
    """Build a VM's facts from its properties (:data:`VM_PROPS`) and what surrounds it."""
    screen = vm_obj.get("guest.screen")
    width, height = (getattr(screen, "width", None), getattr(screen, "height", None))
    tools_guest_id = vm_obj.get("guest.guestId")
    tools_version = vm_obj.get("guest.toolsVersion")
    return VmFacts(
        name=unescape_name(str(vm_obj.get("name", ""))),
        moref=vm_obj.moref,
        instance_uuid=str(vm_obj.get("config.instanceUuid") or ""),
        vcenter=vcenter,
        power_state=str(vm_obj.get("runtime.powerState") or ""),
        hardware_version=str(vm_obj.get("config.version") or ""),
        guest_id=str(vm_obj.get("config.guestId") or ""),
        tools_guest_id=str(tools_guest_id) if tools_guest_id else None,
        tools_running=vm_obj.get("guest.toolsRunningStatus") == TOOLS_RUNNING,
        screen=(int(width), int(height)) if width and height else None,
        video=_video_card(vm_obj.get("config.hardware.device")),
        extra_config=tuple(
            (str(ov.key), "" if ov.value is None else str(ov.value))
            for ov in vm_obj.get("config.extraConfig") or ()
        ),
        upgrade_policy=_upgrade_policy(vm_obj.get("config.scheduledHardwareUpgradeInfo")),
        change_version=str(vm_obj.get("config.changeVersion") or ""),
        tools_version=str(tools_version) if tools_version else None,
        interactive_guest_ops_ready=bool(vm_obj.get("guest.interactiveGuestOperationsReady")),
        host=host,
        cluster=cluster,
        privileges=privileges,
        evidence=evidence,
        datacenter=datacenter,
        vmx_path=str(vm_obj.get("config.files.vmPathName") or ""),
        read_at=read_at,
    )


def _sorted_hosts(hosts: list[HostFacts]) -> tuple[HostFacts, ...]:
    return tuple(sorted(hosts, key=lambda h: (h.name.casefold(), h.moref)))


def collect_facts(
    session: Session,
    moref: str,
    *,
    evidence_days: int = 30,
    now: datetime | None = None,
    read_log: bool = False,
) -> VmFacts:
    """Read one VM's facts, its host and cluster, this user's privileges on it, and evidence.

    Args:
        session: the session.
        moref: the VM's managed object id (from :func:`~wizard.vsphere.inventory.list_vms` or
            :func:`~wizard.vsphere.inventory.find_vms`).
        evidence_days: how far back to look for failure events.
        now: the time to count back from and to stamp ``read_at`` with (default: now, UTC).
        read_log: also read the VM's ``vmware.log`` files
            (:func:`~wizard.vsphere.evidence.read_vm_log`) and add their matching lines.

    Raises:
        VmGone: the VM no longer exists.
        VsphereError: see :mod:`wizard.vsphere.errors`.
    """
    when = now if now is not None else datetime.now(UTC)
    vm = session.managed_object(vim.VirtualMachine, moref)
    privileges = [p.value for p in Privilege]

    def read() -> tuple[list[ObjectProps], list[ObjectProps], Held, list[Any]]:
        content = session.content
        objects, held, events = together(
            lambda: retrieve(content.propertyCollector, [_facts_filter(vm)]),
            lambda: content.authorizationManager.HasPrivilegeOnEntities(
                entity=[vm], sessionId=session.session_key, privId=privileges
            ),
            lambda: content.eventManager.QueryEvents(
                filter=_events_filter(vm, when - timedelta(days=evidence_days))
            ),
        )
        vm_obj = next((o for o in objects if o.type == "VirtualMachine"), None)
        extra_hosts: list[ObjectProps] = []
        if vm_obj is not None:
            host_ref = vm_obj.get("runtime.host")
            known = {o.moref for o in objects if o.type == "HostSystem"}
            if host_ref is not None and moref_of(host_ref) not in known:
                extra_hosts = retrieve(content.propertyCollector, [_host_filter(host_ref)])
        return objects, extra_hosts, held_of(held), list(events or ())

    objects, extra_hosts, held, events = session.call(read)
    vm_obj = next((o for o in objects if o.type == "VirtualMachine"), None)
    if vm_obj is None:
        raise VmGone(moref)

    cluster_hosts = [host_facts(o) for o in objects if o.type == "HostSystem"]
    hosts = {h.moref: h for h in cluster_hosts + [host_facts(o) for o in extra_hosts]}
    cluster_obj = next((o for o in objects if o.type == "ClusterComputeResource"), None)
    cluster = _cluster_facts(cluster_obj, _sorted_hosts(cluster_hosts)) if cluster_obj else None
    facts = vm_facts(
        vm_obj,
        vcenter=str(session.endpoint),
        host=hosts.get(moref_of(vm_obj.get("runtime.host"))),
        cluster=cluster,
        datacenter=_datacenter_name(objects),
        privileges=_granted(held, privileges).get(moref, ()),
        evidence=evidence_from_events(events),
        read_at=when,
    )
    if read_log:
        from wizard.vsphere.evidence import read_vm_log

        facts = replace(facts, evidence=facts.evidence + read_vm_log(session, facts))
    log.info(
        "Collected facts of %s (%s): %d hosts, %d evidence items",
        facts.name,
        moref,
        len(hosts),
        len(facts.evidence),
    )
    return facts


def collect_all_facts(
    session: Session,
    *,
    evidence_days: int = 30,
    now: datetime | None = None,
) -> list[VmFacts]:
    """Facts of every VM, sorted by name: :func:`scan_all` keeping the facts themselves (each
    VM's ``extra_config`` holding only the keys the rules read)."""
    return scan_all(session, _itself, evidence_days=evidence_days, now=now)


def _itself(facts: VmFacts) -> VmFacts:
    return facts


def scan_all(
    session: Session,
    work: Callable[[VmFacts], T],
    *,
    evidence_days: int = 30,
    now: datetime | None = None,
    asks_privileges: Callable[[T], bool] | None = None,
) -> list[T]:
    """``work(facts)`` for every VM, from the same few bulk requests whatever the inventory size.

    For a cluster-wide risk scan (``check --all``, whose ``work`` judges the VM), at the same
    time:

    1. the VMs' properties: one ``RetrievePropertiesEx`` from the root folder, then one
       ``ContinueRetrievePropertiesEx`` per page of :data:`SCAN_PAGE_SIZE` VMs;
    2. what the VMs' facts refer to: their hosts, clusters, datacenters and folders (one
       ``RetrievePropertiesEx``);
    3. one ``QueryEvents`` for failure events under the root folder;
    4. as each page arrives, one ``HasPrivilegeOnEntities`` for its VMs. With
       ``asks_privileges``, each VM is first worked on with none asked (``facts.privileges``
       empty), and only for those whose result it says need them are they asked (none when no
       VM of the page does); those VMs are then worked on again with them, and that result is
       kept. A risk scan in brief needs them only for the few VMs that need a fix: a VM that
       needs none gets no remedies, and only remedies look at privileges.

    Each page of VMs is worked on as soon as it is read and 2 and 3 and its privileges have
    answered, while the server puts the next page together: for 10,000 VMs the server's share
    and this side's reading and judging overlap instead of following each other. (Asking the
    privileges of all VMs at once, after a read of their ids, held the first page's judging
    back until the server had answered for all 10,000: two to three seconds in the lab.) A
    slow link costs two latencies before the first page is worked on, and one per page after
    it. The large answers are read with the collector's lean reader (see
    :mod:`wizard.vsphere.collector`), which keeps of each VM's devices its video card and of
    its ``extraConfig`` the keys the rules read (:data:`~wizard.kb.model.RULE_EXTRA_KEYS`):
    ``facts.extra_config`` holds no others. vCenter returns at most 1,000 events to ``QueryEvents``:
    in a very busy inventory older failures may be missed (a single VM's :func:`collect_facts`
    looks at that VM only). Logs are not read. Should the session have expired, the scan
    starts again after the login, so ``work`` may see a VM twice; only the second run's
    results are returned.

    Returns:
        ``work``'s result for each VM, in the order of the VMs' names.

    Raises:
        VsphereError: see :mod:`wizard.vsphere.errors`.
    """
    when = now if now is not None else datetime.now(UTC)
    privileges = [p.value for p in Privilege]

    def run() -> list[T]:
        content = session.content
        ef = vim.event.EventFilterSpec

        def privileges_on(morefs: list[str]) -> Held:
            if not morefs:
                return {}
            return privileges_held(
                content.authorizationManager,
                [session.managed_object(vim.VirtualMachine, m) for m in morefs],
                session.session_key,
                privileges,
            )

        def surroundings() -> list[ObjectProps]:
            spec = inventory_filter(
                content,
                {
                    vim.HostSystem: (*HOST_PROPS, "parent"),
                    vim.ClusterComputeResource: CLUSTER_PROPS,
                    vim.Datacenter: ("name", "parent"),
                    vim.Folder: ("name", "parent"),
                },
            )
            return retrieve(content.propertyCollector, [spec], lean=True)

        def events() -> list[Any]:
            found = content.eventManager.QueryEvents(
                filter=ef(
                    entity=ef.ByEntity(entity=content.rootFolder, recursion="all"),
                    time=ef.ByTime(beginTime=when - timedelta(days=evidence_days)),
                    eventTypeId=list(EVENT_TYPES),
                )
            )
            return list(found or ())

        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="vsphere-scan") as pool:
            around = pool.submit(surroundings)
            failures = pool.submit(events)
            scan = _Scan(session, when, work)
            # Pages read, each with its VMs' privileges on their way (None: to be asked for the
            # VMs that need them), worked on in order.
            pending: deque[tuple[list[ObjectProps], Future[Held] | None]] = deque()

            def work_on_arrived(*, wait: bool) -> None:
                while pending:
                    page, rights = pending[0]
                    if scan.context is None:
                        if not wait and not (around.done() and failures.done()):
                            return
                        scan.context = _ScanContext.of(around.result(), failures.result())
                    if rights is None:
                        later = scan.add(page, {}, unless=asks_privileges)
                        if later:
                            asked = pool.submit(privileges_on, [o.moref for o in later])
                            pending[0] = (later, asked)
                        else:
                            pending.popleft()
                        continue
                    if not wait and not rights.done():
                        return
                    scan.add(page, _granted(rights.result(), privileges))
                    pending.popleft()

            def on_page(page: list[ObjectProps]) -> None:
                vms = [o for o in page if o.type == "VirtualMachine"]
                if vms and asks_privileges is not None:
                    pending.append((vms, None))
                elif vms:
                    pending.append((vms, pool.submit(privileges_on, [o.moref for o in vms])))
                work_on_arrived(wait=False)

            vm_spec = inventory_filter(content, {vim.VirtualMachine: (*VM_PROPS, "parent")})
            try:
                retrieve(
                    content.propertyCollector,
                    [vm_spec],
                    lean=True,
                    only_items=_VIDEO_CARDS_ONLY,
                    only_keys=_RULE_OPTIONS_ONLY,
                    page_size=SCAN_PAGE_SIZE,
                    on_page=on_page,
                )
                work_on_arrived(wait=True)
                around.result()
                failures.result()
                return scan.finish()
            except BaseException:
                around.cancel()
                failures.cancel()
                for _page, rights in pending:
                    if rights is not None:
                        rights.cancel()
                raise

    with gc_paused():
        return session.call(run)


@dataclass
class _ScanContext:
    """What a scan's VM facts refer to, read beside the VMs' properties."""

    hosts: dict[str, HostFacts]
    clusters: dict[str, ClusterFacts]
    by_moref: dict[str, ObjectProps]
    events_by_vm: dict[str, list[Any]]

    @classmethod
    def of(cls, objects: list[ObjectProps], events: list[Any]) -> _ScanContext:
        by_moref = {o.moref: o for o in objects}
        hosts = {o.moref: host_facts(o) for o in objects if o.type == "HostSystem"}
        members: dict[str, list[HostFacts]] = {}
        for o in objects:
            if o.type == "HostSystem":
                members.setdefault(moref_of(o.get("parent")), []).append(hosts[o.moref])
        clusters = {
            o.moref: _cluster_facts(o, _sorted_hosts(members.get(o.moref, [])))
            for o in objects
            if o.type == "ClusterComputeResource"
        }
        events_by_vm: dict[str, list[Any]] = {}
        for event in events:
            target = getattr(getattr(event, "vm", None), "vm", None)
            if target is not None:
                events_by_vm.setdefault(moref_of(target), []).append(event)
        return cls(hosts, clusters, by_moref, events_by_vm)


class _Scan(Generic[T]):
    """The VMs of a scan, worked on page by page (see :func:`scan_all`)."""

    def __init__(
        self,
        session: Session,
        when: datetime,
        work: Callable[[VmFacts], T],
    ) -> None:
        self._vcenter = str(session.endpoint)
        self._when = when
        self._work = work
        self.context: _ScanContext | None = None
        self._done: list[tuple[tuple[str, str], T]] = []

    def add(
        self,
        page: list[ObjectProps],
        granted: dict[str, tuple[tuple[str, bool], ...]],
        *,
        unless: Callable[[T], bool] | None = None,
    ) -> list[ObjectProps]:
        """Work on the VMs of ``page``, whose privileges are ``granted``; with ``unless``, the
        VMs whose result it says need their privileges are returned instead (their results
        left out)."""
        context = self.context
        assert context is not None  # set before the first page
        later: list[ObjectProps] = []
        for o in page:
            host_moref = moref_of(o.get("runtime.host"))
            host_obj = context.by_moref.get(host_moref)
            cluster_moref = moref_of(host_obj.get("parent")) if host_obj is not None else ""
            facts = vm_facts(
                o,
                vcenter=self._vcenter,
                host=context.hosts.get(host_moref),
                cluster=context.clusters.get(cluster_moref),
                datacenter=_datacenter_of(o, context.by_moref),
                privileges=granted.get(o.moref, ()),
                evidence=evidence_from_events(context.events_by_vm.get(o.moref, [])),
                read_at=self._when,
            )
            result = self._work(facts)
            if unless is not None and unless(result):
                later.append(o)
                continue
            self._done.append(((facts.name.casefold(), facts.moref), result))
        return later

    def finish(self) -> list[T]:
        """The results in the order of VM names."""
        self._done.sort(key=lambda done: done[0])
        log.info("Scanned %d VMs on %s", len(self._done), self._vcenter)
        return [result for _key, result in self._done]


def _granted(held: Held, privileges: list[str]) -> dict[str, tuple[tuple[str, bool], ...]]:
    """VM moref -> (privilege, granted) for each of ``privileges``, from what
    ``HasPrivilegeOnEntities`` answered (:func:`~wizard.vsphere.collector.privileges_held`).

    The plural call names each privilege in its answer; the singular ``HasPrivilegeOnEntity``
    answers with bare booleans by position, which a server that drops ``false`` entries (the
    lab's simulator does) would silently shift. A privilege missing from the answer is not held.
    """
    return {
        moref: tuple((p, granted.get(p, False)) for p in privileges)
        for moref, granted in held.items()
    }


def _datacenter_of(vm_obj: ObjectProps, by_moref: dict[str, ObjectProps]) -> str:
    """The name of the datacenter above a VM, following ``parent`` through its folders."""
    parent = by_moref.get(moref_of(vm_obj.get("parent")))
    for _ in range(100):  # folders nest, but not endlessly
        if parent is None:
            return ""
        if parent.type == "Datacenter":
            return unescape_name(str(parent.get("name", "")))
        parent = by_moref.get(moref_of(parent.get("parent")))
    return ""
