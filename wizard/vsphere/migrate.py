"""Test vMotion: move the running VM to another host of its cluster and report how it went.

This is the proof the article's fix asks for: before the fix, the migration task ends with
"A general system error occurred: Failed to flush checkpoint data!"; after it, the VM moves.
A failed migration is an outcome, not an error: the VM stays where it was and the task's own
message is kept word for word. What stops the test from being run at all (no privilege, the VM
is off, the wait ran out) is raised as a typed error.

The task is followed with :func:`wizard.vsphere.tasks.wait_for_task`: progress, a time limit,
and a cancel flag looked at every couple of seconds. Stopping the wait does not stop the
migration on vCenter.
"""

# The function is named for what it does for the technician, not a pytest test: its keyword
# defaults are not fixtures. Tests import the module, never the name, so pytest skips it.
# ruff: noqa: PT028

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from wizard.kb.facts import PowerState, VmFacts
from wizard.vsphere._pyvmomi import PC, vim
from wizard.vsphere.collector import ObjectProps, moref_of, retrieve
from wizard.vsphere.errors import ErrorCategory, NoPermission, ServerFault, VsphereError
from wizard.vsphere.names import unescape_name
from wizard.vsphere.records import HostChoice as HostChoice
from wizard.vsphere.records import MigrationOutcome as MigrationOutcome
from wizard.vsphere.session import Session
from wizard.vsphere.tasks import Progress, wait_for_task

log = logging.getLogger(__name__)

HOT_MIGRATE = "Resource.HotMigrate"
"""The privilege vCenter checks for moving a powered-on VM."""
RELOCATE_DESCRIPTION = "VirtualMachine.relocate"


class VmNotRunning(VsphereError):
    """The VM is not powered on: moving it would not be a vMotion and would prove nothing."""

    category = ErrorCategory.REFUSED

    def __init__(self, vm_name: str, power_state: str) -> None:
        """Name the VM and its power state."""
        super().__init__(
            f"{vm_name} is {power_state}: moving it now would be a cold migration, which does "
            "not test vMotion.",
            "Power the VM on and test again, or skip the test.",
        )
        self.power_state = power_state


class AlreadyOnHost(VsphereError):
    """The VM already runs on the host chosen."""

    category = ErrorCategory.USAGE

    def __init__(self, vm_name: str, host_name: str) -> None:
        """Name the VM and the host."""
        super().__init__(
            f"{vm_name} already runs on {host_name}.", "Choose another host for the test."
        )


def _host_props() -> Any:
    return PC.PropertySpec(
        type=vim.HostSystem,
        pathSet=["name", "runtime.connectionState", "runtime.inMaintenanceMode"],
        all=False,
    )


def _host_choice(o: ObjectProps) -> HostChoice:
    return HostChoice(
        name=unescape_name(str(o.get("name", ""))),
        moref=o.moref,
        connection_state=str(o.get("runtime.connectionState") or ""),
        in_maintenance=bool(o.get("runtime.inMaintenanceMode")),
    )


def list_target_hosts(session: Session, facts: VmFacts) -> list[HostChoice]:
    """The hosts of the VM's cluster other than the one it runs on now, usable ones first.

    One property-collector request reads the VM's current host (it may have moved since the
    check, e.g. after an earlier test) and every host of the cluster with its state.

    Returns:
        The hosts, usable ones first, each group by name; empty for a VM on a standalone host.
    """
    if facts.cluster is None:
        return []
    vm = session.managed_object(vim.VirtualMachine, facts.moref)
    cluster = session.managed_object(vim.ClusterComputeResource, facts.cluster.moref)
    to_hosts = PC.TraversalSpec(name="hosts", type=vim.ComputeResource, path="host", skip=False)
    spec = PC.FilterSpec(
        objectSet=[
            PC.ObjectSpec(obj=vm, skip=False),
            PC.ObjectSpec(obj=cluster, skip=True, selectSet=[to_hosts]),
        ],
        propSet=[
            PC.PropertySpec(type=vim.VirtualMachine, pathSet=["runtime.host"], all=False),
            _host_props(),
        ],
    )
    collector = session.content.propertyCollector
    objects = session.call(lambda: retrieve(collector, [spec]))
    vm_obj = next((o for o in objects if o.type == "VirtualMachine"), None)
    current = moref_of(vm_obj.get("runtime.host")) if vm_obj is not None else ""
    if not current and facts.host is not None:
        current = facts.host.moref
    hosts = [_host_choice(o) for o in objects if o.type == "HostSystem" and o.moref != current]
    return sorted(hosts, key=lambda h: (not h.usable, h.name.casefold()))


class _CancelFlag(threading.Event):
    """A :class:`threading.Event` that is also set once ``is_cancelled()`` says so."""

    def __init__(self, is_cancelled: Callable[[], bool]) -> None:
        super().__init__()
        self._is_cancelled = is_cancelled

    def is_set(self) -> bool:
        return super().is_set() or self._is_cancelled()


def _failure_message(error: VsphereError | None) -> str:
    """vCenter's own words for a failed task (not our wrapping of them)."""
    if isinstance(error, ServerFault):
        return error.detail or error.message
    if error is not None:
        return error.message
    return "The migration failed; vCenter gave no reason."


def test_vmotion(
    session: Session,
    moref: str,
    host_moref: str,
    *,
    on_progress: Progress | None = None,
    timeout: float = 600,
    is_cancelled: Callable[[], bool] | None = None,
) -> MigrationOutcome:
    """Move the running VM ``moref`` to host ``host_moref`` (``RelocateVM_Task``) and wait.

    The relocation keeps the VM's resource pool and storage: only the host changes, as a
    plain vMotion does.

    Args:
        session: the session.
        moref: the VM.
        host_moref: the destination host.
        on_progress: ``(percent, message)`` while the task runs; percent None when unknown.
        timeout: seconds allowed for the task to end.
        is_cancelled: stop waiting once it returns True (the migration goes on in vCenter).

    Returns:
        The outcome; ``succeeded`` False with vCenter's message when the migration failed.

    Raises:
        VmNotRunning: the VM is not powered on.
        AlreadyOnHost: the VM already runs on ``host_moref``.
        NoPermission: this user may not migrate the VM (``Resource.HotMigrate``).
        wizard.vsphere.tasks.WaitTimedOut: the task did not end within ``timeout``.
        wizard.vsphere.tasks.WaitCancelled: ``is_cancelled`` said so.
        VsphereError: vCenter refused the request, or the connection failed.
    """
    vm = session.managed_object(vim.VirtualMachine, moref)
    target = session.managed_object(vim.HostSystem, host_moref)
    spec = PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=vm, skip=False), PC.ObjectSpec(obj=target, skip=False)],
        propSet=[
            PC.PropertySpec(
                type=vim.VirtualMachine,
                pathSet=["name", "runtime.host", "runtime.powerState", "resourcePool"],
                all=False,
            ),
            PC.PropertySpec(type=vim.HostSystem, pathSet=["name"], all=False),
        ],
    )
    collector = session.content.propertyCollector
    objects = {o.moref: o for o in session.call(lambda: retrieve(collector, [spec]))}
    vm_obj = objects.get(moref)
    if vm_obj is None:
        raise VsphereError(
            f"The VM {moref} could not be read.", "Check the VM again before testing vMotion."
        )
    vm_name = unescape_name(str(vm_obj.get("name", moref)))
    dest_name = unescape_name(str(objects[host_moref].get("name", host_moref)))
    source_ref = vm_obj.get("runtime.host")
    if moref_of(source_ref) == host_moref:
        raise AlreadyOnHost(vm_name, dest_name)
    power = str(vm_obj.get("runtime.powerState") or "")
    if power != PowerState.ON:
        raise VmNotRunning(vm_name, power or "in an unknown power state")
    source_name = unescape_name(str(session.call(lambda: source_ref.name)))

    relocate = vim.vm.RelocateSpec(host=target, pool=vm_obj.get("resourcePool"))
    start = time.monotonic()
    try:
        task = session.call(lambda: vm.RelocateVM_Task(relocate))
    except NoPermission as exc:
        raise NoPermission(exc.privilege, f"{vm_name} ({moref})") from None
    task_id = moref_of(task)
    log.info("vMotion test of %s from %s to %s: %s", moref, source_name, dest_name, task_id)
    if on_progress is not None:
        on_progress(0, f"Moving {vm_name} to {dest_name}")

    def progress(pct: int | None, _message: str) -> None:
        if on_progress is not None:
            on_progress(pct, f"Moving {vm_name} to {dest_name}")

    state = wait_for_task(
        session,
        task_id,
        timeout=timeout,
        progress=progress,
        cancel=_CancelFlag(is_cancelled) if is_cancelled is not None else None,
    )
    duration = time.monotonic() - start
    if state.state == "error" and isinstance(state.error, NoPermission):
        raise NoPermission(state.error.privilege, f"{vm_name} ({moref})")
    succeeded = state.state == "success"
    outcome = MigrationOutcome(
        succeeded=succeeded,
        message=(
            f"{vm_name} moved from {source_name} to {dest_name}."
            if succeeded
            else _failure_message(state.error)
        ),
        task_id=task_id,
        vm_name=vm_name,
        source_host=source_name,
        destination_host=dest_name,
        duration_s=duration,
        fault=state.fault,
        finished_at=datetime.now(UTC),
    )
    log.info("vMotion test %s: %s", task_id, "succeeded" if succeeded else state.fault)
    return outcome
