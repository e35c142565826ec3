"""`scenario export` against the lab: a real vSphere endpoint read through the real pyVmomi.

For every bundled scenario: start the lab on it, export its VM of interest from the command line
(names made up), and hold the export to three promises a trainer relies on:

- the export changed nothing: the VM's ``changeVersion`` is the same before and after;
- the file is a valid scenario that carries none of the real names;
- a second lab started on the export gives the same ``check`` verdict and recommended fix as the
  first lab gave the real VM.

Each scenario costs two lab starts and three logins (about a second), cheap enough to run them
all: the bundled set covers every verdict, every fix, the three roles, HA admission control,
hosts without SSE4.1, hex values, scheduled upgrades and odd names.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.lab import StartLab, cli_login, connect, vm_of
from wizard import cli
from wizard.lab.process import LabInfo
from wizard.lab.scenario import Scenario, bundled_scenario_files, load_scenario

pytestmark = pytest.mark.lab

SCENARIOS = bundled_scenario_files()


def _vm_of_interest(scenario: Scenario) -> str:
    return scenario.vm_of_interest or scenario.expect[0].vm


def _run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with (
        pytest.MonkeyPatch.context() as mp,
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        mp.setattr("sys.stdin", io.StringIO(stdin))
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def _verdict(argv: list[str], stdin: str = "") -> tuple[str, str | None]:
    code, out, err = _run(["check", *argv, "--json"], stdin)
    assert code == cli.EXIT_OK, err
    doc: dict[str, Any] = json.loads(out)
    recommended = [r["id"] for r in doc["remedies"] if r["recommended"]]
    return doc["verdict"], recommended[0] if recommended else None


def _export(info: LabInfo, vm: str, out: Path, *extra: str) -> tuple[int, str, str]:
    return _run(
        ["scenario", "export", *cli_login(info), "--vm", vm, "--out", str(out), *extra],
        info.password + "\n",
    )


def _change_version(info: LabInfo, vm: str) -> str:
    # vCenter escapes "/", "\\" and "%" in names (%2f ...): the lookup undoes it.
    with connect(info) as si:
        return str(vm_of(si, vm.replace("%", "%25").replace("/", "%2f")).config.changeVersion)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_an_exported_scenario_gives_the_real_vm_s_verdict_in_a_second_lab(
    path: Path, start_lab: StartLab, tmp_path: Path
) -> None:
    original = load_scenario(path)
    vm = _vm_of_interest(original)
    first = start_lab(path)
    before = _change_version(first, vm)
    real = _verdict([*cli_login(first), "--vm", vm], first.password + "\n")

    target = tmp_path / "ticket-4711.json"
    code, out, err = _export(first, vm, target)
    assert code == cli.EXIT_OK, err
    assert _change_version(first, vm) == before, "the export changed the real VM"

    exported = load_scenario(target)
    assert exported.id == "ticket-4711"
    text = target.read_text(encoding="utf-8")
    real_names = {vm, original.datacenter or "", *(h.name for h in original.hosts)}
    real_names |= {c.name for c in original.clusters} | {original.login.user}
    for name in real_names - {""}:
        assert json.dumps(name) not in text, f"{name!r} was not made up"
    fake = _vm_of_interest(exported)
    assert f"Wrote {target}: {fake}" in out

    in_second_lab = _verdict(["--scenario", str(target), "--vm", fake])
    assert in_second_lab == real
    assert (exported.expect[0].verdict.value, exported.expect[0].recommended) == (
        real[0],
        real[1],
    )


def test_keep_names_keeps_odd_names_exactly(start_lab: StartLab, tmp_path: Path) -> None:
    """Umlauts, spaces, slashes and look-alikes survive --keep-names as the lab serves them."""
    path = next(p for p in SCENARIOS if p.stem == "odd-names-buero")
    original = load_scenario(path)
    first = start_lab(path)
    target = tmp_path / "odd.json"
    vm = _vm_of_interest(original)
    code, _out, err = _export(first, vm, target, "--keep-names", "--id", "odd-kept")
    assert code == cli.EXIT_OK, err
    exported = load_scenario(target)
    assert exported.vms[0].name == vm
    assert exported.vms[0].host == original.vm(vm).host
    assert exported.login.user == original.login.user
    assert exported.login.password == "Exported-Case-1"  # never the real account's
    real = _verdict([*cli_login(first), "--vm", vm], first.password + "\n")
    assert _verdict(["--scenario", str(target), "--vm", vm]) == real


def test_a_wrong_vm_name_exits_4_and_writes_nothing(start_lab: StartLab, tmp_path: Path) -> None:
    first = start_lab(SCENARIOS[0])
    target = tmp_path / "none.json"
    code, _out, err = _export(first, "NO-SUCH-VM", target)
    assert code == 4, err
    assert "NO-SUCH-VM" in err
    assert not target.exists()


def test_a_wrong_password_exits_3_and_writes_nothing(start_lab: StartLab, tmp_path: Path) -> None:
    first = start_lab(SCENARIOS[0])
    target = tmp_path / "none.json"
    code, _out, err = _run(
        [
            "scenario",
            "export",
            *cli_login(first),
            "--vm",
            "x",
            "--out",
            str(target),
        ],
        "wrong-password\n",
    )
    assert code == 3, err
    assert not target.exists()
