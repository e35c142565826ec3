"""The certificate description the trust dialog and the trust store use, read with
``cryptography``: names, validity, alternative names, key, signature, self-signed, the chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from tests.helpers import pki
from wizard.vsphere.certificate import UNREADABLE, CertificateInfo, sha256_fingerprint


def describe(
    issued: pki.Issued, *chain: pki.Issued, host: str = "vc01.lab.local"
) -> CertificateInfo:
    return CertificateInfo.from_der(host, 443, issued.der, [c.der for c in chain])


def test_fingerprint_is_uppercase_pairs_like_openssl() -> None:
    assert sha256_fingerprint(b"abc") == (
        "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
    )


def test_a_leaf_issued_by_an_authority_is_described_in_full() -> None:
    root = pki.authority("Lab Root CA")
    cert = pki.leaf(root, dns=("vc01.lab.local", "vc01"), ips=("10.0.0.5",))
    info = describe(cert, root)
    assert info.sha256 == ":".join(f"{b:02X}" for b in cert.cert.fingerprint(hashes.SHA256()))
    assert info.subject == "O=Lab, CN=vc01.lab.local"
    assert info.issuer == "O=Lab, CN=Lab Root CA"
    assert info.dns_names == ("vc01.lab.local", "vc01")
    assert info.ip_addresses == ("10.0.0.5",)
    assert info.names == ("vc01.lab.local", "vc01", "10.0.0.5")
    assert info.common_name == "vc01.lab.local"
    assert info.key == "EC P-256"
    assert info.signature_algorithm == "ECDSA with SHA-256"
    assert not info.self_signed
    assert not info.is_ca
    assert info.serial == f"{cert.cert.serial_number:X}"
    assert info.not_before == cert.cert.not_valid_before_utc
    assert info.not_after is not None
    assert info.not_after.tzinfo is not None
    assert [c.subject for c in info.chain] == ["O=Lab, CN=Lab Root CA"]
    assert info.chain[0].self_signed
    assert info.chain[0].is_ca
    assert info.chain[0].issued(info)
    assert not info.issued(info.chain[0])


def test_an_rsa_root_reads_as_self_signed_rsa() -> None:
    root = pki.authority("Old Root", rsa_key=True)
    info = describe(root)
    assert info.key == "RSA 2048 bits"
    assert info.signature_algorithm == "RSA with SHA-256"
    assert info.self_signed
    assert info.is_ca


def test_a_certificate_naming_itself_as_issuer_but_signed_by_another_is_not_self_signed() -> None:
    impostor_key = pki.authority("Other").key
    subject = pki.name("Lab Root CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(pki.authority().key.public_key())
        .serial_number(1)
        .not_valid_before(pki.NOW)
        .not_valid_after(pki.NOW + timedelta(days=1))
        .sign(impostor_key, hashes.SHA256())
    )
    assert not describe(pki.Issued(cert, impostor_key)).self_signed


@pytest.mark.parametrize(
    ("host", "valid"),
    [
        ("vc01.lab.local", True),
        ("VC01.Lab.Local.", True),  # case and the final dot do not matter
        ("10.0.0.5", True),
        ("vc01", False),
        ("10.0.0.6", False),
        ("esx1.lab.local", True),  # *.lab.local
        ("a.b.lab.local", False),  # * is one label
        ("lab.local", False),
        ("::1", False),
    ],
)
def test_valid_for_follows_the_rules_of_tls_clients(host: str, valid: bool) -> None:
    cert = pki.leaf(pki.authority(), dns=("vc01.lab.local", "*.lab.local"), ips=("10.0.0.5",))
    assert describe(cert).valid_for(host) is valid


def test_an_address_is_never_matched_by_a_dns_name_or_the_common_name() -> None:
    cert = pki.leaf(None, common="127.0.0.1", dns=("127.0.0.1",))
    assert not describe(cert).valid_for("127.0.0.1")


def test_without_alternative_names_the_common_name_counts() -> None:
    cert = pki.leaf(None, common="vc-old.lab.local", dns=())
    info = describe(cert)
    assert info.names == ("vc-old.lab.local",)
    assert info.valid_for("vc-old.lab.local")
    assert not info.valid_for("vc-new.lab.local")


def test_ipv6_addresses_match_in_any_spelling() -> None:
    cert = pki.leaf(None, dns=(), ips=("fe80::1",))
    assert describe(cert).valid_for("FE80:0:0::1")


def test_names_keep_an_email_address_readable_and_commas_escaped() -> None:
    key = pki.authority().key
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Smith, Jones & Co"),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ops@example.org"),
            x509.NameAttribute(NameOID.COMMON_NAME, "日本語"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC))
        .not_valid_after(datetime(2070, 1, 2, 3, 4, 5, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    info = describe(pki.Issued(cert, key))
    assert info.subject == "C=DE, O=Smith\\, Jones & Co, emailAddress=ops@example.org, CN=日本語"
    assert info.not_before == datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert info.not_after == datetime(2070, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert info.is_valid_at(datetime(2030, 1, 1, tzinfo=UTC)) is True
    assert info.is_valid_at(datetime(2071, 1, 1, tzinfo=UTC)) is False


@pytest.mark.parametrize("garbage", [b"", b"\x30\x03\x02\x01\x01", b"\x30\x80\x00\x00", b"x" * 50])
def test_unreadable_bytes_still_give_the_fingerprint(garbage: bytes) -> None:
    info = CertificateInfo.from_der("h", 443, garbage)
    assert info.subject == UNREADABLE
    assert info.key == UNREADABLE
    assert info.not_after is None
    assert info.names == ()
    assert not info.valid_for("h")
    assert info.sha256 == sha256_fingerprint(garbage)
    assert info.is_valid_at(pki.NOW) is None


def test_a_truncated_certificate_is_unreadable_not_a_crash() -> None:
    der = pki.leaf(pki.authority()).der
    for cut in (1, 5, 40, 120, len(der) - 1):
        info = CertificateInfo.from_der("h", 443, der[:cut])
        assert info.subject == UNREADABLE
        assert info.sha256 == sha256_fingerprint(der[:cut])


def test_the_pem_round_trips_and_only_eight_chain_certificates_are_described() -> None:
    root = pki.authority()
    cert = pki.leaf(root)
    info = CertificateInfo.from_der("h", 443, cert.der, [root.der] * 20)
    assert info.der == cert.der
    assert CertificateInfo.from_pem("h", 443, info.pem) == CertificateInfo.from_der(
        "h", 443, cert.der
    )
    assert len(info.chain) == 8
    assert all(c.chain == () for c in info.chain)
