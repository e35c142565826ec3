"""Certificates made in memory for the tests: authorities, the certificates they issue, and
``download.zip`` files in vCenter's layout (well-formed and hostile)."""

from __future__ import annotations

import io
import ipaddress
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    key_cert_sign=True,
    crl_sign=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    encipher_only=False,
    decipher_only=False,
)
"""What a certificate authority's certificate may do: sign certificates and revocation lists."""

NOW = datetime.now(UTC)
Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def name(common: str, org: str = "Lab") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


@dataclass(frozen=True)
class Issued:
    """A certificate and its key."""

    cert: x509.Certificate
    key: Key

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def authority(
    common: str = "Lab Root CA", *, parent: Issued | None = None, rsa_key: bool = False
) -> Issued:
    """A certificate authority: a root, or a subordinate of ``parent``."""
    key: Key = (
        rsa.generate_private_key(65537, 2048)
        if rsa_key
        else ec.generate_private_key(ec.SECP256R1())
    )
    subject = name(common)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(parent.cert.subject if parent else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(hours=1))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            CA_KEY_USAGE,
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    signer = parent.key if parent else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def leaf(
    issuer: Issued | None,
    *,
    common: str = "vc01.lab.local",
    dns: tuple[str, ...] = ("vc01.lab.local",),
    ips: tuple[str, ...] = (),
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> Issued:
    """A server certificate issued by ``issuer`` (self-signed when None)."""
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    alt += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(common))
        .issuer_name(issuer.cert.subject if issuer else name(common))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - timedelta(hours=1))
        .not_valid_after(not_after or NOW + timedelta(days=730))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    )
    if alt:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
        )
    return Issued(builder.sign(issuer.key if issuer else key, hashes.SHA256()), key)


def zipped(members: Mapping[str, bytes] | Iterable[tuple[str, bytes]]) -> bytes:
    """A compressed zip archive of these members (name and content), in this order."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items() if isinstance(members, Mapping) else members:
            archive.writestr(name, data)
    return buf.getvalue()


def vcenter_zip(*roots: Issued, extra: dict[str, bytes] | None = None) -> bytes:
    """A ``download.zip`` as vCenter lays it out: PEM under lin/ and mac/, DER under win/, and
    a revocation list beside each."""
    members: list[tuple[str, bytes]] = []
    for number, root in enumerate(roots):
        stem = f"{number:08x}"
        members += [
            (f"certs/lin/{stem}.0", root.pem),
            (f"certs/lin/{stem}.r0", b"-----BEGIN X509 CRL-----\nAA==\n"),
            (f"certs/mac/{stem}.0", root.pem),
            (f"certs/win/{stem}.0.crt", root.der),
            (f"certs/win/{stem}.0.crl", b"\x30\x00"),
        ]
    return zipped([*members, *(extra or {}).items()])


def zip_bomb(unpacked: int = 64 * 1024 * 1024) -> bytes:
    """A small zip whose one certificate-named member unpacks to ``unpacked`` bytes of zeros."""
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("certs/lin/00000000.0", "w", force_zip64=True) as member,
    ):
        block = b"\0" * (1024 * 1024)
        for _ in range(unpacked // len(block)):
            member.write(block)
    return buf.getvalue()
