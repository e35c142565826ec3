"""What the pages share: the worker, the gateway, and what has been learnt so far.

One :class:`WizardContext` per wizard window. Pages read and write its attributes; the window
listens to its signals for the status bar. The lab (training mode) is started and stopped here
so that closing the window always stops it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from wizard.kb.facts import VmFacts
from wizard.kb.model import Assessment, Change, Remedy
from wizard.ui.gateway import CheckResult, Gateway, find_then_check
from wizard.ui.settings import GuiSettings
from wizard.ui.worker import Cancelled, CancelToken, Job, SessionWorker
from wizard.vsphere.records import VmRef

if TYPE_CHECKING:
    from wizard.vsphere.records import VmRef
    from wizard.vsphere.results import ApplyRequest, ApplyResult, GuestCredentials, StepResult

_log = logging.getLogger(__name__)


class LabInfoLike(Protocol):
    """How to reach a running lab (``wizard.lab.process.LabInfo``)."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def user(self) -> str: ...
    @property
    def password(self) -> str: ...
    @property
    def thumbprint_sha256(self) -> str: ...
    @property
    def ca_thumbprint_sha256(self) -> str: ...


class LabHandle(Protocol):
    """A lab process (``wizard.lab.process.LabProcess``)."""

    @property
    def info(self) -> LabInfoLike: ...
    def start(self) -> object: ...
    def stop(self) -> object: ...
    def renew_certificate(self) -> LabInfoLike: ...


LabFactory = Callable[[Path], LabHandle]


def default_lab_factory(scenario: Path) -> LabHandle:
    """Start the real training lab (imported on first use)."""
    from wizard.lab.process import LabProcess

    handle: LabHandle = LabProcess(scenario)
    return handle


@dataclass(frozen=True)
class PoweredOnAgain:
    """An apply whose power-on failed, once a retried power-on brought the VM back.

    The change is in place and the VM is on; the verdict was not judged again after the retry,
    so it reads as done but not verified. Undo and the ticket note still refer to the apply's
    journal entry.

    Attributes:
        applied: the apply's own result (its reason ``power_on_failed``).
        power_on: the retried power-on's result.
    """

    applied: ApplyResult
    power_on: ApplyResult

    @property
    def ok(self) -> bool:
        return True

    @property
    def verified(self) -> bool:
        return False

    @property
    def message(self) -> str:
        entry = self.power_on.journal_id
        return (
            "The change is in place. The VM did not power on after it at first; the second "
            f"try worked{f' (journal entry {entry})' if entry else ''}."
        )

    @property
    def changes(self) -> tuple[Change, ...]:
        return self.applied.changes

    @property
    def facts_after(self) -> VmFacts | None:
        return self.power_on.facts_after or self.applied.facts_after

    @property
    def assessment_after(self) -> Assessment | None:
        return None

    @property
    def journal_id(self) -> str | None:
        return self.applied.journal_id

    @property
    def task_ids(self) -> tuple[str, ...]:
        return self.applied.task_ids + self.power_on.task_ids

    @property
    def steps(self) -> tuple[StepResult, ...]:
        """The apply's steps, then the retried power-on's (for the report)."""
        return self.applied.steps + self.power_on.steps


Result: TypeAlias = "ApplyResult | PoweredOnAgain"
"""What applying the fix gave, as the Done page, the note, the report and training read it."""


class EarlyCheck(QObject):
    """A check started before the Check page asks for it: the VM named on the command line is
    read and judged as soon as it is found, beside the VM list, so that its verdict is there
    (or on its way) when the technician presses Next.

    Attributes:
        moref: the VM checked.
        job: the check while it runs, then None.
        outcome: ``("ok", CheckResult)``, ``("error", exception)`` or ``("cancelled", None)``
            once it has ended.
    """

    def __init__(self, moref: str, job: Job, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.moref = moref
        self.job: Job | None = job
        self.outcome: tuple[str, object] | None = None
        job.succeeded.connect(self.on_job_succeeded)
        job.failed.connect(self.on_job_failed)
        job.cancelled.connect(self.on_job_cancelled)

    @Slot(object)
    def on_job_succeeded(self, result: object) -> None:
        self.job, self.outcome = None, ("ok", result)

    @Slot(object)
    def on_job_failed(self, exc: object) -> None:
        self.job, self.outcome = None, ("error", exc)

    @Slot()
    def on_job_cancelled(self) -> None:
        self.job, self.outcome = None, ("cancelled", None)

    def cancel(self) -> None:
        """Stop the check if it still runs."""
        if self.job is not None:
            self.job.cancel()


class WizardContext(QObject):
    """Shared state of one wizard window.

    Signals:
        connectionChanged(str): words for the status bar ("" when not connected).
        labChanged(str): words for the status bar about the training lab ("" when none).
        notice(str): something to tell the technician once (e.g. no usable keyring).
        trainingChanged(object): training started (a ``TrainingSession``) or ended (None).
        guestLoginForgotten(): the guest login was dropped (the VM changed, or the run ended):
            fields that show it clear themselves.

    Attributes:
        gateway: vCenter and rules, called through :attr:`worker`.
        worker: the session's worker thread.
        lab_worker: a second worker thread for what is not a vCenter call, must not queue
            behind one and must not hold one up: starting and stopping the lab, and the password
            store (the keyring's first call looks for its backends, a tenth of a second or
            more, while the technician may already have pressed Connect).
        settings: remembered choices.
        preselect_vm: the VM named on the command line, if any.
        training_scenario: the scenario given on the command line, if any.
        endpoint: ``host:port`` of the connected vCenter.
        user: the user connected as.
        lab_info: the running lab's connection details (password kept in memory only).
        vm: the chosen VM.
        check: the last check of the chosen VM.
        remedy: the chosen remedy (None: no change).
        guest_login: the guest login for the in-guest fix, in memory only; dropped when the VM
            changes and when the run ends.
        request: the fix and what the technician agreed to on the Ready page (for the Apply
            page); it carries the guest login, so it is dropped with it.
        result: what applying it gave.
        undo_result: what undoing it gave.
        training: the training run (``wizard.ui.training.session.TrainingSession``), or None.
    """

    connectionChanged = Signal(str)
    labChanged = Signal(str)
    notice = Signal(str)
    trainingChanged = Signal(object)
    guestLoginForgotten = Signal()

    def __init__(
        self,
        gateway: Gateway[Any],
        *,
        settings: GuiSettings | None = None,
        lab_factory: LabFactory = default_lab_factory,
        preselect_vm: str | None = None,
        training_scenario: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.gateway = gateway
        self.worker = SessionWorker(self)
        self.lab_worker = SessionWorker(self)
        self.settings = settings if settings is not None else GuiSettings()
        self.preselect_vm = preselect_vm
        self.training_scenario = training_scenario
        self._lab_factory = lab_factory
        self._lab: LabHandle | None = None
        self._lab_job: Job | None = None
        self.lab_info: LabInfoLike | None = None
        self.lab_title = ""
        self.endpoint = ""
        self.user = ""
        self._vm: VmRef | None = None
        self.check: CheckResult | None = None
        self.remedy: Remedy | None = None
        self.guest_login: GuestCredentials | None = None
        self.request: ApplyRequest | None = None
        self.result: Result | None = None
        self.undo_result: ApplyResult | None = None
        self.applying = False
        self.connection_serial = 0
        self.early_check: EarlyCheck | None = None
        self.training: QObject | None = None
        self.worker.sessionChanged.connect(self.on_worker_session_changed)
        app = QCoreApplication.instance()
        if app is not None:  # the lab never outlives the application, whatever the window does
            app.aboutToQuit.connect(self.shutdown)

    # ------------------------------------------------------------------ connection

    def set_connected(self, endpoint: str, user: str) -> None:
        """Record the open session (the worker holds it) and tell the status bar."""
        self.endpoint = endpoint
        self.user = user
        # Every sign-in is a new inventory (another lab may reuse the same address and morefs):
        # pages compare this number, not the address, to know that what they show is stale.
        self.connection_serial += 1
        self.drop_early_check()
        self.connectionChanged.emit(f"Connected to {endpoint} as {user}")

    @Slot(bool)
    def on_worker_session_changed(self, connected: bool) -> None:
        if not connected:
            self.connectionChanged.emit("")

    @property
    def vm(self) -> VmRef | None:
        return self._vm

    @vm.setter
    def vm(self, choice: VmRef | None) -> None:
        if choice != self._vm:
            self.forget_guest_login()  # a guest login belongs to one VM
        if self.early_check is not None and (
            choice is None or choice.moref != self.early_check.moref
        ):
            self.drop_early_check()
        self._vm = choice

    # ------------------------------------------------------------------ checking

    def submit_check(self, moref: str) -> Job:
        """Read and judge the VM ``moref`` on the worker (its result: a ``CheckResult``)."""
        check = functools.partial(self.gateway.check, evidence_days=self.settings.evidence_days)
        return self.worker.submit_session(check, moref, description="check")

    def submit_find_then_check(self, query: str) -> Job:
        """Find ``query`` on the worker and check it at once if it names one VM (the VM named
        on the command line): the job's ``progress`` brings the VMs found (a list of
        ``VmRef``), its result the check (or None), see :func:`find_then_check`."""
        call = functools.partial(
            find_then_check, self.gateway, evidence_days=self.settings.evidence_days
        )
        return self.worker.submit_session(
            call, query, description="find and check VM", with_token=True, with_report=True
        )

    def check_early(self, vm: VmRef, job: Job) -> None:
        """Keep ``job``, a check of ``vm`` already running, for the Check page to take over
        (see :class:`EarlyCheck`)."""
        self.drop_early_check()
        self.early_check = EarlyCheck(vm.moref, job, self)

    def take_early_check(self, moref: str) -> EarlyCheck | None:
        """The early check of ``moref``, handed over once (None: there is none to take)."""
        early, self.early_check = self.early_check, None
        if early is not None and early.moref != moref:
            early.cancel()
            early.deleteLater()
            return None
        return early

    def drop_early_check(self) -> None:
        """Cancel and forget the early check, if any (another VM, another connection, Back)."""
        early, self.early_check = self.early_check, None
        if early is not None:
            early.cancel()
            early.deleteLater()

    def forget_guest_login(self) -> None:
        """Drop the guest login (and the request that carries it) from memory."""
        self.guest_login = None
        self.request = None
        self.guestLoginForgotten.emit()

    @property
    def facts(self) -> VmFacts | None:
        return self.check.facts if self.check is not None else None

    # ------------------------------------------------------------------ training lab

    def start_lab(self, scenario: Path, title: str) -> Job:
        """Start the lab for ``scenario`` on the lab worker; stops a lab already running."""
        self.stop_lab()
        if self._lab_job is not None:
            self._lab_job.cancel()  # its lab is stopped as soon as it has started
        factory = self._lab_factory

        def start(*, cancel: CancelToken) -> LabHandle:
            handle = factory(scenario)
            handle.start()
            if cancel.cancelled:  # the window closed meanwhile: leave nothing running
                handle.stop()
                raise Cancelled
            return handle

        job = self.lab_worker.submit(start, description="start the training lab", with_token=True)
        job.succeeded.connect(self.on_lab_started)
        job.finished.connect(self.on_lab_job_finished)
        self._lab_job = job
        self.lab_title = title
        return job

    @Slot()
    def on_lab_job_finished(self) -> None:
        self._lab_job = None

    @Slot(object)
    def on_lab_started(self, handle: object) -> None:
        lab: LabHandle = handle  # type: ignore[assignment]
        self._lab = lab
        self.lab_info = lab.info
        self.gateway.set_training(True)
        self.labChanged.emit(f"Training lab: {self.lab_title}")

    def stop_lab(self) -> None:
        """Stop the running lab, if any (on the lab worker; closing waits for it)."""
        lab, self._lab = self._lab, None
        self.lab_info = None
        self.gateway.set_training(False)
        if lab is not None:
            self.lab_worker.submit(lab.stop, description="stop the training lab")
            self.labChanged.emit("")

    def renew_lab_certificate(self) -> Job | None:
        """Give the running lab a new certificate from the same authority, on the lab worker;
        the job's result is the lab's new details (also in :attr:`lab_info`). None: no lab."""
        lab = self._lab
        if lab is None:
            return None
        job = self.lab_worker.submit(lab.renew_certificate, description="renew the certificate")
        job.succeeded.connect(self.on_lab_certificate_renewed)
        return job

    @Slot(object)
    def on_lab_certificate_renewed(self, info: object) -> None:
        if self._lab is not None:
            self.lab_info = info  # type: ignore[assignment]

    def set_training(self, session: QObject | None) -> None:
        """Start (a session) or end (None) training; the coach and the debrief follow."""
        if session is self.training:
            return
        old, self.training = self.training, session
        if old is not None and old.parent() is self:
            old.deleteLater()
        if session is not None:
            session.setParent(self)
        self.trainingChanged.emit(session)

    def forget_run(self) -> None:
        """Forget the VM, the check and the fix (a fresh start on a new lab)."""
        self.vm = None
        self.check = None
        self.remedy = None
        self.result = None
        self.undo_result = None
        self.forget_guest_login()

    # ------------------------------------------------------------------ lifetime

    @Slot()
    def shutdown(self) -> None:
        """Log out, stop the lab, stop both threads. Called when the window closes (and when
        the application quits); safe to call twice."""
        self.forget_guest_login()
        self.worker.stop()
        if self._lab_job is not None:
            self._lab_job.cancel()  # a lab still starting is stopped once it is up
        self.stop_lab()
        self.lab_worker.stop(cancel_pending=False)  # the queued stop must run
