"""The certificate a server presented: its SHA-256 fingerprint and the fields people compare.

Pure and offline: it describes DER bytes someone else read (``wizard.vsphere.tls`` reads them
from the server and decides whether to trust them). The typed errors that carry a certificate
(``wizard.vsphere.errors``) and the trust policy both need this description, so it lives here,
below both, and neither has to import the other to name it.
"""

from __future__ import annotations

import hashlib
import logging
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CertificateInfo:
    """The leaf certificate a server presented, for the fingerprint dialog and the pin store.

    Attributes:
        host: the host name or address it was read from (IPv6 without brackets).
        port: the TCP port.
        sha256: SHA-256 of the DER bytes, uppercase hex pairs joined by ``:`` (the same as
            ``openssl x509 -fingerprint -sha256`` and the lab's ``thumbprint_sha256``).
        subject: the subject name, most significant part first, e.g. ``"CN=vc.corp.local, O=Corp"``;
            ``""`` when the certificate has none.
        issuer: the issuer name in the same form.
        not_before: start of validity (timezone-aware, UTC); None if it could not be read.
        not_after: end of validity (timezone-aware, UTC); None if it could not be read.
        pem: the certificate in PEM form.
    """

    host: str
    port: int
    sha256: str
    subject: str
    issuer: str
    not_before: datetime | None
    not_after: datetime | None
    pem: str

    @classmethod
    def from_der(cls, host: str, port: int, der: bytes) -> CertificateInfo:
        """Describe a DER certificate. Fields that cannot be parsed are shown as unreadable.

        The fingerprint never depends on parsing: it is the hash of the bytes presented.
        """
        try:
            fields = parse_certificate_fields(der)
        except ValueError as exc:
            log.warning(
                "Could not read the fields of the certificate of %s:%s: %s", host, port, exc
            )
            fields = CertificateFields("(unreadable)", "(unreadable)", None, None)
        return cls(
            host=host,
            port=port,
            sha256=sha256_fingerprint(der),
            subject=fields.subject,
            issuer=fields.issuer,
            not_before=fields.not_before,
            not_after=fields.not_after,
            pem=ssl.DER_cert_to_PEM_cert(der),
        )

    @property
    def der(self) -> bytes:
        """The certificate's DER bytes."""
        return ssl.PEM_cert_to_DER_cert(self.pem)

    def is_valid_at(self, when: datetime) -> bool | None:
        """Whether ``when`` lies within the validity period; None when the dates are unknown."""
        if self.not_before is None or self.not_after is None:
            return None
        return self.not_before <= when <= self.not_after


def sha256_fingerprint(der: bytes) -> str:
    """Return ``"AB:CD:…"``: SHA-256 of ``der``, uppercase hex pairs separated by colons."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


# --- A small DER reader for the few certificate fields we show --------------------------------
# The `cryptography` package is not a dependency and the stdlib only decodes a certificate it has
# verified (`getpeercert()`), so the subject, issuer and validity are read here from the DER bytes.

_OID_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.42": "GN",
    "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
}

_TAG_SEQUENCE = 0x30
_TAG_SET = 0x31
_TAG_INTEGER = 0x02
_TAG_OID = 0x06
_TAG_UTC_TIME = 0x17
_TAG_GENERALIZED_TIME = 0x18
_TAG_EXPLICIT_0 = 0xA0
_STRING_CODECS = {
    0x0C: "utf-8",  # UTF8String
    0x12: "ascii",  # NumericString
    0x13: "ascii",  # PrintableString
    0x14: "latin-1",  # TeletexString: in practice Latin-1
    0x16: "ascii",  # IA5String
    0x1A: "ascii",  # VisibleString
    0x1C: "utf-32-be",  # UniversalString
    0x1E: "utf-16-be",  # BMPString
}


@dataclass(frozen=True)
class CertificateFields:
    """The certificate fields the fingerprint dialog shows."""

    subject: str
    issuer: str
    not_before: datetime | None
    not_after: datetime | None


def _read_tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """Read one DER element at ``pos``: return (tag, start of content, end of content)."""
    if pos + 2 > len(data):
        raise ValueError(f"truncated element at byte {pos}")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError(f"multi-byte tag at byte {pos} is not used in certificates")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0:
            raise ValueError("indefinite length is not allowed in DER")
        if count > 4 or pos + count > len(data):
            raise ValueError(f"bad length at byte {pos - 1}")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise ValueError(f"element at byte {pos} runs past the end")
    return tag, pos, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    pos = start
    while pos < end:
        tag, cstart, cend = _read_tlv(data, pos)
        if cend > end:
            raise ValueError("element runs past its parent")
        out.append((tag, cstart, cend))
        pos = cend
    return out


def _expect(element: tuple[int, int, int], tag: int, what: str) -> tuple[int, int, int]:
    if element[0] != tag:
        raise ValueError(f"{what}: expected tag 0x{tag:02x}, found 0x{element[0]:02x}")
    return element


def _decode_oid(raw: bytes) -> str:
    if not raw:
        raise ValueError("empty object identifier")
    arcs: list[int] = []
    value = 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if raw[-1] & 0x80:
        raise ValueError("truncated object identifier")
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


def _escape_rdn_value(value: str) -> str:
    # RFC 4514 escaping, so "O=Smith, Jones" stays one attribute.
    out = "".join("\\" + ch if ch in ',+"\\<>;=' else ch for ch in value)
    if out.startswith((" ", "#")):
        out = "\\" + out
    if out.endswith(" ") and not out.endswith("\\ "):
        out = out[:-1] + "\\ "
    return out


def _decode_name(data: bytes, element: tuple[int, int, int]) -> str:
    _expect(element, _TAG_SEQUENCE, "name")
    rdns: list[str] = []
    for rdn in _children(data, element[1], element[2]):
        _expect(rdn, _TAG_SET, "relative distinguished name")
        parts: list[str] = []
        for atv in _children(data, rdn[1], rdn[2]):
            _expect(atv, _TAG_SEQUENCE, "attribute")
            items = _children(data, atv[1], atv[2])
            if len(items) != 2:
                raise ValueError("attribute is not a type and a value")
            oid = _decode_oid(data[_expect(items[0], _TAG_OID, "attribute type")[1] : items[0][2]])
            vtag, vstart, vend = items[1]
            codec = _STRING_CODECS.get(vtag)
            if codec is None:
                text = "#" + data[vstart:vend].hex()
            else:
                try:
                    text = _escape_rdn_value(data[vstart:vend].decode(codec))
                except UnicodeDecodeError as exc:
                    raise ValueError(f"undecodable {oid} value") from exc
            parts.append(f"{_OID_NAMES.get(oid, oid)}={text}")
        rdns.append("+".join(parts))
    return ", ".join(rdns)


def _decode_time(data: bytes, element: tuple[int, int, int]) -> datetime:
    tag, start, end = element
    text = data[start:end].decode("ascii", errors="replace")
    if not text.endswith("Z"):
        raise ValueError(f"time {text!r} is not in UTC")
    body = text[:-1].split(".")[0]  # fractions of a second do not matter here
    try:
        if tag == _TAG_UTC_TIME and len(body) == 12:
            year = int(body[:2])
            # RFC 5280: YY >= 50 is 19YY, below 50 is 20YY.
            parsed = datetime.strptime(("19" if year >= 50 else "20") + body, "%Y%m%d%H%M%S")
        elif tag == _TAG_GENERALIZED_TIME and len(body) == 14:
            parsed = datetime.strptime(body, "%Y%m%d%H%M%S")
        else:
            raise ValueError(f"unexpected time {text!r}")
    except ValueError as exc:
        raise ValueError(f"unreadable time {text!r}") from exc
    return parsed.replace(tzinfo=UTC)


def parse_certificate_fields(der: bytes) -> CertificateFields:
    """Read subject, issuer and validity from an X.509 certificate in DER form.

    Raises:
        ValueError: the bytes are not a certificate this reader understands.
    """
    top = _read_tlv(der, 0)
    _expect(top, _TAG_SEQUENCE, "certificate")
    cert = _children(der, top[1], top[2])
    if not cert:
        raise ValueError("empty certificate")
    tbs = _expect(cert[0], _TAG_SEQUENCE, "to-be-signed certificate")
    items = _children(der, tbs[1], tbs[2])
    if items and items[0][0] == _TAG_EXPLICIT_0:  # version, absent for v1 certificates
        items = items[1:]
    if len(items) < 5:
        raise ValueError("certificate has too few fields")
    _expect(items[0], _TAG_INTEGER, "serial number")
    issuer = _decode_name(der, items[2])
    validity = _children(der, *_expect(items[3], _TAG_SEQUENCE, "validity")[1:])
    if len(validity) != 2:
        raise ValueError("validity is not two times")
    subject = _decode_name(der, items[4])
    return CertificateFields(
        subject=subject,
        issuer=issuer,
        not_before=_decode_time(der, validity[0]),
        not_after=_decode_time(der, validity[1]),
    )
