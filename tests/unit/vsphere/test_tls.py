"""Certificates: fingerprints, the trust store and the trust decisions (pins and authorities)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import truststore
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests.helpers import pki
from tests.helpers.servers import loopback_server
from wizard import paths
from wizard.vsphere import authority, tls
from wizard.vsphere.certificate import CertificateInfo, sha256_fingerprint
from wizard.vsphere.errors import (
    AuthorityChanged,
    AuthorityMismatch,
    AuthorityUnavailable,
    CertificateChanged,
    CertificateUntrusted,
    PinStoreUnreadable,
)
from wizard.vsphere.tls import JsonPinStore, MemoryPinStore, TrustPolicy, normalize_fingerprint

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def make_cert(
    subject: list[tuple[x509.ObjectIdentifier, str]] | None = None,
    *,
    issuer: list[tuple[x509.ObjectIdentifier, str]] | None = None,
    not_before: datetime = NOW - timedelta(days=1),
    not_after: datetime = NOW + timedelta(days=365),
    rsa_key: bool = False,
) -> tuple[bytes, bytes]:
    """A self-signed (or issuer-named) certificate: (DER, PEM of the private key)."""
    key = (
        rsa.generate_private_key(65537, 2048)
        if rsa_key
        else ec.generate_private_key(ec.SECP256R1())
    )
    subj = x509.Name(
        [x509.NameAttribute(o, v) for o, v in (subject or [(NameOID.COMMON_NAME, "vc.lab.local")])]
    )
    iss = x509.Name([x509.NameAttribute(o, v) for o, v in issuer]) if issuer else subj
    cert = (
        x509.CertificateBuilder()
        .subject_name(subj)
        .issuer_name(iss)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("vc.lab.local")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.DER), key_pem


def info_for(der: bytes, host: str = "vc.lab.local", port: int = 443) -> CertificateInfo:
    return CertificateInfo.from_der(host, port, der)


# --- fingerprints -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "ba:78:16:bf:8f:01:cf:ea:41:41:40:de:5d:ae:22:23:b0:03:61:a3:96:17:7a:9c:b4:10:ff:61:f2:00:15:ad",
        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
        " BA 78 16 BF 8F 01 CF EA 41 41 40 DE 5D AE 22 23 B0 03 61 A3 96 17 7A 9C B4 10 FF 61 "
        "F2 00 15 AD ",
    ],
)
def test_normalize_fingerprint_accepts_common_forms(typed: str) -> None:
    assert normalize_fingerprint(typed) == sha256_fingerprint(b"abc")


@pytest.mark.parametrize("bad", ["", "AB:CD", "ZZ" * 32, "A" * 40])
def test_normalize_fingerprint_refuses_what_is_not_sha256(bad: str) -> None:
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        normalize_fingerprint(bad)


def test_the_hand_written_der_reader_is_gone() -> None:
    from wizard.vsphere import certificate

    assert not hasattr(certificate, "parse_certificate_fields")
    assert "_read_tlv" not in vars(certificate)


def test_certificate_info_round_trips_its_pem() -> None:
    der, _ = make_cert()
    info = info_for(der)
    assert info.der == der
    assert info.is_valid_at(NOW) is True
    assert info.is_valid_at(NOW + timedelta(days=400)) is False


# --- pin store --------------------------------------------------------------------------------


def test_pin_store_round_trip(tmp_path: Path) -> None:
    store = JsonPinStore(tmp_path / "pins.json")
    der, _ = make_cert()
    info = info_for(der, "VC.lab.local", 8443)
    assert store.get("vc.lab.local", 8443) is None
    store.put(info)
    again = JsonPinStore(tmp_path / "pins.json").get("vc.lab.local", 8443)
    assert again is not None
    assert again.sha256 == info.sha256
    assert again.subject == "CN=vc.lab.local"
    assert store.get("vc.lab.local", 443) is None  # the port is part of the identity
    store.remove("vc.lab.local", 8443)
    assert store.get("vc.lab.local", 8443) is None
    store.remove("vc.lab.local", 8443)  # removing twice is fine


def test_pin_store_keeps_no_secret_and_is_readable(tmp_path: Path) -> None:
    store = JsonPinStore(tmp_path / "pins.json")
    der, _ = make_cert()
    store.put(info_for(der, "::1", 443))
    data = json.loads((tmp_path / "pins.json").read_text(encoding="utf-8"))
    entry = data["pins"]["[::1]:443"]
    assert set(entry) == {"sha256", "pem", "subject", "issuer", "not_before", "not_after"}


def test_pin_store_default_lives_in_the_data_folder() -> None:
    assert JsonPinStore().path == paths.data_dir() / "pinned-certificates.json"


def test_pin_store_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "pins.json"
    store = JsonPinStore(path)
    first, _ = make_cert()
    store.put(info_for(first))
    before = path.read_bytes()

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    second, _ = make_cert()
    with pytest.raises(OSError, match="disk full"):
        store.put(info_for(second, "other", 443))
    assert path.read_bytes() == before  # the old file is untouched
    assert os.listdir(tmp_path) == ["pins.json"]  # and no temporary file is left


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"pins": 3}',
        '{"pins": {"vc.lab.local:443": {"pem": "junk", "sha256": "AB"}}}',
    ],
)
def test_damaged_pin_store_gives_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "pins.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PinStoreUnreadable) as caught:
        JsonPinStore(path).get("vc.lab.local", 443)
    assert str(path) in caught.value.message
    assert "delete" in caught.value.next_step


def test_pin_whose_fingerprint_does_not_match_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pins.json"
    store = JsonPinStore(path)
    der, _ = make_cert()
    store.put(info_for(der))
    data = json.loads(path.read_text(encoding="utf-8"))
    data["pins"]["vc.lab.local:443"]["sha256"] = sha256_fingerprint(b"other")
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PinStoreUnreadable, match="does not match"):
        store.get("vc.lab.local", 443)


# --- trust decisions --------------------------------------------------------------------------


def _verify_error() -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(1, "certificate verify failed")
    exc.verify_message = "self-signed certificate"
    return exc


@pytest.fixture
def presented(monkeypatch: pytest.MonkeyPatch) -> CertificateInfo:
    """The certificate the (pretend) server presents; fetching it makes no connection."""
    der, _ = make_cert()
    info = info_for(der)
    presents(monkeypatch, info)
    return info


def presents(monkeypatch: pytest.MonkeyPatch, info: CertificateInfo) -> None:
    """The (pretend) server presents ``info``: read in full, or in DER for its fingerprint."""
    monkeypatch.setattr(tls, "fetch_certificate", lambda host, port, timeout: info)
    monkeypatch.setattr(
        tls,
        "fetch_certificate_der",
        lambda host, port, timeout: (info.der, [c.der for c in info.chain]),
    )


def test_unknown_certificate_asks_the_technician(presented: CertificateInfo) -> None:
    policy = TrustPolicy(MemoryPinStore())
    with pytest.raises(CertificateUntrusted) as caught:
        policy.context_after_verify_failure("vc.lab.local", 443, 5, _verify_error())
    assert caught.value.info == presented
    assert caught.value.reason == "self-signed certificate"
    assert presented.sha256 in caught.value.message


def test_trust_once_accepts_exactly_that_certificate(presented: CertificateInfo) -> None:
    policy = TrustPolicy(MemoryPinStore())
    policy.trust_once(presented)
    ctx = policy.context_after_verify_failure("vc.lab.local", 443, 5, _verify_error())
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.verify_flags & ssl.VERIFY_X509_PARTIAL_CHAIN
    assert policy.pins.get("vc.lab.local", 443) is None  # not stored


def test_expected_fingerprint_from_the_command_line(presented: CertificateInfo) -> None:
    policy = TrustPolicy(
        MemoryPinStore(), expected_fingerprint=presented.sha256.lower().replace(":", "")
    )
    ctx = policy.context_after_verify_failure("vc.lab.local", 443, 5, _verify_error())
    assert ctx.verify_mode == ssl.CERT_REQUIRED


def test_a_wrong_expected_fingerprint_still_asks(presented: CertificateInfo) -> None:
    policy = TrustPolicy(MemoryPinStore(), expected_fingerprint=sha256_fingerprint(b"other"))
    with pytest.raises(CertificateUntrusted):
        policy.context_after_verify_failure("vc.lab.local", 443, 5, _verify_error())


def test_malformed_expected_fingerprint_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        TrustPolicy(MemoryPinStore(), expected_fingerprint="AB:CD")


def test_changed_certificate_stops_even_if_trusted_once(presented: CertificateInfo) -> None:
    pins = MemoryPinStore()
    old, _ = make_cert()
    pins.put(info_for(old))
    policy = TrustPolicy(pins)
    policy.trust_once(presented)
    with pytest.raises(CertificateChanged) as caught:
        policy.context_after_verify_failure("vc.lab.local", 443, 5, _verify_error())
    assert caught.value.pinned.sha256 == info_for(old).sha256
    assert caught.value.presented == presented


def test_pinned_certificate_that_fails_anyway_asks_again(presented: CertificateInfo) -> None:
    pins = MemoryPinStore()
    pins.put(presented)
    err = _verify_error()
    err.verify_message = "certificate has expired"
    with pytest.raises(CertificateUntrusted, match="certificate has expired"):
        TrustPolicy(pins).context_after_verify_failure("vc.lab.local", 443, 5, err)


def test_first_attempt_uses_the_os_store_or_the_pin() -> None:
    pins = MemoryPinStore()
    policy = TrustPolicy(pins)
    ctx = policy.ssl_context_for("vc.lab.local", 443)
    assert isinstance(ctx, truststore.SSLContext)
    assert ctx.check_hostname
    der, _ = make_cert()
    policy.pin(info_for(der))
    pinned = policy.ssl_context_for("vc.lab.local", 443)
    assert not isinstance(pinned, truststore.SSLContext)
    assert not pinned.check_hostname
    assert pinned.verify_mode == ssl.CERT_REQUIRED


# --- against a real TLS server ----------------------------------------------------------------


@contextlib.contextmanager
def _serving(ctx: ssl.SSLContext) -> Iterator[int]:
    """A loopback TLS server completing handshakes with ``ctx``; yields its port."""

    def handshake(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2)
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls_conn:
                    tls_conn.recv(1)
            except (OSError, ssl.SSLError):
                pass

    with loopback_server(handshake) as port:
        yield port


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, bytes]]:
    """A loopback TLS server that completes handshakes with a fresh self-signed certificate."""
    der, key_pem = make_cert(not_before=datetime.now(UTC) - timedelta(hours=1))
    (tmp_path / "cert.pem").write_text(ssl.DER_cert_to_PEM_cert(der), encoding="ascii")
    (tmp_path / "key.pem").write_bytes(key_pem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    with _serving(ctx) as port:
        yield port, der


def _handshake(ctx: ssl.SSLContext, port: int, server_hostname: str = "127.0.0.1") -> None:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname=server_hostname),
    ):
        pass


def test_fetch_certificate_reads_what_the_server_presents(tls_server: tuple[int, bytes]) -> None:
    port, der = tls_server
    info = tls.fetch_certificate("127.0.0.1", port, timeout=5)
    assert info.sha256 == sha256_fingerprint(der)
    assert (info.host, info.port, info.subject) == ("127.0.0.1", port, "CN=vc.lab.local")


def test_pinned_context_accepts_the_pin_and_refuses_another(tls_server: tuple[int, bytes]) -> None:
    port, der = tls_server
    _handshake(tls.pinned_context(ssl.DER_cert_to_PEM_cert(der)), port)
    other, _ = make_cert(not_before=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(tls.pinned_context(ssl.DER_cert_to_PEM_cert(other)), port)


def test_os_store_refuses_a_self_signed_certificate(tls_server: tuple[int, bytes]) -> None:
    port, _ = tls_server
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(tls.os_store_context(), port)


# --- authorities: the store -------------------------------------------------------------------


def _info(issued: pki.Issued, *chain: pki.Issued, host: str = "vc01.lab.local") -> CertificateInfo:
    return CertificateInfo.from_der(host, 443, issued.der, [c.der for c in chain])


def test_an_authority_is_kept_per_host_and_port_and_replaces_a_pin(tmp_path: Path) -> None:
    store = JsonPinStore(tmp_path / "pins.json")
    root = pki.authority()
    store.put(_info(pki.leaf(root)))
    store.put_authority(_info(root))
    again = JsonPinStore(tmp_path / "pins.json")
    trusted = again.authority("VC01.lab.local", 443)
    assert trusted is not None
    assert trusted.certificate.sha256 == _info(root).sha256
    assert trusted.vcenter_id == ""
    assert again.get("vc01.lab.local", 443) is None  # the authority took the pin's place
    assert again.authority("vc01.lab.local", 8443) is None
    assert again.authority("vc02.lab.local", 443) is None
    kinds = [(e.host, e.kind) for e in again.entries()]
    assert kinds == [("vc01.lab.local", "authority")]
    again.put(_info(pki.leaf(root)))  # and a pin takes the authority's place
    assert again.authority("vc01.lab.local", 443) is None


def test_identify_notes_the_vcenter_of_an_authority(tmp_path: Path) -> None:
    for store in (JsonPinStore(tmp_path / "pins.json"), MemoryPinStore()):
        root = pki.authority()
        store.put_authority(_info(root))
        store.identify("vc01.lab.local", 443, "uuid-1")
        assert [a.certificate.host for a in store.authorities_of("uuid-1")] == ["vc01.lab.local"]
        assert store.authorities_of("uuid-2") == []
        trusted = store.authority("vc01.lab.local", 443)
        assert trusted is not None
        assert trusted.vcenter_id == "uuid-1"
        store.remove("vc01.lab.local", 443)
        assert store.authority("vc01.lab.local", 443) is None
        assert store.authorities_of("uuid-1") == []


def test_a_pin_file_from_before_authorities_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "pins.json"
    der, _ = make_cert()
    JsonPinStore(path).put(info_for(der))
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["authorities"]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert JsonPinStore(path).authority("vc.lab.local", 443) is None
    assert JsonPinStore(path).get("vc.lab.local", 443) is not None


def test_a_damaged_authority_entry_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "pins.json"
    store = JsonPinStore(path)
    store.put_authority(_info(pki.authority()))
    data = json.loads(path.read_text(encoding="utf-8"))
    data["authorities"]["vc01.lab.local:443"]["pem"] = "junk"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PinStoreUnreadable, match=r"authority for vc01\.lab\.local:443 is damaged"):
        store.authority("vc01.lab.local", 443)
    path.write_text('{"pins": {}, "authorities": []}', encoding="utf-8")
    with pytest.raises(PinStoreUnreadable, match="authorities"):
        store.authority("vc01.lab.local", 443)


# --- authorities: the decisions ---------------------------------------------------------------


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Make the (pretend) server present ``issued`` with ``chain`` and offer ``authorities``."""

    def present(
        issued: pki.Issued, *chain: pki.Issued, authorities: tuple[pki.Issued, ...] = ()
    ) -> None:
        presents(monkeypatch, _info(issued, *chain))

        def offered(presented: CertificateInfo, timeout: float) -> CertificateInfo:
            found = authority.issuing_authority(presented, [a.der for a in authorities])
            if found is None:
                raise AuthorityUnavailable("vc01.lab.local:443", "none issued it")
            return found

        monkeypatch.setattr(tls, "fetch_authority", offered)

    return present


def _ask(policy: TrustPolicy) -> ssl.SSLContext:
    return policy.context_after_verify_failure("vc01.lab.local", 443, 5, _verify_error())


def test_the_first_attempt_uses_a_trusted_authority_with_the_host_name_checked() -> None:
    pins = MemoryPinStore()
    pins.put_authority(_info(pki.authority()))
    ctx = TrustPolicy(pins).ssl_context_for("vc01.lab.local", 443)
    assert not isinstance(ctx, truststore.SSLContext)
    assert ctx.check_hostname
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert len(ctx.get_ca_certs()) == 1  # that authority alone, not the OS store
    other = TrustPolicy(pins).ssl_context_for("vc02.lab.local", 443)
    assert isinstance(other, truststore.SSLContext)  # another host: not this authority


def test_a_certificate_from_another_authority_is_a_changed_certificate(
    serve: Callable[..., None],
) -> None:
    trusted, other = pki.authority("Old root"), pki.authority("New root")
    pins = MemoryPinStore()
    pins.put_authority(_info(trusted))
    serve(pki.leaf(other), other)
    policy = TrustPolicy(pins, expected_fingerprint=_info(pki.leaf(other)).sha256)
    with pytest.raises(AuthorityChanged) as caught:
        _ask(policy)
    assert isinstance(caught.value, CertificateChanged)  # the same stop, the same dialog
    assert caught.value.pinned.sha256 == _info(trusted).sha256
    assert "not issued by the certificate authority you trusted" in caught.value.message
    assert "intercepting" in caught.value.next_step


def test_a_certificate_from_the_trusted_authority_that_still_fails_asks(
    serve: Callable[..., None],
) -> None:
    root = pki.authority()
    pins = MemoryPinStore()
    pins.put_authority(_info(root))
    serve(pki.leaf(root, dns=("other.lab.local",)), root)
    err = _verify_error()
    err.verify_message = "Hostname mismatch, certificate is not valid for 'vc01.lab.local'."
    with pytest.raises(CertificateUntrusted) as caught:
        TrustPolicy(pins).context_after_verify_failure("vc01.lab.local", 443, 5, err)
    assert "issued for other.lab.local, not for vc01.lab.local" in caught.value.message
    assert "one of the names" in caught.value.next_step


def test_the_command_line_authority_fingerprint_accepts_what_it_issued(
    serve: Callable[..., None],
) -> None:
    root = pki.authority()
    serve(pki.leaf(root), authorities=(pki.authority("Unrelated"), root))
    policy = TrustPolicy(MemoryPinStore(), expected_authority=_info(root).sha256.lower())
    ctx = _ask(policy)
    assert ctx.check_hostname
    assert [c["subject"] for c in ctx.get_ca_certs()] == [
        ((("organizationName", "Lab"),), (("commonName", "Lab Root CA"),))
    ]
    assert policy.pins.authority("vc01.lab.local", 443) is None  # nothing stored


def test_the_command_line_authority_fingerprint_refuses_another_authority(
    serve: Callable[..., None],
) -> None:
    given, used = pki.authority("Given"), pki.authority("Used")
    serve(pki.leaf(used), authorities=(used,))
    policy = TrustPolicy(MemoryPinStore(), expected_authority=_info(given).sha256)
    with pytest.raises(AuthorityMismatch) as caught:
        _ask(policy)
    assert caught.value.found is not None
    assert caught.value.found.sha256 == _info(used).sha256
    assert "--trust-ca-fingerprint" in caught.value.message
    assert "no password was sent" in caught.value.message


def test_a_subordinate_authority_path_leads_to_the_offered_root(
    serve: Callable[..., None],
) -> None:
    root = pki.authority("Company root")
    vmca = pki.authority("VMCA", parent=root)
    serve(pki.leaf(vmca), vmca, authorities=(root, vmca))
    found = tls.fetch_authority(_info(pki.leaf(vmca), vmca), 5)
    assert found.subject == "O=Lab, CN=Company root"  # the highest offered on the path


def test_identity_an_authority_of_this_vcenter_under_another_name_must_vouch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, other = pki.authority("Root"), pki.authority("Other")
    pins = MemoryPinStore()
    pins.put_authority(_info(root, host="vc01.lab.local"))
    pins.identify("vc01.lab.local", 443, "uuid-1")
    policy = TrustPolicy(pins)
    shown = _info(pki.leaf(other, dns=("10.0.0.5",)), host="10.0.0.5")
    monkeypatch.setattr(tls, "fetch_certificate", lambda host, port, timeout: shown)
    with pytest.raises(AuthorityChanged) as caught:
        policy.check_identity("10.0.0.5", 443, "uuid-1", 5)
    assert "another name" in caught.value.message
    vouched = _info(pki.leaf(root, dns=("10.0.0.5",)), host="10.0.0.5")
    monkeypatch.setattr(tls, "fetch_certificate", lambda host, port, timeout: vouched)
    policy.check_identity("10.0.0.5", 443, "uuid-1", 5)  # issued by the authority: fine


def test_identity_a_pin_of_a_renewed_certificate_does_not_stop_its_authority(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = pki.authority()
    pins = MemoryPinStore()
    pins.put(_info(pki.leaf(root), host="10.0.0.5"))  # pinned before the renewal, other name
    pins.identify("10.0.0.5", 443, "uuid-1")
    pins.put_authority(_info(root))
    renewed = _info(pki.leaf(root))
    monkeypatch.setattr(tls, "fetch_certificate", lambda host, port, timeout: renewed)
    TrustPolicy(pins).check_identity("vc01.lab.local", 443, "uuid-1", 5)
    assert [a.vcenter_id for a in pins.authorities_of("uuid-1")] == ["uuid-1"]


def test_identity_an_authority_never_vouches_for_another_vcenter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = pki.authority()
    pins = MemoryPinStore()
    pins.put_authority(_info(root))
    pins.identify("vc01.lab.local", 443, "uuid-1")
    shown = _info(pki.leaf(root))
    monkeypatch.setattr(tls, "fetch_certificate", lambda host, port, timeout: shown)
    with pytest.raises(AuthorityChanged) as caught:
        TrustPolicy(pins).check_identity("vc01.lab.local", 443, "uuid-2", 5)
    assert "names itself as another vCenter" in caught.value.message


# --- authorities: real handshakes -------------------------------------------------------------


@pytest.fixture
def chain_server(tmp_path: Path) -> Iterator[tuple[int, pki.Issued, pki.Issued]]:
    """A loopback TLS server presenting a certificate for 127.0.0.1 and its authority."""
    root = pki.authority()
    cert = pki.leaf(root, dns=("localhost",), ips=("127.0.0.1",))
    (tmp_path / "chain.pem").write_bytes(cert.pem + root.pem)
    (tmp_path / "key.pem").write_bytes(cert.key_pem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "chain.pem", tmp_path / "key.pem")
    with _serving(ctx) as port:
        yield port, cert, root


def test_fetch_certificate_reads_the_chain_the_server_sent(
    chain_server: tuple[int, pki.Issued, pki.Issued],
) -> None:
    port, cert, root = chain_server
    info = tls.fetch_certificate("127.0.0.1", port, timeout=5)
    assert info.sha256 == _info(cert).sha256
    assert [c.sha256 for c in info.chain] == [_info(root).sha256]
    assert info.valid_for("127.0.0.1")


def test_authority_context_accepts_what_it_issued_for_the_name_only(
    chain_server: tuple[int, pki.Issued, pki.Issued],
) -> None:
    port, _, root = chain_server
    ctx = tls.authority_context(root.pem.decode())
    _handshake(ctx, port)
    with pytest.raises(ssl.SSLCertVerificationError, match=r"[Hh]ostname mismatch"):
        _handshake(ctx, port, server_hostname="vc01.lab.local")
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(tls.authority_context(pki.authority().pem.decode()), port)


@pytest.mark.parametrize("store", ["json", "memory"])
def test_the_login_may_leave_early_only_where_no_identity_could_stop_it(
    tmp_path: Path, store: str
) -> None:
    pins: JsonPinStore | MemoryPinStore = (
        JsonPinStore(tmp_path / "pins.json") if store == "json" else MemoryPinStore()
    )
    policy = TrustPolicy(pins)
    root = pki.authority()
    assert policy.identity_cannot_stop("vc01.lab.local", 443)  # nothing kept at all
    pins.put(_info(pki.leaf(root)))
    pins.identify("vc01.lab.local", 443, "uuid-1")
    assert pins.identified() == {"vc01.lab.local:443"}
    # its own pin, tied to the vCenter seen there: nothing under another name to compare with
    assert policy.identity_cannot_stop("VC01.lab.local", 443)
    # another address tied to a vCenter: the login waits for this one's identity
    assert not policy.identity_cannot_stop("10.0.0.5", 443)
    pins.put_authority(_info(root, host="10.0.0.5"))
    assert not policy.identity_cannot_stop("10.0.0.5", 443)
    pins.identify("10.0.0.5", 443, "uuid-1")
    # an authority trusted here and tied to a vCenter: the answer may name another one
    pins.remove("vc01.lab.local", 443)
    assert not policy.identity_cannot_stop("10.0.0.5", 443)
