"""``apply``, ``undo`` and ``journal`` on the command line, against the lab."""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.apply import SCENARIO, VIEWER, read
from tests.helpers.lab import cli_login, write_scenario
from tests.helpers.vsphere_lab import session_to
from wizard import cli
from wizard.audit import Journal, VmIdentity
from wizard.lab.process import LabInfo

pytestmark = pytest.mark.lab


def run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lab: LabInfo | None,
    *args: str,
    stdin: str | None = None,
    user: tuple[str, str] | None = None,
) -> tuple[int, str, str]:
    """Run the command line in-process, logging in to ``lab`` with --password-stdin."""
    argv = list(args)
    if lab is not None:
        who, password = user or (lab.user, lab.password)
        argv += [*cli_login(lab, user=who), "--timeout", "5"]
        stdin = f"{password}\n{stdin or ''}"
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin or ""))
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def wizard(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """:func:`run` with this test's stdin and output: ``wizard(lab or None, *args, ...)``."""
    return functools.partial(run, monkeypatch, capsys)


def as_json(out: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(out)
    return data


def test_apply_then_again_then_undo_then_journal(lab: LabInfo, wizard: Run) -> None:
    apply_args = ["apply", "--vm", "Dual W7", "--remedy", "raise_buffer", "--json"]
    apply_args += ["--yes", "--allow-shutdown", "--shutdown-timeout", "10"]
    code, out, _ = wizard(lab, *apply_args)
    assert code == cli.EXIT_OK
    result = as_json(out)
    assert result["outcome"] == "applied"
    assert [s["step"] for s in result["steps"]] == [
        "reread",
        "shutdown",
        "reconfigure",
        "power_on",
        "verify",
    ]
    assert result["changes"] == [
        {"target": "extraConfig", "key": "migrate.baseCptCacheSize", "from": None, "to": "24117248"}
    ]
    assert result["verification"]["verified"] is True
    assert result["verification"]["verdict"] == "mitigated"
    entry_id = result["entry_id"]

    code, out, _ = wizard(lab, *apply_args)
    assert code == cli.EXIT_OK
    assert as_json(out)["outcome"] == "nothing_to_do"

    code, out, _ = wizard(lab, "undo", entry_id, "--yes", "--allow-shutdown", "--json")
    assert code == cli.EXIT_OK
    undone = as_json(out)
    assert undone["outcome"] == "applied"
    assert undone["changes"][0]["to"] is None
    with session_to(lab) as session:
        assert read(session, "Dual W7").extra("migrate.baseCptCacheSize") is None  # noqa: S610

    code, out, _ = wizard(None, "journal", "--json")
    assert code == cli.EXIT_OK
    listing = as_json(out)
    assert listing["dangling"] == []
    assert [(e["action"], e["outcome"]) for e in listing["entries"]] == [
        ("apply", "applied"),
        ("apply", "nothing_to_do"),
        ("undo", "applied"),
    ]
    assert listing["entries"][2]["undo_of"] == entry_id


def test_without_yes_and_without_a_terminal_nothing_is_changed(lab: LabInfo, wizard: Run) -> None:
    code, out, err = wizard(lab, "apply", "--vm", "Dual W7", "--remedy", "raise_buffer")
    assert code == cli.EXIT_REFUSED
    assert "--yes" in err
    assert out == ""
    assert Journal().read().entries == ()
    with session_to(lab) as session:
        assert read(session, "Dual W7").extra("migrate.baseCptCacheSize") is None  # noqa: S610


def test_missing_consent_is_refused_with_exit_5(lab: LabInfo, wizard: Run) -> None:
    code, out, _ = wizard(lab, "apply", "--vm", "Dual W7", "--remedy", "enable_3d", "--yes")
    assert code == cli.EXIT_REFUSED
    assert out.startswith("REFUSED: Dual W7 must be shut down")
    assert "--allow-shutdown" in out


def test_read_only_user_gets_exit_5_naming_the_privilege(lab: LabInfo, wizard: Run) -> None:
    code, out, _ = wizard(
        lab,
        "apply",
        "--vm",
        "Off W7",
        "--remedy",
        "raise_buffer",
        "--yes",
        "--json",
        user=VIEWER,
    )
    assert code == cli.EXIT_REFUSED
    result = as_json(out)
    assert (result["reason"], result["privilege"]) == (
        "no_permission",
        "VirtualMachine.Config.AdvancedConfig",
    )


def test_unknown_vm_gives_exit_4(lab: LabInfo, wizard: Run) -> None:
    code, _, err = wizard(lab, "apply", "--vm", "Nope", "--remedy", "raise_buffer", "--yes")
    assert code == cli.EXIT_NOT_FOUND
    assert "Nope" in err


def test_guest_variant_reads_the_guest_password_from_stdin_and_never_journals_it(
    lab: LabInfo, wizard: Run
) -> None:
    secret = "Gu3st-Only-Once"
    code, out, _ = wizard(
        lab,
        "apply",
        "--vm",
        "Single W7",
        "--remedy",
        "lower_resolution",
        "--variant",
        "guest",
        "--guest-user",
        "jdoe",
        "--guest-password-stdin",
        "--yes",
        "--json",
        stdin=secret,
    )
    assert code == cli.EXIT_OK, out
    assert as_json(out)["verification"]["checks"][0]["found"] == "1280x1024"
    assert secret not in Journal().path.read_text(encoding="utf-8")


def test_scenario_option_applies_on_a_fresh_lab(tmp_path: Path, wizard: Run) -> None:
    scenario = write_scenario(SCENARIO, tmp_path)
    code, out, _ = wizard(
        None,
        "apply",
        "--scenario",
        str(scenario),
        "--vm",
        "HW7 W7",
        "--remedy",
        "stay_on_hw7",
        "--yes",
    )
    assert code == cli.EXIT_OK
    assert out.startswith("APPLIED: Done on HW7 W7")
    assert "Journal entry:" in out


def test_journal_shows_dangling_entries_prominently(wizard: Run) -> None:
    journal = Journal()
    entry = journal.begin(
        action="apply",
        vcenter="vc.example:443",
        user="helpdesk@vsphere.local",
        vm=VmIdentity("HD-W7-042", "vm-42", "uuid-42"),
        remedy="enable_3d",
        changes=[{"target": "videoCard", "key": "enable3DSupport", "from": "false", "to": "true"}],
    )
    journal.intent(entry, "reconfigure")
    code, out, _ = wizard(None, "journal")
    assert code == cli.EXIT_OK
    first = out.splitlines()[0]
    assert first.startswith("!! 1 entry did not finish")
    assert f"!! {entry}" in out
    assert "stopped in step reconfigure" in out
