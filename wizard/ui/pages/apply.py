"""Apply: the executor's steps with their state and progress, a live log, stop at safe points."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wizard.kb.plan import PlannedStep
from wizard.ui.pages.base import PAGE_TEXTS, BasePage, PageId
from wizard.ui.theme import MUTED, Tone, monospace, scaled_font, tint
from wizard.ui.widgets import Banner, IconLabel, Look, Panel, heading, wrapped
from wizard.ui.wizard_state import PoweredOnAgain, WizardContext
from wizard.ui.worker import Job
from wizard.vsphere.errors import VsphereError

if TYPE_CHECKING:
    from wizard.vsphere.results import ApplyResult, StepUpdate

_log = logging.getLogger(__name__)


class StepState(enum.StrEnum):
    """Where a step is in the list: the executor's step states, and ``pending`` before any.

    ``cancelled`` means it was never started because the technician stopped.
    """

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


STATE_LOOK: dict[StepState, tuple[str, str]] = {
    StepState.PENDING: ("step-pending", "Waiting"),
    StepState.RUNNING: ("step-running", "Running"),
    StepState.DONE: (Tone.GOOD.icon_name, "Done"),
    StepState.FAILED: (Tone.BAD.icon_name, "Failed"),
    StepState.SKIPPED: (Tone.UNKNOWN.icon_name, "Skipped"),
    StepState.CANCELLED: (Tone.UNKNOWN.icon_name, "Not started"),
}


class StepRow(QWidget):
    """One step: icon, title, state word, message, progress bar."""

    def __init__(self, step: PlannedStep, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.step = step
        self.state = StepState.PENDING
        self._icon = IconLabel("step-pending", 18, self)
        self._title = QLabel(step.title, self)
        self._title.setFont(scaled_font(self._title, 1.0, bold=True))
        self._state = QLabel(self)
        tint(self._state, MUTED)
        self._message = wrapped(parent=self)
        tint(self._message, MUTED)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 100)
        self.bar.setMaximumHeight(12)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName(f"Progress of {step.title}")
        self.bar.hide()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 2, 0, 2)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        grid.addWidget(self._icon, 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self._title, 0, 1)
        grid.addWidget(self._state, 0, 2, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self._message, 1, 1, 1, 2)
        grid.addWidget(self.bar, 2, 1, 1, 2)
        grid.setColumnStretch(1, 1)
        self.set_state(StepState.PENDING, None, "")

    def set_state(self, state: StepState, percent: int | None, message: str) -> None:
        self.state = state
        name, word = STATE_LOOK[state]
        self._icon.set_icon(name)
        self._state.setText(word)
        if message:
            self._message.setText(message)
        self._message.setVisible(bool(self._message.text()))
        if state == StepState.RUNNING:
            if percent is None:
                self.bar.setRange(0, 0)
            else:
                self.bar.setRange(0, 100)
                self.bar.setValue(max(0, min(100, percent)))
            self.bar.show()
        else:
            self.bar.hide()
        self.setAccessibleName(f"{self.step.title}: {word}")


class StepRunner(QWidget):
    """Step list, live log and a stop button for one executor run (apply or undo).

    Used by the Apply page, and by the Done page for undo.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: dict[str, StepRow] = {}
        self._steps_box = Panel(self, Look(fill=QPalette.ColorRole.Base, radius=5))
        self._steps_box.setObjectName("steps")
        self._sl = QVBoxLayout(self._steps_box)
        self._sl.setContentsMargins(12, 10, 12, 10)
        self._sl.setSpacing(6)
        self.stop_button = QPushButton("&Stop at the next safe point", self)
        self.stop_button.setAccessibleName("Stop at the next safe point")
        self.stop_button.setAutoDefault(False)
        self.stop_button.setEnabled(False)
        self.stop_note = wrapped(parent=self)
        tint(self.stop_note, Tone.WARN.fg, bold=True)
        self.stop_note.setAccessibleName("What stopping does now")
        self.stop_note.hide()
        self._running = False
        self._stop_asked = False
        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setFont(monospace())
        self.log.setAccessibleName("Live log")
        self.log.setMaximumBlockCount(2000)
        self.log.setMinimumHeight(self.log.fontMetrics().lineSpacing() * 6)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(8)
        # The Stop button sits above the steps, so it stays put while their rows grow.
        top = QHBoxLayout()
        top.addWidget(heading("Steps", self))
        top.addStretch(1)
        top.addWidget(self.stop_button)
        col.addLayout(top)
        col.addWidget(self.stop_note)
        col.addWidget(self._steps_box)
        col.addWidget(heading("Log", self))
        col.addWidget(self.log, 1)

    def set_steps(self, steps: Sequence[PlannedStep]) -> None:
        for row in self._rows.values():
            row.deleteLater()
        self._rows = {}
        self._steps = list(steps)
        for s in steps:
            row = StepRow(s, self._steps_box)
            self._rows[s.id] = row
            self._sl.addWidget(row)
        self.log.clear()

    def row(self, step_id: str) -> StepRow | None:
        return self._rows.get(step_id)

    def on_progress(self, payload: object) -> None:
        """Take one step's progress (a ``StepUpdate``, the job's progress payload)."""
        update = cast("StepUpdate", payload)
        row = self._rows.get(update.step)
        try:
            state = StepState(update.state)
        except ValueError:
            state = StepState.RUNNING
        if row is not None:
            row.set_state(state, update.progress, update.message)
        if state != StepState.RUNNING:
            # The step's title for people ("Shut down the guest"), not its id ("shutdown").
            title = row.step.title if row is not None else update.step
            self.add_log(f"{title}: {update.message}")
        self._update_stop()

    def add_log(self, line: str) -> None:
        self.log.appendPlainText(f"{datetime.now():%H:%M:%S}  {line}")

    def _update_stop(self) -> None:
        """Stop can be pressed for the whole run (once); what it does is said when pressed."""
        self.stop_button.setEnabled(self._running and not self._stop_asked)

    def begin(self) -> None:
        self._running = True
        self._stop_asked = False
        self.stop_note.hide()
        self._update_stop()

    def end(self) -> None:
        self._running = False
        self.stop_button.setEnabled(False)

    def request_stop(self) -> str:
        """Note that stopping was asked for, and say (on the page and in the log) what follows.

        The executor stops only at safe points, before the shutdown and before the change; the
        words depend on where the run is when the button is pressed.
        """
        self._stop_asked = True
        self._update_stop()
        states = {step_id: row.state for step_id, row in self._rows.items()}
        sent = any(
            states.get(s) in (StepState.RUNNING, StepState.DONE)
            for s in ("reconfigure", "guest_resolution")
        )
        going_down = any(states.get(s) == StepState.RUNNING for s in ("shutdown", "power_off"))
        if sent:
            text = (
                "Too late to stop: the change has been sent to vCenter. The wizard finishes it "
                "(power-on and verification), then stops."
            )
        elif going_down:
            text = (
                "Stopping after the shutdown: the guest is already going down. Once it is off, "
                "it is powered on again and nothing is changed."
            )
        else:
            text = "Stopping before the next step: nothing more will be changed."
        self.stop_note.setText(text)
        self.stop_note.show()
        self.add_log(f"Stop pressed. {text}")
        return text


RUNNING_SUBTITLE = PAGE_TEXTS[PageId.APPLY].subtitle
ENDED_SUBTITLE = "The run has ended: what happened is below. Next shows the ticket note."


class ApplyPage(BasePage):
    """Run the chosen remedy through the executor, showing every step.

    Attributes:
        banner: the outcome.
        retry_button: tries the power-on again when the change is in place but the VM is off.
        runner: steps, stop button and log.

    Signals:
        runEnded: an apply (or power-on retry) ended, whatever its outcome.
    """

    page_id = PageId.APPLY
    runEnded = Signal()

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        layout = self.plain_body()
        self.banner = Banner(self, icon_size=28)
        self.banner.hide()
        layout.addWidget(self.banner)
        self.retry_button = QPushButton("&Try power-on again", self)
        self.retry_button.setAccessibleName("Try power-on again")
        self.retry_button.setAutoDefault(False)
        self.retry_button.clicked.connect(self.on_retry_button_clicked)
        self.retry_button.hide()
        retry_row = QHBoxLayout()
        retry_row.addWidget(self.retry_button)
        retry_row.addStretch(1)
        layout.addLayout(retry_row)
        self.runner = StepRunner(self)
        self.runner.stop_button.clicked.connect(self.on_stop_button_clicked)
        layout.addWidget(self.runner, 1)
        layout.addStretch(0)
        self._job: Job | None = None
        self._finished = False

    def initializePage(self) -> None:
        request = self.ctx.request
        assert request is not None
        self.ctx.result = None
        self._finished = False
        self.setSubTitle(RUNNING_SUBTITLE)
        self.retry_button.hide()
        self.banner.hide()
        self.runner.set_steps(self.ctx.gateway.steps(request))
        self.runner.add_log(f"Applying “{request.remedy.title}” to {request.facts_at_check.name}.")
        self.ctx.applying = True
        self._set_cancel_enabled(False)
        job = self.submit_change(self.ctx.gateway.apply, request, "apply")
        self._follow(job, self.on_apply_succeeded, self.on_apply_failed)
        self.runner.begin()
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self._finished

    def nextId(self) -> int:
        return int(PageId.DONE)

    @Slot()
    def on_stop_button_clicked(self) -> None:
        self.request_stop()

    def request_stop(self) -> str | None:
        """Ask the run to stop at its next safe point; returns what that means now."""
        if self._job is None:
            return None
        # Only the flag: the executor stops at its next safe point and still reports.
        self._job.token.cancel()
        return self.runner.request_stop()

    @Slot(object)
    def on_apply_succeeded(self, result: object) -> None:
        from wizard.vsphere.executor import Reason  # loaded: the result comes from it

        res = cast("ApplyResult", result)
        self.ctx.result = res
        if res.reason is Reason.POWER_ON_FAILED:
            self._show_power_on_failed(res)
        elif res.ok and res.verified:
            self.banner.show_message(Tone.GOOD, "Done and verified", res.message)
        elif res.ok:
            self.banner.show_message(Tone.WARN, "Done, but not verified", res.message)
        else:
            self.banner.show_message(Tone.WARN, "Stopped before the end", res.message)
        self.runner.add_log(res.message)

    @Slot(object)
    def on_apply_failed(self, exc: object) -> None:
        _log.warning("apply failed: %r", exc)
        msg, nxt = str(exc) or type(exc).__name__, ""
        if isinstance(exc, VsphereError):
            msg, nxt = exc.message, exc.next_step
        nxt = nxt or (
            "Check the VM in the vSphere Client; the log below says how far the wizard got."
        )
        self.banner.show_message(Tone.BAD, "The fix was not applied", msg, nxt)
        self.runner.add_log(f"Failed: {msg}")

    # ---------------------------------------------------------------- power-on retry

    def _show_power_on_failed(self, res: ApplyResult) -> None:
        facts = res.facts_after
        state = facts.power_state if facts is not None else "in an unknown power state"
        self.banner.show_message(
            Tone.WARN,
            "The change is in place, but the VM is off",
            res.message,
            f"The VM is {state}. Try the power-on again here, or power it on from the vSphere "
            "Client; tell the user before you close the ticket.",
        )
        self.retry_button.setVisible(res.journal_id is not None)
        self.retry_button.setEnabled(True)

    @Slot()
    def on_retry_button_clicked(self) -> None:
        res = self.ctx.result
        if res is None or res.journal_id is None or self._job is not None:
            return
        self._start_retry(res.journal_id)

    def _start_retry(self, entry_id: str) -> None:
        self.ctx.applying = True
        self._finished = False
        self.setSubTitle(RUNNING_SUBTITLE)
        self._set_cancel_enabled(False)
        self.retry_button.setEnabled(False)
        self.runner.add_log("Trying the power-on again.")
        job = self.submit_change(self.ctx.gateway.retry_power_on, entry_id, "retry the power-on")
        self._follow(job, self.on_retry_succeeded, self.on_retry_failed)
        self.completeChanged.emit()

    def _follow(
        self, job: Job, on_succeeded: Callable[[object], None], on_failed: Callable[[object], None]
    ) -> None:
        """Show ``job``'s steps in the runner, and end the page's run when it finishes."""
        job.progress.connect(self.runner.on_progress)
        job.succeeded.connect(on_succeeded)
        job.failed.connect(on_failed)
        job.finished.connect(self.on_apply_finished)
        self._job = job

    @Slot(object)
    def on_retry_succeeded(self, result: object) -> None:
        from wizard.vsphere.executor import ApplyResult  # loaded: the result comes from it

        retried = cast("ApplyResult", result)
        applied = self.ctx.result
        self.runner.add_log(retried.message)
        if not retried.ok or not isinstance(applied, ApplyResult):
            self._show_power_on_failed_again(retried.message)
            return
        again = PoweredOnAgain(applied, retried)
        self.ctx.result = again
        self.retry_button.hide()
        self.banner.show_message(Tone.GOOD, "The VM is on again", again.message)

    @Slot(object)
    def on_retry_failed(self, exc: object) -> None:
        _log.warning("power-on retry failed: %r", exc)
        msg = exc.message if isinstance(exc, VsphereError) else str(exc) or type(exc).__name__
        self.runner.add_log(f"Power-on failed again: {msg}")
        self._show_power_on_failed_again(msg)

    def _show_power_on_failed_again(self, message: str) -> None:
        self.banner.show_message(
            Tone.WARN,
            "The change is in place, but the VM is still off",
            f"The power-on failed again: {message}",
            "Power it on from the vSphere Client, or try again here.",
        )
        self.retry_button.setEnabled(True)

    @Slot()
    def on_apply_finished(self) -> None:
        self._job = None
        self.setSubTitle(ENDED_SUBTITLE)
        self.runEnded.emit()
        self._finished = True
        self.ctx.applying = False
        self.runner.end()
        self._set_cancel_enabled(True)
        self.completeChanged.emit()
        wiz = self.wizard()
        if wiz is not None and self.isVisible():
            button = wiz.button(wiz.WizardButton.NextButton)
            if button is not None:
                button.setFocus()

    def _set_cancel_enabled(self, enabled: bool) -> None:
        wiz = self.wizard()
        if wiz is not None:
            button = wiz.button(wiz.WizardButton.CancelButton)
            if button is not None:
                button.setEnabled(enabled)
