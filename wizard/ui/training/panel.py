"""The coach panel: a side panel beside the wizard in training mode.

It shows a :class:`~wizard.ui.training.coach.CoachNote` (what to look at and why, the article's
facts in our words), reveals hints one at a time, and offers the training actions of the page:
the verdict question on the Check page and "Try the vMotion" on the Check and Done pages. It
only shows and asks; :mod:`wizard.ui.training.controller` decides.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from wizard.kb.model import Verdict
from wizard.ui.theme import MUTED, Tone, scaled_font, tint
from wizard.ui.training.coach import VERDICT_CHOICES, CoachNote
from wizard.ui.widgets import BusyRow, IconLabel, Look, Panel, wrapped

PANEL_WIDTH_CHARS = 44


class CoachPanel(QDockWidget):
    """The coach, docked on the right of the main window.

    Signals:
        helpRequested(str): open this help topic.
        guessCommitted(object): the trainee's verdict (a Verdict), or None for "just show me".
        vmotionRequested(): the trainee pressed "Try the vMotion".
        renewRequested(): the trainee pressed "Renew and sign in again".

    Attributes:
        text: the note (look at, facts, revealed hints).
        hint_button: reveals the next hint.
        guess_box: the verdict question (Check page, until answered).
        verdict_combo: the verdict choices.
        vmotion_button: "Try the vMotion".
        vmotion_label: the last vMotion's outcome.
        renew_button: "Renew and sign in again" (scenarios whose certificate is renewed).
        renew_label: how signing in again went.
    """

    helpRequested = Signal(str)
    guessCommitted = Signal(object)
    vmotionRequested = Signal()
    renewRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Coach", parent)
        self.setObjectName("coachPanel")
        self.setAccessibleName("Coach")
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
        )
        self.setAllowedAreas(
            Qt.DockWidgetArea.RightDockWidgetArea | Qt.DockWidgetArea.LeftDockWidgetArea
        )
        body = QWidget(self)
        body.setObjectName("coachBody")
        em = body.fontMetrics().averageCharWidth()
        # One width on every page: a panel that resizes with its text makes the wizard beside
        # it jump (the technician can still drag the splitter).
        body.setMinimumWidth(em * PANEL_WIDTH_CHARS)
        body.setMaximumWidth(em * PANEL_WIDTH_CHARS)
        col = QVBoxLayout(body)
        col.setContentsMargins(10, 6, 10, 10)
        col.setSpacing(8)

        self.scenario_label = wrapped(parent=body)
        tint(self.scenario_label, MUTED)
        head = QHBoxLayout()
        head.setSpacing(8)
        head.addWidget(IconLabel(Tone.INFO.icon_name, 20, body), 0, Qt.AlignmentFlag.AlignTop)
        self.title_label = wrapped(parent=body)
        self.title_label.setFont(scaled_font(self.title_label, 1.15, bold=True))
        head.addWidget(self.title_label, 1)
        col.addWidget(self.scenario_label)
        col.addLayout(head)

        self.text = QTextBrowser(body)
        self.text.setAccessibleName("Coach's notes")
        self.text.setOpenLinks(False)
        self.text.setFrameShape(QFrame.Shape.NoFrame)
        self.text.viewport().setAutoFillBackground(False)
        self.text.anchorClicked.connect(self.on_text_anchor_clicked)
        col.addWidget(self.text, 1)

        self.guess_box = Panel(body, Look(border=Tone.INFO.fg, fill=Tone.INFO.bg))
        self.guess_box.setObjectName("guessBox")
        gl = QVBoxLayout(self.guess_box)
        gl.setContentsMargins(10, 8, 10, 8)
        gl.setSpacing(6)
        question = wrapped("Your verdict, before the wizard shows its own:", self.guess_box)
        question.setFont(scaled_font(question, 1.0, bold=True))
        gl.addWidget(question)
        self.verdict_combo = QComboBox(self.guess_box)
        self.verdict_combo.setAccessibleName("Your verdict")
        self.verdict_combo.addItem("Choose…", None)
        for verdict, words in VERDICT_CHOICES.items():
            self.verdict_combo.addItem(words, verdict.value)
        self.verdict_combo.currentIndexChanged.connect(self.on_verdict_combo_changed)
        gl.addWidget(self.verdict_combo)
        self.commit_button = QPushButton("That's my &verdict", self.guess_box)
        self.commit_button.setAccessibleName("That's my verdict")
        self.commit_button.setAutoDefault(False)
        self.commit_button.setEnabled(False)
        self.commit_button.clicked.connect(self.on_commit_button_clicked)
        self.reveal_button = QPushButton("Just show me", self.guess_box)
        self.reveal_button.setAccessibleName("Show the verdict without answering")
        self.reveal_button.setAutoDefault(False)
        self.reveal_button.setFlat(True)
        self.reveal_button.clicked.connect(self.on_reveal_button_clicked)
        gb = QHBoxLayout()
        gb.addWidget(self.commit_button)
        gb.addWidget(self.reveal_button)
        gb.addStretch(1)
        gl.addLayout(gb)
        col.addWidget(self.guess_box)
        self.guess_result = wrapped(parent=body)
        self.guess_result.hide()
        col.addWidget(self.guess_result)

        self.vmotion_button = QPushButton("Try the v&Motion", body)
        self.vmotion_button.setAccessibleName("Try the vMotion")
        self.vmotion_button.setToolTip("Moves the VM to another host of its cluster, in the lab.")
        self.vmotion_button.setAutoDefault(False)
        self.vmotion_button.clicked.connect(self.on_vmotion_button_clicked)
        self._vmotion = _LabAction(col, self.vmotion_button, body)
        self.vmotion_busy, self.vmotion_label = self._vmotion.busy, self._vmotion.note

        self.renew_button = QPushButton("&Renew and sign in again", body)
        self.renew_button.setAccessibleName("Renew the lab's certificate and sign in again")
        self.renew_button.setToolTip(
            "The lab gets a new certificate from the same authority, as vCenter's is renewed; "
            "then the wizard signs in once more beside your session."
        )
        self.renew_button.setAutoDefault(False)
        self.renew_button.clicked.connect(self.on_renew_button_clicked)
        self._renew = _LabAction(col, self.renew_button, body)
        self.renew_busy, self.renew_label = self._renew.busy, self._renew.note

        self.hint_button = QPushButton("&Hint", body)
        self.hint_button.setAccessibleName("Show the next hint")
        self.hint_button.setAutoDefault(False)
        self.hint_button.clicked.connect(self.on_hint_button_clicked)
        self.more_button = QPushButton("Read &more", body)
        self.more_button.setAccessibleName("Read more in the help")
        self.more_button.setAutoDefault(False)
        self.more_button.clicked.connect(self.on_more_button_clicked)
        foot = QHBoxLayout()
        foot.addWidget(self.hint_button)
        foot.addStretch(1)
        foot.addWidget(self.more_button)
        col.addLayout(foot)
        self.setWidget(body)

        self._note: CoachNote | None = None
        self._hints = 0
        self.exam = False
        self.set_actions(guess=False, vmotion=False, renew=False)

    def set_exam(self, on: bool) -> None:
        """Exam mode: no coach's notes, no hints, no help, no "Just show me"; the verdict
        question stays (the trainee answers it), and the panel cannot be closed."""
        self.exam = on
        self.setWindowTitle("Exam" if on else "Coach")
        self.setAccessibleName("Exam" if on else "Coach")
        features = QDockWidget.DockWidgetFeature.DockWidgetMovable
        if not on:
            features |= QDockWidget.DockWidgetFeature.DockWidgetClosable
        self.setFeatures(features)
        self.reveal_button.setEnabled(not on)
        self.reveal_button.setVisible(not on)
        self._render()

    # ---------------------------------------------------------------- content

    @property
    def note(self) -> CoachNote | None:
        return self._note

    @property
    def hints_shown(self) -> int:
        return self._hints

    def show_note(self, note: CoachNote, scenario: str, hints_shown: int) -> None:
        """Show ``note``, with its first ``hints_shown`` hints already revealed."""
        self._note = note
        self._hints = max(0, min(hints_shown, len(note.hints)))
        self.scenario_label.setText(scenario)
        self.scenario_label.setVisible(bool(scenario))
        self.title_label.setText("Exam" if self.exam else note.title)
        self._render()

    def _render(self) -> None:
        if self.exam:
            self.title_label.setText("Exam")
            self.text.setHtml(
                "<p>No coach, no hints and no help during an exam: work the ticket as you "
                "would at the helpdesk.</p><p>On the Check page, give your verdict below before "
                "the wizard shows its own. The timer is at the bottom of the window.</p>"
            )
            self.hint_button.hide()
            self.more_button.hide()
            return
        note = self._note
        if note is None:
            return
        e = html.escape
        parts: list[str] = []
        if note.look_at:
            parts.append("<p><b>Look at</b></p><ul style='margin-left:-18px'>")
            parts += [f"<li style='margin-bottom:4px'>{e(t)}</li>" for t in note.look_at]
            parts.append("</ul>")
        if note.facts:
            parts.append("<p><b>Why it matters</b></p>")
            parts += [f"<p style='color:#33404d'>{e(t)}</p>" for t in note.facts]
        if self._hints:
            parts.append("<p><b>Hints</b></p>")
            parts += [
                f"<p style='color:{Tone.WARN.fg}'>{i + 1}. {e(t)}</p>"
                for i, t in enumerate(note.hints[: self._hints])
            ]
        self.text.setHtml("".join(parts))
        left = len(note.hints) - self._hints
        self.hint_button.setEnabled(left > 0)
        self.hint_button.setText(
            f"&Hint ({self._hints + 1} of {len(note.hints)})" if left > 0 else "No more hints"
        )
        self.hint_button.setVisible(bool(note.hints))
        self.more_button.setVisible(bool(note.help_topic))

    def set_actions(self, *, guess: bool, vmotion: bool, renew: bool = False) -> None:
        """Show the verdict question, the vMotion button and/or the renewal button."""
        self.guess_box.setVisible(guess)
        self._vmotion.set_shown(vmotion)
        self._renew.set_shown(renew)

    def renew_started(self) -> None:
        self._renew.start("Renewing the certificate, then signing in again…")

    def renew_finished(self, ok: bool | None, text: str) -> None:
        """Show how signing in again went (ok None: it could not be tried)."""
        self._renew.finish(ok, text)

    def set_guess_result(self, text: str, tone: Tone | None) -> None:
        self.guess_result.setText(text)
        tint(self.guess_result, tone.fg if tone is not None else None, bold=tone is not None)
        self.guess_result.setVisible(bool(text))

    def vmotion_started(self, vm: str) -> None:
        self._vmotion.start(f"Moving {vm} to another host…")

    def vmotion_finished(self, ok: bool | None, text: str) -> None:
        """Show how the vMotion went (ok None: it could not be tried)."""
        self._vmotion.finish(ok, text)

    def reset_guess(self) -> None:
        self.verdict_combo.setCurrentIndex(0)
        self.set_guess_result("", None)

    # ---------------------------------------------------------------- slots

    @Slot()
    def on_hint_button_clicked(self) -> None:
        if self._note is not None and self._hints < len(self._note.hints):
            self._hints += 1
            self._render()
            bar = self.text.verticalScrollBar()
            bar.setValue(bar.maximum())

    @Slot()
    def on_more_button_clicked(self) -> None:
        if self._note is not None and self._note.help_topic:
            self.helpRequested.emit(self._note.help_topic)

    @Slot(QUrl)
    def on_text_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() == "help":
            self.helpRequested.emit(url.path())

    @Slot(int)
    def on_verdict_combo_changed(self, _index: int) -> None:
        self.commit_button.setEnabled(self.verdict_combo.currentData() is not None)

    @Slot()
    def on_commit_button_clicked(self) -> None:
        value = self.verdict_combo.currentData()
        if value is not None:
            self.guessCommitted.emit(Verdict(value))

    @Slot()
    def on_reveal_button_clicked(self) -> None:
        self.guessCommitted.emit(None)

    @Slot()
    def on_vmotion_button_clicked(self) -> None:
        self.vmotionRequested.emit()

    @Slot()
    def on_renew_button_clicked(self) -> None:
        self.renewRequested.emit()


def guess_words(guess: Verdict | None, actual: Verdict) -> tuple[str, Tone]:
    """What the panel says once the verdict is shown."""
    if guess is None:
        return f"The verdict: {VERDICT_CHOICES[actual]}.", Tone.INFO
    if guess == actual:
        return f"Right: {VERDICT_CHOICES[actual]}.", Tone.GOOD
    return (
        f"Not quite: you said \u201c{VERDICT_CHOICES[guess]}\u201d, the wizard says "
        f"\u201c{VERDICT_CHOICES[actual]}\u201d. The hints say why.",
        Tone.WARN,
    )


class _LabAction:
    """A button that runs something in the lab, on a row of its own in ``col``, with a busy
    row and a note for the outcome under it.

    Attributes:
        button: starts it.
        busy: shown while it runs.
        note: how it went (hidden until then).
    """

    def __init__(self, col: QVBoxLayout, button: QPushButton, body: QWidget) -> None:
        self.button = button
        self.busy = BusyRow(body, cancellable=False)
        self.note = wrapped(parent=body, selectable=True)
        self.note.hide()
        row = QHBoxLayout()
        row.addWidget(button)
        row.addStretch(1)
        col.addLayout(row)
        col.addWidget(self.busy)
        col.addWidget(self.note)

    def set_shown(self, shown: bool) -> None:
        self.button.setVisible(shown)
        if not shown:
            self.note.hide()
            self.busy.stop()

    def start(self, doing: str) -> None:
        self.button.setEnabled(False)
        self.note.hide()
        self.busy.start(doing)

    def finish(self, ok: bool | None, text: str) -> None:
        """Show the outcome: good, bad, or (ok None) not tried."""
        self.busy.stop()
        self.button.setEnabled(True)
        tone = Tone.UNKNOWN if ok is None else (Tone.GOOD if ok else Tone.BAD)
        self.note.setText(text)
        tint(self.note, tone.fg, bold=True)
        self.note.show()
