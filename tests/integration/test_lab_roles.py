"""Logins and the scenario's roles, enforced like vCenter's permissions."""

from __future__ import annotations

import pytest

from tests.helpers.lab import RICH_SCENARIO, StartLab, connect, load_scenario, try_login, vim
from tests.integration.test_lab_failure import by_name, run, set_extra
from wizard.lab.process import LabInfo

pytestmark = pytest.mark.lab

USERS = {u["user"]: u for u in load_scenario(RICH_SCENARIO)["users"]}
PRIVILEGES = [
    "System.View",
    "VirtualMachine.Config.AdvancedConfig",
    "VirtualMachine.Config.EditDevice",
    "VirtualMachine.Interact.PowerOff",
    "VirtualMachine.Interact.PowerOn",
    "VirtualMachine.GuestOperations.Execute",
    "Resource.HotMigrate",
]
EXPECTED = {
    "helpdesk@lab.local": [True] * 7,
    "admin2@lab.local": [True] * 7,
    "viewer@lab.local": [True, False, False, False, False, False, False],
    "operator@lab.local": [True, True, True, False, False, True, True],
}


@pytest.fixture
def lab(start_lab: StartLab) -> LabInfo:
    return start_lab()


def password_of(info: LabInfo, user: str) -> str:
    return info.password if user == info.user else str(USERS[user]["password"])


def test_every_account_logs_in_and_wrong_passwords_are_refused(shared_lab: LabInfo) -> None:
    for user in [shared_lab.user, *USERS]:
        with connect(shared_lab, user, password_of(shared_lab, user)) as si:
            assert si.RetrieveContent().sessionManager.currentSession.userName == user
    for user, password in [(shared_lab.user, "wrong"), ("nobody@lab.local", "x")]:
        with pytest.raises(vim.fault.InvalidLogin):
            try_login(shared_lab, user, password)


@pytest.mark.parametrize("user", list(EXPECTED))
def test_has_privilege_on_entity_is_truthful(shared_lab: LabInfo, user: str) -> None:
    with connect(shared_lab, user, password_of(shared_lab, user)) as si:
        content = si.RetrieveContent()
        vm = by_name(si, vim.VirtualMachine, "HD-W7-042")
        key = content.sessionManager.currentSession.key
        answer = content.authorizationManager.HasPrivilegeOnEntity(vm, key, PRIVILEGES)
        assert list(answer) == EXPECTED[user]
        (entity,) = content.authorizationManager.HasPrivilegeOnEntities([vm], key, PRIVILEGES)
        assert [p.isGranted for p in entity.privAvailability] == EXPECTED[user]
        (fetched,) = content.authorizationManager.FetchUserPrivilegeOnEntities([vm], user)
        assert ("VirtualMachine.Interact.PowerOff" in fetched.privileges) is EXPECTED[user][3]
        assert "System.View" in fetched.privileges


def test_read_only_user_may_read_but_not_change(lab: LabInfo) -> None:
    with connect(lab, "viewer@lab.local", "Viewer!1") as si:
        vm = by_name(si, vim.VirtualMachine, "Single 1080p")
        assert vm.config.version == "vmx-08"
        spec = vim.vm.ConfigSpec(
            extraConfig=[vim.option.OptionValue(key="migrate.baseCptCacheSize", value="16777216")]
        )
        with pytest.raises(vim.fault.NoPermission) as raised:
            vm.ReconfigVM_Task(spec)
        assert raised.value.privilegeId == "VirtualMachine.Config.AdvancedConfig"
        assert raised.value.object == vm
        card = next(
            d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualVideoCard)
        )
        device_edit = vim.vm.ConfigSpec(
            deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="edit", device=card)]
        )
        with pytest.raises(vim.fault.NoPermission) as raised:
            vm.ReconfigVM_Task(device_edit)
        assert raised.value.privilegeId == "VirtualMachine.Config.EditDevice"
        for call, privilege in [
            (vm.PowerOffVM_Task, "VirtualMachine.Interact.PowerOff"),
            (vm.ShutdownGuest, "VirtualMachine.Interact.PowerOff"),
            (vm.UpgradeVM_Task, "VirtualMachine.Config.UpgradeVirtualHardware"),
            (lambda: vm.RelocateVM_Task(vim.vm.RelocateSpec()), "Resource.HotMigrate"),
            (
                lambda: vm.CreateSnapshot_Task("s", "", False, False),
                "VirtualMachine.State.CreateSnapshot",
            ),
        ]:
            with pytest.raises(vim.fault.NoPermission) as raised:
                call()
            assert raised.value.privilegeId == privilege
        manager = si.RetrieveContent().guestOperationsManager.processManager
        with pytest.raises(vim.fault.NoPermission) as raised:
            manager.StartProgramInGuest(
                vm=vm,
                auth=vim.vm.guest.NamePasswordAuthentication(username="u", password="p"),
                spec=vim.vm.guest.ProcessManager.ProgramSpec(programPath="cmd.exe", arguments=""),
            )
        assert raised.value.privilegeId == "VirtualMachine.GuestOperations.Execute"
        assert raised.value.object == vm
    with connect(lab) as admin:
        vm = by_name(admin, vim.VirtualMachine, "Single 1080p")
        assert {o.key for o in vm.config.extraConfig} == set()


def test_no_power_user_may_reconfigure_but_not_power(lab: LabInfo) -> None:
    with connect(lab, "operator@lab.local", "Operator!1") as si:
        vm = by_name(si, vim.VirtualMachine, "Single 1080p")
        set_extra(vm, "migrate.baseCptCacheSize", "16777216")
        assert {o.key: o.value for o in vm.config.extraConfig} == {
            "migrate.baseCptCacheSize": "16777216"
        }
        for call, privilege in [
            (vm.PowerOffVM_Task, "VirtualMachine.Interact.PowerOff"),
            (vm.ShutdownGuest, "VirtualMachine.Interact.PowerOff"),
        ]:
            with pytest.raises(vim.fault.NoPermission) as raised:
                call()
            assert raised.value.privilegeId == privilege
        off = by_name(si, vim.VirtualMachine, "Off%2f3D 50%25 ü")
        with pytest.raises(vim.fault.NoPermission) as raised:
            off.PowerOnVM_Task()
        assert raised.value.privilegeId == "VirtualMachine.Interact.PowerOn"
        run(
            vm.RelocateVM_Task(
                vim.vm.RelocateSpec(host=by_name(si, vim.HostSystem, "esx-a2.lab.local"))
            )
        )
        assert vm.runtime.powerState == "poweredOn"
