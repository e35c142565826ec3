"""The command line honours the administrator's policy file, as the window does.

Each test writes a policy file, points ``CHECKPOINT_WIZARD_POLICY`` at it and runs real
commands against the lab (a real vSphere endpoint with a self-signed certificate authority).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.apply import SCENARIO
from tests.helpers.lab import StartLab
from tests.reliability import observe
from tests.reliability.test_secrets import run_cli
from wizard.cli.exits import EXIT_USAGE
from wizard.lab.process import LabInfo

pytestmark = [pytest.mark.lab]

CERTIFICATE_UNTRUSTED = 3


@pytest.fixture
def policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "policy.json"
    monkeypatch.setenv("CHECKPOINT_WIZARD_POLICY", str(path))
    return path


def write_policy(path: Path, **fields: Any) -> None:
    path.write_text(json.dumps({"format": 1, **fields}), encoding="utf-8")


def check(lab: LabInfo, *extra: str) -> tuple[int, str, str]:
    argv = ["check", "--vcenter", f"{lab.host}:{lab.port}", "--user", lab.user]
    return run_cli([*argv, "--password-stdin", "--vm", "Dual W7", *extra], lab.password + "\n")


def test_a_locked_list_refuses_another_vcenter_before_the_password_goes_out(
    lab: LabInfo, policy_file: Path
) -> None:
    write_policy(policy_file, vcenters=[{"address": "vc01.corp.local"}], locked=["vcenters"])
    code, _, err = check(lab, "--trust-fingerprint", lab.thumbprint_sha256)
    assert code == EXIT_USAGE
    assert "allows only these vCenters: vc01.corp.local" in err
    assert observe.sessions_on(lab) == 0
    # apply, undo and power-on refuse it the same way.
    apply = ["apply", "--vm", "Dual W7", "--remedy", "enable_3d", "--yes"]
    for command in (apply, ["undo", "entry-1", "--yes"], ["power-on", "entry-1", "--yes"]):
        target = ["--vcenter", f"{lab.host}:{lab.port}", "--user", lab.user, "--password-stdin"]
        code, _, err = run_cli([*command, *target], lab.password + "\n")
        assert code == EXIT_USAGE, err
        assert "allows only these vCenters" in err


def test_a_locked_list_still_allows_a_training_lab(policy_file: Path) -> None:
    write_policy(policy_file, vcenters=[{"address": "vc01.corp.local"}], locked=["vcenters"])
    code, out, err = run_cli(["check", "--scenario", "dual-screen-win7", "--vm", "HD-W7-042"], "")
    assert code != EXIT_USAGE, err
    assert "allows only" not in err
    assert "HD-W7-042" in out


def test_the_policys_certificate_is_trusted_and_a_different_one_refused(
    lab: LabInfo, policy_file: Path
) -> None:
    address = f"{lab.host}:{lab.port}"
    code, _, err = check(lab)
    assert code == CERTIFICATE_UNTRUSTED, err  # without the policy: not trusted
    write_policy(
        policy_file, vcenters=[{"address": address, "certificate_sha256": lab.thumbprint_sha256}]
    )
    code, out, err = check(lab)
    assert code not in (CERTIFICATE_UNTRUSTED, EXIT_USAGE), err
    assert "Dual W7" in out
    other = ":".join(["AB"] * 32)
    code, _, err = check(lab, "--trust-fingerprint", other)
    assert code == EXIT_USAGE
    assert "not the fingerprint the administrator's policy" in err
    assert lab.thumbprint_sha256 in err


def test_the_policys_authority_is_trusted(lab: LabInfo, policy_file: Path) -> None:
    address = f"{lab.host}:{lab.port}"
    write_policy(
        policy_file, vcenters=[{"address": address, "authority_sha256": lab.ca_thumbprint_sha256}]
    )
    code, out, err = check(lab)
    assert code not in (CERTIFICATE_UNTRUSTED, EXIT_USAGE), err
    assert "Dual W7" in out
    code, _, err = check(lab, "--trust-ca-fingerprint", ":".join(["CD"] * 32))
    assert code == EXIT_USAGE
    assert "--trust-ca-fingerprint" in err


def test_a_locked_limit_refuses_another_value_before_anything_is_sent(
    lab: LabInfo, policy_file: Path
) -> None:
    write_policy(
        policy_file,
        limits={"call_timeout_s": 60, "evidence_days": 90},
        locked=["call_timeout_s"],
    )
    code, out, err = check(lab, "--trust-fingerprint", lab.thumbprint_sha256, "--timeout", "10")
    assert code == EXIT_USAGE, err
    assert f"--timeout 10: the administrator's policy ({policy_file}) locks it at 60 seconds" in err
    assert "Leave --timeout out" in err
    assert out == ""
    assert observe.sessions_on(lab) == 0  # refused before the password went out
    # The locked value itself, or no option at all, is the policy's: the command runs.
    for extra in (["--timeout", "60"], []):
        code, out, err = check(lab, "--trust-fingerprint", lab.thumbprint_sha256, *extra)
        assert code not in (CERTIFICATE_UNTRUSTED, EXIT_USAGE), err
        assert "Dual W7" in out
    # Not locked: another value given wins.
    code, out, err = check(
        lab, "--trust-fingerprint", lab.thumbprint_sha256, "--evidence-days", "5"
    )
    assert code not in (CERTIFICATE_UNTRUSTED, EXIT_USAGE), err
    assert "--evidence-days" not in err
    assert "Dual W7" in out


def test_an_unlocked_limit_is_the_default_and_an_option_given_wins(
    start_lab: StartLab, policy_file: Path
) -> None:
    """The policy's call time limit (5 s, not locked) applies to a command that gives none: the
    lab answers the failure-event query after 7 s, so the check stops there. ``--timeout 30``
    on the same command waits for the answer."""
    lab = start_lab(SCENARIO, method_delays={"QueryEvents": 7000})
    write_policy(policy_file, limits={"call_timeout_s": 5})
    code, out, err = check(lab, "--trust-fingerprint", lab.thumbprint_sha256)
    assert code not in (0, EXIT_USAGE), (out, err)
    assert "did not answer within 5 seconds" in err
    code, out, err = check(lab, "--trust-fingerprint", lab.thumbprint_sha256, "--timeout", "30")
    assert code not in (CERTIFICATE_UNTRUSTED, EXIT_USAGE), err
    assert "did not answer" not in err
    assert "Dual W7" in out


def test_a_broken_policy_is_said_once_and_the_command_goes_on(
    lab: LabInfo, policy_file: Path
) -> None:
    policy_file.write_text('{"format": 1, "vcenters": "vc01"}', encoding="utf-8")
    code, out, err = check(lab, "--trust-fingerprint", lab.thumbprint_sha256)
    assert code not in (CERTIFICATE_UNTRUSTED, EXIT_USAGE), err
    assert err.count("policy file was not applied") == 1
    assert "vcenters" in err
    assert "Dual W7" in out
