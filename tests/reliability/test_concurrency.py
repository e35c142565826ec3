"""Two technicians on the same VM, each with a session of their own.

Both check the VM and choose the buffer fix with different sizes; the first applies. The
second must be refused with what changed, never overwrite the first's value: at the re-read
(``stale_plan``) when the first finished before, or by vCenter itself (``concurrent_change``,
the ``changeVersion`` guard) when the first got in between the second's re-read and its change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.apply import ADMIN2, SCENARIO, check, journal_in
from tests.helpers.lab import StartLab
from tests.helpers.vsphere_lab import session_to
from tests.reliability import observe
from tests.reliability.figures import record
from wizard.audit import Journal
from wizard.kb import RemedyId, RemedyOptions
from wizard.lab.process import LabInfo
from wizard.vsphere.executor import Executor
from wizard.vsphere.results import ApplyRequest, ApplyResult, Outcome, Reason, StepUpdate
from wizard.vsphere.session import Session

pytestmark = [pytest.mark.lab]

VM = "Off W7"
KEY = observe.BUFFER_KEY
FIRST_BYTES = 48 * 1024 * 1024
SECOND_BYTES = 64 * 1024 * 1024


@pytest.fixture
def lab(start_lab: StartLab) -> LabInfo:
    return start_lab(SCENARIO)


def request(session: Session, buffer_bytes: int) -> ApplyRequest:
    facts, remedy = check(
        session, VM, RemedyId.RAISE_BUFFER, options=RemedyOptions(buffer_bytes=buffer_bytes)
    )
    assert remedy.changes[0].after == str(buffer_bytes)
    return ApplyRequest(facts, remedy, allow_shutdown=True, shutdown_timeout=10.0)


def apply(session: Session, journal: Journal, req: ApplyRequest, **kw: object) -> ApplyResult:
    return Executor(session, journal, tools_timeout=2.0, **kw).apply(req)  # type: ignore[arg-type]


def assert_refused_with_the_difference(result: ApplyResult, reason: Reason) -> None:
    assert result.outcome is Outcome.REFUSED, result.message
    assert result.reason is reason
    assert "nothing was changed" in result.message.lower()
    (diff,) = [d for d in result.differences if d.what.endswith(KEY)]
    assert diff.expected is None
    assert diff.found == str(FIRST_BYTES)
    assert str(FIRST_BYTES) in result.message  # the technician sees the other value
    assert result.next_step


def test_second_technician_is_refused_after_the_first_applied(lab: LabInfo, tmp_path: Path) -> None:
    with (
        session_to(lab) as first,
        session_to(lab, user=ADMIN2[0], password=ADMIN2[1]) as second,
    ):
        mine, theirs = request(first, FIRST_BYTES), request(second, SECOND_BYTES)
        done = apply(first, journal_in(tmp_path / "a"), mine)
        assert done.outcome is Outcome.APPLIED, done.message
        journal = journal_in(tmp_path / "b")
        refused = apply(second, journal, theirs)
    assert_refused_with_the_difference(refused, Reason.STALE_PLAN)
    assert observe.vm_state(lab, VM) == (str(FIRST_BYTES), "poweredOff")
    assert observe.reconfigure_tasks(lab, VM, ADMIN2[0]) == 0
    entry = journal.read().entry(refused.entry_id or "")
    assert entry is not None
    assert entry.outcome == "refused"
    record("concurrency", scenario="stale_plan", refused=True)


def test_second_technician_is_refused_by_vcenter_when_the_first_got_in_between(
    lab: LabInfo, tmp_path: Path
) -> None:
    with (
        session_to(lab) as first,
        session_to(lab, user=ADMIN2[0], password=ADMIN2[1]) as second,
    ):
        mine, theirs = request(first, FIRST_BYTES), request(second, SECOND_BYTES)
        first_result: list[ApplyResult] = []

        def first_applies_now(update: StepUpdate) -> None:
            # The second's re-read found the VM as checked; its change is about to be sent.
            if update.step == "reconfigure" and update.state == "running" and not first_result:
                first_result.append(apply(first, journal_in(tmp_path / "a"), mine))

        journal = journal_in(tmp_path / "b")
        refused = apply(second, journal, theirs, on_progress=first_applies_now)
    assert first_result[0].outcome is Outcome.APPLIED, first_result[0].message
    assert_refused_with_the_difference(refused, Reason.CONCURRENT_CHANGE)
    assert observe.vm_state(lab, VM) == (str(FIRST_BYTES), "poweredOff")
    entry = journal.read().entry(refused.entry_id or "")
    assert entry is not None
    assert entry.outcome == "refused"
    assert not entry.is_dangling
    record("concurrency", scenario="concurrent_change", refused=True)


def test_the_same_fix_twice_is_not_done_twice(lab: LabInfo, tmp_path: Path) -> None:
    with (
        session_to(lab) as first,
        session_to(lab, user=ADMIN2[0], password=ADMIN2[1]) as second,
    ):
        mine, theirs = request(first, FIRST_BYTES), request(second, FIRST_BYTES)
        assert apply(first, journal_in(tmp_path / "a"), mine).outcome is Outcome.APPLIED
        again = apply(second, journal_in(tmp_path / "b"), theirs)
    assert again.outcome is Outcome.NOTHING_TO_DO, again.message
    assert observe.reconfigure_tasks(lab, VM, ADMIN2[0]) == 0
    record("concurrency", scenario="same_fix", refused=True)
