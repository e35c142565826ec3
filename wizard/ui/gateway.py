"""What the pages need from vCenter and from the article's rules, behind one injectable object.

The pages never import ``wizard.vsphere`` or ``wizard.kb`` functions directly: they call a
:class:`Gateway` through the worker thread (every method here may block on the network unless
it says otherwise). :class:`VsphereGateway` is the real one; tests hand in a stand-in with the
same methods. Errors reach the pages as the three exception types below, already worded for a
technician (message plus next step), so only this module knows ``wizard.vsphere``'s errors.

No Qt here: this module runs on the worker thread.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from wizard.kb.facts import EvidenceItem, VmFacts, VmSummary
from wizard.kb.model import Assessment, Remedy

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_EVIDENCE_DAYS = 30


class PinnedLike(Protocol):
    """A pinned certificate as listed (``wizard.vsphere.tls.PinnedEntry``)."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    @property
    def not_after(self) -> datetime | None: ...


class CertificateLike(PinnedLike, Protocol):
    """The certificate details the trust dialog shows (``wizard.vsphere.certificate``)."""

    @property
    def subject(self) -> str: ...
    @property
    def issuer(self) -> str: ...
    @property
    def not_before(self) -> datetime | None: ...
    @property
    def names(self) -> tuple[str, ...]: ...
    @property
    def key(self) -> str: ...
    @property
    def signature_algorithm(self) -> str: ...
    @property
    def self_signed(self) -> bool: ...
    @property
    def is_ca(self) -> bool: ...
    @property
    def chain(self) -> Sequence[CertificateLike]: ...
    def valid_for(self, host: str) -> bool: ...


class VmRefLike(Protocol):
    """A VM found by name, DNS name or IP (``wizard.vsphere.inventory.VmRef``)."""

    @property
    def name(self) -> str: ...
    @property
    def moref(self) -> str: ...


class SessionLike(Protocol):
    """An open vCenter session; only the worker thread touches it."""

    def close(self) -> None: ...


class GatewayFailure(Exception):
    """A failure worded for the technician.

    Attributes:
        message: what went wrong.
        next_step: what to do about it.
        kind: ``"login"``, ``"connection"``, ``"permission"``, ``"not_found"`` or ``"other"``.
        close_matches: for ``not_found``: names that look like what was asked for.
    """

    def __init__(
        self,
        message: str,
        next_step: str = "",
        kind: str = "other",
        close_matches: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.next_step = next_step
        self.kind = kind
        self.close_matches = tuple(close_matches)


class UntrustedCertificate(Exception):
    """vCenter presented a certificate that neither the OS nor a pin vouches for.

    Attributes:
        info: the certificate, for the technician to compare.
    """

    def __init__(self, info: CertificateLike) -> None:
        super().__init__(f"untrusted certificate from {info.host}:{info.port}")
        self.info = info


class ChangedCertificate(Exception):
    """vCenter presented a certificate other than the one pinned for it: a stop, not a question.

    Attributes:
        pinned: the certificate trusted before (with ``authority``: the authority trusted).
        presented: the one presented now.
        authority: whether what was trusted is the vCenter's certificate authority.
    """

    def __init__(
        self, pinned: CertificateLike, presented: CertificateLike, *, authority: bool = False
    ) -> None:
        super().__init__(f"certificate of {presented.host}:{presented.port} changed")
        self.pinned = pinned
        self.presented = presented
        self.authority = authority  # what was trusted is the vCenter's authority, not a pin


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: the facts, the verdict and the four workarounds."""

    facts: VmFacts
    assessment: Assessment
    remedies: tuple[Remedy, ...]


class Gateway(Protocol):
    """Everything the wizard asks of vCenter and of the rules."""

    def parse_endpoint(self, text: str) -> str:
        """Return the normalised ``host:port``; raise ValueError with a message. Does not block."""
        ...

    def connect(
        self, endpoint: str, user: str, password: str, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> SessionLike:
        """Log in. Raises UntrustedCertificate, ChangedCertificate or GatewayFailure."""
        ...

    def trust_once(self, info: CertificateLike) -> None:
        """Accept this certificate for this run of the program only. Does not block."""
        ...

    def pin(self, info: CertificateLike) -> None:
        """Accept this certificate from now on (written to the pin store). Does not block."""
        ...

    def fetch_authority(
        self, info: CertificateLike, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> CertificateLike:
        """The vCenter's certificate authority that issued ``info`` (from its
        ``/certs/download.zip``), to show before it is trusted. Raises GatewayFailure."""
        ...

    def trust_authority(self, authority: CertificateLike) -> None:
        """Accept what this authority issues for its vCenter's name from now on (stored).
        Does not block."""
        ...

    def list_vms(self, session: Any) -> list[VmSummary]:
        """Every VM, from one bulk read."""
        ...

    def find_vms(self, session: Any, query: str) -> list[VmRefLike]:
        """VMs whose name, DNS name or IP matches ``query`` (may be empty)."""
        ...

    def check(
        self, session: Any, moref: str, *, evidence_days: int = DEFAULT_EVIDENCE_DAYS
    ) -> CheckResult:
        """Read the VM's facts (failure events of the last ``evidence_days``) and judge them."""
        ...

    def read_vm_log(self, session: Any, facts: VmFacts) -> tuple[EvidenceItem, ...]:
        """Search the VM's ``vmware.log`` for the failure's signatures."""
        ...

    def judge(self, facts: VmFacts) -> CheckResult:
        """Judge facts again (e.g. with log evidence added). Pure: does not block."""
        ...

    def remedies(
        self,
        assessment: Assessment,
        facts: VmFacts,
        *,
        buffer_bytes: int | None = None,
        lower_resolution_variant: str = ...,
    ) -> tuple[Remedy, ...]:
        """The four workarounds with these options. Pure: does not block.

        ``lower_resolution_variant`` is the technician's choice (``"cap"`` or ``"guest"``); left
        out, the rules choose (the guest variant when the VM runs and this account may not
        power it off and on).
        """
        ...


def missing_backend() -> str | None:
    """The first module of the real back end that is not importable, or None when all are."""
    for name in (
        "wizard.kb",
        "wizard.vsphere.session",
        "wizard.vsphere.tls",
        "wizard.vsphere.errors",
        "wizard.vsphere.inventory",
        "wizard.vsphere.facts",
        "wizard.vsphere.evidence",
    ):
        try:
            if importlib.util.find_spec(name) is None:
                return name
        except ModuleNotFoundError:
            return name
    import wizard.kb

    if not hasattr(wizard.kb, "assess"):
        return "wizard.kb.assess"
    return None


class VsphereGateway:
    """The real gateway over ``wizard.vsphere`` and ``wizard.kb`` (imported on first use)."""

    def __init__(self) -> None:
        self._trust: Any = None

    def _policy(self) -> Any:
        if self._trust is None:
            tls = _m("wizard.vsphere.tls")
            self._trust = tls.TrustPolicy(pins=tls.JsonPinStore())
        return self._trust

    def parse_endpoint(self, text: str) -> str:
        return str(_m("wizard.vsphere.session").parse_endpoint(text.strip()))

    def connect(
        self, endpoint: str, user: str, password: str, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> SessionLike:
        errors = _m("wizard.vsphere.errors")
        mod = _m("wizard.vsphere.session")

        try:
            session: SessionLike = mod.Session.connect(
                mod.parse_endpoint(endpoint), user, password, trust=self._policy(), timeout=timeout
            )
        except errors.CertificateUntrusted as exc:
            raise UntrustedCertificate(exc.info) from None
        except errors.CertificateChanged as exc:
            authority = isinstance(exc, errors.AuthorityChanged)
            raise ChangedCertificate(exc.pinned, exc.presented, authority=authority) from None
        except errors.VsphereError as exc:
            raise _failure(exc) from None
        return session

    def trust_once(self, info: CertificateLike) -> None:
        self._policy().trust_once(info)

    def pin(self, info: CertificateLike) -> None:
        self._policy().pin(info)

    def fetch_authority(
        self, info: CertificateLike, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> CertificateLike:
        errors = _m("wizard.vsphere.errors")
        try:
            found: CertificateLike = _m("wizard.vsphere.tls").fetch_authority(info, timeout)
        except errors.VsphereError as exc:
            raise _failure(exc) from None
        return found

    def trust_authority(self, authority: CertificateLike) -> None:
        self._policy().trust_authority(authority)

    def list_vms(self, session: Any) -> list[VmSummary]:
        errors = _m("wizard.vsphere.errors")
        list_vms = _m("wizard.vsphere.inventory").list_vms

        try:
            return list(list_vms(session))
        except errors.VsphereError as exc:
            raise _failure(exc) from None

    def find_vms(self, session: Any, query: str) -> list[VmRefLike]:
        errors = _m("wizard.vsphere.errors")
        find_vms = _m("wizard.vsphere.inventory").find_vms

        try:
            return list(find_vms(session, query))
        except errors.VmNotFound as exc:
            raise GatewayFailure(
                exc.message, exc.next_step, "not_found", getattr(exc, "close_matches", ())
            ) from None
        except errors.VsphereError as exc:
            raise _failure(exc) from None

    def check(
        self, session: Any, moref: str, *, evidence_days: int = DEFAULT_EVIDENCE_DAYS
    ) -> CheckResult:
        errors = _m("wizard.vsphere.errors")
        collect_facts = _m("wizard.vsphere.facts").collect_facts

        try:
            facts = collect_facts(session, moref, evidence_days=evidence_days)
        except errors.VsphereError as exc:
            raise _failure(exc) from None
        return self.judge(facts)

    def read_vm_log(self, session: Any, facts: VmFacts) -> tuple[EvidenceItem, ...]:
        errors = _m("wizard.vsphere.errors")
        read_vm_log = _m("wizard.vsphere.evidence").read_vm_log

        try:
            return tuple(read_vm_log(session, facts))
        except errors.VsphereError as exc:
            raise _failure(exc) from None

    def judge(self, facts: VmFacts) -> CheckResult:
        assessment: Assessment = _m("wizard.kb").assess(facts)
        return CheckResult(facts, assessment, self.remedies(assessment, facts))

    def remedies(
        self,
        assessment: Assessment,
        facts: VmFacts,
        *,
        buffer_bytes: int | None = None,
        lower_resolution_variant: str | None = None,
    ) -> tuple[Remedy, ...]:
        kb = _m("wizard.kb")
        options = kb.RemedyOptions(
            buffer_bytes=buffer_bytes, lower_resolution_variant=lower_resolution_variant
        )
        return tuple(kb.remedies(assessment, facts, options=options))


def _m(name: str) -> Any:
    """Import a back-end module on first use (keeps starting the GUI cheap)."""
    return importlib.import_module(name)


def _failure(exc: Exception) -> GatewayFailure:
    """Word a ``wizard.vsphere`` error for the page (its message already says what to do)."""
    errors = _m("wizard.vsphere.errors")
    kind = "other"
    if isinstance(exc, errors.LoginFailed):
        kind = "login"
    elif isinstance(exc, errors.VmNotFound):
        kind = "not_found"
    elif isinstance(exc, errors.NoPermission):
        kind = "permission"
    elif isinstance(
        exc,
        (errors.HostNotFound, errors.ConnectionRefused, errors.TimedOut, errors.ConnectionLost),
    ):
        kind = "connection"
    return GatewayFailure(getattr(exc, "message", str(exc)), getattr(exc, "next_step", ""), kind)


# ---------------------------------------------------------------------------- pinned certificates


class PinStoreLike(Protocol):
    """The certificates pinned with "Always trust" (``wizard.vsphere.tls.JsonPinStore``).

    A small local file: reading or changing it does not touch the network.
    """

    def entries(self) -> Sequence[PinnedLike]:
        """Every pin; raises one of :func:`pin_store_errors` when the file is damaged."""
        ...

    def remove(self, host: str, port: int) -> None:
        """Forget the pin for host:port; the next connection asks about the certificate again."""
        ...


def pin_store() -> PinStoreLike:
    """The product's pin store (the file the gateway's trust policy reads on every connect)."""
    store: PinStoreLike = _m("wizard.vsphere.tls").JsonPinStore()
    return store


def pin_store_errors() -> tuple[type[Exception], ...]:
    """What reading or writing the pin store may raise (a damaged or unwritable file)."""
    return (_m("wizard.vsphere.errors").PinStoreUnreadable, OSError)


# ---------------------------------------------------------------------------- vMotion test


class HostChoiceLike(Protocol):
    """A host the VM may be moved to (``wizard.vsphere.migrate.HostChoice``)."""

    @property
    def name(self) -> str: ...
    @property
    def moref(self) -> str: ...
    @property
    def usable(self) -> bool: ...
    @property
    def why_not(self) -> str: ...


class MigrationOutcomeLike(Protocol):
    """How a vMotion test ended (``wizard.vsphere.migrate.MigrationOutcome``)."""

    @property
    def succeeded(self) -> bool: ...
    @property
    def message(self) -> str: ...
    @property
    def task_id(self) -> str: ...
    @property
    def source_host(self) -> str: ...
    @property
    def destination_host(self) -> str: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def finished_at(self) -> datetime | None: ...


class CancelFlag(Protocol):
    """The worker's cancel token, as far as a wait needs it."""

    @property
    def cancelled(self) -> bool: ...


def list_target_hosts(session: Any, facts: VmFacts) -> list[HostChoiceLike]:
    """The other hosts of the VM's cluster, usable ones first. Blocks: run it on the worker.

    Raises:
        GatewayFailure: worded for the technician.
    """
    errors = _m("wizard.vsphere.errors")
    migrate = _m("wizard.vsphere.migrate")
    try:
        return list(migrate.list_target_hosts(session, facts))
    except errors.VsphereError as exc:
        raise _failure(exc) from None


def run_vmotion_test(
    session: Any,
    moref: str,
    host_moref: str,
    *,
    cancel: CancelFlag,
    report: Callable[[object], None],
    timeout: float = 600.0,
) -> MigrationOutcomeLike:
    """Move the running VM to ``host_moref`` and wait for the end. Blocks: run it on the worker.

    ``report`` gets ``(percent or None, message)`` while the task runs (the worker's progress).
    A failed migration is an outcome (``succeeded`` False, vCenter's message), not an error.

    Raises:
        GatewayFailure: the test could not be run (no privilege, VM off, time ran out, ...).
    """
    errors = _m("wizard.vsphere.errors")
    migrate = _m("wizard.vsphere.migrate")
    try:
        outcome: MigrationOutcomeLike = migrate.test_vmotion(
            session,
            moref,
            host_moref,
            on_progress=lambda pct, msg: report((pct, msg)),
            timeout=timeout,
            is_cancelled=lambda: cancel.cancelled,
        )
    except errors.VsphereError as exc:
        raise _failure(exc) from None
    return outcome


def try_vmotion(session: Any, facts: VmFacts, *, cancel: CancelFlag) -> MigrationOutcomeLike:
    """One test vMotion to the first usable other host of the VM's cluster (training's "Try the
    vMotion"). Blocks: run it on the worker.

    Raises:
        GatewayFailure: there is no host to move to, or the test could not be run.
    """
    hosts = [h for h in list_target_hosts(session, facts) if h.usable]
    if not hosts:
        raise GatewayFailure(
            f"{facts.name} has no other usable host in its cluster.",
            "A vMotion test needs a second host that is connected and not in maintenance.",
        )
    return run_vmotion_test(session, facts.moref, hosts[0].moref, cancel=cancel, report=_ignore)


def _ignore(_payload: object) -> None:
    """A progress callback for a caller that shows a busy bar only."""
