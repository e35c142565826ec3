"""Welcome: what the wizard does, and a choice between a real fix and practice in the lab."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCommandLinkButton,
    QFrame,
    QVBoxLayout,
    QWidget,
)

from wizard.ui.pages.base import BasePage, PageId
from wizard.ui.theme import Tone, icon, scaled_font
from wizard.ui.training.picker import ScenarioEntry, ScenarioPicker
from wizard.ui.training.session import start_session
from wizard.ui.widgets import Banner, BusyRow, wrapped
from wizard.ui.wizard_state import WizardContext

_log = logging.getLogger(__name__)


RETRY_HINT = "Pick the scenario again to retry, or choose “Fix a VM”."


class WelcomePage(BasePage):
    """First page: what this does; fix a real VM or practise.

    Signals:
        labFailed(str): the training lab did not start (or its scenario cannot be used); what
            went wrong, in words.

    Attributes:
        fix_button: "Fix a VM".
        training_button: "Practise in the training lab".
        picker: the training scenarios with the chosen one's briefing and ticket.
        retry_hint: the next step the failure banner offers (the exam offers its own).
    """

    page_id = PageId.WELCOME
    labFailed = Signal(str)

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        layout = self.plain_body()

        intro = wrapped(
            "This wizard checks a VM against the known causes of this vMotion failure and shows "
            "what is behind it in plain words. You then pick one of the fixes, each with its "
            "cost spelled out; the wizard applies it, checks that it worked and writes the "
            "note for your ticket."
        )
        intro.setFont(scaled_font(intro, 1.05))
        layout.addWidget(intro)
        layout.addSpacing(6)

        self.fix_button = QCommandLinkButton(
            "&Fix a VM", "Connect to your vCenter and work on the VM named in your ticket.", self
        )
        self.training_button = QCommandLinkButton(
            "&Practise in the training lab",
            "A practice vCenter on this computer with a prepared case. Nothing real is touched.",
            self,
        )
        self.fix_button.setIcon(icon("app"))
        self.training_button.setIcon(icon(Tone.INFO.icon_name))
        self._group = QButtonGroup(self)
        for b in (self.fix_button, self.training_button):
            b.setCheckable(True)
            b.setAutoDefault(False)
            b.setAccessibleName(b.text().replace("&", ""))
            b.setAccessibleDescription(b.description())
            self._group.addButton(b)
            layout.addWidget(b)
        self.fix_button.setChecked(True)
        self._group.buttonToggled.connect(self.on_group_button_toggled)

        self._training = QFrame(self)
        self._training.setFrameShape(QFrame.Shape.StyledPanel)
        tl = QVBoxLayout(self._training)
        tl.setContentsMargins(14, 12, 14, 12)
        tl.setSpacing(8)
        self.picker = ScenarioPicker(ctx.training_scenario, self._training)
        tl.addWidget(self.picker, 1)
        self.busy = BusyRow(self._training, cancellable=False)
        tl.addWidget(self.busy)
        self.banner = Banner(self._training, icon_size=24)
        self.banner.hide()
        tl.addWidget(self.banner)
        self._training_layout = tl
        self.retry_hint = RETRY_HINT
        layout.addWidget(self._training, 1)  # while shown, the list takes the room
        self._training.hide()
        layout.addStretch(0)

        self.picker.currentChanged.connect(self.on_picker_current_changed)
        if self.picker.current() is None:
            self.training_button.setEnabled(False)
            self.training_button.setDescription(self.picker.why_none)
        self._lab_path: Path | None = None
        self._starting = False
        self.setTabOrder(self.fix_button, self.training_button)
        self.setTabOrder(self.training_button, self.picker.list)
        self.first_focus = self.fix_button
        if ctx.training_scenario is not None and self.picker.current() is not None:
            self.training_button.setChecked(True)
            self.first_focus = self.training_button

    # ---------------------------------------------------------------- state

    @property
    def training(self) -> bool:
        return self.training_button.isChecked()

    def isComplete(self) -> bool:
        if not self.training:
            return True
        return self.ctx.lab_info is not None and not self._starting

    def nextId(self) -> int:
        return int(PageId.CONNECT)

    def add_below_banner(self, widget: QWidget) -> None:
        """Put ``widget`` under the lab's banner (the exam's buttons after a failed start)."""
        self._training_layout.insertWidget(self._training_layout.indexOf(self.banner) + 1, widget)

    def show_failure(self, title: str, words: str) -> None:
        """Say the lab cannot be had, with :attr:`retry_hint`, and emit ``labFailed``."""
        self.banner.show_message(Tone.BAD, title, words, self.retry_hint)
        self.labFailed.emit(words)

    def _entry(self) -> ScenarioEntry | None:
        return self.picker.current()

    def _ensure_lab(self) -> None:
        entry = self._entry()
        if entry is None or self._lab_path == entry.path:
            return  # already running or starting for this scenario
        try:
            session = start_session(entry.path)
        except ValueError as exc:  # the file changed since it was listed
            self.show_failure("This scenario cannot be used", str(exc))
            return
        self.ctx.set_training(session)
        self._lab_path = entry.path
        self._starting = True
        self.banner.hide()
        self.busy.start("Starting the training lab… (the first start can take a minute)")
        job = self.ctx.start_lab(entry.path, entry.title)
        job.succeeded.connect(self.on_lab_succeeded)
        job.failed.connect(self.on_lab_failed)
        self.completeChanged.emit()

    # ---------------------------------------------------------------- slots

    @Slot(QAbstractButton, bool)
    def on_group_button_toggled(self, _button: QAbstractButton, checked: bool) -> None:
        if not checked:
            return  # the other button's toggle follows
        self._training.setVisible(self.training)
        if self.training:
            self._ensure_lab()
        else:
            # Fixing a real VM: no lab, no coach, and Connect is not prefilled with the lab.
            self._lab_path = None
            self._starting = False
            self.busy.stop()
            self.banner.hide()
            self.ctx.stop_lab()
            self.ctx.set_training(None)
        self.completeChanged.emit()

    @Slot(object)
    def on_picker_current_changed(self, _entry: object) -> None:
        if self.training:
            self._ensure_lab()
        self.completeChanged.emit()

    def restart_lab(self) -> None:
        """Start a fresh lab from the scenario chosen ("Try again")."""
        self._lab_path = None
        self._ensure_lab()

    @Slot(object)
    def on_lab_succeeded(self, _handle: object) -> None:
        self._starting = False
        self.busy.stop()
        info = self.ctx.lab_info
        where = f"{info.host}:{info.port}" if info is not None else ""
        self.banner.show_message(
            Tone.GOOD, "The training lab is running", f"It answers at {where}."
        )
        self.completeChanged.emit()

    @Slot(object)
    def on_lab_failed(self, exc: object) -> None:
        self._starting = False
        self._lab_path = None
        self.busy.stop()
        self.show_failure("The training lab did not start", str(exc))
        self.completeChanged.emit()
