"""The debrief page: the last page in training mode, after Done.

It scores the run (:func:`wizard.ui.training.debrief.score`), shows each point with why, lets the
trainee save it (HTML or text, each carrying the result data the class report reads:
:mod:`wizard.lab.results`) or print it for the trainer, and offers "Try again": a fresh lab
from the same scenario.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPalette, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
    QWizard,
)

from wizard.ui.pages.base import BasePage
from wizard.ui.theme import Tone, scaled_font, tint
from wizard.ui.training.debrief import (
    Debrief,
    Mark,
    TrainingRecord,
    result_data,
    score,
    to_html,
    to_text,
)
from wizard.ui.training.session import TrainingSession
from wizard.ui.widgets import Banner, IconLabel, Look, Panel, empty_layout, heading, wrapped
from wizard.ui.wizard_state import WizardContext

_log = logging.getLogger(__name__)

DEBRIEF_PAGE_ID = 100
"""The debrief's page id: after every :class:`~wizard.ui.pages.base.PageId`, so Done leads to it."""

MARK_LOOK: dict[Mark, Tone] = {
    Mark.GOOD: Tone.GOOD,
    Mark.MISS: Tone.BAD,
    Mark.TIP: Tone.WARN,
    Mark.INFO: Tone.INFO,
}


def choose_save_path(parent: QWidget, suggested: Path) -> Path | None:
    """Ask where to save the debrief (patchable in tests)."""
    name, _filter = QFileDialog.getSaveFileName(
        parent,
        "Save the debrief",
        str(suggested),
        "Web page (*.html);;Text (*.txt)",
    )
    return Path(name) if name else None


def print_html(parent: QWidget, page: str) -> bool:
    """Print an HTML page after the print dialog (patchable in tests)."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, parent)
    if dialog.exec() != QPrintDialog.DialogCode.Accepted:
        return False
    doc = QTextDocument()
    doc.setHtml(page)
    doc.print_(printer)
    return True


class DebriefLineRow(Panel):
    """One scored point: icon, mark, title, why."""

    def __init__(self, mark: Mark, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        tone = MARK_LOOK[mark]
        self.setObjectName("debriefLine")
        self.set_look(Look(fill=QPalette.ColorRole.Base, radius=5))
        grid = QGridLayout(self)
        grid.setContentsMargins(10, 8, 10, 8)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        grid.addWidget(IconLabel(tone.icon_name, 18, self), 0, 0, 2, 1, Qt.AlignmentFlag.AlignTop)
        head = QLabel(f"{title}  ·  {mark.label}", self)
        head.setFont(scaled_font(head, 1.0, bold=True))
        tint(head, tone.fg)
        self.text = wrapped(text, self, selectable=True)
        grid.addWidget(head, 0, 1)
        grid.addWidget(self.text, 1, 1)
        grid.setColumnStretch(1, 1)
        self.setAccessibleName(f"{title}: {mark.label}. {text}")


class DebriefPage(BasePage):
    """How the run went, point by point, with a result to save or print.

    Signals:
        tryAgainRequested(): start the same scenario again on a fresh lab.

    Attributes:
        banner: passed or not, in one sentence.
        debrief: the last scoring (None before the page was shown).
        record: what the trainee did, as last scored (None before the page was shown).
        name_edit: the trainee's name for the saved result.
        save_button, print_button, again_button: the page's actions.
    """

    help_topic = "training/interpretations"
    tryAgainRequested = Signal()

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setTitle("Debrief")
        # The end of a training case is the start of the next one: Finish goes back to the
        # scenarios (the window closes from File > Quit).
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Another scenario")
        self.setSubTitle("How you handled this ticket, point by point.")
        layout = self.scroll_body()
        self.banner = Banner(self, icon_size=36)
        self.banner.set_title_scale(1.2)
        layout.addWidget(self.banner)
        self._lines = QWidget(self)
        self._ll = QGridLayout(self._lines)
        self._ll.setContentsMargins(0, 0, 0, 0)
        self._ll.setVerticalSpacing(6)
        layout.addWidget(self._lines)

        self.trainer_heading = heading("For your trainer", self)
        layout.addWidget(self.trainer_heading)
        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText("Your name (optional, goes on the saved result)")
        self.name_edit.setAccessibleName("Your name")
        self.save_button = QPushButton("&Save…", self)
        self.save_button.setAccessibleName("Save the debrief")
        self.print_button = QPushButton("&Print…", self)
        self.print_button.setAccessibleName("Print the debrief")
        self.again_button = QPushButton("&Try again", self)
        self.again_button.setAccessibleName("Try this scenario again on a fresh lab")
        self.again_button.setToolTip("Starts a fresh lab from the same scenario.")
        for b in (self.save_button, self.print_button, self.again_button):
            b.setAutoDefault(False)
        self.save_button.clicked.connect(self.on_save_button_clicked)
        self.print_button.clicked.connect(self.on_print_button_clicked)
        self.again_button.clicked.connect(self.on_again_button_clicked)
        row = QHBoxLayout()
        row.addWidget(self.name_edit, 1)
        row.addWidget(self.save_button)
        row.addWidget(self.print_button)
        row.addSpacing(12)
        row.addWidget(self.again_button)
        layout.addLayout(row)
        self.saved_label = wrapped(parent=self, selectable=True)
        self.saved_label.hide()
        layout.addWidget(self.saved_label)
        layout.addStretch(1)
        self.debrief: Debrief | None = None
        self.record: TrainingRecord | None = None
        self.exam = False

    def show_exam(self, title: str, text: str, *, last: bool) -> None:
        """Exam mode: the case is recorded; no points, no score, nothing to save or try again
        (the trainer sees the result), and Finish goes on to the next case or closes."""
        self.exam = True
        self.setSubTitle("Exam: this case is recorded.")
        self.banner.show_message(Tone.INFO, title, text)
        for w in (
            self._lines,
            self.trainer_heading,
            self.name_edit,
            self.save_button,
            self.print_button,
            self.again_button,
            self.saved_label,
        ):
            w.hide()
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Close" if last else "&Next case")

    # ---------------------------------------------------------------- QWizardPage

    def initializePage(self) -> None:
        self.refresh()
        self.first_focus = self.save_button
        if self.exam:  # the exam controller shows this case's words once it has recorded it
            self._lines.hide()

    def isComplete(self) -> bool:
        return True

    def nextId(self) -> int:
        return -1

    # ---------------------------------------------------------------- scoring

    @property
    def session(self) -> TrainingSession | None:
        training = self.ctx.training
        return training if isinstance(training, TrainingSession) else None

    def refresh(self) -> None:
        """Score the run as it stands and show it."""
        session, check = self.session, self.ctx.check
        if session is None:
            self.banner.show_message(Tone.INFO, "Not a training run", "There is nothing to score.")
            return
        record = session.record(
            vm_name=self.ctx.vm.name if self.ctx.vm is not None else None,
            facts=check.facts if check is not None else None,
            chosen=self.ctx.remedy,
            result=self.ctx.result,
        )
        remedies = check.remedies if check is not None else ()
        seen = check.assessment.verdict if check is not None else None
        self.record = record
        self.debrief = score(session.brief, record, remedies, seen=seen)
        d = self.debrief
        self.banner.show_message(
            Tone.GOOD if d.passed else Tone.WARN,
            "Passed" if d.passed else "Not yet",
            d.headline,
            session.brief.title,
        )
        empty_layout(self._ll)
        for i, line in enumerate(d.lines):
            self._ll.addWidget(DebriefLineRow(line.mark, line.title, line.text, self._lines), i, 0)

    # ---------------------------------------------------------------- slots

    @Slot()
    def on_save_button_clicked(self) -> None:
        d = self.debrief
        session = self.session
        if d is None or session is None:
            return
        who = re.sub(r"[^\w]+", "-", self.name_edit.text()).strip("-")
        suggested = Path.home() / f"debrief-{session.brief.id}{'-' + who if who else ''}.html"
        path = choose_save_path(self, suggested)
        if path is None:
            return
        name = self.name_edit.text().strip()
        data = result_data(
            d,
            session.brief,
            self.record or TrainingRecord(),
            trainee=name,
            started=session.started,
            hints=sum(session.hints_shown.values()),
        )
        text = path.suffix.lower() == ".txt"
        body = to_text(d, name, data) if text else to_html(d, name, data)
        try:
            path.write_text(body, encoding="utf-8")
        except OSError as exc:
            self.saved_label.setText(f"Could not save it: {exc.strerror or exc}")
        else:
            self.saved_label.setText(f"Saved to {path}")
        self.saved_label.show()

    @Slot()
    def on_print_button_clicked(self) -> None:
        if self.debrief is not None:
            print_html(self, to_html(self.debrief, self.name_edit.text().strip()))

    @Slot()
    def on_again_button_clicked(self) -> None:
        self.tryAgainRequested.emit()
