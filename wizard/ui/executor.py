"""The contract between the Apply page and the plan executor (written separately, without Qt).

The executor applies one :class:`~wizard.kb.model.Remedy` to one VM: re-read the VM and refuse
if it changed since the check (``changeVersion``), shut the guest down if needed, reconfigure,
power on, re-read and re-assess, write the journal. It runs on the worker thread and talks back
only through the plain callbacks below, so it needs neither Qt nor anything from ``wizard.ui``:
any object with these methods and attributes fits (structural typing).

Step states are plain strings (:class:`StepState` values) for the same reason.

What the technician agreed to beyond the change itself (a hard power-off, leaving the VM off,
the guest login for the in-guest fix) travels as a :class:`Consent`. An executor that takes it
is a :class:`ConsentingExecutor`; one that does not gets none of it, so it can only do what the
Ready page's confirmation covers (a clean shutdown through VMware Tools).

The wizard finds the executor with :func:`default_executor`: a module
``wizard.vsphere.executor`` with a function ``create_executor() -> Executor``. Without it, the
Apply page says that applying is not available in this build.
"""

from __future__ import annotations

import enum
import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from wizard.kb.facts import VmFacts
from wizard.kb.model import Assessment, Change, Remedy

_log = logging.getLogger(__name__)

EXECUTOR_MODULE = "wizard.vsphere.executor"


class StepState(enum.StrEnum):
    """Where a step is. ``cancelled`` means it was never started because the user stopped."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class PlanStep(Protocol):
    """One step of applying a remedy, as the Apply page lists it.

    Attributes:
        id: stable within a plan, e.g. ``"shutdown"``, ``"reconfigure"``, ``"power_on"``,
            ``"verify"``.
        title: a few words for the technician, e.g. "Shut down the guest".
        cancellable_before: True when stopping before this step leaves the VM in a sound state
            (the page offers Cancel only while the next step is such a safe point).
    """

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def cancellable_before(self) -> bool: ...


class ApplyResult(Protocol):
    """What the executor reports at the end of apply or undo.

    Attributes:
        ok: every step succeeded.
        verified: the VM was re-read afterwards and the change is in place.
        message: one sentence for the Done page.
        changes: what was changed, before -> after, as vCenter stores the values.
        facts_after: the VM as re-read afterwards (None if it could not be read).
        assessment_after: the re-assessment of ``facts_after`` (None if not done).
        journal_id: the journal entry that records it, for undo and the ticket note.
        task_ids: the vCenter tasks it ran (``task-123``), for the ticket note.
    """

    @property
    def ok(self) -> bool: ...
    @property
    def verified(self) -> bool: ...
    @property
    def message(self) -> str: ...
    @property
    def changes(self) -> Sequence[Change]: ...
    @property
    def facts_after(self) -> VmFacts | None: ...
    @property
    def assessment_after(self) -> Assessment | None: ...
    @property
    def journal_id(self) -> str | None: ...
    @property
    def task_ids(self) -> Sequence[str]: ...


ReportStep = Callable[[str, str, "int | None", str], None]
"""``report(step_id, state, percent, message)``: state is a :class:`StepState` value; percent is
0..100 or None when unknown (a busy bar); message is a short line for the step list."""

LogLine = Callable[[str], None]
"""``log(line)``: one line for the live log (no passwords, no secrets)."""

IsCancelled = Callable[[], bool]
"""``is_cancelled()``: True once the user asked to stop; check it before each safe step."""


class Executor(Protocol):
    """Applies and undoes remedies. Every method but :meth:`steps` runs on the worker thread.

    ``session`` is the worker's session object (``wizard.vsphere.session.Session``).
    """

    def steps(self, remedy: Remedy, facts: VmFacts) -> Sequence[PlanStep]:
        """The steps :meth:`apply` will run for this remedy and VM, in order. Pure, no I/O."""
        ...

    def apply(
        self,
        session: Any,
        remedy: Remedy,
        facts: VmFacts,
        *,
        report: ReportStep,
        log: LogLine,
        is_cancelled: IsCancelled,
    ) -> ApplyResult:
        """Apply ``remedy`` to the VM checked as ``facts``.

        Stops at the next safe point once ``is_cancelled()`` is True: marks the remaining steps
        ``cancelled`` and returns a result with ``ok`` False. Raises only for a failure that
        left nothing to report (the page shows the exception's text).
        """
        ...

    def undo_steps(self, result: ApplyResult) -> Sequence[PlanStep]:
        """The steps :meth:`undo` will run. Pure, no I/O."""
        ...

    def undo(
        self,
        session: Any,
        result: ApplyResult,
        *,
        report: ReportStep,
        log: LogLine,
        is_cancelled: IsCancelled,
    ) -> ApplyResult:
        """Put back the values the journal entry of ``result`` recorded as "before"."""
        ...


@dataclass(frozen=True)
class GuestLogin:
    """A guest user and password for the in-guest resolution fix.

    Kept in memory only for the run of one VM: never written to settings, logs, the journal or a
    report, and hidden from ``repr`` so a logged object cannot leak it.
    """

    user: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"GuestLogin(user={self.user!r}, password='***')"


@dataclass(frozen=True)
class Consent:
    """What the technician agreed to for one apply or undo, beyond the change itself.

    Attributes:
        shutdown: shut the guest down cleanly through VMware Tools when the change needs the VM
            off (the Ready page's confirmation, or the answer to the undo question).
        hard_poweroff: power the VM off without a clean shutdown (Tools not running, or the VM
            suspended); unsaved work in the guest is lost. Its own, explicit tick.
        leave_powered_off: do not power the VM on again afterwards.
        guest_login: the guest login for the in-guest resolution fix.
        shutdown_timeout_s: how long to wait for the clean shutdown (the Settings dialog's
            value when the action started).
    """

    shutdown: bool = False
    hard_poweroff: bool = False
    leave_powered_off: bool = False
    guest_login: GuestLogin | None = None
    shutdown_timeout_s: float = 300.0


class Reconciled(Protocol):
    """A change left unfinished by an earlier run, judged against the VM now
    (``wizard.vsphere.executor.Reconciliation``).

    Attributes:
        entry_id: the journal entry that never ended.
        state: ``applied``, ``not_applied``, ``partial``, ``changed_since``, ``vm_gone`` or
            ``other_vm``.
        power_state: the VM's power state now (None when it is gone).
        message: what it means, in a sentence.
    """

    @property
    def entry_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def power_state(self) -> str | None: ...
    @property
    def message(self) -> str: ...


POWER_ON_FAILED = "power_on_failed"
"""The ``reason`` of a result whose change is in place while the VM could not be powered on."""


def power_on_failed(result: ApplyResult) -> bool:
    """Whether the change is in place but the VM could not be powered on again afterwards."""
    return str(getattr(result, "reason", None) or "") == POWER_ON_FAILED


@runtime_checkable
class ConsentingExecutor(Executor, Protocol):
    """An executor that takes the technician's :class:`Consent` and can clean up after itself.

    Without a consent, :meth:`apply` and :meth:`undo` shut the guest down cleanly when needed
    and do nothing more (no hard power-off, no guest login). The pages always pass one: the Ready
    page's, or the answer to the undo question.
    """

    def steps(
        self, remedy: Remedy, facts: VmFacts, consent: Consent | None = None
    ) -> Sequence[PlanStep]:
        """The steps :meth:`apply` will run with this consent. Pure, no I/O."""
        ...

    def apply(
        self,
        session: Any,
        remedy: Remedy,
        facts: VmFacts,
        *,
        report: ReportStep,
        log: LogLine,
        is_cancelled: IsCancelled,
        consent: Consent | None = None,
    ) -> ApplyResult:
        """Apply ``remedy`` with what ``consent`` allows (see :meth:`Executor.apply`)."""
        ...

    def undo_steps(self, result: ApplyResult, consent: Consent | None = None) -> Sequence[PlanStep]:
        """The steps :meth:`undo` will run with this consent. Pure, no I/O."""
        ...

    def undo(
        self,
        session: Any,
        result: ApplyResult,
        *,
        report: ReportStep,
        log: LogLine,
        is_cancelled: IsCancelled,
        consent: Consent | None = None,
    ) -> ApplyResult:
        """Undo ``result`` with what ``consent`` allows (see :meth:`Executor.undo`)."""
        ...

    def retry_power_on(
        self,
        session: Any,
        entry_id: str,
        *,
        report: ReportStep,
        log: LogLine,
        is_cancelled: IsCancelled,
    ) -> ApplyResult:
        """Power the VM of journal entry ``entry_id`` on again after a failed power-on."""
        ...

    def reconcile_dangling(self, session: Any) -> Sequence[Reconciled]:
        """Judge every change an earlier run left unfinished on this vCenter against the VMs'
        real values, and close those journal entries."""
        ...


def consenting(executor: Executor | None) -> ConsentingExecutor | None:
    """``executor`` when it takes a :class:`Consent`, else None."""
    return executor if isinstance(executor, ConsentingExecutor) else None


def default_executor() -> Executor | None:
    """The product's executor, or None when this build has none."""
    try:
        module = importlib.import_module(EXECUTOR_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name and EXECUTOR_MODULE.startswith(exc.name):
            _log.info("no executor in this build (%s missing)", exc.name)
            return None
        raise
    factory = getattr(module, "create_executor", None)
    if factory is None:
        _log.warning("%s has no create_executor()", EXECUTOR_MODULE)
        return None
    executor: Executor = factory()
    return executor
