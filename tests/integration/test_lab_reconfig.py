"""Reconfigure, upgrade and power calls behave like vCenter's (the simulator's gaps, fixed)."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from tests.helpers.lab import StartLab, WaitForTask, connect, vim
from tests.integration.test_lab_failure import by_name, reconfigure, run, set_extra
from tests.integration.test_lab_inventory import video_card
from wizard.lab.process import LabInfo

pytestmark = pytest.mark.lab


@pytest.fixture
def lab(start_lab: StartLab) -> LabInfo:
    return start_lab()


def extra(vm: Any) -> dict[str, str]:
    return {o.key: o.value for o in vm.config.extraConfig}


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


REFUSED_WHILE_ON = "The attempted operation cannot be performed in the current state (Powered on)."
"""vCenter's words when an operation needs the VM powered off."""


def _refused_while_on(task: vim.Task) -> None:
    """The task fails as vCenter fails it for a running VM."""
    with pytest.raises(vim.fault.InvalidPowerState):
        WaitForTask(task, maxWaitTime=30)
    assert task.info.error.msg == REFUSED_WHILE_ON


def test_extra_config_replaces_and_deletes_keys(lab: LabInfo) -> None:
    with connect(lab) as si:
        vm = by_name(si, vim.VirtualMachine, "HD-W7-042")
        set_extra(vm, "migrate.baseCptCacheSize", "20971520")
        set_extra(vm, "guestInfo.svga.wddm.bootTopology", "1280x1024")
        assert extra(vm) == {
            "migrate.baseCptCacheSize": "20971520",
            "svga.autodetect": "FALSE",
            "guestInfo.svga.wddm.bootTopology": "1280x1024",
        }
        set_extra(vm, "svga.autodetect", "")
        assert "svga.autodetect" not in extra(vm)
        assert [o.key for o in vm.config.extraConfig].count("migrate.baseCptCacheSize") == 1


def test_change_version_guards_against_concurrent_changes(lab: LabInfo) -> None:
    with connect(lab) as si:
        vm = by_name(si, vim.VirtualMachine, "Single 1080p")
        checked = vm.config.changeVersion
        reconfigure(
            vm,
            changeVersion=checked,
            extraConfig=[vim.option.OptionValue(key="migrate.baseCptCacheSize", value="16777216")],
        )
        now = vm.config.changeVersion
        assert now != checked
        task = vm.ReconfigVM_Task(
            vim.vm.ConfigSpec(
                changeVersion=checked,
                extraConfig=[vim.option.OptionValue(key="migrate.baseCptCacheSize", value="1")],
            )
        )
        with pytest.raises(vim.fault.ConcurrentAccess) as raised:
            WaitForTask(task, maxWaitTime=30)
        assert raised.value.msg.startswith(
            "Cannot complete operation due to concurrent modification"
        )
        assert vm.config.changeVersion == now
        assert extra(vm)["migrate.baseCptCacheSize"] == "16777216"


def test_video_card_changes_only_while_off(lab: LabInfo) -> None:
    with connect(lab) as si:
        vm = by_name(si, vim.VirtualMachine, "HD-W7-042")
        card = copy.deepcopy(video_card(vm))
        card.numDisplays = 1
        card.videoRamSizeInKB = 5120
        spec = vim.vm.device.VirtualDeviceSpec(operation="edit", device=card)
        with pytest.raises(vim.fault.InvalidPowerState) as raised:
            run(vm.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=[spec])))
        assert raised.value.msg == REFUSED_WHILE_ON
        assert video_card(vm).numDisplays == 2

        shutdown_then_wait(vm)
        reconfigure(vm, deviceChange=[spec])
        assert (video_card(vm).numDisplays, video_card(vm).videoRamSizeInKB) == (1, 5120)
        # The default card is shared by all VMs in the simulator: the others keep theirs.
        other = by_name(si, vim.VirtualMachine, "Single 1080p")
        assert video_card(other).videoRamSizeInKB == 16384

        # A capped card holds the desktop to 1280x1024 once the VM starts again.
        run(vm.PowerOnVM_Task())
        assert vm.guest.toolsRunningStatus == "guestToolsRunning"
        assert (vm.guest.screen.width, vm.guest.screen.height) == (1280, 1024)
        assert vm.guest.guestId == "windows7_64Guest"


def shutdown_then_wait(vm: Any) -> None:
    vm.ShutdownGuest()
    # Like vCenter, the call returns at once and the power state follows.
    assert vm.runtime.powerState == "poweredOn"
    wait_for(lambda: vm.runtime.powerState == "poweredOff")
    assert vm.guest.toolsRunningStatus == "guestToolsNotRunning"
    assert vm.guest.screen is None


def test_shutdown_needs_running_tools(lab: LabInfo) -> None:
    with connect(lab) as si:
        vm = by_name(si, vim.VirtualMachine, "No Tools XP")
        with pytest.raises(vim.fault.ToolsUnavailable):
            vm.ShutdownGuest()
        off = by_name(si, vim.VirtualMachine, "Off%2f3D 50%25 ü")
        with pytest.raises(vim.fault.InvalidPowerState):
            off.ShutdownGuest()
        manager = si.RetrieveContent().guestOperationsManager.processManager
        with pytest.raises(vim.fault.GuestOperationsUnavailable):
            manager.StartProgramInGuest(
                vm=vm,
                auth=vim.vm.guest.NamePasswordAuthentication(username="u", password="p"),
                spec=vim.vm.guest.ProcessManager.ProgramSpec(programPath="cmd.exe", arguments=""),
            )


def test_upgrade_honours_the_version_and_refuses_while_on(lab: LabInfo) -> None:
    with connect(lab) as si:
        vm = by_name(si, vim.VirtualMachine, "Single 1080p")
        with pytest.raises(vim.fault.InvalidPowerState):
            run(vm.UpgradeVM_Task("vmx-09"))
        run(vm.PowerOffVM_Task())
        before = vm.config.changeVersion
        run(vm.UpgradeVM_Task("vmx-09"))
        assert vm.config.version == "vmx-09"
        assert vm.config.changeVersion != before
        with pytest.raises(vim.fault.AlreadyUpgraded):
            run(vm.UpgradeVM_Task("vmx-08"))


def test_scheduled_hardware_upgrade_is_honoured(lab: LabInfo) -> None:
    with connect(lab) as si:
        vm = by_name(si, vim.VirtualMachine, "HD-W7-042")
        info = vim.vm.ScheduledHardwareUpgradeInfo(upgradePolicy="never", versionKey="vmx-08")
        reconfigure(vm, scheduledHardwareUpgradeInfo=info)
        upgrade = vm.config.scheduledHardwareUpgradeInfo
        assert (upgrade.upgradePolicy, upgrade.versionKey) == ("never", "vmx-08")


def test_failed_tasks_carry_real_messages(lab: LabInfo) -> None:
    with connect(lab) as si:
        vm = by_name(si, vim.VirtualMachine, "Single 1080p")
        task = vm.PowerOnVM_Task()
        _refused_while_on(task)


def test_simulator_tasks_that_fail_carry_real_messages(lab: LabInfo) -> None:
    with connect(lab) as si:
        vm = by_name(si, vim.VirtualMachine, "Single 1080p")
        # Answered by the simulator itself: customization needs the VM off.
        custom = vim.vm.customization
        spec = custom.Specification(
            identity=custom.LinuxPrep(hostName=custom.FixedName(name="pc"), domain="lab.local"),
            globalIPSettings=custom.GlobalIPSettings(),
            nicSettingMap=[],
        )
        task = vm.CustomizeVM_Task(spec)
        _refused_while_on(task)


def test_scheduled_upgrade_runs_at_the_next_soft_power_off(lab: LabInfo) -> None:
    with connect(lab) as si:
        vm = by_name(si, vim.VirtualMachine, "Single 1080p")
        info = vim.vm.ScheduledHardwareUpgradeInfo(
            upgradePolicy="onSoftPowerOff", versionKey="vmx-10"
        )
        reconfigure(vm, scheduledHardwareUpgradeInfo=info)
        run(vm.PowerOffVM_Task())  # a hard power-off does not run it
        assert vm.config.version == "vmx-08"
        run(vm.PowerOnVM_Task())
        shutdown_then_wait(vm)
        wait_for(lambda: vm.config.version == "vmx-10")
        assert vm.config.scheduledHardwareUpgradeInfo.scheduledHardwareUpgradeStatus == "success"
