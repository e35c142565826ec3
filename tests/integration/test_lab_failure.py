"""The article's vMotion failure, decided by the lab from the VM's live state."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers.lab import (
    RICH_SCENARIO,
    StartLab,
    WaitForTask,
    connect,
    load_scenario,
    vim,
    vmodl,
)
from tests.integration.test_lab_inventory import fetch_log, objects, video_card
from wizard.lab.process import LabInfo

pytestmark = pytest.mark.lab

MESSAGE = "A general system error occurred: Failed to flush checkpoint data!"


def by_name(si: Any, kind: Any, name: str) -> Any:
    (found,) = [o for o in objects(si, kind) if o.name == name]
    return found


def run(task: Any) -> Any:
    WaitForTask(task, maxWaitTime=30)
    return task


def reconfigure(vm: Any, **spec: Any) -> None:
    run(vm.ReconfigVM_Task(vim.vm.ConfigSpec(**spec)))


def set_extra(vm: Any, key: str, value: str) -> None:
    reconfigure(vm, extraConfig=[vim.option.OptionValue(key=key, value=value)])


def events_of(si: Any, vm: Any, kind: Any) -> list[Any]:
    spec = vim.event.EventFilterSpec(
        entity=vim.event.EventFilterSpec.ByEntity(entity=vm, recursion="self")
    )
    return [e for e in si.RetrieveContent().eventManager.QueryEvents(spec) if isinstance(e, kind)]


def relocate_fails(si: Any, vm: Any, host: Any, call: Callable[[], Any] | None = None) -> Any:
    task = call() if call else vm.RelocateVM_Task(vim.vm.RelocateSpec(host=host))
    with pytest.raises(vmodl.fault.SystemError) as raised:
        WaitForTask(task, maxWaitTime=30)
    assert raised.value.msg == MESSAGE
    assert task.info.state == "error"
    assert task.info.error.msg == MESSAGE
    stack = [m.message for m in task.info.error.faultMessage]
    assert (
        "An I/O error occurred while saving the checkpoint: 0 (Resource temporarily unavailable)"
        in stack
    )
    assert any(m.startswith("Failed to write checkpoint data (offset ") for m in stack)
    return task


@pytest.fixture
def lab(start_lab: StartLab) -> LabInfo:
    return start_lab()


def test_affected_vm_fails_with_the_article_evidence_then_succeeds_once_fixed(lab: LabInfo) -> None:
    with connect(lab) as si:
        vm = by_name(si, vim.VirtualMachine, "Single 1080p")
        source = vm.runtime.host
        target = by_name(si, vim.HostSystem, "esx-a2.lab.local")

        relocate_fails(si, vm, target)
        assert vm.runtime.host == source
        (failed,) = events_of(si, vm, vim.event.VmFailedMigrateEvent)
        assert (failed.host.name, failed.destHost.name) == (source.name, target.name)
        assert failed.reason.msg == MESSAGE
        assert MESSAGE in failed.fullFormattedMessage
        _, log = fetch_log(lab, si, vm)
        assert (
            "| vmx| Migrate_SetFailure: Failed waiting for data. Error bad0006. Limit exceeded."
            in log
        )
        assert "[vob.vmotion.chkpt.toobig] vMotion migration [" in log
        assert "exceeds the maximum checkpoint data length (8388608 byte)." in log
        assert "| vmx| [msg.moduletable.powerOnFailed] Module Migrate power on failed." in log

        # A single display needs 16 MB (the article); written in hex, with blanks.
        set_extra(vm, "migrate.baseCptCacheSize", " 0x1000000 ")
        run(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=target)))
        assert vm.runtime.host == target
        assert vm in target.vm
        assert vm not in source.vm
        (migrated,) = events_of(si, vm, vim.event.VmMigratedEvent)
        assert (migrated.sourceHost.name, migrated.host.name) == (source.name, target.name)
        assert migrated.fullFormattedMessage == (
            f"Migration of virtual machine Single 1080p from {source.name} to {target.name} "
            "completed"
        )
        starts = events_of(si, vm, vim.event.VmBeingHotMigratedEvent)
        assert [e.destHost.name for e in starts] == [target.name, target.name]
        assert all(
            e.fullFormattedMessage.startswith("Migrating Single 1080p from ") for e in starts
        )


def test_a_buffer_too_small_for_two_displays_still_fails(lab: LabInfo) -> None:
    with connect(lab) as si:
        vm = by_name(si, vim.VirtualMachine, "HD-W7-042")  # 2 x 1920x1200
        target = by_name(si, vim.HostSystem, "esx-a2.lab.local")
        set_extra(vm, "migrate.baseCptCacheSize", "20971520")
        relocate_fails(si, vm, target)
        # Our estimate beyond the article: 20 MB + 4 x (2 x 1920 x 1200 - 2 x 1600 x 1200),
        # rounded up to a MiB.
        set_extra(vm, "migrate.baseCptCacheSize", str(24 * 1024 * 1024))
        run(vm.MigrateVM_Task(host=target, priority="defaultPriority"))
        assert vm.runtime.host == target


def test_enabling_3d_while_off_fixes_the_migration(lab: LabInfo) -> None:
    with connect(lab) as si:
        vm = by_name(si, vim.VirtualMachine, "Single 1080p")
        target = by_name(si, vim.HostSystem, "esx-a2.lab.local")
        relocate_fails(
            si, vm, target, lambda: vm.MigrateVM_Task(host=target, priority="defaultPriority")
        )
        run(vm.PowerOffVM_Task())
        card = copy.deepcopy(video_card(vm))
        card.enable3DSupport = True
        change = vim.vm.device.VirtualDeviceSpec(operation="edit", device=card)
        reconfigure(vm, deviceChange=[change])
        run(vm.PowerOnVM_Task())
        assert video_card(vm).enable3DSupport is True
        run(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=target)))
        assert vm.runtime.host == target


def test_mks_enable3d_counts_as_3d_on(lab: LabInfo) -> None:
    with connect(lab) as si:
        vm = by_name(si, vim.VirtualMachine, "Single 1080p")
        set_extra(vm, "mks.enable3d", "TRUE")
        run(
            vm.RelocateVM_Task(
                vim.vm.RelocateSpec(host=by_name(si, vim.HostSystem, "esx-a2.lab.local"))
            )
        )


def test_cold_migration_and_unaffected_vms_move(lab: LabInfo) -> None:
    with connect(lab) as si:
        other_cluster = by_name(si, vim.HostSystem, "esx-b1.lab.local")
        off = by_name(si, vim.VirtualMachine, "Off%2f3D 50%25 ü")
        run(off.RelocateVM_Task(vim.vm.RelocateSpec(host=other_cluster)))
        assert off.runtime.host == other_cluster
        assert off.resourcePool == other_cluster.parent.resourcePool
        assert off in other_cluster.parent.resourcePool.vm
        linux = by_name(si, vim.VirtualMachine, "filler-00001")
        run(linux.RelocateVM_Task(vim.vm.RelocateSpec(host=other_cluster)))
        assert linux.runtime.host == other_cluster


def test_lower_resolution_in_the_guest_fixes_the_migration(lab: LabInfo) -> None:
    with connect(lab) as si:
        vm = by_name(si, vim.VirtualMachine, "Single 1080p")
        target = by_name(si, vim.HostSystem, "esx-a2.lab.local")
        manager = si.RetrieveContent().guestOperationsManager.processManager
        auth = vim.vm.guest.NamePasswordAuthentication(username="user", password="secret")
        program = vim.vm.guest.ProcessManager.ProgramSpec(
            programPath=r"C:\Program Files\VMware\VMware Tools\VMwareResolutionSet.exe",
            arguments="0 1 , 0 0 1280 1024",
        )
        pid = manager.StartProgramInGuest(vm=vm, auth=auth, spec=program)
        assert pid > 0
        assert (vm.guest.screen.width, vm.guest.screen.height) == (1280, 1024)
        (process,) = manager.ListProcessesInGuest(vm=vm, auth=auth, pids=[pid])
        assert process.exitCode == 0
        run(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=target)))


def test_scenario_without_history_has_no_failure_evidence(start_lab: StartLab) -> None:
    scenario: dict[str, Any] = load_scenario(RICH_SCENARIO)
    for vm in scenario["vms"]:
        vm["history"]["failed_vmotion"] = False
    info = start_lab(scenario)
    with connect(info) as si:
        vm = by_name(si, vim.VirtualMachine, "HD-W7-042")
        assert events_of(si, vm, vim.event.VmFailedMigrateEvent) == []
        _, log = fetch_log(info, si, vm)
        assert "Migrate_SetFailure" not in log
