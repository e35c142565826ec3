"""The fault matrix: connect, list, check, scan, apply and undo with a network fault at every step.

A *step* is one request/answer exchange on the wire (TLS handshakes included), as the loopback
:class:`~tests.helpers.faultproxy.FaultProxy` between the product and the lab counts them. A clean
run of each operation first counts its steps; then the operation runs again once per (step,
fault) with that fault armed for exactly that exchange. ``test_apply_faults.py`` holds the
hand-picked cases with exact journals; this module sweeps them all and checks, for every run,
what a technician and an administrator would notice:

- a clear message: a typed :class:`~wizard.vsphere.errors.VsphereError` that names a network
  problem (never "not a vCenter" or "wrong password" for a broken link), with a next step; or
  the executor's result with a reason and a next step;
- the VM is never changed without the journal saying so (and never said changed when it is
  not); the journal entry is closed, or, when the run could not tell whether vCenter got the
  change, left open with the result saying so, and the next run settles it before anything
  else; the power state the result reports is the real one;
- at most one reconfigure task per apply or undo (counted by an admin in vCenter's task list);
- the same operation run again without the fault works (the wizard's Retry);
- every session logged out afterwards (the lab's session list, read by an admin).

Apply and undo run on a fresh lab each, so vCenter's task list counts only that run.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.apply import SCENARIO, check, journal_in
from tests.helpers.faultproxy import Fault, FaultProxy
from tests.helpers.lab import fresh_labs, running_lab
from tests.helpers.vsphere_lab import running_lab as running_lab_of
from tests.helpers.vsphere_lab import write_scenario
from tests.reliability import observe
from tests.reliability.figures import Size, Sweep, current_size, record
from wizard.audit import Journal, JournalEntry
from wizard.check_text import scan_asks_privileges, scan_judge
from wizard.kb import RemedyId, assess, remedies
from wizard.lab.process import LabInfo
from wizard.vsphere._pyvmomi import vim
from wizard.vsphere.collector import inventory_filter, retrieve
from wizard.vsphere.errors import ConnectionLost, TimedOut, TlsFailed, VsphereError
from wizard.vsphere.executor import Executor
from wizard.vsphere.facts import collect_facts, scan_all
from wizard.vsphere.inventory import list_vms, resolve_vm
from wizard.vsphere.results import ApplyRequest, ApplyResult, Outcome, Reason, StepUpdate
from wizard.vsphere.session import Endpoint, Session
from wizard.vsphere.tls import MemoryPinStore, TrustPolicy

pytestmark = [pytest.mark.lab, pytest.mark.slow]

SIZE = current_size()
KINDS = (
    Fault.DROP_BEFORE_REQUEST,
    Fault.DROP_AFTER_REQUEST,
    Fault.CUT_MID_RESPONSE,
    Fault.RESET,
    Fault.STALL,
)
# The session's read timeout, and a stall that outlasts it. Waiting for a task needs 2 s (it
# asks vCenter to hold the answer up to a whole second less than the timeout).
TIMEOUT_S = 2.0
STALL_S = 2.5
READ_TIMEOUT_S = 1.0
READ_STALL_S = 1.3
LATENCY_S = 0.03  # the "slow link" run: added to every chunk in both directions
# What a broken link may be reported as. Anything else (NotVsphere, LoginFailed, a plain
# VsphereError "unexpected error") would send the technician the wrong way.
NETWORK_ERRORS = (TimedOut, ConnectionLost, TlsFailed)
OFF_VM = "Off W7"  # powered off: apply and undo are reread, reconfigure, verify
ON_VM = "Dual W7"  # running: shutdown and power-on steps too
WANTED_ON_OFF = {OFF_VM: "poweredOff", ON_VM: "poweredOn"}


@dataclass
class Tally(Sweep):
    """What one operation's sweep did."""

    steps: int = 0
    runs: int = 0
    fired: int = 0

    def judge(self, label: str, fired: bool, problems: list[str]) -> None:
        self.runs += 1
        self.fired += int(fired)
        self.settle(label, problems, counts=fired)

    def publish_faults(self) -> None:
        self.publish("faults", steps=self.steps, runs=self.runs, injected=self.fired)


def plan(op: str, steps: int, size: Size = SIZE, *, stride: int = 1) -> list[tuple[int, Fault]]:
    """Every fault at every step (full); one fault per step in turn, all kinds used (ci).

    With ``stride`` 2, only every other step: the even ones for an apply, the odd ones for an
    undo, so the two together still meet a fault at every step index.
    """
    first = 1 if stride > 1 and op.startswith("undo") else 0
    chosen = range(first, steps, stride)
    if size.every_fault_at_every_step:
        return [(step, kind) for step in chosen for kind in KINDS]
    offset = sum(map(ord, op))  # each operation starts the rotation at another kind
    return [(step, KINDS[(step + offset) % len(KINDS)]) for step in chosen]


def trust(lab: LabInfo) -> TrustPolicy:
    """As ``--trust-fingerprint``: the OS store first, then exactly the lab's certificate."""
    return TrustPolicy(MemoryPinStore(), expected_fingerprint=lab.thumbprint_sha256)


def connect(lab: LabInfo, port: int, timeout: float = TIMEOUT_S) -> Session:
    return Session.connect(
        Endpoint(lab.host, port), lab.user, lab.password, trust=trust(lab), timeout=timeout
    )


def unclear(exc: VsphereError) -> list[str]:
    """Why an error would not tell a technician what happened and what to do (empty: clear)."""
    problems = []
    if not isinstance(exc, NETWORK_ERRORS):
        problems.append(f"a broken link reported as {type(exc).__name__}: {exc.message!r}")
    if not exc.message.strip() or not exc.next_step.strip():
        problems.append(f"{type(exc).__name__} without message or next step")
    return problems


@contextlib.contextmanager
def proxy_to(lab: LabInfo) -> Iterator[FaultProxy]:
    with FaultProxy(lab.port, lifetime=120.0) as proxy:
        yield proxy


# ------------------------------------------------------------------------- connect, list, check


def do_connect(lab: LabInfo, proxy: FaultProxy) -> None:
    with connect(lab, proxy.port, READ_TIMEOUT_S):
        pass


def do_list(session: Session) -> None:
    assert any(vm.name == ON_VM for vm in list_vms(session))


def do_check(session: Session) -> None:
    facts = collect_facts(session, resolve_vm(session, ON_VM).moref)
    assessment = assess(facts)
    assert remedies(assessment, facts)
    assert assessment.verdict.value == "confirmed"


def do_scan(session: Session) -> None:
    """``check --all``'s read: the VMs' pages through the reading thread, the surroundings and
    events on threads of their own, each VM judged as its page is read, and the privileges
    asked for the VMs that need a fix (the scan in brief)."""
    judge = scan_judge(as_json=False, detail=False, version="test")
    scanned = scan_all(session, judge, asks_privileges=scan_asks_privileges(detail=False))
    confirmed = [j for j in scanned if j.assessment.verdict.value == "confirmed"]
    assert confirmed
    assert all(j.facts.privileges and j.remedies for j in confirmed)
    assert len(scanned) == len(list_vms(session))


def sweep_read(lab: LabInfo, op: str) -> Tally:
    """Connect, or list or check on a fresh session, with a fault at every step of the op."""
    tally = Tally(op)
    before = observe.sessions_on(lab)
    work = {"list": do_list, "check": do_check, "scan": do_scan}.get(op)

    with proxy_to(lab) as proxy:
        if work is None:
            do_connect(lab, proxy)
            tally.steps = proxy.exchanges
        else:
            with connect(lab, proxy.port, READ_TIMEOUT_S) as session:
                proxy.exchanges = 0
                work(session)
                # The operation's own exchanges: the logout that follows is outside it (a fault
                # armed for it is taken back before it happens, and would never fire).
                tally.steps = proxy.exchanges

    def faulted(proxy: FaultProxy, step: int, kind: Fault) -> list[str]:
        problems: list[str] = []
        if work is None:
            proxy.arm(kind, skip=step, seconds=READ_STALL_S, cut_bytes=40)
            try:
                do_connect(lab, proxy)
            except VsphereError as exc:
                problems += unclear(exc)
            proxy.disarm()
            do_connect(lab, proxy)  # Retry works
            return problems
        with connect(lab, proxy.port, READ_TIMEOUT_S) as session:
            proxy.arm(kind, skip=step, seconds=READ_STALL_S, cut_bytes=40)
            try:
                work(session)
            except VsphereError as exc:
                problems += unclear(exc)
            proxy.disarm()
            work(session)  # Retry on the same session works
        return problems

    for step, kind in plan(op, tally.steps):
        with proxy_to(lab) as proxy:
            try:
                problems = faulted(proxy, step, kind)
            except Exception as exc:  # noqa: BLE001 - any escape is a finding, reported below
                problems = [f"escaped {type(exc).__name__}: {exc}"]
            tally.judge(f"step {step} {kind.value}", bool(proxy.fired), problems)
    with proxy_to(lab) as proxy:
        proxy.delay = LATENCY_S
        try:
            if work is None:
                do_connect(lab, proxy)
            else:
                with connect(lab, proxy.port, READ_TIMEOUT_S) as session:
                    work(session)
            problems = []
        except Exception as exc:  # noqa: BLE001
            problems = [f"a slow link failed it: {type(exc).__name__}: {exc}"]
        tally.judge("slow link", True, problems)
    leaked = observe.sessions_on(lab) - before
    if op != "connect" and leaked:
        tally.problems.append(f"{op}: {leaked} sessions left logged in")
    if op == "connect":
        # A lost answer to Login leaves a session the client never learnt of; vCenter ends it
        # after its idle timeout. Reported, not a failure: no client can log it out.
        record("faults_connect_orphans", sessions=leaked)
    return tally


# ------------------------------------------------------------------------- apply and undo


@dataclass(frozen=True)
class ChangeRun:
    """One apply or undo through the proxy, with what is needed to judge it.

    Attributes:
        wanted: the buffer value the run means to leave (None: unset, after an undo).
        tasks_before: reconfigure tasks of the product's user before the faulted run.
        undo_of: the entry an undo puts back.
    """

    result: ApplyResult
    journal: Journal
    wanted: str | None
    fired: bool
    tasks_before: int
    undo_of: str | None


def apply_request(session: Session, vm: str) -> ApplyRequest:
    facts, remedy = check(session, vm, RemedyId.RAISE_BUFFER)
    return ApplyRequest(facts, remedy, allow_shutdown=True, shutdown_timeout=15.0)


def executor(session: Session, journal: Journal) -> Executor:
    return Executor(
        session,
        journal,
        tools_timeout=5.0,
        reconnect_timeout=10.0,
        task_timeout=30,
        settle_timeout=2.0,
    )


def change_once(
    lab: LabInfo, directory: Path, op: str, vm: str, fault: tuple[int, Fault] | None
) -> tuple[ChangeRun, int]:
    """Apply (or apply cleanly, then undo) with ``fault`` armed for the apply (or the undo).

    Returns:
        The run, and how many exchanges the apply (or the undo) itself took.
    """
    journal = journal_in(directory)
    with proxy_to(lab) as proxy, connect(lab, proxy.port) as session:
        request = apply_request(session, vm)
        wanted = request.remedy.changes[0].after
        undo_of = None
        if op == "undo":
            done = executor(session, journal).apply(request)
            assert done.outcome is Outcome.APPLIED, done.message
            undo_of, wanted = done.entry_id, None
        with observe.admin(lab) as si:
            tasks_before = observe.reconfigure_tasks(lab, vm, lab.user, si)
        proxy.exchanges = 0
        if fault is not None:
            proxy.arm(fault[1], skip=fault[0], seconds=STALL_S, cut_bytes=40)
        if undo_of is None:
            result = executor(session, journal).apply(request)
        else:
            result = executor(session, journal).undo(undo_of, allow_shutdown=True)
        proxy.disarm()
        return ChangeRun(
            result, journal, wanted, bool(proxy.fired), tasks_before, undo_of
        ), proxy.exchanges


def reconfigure_said(entry: JournalEntry) -> str | None:
    """The outcome the journal gives the reconfigure step (None: no reconfigure outcome)."""
    said = [
        str(r.data.get("outcome"))
        for r in entry.records
        if r.step == "reconfigure" and r.phase == "outcome"
    ]
    return said[-1] if said else None


def judge_change(lab: LabInfo, vm: str, run: ChangeRun, si: Any) -> list[str]:
    """What an administrator (``si``) would find wrong after the run (empty: nothing)."""
    problems: list[str] = []
    result = run.result
    if not result.ok and not (result.reason and result.message and result.next_step):
        problems.append(f"{result.outcome} without reason, message or next step")
    value, power = observe.vm_state(lab, vm, si)
    changed = value == run.wanted
    tasks = observe.reconfigure_tasks(lab, vm, lab.user, si) - run.tasks_before
    if tasks > 1:
        problems.append(f"{tasks} reconfigure tasks: the change was sent twice")
    entry = run.journal.read().entry(result.entry_id or "")
    if entry is None:
        return [*problems, "no journal entry"]
    unsettled = result.reason in (Reason.OUTCOME_UNKNOWN, Reason.SHUTDOWN_TIMEOUT)
    if entry.is_dangling and not unsettled:
        problems.append(f"journal entry left open at {entry.dangling_step or 'its end'}")
    if unsettled and not entry.is_dangling and reconfigure_said(entry) == "unknown":
        problems.append("the result says unknown, but the journal closed the entry")
    said = reconfigure_said(entry)
    if changed and said not in ("succeeded", "unknown"):
        problems.append(f"the VM changed but the journal says reconfigure {said}")
    if not changed and said == "succeeded":
        problems.append("the journal says changed but the VM is not")
    if result.outcome is Outcome.APPLIED and not (changed and result.verified):
        problems.append(f"reported applied, but the value is {value!r}")
    if result.power_state is not None and result.power_state != power:
        problems.append(f"reported {result.power_state}, but the VM is {power}")
    if power != WANTED_ON_OFF[vm] and "power" not in (result.message + result.next_step):
        problems.append(f"left {power} without saying so")
    return problems


def retry_works(lab: LabInfo, vm: str, run: ChangeRun, si: Any) -> list[str]:
    """After a failed run, running it again without the fault must finish the job."""
    if run.result.ok:
        return []
    with connect(lab, lab.port) as session:
        if run.undo_of is None:
            again = executor(session, run.journal).apply(apply_request(session, vm))
        else:
            again = executor(session, run.journal).undo(run.undo_of, allow_shutdown=True)
    if not again.ok:
        return [f"retry: {again.outcome} {again.reason}: {again.message}"]
    problems = []
    if run.journal.read().dangling:
        problems.append("the retry left an earlier entry unsettled")
    value, power = observe.vm_state(lab, vm, si)
    if value != run.wanted:
        problems.append(f"retry left the value {value!r}")
    if power != WANTED_ON_OFF[vm]:
        problems.append(f"retry left the VM {power}")
    return problems


def sweep_change(binary: Path, tmp: Path, op: str, vm: str) -> Tally:
    tally = Tally(f"{op} ({vm})")
    fresh_lab = fresh_labs(SCENARIO, binary, tmp, f"{op}-")

    with fresh_lab() as (lab, directory):
        clean, tally.steps = change_once(lab, directory, op, vm, None)
        assert clean.result.outcome is Outcome.APPLIED, clean.result.message

    for step, kind in plan(f"{op} {vm}", tally.steps, stride=SIZE.change_stride):
        with fresh_lab() as (lab, directory):
            try:
                run, _ = change_once(lab, directory, op, vm, (step, kind))
                with observe.admin(lab) as si:
                    problems = judge_change(lab, vm, run, si)
                    problems += retry_works(lab, vm, run, si)
                    leaked = observe.sessions_on(lab, si)
                if leaked:
                    problems.append(f"{leaked} sessions left logged in")
                fired = run.fired
            except Exception as exc:  # noqa: BLE001 - any escape is a finding
                problems, fired = [f"escaped {type(exc).__name__}: {exc}"], True
            tally.judge(f"step {step} {kind.value}", fired, problems)

    with fresh_lab() as (lab, directory), proxy_to(lab) as proxy:
        proxy.delay = LATENCY_S
        journal = journal_in(directory)
        with connect(lab, proxy.port) as session:
            result = executor(session, journal).apply(apply_request(session, vm))
            if op == "undo":
                result = executor(session, journal).undo(result.entry_id or "", allow_shutdown=True)
        tally.judge("slow link", True, [] if result.ok else [f"slow link: {result.message}"])
    return tally


# ------------------------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def read_lab(lab_binary_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_lab(SCENARIO, tmp_path_factory.mktemp("matrix"), lab_binary_path) as lab:
        yield lab.info


@pytest.mark.parametrize("op", ["connect", "list", "check", "scan"])
def test_read_operations_survive_a_fault_at_every_step(read_lab: LabInfo, op: str) -> None:
    tally = sweep_read(read_lab, op)
    tally.publish_faults()
    assert tally.steps >= 1
    assert tally.fired >= len(plan(op, tally.steps)) * 0.8, "most faults must really fire"
    assert not tally.problems, "\n".join(tally.problems)


CHANGE_CASES = [("apply", OFF_VM), ("undo", OFF_VM)]
if SIZE.shutdown_vm_in_matrix:
    CHANGE_CASES += [("apply", ON_VM), ("undo", ON_VM)]


@pytest.mark.parametrize(("op", "vm"), CHANGE_CASES)
def test_changes_survive_a_fault_at_every_step(
    lab_binary_path: Path, tmp_path: Path, op: str, vm: str
) -> None:
    tally = sweep_change(lab_binary_path, tmp_path, op, vm)
    tally.publish_faults()
    assert tally.steps >= 5
    assert not tally.problems, "\n".join(tally.problems)


@pytest.mark.parametrize("fault", [Fault.DROP_AFTER_REQUEST, Fault.STALL])
def test_a_lost_answer_to_the_guest_shutdown_leaves_no_vm_off(
    lab_binary_path: Path, tmp_path: Path, fault: Fault
) -> None:
    """Found by the full sweep: the guest went down, the answer was lost, and the VM was left
    off while the result said it was on. Now the shutdown is asked again once vCenter answers."""
    with (
        running_lab(SCENARIO, tmp_path, lab_binary_path) as process,
        proxy_to(process.info) as proxy,
        connect(process.info, proxy.port) as session,
    ):
        lab = process.info
        request = apply_request(session, ON_VM)
        armed: list[bool] = []

        def on_progress(update: StepUpdate) -> None:
            if update.step == "shutdown" and update.state == "running" and not armed:
                armed.append(True)
                proxy.arm(fault, seconds=STALL_S)  # the next exchange is ShutdownGuest

        journal = journal_in(tmp_path)
        result = Executor(
            session, journal, on_progress=on_progress, tools_timeout=5.0, reconnect_timeout=10.0
        ).apply(request)
        assert proxy.fired == [fault]
        run = ChangeRun(result, journal, request.remedy.changes[0].after, True, 0, None)
        with observe.admin(lab) as si:
            assert judge_change(lab, ON_VM, run, si) == []
        assert result.outcome is Outcome.APPLIED, result.message
        assert observe.vm_state(lab, ON_VM)[1] == "poweredOn"


# --------------------------------------------------------------------- pages read ahead


@pytest.fixture(scope="module")
def paged_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabInfo]:
    with running_lab_of(write_scenario(tmp_path_factory.mktemp("paged"), filler_vms=250)) as info:
        yield info


def test_a_lost_answer_at_any_page_read_ahead_fails_clearly_and_leaves_no_thread(
    paged_lab: LabInfo,
) -> None:
    """A scan's pages are asked for by a reading thread while this side works on the page
    before: an answer lost at any of them (the VPN drops it after vCenter got the request) ends
    the read with a network error, not a hang or a short list, and the same read then works."""

    def names(session: Session, seen: list[int]) -> set[str]:
        spec = inventory_filter(session.content, {vim.VirtualMachine: ["name"]})
        objects = session.call(
            lambda: retrieve(
                session.content.propertyCollector,
                [spec],
                page_size=50,
                lean=True,
                on_page=lambda page: seen.append(len(page)),
            )
        )
        return {o.moref for o in objects}

    with proxy_to(paged_lab) as proxy, connect(paged_lab, proxy.port, READ_TIMEOUT_S) as session:
        proxy.exchanges = 0
        every = names(session, [])
        steps = proxy.exchanges
    assert len(every) == 253
    assert steps >= 6  # six pages, each its own request
    threads = threading.active_count()
    lab = paged_lab
    for step in range(steps):
        with proxy_to(lab) as proxy, connect(lab, proxy.port, READ_TIMEOUT_S) as session:
            proxy.arm(Fault.DROP_AFTER_REQUEST, skip=step)
            seen: list[int] = []
            problems: list[str] = []
            try:
                got = names(session, seen)
            except VsphereError as exc:
                problems = unclear(exc)
            else:  # the fault hit an exchange outside the read (none is expected)
                problems = [] if got == every else [f"a list of {len(got)} VMs, not {len(every)}"]
            assert problems == [], f"step {step}"
            assert proxy.fired, f"step {step}: the fault never fired"
            assert sum(seen) <= len(every), f"step {step}: a page read twice"
            proxy.disarm()
            assert names(session, []) == every, f"step {step}: the same read again"
        deadline = time.monotonic() + 5
        while threading.active_count() > threads and time.monotonic() < deadline:
            time.sleep(0.05)
        assert threading.active_count() <= threads, f"step {step}: a reading thread left behind"
