"""A vCenter's own certificate authority: fetched from ``/certs/download.zip``, read in memory.

Every vCenter since 6.0 offers the root certificates of its authority (VMCA, or the company's
authority that signs VMCA) on its landing page, as a zip file laid out as::

    certs/lin/<hash>.0       PEM, one certificate each (OpenSSL's hashed-directory names)
    certs/lin/<hash>.r0      certificate revocation lists (ignored here)
    certs/win/<hash>.0.crt   the same certificates, DER or PEM, for Windows
    certs/win/<hash>.0.crl
    certs/mac/<hash>.0       the same for macOS

The file comes from a server that is not trusted yet, so it is read as hostile: over a
connection that trusts exactly the certificate the technician was shown (never an unverified
one), at most :data:`MAX_DOWNLOAD_BYTES`, in memory only (nothing is extracted or written), with
limits on the number and size of its members, and refused whole when a member's name tries to
leave the archive. Nothing from it is trusted by being in it: the technician (or the command
line's ``--trust-ca-fingerprint``) decides on the one authority that issued the certificate the
server presented, by its fingerprint.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import io
import logging
import re
import ssl
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509

from wizard.vsphere.certificate import CertificateInfo, sha256_fingerprint
from wizard.vsphere.errors import AuthorityUnavailable

log = logging.getLogger(__name__)

DOWNLOAD_PATH = "/certs/download.zip"
MAX_DOWNLOAD_BYTES = 4 * 1024 * 1024
"""A real file holds a few kilobytes per vCenter of the SSO domain."""
MAX_MEMBERS = 1000
MAX_MEMBER_BYTES = 256 * 1024
MAX_TOTAL_BYTES = 16 * 1024 * 1024
MAX_CERTIFICATES = 200
MAX_CHAIN_STEPS = 8
_CERTIFICATE_SUFFIXES = (".crt", ".cer", ".pem", ".der")
_HASHED_NAME = re.compile(r"\.\d+$")  # OpenSSL's <hash>.0, <hash>.1, …
_REVOCATION_SUFFIX = re.compile(r"\.(r\d+|crl)$", re.IGNORECASE)
_PEM_BLOCK = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n(.+?)-----END CERTIFICATE-----", re.DOTALL
)


@dataclass(frozen=True)
class Authorities:
    """What a vCenter's ``download.zip`` held.

    Attributes:
        certificates: the distinct certificates found (DER), in the order first found.
        members: how many files the zip held.
    """

    certificates: tuple[bytes, ...]
    members: int


def download(presented: CertificateInfo, timeout: float, context: ssl.SSLContext) -> bytes:
    """Fetch ``https://host:port/certs/download.zip`` over a connection that trusts ``context``.

    ``context`` trusts exactly the certificate the technician was shown
    (:func:`wizard.vsphere.tls.pinned_context`): were it replaced in between, the handshake
    fails. Redirects are not followed (another place would be another server).

    Raises:
        AuthorityUnavailable: not found, another answer, too large, or the connection failed.
        ssl.SSLCertVerificationError: the server no longer presents that certificate.
    """
    endpoint = _netloc(presented.host, presented.port)
    connection = http.client.HTTPSConnection(
        presented.host, presented.port, timeout=timeout, context=context
    )
    try:
        connection.request("GET", DOWNLOAD_PATH, headers={"Accept": "application/zip"})
        response = connection.getresponse()
        if response.status != http.client.OK:
            what = (
                "it offers no certificate authorities for download"
                if response.status == http.client.NOT_FOUND
                else "it did not hand out its certificate authorities"
            )
            raise AuthorityUnavailable(
                endpoint, f"{what} (HTTP {response.status} for {DOWNLOAD_PATH})"
            )
        length = response.getheader("Content-Length")
        if length is not None and length.isdigit() and int(length) > MAX_DOWNLOAD_BYTES:
            raise AuthorityUnavailable(endpoint, _too_large(int(length)))
        data = response.read(MAX_DOWNLOAD_BYTES + 1)
        if len(data) > MAX_DOWNLOAD_BYTES:
            raise AuthorityUnavailable(endpoint, _too_large(None))
        return data
    except ssl.SSLCertVerificationError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        raise AuthorityUnavailable(
            endpoint, f"fetching {DOWNLOAD_PATH} failed ({exc or type(exc).__name__})"
        ) from exc
    finally:
        connection.close()


def _too_large(size: int | None) -> str:
    said = f" ({size:,} bytes)" if size is not None else ""
    return (
        f"its file of certificate authorities is too large{said}: at most "
        f"{MAX_DOWNLOAD_BYTES // (1024 * 1024)} MB is read"
    )


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def read_zip(data: bytes, endpoint: str) -> Authorities:
    """The certificates in a ``download.zip``, read in memory with every limit applied.

    Members whose names end like a certificate in vCenter's layout (``.0``, ``.1``, …,
    ``.crt``, ``.cer``, ``.pem``, ``.der``) are read as PEM (one or more certificates) or DER;
    revocation lists (``.r0``, ``.crl``) and anything else are skipped.

    Raises:
        AuthorityUnavailable: not a zip, damaged, encrypted, a member whose name leaves the
            archive (absolute, ``..``, a drive), too many members, a member or the whole
            larger than the limits (however small it is packed), or no certificate at all.
    """
    if not data.startswith(b"PK"):
        raise AuthorityUnavailable(endpoint, "what it sent as download.zip is not a zip file")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise AuthorityUnavailable(endpoint, f"its download.zip is damaged ({exc})") from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise AuthorityUnavailable(
                endpoint, f"its download.zip holds {len(members):,} files; at most "
                f"{MAX_MEMBERS:,} are read"
            )  # fmt: skip
        for member in members:
            problem = _unsafe_name(member.filename)
            if problem:
                raise AuthorityUnavailable(
                    endpoint,
                    f"its download.zip holds a file named {member.filename[:120]!r}, which "
                    f"{problem}: such a file is refused",
                )
        certificates: list[bytes] = []
        seen: set[str] = set()
        total = 0
        for member in members:
            if member.is_dir() or not _is_certificate_name(member.filename):
                continue
            if member.flag_bits & 0x1:
                raise AuthorityUnavailable(endpoint, "its download.zip is encrypted")
            if member.file_size > MAX_MEMBER_BYTES:
                raise AuthorityUnavailable(endpoint, _member_too_large(member.filename))
            content = _read_member(archive, member, endpoint)
            total += len(content)
            if total > MAX_TOTAL_BYTES:
                raise AuthorityUnavailable(
                    endpoint,
                    f"its download.zip unpacks to more than {MAX_TOTAL_BYTES // (1024 * 1024)} MB",
                )
            for der in _certificates_in(content):
                fingerprint = sha256_fingerprint(der)
                if fingerprint not in seen:
                    seen.add(fingerprint)
                    certificates.append(der)
            if len(certificates) > MAX_CERTIFICATES:
                raise AuthorityUnavailable(
                    endpoint,
                    f"its download.zip holds more than {MAX_CERTIFICATES} certificates",
                )
    if not certificates:
        raise AuthorityUnavailable(endpoint, "its download.zip holds no certificate")
    log.info(
        "download.zip of %s: %d files, %d distinct certificates",
        endpoint,
        len(members),
        len(certificates),
    )
    return Authorities(tuple(certificates), len(members))


def _unsafe_name(name: str) -> str:
    """Why a member's name could leave the archive when extracted ("" when it cannot)."""
    if not name:
        return "is empty"
    if "\x00" in name:
        return "contains a NUL character"
    unified = name.replace("\\", "/")
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        return "is an absolute path"
    if any(part == ".." for part in unified.split("/")):
        return "climbs out of the archive with '..'"
    return ""


def _is_certificate_name(name: str) -> bool:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if not base or _REVOCATION_SUFFIX.search(base):
        return False
    return base.endswith(_CERTIFICATE_SUFFIXES) or bool(_HASHED_NAME.search(base))


def _member_too_large(name: str) -> str:
    return (
        f"its download.zip holds a file ({name[:120]!r}) larger than "
        f"{MAX_MEMBER_BYTES // 1024} KB unpacked; a certificate is a few KB"
    )


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, endpoint: str) -> bytes:
    """Read one member, never more than the limit, whatever its header claims."""
    try:
        with archive.open(member) as stream:
            content = stream.read(MAX_MEMBER_BYTES + 1)
    except (zipfile.BadZipFile, RuntimeError, ValueError, OSError, EOFError) as exc:
        # RuntimeError: encrypted; NotImplementedError is a RuntimeError: unknown compression.
        raise AuthorityUnavailable(
            endpoint, f"its download.zip cannot be read at {member.filename[:120]!r} ({exc})"
        ) from exc
    if len(content) > MAX_MEMBER_BYTES:
        raise AuthorityUnavailable(endpoint, _member_too_large(member.filename))
    return content


def _certificates_in(content: bytes) -> list[bytes]:
    """DER certificates in a member: every PEM block, else the whole member as DER."""
    blocks = _PEM_BLOCK.findall(content)
    if blocks:
        found = []
        for block in blocks:
            try:
                found.append(base64.b64decode(block, validate=False))
            except (binascii.Error, ValueError):
                continue
        return [der for der in found if _is_certificate(der)]
    return [content] if _is_certificate(content) else []


def _is_certificate(der: bytes) -> bool:
    try:
        x509.load_der_x509_certificate(der)
    except ValueError:
        return False
    return True


def issuing_authority(
    presented: CertificateInfo, offered: Sequence[bytes]
) -> CertificateInfo | None:
    """The authority among ``offered`` that the presented certificate's path leads to.

    The path is followed from the presented certificate up through the certificates the server
    sent and those offered, each step checked by its signature, until a self-signed one or no
    issuer is found. The answer is the highest certificate on that path that is among
    ``offered`` and may issue certificates, described as this vCenter's (its ``host`` and
    ``port``); None when the path meets none of them.
    """
    host, port = presented.host, presented.port
    offered_infos = [CertificateInfo.from_der(host, port, der) for der in offered]
    offered_by_fingerprint = {info.sha256: info for info in offered_infos}
    pool = {info.sha256: info for info in (*presented.chain, *offered_infos)}
    current = presented
    found: CertificateInfo | None = None
    for _ in range(MAX_CHAIN_STEPS):
        if current.self_signed:
            break
        issuer = next(
            (c for c in pool.values() if c.sha256 != current.sha256 and c.issued(current)),
            None,
        )
        if issuer is None:
            break
        if issuer.sha256 in offered_by_fingerprint and issuer.is_ca:
            found = offered_by_fingerprint[issuer.sha256]
        current = issuer
    return found
