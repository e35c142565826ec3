"""The find's read of every VM's name: what the lab spends answering it, and what reading it costs.

Run as ``.venv/bin/python tests/bench/bench_find_names.py [--vms 10000] [--runs 15]``. It starts
a lab of ``--vms`` VMs (no added latency), logs in, and reads every VM's name from the root
folder (as ``find_vms`` does) three ways, in turn, ``--runs`` times each:

- ``as before``: the walk through the host folders too, read by ``retrieve(..., simple=True)``;
- ``VM folders``: the walk ``inventory_filter`` now makes for VMs alone, read the same way;
- ``now``: that walk read by ``retrieve_names`` (what ``find_vms`` does).

It prints, per way, the medians of: the time to the answer's headers (the lab walking,
encoding and compressing; the link adds nothing here), the time to the names in hand, the
lab's CPU time for the request (from ``/proc``: a figure a busy machine disturbs less than wall
time; Linux only, else 0) and the time the reading took after the headers. The three ways
must read the same names (checked).
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.bench.common import lab_of, median, session  # noqa: E402
from wizard.vsphere._pyvmomi import PC, vim  # noqa: E402
from wizard.vsphere.collector import (  # noqa: E402
    inventory_filter,
    property_specs,
    retrieve,
    retrieve_names,
)


def walk_as_before(content: Any) -> Any:
    """The root-folder walk as it was for a read of VMs alone: through the host folders too."""
    children = PC.TraversalSpec(name="children", type=vim.Folder, path="childEntity", skip=False)
    again = PC.SelectionSpec(name="children")
    dc_vms = PC.TraversalSpec(
        name="dcVms", type=vim.Datacenter, path="vmFolder", skip=False, selectSet=[again]
    )
    dc_hosts = PC.TraversalSpec(
        name="dcHosts", type=vim.Datacenter, path="hostFolder", skip=False, selectSet=[again]
    )
    cr_hosts = PC.TraversalSpec(name="crHosts", type=vim.ComputeResource, path="host", skip=False)
    vapp_vms = PC.TraversalSpec(name="vappVms", type=vim.VirtualApp, path="vm", skip=False)
    children.selectSet = [again, dc_vms, dc_hosts, cr_hosts, vapp_vms]
    root = PC.ObjectSpec(obj=content.rootFolder, skip=False, selectSet=[children])
    return PC.FilterSpec(objectSet=[root], propSet=property_specs({vim.VirtualMachine: ("name",)}))


@contextmanager
def answer_times() -> Iterator[list[float]]:
    """The moments answers' headers arrive (``perf_counter``), on any connection."""
    getresponse = http.client.HTTPConnection.getresponse
    times: list[float] = []

    def timed(conn: Any) -> Any:
        resp = getresponse(conn)
        times.append(time.perf_counter())
        return resp

    setattr(http.client.HTTPConnection, "getresponse", timed)  # noqa: B010
    try:
        yield times
    finally:
        setattr(http.client.HTTPConnection, "getresponse", getresponse)  # noqa: B010


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU time of process ``pid`` so far (0 where ``/proc`` is not there)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(vms: int, runs: int) -> dict[str, dict[str, float]]:
    """Medians per way (seconds): headers, names in hand, the lab's CPU, reading."""
    with lab_of(vms) as lab, session(lab) as s:
        content = s.content
        collector = content.propertyCollector

        def simple(spec: Any) -> dict[str, str]:
            objects = retrieve(collector, [spec], lean=True, simple=True)
            return {o.moref: str(o.get("name", "")) for o in objects}

        ways: dict[str, Callable[[], dict[str, str]]] = {
            "as before": lambda: simple(walk_as_before(content)),
            "VM folders": lambda: simple(
                inventory_filter(content, {vim.VirtualMachine: ("name",)})
            ),
            "now": lambda: retrieve_names(
                collector, [inventory_filter(content, {vim.VirtualMachine: ("name",)})]
            ),
        }
        figures: dict[str, dict[str, list[float]]] = {
            w: {"headers_s": [], "names_s": [], "lab_cpu_s": [], "read_s": []} for w in ways
        }
        seen: dict[str, dict[str, str]] = {}
        for _ in range(runs):
            for way, read in ways.items():
                with answer_times() as answered:
                    cpu = cpu_seconds(lab.process.pid)
                    start = time.perf_counter()
                    seen[way] = read()
                    done = time.perf_counter()
                    cpu = cpu_seconds(lab.process.pid) - cpu
                f = figures[way]
                f["headers_s"].append(answered[-1] - start)
                f["names_s"].append(done - start)
                f["lab_cpu_s"].append(cpu)
                f["read_s"].append(done - answered[-1])
        first = next(iter(seen.values()))
        if len(first) != vms or any(names != first for names in seen.values()):
            raise AssertionError("the three ways did not read the same names")
    return {w: {k: median(v) for k, v in f.items()} for w, f in figures.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    figures = measure(args.vms, args.runs)
    print(f"Every VM's name, {args.vms} VMs, medians of {args.runs} runs (ms):")
    print(f"{'':12} {'headers':>8} {'names':>8} {'lab CPU':>8} {'reading':>8}")
    for way, f in figures.items():
        print(
            f"{way:12} {f['headers_s'] * 1000:8.0f} {f['names_s'] * 1000:8.0f} "
            f"{f['lab_cpu_s'] * 1000:8.0f} {f['read_s'] * 1000:8.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
