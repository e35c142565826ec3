"""Certificates: fingerprints, the DER reader, the pin store and the trust decisions."""

from __future__ import annotations

import json
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import truststore

from wizard import paths
from wizard.vsphere import tls
from wizard.vsphere.certificate import CertificateInfo, parse_certificate_fields, sha256_fingerprint
from wizard.vsphere.errors import CertificateChanged, CertificateUntrusted, PinStoreUnreadable
from wizard.vsphere.tls import JsonPinStore, MemoryPinStore, TrustPolicy, normalize_fingerprint

# `cryptography` is not a product dependency; the tests use it to make certificates and as the
# reference the DER reader is checked against.
pytest.importorskip("cryptography")
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

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


def test_fingerprint_is_uppercase_pairs_like_openssl() -> None:
    fp = sha256_fingerprint(b"abc")
    assert fp == (
        "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
    )


def test_fingerprint_matches_the_certificate_hash() -> None:
    der, _ = make_cert()
    cert = x509.load_der_x509_certificate(der)
    assert info_for(der).sha256 == ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


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


# --- the DER reader ---------------------------------------------------------------------------


def _reference(der: bytes) -> tuple[str, str, datetime, datetime]:
    cert = x509.load_der_x509_certificate(der)

    def name(n: x509.Name) -> str:
        # cryptography's rfc4514_string() lists the most significant part last; we show it first.
        text = n.rfc4514_string({x509.oid.NameOID.EMAIL_ADDRESS: "emailAddress"})
        return ", ".join(reversed(text.split(",")))

    return (
        name(cert.subject),
        name(cert.issuer),
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
    )


@pytest.mark.parametrize(
    "subject",
    [
        [(NameOID.COMMON_NAME, "vc.lab.local")],
        [
            (NameOID.COUNTRY_NAME, "DE"),
            (NameOID.ORGANIZATION_NAME, "Stadtwerke Süd"),
            (NameOID.COMMON_NAME, "vcsa-01"),
        ],
        [
            (NameOID.ORGANIZATIONAL_UNIT_NAME, "VMware Engineering"),
            (NameOID.EMAIL_ADDRESS, "ops@example.org"),
        ],
        [
            (NameOID.DOMAIN_COMPONENT, "corp"),
            (NameOID.DOMAIN_COMPONENT, "local"),
            (NameOID.COMMON_NAME, "日本語"),
        ],
    ],
)
def test_der_reader_agrees_with_cryptography(
    subject: list[tuple[x509.ObjectIdentifier, str]],
) -> None:
    der, _ = make_cert(
        subject, issuer=[(NameOID.COMMON_NAME, "CA"), (NameOID.ORGANIZATION_NAME, "VMware")]
    )
    fields = parse_certificate_fields(der)
    ref_subject, ref_issuer, nb, na = _reference(der)
    assert fields.subject == ref_subject
    assert fields.issuer == ref_issuer == "CN=CA, O=VMware"
    assert (fields.not_before, fields.not_after) == (nb, na)
    assert fields.not_before is not None
    assert fields.not_before.tzinfo is not None


def test_der_reader_escapes_a_comma_inside_a_value() -> None:
    der, _ = make_cert([(NameOID.ORGANIZATION_NAME, "Smith, Jones & Co")])
    assert parse_certificate_fields(der).subject == "O=Smith\\, Jones & Co"


def test_der_reader_reads_generalized_time_after_2049() -> None:
    der, _ = make_cert(rsa_key=True, not_after=datetime(2070, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert parse_certificate_fields(der).not_after == datetime(2070, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_der_reader_reads_utc_time_of_the_last_century() -> None:
    der, _ = make_cert(not_before=datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC))
    assert parse_certificate_fields(der).not_before == datetime(
        1999, 12, 31, 23, 59, 59, tzinfo=UTC
    )


@pytest.mark.parametrize("cut", [0, 1, 5, 40, 120])
def test_der_reader_refuses_truncated_input(cut: int) -> None:
    der, _ = make_cert()
    with pytest.raises(ValueError, match=r"truncated|runs past|bad length|empty|too few"):
        parse_certificate_fields(der[:cut])


def test_der_reader_refuses_indefinite_length() -> None:
    with pytest.raises(ValueError, match="indefinite"):
        parse_certificate_fields(b"\x30\x80\x00\x00")


def test_unreadable_fields_still_give_the_fingerprint() -> None:
    garbage = b"\x30\x03\x02\x01\x01"
    info = CertificateInfo.from_der("h", 443, garbage)
    assert info.subject == "(unreadable)"
    assert info.not_after is None
    assert info.sha256 == sha256_fingerprint(garbage)
    assert info.is_valid_at(NOW) is None


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
    monkeypatch.setattr(tls, "fetch_certificate", lambda host, port, timeout: info)
    return info


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


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, bytes]]:
    """A loopback TLS server that completes handshakes with a fresh self-signed certificate."""
    der, key_pem = make_cert(not_before=datetime.now(UTC) - timedelta(hours=1))
    (tmp_path / "cert.pem").write_text(ssl.DER_cert_to_PEM_cert(der), encoding="ascii")
    (tmp_path / "key.pem").write_bytes(key_pem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    with ctx.wrap_socket(conn, server_side=True) as tls_conn:
                        tls_conn.recv(1)
                except (OSError, ssl.SSLError):
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], der
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def _handshake(ctx: ssl.SSLContext, port: int) -> None:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname="127.0.0.1"),
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
