"""The first request to vCenter, sent before pyVmomi is loaded.

A session begins with ``RetrieveServiceContent``: one round trip whose answer says what the
server is (vCenter or ESXi, which API version, which vCenter) before the password is sent with
``Login``. Nothing in that request depends on the server, so it is sent here over a plain
``http.client`` connection, as pyVmomi would send it, while pyVmomi (a few tenths of a second
of Python) has not been loaded yet: a command line that connects sends it first and loads the
rest while the answer is on its way (:func:`wizard.cli.connect.connected`). The answer is read
by pyVmomi afterwards, and the connection then joins the session's pool
(:meth:`wizard.vsphere.session.Session.connect`).

The certificate is decided before the request leaves, exactly as for any request of a session
(:class:`~wizard.vsphere.tls.TrustPolicy`: a context that verifies; after a verification
failure, the one the policy gives, or a typed error).

**The login in the same round trip.** ``Login`` needs nothing from that answer either when it
is addressed to vCenter's session manager by its fixed id, ``SessionManager``. So, once the
certificate is verified, it leaves at the same time on a second connection with the same
verified context (its TLS handshake made beside the first one's with a pinned certificate's or
an authority's context, right after it with the OS trust store's, which makes one at a time),
and a spare connection opens after it for the requests a check sends at once later: the login
costs one round trip instead of two. Two conditions:

- the password leaves only over a connection whose handshake verified the certificate, as
  always; and only when nothing the answer could say would stop the login: when no trust kept
  under another address is tied to a vCenter identity, and the authority trusted here (if any)
  is not yet (:meth:`~wizard.vsphere.tls.TrustPolicy.identity_cannot_stop`; otherwise the login
  waits for the answer, as before, so :meth:`~wizard.vsphere.tls.TrustPolicy.check_identity`
  can stop it);
- a server whose session manager has another id (an ESXi host's is ``ha-sessionmgr``) refuses
  that login: :meth:`~wizard.vsphere.session.Session.connect` then logs in again as it reads in
  the answer (one more round trip, on such servers only). A server that turns out not to be
  vSphere 6.5 or later had the password sent to it over the verified connection (a login it
  accepted is left to its idle timeout); it is told the same error as before.

The answer to ``RetrieveServiceContent`` may open a session of its own (vCenter sends a cookie
with it); the login's answer brings the session that is kept, read after it.
"""

from __future__ import annotations

import http.client
import logging
import ssl
import sys
import threading
from dataclasses import dataclass

from wizard import __version__
from wizard.vsphere.endpoint import Endpoint
from wizard.vsphere.errors import CertificateUntrusted, VsphereError, translate
from wizard.vsphere.tls import TrustPolicy, fetch_certificate

log = logging.getLogger(__name__)

PATH = "/sdk"
"""Where vCenter and ESXi answer SOAP (pyVmomi's stub's default path)."""

SOAP_ACTION = '"urn:vim25/6.5"'
"""The ``SOAPAction`` of the first request: API 6.5, the oldest the product supports (the stub
speaks it until the answer says which version the server knows)."""

SERVICE_CONTENT_REQUEST = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/"'
    b' xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
    b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    b' xmlns:xsd="http://www.w3.org/2001/XMLSchema">\n'
    b'<soapenv:Body><RetrieveServiceContent xmlns="urn:vim25">'
    b'<_this versionId="6.5" type="ServiceInstance">ServiceInstance</_this>'
    b"</RetrieveServiceContent></soapenv:Body>\n</soapenv:Envelope>"
)
"""``RetrieveServiceContent`` byte for byte as pyVmomi's stub serialises it at API 6.5 (a test
compares the two)."""


VCENTER_SESSION_MANAGER = "SessionManager"
"""The id of vCenter's session manager, the same on every vCenter."""


def login_request(user: str, password: str) -> bytes:
    """``Login`` to :data:`VCENTER_SESSION_MANAGER` as pyVmomi's stub serialises it at API 6.5
    (a test compares the two). It holds the password: never log it."""

    def text(value: str) -> str:
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    return (
        SERVICE_CONTENT_REQUEST.split(b"<soapenv:Body>")[0]
        + b'<soapenv:Body><Login xmlns="urn:vim25">'
        + f'<_this versionId="6.5" type="SessionManager">{VCENTER_SESSION_MANAGER}</_this>'
        f'<userName versionId="6.5">{text(user)}</userName>'
        f'<password versionId="6.5">{text(password)}</password>'.encode()
        + b"</Login></soapenv:Body>\n</soapenv:Envelope>"
    )


class _Beside:
    """The connections opened beside the first one, on a thread of their own, with the same
    context: one that sends ``Login``, then a spare (truststore's context makes one handshake
    at a time: the login's goes first). Best effort: a connection that cannot be opened is
    left out (the login then waits for the answer)."""

    def __init__(self, ep: Endpoint, timeout: float, login: bytes) -> None:
        self._ep, self._timeout, self._body = ep, timeout, login
        self._thread: threading.Thread | None = None
        self._login_done = threading.Event()
        self._opened: dict[str, http.client.HTTPSConnection] = {}

    def start(self, ctx: ssl.SSLContext) -> None:
        """Open them with ``ctx`` (its handshake verifies, as the first connection's does)."""
        self.discard()
        self._login_done.clear()
        self._thread = threading.Thread(
            target=self._open_both, args=(ctx,), name="vsphere-login", daemon=True
        )
        self._thread.start()

    def _open_both(self, ctx: ssl.SSLContext) -> None:
        try:
            login = self._open(ctx, "login")
            if login is not None:
                try:
                    login.request("POST", PATH, self._body, _headers())
                except (OSError, http.client.HTTPException) as exc:
                    login.close()
                    log.info("The login could not be sent with the first request (%s)", exc)
                else:
                    self._opened["login"] = login
        finally:
            self._login_done.set()
        spare = self._open(ctx, "spare")
        if spare is not None:
            self._opened["spare"] = spare

    def _open(self, ctx: ssl.SSLContext, kind: str) -> http.client.HTTPSConnection | None:
        try:
            return _connected(self._ep, ctx, self._timeout)
        except (OSError, http.client.HTTPException) as exc:
            log.info("The %s connection beside the first could not be opened (%s)", kind, exc)
            return None

    def login(self) -> http.client.HTTPSConnection | None:
        """The connection the login was sent on, once sent; None when it could not be."""
        if self._thread is not None:
            self._login_done.wait()
        return self._opened.get("login")

    def spare(self) -> http.client.HTTPSConnection | None:
        """The spare connection once opened, or None."""
        if self._thread is not None:
            self._thread.join()
        return self._opened.get("spare")

    def discard(self) -> None:
        """Close them (after their handshakes), without reading any answer."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        for conn in self._opened.values():
            conn.close()
        self._opened.clear()


@dataclass
class FirstRequest:
    """``RetrieveServiceContent`` on its way, and maybe ``Login`` beside it.

    Attributes:
        endpoint: where it was sent.
        context: the TLS context that verified the server's certificate (the session keeps
            it for all its connections).
        connection: the connection it was sent on; its answer is not read yet.
    """

    endpoint: Endpoint
    context: ssl.SSLContext
    connection: http.client.HTTPSConnection
    _beside: _Beside | None = None

    def login(self) -> http.client.HTTPSConnection | None:
        """The connection ``Login`` was sent on (its answer not read yet), or None when it was
        not sent (see the module's docstring) or could not be."""
        return self._beside.login() if self._beside is not None else None

    def spare(self) -> http.client.HTTPSConnection | None:
        """A connection opened beside the first, or None."""
        return self._beside.spare() if self._beside is not None else None

    def abandon(self) -> None:
        """Close the connections without reading the answers."""
        self.connection.close()
        if self._beside is not None:
            self._beside.discard()


def _connected(ep: Endpoint, ctx: ssl.SSLContext, timeout: float) -> http.client.HTTPSConnection:
    """A connection whose TLS handshake has verified the server with ``ctx``."""
    conn = http.client.HTTPSConnection(ep.host, ep.port, timeout=timeout, context=ctx)
    try:
        conn.connect()
    except BaseException:
        conn.close()
        raise
    return conn


def send_first(
    ep: Endpoint,
    trust: TrustPolicy,
    timeout: float,
    credentials: tuple[str, str] | None = None,
) -> FirstRequest:
    """Verify the server's certificate as ``trust`` says, then send ``RetrieveServiceContent``;
    with ``credentials`` (user, password), ``Login`` beside it when it may leave now (see the
    module's docstring).

    Raises:
        CertificateUntrusted, CertificateChanged, FingerprintMismatch, …: the certificate is
            not trusted (see :meth:`TrustPolicy.context_after_verify_failure`); nothing was
            sent.
        HostNotFound, ConnectionRefused, TimedOut, TlsFailed, ConnectionLost: see
            :mod:`wizard.vsphere.errors`.
    """
    beside: _Beside | None = None
    try:
        if credentials is not None and trust.identity_cannot_stop(ep.host, ep.port):
            beside = _Beside(ep, timeout, login_request(*credentials))
        ctx = trust.known_context(ep.host, ep.port, timeout) or trust.ssl_context_for(
            ep.host, ep.port
        )
        # The handshakes beside the first are made at the same time as its own with a context
        # of the standard library (a pinned certificate or a trusted authority); the OS trust
        # store's (truststore) makes one handshake at a time, so they follow the first's.
        at_once = type(ctx) is ssl.SSLContext
        if beside is not None and at_once:
            beside.start(ctx)
        try:
            conn = _connected(ep, ctx, timeout)
            if beside is not None and not at_once:
                beside.start(ctx)
        except ssl.SSLCertVerificationError as first:
            log.info("Certificate of %s not verified: %s", ep, first.verify_message)
            if beside is not None:
                beside.discard()
            ctx = trust.context_after_verify_failure(ep.host, ep.port, timeout, first)
            if beside is not None:
                beside.start(ctx)
            try:
                conn = _connected(ep, ctx, timeout)
            except ssl.SSLCertVerificationError as second:
                # Trusted, yet it does not verify: its dates are out of range.
                info = fetch_certificate(ep.host, ep.port, timeout)
                raise CertificateUntrusted(info, reason=second.verify_message or "") from None
        first_request = FirstRequest(ep, ctx, conn, beside)
        try:
            conn.request("POST", PATH, SERVICE_CONTENT_REQUEST, _headers())
        except BaseException:
            first_request.abandon()
            raise
    except BaseException as exc:
        if beside is not None:
            beside.discard()
        if isinstance(exc, VsphereError) or not isinstance(
            exc, OSError | http.client.HTTPException
        ):
            raise
        raise translate(exc, ep.netloc, timeout) from exc
    return first_request


def _headers() -> dict[str, str]:
    # pyVmomi's stub sends its own User-Agent from the next request on (the Login's is the one
    # vCenter shows in its session list); no cookie yet: the answer brings the session's.
    return {
        "SOAPAction": SOAP_ACTION,
        "Content-Type": "text/xml; charset=UTF-8",
        "Accept-Encoding": "gzip, deflate",
        "User-Agent": f"checkpoint-wizard/{__version__} Python/{sys.version.split()[0]}",
    }
