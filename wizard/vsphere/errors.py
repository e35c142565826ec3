"""Typed errors of the vSphere gateway, each saying what happened and what to do next.

Only the UI decides how to show them; every one carries ``message`` (what happened, in the
technician's words), ``next_step`` (what to do about it) and its class's ``category`` (what kind
of failure it is: the GUI's wording and the command line's exit code follow it).
:func:`translate` turns what pyVmomi, the socket layer and ``ssl`` raise into these. No message
ever contains a password: none is built from the arguments of a call.

This module loads no pyVmomi until :func:`translate` runs, so the GUI can catch these errors by
their own classes without loading pyVmomi before its first window.
"""

from __future__ import annotations

import enum
import http.client
import socket
import ssl
import xml.parsers.expat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from wizard.vsphere.certificate import CertificateInfo


class ErrorCategory(enum.StrEnum):
    """What kind of failure an error is. The command line's exit code follows it (README)."""

    USAGE = "usage"
    """Bad input, refused before anything was sent (exit 2)."""
    LOGIN = "login"
    """vCenter refused the user name or password (exit 3)."""
    CONNECTION = "connection"
    """vCenter could not be reached, or the connection or session broke (exit 3)."""
    CERTIFICATE = "certificate"
    """vCenter's certificate is not trusted, or not the one pinned (exit 3)."""
    NOT_FOUND = "not_found"
    """The VM (or another object) is not there, or not only one matches (exit 4)."""
    REFUSED = "refused"
    """Refused on purpose: no permission, no consent, a stale plan, a busy VM (exit 5)."""
    FAILED = "failed"
    """Anything else that went wrong (exit 6)."""


class VsphereError(Exception):
    """Something went wrong talking to vCenter.

    Attributes:
        message: what happened, in the technician's words.
        next_step: what to do about it.
        category: what kind of failure it is (a class attribute; :attr:`ErrorCategory.FAILED`
            unless a subclass says otherwise).
    """

    category: ClassVar[ErrorCategory] = ErrorCategory.FAILED

    def __init__(self, message: str, next_step: str) -> None:
        """Keep the two texts; ``str(error)`` is the message."""
        super().__init__(message)
        self.message = message
        self.next_step = next_step

    def __str__(self) -> str:
        return self.message


class LoginFailed(VsphereError):
    """vCenter refused the user name or password (``vim.fault.InvalidLogin``)."""

    category = ErrorCategory.LOGIN

    def __init__(self, user: str | None = None) -> None:
        """Name the user (never the password)."""
        who = f" for {user}" if user else ""
        super().__init__(
            f"vCenter refused the user name or password{who}.",
            "Check the user name (with its domain, e.g. user@vsphere.local or DOMAIN\\user) and "
            "type the password again. Repeated failures may lock the account.",
        )
        self.user = user


class EmptyPassword(VsphereError):
    """No password was given: refused before connecting, so vCenter never counts a failed login."""

    category = ErrorCategory.USAGE

    def __init__(self, user: str) -> None:
        """Name the user (there is no password to name)."""
        super().__init__(
            f"No password was given for {user}, so nothing was sent to vCenter.",
            "Type the password: vCenter would only refuse an empty one, and repeated failed "
            "logins may lock the account.",
        )
        self.user = user


class NoPermission(VsphereError):
    """The user lacks a privilege (``vim.fault.NoPermission``): both are named."""

    category = ErrorCategory.REFUSED

    def __init__(self, privilege: str, object_name: str) -> None:
        """Name the missing privilege and the object it is missing on."""
        super().__init__(
            f"This account lacks the privilege {privilege} on {object_name}.",
            f"Ask a vSphere administrator to grant {privilege} on {object_name} to your account "
            "(or a role that includes it), or sign in with an account that has it.",
        )
        self.privilege = privilege
        self.object_name = object_name


class HostNotFound(VsphereError):
    """The vCenter name does not resolve (DNS)."""

    category = ErrorCategory.CONNECTION

    def __init__(self, host: str) -> None:
        """Name the host that did not resolve."""
        super().__init__(
            f"The name {host} could not be found (DNS).",
            "Check the spelling of the vCenter name, or use its IP address. If you are at home, "
            "check that the VPN is connected.",
        )
        self.host = host


class ConnectionRefused(VsphereError):
    """Nothing accepts connections on that host and port."""

    category = ErrorCategory.CONNECTION

    def __init__(self, endpoint: str) -> None:
        """Name the host:port that refused."""
        super().__init__(
            f"{endpoint} refused the connection: nothing is listening on that port.",
            "Check the port (vCenter uses 443 unless told otherwise) and that the vCenter "
            "services are running.",
        )
        self.endpoint = endpoint


class TimedOut(VsphereError):
    """The server did not answer within the time allowed."""

    category = ErrorCategory.CONNECTION

    def __init__(self, endpoint: str, timeout: float | None = None) -> None:
        """Name the endpoint and, when known, the time waited."""
        waited = f" within {timeout:g} second{'' if timeout == 1 else 's'}" if timeout else ""
        super().__init__(
            f"{endpoint} did not answer{waited}.",
            "Check the network path (VPN, firewall) and try again; a vCenter under heavy load "
            "may answer later.",
        )
        self.endpoint = endpoint
        self.timeout = timeout


class CertificateUntrusted(VsphereError):
    """The server's certificate is not trusted yet: the technician decides.

    Attributes:
        info: the certificate presented (fingerprint, subject, issuer, validity).
        reason: why verification failed, as OpenSSL says it (e.g. "self-signed certificate").
    """

    category = ErrorCategory.CERTIFICATE

    def __init__(self, info: CertificateInfo, reason: str = "") -> None:
        """Keep the presented certificate for the fingerprint dialog."""
        because = f" ({reason})" if reason else ""
        names = ", ".join(info.names)
        other_name = (
            f" It is issued for {names}, not for {info.host}."
            if names and not info.valid_for(info.host)
            else ""
        )
        super().__init__(
            f"The certificate of {info.host}:{info.port} is not trusted by this computer"
            f"{because}. Its SHA-256 fingerprint is {info.sha256}.{other_name}",
            "Compare the fingerprint with the one your vSphere administrator gives you (vCenter "
            "shows it in its appliance management). Trust it only if they match."
            + (" Better: connect with one of the names it is issued for." if other_name else ""),
        )
        self.info = info
        self.reason = reason


class FingerprintMismatch(CertificateUntrusted):
    """The certificate is not the one whose fingerprint the technician gave: not trusted.

    A :class:`CertificateUntrusted` (it is not trusted), with a message that says the given
    fingerprint did not match, instead of reading as if none had been given.

    Attributes:
        expected: the SHA-256 fingerprint given, in the ``AB:CD:…`` form.
    """

    def __init__(self, info: CertificateInfo, expected: str, reason: str = "") -> None:
        """Keep the presented certificate and the fingerprint that was expected."""
        super().__init__(info, reason)
        self.expected = expected
        self.message = (
            f"The certificate of {info.host}:{info.port} does not match the fingerprint you "
            f"gave (--trust-fingerprint), so it was not trusted and no password was sent. "
            f"Given: SHA-256 {expected}. Presented: SHA-256 {info.sha256}."
        )
        self.next_step = (
            "Check that the address is your vCenter's and copy the fingerprint again from your "
            "vSphere administrator (vCenter shows it in its appliance management). If both are "
            "right, the certificate was replaced or someone is intercepting the connection: do "
            "not connect until an administrator has confirmed the new fingerprint."
        )
        self.args = (self.message,)


class CertificateChanged(VsphereError):
    """A pinned certificate was replaced by another one: stop and warn."""

    category = ErrorCategory.CERTIFICATE

    def __init__(self, pinned: CertificateInfo, presented: CertificateInfo) -> None:
        """Keep both certificates so the warning can show the difference."""
        same_name = (pinned.host.lower(), pinned.port) == (presented.host.lower(), presented.port)
        where = (
            ""
            if same_name
            else f" (you trusted it as {pinned.host}:{pinned.port}: the same vCenter, reached by "
            "another name)"
        )
        super().__init__(
            f"The certificate of {presented.host}:{presented.port} has changed since you trusted "
            f"it{where}. Trusted: {pinned.sha256}. Now presented: {presented.sha256}.",
            "Do not continue until a vSphere administrator confirms that vCenter's certificate "
            "was replaced on purpose; someone may be intercepting the connection. Once confirmed, "
            "forget the old certificate and trust the new one.",
        )
        self.pinned = pinned
        self.presented = presented


class AuthorityChanged(CertificateChanged):
    """The certificate is not issued by the authority trusted for this vCenter: stop and warn.

    The same stop as a changed pinned certificate (it is one: what was trusted no longer
    vouches for what is presented), worded for an authority.

    Attributes:
        pinned: the authority trusted for this vCenter (its root certificate).
        presented: the certificate presented now.
    """

    def __init__(
        self,
        authority: CertificateInfo,
        presented: CertificateInfo,
        *,
        another_vcenter: bool = False,
    ) -> None:
        """Keep the authority and the certificate it did not issue (or, with
        ``another_vcenter``, that it issued to another vCenter than the one it was trusted for).
        """
        super().__init__(authority, presented)
        same_name = (authority.host.lower(), authority.port) == (
            presented.host.lower(),
            presented.port,
        )
        where = (
            ""
            if same_name
            else f" (you trusted it as {authority.host}:{authority.port}: the same vCenter, "
            "reached by another name)"
        )
        trusted = (
            f"Trusted authority: {authority.subject or '(no name)'}, SHA-256 {authority.sha256}."
        )
        if another_vcenter:
            self.message = (
                f"{presented.host}:{presented.port} is not the vCenter whose certificate "
                "authority you trusted there: it names itself as another vCenter, so the "
                f"authority does not vouch for it. {trusted} Presented: SHA-256 "
                f"{presented.sha256}."
            )
        else:
            self.message = (
                f"The certificate of {presented.host}:{presented.port} has changed: it was not "
                f"issued by the certificate authority you trusted for this vCenter{where}. "
                f"{trusted} Now presented: SHA-256 {presented.sha256}, issued by "
                f"{presented.issuer or '(no name)'}."
            )
        self.next_step = (
            "Do not continue until a vSphere administrator confirms that vCenter's certificate "
            "authority was replaced on purpose; someone may be intercepting the connection. Once "
            "confirmed, forget the old authority (File > Settings in the wizard) and trust the "
            "new one."
        )
        self.args = (self.message,)


class AuthorityMismatch(CertificateUntrusted):
    """The certificate is not issued by the authority whose fingerprint the technician gave.

    Attributes:
        expected: the authority's SHA-256 fingerprint as given, ``AB:CD:…``.
        found: the authority that did issue it, when the server offered it; else None.
    """

    def __init__(
        self,
        info: CertificateInfo,
        expected: str,
        found: CertificateInfo | None,
        reason: str = "",
    ) -> None:
        """Keep the presented certificate, the fingerprint given and what was found."""
        super().__init__(info, reason)
        self.expected = expected
        self.found = found
        issuer = (
            f"It was issued by the authority SHA-256 {found.sha256} ({found.subject})."
            if found is not None
            else f"Its issuer ({info.issuer or 'no name'}) is not among the authorities the "
            "server offers."
        )
        self.message = (
            f"The certificate of {info.host}:{info.port} was not issued by the certificate "
            f"authority you named (--trust-ca-fingerprint {expected}), so it was not trusted "
            f"and no password was sent. {issuer}"
        )
        self.next_step = (
            "Check that the address is your vCenter's and copy the authority's fingerprint "
            "again from your vSphere administrator. If both are right, the authority was "
            "replaced or someone is intercepting the connection: do not connect until an "
            "administrator has confirmed the new fingerprint."
        )
        self.args = (self.message,)


class AuthorityUnavailable(VsphereError):
    """The certificate authorities a vCenter offers could not be fetched or were refused.

    Attributes:
        endpoint: ``host:port``.
        detail: what went wrong, in words.
    """

    category = ErrorCategory.CERTIFICATE

    def __init__(self, endpoint: str, detail: str) -> None:
        """Name the vCenter and what went wrong; nothing was trusted or saved."""
        super().__init__(
            f"The certificate authority of {endpoint} could not be used: {detail}. Nothing was "
            "trusted or saved.",
            "Compare the certificate's own fingerprint with your vSphere administrator and trust "
            "it instead, or ask them for the authority's certificate.",
        )
        self.endpoint = endpoint
        self.detail = detail


class TlsFailed(VsphereError):
    """The TLS handshake failed for a reason other than an untrusted certificate."""

    category = ErrorCategory.CONNECTION

    def __init__(self, endpoint: str, detail: str) -> None:
        """Name the endpoint and OpenSSL's reason."""
        super().__init__(
            f"A secure connection to {endpoint} could not be set up ({detail}).",
            "Check that this is the vCenter's HTTPS port; an old vCenter may need TLS settings "
            "that this computer refuses.",
        )
        self.endpoint = endpoint
        self.detail = detail


class NotVsphere(VsphereError):
    """The server answers, but it is not a vCenter or ESXi SOAP endpoint."""

    category = ErrorCategory.CONNECTION

    def __init__(self, endpoint: str, detail: str = "") -> None:
        """Name the endpoint and what it answered instead."""
        what = f" ({detail})" if detail else ""
        super().__init__(
            f"{endpoint} answers, but it is not a vCenter Server or ESXi host{what}.",
            "Check the address: use the vCenter's own name, not that of another web server.",
        )
        self.endpoint = endpoint
        self.detail = detail


class ApiTooOld(VsphereError):
    """The vCenter's API is older than this product supports (6.5)."""

    category = ErrorCategory.CONNECTION

    def __init__(self, version: str) -> None:
        """Name the version found."""
        super().__init__(
            f"This vCenter speaks API version {version}; version 6.5 or later is needed.",
            "Use the vSphere Client for this VM, or ask to have vCenter upgraded.",
        )
        self.version = version


class SessionExpired(VsphereError):
    """The vCenter session ended (timeout or logout) and could not be renewed."""

    category = ErrorCategory.CONNECTION

    def __init__(self) -> None:
        """No details needed."""
        super().__init__(
            "The vCenter session has ended.",
            "Connect again.",
        )


class VmNotFound(VsphereError):
    """No VM matches what was typed."""

    category = ErrorCategory.NOT_FOUND

    def __init__(self, query: str, close_matches: tuple[str, ...] = ()) -> None:
        """Name the query and the closest names found."""
        maybe = f" Did you mean: {', '.join(close_matches)}?" if close_matches else ""
        super().__init__(
            f"No VM named or addressed {query!r} was found.{maybe}",
            "Check the spelling, or search by the VM's DNS name or IP address.",
        )
        self.query = query
        self.close_matches = close_matches


class MorefNotFound(VmNotFound):
    """No VM has the managed object id asked for (looked up as an id only, never as a name)."""

    def __init__(self, moref: str) -> None:
        """Name the id."""
        super().__init__(moref)
        self.message = f"No VM has the managed object id {moref!r} in this vCenter."
        self.next_step = (
            "Copy the id exactly as it was listed (e.g. vm-42): it is matched as an id only, "
            "never as a VM's name."
        )
        self.args = (self.message,)


class VmAmbiguous(VsphereError):
    """Several VMs match what was typed (same name in two folders, or a shared IP).

    Attributes:
        query: what was typed.
        matches: (name, moref) of every VM matched.
        where: moref -> what tells that VM apart from the others (folder, host, instance
            UUID), where it could be read.
    """

    category = ErrorCategory.NOT_FOUND

    def __init__(
        self,
        query: str,
        matches: tuple[tuple[str, str], ...],
        where: Mapping[str, str] | None = None,
    ) -> None:
        """Name the query and every VM it matched, with what tells them apart."""
        where = dict(where or {})
        listed = ", ".join(
            f"{name} ({moref}; {where[moref]})" if moref in where else f"{name} ({moref})"
            for name, moref in matches
        )
        example = matches[0][1] if matches else "vm-42"
        super().__init__(
            f"{len(matches)} VMs match {query!r}: {listed}.",
            f"Choose one by its managed object id (e.g. {example}): an id belongs to one VM "
            "only, while a name, even one that looks like an id, may be shared.",
        )
        self.query = query
        self.matches = matches
        self.where = where


class VmGone(VsphereError):
    """The VM (or another object) no longer exists: deleted, or moved to another vCenter."""

    category = ErrorCategory.NOT_FOUND

    def __init__(self, moref: str) -> None:
        """Name the managed object id that vanished."""
        super().__init__(
            f"The object {moref} no longer exists in this vCenter (deleted, unregistered or "
            "moved).",
            "Search for the VM again.",
        )
        self.moref = moref


class ConnectionLost(VsphereError):
    """The connection broke while talking to vCenter."""

    category = ErrorCategory.CONNECTION

    def __init__(self, endpoint: str, detail: str = "") -> None:
        """Name the endpoint and what broke."""
        what = f" ({detail})" if detail else ""
        super().__init__(
            f"The connection to {endpoint} was lost{what}.",
            "Check the network and connect again; nothing was changed by the interrupted step "
            "unless the journal says so.",
        )
        self.endpoint = endpoint
        self.detail = detail


class ServerFault(VsphereError):
    """vCenter refused a request for a reason not covered above.

    Attributes:
        fault: the vSphere fault type, e.g. ``"vim.fault.InvalidPowerState"``.
        detail: vCenter's own message for it.
    """

    category = ErrorCategory.FAILED

    def __init__(self, fault: str, detail: str) -> None:
        """Name the fault type and vCenter's message."""
        super().__init__(
            f"vCenter refused the request: {detail or fault}",
            f"Look up {fault} in the vSphere documentation, or ask a vSphere administrator.",
        )
        self.fault = fault
        self.detail = detail


class PinStoreUnreadable(VsphereError):
    """The file of pinned certificates exists but cannot be read."""

    category = ErrorCategory.USAGE

    def __init__(self, path: Path, detail: str) -> None:
        """Name the file and what is wrong with it."""
        super().__init__(
            f"The list of trusted vCenter certificates ({path}) cannot be read: {detail}.",
            "Rename or delete that file; you will then be asked again to confirm each vCenter's "
            "certificate.",
        )
        self.path = path
        self.detail = detail


def _moref_of(obj: Any) -> str:
    moid = getattr(obj, "_moId", None)
    if moid:
        return str(moid)
    return str(obj) if obj is not None else "(unknown object)"


def _fault_message(exc: Any) -> str:
    msg = getattr(exc, "msg", None) or ""
    if not msg:
        for lm in getattr(exc, "faultMessage", None) or ():
            msg = getattr(lm, "message", "") or ""
            if msg:
                break
    return str(msg)


def _no_permission(exc: Any) -> NoPermission:
    privilege = getattr(exc, "privilegeId", None)
    obj = getattr(exc, "object", None)
    # vSphere 7.0 and later may name them in missingPrivileges instead.
    for missing in getattr(exc, "missingPrivileges", None) or ():
        privs = list(getattr(missing, "privilegeIds", None) or ())
        if privs and not privilege:
            privilege = privs[0]
            obj = getattr(missing, "entity", None) or obj
    return NoPermission(str(privilege or "(not named by vCenter)"), _moref_of(obj))


def translate(
    exc: BaseException, endpoint: str = "vCenter", timeout: float | None = None
) -> VsphereError:
    """Turn what pyVmomi, ``socket``, ``ssl`` or ``http.client`` raised into a typed error.

    Args:
        exc: the exception caught.
        endpoint: ``host:port`` to name in the message.
        timeout: the timeout in force, for :class:`TimedOut`'s message.

    Returns:
        The typed error (``exc`` itself when it already is one). Anything unknown becomes a
        plain :class:`VsphereError` naming the exception type.
    """
    # Imported here, not at the top: catching these errors (the GUI does) must not load pyVmomi.
    from wizard.vsphere._pyvmomi import vim, vmodl

    if isinstance(exc, VsphereError):
        return exc
    if isinstance(exc, vim.fault.InvalidLogin):
        return LoginFailed()
    if isinstance(exc, vim.fault.NotAuthenticated):  # a subclass of NoPermission: test it first
        return SessionExpired()
    if isinstance(exc, vim.fault.NoPermission):
        return _no_permission(exc)
    if isinstance(exc, vmodl.fault.ManagedObjectNotFound):
        return VmGone(_moref_of(getattr(exc, "obj", None)))
    if isinstance(exc, vmodl.MethodFault):
        return ServerFault(type(exc).__name__, _fault_message(exc))
    if isinstance(exc, socket.gaierror):
        return HostNotFound(endpoint.rsplit(":", 1)[0].strip("[]"))
    if isinstance(exc, ConnectionRefusedError):
        return ConnectionRefused(endpoint)
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError since Python 3.10
        return TimedOut(endpoint, timeout)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TlsFailed(endpoint, exc.verify_message or "certificate verification failed")
    if isinstance(exc, ssl.SSLError):
        return TlsFailed(endpoint, getattr(exc, "reason", None) or str(exc))
    if isinstance(exc, http.client.RemoteDisconnected | ConnectionError):
        return ConnectionLost(endpoint, "the server closed the connection")
    if isinstance(exc, http.client.HTTPException):
        return ConnectionLost(endpoint, f"unexpected HTTP answer: {exc}")
    if isinstance(exc, xml.parsers.expat.ExpatError):
        return ConnectionLost(endpoint, "the answer was not a vSphere SOAP message")
    if isinstance(exc, OSError):
        return ConnectionLost(endpoint, exc.strerror or type(exc).__name__)
    return VsphereError(
        f"Unexpected error talking to {endpoint}: {type(exc).__name__}.",
        "Try again; if it persists, send the log file to the wizard's maintainers.",
    )
