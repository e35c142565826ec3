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
failure, the one the policy gives, or a typed error); the request carries no credential.
"""

from __future__ import annotations

import http.client
import logging
import ssl
import sys
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


@dataclass
class FirstRequest:
    """``RetrieveServiceContent`` on its way.

    Attributes:
        endpoint: where it was sent.
        context: the TLS context that verified the server's certificate (the session keeps
            it for all its connections).
        connection: the connection it was sent on; its answer is not read yet.
    """

    endpoint: Endpoint
    context: ssl.SSLContext
    connection: http.client.HTTPSConnection

    def abandon(self) -> None:
        """Close the connection without reading the answer."""
        self.connection.close()


def _connected(ep: Endpoint, ctx: ssl.SSLContext, timeout: float) -> http.client.HTTPSConnection:
    """A connection whose TLS handshake has verified the server with ``ctx``."""
    conn = http.client.HTTPSConnection(ep.host, ep.port, timeout=timeout, context=ctx)
    try:
        conn.connect()
    except BaseException:
        conn.close()
        raise
    return conn


def send_first(ep: Endpoint, trust: TrustPolicy, timeout: float) -> FirstRequest:
    """Verify the server's certificate as ``trust`` says, then send ``RetrieveServiceContent``.

    Raises:
        CertificateUntrusted, CertificateChanged, FingerprintMismatch, …: the certificate is
            not trusted (see :meth:`TrustPolicy.context_after_verify_failure`); nothing was
            sent.
        HostNotFound, ConnectionRefused, TimedOut, TlsFailed, ConnectionLost: see
            :mod:`wizard.vsphere.errors`.
    """
    try:
        ctx = trust.ssl_context_for(ep.host, ep.port)
        try:
            conn = _connected(ep, ctx, timeout)
        except ssl.SSLCertVerificationError as first:
            log.info("Certificate of %s not verified: %s", ep, first.verify_message)
            ctx = trust.context_after_verify_failure(ep.host, ep.port, timeout, first)
            try:
                conn = _connected(ep, ctx, timeout)
            except ssl.SSLCertVerificationError as second:
                # Trusted, yet it does not verify: its dates are out of range.
                info = fetch_certificate(ep.host, ep.port, timeout)
                raise CertificateUntrusted(info, reason=second.verify_message or "") from None
        try:
            conn.request("POST", PATH, SERVICE_CONTENT_REQUEST, _headers())
        except BaseException:
            conn.close()
            raise
    except VsphereError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        raise translate(exc, ep.netloc, timeout) from exc
    return FirstRequest(ep, ctx, conn)


def _headers() -> dict[str, str]:
    # pyVmomi's stub sends its own User-Agent from the next request on (the Login's is the one
    # vCenter shows in its session list); no cookie yet: the answer brings the session's.
    return {
        "SOAPAction": SOAP_ACTION,
        "Content-Type": "text/xml; charset=UTF-8",
        "Accept-Encoding": "gzip, deflate",
        "User-Agent": f"checkpoint-wizard/{__version__} Python/{sys.version.split()[0]}",
    }
