"""Done page, undo: ask before an undo that needs the VM off, run it, and show how it ended.

:class:`UndoMixin` is part of :class:`wizard.ui.pages.done.DonePage`; it holds no state of its
own (the page's ``_job``, ``undo_runner`` and ``_undo_note`` are its).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from wizard.kb.model import Change
from wizard.kb.plan import CannotUndo, undo_changes
from wizard.ui import dialogs
from wizard.ui.pages.apply import StepRunner
from wizard.ui.pages.base import BasePage
from wizard.ui.theme import Tone, monospace, scaled_font
from wizard.ui.ticket import UndoNote, change_line
from wizard.ui.widgets import IconLabel, heading, wrapped
from wizard.ui.worker import Job
from wizard.vsphere.errors import VsphereError

if TYPE_CHECKING:
    from wizard.vsphere.results import ApplyResult

_log = logging.getLogger(__name__)

POWER_DOWN_STEPS = ("shutdown", "power_off")
POWERED_ON = "poweredOn"

if TYPE_CHECKING:
    _PageBase = BasePage
else:
    _PageBase = object


class UndoConfirmDialog(QDialog):
    """Ask before an undo that needs the VM off: what changes back, and what the user notices.

    Attributes:
        hard_check: consent to a hard power-off; shown, and required, only when the VM cannot be
            shut down cleanly (VMware Tools not running, or the VM suspended).
        leave_off_check: leave the VM powered off afterwards.
        undo_button: starts the undo (disabled until a needed hard power-off is consented to).
    """

    def __init__(
        self,
        vm: str,
        changes: Sequence[Change],
        *,
        power_state: str,
        hard_needed: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Undo the change")
        self.setAccessibleName("Undo the change")
        self.hard_needed = hard_needed
        head = QLabel(
            f"Undoing this change powers {vm} off."
            if hard_needed
            else f"Undoing this change shuts {vm} down.",
            self,
        )
        head.setTextFormat(Qt.TextFormat.PlainText)
        head.setWordWrap(True)
        head.setFont(scaled_font(head, 1.1, bold=True))
        self.head = head
        if not hard_needed:
            how = (
                "The wizard shuts the guest down through VMware Tools, puts the old values back "
                "and powers the VM on. The user loses the session and unsaved work: tell them "
                "first."
            )
        elif power_state != POWERED_ON:
            how = (
                f"The VM is {power_state}: it can only be powered off hard, which discards its "
                "suspended state. Open programs and unsaved work in the guest are lost."
            )
        else:
            how = (
                "VMware Tools are not running, so the guest cannot be shut down cleanly: the "
                "wizard can only power the VM off hard, like pulling the plug. Unsaved work in "
                "the guest is lost."
            )
        body = wrapped(how, self)
        lines = wrapped("\n".join(change_line(c) for c in changes), self, selectable=True)
        lines.setFont(monospace())
        self.hard_check = QCheckBox(
            "Power the VM &off without a clean shutdown (unsaved work in the guest is lost)", self
        )
        self.hard_check.setAccessibleName(
            "Power the VM off without a clean shutdown (unsaved work in the guest is lost)"
        )
        self.hard_check.setVisible(hard_needed)
        self.leave_off_check = QCheckBox("&Leave the VM powered off afterwards", self)
        self.leave_off_check.setAccessibleName("Leave the VM powered off afterwards")
        buttons = QDialogButtonBox(self)
        self.undo_button = buttons.addButton(
            "&Power off and undo" if hard_needed else "&Shut down and undo",
            QDialogButtonBox.ButtonRole.AcceptRole,
        )
        self.undo_button.setAccessibleName(self.undo_button.text().replace("&", ""))
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel")
        cancel.setDefault(True)  # the safe answer is the one Enter gives
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.hard_check.toggled.connect(self.on_hard_check_toggled)
        self.on_hard_check_toggled(False)
        text = QVBoxLayout()
        text.setSpacing(8)
        text.addWidget(head)
        text.addWidget(body)
        text.addWidget(heading("Changes back", self))
        text.addWidget(lines)
        text.addWidget(self.hard_check)
        text.addWidget(self.leave_off_check)
        row = QHBoxLayout()
        row.setSpacing(14)
        tone = Tone.BAD if hard_needed else Tone.WARN
        row.addWidget(IconLabel(tone.icon_name, 32, self), 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(text, 1)
        col = QVBoxLayout(self)
        col.setContentsMargins(20, 18, 20, 14)
        col.setSpacing(14)
        col.addLayout(row)
        col.addWidget(buttons)
        self.setMinimumWidth(max(560, self.hard_check.sizeHint().width() + 110))

    def consented(self) -> bool:
        """Whether the answer covers the power-off this undo needs."""
        return not self.hard_needed or self.hard_check.isChecked()

    @Slot(bool)
    def on_hard_check_toggled(self, _checked: bool) -> None:
        self.undo_button.setEnabled(self.consented())


class UndoMixin(_PageBase):
    """The Done page's undo button, its confirmation and the undo run."""

    if TYPE_CHECKING:
        # What the undo needs of the page it is part of (DonePage).
        undo_runner: StepRunner
        _job: Job | None
        _undo_note: UndoNote | None

        def _busy(self) -> bool: ...
        def _refresh(self) -> None: ...
        def _update_buttons(self) -> None: ...
        def _read_hosts(self) -> None: ...

    @Slot()
    def on_undo_button_clicked(self) -> None:
        """Undo at once when the VM stays up; ask first when the undo needs it off."""
        result = self.ctx.result
        if result is None or self._busy():
            return
        facts = result.facts_after
        planned = self.ctx.gateway.undo_steps(result.changes, facts)
        if not any(s.id in POWER_DOWN_STEPS for s in planned):
            self._start_undo()
            return
        power = facts.power_state if facts is not None else POWERED_ON
        hard = facts is not None and (power != POWERED_ON or not facts.tools_running)
        try:
            back = undo_changes(result.changes)
        except CannotUndo:
            back = tuple(Change(c.target, c.key, c.after, c.before) for c in result.changes)
        dialog = UndoConfirmDialog(
            facts.name if facts is not None else "the VM",
            back,
            power_state=power,
            hard_needed=hard,
            parent=self,
        )

        def answered(code: int) -> None:
            if code != int(QDialog.DialogCode.Accepted):
                return  # nothing was started, nothing changed
            if not dialog.consented():
                _log.info("undo not started: a hard power-off was needed and not consented to")
                return
            self._start_undo(
                allow_shutdown=True,
                allow_hard_poweroff=hard and dialog.hard_check.isChecked(),
                leave_powered_off=dialog.leave_off_check.isChecked(),
            )

        dialogs.show_modal(dialog, answered)

    def _start_undo(
        self,
        *,
        allow_shutdown: bool = False,
        allow_hard_poweroff: bool = False,
        leave_powered_off: bool = False,
    ) -> None:
        """Undo the change with what the technician agreed to (nothing: no power action)."""
        from wizard.vsphere.results import UndoRequest

        result = self.ctx.result
        if result is None or result.journal_id is None or self._busy():
            return
        facts = result.facts_after
        self.undo_runner.show()
        self.undo_runner.set_steps(
            self.ctx.gateway.undo_steps(
                result.changes,
                facts,
                allow_hard_poweroff=allow_hard_poweroff,
                leave_powered_off=leave_powered_off,
            )
        )
        self.undo_runner.add_log("Undoing the change.")
        self.ctx.applying = True
        request = UndoRequest(
            result.journal_id,
            facts,
            allow_shutdown=allow_shutdown,
            allow_hard_poweroff=allow_hard_poweroff,
            leave_powered_off=leave_powered_off,
            guest_credentials=self.ctx.guest_login,
            shutdown_timeout=float(self.ctx.settings.shutdown_timeout_s),
        )
        job = self.submit_change(self.ctx.gateway.undo, request, "undo")
        job.progress.connect(self.undo_runner.on_progress)
        job.succeeded.connect(self.on_undo_succeeded)
        job.failed.connect(self.on_undo_failed)
        job.finished.connect(self.on_undo_finished)
        self.undo_runner.stop_button.clicked.connect(job.token.cancel)
        self._job = job
        self._update_buttons()
        self.undo_runner.begin()

    @Slot(object)
    def on_undo_succeeded(self, res: object) -> None:
        undone = cast("ApplyResult", res)
        self.ctx.undo_result = undone
        self._undo_note = UndoNote(undone.ok, undone.message, undone.journal_id, datetime.now())
        self.undo_runner.add_log(undone.message)
        self._refresh()

    @Slot(object)
    def on_undo_failed(self, exc: object) -> None:
        message = exc.message if isinstance(exc, VsphereError) else str(exc) or type(exc).__name__
        self.undo_runner.add_log(f"Undo failed: {message}")
        self._undo_note = UndoNote(False, message, None, datetime.now())
        self._refresh()

    @Slot()
    def on_undo_finished(self) -> None:
        self._job = None
        self.ctx.applying = False
        self.undo_runner.end()
        self._update_buttons()
        self._read_hosts()
