"""Stand-ins with the gateway's and the executor's methods, for page tests without the lab.

The facts are the article's textbook VM from ``tests.helpers.facts``; assessments and remedies
come from the real rules (``wizard.kb``), so the pages show what they will show for real.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from tests.helpers.facts import make_evidence, make_facts
from wizard.kb import RemedyOptions, assess, remedies
from wizard.kb.facts import EvidenceItem, EvidenceKind, VmFacts, VmSummary
from wizard.kb.model import Assessment, Change, Remedy
from wizard.ui.gateway import (
    CertificateLike,
    ChangedCertificate,
    CheckResult,
    GatewayFailure,
    UntrustedCertificate,
)

FAKE_FINGERPRINT = ":".join(f"{(i * 37) % 256:02X}" for i in range(32))
PASSWORD = "s3cret-Lab!"


@dataclass(frozen=True)
class FakeCert:
    """A certificate as ``wizard.vsphere.certificate.CertificateInfo`` describes one."""

    host: str = "vc01.lab.local"
    port: int = 443
    sha256: str = FAKE_FINGERPRINT
    subject: str = "CN=vc01.lab.local, O=Lab"
    issuer: str = "CN=Lab CA, O=Lab"
    not_before: datetime | None = datetime(2024, 1, 1, tzinfo=UTC)
    not_after: datetime | None = datetime(2034, 1, 1, tzinfo=UTC)
    pem: str = ""
    names: tuple[str, ...] = ("vc01.lab.local", "10.1.2.3")
    key: str = "RSA 2048 bits"
    signature_algorithm: str = "RSA with SHA-256"
    self_signed: bool = False
    is_ca: bool = False
    chain: tuple[FakeCert, ...] = ()

    def valid_for(self, host: str) -> bool:
        return host.lower() in self.names


FAKE_AUTHORITY = FakeCert(
    sha256=":".join(f"{(i * 91 + 7) % 256:02X}" for i in range(32)),
    subject="CN=Lab CA, O=Lab",
    issuer="CN=Lab CA, O=Lab",
    names=(),
    self_signed=True,
    is_ca=True,
)


@dataclass(frozen=True)
class FakeRef:
    name: str
    moref: str


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
class FakeGateway:
    """Answers like the real gateway, from builders; records what it was asked.

    Attributes:
        trusted: whether the certificate is trusted already (else the first connect raises).
        changed: present a changed pinned certificate instead.
        gate: when set, ``connect`` and ``list_vms`` wait for it (to test Cancel).
        timeouts: the ``timeout`` of each ``connect``.
        evidence_days: the ``evidence_days`` of each ``check``.
    """

    facts: VmFacts = field(default_factory=make_facts)
    filler: int = 40
    trusted: bool = False
    changed: bool = False
    password: str = PASSWORD
    gate: threading.Event | None = None
    log_evidence: tuple[EvidenceItem, ...] = ()
    calls: list[str] = field(default_factory=list)
    pinned: list[str] = field(default_factory=list)
    sessions: list[FakeSession] = field(default_factory=list)
    cert: FakeCert = field(default_factory=FakeCert)
    timeouts: list[float] = field(default_factory=list)
    evidence_days: list[int] = field(default_factory=list)
    authority: FakeCert | GatewayFailure = FAKE_AUTHORITY
    authorities: list[str] = field(default_factory=list)
    fetch_threads: list[str] = field(default_factory=list)
    changed_authority: bool = False

    def parse_endpoint(self, text: str) -> str:
        from wizard.vsphere.session import parse_endpoint

        return str(parse_endpoint(text))

    def connect(self, endpoint: str, user: str, password: str, *, timeout: float = 30.0) -> Any:
        self.calls.append(f"connect {endpoint} {user}")
        self.timeouts.append(timeout)
        if self.gate is not None:
            self.gate.wait(10)
        if self.changed:
            raise ChangedCertificate(
                FAKE_AUTHORITY if self.changed_authority else self.cert,
                replace(self.cert, sha256="00:" * 31 + "00"),
                authority=self.changed_authority,
            )
        if not self.trusted:
            raise UntrustedCertificate(self.cert)
        if password != self.password:
            raise GatewayFailure(
                f"vCenter refused the user name or password for {user}.",
                "Check both and try again; after several failures the account may be locked.",
                "login",
            )
        s = FakeSession()
        self.sessions.append(s)
        return s

    def trust_once(self, info: CertificateLike) -> None:
        self.trusted = True

    def pin(self, info: CertificateLike) -> None:
        self.pinned.append(info.sha256)
        self.trusted = True

    def fetch_authority(self, info: CertificateLike, *, timeout: float = 30.0) -> CertificateLike:
        self.calls.append(f"fetch_authority {info.host}")
        self.fetch_threads.append(threading.current_thread().name)
        if isinstance(self.authority, GatewayFailure):
            raise self.authority
        return self.authority

    def trust_authority(self, authority: CertificateLike) -> None:
        self.authorities.append(authority.sha256)
        self.trusted = True

    def list_vms(self, session: Any) -> list[VmSummary]:
        self.calls.append("list_vms")
        if self.gate is not None:
            self.gate.wait(10)
        return summaries(self.filler, of_interest=self.facts)

    def find_vms(self, session: Any, query: str) -> list[Any]:
        self.calls.append(f"find_vms {query}")
        q = query.lower()
        if q in {self.facts.name.lower(), "pc042.corp.local", "10.1.2.42"}:
            return [FakeRef(self.facts.name, self.facts.moref)]
        raise GatewayFailure("No VM found.", "", "not_found", (self.facts.name,))

    def check(self, session: Any, moref: str, *, evidence_days: int = 30) -> CheckResult:
        self.calls.append(f"check {moref}")
        self.evidence_days.append(evidence_days)
        return self.judge(self.facts)

    def read_vm_log(self, session: Any, facts: VmFacts) -> tuple[EvidenceItem, ...]:
        self.calls.append("read_vm_log")
        return self.log_evidence

    def judge(self, facts: VmFacts) -> CheckResult:
        a = assess(facts)
        return CheckResult(facts, a, self.remedies(a, facts))

    def remedies(
        self,
        assessment: Assessment,
        facts: VmFacts,
        *,
        buffer_bytes: int | None = None,
        lower_resolution_variant: str = "cap",
    ) -> tuple[Remedy, ...]:
        opts = RemedyOptions(
            buffer_bytes=buffer_bytes,
            lower_resolution_variant=lower_resolution_variant,  # type: ignore[arg-type]
        )
        return tuple(remedies(assessment, facts, options=opts))


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


# ----------------------------------------------------------------------------- executor


@dataclass(frozen=True)
class FakeStep:
    id: str
    title: str
    cancellable_before: bool


@dataclass(frozen=True)
class FakeResult:
    ok: bool
    verified: bool
    message: str
    changes: Sequence[Change]
    facts_after: VmFacts | None
    assessment_after: Assessment | None
    journal_id: str | None
    task_ids: Sequence[str]


@dataclass
class FakeExecutor:
    """Runs the steps of the Protocol with progress, optionally waiting on a gate.

    Attributes:
        gate: when set, apply waits for it after the first step (to test stop at a safe point).
    """

    gate: threading.Event | None = None
    calls: list[str] = field(default_factory=list)

    def steps(self, remedy: Remedy, facts: VmFacts) -> Sequence[FakeStep]:
        return (
            FakeStep("reread", "Read the VM again and compare", True),
            FakeStep("shutdown", "Shut down the guest", True),
            FakeStep("reconfigure", "Change the settings", False),
            FakeStep("power_on", "Power the VM on", False),
            FakeStep("verify", "Read back and check again", False),
        )

    def apply(
        self,
        session: Any,
        remedy: Remedy,
        facts: VmFacts,
        *,
        report: Callable[[str, str, int | None, str], None],
        log: Callable[[str], None],
        is_cancelled: Callable[[], bool],
    ) -> FakeResult:
        self.calls.append(f"apply {remedy.id.value}")
        done: list[str] = []
        for step in self.steps(remedy, facts):
            if step.cancellable_before and is_cancelled():
                report(step.id, "cancelled", None, "")
                log(f"Stopped before: {step.title}")
                return FakeResult(
                    False, False, "Stopped before any change.", (), None, None, None, ()
                )
            report(step.id, "running", 0, "")
            for pct in (30, 60, 100):
                report(step.id, "running", pct, f"{pct}%")
            log(f"{step.title}: done")
            report(step.id, "done", 100, "")
            done.append(step.id)
            if self.gate is not None and step.id == "reread":
                self.gate.wait(10)
        after = replace(
            facts,
            evidence=(),
            extra_config=facts.extra_config + tuple((c.key, c.after or "") for c in remedy.changes),
        )
        return FakeResult(
            True,
            True,
            "The new settings are in place.",
            remedy.changes,
            after,
            assess(after),
            "journal-0001",
            ("task-101", "task-102", "task-103"),
        )

    def undo_steps(self, result: Any) -> Sequence[FakeStep]:
        return (FakeStep("reconfigure", "Put the old values back", True),)

    def undo(
        self,
        session: Any,
        result: Any,
        *,
        report: Callable[[str, str, int | None, str], None],
        log: Callable[[str], None],
        is_cancelled: Callable[[], bool],
    ) -> FakeResult:
        self.calls.append("undo")
        report("reconfigure", "done", 100, "")
        return FakeResult(
            True, True, "The old values are back.", (), None, None, "journal-0002", ()
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
