"""Power a VM down and up again, waiting for each with progress and a time limit.

A guest shutdown goes through VMware Tools (``ShutdownGuest``): the call returns at once and
the VM powers off when the guest has shut down, so the wait watches ``runtime.powerState``. A
hard power-off (``PowerOffVM_Task``) is a separate function: the executor calls it only with
its own consent. Power-on waits for the task, then (bounded) for Tools to start, because the
verification reads what Tools report.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from wizard.kb.facts import PowerState
from wizard.vsphere._pyvmomi import vim
from wizard.vsphere.errors import ServerFault, VsphereError
from wizard.vsphere.session import Session
from wizard.vsphere.tasks import (
    DOWN_LIMIT_S,
    TRANSIENT_ERRORS,
    Progress,
    TaskState,
    WaitTimedOut,
    raise_for,
    reconnect,
    wait_for_task,
    watch_until,
)

TOOLS_RUNNING = "guestToolsRunning"


class ToolsNotRunning(VsphereError):
    """The guest cannot be shut down gracefully: VMware Tools are not running in it."""

    def __init__(self, vm_name: str) -> None:
        """Name the VM."""
        super().__init__(
            f"VMware Tools are not running in {vm_name}, so its guest cannot be shut down "
            "gracefully.",
            "Choose: start Tools (or log on and shut the guest down yourself) and run the fix "
            "again; or allow a hard power-off, which is like pulling the power cord (unsaved "
            "work in the guest is lost).",
        )


class ShutdownTimedOut(VsphereError):
    """The guest did not power off within the time allowed."""

    def __init__(self, vm_name: str, seconds: float, power_state: str) -> None:
        """Name the VM, the time waited and the power state found afterwards."""
        super().__init__(
            f"The guest of {vm_name} did not shut down within {seconds:g} seconds; the VM is "
            f"{power_state}. Nothing was changed.",
            "Ask the user whether something in the guest holds the shutdown (an unsaved "
            "document, an update), then run the fix again; or allow a hard power-off.",
        )
        self.power_state = power_state


def _vm(session: Session, moref: str) -> Any:
    return session.managed_object(vim.VirtualMachine, moref)


def power_state(session: Session, moref: str) -> str:
    """The VM's ``runtime.powerState`` now."""
    vm = _vm(session, moref)
    state: str = session.call(lambda: str(vm.runtime.powerState))
    return state


def shutdown_guest(
    session: Session,
    moref: str,
    vm_name: str,
    *,
    timeout: float,
    progress: Progress | None = None,
    down_limit: float = DOWN_LIMIT_S,
) -> None:
    """Ask Tools to shut the guest down and wait until the VM is powered off.

    Raises:
        ToolsNotRunning: vCenter says Tools are not running (``ToolsUnavailable``).
        ShutdownTimedOut: the VM was still not off after ``timeout`` seconds.
        VsphereError: anything else vCenter refused (e.g. ``NoPermission``).
    """
    vm = _vm(session, moref)
    try:
        session.call(vm.ShutdownGuest)
    except ServerFault as exc:
        if exc.fault == "ToolsUnavailable":
            raise ToolsNotRunning(vm_name) from exc
        raise
    except TRANSIENT_ERRORS:
        _shutdown_again(session, vm, min(timeout, down_limit), progress)

    def report(values: Mapping[str, Any], waited: float) -> None:
        if progress is not None:
            pct = min(99, int(100 * waited / timeout)) if timeout > 0 else None
            progress(pct, f"Waiting for the guest to shut down ({waited:.0f} s of {timeout:g} s)")

    try:
        watch_until(
            session,
            vm,
            ["runtime.powerState"],
            lambda v: str(v.get("runtime.powerState")) == PowerState.OFF,
            what="The guest shutdown",
            timeout=timeout,
            on_update=report,
            on_retry=(lambda message, _down: progress(None, message)) if progress else None,
            down_limit=down_limit,
        )
    except WaitTimedOut:
        raise ShutdownTimedOut(vm_name, timeout, power_state(session, moref)) from None
    if progress is not None:
        progress(100, "The guest has shut down")


# What vCenter may answer a second ShutdownGuest for a guest that is already going down.
_ALREADY_GOING_DOWN = ("InvalidPowerState", "InvalidState", "ToolsUnavailable")


def _shutdown_again(
    session: Session, vm: Any, timeout: float, progress: Progress | None = None
) -> None:
    """The answer to ShutdownGuest was lost: vCenter may or may not have passed it on.

    The VM was then left running (or half shut down) while the technician was told nothing
    happened. Unlike a reconfiguration, a second shutdown request does no harm: once vCenter
    answers again, ask again unless the VM is already off, and let the wait decide.
    """
    reconnect(
        session,
        timeout=timeout,
        on_wait=(
            lambda waited: progress(
                None, f"vCenter does not answer ({waited:.0f} s of {timeout:g} s); still trying"
            )
        )
        if progress
        else None,
    )
    if str(session.call(lambda: vm.runtime.powerState)) == PowerState.OFF:
        return
    try:
        session.call(vm.ShutdownGuest)
    except ServerFault as exc:
        if exc.fault not in _ALREADY_GOING_DOWN:
            raise


def power_off(
    session: Session,
    moref: str,
    *,
    timeout: float,
    progress: Progress | None = None,
    down_limit: float = DOWN_LIMIT_S,
) -> TaskState:
    """Power the VM off hard (no guest shutdown) and wait for the task.

    Raises:
        TaskFailed: the task ended in error.
        VsphereError: vCenter refused the call.
    """
    vm = _vm(session, moref)
    task = session.call(vm.PowerOffVM_Task)
    return raise_for(
        wait_for_task(
            session, str(task._moId), timeout=timeout, progress=progress, down_limit=down_limit
        )
    )


def power_on(
    session: Session,
    moref: str,
    *,
    timeout: float,
    tools_timeout: float,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    down_limit: float = DOWN_LIMIT_S,
) -> tuple[TaskState, bool]:
    """Power the VM on, wait for the task, then up to ``tools_timeout`` for Tools to run.

    Returns:
        The power-on task, and whether Tools were running at the end of the wait.

    Raises:
        TaskFailed: the power-on task ended in error.
        VsphereError: vCenter refused the call.
    """
    vm = _vm(session, moref)
    task = session.call(vm.PowerOnVM_Task)
    state = raise_for(
        wait_for_task(
            session, str(task._moId), timeout=timeout, progress=progress, down_limit=down_limit
        )
    )
    if tools_timeout <= 0:
        return state, False
    try:
        watch_until(
            session,
            vm,
            ["guest.toolsRunningStatus"],
            lambda v: str(v.get("guest.toolsRunningStatus")) == TOOLS_RUNNING,
            what="VMware Tools starting",
            timeout=tools_timeout,
            cancel=cancel,
        )
    except WaitTimedOut:
        return state, False
    return state, True
