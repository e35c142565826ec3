"""What the pages need from vCenter and from the article's rules, behind one typed seam.

The pages never call ``wizard.vsphere`` themselves: they call a :class:`Gateway` through the
worker thread (every method here may block on the network unless it says otherwise).
:class:`VsphereGateway` is the real one; tests hand in a stand-in typed against the same
Protocol (``tests/gui/fakes.py``), so mypy sees a fake that drifts from the real thing.

What crosses the seam is ``wizard.vsphere``'s and ``wizard.kb``'s own types, and errors reach the
pages as ``wizard.vsphere``'s own classes (:class:`~wizard.vsphere.errors.VsphereError` and its
subclasses, each with a message, a next step and a category).

Cold start: at module level this imports only modules of ``wizard.vsphere`` that load no pyVmomi
(the errors, the endpoint, the certificate, the records); the rest is imported inside the
methods, which run on the worker thread, or only for the type checker. :func:`load_back_end`
imports it all once the first window is painted.

No Qt here: this module runs on the worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

from wizard import paths
from wizard.kb import RemedyOptions, assess, remedies
from wizard.kb.facts import EvidenceItem, VmFacts, VmSummary
from wizard.kb.model import Assessment, Change, Remedy
from wizard.kb.plan import CannotUndo, PlannedStep, planned_run, undo_changes
from wizard.vsphere.certificate import CertificateInfo
from wizard.vsphere.endpoint import parse_endpoint
from wizard.vsphere.errors import VsphereError
from wizard.vsphere.records import HostChoice, MigrationOutcome, VmRef

if TYPE_CHECKING:
    from wizard.audit import Journal
    from wizard.vsphere.executor import Executor
    from wizard.vsphere.results import (
        ApplyRequest,
        ApplyResult,
        Reconciliation,
        StepUpdate,
        UndoRequest,
    )
    from wizard.vsphere.session import Session
    from wizard.vsphere.tls import TrustPolicy

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_EVIDENCE_DAYS = 30
VMOTION_TIMEOUT_S = 600.0

S = TypeVar("S")
"""The session type of a gateway: ``wizard.vsphere.session.Session`` for the real one."""

Variant = Literal["cap", "guest"]
"""The two ways of lowering the resolution (``wizard.kb.RemedyOptions``)."""


class CancelFlag(Protocol):
    """The worker's cancel token, as far as a long call needs it."""

    @property
    def cancelled(self) -> bool: ...


ReportStep = Callable[["StepUpdate"], None]
"""Where an apply, undo or power-on sends each step's progress (the worker's ``report``)."""

ReportMove = Callable[[tuple[int | None, str]], None]
"""Where a vMotion test sends ``(percent or None, message)`` while it runs."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: the facts, the verdict and the four workarounds."""

    facts: VmFacts
    assessment: Assessment
    remedies: tuple[Remedy, ...]


class Gateway(Protocol[S]):
    """Everything the wizard asks of vCenter and of the rules.

    ``S`` is the session :meth:`connect` opens; the worker keeps it and hands it back to every
    method that takes one. Errors are ``wizard.vsphere.errors``' own classes.
    """

    # ---------------------------------------------------------------- connecting

    def parse_endpoint(self, text: str) -> str:
        """Return the normalised ``host:port``; raise ValueError with a message. Does not block."""
        ...

    def connect(
        self, endpoint: str, user: str, password: str, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> S:
        """Log in.

        Raises:
            CertificateUntrusted: the technician has to decide about the certificate.
            CertificateChanged: the certificate is not the one pinned: a stop, not a question.
            VsphereError: anything else (``LoginFailed`` for a refused login).
        """
        ...

    def trust_once(self, info: CertificateInfo) -> None:
        """Accept this certificate for this run of the program only. Does not block."""
        ...

    def pin(self, info: CertificateInfo) -> None:
        """Accept this certificate from now on (written to the pin store). Does not block."""
        ...

    def set_training(self, on: bool) -> None:
        """Keep the training lab's trusted certificates and journal apart from production's.

        While on, "always trust" pins into the training store, and changes go into the
        training journal: a lab's certificate never lands among the real vCenters' pins.
        """
        ...

    def fetch_authority(
        self, info: CertificateInfo, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> CertificateInfo:
        """The vCenter's certificate authority that issued ``info`` (from its
        ``/certs/download.zip``), to show before it is trusted. Blocks: runs on the worker.

        Raises:
            VsphereError: its subclasses, e.g. ``AuthorityUnavailable``.
        """
        ...

    def trust_authority(self, authority: CertificateInfo) -> None:
        """Accept what this authority issues for its vCenter's name from now on (stored).
        Does not block."""
        ...

    # ---------------------------------------------------------------- reading and judging

    def list_vms(self, session: S, report: Callable[[list[VmSummary]], None]) -> list[VmSummary]:
        """Every VM; ``report`` is called with rows as they arrive (each VM once), the first
        ones before the whole list has been read."""
        ...

    def find_vms(self, session: S, query: str) -> list[VmRef]:
        """VMs whose name, DNS name or IP matches ``query``; VmNotFound (with close matches)
        when none does."""
        ...

    def check(
        self, session: S, moref: str, *, evidence_days: int = DEFAULT_EVIDENCE_DAYS
    ) -> CheckResult:
        """Read the VM's facts (failure events of the last ``evidence_days``) and judge them."""
        ...

    def read_vm_log(self, session: S, facts: VmFacts) -> tuple[EvidenceItem, ...]:
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
        lower_resolution_variant: Variant | None = None,
    ) -> tuple[Remedy, ...]:
        """The four workarounds with these options. Pure: does not block.

        ``lower_resolution_variant`` is the technician's choice; None lets the rules choose (the
        guest variant when the VM runs and this account may not power it off and on).
        """
        ...

    # ---------------------------------------------------------------- changing

    def steps(self, request: ApplyRequest) -> Sequence[PlannedStep]:
        """The steps :meth:`apply` will run for this request. Pure: does not block."""
        ...

    def apply(
        self, session: S, request: ApplyRequest, *, cancel: CancelFlag, report: ReportStep
    ) -> ApplyResult:
        """Apply the request's remedy with what the request consents to, journaling each step.

        Stops at the next safe point once ``cancel`` is set; the result says how it ended.
        """
        ...

    def undo_steps(
        self,
        changes: Sequence[Change],
        facts: VmFacts | None,
        *,
        allow_hard_poweroff: bool = False,
        leave_powered_off: bool = False,
    ) -> Sequence[PlannedStep]:
        """The steps :meth:`undo` will run to take ``changes`` back on the VM last read as
        ``facts``. Pure: does not block."""
        ...

    def undo(
        self, session: S, request: UndoRequest, *, cancel: CancelFlag, report: ReportStep
    ) -> ApplyResult:
        """Put back the values the request's journal entry recorded as "before", with what the
        request consents to (the same power handling as an apply)."""
        ...

    def retry_power_on(
        self, session: S, entry_id: str, *, cancel: CancelFlag, report: ReportStep
    ) -> ApplyResult:
        """Power the VM of journal entry ``entry_id`` on again after a failed power-on."""
        ...

    def reconcile_dangling(self, session: S) -> Sequence[Reconciliation]:
        """Judge every change an earlier run left unfinished on this vCenter against the VMs'
        real values, and close those journal entries."""
        ...

    # ---------------------------------------------------------------- vMotion test

    def list_target_hosts(self, session: S, facts: VmFacts) -> list[HostChoice]:
        """The other hosts of the VM's cluster, usable ones first."""
        ...

    def run_vmotion_test(
        self,
        session: S,
        moref: str,
        host_moref: str,
        *,
        cancel: CancelFlag,
        report: ReportMove,
        timeout: float = VMOTION_TIMEOUT_S,
    ) -> MigrationOutcome:
        """Move the running VM to ``host_moref`` and wait for the end.

        A failed migration is an outcome (``succeeded`` False, vCenter's message), not an
        error; an error means the test could not be run (no privilege, VM off, time ran out).
        """
        ...


def find_then_check(
    gateway: Gateway[S],
    session: S,
    query: str,
    *,
    evidence_days: int = DEFAULT_EVIDENCE_DAYS,
    cancel: CancelFlag,
    report: Callable[[list[VmRef]], None],
) -> CheckResult | None:
    """Find the VMs ``query`` names, hand them to ``report``, and when there is exactly one,
    check it at once (the VM named on the command line). Blocks: run it on the worker.

    The check follows the find on the same thread, without a trip through the GUI thread
    (which may be busy filling the VM list): on a slow link the verdict is one round trip
    after the VM is found.

    Returns:
        The check, or None: not exactly one VM matched, or ``cancel`` was set after the find.

    Raises:
        VmNotFound: nothing matched (see :meth:`Gateway.find_vms`).
        VsphereError: the find or the check failed.
    """
    refs = gateway.find_vms(session, query)
    report(refs)
    if len(refs) != 1 or cancel.cancelled:
        return None
    return gateway.check(session, refs[0].moref, evidence_days=evidence_days)


def try_vmotion(
    gateway: Gateway[S], session: S, facts: VmFacts, *, cancel: CancelFlag
) -> MigrationOutcome:
    """One test vMotion to the first usable other host of the VM's cluster (training's "Try the
    vMotion"). Blocks: run it on the worker.

    Raises:
        VsphereError: there is no host to move to, or the test could not be run.
    """
    hosts = [h for h in gateway.list_target_hosts(session, facts) if h.usable]
    if not hosts:
        raise VsphereError(
            f"{facts.name} has no other usable host in its cluster.",
            "A vMotion test needs a second host that is connected and not in maintenance.",
        )
    return gateway.run_vmotion_test(
        session, facts.moref, hosts[0].moref, cancel=cancel, report=_ignore
    )


def _ignore(_payload: tuple[int | None, str]) -> None:
    """A progress callback for a caller that shows a busy bar only."""


def load_back_end() -> None:
    """Import what the real gateway uses (pyVmomi with it, about a third of a second), and the
    TLS stack its first connection builds on (truststore, cryptography's OpenSSL backend).

    Called once the first window is painted, so that no page waits for it later, and so that
    no job imports modules on its worker thread: a thread importing holds Python's interpreter
    lock in long stretches, and the GUI thread stood still for 73-229 ms during the first
    connection when these were left to it (45 ms with them loaded first, 300 ms a call).
    """
    import truststore  # noqa: F401 - loaded for the first connection's TLS context
    from cryptography.hazmat.backends import default_backend

    import wizard.vsphere.evidence
    import wizard.vsphere.executor
    import wizard.vsphere.facts
    import wizard.vsphere.inventory
    import wizard.vsphere.migrate
    import wizard.vsphere.session
    import wizard.vsphere.tls  # noqa: F401 - imported for their side effect: loaded

    default_backend()


TRAINING_FOLDER = "training"
"""Under the data folder: the training lab's pinned certificates and journal."""


class ByTheRules:
    """The gateway's calls that need no vCenter: the article's rules over facts already read,
    and the steps a change or its undo will run.

    The real gateway and the tests' fake both are one, so both judge and plan by the same rules.
    """

    def judge(self, facts: VmFacts) -> CheckResult:
        assessment = assess(facts)
        return CheckResult(facts, assessment, self.remedies(assessment, facts))

    def remedies(
        self,
        assessment: Assessment,
        facts: VmFacts,
        *,
        buffer_bytes: int | None = None,
        lower_resolution_variant: Variant | None = None,
    ) -> tuple[Remedy, ...]:
        options = RemedyOptions(
            buffer_bytes=buffer_bytes, lower_resolution_variant=lower_resolution_variant
        )
        return tuple(remedies(assessment, facts, options=options))

    def steps(self, request: ApplyRequest) -> Sequence[PlannedStep]:
        return planned_run(
            request.remedy.changes,
            request.facts_at_check,
            allow_hard_poweroff=request.allow_hard_poweroff,
            leave_powered_off=request.leave_powered_off,
        )

    def undo_steps(
        self,
        changes: Sequence[Change],
        facts: VmFacts | None,
        *,
        allow_hard_poweroff: bool = False,
        leave_powered_off: bool = False,
    ) -> Sequence[PlannedStep]:
        try:
            back = undo_changes(changes)
        except CannotUndo:
            back = ()
        return planned_run(
            back,
            facts,
            allow_hard_poweroff=allow_hard_poweroff,
            leave_powered_off=leave_powered_off,
        )


class VsphereGateway(ByTheRules):
    """The real gateway over ``wizard.vsphere`` and ``wizard.kb``.

    Args:
        journal: where changes are recorded; by default the user's journal, opened on first use.
    """

    def __init__(self, journal: Journal | None = None) -> None:
        self._journal = journal
        self._training_journal: Journal | None = None
        self._trust: dict[bool, TrustPolicy] = {}
        self._training = False

    # ---------------------------------------------------------------- connecting

    def set_training(self, on: bool) -> None:
        self._training = on

    def _policy(self) -> TrustPolicy:
        policy = self._trust.get(self._training)
        if policy is None:
            from wizard.vsphere.tls import PIN_FILE_NAME, JsonPinStore, TrustPolicy

            store = (
                JsonPinStore(paths.data_dir() / TRAINING_FOLDER / PIN_FILE_NAME)
                if self._training
                else JsonPinStore()
            )
            policy = self._trust[self._training] = TrustPolicy(pins=store)
        return policy

    def parse_endpoint(self, text: str) -> str:
        return str(parse_endpoint(text.strip()))

    def connect(
        self, endpoint: str, user: str, password: str, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> Session:
        from wizard.vsphere.session import Session

        return Session.connect(
            parse_endpoint(endpoint), user, password, trust=self._policy(), timeout=timeout
        )

    def trust_once(self, info: CertificateInfo) -> None:
        self._policy().trust_once(info)

    def pin(self, info: CertificateInfo) -> None:
        self._policy().pin(info)

    def fetch_authority(
        self, info: CertificateInfo, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> CertificateInfo:
        from wizard.vsphere.tls import fetch_authority

        return fetch_authority(info, timeout)

    def trust_authority(self, authority: CertificateInfo) -> None:
        self._policy().trust_authority(authority)

    # ---------------------------------------------------------------- reading and judging

    def list_vms(
        self, session: Session, report: Callable[[list[VmSummary]], None]
    ) -> list[VmSummary]:
        from wizard.vsphere.inventory import list_vms

        return list(list_vms(session, report))

    def find_vms(self, session: Session, query: str) -> list[VmRef]:
        from wizard.vsphere.inventory import find_vms

        return list(find_vms(session, query))

    def check(
        self, session: Session, moref: str, *, evidence_days: int = DEFAULT_EVIDENCE_DAYS
    ) -> CheckResult:
        from wizard.vsphere.facts import collect_facts

        return self.judge(collect_facts(session, moref, evidence_days=evidence_days))

    def read_vm_log(self, session: Session, facts: VmFacts) -> tuple[EvidenceItem, ...]:
        from wizard.vsphere.evidence import read_vm_log

        return tuple(read_vm_log(session, facts))

    # ---------------------------------------------------------------- changing

    @property
    def journal(self) -> Journal:
        """The change journal: the user's (unless one was given), or the training one."""
        from wizard.audit import JOURNAL_NAME, Journal

        if self._training:
            if self._training_journal is None:
                self._training_journal = Journal(paths.data_dir() / TRAINING_FOLDER / JOURNAL_NAME)
            return self._training_journal
        if self._journal is None:
            self._journal = Journal()
        return self._journal

    def _executor(
        self,
        session: Session,
        cancel: CancelFlag,
        report: ReportStep,
        facts: VmFacts | None = None,
    ) -> Executor:
        from wizard.vsphere.executor import Executor

        executor = Executor(
            session, self.journal, on_progress=report, cancel=lambda: cancel.cancelled
        )
        if facts is not None and not facts.tools_running:
            executor.tools_timeout = 0.0  # Tools did not run before: do not wait for them after
        return executor

    def apply(
        self, session: Session, request: ApplyRequest, *, cancel: CancelFlag, report: ReportStep
    ) -> ApplyResult:
        return self._executor(session, cancel, report, request.facts_at_check).apply(request)

    def undo(
        self, session: Session, request: UndoRequest, *, cancel: CancelFlag, report: ReportStep
    ) -> ApplyResult:
        return self._executor(session, cancel, report, request.facts).undo(
            request.entry_id,
            allow_shutdown=request.allow_shutdown,
            allow_hard_poweroff=request.allow_hard_poweroff,
            leave_powered_off=request.leave_powered_off,
            guest_credentials=request.guest_credentials,
            shutdown_timeout=request.shutdown_timeout,
        )

    def retry_power_on(
        self, session: Session, entry_id: str, *, cancel: CancelFlag, report: ReportStep
    ) -> ApplyResult:
        return self._executor(session, cancel, report).retry_power_on(entry_id)

    def reconcile_dangling(self, session: Session) -> Sequence[Reconciliation]:
        from wizard.vsphere.executor import Executor

        return Executor(session, self.journal).reconcile_dangling()

    # ---------------------------------------------------------------- vMotion test

    def list_target_hosts(self, session: Session, facts: VmFacts) -> list[HostChoice]:
        from wizard.vsphere.migrate import list_target_hosts

        return list(list_target_hosts(session, facts))

    def run_vmotion_test(
        self,
        session: Session,
        moref: str,
        host_moref: str,
        *,
        cancel: CancelFlag,
        report: ReportMove,
        timeout: float = VMOTION_TIMEOUT_S,
    ) -> MigrationOutcome:
        from wizard.vsphere.migrate import test_vmotion

        return test_vmotion(
            session,
            moref,
            host_moref,
            on_progress=lambda pct, msg: report((pct, msg)),
            timeout=timeout,
            is_cancelled=lambda: cancel.cancelled,
        )


if TYPE_CHECKING:
    _real: Gateway[Session] = VsphereGateway()  # mypy: the real gateway is a Gateway
