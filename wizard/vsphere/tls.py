"""TLS to vCenter: the OS trust store first, then trust-on-first-use with pinned certificates.

The flow (trust on first use, then the certificate pinned per host and port):

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
import json
import logging
import os
import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import truststore

from wizard import paths
from wizard.vsphere.certificate import CertificateInfo
from wizard.vsphere.errors import (
    CertificateChanged,
    CertificateUntrusted,
    FingerprintMismatch,
    PinStoreUnreadable,
)

log = logging.getLogger(__name__)

PIN_FILE_NAME = "pinned-certificates.json"
_PIN_FILE_FORMAT = 1


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

    def identify(self, host: str, port: int, vcenter_id: str) -> None:
        """Note which vCenter (``about.instanceUuid``) the pin for host:port belongs to."""

    def of_vcenter(self, vcenter_id: str) -> list[CertificateInfo]:
        """The pins noted as belonging to that vCenter, under whatever name they were made."""


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

    def identify(self, host: str, port: int, vcenter_id: str) -> None:
        """Note which vCenter the pin for host:port belongs to (no pin: nothing to note)."""
        pins = self._load()
        entry = pins.get(_pin_key(host, port))
        if isinstance(entry, dict) and entry.get("vcenter_id") != vcenter_id:
            entry["vcenter_id"] = vcenter_id
            self._save(pins)

    def of_vcenter(self, vcenter_id: str) -> list[CertificateInfo]:
        """The pins noted as that vCenter's (damaged entries are skipped here)."""
        found = []
        for key, entry in sorted(self._load().items()):
            where = _split_pin_key(key)
            if where is None or not isinstance(entry, dict):
                continue
            if entry.get("vcenter_id") == vcenter_id:
                with contextlib.suppress(PinStoreUnreadable):
                    info = self.get(*where)
                    if info is not None:
                        found.append(info)
        return found

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
        self._vcenters: dict[str, str] = {}

    def get(self, host: str, port: int) -> CertificateInfo | None:
        """The pinned certificate for host:port, or None."""
        return self._pins.get(_pin_key(host, port))

    def put(self, info: CertificateInfo) -> None:
        """Pin ``info`` for its host:port."""
        self._pins[_pin_key(info.host, info.port)] = info

    def remove(self, host: str, port: int) -> None:
        """Forget the pin for host:port."""
        self._pins.pop(_pin_key(host, port), None)

    def identify(self, host: str, port: int, vcenter_id: str) -> None:
        """Note which vCenter the pin for host:port belongs to."""
        if _pin_key(host, port) in self._pins:
            self._vcenters[_pin_key(host, port)] = vcenter_id

    def of_vcenter(self, vcenter_id: str) -> list[CertificateInfo]:
        """The pins noted as that vCenter's."""
        return [self._pins[k] for k, v in self._vcenters.items() if v == vcenter_id]


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

    def check_identity(self, host: str, port: int, vcenter_id: str, timeout: float) -> None:
        """Before logging in: the same vCenter under another name must show the same certificate.

        A certificate is pinned per address, so ``127.0.0.1:443`` and ``vc01:443`` would each be
        trusted on their own, and a pin made for one name would protect nothing under the other.
        vCenter's own identity (``about.instanceUuid``, readable before login) ties them: when a
        pin of this vCenter under another name differs from the certificate presented here, the
        connection stops with the same warning as a changed pin, before any password is sent.

        Raises:
            CertificateChanged: another name of this vCenter is pinned with another certificate.
            OSError: the presented certificate could not be read.
        """
        others = [
            pin
            for pin in self.pins.of_vcenter(vcenter_id)
            if (pin.host.lower(), pin.port) != (host.lower(), port)
        ]
        if others:
            presented = fetch_certificate(host, port, timeout)
            for other in others:
                if other.sha256 != presented.sha256:
                    log.warning(
                        "vCenter %s shows %s at %s:%s but %s at %s:%s (pinned)",
                        vcenter_id,
                        presented.sha256,
                        host,
                        port,
                        other.sha256,
                        other.host,
                        other.port,
                    )
                    raise CertificateChanged(other, presented)
        if self.pins.get(host, port) is not None:
            self.pins.identify(host, port, vcenter_id)
