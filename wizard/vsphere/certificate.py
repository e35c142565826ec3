"""The certificates a server presented: fingerprints and the fields people compare.

Pure and offline: it describes DER bytes someone else read (``wizard.vsphere.tls`` reads them
from the server and decides whether to trust them). The typed errors that carry a certificate
(``wizard.vsphere.errors``) and the trust policy both need this description, so it lives here,
below both, and neither has to import the other to name it.

Certificates are parsed with pyca ``cryptography``; the fingerprint never depends on parsing
(it is the hash of the bytes presented), so a certificate whose fields cannot be read is still
shown by its fingerprint.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID, SignatureAlgorithmOID

log = logging.getLogger(__name__)
_T = TypeVar("_T")

UNREADABLE = "(unreadable)"
# How many certificates after the leaf are described; a server sends two or three.
MAX_CHAIN = 8

_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_SIGNATURES = {
    SignatureAlgorithmOID.RSA_WITH_SHA256: "RSA with SHA-256",
    SignatureAlgorithmOID.RSA_WITH_SHA384: "RSA with SHA-384",
    SignatureAlgorithmOID.RSA_WITH_SHA512: "RSA with SHA-512",
    SignatureAlgorithmOID.RSA_WITH_SHA1: "RSA with SHA-1 (weak)",
    SignatureAlgorithmOID.RSA_WITH_MD5: "RSA with MD5 (broken)",
    SignatureAlgorithmOID.RSASSA_PSS: "RSA-PSS",
    SignatureAlgorithmOID.ECDSA_WITH_SHA256: "ECDSA with SHA-256",
    SignatureAlgorithmOID.ECDSA_WITH_SHA384: "ECDSA with SHA-384",
    SignatureAlgorithmOID.ECDSA_WITH_SHA512: "ECDSA with SHA-512",
    SignatureAlgorithmOID.ECDSA_WITH_SHA1: "ECDSA with SHA-1 (weak)",
    SignatureAlgorithmOID.ED25519: "Ed25519",
    SignatureAlgorithmOID.ED448: "Ed448",
}
# Names as people read them; cryptography writes emailAddress as a dotted number otherwise.
_NAME_OVERRIDES = {NameOID.EMAIL_ADDRESS: "emailAddress"}


@dataclass(frozen=True)
class CertificateInfo:
    """A certificate a server presented, for the trust dialog and the trust store.

    Attributes:
        host: the host name or address it was read from (IPv6 without brackets).
        port: the TCP port.
        sha256: SHA-256 of the DER bytes, uppercase hex pairs joined by ``:`` (the same as
            ``openssl x509 -fingerprint -sha256`` and the lab's ``thumbprint_sha256``).
        subject: the subject name in the certificate's own order, e.g.
            ``"C=DE, O=Corp, CN=vc.corp.local"``; ``""`` when the certificate has none.
        issuer: the issuer name in the same form.
        not_before: start of validity (timezone-aware, UTC); None if it could not be read.
        not_after: end of validity (timezone-aware, UTC); None if it could not be read.
        pem: the certificate in PEM form.
        dns_names: the DNS names of its subject alternative names (``*.corp.local`` included).
        ip_addresses: the IP addresses of its subject alternative names.
        common_name: the subject's common name (CN), ``""`` when it has none.
        key: the public key in words, e.g. ``"RSA 2048 bits"`` or ``"EC P-256"``.
        signature_algorithm: how its issuer signed it, e.g. ``"RSA with SHA-256"``.
        self_signed: whether it is signed by its own key (a root, or a certificate made
            without any authority).
        is_ca: whether it may issue certificates (basic constraints ``CA:TRUE``).
        serial: the serial number in hex.
        chain: the certificates the server sent after this one, in the order it sent them
            (their own ``chain`` is empty); empty when it sent only this one.
    """

    host: str
    port: int
    sha256: str
    subject: str
    issuer: str
    not_before: datetime | None
    not_after: datetime | None
    pem: str
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    common_name: str = ""
    key: str = ""
    signature_algorithm: str = ""
    self_signed: bool = False
    is_ca: bool = False
    serial: str = ""
    chain: tuple[CertificateInfo, ...] = ()

    @classmethod
    def from_der(
        cls, host: str, port: int, der: bytes, chain: Sequence[bytes] = ()
    ) -> CertificateInfo:
        """Describe a DER certificate (and the ones sent after it). Fields that cannot be
        parsed are shown as unreadable; the fingerprint never depends on parsing.
        """
        fields = _Fields.read(der, host, port)
        return cls(
            host=host,
            port=port,
            sha256=sha256_fingerprint(der),
            subject=fields.subject,
            issuer=fields.issuer,
            not_before=fields.not_before,
            not_after=fields.not_after,
            pem=ssl.DER_cert_to_PEM_cert(der),
            dns_names=fields.dns_names,
            ip_addresses=fields.ip_addresses,
            common_name=fields.common_name,
            key=fields.key,
            signature_algorithm=fields.signature_algorithm,
            self_signed=fields.self_signed,
            is_ca=fields.is_ca,
            serial=fields.serial,
            chain=tuple(cls.from_der(host, port, c) for c in chain[:MAX_CHAIN]),
        )

    @classmethod
    def from_pem(cls, host: str, port: int, pem: str) -> CertificateInfo:
        """Describe a PEM certificate (raises ValueError when it is not PEM)."""
        return cls.from_der(host, port, ssl.PEM_cert_to_DER_cert(pem))

    @property
    def der(self) -> bytes:
        """The certificate's DER bytes."""
        return ssl.PEM_cert_to_DER_cert(self.pem)

    @property
    def names(self) -> tuple[str, ...]:
        """The names it is valid for: its alternative names, else (as TLS clients still
        accept) the subject's common name."""
        alternative = self.dns_names + self.ip_addresses
        if alternative:
            return alternative
        return (self.common_name,) if self.common_name else ()

    def is_valid_at(self, when: datetime) -> bool | None:
        """Whether ``when`` lies within the validity period; None when the dates are unknown."""
        if self.not_before is None or self.not_after is None:
            return None
        return self.not_before <= when <= self.not_after

    def valid_for(self, host: str) -> bool:
        """Whether ``host`` (a name or an address, as typed) is among the names it is valid for.

        The rules of TLS clients: an address matches an IP address entry only; a name matches a
        DNS entry ignoring case and a final dot, where ``*`` stands for exactly one whole
        leftmost label; the common name counts only when there are no alternative names.
        """
        host = host.strip().rstrip(".").lower()
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            address = None
        if address is not None:
            return any(_same_address(address, ip) for ip in self.ip_addresses)
        patterns = self.dns_names if (self.dns_names or self.ip_addresses) else self.names
        return any(_name_matches(pattern, host) for pattern in patterns)

    def issued(self, other: CertificateInfo) -> bool:
        """Whether this certificate's key signed ``other`` (and its issuer names this one)."""
        try:
            child = x509.load_der_x509_certificate(other.der)
            child.verify_directly_issued_by(x509.load_der_x509_certificate(self.der))
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            return False
        return True


def sha256_fingerprint(der: bytes) -> str:
    """Return ``"AB:CD:…"``: SHA-256 of ``der``, uppercase hex pairs separated by colons."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def _same_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address, text: str) -> bool:
    try:
        return ipaddress.ip_address(text) == address
    except ValueError:
        return False


def _name_matches(pattern: str, host: str) -> bool:
    pattern = pattern.strip().rstrip(".").lower()
    if not pattern or not host:
        return False
    if not pattern.startswith("*."):
        return pattern == host
    rest = pattern[2:]
    label, dot, tail = host.partition(".")
    return bool(label) and bool(dot) and tail == rest and "*" not in rest and "." in rest


@dataclass(frozen=True)
class _Fields:
    subject: str = UNREADABLE
    issuer: str = UNREADABLE
    not_before: datetime | None = None
    not_after: datetime | None = None
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    common_name: str = ""
    key: str = UNREADABLE
    signature_algorithm: str = UNREADABLE
    self_signed: bool = False
    is_ca: bool = False
    serial: str = ""

    @classmethod
    def read(cls, der: bytes, host: str, port: int) -> _Fields:
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError as exc:
            log.warning("Could not read the certificate of %s:%s: %s", host, port, exc)
            return cls()

        def get(what: str, read: Callable[[x509.Certificate], _T], default: _T) -> _T:
            # cryptography parses lazily: one odd field must not hide the others.
            try:
                return read(cert)
            except (ValueError, TypeError, UnsupportedAlgorithm, x509.DuplicateExtension) as exc:
                log.warning("Could not read the %s of the certificate of %s:%s: %s",
                            what, host, port, exc)  # fmt: skip
                return default

        return cls(
            subject=get("subject", lambda c: _name(c.subject), UNREADABLE),
            issuer=get("issuer", lambda c: _name(c.issuer), UNREADABLE),
            not_before=get("start of validity", lambda c: c.not_valid_before_utc, None),
            not_after=get("end of validity", lambda c: c.not_valid_after_utc, None),
            dns_names=get("DNS names", _dns_names, ()),
            ip_addresses=get("IP addresses", _ip_addresses, ()),
            common_name=get("common name", _common_name, ""),
            key=get("key", _key, UNREADABLE),
            signature_algorithm=get("signature algorithm", _signature, UNREADABLE),
            self_signed=get("signature", _self_signed, False),
            is_ca=get("basic constraints", _is_ca, False),
            serial=get("serial number", lambda c: f"{c.serial_number:X}", ""),
        )


def _name(name: x509.Name) -> str:
    # In the certificate's own order (most significant first, as OpenSSL's one-line form).
    return ", ".join(rdn.rfc4514_string(_NAME_OVERRIDES) for rdn in name.rdns)


def _alternative(cert: x509.Certificate) -> x509.SubjectAlternativeName | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def _dns_names(cert: x509.Certificate) -> tuple[str, ...]:
    alt = _alternative(cert)
    return tuple(alt.get_values_for_type(x509.DNSName)) if alt is not None else ()


def _ip_addresses(cert: x509.Certificate) -> tuple[str, ...]:
    alt = _alternative(cert)
    return tuple(str(ip) for ip in alt.get_values_for_type(x509.IPAddress)) if alt else ()


def _common_name(cert: x509.Certificate) -> str:
    found = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = found[0].value if found else ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _key(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size} bits"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {_CURVES.get(key.curve.name, key.curve.name)}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size} bits"
    return type(key).__name__


def _signature(cert: x509.Certificate) -> str:
    oid = cert.signature_algorithm_oid
    return _SIGNATURES.get(oid, oid.dotted_string)


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False
