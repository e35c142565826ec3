"""The contract between the Apply page and the plan executor (written separately, without Qt).

The executor applies one :class:`~wizard.kb.model.Remedy` to one VM: re-read the VM and refuse
if it changed since the check (``changeVersion``), shut the guest down if needed, reconfigure,
power on, re-read and re-assess, write the journal. It runs on the worker thread and talks back
only through the plain callbacks below, so it needs neither Qt nor anything from ``wizard.ui``:
any object with these methods and attributes fits (structural typing).

Step states are plain strings (:class:`StepState` values) for the same reason.

The wizard finds the executor with :func:`default_executor`: a module
``wizard.vsphere.executor`` with a function ``create_executor() -> Executor``. Without it, the
Apply page says that applying is not available in this build.
"""

from __future__ import annotations

import enum
import importlib
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

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
