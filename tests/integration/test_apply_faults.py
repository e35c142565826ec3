"""Faults while applying a fix: each one loses nothing and leaves a true journal.

"Someone else" is a second admin's plain pyVmomi login acting on the lab at a chosen moment
of the run (the executor's progress callback runs on the executor's own thread, so the moment
is exact). Network faults go through :class:`tests.helpers.faultproxy.FaultProxy`, which
stands in for the network path to vCenter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers.apply import (
    at,
    behind_proxy,
    check,
    read,
    reconfigure_tasks,
    records,
    run_task,
    someone_else,
)
from tests.helpers.faultproxy import Fault
from tests.helpers.lab import vim, vm_of
from tests.helpers.vsphere_lab import session_to
from wizard.audit import Journal
from wizard.kb import RemedyId
from wizard.lab.process import LabInfo
from wizard.vsphere.executor import Executor
from wizard.vsphere.results import ApplyRequest, ApplyResult, Outcome, Reason, StepUpdate
from wizard.vsphere.session import Session

pytestmark = pytest.mark.lab

SENDING = "Sending the change"


class Killed(BaseException):
    """Stands in for the process being killed: nothing after it runs, no handler catches it."""


def killed() -> None:
    """Kill the run at this moment."""
    raise Killed


def apply_dual(
    session: Session,
    journal: Journal,
    on_progress: Callable[[StepUpdate], None] | None = None,
    *,
    remedy_id: RemedyId = RemedyId.RAISE_BUFFER,
    name: str = "Dual W7",
    **options: Any,
) -> ApplyResult:
    facts, remedy = check(session, name, remedy_id)
    executor = Executor(
        session,
        journal,
        on_progress=on_progress,
        tools_timeout=5.0,
        reconnect_timeout=10.0,
        settle_timeout=2.0,
    )
    options.setdefault("shutdown_timeout", 10.0)
    options.setdefault("allow_shutdown", True)
    return executor.apply(ApplyRequest(facts, remedy, **options))


def test_task_error_concurrent_change_changes_nothing_and_powers_back_on(
    lab: LabInfo, journal: Journal
) -> None:
    def colleague_edits() -> None:
        with someone_else(lab) as si:
            spec = vim.vm.ConfigSpec(
                extraConfig=[vim.option.OptionValue(key="ticket.note", value="INC-42")]
            )
            run_task(vm_of(si, "Dual W7").ReconfigVM_Task(spec))

    with session_to(lab) as session:
        result = apply_dual(
            session, journal, at("reconfigure", "running", colleague_edits, message=SENDING)
        )
        assert result.outcome is Outcome.REFUSED, (result.message, result.steps)
        assert result.reason is Reason.CONCURRENT_CHANGE
        assert "Nothing was changed" in result.message
        assert "powered on again" in result.message
        now = read(session, "Dual W7")
        assert now.extra("migrate.baseCptCacheSize") is None  # noqa: S610
        assert now.extra("ticket.note") == "INC-42"  # noqa: S610
        assert now.power_state == "poweredOn"
        entry = journal.read().entry(result.entry_id or "")
        assert entry is not None
        assert records(entry) == [
            ("begin", "apply", None),
            ("intent", "shutdown", None),
            ("outcome", "shutdown", "succeeded"),
            ("intent", "reconfigure", None),
            ("outcome", "reconfigure", "failed"),
            ("intent", "power_on", None),
            ("outcome", "power_on", "succeeded"),
            ("end", "end", "refused"),
        ]
        assert entry.records[4].data["fault"] == "ConcurrentAccess"


def test_wrong_power_state_from_vcenter_is_reported_and_nothing_changes(
    lab: LabInfo, journal: Journal
) -> None:
    def colleague_starts_it() -> None:
        with someone_else(lab) as si:
            run_task(vm_of(si, "Dual W7").PowerOnVM_Task())

    with session_to(lab) as session:
        result = apply_dual(
            session,
            journal,
            at("reconfigure", "running", colleague_starts_it, message=SENDING),
            remedy_id=RemedyId.ENABLE_3D,
        )
        assert result.outcome is Outcome.FAILED
        assert result.reason is Reason.WRONG_POWER_STATE
        now = read(session, "Dual W7")
        assert now.video is not None
        assert not now.video.enable_3d_support
        assert now.power_state == "poweredOn"
        assert result.power_state == "poweredOn"


@pytest.mark.parametrize(
    "fault",
    [Fault.DROP_AFTER_REQUEST, Fault.CUT_MID_RESPONSE, Fault.STALL],
    ids=["answer-lost", "cut-mid-answer", "stalled-answer"],
)
def test_connection_lost_after_submit_finds_the_task_and_never_resubmits(
    lab: LabInfo, journal: Journal, fault: Fault
) -> None:
    with behind_proxy(lab, lifetime=60.0, timeout=2.0) as (proxy, session):

        def break_the_network() -> None:
            proxy.arm(fault, seconds=3.0, cut_bytes=40)

        result = apply_dual(
            session, journal, at("reconfigure", "running", break_the_network, message=SENDING)
        )
        assert proxy.fired == [fault]
        assert result.outcome is Outcome.APPLIED, result.message
        assert result.verified
        reconfigure = next(s for s in result.steps if s.step == "reconfigure")
        assert reconfigure.task_id is not None
        assert reconfigure.task_id in result.task_ids
        assert read(session, "Dual W7").power_state == "poweredOn"
    assert reconfigure_tasks(lab, "Dual W7") == 1
    entry = journal.read().entry(result.entry_id or "")
    assert entry is not None
    assert not entry.is_dangling
    outcome = next(r for r in entry.records if r.step == "reconfigure" and r.phase == "outcome")
    assert outcome.data["outcome"] == "succeeded"
    assert outcome.data["task_id"] == reconfigure.task_id


def test_a_request_lost_on_its_way_stays_unknown_until_a_later_run_settles_it(
    lab: LabInfo, journal: Journal
) -> None:
    # From the client's side a request lost on its way and an answer lost on its way back look
    # the same: the run must not claim "vCenter did not get it". It looks for the change for a
    # while, says it most likely did not arrive, keeps the entry open, and the next run settles
    # it before changing anything.
    with behind_proxy(lab, lifetime=60.0, timeout=2.0) as (proxy, session):
        result = apply_dual(
            session,
            journal,
            at(
                "reconfigure",
                "running",
                lambda: proxy.arm(Fault.DROP_BEFORE_REQUEST),
                message=SENDING,
            ),
        )
        assert result.outcome is Outcome.FAILED
        assert result.reason is Reason.OUTCOME_UNKNOWN
        assert "most likely did not arrive" in result.message
        assert "not certain" in result.message
        now = read(session, "Dual W7")
        assert now.extra("migrate.baseCptCacheSize") is None  # noqa: S610
        assert now.power_state == "poweredOn"
        entry = journal.read().entry(result.entry_id or "")
        assert entry is not None
        assert entry.outcome == "unknown"
        assert entry.is_dangling
        assert entry.dangling_step == "reconfigure"

        (settled,) = Executor(session, journal).reconcile_dangling()
        assert (settled.entry_id, settled.state) == (entry.id, "not_applied")
        assert journal.read().dangling == ()
    assert reconfigure_tasks(lab, "Dual W7") == 0


def test_network_down_for_a_while_after_submit_reconnects(lab: LabInfo, journal: Journal) -> None:
    with behind_proxy(lab, lifetime=60.0, timeout=2.0) as (proxy, session):

        def link_goes_down() -> None:
            proxy.arm(Fault.RESET)
            proxy.go_down(1.5)

        result = apply_dual(
            session, journal, at("reconfigure", "running", link_goes_down, message=SENDING)
        )
        # The reset came before vCenter saw the request: nothing to find, nothing changed; but
        # the run cannot know that, so the outcome stays open.
        assert result.reason is Reason.OUTCOME_UNKNOWN, (result.message, result.steps)
        assert read(session, "Dual W7").power_state == "poweredOn"
        assert read(session, "Dual W7").extra("migrate.baseCptCacheSize") is None  # noqa: S610
    assert reconfigure_tasks(lab, "Dual W7") == 0


def test_session_expired_mid_way_is_renewed(lab: LabInfo, journal: Journal) -> None:
    with session_to(lab) as session:

        def colleague_ends_our_session() -> None:
            with someone_else(lab) as si:
                si.RetrieveContent().sessionManager.TerminateSession([session.session_key])

        first_key = session.session_key
        result = apply_dual(
            session,
            journal,
            at("reconfigure", "running", colleague_ends_our_session, message=SENDING),
        )
        assert result.outcome is Outcome.APPLIED, result.message
        assert session.session_key != first_key
        assert reconfigure_tasks(lab, "Dual W7") == 1


def test_vm_deleted_between_check_and_apply(lab: LabInfo, journal: Journal) -> None:
    with session_to(lab) as session:
        facts, remedy = check(session, "Off W7", RemedyId.RAISE_BUFFER)
        with someone_else(lab) as si:
            run_task(vm_of(si, "Off W7").Destroy_Task())
        result = Executor(session, journal).apply(ApplyRequest(facts, remedy))
        assert result.outcome is Outcome.REFUSED
        assert result.reason is Reason.VM_GONE
        assert "no longer exists" in result.message
        entry = journal.read().entry(result.entry_id or "")
        assert entry is not None
        assert entry.outcome == "refused"


def test_guest_shutdown_timeout_leaves_the_vm_running_and_unchanged(
    lab: LabInfo, journal: Journal
) -> None:
    # The lab's guests shut down in 0.5 s: a 0.2 s limit times out first.
    with session_to(lab) as session:
        result = apply_dual(session, journal, shutdown_timeout=0.2)
        assert result.outcome is Outcome.FAILED
        assert result.reason is Reason.SHUTDOWN_TIMEOUT
        assert "Nothing was changed" in result.message
        assert result.power_state == "poweredOn"
        assert [s.step for s in result.steps] == ["reread", "shutdown"]
        assert read(session, "Dual W7").extra("migrate.baseCptCacheSize") is None  # noqa: S610
        entry = journal.read().entry(result.entry_id or "")
        assert entry is not None
        # The guest may still go off: the shutdown step stays open for the next run.
        assert records(entry)[-2:] == [
            ("outcome", "shutdown", "unknown"),
            ("end", "end", "failed"),
        ]
        assert entry.is_dangling
        assert entry.dangling_step == "shutdown"
        assert entry.records[-2].data["power_state"] == "poweredOn"


def test_power_on_failure_after_the_change_is_told_truthfully_and_can_be_retried(
    lab: LabInfo, journal: Journal
) -> None:
    def colleague_makes_it_a_template() -> None:
        with someone_else(lab) as si:
            vm_of(si, "Dual W7").MarkAsTemplate()

    with session_to(lab) as session:
        result = apply_dual(
            session, journal, at("reconfigure", "done", colleague_makes_it_a_template)
        )
        assert result.outcome is Outcome.FAILED
        assert result.reason is Reason.POWER_ON_FAILED
        assert result.message.startswith("The change is in place, but Dual W7 could not be")
        assert "poweredOff" in result.message
        assert result.power_state == "poweredOff"
        assert all(c.in_place for c in result.checks)
        assert "retry" in result.next_step
        entry = journal.read().entry(result.entry_id or "")
        assert entry is not None
        assert records(entry)[-3:] == [
            ("intent", "power_on", None),
            ("outcome", "power_on", "failed"),
            ("end", "end", "failed"),
        ]
        assert entry.records[-1].data["power_state"] == "poweredOff"

        with someone_else(lab) as si:
            vm = vm_of(si, "Dual W7")
            host = vm.runtime.host
            vm.MarkAsVirtualMachine(pool=host.parent.resourcePool, host=host)
        retried = Executor(session, journal, tools_timeout=5.0).retry_power_on(
            result.entry_id or ""
        )
        assert retried.outcome is Outcome.APPLIED, retried.message
        assert read(session, "Dual W7").power_state == "poweredOn"


def test_a_killed_run_is_dangling_and_reconciled_against_the_vm(
    lab: LabInfo, journal: Journal
) -> None:
    with session_to(lab) as session:
        with pytest.raises(Killed):
            apply_dual(session, journal, at("power_on", "running", killed))
        reading = journal.read()
        (dangling,) = reading.dangling
        assert dangling.dangling_step == "power_on"
        assert dangling.outcome is None

        done = Executor(session, journal).reconcile_dangling()
        assert [(r.entry_id, r.state, r.power_state) for r in done] == [
            (dangling.id, "applied", "poweredOff")
        ]
        assert "power it on" in done[0].message
        assert journal.read().dangling == ()
        entry = journal.read().entry(dangling.id)
        assert entry is not None
        assert entry.outcome == "reconciled"
        assert records(entry)[-2:] == [
            ("outcome", "power_on", "reconciled"),
            ("end", "end", "reconciled"),
        ]


def test_a_run_killed_before_the_change_reconciles_as_not_applied(
    lab: LabInfo, journal: Journal
) -> None:
    with session_to(lab) as session:
        with pytest.raises(Killed):
            apply_dual(session, journal, at("reconfigure", "running", killed, message=SENDING))
        (done,) = Executor(session, journal).reconcile_dangling()
        assert done.state == "not_applied"
        assert done.power_state == "poweredOff"
