"""The command line against one lab: which VM a name picks, the certificate given, prompts answered
with Ctrl-D, and a data folder that cannot be created. Nothing here may change a VM.

The inventory holds names that collide: ``HD-W7-042`` and ``hd-w7-042`` (case only), two VMs
called ``Twin`` in different folders on different hosts, and a VM named exactly like another VM's
managed object id. The scenario format refuses two VMs of one name, so the second ``Twin`` and
the moref lookalike are made by a second administrator's plain pyVmomi login (a folder, a move,
renames), as a colleague would in vCenter.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.apply import SCENARIO, run_task, someone_else
from tests.helpers.lab import running_lab, scenario_vm, vm_of
from tests.helpers.terminal import CTRL_D, cli_env, run_on_terminal
from tests.reliability import observe
from wizard import cli, paths
from wizard.lab.process import LabInfo

pytestmark = pytest.mark.lab

UPPER, LOWER = "HD-W7-042", "hd-w7-042"
TWIN = "Twin"
DUAL = "Dual W7"  # a running dual-screen VM: raise_buffer needs it shut down
BUFFER_KEY = "migrate.baseCptCacheSize"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, lab_binary_path: Path) -> Iterator[LabInfo]:
    scenario: dict[str, Any] = dict(SCENARIO)
    scenario["vms"] = [
        *SCENARIO["vms"],
        scenario_vm(UPPER, history={"failed_vmotion": True}),
        scenario_vm(LOWER, "esx-a2.lab.local"),
        scenario_vm(TWIN, "esx-a1.lab.local"),
        scenario_vm("Twin 2", "esx-a2.lab.local"),
        scenario_vm("Lookalike", "esx-a2.lab.local"),
    ]
    directory = tmp_path_factory.mktemp("lab")
    with running_lab(scenario, directory, binary=lab_binary_path) as process:
        info = process.info
        with someone_else(info) as si:
            content = si.RetrieveContent()
            datacenter = content.rootFolder.childEntity[0]
            team_b = datacenter.vmFolder.CreateFolder("Team B")
            run_task(team_b.MoveIntoFolder_Task([vm_of(si, "Twin 2")]))
            run_task(vm_of(si, "Twin 2").Rename_Task(TWIN))
            run_task(vm_of(si, "Lookalike").Rename_Task(vm_of(si, UPPER)._moId))
        yield info


def login(lab: LabInfo, fingerprint: str | None = None) -> list[str]:
    return [
        "--vcenter",
        f"{lab.host}:{lab.port}",
        "--user",
        lab.user,
        "--trust-fingerprint",
        fingerprint or lab.thumbprint_sha256,
        "--timeout",
        "10",
    ]


def run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lab: LabInfo,
    *args: str,
    fingerprint: str | None = None,
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(lab.password + "\n"))
    code = cli.main([*args, *login(lab, fingerprint), "--password-stdin"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def buffer_of(lab: LabInfo, name: str) -> Any:
    with observe.admin(lab) as si:
        vm = vm_of(si, name)
        return (
            next((o.value for o in vm.config.extraConfig if o.key == BUFFER_KEY), None),
            vm.config.changeVersion,
            vm.runtime.powerState,
        )


# ------------------------------------------------------------------------------- the certificate


def test_a_wrong_trust_fingerprint_says_it_did_not_match(
    lab: LabInfo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = ":".join(["AB"] * 32)
    code, _, err = run(monkeypatch, capsys, lab, "check", "--vm", UPPER, fingerprint=wrong)
    assert code == cli.EXIT_CONNECTION
    assert "does not match" in err
    assert wrong in err
    assert lab.thumbprint_sha256 in err
    assert "--trust-fingerprint" in err
    assert observe.sessions_on(lab) == 0  # the password was not sent


# ------------------------------------------------------------------------------- the data folder


def test_apply_with_a_data_folder_that_cannot_be_created_changes_nothing(
    lab: LabInfo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = buffer_of(lab, DUAL)
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    paths.set_basedir(blocker / "wizard")
    args = ["apply", "--vm", DUAL, "--remedy", "raise_buffer", "--yes", "--allow-shutdown"]
    code, out, err = run(monkeypatch, capsys, lab, *args)
    assert code == cli.EXIT_USAGE, err
    assert str(blocker / "wizard" / "data") in err
    assert "Nothing was changed" in err
    assert out == ""
    assert buffer_of(lab, DUAL) == before
    assert observe.sessions_on(lab) == 0  # refused before connecting


# ------------------------------------------------------------------------------- Ctrl-D at a prompt


@pytest.mark.slow
@pytest.mark.parametrize(
    "typed",
    [
        [("Go ahead?", CTRL_D)],
        [("Go ahead?", b"y\n"), ("Shut down the guest", CTRL_D)],
    ],
    ids=["at-go-ahead", "at-shut-down"],
)
def test_ctrl_d_at_a_confirmation_changes_nothing(
    lab: LabInfo, tmp_path: Path, typed: list[tuple[str, bytes]]
) -> None:
    before = buffer_of(lab, DUAL)
    args = ["apply", "--vm", DUAL, "--remedy", "raise_buffer", *login(lab)]
    answers = [("Password for", lab.password.encode() + b"\n"), *typed]
    code, shown = run_on_terminal(args, answers, env=cli_env(tmp_path))
    assert code == cli.EXIT_REFUSED, shown
    assert "Traceback" not in shown
    assert "no answer" in shown
    assert "nothing was changed" in shown
    assert lab.password not in shown
    assert buffer_of(lab, DUAL) == before
