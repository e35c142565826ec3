"""A logged-in vCenter (or ESXi) session with verified TLS and a timeout on every request.

pyVmomi's ``SmartConnect`` is not used: its version probe opens a connection without any
timeout, and ``Connect`` turns every connection error into a ``HostConnectFault`` carrying only a
string, which loses the distinction between "no such host", "refused" and "timed out". The
session builds pyVmomi's ``SoapStubAdapter`` itself, with ``httpConnectionTimeout`` (the socket
timeout of every connect and read; ``connectionPoolTimeout`` is only how long idle pooled
connections are kept).

A session is used by the CLI's thread, or by the GUI's two worker threads (the short calls, and
the VM list beside them); its requests at the same time each get a pooled connection of their
own, as in ``together()``. Should the session expire under both at once, only one of them logs in
again: the other waits for that login and runs its call again on the new session (a second
login would leave a session nobody uses open on vCenter until its idle timeout).

The first request, ``RetrieveServiceContent``, and (when nothing in its answer could stop it)
the login beside it are sent by :mod:`wizard.vsphere.opening`, which loads no pyVmomi: the
command line sends them before pyVmomi loads. Their answers are read here.

The address is read by :mod:`wizard.vsphere.endpoint`, which loads no pyVmomi (the GUI checks
what was typed on its own thread); ``Endpoint`` and ``parse_endpoint`` are importable from here
too.
"""

from __future__ import annotations

import http.client
import logging
import ssl
import threading
import xml.parsers.expat
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from wizard.vsphere._pyvmomi import SoapAdapter, SoapStubAdapter, VmomiSupport, vim, vmodl
from wizard.vsphere.collector import answer_of, moref_of, together
from wizard.vsphere.endpoint import DEFAULT_PORT as DEFAULT_PORT
from wizard.vsphere.endpoint import Endpoint as Endpoint
from wizard.vsphere.endpoint import parse_endpoint as parse_endpoint
from wizard.vsphere.errors import (
    ApiTooOld,
    EmptyPassword,
    LoginFailed,
    NotVsphere,
    SessionExpired,
    VsphereError,
    translate,
)
from wizard.vsphere.opening import VCENTER_SESSION_MANAGER, FirstRequest, send_first
from wizard.vsphere.tls import TrustPolicy

log = logging.getLogger(__name__)

T = TypeVar("T")

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
        # Held while logging in again; the key tells a call whether another thread already did.
        self._relogin_lock = threading.Lock()

    @classmethod
    def connect(
        cls,
        endpoint: Endpoint | str,
        user: str,
        password: str,
        *,
        trust: TrustPolicy,
        timeout: float = 30.0,
        first: FirstRequest | None = None,
    ) -> Session:
        """Connect, check that this is vSphere 6.5 or later, and log in.

        Args:
            endpoint: an :class:`Endpoint` or what the technician typed (see
                :func:`parse_endpoint`).
            user: the vSphere user name.
            password: its password (kept in this object's memory only, never logged).
            trust: which certificates to accept (see :mod:`wizard.vsphere.tls`).
            timeout: seconds allowed for each connect and each read.
            first: ``RetrieveServiceContent`` already sent to ``endpoint``
                (:func:`wizard.vsphere.opening.send_first`, before pyVmomi was loaded); by
                default it is sent here.

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
            if first is not None:
                first.abandon()
            raise EmptyPassword(user)
        if first is None:
            first = send_first(ep, trust, timeout, (user, password))
        elif first.endpoint != ep:
            first.abandon()
            raise ValueError(f"the first request went to {first.endpoint}, not to {ep}")
        ctx = first.context
        try:
            stub, content = _open(first, timeout)
            vcenter_id = str(getattr(content.about, "instanceUuid", None) or "")
            if vcenter_id:
                try:
                    trust.check_identity(ep.host, ep.port, vcenter_id, timeout)
                except BaseException:
                    stub.DropConnections()
                    raise
        except BaseException as exc:
            first.abandon()
            if isinstance(exc, REMOTE_ERRORS) and not isinstance(exc, VsphereError):
                raise translate(exc, ep.netloc, timeout) from exc
            raise
        try:
            session_key = _log_in(first, stub, content, user, password)
        except BaseException as exc:
            stub.DropConnections()
            first.abandon()
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
        unauthenticated changed nothing, so the retry is safe. Calls on several threads that
        are refused together log in once: the first logs in, the others wait for it and run
        again on its session.

        Raises:
            VsphereError: a typed error (see :func:`wizard.vsphere.errors.translate`).
        """
        if self._closed:
            raise SessionExpired()
        refused_key = self.session_key
        try:
            return fn()
        except vim.fault.NotAuthenticated:
            self._relogin(refused_key)
            try:
                return fn()
            except vim.fault.NotAuthenticated as exc:
                raise SessionExpired() from exc
            except REMOTE_ERRORS as exc:
                raise translate(exc, self.endpoint.netloc, self.timeout) from exc
        except REMOTE_ERRORS as exc:
            raise translate(exc, self.endpoint.netloc, self.timeout) from exc

    def _relogin(self, refused_key: str) -> None:
        """Log in again, unless another thread did since ``refused_key`` was the session's."""
        with self._relogin_lock:
            if self._closed:
                raise SessionExpired()
            if self.session_key != refused_key:
                log.info("The session with %s was renewed by another call", self.endpoint)
                return
            log.info("The session with %s expired; logging in again", self.endpoint)
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
        with self._relogin_lock:  # a login under way ends first; no other begins after this
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
            # A read still on its way on another thread (the VM list at closing time) hands its
            # connection back after this: with no room left in the pool it is closed then,
            # not kept in a pool nobody will drain.
            self._stub.poolSize = 0
            self._stub.DropConnections()
            self._password = ""
        log.info("Disconnected from %s", self.endpoint)


def _open(first: FirstRequest, timeout: float) -> tuple[Any, Any]:
    """Create the SOAP stub, read the ServiceContent ``first`` asked for and check the server is
    vSphere 6.5+. The connection ``first`` was sent on becomes the stub's."""
    ep = first.endpoint
    stub = SoapStubAdapter(
        host=ep.host,
        port=ep.port,
        version=_BASELINE_VERSION,
        sslContext=first.context,
        httpConnectionTimeout=timeout,
        connectionPoolTimeout=_IDLE_POOL_SECONDS,
    )
    try:
        instance = vim.ServiceInstance("ServiceInstance", stub)
        content = answer_of(instance, "RetrieveContent", first.connection)
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


SPARE_CONNECTIONS = 2
"""Connections opened beside the login, so that requests sent together (see
:func:`~wizard.vsphere.collector.together`: three at most on the ticket's path) find one each."""


def _open_spares(stub: Any) -> None:
    """Open :data:`SPARE_CONNECTIONS` connections (TCP and TLS) into the stub's pool.

    Made as pyVmomi's ``GetConnection`` makes a new one (same TLS context and time limit), but
    without taking the pooled connection the login is about to use. Best effort: a failure
    only leaves the connection to be opened when first needed. Not for proxied connections.
    """
    if stub.is_tunnel or hasattr(stub, "httpProxyHost"):
        return
    host = stub.host if stub.host.startswith("[") else stub.host.rsplit(":", 1)[0]
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    for _ in range(SPARE_CONNECTIONS):
        conn = stub.scheme(host=host, port=stub.port, **stub.schemeArgs)
        try:
            # No pyVmomi pinning to pass on: the stub's TLS context verifies the certificate.
            SoapAdapter._Connect(connection=conn)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            log.info("A spare connection to %s could not be opened (%s)", stub.host, exc)
            return
        stub.ReturnConnection(conn)


def _log_in(first: FirstRequest, stub: Any, content: Any, user: str, password: str) -> str:
    """Read the answer to the login sent with the first request, or log in now; the session key.

    Without a login sent beside the first request (see :mod:`wizard.vsphere.opening`), the
    connections the next requests sent together will need are opened while the login is on its
    way: on a WAN each costs its own handshake round trips.
    """
    sent = first.login()
    if sent is None:
        spare = first.spare()
        if spare is not None:
            stub.ReturnConnection(spare)
        session_key, _ = together(
            lambda: _login(content, user, password), lambda: _open_spares(stub)
        )
        return session_key
    manager = vim.SessionManager(VCENTER_SESSION_MANAGER, stub)
    before = stub.cookie
    try:
        session_key = str(answer_of(manager, "Login", sent).key)
    except vmodl.MethodFault as exc:
        if moref_of(content.sessionManager) == VCENTER_SESSION_MANAGER:
            raise
        # An ESXi host (ha-sessionmgr): that session manager does not exist there.
        log.info("No session manager %s (%s): logging in again", VCENTER_SESSION_MANAGER, exc)
        session_key = _login(content, user, password)
    else:
        if before and stub.cookie == before:
            # The login's answer named no session: the one kept would be the first answer's,
            # not logged in. Log in on that one (a round trip more, on such servers only).
            log.info("The login sent with the first request brought no session cookie")
            session_key = _login(content, user, password)
    spare = first.spare()
    if spare is not None:
        stub.ReturnConnection(spare)
    return session_key


def _login(content: Any, user: str, password: str) -> str:
    """Log in; return the session key (``HasPrivilegeOnEntities`` asks for it)."""
    return str(content.sessionManager.Login(user, password, None).key)
