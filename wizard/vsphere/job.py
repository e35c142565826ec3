"""One run of the executor while it lasts (:class:`Job`), how it ends early (:class:`Stop`),
and what every step does alike (:class:`JobSteps`): journal, report, read, end with a result."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from wizard.audit import UNSETTLED, Journal, JournalError, VmIdentity
from wizard.kb.facts import PowerState, VmFacts
from wizard.kb.model import Assessment, Change, Privilege, Verdict
from wizard.kb.plan import ChangeCheck, Difference, change_to_json, current_value, verify
from wizard.vsphere._pyvmomi import vim
from wizard.vsphere.errors import NoPermission, SessionExpired, VmGone, VsphereError
from wizard.vsphere.facts import collect_facts
from wizard.vsphere.results import (
    ApplyResult,
    GuestCredentials,
    Outcome,
    Reason,
    StepResult,
    StepUpdate,
    result_to_json,
)
from wizard.vsphere.session import Session
from wizard.vsphere.tasks import TRANSIENT_ERRORS, TaskFailed

log = logging.getLogger(__name__)


def power_on_next(entry_id: str | None) -> str:
    """What to do when the VM could not be powered on again: the ways that exist."""
    retry = f"'checkpoint-wizard power-on {entry_id}'" if entry_id else "the command line"
    return (
        "Power it on from the vSphere Client, or retry the power-on (the wizard's Done page, or "
        f"{retry})."
    )


class Stop(Exception):
    """Ends a run early with a result (refused, failed or cancelled)."""

    def __init__(self, outcome: Outcome, reason: Reason, message: str, next_step: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.reason = reason
        self.message = message
        self.next_step = next_step


@dataclass
class Job:
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


class JobSteps:
    """What every step of a run does alike: journal it, report it, read the VM, stop with a
    result, and end the run with its result and the journal's end record.

    The base of :class:`~wizard.vsphere.executor.Executor`; the steps themselves are in
    :mod:`~wizard.vsphere.power_steps`, :mod:`~wizard.vsphere.change_steps` and
    :mod:`~wizard.vsphere.reconcile`, and the run that strings them together in
    :mod:`~wizard.vsphere.executor`.
    """

    session: Session
    journal: Journal
    task_timeout: float
    tools_timeout: float
    reconnect_timeout: float
    guest_tool_timeout: float
    settle_timeout: float
    _on_progress: Callable[[StepUpdate], None] | None
    _is_cancelled: Callable[[], bool]

    @property
    def vcenter_id(self) -> str | None:
        """vCenter's own identity (``about.instanceUuid``), the same under every address."""
        return self.session.instance_uuid or None

    @property
    def _lease_key(self) -> str:
        return self.vcenter_id or str(self.session.endpoint)

    @staticmethod
    def _consent(job: Job) -> dict[str, bool]:
        return {
            "allow_shutdown": job.allow_shutdown,
            "allow_hard_poweroff": job.allow_hard_poweroff,
            "leave_powered_off": job.leave_powered_off,
            "guest_login_given": job.guest_credentials is not None,
        }

    def _begin(self, job: Job, details: Mapping[str, Any]) -> str:
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
        self, job: Job, details: Mapping[str, Any], reason: Reason, message: str, next_step: str
    ) -> ApplyResult:
        self._begin(job, details)
        return self._finish(job, Outcome.REFUSED, message, next_step, reason)

    def _intent(self, job: Job, step: str, *, required: bool = True, **details: Any) -> None:
        """Journal that ``step`` is about to happen; without that record it does not happen.

        A power-on that gives the user their VM back is the exception (``required=False``): it
        goes ahead unrecorded rather than leave the VM off, and the run says so.
        """
        assert job.entry_id is not None
        self._write(job, lambda: self.journal.intent(job.entry_id or "", step, **details))
        if job.journal_error is not None and required:
            self._step(job, step, "failed", "The journal could not be written.")
            raise Stop(
                Outcome.FAILED,
                Reason.JOURNAL_FAILED,
                f"The journal could not be written ({job.journal_error}), so the wizard stopped "
                f"before this step ({step}) rather than make a change it cannot record.",
                "Free some disk space (or fix the journal folder's permissions), then check the "
                "VM again.",
            )

    def _outcome(self, job: Job, step: str, outcome: str, **details: Any) -> None:
        self._write(job, lambda: self.journal.outcome(job.entry_id or "", step, outcome, **details))

    def _task_failed(self, job: Job, step: str, exc: TaskFailed, **details: Any) -> None:
        """Journal and show that the task of ``step`` failed, with its id and vCenter's words."""
        self._outcome(job, step, "failed", task_id=exc.task_id, error=exc.message, **details)
        self._step(job, step, "failed", exc.message, exc.task_id)

    def _end(self, job: Job, outcome: str, **details: Any) -> None:
        self._write(job, lambda: self.journal.end(job.entry_id or "", outcome, **details))

    def _write(self, job: Job, write: Callable[[], None]) -> None:
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
        self, job: Job, step: str, state: str, message: str, task_id: str | None = None
    ) -> None:
        job.steps.append(StepResult(step, state, message, task_id))
        self._report(step, state, 100 if state == "done" else None, message)

    def _safe_point(self, job: Job, step: str) -> None:
        if self._is_cancelled():
            self._step(job, step, "cancelled", "Stopped before this step, as asked.")
            raise Stop(
                Outcome.CANCELLED,
                Reason.CANCELLED,
                "Stopped as asked before anything more was changed.",
                "Run the fix again when ready.",
            )

    def _read(self, job: Job, moref: str) -> VmFacts:
        try:
            facts = collect_facts(self.session, moref)
        except VmGone as exc:
            raise Stop(
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

    def _read_quietly(self, job: Job) -> VmFacts | None:
        try:
            facts = collect_facts(self.session, job.identity.moref)
        except VsphereError:
            return None
        job.power_state = facts.power_state
        return facts

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

    def _stop_for(self, exc: VsphereError, job: Job, *, changed: bool = False) -> Stop:
        nothing = "" if changed else " Nothing was changed."
        if isinstance(exc, NoPermission):
            return Stop(
                Outcome.REFUSED,
                Reason.NO_PERMISSION,
                f"{exc.message}{nothing}",
                exc.next_step,
            )
        if isinstance(exc, SessionExpired):
            return Stop(Outcome.FAILED, Reason.SESSION, exc.message + nothing, exc.next_step)
        if isinstance(exc, TRANSIENT_ERRORS):
            return Stop(Outcome.FAILED, Reason.CONNECTION, exc.message, exc.next_step)
        return Stop(Outcome.FAILED, Reason.TASK_ERROR, exc.message, exc.next_step)

    def _finish(
        self,
        job: Job,
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
        job: Job,
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


def value_now(facts: VmFacts | None, change: Change) -> str | None:
    return current_value(facts, change) if facts is not None else None
