"""Exam mode: the ordinary training wizard, locked down, through a fixed sequence of cases.

``checkpoint-wizard training exam`` opens the main window with an :class:`ExamController`. The
trainee types their name, then works each case in the order the trainer gave, on the same pages
as in training (:mod:`wizard.ui.training.controller` runs them), with these differences:

- no coach's notes, no hints, no help (the Help button, F1 and the training help are off) and
  no "Just show me": the panel keeps only the verdict question;
- no scenario to pick and nothing to fix outside the exam: the Welcome page shows the case;
- a timer in the status bar: the case, this case's time and the exam's;
- the Debrief page records the case instead of showing its points, writes the result file
  again (signed with the trainer's key, :mod:`wizard.lab.exam`) and goes on to the next case;
  after the last one it says where the file is and closes;
- a case whose lab does not start (or whose scenario file can no longer be read) says what went
  wrong on the Welcome page and offers "Try this case again" and "Skip this case"; a skipped
  case is recorded as not taken (it counts 0) and the exam goes on with the next one.

The file is written after every case, so a window closed half-way leaves the cases done (the
file then says the exam is not complete).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
)

from wizard import __version__
from wizard.kb.rules import plural
from wizard.lab.exam import add_case, dumps, new_result, result_file_name, sign, skip_case
from wizard.ui import dialogs
from wizard.ui.pages.base import PageId
from wizard.ui.pages.welcome import WelcomePage
from wizard.ui.theme import scaled_font
from wizard.ui.training.debrief import result_data
from wizard.ui.training.debrief_page import DEBRIEF_PAGE_ID, DebriefPage
from wizard.ui.training.session import TrainingSession
from wizard.ui.widgets import wrapped

if TYPE_CHECKING:
    from wizard.ui.app import MainWindow

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExamPlan:
    """What the trainer set up: the cases in order, the key, where results go.

    Attributes:
        labels: each case as the trainer wrote it (``dual-screen-win7``, ``seed:42:beginner``).
        paths: the scenario file of each case, in the same order.
        key: the session's key: signs each result file, never written anywhere.
        results: the folder the result files go to.
    """

    title: str
    labels: tuple[str, ...]
    paths: tuple[Path, ...]
    key: bytes
    results: Path

    def __repr__(self) -> str:  # never the key, not even in a log
        return f"ExamPlan({self.title!r}, {len(self.paths)} cases, results={self.results})"


def clock(seconds: float) -> str:
    """``mm:ss``, or ``h:mm:ss`` from an hour on."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class ExamStartDialog(QDialog):
    """The trainee's name, and what the exam is like, before the first case opens."""

    def __init__(self, plan: ExamPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(plan.title)
        layout = QVBoxLayout(self)
        head = QLabel(plan.title, self)
        head.setFont(scaled_font(head, 1.3, bold=True))
        layout.addWidget(head)
        n = len(plan.paths)
        layout.addWidget(
            wrapped(
                f"{plural(n, 'case')}, one after the other, in the training lab. "
                "There is no coach, no hint and no help, and the wizard shows its verdict only "
                "after you gave yours. A timer runs from the moment you start; each case's time "
                "is recorded. After each case your result is saved for your trainer.",
                self,
            )
        )
        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText("Your name, as your trainer knows you")
        self.name_edit.setAccessibleName("Your name")
        self.name_edit.setMaxLength(80)
        layout.addWidget(self.name_edit)
        self.buttons = QDialogButtonBox(self)
        self.start_button = self.buttons.addButton(
            "&Start the exam", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton("&Quit", QDialogButtonBox.ButtonRole.RejectRole)
        self.start_button.setEnabled(False)
        self.start_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.name_edit.textChanged.connect(self.on_name_edit_text_changed)
        layout.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())

    @property
    def name(self) -> str:
        return " ".join(self.name_edit.text().split())

    @Slot(str)
    def on_name_edit_text_changed(self, _text: str) -> None:
        self.start_button.setEnabled(bool(self.name))


class LeaveExamBox(QMessageBox):
    """Asked when the window closes before the exam's last case is recorded."""

    def __init__(self, recorded: int, total: int, path: Path | None, parent: QWidget) -> None:
        kept = (
            f"The {plural(recorded, 'case')} recorded so far stay in "
            f"{path}; the other {total - recorded} count as not done."
            if recorded
            else f"No case is recorded yet: all {total} count as not done."
        )
        super().__init__(
            QMessageBox.Icon.Question,
            "Leave the exam?",
            f"The exam is not over. {kept} The exam cannot be taken up again where you left it.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            parent,
        )
        dialogs.word_the_answers(self, "&Leave the exam", "&Back to the exam")
        self.setAccessibleName("Leave the exam")


class SkipCaseBox(QMessageBox):
    """Asked before a case whose lab did not start is skipped: it cannot be taken later."""

    def __init__(self, number: int, total: int, parent: QWidget) -> None:
        after = "the exam goes on with the next case" if number < total else "the exam ends"
        super().__init__(
            QMessageBox.Icon.Question,
            "Skip this case?",
            f"Case {number} of {total} is then recorded as not taken and counts 0; {after}. "
            "It cannot be taken up again later.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            parent,
        )
        dialogs.word_the_answers(self, "&Skip the case", "&Back")
        self.setAccessibleName("Skip this case")


class ExamOverBox(QMessageBox):
    """Said when the exam ends on a skipped case (there is no debrief to say it)."""

    def __init__(self, done: int, skipped: int, path: Path | None, parent: QWidget) -> None:
        super().__init__(
            QMessageBox.Icon.Information,
            "The exam is over",
            f"{plural(done, 'case')} recorded and {skipped} not taken, in {path}. Tell your "
            "trainer; OK ends the exam.",
            QMessageBox.StandardButton.Ok,
            parent,
        )
        self.setAccessibleName("The exam is over")


class ExamController(QObject):
    """Runs an exam in a main window (see the module docstring).

    Signals:
        caseRecorded(int): the result file now holds this many cases.
        caseSkipped(int): the result file now says this case (1 for the first) was not taken.

    Attributes:
        start_dialog: the name dialog (open until the exam starts).
        clock_label: the timer in the status bar.
        retry_button, skip_button: offered on the Welcome page when a case's lab did not start.
        result_path: the trainee's result file (None before the exam starts).
        result: the result as last written (signed).
    """

    caseRecorded = Signal(int)
    caseSkipped = Signal(int)

    def __init__(self, window: MainWindow, plan: ExamPlan) -> None:
        super().__init__(window)
        self.window = window
        self.plan = plan
        self.index = 0
        self.trainee = ""
        self.started: datetime | None = None
        self.case_started: datetime | None = None
        self.result: dict[str, Any] | None = None
        self.result_path: Path | None = None
        self._recorded = False
        self.clock_label = QLabel(window)
        self.clock_label.setFont(scaled_font(self.clock_label, 1.05, bold=True))
        self.clock_label.setAccessibleName("Exam timer")
        widest = "Exam \u00b7 case 10 of 10 \u00b7 0:00:00 \u00b7 total 0:00:00"
        self.clock_label.setMinimumWidth(self.clock_label.fontMetrics().horizontalAdvance(widest))
        self.clock_label.hide()
        window.statusBar().addPermanentWidget(self.clock_label)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self.on_tick_timeout)

        window.setWindowTitle(f"{window.windowTitle()} \u2013 {plan.title}")
        window.training.set_exam(True)
        window.help_action.setEnabled(False)
        wizard: QWizard = window.wizard
        wizard.setOption(QWizard.WizardOption.HaveHelpButton, False)
        # The debrief is the last page: no way back into a case once it is recorded.
        wizard.setOption(QWizard.WizardOption.DisabledBackButtonOnLastPage, True)
        welcome = self._welcome()
        welcome.fix_button.setEnabled(False)
        welcome.fix_button.setToolTip("Not during an exam.")
        welcome.retry_hint = (
            "Try this case again (your trainer may need to free the computer first), or skip "
            "it: a skipped case is recorded as not taken and counts 0."
        )
        self.failure_row = QWidget(welcome)
        row = QHBoxLayout(self.failure_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.retry_button = QPushButton("&Try this case again", self.failure_row)
        self.skip_button = QPushButton("S&kip this case", self.failure_row)
        for button in (self.retry_button, self.skip_button):
            button.setAutoDefault(False)
            row.addWidget(button)
        row.addStretch(1)
        self.failure_row.hide()
        welcome.add_below_banner(self.failure_row)
        self._failure = ""
        welcome.labFailed.connect(self.on_welcome_lab_failed)
        self.retry_button.clicked.connect(self.on_retry_button_clicked)
        self.skip_button.clicked.connect(self.on_skip_button_clicked)
        window.wizard.currentIdChanged.connect(self.on_wizard_current_id_changed)
        window.close_guard = self.ask_before_leaving

        self.start_dialog = ExamStartDialog(plan, window)
        self.start_dialog.accepted.connect(self.on_start_dialog_accepted)
        self.start_dialog.rejected.connect(self.on_start_dialog_rejected)
        QTimer.singleShot(0, self.start_dialog.open)

    def _welcome(self) -> WelcomePage:
        page = self.window.wizard.page_of(PageId.WELCOME)
        assert isinstance(page, WelcomePage)
        return page

    # ---------------------------------------------------------------- the sitting

    @Slot()
    def on_start_dialog_accepted(self) -> None:
        self.trainee = self.start_dialog.name
        self.started = datetime.now().astimezone()
        self.result = new_result(
            product=__version__,
            title=self.plan.title,
            labels=self.plan.labels,
            trainee=self.trainee,
            started=self.started,
        )
        self.result_path = self.plan.results / result_file_name(self.trainee, self.started)
        self._write()
        self.clock_label.show()
        self._tick.start()
        self._open_case()

    @Slot()
    def on_start_dialog_rejected(self) -> None:
        QTimer.singleShot(0, self.window.close)

    def _open_case(self) -> None:
        welcome = self._welcome()
        self._recorded = False
        self._failure = ""
        self.failure_row.hide()
        self.case_started = datetime.now().astimezone()
        try:
            welcome.picker.fix_to(self.plan.paths[self.index])
        except ValueError as exc:  # its file was removed or changed since the exam began
            _log.warning("exam case %d cannot be opened: %s", self.index + 1, exc)
            welcome.show_failure("This case cannot be opened", str(exc))
        else:
            if not welcome.training_button.isChecked():
                welcome.training_button.setChecked(True)  # starts the lab for the case
        self.on_tick_timeout()

    def _settled(self) -> int:
        """How many cases the result file accounts for: recorded, or not taken."""
        if self.result is None:
            return 0
        return len(self.result["cases"]) + len(self.result.get("not_taken", []))

    def _write(self) -> None:
        """Sign the result and write it in one piece (a temporary file, then a rename)."""
        assert self.result is not None
        assert self.result_path is not None
        signed = sign(self.result, self.plan.key)
        self.result = signed
        folder = self.result_path.parent
        fd, temp = tempfile.mkstemp(prefix=".exam-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(dumps(signed))
            os.replace(temp, self.result_path)
        except OSError as exc:
            Path(temp).unlink(missing_ok=True)
            _log.error("the exam result could not be written: %s", exc)
            self.window.statusBar().showMessage(
                f"The result could not be saved ({exc.strerror or exc}): tell your trainer now.",
                0,
            )

    def _record(self, page: DebriefPage) -> None:
        session = self.window.ctx.training
        if not isinstance(session, TrainingSession) or self.result is None:
            return
        page.refresh()
        if page.debrief is None or page.record is None:
            return
        data = result_data(
            page.debrief,
            session.brief,
            page.record,
            trainee=self.trainee,
            started=session.started,
            hints=0,
        )
        self.result = add_case(self.result, data, datetime.now().astimezone())
        self._write()
        self._recorded = True
        done = len(self.result["cases"])
        skipped = len(self.result.get("not_taken", []))
        last = self.index + 1 >= len(self.plan.paths)
        if last:
            self._tick.stop()
            self.on_tick_timeout()
            recorded = (
                f"{plural(done, 'case')} recorded and {skipped} not taken, in {self.result_path}"
                if skipped
                else f"All {done} cases are recorded in {self.result_path}"
            )
            page.show_exam(
                "The exam is over",
                f"{recorded}. Tell your trainer; Close ends the exam.",
                last=True,
            )
        else:
            page.show_exam(
                f"Case {self.index + 1} of {len(self.plan.paths)} is recorded",
                "Next case opens the next ticket on a fresh lab.",
                last=False,
            )
        self.caseRecorded.emit(done)

    def ask_before_leaving(self, leave: Callable[[], None]) -> bool:
        """The window is closing: ask first while cases are left (True: the close waits)."""
        if self.result is None:
            return False  # the start dialog was refused: nothing began
        recorded = self._settled()
        if recorded >= len(self.plan.paths):
            return False

        def answered(result: int) -> None:
            if result == int(QMessageBox.StandardButton.Yes):
                _log.info("exam left after %d of %d cases", recorded, len(self.plan.paths))
                self._tick.stop()
                leave()

        dialogs.show_modal(
            LeaveExamBox(recorded, len(self.plan.paths), self.result_path, self.window), answered
        )
        return True

    def _skip(self) -> None:
        """Record the current case as not taken and go on (or end the exam after the last)."""
        assert self.result is not None
        number = self.index + 1
        reason = self._failure or "its lab did not start"
        self.result = skip_case(self.result, number, reason, datetime.now().astimezone())
        self._write()
        _log.info("exam case %d skipped: its lab did not start", number)
        self.caseSkipped.emit(number)
        welcome = self._welcome()
        welcome.banner.hide()
        self.failure_row.hide()
        self.index += 1
        if self.index < len(self.plan.paths):
            self._open_case()
            return
        self._tick.stop()
        self._recorded = True
        self.on_tick_timeout()
        done = len(self.result["cases"])
        skipped = len(self.result.get("not_taken", []))

        def close(_result: int) -> None:
            self.window.close()

        dialogs.show_modal(ExamOverBox(done, skipped, self.result_path, self.window), close)

    # ---------------------------------------------------------------- slots

    @Slot(str)
    def on_welcome_lab_failed(self, words: str) -> None:
        if self.result is None or self._settled() > self.index:
            return  # not during a case (e.g. the exam is over)
        self._failure = words
        self.failure_row.show()
        self.retry_button.setFocus()

    @Slot()
    def on_retry_button_clicked(self) -> None:
        _log.info("exam case %d: starting its lab again", self.index + 1)
        self._welcome().banner.hide()
        self._open_case()

    @Slot()
    def on_skip_button_clicked(self) -> None:
        n = len(self.plan.paths)

        def answered(result: int) -> None:
            if result == int(QMessageBox.StandardButton.Yes) and self.failure_row.isVisible():
                self._skip()

        dialogs.show_modal(SkipCaseBox(self.index + 1, n, self.window), answered)

    @Slot(int)
    def on_wizard_current_id_changed(self, page_id: int) -> None:
        if page_id == DEBRIEF_PAGE_ID and not self._recorded:
            page = self.window.training.debrief
            if page is not None:
                page.exam = True
                self._record(page)
        elif page_id == int(PageId.WELCOME) and self._recorded:
            # Finish on the debrief brought the wizard back to Welcome: the next case, or the end.
            self.index += 1
            if self.index < len(self.plan.paths):
                self._open_case()
            else:
                QTimer.singleShot(0, self.window.close)

    @Slot()
    def on_tick_timeout(self) -> None:
        if self.started is None:
            return
        now = datetime.now().astimezone()
        n = len(self.plan.paths)
        case = min(self.index + 1, n)
        this = clock((now - self.case_started).total_seconds()) if self.case_started else ""
        total = clock((now - self.started).total_seconds())
        if self._recorded and case == n:
            self.clock_label.setText(f"Exam over \u00b7 {n} of {n} cases \u00b7 total {total}")
        else:
            self.clock_label.setText(
                f"Exam \u00b7 case {case} of {n} \u00b7 {this} \u00b7 total {total}"
            )
            self.clock_label.setToolTip("This case's time, and the exam's.")


def run_exam(plan: ExamPlan) -> int:
    """Open the wizard in exam mode and return the exit code when it closes (the wizard's own
    start, crash handling and shutdown: :func:`wizard.ui.app.run_gui`)."""
    from wizard.ui.app import run_gui

    _log.info("exam with %d cases", len(plan.paths))
    return run_gui(
        training_scenario=None, vm=None, extend=lambda window: ExamController(window, plan)
    )
