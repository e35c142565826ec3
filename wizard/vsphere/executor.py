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

This module is the run itself: the public calls, the VM's lease, and the step loop. The steps
live by job: :mod:`~wizard.vsphere.power_steps` (shutdown, hard power-off, power-on, the
power-on an earlier run owes), :mod:`~wizard.vsphere.change_steps` (the reconfiguration, the
guest's resolution, verification), :mod:`~wizard.vsphere.reconcile` (settling dangling journal
entries); :mod:`~wizard.vsphere.job` holds one run's state and what every step does alike, and
:mod:`~wizard.vsphere.results` the request and result types. The steps a run will take are
planned, without I/O, by :func:`wizard.kb.plan.planned_run`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from wizard.audit import Journal, JournalError, VmBusy, VmIdentity
from wizard.kb.facts import PowerState, VmFacts
from wizard.kb.model import Change, ChangeTarget, Privilege, RemedyId, Verdict
from wizard.kb.plan import (
    CannotUndo,
    StepId,
    UnreadableChange,
    change_from_json,
    change_to_json,
    differences,
    identity_differences,
    needs_power_off,
    undo_changes,
    value_differences,
    verify,
)
from wizard.vsphere.change_steps import ChangeSteps
from wizard.vsphere.errors import VsphereError
from wizard.vsphere.job import Job, Stop, power_on_next, value_now
from wizard.vsphere.power_steps import PowerSteps
from wizard.vsphere.reconcile import Reconciler
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

log = logging.getLogger(__name__)


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


class Executor(Reconciler, PowerSteps, ChangeSteps):
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

    def apply(self, request: ApplyRequest) -> ApplyResult:
        """Apply ``request.remedy`` to the VM checked as ``request.facts_at_check``.

        Never raises for a vSphere problem: the result says what happened. A journal that
        cannot be written (:class:`~wizard.audit.JournalError`) is raised before anything
        changes.
        """
        facts = request.facts_at_check
        remedy = request.remedy
        job = Job(
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
        job = Job(
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
            job = Job("power_on", None, VmIdentity("?", "?", "?"), (), None, None)
            job_result = self._result(
                job,
                Outcome.REFUSED,
                f"There is no journal entry {entry_id}.",
                "",
                reason=Reason.UNKNOWN_ENTRY,
            )
            return job_result
        job = Job(
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

    def _power_on_again(self, job: Job) -> ApplyResult:
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
        except Stop as stop:
            return self._finish(job, stop.outcome, stop.message, stop.next_step, stop.reason)

    def _leased(
        self, job: Job, details: Mapping[str, Any], run: Callable[[], ApplyResult]
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

    def _run(self, job: Job, details: Mapping[str, Any]) -> ApplyResult:
        self._begin(job, details)
        try:
            return self._run_steps(job)
        except Stop as stop:
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
            unexpected = Stop(
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

    def _run_steps(self, job: Job) -> ApplyResult:
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
            raise Stop(
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
                Change(c.target, c.key, value_now(now, c), c.after) for c in job.changes
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
            except Stop as stop:
                # The change is in place; only the power-on failed: say both, truthfully.
                after = self._read_quietly(job)
                return self._finish(
                    job,
                    Outcome.FAILED,
                    f"The change is in place, but {job.identity.name} could not be powered on: "
                    f"{stop.message} It is {job.power_state or 'in an unknown power state'}.",
                    power_on_next(job.entry_id),
                    Reason.POWER_ON_FAILED,
                    facts_after=after,
                )
        return self._verify(job, None, nothing_done=False)

    def _check_privileges(self, job: Job, now: VmFacts, off_needed: bool) -> None:
        needed = [_PRIVILEGE_OF[c.target] for c in job.changes]
        if off_needed:
            needed += [Privilege.POWER_OFF, Privilege.POWER_ON]
        for privilege in dict.fromkeys(needed):
            if now.holds(privilege.value) is False:
                self._step(job, StepId.REREAD, "failed", f"Missing privilege {privilege.value}.")
                raise Stop(
                    Outcome.REFUSED,
                    Reason.NO_PERMISSION,
                    f"This account lacks the privilege {privilege.value} on {now.name} "
                    f"({now.moref}). Nothing was changed.",
                    f"Ask a vSphere administrator to grant {privilege.value} on {now.name}, "
                    "or sign in with an account that has it.",
                )

    def _check_guest(self, job: Job, now: VmFacts) -> None:
        if job.guest_credentials is None or not job.guest_credentials.user:
            raise Stop(
                Outcome.REFUSED,
                Reason.GUEST_CREDENTIALS,
                "Setting the resolution in the guest needs a guest login (user and password). "
                "Nothing was changed.",
                "Give the guest user's login; it is used once and never stored.",
            )
        if now.power_state != PowerState.ON:
            raise Stop(
                Outcome.REFUSED,
                Reason.WRONG_POWER_STATE,
                f"{now.name} is {now.power_state}: the resolution can only be set in a running "
                "guest. Nothing was changed.",
                "Start the VM and have the user log on, then run the fix again.",
            )


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
