"""The bundled training scenarios: the lab serves each, and its failure model agrees with the
scenario's expected verdicts (an affected VM cannot move; a mitigated or unaffected one can)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.lab import StartLab, WaitForTask, connect, vim, vmodl
from tests.integration.test_lab_failure import MESSAGE
from tests.integration.test_lab_inventory import escaped, objects
from wizard.lab.scenario import bundled_scenario_files

pytestmark = pytest.mark.lab

BUNDLED = bundled_scenario_files()
MOVES = {"affected": False, "mitigated": True, "not_affected": True, "at_risk": True}


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_scenario_outcomes(start_lab: StartLab, path: Path) -> None:
    scenario: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    info = start_lab(path, filler_vms=0)
    roles = {u["user"]: (u["password"], u["role"]) for u in scenario["users"]}
    roles.setdefault(info.user, (info.password, "admin"))
    admins = [(u, password) for u, (password, role) in roles.items() if role != "read-only"]
    if not admins:
        pytest.skip("no account in this scenario may migrate")
    with connect(info, *admins[0]) as si:
        vms = {vm.name: vm for vm in objects(si, vim.VirtualMachine)}
        hosts = objects(si, vim.HostSystem)
        assert len(vms) == len(scenario["vms"])
        for name, expected in scenario["expect"].items():
            moves = MOVES.get(expected["verdict"])
            vm = vms[escaped(name)]
            others = [h for h in hosts if h != vm.runtime.host]
            if moves is None or not others:
                continue
            # Only a running VM has a checkpoint to transfer: a cold migration always works.
            moves = moves or vm.runtime.powerState != "poweredOn"
            task = vm.RelocateVM_Task(vim.vm.RelocateSpec(host=others[0]))
            if moves:
                WaitForTask(task, maxWaitTime=30)
                assert vm.runtime.host == others[0], name
            else:
                with pytest.raises(vmodl.fault.SystemError) as raised:
                    WaitForTask(task, maxWaitTime=30)
                assert raised.value.msg == MESSAGE, name
