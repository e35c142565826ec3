"""A stand-in for the gateway (vCenter, the rules, the executor), for page tests without the lab.

:class:`FakeGateway` is typed against :class:`wizard.ui.gateway.Gateway` (checked at the end of
this module), so mypy sees it drift from the real gateway. It hands out the back end's own types
and raises the back end's own errors. The facts are the article's textbook VM from
``tests.helpers.facts``; assessments and remedies come from the real rules (``wizard.kb``), so
the pages show what they will show for real.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tests.helpers.facts import make_evidence, make_facts
from wizard.kb import assess
from wizard.kb.facts import EvidenceItem, EvidenceKind, VmFacts, VmSummary
from wizard.kb.model import Change
from wizard.ui.gateway import ByTheRules, CancelFlag, CheckResult, ReportMove, ReportStep
from wizard.vsphere.certificate import CertificateInfo
from wizard.vsphere.errors import (
    AuthorityChanged,
    CertificateChanged,
    CertificateUntrusted,
    LoginFailed,
    VmNotFound,
    VsphereError,
)
from wizard.vsphere.records import HostChoice, MigrationOutcome, VmRef
from wizard.vsphere.results import (
    ApplyRequest,
    ApplyResult,
    Outcome,
    Reason,
    Reconciliation,
    StepResult,
    StepUpdate,
    UndoRequest,
)

if TYPE_CHECKING:
    from wizard.ui.gateway import Gateway

FAKE_FINGERPRINT = ":".join(f"{(i * 37) % 256:02X}" for i in range(32))
PASSWORD = "s3cret-Lab!"


def fake_cert(host: str = "vc01.lab.local", port: int = 443) -> CertificateInfo:
    """A certificate as vCenter presents one (no PEM: nothing here verifies it)."""
    return CertificateInfo(
        host=host,
        port=port,
        sha256=FAKE_FINGERPRINT,
        subject=f"CN={host}, O=Lab",
        issuer="CN=Lab CA, O=Lab",
        not_before=datetime(2024, 1, 1, tzinfo=UTC),
        not_after=datetime(2034, 1, 1, tzinfo=UTC),
        pem="",
        dns_names=(host,),
        ip_addresses=("10.1.2.3",),
        common_name=host,
        key="RSA 2048 bits",
        signature_algorithm="RSA with SHA-256",
    )


FAKE_AUTHORITY = CertificateInfo(
    host="vc01.lab.local",
    port=443,
    sha256=":".join(f"{(i * 91 + 7) % 256:02X}" for i in range(32)),
    subject="CN=Lab CA, O=Lab",
    issuer="CN=Lab CA, O=Lab",
    not_before=datetime(2024, 1, 1, tzinfo=UTC),
    not_after=datetime(2034, 1, 1, tzinfo=UTC),
    pem="",
    common_name="Lab CA",
    key="RSA 2048 bits",
    signature_algorithm="RSA with SHA-256",
    self_signed=True,
    is_ca=True,
)


class FakeSession:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def summaries(count: int, *, of_interest: VmFacts | None = None) -> list[VmSummary]:
    """``count`` ordinary VMs, plus the VM of interest first when given."""
    out: list[VmSummary] = []
    if of_interest is not None:
        out.append(
            VmSummary(
                name=of_interest.name,
                moref=of_interest.moref,
                power_state=of_interest.power_state,
                guest_id=of_interest.guest_id,
                tools_guest_id=of_interest.tools_guest_id,
                hardware_version=of_interest.hardware_version,
                host=of_interest.host.name if of_interest.host else "",
                cluster=of_interest.cluster.name if of_interest.cluster else "",
                tools_running=of_interest.tools_running,
                prescreen=True,
            )
        )
    guests = ("windows9_64Guest", "rhel8_64Guest", "windows7_64Guest", "ubuntu64Guest")
    for i in range(count):
        out.append(
            VmSummary(
                name=f"APP-{i:05d}",
                moref=f"vm-{1000 + i}",
                power_state="poweredOff" if i % 7 == 0 else "poweredOn",
                guest_id=guests[i % len(guests)],
                tools_guest_id=guests[i % len(guests)],
                hardware_version=("vmx-13", "vmx-08", "vmx-19")[i % 3],
                host=f"esx-a{1 + i % 4}.lab.local",
                cluster="Cluster-A",
                tools_running=True,
                prescreen=i % 11 == 0,
            )
        )
    return out


@dataclass
class FakeGateway(ByTheRules):
    """Answers like the real gateway, from builders; records what it was asked.

    Attributes:
        trusted: whether the certificate is trusted already (else the first connect raises).
        changed: present a changed pinned certificate instead.
        gate: when set, ``connect`` and ``list_vms`` wait for it (to test Cancel).
        apply_gate: when set, ``apply`` waits for it after the first step (to test stopping at
            a safe point).
        calls: what was asked, in order (``"apply raise_buffer"``, ``"undo journal-0001"``...).
        requests: every apply's request.
        timeouts: the ``timeout`` of each ``connect``.
        evidence_days: the ``evidence_days`` of each ``check``.
        hosts: what ``list_target_hosts`` answers.
        outcomes: what each ``run_vmotion_test`` answers (or raises), in order.
        moves: ``(VM moref, host moref)`` of each vMotion test.
        reconciled: what ``reconcile_dangling`` answers.
    """

    facts: VmFacts = field(default_factory=make_facts)
    filler: int = 40
    trusted: bool = False
    changed: bool = False
    password: str = PASSWORD
    gate: threading.Event | None = None
    apply_gate: threading.Event | None = None
    log_evidence: tuple[EvidenceItem, ...] = ()
    calls: list[str] = field(default_factory=list)
    requests: list[ApplyRequest] = field(default_factory=list)
    pinned: list[str] = field(default_factory=list)
    sessions: list[FakeSession] = field(default_factory=list)
    cert: CertificateInfo = field(default_factory=fake_cert)
    timeouts: list[float] = field(default_factory=list)
    evidence_days: list[int] = field(default_factory=list)
    hosts: list[HostChoice] = field(default_factory=list)
    outcomes: list[MigrationOutcome | Exception] = field(default_factory=list)
    moves: list[tuple[str, str]] = field(default_factory=list)
    reconciled: list[Reconciliation] = field(default_factory=list)
    authority: CertificateInfo | VsphereError = FAKE_AUTHORITY
    authorities: list[str] = field(default_factory=list)
    fetch_threads: list[str] = field(default_factory=list)
    changed_authority: bool = False

    # ---------------------------------------------------------------- connecting

    def parse_endpoint(self, text: str) -> str:
        from wizard.vsphere.endpoint import parse_endpoint

        return str(parse_endpoint(text))

    def connect(
        self, endpoint: str, user: str, password: str, *, timeout: float = 30.0
    ) -> FakeSession:
        self.calls.append(f"connect {endpoint} {user}")
        self.timeouts.append(timeout)
        if self.gate is not None:
            self.gate.wait(10)
        if self.changed:
            presented = replace(self.cert, sha256="00:" * 31 + "00")
            if self.changed_authority:
                raise AuthorityChanged(FAKE_AUTHORITY, presented)
            raise CertificateChanged(self.cert, presented)
        if not self.trusted:
            raise CertificateUntrusted(self.cert)
        if password != self.password:
            raise LoginFailed(user)
        s = FakeSession()
        self.sessions.append(s)
        return s

    def trust_once(self, info: CertificateInfo) -> None:
        self.trusted = True

    def set_training(self, on: bool) -> None:
        self.training = on

    def pin(self, info: CertificateInfo) -> None:
        self.pinned.append(info.sha256)
        self.trusted = True

    def fetch_authority(self, info: CertificateInfo, *, timeout: float = 30.0) -> CertificateInfo:
        self.calls.append(f"fetch_authority {info.host}")
        self.fetch_threads.append(threading.current_thread().name)
        if isinstance(self.authority, VsphereError):
            raise self.authority
        return self.authority

    def trust_authority(self, authority: CertificateInfo) -> None:
        self.authorities.append(authority.sha256)
        self.trusted = True

    # ---------------------------------------------------------------- reading and judging

    def list_vms(
        self, session: FakeSession, report: Callable[[list[VmSummary]], None]
    ) -> list[VmSummary]:
        self.calls.append("list_vms")
        if self.gate is not None:
            self.gate.wait(10)
        rows = summaries(self.filler, of_interest=self.facts)
        report(rows)
        return rows

    def find_vms(self, session: FakeSession, query: str) -> list[VmRef]:
        self.calls.append(f"find_vms {query}")
        q = query.lower()
        if q in {self.facts.name.lower(), "pc042.corp.local", "10.1.2.42"}:
            return [VmRef(self.facts.name, self.facts.moref)]
        raise VmNotFound(query, (self.facts.name,))

    def check(self, session: FakeSession, moref: str, *, evidence_days: int = 30) -> CheckResult:
        self.calls.append(f"check {moref}")
        self.evidence_days.append(evidence_days)
        return self.judge(self.facts)

    def read_vm_log(self, session: FakeSession, facts: VmFacts) -> tuple[EvidenceItem, ...]:
        self.calls.append("read_vm_log")
        return self.log_evidence

    # ---------------------------------------------------------------- changing

    def apply(
        self,
        session: FakeSession,
        request: ApplyRequest,
        *,
        cancel: CancelFlag,
        report: ReportStep,
    ) -> ApplyResult:
        remedy, facts = request.remedy, request.facts_at_check
        self.calls.append(f"apply {remedy.id.value}")
        self.requests.append(request)
        ran: list[StepResult] = []
        for s in self.steps(request):
            if s.cancellable_before and cancel.cancelled:
                report(StepUpdate(s.id, "cancelled", None, "Stopped before this step."))
                ran.append(StepResult(s.id, "cancelled", "Stopped before this step."))
                return _result(
                    None, Outcome.CANCELLED, ran, remedy.changes, "Stopped before any change."
                )
            report(StepUpdate(s.id, "running", 0, ""))
            for pct in (30, 60, 100):
                report(StepUpdate(s.id, "running", pct, f"{pct}%"))
            report(StepUpdate(s.id, "done", 100, f"{s.title}: done"))
            ran.append(StepResult(s.id, "done", f"{s.title}: done"))
            if self.apply_gate is not None and s.id == "reread":
                self.apply_gate.wait(10)
        after = replace(
            facts,
            evidence=(),
            extra_config=facts.extra_config + tuple((c.key, c.after or "") for c in remedy.changes),
        )
        return _result(
            "journal-0001",
            Outcome.APPLIED,
            ran,
            remedy.changes,
            "The new settings are in place.",
            facts_after=after,
            task_ids=("task-101", "task-102", "task-103"),
        )

    def undo(
        self, session: FakeSession, request: UndoRequest, *, cancel: CancelFlag, report: ReportStep
    ) -> ApplyResult:
        self.calls.append(f"undo {request.entry_id}")
        return _one_step(report, "reconfigure", "The old values are back.", "journal-0002")

    def retry_power_on(
        self, session: FakeSession, entry_id: str, *, cancel: CancelFlag, report: ReportStep
    ) -> ApplyResult:
        self.calls.append(f"retry_power_on {entry_id}")
        return _one_step(
            report, "power_on", "Powered on.", "journal-0003", "The VM is powered on again."
        )

    def reconcile_dangling(self, session: FakeSession) -> Sequence[Reconciliation]:
        self.calls.append("reconcile_dangling")
        return tuple(self.reconciled)

    # ---------------------------------------------------------------- vMotion test

    def list_target_hosts(self, session: FakeSession, facts: VmFacts) -> list[HostChoice]:
        self.calls.append("list_target_hosts")
        return list(self.hosts)

    def run_vmotion_test(
        self,
        session: FakeSession,
        moref: str,
        host_moref: str,
        *,
        cancel: CancelFlag,
        report: ReportMove,
        timeout: float = 600.0,
    ) -> MigrationOutcome:
        self.moves.append((moref, host_moref))
        report((0, "Moving the VM"))
        report((50, "Moving the VM"))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def _one_step(
    report: ReportStep, step: str, line: str, entry_id: str, message: str = ""
) -> ApplyResult:
    """A run of one step that went well, reported as it runs (``line``) and in the result."""
    report(StepUpdate(step, "done", 100, line))
    ran = [StepResult(step, "done", line)]
    return _result(entry_id, Outcome.APPLIED, ran, (), message or line)


def _result(
    entry_id: str | None,
    outcome: Outcome,
    steps: Sequence[StepResult],
    changes: Sequence[Change],
    message: str,
    *,
    facts_after: VmFacts | None = None,
    task_ids: tuple[str, ...] = (),
) -> ApplyResult:
    """A result as the executor reports one."""
    return ApplyResult(
        entry_id=entry_id,
        outcome=outcome,
        steps=tuple(steps),
        changes=tuple(changes),
        verification_verdict=None,
        message=message,
        next_step="",
        reason=Reason.CANCELLED if outcome is Outcome.CANCELLED else None,
        facts_after=facts_after,
        assessment_after=assess(facts_after) if facts_after is not None else None,
        task_ids=task_ids,
        power_state=facts_after.power_state if facts_after is not None else None,
    )


def confirmed_facts() -> VmFacts:
    """The textbook VM with a failed vMotion on record."""
    ev = replace(make_evidence(), time=datetime(2024, 5, 2, 9, 14, tzinfo=UTC))
    return make_facts(evidence=(ev,))


def log_item() -> EvidenceItem:
    return EvidenceItem(
        kind=EvidenceKind.LOG,
        source="vmware.log line 2214",
        signature="Migrate_SetFailure",
        text="Migrate_SetFailure: Failed waiting for data. Error bad0006. Limit exceeded.",
    )


# ----------------------------------------------------------------------------- lab


@dataclass(frozen=True)
class FakeLabInfo:
    url: str = "https://127.0.0.1:18443/sdk"
    host: str = "127.0.0.1"
    port: int = 18443
    user: str = "helpdesk@lab.local"
    password: str = PASSWORD
    thumbprint_sha256: str = FAKE_FINGERPRINT
    ca_thumbprint_sha256: str = FAKE_AUTHORITY.sha256


class FakeLab:
    """Starts and stops nothing, records both."""

    instances: list[FakeLab] = []  # noqa: RUF012 - a record across a test

    def __init__(self, scenario: Any) -> None:
        self.scenario = scenario
        self.info = FakeLabInfo()
        self.started = False
        self.stopped = False
        FakeLab.instances.append(self)

    def start(self) -> FakeLab:
        self.started = True
        return self

    def stop(self) -> None:
        self.stopped = True

    def renew_certificate(self) -> FakeLabInfo:
        self.info = replace(self.info, thumbprint_sha256="11:" * 31 + "11")
        return self.info


if TYPE_CHECKING:
    _checked: Gateway[FakeSession] = FakeGateway()  # mypy: the fake has the gateway's methods
