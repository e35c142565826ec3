"""Whole inventory: time until the picker's data is ready, against two peers.

- ``list_vms``: the product (one bulk read, answer read by the collector's lean reader);
- ``streamed``: the product as the picker calls it (``list_vms(..., report=)``): a first page
  of rows beside the whole list; ``first_rows`` is when the first rows were handed over;
- ``pyvmomi_bulk``: the same bulk read, answer read by pyVmomi's own deserializer (the product
  before the lean reader);
- ``naive``: what most scripts do, a container view walked VM by VM, reading ``vm.name``,
  ``vm.runtime.…``, ``vm.config.…``, ``vm.guest.…`` attribute by attribute (one round trip per
  property object a VM; host names cached). Measured on a sample and extrapolated linearly.
- ``go``: govmomi's own client reading the same properties through a container view and
  decoding them fully (``tests/bench/goclient``), the fastest practical peer;
- ``floor``: the same request as ``list_vms`` (same headers: gzip asked), answered by the lab
  and read as raw bytes, neither inflated nor parsed: what the wire and the server cost, the
  least any client could take. Its bytes on the wire and inflated are reported too.
"""

from __future__ import annotations

import time
from typing import Any

from tests.bench.common import Lab, go_client, median, run_go_client, session, timed
from wizard.vsphere._pyvmomi import PC, vim
from wizard.vsphere.collector import (
    PAGE_SIZE,
    container_view,
    retrieve,
    view_filter,
)
from wizard.vsphere.inventory import _VM_PROPS, list_filter, list_vms, summaries_from
from wizard.vsphere.session import Session

TOOLS_RUNNING = "guestToolsRunning"


def pyvmomi_bulk(s: Session) -> int:
    """The picker's bulk read with pyVmomi's deserializer; the number of rows."""
    content = s.content
    props = {
        vim.VirtualMachine: _VM_PROPS,
        vim.HostSystem: ("name", "parent"),
        vim.ClusterComputeResource: ("name",),
    }
    with container_view(content, list(props)) as view:
        objects = retrieve(content.propertyCollector, [view_filter(view, props)])
    return len(summaries_from(objects))


def wire_floor(s: Session) -> tuple[float, int, int]:
    """The picker's request read as raw bytes: (seconds, bytes on the wire, bytes inflated)."""
    import zlib

    content = s.content
    collector = content.propertyCollector
    stub = collector._stub
    spec = list_filter(content)
    info = collector._GetMethodInfo("RetrievePropertiesEx")
    options = PC.RetrieveOptions(maxObjects=PAGE_SIZE)
    body = stub.SerializeRequest(collector, info, [[spec], options])
    headers = {
        "Cookie": stub.cookie,
        "SOAPAction": stub.versionId,
        "Content-Type": "text/xml; charset=UTF-8",
        "Accept-Encoding": "gzip, deflate",
    }
    start = time.perf_counter()
    conn = stub.GetConnection()
    conn.request("POST", stub.path, body, headers)
    resp = conn.getresponse()
    chunks = []
    while chunk := resp.read(1 << 16):
        chunks.append(chunk)
    took = time.perf_counter() - start
    stub.ReturnConnection(conn)
    raw = b"".join(chunks)
    gzipped = (resp.getheader("Content-Encoding") or "").lower() == "gzip"
    inflated = len(zlib.decompress(raw, zlib.MAX_WBITS | 16)) if gzipped else len(raw)
    return took, len(raw), inflated


def naive(s: Session, sample: int) -> tuple[int, float]:
    """Read the picker's fields VM by VM for the first ``sample`` VMs; (VMs read, seconds)."""
    content = s.content
    start = time.perf_counter()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        vms = list(view.view)[:sample]
        hosts: dict[str, str] = {}
        rows: list[tuple[Any, ...]] = []
        for vm in vms:
            config, runtime, guest = vm.config, vm.runtime, vm.guest
            host = runtime.host
            if host is not None and host._moId not in hosts:
                hosts[host._moId] = host.name
            rows.append(
                (
                    vm.name,
                    runtime.powerState,
                    config.guestId if config else "",
                    guest.guestId if guest else None,
                    config.version if config else "",
                    hosts.get(host._moId, "") if host is not None else "",
                    guest is not None and guest.toolsRunningStatus == TOOLS_RUNNING,
                )
            )
    finally:
        view.DestroyView()
    return len(rows), time.perf_counter() - start


def run(lab: Lab, runs: int, naive_sample: int | None) -> dict[str, Any]:
    """The figures for one lab; ``naive_sample`` VMs for the naive way (None: skip it)."""
    out: dict[str, Any] = {"vms": lab.size}
    with session(lab) as s:
        list_vms(s)  # warm up: pyVmomi's type tables, the connection pool
        # The floor in the same run, each right after one of the product's reads: the lab
        # just started may still be settling (its garbage collector after creating thousands of
        # VMs), and the machine's speed drifts; a ratio of figures taken minutes apart would
        # measure that drift (2.17 x in one run where the pairs gave 1.2 x).
        seconds: list[float] = []
        floors: list[tuple[float, int, int]] = []
        for _ in range(runs):
            one, rows = timed(lambda: list_vms(s), 1)
            assert isinstance(rows, list)
            assert len(rows) == lab.size, (len(rows), lab.size)
            seconds.extend(one)
            floors.append(wire_floor(s))
        out["list_vms_s"] = median(seconds)
        out["list_vms_runs_s"] = [round(x, 3) for x in seconds]
        out["floor_s"] = median([f[0] for f in floors])
        out["floor_runs_s"] = [round(f[0], 3) for f in floors]
        out["wire_bytes"] = floors[-1][1]
        out["inflated_bytes"] = floors[-1][2]
        firsts: list[float] = []
        wholes: list[float] = []
        for _ in range(runs):
            handed: list[float] = []

            def note(_rows: object, at: list[float] = handed) -> None:
                at.append(time.perf_counter())

            start = time.perf_counter()
            list_vms(s, report=note)
            wholes.append(time.perf_counter() - start)
            firsts.append(handed[0] - start)
        out["first_rows_s"] = median(firsts)
        out["streamed_s"] = median(wholes)
        bulk, count = timed(lambda: pyvmomi_bulk(s), runs)
        assert count == lab.size
        out["pyvmomi_bulk_s"] = median(bulk)
        if naive_sample:
            read, took = naive(s, naive_sample)
            out["naive_sample_vms"] = read
            out["naive_sample_s"] = round(took, 3)
            out["naive_s"] = round(took / read * lab.size, 3)
            out["naive_extrapolated"] = read < lab.size
    binary = go_client()
    if binary is not None:
        go = run_go_client(binary, lab.info, runs)
        assert go["vms"] == lab.size
        out["go_s"] = median(go["seconds"])
        out["go_runs_s"] = [round(x, 3) for x in go["seconds"]]
    return out
