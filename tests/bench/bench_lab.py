"""Benchmark the training lab: start time and memory for 25 and 10,000 VMs.

Run as ``.venv/bin/python tests/bench/bench_lab.py``. It builds the lab if needed (and says how
long the build took), starts it for each size, and prints the time from process start to the
ready line, the lab's resident memory, and the time of one bulk property read of every VM's
name and hardware version (what the wizard's VM list does).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.helpers.lab import connect, scenario_vm, vim, vmodl, write_scenario  # noqa: E402
from wizard.lab.binary import lab_binary  # noqa: E402
from wizard.lab.process import LabProcess  # noqa: E402

SIZES = (25, 10_000)


def scenario() -> dict[str, Any]:
    """One affected VM on a three-host cluster; filler VMs make up the rest."""
    vm = scenario_vm(
        "HD-W7-042",
        upgrade_policy={"policy": "never", "version": "vmx-08"},
        history={"failed_vmotion": True},
    )
    hosts = [
        {"name": f"esx-a{i}.lab.local", "cpu_model": "Intel Xeon E5-2680 v2", "sse41": True}
        for i in (1, 2, 3)
    ]
    return {
        "format": 1,
        "id": "bench",
        "title": "Bench",
        "briefing": "Benchmark inventory.",
        "login": {"user": "bench@lab.local", "password": "Bench-1"},
        "users": [],
        "filler_vms": 0,
        "clusters": [
            {
                "name": "Cluster-A",
                "ha": {"enabled": True, "admission_control": True},
                "hosts": hosts,
            }
        ],
        "vms": [vm],
        "expect": {},
    }


def rss_mib(pid: int) -> str:
    """The process's resident set size, from /proc (Linux only)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return "n/a"
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return f"{int(line.split()[1]) / 1024:.0f} MiB"
    return "n/a"


def bulk_read(si: Any) -> tuple[int, float]:
    """Read name and config.version of every VM in one property-collector pass."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[
                vmodl.query.PropertyCollector.ObjectSpec(
                    obj=view,
                    skip=True,
                    selectSet=[
                        vmodl.query.PropertyCollector.TraversalSpec(
                            name="view", path="view", skip=False, type=vim.view.ContainerView
                        )
                    ],
                )
            ],
            propSet=[
                vmodl.query.PropertyCollector.PropertySpec(
                    type=vim.VirtualMachine, pathSet=["name", "config.version"]
                )
            ],
        )
        start = time.perf_counter()
        result = content.propertyCollector.RetrievePropertiesEx(
            [spec], vmodl.query.PropertyCollector.RetrieveOptions()
        )
        elapsed = time.perf_counter() - start
        return len(result.objects), elapsed
    finally:
        view.DestroyView()


def main() -> None:
    start = time.perf_counter()
    binary = lab_binary()
    print(f"lab binary: {binary} (found or built in {time.perf_counter() - start:.1f} s)")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_scenario(scenario(), Path(tmp))
        for size in SIZES:
            lab = LabProcess(path, binary=binary, filler_vms=size - 1)
            start = time.perf_counter()
            with lab:
                ready = time.perf_counter() - start
                assert lab.pid is not None
                memory = rss_mib(lab.pid)
                with connect(lab.info) as si:
                    count, read = bulk_read(si)
                    memory_after = rss_mib(lab.pid)
            print(
                f"{size:>6} VMs: ready in {ready:.2f} s, RSS {memory} "
                f"({memory_after} after a bulk read of {count} VMs in {read:.2f} s)"
            )


if __name__ == "__main__":
    main()
