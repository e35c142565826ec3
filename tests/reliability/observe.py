"""What an observer outside the product sees: vCenter's side (an admin's own pyVmomi login to the
lab) and this process's side (memory, threads, child processes, open files).

Nothing here goes through the product's code, so what it reports cannot be bent by a bug in it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.helpers.apply import someone_else
from tests.helpers.lab import vm_of
from wizard.lab.process import LabInfo

RECONFIGURE = "VirtualMachine.reconfigure"
BUFFER_KEY = "migrate.baseCptCacheSize"


@contextlib.contextmanager
def admin(lab: LabInfo) -> Iterator[Any]:
    """A second administrator's own login to the lab (plain pyVmomi), logged out afterwards."""
    with someone_else(lab) as si:
        yield si


def sessions_on(lab: LabInfo, si: Any = None) -> int:
    """How many sessions the lab holds, not counting the admin's own."""
    if si is None:
        with admin(lab) as own:
            return sessions_on(lab, own)
    return len(si.RetrieveContent().sessionManager.sessionList or ()) - 1


def reconfigure_tasks(lab: LabInfo, vm_name: str, user: str, si: Any = None) -> int:
    """How many reconfigure tasks vCenter ran on the VM for ``user``."""
    if si is None:
        with admin(lab) as own:
            return reconfigure_tasks(lab, vm_name, user, own)
    vm = vm_of(si, vm_name)
    count = 0
    for task in si.RetrieveContent().taskManager.recentTask or ():
        info = task.info
        if info.entity != vm or info.descriptionId != RECONFIGURE:
            continue
        who = str(getattr(info.reason, "userName", "") or "")
        count += int(who.split("@")[0].casefold() == user.split("@")[0].casefold())
    return count


def vm_state(
    lab: LabInfo, vm_name: str, si: Any = None, key: str = BUFFER_KEY
) -> tuple[str | None, str]:
    """The VM's value of extra-config ``key`` (None when unset) and its power state."""
    if si is None:
        with admin(lab) as own:
            return vm_state(lab, vm_name, own, key)
    vm = vm_of(si, vm_name)
    value = next((str(o.value) for o in vm.config.extraConfig or () if o.key == key), None)
    return value, str(vm.runtime.powerState)


# --------------------------------------------------------------------------- this process


def rss_bytes() -> int:
    """This process's resident memory, after a full garbage collection."""
    gc.collect()
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def child_pids() -> set[int]:
    """The live child processes of this process (Linux: every thread's children list)."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            text = (task / "children").read_text(encoding="ascii")
        except OSError:
            continue
        found.update(int(p) for p in text.split())
    return found


def thread_names() -> list[str]:
    """The names of this process's live Python threads."""
    return sorted(t.name for t in threading.enumerate())


def open_fds() -> int:
    """How many file descriptors this process holds."""
    return len(os.listdir(f"/proc/{os.getpid()}/fd"))
