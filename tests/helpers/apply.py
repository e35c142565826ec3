"""What the ``test_apply_*`` and reliability tests share: the executor tests' scenario, how a VM
is checked and read, journals, and "someone else" (a second admin's plain pyVmomi login) acting
on vCenter meanwhile. Sessions come from :func:`tests.helpers.vsphere_lab.session_to`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.helpers.faultproxy import FaultProxy
from tests.helpers.lab import WaitForTask, cli_login, connect, scenario_vm, vm_of
from tests.helpers.vsphere_lab import session_to
from wizard.audit import Journal, JournalEntry
from wizard.kb import RemedyId, RemedyOptions, assess, remedies
from wizard.kb.facts import VmFacts
from wizard.kb.model import Remedy
from wizard.lab.process import LabInfo
from wizard.vsphere.facts import collect_facts
from wizard.vsphere.inventory import resolve_vm
from wizard.vsphere.results import StepUpdate
from wizard.vsphere.session import Session

ADMIN2 = ("admin2@lab.local", "Admin2!1")
VIEWER = ("viewer@lab.local", "Viewer!1")
OPERATOR = ("operator@lab.local", "Operator!1")


SCENARIO: dict[str, Any] = {
    "format": 1,
    "id": "apply-tests",
    "title": "Executor tests",
    "briefing": "Written by tests/helpers/apply.py.",
    "login": {"user": "helpdesk@lab.local", "password": "Helpdesk!1"},
    "users": [
        {"user": VIEWER[0], "password": VIEWER[1], "role": "read-only"},
        {"user": OPERATOR[0], "password": OPERATOR[1], "role": "no-power"},
        {"user": ADMIN2[0], "password": ADMIN2[1], "role": "admin"},
    ],
    "filler_vms": 0,
    "clusters": [
        {
            "name": "Cluster-A",
            "ha": {"enabled": True, "admission_control": False},
            "hosts": [
                {"name": "esx-a1.lab.local", "cpu_model": "Intel Xeon E5-2680 v2", "sse41": True},
                {"name": "esx-a2.lab.local", "cpu_model": "Intel Xeon E5-2680 v2", "sse41": True},
            ],
        }
    ],
    "vms": [
        scenario_vm("Dual W7", history={"failed_vmotion": True}),
        scenario_vm(
            "Single W7",
            screen=[1920, 1080],
            video={"displays": 1, "vram_kb": 16384, "auto_detect": False, "enable_3d": False},
        ),
        scenario_vm("Off W7", power_state="poweredOff", screen=None, tools_running=False),
        scenario_vm("No Tools W7", tools_running=False, screen=None, tools_guest_id=None),
        scenario_vm(
            "HW7 W7",
            hardware_version="vmx-07",
            upgrade_policy={"policy": "onSoftPowerOff", "version": "vmx-08"},
        ),
        scenario_vm(
            "HW10 W7",
            hardware_version="vmx-10",
            upgrade_policy={"policy": "never", "version": "vmx-10"},
        ),
    ],
    "expect": {},
}


def check(
    session: Session,
    name: str,
    remedy: RemedyId,
    *,
    options: RemedyOptions | None = None,
) -> tuple[VmFacts, Remedy]:
    """Check a VM as the wizard does and pick one of its remedies."""
    facts = collect_facts(session, resolve_vm(session, name).moref)
    found = remedies(assess(facts), facts, options=options)
    return facts, next(r for r in found if r.id is remedy)


def read(session: Session, name: str) -> VmFacts:
    """The VM's facts now."""
    return collect_facts(session, resolve_vm(session, name).moref)


def assert_on_and_unchanged(session: Session, facts: VmFacts) -> None:
    """The VM of ``facts`` is still on, and nothing changed it since they were read."""
    now = read(session, facts.name)
    assert (now.power_state, now.change_version) == ("poweredOn", facts.change_version)


@contextlib.contextmanager
def someone_else(info: LabInfo) -> Iterator[Any]:
    """A second administrator's plain pyVmomi login: the colleague acting meanwhile."""
    with connect(info, *ADMIN2) as si:
        yield si


def run_task(task: Any) -> None:
    """Wait for a task of the plain pyVmomi login (bounded)."""
    WaitForTask(task, maxWaitTime=30)


def journal_in(directory: Path) -> Journal:
    """A journal of the test's own."""
    return Journal(directory / "journal.jsonl")


def records(entry: JournalEntry) -> list[tuple[str, str, str | None]]:
    """(phase, step, outcome) of every record of an entry, for assertions on the journal."""
    return [(r.phase, r.step, r.data.get("outcome")) for r in entry.records]


def at(
    step: str, state: str, action: Callable[[], None], *, message: str = ""
) -> Callable[[StepUpdate], None]:
    """A progress callback that runs ``action`` once, when ``step`` reaches ``state`` (and its
    message starts with ``message``): "at this moment of the run, do this"."""
    done: list[bool] = []

    def on_progress(update: StepUpdate) -> None:
        if done or update.step != step or update.state != state:
            return
        if message and not update.message.startswith(message):
            return
        done.append(True)
        action()

    return on_progress


def start_cli(basedir: Path, lab: LabInfo, *args: str) -> subprocess.Popen[str]:
    """The command line as a real process on ``lab`` (password on stdin, the lab's certificate
    trusted by fingerprint), with its own data folder ``basedir``."""
    env = {**os.environ, "CHECKPOINT_WIZARD_BASEDIR": str(basedir), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wizard",
            *args,
            *cli_login(lab),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def reconfigure_tasks(lab: LabInfo, name: str) -> int:
    """How many reconfigure tasks vCenter ran on the VM."""
    with someone_else(lab) as si:
        vm = vm_of(si, name)
        manager = si.RetrieveContent().taskManager
        return sum(
            1
            for task in manager.recentTask
            if task.info.entity == vm and task.info.descriptionId == "VirtualMachine.reconfigure"
        )


@contextlib.contextmanager
def behind_proxy(
    lab: LabInfo, *, lifetime: float, timeout: float
) -> Iterator[tuple[FaultProxy, Session]]:
    """The product's session to the lab through a fault proxy the test can cut or delay."""
    with (
        FaultProxy(lab.port, lifetime=lifetime) as proxy,
        session_to(lab, port=proxy.port, timeout=timeout) as session,
    ):
        yield proxy, session
