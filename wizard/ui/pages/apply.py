"""Apply: the executor's steps with their state and progress, a live log, stop at safe points."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wizard.ui.context import WizardContext
from wizard.ui.executor import ApplyResult, Executor, PlanStep, StepState
from wizard.ui.look import Tone, monospace, scaled_font
from wizard.ui.pages.base import BasePage, PageId
from wizard.ui.widgets import Banner, IconLabel, heading, wrapped
from wizard.ui.worker import CancelToken, Job

_log = logging.getLogger(__name__)

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

    def __init__(self, step: PlanStep, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.step = step
        self.state = StepState.PENDING
        self._icon = IconLabel("step-pending", 18, self)
        self._title = QLabel(step.title, self)
        self._title.setFont(scaled_font(self._title, 1.0, bold=True))
        self._state = QLabel(self)
        self._state.setStyleSheet("color: #4f5b67;")
        self._message = wrapped(parent=self)
        self._message.setStyleSheet("color: #4f5b67;")
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


def run_steps(
    session: Any,
    action: Callable[..., ApplyResult],
    *args: Any,
    cancel: CancelToken,
    report: Callable[[object], None],
) -> ApplyResult:
    """Call the executor on the worker thread, turning its callbacks into progress payloads."""

    def step(step_id: str, state: str, percent: int | None, message: str) -> None:
        report(("step", step_id, state, percent, message))

    def log(line: str) -> None:
        report(("log", line))

    return action(session, *args, report=step, log=log, is_cancelled=lambda: cancel.cancelled)


class StepRunner(QWidget):
    """Step list, live log and a stop button for one executor run (apply or undo).

    Used by the Apply page, and by the Done page for undo.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: dict[str, StepRow] = {}
        self._steps_box = QFrame(self)
        self._steps_box.setObjectName("steps")
        self._steps_box.setStyleSheet(
            "QFrame#steps { background: palette(base); border: 1px solid palette(mid);"
            " border-radius: 5px; }"
        )
        self._sl = QVBoxLayout(self._steps_box)
        self._sl.setContentsMargins(12, 10, 12, 10)
        self._sl.setSpacing(6)
        self.stop_button = QPushButton("&Stop at the next safe point", self)
        self.stop_button.setAccessibleName("Stop at the next safe point")
        self.stop_button.setAutoDefault(False)
        self.stop_button.setEnabled(False)
        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setFont(monospace())
        self.log.setAccessibleName("Live log")
        self.log.setMaximumBlockCount(2000)
        self.log.setMinimumHeight(self.log.fontMetrics().lineSpacing() * 6)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(8)
        col.addWidget(self._steps_box)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        col.addLayout(buttons)
        col.addWidget(heading("Log", self))
        col.addWidget(self.log, 1)

    def set_steps(self, steps: Sequence[PlanStep]) -> None:
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
        """Take one progress payload from :func:`run_steps`."""
        if not isinstance(payload, tuple) or not payload:
            return
        if payload[0] == "log":
            self.add_log(str(payload[1]))
        elif payload[0] == "step":
            _, step_id, state, percent, message = payload
            row = self._rows.get(step_id)
            try:
                st = StepState(state)
            except ValueError:
                st = StepState.RUNNING
            if row is not None:
                row.set_state(st, percent, message)
            self._update_stop()

    def add_log(self, line: str) -> None:
        self.log.appendPlainText(f"{datetime.now():%H:%M:%S}  {line}")

    def _update_stop(self) -> None:
        """Stopping is offered only while the next step not yet started is a safe point."""
        nxt = next((r for r in self._rows.values() if r.state == StepState.PENDING), None)
        self.stop_button.setEnabled(nxt is not None and nxt.step.cancellable_before)

    def begin(self) -> None:
        self._update_stop()

    def end(self) -> None:
        self.stop_button.setEnabled(False)


class ApplyPage(BasePage):
    """Run the chosen remedy through the executor, showing every step.

    Attributes:
        banner: the outcome, or that applying is not available in this build.
        runner: steps, stop button and log.
    """

    help_topic = "apply"

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setTitle("Applying the fix")
        self.setSubTitle("Do not close the wizard until the steps are done.")
        layout = self.plain_body()
        self.banner = Banner(self, icon_size=28)
        self.banner.hide()
        layout.addWidget(self.banner)
        self.runner = StepRunner(self)
        self.runner.stop_button.clicked.connect(self.on_stop_button_clicked)
        layout.addWidget(self.runner, 1)
        layout.addStretch(0)
        self._job: Job | None = None
        self._finished = False

    def initializePage(self) -> None:
        remedy, check = self.ctx.remedy, self.ctx.check
        assert remedy is not None
        assert check is not None
        self.ctx.result = None
        self._finished = False
        executor = self.ctx.executor
        if executor is None:
            self.runner.hide()
            self.banner.show_message(
                Tone.INFO,
                "Apply is not available in this build",
                "Nothing was changed. You can make the change by hand with the PowerCLI or "
                "govc commands from the previous page, then run the wizard again to check.",
            )
            self._finished = True
            self.completeChanged.emit()
            return
        self.banner.hide()
        self.runner.show()
        self.runner.set_steps(executor.steps(remedy, check.facts))
        self.runner.add_log(f"Applying “{remedy.title}” to {check.facts.name}.")
        self._start(executor)

    def _start(self, executor: Executor) -> None:
        remedy, check = self.ctx.remedy, self.ctx.check
        assert remedy is not None
        assert check is not None
        self.ctx.applying = True
        self._set_cancel_enabled(False)
        job = self.ctx.worker.submit_session(
            run_steps,
            executor.apply,
            remedy,
            check.facts,
            description="apply",
            with_token=True,
            with_report=True,
        )
        job.progress.connect(self.runner.on_progress)
        job.succeeded.connect(self.on_apply_succeeded)
        job.failed.connect(self.on_apply_failed)
        job.finished.connect(self.on_apply_finished)
        self._job = job
        self.runner.begin()
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self._finished

    def nextId(self) -> int:
        return int(PageId.DONE)

    @Slot()
    def on_stop_button_clicked(self) -> None:
        if self._job is not None:
            # Only the flag: the executor stops at its next safe point and still reports.
            self._job.token.cancel()
            self.runner.stop_button.setEnabled(False)
            self.runner.add_log("Stop requested: stopping at the next safe point.")

    @Slot(object)
    def on_apply_succeeded(self, result: object) -> None:
        res: ApplyResult = result  # type: ignore[assignment]
        self.ctx.result = res
        if res.ok and res.verified:
            self.banner.show_message(Tone.GOOD, "Done and verified", res.message)
        elif res.ok:
            self.banner.show_message(Tone.WARN, "Done, but not verified", res.message)
        else:
            self.banner.show_message(Tone.WARN, "Stopped before the end", res.message)
        self.runner.add_log(res.message)

    @Slot(object)
    def on_apply_failed(self, exc: object) -> None:
        _log.warning("apply failed: %r", exc)
        msg = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        nxt = getattr(exc, "next_step", "") or (
            "Check the VM in the vSphere Client; the log below says how far the wizard got."
        )
        self.banner.show_message(Tone.BAD, "The fix was not applied", msg, nxt)
        self.runner.add_log(f"Failed: {msg}")

    @Slot()
    def on_apply_finished(self) -> None:
        self._job = None
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
