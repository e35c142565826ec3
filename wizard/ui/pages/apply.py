"""Apply: the executor's steps with their state and progress, a live log, stop at safe points."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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

from wizard.kb.facts import VmFacts
from wizard.kb.model import Assessment, Change
from wizard.ui.context import WizardContext
from wizard.ui.executor import (
    ApplyResult,
    ConsentingExecutor,
    Executor,
    PlanStep,
    StepState,
    consenting,
    power_on_failed,
)
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
    **options: Any,
) -> ApplyResult:
    """Call the executor on the worker thread, turning its callbacks into progress payloads.

    ``options`` go to ``action`` as they are (e.g. ``consent`` for a consenting executor).
    """

    def step(step_id: str, state: str, percent: int | None, message: str) -> None:
        report(("step", step_id, state, percent, message))

    def log(line: str) -> None:
        report(("log", line))

    return action(
        session, *args, report=step, log=log, is_cancelled=lambda: cancel.cancelled, **options
    )


@dataclass(frozen=True)
class PoweredOnAgain:
    """An apply whose power-on failed, once a retried power-on brought the VM back.

    The change is in place and the VM is on; the verdict was not judged again after the retry,
    so it reads as done but not verified. Undo and the ticket note still refer to the apply's
    journal entry.

    Attributes:
        applied: the apply's own result (``power_on_failed``).
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
    def changes(self) -> Sequence[Change]:
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
    def task_ids(self) -> Sequence[str]:
        return tuple(self.applied.task_ids) + tuple(self.power_on.task_ids)

    @property
    def steps(self) -> Sequence[object]:
        """The apply's steps, then the retried power-on's (for the report)."""
        return tuple(getattr(self.applied, "steps", ())) + tuple(
            getattr(self.power_on, "steps", ())
        )


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
        retry_button: tries the power-on again when the change is in place but the VM is off.
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
        remedy, check = self.ctx.remedy, self.ctx.check
        assert remedy is not None
        assert check is not None
        self.ctx.result = None
        self._finished = False
        self.retry_button.hide()
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
        full = consenting(executor)
        self.runner.set_steps(
            full.steps(remedy, check.facts, self.ctx.consent)
            if full is not None
            else executor.steps(remedy, check.facts)
        )
        self.runner.add_log(f"Applying “{remedy.title}” to {check.facts.name}.")
        self._start(executor)

    def _start(self, executor: Executor) -> None:
        remedy, check = self.ctx.remedy, self.ctx.check
        assert remedy is not None
        assert check is not None
        self.ctx.applying = True
        self._set_cancel_enabled(False)
        # Only an executor that takes the consent gets it; any other does a clean shutdown at most.
        options: dict[str, Any] = (
            {"consent": self.ctx.consent} if consenting(executor) is not None else {}
        )
        job = self.ctx.worker.submit_session(
            functools.partial(run_steps, **options),
            executor.apply,
            remedy,
            check.facts,
            description="apply",
            with_token=True,
            with_report=True,
        )
        self._follow(job, self.on_apply_succeeded, self.on_apply_failed)
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
        if power_on_failed(res):
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
        msg = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        nxt = getattr(exc, "next_step", "") or (
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
        full = consenting(self.ctx.executor)
        self.retry_button.setVisible(full is not None and res.journal_id is not None)
        self.retry_button.setEnabled(True)

    @Slot()
    def on_retry_button_clicked(self) -> None:
        full, res = consenting(self.ctx.executor), self.ctx.result
        if full is None or res is None or res.journal_id is None or self._job is not None:
            return
        self._start_retry(full, res)

    def _start_retry(self, executor: ConsentingExecutor, applied: ApplyResult) -> None:
        assert applied.journal_id is not None
        self.ctx.applying = True
        self._finished = False
        self._set_cancel_enabled(False)
        self.retry_button.setEnabled(False)
        self.runner.add_log("Trying the power-on again.")
        job = self.ctx.worker.submit_session(
            run_steps,
            executor.retry_power_on,
            applied.journal_id,
            description="retry the power-on",
            with_token=True,
            with_report=True,
        )
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
        retried: ApplyResult = result  # type: ignore[assignment]
        applied = self.ctx.result
        self.runner.add_log(retried.message)
        if not retried.ok or applied is None:
            self._show_power_on_failed_again(retried.message)
            return
        again = PoweredOnAgain(applied, retried)
        self.ctx.result = again
        self.retry_button.hide()
        self.banner.show_message(Tone.GOOD, "The VM is on again", again.message)

    @Slot(object)
    def on_retry_failed(self, exc: object) -> None:
        _log.warning("power-on retry failed: %r", exc)
        msg = getattr(exc, "message", None) or str(exc) or type(exc).__name__
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
