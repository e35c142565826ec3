"""TLS to vCenter: the OS trust store, a vCenter's own authority, or a pinned certificate.

The flow (trust on first use; then the certificate, or the authority that issues it, kept per
host and port):

1. :meth:`TrustPolicy.ssl_context_for` gives a context that verifies: the pinned certificate
   alone when this host:port has a pin; else the authority trusted for this host:port alone
   (host name checked); otherwise the OS trust store (``truststore``, host name checked), so a
   vCenter whose authority the company deployed is trusted like in a browser. Before it, when
   a fingerprint is trusted already (given on the command line, or trusted once) and nothing
   is pinned for this host:port, :meth:`TrustPolicy.known_context` reads the certificate and,
   when it has that fingerprint, trusts exactly it (what step 2 would decide, sooner).
2. When the handshake fails verification, :meth:`TrustPolicy.context_after_verify_failure` reads
   the presented certificate and the chain sent with it (:func:`fetch_certificate`) and
   decides: a pin that differs, or a certificate the trusted authority did not issue, raises
   :class:`~wizard.vsphere.errors.CertificateChanged`; a certificate the technician trusted
   once in this process, or whose fingerprint (or whose authority's fingerprint) the command
   line was given, gets a context that trusts exactly that; anything else raises
   :class:`~wizard.vsphere.errors.CertificateUntrusted` so the caller can ask ("trust once" ->
   :meth:`TrustPolicy.trust_once`, "always trust" -> :meth:`TrustPolicy.pin`, "trust this
   vCenter's authority" -> :func:`fetch_authority`, shown, then
   :meth:`TrustPolicy.trust_authority`) and connect again.

An authority is trusted for one host:port (and, once connected, for the vCenter identity seen
there): it never vouches for another name or another vCenter. Its certificates are accepted
only for the names they are issued for, so a renewed vCenter certificate passes without a
question while an ESXi host's certificate from the same authority does not pass as vCenter.

There is never a silent unverified context: the only unverified handshake reads certificates to
show them (:func:`fetch_certificate`, or :func:`fetch_certificate_der` where only the fingerprint is
needed) and sends nothing. pyVmomi's ``thumbprint=``/
``serverPemCert=`` are not used: in 9.1.1 they switch the caller's context to ``CERT_NONE`` in
place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import ssl
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from wizard import paths
from wizard.vsphere.errors import (
    AuthorityChanged,
    AuthorityMismatch,
    AuthorityUnavailable,
    CertificateChanged,
    CertificateUntrusted,
    FingerprintMismatch,
    PinStoreUnreadable,
)

if TYPE_CHECKING:
    from wizard.vsphere.certificate import CertificateInfo

# The certificate reader (``cryptography``) and the OS trust store (``truststore``) are imported
# where they are used: a command line that connects sends its first request before the rest of
# what it needs is loaded (see wizard.vsphere.opening), and a certificate trusted by its
# fingerprint needs neither of them before then.

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
    """Read the certificate a server presents, and the chain it sends, to show them.

    This is the ONLY place in the product that talks to a server without verifying its
    certificate, and it only reads certificates: the connection is closed right after the
    handshake, nothing is sent over it, and no credential ever goes near it.

    Raises:
        OSError: the server cannot be reached (``socket.gaierror``, ``ConnectionRefusedError``,
            ``TimeoutError``), or the TLS handshake fails.
    """
    from wizard.vsphere.certificate import CertificateInfo

    leaf, rest = fetch_certificate_der(host, port, timeout)
    return CertificateInfo.from_der(host, port, leaf, rest)


def fetch_certificate_der(host: str, port: int, timeout: float) -> tuple[bytes, list[bytes]]:
    """What :func:`fetch_certificate` reads, as it reads it, left in DER: the certificate the
    server presents and the others it sends. Its fingerprint needs no parsing (nor the
    ``cryptography`` package loaded)."""
    reader = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    reader.check_hostname = False  # nothing is trusted here: the certificates are only read
    reader.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        reader.wrap_socket(raw, server_hostname=host) as tls,
    ):
        leaf = tls.getpeercert(binary_form=True)
        sent = _chain_sent(tls)
    if not leaf:
        raise ssl.SSLError(f"{host}:{port} presented no certificate")
    return leaf, sent[1:] if sent and sent[0] == leaf else sent


def _chain_sent(tls: ssl.SSLSocket) -> list[bytes]:
    """The certificates the server sent, as it sent them (its own first), in DER.

    Python 3.13 has ``SSLSocket.get_unverified_chain()``; 3.10 to 3.12 have the same call on
    the socket's ``_sslobj`` (returning certificate objects); anything older or different
    gives only the server's own certificate, which is then all that is shown.
    """
    public: Any = getattr(tls, "get_unverified_chain", None)
    inner: Any = getattr(getattr(tls, "_sslobj", None), "get_unverified_chain", None)
    try:
        if public is not None:
            return [bytes(c) for c in public() or ()]
        if inner is not None:
            der: int = getattr(ssl, "_ssl").ENCODING_DER  # noqa: B009 (private module)
            return [bytes(c.public_bytes(der)) for c in inner() or ()]
    except (AttributeError, TypeError, ValueError, ssl.SSLError) as exc:
        log.info("The chain the server sent could not be read: %s", exc)
    return []


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
    import truststore

    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def authority_context(pem: str) -> ssl.SSLContext:
    """A context that trusts certificates this one authority issued, for the name connected to.

    Neither the OS store nor any other authority is loaded, and the host name is checked: the
    authority of a vCenter also issues its ESXi hosts' certificates, which must not pass as the
    vCenter's. Validity dates are checked as always.
    """
    ctx = ssl.create_default_context(cadata=pem)  # cadata alone: the OS store is not loaded
    # The authority may be a subordinate one (VMCA under the company's authority): it is the
    # anchor all the same.
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    # As in pinned_context: Python 3.13's strict checks refuse certificates older vCenters
    # issue; the authority is exactly the one the technician chose.
    ctx.verify_flags &= ~ssl.VERIFY_X509_STRICT
    return ctx


def fetch_authority(presented: CertificateInfo, timeout: float) -> CertificateInfo:
    """The authority, among those the server offers, that issued the certificate it presented.

    ``/certs/download.zip`` is fetched over a connection that trusts exactly ``presented`` (the
    certificate the technician was shown), read in memory with limits
    (:mod:`wizard.vsphere.authority`), and the path from ``presented`` is followed by signature.
    Nothing is trusted or saved here: the caller shows the result and asks.

    Raises:
        AuthorityUnavailable: the server offers none, the file is refused, none of its
            certificates issued ``presented``, or the server presented another certificate
            meanwhile.
    """
    from wizard.vsphere import authority as _authority

    endpoint = _pin_key(presented.host, presented.port)
    try:
        data = _authority.download(presented, timeout, pinned_context(presented.pem))
    except ssl.SSLCertVerificationError as exc:
        raise AuthorityUnavailable(
            endpoint,
            "it presented another certificate than the one shown while its authority was being "
            "fetched; connect again and compare the new fingerprint",
        ) from exc
    offered = _authority.read_zip(data, endpoint)
    found = _authority.issuing_authority(presented, offered.certificates)
    if found is None:
        raise AuthorityUnavailable(
            endpoint,
            f"none of the {len(offered.certificates)} certificates in its download.zip issued "
            f"the certificate it presented (issuer: {presented.issuer or 'no name'})",
        )
    log.info(
        "Authority of %s: %s (%s), offered among %d",
        endpoint,
        found.sha256,
        found.subject,
        len(offered.certificates),
    )
    return found


def issued_by(presented: CertificateInfo, authority: CertificateInfo) -> bool:
    """Whether ``presented`` is ``authority`` or its path (through the chain sent) leads to it."""
    if presented.sha256 == authority.sha256:
        return True
    from wizard.vsphere import authority as _authority

    return _authority.issuing_authority(presented, (authority.der,)) is not None


class PinStore(Protocol):
    """Where the technician's lasting trust is kept, per host and port: certificates ("always
    trust") and vCenters' own authorities ("trust this vCenter's authority")."""

    def get(self, host: str, port: int) -> CertificateInfo | None:
        """The pinned certificate for host:port, or None."""

    def put(self, info: CertificateInfo) -> None:
        """Pin ``info`` for its host:port, replacing any earlier pin or authority there."""

    def authority(self, host: str, port: int) -> TrustedAuthority | None:
        """The authority trusted for host:port, or None."""

    def put_authority(self, certificate: CertificateInfo) -> None:
        """Trust this authority for its host:port, replacing any earlier pin or authority."""

    def remove(self, host: str, port: int) -> None:
        """Forget the pin and the authority for host:port (nothing happens if there is none)."""

    def identify(self, host: str, port: int, vcenter_id: str) -> None:
        """Note which vCenter (``about.instanceUuid``) the trust for host:port belongs to."""

    def of_vcenter(self, vcenter_id: str) -> list[CertificateInfo]:
        """The pins noted as belonging to that vCenter, under whatever name they were made."""

    def authorities_of(self, vcenter_id: str) -> list[TrustedAuthority]:
        """The authorities noted as that vCenter's, under whatever name they were trusted."""

    def identified(self) -> set[str]:
        """The addresses (``host:port``, lower case, IPv6 in brackets) whose pin or authority
        is noted as some vCenter's."""


@dataclass(frozen=True)
class TrustedAuthority:
    """An authority trusted for one vCenter.

    Attributes:
        certificate: its certificate; ``host`` and ``port`` are the vCenter's it is trusted for.
        vcenter_id: the identity (``about.instanceUuid``) of the vCenter seen there through it,
            ``""`` until the first connection.
    """

    certificate: CertificateInfo
    vcenter_id: str = ""


def _pin_key(host: str, port: int) -> str:
    host = host.strip().lower()
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class PinnedEntry:
    """One pin or authority as the Settings dialog lists it (read from the file, not parsed).

    Attributes:
        host: the host name or address (IPv6 without brackets).
        port: the TCP port.
        sha256: the fingerprint as stored.
        not_after: end of validity, or None when not recorded or unreadable.
        kind: ``"certificate"`` (a pinned certificate) or ``"authority"`` (the vCenter's
            authority, trusted for this host:port).
    """

    host: str
    port: int
    sha256: str
    not_after: datetime | None
    kind: str = "certificate"


def _split_pin_key(key: str) -> tuple[str, int] | None:
    host, sep, port = key.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.removeprefix("[").removesuffix("]"), int(port)


_PINS = "pins"
_AUTHORITIES = "authorities"


class JsonPinStore:
    """Lasting trust in a JSON file: per host:port, a pinned certificate or an authority (each
    its fingerprint, PEM, names, validity and, once seen, the vCenter's identity).

    Nothing in it is secret. Every change rewrites the file atomically (a temporary file in the
    same folder, flushed, then renamed over the old one), so a crash never leaves half a file.
    """

    def __init__(self, path: Path | None = None) -> None:
        """Use ``path``, by default ``pinned-certificates.json`` in the product's data folder."""
        self.path = path if path is not None else paths.data_dir() / PIN_FILE_NAME

    def _load(self) -> dict[str, dict[str, dict[str, Any]]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {_PINS: {}, _AUTHORITIES: {}}
        except OSError as exc:
            raise PinStoreUnreadable(self.path, str(exc)) from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise PinStoreUnreadable(self.path, f"not valid JSON ({exc})") from exc
        except RecursionError as exc:  # "[[[[…" thousands deep
            raise PinStoreUnreadable(self.path, "nested too deeply to read") from exc
        if not isinstance(data, dict) or not isinstance(data.get(_PINS), dict):
            raise PinStoreUnreadable(self.path, 'no "pins" object')
        authorities = data.get(_AUTHORITIES, {})  # absent in files written before authorities
        if not isinstance(authorities, dict):
            raise PinStoreUnreadable(self.path, 'the "authorities" entry is not an object')
        return {_PINS: data[_PINS], _AUTHORITIES: authorities}

    def _save(self, doc: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(
            {"format": _PIN_FILE_FORMAT, _PINS: doc[_PINS], _AUTHORITIES: doc[_AUTHORITIES]},
            indent=2,
            sort_keys=True,
        )
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

    def _read(self, section: str, key: str, entry: Any) -> CertificateInfo:
        from wizard.vsphere.certificate import CertificateInfo

        host, port = _split_pin_key(key) or ("", 0)
        what = "authority" if section == _AUTHORITIES else "entry"
        try:
            info = CertificateInfo.from_pem(host, port, entry["pem"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PinStoreUnreadable(self.path, f"the {what} for {key} is damaged") from exc
        if info.sha256 != entry.get("sha256"):
            raise PinStoreUnreadable(
                self.path, f"the {what} for {key} does not match its fingerprint"
            )
        return info

    @staticmethod
    def _record(info: CertificateInfo) -> dict[str, Any]:
        return {
            "sha256": info.sha256,
            "pem": info.pem,
            "subject": info.subject,
            "issuer": info.issuer,
            "not_before": info.not_before.isoformat() if info.not_before else None,
            "not_after": info.not_after.isoformat() if info.not_after else None,
        }

    def get(self, host: str, port: int) -> CertificateInfo | None:
        """The pinned certificate for host:port, or None.

        Raises:
            PinStoreUnreadable: the file exists but cannot be read or is damaged.
        """
        key = _pin_key(host, port)
        entry = self._load()[_PINS].get(key)
        if entry is None:
            return None
        return replace(self._read(_PINS, key, entry), host=host, port=port)

    def put(self, info: CertificateInfo) -> None:
        """Pin ``info`` for its host:port, replacing any earlier pin or authority there."""
        doc = self._load()
        key = _pin_key(info.host, info.port)
        doc[_PINS][key] = self._record(info)
        doc[_AUTHORITIES].pop(key, None)
        self._save(doc)
        log.info("Pinned the certificate %s for %s:%s", info.sha256, info.host, info.port)

    def authority(self, host: str, port: int) -> TrustedAuthority | None:
        """The authority trusted for host:port, or None.

        Raises:
            PinStoreUnreadable: the file exists but cannot be read or is damaged.
        """
        key = _pin_key(host, port)
        entry = self._load()[_AUTHORITIES].get(key)
        if entry is None:
            return None
        info = replace(self._read(_AUTHORITIES, key, entry), host=host, port=port)
        vcenter_id = entry.get("vcenter_id") if isinstance(entry, dict) else None
        return TrustedAuthority(info, vcenter_id if isinstance(vcenter_id, str) else "")

    def put_authority(self, certificate: CertificateInfo) -> None:
        """Trust this authority for its host:port, replacing any earlier pin or authority."""
        doc = self._load()
        key = _pin_key(certificate.host, certificate.port)
        doc[_AUTHORITIES][key] = self._record(certificate)
        doc[_PINS].pop(key, None)
        self._save(doc)
        log.info(
            "Trusted the authority %s (%s) for %s:%s",
            certificate.sha256,
            certificate.subject,
            certificate.host,
            certificate.port,
        )

    def entries(self) -> list[PinnedEntry]:
        """Every pin and authority, sorted by host:port; a damaged entry is listed too, so it
        can be removed.

        Raises:
            PinStoreUnreadable: the file exists but cannot be read or is damaged.
        """
        doc = self._load()
        out: list[PinnedEntry] = []
        for section, kind in ((_PINS, "certificate"), (_AUTHORITIES, "authority")):
            for key, entry in doc[section].items():
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
                out.append(
                    PinnedEntry(where[0], where[1], str(sha256 or "(damaged)"), not_after, kind)
                )
        return sorted(out, key=lambda e: (e.host, e.port, e.kind))

    def identify(self, host: str, port: int, vcenter_id: str) -> None:
        """Note which vCenter the trust for host:port belongs to (none: nothing to note)."""
        doc = self._load()
        key = _pin_key(host, port)
        changed = False
        for section in (_PINS, _AUTHORITIES):
            entry = doc[section].get(key)
            if isinstance(entry, dict) and entry.get("vcenter_id") != vcenter_id:
                entry["vcenter_id"] = vcenter_id
                changed = True
        if changed:
            self._save(doc)

    def of_vcenter(self, vcenter_id: str) -> list[CertificateInfo]:
        """The pins noted as that vCenter's (damaged entries are skipped here)."""
        found = []
        for key, entry in sorted(self._load()[_PINS].items()):
            where = _split_pin_key(key)
            if where is None or not isinstance(entry, dict):
                continue
            if entry.get("vcenter_id") == vcenter_id:
                with contextlib.suppress(PinStoreUnreadable):
                    info = self.get(*where)
                    if info is not None:
                        found.append(info)
        return found

    def authorities_of(self, vcenter_id: str) -> list[TrustedAuthority]:
        """The authorities noted as that vCenter's (damaged entries are skipped here)."""
        found = []
        for key, entry in sorted(self._load()[_AUTHORITIES].items()):
            where = _split_pin_key(key)
            if where is None or not isinstance(entry, dict):
                continue
            if entry.get("vcenter_id") == vcenter_id:
                with contextlib.suppress(PinStoreUnreadable):
                    trusted = self.authority(*where)
                    if trusted is not None:
                        found.append(trusted)
        return found

    def identified(self) -> set[str]:
        """The addresses whose pin or authority is noted as some vCenter's."""
        doc = self._load()
        return {
            key
            for section in (_PINS, _AUTHORITIES)
            for key, entry in doc[section].items()
            if isinstance(entry, dict) and entry.get("vcenter_id")
        }

    def remove(self, host: str, port: int) -> None:
        """Forget the pin and the authority for host:port (nothing happens if there is none)."""
        doc = self._load()
        key = _pin_key(host, port)
        pin = doc[_PINS].pop(key, None)
        auth = doc[_AUTHORITIES].pop(key, None)
        if pin is not None or auth is not None:
            self._save(doc)
            log.info("Forgot the trusted certificate or authority for %s:%s", host, port)


class MemoryPinStore:
    """A trust store that forgets everything when the process ends (tests, the self-test)."""

    def __init__(self) -> None:
        """Start empty."""
        self._pins: dict[str, CertificateInfo] = {}
        self._authorities: dict[str, CertificateInfo] = {}
        self._vcenters: dict[str, str] = {}

    def get(self, host: str, port: int) -> CertificateInfo | None:
        """The pinned certificate for host:port, or None."""
        return self._pins.get(_pin_key(host, port))

    def put(self, info: CertificateInfo) -> None:
        """Pin ``info`` for its host:port."""
        key = _pin_key(info.host, info.port)
        self._pins[key] = info
        self._authorities.pop(key, None)

    def authority(self, host: str, port: int) -> TrustedAuthority | None:
        """The authority trusted for host:port, or None."""
        key = _pin_key(host, port)
        found = self._authorities.get(key)
        return TrustedAuthority(found, self._vcenters.get(key, "")) if found else None

    def put_authority(self, certificate: CertificateInfo) -> None:
        """Trust this authority for its host:port."""
        key = _pin_key(certificate.host, certificate.port)
        self._authorities[key] = certificate
        self._pins.pop(key, None)
        self._vcenters.pop(key, None)

    def remove(self, host: str, port: int) -> None:
        """Forget the pin and the authority for host:port."""
        key = _pin_key(host, port)
        self._pins.pop(key, None)
        self._authorities.pop(key, None)
        self._vcenters.pop(key, None)

    def identify(self, host: str, port: int, vcenter_id: str) -> None:
        """Note which vCenter the trust for host:port belongs to."""
        key = _pin_key(host, port)
        if key in self._pins or key in self._authorities:
            self._vcenters[key] = vcenter_id

    def of_vcenter(self, vcenter_id: str) -> list[CertificateInfo]:
        """The pins noted as that vCenter's."""
        return [
            self._pins[k] for k, v in self._vcenters.items() if v == vcenter_id and k in self._pins
        ]

    def authorities_of(self, vcenter_id: str) -> list[TrustedAuthority]:
        """The authorities noted as that vCenter's."""
        return [
            TrustedAuthority(self._authorities[k], v)
            for k, v in self._vcenters.items()
            if v == vcenter_id and k in self._authorities
        ]

    def identified(self) -> set[str]:
        """The addresses whose pin or authority is noted as some vCenter's."""
        return {k for k, v in self._vcenters.items() if v}


@dataclass
class TrustPolicy:
    """Which server certificates this process accepts, and how it decides.

    Attributes:
        pins: the lasting trust: pinned certificates and trusted authorities.
        trusted_once: SHA-256 fingerprints trusted for this process only ("trust once").
        expected_fingerprint: a fingerprint given on the command line (``--trust-fingerprint``):
            a certificate with exactly this fingerprint is accepted without asking.
        expected_authority: an authority's fingerprint given on the command line
            (``--trust-ca-fingerprint``): a certificate that authority issued for the name
            connected to is accepted without asking (the authority is fetched from the server
            and compared; nothing is stored).
    """

    pins: PinStore
    trusted_once: set[str] = field(default_factory=set)
    expected_fingerprint: str | None = None
    expected_authority: str | None = None

    def __post_init__(self) -> None:
        """Normalise the expected fingerprints (raises ValueError when one is malformed)."""
        if self.expected_fingerprint is not None:
            self.expected_fingerprint = normalize_fingerprint(self.expected_fingerprint)
        if self.expected_authority is not None:
            self.expected_authority = normalize_fingerprint(self.expected_authority)

    def ssl_context_for(self, host: str, port: int) -> ssl.SSLContext:
        """The context for a first attempt: the pinned certificate, else the authority trusted
        for this host:port, else the OS trust store."""
        pinned = self.pins.get(host, port)
        if pinned is not None:
            return pinned_context(pinned.pem)
        trusted = self.pins.authority(host, port)
        if trusted is not None:
            return authority_context(trusted.certificate.pem)
        return os_store_context()

    def known_context(self, host: str, port: int, timeout: float) -> ssl.SSLContext | None:
        """A context trusting exactly the certificate ``host:port`` presents, when its
        fingerprint is already trusted in this process (trusted once, or given on the command
        line) and nothing is pinned or trusted for ``host:port`` that it could contradict; else
        None, and :meth:`ssl_context_for` decides as for any server.

        It reads the certificate (:func:`fetch_certificate_der`, which sends nothing) before any
        other handshake: the outcome is what trying the OS trust store first and then
        :meth:`context_after_verify_failure` would give (a certificate with a trusted
        fingerprint is accepted whether or not the store knows it), without loading the OS
        trust store and one handshake sooner. For a vCenter whose certificate its own
        authority signed (the store does not know it) that is two handshakes instead of three.

        Raises:
            OSError: the certificate could not be read.
        """
        if not self.trusted_once and self.expected_fingerprint is None:
            return None
        if self.pins.get(host, port) is not None or self.pins.authority(host, port) is not None:
            return None  # decided by the pin or the authority, without reading anything first
        leaf, _rest = fetch_certificate_der(host, port, timeout)
        return self._trusted_as_presented(host, port, leaf)

    def _trusted_as_presented(self, host: str, port: int, leaf: bytes) -> ssl.SSLContext | None:
        """A context trusting exactly ``leaf`` (a certificate in DER) when its fingerprint is
        trusted in this process and nothing is pinned or trusted for ``host:port`` that it
        could contradict; else None. The decision needs no field of the certificate read
        (nor the ``cryptography`` package loaded)."""
        if self.pins.get(host, port) is not None or self.pins.authority(host, port) is not None:
            return None
        sha256 = ":".join(f"{b:02X}" for b in hashlib.sha256(leaf).digest())
        if sha256 not in self.trusted_once and sha256 != self.expected_fingerprint:
            return None
        log.info("Using the certificate %s of %s:%s as trusted", sha256, host, port)
        return pinned_context(ssl.DER_cert_to_PEM_cert(leaf))

    def trust_once(self, info: CertificateInfo) -> None:
        """Accept this exact certificate until the process ends, without storing it."""
        self.trusted_once.add(info.sha256)

    def pin(self, info: CertificateInfo) -> None:
        """Accept this exact certificate for its host:port from now on (stored)."""
        self.pins.put(info)
        self.trusted_once.add(info.sha256)

    def trust_authority(self, authority: CertificateInfo) -> None:
        """Accept, for the authority's host:port only, every certificate it issues for that
        name, from now on (stored; :func:`fetch_authority` gives ``authority``)."""
        self.pins.put_authority(authority)

    def context_after_verify_failure(
        self, host: str, port: int, timeout: float, error: ssl.SSLCertVerificationError
    ) -> ssl.SSLContext:
        """Decide what to do after the server's certificate failed verification.

        Returns:
            A context trusting exactly the presented certificate, when the technician trusted it
            once in this process or the command line named its fingerprint; or one trusting the
            authority whose fingerprint the command line named, when it issued the presented
            certificate.

        Raises:
            CertificateChanged: a pin exists for host:port and the server presents another
                certificate; or (:class:`AuthorityChanged`) an authority is trusted for
                host:port and did not issue the presented certificate.
            FingerprintMismatch: an expected fingerprint was given and the presented
                certificate has another one (both are in the error).
            AuthorityMismatch: an expected authority was given and did not issue the
                presented certificate.
            AuthorityUnavailable: an expected authority was given and the server's authorities
                could not be fetched or read.
            CertificateUntrusted: the technician has to decide (the presented certificate is in
                the error); also when a pinned certificate itself no longer verifies (e.g. it
                expired), or one its trusted authority issued does not (expired, or issued for
                another name), with the reason.
            OSError: the certificate could not be read.
        """
        reason = error.verify_message or str(error)
        leaf, rest = fetch_certificate_der(host, port, timeout)
        known = self._trusted_as_presented(host, port, leaf)
        if known is not None:
            return known
        pinned = self.pins.get(host, port)
        trusted = self.pins.authority(host, port)
        from wizard.vsphere.certificate import CertificateInfo

        presented = CertificateInfo.from_der(host, port, leaf, rest)
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
        if trusted is not None and not issued_by(presented, trusted.certificate):
            log.warning(
                "Certificate of %s:%s (%s, issuer %s) is not from the trusted authority %s",
                host,
                port,
                presented.sha256,
                presented.issuer,
                trusted.certificate.sha256,
            )
            raise AuthorityChanged(trusted.certificate, presented)
        if presented.sha256 in self.trusted_once or presented.sha256 == self.expected_fingerprint:
            log.info("Using the certificate %s of %s:%s as trusted", presented.sha256, host, port)
            return pinned_context(presented.pem)
        if trusted is not None:
            # Its authority issued it, yet it failed: expired, or issued for another name.
            raise CertificateUntrusted(presented, reason=reason)
        if self.expected_authority is not None:
            return self._expected_authority_context(presented, timeout, reason)
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

    def _expected_authority_context(
        self, presented: CertificateInfo, timeout: float, reason: str
    ) -> ssl.SSLContext:
        expected = self.expected_authority
        assert expected is not None
        found = fetch_authority(presented, timeout)
        if found.sha256 != expected:
            log.warning(
                "Certificate of %s:%s is issued by the authority %s, not the expected %s",
                presented.host,
                presented.port,
                found.sha256,
                expected,
            )
            raise AuthorityMismatch(presented, expected, found, reason=reason)
        log.info(
            "Using the authority %s for %s:%s as trusted", expected, presented.host, presented.port
        )
        return authority_context(found.pem)

    def identity_cannot_stop(self, host: str, port: int) -> bool:
        """Whether :meth:`check_identity` passes here whichever vCenter answers, so that the
        password may leave before the server has said which vCenter it is (a login sent with
        ``RetrieveServiceContent``, see :mod:`wizard.vsphere.opening`): no trust under another
        address is noted as a vCenter's, and the authority trusted here (if any) is not yet.

        Raises:
            PinStoreUnreadable: the file exists but cannot be read or is damaged.
        """
        own = self.pins.authority(host, port)
        if own is not None and own.vcenter_id:
            return False
        return self.pins.identified() <= {_pin_key(host, port)}

    def check_identity(self, host: str, port: int, vcenter_id: str, timeout: float) -> None:
        """Before logging in: the same vCenter under another name must show the same trust.

        Trust is kept per address, so ``127.0.0.1:443`` and ``vc01:443`` would each be trusted
        on their own, and a pin or authority trusted for one name would protect nothing under
        the other. vCenter's own identity (``about.instanceUuid``, readable before login) ties
        them: when this vCenter is known under another name, the certificate presented here
        must be the one pinned there, or be issued by the authority trusted there; otherwise
        the connection stops with the same warning as a changed pin, before any password is
        sent. A pin under another name that differs is not held against a certificate that an
        authority trusted for this vCenter issued: that pin is of a certificate since renewed.

        And an authority trusted for this name vouches for one vCenter only: when the server
        here is another vCenter than the one first seen through it, the connection stops.

        Raises:
            CertificateChanged: another name of this vCenter is pinned with another certificate
                or trusts an authority that did not issue this one, or the authority trusted
                here was trusted for another vCenter.
            OSError: the presented certificate could not be read.
        """
        here = (host.lower(), port)
        own = self.pins.authority(host, port)
        if (
            own is not None
            and own.vcenter_id
            and own.vcenter_id != vcenter_id
            and self.pins.get(host, port) is None
        ):
            presented = fetch_certificate(host, port, timeout)
            log.warning(
                "%s:%s is vCenter %s, but its authority was trusted for vCenter %s",
                host,
                port,
                vcenter_id,
                own.vcenter_id,
            )
            raise AuthorityChanged(own.certificate, presented, another_vcenter=True)
        pins = [p for p in self.pins.of_vcenter(vcenter_id) if (p.host.lower(), p.port) != here]
        authorities = self.pins.authorities_of(vcenter_id)
        others = [
            a for a in authorities if (a.certificate.host.lower(), a.certificate.port) != here
        ]
        if pins or others:
            presented = fetch_certificate(host, port, timeout)
            for other in others:
                if not issued_by(presented, other.certificate):
                    log.warning(
                        "vCenter %s shows %s at %s:%s, not from the authority trusted at %s:%s",
                        vcenter_id,
                        presented.sha256,
                        host,
                        port,
                        other.certificate.host,
                        other.certificate.port,
                    )
                    raise AuthorityChanged(other.certificate, presented)
            vouched = any(issued_by(presented, a.certificate) for a in authorities) or (
                own is not None and issued_by(presented, own.certificate)
            )
            for pin in pins:
                if pin.sha256 != presented.sha256 and not vouched:
                    log.warning(
                        "vCenter %s shows %s at %s:%s but %s at %s:%s (pinned)",
                        vcenter_id,
                        presented.sha256,
                        host,
                        port,
                        pin.sha256,
                        pin.host,
                        pin.port,
                    )
                    raise CertificateChanged(pin, presented)
        if self.pins.get(host, port) is not None or own is not None:
            self.pins.identify(host, port, vcenter_id)
