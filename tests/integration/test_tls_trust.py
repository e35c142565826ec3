"""TLS against the lab: what is refused, and that no password is sent before trust.

- an untrusted (self-signed) certificate is refused until the technician consents, on the API
  and on the command line (a wrong ``--trust-fingerprint`` too);
- a pinned certificate that changes (a second lab with another certificate on the same address)
  is refused with a warning naming both fingerprints;
- under the OS trust store (a test CA put in the trust path with ``SSL_CERT_FILE``, which
  OpenSSL and so ``truststore`` honour on Linux), a certificate for another host name is
  refused, while the same CA's certificate for the right address is accepted without asking;
- a fingerprint given beforehand (``--trust-fingerprint``, "trust once") is matched against the
  certificate first: the OS trust store is not loaded and the handshake it would fail is not
  made; a certificate the store trusts is still accepted whatever fingerprint was given.

In every refusal the lab holds no new session: the password never went out.
"""

from __future__ import annotations

import logging
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.apply import SCENARIO
from tests.helpers.lab import running_lab
from tests.reliability import observe
from tests.reliability.certs import TestCa
from tests.reliability.figures import record
from tests.reliability.test_secrets import run_cli
from wizard.lab.process import LabInfo
from wizard.vsphere import tls
from wizard.vsphere.errors import CertificateChanged, CertificateUntrusted
from wizard.vsphere.session import Endpoint, Session
from wizard.vsphere.tls import JsonPinStore, MemoryPinStore, TrustPolicy

pytestmark = [pytest.mark.lab]


def passed(check: str) -> None:
    record("tls", check=check, passed=True)


def connect(lab: LabInfo, trust: TrustPolicy, port: int | None = None) -> Session:
    return Session.connect(
        Endpoint(lab.host, port or lab.port), lab.user, lab.password, trust=trust, timeout=10.0
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_untrusted_certificate_is_refused_without_consent(lab: LabInfo) -> None:
    with pytest.raises(CertificateUntrusted) as refused:
        connect(lab, TrustPolicy(MemoryPinStore()))
    assert refused.value.info.sha256 == lab.thumbprint_sha256
    assert "self-signed" in refused.value.reason
    assert lab.thumbprint_sha256 in refused.value.message
    assert observe.sessions_on(lab) == 0  # nothing logged in: the password was not sent
    trust = TrustPolicy(MemoryPinStore())
    trust.trust_once(refused.value.info)  # consent, as "Trust once" in the wizard
    with connect(lab, trust) as session:
        assert session.ssl_context.verify_mode.name == "CERT_REQUIRED"
    passed("untrusted refused without consent (API)")


def test_the_command_line_refuses_an_untrusted_or_other_certificate(lab: LabInfo) -> None:
    base = ["check", "--vcenter", f"{lab.host}:{lab.port}", "--user", lab.user]
    base += ["--password-stdin", "--vm", "Dual W7"]
    code, _, err = run_cli(base, lab.password + "\n")
    assert code == 3
    assert lab.thumbprint_sha256 in err
    assert "not trusted" in err
    other = ":".join(["AB"] * 32)
    code, _, err = run_cli([*base, "--trust-fingerprint", other], lab.password + "\n")
    assert code == 3
    assert "not trusted" in err
    assert observe.sessions_on(lab) == 0
    code, _, err = run_cli(
        [*base, "--trust-fingerprint", lab.thumbprint_sha256.replace(":", "").lower()],
        lab.password + "\n",
    )
    assert code == 0, err
    passed("untrusted refused without consent (command line)")
    passed("wrong --trust-fingerprint refused")


@pytest.fixture
def same_address(lab_binary_path: Path) -> tuple[Path, int]:
    return lab_binary_path, free_port()


def test_a_changed_pinned_certificate_is_refused_with_a_warning(
    same_address: tuple[Path, int], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    binary, port = same_address
    pins = JsonPinStore()
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    with running_lab(
        SCENARIO, first_dir, binary, port=port,
        cert_file=first_dir / "a.pem", key_file=first_dir / "a.key",
    ) as first:  # fmt: skip
        with pytest.raises(CertificateUntrusted) as asked:
            connect(first.info, TrustPolicy(pins))
        TrustPolicy(pins).pin(asked.value.info)  # "Always trust"
        with connect(first.info, TrustPolicy(pins)):
            pass
        pinned = first.info.thumbprint_sha256
    with running_lab(
        SCENARIO, second_dir, binary, port=port,
        cert_file=second_dir / "b.pem", key_file=second_dir / "b.key",
    ) as second:  # fmt: skip
        assert second.info.port == port
        assert second.info.thumbprint_sha256 != pinned
        caplog.set_level(logging.WARNING)
        with pytest.raises(CertificateChanged) as changed:
            connect(second.info, TrustPolicy(pins))
        assert changed.value.pinned.sha256 == pinned
        assert changed.value.presented.sha256 == second.info.thumbprint_sha256
        assert pinned in changed.value.message
        assert "intercept" in changed.value.next_step
        assert any("changed" in r.getMessage() for r in caplog.records)
        assert observe.sessions_on(second.info) == 0
        code, _, err = run_cli(
            ["check", "--vcenter", f"127.0.0.1:{port}", "--user", second.info.user,
             "--password-stdin", "--vm", "Dual W7",
             "--trust-fingerprint", second.info.thumbprint_sha256],
            second.info.password + "\n",
        )  # fmt: skip
        assert code == 3, err
        assert "has changed" in err
        assert observe.sessions_on(second.info) == 0
    passed("changed pinned certificate refused with a warning (API)")
    passed("changed pinned certificate refused even with --trust-fingerprint (command line)")


def test_the_os_store_refuses_a_certificate_for_another_name(
    lab_binary_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = TestCa(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.cert_file))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    right = ca.issue("right", ips=("127.0.0.1",))
    wrong = ca.issue("wrong", dns=("vcenter.example.org",))

    # The CA is trusted through the OS store: no question, no pin, a verified session.
    with (
        running_lab(
            SCENARIO, tmp_path, lab_binary_path, cert_file=right.cert_file, key_file=right.key_file
        ) as good,
        connect(good.info, TrustPolicy(MemoryPinStore())) as session,
    ):
        assert session.ssl_context.check_hostname
        # A fingerprint given beforehand is tried first; another one leaves the store to decide.
        other_fingerprint = ":".join(["AB"] * 32)
        trust = TrustPolicy(MemoryPinStore(), expected_fingerprint=other_fingerprint)
        with connect(good.info, trust) as verified:
            assert verified.ssl_context.check_hostname
    passed("OS store (test CA via SSL_CERT_FILE) accepts the right name")
    passed("a store-trusted certificate passes with another fingerprint given")

    other = tmp_path / "other"
    other.mkdir()
    with running_lab(
        SCENARIO, other, lab_binary_path, cert_file=wrong.cert_file, key_file=wrong.key_file
    ) as bad:
        with pytest.raises(CertificateUntrusted) as refused:
            connect(bad.info, TrustPolicy(MemoryPinStore()))
        assert "mismatch" in refused.value.reason.lower(), refused.value.reason
        assert observe.sessions_on(bad.info) == 0
    passed("OS store refuses a certificate for another name")


def handshakes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The server names of the TLS handshakes this process makes from now on (the OS trust
    store's context makes its own through an inner standard-library context: counted too)."""
    made: list[str] = []
    wrap = ssl.SSLContext.wrap_socket

    def watched(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        made.append(str(kwargs.get("server_hostname")))
        return wrap(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "wrap_socket", watched)
    return made


def test_a_fingerprint_given_beforehand_is_matched_before_the_os_store_is_tried(
    lab: LabInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    tried: list[str] = []
    os_store = tls.os_store_context

    def counted() -> ssl.SSLContext:
        tried.append("the OS trust store")
        return os_store()

    monkeypatch.setattr(tls, "os_store_context", counted)
    made = handshakes(monkeypatch)
    with connect(lab, TrustPolicy(MemoryPinStore(), expected_fingerprint=lab.thumbprint_sha256)):
        pass
    assert tried == [], "the OS trust store was tried for a certificate already trusted"
    # One handshake reads the certificate (nothing sent); the others are pinned to it: the first
    # request's connection and the two opened beside it (the login's and a spare). Trying the
    # store first cost one more, which fails.
    assert len(made) <= 4, made
    trust = TrustPolicy(MemoryPinStore())
    trust.trusted_once.add(lab.thumbprint_sha256)  # "Trust once" earlier in this process
    with connect(lab, trust) as session:
        assert session.ssl_context.verify_mode == ssl.CERT_REQUIRED
    assert tried == []
    passed("a fingerprint given beforehand is matched first")
