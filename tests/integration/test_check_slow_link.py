"""``check --vm`` over a slow link: the login in one round trip, and what must still hold.

The command runs in this process against a lab that delays every call, its requests counted
on the wire (``tests/helpers/wire.py``): RetrieveServiceContent and Login leave together
(``wizard.vsphere.opening``), so ticket to verdict is three round trips in a row, and the
logout follows the verdict. The verdict, the exit codes, the wrong-password message and an
untrusted certificate refused before anything is sent are the same as over a fast link; and
where a trust kept under another address could stop the login once the server has said which
vCenter it is, the login waits for that answer.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from tests.helpers.vsphere_lab import FAILED_VM, endpoint, running_lab, write_scenario
from tests.helpers.wire import Wire, watching
from wizard import cli
from wizard.lab.process import LabInfo
from wizard.vsphere.certificate import CertificateInfo
from wizard.vsphere.session import Session
from wizard.vsphere.tls import MemoryPinStore, TrustPolicy, fetch_certificate

_DELAY_MS = 60

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabInfo]:
    scenario = write_scenario(tmp_path_factory.mktemp("scenario"))
    with running_lab(scenario, delay_ms=_DELAY_MS) as info:
        yield info


def _check(
    lab: LabInfo,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *,
    password: str | None = None,
    trusted: bool = True,
) -> tuple[int, str, str, Wire]:
    argv = ["check", "--vcenter", f"{lab.host}:{lab.port}", "--user", lab.user]
    if trusted:
        argv += ["--trust-fingerprint", lab.thumbprint_sha256]
    argv += ["--password-stdin", "--timeout", "10", "--vm", FAILED_VM]
    monkeypatch.setattr("sys.stdin", io.StringIO((password or lab.password) + "\n"))
    with watching() as wire:
        code = cli.main(argv)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err, wire


def test_the_verdict_takes_three_round_trips_in_a_row(
    lab: LabInfo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, wire = _check(lab, monkeypatch, capsys)
    assert code == cli.EXIT_OK, err
    assert out.startswith(f"VM {FAILED_VM} (")
    assert "CONFIRMED: vMotion of this VM has already failed" in out
    assert (wire.calls["RetrieveServiceContent"], wire.calls["Login"]) == (1, 1)
    chain = wire.critical_path()
    assert chain[0] in ("RetrieveServiceContent", "Login")
    assert chain[-1] == "Logout"
    assert len(chain) == 4, chain  # 3 to the verdict, then the logout


def test_a_wrong_password_is_said_as_before(
    lab: LabInfo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, wire = _check(lab, monkeypatch, capsys, password="not-the-password")
    assert code == cli.EXIT_CONNECTION
    assert f"vCenter refused the user name or password for {lab.user}." in err
    assert "not-the-password" not in out + err
    assert out == ""
    assert wire.calls["Login"] == 1  # not tried again


def test_an_untrusted_certificate_is_refused_before_anything_is_sent(
    lab: LabInfo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, wire = _check(lab, monkeypatch, capsys, trusted=False)
    assert code == cli.EXIT_CONNECTION
    assert lab.thumbprint_sha256 in err
    assert out == ""
    assert wire.total == 0, dict(wire.calls)  # no request at all, so no password


def _pinned_elsewhere(lab: LabInfo) -> MemoryPinStore:
    """A store where this lab's certificate is pinned under another address, as this vCenter's
    (the way the wizard notes it after a connection)."""
    trusting = TrustPolicy(MemoryPinStore(), expected_fingerprint=lab.thumbprint_sha256)
    with Session.connect(endpoint(lab), lab.user, lab.password, trust=trusting, timeout=10) as s:
        vcenter_id = s.instance_uuid
    assert vcenter_id
    presented = fetch_certificate(lab.host, lab.port, 10)
    pins = MemoryPinStore()
    pins.put(CertificateInfo.from_der("vc-other.lab.local", 443, presented.der))
    pins.identify("vc-other.lab.local", 443, vcenter_id)
    return pins


def test_the_login_waits_for_the_answer_when_another_address_is_tied_to_a_vcenter(
    lab: LabInfo,
) -> None:
    policy = TrustPolicy(_pinned_elsewhere(lab), expected_fingerprint=lab.thumbprint_sha256)
    with watching() as wire:
        session = Session.connect(endpoint(lab), lab.user, lab.password, trust=policy, timeout=10)
    session.close()
    assert wire.critical_path() == ["RetrieveServiceContent", "Login"]


def test_the_login_goes_with_the_first_request_otherwise(lab: LabInfo) -> None:
    policy = TrustPolicy(MemoryPinStore(), expected_fingerprint=lab.thumbprint_sha256)
    with watching() as wire:
        session = Session.connect(endpoint(lab), lab.user, lab.password, trust=policy, timeout=10)
    with session:
        assert session.api_type == "VirtualCenter"
        assert session.session_key
    assert dict(wire.calls) == {"RetrieveServiceContent": 1, "Login": 1}
    assert len(wire.critical_path()) == 1
