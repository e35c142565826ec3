"""What an apply, undo or power-on was asked to do and what it did: the executor's results.

Plain frozen data and stable ids (the command line's ``--json`` contract and the journal's end
record share :func:`result_to_json`). This module loads no pyVmomi, so the wizard's pages can
import it at any time; :mod:`wizard.vsphere.executor` does the work and returns these.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from wizard.kb.facts import VmFacts
from wizard.kb.model import Assessment, Change, Remedy
from wizard.kb.plan import ChangeCheck, Difference, change_to_json


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
    VM_BUSY = "vm_busy"
    JOURNAL_FAILED = "journal_failed"


@dataclass(frozen=True)
class GuestCredentials:
    """A guest login for the resolution tool: asked for each time, never stored or journaled."""

    user: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"GuestCredentials(user={self.user!r}, password='***')"


@dataclass(frozen=True, kw_only=True)
class Consent:
    """What the technician agreed the wizard may do to the VM for a change or its undo.

    Attributes:
        allow_shutdown: consent to shut the guest down through Tools when the change needs it.
        allow_hard_poweroff: consent to a hard power-off (Tools not running, or suspended VM).
        leave_powered_off: do not power the VM on again after the change.
        guest_credentials: the guest login, for a change in the guest (the ``guest`` variant of
            lower_resolution).
        shutdown_timeout: seconds to wait for the guest to shut down.
    """

    allow_shutdown: bool = False
    allow_hard_poweroff: bool = False
    leave_powered_off: bool = False
    guest_credentials: GuestCredentials | None = None
    shutdown_timeout: float = 300.0


@dataclass(frozen=True)
class ApplyRequest(Consent):
    """What the technician chose, and consented to (:class:`Consent`, by keyword).

    Attributes:
        facts_at_check: the VM as checked; the plan relies on these values.
        remedy: the remedy to apply (from ``wizard.kb.remedies`` for ``facts_at_check``).
    """

    facts_at_check: VmFacts
    remedy: Remedy


@dataclass(frozen=True)
class UndoRequest(Consent):
    """Which change to take back, and what the technician consented to (:class:`Consent`).

    Attributes:
        entry_id: the journal entry of the change.
        facts: the VM as last read (after the change), or None when not read.
    """

    entry_id: str
    facts: VmFacts | None


@dataclass(frozen=True)
class StepUpdate:
    """Progress of one step, for the step list.

    Attributes:
        step: a :class:`~wizard.kb.plan.StepId` value.
        state: ``running``, ``done``, ``failed``, ``skipped`` or ``cancelled``
            (the Apply page shows them as they come).
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
        """The journal entry this run wrote (None when it could not begin one)."""
        return self.entry_id


@dataclass(frozen=True)
class Reconciliation:
    """What a dangling journal entry turned out to have done, judged from the VM's real values.

    Attributes:
        entry_id: the dangling entry.
        state: ``applied``, ``not_applied``, ``partial``, ``changed_since``, ``vm_gone``,
            ``other_vm`` (the moref now names another VM) or ``in_progress`` (the change's
            vCenter task is still running: the entry stays open).
        power_state: the VM's power state now (None when gone).
        message: what it means, for the technician.
    """

    entry_id: str
    state: str
    power_state: str | None
    message: str


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
