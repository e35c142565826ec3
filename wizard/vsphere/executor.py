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
ends; an entry whose intent has no outcome (a crash, a killed process) is reconciled against the
VM's real values by :meth:`Executor.reconcile`. Guest passwords are never journaled or logged.

The executor stops only at safe points (before the shutdown, before the reconfiguration),
never between submitting a task and its end.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from wizard.audit import Journal, JournalEntry, VmIdentity
from wizard.kb.facts import VmFacts
from wizard.kb.model import (
    Assessment,
    Change,
    ChangeTarget,
    Privilege,
    Remedy,
    RemedyId,
    Verdict,
)
from wizard.kb.plan import (
    POWERED_OFF,
    POWERED_ON,
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


class Outcome(enum.StrEnum):
    """How an apply or undo ended. Stable ids for the JSON result and the journal."""

    APPLIED = "applied"
    NOTHING_TO_DO = "nothing_to_do"
    REFUSED = "refused"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Reason(enum.StrEnum):
    """Why an apply or undo was refused or failed. Stable ids for the JSON result."""

    NOT_AVAILABLE = "not_available"
    STALE_PLAN = "stale_plan"
    NO_PERMISSION = "no_permission"
    CONSENT_SHUTDOWN = "consent_shutdown"
    CONSENT_HARD_POWEROFF = "consent_hard_poweroff"
    TOOLS_NOT_RUNNING = "tools_not_running"
    GUEST_CREDENTIALS = "guest_credentials"
    WRONG_POWER_STATE = "wrong_power_state"
    VM_GONE = "vm_gone"
    CANCELLED = "cancelled"
    SHUTDOWN_TIMEOUT = "shutdown_timeout"
    CONCURRENT_CHANGE = "concurrent_change"
    TASK_ERROR = "task_error"
    OUTCOME_UNKNOWN = "outcome_unknown"
    POWER_ON_FAILED = "power_on_failed"
    VERIFICATION_FAILED = "verification_failed"
    CONNECTION = "connection"
    SESSION = "session"
    GUEST_TOOL_FAILED = "guest_tool_failed"
    CANNOT_UNDO = "cannot_undo"
    UNKNOWN_ENTRY = "unknown_entry"


@dataclass(frozen=True)
class GuestCredentials:
    """A guest login for the resolution tool: asked for each time, never stored or journaled."""

    user: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"GuestCredentials(user={self.user!r}, password='***')"


@dataclass(frozen=True)
class ApplyRequest:
    """What the technician chose and consented to.

    Attributes:
        facts_at_check: the VM as checked; the plan relies on these values.
        remedy: the remedy to apply (from ``wizard.kb.remedies`` for ``facts_at_check``).
        allow_shutdown: consent to shut the guest down through Tools when the change needs it.
        allow_hard_poweroff: consent to a hard power-off (Tools not running, or suspended VM).
        leave_powered_off: do not power the VM on again after the change.
        guest_credentials: the guest login for the ``guest`` variant of lower_resolution.
        shutdown_timeout: seconds to wait for the guest to shut down.
    """

    facts_at_check: VmFacts
    remedy: Remedy
    allow_shutdown: bool = False
    allow_hard_poweroff: bool = False
    leave_powered_off: bool = False
    guest_credentials: GuestCredentials | None = None
    shutdown_timeout: float = 300.0


@dataclass(frozen=True)
class StepUpdate:
    """Progress of one step, for the step list.

    Attributes:
        step: a :class:`~wizard.kb.plan.StepId` value.
        state: ``running``, ``done``, ``failed``, ``skipped`` or ``cancelled``
            (``wizard.ui.executor.StepState`` values).
        progress: 0..100, or None when unknown.
        message: one short line.
    """

    step: str
    state: str
    progress: int | None
    message: str


@dataclass(frozen=True)
class StepResult:
    """How one step ended, with the vCenter task that ran it (if any)."""

    step: str
    state: str
    message: str
    task_id: str | None = None


@dataclass(frozen=True)
class ApplyResult:
    """What an apply or undo did, as the Done page, the JSON result and the ticket note need.

    Attributes:
        entry_id: the journal entry (None only when nothing could be journaled).
        outcome: how it ended.
        steps: every step that ran, in order.
        changes: the changes made (or that would have been made), before -> after.
        verification_verdict: the verdict after re-reading, when verified.
        message: one or two sentences for the technician.
        next_step: what to do now.
        reason: why it was refused or failed (None when it worked).
        differences: what changed since the check (a stale plan, or a forced undo).
        checks: each change as found when verifying.
        facts_after: the VM as re-read at the end.
        assessment_after: its re-assessment.
        task_ids: vCenter tasks that ran.
        power_state: the VM's power state at the end, as last read.
        privilege: the missing privilege when refused for lack of one.
    """

    entry_id: str | None
    outcome: Outcome
    steps: tuple[StepResult, ...]
    changes: tuple[Change, ...]
    verification_verdict: str | None
    message: str
    next_step: str
    reason: Reason | None = None
    differences: tuple[Difference, ...] = ()
    checks: tuple[ChangeCheck, ...] = ()
    facts_after: VmFacts | None = None
    assessment_after: Assessment | None = None
    task_ids: tuple[str, ...] = ()
    power_state: str | None = None
    privilege: str | None = None

    @property
    def ok(self) -> bool:
        """Applied, or nothing was needed."""
        return self.outcome in (Outcome.APPLIED, Outcome.NOTHING_TO_DO)

    @property
    def verified(self) -> bool:
        """The VM was re-read and every change is in place."""
        return self.ok and self.facts_after is not None and all(c.in_place for c in self.checks)

    @property
    def journal_id(self) -> str | None:
        """The journal entry (``wizard.ui.executor.ApplyResult``)."""
        return self.entry_id


@dataclass(frozen=True)
class Reconciliation:
    """What a dangling journal entry turned out to have done, judged from the VM's real values.

    Attributes:
        entry_id: the dangling entry.
        state: ``applied``, ``not_applied``, ``partial``, ``changed_since``, ``vm_gone`` or
            ``other_vm`` (the moref now names another VM).
        power_state: the VM's power state now (None when gone).
        message: what it means, for the technician.
    """

    entry_id: str
    state: str
    power_state: str | None
    message: str


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
    force: bool = False
    entry_id: str | None = None
    steps: list[StepResult] = field(default_factory=list)
    task_ids: list[str] = field(default_factory=list)
    differences: tuple[Difference, ...] = ()
    powered_down: bool = False
    power_state: str | None = None
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

    # ------------------------------------------------------------------------------ public

    @staticmethod
    def steps(request: ApplyRequest) -> tuple[PlannedStep, ...]:
        """The steps :meth:`apply` will run for this request. Pure, no I/O."""
        return plan_steps(
            request.remedy.changes,
            request.facts_at_check.power_state,
            leave_powered_off=request.leave_powered_off,
            hard_power_off=request.allow_hard_poweroff
            and request.facts_at_check.power_state == POWERED_ON
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
        return self._run(job, details)

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
        try:
            recorded = tuple(change_from_json(c) for c in entry.changes)
            applied = self._applied_changes(entry, recorded)
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
                f"Entry {entry_id} changed nothing ({entry.outcome or 'no outcome'}); there is "
                "nothing to undo.",
                "",
            )
        return self._run(job, {"consent": self._consent(job), "force": force})

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
            undo_of=None,
        )
        job.entry_id = self.journal.begin(
            action="power_on",
            vcenter=str(self.session.endpoint),
            user=self.session.user,
            vm=entry.vm,
            remedy=entry.remedy,
            changes=[],
            details={"retry_of": entry_id},
        )
        job.powered_down = True
        try:
            now = self._read(job, entry.vm.moref)
            if now.power_state == POWERED_ON:
                self._step(job, StepId.POWER_ON, "skipped", "The VM is already on.")
                return self._finish(job, Outcome.NOTHING_TO_DO, "The VM is already on.", "")
            self._power_on(job)
            facts_after = self._read(job, entry.vm.moref)
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
            if went_down and facts_now.power_state == POWERED_OFF:
                message += " It was shut down for the change: power it on if the user needs it."
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
        if entry.outcome is None:
            self.journal.end(entry.id, "reconciled", message=message, **record)
        return Reconciliation(entry.id, state, power, message)

    def reconcile_dangling(self) -> tuple[Reconciliation, ...]:
        """Reconcile every dangling entry of this vCenter against the VMs' real state."""
        done = []
        vcenter = str(self.session.endpoint)
        for entry in self.journal.read().dangling:
            if entry.vcenter != vcenter:
                continue
            try:
                facts: VmFacts | None = collect_facts(self.session, entry.vm.moref)
            except VmGone:
                facts = None
            done.append(self.reconcile(entry, facts))
        return tuple(done)

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
        )
        return job.entry_id

    def _refuse_early(
        self, job: _Job, details: Mapping[str, Any], reason: Reason, message: str, next_step: str
    ) -> ApplyResult:
        self._begin(job, details)
        return self._finish(job, Outcome.REFUSED, message, next_step, reason)

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

        # Already in effect (or never anything to do): change nothing and say so.
        if not job.changes or all(c.in_place for c in verify(job.changes, now)):
            self._step(job, StepId.REREAD, "done", "The fix is already in effect.")
            return self._verify(job, now, nothing_done=True)

        if job.facts_at_check is not None:
            diffs = differences(job.changes, job.facts_at_check, now)
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
            # A forced undo: journal the values really found as "before".
            job.changes = tuple(
                Change(c.target, c.key, _value_now(now, c), c.after) for c in job.changes
            )
        self._step(job, StepId.REREAD, "done", "The VM is as checked.")

        off_needed = needs_power_off(job.changes) and now.power_state != POWERED_OFF
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
                    "Power it on from the vSphere Client, or retry the power-on here.",
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
        if now.power_state != POWERED_ON:
            raise _Stop(
                Outcome.REFUSED,
                Reason.WRONG_POWER_STATE,
                f"{now.name} is {now.power_state}: the resolution can only be set in a running "
                "guest. Nothing was changed.",
                "Start the VM and have the user log on, then run the fix again.",
            )

    def _check_power_consent(self, job: _Job, now: VmFacts) -> bool:
        """Whether a hard power-off is needed (and consented to); refuse without consent."""
        if now.power_state != POWERED_ON:  # suspended: no guest to shut down
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
        self.journal.intent(job.entry_id, step, power_state=now.power_state)
        self._report(step, "running", 0, "Shutting down the guest" if not hard else "Powering off")
        # From here on the VM may be going down: it is powered on again whatever happens.
        job.powered_down = True
        try:
            if hard:
                task = power_off(
                    self.session,
                    now.moref,
                    timeout=self.task_timeout,
                    progress=lambda pct, msg: self._report(step, "running", pct, msg),
                )
                job.task_ids.append(task.task_id)
            else:
                shutdown_guest(
                    self.session,
                    now.moref,
                    now.name,
                    timeout=job.shutdown_timeout,
                    progress=lambda pct, msg: self._report(step, "running", pct, msg),
                )
        except ToolsNotRunning as exc:
            job.powered_down = False
            self.journal.outcome(job.entry_id, step, "failed", error=exc.message)
            self._step(job, step, "failed", exc.message)
            raise _Stop(
                Outcome.REFUSED,
                Reason.TOOLS_NOT_RUNNING,
                exc.message + " Nothing was changed.",
                exc.next_step,
            ) from None
        except ShutdownTimedOut as exc:
            # The guest may still be shutting down: do not power it on under it.
            job.powered_down = False
            job.power_state = exc.power_state
            self.journal.outcome(
                job.entry_id, step, "timed_out", power_state=exc.power_state, error=exc.message
            )
            self._step(job, step, "failed", exc.message)
            raise _Stop(
                Outcome.FAILED, Reason.SHUTDOWN_TIMEOUT, exc.message, exc.next_step
            ) from None
        except TaskFailed as exc:
            job.powered_down = False
            self.journal.outcome(
                job.entry_id, step, "failed", task_id=exc.task_id, error=exc.message
            )
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
            job.powered_down = found == POWERED_OFF
            self.journal.outcome(job.entry_id, step, "failed", error=exc.message, power_state=found)
            self._step(job, step, "failed", exc.message)
            raise self._stop_for(exc, job) from None
        job.power_state = POWERED_OFF
        self.journal.outcome(job.entry_id, step, "succeeded", power_state=POWERED_OFF)
        self._step(job, step, "done", "The VM is off.", job.task_ids[-1] if hard else None)

    def _power_on(self, job: _Job) -> None:
        assert job.entry_id is not None
        moref = job.identity.moref
        step = StepId.POWER_ON
        self.journal.intent(job.entry_id, step)
        self._report(step, "running", None, "Powering the VM on")
        try:
            try:
                task, tools = power_on(
                    self.session,
                    moref,
                    timeout=self.task_timeout,
                    tools_timeout=self.tools_timeout,
                    progress=lambda pct, msg: self._report(step, "running", pct, msg),
                )
            except TRANSIENT_ERRORS:
                # A power-on sent twice is harmless (the second is refused): ask what happened.
                reconnect(self.session, timeout=self.reconnect_timeout)
                state = self._power_state_now(moref)
                if state != POWERED_ON:
                    task, tools = power_on(
                        self.session,
                        moref,
                        timeout=self.task_timeout,
                        tools_timeout=self.tools_timeout,
                    )
                else:
                    task, tools = None, False
        except TaskFailed as exc:
            job.task_ids.append(exc.task_id)
            job.power_state = self._power_state_now(moref)
            self.journal.outcome(
                job.entry_id,
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
            self.journal.outcome(
                job.entry_id, step, "failed", error=exc.message, power_state=job.power_state
            )
            self._step(job, step, "failed", exc.message)
            raise _Stop(
                Outcome.FAILED, Reason.POWER_ON_FAILED, exc.message, exc.next_step
            ) from None
        job.powered_down = False
        job.power_state = POWERED_ON
        task_id = task.task_id if task is not None else None
        if task_id:
            job.task_ids.append(task_id)
        self.journal.outcome(
            job.entry_id,
            step,
            "succeeded",
            task_id=task_id,
            power_state=POWERED_ON,
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
            stop.next_step = "Power it on from the vSphere Client, or retry the power-on here."
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

        self.journal.intent(
            job.entry_id, step, spec=describe_spec(changes, guard), server_time=since.isoformat()
        )
        self._report(step, "running", 0, "Sending the change to vCenter")
        vm = self.session.managed_object(vim.VirtualMachine, moref)
        task_id: str | None = None
        try:
            task_id = str(self.session.call(lambda: vm.ReconfigVM_Task(spec))._moId)
        except TRANSIENT_ERRORS as exc:
            task_id = self._find_lost_task(job, moref, since, exc)
        except VsphereError as exc:
            self.journal.outcome(job.entry_id, step, "failed", error=exc.message)
            self._step(job, step, "failed", exc.message)
            raise self._stop_for(exc, job) from None

        if task_id is None:
            self._settle_without_task(job, moref, changes)
            return
        job.task_ids.append(task_id)
        try:
            state = wait_for_task(
                self.session,
                task_id,
                timeout=self.task_timeout,
                progress=lambda pct, msg: self._report(step, "running", pct, msg),
            )
        except VsphereError as exc:
            # Waiting failed, not the task: its real outcome is unknown until we look again.
            self.journal.outcome(job.entry_id, step, "unknown", task_id=task_id, error=exc.message)
            self._step(job, step, "failed", exc.message, task_id)
            raise _Stop(
                Outcome.FAILED,
                Reason.OUTCOME_UNKNOWN,
                f"The end of vCenter task {task_id} could not be followed: {exc.message}",
                "Look at the task in the vSphere Client, then check the VM again.",
            ) from None
        self._task_ended(job, state, changes)

    def _find_lost_task(
        self, job: _Job, moref: str, since: datetime, exc: VsphereError
    ) -> str | None:
        """The answer to our submit was lost: reconnect and find the task, never resubmit."""
        assert job.entry_id is not None
        self._report(
            StepId.RECONFIGURE,
            "running",
            None,
            f"{exc.message} Reconnecting to find out whether vCenter got the change",
        )
        try:
            reconnect(self.session, timeout=self.reconnect_timeout)
            found = find_task(
                self.session, moref, RECONFIGURE_DESCRIPTION, since=since, user=self.session.user
            )
        except VsphereError as again:
            self.journal.outcome(
                job.entry_id,
                StepId.RECONFIGURE,
                "unknown",
                error=again.message,
                connection_lost=True,
            )
            self._step(job, StepId.RECONFIGURE, "failed", again.message)
            raise _Stop(
                Outcome.FAILED,
                Reason.OUTCOME_UNKNOWN,
                f"The connection to vCenter was lost after the change was sent, and vCenter "
                f"could not be reached again ({again.message}). Whether the change was made is "
                "not known.",
                "When vCenter answers again, run 'checkpoint-wizard journal' (or start the "
                "wizard): it reconciles this entry against the VM.",
            ) from None
        if found is not None:
            self._report(
                StepId.RECONFIGURE, "running", found.progress, f"Found task {found.task_id}"
            )
            return found.task_id
        return None

    def _settle_without_task(self, job: _Job, moref: str, changes: tuple[Change, ...]) -> None:
        """No task found after a lost answer: the VM's values tell whether the change happened."""
        assert job.entry_id is not None
        step = StepId.RECONFIGURE
        facts = self._read(job, moref)
        state = reconcile_state(changes, facts)
        if state is ChangeState.APPLIED:
            self.journal.outcome(
                job.entry_id, step, "succeeded", connection_lost=True, found_by="re-read"
            )
            self._step(job, step, "done", "The change is in place (found by reading the VM).")
            return
        self.journal.outcome(
            job.entry_id,
            step,
            "failed" if state is ChangeState.NOT_APPLIED else "unknown",
            connection_lost=True,
            state=state.value,
        )
        if state is ChangeState.NOT_APPLIED:
            self._step(job, step, "failed", "vCenter did not get the change.")
            raise _Stop(
                Outcome.FAILED,
                Reason.CONNECTION,
                "The connection to vCenter was lost while sending the change; vCenter did not "
                "get it. Nothing was changed.",
                "Run the fix again.",
            )
        self._step(job, step, "failed", f"The VM's settings are {state.value}.")
        raise _Stop(
            Outcome.FAILED,
            Reason.OUTCOME_UNKNOWN,
            f"The connection to vCenter was lost while sending the change, and the VM's "
            f"settings are now {state.value.replace('_', ' ')}.",
            "Check the VM again before doing anything else.",
        )

    def _task_ended(self, job: _Job, state: TaskState, changes: tuple[Change, ...]) -> None:
        assert job.entry_id is not None
        step = StepId.RECONFIGURE
        try:
            raise_for(state)
        except TaskFailed as exc:
            self.journal.outcome(
                job.entry_id,
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
        self.journal.outcome(job.entry_id, step, "succeeded", task_id=state.task_id)
        self._step(job, step, "done", "vCenter made the change.", state.task_id)

    def _guest_resolution(self, job: _Job, now: VmFacts, changes: tuple[Change, ...]) -> None:
        assert job.entry_id is not None
        assert job.guest_credentials is not None
        step = StepId.GUEST_RESOLUTION
        creds = job.guest_credentials
        for change in changes:
            width, height = parse_screen(change.after or "")
            self.journal.intent(job.entry_id, step, guest_user=creds.user, screen=change.after)
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
                self.journal.outcome(job.entry_id, step, "failed", error=exc.message)
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
                self.journal.outcome(job.entry_id, step, "failed", pid=pid, exit_code=code)
                self._step(job, step, "failed", message)
                raise _Stop(
                    Outcome.FAILED,
                    Reason.GUEST_TOOL_FAILED,
                    message + " It needs a user logged on to the guest's desktop.",
                    "Have the user log on (an interactive session), then run the fix again.",
                )
            self.journal.outcome(job.entry_id, step, "succeeded", pid=pid, exit_code=code)
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
        if values_ok and verdict_ok:
            if not nothing_done:
                self._step(job, step, "done", f"Every change is in place; verdict {verdict}.")
            if job.action == "undo":
                text = (
                    f"Undone on {after.name}: the earlier values are back (verified); the "
                    f"verdict is {verdict} again."
                )
            else:
                what = "Nothing to change: the fix is already in effect" if nothing_done else "Done"
                text = f"{what} on {after.name}; verified, the verdict is now {verdict}.{old}"
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
        problem = missing or f"the verdict is {verdict}, not what the fix promises"
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
        if job.entry_id is not None:
            self.journal.end(
                job.entry_id,
                outcome.value,
                reason=reason.value if reason is not None else None,
                message=message,
                changes=[change_to_json(c) for c in job.changes],
                task_ids=list(job.task_ids),
                power_state=job.power_state,
                differences=[
                    {"what": d.what, "expected": d.expected, "found": d.found}
                    for d in job.differences
                ],
                verification={
                    "verdict": result.verification_verdict,
                    "checks": [
                        {
                            "key": c.change.key,
                            "wanted": c.change.after,
                            "found": c.found,
                            "in_place": c.in_place,
                        }
                        for c in checks
                    ],
                }
                if facts_after is not None
                else None,
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


def result_to_json(result: ApplyResult) -> dict[str, Any]:
    """The result as plain JSON-ready data (the ``apply --json`` / ``undo --json`` output)."""
    return {
        "entry_id": result.entry_id,
        "outcome": result.outcome.value,
        "reason": result.reason.value if result.reason is not None else None,
        "message": result.message,
        "next_step": result.next_step,
        "privilege": result.privilege,
        "steps": [
            {"step": s.step, "state": s.state, "message": s.message, "task_id": s.task_id}
            for s in result.steps
        ],
        "changes": [change_to_json(c) for c in result.changes],
        "differences": [
            {"what": d.what, "expected": d.expected, "found": d.found} for d in result.differences
        ],
        "verification": {
            "verified": result.verified,
            "verdict": result.verification_verdict,
            "checks": [
                {
                    "target": c.change.target.value,
                    "key": c.change.key,
                    "wanted": c.change.after,
                    "found": c.found,
                    "in_place": c.in_place,
                }
                for c in result.checks
            ],
        },
        "task_ids": list(result.task_ids),
        "power_state": result.power_state,
    }


# ---------------------------------------------------------------------------- for the wizard


class GuiExecutor:
    """The executor as the wizard's pages expect it (``wizard.ui.executor.ConsentingExecutor``).

    The page's consent (``wizard.ui.executor.Consent``, read by its attributes) decides the power
    handling: a clean shutdown only with ``shutdown``, a hard power-off only with its own
    ``hard_poweroff``. Without a consent (a caller of the plain Protocol), the call itself counts
    as consent to a clean shutdown and to nothing more; the wizard's pages always pass one.
    """

    def __init__(self, journal: Journal | None = None) -> None:
        self._journal = journal

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            self._journal = Journal()
        return self._journal

    @staticmethod
    def _consent(consent: Any) -> dict[str, Any]:
        """The page's consent as request fields; the guest login becomes GuestCredentials."""
        if consent is None:
            return {"allow_shutdown": True}
        login = consent.guest_login
        return {
            "allow_shutdown": bool(consent.shutdown),
            "allow_hard_poweroff": bool(consent.hard_poweroff),
            "leave_powered_off": bool(consent.leave_powered_off),
            "guest_credentials": (
                GuestCredentials(login.user, login.password) if login is not None else None
            ),
            "shutdown_timeout": float(consent.shutdown_timeout_s),
        }

    @staticmethod
    def _plan(
        changes: Sequence[Change], facts: VmFacts | None, consent: Any
    ) -> Sequence[PlannedStep]:
        power = facts.power_state if facts is not None else POWERED_ON
        hard = bool(consent is not None and consent.hard_poweroff) and (
            power != POWERED_ON or (facts is not None and not facts.tools_running)
        )
        return plan_steps(
            changes,
            power,
            leave_powered_off=bool(consent is not None and consent.leave_powered_off),
            hard_power_off=hard,
        )

    def steps(self, remedy: Remedy, facts: VmFacts, consent: Any = None) -> Sequence[PlannedStep]:
        """The steps :meth:`apply` will run with this consent. Pure, no I/O."""
        return self._plan(remedy.changes, facts, consent)

    def _executor(
        self,
        session: Any,
        report: Callable[[str, str, int | None, str], None],
        log_line: Callable[[str], None],
        is_cancelled: Callable[[], bool],
    ) -> Executor:
        def on_progress(update: StepUpdate) -> None:
            report(update.step, update.state, update.progress, update.message)
            if update.state != "running":
                log_line(f"{update.step}: {update.message}")

        return Executor(session, self.journal, on_progress=on_progress, cancel=is_cancelled)

    def apply(
        self,
        session: Any,
        remedy: Remedy,
        facts: VmFacts,
        *,
        report: Callable[[str, str, int | None, str], None],
        log: Callable[[str], None],
        is_cancelled: Callable[[], bool],
        consent: Any = None,
    ) -> ApplyResult:
        """Apply ``remedy`` with what ``consent`` allows."""
        executor = self._executor(session, report, log, is_cancelled)
        if not facts.tools_running:
            executor.tools_timeout = 0.0  # Tools did not run before: do not wait for them after
        return executor.apply(
            ApplyRequest(facts_at_check=facts, remedy=remedy, **self._consent(consent))
        )

    def undo_steps(self, result: Any, consent: Any = None) -> Sequence[PlannedStep]:
        """The steps :meth:`undo` will run. Pure, no I/O.

        ``result`` is any ``wizard.ui.executor.ApplyResult`` (its ``changes`` and
        ``facts_after`` are read).
        """
        try:
            changes = undo_changes(result.changes)
        except CannotUndo:
            changes = ()
        return self._plan(changes, result.facts_after, consent)

    def undo(
        self,
        session: Any,
        result: Any,
        *,
        report: Callable[[str, str, int | None, str], None],
        log: Callable[[str], None],
        is_cancelled: Callable[[], bool],
        consent: Any = None,
    ) -> ApplyResult:
        """Put back the before-values of ``result``'s journal entry (``result.journal_id``).

        Raises:
            VsphereError: ``result`` has no journal entry.
        """
        entry_id = result.journal_id
        if entry_id is None:
            raise VsphereError("This result has no journal entry to undo.", "Nothing was changed.")
        executor = self._executor(session, report, log, is_cancelled)
        after = result.facts_after
        if after is not None and not after.tools_running:
            executor.tools_timeout = 0.0  # as for apply: no wait for Tools that did not run
        return executor.undo(entry_id, **self._consent(consent))

    def retry_power_on(
        self,
        session: Any,
        entry_id: str,
        *,
        report: Callable[[str, str, int | None, str], None],
        log: Callable[[str], None],
        is_cancelled: Callable[[], bool],
    ) -> ApplyResult:
        """Power the VM of entry ``entry_id`` on again after a failed power-on."""
        return self._executor(session, report, log, is_cancelled).retry_power_on(entry_id)

    def reconcile_dangling(self, session: Any) -> tuple[Reconciliation, ...]:
        """Reconcile what earlier runs left unfinished on this vCenter (see
        :meth:`Executor.reconcile_dangling`)."""
        return Executor(session, self.journal).reconcile_dangling()


def create_executor() -> GuiExecutor:
    """The executor the wizard uses (found by ``wizard.ui.executor.default_executor``)."""
    return GuiExecutor()


__all__ = [
    "ApplyRequest",
    "ApplyResult",
    "Executor",
    "GuestCredentials",
    "GuiExecutor",
    "Outcome",
    "Reason",
    "Reconciliation",
    "StepResult",
    "StepUpdate",
    "create_executor",
    "result_to_json",
]
