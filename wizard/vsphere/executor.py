"""Apply a remedy to one VM safely, verify it, record it, and undo it.

One :class:`Executor` serves the wizard (on its worker thread) and the command line. For an
apply it:

1. reads the VM again and refuses, showing the differences, if anything the plan relies on
   changed since the check (each change's before-value, the power state, the hardware version,
   the VM's identity); it also refuses when this user lacks a privilege the plan needs;
2. shuts the guest down through Tools if the change needs the VM off (only with consent; a hard
   power-off only with its own consent) and waits, with progress and a time limit;
3. reconfigures with the ``changeVersion`` read at check time, following the task; a lost
   answer is never resubmitted blindly: after reconnecting it finds the task and reports its
   real outcome, or re-reads the VM to tell whether the change happened;
4. powers the VM on again if it was shut down (unless told to leave it off), whatever happened
   in between, and says truthfully when that fails;
5. reads the VM again and re-assesses it: every change must be in place and the verdict what the
   remedy promises.

Every step that changes anything is journaled (``wizard.audit``) before it starts and after it
ends; an entry whose intent has no settling outcome (a crash, a killed process, an answer lost
and not found again) is reconciled against the VM's real values by :meth:`Executor.reconcile`,
but only once the run that wrote it is over: each apply, undo and power-on holds the VM's lease
(:meth:`wizard.audit.Journal.lease`) while it runs, and first settles what earlier runs left open
on the same VM. Guest passwords are never journaled or logged.

The executor stops only at safe points (before the shutdown, before the reconfiguration),
never between submitting a task and its end.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from wizard.audit import UNSETTLED, Journal, JournalEntry, JournalError, VmBusy, VmIdentity
from wizard.kb.facts import PowerState, VmFacts
from wizard.kb.model import (
    Assessment,
    Change,
    ChangeTarget,
    Privilege,
    RemedyId,
    Verdict,
)
from wizard.kb.plan import (
    CannotUndo,
    ChangeCheck,
    ChangeState,
    Difference,
    PlannedStep,
    StepId,
    UnreadableChange,
    change_from_json,
    change_to_json,
    current_value,
    differences,
    identity_differences,
    needs_power_off,
    plan_steps,
    reconcile_state,
    undo_changes,
    value_differences,
    verify,
)
from wizard.kb.rules import assess, upgrade_pending
from wizard.vsphere._pyvmomi import vim
from wizard.vsphere.changes import (
    UnsupportedChange,
    config_spec,
    describe_spec,
    parse_screen,
    read_video_card,
    run_resolution_tool,
)
from wizard.vsphere.errors import (
    NoPermission,
    SessionExpired,
    VmGone,
    VsphereError,
)
from wizard.vsphere.facts import collect_facts
from wizard.vsphere.power import (
    ShutdownTimedOut,
    ToolsNotRunning,
    power_off,
    power_on,
    shutdown_guest,
)
from wizard.vsphere.results import (
    ApplyRequest,
    ApplyResult,
    GuestCredentials,
    Outcome,
    Reason,
    Reconciliation,
    StepResult,
    StepUpdate,
    result_to_json,
)
from wizard.vsphere.session import Session
from wizard.vsphere.tasks import (
    TRANSIENT_ERRORS,
    TaskFailed,
    TaskState,
    find_task,
    raise_for,
    reconnect,
    server_time,
    wait_for_task,
)

log = logging.getLogger(__name__)

RECONFIGURE_DESCRIPTION = "VirtualMachine.reconfigure"


def _power_on_next(entry_id: str | None) -> str:
    """What to do when the VM could not be powered on again: the ways that exist."""
    retry = f"'checkpoint-wizard power-on {entry_id}'" if entry_id else "the command line"
    return (
        "Power it on from the vSphere Client, or retry the power-on (the wizard's Done page, or "
        f"{retry})."
    )


SETTLE_PAUSE_S = 0.5


PROMISED: Mapping[RemedyId, frozenset[Verdict]] = {
    RemedyId.RAISE_BUFFER: frozenset({Verdict.MITIGATED, Verdict.NOT_AFFECTED}),
    RemedyId.ENABLE_3D: frozenset({Verdict.MITIGATED, Verdict.NOT_AFFECTED}),
    RemedyId.LOWER_RESOLUTION: frozenset({Verdict.NOT_AFFECTED, Verdict.MITIGATED}),
    RemedyId.STAY_ON_HW7: frozenset({Verdict.AT_RISK, Verdict.NOT_AFFECTED, Verdict.MITIGATED}),
}
"""Verdicts each remedy promises once applied (stay_on_hw7 keeps vmx-07 'at risk' but pinned)."""


_PRIVILEGE_OF = {
    ChangeTarget.EXTRA_CONFIG: Privilege.ADVANCED_CONFIG,
    ChangeTarget.VIDEO_CARD: Privilege.EDIT_DEVICE,
    ChangeTarget.UPGRADE_POLICY: Privilege.UPGRADE_POLICY,
    ChangeTarget.GUEST: Privilege.GUEST_EXECUTE,
}


class _Stop(Exception):
    """Ends a run early with a result (refused, failed or cancelled)."""

    def __init__(self, outcome: Outcome, reason: Reason, message: str, next_step: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.reason = reason
        self.message = message
        self.next_step = next_step


@dataclass
class _Job:
    """One apply or undo while it runs."""

    action: str
    facts_at_check: VmFacts | None
    identity: VmIdentity
    changes: tuple[Change, ...]
    remedy_id: str | None
    promised: frozenset[Verdict] | None
    allow_shutdown: bool = False
    allow_hard_poweroff: bool = False
    leave_powered_off: bool = False
    guest_credentials: GuestCredentials | None = None
    shutdown_timeout: float = 300.0
    undo_of: str | None = None
    retry_of: str | None = None
    force: bool = False
    entry_id: str | None = None
    steps: list[StepResult] = field(default_factory=list)
    task_ids: list[str] = field(default_factory=list)
    differences: tuple[Difference, ...] = ()
    powered_down: bool = False
    power_state: str | None = None
    owed_from: str | None = None
    journal_error: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))


class Executor:
    """Applies and undoes remedies on one session, journaling every step.

    Thread-agnostic: call it from one thread at a time (the wizard's worker, or the CLI).

    Args:
        session: the vCenter session.
        journal: where every change is recorded.
        on_progress: called with each :class:`StepUpdate` (on the calling thread).
        cancel: stop at the next safe point once set (an Event, or a function saying so).
        task_timeout: seconds allowed for a reconfiguration or power task.
        tools_timeout: seconds to wait for Tools after power-on before verifying anyway.
        reconnect_timeout: seconds to keep trying to reach vCenter after the connection drops.
        guest_tool_timeout: seconds allowed for the resolution tool in the guest.
        settle_timeout: after a lost answer, seconds to keep looking for the change's task or
            its values before the outcome is left open (unknown) for a later reconcile.
    """

    def __init__(
        self,
        session: Session,
        journal: Journal,
        *,
        on_progress: Callable[[StepUpdate], None] | None = None,
        cancel: threading.Event | Callable[[], bool] | None = None,
        task_timeout: float = 600.0,
        tools_timeout: float = 120.0,
        reconnect_timeout: float = 60.0,
        guest_tool_timeout: float = 60.0,
        settle_timeout: float = 10.0,
    ) -> None:
        self.session = session
        self.journal = journal
        self._on_progress = on_progress
        if isinstance(cancel, threading.Event):
            self._is_cancelled: Callable[[], bool] = cancel.is_set
        elif cancel is not None:
            self._is_cancelled = cancel
        else:
            self._is_cancelled = lambda: False
        self.task_timeout = task_timeout
        self.tools_timeout = tools_timeout
        self.reconnect_timeout = reconnect_timeout
        self.guest_tool_timeout = guest_tool_timeout
        self.settle_timeout = settle_timeout

    # ------------------------------------------------------------------------------ public

    @staticmethod
    def steps(request: ApplyRequest) -> tuple[PlannedStep, ...]:
        """The steps :meth:`apply` will run for this request. Pure, no I/O."""
        return plan_steps(
            request.remedy.changes,
            request.facts_at_check.power_state,
            leave_powered_off=request.leave_powered_off,
            hard_power_off=request.allow_hard_poweroff
            and request.facts_at_check.power_state == PowerState.ON
            and not request.facts_at_check.tools_running,
        )

    def apply(self, request: ApplyRequest) -> ApplyResult:
        """Apply ``request.remedy`` to the VM checked as ``request.facts_at_check``.

        Never raises for a vSphere problem: the result says what happened. A journal that
        cannot be written (:class:`~wizard.audit.JournalError`) is raised before anything
        changes.
        """
        facts = request.facts_at_check
        remedy = request.remedy
        job = _Job(
            action="apply",
            facts_at_check=facts,
            identity=VmIdentity(facts.name, facts.moref, facts.instance_uuid),
            changes=remedy.changes,
            remedy_id=remedy.id.value,
            promised=PROMISED[remedy.id],
            allow_shutdown=request.allow_shutdown,
            allow_hard_poweroff=request.allow_hard_poweroff,
            leave_powered_off=request.leave_powered_off,
            guest_credentials=request.guest_credentials,
            shutdown_timeout=request.shutdown_timeout,
        )
        details = {
            "variant": remedy.variant,
            "checked": {
                "change_version": facts.change_version,
                "power_state": facts.power_state,
                "hardware_version": facts.hardware_version,
            },
            "consent": self._consent(job),
        }
        if not remedy.available:
            return self._refuse_early(
                job,
                details,
                Reason.NOT_AVAILABLE,
                f"“{remedy.title}” is not available for {facts.name}: {remedy.why_not}",
                "Choose another fix.",
            )
        return self._leased(job, details, lambda: self._run(job, details))

    def undo(
        self,
        entry_id: str,
        *,
        force: bool = False,
        allow_shutdown: bool = False,
        allow_hard_poweroff: bool = False,
        leave_powered_off: bool = False,
        guest_credentials: GuestCredentials | None = None,
        shutdown_timeout: float = 300.0,
    ) -> ApplyResult:
        """Put back the before-values that journal entry ``entry_id`` recorded.

        Refuses (showing the difference) when the VM's settings are no longer what the entry
        left, unless ``force``; power is handled as for an apply. The undo is journaled as an
        entry of its own that names the entry it undoes.
        """
        reading = self.journal.read()
        entry = reading.entry(entry_id)
        identity = entry.vm if entry is not None else VmIdentity("?", "?", "?")
        job = _Job(
            action="undo",
            facts_at_check=None,
            identity=identity,
            changes=(),
            remedy_id=entry.remedy if entry is not None else None,
            promised=None,
            allow_shutdown=allow_shutdown,
            allow_hard_poweroff=allow_hard_poweroff,
            leave_powered_off=leave_powered_off,
            guest_credentials=guest_credentials,
            shutdown_timeout=shutdown_timeout,
            undo_of=entry_id,
            force=force,
        )
        if entry is None:
            return self._result(
                job,
                Outcome.REFUSED,
                f"There is no journal entry {entry_id}.",
                "List the entries with 'checkpoint-wizard journal'.",
                reason=Reason.UNKNOWN_ENTRY,
            )
        details = {"consent": self._consent(job), "force": force}

        def run() -> ApplyResult:
            # Read the entry again: settling earlier runs may have just told what it did.
            settled = self.journal.read().entry(entry_id) or entry
            if settled.is_dangling:
                return self._refuse_early(
                    job,
                    details,
                    Reason.OUTCOME_UNKNOWN,
                    f"What entry {entry_id} did is not known yet (its last step was "
                    f"{settled.dangling_step or 'not finished'}).",
                    "Check the VM again in a few minutes, then undo.",
                )
            try:
                recorded = tuple(change_from_json(c) for c in settled.changes)
                applied = self._applied_changes(settled, recorded)
                job.changes = undo_changes(applied)
            except (CannotUndo, UnreadableChange) as exc:
                return self._refuse_early(
                    job, {}, Reason.CANNOT_UNDO, f"Entry {entry_id} cannot be undone: {exc}", ""
                )
            if not applied:
                return self._refuse_early(
                    job,
                    {},
                    Reason.CANNOT_UNDO,
                    f"Entry {entry_id} changed nothing ({settled.outcome or 'no outcome'}); "
                    "there is nothing to undo.",
                    "",
                )
            return self._run(job, details)

        return self._leased(job, details, run)

    def retry_power_on(self, entry_id: str) -> ApplyResult:
        """Power the VM of entry ``entry_id`` on again, after a failed power-on. Journaled."""
        entry = self.journal.read().entry(entry_id)
        if entry is None:
            job = _Job("power_on", None, VmIdentity("?", "?", "?"), (), None, None)
            job_result = self._result(
                job,
                Outcome.REFUSED,
                f"There is no journal entry {entry_id}.",
                "",
                reason=Reason.UNKNOWN_ENTRY,
            )
            return job_result
        job = _Job(
            action="power_on",
            facts_at_check=None,
            identity=entry.vm,
            changes=(),
            remedy_id=entry.remedy,
            promised=None,
            allow_shutdown=False,
            allow_hard_poweroff=False,
            leave_powered_off=False,
            guest_credentials=None,
            shutdown_timeout=0.0,
            retry_of=entry_id,
        )
        return self._leased(job, {"retry_of": entry_id}, lambda: self._power_on_again(job))

    def _power_on_again(self, job: _Job) -> ApplyResult:
        self._begin(job, {"retry_of": job.retry_of})
        job.powered_down = True
        entry_vm = job.identity
        try:
            now = self._read(job, entry_vm.moref)
            if now.power_state == PowerState.ON:
                self._step(job, StepId.POWER_ON, "skipped", "The VM is already on.")
                return self._finish(job, Outcome.NOTHING_TO_DO, "The VM is already on.", "")
            self._power_on(job)
            facts_after = self._read(job, entry_vm.moref)
            return self._finish(
                job,
                Outcome.APPLIED,
                f"{facts_after.name} is powered on again.",
                "",
                facts_after=facts_after,
            )
        except _Stop as stop:
            return self._finish(job, stop.outcome, stop.message, stop.next_step, stop.reason)

    def reconcile(self, entry: JournalEntry, facts_now: VmFacts | None) -> Reconciliation:
        """Decide from the VM's real values what a dangling entry did, and journal it.

        Args:
            entry: an entry whose intent has no outcome (the process died in between).
            facts_now: the VM read now by its moref (None when it no longer exists).
        """
        try:
            changes = tuple(change_from_json(c) for c in entry.changes)
        except UnreadableChange as exc:
            changes = ()
            log.warning("Entry %s: %s", entry.id, exc)
        if facts_now is None:
            state, power, message = (
                "vm_gone",
                None,
                f"{entry.vm.name} ({entry.vm.moref}) no longer exists in this vCenter.",
            )
        elif identity_differences(
            replace(facts_now, moref=entry.vm.moref, instance_uuid=entry.vm.instance_uuid),
            facts_now,
        ):
            state, power, message = (
                "other_vm",
                facts_now.power_state,
                f"{entry.vm.moref} is now another VM (instance UUID {facts_now.instance_uuid}, "
                f"not {entry.vm.instance_uuid}): the entry's VM is gone.",
            )
        else:
            task = self._task_of(entry) if entry.dangling_step == StepId.RECONFIGURE else None
            if task is not None and task.state not in ("success", "error"):
                # The change is still on its way: nothing is settled yet, so nothing is written.
                return Reconciliation(
                    entry.id,
                    "in_progress",
                    facts_now.power_state,
                    f"{entry.vm.name}: vCenter is still running the change that entry "
                    f"{entry.id} sent (task {task.task_id}); the entry stays open until it ends.",
                )
            found = reconcile_state(changes, facts_now) if changes else ChangeState.NOT_APPLIED
            state, power = found.value, facts_now.power_state
            words = {
                ChangeState.APPLIED: "the change is in place",
                ChangeState.NOT_APPLIED: "the change was not made",
                ChangeState.PARTIAL: "only part of the change is in place",
                ChangeState.CHANGED_SINCE: "the settings have other values now (changed since)",
            }[found]
            message = f"{entry.vm.name}: {words}; the VM is {facts_now.power_state}."
            went_down = entry.dangling_step in (
                StepId.SHUTDOWN,
                StepId.POWER_OFF,
                StepId.RECONFIGURE,
                StepId.POWER_ON,
            )
            if went_down and facts_now.power_state == PowerState.OFF:
                message += (
                    " It was shut down for the change and is still off: the next fix on this "
                    "VM powers it on again, or power it on now (vSphere Client, or "
                    f"'checkpoint-wizard power-on {entry.id}')."
                )
        step = entry.dangling_step or "end"
        record = {
            "state": state,
            "power_state": power,
            "found": [
                {"key": c.key, "value": v}
                for c, v in (
                    (c, _value_now(facts_now, c)) for c in changes if facts_now is not None
                )
            ],
        }
        if entry.dangling_step is not None:
            self.journal.outcome(entry.id, step, "reconciled", **record)
        # A later end replaces an earlier one ("unknown" becomes what the VM shows).
        self.journal.end(entry.id, "reconciled", message=message, **record)
        return Reconciliation(entry.id, state, power, message)

    def reconcile_dangling(self) -> tuple[Reconciliation, ...]:
        """Reconcile every dangling entry of this vCenter whose run is over.

        An entry whose run still holds its VM's lease (another window, another terminal) is
        alive, not dangling: it is left alone.
        """
        done = []
        for entry in self.journal.read().dangling:
            if not entry.same_vcenter(str(self.session.endpoint), self.vcenter_id):
                continue
            try:
                with self.journal.lease(
                    entry.vcenter_id or entry.vcenter,
                    entry.vm.instance_uuid,
                    action="reconcile",
                    user=self.session.user,
                ):
                    done.append(self._reconcile_now(entry))
            except VmBusy as busy:
                log.info("Entry %s is still being run: %s", entry.id, busy.owner)
        return tuple(done)

    @property
    def vcenter_id(self) -> str | None:
        """vCenter's own identity (``about.instanceUuid``), the same under every address."""
        return self.session.instance_uuid or None

    @property
    def _lease_key(self) -> str:
        return self.vcenter_id or str(self.session.endpoint)

    def owed_power_on(self, identity: VmIdentity, power_state: str | None) -> str | None:
        """The journal entry that shut this VM down and never powered it on again.

        A run interrupted after its shutdown (killed, a lost connection, a guest that went off
        after the time limit) leaves the VM off although it was on. When the VM is still off,
        the next run on it owes the user that power-on. Returns that entry's id, or None.
        """
        if power_state != PowerState.OFF:
            return None
        for entry in reversed(self.journal.read().entries):
            if entry.vm.instance_uuid != identity.instance_uuid or not entry.same_vcenter(
                str(self.session.endpoint), self.vcenter_id
            ):
                continue
            down: bool | None = None
            for r in entry.records:
                if r.step in (StepId.SHUTDOWN, StepId.POWER_OFF) and r.phase in (
                    "intent",
                    "outcome",
                ):
                    down = r.phase == "intent" or r.data.get("outcome") != "failed"
                elif (
                    r.step == StepId.POWER_ON
                    and r.phase == "outcome"
                    and (
                        r.data.get("outcome") == "succeeded"
                        or r.data.get("power_state") == PowerState.ON
                    )
                ):
                    down = False
            if down is None:
                continue  # this entry did nothing to the power: look further back
            begin = entry.records[0].data if entry.records else {}
            consent = begin.get("consent")
            left_off = isinstance(consent, Mapping) and consent.get("leave_powered_off") is True
            return entry.id if down and not left_off else None
        return None

    def _reconcile_now(self, entry: JournalEntry) -> Reconciliation:
        try:
            facts: VmFacts | None = collect_facts(self.session, entry.vm.moref)
        except VmGone:
            facts = None
        return self.reconcile(entry, facts)

    def _task_of(self, entry: JournalEntry) -> TaskState | None:
        """The reconfigure task a dangling entry sent, when vCenter still lists it."""
        sent = next(
            (
                r
                for r in reversed(entry.records)
                if r.step == StepId.RECONFIGURE and r.phase == "intent"
            ),
            None,
        )
        since = sent.data.get("server_time") if sent is not None else None
        if not isinstance(since, str):
            return None
        try:
            return find_task(
                self.session,
                entry.vm.moref,
                RECONFIGURE_DESCRIPTION,
                since=datetime.fromisoformat(since),
                user=entry.user,
            )
        except (VsphereError, ValueError):
            return None

    # ------------------------------------------------------------------------------ the lease

    def _leased(
        self, job: _Job, details: Mapping[str, Any], run: Callable[[], ApplyResult]
    ) -> ApplyResult:
        """Run ``run`` holding the VM's lease, after settling what earlier runs left open.

        A journal with no room, or that cannot be written, refuses the run before anything
        is changed (reason ``journal_failed``).
        """
        try:
            self.journal.check_room()
            with self.journal.lease(
                self._lease_key,
                job.identity.instance_uuid,
                action=job.action,
                user=self.session.user,
                vm=job.identity.name,
            ):
                try:
                    busy = self._settle_earlier(job)
                except VsphereError as exc:
                    stop = self._stop_for(exc, job)
                    self._begin(job, details)
                    return self._finish(
                        job, stop.outcome, stop.message, stop.next_step, stop.reason
                    )
                if busy is not None:
                    return self._refuse_early(
                        job,
                        details,
                        Reason.VM_BUSY,
                        busy.message + " Nothing was changed.",
                        "Wait for that change to end, then check the VM again.",
                    )
                return run()
        except VmBusy as busy_run:
            return self._refuse_early(
                job,
                details,
                Reason.VM_BUSY,
                busy_run.message,
                "Wait for the other run to finish, then check the VM again.",
            )
        except JournalError as exc:
            # Only the first records can fail here (later ones are caught as they are
            # written): the run had not begun, so nothing was changed.
            job.entry_id = None
            return self._result(
                job,
                Outcome.REFUSED,
                f"{exc.message} Nothing was changed.",
                "Free some disk space (or fix the journal folder's permissions), then try again.",
                reason=Reason.JOURNAL_FAILED,
            )

    def _settle_earlier(self, job: _Job) -> Reconciliation | None:
        """Reconcile this VM's dangling entries (their runs are over: we hold the lease).

        Returns the first one whose change vCenter is still carrying out, if any.
        """
        for entry in self.journal.read().dangling:
            if entry.vm.instance_uuid != job.identity.instance_uuid or not entry.same_vcenter(
                str(self.session.endpoint), self.vcenter_id
            ):
                continue
            found = self._reconcile_now(entry)
            self._report(
                StepId.REREAD,
                "running",
                None,
                f"An earlier run did not finish (entry {entry.id}): {found.message}",
            )
            if found.state == "in_progress":
                return found
        return None

    # ------------------------------------------------------------------------------ the run

    @staticmethod
    def _consent(job: _Job) -> dict[str, bool]:
        return {
            "allow_shutdown": job.allow_shutdown,
            "allow_hard_poweroff": job.allow_hard_poweroff,
            "leave_powered_off": job.leave_powered_off,
            "guest_login_given": job.guest_credentials is not None,
        }

    @staticmethod
    def _applied_changes(entry: JournalEntry, recorded: Sequence[Change]) -> tuple[Change, ...]:
        """The changes an entry really made: all when it ended applied or was reconciled so."""
        if entry.outcome == Outcome.APPLIED:
            return tuple(recorded)
        for record in reversed(entry.records):
            if record.phase == "end" and record.data.get("state") in (
                ChangeState.APPLIED,
                ChangeState.PARTIAL,
            ):
                return tuple(recorded)
            if (
                record.step == StepId.RECONFIGURE
                and record.phase == "outcome"
                and record.data.get("outcome") == "succeeded"
            ):
                return tuple(recorded)
        return ()

    def _begin(self, job: _Job, details: Mapping[str, Any]) -> str:
        job.entry_id = self.journal.begin(
            action=job.action,
            vcenter=str(self.session.endpoint),
            user=self.session.user,
            vm=job.identity,
            remedy=job.remedy_id,
            changes=[change_to_json(c) for c in job.changes],
            undo_of=job.undo_of,
            details=dict(details),
            vcenter_id=self.vcenter_id,
        )
        return job.entry_id

    def _refuse_early(
        self, job: _Job, details: Mapping[str, Any], reason: Reason, message: str, next_step: str
    ) -> ApplyResult:
        self._begin(job, details)
        return self._finish(job, Outcome.REFUSED, message, next_step, reason)

    # ------------------------------------------------------------------------------ records

    def _intent(self, job: _Job, step: str, *, required: bool = True, **details: Any) -> None:
        """Journal that ``step`` is about to happen; without that record it does not happen.

        A power-on that gives the user their VM back is the exception (``required=False``): it
        goes ahead unrecorded rather than leave the VM off, and the run says so.
        """
        assert job.entry_id is not None
        self._write(job, lambda: self.journal.intent(job.entry_id or "", step, **details))
        if job.journal_error is not None and required:
            self._step(job, step, "failed", "The journal could not be written.")
            raise _Stop(
                Outcome.FAILED,
                Reason.JOURNAL_FAILED,
                f"The journal could not be written ({job.journal_error}), so the wizard stopped "
                f"before this step ({step}) rather than make a change it cannot record.",
                "Free some disk space (or fix the journal folder's permissions), then check the "
                "VM again.",
            )

    def _outcome(self, job: _Job, step: str, outcome: str, **details: Any) -> None:
        self._write(job, lambda: self.journal.outcome(job.entry_id or "", step, outcome, **details))

    def _end(self, job: _Job, outcome: str, **details: Any) -> None:
        self._write(job, lambda: self.journal.end(job.entry_id or "", outcome, **details))

    def _write(self, job: _Job, write: Callable[[], None]) -> None:
        """Write a record; once the journal fails, the run goes on only to restore the VM."""
        if job.journal_error is not None:
            return
        try:
            write()
        except JournalError as exc:
            log.error("The journal of %s failed: %s", job.identity, exc)
            job.journal_error = exc.reason

    def _report(self, step: str, state: str, progress: int | None, message: str) -> None:
        if self._on_progress is not None:
            self._on_progress(StepUpdate(step, state, progress, message))

    def _step(
        self, job: _Job, step: str, state: str, message: str, task_id: str | None = None
    ) -> None:
        job.steps.append(StepResult(step, state, message, task_id))
        self._report(step, state, 100 if state == "done" else None, message)

    def _safe_point(self, job: _Job, step: str) -> None:
        if self._is_cancelled():
            self._step(job, step, "cancelled", "Stopped before this step, as asked.")
            raise _Stop(
                Outcome.CANCELLED,
                Reason.CANCELLED,
                "Stopped as asked before anything more was changed.",
                "Run the fix again when ready.",
            )

    def _read(self, job: _Job, moref: str) -> VmFacts:
        try:
            facts = collect_facts(self.session, moref)
        except VmGone as exc:
            raise _Stop(
                Outcome.REFUSED,
                Reason.VM_GONE,
                f"{job.identity.name} ({moref}) no longer exists in this vCenter: it was "
                "deleted, unregistered or moved to another vCenter.",
                exc.next_step,
            ) from None
        except VsphereError as exc:
            raise self._stop_for(exc, job) from None
        job.power_state = facts.power_state
        return facts

    def _stop_for(self, exc: VsphereError, job: _Job, *, changed: bool = False) -> _Stop:
        nothing = "" if changed else " Nothing was changed."
        if isinstance(exc, NoPermission):
            return _Stop(
                Outcome.REFUSED,
                Reason.NO_PERMISSION,
                f"{exc.message}{nothing}",
                exc.next_step,
            )
        if isinstance(exc, SessionExpired):
            return _Stop(Outcome.FAILED, Reason.SESSION, exc.message + nothing, exc.next_step)
        if isinstance(exc, TRANSIENT_ERRORS):
            return _Stop(Outcome.FAILED, Reason.CONNECTION, exc.message, exc.next_step)
        return _Stop(Outcome.FAILED, Reason.TASK_ERROR, exc.message, exc.next_step)

    def _run(self, job: _Job, details: Mapping[str, Any]) -> ApplyResult:
        self._begin(job, details)
        try:
            return self._run_steps(job)
        except _Stop as stop:
            facts_after: VmFacts | None = None
            if job.powered_down:
                # Whatever failed, the user gets their VM back (unless told to leave it off).
                facts_after = self._restore_power(job, stop)
            result = self._finish(
                job,
                stop.outcome,
                stop.message,
                stop.next_step,
                stop.reason,
                facts_after=facts_after,
            )
            return result
        except Exception as exc:
            # A bug must not leave the user's VM off: power it on again as for any failure. The
            # step that was running keeps its intent without an outcome, so the entry stays
            # dangling and is reconciled against the VM's real values at the next run.
            log.exception("The %s of %s stopped on an unexpected error", job.action, job.identity)
            unexpected = _Stop(
                Outcome.FAILED,
                Reason.OUTCOME_UNKNOWN,
                f"The {job.action} stopped on an unexpected error ({type(exc).__name__}); "
                "whether the change was made is not known.",
                "Check the VM again before doing anything else, and send the log file to the "
                "wizard's maintainers.",
            )
            after = self._restore_power(job, unexpected) if job.powered_down else None
            return self._finish(
                job,
                unexpected.outcome,
                unexpected.message,
                unexpected.next_step,
                unexpected.reason,
                facts_after=after,
            )

    def _run_steps(self, job: _Job) -> ApplyResult:
        moref = job.identity.moref
        self._safe_point(job, StepId.REREAD)
        self._report(StepId.REREAD, "running", None, "Reading the VM again")
        now = self._read(job, moref)
        guard = job.facts_at_check.change_version if job.facts_at_check else now.change_version
        owed = self.owed_power_on(job.identity, now.power_state)
        if owed is not None and not job.leave_powered_off:
            # An earlier run shut the VM down and never started it again: this run does.
            job.owed_from = owed
            job.powered_down = True

        # Already in effect (or never anything to do): change nothing and say so.
        if not job.changes or all(c.in_place for c in verify(job.changes, now)):
            self._step(job, StepId.REREAD, "done", "The fix is already in effect.")
            if job.powered_down:
                self._power_on(job)
                return self._verify(job, None, nothing_done=True)
            return self._verify(job, now, nothing_done=True)

        if job.facts_at_check is not None:
            diffs = differences(job.changes, job.facts_at_check, now)
            if job.owed_from is not None:
                # Off because an earlier run of ours shut it down: not a change by someone else.
                diffs = tuple(
                    d
                    for d in diffs
                    if not (d.what == "power state" and d.expected == PowerState.ON)
                )
        else:
            diffs = identity_differences(
                replace(now, instance_uuid=job.identity.instance_uuid), now
            ) + value_differences(job.changes, now, expect="before")
        job.differences = diffs
        if diffs and not job.force:
            self._step(job, StepId.REREAD, "failed", "The VM changed since the check.")
            shown = "; ".join(d.describe() for d in diffs)
            raise _Stop(
                Outcome.REFUSED,
                Reason.STALE_PLAN,
                f"{now.name} changed since it was checked, so nothing was changed: {shown}.",
                "Check the VM again and choose the fix anew"
                + (" (or force the undo)." if job.action == "undo" else "."),
            )
        if diffs:
            # A forced undo: journal the values really found as "before", so that undoing this
            # undo puts back what was there (the entry's changes are its last recorded ones).
            job.changes = tuple(
                Change(c.target, c.key, _value_now(now, c), c.after) for c in job.changes
            )
            assert job.entry_id is not None
            self._intent(
                job,
                "forced",
                changes=[change_to_json(c) for c in job.changes],
                differences=[
                    {"what": d.what, "expected": d.expected, "found": d.found} for d in diffs
                ],
            )
            self._outcome(job, "forced", "succeeded")
        self._step(job, StepId.REREAD, "done", "The VM is as checked.")

        off_needed = needs_power_off(job.changes) and now.power_state != PowerState.OFF
        guest_changes = tuple(c for c in job.changes if c.target is ChangeTarget.GUEST)
        config_changes = tuple(c for c in job.changes if c.target is not ChangeTarget.GUEST)
        self._check_privileges(job, now, off_needed)
        if guest_changes:
            self._check_guest(job, now)
        hard = False
        if off_needed:
            hard = self._check_power_consent(job, now)

        if off_needed:
            step = StepId.POWER_OFF if hard else StepId.SHUTDOWN
            self._safe_point(job, step)
            self._power_down(job, now, hard)

        if config_changes:
            self._safe_point(job, StepId.RECONFIGURE)
            self._reconfigure(job, now, config_changes, guard)
        if guest_changes:
            self._guest_resolution(job, now, guest_changes)

        if job.powered_down and not job.leave_powered_off:
            try:
                self._power_on(job)
            except _Stop as stop:
                # The change is in place; only the power-on failed: say both, truthfully.
                after = self._read_quietly(job)
                return self._finish(
                    job,
                    Outcome.FAILED,
                    f"The change is in place, but {job.identity.name} could not be powered on: "
                    f"{stop.message} It is {job.power_state or 'in an unknown power state'}.",
                    _power_on_next(job.entry_id),
                    Reason.POWER_ON_FAILED,
                    facts_after=after,
                )
        return self._verify(job, None, nothing_done=False)

    # ------------------------------------------------------------------------------ checks

    def _check_privileges(self, job: _Job, now: VmFacts, off_needed: bool) -> None:
        needed = [_PRIVILEGE_OF[c.target] for c in job.changes]
        if off_needed:
            needed += [Privilege.POWER_OFF, Privilege.POWER_ON]
        for privilege in dict.fromkeys(needed):
            if now.holds(privilege.value) is False:
                self._step(job, StepId.REREAD, "failed", f"Missing privilege {privilege.value}.")
                raise _Stop(
                    Outcome.REFUSED,
                    Reason.NO_PERMISSION,
                    f"This account lacks the privilege {privilege.value} on {now.name} "
                    f"({now.moref}). Nothing was changed.",
                    f"Ask a vSphere administrator to grant {privilege.value} on {now.name}, "
                    "or sign in with an account that has it.",
                )

    def _check_guest(self, job: _Job, now: VmFacts) -> None:
        if job.guest_credentials is None or not job.guest_credentials.user:
            raise _Stop(
                Outcome.REFUSED,
                Reason.GUEST_CREDENTIALS,
                "Setting the resolution in the guest needs a guest login (user and password). "
                "Nothing was changed.",
                "Give the guest user's login; it is used once and never stored.",
            )
        if now.power_state != PowerState.ON:
            raise _Stop(
                Outcome.REFUSED,
                Reason.WRONG_POWER_STATE,
                f"{now.name} is {now.power_state}: the resolution can only be set in a running "
                "guest. Nothing was changed.",
                "Start the VM and have the user log on, then run the fix again.",
            )

    def _check_power_consent(self, job: _Job, now: VmFacts) -> bool:
        """Whether a hard power-off is needed (and consented to); refuse without consent."""
        if now.power_state != PowerState.ON:  # suspended: no guest to shut down
            if not job.allow_hard_poweroff:
                raise _Stop(
                    Outcome.REFUSED,
                    Reason.CONSENT_HARD_POWEROFF,
                    f"{now.name} is {now.power_state}: it must be powered off hard (its "
                    "suspended state is lost) for this change. Nothing was changed.",
                    "Allow a hard power-off (--allow-hard-poweroff), or resume the VM and shut "
                    "it down normally first.",
                )
            return True
        if not now.tools_running:
            if job.allow_hard_poweroff:
                return True
            raise _Stop(
                Outcome.REFUSED,
                Reason.TOOLS_NOT_RUNNING,
                f"{now.name} must be off for this change, and VMware Tools are not running in "
                "it, so its guest cannot be shut down gracefully. Nothing was changed.",
                "Choose: start Tools (or shut the guest down yourself) and run the fix again; "
                "allow a hard power-off (--allow-hard-poweroff), which loses unsaved work in "
                "the guest; or pick a fix that needs no shutdown.",
            )
        if not job.allow_shutdown:
            raise _Stop(
                Outcome.REFUSED,
                Reason.CONSENT_SHUTDOWN,
                f"{now.name} must be shut down for this change and started again. Nothing was "
                "changed.",
                "Warn the user, then allow the shutdown (--allow-shutdown).",
            )
        return False

    # ------------------------------------------------------------------------------ power

    def _power_down(self, job: _Job, now: VmFacts, hard: bool) -> None:
        assert job.entry_id is not None
        step = StepId.POWER_OFF if hard else StepId.SHUTDOWN
        self._intent(job, step, power_state=now.power_state)
        self._report(step, "running", 0, "Shutting down the guest" if not hard else "Powering off")
        # From here on the VM may be going down: it is powered on again whatever happens.
        job.powered_down = True
        try:
            if hard:
                task = power_off(
                    self.session,
                    now.moref,
                    timeout=self.task_timeout,
                    down_limit=self.reconnect_timeout,
                    progress=lambda pct, msg: self._report(step, "running", pct, msg),
                )
                job.task_ids.append(task.task_id)
            else:
                shutdown_guest(
                    self.session,
                    now.moref,
                    now.name,
                    timeout=job.shutdown_timeout,
                    down_limit=self.reconnect_timeout,
                    progress=lambda pct, msg: self._report(step, "running", pct, msg),
                )
        except ToolsNotRunning as exc:
            job.powered_down = False
            self._outcome(job, step, "failed", error=exc.message)
            self._step(job, step, "failed", exc.message)
            raise _Stop(
                Outcome.REFUSED,
                Reason.TOOLS_NOT_RUNNING,
                exc.message + " Nothing was changed.",
                exc.next_step,
            ) from None
        except ShutdownTimedOut as exc:
            # The guest may still be shutting down: do not power it on under it. The step stays
            # open, so that the next run on this VM powers it on again if it did go off.
            job.powered_down = False
            job.power_state = exc.power_state
            self._outcome(
                job,
                step,
                UNSETTLED,
                timed_out=True,
                power_state=exc.power_state,
                error=exc.message,
            )
            self._step(job, step, "failed", exc.message)
            raise _Stop(
                Outcome.FAILED,
                Reason.SHUTDOWN_TIMEOUT,
                exc.message + " The guest may still be shutting down: if it goes off, the next "
                "fix on this VM powers it on again (or power it on from the vSphere Client).",
                exc.next_step,
            ) from None
        except TaskFailed as exc:
            job.powered_down = False
            self._outcome(job, step, "failed", task_id=exc.task_id, error=exc.message)
            self._step(job, step, "failed", exc.message, exc.task_id)
            raise self._stop_for(exc.cause, job) from None
        except VsphereError as exc:
            # After a broken connection the request may still have been carried out: say the
            # power state found (None: unknown), and power the VM on again if it went off.
            found = (
                self._power_state_now(now.moref)
                if isinstance(exc, TRANSIENT_ERRORS)
                else now.power_state
            )
            job.power_state = found
            job.powered_down = found == PowerState.OFF
            self._outcome(
                job,
                step,
                "failed" if found is not None else UNSETTLED,
                error=exc.message,
                power_state=found,
            )
            self._step(job, step, "failed", exc.message)
            stop = self._stop_for(exc, job)
            if found is None:
                stop.message += (
                    f" vCenter stopped answering while {job.identity.name} was being shut down: "
                    "nothing was changed, but whether the VM is off now is not known. When "
                    "vCenter answers again, the next fix on this VM powers it on again if it is "
                    "off (or power it on from the vSphere Client)."
                )
            raise stop from None
        job.power_state = PowerState.OFF
        self._outcome(job, step, "succeeded", power_state=PowerState.OFF)
        self._step(job, step, "done", "The VM is off.", job.task_ids[-1] if hard else None)

    def _power_on(self, job: _Job) -> None:
        assert job.entry_id is not None
        moref = job.identity.moref
        step = StepId.POWER_ON
        self._intent(job, step, required=False)
        self._report(step, "running", None, "Powering the VM on")
        try:
            try:
                task, tools = power_on(
                    self.session,
                    moref,
                    timeout=self.task_timeout,
                    tools_timeout=self.tools_timeout,
                    down_limit=self.reconnect_timeout,
                    progress=lambda pct, msg: self._report(step, "running", pct, msg),
                )
            except TRANSIENT_ERRORS:
                # A power-on sent twice is harmless (the second is refused): ask what happened.
                reconnect(self.session, timeout=self.reconnect_timeout)
                state = self._power_state_now(moref)
                if state != PowerState.ON:
                    task, tools = power_on(
                        self.session,
                        moref,
                        timeout=self.task_timeout,
                        tools_timeout=self.tools_timeout,
                        down_limit=self.reconnect_timeout,
                    )
                else:
                    task, tools = None, False
        except TaskFailed as exc:
            job.task_ids.append(exc.task_id)
            job.power_state = self._power_state_now(moref)
            if job.power_state == PowerState.ON:
                # Someone (a colleague, HA) started it meanwhile: what we wanted has happened.
                job.powered_down = False
                self._outcome(
                    job,
                    step,
                    "succeeded",
                    task_id=exc.task_id,
                    power_state=PowerState.ON,
                    started_by_someone_else=True,
                )
                self._step(job, step, "done", "The VM is on (someone else started it).")
                return
            self._outcome(
                job,
                step,
                "failed",
                task_id=exc.task_id,
                error=exc.message,
                power_state=job.power_state,
            )
            self._step(job, step, "failed", exc.message, exc.task_id)
            raise _Stop(
                Outcome.FAILED, Reason.POWER_ON_FAILED, exc.message, exc.next_step
            ) from None
        except VsphereError as exc:
            job.power_state = self._power_state_now(moref)
            self._outcome(job, step, "failed", error=exc.message, power_state=job.power_state)
            self._step(job, step, "failed", exc.message)
            raise _Stop(
                Outcome.FAILED, Reason.POWER_ON_FAILED, exc.message, exc.next_step
            ) from None
        job.powered_down = False
        job.power_state = PowerState.ON
        task_id = task.task_id if task is not None else None
        if task_id:
            job.task_ids.append(task_id)
        self._outcome(
            job,
            step,
            "succeeded",
            task_id=task_id,
            power_state=PowerState.ON,
            tools_running=tools,
        )
        note = "" if tools else " (VMware Tools have not started yet)"
        self._step(job, step, "done", f"The VM is on{note}.", task_id)

    def _power_state_now(self, moref: str) -> str | None:
        try:
            state: str = self.session.call(
                lambda: str(
                    self.session.managed_object(vim.VirtualMachine, moref).runtime.powerState
                )
            )
        except VsphereError:
            return None
        return state

    def _restore_power(self, job: _Job, stop: _Stop) -> VmFacts | None:
        """After a failure with the VM shut down by us: power it on again, and say so."""
        if job.leave_powered_off:
            return self._read_quietly(job)
        try:
            self._power_on(job)
        except _Stop as failed:
            stop.message += (
                f" The VM was shut down for the change and could not be powered on again: "
                f"{failed.message}"
            )
            stop.next_step = _power_on_next(job.entry_id)
            return self._read_quietly(job)
        stop.message += " The VM was powered on again."
        return self._read_quietly(job)

    def _read_quietly(self, job: _Job) -> VmFacts | None:
        try:
            facts = collect_facts(self.session, job.identity.moref)
        except VsphereError:
            return None
        job.power_state = facts.power_state
        return facts

    # ------------------------------------------------------------------------------ changes

    def _reconfigure(
        self, job: _Job, now: VmFacts, changes: tuple[Change, ...], guard: str
    ) -> None:
        assert job.entry_id is not None
        step = StepId.RECONFIGURE
        moref = now.moref
        try:
            card = (
                read_video_card(self.session, moref)
                if any(c.target is ChangeTarget.VIDEO_CARD for c in changes)
                else None
            )
            policy = now.upgrade_policy
            spec = config_spec(
                changes,
                change_version=guard,
                video_card=card,
                upgrade_version_key=policy.version_key if policy is not None else None,
            )
            since = server_time(self.session)
        except UnsupportedChange as exc:
            raise _Stop(Outcome.FAILED, Reason.TASK_ERROR, str(exc), "") from None
        except VsphereError as exc:
            raise self._stop_for(exc, job) from None

        self._intent(job, step, spec=describe_spec(changes, guard), server_time=since.isoformat())
        self._report(step, "running", 0, "Sending the change to vCenter")
        vm = self.session.managed_object(vim.VirtualMachine, moref)
        task_id: str | None = None
        try:
            task_id = str(self.session.call(lambda: vm.ReconfigVM_Task(spec))._moId)
        except TRANSIENT_ERRORS as exc:
            task_id = self._find_lost_change(job, moref, since, exc, changes)
            if task_id is None:
                return  # the change is in place: found by reading the VM
        except VsphereError as exc:
            self._outcome(job, step, "failed", error=exc.message)
            self._step(job, step, "failed", exc.message)
            raise self._stop_for(exc, job) from None

        job.task_ids.append(task_id)
        try:
            state = wait_for_task(
                self.session,
                task_id,
                timeout=self.task_timeout,
                down_limit=self.reconnect_timeout,
                progress=lambda pct, msg: self._report(step, "running", pct, msg),
            )
        except VsphereError as exc:
            # Waiting failed, not the task: its real outcome is unknown until we look again.
            self._outcome(job, step, "unknown", task_id=task_id, error=exc.message)
            self._step(job, step, "failed", exc.message, task_id)
            raise _Stop(
                Outcome.FAILED,
                Reason.OUTCOME_UNKNOWN,
                f"The end of vCenter task {task_id} could not be followed: {exc.message}",
                "Look at the task in the vSphere Client, then check the VM again.",
            ) from None
        self._task_ended(job, state, changes)

    def _find_lost_change(
        self,
        job: _Job,
        moref: str,
        since: datetime,
        exc: VsphereError,
        changes: tuple[Change, ...],
    ) -> str | None:
        """The answer to our submit was lost: find out what vCenter did; never resubmit.

        Whether vCenter got the request cannot be told from this side of a broken
        connection (a request lost on its way and an answer lost on its way back look the
        same). So: reconnect, then look for the task, and read the VM's values, until one of
        them settles it or ``settle_timeout`` passes. Unsettled, the step's outcome stays
        open (``unknown``): the next run on this VM settles it before changing anything.

        Returns:
            The task's id to follow, or None when the values show the change in place.
        """
        assert job.entry_id is not None
        step = StepId.RECONFIGURE
        self._report(
            step,
            "running",
            None,
            f"{exc.message} Reconnecting to find out whether vCenter got the change",
        )
        state = ChangeState.NOT_APPLIED
        try:
            reconnect(
                self.session,
                timeout=self.reconnect_timeout,
                on_wait=lambda waited: self._report(
                    step,
                    "running",
                    None,
                    f"vCenter does not answer ({waited:.0f} s of {self.reconnect_timeout:g} s); "
                    "still trying",
                ),
            )
            deadline = time.monotonic() + self.settle_timeout
            while True:
                found = find_task(
                    self.session,
                    moref,
                    RECONFIGURE_DESCRIPTION,
                    since=since,
                    user=self.session.user,
                )
                if found is not None:
                    self._report(step, "running", found.progress, f"Found task {found.task_id}")
                    return found.task_id
                state = reconcile_state(changes, collect_facts(self.session, moref))
                if state is ChangeState.APPLIED:
                    self._outcome(job, step, "succeeded", connection_lost=True, found_by="re-read")
                    self._step(
                        job, step, "done", "The change is in place (found by reading the VM)."
                    )
                    return None
                if time.monotonic() >= deadline:
                    break
                self._report(step, "running", None, "Looking for the change on vCenter")
                time.sleep(SETTLE_PAUSE_S)
        except VsphereError as again:
            self._outcome(job, step, UNSETTLED, error=again.message, connection_lost=True)
            self._step(job, step, "failed", again.message)
            raise _Stop(
                Outcome.FAILED,
                Reason.OUTCOME_UNKNOWN,
                f"The connection to vCenter was lost after the change was sent, and vCenter "
                f"could not be asked again ({again.message}). Whether the change was made is "
                "not known.",
                "When vCenter answers again, the next fix, undo or power-on on this VM (or "
                "connecting with the wizard) looks the change up on the VM before anything else "
                "is done to it; 'checkpoint-wizard journal' lists it as unfinished meanwhile.",
            ) from None
        self._outcome(job, step, UNSETTLED, connection_lost=True, state=state.value)
        self._step(job, step, "failed", "vCenter shows no sign of the change so far.")
        raise _Stop(
            Outcome.FAILED,
            Reason.OUTCOME_UNKNOWN,
            "The connection to vCenter was lost while the change was being sent. After "
            f"{self.settle_timeout:g} s vCenter shows no sign of it (no task, the settings "
            f"{state.value.replace('_', ' ')}), so it most likely did not arrive, but that is "
            "not certain.",
            "The journal keeps this change open: the next fix, undo or power-on on this VM (or "
            "connecting with the wizard) looks for it again before changing anything.",
        )

    def _task_ended(self, job: _Job, state: TaskState, changes: tuple[Change, ...]) -> None:
        assert job.entry_id is not None
        step = StepId.RECONFIGURE
        try:
            raise_for(state)
        except TaskFailed as exc:
            self._outcome(
                job,
                step,
                "failed",
                task_id=exc.task_id,
                fault=exc.fault,
                error=exc.message,
            )
            self._step(job, step, "failed", exc.message, exc.task_id)
            if exc.fault == "ConcurrentAccess":
                # Show what the other change did to the settings this plan touches, as a stale
                # plan does (the power state is left out: we may have shut the VM down).
                now = self._read_quietly(job)
                if now is not None:
                    job.differences = value_differences(changes, now, expect="before")
                shown = "; ".join(d.describe() for d in job.differences)
                raise _Stop(
                    Outcome.REFUSED,
                    Reason.CONCURRENT_CHANGE,
                    "vCenter refused the change because someone else changed the VM since it "
                    "was checked. Nothing was changed."
                    + (f" Changed meanwhile: {shown}." if shown else ""),
                    "Check the VM again and choose the fix anew.",
                ) from None
            if exc.fault == "InvalidPowerState":
                raise _Stop(
                    Outcome.FAILED,
                    Reason.WRONG_POWER_STATE,
                    f"vCenter refused the change in the VM's power state: {exc.message} "
                    "Nothing was changed.",
                    "Check the VM's power state (someone may have started it) and run the fix "
                    "again.",
                ) from None
            raise self._stop_for(exc.cause, job) from None
        self._outcome(job, step, "succeeded", task_id=state.task_id)
        self._step(job, step, "done", "vCenter made the change.", state.task_id)

    def _guest_resolution(self, job: _Job, now: VmFacts, changes: tuple[Change, ...]) -> None:
        assert job.entry_id is not None
        assert job.guest_credentials is not None
        step = StepId.GUEST_RESOLUTION
        creds = job.guest_credentials
        for change in changes:
            width, height = parse_screen(change.after or "")
            self._intent(job, step, guest_user=creds.user, screen=change.after)
            self._report(step, "running", None, f"Setting {width}x{height} in the guest")
            try:
                pid, code = run_resolution_tool(
                    self.session,
                    now.moref,
                    user=creds.user,
                    password=creds.password,
                    width=width,
                    height=height,
                    timeout=self.guest_tool_timeout,
                )
            except VsphereError as exc:
                self._outcome(job, step, "failed", error=exc.message)
                self._step(job, step, "failed", exc.message)
                stop = self._stop_for(exc, job)
                if stop.reason is Reason.TASK_ERROR:
                    stop.reason = Reason.GUEST_TOOL_FAILED
                raise stop from None
            if code != 0:
                message = (
                    f"The resolution tool ended with code {code} in the guest."
                    if code is not None
                    else "The resolution tool did not end in time."
                )
                self._outcome(job, step, "failed", pid=pid, exit_code=code)
                self._step(job, step, "failed", message)
                raise _Stop(
                    Outcome.FAILED,
                    Reason.GUEST_TOOL_FAILED,
                    message + " It needs a user logged on to the guest's desktop.",
                    "Have the user log on (an interactive session), then run the fix again.",
                )
            self._outcome(job, step, "succeeded", pid=pid, exit_code=code)
            self._step(job, step, "done", f"The guest now shows {width}x{height} or less.")

    # ------------------------------------------------------------------------------ ending

    def _verify(self, job: _Job, facts: VmFacts | None, *, nothing_done: bool) -> ApplyResult:
        step = StepId.VERIFY
        if not nothing_done:
            self._report(step, "running", None, "Reading the VM again")
        try:
            after = facts if facts is not None else self._read(job, job.identity.moref)
        except _Stop as stop:
            self._step(job, step, "failed", stop.message)
            return self._finish(
                job,
                Outcome.FAILED,
                f"The change was made, but the VM could not be read again: {stop.message}",
                "Check the VM again.",
                Reason.VERIFICATION_FAILED,
            )
        checks = verify(job.changes, after)
        # Failures seen before this run stay on record, but cannot disprove the change.
        fresh = tuple(e for e in after.evidence if e.time is not None and e.time > job.started)
        assessment = assess(replace(after, evidence=fresh))
        verdict = assessment.verdict
        values_ok = all(c.in_place for c in checks)
        verdict_ok = job.promised is None or verdict in job.promised
        if (
            job.action == "apply"
            and job.remedy_id == RemedyId.STAY_ON_HW7
            and upgrade_pending(after)
        ):
            verdict_ok = False
        old = (
            " Earlier failures stay on record; a test vMotion proves it." if after.evidence else ""
        )
        if values_ok and not verdict_ok and nothing_done and job.action == "apply":
            # Nothing was changed, so there is no change of ours to disprove; but say plainly
            # that the verdict is not yet what the fix promises (e.g. an off VM's screen can't
            # be read, so its buffer can't be judged).
            old += f" The verdict is still “{verdict.label}”: " + (
                assessment.notes[-1] if assessment.notes else assessment.reason
            )
            verdict_ok = True
        if values_ok and verdict_ok:
            if not nothing_done:
                self._step(
                    job,
                    step,
                    "done",
                    f"Every change is in place; the verdict is “{verdict.label}”.",
                )
            if job.action == "undo":
                text = (
                    f"Undone on {after.name}: the earlier values are back (verified); the "
                    f"verdict is “{verdict.label}” again."
                )
            else:
                what = "Nothing to change: the fix is already in effect" if nothing_done else "Done"
                text = (
                    f"{what} on {after.name}; verified, the verdict is now “{verdict.label}”.{old}"
                )
            return self._finish(
                job,
                Outcome.NOTHING_TO_DO if nothing_done else Outcome.APPLIED,
                text,
                "Try a vMotion of the VM to confirm." if job.action == "apply" else "",
                facts_after=after,
                checks=checks,
                assessment=assessment,
            )
        missing = "; ".join(
            f"{c.change.key}: wanted {c.change.after}, found {c.found}"
            for c in checks
            if not c.in_place
        )
        problem = missing or f"the verdict is “{verdict.label}”, not what the fix promises"
        self._step(job, step, "failed", problem)
        return self._finish(
            job,
            Outcome.FAILED,
            f"Verification failed on {after.name}: {problem}.",
            "Check the VM again; look at its recent tasks in the vSphere Client.",
            Reason.VERIFICATION_FAILED,
            facts_after=after,
            checks=checks,
            assessment=assessment,
        )

    def _finish(
        self,
        job: _Job,
        outcome: Outcome,
        message: str,
        next_step: str,
        reason: Reason | None = None,
        *,
        facts_after: VmFacts | None = None,
        checks: tuple[ChangeCheck, ...] = (),
        assessment: Assessment | None = None,
    ) -> ApplyResult:
        if facts_after is not None:
            job.power_state = facts_after.power_state
            if not checks:
                checks = verify(job.changes, facts_after)
        result = self._result(
            job,
            outcome,
            message,
            next_step,
            reason=reason,
            facts_after=facts_after,
            checks=checks,
            assessment=assessment,
        )
        if job.owed_from is not None and job.power_state == PowerState.ON:
            message += (
                f" (An earlier run, entry {job.owed_from}, had shut it down and not finished: "
                "it is on again.)"
            )
            result = replace(result, message=message)
        if job.entry_id is not None:
            # The journal's end record and the command line's JSON are one shape.
            record = result_to_json(result)
            for key in ("entry_id", "outcome", "next_step", "steps", "privilege"):
                record.pop(key)
            if facts_after is None:
                record["verification"] = None
            self._end(
                job, UNSETTLED if reason is Reason.OUTCOME_UNKNOWN else outcome.value, **record
            )
        if job.journal_error is not None:
            result = replace(
                result,
                message=f"{result.message} The journal could not be written during this run "
                f"({job.journal_error}), so its record of this run is incomplete: keep this "
                "message with the ticket.",
            )
        return result

    def _result(
        self,
        job: _Job,
        outcome: Outcome,
        message: str,
        next_step: str,
        *,
        reason: Reason | None = None,
        facts_after: VmFacts | None = None,
        checks: tuple[ChangeCheck, ...] = (),
        assessment: Assessment | None = None,
    ) -> ApplyResult:
        privilege = None
        if reason is Reason.NO_PERMISSION:
            privilege = next((p.value for p in Privilege if p.value in message), None)
        return ApplyResult(
            entry_id=job.entry_id,
            outcome=outcome,
            steps=tuple(job.steps),
            changes=job.changes,
            verification_verdict=assessment.verdict.value if assessment is not None else None,
            message=message,
            next_step=next_step,
            reason=reason,
            differences=job.differences,
            checks=checks,
            facts_after=facts_after,
            assessment_after=assessment,
            task_ids=tuple(job.task_ids),
            power_state=job.power_state,
            privilege=privilege,
        )


def _value_now(facts: VmFacts | None, change: Change) -> str | None:
    return current_value(facts, change) if facts is not None else None


__all__ = [
    "ApplyRequest",
    "ApplyResult",
    "Executor",
    "GuestCredentials",
    "Outcome",
    "Reason",
    "Reconciliation",
    "StepResult",
    "StepUpdate",
    "result_to_json",
]
