"""The command line against one lab: which VM a name picks, the certificate given, prompts answered
with Ctrl-D, and a data folder that cannot be created. Nothing here may change a VM.

The inventory holds names that collide: ``HD-W7-042`` and ``hd-w7-042`` (case only), two VMs
called ``Twin`` in different folders on different hosts, and a VM named exactly like another VM's
managed object id. The scenario format refuses two VMs of one name, so the second ``Twin`` and
the moref lookalike are made by a second administrator's plain pyVmomi login (a folder, a move,
renames), as a colleague would in vCenter.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.apply import SCENARIO, run_task, someone_else
from tests.helpers.lab import running_lab, scenario_vm, vim, vm_of
from tests.helpers.terminal import CTRL_D, cli_env, needs_terminal, run_on_terminal
from tests.helpers.vsphere_lab import session_to
from tests.reliability import observe
from wizard import cli, paths
from wizard.lab.process import LabInfo
from wizard.vsphere.errors import VmAmbiguous
from wizard.vsphere.inventory import find_vms, resolve_vm

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


@pytest.fixture(scope="module")
def morefs(lab: LabInfo) -> dict[str, list[str]]:
    """name -> the morefs of every VM of that name."""
    out: dict[str, list[str]] = {}
    with observe.admin(lab) as si:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(
            content.rootFolder, [vim.VirtualMachine], True
        )
        try:
            for vm in view.view:
                out.setdefault(vm.name, []).append(vm._moId)
        finally:
            view.Destroy()
    return out


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


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def wizard(
    lab: LabInfo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """:func:`run` on this test's lab, stdin and output: ``wizard(*args, fingerprint=...)``."""
    return functools.partial(run, monkeypatch, capsys, lab)


def checked_vm(out: str) -> dict[str, Any]:
    vm: dict[str, Any] = json.loads(out)["vm"]
    return vm


def buffer_of(lab: LabInfo, name: str) -> Any:
    with observe.admin(lab) as si:
        vm = vm_of(si, name)
        return (
            next((o.value for o in vm.config.extraConfig if o.key == BUFFER_KEY), None),
            vm.config.changeVersion,
            vm.runtime.powerState,
        )


# --------------------------------------------------------------------------- which VM a name picks


def test_an_exact_name_wins_over_one_that_differs_in_case(
    morefs: dict[str, list[str]],
    wizard: Run,
) -> None:
    for name in (UPPER, LOWER):
        code, out, err = wizard("check", "--vm", name, "--json")
        assert code == cli.EXIT_OK, err
        assert checked_vm(out)["name"] == name
        assert checked_vm(out)["moref"] == morefs[name][0]


def test_several_case_insensitive_matches_and_no_exact_one_are_ambiguous(
    morefs: dict[str, list[str]],
    wizard: Run,
) -> None:
    code, out, err = wizard("check", "--vm", "Hd-W7-042")
    assert code == cli.EXIT_NOT_FOUND, err
    assert out == ""
    for name in (UPPER, LOWER):
        assert f"{name} ({morefs[name][0]};" in err
    assert "--moref" in err


def test_two_vms_of_one_name_are_listed_so_they_can_be_told_apart(
    morefs: dict[str, list[str]],
    wizard: Run,
) -> None:
    code, _, err = wizard("check", "--vm", TWIN)
    assert code == cli.EXIT_NOT_FOUND, err
    assert "2 VMs match 'Twin'" in err
    assert "folder " in err
    assert "/Team B" in err
    assert "host esx-a1.lab.local" in err
    assert "host esx-a2.lab.local" in err
    assert "instance UUID " in err
    first, second = sorted(morefs[TWIN])
    assert f"--moref {first}" in err
    for moref in (first, second):
        code, out, err = wizard("check", "--moref", moref, "--json")
        assert code == cli.EXIT_OK, err
        assert (checked_vm(out)["name"], checked_vm(out)["moref"]) == (TWIN, moref)


def test_a_vm_named_like_another_vms_moref_is_told_apart_with_moref(
    morefs: dict[str, list[str]],
    wizard: Run,
) -> None:
    (real,) = morefs[UPPER]
    (lookalike,) = morefs[real]  # the VM whose *name* is the other's moref
    code, _, err = wizard("check", "--vm", real)
    assert code == cli.EXIT_NOT_FOUND, err
    assert f"{UPPER} ({real};" in err
    assert f"{real} ({lookalike};" in err
    assert "--moref" in err
    assert "never a name" in err
    code, out, err = wizard("check", "--moref", real, "--json")
    assert code == cli.EXIT_OK, err
    assert (checked_vm(out)["name"], checked_vm(out)["moref"]) == (UPPER, real)
    code, out, err = wizard("check", "--moref", lookalike, "--json")
    assert code == cli.EXIT_OK, err
    assert (checked_vm(out)["name"], checked_vm(out)["moref"]) == (real, lookalike)


def test_an_unknown_moref_is_not_found(wizard: Run) -> None:
    code, _, err = wizard("check", "--moref", "vm-999999")
    assert code == cli.EXIT_NOT_FOUND, err
    assert "vm-999999" in err
    code, _, err = wizard("check", "--moref", UPPER)  # a name is no moref
    assert code == cli.EXIT_NOT_FOUND, err


def test_the_api_gives_the_exact_match_and_describes_the_ambiguous_ones(
    lab: LabInfo, morefs: dict[str, list[str]]
) -> None:
    with session_to(lab) as session:
        assert [r.moref for r in find_vms(session, UPPER)] == morefs[UPPER]
        assert sorted(r.moref for r in find_vms(session, "hD-w7-042")) == sorted(
            morefs[UPPER] + morefs[LOWER]
        )
        with pytest.raises(VmAmbiguous) as ambiguous:
            resolve_vm(session, TWIN)
    assert sorted(m for _, m in ambiguous.value.matches) == sorted(morefs[TWIN])
    assert len(ambiguous.value.where) == 2
    assert all("instance UUID" in w for w in ambiguous.value.where.values())


# ------------------------------------------------------------------------------- the certificate


def test_a_wrong_trust_fingerprint_says_it_did_not_match(lab: LabInfo, wizard: Run) -> None:
    wrong = ":".join(["AB"] * 32)
    code, _, err = wizard("check", "--vm", UPPER, fingerprint=wrong)
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
    wizard: Run,
) -> None:
    before = buffer_of(lab, DUAL)
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    paths.set_basedir(blocker / "wizard")
    args = ["apply", "--vm", DUAL, "--remedy", "raise_buffer", "--yes", "--allow-shutdown"]
    code, out, err = wizard(*args)
    assert code == cli.EXIT_USAGE, err
    assert str(blocker / "wizard" / "data") in err
    assert "Nothing was changed" in err
    assert out == ""
    assert buffer_of(lab, DUAL) == before
    assert observe.sessions_on(lab) == 0  # refused before connecting


# ------------------------------------------------------------------------------- Ctrl-D at a prompt


@pytest.mark.slow
@needs_terminal
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
