"""Trusting a vCenter's own certificate authority, against the lab (real pyVmomi, real TLS).

The lab behaves like vCenter here: its authority signs its certificate, it offers the authority
at ``/certs/download.zip``, and it can renew its certificate (same authority) or replace the
authority, while running or between starts. What the technician gets:

- the authority trusted once, a renewed certificate is accepted without a question;
- a certificate from another authority is refused with the changed-certificate warning, before
  any password is sent, on the API and on the command line;
- an authority trusted for one lab (one host:port) is never used for another, even one whose
  certificate the same authority issued, and never for another vCenter at the same address;
- a damaged or hostile download is refused with a clear message and nothing is written.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import pki
from tests.helpers.apply import SCENARIO
from tests.helpers.lab import running_lab
from tests.reliability import observe
from tests.reliability.figures import record
from tests.reliability.test_secrets import run_cli
from wizard import paths
from wizard.lab.process import LabInfo, LabProcess
from wizard.vsphere.errors import (
    AuthorityChanged,
    AuthorityUnavailable,
    CertificateChanged,
    CertificateUntrusted,
)
from wizard.vsphere.session import Endpoint, Session
from wizard.vsphere.tls import JsonPinStore, MemoryPinStore, PinStore, TrustPolicy, fetch_authority

pytestmark = [pytest.mark.lab]


def passed(check: str) -> None:
    record("tls", check=check, passed=True)


def connect(lab: LabInfo, trust: TrustPolicy, host: str | None = None) -> Session:
    return Session.connect(
        Endpoint(host or lab.host, lab.port), lab.user, lab.password, trust=trust, timeout=10.0
    )


def trust_authority(lab: LabInfo, pins: PinStore) -> None:
    """What the technician does in the dialog: ask, fetch the authority, compare, trust it."""
    with pytest.raises(CertificateUntrusted) as asked:
        connect(lab, TrustPolicy(pins))
    shown = asked.value.info
    assert shown.sha256 == lab.thumbprint_sha256
    assert [c.sha256 for c in shown.chain] == [lab.ca_thumbprint_sha256]  # the chain it sent
    assert shown.valid_for(lab.host)
    found = fetch_authority(shown, 10.0)
    assert found.sha256 == lab.ca_thumbprint_sha256  # what the lab reported: the same
    assert found.self_signed
    assert found.is_ca
    TrustPolicy(pins).trust_authority(found)


def cli_check(lab: LabInfo, *extra: str) -> tuple[int, str]:
    argv = ["check", "--vcenter", f"{lab.host}:{lab.port}", "--user", lab.user]
    argv += ["--password-stdin", "--vm", "Dual W7", *extra]
    code, _, err = run_cli(argv, lab.password + "\n")
    return code, err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def lab(lab_binary_path: Path, tmp_path: Path) -> Iterator[LabProcess]:
    """A lab keeping its authority in a folder, as a vCenter keeps it."""
    with running_lab(SCENARIO, tmp_path, lab_binary_path, ca_dir=tmp_path / "ca") as process:
        yield process


def test_a_renewed_certificate_from_the_trusted_authority_is_accepted_silently(
    lab: LabProcess,
) -> None:
    pins = JsonPinStore()
    first = lab.info
    trust_authority(first, pins)
    with connect(first, TrustPolicy(pins)) as session:
        assert session.ssl_context.check_hostname  # the authority vouches for the name only
    renewed = lab.renew_certificate()  # while it runs, as vCenter renews its certificate
    assert renewed.thumbprint_sha256 != first.thumbprint_sha256
    assert renewed.ca_thumbprint_sha256 == first.ca_thumbprint_sha256
    with connect(renewed, TrustPolicy(pins)) as session:  # no question asked
        assert session.instance_uuid
    code, err = cli_check(renewed)  # the command line reads the same trust
    assert code == 0, err
    passed("renewed certificate from the trusted authority accepted without a question")


def test_a_renewal_between_starts_is_accepted_and_the_identity_kept(
    lab_binary_path: Path, tmp_path: Path
) -> None:
    pins, port, ca = JsonPinStore(), free_port(), tmp_path / "ca"
    with running_lab(SCENARIO, tmp_path, lab_binary_path, port=port, ca_dir=ca) as first:
        trust_authority(first.info, pins)
        with connect(first.info, TrustPolicy(pins)) as session:
            identity = session.instance_uuid
        before = first.info
    with running_lab(
        SCENARIO, tmp_path, lab_binary_path, port=port, ca_dir=ca, renew_certificate=True
    ) as second:
        assert second.info.thumbprint_sha256 != before.thumbprint_sha256
        assert second.info.ca_thumbprint_sha256 == before.ca_thumbprint_sha256
        with connect(second.info, TrustPolicy(pins)) as session:
            assert session.instance_uuid == identity  # the same vCenter, renewed


def test_a_replaced_authority_is_refused_with_the_changed_warning(lab: LabProcess) -> None:
    pins = JsonPinStore()
    trust_authority(lab.info, pins)
    trusted = lab.info.ca_thumbprint_sha256
    replaced = lab.replace_certificate_authority()
    assert replaced.ca_thumbprint_sha256 != trusted
    with pytest.raises(AuthorityChanged) as refused:
        connect(replaced, TrustPolicy(pins, expected_fingerprint=replaced.thumbprint_sha256))
    assert isinstance(refused.value, CertificateChanged)  # the GUI shows its stop dialog
    assert refused.value.pinned.sha256 == trusted
    assert refused.value.presented.sha256 == replaced.thumbprint_sha256
    assert trusted in refused.value.message
    assert "has changed" in refused.value.message
    assert "intercepting" in refused.value.next_step
    assert observe.sessions_on(replaced) == 0  # the password never went out
    passed("certificate from another authority refused with the changed warning (API)")

    code, err = cli_check(replaced, "--trust-fingerprint", replaced.thumbprint_sha256)
    assert code == 3, err
    assert "has changed" in err
    assert trusted in err
    code, err = cli_check(replaced, "--trust-ca-fingerprint", replaced.ca_thumbprint_sha256)
    assert code == 3, err  # the stored trust wins: forgetting it is a deliberate act
    assert "has changed" in err
    assert observe.sessions_on(replaced) == 0
    passed("certificate from another authority refused with the changed warning (command line)")


def test_the_command_line_authority_fingerprint(lab: LabProcess) -> None:
    info = lab.info
    code, err = cli_check(info)
    assert code == 3
    assert "not trusted" in err
    code, err = cli_check(info, "--trust-ca-fingerprint", info.ca_thumbprint_sha256.lower())
    assert code == 0, err
    renewed = lab.renew_certificate()
    code, err = cli_check(renewed, "--trust-ca-fingerprint", info.ca_thumbprint_sha256)
    assert code == 0, err  # the same option keeps working after a renewal
    assert JsonPinStore().entries() == []  # and nothing was stored
    replaced = lab.replace_certificate_authority()
    code, err = cli_check(replaced, "--trust-ca-fingerprint", info.ca_thumbprint_sha256)
    assert code == 3, err
    assert "was not issued by the certificate authority you named" in err
    assert replaced.ca_thumbprint_sha256 in err
    assert observe.sessions_on(replaced) == 0
    passed("wrong --trust-ca-fingerprint refused (command line)")


def test_an_authority_trusted_for_one_lab_is_not_used_for_another(
    lab_binary_path: Path, tmp_path: Path
) -> None:
    # Two labs whose certificates one authority issued (they share its folder).
    shared = tmp_path / "ca"
    one_dir, two_dir = tmp_path / "one", tmp_path / "two"
    one_dir.mkdir()
    two_dir.mkdir()
    with (
        running_lab(SCENARIO, one_dir, lab_binary_path, ca_dir=shared) as one,
        running_lab(SCENARIO, two_dir, lab_binary_path, ca_dir=shared) as two,
    ):
        assert one.info.ca_thumbprint_sha256 == two.info.ca_thumbprint_sha256
        pins = JsonPinStore()
        trust_authority(one.info, pins)
        with connect(one.info, TrustPolicy(pins)):
            pass
        with pytest.raises(CertificateUntrusted):  # the other lab: asked, not trusted
            connect(two.info, TrustPolicy(pins))
        with pytest.raises(CertificateUntrusted):  # nor the same lab under another name
            connect(one.info, TrustPolicy(pins), host="localhost")
        assert observe.sessions_on(two.info) == 0
    passed("an authority trusted for one lab is not used for another")


def test_an_authority_never_vouches_for_another_vcenter_at_the_same_address(
    lab_binary_path: Path, tmp_path: Path
) -> None:
    pins, port = JsonPinStore(), free_port()
    first_ca, second_ca = tmp_path / "first", tmp_path / "second"
    with running_lab(SCENARIO, tmp_path, lab_binary_path, port=port, ca_dir=first_ca) as first:
        trust_authority(first.info, pins)
        with connect(first.info, TrustPolicy(pins)):
            pass  # the authority is now tied to this vCenter's identity
    # Another vCenter (another identity) with a certificate from the same authority.
    second_ca.mkdir()
    for name in ("ca.pem", "ca.key"):
        shutil.copy(first_ca / name, second_ca / name)
    with running_lab(SCENARIO, tmp_path, lab_binary_path, port=port, ca_dir=second_ca) as second:
        with pytest.raises(AuthorityChanged) as refused:
            connect(second.info, TrustPolicy(pins))
        assert "names itself as another vCenter" in refused.value.message
        assert observe.sessions_on(second.info) == 0


def _tree(*folders: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folders`` with its size and time of change."""
    found = {}
    for folder in folders:
        for root, _, files in os.walk(folder):
            for name in files:
                path = Path(root) / name
                try:
                    stat = path.stat()
                except OSError:
                    continue
                found[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return found


EVIL = f"checkpoint-wizard-test-{os.getpid()}"
HOSTILE: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "traversal": (
        lambda root: pki.zipped({"certs/lin/x.0": root, f"../../../../tmp/{EVIL}.0": root}),
        "climbs out of the archive",
    ),
    "absolute": (lambda root: pki.zipped({f"/tmp/{EVIL}.crt": root}), "absolute path"),
    "bomb": (lambda root: pki.zip_bomb(32 * 1024 * 1024), "larger than 256 KB unpacked"),
    "huge": (lambda root: os.urandom(5 * 1024 * 1024), "too large"),
    "not a zip": (lambda root: b"<html>It works!</html>", "not a zip file"),
    "no certificate": (lambda root: pki.zipped({"certs/lin/x.r0": b"crl"}), "no certificate"),
    "another authority": (
        lambda root: pki.vcenter_zip(pki.authority("Someone else")),
        "none of the 1 certificates in its download.zip issued",
    ),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_hostile_download_is_refused_clearly_and_nothing_is_written(
    kind: str, lab_binary_path: Path, tmp_path: Path, hermetic_basedir: Path
) -> None:
    make, words = HOSTILE[kind]
    served = tmp_path / "served" / "download.zip"
    served.parent.mkdir()
    served.write_bytes(make(pki.authority().pem))
    with running_lab(SCENARIO, tmp_path, lab_binary_path, certs_zip=served) as process:
        pins = JsonPinStore()
        with pytest.raises(CertificateUntrusted) as asked:
            connect(process.info, TrustPolicy(pins))
        watched = (hermetic_basedir, tmp_path, Path.cwd())
        before = _tree(*watched)
        with pytest.raises(AuthorityUnavailable) as refused:
            fetch_authority(asked.value.info, 10.0)
        after = _tree(*watched)
    assert words in refused.value.message, refused.value.message
    assert "Nothing was trusted or saved" in refused.value.message
    assert "fingerprint" in refused.value.next_step
    assert after == before  # nothing written anywhere, not even in the data folder
    assert not (paths.data_dir() / "pinned-certificates.json").exists()
    assert not list(Path("/tmp").glob(f"{EVIL}*"))
    if kind == "traversal":
        passed("hostile download.zip refused, nothing written (traversal, bomb, huge, not a zip)")


def test_a_lab_serving_a_given_certificate_offers_no_authority(
    lab_binary_path: Path, tmp_path: Path
) -> None:
    cert = tmp_path / "given.pem"
    with running_lab(
        SCENARIO, tmp_path, lab_binary_path, cert_file=cert, key_file=tmp_path / "given.key"
    ) as process:
        assert process.info.ca_thumbprint_sha256 == ""
        with pytest.raises(CertificateUntrusted) as asked:
            connect(process.info, TrustPolicy(MemoryPinStore()))
        with pytest.raises(AuthorityUnavailable, match="offers no certificate authorities"):
            fetch_authority(asked.value.info, 10.0)
