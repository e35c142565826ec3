"""A logged-in vCenter (or ESXi) session with verified TLS and a timeout on every request.

pyVmomi's ``SmartConnect`` is not used: its version probe opens a connection without any
timeout, and ``Connect`` turns every connection error into a ``HostConnectFault`` carrying only a
string, which loses the distinction between "no such host", "refused" and "timed out". The
session builds pyVmomi's ``SoapStubAdapter`` itself, with ``httpConnectionTimeout`` (the socket
timeout of every connect and read; ``connectionPoolTimeout`` is only how long idle pooled
connections are kept).

A session is used by one thread at a time (the GUI's worker thread, or the CLI).
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import re
import ssl
import xml.parsers.expat
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from wizard.vsphere._pyvmomi import SoapStubAdapter, VmomiSupport, vim, vmodl
from wizard.vsphere.errors import (
    ApiTooOld,
    CertificateUntrusted,
    EmptyPassword,
    LoginFailed,
    NotVsphere,
    SessionExpired,
    VsphereError,
    translate,
)
from wizard.vsphere.tls import TrustPolicy, fetch_certificate

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_PORT = 443
MIN_API_VERSION: tuple[int, ...] = (6, 5)
# The first request (RetrieveServiceContent) speaks 6.5, the oldest API we support; the stub is
# then raised to the newest version both pyVmomi and the server know.
_BASELINE_VERSION = "vim.version.version11"
_IDLE_POOL_SECONDS = 60
_SESSION_COOKIE = "vmware_soap_session"
# What a remote call may raise besides bugs: vSphere faults and transport errors.
REMOTE_ERRORS: tuple[type[BaseException], ...] = (
    vmodl.MethodFault,
    OSError,
    http.client.HTTPException,
    xml.parsers.expat.ExpatError,
)

_HOST_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
_MAX_DNS_NAME = 253
_MAX_DNS_LABEL = 63
_ZONE_RE = re.compile(r"^[A-Za-z0-9_\-]{1,63}(?:\.[A-Za-z0-9_\-]{1,63})*$")


@dataclass(frozen=True)
class Endpoint:
    """Where vCenter listens.

    Attributes:
        host: a DNS name, IPv4 address or IPv6 address (without brackets).
        port: the HTTPS port.
    """

    host: str
    port: int = DEFAULT_PORT

    @property
    def netloc(self) -> str:
        """``host:port`` for URLs and messages, IPv6 in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        if self.port == DEFAULT_PORT:
            return f"[{self.host}]" if ":" in self.host else self.host
        return self.netloc


def _parse_port(text: str, original: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{original!r}: the port must be a number from 1 to 65535, not {text!r}.")
    return int(text)


def _redacted(text: str) -> str:
    """What was typed, for quoting in a message, without any user name or password in it.

    People paste ``https://user:password@vcenter/``; the message (shown, and possibly logged)
    must not carry the password along.
    """
    if "@" not in text:
        return text
    start = text.find("://") + 3 if "://" in text else 0
    return text[:start] + "…@" + text[text.rfind("@") + 1 :]


def parse_endpoint(text: str) -> Endpoint:
    """Read what the technician typed as the vCenter address.

    Accepted: ``host``, ``host:port``, an IPv4 address, ``[IPv6]``, ``[IPv6]:port`` or a bare IPv6
    address, and, because people paste the browser's address bar, ``https://host[:port]/...``:
    the scheme is dropped and any path (``/sdk``, ``/ui/``) ignored.

    Raises:
        ValueError: with a message fit to show next to the field: empty input, blanks inside,
            a scheme other than https, a user name in the address, a bad port, or a host name
            DNS cannot spell (an empty part, a part over 63 characters, over 253 in all) or an
            IPv6 zone that is no interface name.
    """
    original = _redacted(text)
    text = text.strip()
    if not text:
        raise ValueError("Enter the vCenter's name or address, e.g. vcenter.corp.local.")
    if any(ch.isspace() for ch in text):
        raise ValueError(f"{original!r}: a vCenter address contains no blanks.")
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme != "https":
            raise ValueError(
                f"{original!r}: vCenter is reached over https; leave out '{scheme}://' or use "
                "https://."
            )
        parts = urlsplit(text)
        if parts.username is not None or parts.password is not None:
            raise ValueError(f"{original!r}: give the user name in its own field, not here.")
        text = parts.netloc
        if not text:
            raise ValueError(f"{original!r}: no host name after https://.")
    elif "/" in text:
        raise ValueError(f"{original!r}: give only the host name (and port), without a path.")
    if "@" in text:
        raise ValueError(f"{original!r}: give the user name in its own field, not here.")

    port = DEFAULT_PORT
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise ValueError(f"{original!r}: an IPv6 address in brackets needs its closing ']'.")
        host, rest = text[1:close], text[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{original!r}: only ':port' may follow ']'.")
            port = _parse_port(rest[1:], original)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{original!r}: {host!r} is not an IPv6 address.") from None
        _check_zone(host, original)
        return Endpoint(host, port)
    if text.count(":") > 1:
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            raise ValueError(
                f"{original!r}: not an address; write an IPv6 address with a port as [addr]:port."
            ) from None
        _check_zone(text, original)
        return Endpoint(text, port)
    host = text
    if ":" in text:
        host, port_text = text.split(":")
        port = _parse_port(port_text, original)
    if not host or not _HOST_RE.match(host):
        raise ValueError(f"{original!r}: {host!r} is not a valid host name or address.")
    _check_dns_name(host, original)
    return Endpoint(host.lower(), port)


def _check_zone(address: str, original: str) -> None:
    """Refuse an IPv6 zone (``fe80::1%eth0``) that is no interface name or number.

    ``ipaddress`` accepts any text after ``%``; the socket layer then runs the whole address
    through the ``idna`` codec, which fails on an empty part or one over 63 characters.
    """
    if "%" not in address:
        return
    zone = address.split("%", 1)[1]
    if not _ZONE_RE.match(zone):
        raise ValueError(
            f"{original!r}: the zone after % must be the name or number of a network interface "
            "(letters, digits, '_', '-', parts of at most 63 joined by dots), e.g. fe80::1%eth0."
        )


def _check_dns_name(host: str, original: str) -> None:
    """Refuse a host name that DNS cannot spell, naming what is wrong.

    The socket layer would otherwise fail in its ``idna`` codec with a bare UnicodeError: an
    empty part (``a..b``, ``.corp``) or one longer than 63 characters. A single dot at the end
    (a fully qualified name) is fine.
    """
    rule = (
        "a host name is parts of 1 to 63 letters, digits or hyphens joined by dots, "
        "e.g. vc01.corp.local"
    )
    name = host[:-1] if host.endswith(".") else host
    subject = "the host name" if host == original.strip() else f"the host name {host!r}"
    if len(name) > _MAX_DNS_NAME:
        raise ValueError(
            f"{original!r}: {subject} has {len(name)} characters; at most {_MAX_DNS_NAME} are "
            f"possible, and {rule}."
        )
    for label in name.split("."):
        if not label:
            raise ValueError(
                f"{original!r}: {subject} has an empty part (two dots together, or a dot at the "
                f"start); {rule}."
            )
        if len(label) > _MAX_DNS_LABEL:
            raise ValueError(
                f"{original!r}: the part {label!r} has {len(label)} characters; {rule}."
            )


def _version_tuple(text: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        return None


def _best_stub_version(api_version: str) -> str:
    """The newest pyVmomi ``vim.version.*`` whose API version is not newer than the server's."""
    server = _version_tuple(api_version) or MIN_API_VERSION
    best, best_tuple = _BASELINE_VERSION, MIN_API_VERSION
    for name, version_id in VmomiSupport.versionIdMap.items():
        if not name.startswith("vim.version."):
            continue
        vt = _version_tuple(version_id)
        if vt is not None and best_tuple < vt <= server:
            best, best_tuple = name, vt
    return best


class Session:
    """A logged-in session, its TLS context and its timeout.

    Create it with :meth:`connect`; use it as a context manager or call :meth:`close`.

    Attributes:
        endpoint: where vCenter listens.
        user: the user name logged in with.
        api_type: ``"VirtualCenter"`` or ``"HostAgent"``.
        api_version: the server's API version, e.g. ``"8.0.3.0"``.
        about: the server's full name, e.g. ``"VMware vCenter Server 8.0.3 build-…"``.
        instance_uuid: the vCenter's instance UUID (empty for ESXi).
        timeout: seconds allowed for each connect and each read of a request.
        content: the ``ServiceContent`` (for use inside ``wizard.vsphere`` only).
        session_key: the key of the current vCenter session (``HasPrivilegeOnEntities`` needs
            it); changes when the session is renewed.
    """

    def __init__(
        self,
        *,
        endpoint: Endpoint,
        user: str,
        password: str,
        timeout: float,
        stub: Any,
        content: Any,
        ssl_context: ssl.SSLContext,
        session_key: str,
    ) -> None:
        """Use :meth:`connect` instead."""
        self.endpoint = endpoint
        self.user = user
        self._password = password  # kept in memory only, to log in again when the session expires
        self.timeout = timeout
        self._stub = stub
        self.content = content
        self._ssl_context = ssl_context
        about = content.about
        self.api_type: str = str(about.apiType)
        self.api_version: str = str(about.apiVersion)
        self.about: str = str(about.fullName)
        self.instance_uuid: str = str(getattr(about, "instanceUuid", None) or "")
        self.session_key = session_key
        self._closed = False

    @classmethod
    def connect(
        cls,
        endpoint: Endpoint | str,
        user: str,
        password: str,
        *,
        trust: TrustPolicy,
        timeout: float = 30.0,
    ) -> Session:
        """Connect, check that this is vSphere 6.5 or later, and log in.

        Args:
            endpoint: an :class:`Endpoint` or what the technician typed (see
                :func:`parse_endpoint`).
            user: the vSphere user name.
            password: its password (kept in this object's memory only, never logged).
            trust: which certificates to accept (see :mod:`wizard.vsphere.tls`).
            timeout: seconds allowed for each connect and each read.

        Raises:
            ValueError: ``endpoint`` is a string that is not an address.
            EmptyPassword: ``password`` is empty; nothing was sent (each failed login counts
                towards locking the account).
            CertificateUntrusted: the technician must decide about the certificate in the error,
                then call again.
            CertificateChanged: a pinned certificate was replaced.
            LoginFailed, HostNotFound, ConnectionRefused, TimedOut, NotVsphere, ApiTooOld,
            TlsFailed, ConnectionLost: see :mod:`wizard.vsphere.errors`.
        """
        ep = parse_endpoint(endpoint) if isinstance(endpoint, str) else endpoint
        if not password:
            raise EmptyPassword(user)
        try:
            ctx = trust.ssl_context_for(ep.host, ep.port)
            try:
                stub, content = _open(ep, ctx, timeout)
            except ssl.SSLCertVerificationError as first:
                log.info("Certificate of %s not verified: %s", ep, first.verify_message)
                ctx = trust.context_after_verify_failure(ep.host, ep.port, timeout, first)
                try:
                    stub, content = _open(ep, ctx, timeout)
                except ssl.SSLCertVerificationError as second:
                    # Trusted, yet it does not verify: its dates are out of range.
                    info = fetch_certificate(ep.host, ep.port, timeout)
                    raise CertificateUntrusted(info, reason=second.verify_message or "") from None
            vcenter_id = str(getattr(content.about, "instanceUuid", None) or "")
            if vcenter_id:
                try:
                    trust.check_identity(ep.host, ep.port, vcenter_id, timeout)
                except BaseException:
                    stub.DropConnections()
                    raise
        except VsphereError:
            raise
        except REMOTE_ERRORS as exc:
            raise translate(exc, ep.netloc, timeout) from exc
        try:
            session_key = _login(content, user, password)
        except BaseException as exc:
            stub.DropConnections()
            if isinstance(exc, REMOTE_ERRORS):
                raise (
                    LoginFailed(user)
                    if isinstance(exc, vim.fault.InvalidLogin)
                    else translate(exc, ep.netloc, timeout)
                ) from exc
            raise
        session = cls(
            endpoint=ep,
            user=user,
            password=password,
            timeout=timeout,
            stub=stub,
            content=content,
            ssl_context=ctx,
            session_key=session_key,
        )
        log.info("Connected to %s (%s) as %s", ep, session.about, user)
        return session

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Session {self.endpoint} user={self.user!r} api={self.api_version} {state}>"

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """The verified TLS context of this session, for other HTTPS requests to the same server."""
        return self._ssl_context

    def cookie_header(self) -> str:
        """The ``Cookie`` header value carrying this session (for datastore downloads).

        It is a credential: never log it.
        """
        session_id = self._stub.GetSessionId()
        return f'{_SESSION_COOKIE}="{session_id}"' if session_id else ""

    def managed_object(self, mo_type: Any, moref: str) -> Any:
        """A pyVmomi reference to ``moref`` of ``mo_type``, without a round trip.

        For use inside ``wizard.vsphere`` only: managed objects never leave the package.
        """
        return mo_type(moref, self._stub)

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (which makes pyVmomi calls), translating errors into typed ones.

        When vCenter says the session is no longer authenticated (it expired), log in again once
        with the same credentials and run ``fn`` once more: a request refused as
        unauthenticated changed nothing, so the retry is safe.

        Raises:
            VsphereError: a typed error (see :func:`wizard.vsphere.errors.translate`).
        """
        if self._closed:
            raise SessionExpired()
        try:
            return fn()
        except vim.fault.NotAuthenticated:
            log.info("The session with %s expired; logging in again", self.endpoint)
            self._relogin()
            try:
                return fn()
            except vim.fault.NotAuthenticated as exc:
                raise SessionExpired() from exc
            except REMOTE_ERRORS as exc:
                raise translate(exc, self.endpoint.netloc, self.timeout) from exc
        except REMOTE_ERRORS as exc:
            raise translate(exc, self.endpoint.netloc, self.timeout) from exc

    def _relogin(self) -> None:
        try:
            self.session_key = _login(self.content, self.user, self._password)
        except vim.fault.InvalidLogin as exc:
            raise LoginFailed(self.user) from exc
        except REMOTE_ERRORS as exc:
            raise translate(exc, self.endpoint.netloc, self.timeout) from exc

    def close(self) -> None:
        """Log out and drop the connections. Calling it again does nothing.

        A logout that fails because the connection is already gone (or the session already
        ended) is logged and otherwise ignored: there is nothing left to close.
        """
        if self._closed:
            return
        self._closed = True
        try:
            # A logout lost on a broken connection would leave the session open on vCenter
            # until its idle timeout (it counts against vCenter's session limit): try once more
            # on a fresh connection. A second logout of an ended session is NotAuthenticated.
            for attempt in (1, 2):
                try:
                    self.content.sessionManager.Logout()
                    break
                except (OSError, http.client.HTTPException) as exc:
                    log.info("Logout from %s failed (%s, attempt %d)", self.endpoint, exc, attempt)
        except vim.fault.NotAuthenticated as exc:
            log.info("Logout from %s: the session had already ended (%s)", self.endpoint, exc)
        finally:
            self._stub.DropConnections()
            self._password = ""
        log.info("Disconnected from %s", self.endpoint)


def _open(ep: Endpoint, ctx: ssl.SSLContext, timeout: float) -> tuple[Any, Any]:
    """Create the SOAP stub, read the ServiceContent and check the server is vSphere 6.5+."""
    stub = SoapStubAdapter(
        host=ep.host,
        port=ep.port,
        version=_BASELINE_VERSION,
        sslContext=ctx,
        httpConnectionTimeout=timeout,
        connectionPoolTimeout=_IDLE_POOL_SECONDS,
    )
    try:
        content = vim.ServiceInstance("ServiceInstance", stub).RetrieveContent()
        about = content.about
        api_type = str(getattr(about, "apiType", "") or "")
        api_version = str(getattr(about, "apiVersion", "") or "")
    except OSError:  # transport and TLS errors: the caller decides
        stub.DropConnections()
        raise
    except (http.client.HTTPException, xml.parsers.expat.ExpatError) as exc:
        stub.DropConnections()
        raise NotVsphere(ep.netloc, f"it answered {exc}") from exc
    except vmodl.MethodFault as exc:
        stub.DropConnections()
        raise NotVsphere(ep.netloc, f"it answered with {type(exc).__name__}") from exc
    if api_type not in ("VirtualCenter", "HostAgent"):
        stub.DropConnections()
        raise NotVsphere(ep.netloc, f"API type {api_type or 'missing'}")
    version = _version_tuple(api_version)
    if version is None or version < MIN_API_VERSION:
        stub.DropConnections()
        raise ApiTooOld(api_version or "(unknown)")
    stub.ComputeVersionInfo(_best_stub_version(api_version))
    return stub, content


def _login(content: Any, user: str, password: str) -> str:
    """Log in; return the session key (``HasPrivilegeOnEntities`` asks for it)."""
    return str(content.sessionManager.Login(user, password, None).key)
