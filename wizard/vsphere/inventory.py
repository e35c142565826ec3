"""The VM picker's data: every VM in one bulk read, and finding a VM by name, path, DNS or IP.

Round trips do not grow with the inventory: :func:`list_vms` makes one request (a
``RetrievePropertiesEx`` for VMs, hosts and clusters together, reaching them from the root
folder with traversal specs rather than through a container view, which would cost two more)
plus one ``ContinueRetrievePropertiesEx`` per further page, if vCenter chooses to page an answer
of fewer objects than ``maxObjects`` asks for. The answer is read with the collector's lean
reader, as plain text (``simple=True``: every property the picker shows is a string, an
enumeration or a reference): for 10,000 VMs pyVmomi's own deserializer would take four times as
long as vCenter (tests/bench).
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from wizard.kb.facts import VmSummary
from wizard.vsphere._pyvmomi import PC, vim
from wizard.vsphere.collector import (
    ObjectProps,
    climb_to_root,
    container_view,
    gc_paused,
    inventory_filter,
    moref_of,
    property_specs,
    retrieve,
    retrieve_names,
    together,
    view_filter,
)
from wizard.vsphere.errors import MorefNotFound, VmAmbiguous, VmNotFound
from wizard.vsphere.names import escape_name, unescape_name
from wizard.vsphere.records import VmRef as VmRef
from wizard.vsphere.session import Session

log = logging.getLogger(__name__)

_VM_PROPS = (
    "name",
    "runtime.powerState",
    "config.guestId",
    "guest.guestId",
    "config.version",
    "runtime.host",
    "guest.toolsRunningStatus",
)
_DNS_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62})(?:\.[A-Za-z0-9\-]{1,63})*\.?$")
TOOLS_RUNNING = "guestToolsRunning"


def _prescreen(guest_id: str, tools_guest_id: str | None, hardware_version: str) -> bool:
    from wizard.kb.prescreen import prescreen  # lazily: the kb layer loads without us

    return prescreen(guest_id, tools_guest_id, hardware_version)


def summaries_from(objects: list[ObjectProps]) -> list[VmSummary]:
    """Build the picker rows from one bulk read of VMs, hosts and clusters, sorted by name."""
    rows = _rows(objects, _places(objects))
    rows.sort(key=lambda r: (r.name.casefold(), r.moref))
    return rows


def _places(objects: list[ObjectProps]) -> dict[str, tuple[str, str]]:
    """Host moref -> (host name, cluster name), from a read of hosts and clusters."""
    clusters = {
        o.moref: unescape_name(str(o.get("name", "")))
        for o in objects
        if o.type == "ClusterComputeResource"
    }
    hosts: dict[str, tuple[str, str]] = {}
    for o in objects:
        if o.type == "HostSystem":
            parent = moref_of(o.get("parent"))
            hosts[o.moref] = (unescape_name(str(o.get("name", ""))), clusters.get(parent, ""))
    return hosts


def _rows(objects: list[ObjectProps], hosts: dict[str, tuple[str, str]]) -> list[VmSummary]:
    """The picker rows of the VMs among ``objects``, in their order."""
    rows = []
    for o in objects:
        if o.type != "VirtualMachine":
            continue
        guest_id = str(o.get("config.guestId") or "")
        tools_guest_id = o.get("guest.guestId") or None
        version = str(o.get("config.version") or "")
        host_name, cluster_name = hosts.get(moref_of(o.get("runtime.host")), ("", ""))
        rows.append(
            VmSummary(
                name=unescape_name(str(o.get("name", ""))),
                moref=o.moref,
                power_state=str(o.get("runtime.powerState") or ""),
                guest_id=guest_id,
                tools_guest_id=str(tools_guest_id) if tools_guest_id else None,
                hardware_version=version,
                host=host_name,
                cluster=cluster_name,
                tools_running=o.get("guest.toolsRunningStatus") == TOOLS_RUNNING,
                prescreen=_prescreen(
                    guest_id, str(tools_guest_id) if tools_guest_id else None, version
                ),
            )
        )
    return rows


FIRST_ROWS = 250
"""VMs in the first page of the list when it is shown as it arrives (``list_vms(..., report=)``)."""


def list_vms(
    session: Session, report: Callable[[list[VmSummary]], None] | None = None
) -> list[VmSummary]:
    """Every VM of the inventory with what the picker shows, sorted by name.

    Args:
        report: if given, called with rows as soon as they are read (each VM once, even if
            the session had to be opened again), so that the first rows can be shown while
            the rest arrives. Three requests then go out at once: a first page of
            :data:`FIRST_ROWS` VMs (the rest of that answer is released), the hosts and
            clusters that page's rows name, and the whole list in one answer as without
            ``report``. The first rows cost one round trip and a page's worth of work on
            vCenter; the whole list costs what it costs without them. Following vCenter's
            pages instead (``ContinueRetrievePropertiesEx``) would cost one more round trip
            per page: over a link of 300 ms, 10,000 VMs in pages of 1,000 take 3 s more.

    Raises:
        VsphereError: see :mod:`wizard.vsphere.errors`.
    """
    if report is None:
        rows = summaries_from(session.call(lambda: _read_list(session)))
    else:
        reported: set[str] = set()
        lock = threading.Lock()

        def report_new(page: list[VmSummary]) -> None:
            with lock:
                new = [r for r in page if r.moref not in reported]
                reported.update(r.moref for r in new)
                if new:
                    report(new)

        # The rows made from each page (``report``) are made with the collector paused too,
        # and the list is kept: frozen, it is not walked by every later full pass.
        with gc_paused(keep=True):
            rows = session.call(lambda: _read_list_streaming(session, report_new))
    log.info("Listed %d VMs on %s", len(rows), session.endpoint)
    return rows


def list_filter(content: Any) -> Any:
    """The ``FilterSpec`` of the whole list: every VM with what the picker shows, and the
    hosts and clusters the rows name."""
    return inventory_filter(
        content,
        {
            vim.VirtualMachine: _VM_PROPS,
            vim.HostSystem: ("name", "parent"),
            vim.ClusterComputeResource: ("name",),
        },
    )


def _read_list(session: Session) -> list[ObjectProps]:
    content = session.content
    return retrieve(content.propertyCollector, [list_filter(content)], lean=True, simple=True)


def _read_list_streaming(
    session: Session, report: Callable[[list[VmSummary]], None]
) -> list[VmSummary]:
    content = session.content
    collector = content.propertyCollector
    hosts: dict[str, tuple[str, str]] = {}

    def read_hosts() -> None:
        spec = inventory_filter(
            content,
            {vim.HostSystem: ("name", "parent"), vim.ClusterComputeResource: ("name",)},
            vm_folders=False,
        )
        hosts.update(_places(retrieve(collector, [spec], lean=True, simple=True)))

    def read_first_page() -> list[ObjectProps]:
        spec = inventory_filter(content, {vim.VirtualMachine: _VM_PROPS})
        return retrieve(
            collector, [spec], page_size=FIRST_ROWS, max_pages=1, lean=True, simple=True
        )

    def first_rows() -> None:
        try:
            first, _ = together(read_first_page, read_hosts)
        except Exception as exc:  # noqa: BLE001 - the whole list is read anyway
            log.debug("The first rows could not be read ahead: %s", exc)
            return
        report(_rows(first, hosts))

    def whole() -> list[VmSummary]:
        return summaries_from(_read_list(session))

    rows, _ = together(whole, first_rows)
    report(rows)
    return rows


def close_matches(query: str, names: list[str], limit: int = 5) -> tuple[str, ...]:
    """Names that look like ``query``: those containing it first, then similar spellings."""
    wanted = query.strip().casefold()
    if not wanted:
        return ()
    folded: dict[str, str] = {}
    for n in names:
        folded.setdefault(n.casefold(), n)
    containing = [orig for f, orig in folded.items() if wanted in f]
    containing.sort(key=lambda n: (len(n), n.casefold()))
    similar = difflib.get_close_matches(wanted, list(folded), n=limit, cutoff=0.6)
    out: list[str] = []
    for n in containing + [folded[s] for s in similar]:
        if n not in out:
            out.append(n)
    return tuple(out[:limit])


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _vm_names(content: Any) -> dict[str, str]:
    """moref -> name (as the user sees it) of every VM, in one request."""
    names = retrieve_names(
        content.propertyCollector, [inventory_filter(content, {vim.VirtualMachine: ("name",)})]
    )
    return {moref: unescape_name(name) for moref, name in names.items()}


def _vm_names_by_view(content: Any) -> dict[str, str]:
    """moref -> name of every VM through a recursive container view of the root folder."""
    with container_view(content, [vim.VirtualMachine]) as view:
        names = retrieve_names(
            content.propertyCollector, [view_filter(view, {vim.VirtualMachine: ("name",)})]
        )
    return {moref: unescape_name(name) for moref, name in names.items()}


def _search_index(content: Any, q: str) -> list[Any]:
    """The VMs the search index finds for ``q`` as an IP, a DNS name or an inventory path."""
    index = content.searchIndex
    if _is_ip(q):
        return list(index.FindAllByIp(datacenter=None, ip=q, vmSearch=True) or ())
    if _DNS_NAME_RE.match(q):
        return list(index.FindAllByDnsName(datacenter=None, dnsName=q, vmSearch=True) or ())
    if "/" not in q:
        return []
    # As typed (names already escaped, e.g. pasted from govc), and with each name escaped: both
    # asked at once, the one as typed wins.
    paths = list(
        dict.fromkeys((q.strip("/"), "/".join(escape_name(p) for p in q.strip("/").split("/"))))
    )

    def lookup(path: str) -> Callable[[], Any]:
        return lambda: index.FindByInventoryPath(inventoryPath=path)

    if len(paths) > 1:
        entities: tuple[Any, ...] = together(lookup(paths[0]), lookup(paths[1]))
    else:
        entities = (lookup(paths[0])(),)
    return [e for e in entities if isinstance(e, vim.VirtualMachine)][:1]


def find_vms(session: Session, query: str) -> list[VmRef]:
    """Find VMs by name, inventory path, DNS name or IP, as the user types them.

    An exact name (case and all) or managed object id (``"vm-42"``) wins: when any VM has it,
    only those VMs are returned. Otherwise the VMs whose name matches ignoring case, and those
    the search index finds by inventory path, DNS name or IP. So ``HD-W7-042`` names that VM
    even when ``hd-w7-042`` exists too, while ``hd-W7-042`` matches both. Several VMs come back
    only when several have that exact name (or id: a VM may be named like another VM's id),
    or none has it exactly and several match otherwise.

    Names are read in one request (names only, not the whole inventory) while the search
    index is asked at the same time (see :func:`~wizard.vsphere.collector.together`), so a
    slow link costs one latency for both. The search index answers DNS names
    (``FindAllByDnsName``), IP addresses (``FindAllByIp``) and inventory paths such as
    ``"Datacenter/vm/HD-W7-042"`` (``FindByInventoryPath``). The DNS name and IP searches
    only find VMs whose VMware Tools report them.

    Returns:
        The VMs matched as above, each once: by managed object id among exact matches, then
        name matches before the search index's.

    Raises:
        ValueError: the query is empty.
        VmNotFound: nothing matched; it carries the closest names.
        VsphereError: see :mod:`wizard.vsphere.errors`.
    """
    q = query.strip()
    if not q:
        raise ValueError("Type a VM name, DNS name, IP address or inventory path.")

    def search() -> tuple[dict[str, str], list[Any]]:
        content = session.content
        return together(lambda: _vm_names(content), lambda: _search_index(content, q))

    names, found = session.call(search)
    exact = [VmRef(name, moref) for moref, name in names.items() if name == q or moref == q]
    if exact:
        return sorted(exact, key=lambda r: r.moref)
    wanted = q.casefold()
    refs = [VmRef(name, moref) for moref, name in names.items() if name.casefold() == wanted]
    refs.sort(key=lambda r: r.moref)
    for entity in found:
        moref = moref_of(entity)
        if moref in names and all(r.moref != moref for r in refs):
            refs.append(VmRef(names[moref], moref))
    if not refs:
        # The root-folder read misses only the VMs of a vApp nested in another vApp: before
        # saying "not found", look once more through a container view, which reaches them (a
        # miss costs its three round trips; a VM found never does).
        everyone = session.call(lambda: _vm_names_by_view(session.content))
        refs = [
            VmRef(name, moref)
            for moref, name in sorted(everyone.items())
            if moref not in names and (name == q or name.casefold() == wanted)
        ]
        if not refs:
            raise VmNotFound(q, close_matches(q, list(everyone.values())))
    return refs


def resolve_vm(session: Session, query: str) -> VmRef:
    """The one VM that ``query`` names (see :func:`find_vms`), for the command line.

    Raises:
        ValueError: the query is empty.
        VmNotFound: nothing matched.
        VmAmbiguous: several VMs matched; the error lists them with what tells them apart
            (folder, host, instance UUID). Choose one with :func:`vm_by_moref`.
        VsphereError: see :mod:`wizard.vsphere.errors`.
    """
    refs = find_vms(session, query)
    if len(refs) > 1:
        raise VmAmbiguous(
            query.strip(),
            tuple((r.name, r.moref) for r in refs),
            describe_vms(session, [r.moref for r in refs]),
        )
    return refs[0]


def vm_by_moref(session: Session, moref: str) -> VmRef:
    """The VM with this managed object id, never one with that name (ids are unique, names not).

    Raises:
        ValueError: ``moref`` is empty.
        MorefNotFound: no VM has this id.
        VsphereError: see :mod:`wizard.vsphere.errors`.
    """
    wanted = moref.strip()
    if not wanted:
        raise ValueError("Give the VM's managed object id, e.g. vm-42.")
    names = session.call(lambda: _vm_names(session.content))
    if wanted not in names:
        raise MorefNotFound(wanted)
    return VmRef(names[wanted], wanted)


def describe_vms(session: Session, morefs: list[str]) -> dict[str, str]:
    """What tells VMs of one name apart: moref -> ``"folder DC/vm/Team B; host esx-1; …"``.

    Two requests, whatever the number of VMs: the VMs with the folders and datacenter above
    them (one traversal up the ``parent`` chain), then their hosts' names. A VM whose folder,
    host or instance UUID cannot be read is described by what could be.
    """

    def read() -> tuple[list[ObjectProps], dict[str, str]]:
        content = session.content
        up = PC.TraversalSpec(
            name="vmUp", type=vim.VirtualMachine, path="parent", skip=False,
            selectSet=[climb_to_root()],
        )  # fmt: skip
        spec = PC.FilterSpec(
            objectSet=[
                PC.ObjectSpec(
                    obj=session.managed_object(vim.VirtualMachine, m), skip=False, selectSet=[up]
                )
                for m in morefs
            ],
            propSet=property_specs(
                {
                    vim.VirtualMachine: ("parent", "runtime.host", "config.instanceUuid"),
                    vim.Folder: ("name", "parent"),
                    vim.Datacenter: ("name", "parent"),
                }
            ),
        )
        objects = retrieve(content.propertyCollector, [spec])
        host_refs = {
            moref_of(o.get("runtime.host"))
            for o in objects
            if o.type == "VirtualMachine" and o.get("runtime.host") is not None
        }
        hosts: dict[str, str] = {}
        if host_refs:
            host_spec = PC.FilterSpec(
                objectSet=[
                    PC.ObjectSpec(obj=session.managed_object(vim.HostSystem, h), skip=False)
                    for h in sorted(host_refs)
                ],
                propSet=property_specs({vim.HostSystem: ("name",)}),
            )
            for o in retrieve(content.propertyCollector, [host_spec]):
                hosts[o.moref] = unescape_name(str(o.get("name", "")))
        return objects, hosts

    objects, hosts = session.call(read)
    by_moref = {o.moref: o for o in objects}
    out: dict[str, str] = {}
    for moref in morefs:
        vm = by_moref.get(moref)
        if vm is None or vm.type != "VirtualMachine":
            continue
        parts = []
        folder = _folder_path(by_moref, moref_of(vm.get("parent")))
        if folder:
            parts.append(f"folder {folder}")
        host = hosts.get(moref_of(vm.get("runtime.host")))
        if host:
            parts.append(f"host {host}")
        uuid = vm.get("config.instanceUuid")
        if uuid:
            parts.append(f"instance UUID {uuid}")
        if parts:
            out[moref] = "; ".join(parts)
    return out


def _folder_path(by_moref: dict[str, ObjectProps], moref: str) -> str:
    """``"DC/vm/Team B"``: the names from the datacenter down to this folder (root left out)."""
    names: list[str] = []
    obj = by_moref.get(moref)
    while obj is not None and obj.get("parent") is not None:  # the root folder has none
        names.append(unescape_name(str(obj.get("name", ""))))
        obj = by_moref.get(moref_of(obj.get("parent")))
    return "/".join(reversed(names))
