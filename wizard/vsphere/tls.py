"""TLS to vCenter: the OS trust store first, then trust-on-first-use with pinned certificates.

The flow (PLATFORM-NOTES.md, "Trust-on-first-use that held"):

1. :meth:`TrustPolicy.ssl_context_for` gives a context that verifies: the pinned certificate
   alone when this host:port has a pin, otherwise the OS trust store (``truststore``, hostname
   checked), so a vCenter whose CA the company deployed is trusted like in a browser.
2. When the handshake fails verification, :meth:`TrustPolicy.context_after_verify_failure` reads
   the presented certificate (:func:`fetch_certificate`) and decides: a pin that differs raises
   :class:`~wizard.vsphere.errors.CertificateChanged`; a certificate the technician trusted once
   in this process, or whose fingerprint the CLI was given, gets a context that trusts exactly
   that certificate; anything else raises :class:`~wizard.vsphere.errors.CertificateUntrusted`
   so the caller can ask ("trust once" -> :meth:`TrustPolicy.trust_once`, "always trust" ->
   :meth:`TrustPolicy.pin`) and connect again.

There is never a silent unverified context. pyVmomi's ``thumbprint=``/``serverPemCert=`` are not
used: in 9.1.1 they switch the caller's context to ``CERT_NONE`` in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import truststore

from wizard import paths
from wizard.vsphere.errors import (
    CertificateChanged,
    CertificateUntrusted,
    FingerprintMismatch,
    PinStoreUnreadable,
)

log = logging.getLogger(__name__)

PIN_FILE_NAME = "pinned-certificates.json"
_PIN_FILE_FORMAT = 1


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


def normalize_fingerprint(text: str) -> str:
    """Bring a typed or pasted SHA-256 fingerprint to the ``"AB:CD:…"`` form.

    Colons, blanks and case are ignored, so ``openssl``'s and govc's forms are both accepted.

    Raises:
        ValueError: it is not 64 hexadecimal digits (e.g. a SHA-1 thumbprint of 40).
    """
    digits = "".join(ch for ch in text if ch not in ": \t-").upper()
    if len(digits) != 64 or any(ch not in "0123456789ABCDEF" for ch in digits):
        raise ValueError(
            "A SHA-256 fingerprint is 64 hexadecimal digits (32 pairs such as AB:CD:…); "
            f"got {len(digits)} characters. A 40-digit value is an older SHA-1 thumbprint."
        )
    return ":".join(digits[i : i + 2] for i in range(0, 64, 2))


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


def fetch_certificate(host: str, port: int, timeout: float) -> CertificateInfo:
    """Read the certificate a server presents, without verifying it, to show it to the technician.

    This is the ONLY place in the product that talks to a server without verifying its
    certificate, and it only reads the certificate: the connection is closed right after the
    handshake, nothing is sent over it, and no credential ever goes near it.

    Raises:
        OSError: the server cannot be reached (``socket.gaierror``, ``ConnectionRefusedError``,
            ``TimeoutError``), or the TLS handshake fails.
    """
    # ssl.get_server_certificate() reads the peer certificate without verification (its own
    # internal context); it is a public stdlib API, so we never build a CERT_NONE context ourselves.
    pem = ssl.get_server_certificate((host, port), timeout=timeout)
    return CertificateInfo.from_der(host, port, ssl.PEM_cert_to_DER_cert(pem))


def pinned_context(pem: str) -> ssl.SSLContext:
    """A context that trusts exactly this one certificate, whatever its issuer or host name.

    The certificate's own validity dates are still checked.
    """
    ctx = ssl.create_default_context(cadata=pem)  # cadata alone: the OS store is not loaded
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # the leaf itself is the trust anchor
    # Python 3.13 adds VERIFY_X509_STRICT by default, which refuses many self-signed vCenter
    # certificates; with one exact certificate trusted, strict checks add nothing.
    ctx.verify_flags &= ~ssl.VERIFY_X509_STRICT
    ctx.check_hostname = False  # the pin is the identity; vCenters are often reached by IP
    return ctx


def os_store_context() -> ssl.SSLContext:
    """A context that verifies against the operating system's trust store, host name checked."""
    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class PinStore(Protocol):
    """Where certificates the technician chose to always trust are kept, per host and port."""

    def get(self, host: str, port: int) -> CertificateInfo | None:
        """The pinned certificate for host:port, or None."""

    def put(self, info: CertificateInfo) -> None:
        """Pin ``info`` for its host:port, replacing any earlier pin."""

    def remove(self, host: str, port: int) -> None:
        """Forget the pin for host:port (nothing happens if there is none)."""


def _pin_key(host: str, port: int) -> str:
    host = host.strip().lower()
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class PinnedEntry:
    """One pin as the Settings dialog lists it (read from the file, the PEM not parsed).

    Attributes:
        host: the host name or address (IPv6 without brackets).
        port: the TCP port.
        sha256: the pinned fingerprint as stored.
        not_after: end of validity, or None when not recorded or unreadable.
    """

    host: str
    port: int
    sha256: str
    not_after: datetime | None


def _split_pin_key(key: str) -> tuple[str, int] | None:
    host, sep, port = key.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.removeprefix("[").removesuffix("]"), int(port)


class JsonPinStore:
    """Pinned certificates in a JSON file: host:port -> fingerprint, PEM, names and validity.

    Nothing in it is secret. Every change rewrites the file atomically (a temporary file in the
    same folder, flushed, then renamed over the old one), so a crash never leaves half a file.
    """

    def __init__(self, path: Path | None = None) -> None:
        """Use ``path``, by default ``pinned-certificates.json`` in the product's data folder."""
        self.path = path if path is not None else paths.data_dir() / PIN_FILE_NAME

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise PinStoreUnreadable(self.path, str(exc)) from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise PinStoreUnreadable(self.path, f"not valid JSON ({exc})") from exc
        except RecursionError as exc:  # "[[[[…" thousands deep
            raise PinStoreUnreadable(self.path, "nested too deeply to read") from exc
        if not isinstance(data, dict) or not isinstance(data.get("pins"), dict):
            raise PinStoreUnreadable(self.path, 'no "pins" object')
        pins: dict[str, dict[str, Any]] = data["pins"]
        return pins

    def _save(self, pins: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"format": _PIN_FILE_FORMAT, "pins": pins}, indent=2, sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=".pins-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(payload + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def get(self, host: str, port: int) -> CertificateInfo | None:
        """The pinned certificate for host:port, or None.

        Raises:
            PinStoreUnreadable: the file exists but cannot be read or is damaged.
        """
        entry = self._load().get(_pin_key(host, port))
        if entry is None:
            return None
        try:
            pem = entry["pem"]
            info = CertificateInfo.from_der(host, port, ssl.PEM_cert_to_DER_cert(pem))
        except (KeyError, TypeError, ValueError) as exc:
            raise PinStoreUnreadable(
                self.path, f"the entry for {_pin_key(host, port)} is damaged"
            ) from exc
        if info.sha256 != entry.get("sha256"):
            raise PinStoreUnreadable(
                self.path, f"the entry for {_pin_key(host, port)} does not match its fingerprint"
            )
        return info

    def put(self, info: CertificateInfo) -> None:
        """Pin ``info`` for its host:port, replacing any earlier pin."""
        pins = self._load()
        pins[_pin_key(info.host, info.port)] = {
            "sha256": info.sha256,
            "pem": info.pem,
            "subject": info.subject,
            "issuer": info.issuer,
            "not_before": info.not_before.isoformat() if info.not_before else None,
            "not_after": info.not_after.isoformat() if info.not_after else None,
        }
        self._save(pins)
        log.info("Pinned the certificate %s for %s:%s", info.sha256, info.host, info.port)

    def entries(self) -> list[PinnedEntry]:
        """Every pin, sorted by host:port; a damaged entry is listed too, so it can be removed.

        Raises:
            PinStoreUnreadable: the file exists but cannot be read or is damaged.
        """
        out: list[PinnedEntry] = []
        for key, entry in sorted(self._load().items()):
            where = _split_pin_key(key)
            if where is None:
                continue
            fields = entry if isinstance(entry, dict) else {}
            sha256 = fields.get("sha256")
            raw = fields.get("not_after")
            not_after: datetime | None = None
            if isinstance(raw, str):
                with contextlib.suppress(ValueError):
                    not_after = datetime.fromisoformat(raw)
            out.append(PinnedEntry(where[0], where[1], str(sha256 or "(damaged)"), not_after))
        return out

    def remove(self, host: str, port: int) -> None:
        """Forget the pin for host:port (nothing happens if there is none)."""
        pins = self._load()
        if pins.pop(_pin_key(host, port), None) is not None:
            self._save(pins)
            log.info("Removed the pinned certificate for %s:%s", host, port)


class MemoryPinStore:
    """A pin store that forgets everything when the process ends (tests, the self-test)."""

    def __init__(self) -> None:
        """Start empty."""
        self._pins: dict[str, CertificateInfo] = {}

    def get(self, host: str, port: int) -> CertificateInfo | None:
        """The pinned certificate for host:port, or None."""
        return self._pins.get(_pin_key(host, port))

    def put(self, info: CertificateInfo) -> None:
        """Pin ``info`` for its host:port."""
        self._pins[_pin_key(info.host, info.port)] = info

    def remove(self, host: str, port: int) -> None:
        """Forget the pin for host:port."""
        self._pins.pop(_pin_key(host, port), None)


@dataclass
class TrustPolicy:
    """Which server certificates this process accepts, and how it decides.

    Attributes:
        pins: certificates the technician chose to always trust.
        trusted_once: SHA-256 fingerprints trusted for this process only ("trust once").
        expected_fingerprint: a fingerprint given on the command line (``--trust-fingerprint``):
            a certificate with exactly this fingerprint is accepted without asking.
    """

    pins: PinStore
    trusted_once: set[str] = field(default_factory=set)
    expected_fingerprint: str | None = None

    def __post_init__(self) -> None:
        """Normalise the expected fingerprint (raises ValueError when it is malformed)."""
        if self.expected_fingerprint is not None:
            self.expected_fingerprint = normalize_fingerprint(self.expected_fingerprint)

    def ssl_context_for(self, host: str, port: int) -> ssl.SSLContext:
        """The context for a first attempt: the pinned certificate, else the OS trust store."""
        pinned = self.pins.get(host, port)
        if pinned is not None:
            return pinned_context(pinned.pem)
        return os_store_context()

    def trust_once(self, info: CertificateInfo) -> None:
        """Accept this exact certificate until the process ends, without storing it."""
        self.trusted_once.add(info.sha256)

    def pin(self, info: CertificateInfo) -> None:
        """Accept this exact certificate for its host:port from now on (stored)."""
        self.pins.put(info)
        self.trusted_once.add(info.sha256)

    def context_after_verify_failure(
        self, host: str, port: int, timeout: float, error: ssl.SSLCertVerificationError
    ) -> ssl.SSLContext:
        """Decide what to do after the server's certificate failed verification.

        Returns:
            A context trusting exactly the presented certificate, when the technician trusted it
            once in this process or the command line named its fingerprint.

        Raises:
            CertificateChanged: a pin exists for host:port and the server presents another
                certificate.
            FingerprintMismatch: an expected fingerprint was given and the presented
                certificate has another one (both are in the error).
            CertificateUntrusted: the technician has to decide (the presented certificate is in
                the error); also when a pinned certificate itself no longer verifies (e.g. it
                expired), with the reason.
            OSError: the certificate could not be read.
        """
        reason = error.verify_message or str(error)
        presented = fetch_certificate(host, port, timeout)
        pinned = self.pins.get(host, port)
        if pinned is not None and pinned.sha256 != presented.sha256:
            log.warning(
                "Certificate of %s:%s changed: pinned %s, presented %s",
                host,
                port,
                pinned.sha256,
                presented.sha256,
            )
            raise CertificateChanged(pinned, presented)
        if pinned is not None:
            # The pinned certificate itself failed (expired, or not yet valid): ask again.
            raise CertificateUntrusted(presented, reason=reason)
        if presented.sha256 in self.trusted_once or presented.sha256 == self.expected_fingerprint:
            log.info("Using the certificate %s of %s:%s as trusted", presented.sha256, host, port)
            return pinned_context(presented.pem)
        if self.expected_fingerprint is not None:
            log.warning(
                "Certificate of %s:%s is %s, not the expected %s",
                host,
                port,
                presented.sha256,
                self.expected_fingerprint,
            )
            raise FingerprintMismatch(presented, self.expected_fingerprint, reason=reason)
        raise CertificateUntrusted(presented, reason=reason)
