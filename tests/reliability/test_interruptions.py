"""Interrupted runs: a killed process, a Ctrl-C and a full disk at every point of every fix.

``test_fault_matrix.py`` breaks the *network* at every request; this module breaks the *run*
at every point a person or the machine can: each progress report of an apply or undo (where
the process is killed, or Ctrl-C is pressed) and each journal write (where the disk fills up),
for every one of the article's four fixes. After each broken run the technician runs the same
fix (or undo) again, as they would; then an administrator's view must show:

- nothing escaped but the kill itself, and a result that is not "done" says why and what next;
- a Ctrl-C run either stopped before changing anything or finished the change, and gave the
  VM its power back either way;
- after the second run the change is made exactly once (one reconfigure task), the VM has the
  power state it had before, and the journal has no unsettled entry.

The full disk is a stand-in: a journal whose writes fail from the N-th on with the same
:class:`~wizard.audit.JournalError` the real one raises on ``ENOSPC`` (a real tmpfs that fills
up mid-run is in ``tests/integration/test_safe_apply.py``; mounting one per case here would
need root for every run).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.apply import SCENARIO, check
from tests.helpers.lab import fresh_labs
from tests.helpers.vsphere_lab import session_to
from tests.reliability import observe
from tests.reliability.figures import Sweep, current_size
from wizard.audit import Journal, JournalError
from wizard.kb import RemedyId
from wizard.kb.model import Change
from wizard.kb.plan import ChangeState, reconcile_state
from wizard.lab.process import LabInfo
from wizard.vsphere.executor import Executor
from wizard.vsphere.facts import collect_facts
from wizard.vsphere.inventory import resolve_vm
from wizard.vsphere.results import ApplyRequest, ApplyResult, Outcome, StepUpdate
from wizard.vsphere.session import Session

pytestmark = [pytest.mark.lab, pytest.mark.slow]

SIZE = current_size()
FULL = SIZE.name == "full"

# (remedy, VM): the VM each fix is tried on; all four need the VM off, so a run passes through
# shutdown, change, power-on and verification.
CASES = [
    (RemedyId.RAISE_BUFFER, "Dual W7"),
    (RemedyId.ENABLE_3D, "Dual W7"),
    (RemedyId.LOWER_RESOLUTION, "Dual W7"),
    (RemedyId.STAY_ON_HW7, "HW7 W7"),
]
KINDS = ("kill", "ctrl-c", "disk full")


class Killed(BaseException):
    """The process dies here: nothing after it runs, no handler catches it."""


class FillingJournal(Journal):
    """A journal on a disk that fills up: every write from the ``fail_at``-th on fails."""

    def __init__(self, path: Path, fail_at: int | None = None) -> None:
        super().__init__(path)
        self.fail_at = fail_at
        self.writes = 0

    def _append(self, record: dict[str, Any]) -> None:
        self.writes += 1
        if self.fail_at is not None and self.writes >= self.fail_at:
            raise JournalError(
                f"The journal {self.path} cannot be written (No space left on device).",
                "No space left on device",
            )
        super()._append(record)


@dataclass
class Tally(Sweep):
    points: int = 0
    writes: int = 0
    injected: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def judge(self, kind: str, label: str, problems: list[str]) -> None:
        self.injected += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.settle(label, problems)


def executor(
    session: Session,
    journal: Journal,
    on_progress: Callable[[StepUpdate], None] | None = None,
    cancel: threading.Event | None = None,
) -> Executor:
    return Executor(
        session,
        journal,
        on_progress=on_progress,
        cancel=cancel,
        tools_timeout=3.0,
        reconnect_timeout=5.0,
        settle_timeout=1.0,
    )


def request(session: Session, remedy: RemedyId, vm: str) -> ApplyRequest:
    facts, chosen = check(session, vm, remedy)
    assert chosen.available, chosen.why_not
    assert chosen.changes, f"{remedy} has nothing to change on {vm}"
    return ApplyRequest(facts, chosen, allow_shutdown=True, shutdown_timeout=10.0)


def state_of(session: Session, vm: str, changes: tuple[Change, ...]) -> tuple[ChangeState, str]:
    facts = collect_facts(session, resolve_vm(session, vm).moref)
    return reconcile_state(changes, facts), facts.power_state


@dataclass(frozen=True)
class Fault:
    kind: str
    at: int  # the progress report (kill, ctrl-c) or journal write (disk full), counted from 1


def run_once(
    lab: LabInfo, directory: Path, op: str, remedy: RemedyId, vm: str, fault: Fault | None
) -> tuple[list[str], int, int]:
    """One broken run and the technician's second run; returns problems, reports, writes."""
    problems: list[str] = []
    path = directory / "journal.jsonl"
    clean = FillingJournal(path)
    with session_to(lab) as session:
        req = request(session, remedy, vm)
        changes = req.remedy.changes
        power_before = req.facts_at_check.power_state
        undo_of = None
        if op == "undo":
            done = executor(session, clean).apply(req)
            assert done.outcome is Outcome.APPLIED, done.message
            undo_of = done.entry_id
        wanted = ChangeState.NOT_APPLIED if op == "undo" else ChangeState.APPLIED
        before = ChangeState.APPLIED if op == "undo" else ChangeState.NOT_APPLIED
        tasks_before = observe.reconfigure_tasks(lab, vm, lab.user)

        reports = [0]
        cancel = threading.Event()

        def on_progress(update: StepUpdate) -> None:
            reports[0] += 1
            if fault is not None and reports[0] == fault.at:
                if fault.kind == "kill":
                    raise Killed
                if fault.kind == "ctrl-c":
                    cancel.set()

        journal = FillingJournal(
            path, fail_at=fault.at if fault and fault.kind == "disk full" else None
        )

        def go(j: Journal, progress: Callable[[StepUpdate], None] | None) -> ApplyResult:
            run = executor(session, j, progress, cancel)
            if undo_of is None:
                return run.apply(req)
            return run.undo(undo_of, allow_shutdown=True)

        result: ApplyResult | None = None
        try:
            result = go(journal, on_progress)
        except Killed:
            pass
        except Exception as exc:  # noqa: BLE001 - any escape is a finding
            problems.append(f"escaped {type(exc).__name__}: {exc}")
        writes = journal.writes - (journal.writes >= (journal.fail_at or 10**9))

        if result is not None and not result.ok and not (result.message and result.next_step):
            problems.append(f"{result.outcome} {result.reason} without message or next step")
        if fault is not None and fault.kind == "ctrl-c" and result is not None:
            found, power = state_of(session, vm, changes)
            if result.outcome is Outcome.CANCELLED and found is not before:
                problems.append(f"stopped, yet the settings are {found.value}")
            if result.ok and found is not wanted:
                problems.append(f"reported {result.outcome}, yet the settings are {found.value}")
            if power != power_before:
                problems.append(f"Ctrl-C left the VM {power}")
        full = fault is not None and fault.kind == "disk full"
        if full and result is not None and "journal" not in result.message.lower():
            problems.append(f"a full disk not mentioned: {result.message}")

        # The technician runs it again, with the disk freed and nothing interrupting.
        cancel.clear()
        if fault is not None:
            again = go(Journal(path), None)
            if not again.ok:
                problems.append(f"second run: {again.outcome} {again.reason}: {again.message}")
        found, power = state_of(session, vm, changes)
        if found is not wanted:
            problems.append(f"after the second run the settings are {found.value}")
        if power != power_before:
            problems.append(f"after the second run the VM is {power}, not {power_before}")
        tasks = observe.reconfigure_tasks(lab, vm, lab.user) - tasks_before
        if tasks != 1:
            problems.append(f"{tasks} reconfigure tasks for one {op}")
        dangling = Journal(path).read().dangling
        if dangling:
            problems.append(f"unsettled entries left: {[e.dangling_step for e in dangling]}")
    return problems, reports[0], writes


def plan(points: int, writes: int, salt: int) -> list[Fault]:
    """Every kind at every point (full); at ci size every third point, kinds in turn."""
    faults = [Fault(k, i) for k in ("kill", "ctrl-c") for i in range(1, points + 1)]
    faults += [Fault("disk full", i) for i in range(2, writes + 1)]  # the 1st is the begin
    if FULL:
        return faults
    return [f for n, f in enumerate(faults) if (n + salt) % 3 == 0]


def sweep(binary: Path, tmp: Path, op: str, remedy: RemedyId, vm: str) -> Tally:
    tally = Tally(f"{op} {remedy.value}")
    fresh = fresh_labs(SCENARIO, binary, tmp, "run")

    with fresh() as (lab, directory):
        problems, tally.points, tally.writes = run_once(lab, directory, op, remedy, vm, None)
        assert not problems, problems
    for fault in plan(tally.points, tally.writes, len(op) + len(remedy.value)):
        with fresh() as (lab, directory):
            problems, _, _ = run_once(lab, directory, op, remedy, vm, fault)
        tally.judge(fault.kind, f"{fault.kind} at {fault.at}", problems)
    return tally


PARAMS = [(op, remedy, vm) for remedy, vm in CASES for op in ("apply", "undo")]
if not FULL:
    PARAMS = [PARAMS[0], PARAMS[3], PARAMS[6]]  # apply raise_buffer, undo 3D, apply HW7


@pytest.mark.parametrize(
    ("op", "remedy", "vm"), PARAMS, ids=[f"{o}-{r.value}" for o, r, _ in PARAMS]
)
def test_a_run_broken_at_any_point_is_finished_by_the_next_one(
    lab_binary_path: Path, tmp_path: Path, op: str, remedy: RemedyId, vm: str
) -> None:
    tally = sweep(lab_binary_path, tmp_path, op, remedy, vm)
    tally.publish(
        "interruptions",
        points=tally.points,
        writes=tally.writes,
        injected=tally.injected,
        kinds=tally.kinds,
    )
    assert tally.points >= 6
    assert not tally.problems, "\n".join(tally.problems)
